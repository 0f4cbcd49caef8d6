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


def _needs(k: Knowledge, s: Session) -> dict[str, Callable[[], object]]:
    """What each state needs from the session to be shown."""
    d = s.data
    return {
        "about": lambda: d.get("about") in k.about,
        "domain": lambda: isinstance(d.get("domain"), int) and k.domain(d["domain"]),
        "step": lambda: isinstance(d.get("step"), int) and 0 <= d["step"] < len(k.procedure),
        "module": lambda: isinstance(d.get("module"), str) and k.module(d["module"]),
        "where_pick": lambda: _candidates_ok(d),
        "where_confirm": lambda: _candidates_ok(d),
        "recap": lambda: _place_ok(d.get("place")),
        "handoff_consent": lambda: _place_ok(d.get("place")),
        "handoff_contact": lambda: _place_ok(d.get("place")),
        "handoff_done": lambda: _place_ok(d.get("place")),
        "fact_confirm": lambda: confirmed_question(k, s) is not None,
    }


def fallback(k: Knowledge, s: Session) -> str | None:
    """The state to show instead of the session's, or None when its own can be shown."""
    check = _needs(k, s).get(s.state)
    try:
        ok = check() if check else True
    except (TypeError, KeyError, ValueError):
        ok = False
    if ok:
        return None
    return "where_ask" if s.state.startswith(("where", "recap", "handoff")) else "menu"
