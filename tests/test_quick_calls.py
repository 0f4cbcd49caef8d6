"""Quick calls (bot/database.py): the calls of each update run on the event loop when the
database is free at once, and on the database thread otherwise. The loop must never wait:
a lock held by another process, a retry's pause or an erasure sends the call to the thread.
Real SQLite files, a real second connection holding the lock."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time

import pytest

from bot.database import CHECKPOINT_EVERY_CHANGES, DatabaseThread
from bot.retrying import MustWait, on_the_loop, retry_sync
from bot.storage import Storage
from bot.turn import TurnRunner
from dialogs.engine import Engine
from dialogs.model import Event, Session
from tests.db_helpers import count


@pytest.fixture
def storage(tmp_path):
    store = Storage(tmp_path / "db.sqlite3")
    yield store
    store.close()


def _where() -> tuple[str, bool]:
    return threading.current_thread().name, on_the_loop()


async def test_a_quick_call_runs_on_the_loop_when_the_database_is_free(storage):
    db = DatabaseThread(storage)
    try:
        assert await db.quick(_where) == (threading.current_thread().name, True)
        assert await db.call(_where) == ("sqlite", False)
        assert on_the_loop() is False  # only inside the call
        assert (db.quick_calls, db.quick_fallbacks) == (1, 0)
    finally:
        db.shutdown()


async def test_without_a_connection_a_quick_call_is_a_thread_call():
    db = DatabaseThread()
    try:
        assert await db.quick(_where) == ("sqlite", False)
    finally:
        db.shutdown()


async def test_a_quick_call_never_overtakes_calls_handed_to_the_thread(storage):
    db = DatabaseThread(storage)
    order: list[str] = []
    release = threading.Event()

    def slow() -> None:
        release.wait(5)
        order.append("slow")

    try:
        first = asyncio.ensure_future(db.call(slow))
        await asyncio.sleep(0.05)  # the thread is working on it
        second = asyncio.ensure_future(db.quick(lambda: order.append("quick") or _where()))
        await asyncio.sleep(0.05)
        assert order == []  # the quick call waits its turn: it did not run on the loop
        release.set()
        await first
        assert await second == ("sqlite", False)
        assert order == ["slow", "quick"]
    finally:
        release.set()
        db.shutdown()


async def test_a_lock_held_elsewhere_sends_the_call_to_the_thread_and_the_loop_goes_on(
    tmp_path,
):
    """Another process holds the write lock: the quick write fails at once on the loop
    (busy timeout 0), is rolled back, and is made again on the thread, which waits for the
    lock; meanwhile the loop keeps running. Nothing is written twice. (A long busy timeout
    for the thread: the lock's release may come late on a loaded machine.)"""
    storage = Storage(tmp_path / "db.sqlite3", timeout=5)
    db = DatabaseThread(storage)
    changes = storage.changes()
    other = sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    threading.Timer(0.15, lambda: other.execute("ROLLBACK")).start()
    ticks = 0

    async def ticking() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    ticker = asyncio.ensure_future(ticking())
    try:
        started = time.monotonic()
        await db.quick(storage.inbox_add, [(1, "{}")])
        waited = time.monotonic() - started
        assert waited >= 0.1  # it waited for the lock…
        assert ticks >= 5  # …on the thread: the loop went on meanwhile
        assert db.quick_fallbacks == 1
        assert storage.inbox_pending() == [(1, "{}")]
        assert storage.changes() - changes == 1  # one row written, once
        assert not storage.db.in_transaction
    finally:
        ticker.cancel()
        other.close()
        db.shutdown()
        storage.close()


def test_retry_sync_raises_must_wait_instead_of_sleeping_on_the_loop():
    from bot.retrying import set_on_the_loop

    tries = []

    def locked() -> None:
        tries.append(1)
        raise sqlite3.OperationalError("database is locked")

    set_on_the_loop(True)
    try:
        started = time.monotonic()
        with pytest.raises(MustWait):
            retry_sync(locked, (1.0, 1.0), lambda exc: True)
        assert time.monotonic() - started < 0.5 and tries == [1]
    finally:
        set_on_the_loop(False)
    with pytest.raises(sqlite3.OperationalError):  # on a thread: the pauses as before
        retry_sync(locked, (0.01,), lambda exc: True)
    assert len(tries) == 3


async def test_a_turn_meeting_a_lock_is_made_again_on_the_thread_and_saved(knowledge, tmp_path):
    storage = Storage(tmp_path / "db.sqlite3", timeout=5)
    db = DatabaseThread(storage)
    runner = TurnRunner(Engine(knowledge), storage)
    other = sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    threading.Timer(0.1, lambda: other.execute("ROLLBACK")).start()
    try:
        result = await db.quick(runner.run, "tg:5", Event("start"), 7)
        assert result.saved and db.quick_fallbacks == 1
        assert storage.load("tg:5").state == result.session.state
    finally:
        other.close()
        db.shutdown()
        storage.close()


async def test_an_erasure_is_never_made_on_the_loop(knowledge, storage):
    """/oubli empties the write-ahead log (a checkpoint with a disk flush): the turn that
    erases goes to the thread before anything is written, and the erasure is complete."""
    db = DatabaseThread(storage)
    runner = TurnRunner(Engine(knowledge), storage)
    erased_on: list[bool] = []
    erase = storage.erase

    def watched_erase(*args, **kwargs):
        erased_on.append(on_the_loop())
        return erase(*args, **kwargs)

    storage.erase = watched_erase  # type: ignore[method-assign]
    try:
        await db.quick(runner.run, "tg:6", Event("start"), 1)
        await db.quick(runner.run, "tg:6", Event("text", "/oubli"), 2)
        assert storage.load("tg:6").state == "forget_confirm"
        assert db.quick_fallbacks == 0  # so far, all on the loop
        result = await db.quick(runner.run, "tg:6", Event("choice", "forget_yes"), 3)
        assert result.erased and result.saved
        assert "effacées" in " ".join(r.text for r in result.replies)
        assert erased_on == [False]  # made once, on the thread
        assert db.quick_fallbacks == 1
        assert count(storage, "sessions") == 0
    finally:
        db.shutdown()


@pytest.mark.parametrize("through", ["quick", "call"])
async def test_the_write_ahead_log_is_checkpointed_on_the_thread(storage, through):
    """SQLite's automatic checkpoint is off (it would run in a quick call's commit);
    after enough changes, made on the loop or on the thread, a passive checkpoint runs on
    the thread."""
    db = DatabaseThread(storage)
    seen: list[str] = []
    checkpoint = storage.checkpoint_passive

    def watched() -> None:
        seen.append(threading.current_thread().name)
        checkpoint()

    storage.checkpoint_passive = watched  # type: ignore[method-assign]
    try:
        assert storage.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
        run = db.quick if through == "quick" else db.call
        for n in range(CHECKPOINT_EVERY_CHANGES + 10):
            await run(storage.inbox_add, [(n, "{}")])
        await db.call(lambda: None)  # after the checkpoint queued on the thread
        assert seen and set(seen) == {"sqlite"}
    finally:
        db.shutdown()


def _log_header(storage: Storage) -> bytes:
    """The write-ahead log's header: its salts change when the log starts again."""
    with open(f"{storage.path}-wal", "rb") as wal:
        return wal.read(32)


async def test_the_log_starts_again_on_the_thread_not_in_the_next_quick_write(storage):
    """After a checkpoint that copied the whole log, the next write starts the log again
    and flushes its new header to disk: that write is made on the thread, right after the
    checkpoint, so the quick write that follows leaves the header as it is."""
    db = DatabaseThread(storage)
    try:
        for n in range(20):
            await db.quick(storage.inbox_add, [(n, "{}")])
        await db.call(storage.checkpoint_passive)  # as the thread does every 500 rows
        header = _log_header(storage)
        await db.quick(storage.inbox_add, [(10_000, "{}")])
        assert db.quick_fallbacks == 0
        assert _log_header(storage) == header
    finally:
        db.shutdown()


def test_must_wait_passes_through_the_engines_catch_all(knowledge, monkeypatch):
    """A directory lookup in a turn on the loop raises MustWait; the engine, which turns
    any error into a kind "Oups", lets it through so the turn is made on the thread."""
    engine = Engine(knowledge)

    def needs_the_thread(*args, **kwargs):
        raise MustWait

    monkeypatch.setattr(engine.flow, "arrive", needs_the_thread)

    with pytest.raises(MustWait):
        engine.handle(Session("tg:1"), Event("start"))


def test_a_directory_to_reopen_is_reopened_on_the_thread(tmp_path):
    from bot.directory_watch import WatchedDirectory
    from bot.retrying import set_on_the_loop

    now = [0.0]
    watched = WatchedDirectory(tmp_path / "directory.sqlite3", clock=lambda: now[0])
    (tmp_path / "directory.sqlite3").write_bytes(b"not a database")  # it changed
    now[0] += 10
    set_on_the_loop(True)
    try:
        with pytest.raises(MustWait):
            watched.current()
    finally:
        set_on_the_loop(False)
    from knowledge.opendata import DirectoryUnavailable

    with pytest.raises(DirectoryUnavailable):  # on the thread: opened (and found broken)
        watched.current()


async def test_the_thread_lives_on_after_the_storage_is_closed(tmp_path):
    """The bot closes its storage on the thread at shutdown; the checkpoint check made
    after each call must not kill the thread then (the shutdown would wait forever)."""
    storage = Storage(tmp_path / "db.sqlite3")
    db = DatabaseThread(storage)
    try:
        for n in range(CHECKPOINT_EVERY_CHANGES + 10):
            await db.quick(storage.inbox_add, [(n, "{}")])
        await db.call(storage.close)
        assert await asyncio.wait_for(db.call(lambda: 42), 5) == 42
    finally:
        db.shutdown()


async def test_one_pass_of_the_loop_spends_a_bounded_time_in_quick_calls(storage):
    """Fifty people pressing a button at once: their turns are ready in the same pass of
    the loop. Past QUICK_BUDGET_SECONDS in that pass, the next ones go to the thread, and
    the loop comes round (timers, sockets) in between; the budget is whole again after."""
    from bot.database import QUICK_BUDGET_SECONDS

    db = DatabaseThread(storage)

    def two_milliseconds() -> tuple[str, bool]:
        end = time.perf_counter() + 0.002
        while time.perf_counter() < end:
            pass
        return _where()

    try:
        where = await asyncio.gather(*(db.quick(two_milliseconds) for _ in range(20)))
        on_loop = sum(1 for _, quick in where if quick)
        assert 1 <= on_loop <= QUICK_BUDGET_SECONDS / 0.002 + 1
        assert where.count(("sqlite", False)) == 20 - on_loop
        await asyncio.sleep(0)  # the next pass
        assert (await db.quick(_where))[1] is True
    finally:
        db.shutdown()


def test_an_erasure_stands_when_the_log_cannot_be_started_again(storage, monkeypatch):
    """Starting the log again after the erasure's checkpoint only spares the next writer a
    disk flush: its failure (a full disk) must not report the erasure as not saved."""
    storage.save(Session("tg:8"))

    def full_disk() -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(storage, "_restart_log", full_disk)
    storage.erase("tg:8")  # no error
    assert count(storage, "sessions") == 0
