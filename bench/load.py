"""Load benchmark: clea-bot against a bare python-telegram-bot echo bot, side by side.

Both bots run as subprocesses against the same local Bot API server (tests/fake_bot_api.py).
Simulated users follow real conversation paths (start, menu taps, the fit check, a postal
code, free-text questions, resume). Two regimes: the API answers at once (CPU-bound), and
after 50 ms (closer to Telegram). For each: closed-loop throughput, latency at a paced
200 updates/s, per-chat order under bursts, CPU per update, peak RSS.

Run by hand: make bench   (or python -m bench.load [--quick])
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from dialogs.model import Session
from tests.fake_bot_api import Call, FakeBotApi
from tests.telegram_helpers import bot_env

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results"
CLK_TCK = os.sysconf("SC_CLK_TCK")

# The fit check (one question skipped), then the place from a typed postal code, confirmed.
FIT_CHECK = [
    ("cb", "fit"),
    ("cb", "answer:job_seeker"),
    ("cb", "answer:none"),
    ("cb", "answer:job"),
    ("cb", "answer:easy"),
    ("cb", "skip"),
    ("cb", "where"),
    ("text", "42000"),
    ("cb", "yes"),
]

# Real paths through the conversation: ("text", value) or ("cb", callback data).
PATHS = [
    [
        ("text", "/start"),
        *FIT_CHECK,
        ("text", "c'est payant ?"),
        ("cb", "resume"),
    ],
    [
        ("text", "/start mlyon"),
        ("cb", "discover"),
        ("cb", "about:audience"),
        ("cb", "domains"),
        ("cb", "domain:3"),
        ("cb", "domain:4"),
        ("text", "et si je rate"),
        ("cb", "resume"),
        ("cb", "steps"),
        ("cb", "step:1"),
        ("cb", "step:2"),
        ("cb", "menu"),
    ],
    [
        ("text", "/start"),
        ("text", "jsui au chomage ca marche pr moi"),
        ("cb", "fit"),
        ("cb", "answer:employee"),
        ("text", "faut payer ?"),
        ("cb", "resume"),
        ("cb", "answer:cap_bep"),
        ("cb", "answer:digital"),
        ("cb", "answer:some"),
        ("cb", "answer:no"),
        ("cb", "where"),
        ("text", "st etienne"),
    ],
]


# A person who only taps the buttons of the screen in front of them, from /start to the
# recap (the postal code is typed): messages and calls per update on this journey.
JOURNEY = [
    ("text", "/start"),
    ("cb", "discover"),
    ("cb", "about:audience"),
    ("cb", "domains"),
    ("cb", "domain:3"),
    ("cb", "domain:4"),
    ("cb", "menu"),
    ("cb", "steps"),
    ("cb", "step:1"),
    ("cb", "step:2"),
    ("cb", "menu"),
    *FIT_CHECK,
]
MESSAGES = ("sendMessage", "editMessageText", "sendPhoto", "sendVoice")

KINDS = ("echo", "echo_aiohttp", "ours")
LABELS = {
    "echo": "écho nu (PTB, httpx)",
    "echo_aiohttp": "écho nu (PTB, aiohttp)",
    "ours": "clea-bot",
}


def bot_command(kind: str) -> list[str]:
    if kind.startswith("echo"):
        return [sys.executable, "-m", "bench.echo_bot"]
    return [sys.executable, "-m", "bot", "telegram"]


def turn_done(kind: str, call: Call) -> bool:
    """Our screens end with a keyboard; the echo bot sends one message per update."""
    if call.method not in ("sendMessage", "editMessageText", "sendPhoto"):
        return False
    if kind.startswith("echo"):
        return True
    markup = call.params.get("reply_markup") or {}
    return bool(markup.get("inline_keyboard"))


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Driver:
    """Runs simulated users in the server's event loop, one outstanding update per chat."""

    api: FakeBotApi
    kind: str
    pushed_at: dict[int, float] = field(default_factory=dict)
    remaining: dict[int, list] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    idle: list[int] = field(default_factory=list)
    finished: asyncio.Event | None = None
    updates: int = 0
    closed_loop: bool = True  # push the next step at once (else wait for the pacer)
    calls: int = 0  # Bot API calls for these users (getUpdates aside)
    messages: int = 0  # of which messages sent or edited
    last_message: dict[int, int] = field(default_factory=dict)

    def on_call(self, call: Call) -> None:
        chat = call.chat_id
        if call.method != "getUpdates" and (
            chat in self.remaining or call.method == "answerCallbackQuery"
        ):
            self.calls += 1
            self.messages += call.method in MESSAGES
        if call.method.startswith("send") and chat is not None and "_message_id" in call.params:
            self.last_message[chat] = call.params["_message_id"]
        if chat is None or chat not in self.pushed_at or not turn_done(self.kind, call):
            return
        self.latencies.append(time.perf_counter() - self.pushed_at.pop(chat))
        if self.remaining.get(chat):
            if self.closed_loop:
                self.push_next(chat)
            else:
                self.idle.append(chat)
        elif not self.pushed_at and not any(self.remaining.values()) and self.finished:
            self.finished.set()

    def push_next(self, chat: int) -> None:
        kind, value = self.remaining[chat].pop(0)
        self.pushed_at[chat] = time.perf_counter()
        self.updates += 1
        if kind == "text":
            self.api.push_text(chat, value)
        else:
            # The button of the screen in front of the person: the last message sent.
            self.api.push_callback(chat, value, message_id=self.last_message.get(chat, 1))


