"""The Application's update queue, written through to an SQLite inbox.

Telegram forgets an update once the bot acknowledges it: with polling, by asking for the
next ones; with a webhook, by answering 200. python-telegram-bot does both right after
putting the update in its queue, before handling it: a process killed then loses it.

This queue writes each update to the inbox table as it is put, so before the
acknowledgement. An update leaves the inbox once handled and answered (TelegramChannel).
At start-up, what is left is queued first, in update order; a turn that was saved but not
answered is recognised by its update id (session field "u") and the person gets their
current screen again. A bounded queue also slows fetching down when handling falls behind.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3

from telegram import Bot, Update

from bot.storage import Storage

log = logging.getLogger(__name__)


class InboxQueue(asyncio.Queue):
    def __init__(self, storage: Storage, maxsize: int = 1000):
        super().__init__(maxsize)
        self.storage = storage

    async def put(self, item: object) -> None:
        if isinstance(item, Update):
            self._write([item])
        await super().put(item)

    async def put_batch(self, updates: list[Update]) -> None:
        """A whole getUpdates batch, written in one transaction."""
        self._write(updates)
        for update in updates:
            await super().put(update)

    def _write(self, updates: list[Update]) -> None:
        try:
            self.storage.inbox_add((u.update_id, json.dumps(u.to_dict())) for u in updates)
        except sqlite3.Error as exc:
            log.error("updates %s… not written to the inbox (%s: %s): not safe from a crash",
                      updates[0].update_id, type(exc).__name__, exc)

    def replay(self, bot: Bot) -> int:
        """Queue the updates a previous run received but did not finish."""
        pending = self.storage.inbox_pending()
        for update_id, data in pending:
            try:
                update = Update.de_json(json.loads(data), bot)
            except (ValueError, TypeError, KeyError):
                log.error("update %s in the inbox is unreadable; dropped", update_id)
                self.storage.inbox_done(update_id)
                continue
            if self.full():
                break  # the rest stays in the inbox for the next start
            super().put_nowait(update)
        if pending:
            log.info("replaying %d updates received before a restart", len(pending))
        return len(pending)
