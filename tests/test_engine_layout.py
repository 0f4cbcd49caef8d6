"""The engine as the dialogue only: rendering writes nothing, the current screen is rendered
once a turn, and what storage knows of the advisers comes in the turn's `Reach`."""

from __future__ import annotations

import collections

import pytest

from dialogs import render as rendering
from dialogs.engine import Engine
from dialogs.model import Event, Reach, Session
from knowledge.advisers import Adviser

LYON_ADVISER = Adviser(
    7, "mlyon", "Camille", "Mission locale de Lyon", frozenset({"69"}), contact={"hours": "9h"}
)


def _at_recap(engine: Engine, reach: Reach, user: str = "tg:1") -> Session:
    s = Session(user, answers={"situation": "job_seeker", "disability": "no"})
    for event in (Event("start"), Event("choice", "where"), Event("text", "69003")):
        engine.handle(s, event, reach)
    engine.handle(s, Event("choice", "yes"), reach)
    assert s.state == "recap", s.state
    return s


def test_rendering_a_screen_writes_nothing_in_the_session(engine):
    """Every state's screen, the recap included (it used to choose who receives a request
    while rendering): the session is the same before and after."""
    base = {
        "about": "what",
        "domain": 1,
        "step": 0,
        "module": engine.k.modules[0].id,
        "place": {"c": "Lyon", "d": "69", "p": "69003"},
        "candidates": [{"c": "Lyon", "d": "69", "p": "69003"}],
        "handoff_to": "",
    }
    for state in engine.machine.states:
        s = Session("r", state=state, answers={"situation": "employee"}, data=dict(base))
        engine.screen(s)  # arrives (repaired if it must be), then shown
        before = s.to_json()
        engine.views.screen(s, Reach())
        assert s.to_json() == before, state


@pytest.fixture
def renders(monkeypatch):
    counts: collections.Counter[str] = collections.Counter()
    original = rendering.render

    def counting(env, template, **context):
        counts[template] += 1
        return original(env, template, **context)

    monkeypatch.setattr(rendering, "render", counting)
    return counts


def test_typed_yes_at_the_place_confirm_renders_it_once(engine, renders):
    s = Session("u")
    for event in (Event("start"), Event("choice", "where"), Event("text", "69003")):
        engine.handle(s, event)
    assert s.state == "where_confirm"
    renders.clear()
    engine.handle(s, Event("text", "oui"))
    assert s.state != "where_confirm"
    assert renders["where_confirm.j2"] == 1  # read against its buttons, never rendered again


def test_not_understood_twice_renders_the_screen_it_reads_against_once(engine, renders):
    """ "je comprends pas": the screen read against and the shorter screen are one render."""
    s = Session("u")
    engine.handle(s, Event("start"))
    engine.handle(s, Event("choice", "modules"))
    renders.clear()
    engine.handle(s, Event("text", "je comprends pas"))
    assert renders["modules.j2"] == 1 and renders["simpler.j2"] == 1


def test_who_receives_a_request_comes_from_the_reach_read_before_the_turn(knowledge):
    engine = Engine(knowledge, handoff_enabled=True, advisers=(LYON_ADVISER,))
    opened = _at_recap(engine, Reach(open=frozenset({"mlyon"})))
    assert opened.data["handoff_to"] == "mlyon"
    not_opened = _at_recap(engine, Reach(), "tg:2")
    assert not_opened.data["handoff_to"] == ""  # the shared advisers' chat
    blocked = _at_recap(engine, Reach(blocked=frozenset({"mlyon"})), "tg:3")
    assert blocked.data["handoff_to"] == ""
    text = "\n".join(r.text for r in engine.screen(blocked, Reach(blocked=frozenset({"mlyon"}))))
    assert "Mission locale de Lyon" not in text  # a blocked adviser is not named
    assert "Mission locale de Lyon" in "\n".join(r.text for r in engine.screen(opened))


def test_without_a_shared_chat_nobody_reachable_means_no_request(knowledge):
    engine = Engine(knowledge, handoff_enabled=False, advisers=(LYON_ADVISER,))
    s = _at_recap(engine, Reach())
    assert "handoff_to" not in s.data
    assert engine.another_adviser(s, "other", Reach(open=frozenset({"mlyon"}))) == LYON_ADVISER
    assert engine.another_adviser(s, "other", Reach()) is None
