"""Walks through the conversation that many tests start with, written once."""

from __future__ import annotations

from dialogs.engine import Engine
from dialogs.model import Event, Reach, Session

CONFIRM_BUTTON = Event("choice", "yes")


def place_and_situation(
    engine: Engine,
    session: Session,
    code: str,
    situation: str,
    reach: Reach | None = None,
    confirm: Event = CONFIRM_BUTTON,
) -> None:
    """/start → "Où habitez-vous ?" → `code` typed → the place confirmed (`confirm`: the
    button, or a typed answer) → `situation` chosen. The next question is the last one
    before the recap."""
    for event in (
        Event("start"),
        Event("choice", "where"),
        Event("text", code),
        confirm,
        Event("choice", f"answer:{situation}"),
    ):
        engine.handle(session, event, reach)
