"""The webhook: Telegram posts each update to our HTTPS address (behind a reverse proxy).

A small aiohttp server (aiohttp is already the request backend) in place of
python-telegram-bot's, so that a request is judged before its body is read: a wrong secret
header gets 403 and a body over 1 MB gets 413 without a byte of it in memory. Each accepted
update is written to the inbox before the 200 (Telegram forgets it then), parsed on its own
(an unreadable one is kept aside), and handled like a polled one.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot.transport.inbox import InboxQueue
from bot.transport.lifecycle import running
from bot.transport.polling import parse_updates

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # an update is a few kilobytes; Telegram's largest are far below this
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_app(queue: InboxQueue, app: Application, secret: str, path: str) -> web.Application:
    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return web.Response(status=403)  # the body is never read
        if request.content_length is None:
            return web.Response(status=411)
        if request.content_length > MAX_BODY:
            return web.Response(status=413)
        try:
            data = json.loads(await request.read())
        except (ValueError, web.HTTPRequestEntityTooLarge):
            return web.Response(status=400)
        updates, letters = parse_updates([data], app.bot)
        await queue.set_aside(letters)
        if updates:
            await queue.put_batch(updates)  # in the inbox before Telegram hears 200
        return web.Response(status=200)

    server = web.Application(client_max_size=MAX_BODY)
    server.router.add_post(f"/{path.lstrip('/')}", receive)
    return server


async def serve_webhook(
    app: Application,
    stop: asyncio.Event,
    url: str,
    secret: str,
    listen: str,
    port: int,
    path: str,
    grace: float = 20.0,
) -> None:
    """Run the application behind our webhook server until `stop` is set (then `grace`
    seconds to finish the updates in hand: bot/transport/lifecycle.py)."""
    async with running(app, grace) as queue:
        runner = web.AppRunner(webhook_app(queue, app, secret, path), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, listen, port)
        await site.start()
        await app.bot.set_webhook(url, secret_token=secret, allowed_updates=list(Update.ALL_TYPES))
        log.info("webhook listening on %s:%s", listen, port)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()
