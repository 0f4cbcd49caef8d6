"""The project's one retry helper: `Backoff` (the pauses between tries, like aiogram's
Backoff) and `retry_async` / `retry_sync` (a call tried again after each pause while its
error is one worth retrying). Every retry loop of bot/ uses them: the Bot API calls (the
rate limiter, bot/transport/retries.py), the outbox's next try, getUpdates, the inbox's and
the turn's writes while the database is locked, the write-ahead log's checkpoint and the
open-data download. No dependency: storage and the command line use it too.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Backoff:
    """Pauses that grow: `first`, then `factor` times longer at each try, at most `most`,
    each spread by ±`jitter` (0.5: between half and one and a half times) so that callers
    failing together do not all come back at the same moment."""

    first: float
    most: float = float("inf")
    factor: float = 2.0
    jitter: float = 0.0

    def delay(self, attempt: int) -> float:
        """The pause after failed try number `attempt` (0 for the first failure)."""
        pause = min(self.first * self.factor ** min(attempt, 64), self.most)
        if self.jitter:
            pause *= 1 - self.jitter + 2 * self.jitter * random.random()
        return pause

    def pauses(self, retries: int) -> list[float]:
        """The pauses of `retries` retries, in order."""
        return [self.delay(attempt) for attempt in range(retries)]


_quick = threading.local()


class MustWait(BaseException):
    """Raised inside a quick call (bot/database.py, `DatabaseThread.quick`) where waiting
    would be needed (a lock held elsewhere, a pause before a retry, a file to open): that
    call runs on the event loop, which must never wait, so it is made again on the
    database thread. A BaseException, like asyncio.CancelledError: it is a way out, not an
    error, and must pass through the engine's catch-all (a directory lookup in a turn
    raises it)."""


def on_the_loop() -> bool:
    """True inside a quick call running on the event loop: it must not sleep or wait for a
    lock, and raises MustWait instead."""
    return getattr(_quick, "active", False)


def set_on_the_loop(active: bool) -> None:
    """Set by `DatabaseThread.quick` around the call it runs on the event loop."""
    _quick.active = active


def _no_report(exc: Exception, retry: int, pause: float) -> None:
    pass


class _Tries:
    """What `retry_async` and `retry_sync` do after a failed try."""

    def __init__(
        self,
        pauses: Iterable[float],
        retriable: Callable[[Exception], bool],
        report: Callable[[Exception, int, float], None],
    ):
        self.left = iter(pauses)
        self.retriable = retriable
        self.report = report
        self.retries = 0

    def pause_after(self, exc: Exception) -> float:
        """The pause before the next try; `exc` raised again when it is not worth
        retrying or no try is left."""
        pause = next(self.left, None) if self.retriable(exc) else None
        if pause is None:
            raise exc
        self.retries += 1
        self.report(exc, self.retries, pause)
        return pause


async def retry_async(
    call: Callable[[], Awaitable[T]],
    pauses: Iterable[float],
    retriable: Callable[[Exception], bool],
    report: Callable[[Exception, int, float], None] = _no_report,
) -> T:
    """`await call()`, tried again after each of `pauses` while it raises an error that
    `retriable` accepts; then that error (or the first one not worth retrying) is raised.
    `report(error, retry number from 1, pause)` before each pause (a log line)."""
    tries = _Tries(pauses, retriable, report)
    while True:
        try:
            return await call()
        except Exception as exc:
            await asyncio.sleep(tries.pause_after(exc))  # the loop goes on meanwhile


def retry_sync(
    call: Callable[[], T],
    pauses: Iterable[float],
    retriable: Callable[[Exception], bool],
    report: Callable[[Exception, int, float], None] = _no_report,
) -> T:
    """`retry_async` for a thread that may block (the database thread, a command). In a
    quick call on the event loop (`on_the_loop`), an error worth retrying raises MustWait
    instead of a pause: the call is made again on the database thread."""
    tries = _Tries(pauses, retriable, report)
    while True:
        try:
            return call()
        except Exception as exc:
            if on_the_loop() and retriable(exc):
                raise MustWait from exc
            time.sleep(tries.pause_after(exc))
