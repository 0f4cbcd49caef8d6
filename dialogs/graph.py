"""The conversation map as a Mermaid state diagram, drawn by transitions itself.

"Go to" events (menu, domains, where…) are valid from every state; drawn from every state
they would hide the map, so the diagram draws them from the menu only."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from transitions.extensions.diagrams import GraphMachine

from dialogs.machine import ConversationMachine
from dialogs.model import Session
from knowledge.model import Knowledge


def mermaid(knowledge: Knowledge) -> str:
    graph_machine = ConversationMachine(
        knowledge,
        handoff_enabled=True,
        machine_cls=GraphMachine,
        graph_engine="mermaid",
        navigation_from="menu",
        show_conditions=False,
    )
    model = Session("graph")
    graph_machine.machine.add_model(model)
    # GraphMachine adds get_graph to the model at run time: mypy cannot see it.
    return str(cast(Any, model).get_graph().draw(None))


# The page in docs/ that shows the map; tests/test_graph.py fails when it is stale.
PAGE = Path(__file__).resolve().parent.parent / "docs" / "conversation.md"

_PAGE_HEAD = """# Carte de la conversation

Générée par `make graph` (`clea-bot graph -o docs/conversation.md`) depuis la machine à états
de `dialogs/machine.py`, des écrans de `knowledge/content/screens.yaml` et du contenu livré ;
ne pas la modifier à la main. Un test échoue
quand elle ne correspond plus au code : relancez `make graph`.

Les boutons « aller à » (menu, domaines, étapes…) marchent depuis tous les écrans ; la carte
les dessine depuis le menu seulement, pour rester lisible.

"""


def page(knowledge: Knowledge) -> str:
    """docs/conversation.md: the map in a Markdown page (a `mermaid` block, drawn by GitHub
    and most Markdown viewers)."""
    return f"{_PAGE_HEAD}```mermaid\n{mermaid(knowledge).strip()}\n```\n"
