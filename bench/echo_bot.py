"""The floor: a bare python-telegram-bot echo bot with the same concurrency as ours.

It answers callback queries and echoes text, nothing else. Run by bench/load.py with the
same environment variables as clea-bot (TELEGRAM_BOT_TOKEN, TELEGRAM_API_BASE_URL…)."""

from __future__ import annotations

import os

from telegram import Update
from telegram.ext import Application, ContextTypes, TypeHandler


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    if update.callback_query is not None:
        await update.callback_query.answer()
        await context.bot.send_message(chat.id, update.callback_query.data or "")
    elif update.effective_message is not None and update.effective_message.text:
        await context.bot.send_message(chat.id, update.effective_message.text)


def main() -> None:
    builder = (
        Application.builder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(os.environ["TELEGRAM_API_BASE_URL"])
        .concurrent_updates(int(os.environ.get("CLEA_CONCURRENCY", "32")))
    )
    if os.environ.get("ECHO_BACKEND") == "aiohttp":
        # The same HTTP backend as clea-bot, to separate library cost from our own.
        from bot.transport.aiohttp_request import AiohttpRequest

        builder = builder.request(AiohttpRequest()).get_updates_request(AiohttpRequest())
    app = builder.build()
    app.add_handler(TypeHandler(Update, echo))
    app.run_polling(allowed_updates=Update.ALL_TYPES, poll_interval=0.0, timeout=10)


if __name__ == "__main__":
    main()
