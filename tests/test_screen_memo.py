"""Screens rendered once per content (dialogs/memo.py, Views.screen): a memoized screen is
exactly the screen rendered afresh, whoever the person and whatever the advisers' reach."""

from __future__ import annotations

import pytest

from dialogs.context import reads_session_only
from dialogs.engine import Engine
from dialogs.memo import BoundedMemo
from dialogs.model import Event, Reach, Session


def test_the_memo_keeps_the_most_recently_used_entries():
    memo: BoundedMemo[str, int] = BoundedMemo(2)
    assert memo.get("a", lambda: 1) == 1
    assert memo.get("b", lambda: 2) == 2
    assert memo.get("a", lambda: 99) == 1  # kept; "a" is now the most recent
    assert memo.get("c", lambda: 3) == 3  # "b" dropped
    assert len(memo) == 2
    assert memo.get("b", lambda: 20) == 20
    assert (memo.hits, memo.misses) == (1, 4)


def test_a_computation_that_fails_keeps_nothing():
    memo: BoundedMemo[str, int] = BoundedMemo(4)

    def fail() -> int:
        raise ValueError

    with pytest.raises(ValueError):
        memo.get("a", fail)
    assert len(memo) == 0 and memo.get("a", lambda: 1) == 1


def test_screens_naming_an_adviser_or_listing_contacts_are_never_kept():
    for state in ("recap", "handoff_consent", "handoff_contact", "handoff_done"):
        assert not reads_session_only(state)
    for state in ("menu", "domain", "fit_situation", "where_confirm", "fact_confirm"):
        assert reads_session_only(state)


@pytest.mark.parametrize("handoff", [True, False])
def test_a_kept_screen_is_the_screen_rendered_afresh(knowledge, handoff):
    engine = Engine(knowledge, handoff_enabled=handoff)
    views = engine.views
    for state in engine.machine.states:
        if not reads_session_only(state):
            continue
        s = Session("a", state=state, answers={"situation": "employee"})
        s.data = {
            "about": "what",
            "domain": 2,
            "step": 1,
            "module": knowledge.modules[0].id,
            "candidates": [{"c": "Lyon", "d": "69"}, {"c": "Paris", "d": "75"}],
            "confirm": "situation",
            "said": {"situation": "job_seeker"},
        }
        engine.screen(s)  # repaired when it cannot be shown, as on arrival
        fresh = views._render_screen(s, Reach())
        fresh_buttons = views._declared_buttons(s, Reach())
        for user, reach in (("a", Reach()), ("b", Reach(open=frozenset({"x"})))):
            other = Session(user, s.state, dict(s.answers), dict(s.data), s.referral)
            assert views.screen(other, reach) == fresh, state
            assert views.buttons_of(other, reach) == fresh_buttons, state


def test_a_screen_is_kept_per_content(knowledge):
    engine = Engine(knowledge)
    s = Session("a")
    engine.handle(s, Event("start"))
    shown = [engine.handle(s, Event("choice", f"domain:{i}")).replies for i in (1, 2, 1)]
    assert shown[0] == shown[2] != shown[1]
    assert engine.views.screens.hits >= 1
