"""Sessions: one small JSON row per person, written once per turn, and the update ids
already applied to it (the replay guard of bot/turn.py) in their own column."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable

from dialogs.model import Session

log = logging.getLogger(__name__)

# A session row written without losing the ids already applied to it.
UPSERT_SESSION = (
    "INSERT INTO sessions (user, data, updated) VALUES (?, ?, ?) "
    "ON CONFLICT(user) DO UPDATE SET data=excluded.data, updated=excluded.updated"
)
# The same, with the ids applied to it: one statement per turn instead of two.
UPSERT_SESSION_APPLIED = (
    "INSERT INTO sessions (user, data, updated, applied) VALUES (?, ?, ?, ?) "
    "ON CONFLICT(user) DO UPDATE SET data=excluded.data, updated=excluded.updated, "
    "applied=excluded.applied"
)

Applied = list[tuple[int, float]]


class Sessions:
    """The `sessions` table. Writes run in the caller's transaction when there is one."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def load(self, user: str) -> Session:
        return self.load_with_applied(user)[0]

    def load_with_applied(self, user: str) -> tuple[Session, Applied]:
        """The session and the update ids applied to it, in one read (once per turn). An
        unreadable row gives a new session rather than a crash."""
        row = self.db.execute("SELECT data, applied FROM sessions WHERE user=?", (user,)).fetchone()
        if row is None:
            return Session(user), []
        try:
            session = Session.from_json(user, row[0])
        except (ValueError, TypeError):
            log.error("unreadable session row replaced by a new session")
            session = Session(user)
        try:
            applied = [(int(i), float(t)) for i, t in json.loads(row[1])]
        except (ValueError, TypeError):
            applied = []
        return session, applied

    def write(self, session: Session, applied: Applied | None = None) -> None:
        """The session row; `applied`: the update ids applied to it, written with it (else
        the ids already stored are kept)."""
        if applied is None:
            self.db.execute(UPSERT_SESSION, (session.user, session.to_json(), int(session.updated)))
            return
        self.db.execute(
            UPSERT_SESSION_APPLIED,
            (
                session.user,
                session.to_json(),
                int(session.updated),
                json.dumps([[i, round(t)] for i, t in applied]),
            ),
        )

    def delete(self, users: Iterable[str]) -> None:
        self.db.executemany("DELETE FROM sessions WHERE user=?", [(u,) for u in users])

    def untouched_since(self, cutoff: int, limit: int) -> list[str]:
        """Up to `limit` users whose session was last written before `cutoff`."""
        rows = self.db.execute(
            "SELECT user FROM sessions WHERE updated < ? LIMIT ?", (cutoff, limit)
        )
        return [r[0] for r in rows]
