"""Stalls: how long one thing keeps the event loop (and so everybody) waiting.

Each figure is measured before and after the change that removed the stall, in this
process, on the real parts:
- a full garbage collection with the start-up data loaded, without and with gc.freeze();
- the purge of 100k expired sessions: one transaction (before) and the longest of the short
  batches the running bot now makes (the database thread is held that long);
- loop lag while 4 people get a voice note of a new screen at once: synthesis in threads
  (before) and in the voice process (now);
- storing an update in the inbox: to_dict + dumps of the parsed Update, or dumps of the
  JSON received;
- all at once, the bot in its own process: 100k expired sessions purged at start, 50
  people pressing "🔊 Écouter" at once, others writing at 50 updates a second: their reply
  times and the bot's longest event-loop stall.

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
    return {
        "full_collection_ms_before": round(before, 1),
        "full_collection_ms_after_freeze": round(min(timings), 1),
        "tracked_objects": tracked_before,
    }


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
                n, rows = store.purge_batch(90, limit=limit) if limit else store.purge_batch(90)
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

    texts = [
        f"Écran numéro {i}. Cléa est un certificat. Il montre que vous maîtrisez les "
        f"bases utiles au travail, dans tous les métiers."
        for i in range(listeners)
    ]

    async def threads() -> None:
        await asyncio.gather(*(asyncio.to_thread(synthesise, t) for t in texts))

    synthesise("échauffement")  # libraries imported in this process too
    before = asyncio.run(_lag_during(threads))
    with tempfile.TemporaryDirectory() as tmp:
        service = VoiceService(Path(tmp))

        async def measured() -> float:
            await service.get("échauffement")  # the worker's start and imports, once
            return await _lag_during(lambda: asyncio.gather(*(service.get(t) for t in texts)))

        try:
            after = asyncio.run(measured())
        finally:
            service.close()
    return {
        "listeners_at_once": listeners,
        "loop_lag_ms_threads": round(before, 1),
        "loop_lag_ms_process": round(after, 1),
    }


def inbox_encoding() -> dict:
    from telegram import Bot, Update

    from tests.fake_bot_api import FakeBotApi

    api = FakeBotApi()
    raw = [
        {
            "update_id": i,
            "message": api.message(1000 + i, "bonjour, c'est payant ?", None, "private"),
        }
        for i in range(2000)
    ]
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
    result = {
        "when": time.strftime("%Y-%m-%d %H:%M"),
        "gc": gc_stall(),
        "purge": purge_stall(20_000 if quick else 100_000),
        "voice": voice_stall(),
        "inbox": inbox_encoding(),
        "under_load": under_load(20_000 if quick else 100_000),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "stalls.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return result


def under_load(
    expired: int = 100_000, listeners: int = 50, seconds: float = 6.0, rate: float = 50.0
) -> dict:
    """The bot in its own process, API latency 50 ms: `expired` sessions to purge at start,
    `listeners` people pressing "🔊 Écouter" at once on 21 different screens, and other
    people writing at `rate` updates a second meanwhile. Their reply times, and the bot's
    longest event-loop stall (its own measure, logged at stop)."""
    import re

    from bench.load import latency_summary, run_bot, stop_bot
    from dialogs.model import Session
    from tests.fake_bot_api import FakeBotApi

    screens = (
        [("domain", {"domain": d}) for d in range(1, 8)]
        + [("step", {"step": s}) for s in range(7)]
        + [("about", {"about": a}) for a in ("what", "audience", "cost", "duration")]
        + [("discover", {})] * 3
    )
    api = FakeBotApi(latency=0.05, record=False).start()
    sent_at: dict[int, float] = {}
    latencies: list[float] = []
    voices: list[float] = []

    def on_call(call) -> None:
        chat = call.chat_id
        if call.method == "sendVoice":
            voices.append(time.perf_counter())
        elif chat in sent_at and call.method == "sendMessage":
            latencies.append(time.perf_counter() - sent_at.pop(chat))

    api.on_call = on_call
    try:
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "load.sqlite3"
            from bench.load import populate

            populate(db, expired)
            con = sqlite3.connect(db)
            con.execute("UPDATE sessions SET updated = updated - 200 * 86400")
            now = time.time()
            for i in range(listeners):
                state, data = screens[i % len(screens)]
                s = Session(
                    f"tg:{5_000_000 + i}", state=state, data={"started": True, **data}, updated=now
                )
                con.execute(
                    "INSERT OR REPLACE INTO sessions (user, data, updated) VALUES (?, ?, ?)",
                    (s.user, s.to_json(), int(now)),
                )
            con.commit()
            con.close()
            log = Path(tmp) / "bot.log"
            import os

            os.environ["CLEA_VOICE"] = "1"
            proc, _ = run_bot("ours", api, db, 32, log)
            try:
                time.sleep(0.3)
                started = time.perf_counter()
                for i in range(listeners):
                    api.push_callback(5_000_000 + i, "listen")
                n = 0
                while time.perf_counter() - started < seconds:
                    chat = 6_000_000 + n
                    sent_at[chat] = time.perf_counter()
                    api.push_text(chat, "/aide")
                    n += 1
                    time.sleep(max(0.0, started + n / rate - time.perf_counter()))
                deadline = time.monotonic() + 60
                while (len(voices) < listeners or sent_at) and time.monotonic() < deadline:
                    time.sleep(0.05)
                voice_done = (max(voices) - started) if voices else None
            finally:
                stop_bot(proc)
            text = log.read_text()
            stall = re.findall(r"longest event-loop stall: ([\d.]+) ms", text)
            purged = re.findall(r"purge: (\d+) sessions removed", text)
    finally:
        api.stop()
    return {
        "expired_sessions": expired,
        "listeners_at_once": listeners,
        "voice_notes_sent": len(voices),
        "all_notes_sent_after_s": round(voice_done, 1) if voice_done else None,
        "others_updates": len(latencies),
        "others_rate_per_s": rate,
        "others_reply_ms": latency_summary(latencies),
        "purged": int(purged[-1]) if purged else 0,
        "longest_loop_stall_ms": float(stall[-1]) if stall else None,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    main(parser.parse_args().quick)
