"""The Application's update queue, written through to an SQLite inbox.

Telegram forgets an update once the bot acknowledges it: with polling, by asking for the
next ones; with a webhook, by answering 200. python-telegram-bot does both right after
putting the update in its queue, before handling it: a process killed then loses it.

This queue writes each update to the inbox table as it is put, so before the
acknowledgement. An update leaves the inbox once handled and answered (TelegramChannel).
At start-up, everything left is queued first, in update order (so interleaved across
conversations), before any new update is fetched; a turn that was saved but not answered is
recognised (TurnRunner) and the person gets their current screen again.

Backpressure: python-telegram-bot drains its queue into tasks at once, so a bounded queue
alone never slows anything down. `in_flight` counts updates received and not yet finished;
the poller waits while it is above `max_in_flight` (bot/polling.py).
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
    def __init__(self, storage: Storage, maxsize: int = 1000, max_in_flight: int = 500):
        super().__init__(maxsize)
        self.storage = storage
        self.max_in_flight = max_in_flight
        self.in_flight = 0
        self._room = asyncio.Condition()

    async def put(self, item: object) -> None:
        if isinstance(item, Update):
            self._write([item])
            self.in_flight += 1
        await super().put(item)

    async def put_batch(self, updates: list[Update]) -> None:
        """A whole getUpdates batch, written in one transaction."""
        self._write(updates)
        for update in updates:
            self.in_flight += 1
            await super().put(update)

    def finished(self) -> None:
        """One update handled and answered (or kept aside): room for another."""
        self.in_flight = max(0, self.in_flight - 1)
        if self.in_flight <= self.max_in_flight:
            asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._room:
            self._room.notify_all()

    async def wait_for_room(self) -> None:
        async with self._room:
            await self._room.wait_for(lambda: self.in_flight <= self.max_in_flight)

    def _write(self, updates: list[Update]) -> None:
        try:
            self.storage.inbox_add((u.update_id, json.dumps(u.to_dict())) for u in updates)
        except sqlite3.Error as exc:
            log.error("updates %s… not written to the inbox (%s: %s): not safe from a crash",
                      updates[0].update_id, type(exc).__name__, exc)

    async def replay(self, bot: Bot) -> int:
        """Queue every update a previous run received but did not finish, oldest first,
        waiting for room as it goes (a backlog of any size is replayed whole)."""
        pending = self.storage.inbox_pending()
        if pending:
            log.info("replaying %d updates received before a restart", len(pending))
        for update_id, data in pending:
            try:
                update = Update.de_json(json.loads(data), bot)
            except Exception as exc:  # noqa: BLE001 - any unreadable row is set aside
                log.error("update %s in the inbox is unreadable (%s); kept aside", update_id,
                          type(exc).__name__)
                self.storage.dead_letter(update_id, type(exc).__name__, None, data)
                self.storage.inbox_done(update_id)
                continue
            await self.wait_for_room()
            self.in_flight += 1
            await super().put(update)
        return len(pending)
