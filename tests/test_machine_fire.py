"""ConversationMachine.fire runs the shared machine's prepared transitions directly: it must
do exactly what the library's `Event.trigger` does, for every event in every state."""

from __future__ import annotations

import copy

from dialogs.machine import ConversationMachine
from dialogs.model import Session

ARGUMENTS = [(), ("3",), ("0",), ("1",), ("9",), ("employee",), ("what",), ("numerique",), ("x",)]


def _session(state: str) -> Session:
    return Session(
        "u",
        state=state,
        answers={"situation": "job_seeker"},
        data={
            "step": 1,
            "step_path": [0, 1],
            "candidates": [{"c": "Lyon", "d": "69"}, {"c": "Paris", "d": "75"}],
            "place": {"c": "Lyon", "d": "69"},
            "handoff_to": "",
            "said": {"situation": "employee"},
        },
    )


def test_fire_does_what_the_librarys_trigger_does(knowledge):
    for handoff in (True, False):
        machine = ConversationMachine(knowledge, handoff_enabled=handoff)
        for state, triggers in machine.triggers_by_state.items():
            for trigger in triggers:
                for args in ARGUMENTS:
                    fired, triggered = _session(state), _session(state)
                    done = machine.fire(fired, trigger, *args)
                    expected = machine.machine.events[trigger].trigger(triggered, *args)
                    assert done == expected, (state, trigger, args)
                    assert (fired.state, fired.answers, fired.data) == (
                        triggered.state,
                        triggered.answers,
                        triggered.data,
                    ), (state, trigger, args)


def test_an_event_not_valid_in_the_state_changes_nothing(knowledge):
    machine = ConversationMachine(knowledge)
    s = _session("menu")
    before = copy.deepcopy((s.state, s.answers, s.data))
    assert not machine.fire(s, "pick", "0")
    assert not machine.fire(s, "no_such_event")
    assert (s.state, s.answers, s.data) == before
