"""What the templates see of a person, and who their recap names.

The context of a screen is read from the session and the content, never written: choosing
the adviser named on a recap, the one a contact request goes to (`recap_target`) and,
when a named adviser's chat refuses a request, another one of the area, are decisions the
engine takes while handling a turn; the templates only show them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dialogs.model import Reach, Session
from knowledge import directory, geography
from knowledge.advisers import Adviser, NamedAdviser, select_adviser
from knowledge.costs import cost_key
from knowledge.local import LocalHandoff, select_local
from knowledge.model import Block, Knowledge
from knowledge.opendata import DirectoryUnavailable, LocalDirectory

# Screens whose context names the person's adviser and lists their contacts.
NAMING_SCREENS = ("recap", "handoff")
# Screens whose context lists the local contacts (the organisations, the open-data directory).
CONTACT_SCREENS = frozenset({"recap", "handoff_done"})


def reads_session_only(state: str) -> bool:
    """Whether the context of this state's screen (`Contexts.of`) depends on the session's
    state, answers, data and referral alone, besides the engine's fixed content: not on
    who the person is nor on the advisers' reach (the adviser named, NAMING_SCREENS), nor
    on the open-data directory, which may change while the bot runs (CONTACT_SCREENS).
    Such a screen can be rendered once and shown again (dialogs/views.py). Keep this in
    step with `Contexts.of`."""
    return not state.startswith(NAMING_SCREENS) and state not in CONTACT_SCREENS


def to_place(d: dict[str, Any]) -> geography.Place:
    """A place as the session stores it ({"c", "d", "p", "i", "n"}) → `geography.Place`."""
    return geography.Place(d.get("c"), d["d"], d.get("p"), near=bool(d.get("n")), insee=d.get("i"))


def place_of(s: Session) -> geography.Place | None:
    """The place the person confirmed, if any."""
    raw = s.data.get("place")
    return to_place(raw) if raw else None


class Contexts:
    """Builds the context of every screen; one per engine."""

    def __init__(
        self,
        knowledge: Knowledge,
        handoff_enabled: bool,
        retention_days: int,
        local_directory: LocalDirectory | None,
        advisers: tuple[Adviser, ...],
        topic_label: Callable[[str], str],
    ) -> None:
        self.k = knowledge
        self.handoff_enabled = handoff_enabled
        self.retention_days = retention_days
        self.local_directory = local_directory
        self.advisers = advisers
        self.topic_label = topic_label

    def of(self, s: Session, reach: Reach) -> dict[str, Any]:
        """The context of the session's screen."""
        place = place_of(s)
        state = s.state
        return {
            "k": self.k,
            "s": s.data,
            "answers": s.answers,
            "state": state,
            "handoff": self.handoff_enabled,
            "retention_days": self.retention_days,
            "tour": self.k.discover_tour,
            "place": place,
            "candidates": [to_place(c) for c in s.data.get("candidates", [])],
            "fit": self.k.fit_result(s.answers) if state == "fit_result" else [],
            "contacts": self._contacts(s, place) if state in CONTACT_SCREENS else None,
            "local": self._local(s, place) if state == "recap" else None,
            "named": self.named(s, place, reach) if state.startswith(NAMING_SCREENS) else None,
            "cost": self._cost(s, place),
            "cost_is_personal": self._cost_is_personal(s, place),
            "topic_label": self.topic_label,
            "option_label": self._option_label,
        }

    # --- who is named, who receives a request ---------------------------------------------

    def named(self, s: Session, place: geography.Place | None, reach: Reach) -> NamedAdviser | None:
        """The adviser named on this person's recap (link, commune, département), among
        those whose chat did not refuse the bot."""
        advisers = (
            tuple(a for a in self.advisers if a.code not in reach.blocked)
            if reach.blocked
            else self.advisers
        )
        return select_adviser(advisers, s.referral, place, s.user)

    def recap_target(self, s: Session, reach: Reach) -> str | None:
        """Who would receive a contact request from the recap: the named adviser's code when
        they opened the bot and take requests, else "" (the shared advisers' chat), else None
        (nobody: the recap offers no request)."""
        named = self.named(s, place_of(s), reach)
        if named and named.adviser.handoff and named.adviser.code in reach.open:
            return named.adviser.code
        return "" if self.handoff_enabled else None

    def another_adviser(self, s: Session, instead_of: str, reach: Reach) -> Adviser | None:
        """An adviser of the person's area, other than `instead_of`, who takes requests and
        can be written to: where a request goes when the named adviser's chat refuses it
        and there is no shared advisers' chat."""
        others = tuple(
            a
            for a in self.advisers
            if a.code != instead_of
            and a.handoff
            and a.code not in reach.blocked
            and a.code in reach.open
        )
        named = select_adviser(others, None, place_of(s), s.user)
        return named.adviser if named else None

    # --- the person's lines ----------------------------------------------------------------

    def _cost(self, s: Session, place: geography.Place | None) -> Block | None:
        """The person's cost line (knowledge/costs.py), once the bot knows their situation
        or where they live; None before (a FAQ answer then stays general)."""
        if not s.answers.get("situation") and place is None:
            return None
        return self.k.cost_for(s.answers, place.departement if place else None)

    @staticmethod
    def _cost_is_personal(s: Session, place: geography.Place | None) -> bool:
        """Whether the cost line says more than the general answer: a FAQ answer adds
        "Pour vous" only then (the general line under the general answer said it twice)."""
        return cost_key(s.answers, place.departement if place else None) != "other"

    def _option_label(self, question_id: str, option_id: str | None) -> str | None:
        q = self.k.question(question_id)
        opt = q.option(option_id) if q and option_id else None
        return opt.label if opt else None

    def _local(self, s: Session, place: geography.Place | None) -> LocalHandoff | None:
        if place is None:
            return None
        try:
            return select_local(
                self.local_directory,
                place,
                s.answers.get("situation"),
                s.answers.get("disability") == "yes",
            )
        except DirectoryUnavailable:  # national contacts, never "Oups" (the file is watched)
            return None

    def _contacts(self, s: Session, place: geography.Place | None) -> directory.Handoff | None:
        if place is None:
            return None
        return directory.select(
            self.k.organisations,
            place,
            s.answers.get("situation"),
            s.answers.get("disability") == "yes",
        )
