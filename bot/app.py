"""Build the shared parts once: knowledge, dialog engine, storage."""

from __future__ import annotations

import logging

from bot.config import Config
from bot.storage import Storage
from dialogs.engine import Engine
from knowledge import geography
from knowledge.loader import load


def build_engine(config: Config) -> Engine:
    knowledge = load(extra_directory=config.directory_extra)
    geography.warm()
    return Engine(knowledge, handoff_enabled=config.adviser_chat_id is not None,
                  retention_days=config.retention_days)


def open_storage(config: Config) -> Storage:
    storage = Storage(config.db_path)
    purged = storage.purge(config.retention_days)
    if purged:
        logging.getLogger(__name__).info("purged %d sessions older than %d days", purged,
                                         config.retention_days)
    return storage
