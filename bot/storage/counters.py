"""Anonymous figures for advisers: how many people reached each stage, per adviser code
and week, and how their contact requests were taken up.

Counters never hold a user id, a message or an answer: a person is counted once per stage
through a salted hash (`stage_marks`), and that hash is deleted with the person's data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import sqlite3
import time
from collections.abc import Iterable

STAGES = ("start", "fit_done", "recap", "handoff")

# (code, week, stage, n)
FigureRow = tuple[str, str, str, int]
# (code, received, claimed, median seconds to claim)
RequestFigure = tuple[str, int, int, float | None]


def week_of(timestamp: float) -> str:
    """ISO week, e.g. '2026-W48'."""
    year, week, _ = dt.date.fromtimestamp(timestamp).isocalendar()
    return f"{year}-W{week:02d}"


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


class Counters:
    """The `counters` and `stage_marks` tables, and the figures read from `requests`."""

    def __init__(self, db: sqlite3.Connection, salt: bytes) -> None:
        self.db = db
        self._salt = salt

    def person(self, user: str) -> str:
        """The salted hash a person is counted under (never their id)."""
        return hmac.new(self._salt, user.encode(), hashlib.sha256).hexdigest()[:32]

    def count(self, user: str, code: str, stages: Iterable[str], when: float) -> None:
        """Count the person once per stage. Runs inside the caller's transaction."""
        person, week = self.person(user), week_of(when)
        for stage in stages:
            if stage not in STAGES:
                continue
            cur = self.db.execute(
                "INSERT OR IGNORE INTO stage_marks VALUES (?, ?, ?)", (person, stage, int(when))
            )
            if cur.rowcount:
                self.db.execute(
                    "INSERT INTO counters VALUES (?, ?, ?, 1) ON CONFLICT(code, week, stage)"
                    " DO UPDATE SET n = n + 1",
                    (code, week, stage),
                )

    def forget(self, users: Iterable[str]) -> None:
        """The people's marks go (the counters they added stay: they name nobody)."""
        self.db.executemany(
            "DELETE FROM stage_marks WHERE person=?", [(self.person(u),) for u in users]
        )

    def purge_marks(self, cutoff: int, limit: int) -> int:
        """Up to `limit` marks made before `cutoff` removed; returns how many."""
        return self.db.execute(
            "DELETE FROM stage_marks WHERE rowid IN (SELECT rowid FROM stage_marks"
            " WHERE created < ? LIMIT ?)",
            (cutoff, limit),
        ).rowcount

    def figures(
        self, code: str | None = None, weeks: int | None = None, now: float | None = None
    ) -> list[FigureRow]:
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
        return [(r[0], r[1], r[2], r[3]) for r in self.db.execute(sql, args)]

    def request_figures(self) -> list[RequestFigure]:
        """(code, received, claimed, median seconds to claim) per adviser code."""
        rows = self.db.execute("SELECT code, created, claimed_at FROM requests")
        by_code: dict[str, list[tuple[float, float | None]]] = {}
        for code, created, claimed_at in rows:
            by_code.setdefault(code or "", []).append((created, claimed_at))
        out: list[RequestFigure] = []
        for code, items in sorted(by_code.items()):
            delays = [claimed - created for created, claimed in items if claimed is not None]
            out.append((code, len(items), len(delays), _median(delays)))
        return out
