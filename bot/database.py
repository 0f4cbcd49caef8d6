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

Quick calls (`quick`): the few calls every update makes (the inbox write, the turn, the
inbox deletion) run on the event loop itself when the database is free at that moment,
and on the thread otherwise. Handing a call to the thread and back cost more than the call:
under the load benchmark (200 updates/s), all calls on the loop made an update 15 % cheaper
in CPU (3.92 → 3.33 ms). What the thread is for stays true: a quick call never waits on
the loop. It runs only when the thread has nothing queued and is not working, with
SQLite's busy timeout at 0; a lock held by another process (or a pause before a retry,
bot/retrying.py) raises at once, the call's transaction is rolled back, and the call is
made again on the thread, which waits as before. The write-ahead log is copied back into
the database (a checkpoint, with a disk flush) on the thread too, and the log is started
again there (the first write after a full checkpoint flushes the log's new header), not in
a quick call's commit. (Another process that checkpoints the whole log, a console or a
tool, can still leave that first write to the bot's next call: rare, one flush.) Heavy
calls (the purge, an erasure, statistics) always go to the thread.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from bot.retrying import MustWait, set_on_the_loop

T = TypeVar("T")
log = logging.getLogger(__name__)

# Time a loop pass may spend in quick calls: past it, the next ones go to the thread until
# the loop has come round (its timers and sockets served). Fifty people pressing a button
# at once made one pass run fifty turns back to back: the loop stopped 44-109 ms.
QUICK_BUDGET_SECONDS = 0.008

# Rows changed between two checkpoints of the write-ahead log (made on the thread). SQLite's
# own automatic checkpoint (at about 1,000 pages) is turned off: it would run inside
# whichever commit crossed the line, a quick call's on the event loop included.
CHECKPOINT_EVERY_CHANGES = 500


class QuickConnection(Protocol):
    """What quick calls need from the storage (bot.storage.Storage): SQL stays there."""

    def checkpoints_by_hand(self) -> None:
        """No automatic checkpoint in a commit: `checkpoint_passive` is called instead."""

    def wait_for_locks(self, wait: bool) -> None:
        """Busy timeout on (the thread) or at 0 (a quick call on the loop)."""

    def changes(self) -> int:
        """Rows changed since the connection opened."""

    def checkpoint_passive(self) -> None:
        """Copy the write-ahead log into the database, without waiting for anyone; when
        all of it was copied, start it again from its beginning (a write that flushes its
        header to disk, made here rather than in the next quick call)."""

    def rollback(self) -> None:
        """End a transaction left open by a call that raised."""


_Call = tuple[Callable[[], Any], asyncio.Future[Any], asyncio.AbstractEventLoop]
_Result = tuple[asyncio.Future[Any], Any, BaseException | None]


def _is_busy(exc: sqlite3.Error) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


class DatabaseThread:
    def __init__(self, connection: QuickConnection | None = None) -> None:
        """`connection`: the storage whose calls may be quick; without it, `quick` is
        `call`."""
        self._calls: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._connection = connection
        # Held by whoever uses the connection: the thread for each call, the loop for a
        # quick one (taken without waiting, or not at all).
        self._owner = threading.Lock()
        self._queued = 0  # calls handed to the thread and not finished (under _lock)
        self._checkpointed = 0  # connection.changes() at the last checkpoint
        self._checkpoint_queued = False
        self._spent = 0.0  # seconds of quick calls in this pass of the loop
        self._budget_reset_scheduled = False
        self.quick_calls = 0  # made on the loop (for the benchmarks and tests)
        self.quick_fallbacks = 0  # tried on the loop, then made on the thread
        if connection is not None:
            connection.checkpoints_by_hand()
            self._checkpointed = connection.changes()
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
        with self._lock:
            self._queued += 1
        self._calls.put((functools.partial(fn, *args, **kwargs), future, loop))
        return await future

    async def quick(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`fn(*args, **kwargs)` on the event loop when the database is free at once
        (nothing queued for the thread, the thread not working), else on the thread as
        `call` does. `fn` must be short and must not wait: a lock raises (busy timeout 0),
        and so does a retry's pause (MustWait, bot/retrying.py); then its transaction is
        rolled back and it is made again on the thread, from the start."""
        connection = self._connection
        if connection is None or self._closed:
            return await self.call(fn, *args, **kwargs)
        if (
            not self._queued
            and self._spent < QUICK_BUDGET_SECONDS
            and self._owner.acquire(blocking=False)
        ):
            started = time.perf_counter()
            try:
                if not self._queued:  # nothing was handed over meanwhile
                    done, value = self._quick(connection, fn, args, kwargs)
                    if done:
                        return value
            finally:
                self._owner.release()
                self._spend(time.perf_counter() - started)
        return await self.call(fn, *args, **kwargs)

    def _spend(self, seconds: float) -> None:
        """Count a quick call against this pass's budget; the budget is whole again at the
        next pass (a callback scheduled now runs in the next pass, once the loop has
        polled its sockets; the callbacks of that poll and the due timers run in that pass
        too, before the calls that went to the thread come back)."""
        self._spent += seconds
        if not self._budget_reset_scheduled:
            self._budget_reset_scheduled = True
            asyncio.get_running_loop().call_soon(self._reset_budget)

    def _reset_budget(self) -> None:
        self._spent = 0.0
        self._budget_reset_scheduled = False

    def _quick(
        self, connection: QuickConnection, fn: Callable[..., Any], args: Any, kwargs: Any
    ) -> tuple[bool, Any]:
        """(True, result) or (False, None) when the call must go to the thread. Under
        `_owner`."""
        connection.wait_for_locks(False)
        set_on_the_loop(True)
        try:
            value = fn(*args, **kwargs)
        except MustWait:
            connection.rollback()
            self.quick_fallbacks += 1
            return False, None
        except sqlite3.OperationalError as exc:
            connection.rollback()
            if not _is_busy(exc):
                raise
            self.quick_fallbacks += 1
            return False, None
        except BaseException:
            connection.rollback()  # whatever it was, no transaction is left open
            raise
        finally:
            set_on_the_loop(False)
        self.quick_calls += 1
        if self._checkpoint_due(connection) and not self._checkpoint_queued:
            # A call on the thread that does only this: the thread checkpoints after each
            # call when it is due (_work).
            self._checkpoint_queued = True
            loop = asyncio.get_running_loop()
            future: asyncio.Future[None] = loop.create_future()
            with self._lock:
                self._queued += 1
            self._calls.put((self._checkpoint_reached, future, loop))
        return True, value

    def _checkpoint_due(self, connection: QuickConnection) -> bool:
        return connection.changes() - self._checkpointed >= CHECKPOINT_EVERY_CHANGES

    def _checkpoint_reached(self) -> None:
        """The call queued by a quick call for a checkpoint: the thread makes it next
        (_checkpoint_if_due, after each call)."""
        self._checkpoint_queued = False

    def _checkpoint_if_due(self) -> None:
        """On the thread, under `_owner`, after each call: the write-ahead log is copied
        into the database every CHECKPOINT_EVERY_CHANGES rows written, by quick calls or
        on the thread (so it stays short whoever writes). Never raises: the thread must
        live on (the connection may be closed: the bot is stopping)."""
        connection = self._connection
        if connection is None:
            return
        try:
            if not self._checkpoint_due(connection):
                return
            self._checkpointed = connection.changes()
            connection.checkpoint_passive()
        except sqlite3.ProgrammingError:  # closed: nothing more to copy
            return
        except Exception as exc:
            log.warning("checkpoint failed: %s", type(exc).__name__)

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
            try:
                if future.cancelled():  # the caller is gone: nothing waits for this
                    continue
                with self._owner:
                    try:
                        if self._connection is not None:
                            self._connection.wait_for_locks(True)
                        result: _Result = (future, fn(), None)
                    except BaseException as exc:  # handed to the caller, as an executor does
                        result = (future, None, exc)
                    self._checkpoint_if_due()
            finally:
                with self._lock:
                    self._queued -= 1
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
