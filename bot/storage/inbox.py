"""The inbox: updates fetched from Telegram, written before Telegram is told they arrived
and deleted once handled and answered (bot/transport/inbox.py). A turn's replies and how
many of them were delivered are kept on its update's row, so a turn replayed after a crash
sends exactly the rest of its screen."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable


class Inbox:
    """The `inbox` table."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def add(self, updates: Iterable[tuple[int, str]]) -> None:
        """(update id, JSON) rows in one transaction; an update already there is kept."""
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany(
                "INSERT OR IGNORE INTO inbox (update_id, data) VALUES (?, ?)", updates
            )

    def keep_replies(self, update_id: int, replies: str) -> None:
        """The replies of the update's turn (bot.turn.encode_replies). In the turn's
        transaction."""
        self.db.execute("UPDATE inbox SET replies=? WHERE update_id=?", (replies, update_id))

    def replies(self, update_id: int) -> str | None:
        """The replies stored with the turn of this update (bot.turn.encode_replies)."""
        row = self.db.execute(
            "SELECT replies FROM inbox WHERE update_id=?", (update_id,)
        ).fetchone()
        return row[0] if row else None

    def sent(self, update_id: int, count: int) -> None:
        """`count` replies of the update were delivered."""
        self.db.execute("UPDATE inbox SET sent=? WHERE update_id=?", (count, update_id))

    def sent_count(self, update_id: int) -> int:
        row = self.db.execute("SELECT sent FROM inbox WHERE update_id=?", (update_id,)).fetchone()
        return int(row[0]) if row else 0

    def done(self, update_id: int) -> None:
        self.db.execute("DELETE FROM inbox WHERE update_id=?", (update_id,))

    def done_many(self, update_ids: list[int]) -> None:
        """Several finished updates out of the inbox in one transaction."""
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany("DELETE FROM inbox WHERE update_id=?", [(i,) for i in update_ids])

    def pending(self) -> list[tuple[int, str]]:
        """(update id, JSON) of every update not yet done, oldest first."""
        return list(self.db.execute("SELECT update_id, data FROM inbox ORDER BY update_id"))
