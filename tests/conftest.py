"""Shared fixtures: the shipped knowledge, an engine, a real SQLite store, the fake Bot API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.storage import Storage
from dialogs.engine import Engine
from knowledge.loader import load
from knowledge.model import Knowledge
from tests.fake_bot_api import FakeBotApi

ROOT = Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that talk to the fake Bot API server are integration tests (so are those that
    start the `clea-bot` command, marked where they are): `pytest -m "not integration"`
    keeps the quick ones for an edit-and-run loop."""
    for item in items:
        if "api" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def knowledge() -> Knowledge:
    return load()


@pytest.fixture(scope="session")
def engine(knowledge: Knowledge) -> Engine:
    return Engine(knowledge, handoff_enabled=True)


@pytest.fixture(scope="session")
def engine_no_handoff(knowledge: Knowledge) -> Engine:
    return Engine(knowledge, handoff_enabled=False)


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[Storage]:
    store = Storage(tmp_path / "clea.sqlite3")
    yield store
    store.close()


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    server = FakeBotApi().start()
    yield server
    server.stop()
