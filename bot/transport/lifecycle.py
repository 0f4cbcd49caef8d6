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

from bot.transport.inbox import InboxQueue
from bot.transport.ordering import stop_starting


@contextlib.asynccontextmanager
async def running(
    app: Application[Any, Any, Any, Any, Any, Any], grace: float
) -> AsyncIterator[InboxQueue]:
    """Initialize and start the Application (post_init first), yield its inbox; on the way
    out, `grace` seconds for the updates in hand (the rest stays in the inbox and is
    replayed, in order, at the next start), then stop and shut down (post_stop,
    post_shutdown). The Application must have been built with an InboxQueue
    (TelegramChannel.build_application)."""
    queue = app.update_queue
    if not isinstance(queue, InboxQueue):
        raise TypeError("the Application's update queue must be an InboxQueue")
    async with app:
        if app.post_init:
            await app.post_init(app)
        await app.start()
        try:
            yield queue
        finally:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(queue.join(), grace)
            stop_starting(app)
            await app.stop()
            if app.post_stop:
                await app.post_stop(app)
    if app.post_shutdown:
        await app.post_shutdown(app)
