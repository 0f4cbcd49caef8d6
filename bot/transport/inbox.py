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
alone never slows anything down. The poller waits while more than `max_in_flight`
*conversations* have updates received and not yet finished (bot/transport/polling.py). Counting
conversations rather than updates keeps fetching when one person floods the bot (a
1,000-update backlog of one chat must not hold back everybody else's next message).
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telegram import Bot, Update

from bot.database import inline
from bot.storage import Storage, is_busy

log = logging.getLogger(__name__)

WRITE_RETRY_PAUSES = (0.1, 0.3)


def chat_of(update: Update) -> object:
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return ("user", update.effective_user.id)
    return ("update", update.update_id)


@dataclass(frozen=True)
class DeadLetter:
    """An update that could not be read, kept aside: its id, the exception type, whose it
    is (to erase it with their data) and the raw JSON."""

    update_id: int | None
    error: str
    person: str | None
    data: str


class InboxQueue(asyncio.Queue):
    """`run_db`: how storage calls are made (the bot's DatabaseThread.call, off the loop)."""

    def __init__(self, storage: Storage, maxsize: int = 1000, max_in_flight: int = 500,
                 run_db: Callable[..., Awaitable[Any]] = inline):
        super().__init__(maxsize)
        self.storage = storage
        self.run_db = run_db
        self.max_in_flight = max_in_flight
        self._pending: dict[object, int] = {}  # conversation → updates not yet finished
        self._room = asyncio.Condition()

    @property
    def in_flight(self) -> int:
        """Conversations with updates received and not yet finished."""
        return len(self._pending)

    def _started(self, update: Update) -> None:
        key = chat_of(update)
        self._pending[key] = self._pending.get(key, 0) + 1

    async def put(self, item: object) -> None:
        if isinstance(item, Update):
            await self._write([item])
            self._started(item)
        await super().put(item)

    async def put_batch(self, updates: list[Update], raw: list[str] | None = None) -> None:
        """A whole getUpdates batch, written in one transaction. `raw`: each update's JSON
        as received, stored as it is (rebuilding it from the parsed Update with to_dict
        cost about 7% of the bot's CPU per update)."""
        await self._write(updates, raw)
        for update in updates:
            self._started(update)
            await super().put(update)

    def finished(self, update: Update) -> None:
        """One update handled and answered (or kept aside): room for another."""
        key = chat_of(update)
        left = self._pending.get(key, 0) - 1
        if left > 0:
            self._pending[key] = left
        else:
            self._pending.pop(key, None)
        if self.in_flight <= self.max_in_flight:
            asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._room:
            self._room.notify_all()

    async def wait_for_room(self) -> None:
        async with self._room:
            await self._room.wait_for(lambda: self.in_flight <= self.max_in_flight)

    async def _write(self, updates: list[Update], raw: list[str] | None = None) -> None:
        """In the inbox before Telegram hears we have them; tried again while another
        writer holds the lock. Failing that they are handled anyway, only not crash-safe."""
        rows = list(zip((u.update_id for u in updates),
                        raw if raw is not None else (json.dumps(u.to_dict()) for u in updates),
                        strict=True))
        try:
            await self._retrying(self.storage.inbox_add, rows)
        except sqlite3.Error as exc:
            log.error("updates %s… not written to the inbox (%s: %s): not safe from"
                      " a crash", updates[0].update_id, type(exc).__name__, exc)

    async def done(self, update_id: int) -> None:
        """Handled and answered: out of the inbox, tried again while another writer holds
        the lock like every other write (left behind, the update would be answered again
        at the next start). sqlite3.Error when it could not be done."""
        await self._retrying(self.storage.inbox_done, update_id)

    async def _retrying(self, fn: Any, *args: Any) -> None:
        """`fn(*args)` on the database, tried again after short pauses while the database
        is busy (a lock held by another process); a full disk or a read-only file fails at
        once."""
        pauses = iter(WRITE_RETRY_PAUSES)
        while True:
            try:
                await self.run_db(fn, *args)
                return
            except sqlite3.Error as exc:
                pause = next(pauses, None) if is_busy(exc) else None
                if pause is None:
                    raise
                await asyncio.sleep(pause)  # the loop goes on meanwhile

    async def set_aside(self, letters: list[DeadLetter]) -> None:
        """Updates that could not be read: kept 7 days in the dead letters, never retried."""
        for d in letters:
            try:
                await self.run_db(self.storage.dead_letter, d.update_id, d.error, d.person,
                                  d.data)
            except sqlite3.Error as exc:
                log.error("dead letter of update %s not written: %s", d.update_id,
                          type(exc).__name__)

    async def replay(self, bot: Bot) -> int:
        """Queue every update a previous run received but did not finish, oldest first,
        waiting for room as it goes (a backlog of any size is replayed whole)."""
        pending = await self.run_db(self.storage.inbox_pending)
        if pending:
            log.info("replaying %d updates received before a restart", len(pending))
        for update_id, data in pending:
            try:
                update = Update.de_json(json.loads(data), bot)
            except Exception as exc:
                log.error("update %s in the inbox is unreadable (%s); kept aside", update_id,
                          type(exc).__name__)
                await self.set_aside([DeadLetter(update_id, type(exc).__name__, None, data)])
                await self.run_db(self.storage.inbox_done, update_id)
                continue
            await self.wait_for_room()
            self._started(update)
            await super().put(update)
        return len(pending)
