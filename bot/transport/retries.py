"""Flood limits, 429 waits, and bounded retries that never duplicate a message."""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import AIORateLimiter

from bot.transport.aiohttp_request import NotSent

log = logging.getLogger(__name__)


# Bot API methods that create something each time they are applied.
NOT_IDEMPOTENT = {"sendMessage", "sendPhoto", "sendVoice", "sendDocument", "sendAudio",
                  "sendVideo", "sendAnimation", "sendSticker", "sendLocation", "sendContact",
                  "sendMediaGroup", "forwardMessage", "copyMessage", "sendPoll", "sendDice"}


# What became of a Bot API call that raised (classify).
RETRY = "retry"  # Telegram cannot have applied it: send again (after a pause)
REFUSED = "refused"  # refused for good (chat not found, bot blocked, bad request): never again
MAYBE_SENT = "maybe_sent"  # it may have been applied: sending again could duplicate it


def classify(exc: BaseException) -> str:
    """The one rule for every send, used by the turn sender (through the rate limiter) and
    the outbox. In python-telegram-bot 22 BadRequest is a NetworkError, so it is looked at
    first: a 400 (chat not found, a deleted group) or a 403 (bot blocked, removed from the
    group) will fail the same way every time. A 429 (RetryAfter), a connection that never
    reached Telegram (NotSent) or an HTTP 5xx answer (a plain NetworkError) cannot have
    been applied. A read timeout (TimedOut) or a connection dropped after sending
    (MaybeSent) may have been."""
    if isinstance(exc, BadRequest | Forbidden | InvalidToken | Conflict | ChatMigrated):
        return REFUSED
    if isinstance(exc, RetryAfter | NotSent) or type(exc) is NetworkError:
        return RETRY
    if isinstance(exc, NetworkError):
        return MAYBE_SENT
    return REFUSED  # any other TelegramError is an answer from Telegram: a refusal


def may_resend(exc: NetworkError) -> bool:
    """Only when Telegram cannot have received it (see classify)."""
    return classify(exc) == RETRY


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
            except (RetryAfter, ChatMigrated):  # AIORateLimiter waited out its 429s
                raise
            except NetworkError as exc:
                outcome = classify(exc)
                if outcome == REFUSED:
                    raise
                if endpoint in NOT_IDEMPOTENT and outcome == MAYBE_SENT:
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
