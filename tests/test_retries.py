"""The one retry helper (bot/retrying.py): its pauses and when it gives up; the one
"may resend" rule (bot/transport/retries.py)."""

from __future__ import annotations

import sqlite3

import pytest
from telegram.error import BadRequest, NetworkError, TimedOut

from bot.retrying import Backoff, retry_async, retry_sync
from bot.transport.retries import may_resend


def test_backoff_grows_to_its_ceiling_and_jitter_stays_within_bounds():
    assert Backoff(first=1.0, most=30.0).pauses(7) == [1, 2, 4, 8, 16, 30, 30]
    assert Backoff(first=1.0, most=30.0).delay(10_000) == 30  # days of failures: no overflow
    spread = [Backoff(first=2.0, jitter=0.5).delay(0) for _ in range(200)]
    assert all(1.0 <= p <= 3.0 for p in spread)
    assert max(spread) - min(spread) > 0.5  # callers failing together come back apart


def test_retry_sync_retries_only_what_is_worth_it(monkeypatch):
    monkeypatch.setattr("time.sleep", lambda s: None)
    calls, reports = [], []

    def locked_twice():
        calls.append(1)
        if len(calls) < 3:
            raise sqlite3.OperationalError("database is locked")
        return "saved"

    busy = lambda exc: "locked" in str(exc)  # noqa: E731
    assert retry_sync(locked_twice, (0.1, 0.3), busy, lambda e, n, p: reports.append((n, p))) == (
        "saved"
    )
    assert reports == [(1, 0.1), (2, 0.3)]

    calls.clear()
    with pytest.raises(sqlite3.OperationalError):  # no pause left: the last error
        retry_sync(locked_twice, (0.1,), busy)
    assert len(calls) == 2

    def full():
        calls.append(1)
        raise sqlite3.OperationalError("database or disk is full")

    calls.clear()
    with pytest.raises(sqlite3.OperationalError, match="full"):  # not worth a retry
        retry_sync(full, (0.1, 0.3), busy)
    assert len(calls) == 1


async def test_retry_async_returns_the_first_success():
    tries = []

    async def flaky():
        tries.append(1)
        if len(tries) == 1:
            raise ConnectionError
        return 42

    assert await retry_async(flaky, [0.0], lambda e: isinstance(e, ConnectionError)) == 42
    assert len(tries) == 2


def test_a_message_that_may_have_arrived_is_never_resent_an_edit_may_be():
    assert may_resend(NetworkError("Bad Gateway (502)"), "sendMessage")
    assert not may_resend(TimedOut(), "sendMessage")
    assert may_resend(TimedOut(), "editMessageText")
    assert not may_resend(BadRequest("Chat not found"), "editMessageText")
