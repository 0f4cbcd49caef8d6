"""Fairness: another person's first reply while one person has 1,000 updates queued
(a forwarded album, a backlog). Target: within 2 × the API latency + 100 ms.

    python -m bench.fairness
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from knowledge.loader import load
from tests.fake_bot_api import FakeBotApi
from tests.telegram_helpers import running_bot

RESULTS = Path(__file__).parent / "results"


async def measure(latency: float = 0.05, burst: int = 1000, others: int = 5) -> dict:
    api = FakeBotApi(latency=latency).start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            async with running_bot(api, load(), Path(tmp) / "db.sqlite3"):
                for _ in range(burst):
                    api.push_text(5000, "/aide")
                await asyncio.sleep(1.0)
                waits = []
                for i in range(others):
                    started = time.monotonic()
                    api.push_text(6000 + i, "/start")
                    await api.wait_async(lambda i=i: len(api.sent(6000 + i)) >= 1, 30)
                    waits.append((time.monotonic() - started) * 1000)
                    await asyncio.sleep(0.2)
    finally:
        api.stop()
    target = 2 * latency * 1000 + 100
    return {
        "api_latency_ms": latency * 1000,
        "burst_updates": burst,
        "other_first_reply_ms_median": round(statistics.median(waits)),
        "other_first_reply_ms_max": round(max(waits)),
        "target_ms": target,
        "met": max(waits) <= target,
    }


def main() -> dict:
    result = asyncio.run(measure())
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "fairness.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
