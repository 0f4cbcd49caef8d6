"""Flood limits, 429 waits, and bounded retries that never duplicate a message."""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import AIORateLimiter

from bot.transport.aiohttp_request import NotSent

log = logging.getLogger(__name__)


# Bot API methods that create something each time they are applied.
NOT_IDEMPOTENT = {"sendMessage", "sendPhoto", "sendVoice", "sendDocument", "sendAudio",
                  "sendVideo", "sendAnimation", "sendSticker", "sendLocation", "sendContact",
                  "sendMediaGroup", "forwardMessage", "copyMessage", "sendPoll", "sendDice"}


def may_resend(exc: NetworkError) -> bool:
    """Only when Telegram cannot have received it: never reached (NotSent), or an HTTP
    5xx answer (python-telegram-bot raises a plain NetworkError for those). A read
    timeout (TimedOut) or a connection dropped after sending (MaybeSent) may have arrived."""
    return isinstance(exc, NotSent) or type(exc) is NetworkError


class RetryingRateLimiter(AIORateLimiter):
    """AIORateLimiter (flood limits, 429 retry_after) plus bounded retries with
    exponential backoff on network errors and 5xx answers."""

    def __init__(self, network_retries: int = 4, backoff: float = 0.5, **kwargs: Any):
        super().__init__(**kwargs)
        self.network_retries = network_retries
        self.backoff = backoff

    async def process_request(self, callback, args, kwargs, endpoint, data,  # type: ignore[override]
                              rate_limit_args):
        attempt = 0
        while True:
            try:
                return await super().process_request(callback, args, kwargs, endpoint, data,
                                                     rate_limit_args)
            except (BadRequest, Forbidden, InvalidToken, Conflict, RetryAfter):
                raise
            except NetworkError as exc:
                if endpoint in NOT_IDEMPOTENT and not may_resend(exc):
                    # Telegram may have applied it: a second send could be a duplicate.
                    log.warning("%s: %s, not resent (it may have arrived)", endpoint,
                                type(exc).__name__)
                    raise
                if attempt >= self.network_retries:
                    log.error("%s failed after %d retries: %s", endpoint, attempt,
                              type(exc).__name__)
                    raise
                delay = min(self.backoff * 2 ** attempt, 8.0) * (0.5 + random.random())
                log.warning("%s: %s, retry %d in %.2fs", endpoint, type(exc).__name__,
                            attempt + 1, delay)
                attempt += 1
                await asyncio.sleep(delay)
