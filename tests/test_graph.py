"""The conversation map in docs/ is generated from the machine; it must not go stale."""

from dialogs.graph import PAGE, page
from knowledge.loader import load


def test_docs_conversation_map_is_up_to_date():
    expected = page(load())
    assert PAGE.exists(), f"{PAGE} manque : lancez `make graph`"
    assert PAGE.read_text(encoding="utf-8") == expected, (
        f"{PAGE.name} ne correspond plus à dialogs/machine.py : lancez `make graph`"
    )


def test_the_map_draws_every_state_of_the_machine():
    from dialogs.machine import ConversationMachine

    text = page(load())
    assert text.count("```mermaid") == 1 and "stateDiagram-v2" in text
    for state in ConversationMachine(load(), handoff_enabled=True).machine.states:
        assert f'state "{state}" as {state}' in text, state