async def closed_loop(
    api: FakeBotApi, kind: str, users: int, first_chat: int, paths: list | None = None
) -> dict:
    """Every user sends its next step as soon as its previous turn is answered."""
    finished = asyncio.Event()
    driver = Driver(api, kind, finished=finished)
    paths = paths or PATHS
    for i in range(users):
        driver.remaining[first_chat + i] = list(paths[i % len(paths)])
    api.on_call = driver.on_call
    started = time.perf_counter()
    for chat in list(driver.remaining):
        driver.push_next(chat)
    await finished.wait()
    elapsed = time.perf_counter() - started
    await asyncio.sleep(0.3)  # the last callback answers (sent in the background)
    api.on_call = None
    return {
        "updates": driver.updates,
        "seconds": round(elapsed, 2),
        "updates_per_s": round(driver.updates / elapsed, 1),
        "calls_per_update": round(driver.calls / driver.updates, 3),
        "messages_per_update": round(driver.messages / driver.updates, 3),
        **latency_summary(driver.latencies),
    }


async def paced(
    api: FakeBotApi, kind: str, rate: float, total: int, first_chat: int, users: int = 400
) -> dict:
    """Updates pushed at a fixed rate, each to a user whose previous turn is answered."""
    driver = Driver(api, kind, finished=asyncio.Event(), closed_loop=False)
    for i in range(users):
        driver.remaining[first_chat + i] = list(PATHS[i % len(PATHS)])
    driver.idle = list(driver.remaining)
    api.on_call = driver.on_call
    started = time.perf_counter()
    for n in range(total):
        target = started + n / rate
        delay = target - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        while not driver.idle:
            await asyncio.sleep(0.0005)
        driver.push_next(driver.idle.pop(0))
    while driver.pushed_at:
        await asyncio.sleep(0.001)
    api.on_call = None
    return {
        "rate": rate,
        "updates": total,
        "calls_per_update": round(driver.calls / total, 3),
        **latency_summary(driver.latencies),
    }


async def order_burst(api: FakeBotApi, kind: str, chats: int, first_chat: int) -> dict:
    """Three updates per chat at once; their answers must come back in the same order."""
    texts = ["/aide", "/privacy", "/menu"] if kind == "ours" else ["1", "2", "3"]
    markers = ["Les commandes", "Vos données", "Que voulez-vous faire"]
    seen: dict[int, list[int]] = {c: [] for c in range(first_chat, first_chat + chats)}

    def on_call(call: Call) -> None:
        if call.chat_id in seen and call.method == "sendMessage":
            text = str(call.params.get("text", ""))
            for i, (t, m) in enumerate(zip(texts, markers, strict=True)):
                if (kind != "ours" and text == t) or (kind == "ours" and m in text):
                    seen[call.chat_id].append(i)

    api.on_call = on_call
    for chat in seen:
        for t in texts:
            api.push_text(chat, t)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(len(v) < 3 for v in seen.values()):
        await asyncio.sleep(0.01)
    api.on_call = None
    in_order = sum(1 for v in seen.values() if v == [0, 1, 2])
    return {"chats": chats, "in_order": in_order, "share": round(in_order / chats, 4)}


def latency_summary(latencies: list[float]) -> dict:
    if not latencies:
        return {}
    ordered = sorted(latencies)
    p = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    return {
        "p50_ms": round(p(0.50), 2),
        "p99_ms": round(p(0.99), 2),
        "mean_ms": round(statistics.mean(latencies) * 1000, 2),
    }


