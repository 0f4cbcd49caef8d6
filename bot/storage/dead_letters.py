"""Dead letters: an update that could not be read or handled is kept aside (7 days, erased
with the person's data) instead of stopping the bot or being retried forever."""

from __future__ import annotations

import sqlite3
import time

DEAD_LETTER_DAYS = 7
MAX_DATA_CHARS = 100_000


class DeadLetters:
    """The `dead_letters` table."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def add(
        self,
        update_id: int | None,
        error: str,
        person: str | None,
        data: str,
        now: float | None = None,
    ) -> None:
        self.db.execute(
            "INSERT INTO dead_letters VALUES (?, ?, ?, ?, ?)",
            (update_id or 0, person, error, now or time.time(), data[:MAX_DATA_CHARS]),
        )

    def delete_person(self, person: str) -> None:
        self.db.execute("DELETE FROM dead_letters WHERE person=?", (person,))

    def purge(self, now: float, limit: int) -> int:
        """Up to `limit` letters older than DEAD_LETTER_DAYS removed; returns how many."""
        return self.db.execute(
            "DELETE FROM dead_letters WHERE rowid IN (SELECT rowid FROM dead_letters"
            " WHERE created < ? LIMIT ?)",
            (now - DEAD_LETTER_DAYS * 86400, limit),
        ).rowcount
