"""Long polling that acknowledges updates only after they are handled.

Telegram forgets an update once a getUpdates call passes a higher `offset`.
python-telegram-bot's Updater sends that next call as soon as a batch is queued, before
it is processed: a process killed at that moment loses the batch. Here a batch goes
through the Application (its update processor, hence per-chat order), and the next
getUpdates, which acknowledges it, waits until every update of the batch was handled and
its session saved. After a crash the batch comes again; the channel skips the turns it
already saved (session field "u") and shows those people their current screen.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram import Update
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import Application

log = logging.getLogger(__name__)


class AckAfterProcessingPoller:
    def __init__(self, app: Application, timeout: int = 10, max_batch_wait: float = 10.0):
        """`max_batch_wait`: after this long, a batch that is still being handled (an update
        stuck behind Telegram's rate limits, say) no longer holds back the others: it is
        acknowledged and finishes in the background."""
        self.app = app
        self.timeout = timeout
        self.max_batch_wait = max_batch_wait
        self.offset: int | None = None
        self.first_poll = asyncio.Event()

    async def run(self) -> None:
        backoff = 1.0
        with contextlib.suppress(TelegramError):
            await self.app.bot.delete_webhook(drop_pending_updates=False)
        while True:
            try:
                poll = self.app.bot.get_updates(offset=self.offset, timeout=self.timeout,
                                                allowed_updates=Update.ALL_TYPES)
                self.first_poll.set()
                updates = await poll
            except InvalidToken:
                raise
            except (NetworkError, TelegramError) as exc:
                log.warning("getUpdates failed (%s), retry in %.0fs", type(exc).__name__,
                            backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            backoff = 1.0
            for update in updates:
                await self.app.update_queue.put(update)
            try:
                await asyncio.wait_for(self.app.update_queue.join(), self.max_batch_wait)
            except TimeoutError:
                log.warning("a batch of updates took over %.0fs; acknowledged while it "
                            "finishes", self.max_batch_wait)
            if updates:
                self.offset = updates[-1].update_id + 1

    async def acknowledge(self) -> None:
        """Tell Telegram that everything handled so far is done (at a graceful stop)."""
        if self.offset is None:
            return
        with contextlib.suppress(TelegramError):
            await self.app.bot.get_updates(offset=self.offset, timeout=0, limit=1)


async def serve(app: Application, stop: asyncio.Event, timeout: int = 10,
                started: asyncio.Event | None = None) -> None:
    """Run the application with ack-after-processing polling until `stop` is set."""
    poller = AckAfterProcessingPoller(app, timeout)
    async with app:
        if app.post_init:
            await app.post_init(app)
        await app.start()
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
        # Let the updates being handled finish, then acknowledge them.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(app.update_queue.join(), 20)
        await poller.acknowledge()
        await app.stop()
        if app.post_stop:
            await app.post_stop(app)
    if app.post_shutdown:
        await app.post_shutdown(app)
