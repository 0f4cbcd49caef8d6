"""Facts a person states in their own words ("je cherche un emploi"): asked back with their
question ("Vous m'avez dit… C'est bien ça ?") before anything uses them; once confirmed or
corrected they are answers, used for routing, the recap and an adviser's note."""

from __future__ import annotations

from dataclasses import replace

from dialogs.answers import Answers
from dialogs.flow import Flow, TurnState
from dialogs.machine import fit_state
from dialogs.model import Reply, Session
from dialogs.reading import Reading
from dialogs.understanding import question_id


class Facts:
    def __init__(self, flow: Flow, answers: Answers) -> None:
        self.flow = flow
        self.answers = answers
        self.k = flow.k

    def ask(self, s: Session, t: TurnState, fact: Reading, faq_id: str | None) -> list[Reply]:
        """A fact stated alone: asked back with its question and its options; the FAQ answer
        that fits the message (if any) comes once it is confirmed. A question already
        answered is asked back only for a correction ("non en fait j'ai un CDI")."""
        q = self.k.question(str(fact.question))
        option = q.option(fact.value) if q is not None else None
        if option is not None and option.asks_nothing:
            faq_id = None  # "je lis bien": no request for help to read
        answered = s.answers.get(str(fact.question))
        corrects = fact.evidence == "correction" and answered != fact.value
        if q is None or (answered is not None and not corrects):
            if faq_id is None:
                return self.answers.not_understood(s, t)
            return self.answers.chosen(s, t, faq_id) or self.flow.views.notice("stale")
        s.data.setdefault("said", {})[str(fact.question)] = fact.value
        s.data["confirm"] = fact.question
        if faq_id:
            s.data["confirm_faq"] = faq_id
        self.flow.go(s, t, "fact")
        return self.flow.show(s, t)

    def unsay(self, s: Session, t: TurnState) -> list[Reply]:
        """ "Non" to "Vous m'avez dit… C'est bien ça ?": the heard fact is forgotten."""
        qid = question_id(s.state, s)
        if qid is None or not s.data.get("said", {}).get(qid):
            return self.flow.views.notice("stale")
        s.data["said"].pop(qid)
        if s.state == "fact_confirm":
            s.data.pop("confirm_faq", None)
            return self.flow.resume(s, t)
        return self.flow.show(s, t)

    def confirm(self, s: Session, t: TurnState, option: str | None) -> list[Reply]:
        """The person confirmed (or corrected) a fact heard in free text: from now on it is
        an answer."""
        q = self.k.question(str(s.data.get("confirm", "")))
        if q is None or q.option(option or "") is None:
            return self.flow.views.notice("stale")
        s.answers[q.id] = str(option)
        heard = s.data.get("said", {}).pop(q.id, None)
        s.data.pop("confirm", None)
        entry = self.answers.matcher.by_id.get(str(s.data.pop("confirm_faq", "")))
        if heard != option:
            entry = None  # corrected: the answer to what was misheard no longer fits
        resumed = self.flow.resume(s, t)
        if s.state in self.flow.machine.fit_states:
            # Back in the fit questions: the question comes, not a FAQ answer; the one they
            # were on, now answered, gives way to the next.
            entry = None
            if s.state == fit_state(q.id) and self.flow.go(s, t, "answer", option):
                resumed = self.flow.show(s, t)
        if entry is not None:  # what the person's message was about, now for their case
            resumed = self.flow.page("faq_answer.j2", s, t, entry=entry, in_ask=s.state == "ask")
        noted = self.flow.views.notice("noted")[0].text  # one line before the screen
        first = resumed[0]
        return [replace(first, text=f"{noted}\n\n{first.text}"), *resumed[1:]]
