"""One thread for every SQLite call of the running Telegram bot.

Why: a write may wait for a lock (another process, a backup, a checkpoint) or a slow
disk. On the event loop that wait stopped every conversation at once (measured: a 12 s
lock stalled 9 of 10 people, sends and receives included). On this thread it delays only
the turns that need the database; the loop keeps receiving, sending and answering buttons.

One thread, not a pool: the bot has one connection, SQLite has one writer anyway, and
calls keep the order in which they were made. The console channel has no event loop and
calls the storage directly.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class DatabaseThread:
    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`fn(*args, **kwargs)` on the database thread; the caller's task waits, the
        event loop does not."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    def shutdown(self) -> None:
        """Wait for the calls already made, then stop the thread."""
        self._executor.shutdown(wait=True)


async def inline(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """The same interface without a thread, for callers that have no loop to protect
    (tests of one component, command-line tools)."""
    return fn(*args, **kwargs)
