"""Long polling that never loses an update, without waiting for slow ones.

Telegram forgets an update once a getUpdates call passes a higher `offset`.
python-telegram-bot's Updater sends that next call as soon as a batch is queued, before
it is handled: a process killed then loses the batch. Waiting for the whole batch before
the next call would be safe but slow (the slowest turn holds everybody back).

So each batch is first written to the SQLite inbox, then queued, then acknowledged by the
next getUpdates. An update leaves the inbox once handled and answered. At start-up,
whatever is left is handled first, in update order; a turn that was saved but not yet
answered is recognised by its update id (session field "u") and the person gets their
current screen again. Updates from different chats still run concurrently and one chat's
updates keep their order (the Application's update processor).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3

from telegram import Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application

from bot.storage import Storage

log = logging.getLogger(__name__)


class InboxPoller:
    def __init__(self, app: Application, storage: Storage, timeout: int = 10,
                 max_queued: int = 1000):
        self.app = app
        self.storage = storage
        self.timeout = timeout
        self.max_queued = max_queued  # stop fetching while this many updates wait
        self.offset: int | None = None
        self.first_poll = asyncio.Event()

    async def replay(self) -> int:
        """Queue the updates a previous run received but did not finish."""
        pending = self.storage.inbox_pending()
        for update_id, data in pending:
            try:
                update = Update.de_json(json.loads(data), self.app.bot)
            except (ValueError, TypeError, KeyError):
                log.error("update %s in the inbox is unreadable; dropped", update_id)
                self.storage.inbox_done(update_id)
                continue
            await self.app.update_queue.put(update)
        if pending:
            log.info("replaying %d updates received before a restart", len(pending))
        return len(pending)

    async def run(self) -> None:
        backoff = 1.0
        with contextlib.suppress(TelegramError):
            await self.app.bot.delete_webhook(drop_pending_updates=False)
        while True:
            while self.app.update_queue.qsize() >= self.max_queued:
                await asyncio.sleep(0.01)
            try:
                poll = self.app.bot.get_updates(offset=self.offset, timeout=self.timeout,
                                                allowed_updates=Update.ALL_TYPES)
                self.first_poll.set()
                updates = await poll
            except InvalidToken:
                raise
            except TelegramError as exc:
                log.warning("getUpdates failed (%s), retry in %.0fs", type(exc).__name__,
                            backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            backoff = 1.0
            if not updates:
                continue
            try:
                self.storage.inbox_add((u.update_id, json.dumps(u.to_dict())) for u in updates)
            except sqlite3.Error as exc:
                log.error("inbox not written (%s: %s): these updates are not safe from a "
                          "crash", type(exc).__name__, exc)
            for update in updates:
                await self.app.update_queue.put(update)
            self.offset = updates[-1].update_id + 1

    async def acknowledge(self) -> None:
        """Tell Telegram that everything received so far is ours (at a graceful stop)."""
        if self.offset is None:
            return
        with contextlib.suppress(TelegramError):
            await self.app.bot.get_updates(offset=self.offset, timeout=0, limit=1)


async def serve(app: Application, storage: Storage, stop: asyncio.Event, timeout: int = 10,
                started: asyncio.Event | None = None) -> None:
    """Run the application with inbox polling until `stop` is set."""
    poller = InboxPoller(app, storage, timeout)
    async with app:
        if app.post_init:
            await app.post_init(app)
        await app.start()
        await poller.replay()
        task = asyncio.create_task(poller.run())
        if started is not None:
            await poller.first_poll.wait()
            started.set()
        stopping = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if task in done:
            log.error("polling stopped: %s", type(task.exception()).__name__)
        else:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        # Let the updates being handled finish (what does not stays in the inbox).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(app.update_queue.join(), 20)
        await poller.acknowledge()
        await app.stop()
        if app.post_stop:
            await app.post_stop(app)
    if app.post_shutdown:
        await app.post_shutdown(app)
