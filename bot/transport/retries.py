"""Flood limits per chat, 429 waits for that chat only, and bounded retries that never
duplicate a message: the one "may resend" rule (`may_resend`) of the Bot API calls, used
by the rate limiter below and by the outbox. The pauses come from bot/retrying.py."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import BaseRateLimiter

from bot.retrying import Backoff
from bot.transport.aiohttp_request import NotSent

log = logging.getLogger(__name__)
ApiResult = bool | dict[str, Any] | list[dict[str, Any]]  # what a Bot API call answers


# Bot API methods that create something each time they are applied.
NOT_IDEMPOTENT = {
    "sendMessage",
    "sendPhoto",
    "sendVoice",
    "sendDocument",
    "sendAudio",
    "sendVideo",
    "sendAnimation",
    "sendSticker",
    "sendLocation",
    "sendContact",
    "sendMediaGroup",
    "forwardMessage",
    "copyMessage",
    "sendPoll",
    "sendDice",
}


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


def may_resend(exc: BaseException, endpoint: str) -> bool:
    """The one "may resend" rule, of the rate limiter's retries and of the outbox: when
    Telegram cannot have applied the call (see classify), or when applying it twice changes
    nothing (an edit, a read). A message that may have arrived is never sent again."""
    outcome = classify(exc)
    return outcome == RETRY or (outcome == MAYBE_SENT and endpoint not in NOT_IDEMPOTENT)


# Bot API methods that put a message in a chat (or change one): paced per private chat.
PACED_PREFIXES = ("send", "edit", "copyMessage", "forwardMessage")
CHAT_LIMITERS_KEPT = 10_000  # idle private chats' buckets are dropped beyond this


def call_chat(chat_id: object) -> int | str | None:
    """The chat a Bot API call goes to: its id as a number, '@name' as it is, else None."""
    if not isinstance(chat_id, int | str):
        return None
    try:
        return int(chat_id)
    except ValueError:
        return chat_id


def paced(endpoint: str) -> bool:
    return endpoint.startswith(PACED_PREFIXES) and endpoint != "sendChatAction"


class RetryingRateLimiter(BaseRateLimiter[int]):
    """Telegram's flood limits, kept per chat, plus bounded retries with exponential backoff
    on network errors and 5xx answers.

    - the whole bot: at most `overall_max_rate` messages a second (Telegram: about 30);
    - a group: at most `group_max_rate` a minute (Telegram: 20);
    - a private chat: about `chat_max_rate` messages a second sustained, bursts of
      `chat_burst` allowed (Telegram answers 429 to a faster chat);
    - a 429 (RetryAfter) holds only the chat it came from for `retry_after`, then the call
      is made again (at most `max_retries` times). python-telegram-bot's AIORateLimiter
      stopped every request of the bot instead: 4.2–4.8 s for everyone when one person's
      burst earned a 429. A 429 on a call without a chat still holds everything.
    """

    def __init__(
        self,
        network_retries: int = 4,
        backoff: float = 0.5,
        max_retries: int = 5,
        overall_max_rate: float = 30.0,
        group_max_rate: float = 20.0,
        chat_max_rate: float = 1.0,
        chat_burst: int = 3,
    ):
        self.network_retries = network_retries
        self.backoff = backoff  # seconds before the first retry; then 2×, 4×… at most 8 s
        self.max_retries = max_retries
        self._overall = AsyncLimiter(overall_max_rate, 1) if overall_max_rate else None
        self._group_rate = group_max_rate
        self._chat_rate = chat_max_rate
        self._chat_burst = max(1, chat_burst)
        self._limiters: dict[int | str, AsyncLimiter] = {}
        self._held_until: dict[int | str | None, float] = {}  # after a 429, per chat

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    def _limiter(self, chat: int | str) -> AsyncLimiter | None:
        limiter = self._limiters.get(chat)
        if limiter is not None:
            return limiter
        group = isinstance(chat, str) or chat < 0
        if group and self._group_rate:
            limiter = AsyncLimiter(self._group_rate, 60)
        elif not group and self._chat_rate:
            limiter = AsyncLimiter(self._chat_burst, self._chat_burst / self._chat_rate)
        else:
            return None
        if len(self._limiters) >= CHAT_LIMITERS_KEPT:  # chats whose bucket is full again
            for key, old in list(self._limiters.items()):
                if old.has_capacity(old.max_rate):
                    del self._limiters[key]
        self._limiters[chat] = limiter
        return limiter

    async def _wait_if_held(self, chat: int | str | None) -> None:
        loop = asyncio.get_running_loop()
        for key in (None, chat) if chat is not None else (None,):
            until = self._held_until.get(key)
            while until is not None and (left := until - loop.time()) > 0:
                await asyncio.sleep(left)
                until = self._held_until.get(key)
            if until is not None and until <= loop.time():
                self._held_until.pop(key, None)

    async def _once(
        self,
        callback: Callable[..., Coroutine[Any, Any, ApiResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        chat: int | str | None,
    ) -> ApiResult:
        await self._wait_if_held(chat)
        limiter = self._limiter(chat) if chat is not None and paced(endpoint) else None
        if limiter is not None:
            await limiter.acquire()
        if self._overall is not None and chat is not None and paced(endpoint):
            await self._overall.acquire()
        return await callback(*args, **kwargs)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, ApiResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> ApiResult:
        chat = call_chat(data.get("chat_id"))
        attempt = limited = 0
        while True:
            try:
                return await self._once(callback, args, kwargs, endpoint, chat)
            except RetryAfter as exc:
                if limited >= (rate_limit_args or self.max_retries):
                    log.error("%s: 429 after %d retries", endpoint, limited)
                    raise
                limited += 1
                wait = (
                    exc.retry_after
                    if isinstance(exc.retry_after, int | float)
                    else (exc.retry_after.total_seconds())
                )
                log.info("%s: 429, this chat waits %.1fs", endpoint, wait)
                self._held_until[chat] = asyncio.get_running_loop().time() + wait + 0.1
            except NetworkError as exc:
                if not may_resend(exc, endpoint):
                    if classify(exc) == MAYBE_SENT:  # a second send could be a duplicate
                        log.warning(
                            "%s: %s, not resent (it may have arrived)",
                            endpoint,
                            type(exc).__name__,
                        )
                    raise
                if attempt >= self.network_retries:
                    log.error(
                        "%s failed after %d retries: %s", endpoint, attempt, type(exc).__name__
                    )
                    raise
                delay = Backoff(first=self.backoff, most=8.0, jitter=0.5).delay(attempt)
                log.warning(
                    "%s: %s, retry %d in %.2fs", endpoint, type(exc).__name__, attempt + 1, delay
                )
                attempt += 1
                await asyncio.sleep(delay)
