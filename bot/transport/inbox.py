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
from bot.retrying import retry_async
from bot.storage import Storage, is_busy
from bot.transport.incoming import Incoming, read

log = logging.getLogger(__name__)

WRITE_RETRY_PAUSES = (0.1, 0.3)
# Backlog updates being handled at once during a replay: a new person's update queues
# behind at most these, not behind the whole backlog. The Telegram channel gives three
# quarters of the processor's places (24 of 32): a new update finds a free one at once
# instead of waiting for a backlog turn to end (measured: 0.13 s at start-up).
REPLAY_IN_FLIGHT = 32
PARSE_CHUNK = 200  # backlog rows read between two yields to the event loop


def raw_chat_key(item: object) -> object:
    """chat_of for an update still in JSON (the backlog is sorted by chat before it is
    parsed): the chat of its payload, of the message a button is under, else its sender."""
    if not isinstance(item, dict):
        return ("update", None)
    for name, value in item.items():
        if name == "update_id" or not isinstance(value, dict):
            continue
        chat = value.get("chat") or (value.get("message") or {}).get("chat")
        if isinstance(chat, dict) and "id" in chat:
            return chat["id"]
        user = value.get("from") or value.get("user")
        if isinstance(user, dict) and "id" in user:
            return ("user", user["id"])
    return ("update", item.get("update_id"))


def chat_of(update: object) -> object:
    """The conversation an update belongs to, the one key of the inbox and of the
    processor's per-chat order (bot/transport/ordering.py): its chat, else its sender, else
    the update alone. Anything else put in the Application's queue shares the key None."""
    return update.key if isinstance(update, Incoming) else None


def person_of(item: object) -> str | None:
    """The person of an update still in JSON (`raw_chat_key`): to erase its dead letter with
    their data."""
    key = raw_chat_key(item)
    if isinstance(key, int):
        return f"tg:{key}"
    if isinstance(key, tuple) and key[0] == "user" and isinstance(key[1], int):
        return f"tg:{key[1]}"
    return None


@dataclass(frozen=True)
class DeadLetter:
    """An update that could not be read, kept aside: its id, the exception type, whose it
    is (to erase it with their data) and the raw JSON."""

    update_id: int | None
    error: str
    person: str | None
    data: str


