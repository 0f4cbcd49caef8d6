"""One thread for every SQLite call of the running Telegram bot.

Why: a write may wait for a lock (another process, a backup, a checkpoint) or a slow
disk. On the event loop that wait stopped every conversation at once (measured: a 12 s
lock stalled 9 of 10 people, sends and receives included). On this thread it delays only
the turns that need the database; the loop keeps receiving, sending and answering buttons.

One thread, not a pool: the bot has one connection, SQLite has one writer anyway, and
calls keep the order in which they were made. The console channel has no event loop and
calls the storage directly.

Why not `loop.run_in_executor` with a one-thread ThreadPoolExecutor (what this was): every
call made a concurrent Future, a work item, two lock acquisitions and an asyncio Future
chained to it, and every result woke the event loop on its own. The bot makes two to
three calls per update (the inbox write of a batch, the turn, the inbox deletion):
measured under the load benchmark, the executor's `submit` alone was 6 % of the bot's
time holding the GIL. Here a call is one tuple in a queue, and the results finished
while the loop is busy reach it together, with one wake-up.
"""

from __future__ import annotations

import asyncio
import functools
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_Call = tuple[Callable[[], Any], asyncio.Future[Any], asyncio.AbstractEventLoop]
_Result = tuple[asyncio.Future[Any], Any, BaseException | None]


class DatabaseThread:
    def __init__(self) -> None:
        self._calls: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        # Results not yet handed to their loop; a loop in here has a hand-over scheduled.
        self._finished: dict[asyncio.AbstractEventLoop, list[_Result]] = {}
        self._closed = False
        # A daemon thread: a process that exits without shutdown() is not kept alive by an
        # idle database thread (a transaction cut short by the exit is rolled back).
        self._thread = threading.Thread(target=self._work, name="sqlite", daemon=True)
        self._thread.start()

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`fn(*args, **kwargs)` on the database thread; the caller's task waits, the
        event loop does not. A call whose caller was cancelled before the thread reached
        it is skipped (as an executor's would be)."""
        if self._closed:
            raise RuntimeError("the database thread is shut down")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._calls.put((functools.partial(fn, *args, **kwargs), future, loop))
        return await future

    def shutdown(self) -> None:
        """Wait for the calls already made, then stop the thread."""
        if not self._closed:
            self._closed = True
            self._calls.put(None)
        if threading.current_thread() is not self._thread:
            self._thread.join()

    def _work(self) -> None:
        while True:
            call = self._calls.get()
            if call is None:
                return
            fn, future, loop = call
            if future.cancelled():  # the caller is gone: nothing waits for this
                continue
            try:
                result: _Result = (future, fn(), None)
            except BaseException as exc:  # handed to the caller, like an executor does
                result = (future, None, exc)
            self._hand_over(loop, result)

    def _hand_over(self, loop: asyncio.AbstractEventLoop, result: _Result) -> None:
        """Queue a result for its loop; wake the loop only if no hand-over is pending."""
        with self._lock:
            pending = self._finished.get(loop)
            if pending is not None:
                pending.append(result)
                return
            self._finished[loop] = [result]
        try:
            loop.call_soon_threadsafe(self._deliver, loop)
        except RuntimeError:  # the loop is closed: nobody waits for the result any more
            with self._lock:
                self._finished.pop(loop, None)

    def _deliver(self, loop: asyncio.AbstractEventLoop) -> None:
        """On the loop: every result finished since the last hand-over, in call order."""
        with self._lock:
            results = self._finished.pop(loop, [])
        for future, value, error in results:
            if future.cancelled():
                continue
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(value)


async def inline(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """The same interface without a thread, for callers that have no loop to protect
    (tests of one component, command-line tools)."""
    return fn(*args, **kwargs)
