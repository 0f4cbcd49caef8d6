"""The conversation map as a Mermaid state diagram, drawn by transitions itself."""

from __future__ import annotations

from transitions.extensions.diagrams import GraphMachine

from dialogs.machine import ConversationMachine
from dialogs.model import Session
from knowledge.model import Knowledge


def mermaid(knowledge: Knowledge) -> str:
    graph_machine = ConversationMachine(knowledge, handoff_enabled=True,
                                        machine_cls=GraphMachine, graph_engine="mermaid",
                                        show_conditions=False)
    model = Session("graph")
    graph_machine.machine.add_model(model)
    return str(model.get_graph().draw(None))
