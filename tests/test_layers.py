"""Data flows one way: knowledge imports neither dialogs nor bot; dialogs never bot/telegram."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {"knowledge": {"dialogs", "bot", "telegram"}, "dialogs": {"bot", "telegram"}}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_respect_the_layers(package):
    bad = []
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            bad += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN[package]]
    assert not bad


def test_channels_know_no_dialogue_state_names(knowledge):
    """A channel maps input to events and renders replies: it never decides by the name of
    a screen (native keyboards are declared by the screen, removed by the engine's effect)."""
    from dialogs.engine import Engine

    states = set(Engine(knowledge).machine.states)
    bad = []
    for name in (
        "channels/telegram.py",
        "channels/console.py",
        "turn.py",
        "outbox.py",
        "transport/polling.py",
        "transport/inbox.py",
        "transport/incoming.py",
        "transport/calls.py",
        "transport/ordering.py",
        "transport/retries.py",
    ):
        tree = ast.parse((ROOT / "bot" / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value in states
                and node.value not in {"menu", "help"}
            ):
                bad.append(f"{name}: {node.value!r}")
    assert not bad
