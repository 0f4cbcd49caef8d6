"""Sessions and anonymous counters in SQLite.

One small JSON row per person, written once per turn (WAL mode, so a process killed at
any moment keeps every committed turn). The standard sqlite3 module is used directly:
a turn's write takes tens of microseconds, less than a thread hop through aiosqlite.

Counters never hold a user id, a message or an answer: a person is counted once per
stage through a salted hash, and that hash is deleted with the person's data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

from dialogs.model import Session

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2
STAGES = ("start", "fit_done", "recap", "handoff")

# Each migration takes the schema from version i to i + 1.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE sessions (
        user TEXT PRIMARY KEY,
        data TEXT NOT NULL,
        updated INTEGER NOT NULL
    );
    CREATE INDEX sessions_updated ON sessions(updated);
    CREATE TABLE stage_marks (
        person TEXT NOT NULL,
        stage TEXT NOT NULL,
        created INTEGER NOT NULL,
        PRIMARY KEY (person, stage)
    );
    CREATE TABLE counters (
        code TEXT NOT NULL,
        week TEXT NOT NULL,
        stage TEXT NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (code, week, stage)
    );
    """,
    # v2: the inbox. Updates fetched from Telegram are written here before Telegram is told
    # they arrived, and deleted once handled and answered (bot/inbox.py).
    """
    CREATE TABLE inbox (
        update_id INTEGER PRIMARY KEY,
        data TEXT NOT NULL
    );
    """,
]


def week_of(timestamp: float) -> str:
    """ISO week, e.g. '2026-W48'."""
    year, week, _ = dt.date.fromtimestamp(timestamp).isocalendar()
    return f"{year}-W{week:02d}"


class Storage:
    def __init__(self, path: Path | str, timeout: float = 2.0):
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), timeout=timeout, isolation_level=None,
                                  check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.migrate()
        self._salt = self._get_or_create_salt()

    # --- schema ---------------------------------------------------------------------------

    def migrate(self) -> None:
        self.db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        row = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        version = int(row[0]) if row else 0
        if version > SCHEMA_VERSION:
            raise RuntimeError(f"database schema {version} is newer than this program "
                               f"({SCHEMA_VERSION}); upgrade clea-bot")
        for target in range(version + 1, SCHEMA_VERSION + 1):
            with self.db:
                self.db.execute("BEGIN")
                for statement in MIGRATIONS[target - 1].split(";"):
                    if statement.strip():
                        self.db.execute(statement)
                self.db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                                (str(target),))
            log.info("database migrated to schema %d", target)

    def schema_version(self) -> int:
        row = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        return int(row[0])

    def _get_or_create_salt(self) -> bytes:
        row = self.db.execute("SELECT value FROM meta WHERE key='salt'").fetchone()
        if row:
            return bytes.fromhex(row[0])
        salt = secrets.token_bytes(16)
        self.db.execute("INSERT OR IGNORE INTO meta VALUES ('salt', ?)", (salt.hex(),))
        row = self.db.execute("SELECT value FROM meta WHERE key='salt'").fetchone()
        return bytes.fromhex(row[0])

    # --- sessions -------------------------------------------------------------------------

    def load(self, user: str) -> Session:
        row = self.db.execute("SELECT data FROM sessions WHERE user=?", (user,)).fetchone()
        if row is None:
            return Session(user)
        try:
            return Session.from_json(user, row[0])
        except (ValueError, TypeError):
            log.error("unreadable session row replaced by a new session")
            return Session(user)

    def save(self, session: Session) -> None:
        """Persist one turn in one transaction. Erases everything about the person when
        they asked for it."""
        if session.erase_requested:
            self.erase(session.user)
            return
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute("INSERT OR REPLACE INTO sessions VALUES (?, ?, ?)",
                            (session.user, session.to_json(), int(session.updated)))
            if session.reached and session.referral:
                self._count(session.user, session.referral, session.reached, session.updated)
        session.reached = set()

    # --- inbox: updates received, not yet handled -------------------------------------------

    def inbox_add(self, updates: Iterable[tuple[int, str]]) -> None:
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany("INSERT OR IGNORE INTO inbox VALUES (?, ?)", updates)

    def inbox_done(self, update_id: int) -> None:
        self.db.execute("DELETE FROM inbox WHERE update_id=?", (update_id,))

    def inbox_pending(self) -> list[tuple[int, str]]:
        return list(self.db.execute("SELECT update_id, data FROM inbox ORDER BY update_id"))

    def erase(self, user: str) -> None:
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute("DELETE FROM sessions WHERE user=?", (user,))
            self.db.execute("DELETE FROM stage_marks WHERE person=?", (self.person(user),))

    def purge(self, retention_days: int, now: float | None = None) -> int:
        """Delete sessions untouched for `retention_days`, and their marks. Returns count."""
        cutoff = int((now or time.time()) - retention_days * 86400)
        with self.db:
            self.db.execute("BEGIN")
            users = [r[0] for r in self.db.execute(
                "SELECT user FROM sessions WHERE updated < ?", (cutoff,))]
            self.db.executemany("DELETE FROM stage_marks WHERE person=?",
                                [(self.person(u),) for u in users])
            self.db.execute("DELETE FROM sessions WHERE updated < ?", (cutoff,))
            self.db.execute("DELETE FROM stage_marks WHERE created < ?", (cutoff,))
        return len(users)

    def count_sessions(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0]

    # --- anonymous counters ---------------------------------------------------------------

    def person(self, user: str) -> str:
        return hmac.new(self._salt, user.encode(), hashlib.sha256).hexdigest()[:32]

    def _count(self, user: str, code: str, stages: Iterable[str], when: float) -> None:
        """Count the person once per stage. Runs inside the caller's transaction."""
        person, week = self.person(user), week_of(when)
        for stage in stages:
            if stage not in STAGES:
                continue
            cur = self.db.execute("INSERT OR IGNORE INTO stage_marks VALUES (?, ?, ?)",
                                  (person, stage, int(when)))
            if cur.rowcount:
                self.db.execute(
                    "INSERT INTO counters VALUES (?, ?, ?, 1) ON CONFLICT(code, week, stage)"
                    " DO UPDATE SET n = n + 1", (code, week, stage))

    def figures(self, code: str | None = None, weeks: int | None = None,
                now: float | None = None) -> list[tuple[str, str, str, int]]:
        """(code, week, stage, n) rows, newest week first."""
        sql, args = "SELECT code, week, stage, n FROM counters", []
        where = []
        if code is not None:
            where.append("code = ?")
            args.append(code)
        if weeks is not None:
            now = now or time.time()
            first = week_of(now - (weeks - 1) * 7 * 86400)
            where.append("week >= ?")
            args.append(first)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY week DESC, code, stage"
        return [tuple(r) for r in self.db.execute(sql, args)]

    def close(self) -> None:
        self.db.close()
