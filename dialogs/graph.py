"""The conversation map as a Mermaid state diagram, drawn by transitions itself.

"Go to" events (menu, domains, where…) are valid from every state; drawn from every state
they would hide the map, so the diagram draws them from the menu only."""

from __future__ import annotations

from transitions.extensions.diagrams import GraphMachine

from dialogs.machine import ConversationMachine
from dialogs.model import Session
from knowledge.model import Knowledge


def mermaid(knowledge: Knowledge) -> str:
    graph_machine = ConversationMachine(knowledge, handoff_enabled=True,
                                        machine_cls=GraphMachine, graph_engine="mermaid",
                                        navigation_from="menu",
                                        show_conditions=False)
    model = Session("graph")
    graph_machine.machine.add_model(model)
    return str(model.get_graph().draw(None))