class InboxQueue(asyncio.Queue):
    """`run_db`: how storage calls are made (the bot's DatabaseThread.call, off the loop);
    `run_quick`: how the inbox write and deletion of each update are made (the bot's
    DatabaseThread.quick: on the loop when the database is free at once)."""

    def __init__(
        self,
        storage: Storage,
        maxsize: int = 1000,
        max_in_flight: int = 500,
        run_db: Callable[..., Awaitable[Any]] = inline,
        replay_in_flight: int = REPLAY_IN_FLIGHT,
        run_quick: Callable[..., Awaitable[Any]] | None = None,
    ):
        super().__init__(maxsize)
        self.replay_in_flight = replay_in_flight
        self.storage = storage
        self.run_db = run_db
        self.run_quick = run_quick or run_db
        self.max_in_flight = max_in_flight
        self._pending: dict[object, int] = {}  # conversation → updates not yet finished
        # Set while in_flight <= max_in_flight (the poller may fetch): an Event rather than
        # a Condition, so that finishing an update costs no task when nobody is waiting.
        self._room = asyncio.Event()
        self._room.set()
        # During a replay: backlog updates not yet queued, per chat, and the new updates of
        # those chats, held until their backlog is queued (one chat's order is kept).
        self._backlog: dict[object, int] = {}
        self._held: dict[object, list[Incoming]] = {}
        self._backlog_known = asyncio.Event()
        self._backlog_known.set()
        self._replaying: set[int] = set()  # backlog update ids in flight
        self._done_ids: list[int] = []  # finished, waiting for the next deletion
        self._done_batch: asyncio.Future | None = None
        self._done_lock = asyncio.Lock()
        self._replay_room = asyncio.Condition()

    @property
    def in_flight(self) -> int:
        """Conversations with updates received and not yet finished."""
        return len(self._pending)

    def _started(self, update: Incoming) -> None:
        key = chat_of(update)
        self._pending[key] = self._pending.get(key, 0) + 1

    async def put(self, item: object) -> None:
        if isinstance(item, Update):  # from the library (none is, since our own polling)
            item = Incoming.from_update(item)
        if isinstance(item, Incoming):
            await self._write([item])
            await self._backlog_known.wait()
            await self._enqueue(item)
            return
        await super().put(item)

    async def put_batch(self, updates: list[Incoming], raw: list[str] | None = None) -> None:
        """A whole getUpdates batch, written in one transaction. `raw`: each update's JSON
        as received, stored as it is (by default, each update's `raw` encoded)."""
        await self._write(updates, raw)
        await self._backlog_known.wait()  # the backlog's chats are known (a few ms)
        for update in updates:
            await self._enqueue(update)

    async def _enqueue(self, update: Incoming) -> None:
        """A new update to handle now, or after its chat's backlog when it has one."""
        self._started(update)
        key = chat_of(update)
        if self._backlog.get(key):
            self._held.setdefault(key, []).append(update)
        else:
            await super().put(update)

    def finished(self, update: Incoming) -> None:
        """One update handled and answered (or kept aside): room for another."""
        if update.update_id in self._replaying:
            self._replaying.discard(update.update_id)
            asyncio.get_running_loop().create_task(self._notify_replay())
        key = chat_of(update)
        left = self._pending.get(key, 0) - 1
        if left > 0:
            self._pending[key] = left
        else:
            self._pending.pop(key, None)
        if self.in_flight <= self.max_in_flight:
            self._room.set()

    async def _notify_replay(self) -> None:
        async with self._replay_room:
            self._replay_room.notify_all()

    async def wait_for_room(self) -> None:
        while self.in_flight > self.max_in_flight:
            self._room.clear()
            await self._room.wait()

    async def _write(self, updates: list[Incoming], raw: list[str] | None = None) -> None:
        """In the inbox before Telegram hears we have them; tried again while another
        writer holds the lock. Failing that they are handled anyway, only not crash-safe."""
        rows = list(
            zip(
                (u.update_id for u in updates),
                raw if raw is not None else (json.dumps(u.raw) for u in updates),
                strict=True,
            )
        )
        try:
            await self._retrying(self.storage.inbox_add, rows, quick=True)
        except sqlite3.Error as exc:
            log.error(
                "updates %s… not written to the inbox (%s: %s): not safe from a crash",
                updates[0].update_id,
                type(exc).__name__,
                exc,
            )

    async def done(self, update_id: int) -> None:
        """Handled and answered: out of the inbox, tried again while another writer holds
        the lock like every other write (left behind, the update would be answered again
        at the next start). sqlite3.Error when it could not be done.

        The updates finished while one deletion is on the database thread leave together
        in the next one (one trip for many, the same guarantee: each caller returns once
        its row is gone)."""
        self._done_ids.append(update_id)
        if self._done_batch is None:
            self._done_batch = asyncio.get_running_loop().create_future()
            asyncio.get_running_loop().create_task(self._flush_done())
        await asyncio.shield(self._done_batch)

    async def _flush_done(self) -> None:
        async with self._done_lock:  # one deletion at a time; the next batch fills meanwhile
            batch, ids = self._done_batch, self._done_ids
            assert batch is not None  # done() sets it before it starts this flush
            self._done_batch, self._done_ids = None, []
            try:
                await self._retrying(self.storage.inbox_done_many, ids, quick=True)
            except Exception as exc:  # every caller of this batch hears it
                batch.set_exception(exc)
                batch.exception()  # retrieved: the callers may be gone
            else:
                batch.set_result(None)

    async def _retrying(self, fn: Any, *args: Any, quick: bool = False) -> None:
        """`fn(*args)` on the database, tried again after short pauses while the database
        is busy (a lock held by another process); a full disk or a read-only file fails at
        once. `quick`: through `run_quick`."""
        run = self.run_quick if quick else self.run_db
        await retry_async(
            lambda: run(fn, *args),
            WRITE_RETRY_PAUSES,
            lambda exc: isinstance(exc, sqlite3.Error) and is_busy(exc),
        )

    async def set_aside(self, letters: list[DeadLetter]) -> None:
        """Updates that could not be read: kept 7 days in the dead letters, never retried."""
        for d in letters:
            try:
                await self.run_db(
                    self.storage.dead_letters.add, d.update_id, d.error, d.person, d.data
                )
            except sqlite3.Error as exc:
                log.error(
                    "dead letter of update %s not written: %s", d.update_id, type(exc).__name__
                )

    async def replay(self, bot: Bot) -> int:
        """Queue every update a previous run received but did not finish, oldest first,
        alongside the new ones: polling starts at once (with 10k updates left, the first
        getUpdates came 27.5 s after start when the backlog was queued first). At most
        `replay_in_flight` backlog updates are in hand at a time, so a new person waits
        behind a few turns, not the backlog; a chat's new updates wait for its backlog."""
        self._backlog_known.clear()
        try:
            pending = await self.run_db(self.storage.inbox_pending)
            rows = []
            for n, (update_id, data) in enumerate(pending):
                try:
                    raw = json.loads(data)
                except ValueError:
                    raw = None
                key = raw_chat_key(raw) if raw is not None else ("update", update_id)
                self._backlog[key] = self._backlog.get(key, 0) + 1
                rows.append((update_id, data, raw, key))
                if n % PARSE_CHUNK == PARSE_CHUNK - 1:
                    await asyncio.sleep(0)
        finally:
            self._backlog_known.set()
        if rows:
            log.info("replaying %d updates received before a restart", len(rows))
        try:
            for n, (update_id, data, raw, key) in enumerate(rows):
                if n % PARSE_CHUNK == PARSE_CHUNK - 1:
                    await asyncio.sleep(0)
                try:
                    update = read(raw, bot)
                except Exception as exc:
                    log.error(
                        "update %s in the inbox is unreadable (%s); kept aside",
                        update_id,
                        type(exc).__name__,
                    )
                    await self.set_aside([DeadLetter(update_id, type(exc).__name__, None, data)])
                    await self.run_db(self.storage.inbox_done, update_id)
                    await self._replayed(key)
                    continue
                async with self._replay_room:
                    await self._replay_room.wait_for(
                        lambda: len(self._replaying) < self.replay_in_flight
                    )
                self._replaying.add(update.update_id)
                self._started(update)
                await super().put(update)
                await self._replayed(key)
        finally:  # stopped midway: what is left waits in the inbox for the next start
            self._backlog.clear()
        return len(rows)

    async def _replayed(self, key: object) -> None:
        """One backlog update of this chat queued; after its last, the chat's new ones."""
        left = self._backlog.get(key, 0) - 1
        if left > 0:
            self._backlog[key] = left
            return
        self._backlog.pop(key, None)
        for update in self._held.pop(key, []):
            await super().put(update)
