"""The directory file: the offices, competences, town halls and training offers of the
open data, written whole by `clea-bot directory update` (bot/directory_update.py) and read
by knowledge/opendata.py. A file of its own, apart from the bot's database: it is built on
another machine or by cron, and replaced in one rename."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from knowledge.opendata import OFFICE_FIELDS, SCHEMA, Offer, Office

OFFER_FIELDS = (
    "siret",
    "name",
    "departement",
    "kind",
    "sessions",
    "distance_sessions",
    "hours_min",
    "hours_max",
    "price_min",
    "price_max",
    "extracted",
)


def installed_meta(path: Path, key: str) -> Any:
    """A value of the installed file's `meta` table (JSON), or None when there is no file,
    no such key, or the file is broken (a broken file is replaced, not compared with)."""
    if not path.exists():
        return None
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        finally:
            db.close()
    except sqlite3.DatabaseError:
        return None
    return json.loads(row[0]) if row else None


def write(
    path: Path,
    meta: Mapping[str, str],
    offices: Iterable[Office],
    competence: Iterable[tuple[str, str, str]],
    town_halls: Mapping[str, tuple[float, float]],
    offers: Iterable[Offer],
) -> None:
    """A new directory file at `path` (which must not exist), in one transaction."""
    db = sqlite3.connect(path)
    try:
        db.executescript(SCHEMA)
        db.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        db.executemany(
            f"INSERT OR REPLACE INTO offices VALUES ({', '.join('?' * len(OFFICE_FIELDS))})",
            [tuple(getattr(o, f) for f in OFFICE_FIELDS) for o in offices],
        )
        db.executemany("INSERT OR IGNORE INTO competence VALUES (?, ?, ?)", sorted(competence))
        db.executemany(
            "INSERT INTO town_halls VALUES (?, ?, ?)",
            [(insee, lat, lon) for insee, (lat, lon) in sorted(town_halls.items())],
        )
        db.executemany(
            f"INSERT INTO offers VALUES ({', '.join('?' * len(OFFER_FIELDS))})",
            [tuple(getattr(o, f) for f in OFFER_FIELDS) for o in offers],
        )
        db.commit()
    finally:
        db.close()
