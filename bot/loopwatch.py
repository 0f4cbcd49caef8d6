"""How long the event loop was kept from running: the stall every person feels at once.

A task sleeps a short interval and measures how late it wakes up. The lateness is the time
some callback held the loop (or the GIL: a garbage collection, a synthesis in a thread, a
big JSON parse). One WARNING line when a stall passes `warn_ms`, at most once a minute;
the longest stall is logged at INFO when the bot stops (the benchmarks read it there).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time

from bot.tasks import cancel

log = logging.getLogger(__name__)

INTERVAL = 0.02
WARN_MS = 250.0
WARN_EVERY_SECONDS = 60.0


def freeze_startup_objects() -> None:
    """Move every object alive after start-up (the content, the 2.8 MB commune index, the
    FAQ model…) out of the garbage collector's generations: a full collection then looks
    at the objects of the running bot only (measured: 65–75 ms per collection before,
    2–5 ms after). They are never freed anyway. The collector runs again from here (the
    command line pauses it during start-up). No collection first: it freed some 1,700
    objects of start-up garbage for 60–230 ms of a start, while people may be waiting."""
    gc.freeze()
    gc.enable()


class LoopWatch:
    def __init__(self, interval: float = INTERVAL, warn_ms: float = WARN_MS):
        self.interval = interval
        self.warn_ms = warn_ms
        self.longest_ms = 0.0
        self._last_warning = -WARN_EVERY_SECONDS
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            await cancel(self._task)
        log.info("longest event-loop stall: %.1f ms", self.longest_ms)

    async def _run(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(self.interval)
            late_ms = (time.perf_counter() - before - self.interval) * 1000
            if late_ms > self.longest_ms:
                self.longest_ms = late_ms
            if late_ms >= self.warn_ms:
                now = time.monotonic()
                if now - self._last_warning >= WARN_EVERY_SECONDS:
                    self._last_warning = now
                    log.warning("event loop stalled %.0f ms", late_ms)
