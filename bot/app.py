"""Build the shared parts once: knowledge, dialog engine, storage."""

from __future__ import annotations

import json
import logging
import sqlite3
from typing import cast

from bot.config import Config
from bot.directory_watch import WatchedDirectory
from bot.storage import Storage
from bot.voice import VoiceService
from dialogs.engine import Engine
from knowledge.advisers import Adviser
from knowledge.loader import load
from knowledge.opendata import LocalDirectory, open_directory


def open_local_directory(config: Config) -> WatchedDirectory | None:
    """The open-data directory when installed, watched: reopened when the file is
    replaced; a broken or missing file is logged once and people get the national
    contacts meanwhile (bot/directory_watch.py)."""
    log = logging.getLogger(__name__)
    try:
        directory = open_directory(config.local_directory)
    except (sqlite3.DatabaseError, ValueError, KeyError) as exc:
        log.error(
            "local directory unreadable (%s): national contacts until it is replaced",
            type(exc).__name__,
        )
        return WatchedDirectory(config.local_directory, None)
    if directory is None:
        log.info("no local directory installed: national contacts only")
        return None
    log.info(
        "local directory from %s: %s",
        directory.extracted or "unknown date",
        json.dumps(directory.counts.get("offices", {}), sort_keys=True),
    )
    return WatchedDirectory(config.local_directory, directory)


def build_engine(
    config: Config,
    advisers: tuple[Adviser, ...] = (),
) -> Engine:
    knowledge = load(extra_directory=config.directory_extra)
    for problem in knowledge.expired:  # hidden from people; `clea-bot check` fails on them
        logging.getLogger(__name__).warning("expired dated fact hidden: %s", problem)
    return Engine(
        knowledge,
        handoff_enabled=config.adviser_chat_id is not None,
        retention_days=config.retention_days,
        # A WatchedDirectory answers like the LocalDirectory it watches (a proxy).
        local_directory=cast(LocalDirectory | None, open_local_directory(config)),
        advisers=advisers,
        voice_enabled=config.voice,
    )


def voice_service(config: Config) -> VoiceService | None:
    """Voice notes are kept beside the database, in voice/."""
    return VoiceService(config.db_path.parent / "voice") if config.voice else None


def open_storage(config: Config, purge: bool = True) -> Storage:
    """`purge`: remove expired sessions now (the console); the Telegram bot purges in
    the background instead, in short batches between turns."""
    storage = Storage(config.db_path)
    if not purge:
        return storage
    purged = storage.purge(config.retention_days)
    if purged:
        logging.getLogger(__name__).info(
            "purged %d sessions older than %d days", purged, config.retention_days
        )
    return storage
