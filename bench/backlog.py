"""Backlog without blindness: the bot starts with 10,000 updates of 2,000 people left in
its inbox (a stop during a rush). How long until it polls, and until a new person's
/start is answered? Target: answered within 2 s of the start. API latency 50 ms.

    python -m bench.backlog [--updates N]
"""

from __future__ import annotations

import argparse
import itertools
import json
import tempfile
import time
from pathlib import Path

from bench.load import run_bot, stop_bot
from bot.storage import Storage
from tests.fake_bot_api import FakeBotApi

RESULTS = Path(__file__).parent / "results"
TEXTS = ("/start", "/aide", "/menu", "c'est payant ?", "/privacy")


def measure(updates: int = 10_000, people: int = 2_000, latency: float = 0.05) -> dict:
    api = FakeBotApi(latency=latency, record=False).start()
    api._update_ids = itertools.count(updates + 1)
    answered: dict[int, float] = {}
    new_person = 9_000_000

    def on_call(call) -> None:
        if call.chat_id == new_person and call.method == "sendMessage":
            answered.setdefault(new_person, time.perf_counter())

    api.on_call = on_call
    try:
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "backlog.sqlite3"
            store = Storage(db)
            store.inbox_add(
                (
                    i,
                    json.dumps(
                        {
                            "update_id": i,
                            "message": api.message(
                                8_000_000 + i % people, TEXTS[(i // people) % len(TEXTS)]
                            ),
                        }
                    ),
                )
                for i in range(1, updates + 1)
            )
            store.close()
            started = time.perf_counter()
            proc, first_poll = run_bot("ours", api, db, 32)
            api.push_text(new_person, "/start")
            try:
                deadline = time.monotonic() + 120
                while new_person not in answered and time.monotonic() < deadline:
                    time.sleep(0.01)
            finally:
                stop_bot(proc)
            left = Storage(db)
            remaining = len(left.inbox_pending())
            left.close()
    finally:
        api.stop()
    reply = answered.get(new_person)
    return {
        "updates_in_inbox": updates,
        "people": people,
        "api_latency_ms": latency * 1000,
        "first_getupdates_s": round(first_poll, 2),
        "new_person_answered_s": round(reply - started, 2) if reply else None,
        "backlog_left_when_answered_and_stopped": remaining,
        "target_s": 2.0,
    }


def main() -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--updates", type=int, default=10_000)
    args = parser.parse_args()
    result = measure(args.updates)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "backlog.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
