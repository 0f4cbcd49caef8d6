"""The Application's one lifecycle, for polling (bot/transport/polling.py) and the webhook
(bot/transport/webhook.py): what differs between them is only how updates reach the inbox.

python-telegram-bot's `run_polling`/`run_webhook` would do this with its Updater, which
the bot replaces (see those modules); its hooks are called here in the same order.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from telegram.ext import Application

from bot.tasks import cancel
from bot.transport.inbox import InboxQueue
from bot.transport.ordering import stop_starting


@contextlib.asynccontextmanager
async def running(
    app: Application[Any, Any, Any, Any, Any, Any], grace: float
) -> AsyncIterator[InboxQueue]:
    """Start the replay of the inbox, initialize and start the Application (post_init
    first), yield its inbox; on the way out, the replay stops (what is left of the backlog
    stays in the inbox), `grace` seconds for the updates in hand (the rest is replayed, in
    order, at the next start), then stop and shut down (post_stop, post_shutdown). The
    Application must have been built with an InboxQueue (TelegramChannel.build_application).
    """
    queue = app.update_queue
    if not isinstance(queue, InboxQueue):
        raise TypeError("the Application's update queue must be an InboxQueue")
    # The backlog alongside the new updates (each chat's in order): never blind.
    replay = asyncio.create_task(queue.replay(app.bot))
    try:
        async with app:
            if app.post_init:
                await app.post_init(app)
            await app.start()
            try:
                yield queue
            finally:
                await cancel(replay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(queue.join(), grace)
                stop_starting(app)
                await app.stop()
                if app.post_stop:
                    await app.post_stop(app)
    finally:
        await cancel(replay)
    if app.post_shutdown:
        await app.post_shutdown(app)
