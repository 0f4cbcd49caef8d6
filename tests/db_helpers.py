"""Reading the bot's SQLite file from a test, the way an operator would: through a
connection of its own, never through methods the bot does not need."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any

from bot.storage import Storage


def _path(db: Storage | Path | str) -> str:
    return str(db.path if isinstance(db, Storage) else db)


def query(db: Storage | Path | str, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The rows of `sql` read from the file of `db` (a Storage or a path)."""
    with contextlib.closing(sqlite3.connect(_path(db))) as con:
        return list(con.execute(sql, args))


def count(db: Storage | Path | str, table: str) -> int:
    """How many rows `table` holds in the file of `db`."""
    return int(query(db, f"SELECT COUNT(*) FROM {table}")[0][0])


def write(db: Storage | Path | str, sql: str, args: tuple[Any, ...] = ()) -> None:
    """One statement written to the file of `db` in its own transaction: a state the bot
    cannot reach on its own (a corrupt row, a newer schema), made by hand."""
    with contextlib.closing(sqlite3.connect(_path(db))) as con, con:
        con.execute(sql, args)
