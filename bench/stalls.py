"""Stalls: how long one thing keeps the event loop (and so everybody) waiting.

Each figure is measured before and after the change that removed the stall, in this
process, on the real parts:
- a full garbage collection with the start-up data loaded, without and with gc.freeze();
- the purge of 100k expired sessions: one transaction (before) and the longest of the short
  batches the running bot now makes (the database thread is held that long);
- loop lag while 4 people get a voice note of a new screen at once: synthesis in threads
  (before) and in the voice process (now);
- storing an update in the inbox: to_dict + dumps of the parsed Update, or dumps of the
  JSON received.

    python -m bench.stalls [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sqlite3
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def gc_stall() -> dict:
    from bot.app import build_engine
    from bot.config import Config

    config = Config.from_env()
    build_engine(config)
    garbage = [{"n": i, "l": [i]} for i in range(20_000)]  # a running bot's own objects
    timings = []
    for _ in range(3):
        t = time.perf_counter()
        gc.collect()
        timings.append((time.perf_counter() - t) * 1000)
    before = min(timings)
    tracked_before = len(gc.get_objects())
    del garbage
    gc.freeze()
    garbage = [{"n": i, "l": [i]} for i in range(20_000)]
    timings = []
    for _ in range(3):
        t = time.perf_counter()
        gc.collect()
        timings.append((time.perf_counter() - t) * 1000)
    gc.unfreeze()
    del garbage
    return {"full_collection_ms_before": round(before, 1),
            "full_collection_ms_after_freeze": round(min(timings), 1),
            "tracked_objects": tracked_before}


def purge_stall(sessions: int) -> dict:
    from bench.load import populate
    from bot.storage import Storage

    out: dict[str, float] = {"sessions": sessions}
    with tempfile.TemporaryDirectory() as tmp:
        for name, limit in (("one_transaction_ms", 10**9), ("longest_batch_ms", None)):
            db = Path(tmp) / f"{name}.sqlite3"
            populate(db, sessions)
            con = sqlite3.connect(db)  # every session expired
            con.execute("UPDATE sessions SET updated = updated - 200 * 86400")
            con.commit()
            con.close()
            store = Storage(db)
            longest, total = 0.0, 0.0
            while True:
                t = time.perf_counter()
                n, rows = (store.purge_batch(90, limit=limit) if limit
                           else store.purge_batch(90))
                spent = (time.perf_counter() - t) * 1000
                longest, total = max(longest, spent), total + spent
                if not rows:
                    break
            store.close()
            out[name] = round(longest, 1)
            out[name.replace("_ms", "_total_ms")] = round(total, 1)
    return out


async def _lag_during(work) -> float:
    from bot.loopwatch import LoopWatch

    watch = LoopWatch(interval=0.005)
    watch.start()
    await asyncio.sleep(0.05)
    await work()
    await watch.stop()
    return watch.longest_ms


def voice_stall(listeners: int = 4) -> dict:
    from bot.voice import VoiceService, synthesise

    texts = [f"Écran numéro {i}. Cléa est un certificat. Il montre que vous maîtrisez les "
             f"bases utiles au travail, dans tous les métiers." for i in range(listeners)]

    async def threads() -> None:
        await asyncio.gather(*(asyncio.to_thread(synthesise, t) for t in texts))

    synthesise("échauffement")  # libraries imported in this process too
    before = asyncio.run(_lag_during(threads))
    with tempfile.TemporaryDirectory() as tmp:
        service = VoiceService(Path(tmp))

        async def measured() -> float:
            await service.get("échauffement")  # the worker's start and imports, once
            return await _lag_during(lambda: asyncio.gather(*(service.get(t)
                                                               for t in texts)))
        try:
            after = asyncio.run(measured())
        finally:
            service.close()
    return {"listeners_at_once": listeners, "loop_lag_ms_threads": round(before, 1),
            "loop_lag_ms_process": round(after, 1)}


def inbox_encoding() -> dict:
    from telegram import Bot, Update

    from tests.fake_bot_api import FakeBotApi

    api = FakeBotApi()
    raw = [{"update_id": i, "message": api.message(1000 + i, "bonjour, c'est payant ?", None,
                                                   "private")} for i in range(2000)]
    bot = Bot("123:abc")
    updates = [Update.de_json(r, bot) for r in raw]
    t = time.perf_counter()
    for u in updates:
        json.dumps(u.to_dict())
    before = (time.perf_counter() - t) / len(updates) * 1e6
    t = time.perf_counter()
    for r in raw:
        json.dumps(r)
    after = (time.perf_counter() - t) / len(raw) * 1e6
    return {"to_dict_dumps_us": round(before, 1), "raw_dumps_us": round(after, 1)}


def main(quick: bool = False) -> dict:
    result = {"when": time.strftime("%Y-%m-%d %H:%M"), "gc": gc_stall(),
              "purge": purge_stall(20_000 if quick else 100_000),
              "voice": voice_stall(), "inbox": inbox_encoding()}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "stalls.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    main(parser.parse_args().quick)
