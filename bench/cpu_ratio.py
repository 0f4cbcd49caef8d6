"""CPU per update at 200 updates/s, 50 ms API latency: clea-bot against the aiohttp echo,
as a statistic rather than one draw.

Why a separate bench: bench.load runs each bot once, one after the other, and reads CPU
over a 3 s paced phase; on a shared 2-core machine the ratio of two such draws went from
1.28× to 1.91× on the same code. Here:

- the two bots run **interleaved**, echo, ours, ours, echo, echo, ours… (the order turned
  round every other round, so that neither bot is always the later one while the
  machine's load drifts) `--rounds` times, each in a
  fresh process against a fresh fake Bot API (same latency, same pushed updates: the
  same paths, the same chat ids, the same rate); clea-bot starts each round from the same
  copy of a database of 20 000 stored sessions;
- start-up is excluded: each bot first serves a closed-loop warm-up (every path of the
  mix walked once, so that templates, the communes index and the model are loaded), then
  CPU is read from the bot process's own /proc/<pid>/stat (user + system, all threads)
  just before and just after a **steady phase** of `--seconds` at 200 updates/s;
- each round gives one ratio, ours / the echo of the same round; the report is the
  median ratio and its spread (min, max, and the ratio of the medians), with the machine
  load, the latencies (a bot that falls behind handles updates in batches, which costs
  less per update: such rounds are flagged) and getUpdates calls per update.

Batching: getUpdates is answered at once by default (as in bench.load), so a bot polls
about once per update while it keeps up and far less once it falls behind; each poll
costs a request, a parse and, for clea-bot, an inbox write: CPU per update then moves
with getUpdates per update (reported). `--poll-latency 0.05` gives getUpdates the same
50 ms as every other call, as Telegram's round trip does: both bots then batch alike.

`--before DIR`: a source tree of clea-bot before a change (e.g. `git worktree add`), run
as a third bot in each round (echo, before, ours): before and after in the same minutes.

Run by hand: python -m bench.cpu_ratio [--rounds 5] [--seconds 15] [--before DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import bench.load
from bench.load import (
    LABELS,
    PATHS,
    RESULTS,
    ROOT,
    closed_loop,
    paced,
    populate,
    proc_cpu_seconds,
    run_bot,
    stop_bot,
)
from tests.fake_bot_api import FakeBotApi

RATE = 200.0
LATENCY = 0.05
KINDS = ("echo_aiohttp", "ours")
# A round whose p50 latency exceeds this did not keep up with the rate: updates then come
# in batches and cost less each, which flatters that bot.
BEHIND_MS = 250.0
SHORTEST_PATH = min(len(p) for p in PATHS)


def steady_users(total: int) -> int:
    """Enough simulated people for `total` updates (each walks at most one path), and
    few enough that most walk theirs to the end: the mix is the whole paths."""
    return total // SHORTEST_PATH + 20


@contextlib.contextmanager
def source_tree(root: Path) -> Iterator[None]:
    """run_bot starts `python -m bot` in bench.load.ROOT: another tree for a while."""
    bench.load.ROOT = root
    try:
        yield
    finally:
        bench.load.ROOT = ROOT


def one_bot(
    kind: str,
    db: Path,
    seconds: float,
    concurrency: int,
    root: Path = ROOT,
    poll_latency: float = 0.0,
) -> dict:
    api = FakeBotApi(latency=LATENCY, record=False, poll_latency=poll_latency).start()
    with source_tree(root):
        proc, startup = run_bot("ours" if kind == "before" else kind, api, db, concurrency)
    kind = "ours" if kind == "before" else kind  # the same driver and turn detection
    try:
        loop = api._loop
        assert loop is not None  # the fake Bot API is started

        def run(coro, timeout: float = 600):
            return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)

        run(closed_loop(api, kind, 2 * len(PATHS), 5_000_000))  # warm-up, not measured
        time.sleep(0.3)
        total = int(RATE * seconds)
        polls0, cpu0, wall0 = api.get_updates_count, proc_cpu_seconds(proc.pid), time.time()
        pace = run(paced(api, kind, RATE, total, 6_000_000, steady_users(total)))
        time.sleep(0.3)  # the last callback answers (sent in the background), for both bots
        cpu1, wall1, polls1 = proc_cpu_seconds(proc.pid), time.time(), api.get_updates_count
    finally:
        stop_bot(proc, 20)
        api.stop()
    return {
        "cpu_ms_per_update": round((cpu1 - cpu0) / total * 1000, 3),
        "cpu_share_of_a_core": round((cpu1 - cpu0) / (wall1 - wall0), 3),
        "get_updates_per_update": round((polls1 - polls0) / total, 3),
        "calls_per_update": pace["calls_per_update"],
        "p50_ms": pace.get("p50_ms"),
        "p99_ms": pace.get("p99_ms"),
        "behind": (pace.get("p50_ms") or 0) > BEHIND_MS,
        "startup_s": round(startup, 2),
        "load_1min": round(os.getloadavg()[0], 2),
    }


def summary(rounds: list[dict], bot: str = "ours") -> dict:
    ratios = [r[bot]["ratio"] for r in rounds]
    echo = [r["echo_aiohttp"]["cpu_ms_per_update"] for r in rounds]
    ours = [r[bot]["cpu_ms_per_update"] for r in rounds]
    kept = [
        r[bot]["ratio"] for r in rounds if not (r[bot]["behind"] or r["echo_aiohttp"]["behind"])
    ]
    return {
        "rounds": len(rounds),
        "median_ratio": round(statistics.median(ratios), 3),
        "min_ratio": min(ratios),
        "max_ratio": max(ratios),
        "ratio_of_medians": round(statistics.median(ours) / statistics.median(echo), 3),
        "median_ours_ms": round(statistics.median(ours), 3),
        "median_echo_ms": round(statistics.median(echo), 3),
        "median_get_updates_per_update": round(
            statistics.median(r[bot]["get_updates_per_update"] for r in rounds), 3
        ),
        "median_echo_get_updates_per_update": round(
            statistics.median(r["echo_aiohttp"]["get_updates_per_update"] for r in rounds), 3
        ),
        "rounds_behind": len(rounds) - len(kept),
        "median_ratio_rounds_kept_up": round(statistics.median(kept), 3) if kept else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=15.0, help="steady phase per bot")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--label", default="", help="a note kept with the results")
    parser.add_argument(
        "--before", type=Path, help="a clea-bot source tree run as a third bot (before a change)"
    )
    parser.add_argument(
        "--poll-latency",
        type=float,
        default=0.0,
        help="seconds before each getUpdates is answered (Telegram: its round trip; "
        "default 0, as in bench.load)",
    )
    args = parser.parse_args()
    kinds = (*KINDS[:1], "before", *KINDS[1:]) if args.before else KINDS
    started = time.time()
    rounds: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        template = workdir / "sessions.sqlite3"
        populate(template, 20_000)
        for n in range(args.rounds):
            row: dict = {}
            for kind in kinds if n % 2 == 0 else kinds[::-1]:
                db = workdir / f"{kind}-{n}.sqlite3"
                if kind != "echo_aiohttp":
                    shutil.copy(template, db)
                root = args.before if kind == "before" else ROOT
                row[kind] = one_bot(
                    kind, db, args.seconds, args.concurrency, root, args.poll_latency
                )
            e = row["echo_aiohttp"]
            line = f"round {n + 1}: écho {e['cpu_ms_per_update']} ms/maj (p50 {e['p50_ms']} ms)"
            for kind in kinds[1:]:
                o = row[kind]
                o["ratio"] = round(o["cpu_ms_per_update"] / e["cpu_ms_per_update"], 3)
                line += (
                    f", {kind} {o['cpu_ms_per_update']} ms/maj (p50 {o['p50_ms']} ms)"
                    f" → {o['ratio']}×"
                )
            rounds.append(row)
            print(f"{line} ; charge {row['ours']['load_1min']}", flush=True)
    result = {
        "when": time.strftime("%Y-%m-%d %H:%M"),
        "label": args.label,
        "rate": RATE,
        "latency_s": LATENCY,
        "poll_latency_s": args.poll_latency,
        "steady_seconds": args.seconds,
        "concurrency": args.concurrency,
        "before": str(args.before) if args.before else None,
        "rounds": rounds,
        "summary": {kind: summary(rounds, kind) for kind in kinds[1:]},
        "seconds": round(time.time() - started, 1),
    }
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"cpu-ratio-{stamp}.json").write_text(
        json.dumps(result, indent=2, ensure_ascii=False) + "\n"
    )
    for kind, s in result["summary"].items():
        print(
            f"CPU par maj à {RATE:.0f} maj/s, {LATENCY * 1000:.0f} ms, {kind} / "
            f"{LABELS['echo_aiohttp']}, {s['rounds']} manches alternées de "
            f"{args.seconds:.0f} s : médiane {s['median_ratio']}× (de {s['min_ratio']}× à "
            f"{s['max_ratio']}×) ; médianes {s['median_ours_ms']} / {s['median_echo_ms']} ms "
            f"(rapport {s['ratio_of_medians']}×) ; manches en retard : {s['rounds_behind']}"
        )


if __name__ == "__main__":
    main()
