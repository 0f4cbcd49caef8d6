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