def populate(db: Path, count: int) -> None:
    """`count` stored sessions, as after a launch: realistic rows of every shape."""
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.close()
    from bot.storage import Storage

    Storage(db).close()  # create the schema
    con = sqlite3.connect(db)
    rng = random.Random(1)
    now = time.time()
    rows = []
    for i in range(count):
        s = Session(
            f"tg:{10_000_000 + i}",
            state=rng.choice(["menu", "fit_goal", "recap"]),
            answers={"situation": "employee", "diploma": "none"},
            data={
                "started": True,
                "place": {"c": "Saint-Étienne", "d": "42", "p": "42000"},
                "u": i,
            },
            referral=rng.choice([None, "mlyon", "ft13"]),
            updated=now,
        )
        rows.append((s.user, s.to_json(), int(now)))
    con.executemany("INSERT OR REPLACE INTO sessions (user, data, updated) VALUES (?, ?, ?)", rows)
    con.commit()
    con.close()


def run_bot(
    kind: str, api: FakeBotApi, db: Path, concurrency: int, log: Path | None = None
) -> tuple[subprocess.Popen, float]:
    """The bot in its own process; `log`: its stderr (INFO), to read its longest stall."""
    env = bot_env(  # no rate limit: simulated users tap faster than people
        api,
        db,
        CLEA_CONCURRENCY=str(concurrency),
        CLEA_LOG_LEVEL="INFO" if log else "WARNING",
        ECHO_BACKEND="aiohttp" if kind == "echo_aiohttp" else "httpx",
    )
    # The tests turn the local directory off; the bench keeps the deployment's, if any.
    if "CLEA_LOCAL_DIRECTORY" in os.environ:
        env["CLEA_LOCAL_DIRECTORY"] = os.environ["CLEA_LOCAL_DIRECTORY"]
    else:
        del env["CLEA_LOCAL_DIRECTORY"]
    before = api.get_updates_count
    started = time.perf_counter()
    proc = subprocess.Popen(
        bot_command(kind),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("w") if log else subprocess.DEVNULL,
    )
    while api.get_updates_count == before:
        if proc.poll() is not None:
            raise RuntimeError(f"{kind} bot exited with {proc.returncode}")
        time.sleep(0.005)
    return proc, time.perf_counter() - started


def stop_bot(proc: subprocess.Popen, timeout: float = 30) -> None:
    """A bot started by run_bot: SIGTERM, then SIGKILL if it has not exited after `timeout` s."""
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()


def run_regime(
    latency: float, quick: bool, workdir: Path, concurrency: int, kinds: tuple[str, ...] = KINDS
) -> dict:
    out: dict[str, dict] = {}
    users = 64 if quick else 128
    paced_total = 600 if quick else 2000
    for kind in kinds:
        api = FakeBotApi(latency=latency, record=False).start()
        db = workdir / f"{kind}-{int(latency * 1000)}.sqlite3"
        if kind == "ours":
            populate(db, 20_000 if quick else 100_000)
        log = workdir / f"{kind}-{int(latency * 1000)}.log" if kind == "ours" else None
        proc, startup = run_bot(kind, api, db, concurrency, log)
        try:
            loop = api._loop
            assert loop is not None  # the fake Bot API is started
            cpu0 = proc_cpu_seconds(proc.pid)
            through = asyncio.run_coroutine_threadsafe(
                closed_loop(api, kind, users, 1_000_000), loop
            ).result(600)
            cpu1 = proc_cpu_seconds(proc.pid)
            pace = asyncio.run_coroutine_threadsafe(
                paced(api, kind, 200.0, paced_total, 2_000_000), loop
            ).result(600)
            cpu2 = proc_cpu_seconds(proc.pid)
            journey = asyncio.run_coroutine_threadsafe(
                closed_loop(api, kind, 20, 4_000_000, [JOURNEY]), loop
            ).result(600)
            order = asyncio.run_coroutine_threadsafe(
                order_burst(api, kind, 200, 3_000_000), loop
            ).result(120)
            out[kind] = {
                "startup_to_first_getupdates_s": round(startup, 3),
                "throughput": through,
                "paced_200": pace,
                "order": order,
                "journey": {
                    k: journey[k] for k in ("updates", "calls_per_update", "messages_per_update")
                },
                "cpu_ms_per_update": round((cpu1 - cpu0) / through["updates"] * 1000, 3),
                "cpu_ms_per_update_paced_200": round((cpu2 - cpu1) / pace["updates"] * 1000, 3),
                # Telegram sends about 30 messages a second per bot, edits included.
                "capacity_turns_per_s_at_30_msg": round(
                    30 / max(through["messages_per_update"], 1e-9), 1
                ),
                "peak_rss_mb": round(proc_peak_rss_mb(proc.pid), 1),
            }
        finally:
            stop_bot(proc, 20)
            api.stop()
        if log is not None:  # ours
            stalls = re.findall(r"longest event-loop stall: ([\d.]+) ms", log.read_text())
            out[kind]["longest_loop_stall_ms"] = float(stalls[-1]) if stalls else None
            con = sqlite3.connect(db)
            out[kind]["stored_sessions"] = con.execute("SELECT COUNT(*) FROM sessions").fetchone()[
                0
            ]
            out[kind]["max_session_bytes"] = con.execute(
                "SELECT MAX(LENGTH(CAST(data AS BLOB))) FROM sessions"
            ).fetchone()[0]
            con.close()
    if "ours" not in out:
        return out
    o = out["ours"]
    out["ratios"] = {}
    for floor in ("echo", "echo_aiohttp"):
        if floor not in out:
            continue
        e = out[floor]
        out["ratios"][floor] = {
            "throughput": round(
                o["throughput"]["updates_per_s"] / e["throughput"]["updates_per_s"], 3
            ),
            "p99_paced_diff_ms": round(o["paced_200"]["p99_ms"] - e["paced_200"]["p99_ms"], 2),
            "cpu_per_update": round(o["cpu_ms_per_update"] / e["cpu_ms_per_update"], 2),
            "cpu_per_update_paced_200": round(
                o["cpu_ms_per_update_paced_200"] / e["cpu_ms_per_update_paced_200"], 2
            ),
        }
    return out


