"""The outbox: messages for someone other than the person of the current turn, written in
the same transaction as what caused them and deleted once Telegram accepted each one
(the worker is bot/outbox.py)."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

# Inline buttons as stored: rows of [label, callback data].
Buttons = list[list[list[str]]]


@dataclass(frozen=True)
class Outgoing:
    """A message for someone other than the person of the current turn."""

    kind: str  # note | reminder | notice | edit
    chat_id: int
    text: str
    request_id: int | None = None
    person: str | None = None  # whose data this is (erased with them)
    buttons: Buttons = field(default_factory=list)
    message_id: int | None = None  # for an edit


@dataclass(frozen=True)
class OutboxRow:
    """A queued message, as the worker reads it."""

    id: int
    request_id: int | None
    person: str | None
    kind: str
    chat_id: int
    message_id: int | None
    text: str
    buttons: Buttons
    attempts: int


def _outbox_row(r: tuple[Any, ...]) -> OutboxRow:
    """A row of the query in `due`: `buttons`, the eighth, is JSON."""
    fields = list(r)
    fields[7] = json.loads(fields[7])
    return OutboxRow(*fields)


class MessageQueue:
    """The `outbox` table. `add` runs in the caller's transaction."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def add(self, o: Outgoing, now: float) -> None:
        self.db.execute(
            "INSERT INTO outbox (request_id, person, kind, chat_id, message_id, text, buttons,"
            " next_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                o.request_id,
                o.person,
                o.kind,
                o.chat_id,
                o.message_id,
                o.text,
                json.dumps(o.buttons, ensure_ascii=False),
                now,
            ),
        )

    def due(self, now: float | None = None, limit: int = 50) -> list[OutboxRow]:
        """The rows whose time has come, oldest first."""
        rows = self.db.execute(
            "SELECT id, request_id, person, kind, chat_id, message_id, text, buttons, attempts"
            " FROM outbox WHERE next_at <= ? ORDER BY id LIMIT ?",
            (now or time.time(), limit),
        )
        return [_outbox_row(r) for r in rows]

    def retry(self, row: OutboxRow, delay: float, now: float | None = None) -> None:
        """Try the row again after `delay` seconds."""
        self.db.execute(
            "UPDATE outbox SET attempts=attempts+1, next_at=? WHERE id=?",
            ((now or time.time()) + delay, row.id),
        )

    def drop(self, row_id: int) -> None:
        self.db.execute("DELETE FROM outbox WHERE id=?", (row_id,))

    def delete_person(self, person: str) -> None:
        """The person's messages not yet sent (they asked to be forgotten)."""
        self.db.execute("DELETE FROM outbox WHERE person=?", (person,))

    def delete_requests(self, request_ids: Iterable[int]) -> None:
        self.db.executemany("DELETE FROM outbox WHERE request_id=?", [(i,) for i in request_ids])
