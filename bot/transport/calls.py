"""Bot API calls made with plain JSON parameters: messages, edits and button answers.

`Bot.do_api_request` turns every parameter into a `RequestParameter`, walking each value
(a keyboard is a few nested lists) for files to upload, then adds the library's defaults
and a warning per call. The bot's messages carry no file and need no default. Measured
with an instant backend: 46 µs per call through `do_api_request` with our rate limiter,
against 20 µs here; each update makes about two calls.

The call goes through the same rate limiter (per-chat pacing, 429s, network retries:
bot/transport/retries.py) and the same aiohttp backend, and a Bot API error becomes the
library's exception (BadRequest, Forbidden, RetryAfter...), as for its own calls
(bot/transport/aiohttp_request.py `api_result`).
"""

from __future__ import annotations

from typing import Any

from telegram.ext import BaseRateLimiter

from bot.transport.aiohttp_request import AiohttpRequest


class BotApiCalls:
    """`await calls("sendMessage", {...})`: the Bot API's JSON result."""

    def __init__(
        self, request: AiohttpRequest, limiter: BaseRateLimiter[Any] | None, base_url: str
    ) -> None:
        """`base_url`: the bot's API address with its token (`Bot.base_url`)."""
        self.request = request
        self.limiter = limiter
        self.base_url = base_url

    async def __call__(self, endpoint: str, params: dict[str, Any]) -> Any:
        """`params`: JSON values only (no file, no library object); None values are left
        out (AiohttpRequest.post_json)."""
        url = f"{self.base_url}/{endpoint}"
        if self.limiter is None:
            return await self.request.post_json(url, params)
        return await self.limiter.process_request(
            callback=self.request.post_json,
            args=(url, params),
            kwargs={},
            endpoint=endpoint,
            data=params,
            rate_limit_args=None,
        )