def table(result: dict) -> str:
    lines = [
        "| régime | bot | débit (maj/s) | p50 / p99 à 200 maj/s (ms) | CPU/maj (ms) | "
        "CPU/maj à 200 maj/s (ms) | messages / appels par maj (mélange) | messages / "
        "appels par maj (parcours en boutons) | capacité à 30 msg/s (tours/s) | "
        "RSS max (Mo) | ordre par conversation | démarrage (s) | plus long arrêt de "
        "la boucle (ms) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for regime, data in result["regimes"].items():
        for kind in KINDS:
            if kind not in data:
                continue
            d = data[kind]
            t, j = d["throughput"], d["journey"]
            lines.append(
                f"| {regime} | {LABELS[kind]} | "
                f"{t['updates_per_s']} | {d['paced_200']['p50_ms']} / "
                f"{d['paced_200']['p99_ms']} | {d['cpu_ms_per_update']} | "
                f"{d['cpu_ms_per_update_paced_200']} | {t['messages_per_update']} / "
                f"{t['calls_per_update']} | {j['messages_per_update']} / "
                f"{j['calls_per_update']} | {d['capacity_turns_per_s_at_30_msg']} | "
                f"{d['peak_rss_mb']} | {d['order']['share']:.0%} | "
                f"{d['startup_to_first_getupdates_s']} | "
                f"{d.get('longest_loop_stall_ms') or ''} |"
            )
        for floor, r in data["ratios"].items():
            lines.append(
                f"| {regime} | **clea-bot / {LABELS[floor]}** | **{r['throughput']}×** "
                f"| p99 {r['p99_paced_diff_ms']:+} ms | {r['cpu_per_update']}× | "
                f"{r['cpu_per_update_paced_200']}× | | | | | | | |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller run (a minute or two)")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--only-50ms",
        action="store_true",
        help="the 50 ms regime only, clea-bot and the aiohttp echo (a CPU-ratio check)",
    )
    args = parser.parse_args()
    regimes = (("50 ms", 0.05),) if args.only_50ms else (("instantané", 0.0), ("50 ms", 0.05))
    kinds = ("echo_aiohttp", "ours") if args.only_50ms else KINDS
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        result = {
            "when": time.strftime("%Y-%m-%d %H:%M"),
            "quick": args.quick,
            "concurrency": args.concurrency,
            "cores": os.cpu_count(),
            "regimes": {},
        }
        for name, latency in regimes:
            result["regimes"][name] = run_regime(
                latency, args.quick, Path(tmp), args.concurrency, kinds
            )
    if args.only_50ms:  # not the reference run: printed, latest.json left alone
        print(table(result))
        return
    from bench import micro

    result["micro"] = micro.main()
    result["seconds"] = round(time.time() - started, 1)
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    text = json.dumps(result, indent=2, ensure_ascii=False)
    (RESULTS / f"load-{stamp}.json").write_text(text + "\n")
    (RESULTS / "latest.json").write_text(text + "\n")
    print(table(result))
    m = result["micro"]
    print(
        f"\ntour de dialogue {m['dialog_turn']['median_us']} µs ; question libre "
        f"{m['faq_match']['median_us']} µs ; session stockée {m['stored_session_bytes']} o ; "
        f"durée totale {result['seconds']} s"
    )


if __name__ == "__main__":
    main()
