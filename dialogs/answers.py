"""Answers to what people ask in their own words: a FAQ answer, a choice of close topics,
small talk, or a plain "je n'ai pas trouvé" (counted: a second miss offers a person)."""

from __future__ import annotations

from collections.abc import Sequence

from dialogs.flow import Flow, TurnState
from dialogs.model import Reply, Session
from knowledge.faq import FaqMatcher
from knowledge.model import FaqEntry


class Answers:
    def __init__(self, flow: Flow, matcher: FaqMatcher) -> None:
        self.flow = flow
        self.matcher = matcher

    def question(
        self, s: Session, t: TurnState, text: str, place: str | None = None
    ) -> list[Reply]:
        """A message read as a question: answered, or close topics offered, or a miss.
        `place`: a town told with the question, kept for "Qui contacter ?" (said under
        the answer)."""
        match = self.matcher.match(text)
        in_ask = s.state == "ask"
        if match.kind == "faq" and match.entry is not None:
            s.data.pop("miss", None)
            return self.faq(s, t, match.entry, in_ask=in_ask, also=match.also, place=place)
        if match.kind == "unsure":  # close topics: let the person choose
            return self.flow.page(
                "not_understood.j2", s, t, suggestions=match.suggestions, misses=0, in_ask=in_ask
            )
        if match.kind != "none":
            s.data.pop("miss", None)
            return self.flow.page("small_talk.j2", s, t, kind=match.kind, in_ask=in_ask)
        return self.not_understood(s, t, match.suggestions)

    def chosen(self, s: Session, t: TurnState, faq_id: str) -> list[Reply] | None:
        """A topic chosen from "Vouliez-vous parler de…"; None when it is no topic."""
        entry = self.matcher.by_id.get(faq_id)
        if entry is None:
            return None
        s.data.pop("miss", None)
        return self.faq(s, t, entry, in_ask=s.state == "ask")

    def by_id(
        self, s: Session, t: TurnState, text: str, faq_id: str, place: str | None = None
    ) -> list[Reply] | None:
        """The topic the reading chose, with the other topics a long message touches when
        the model's first is that topic too; None when it is no topic."""
        entry = self.matcher.by_id.get(faq_id)
        if entry is None:
            return None
        match = self.matcher.match(text)
        same = match.kind == "faq" and match.entry is not None and match.entry.id == faq_id
        s.data.pop("miss", None)
        return self.faq(
            s, t, entry, in_ask=s.state == "ask", also=match.also if same else (), place=place
        )

    def small_talk(self, s: Session, t: TurnState, kind: str) -> list[Reply]:
        """Small talk the reading chose (greeting, thanks, goodbye…), by its kind."""
        s.data.pop("miss", None)
        return self.flow.page("small_talk.j2", s, t, kind=kind, in_ask=s.state == "ask")

    def topics(
        self, s: Session, t: TurnState, faq_id: str, also: tuple[str, ...] = ()
    ) -> list[Reply] | None:
        """A topic the reading chose by rule (an age typed alone), with the topics offered
        under it; None when it is no topic."""
        entry = self.matcher.by_id.get(faq_id)
        if entry is None:
            return None
        s.data.pop("miss", None)
        offered = tuple(e for e in map(self.matcher.by_id.get, also) if e is not None)
        return self.faq(s, t, entry, in_ask=s.state == "ask", also=offered)

    def offer(self, s: Session, t: TurnState, text: str) -> list[Reply]:
        """The message names topics without asking: the closest ones, to choose from."""
        return self.flow.page(
            "not_understood.j2",
            s,
            t,
            suggestions=self.matcher.ranked(text),
            misses=0,
            in_ask=s.state == "ask",
        )

    def not_understood(
        self, s: Session, t: TurnState, suggestions: Sequence[FaqEntry] = ()
    ) -> list[Reply]:
        """One more miss: "Je n'ai pas trouvé", with close topics when there are."""
        s.data["miss"] = s.data.get("miss", 0) + 1
        return self.flow.page(
            "not_understood.j2",
            s,
            t,
            suggestions=suggestions,
            misses=s.data["miss"],
            in_ask=s.state == "ask",
        )

    def faq(
        self,
        s: Session,
        t: TurnState,
        entry: FaqEntry,
        in_ask: bool,
        also: tuple[FaqEntry, ...] = (),
        place: str | None = None,
    ) -> list[Reply]:
        """An answer the person may want to read again: the next screen comes below it.
        `also`: the other topics a long message touches, offered as buttons; `place`: a
        town told with the question, offered with "Qui contacter ?"."""
        s.data["keep"] = True
        return self.flow.page(
            "faq_answer.j2", s, t, entry=entry, in_ask=in_ask, also=also, heard_place=place
        )
