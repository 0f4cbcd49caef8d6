"""Background tasks of the running bot (the outbox worker, the loop watch, the purge, the
replay of the inbox…): stopped one way."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


async def cancel(task: asyncio.Task[Any]) -> None:
    """Cancel a task and wait until it has stopped (its CancelledError is not raised)."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
