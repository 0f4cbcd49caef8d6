"""A stored session may miss what its state needs (content changed since, data cleared):
the nearest state that can be shown instead, never a crash.

The engine asks when a session arrives in a state (at the start of a turn, after every
transition); the screens are then rendered without touching the session.
"""

from __future__ import annotations

from collections.abc import Callable

from dialogs.model import Session
from dialogs.views import confirmed_question
from knowledge import geography
from knowledge.model import Knowledge


def _place_ok(p: object) -> bool:
    return isinstance(p, dict) and p.get("d") in geography.DEPARTEMENT_NAME


def _candidates_ok(d: dict[str, object]) -> bool:
    candidates = d.get("candidates")
    return isinstance(candidates, list) and bool(candidates) and all(map(_place_ok, candidates))


def _question_ok(k: Knowledge, s: Session) -> bool:
    return confirmed_question(k, s) is not None


# What each state needs from the session to be shown (a table made once: this is asked
# on every turn).
_NEEDS: dict[str, Callable[[Knowledge, Session], object]] = {
    "about": lambda k, s: s.data.get("about") in k.about,
    "domain": lambda k, s: isinstance(s.data.get("domain"), int) and k.domain(s.data["domain"]),
    "step": lambda k, s: (
        isinstance(s.data.get("step"), int) and 0 <= s.data["step"] < len(k.procedure)
    ),
    "module": lambda k, s: isinstance(s.data.get("module"), str) and k.module(s.data["module"]),
    "where_pick": lambda k, s: _candidates_ok(s.data),
    "where_confirm": lambda k, s: _candidates_ok(s.data),
    "recap": lambda k, s: _place_ok(s.data.get("place")),
    "handoff_consent": lambda k, s: _place_ok(s.data.get("place")),
    "handoff_contact": lambda k, s: _place_ok(s.data.get("place")),
    "handoff_done": lambda k, s: _place_ok(s.data.get("place")),
    "fact_confirm": _question_ok,
}


def fallback(k: Knowledge, s: Session) -> str | None:
    """The state to show instead of the session's, or None when its own can be shown."""
    check = _NEEDS.get(s.state)
    try:
        ok = check(k, s) if check else True
    except (TypeError, KeyError, ValueError):
        ok = False
    if ok:
        return None
    return "where_ask" if s.state.startswith(("where", "recap", "handoff")) else "menu"
