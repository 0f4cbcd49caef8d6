"""Concurrent across chats, sequential within one chat, fair between chats."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine
from typing import Any

from telegram.ext import BaseUpdateProcessor

from bot.transport.inbox import chat_of


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Concurrent across chats, sequential within one chat, fair between chats.

    python-telegram-bot's `concurrent_updates` alone may reorder one chat's updates; a
    per-chat lock (FIFO in asyncio) keeps "1 then 2" in that order while other chats run.
    The lock is taken *before* a concurrency slot: a chat holds at most one slot, so one
    person's burst (a forwarded album, a backlog) cannot keep everybody else waiting.
    """

    def __init__(self, max_concurrent_updates: int):
        super().__init__(max_concurrent_updates)
        self._slots = asyncio.BoundedSemaphore(max_concurrent_updates)
        self._locks: dict[object, asyncio.Lock] = {}
        self._waiting: dict[object, int] = {}
        self._starting = True

    def stop_starting(self) -> None:
        """At a stop whose grace is over: the updates still waiting for their turn are not
        handled now. They stay in the inbox and are replayed, in order, at the next start
        (python-telegram-bot would otherwise handle every one of them before stopping)."""
        self._starting = False

    # Final in python-telegram-bot, overridden on purpose: its version takes a concurrency
    # slot before the chat's lock, so one chat's burst could hold every slot.
    async def process_update(  # type: ignore[misc]
        self, update: object, coroutine: Awaitable[Any]
    ) -> None:
        await self.do_process_update(update, coroutine)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = chat_of(update)
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock, self._slots:
                if not self._starting:
                    if isinstance(coroutine, Coroutine):
                        coroutine.close()  # never started: nothing to undo
                    return
                await coroutine
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:
                del self._waiting[key]
                del self._locks[key]

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


def stop_starting(app: Any) -> None:
    """What the grace period did not reach waits in the inbox for the next start."""
    processor = app.update_processor
    if isinstance(processor, ChatOrderedProcessor):
        processor.stop_starting()
