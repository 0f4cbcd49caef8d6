"""What a typed message is read against, and the facts it states kept aside.

The reading itself (dialogs/reading.py: `Reader`, `choose`) works on a `Screen`: the state,
the buttons shown, the question asked and the fact heard before. This module builds that
`Screen` from the session and keeps the facts a person states about themself, unconfirmed,
until they are asked back.
"""

from __future__ import annotations

from dialogs.model import Button, Session
from dialogs.reading import Readings, Screen
from knowledge.model import Knowledge
from knowledge.text import name_key

# The two questions of the hand-off asked with the fit-check's wording.
ASKED_AT = {"where_situation": "situation", "where_disability": "disability"}


def question_id(state: str, s: Session | None = None) -> str | None:
    """The question whose answer can be typed on this state, if any."""
    if state.startswith("fit_") and state != "fit_result":
        return state.removeprefix("fit_")
    if state == "fact_confirm" and s is not None:
        return str(s.data.get("confirm", "")) or None
    return ASKED_AT.get(state)


def reading_screen(k: Knowledge, s: Session, buttons: tuple[Button, ...]) -> Screen:
    """What the person sees, for reading what they type against it."""
    qid = question_id(s.state, s)
    q = k.question(qid) if qid else None
    said = s.data.get("said", {}).get(qid) if q is not None else None
    return Screen(
        s.state,
        buttons,
        q,
        said if q is not None and q.option(str(said)) else None,
        tuple(sorted((qid, str(v)) for qid, v in s.answers.items() if v)),
    )


def keep_facts(s: Session, readings: Readings, screen: Screen) -> None:
    """Facts a person states about themself ("je suis au chômage") are kept aside,
    unconfirmed: they are asked back with their question before anything uses them."""
    said = dict(s.data.get("said", {}))
    for r in readings.facts():
        asked = screen.question is not None and screen.question.id == r.question
        if r.question and r.question not in s.answers and not asked:
            said[r.question] = r.value
    if said:
        s.data["said"] = said


def typed_candidate(s: Session, text: str) -> str | None:
    """At the list of communes, typing one of their names picks it."""
    if s.state != "where_pick":
        return None
    wanted = name_key(text)
    names = [name_key(c.get("c") or "") for c in s.data.get("candidates", [])]
    return f"pick:{names.index(wanted)}" if wanted and names.count(wanted) == 1 else None
