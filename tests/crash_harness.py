"""A crash campaign: many people walk whole journeys (buttons, typed questions answered
from the FAQ, /demande) while the bot process is killed with SIGKILL at random moments and
Telegram answers some sends with 500. Each person's transcript must equal the crash-free
one computed in-process from the same updates, except at most one repeated message per
chat per crash (a message Telegram accepted just before the kill); nothing lost.

Used by tests/test_crash.py (a moderate run) and bench/crash.py (the large one)."""

from __future__ import annotations

import random
import subprocess
import time
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from tests.db_helpers import count
from tests.fake_bot_api import FakeBotApi, Fault
from tests.telegram_helpers import kill_hard, start_bot_process

JOURNEYS = [
    [
        ("text", "/start"),
        ("text", "c'est quoi clea"),
        ("cb", "fit"),
        ("cb", "answer:employee"),
        ("cb", "answer:cap_bep"),
        ("text", "combien ca coute"),
        ("cb", "resume"),
        ("text", "/demande"),
        ("cb", "menu"),
    ],
    [
        ("text", "/start mlyon-diag"),
        ("cb", "answer:job_seeker"),
        ("cb", "answer:none"),
        ("text", "faut payer ?"),
        ("cb", "resume"),
        ("cb", "answer:digital"),
        ("cb", "answer:hard"),
        ("cb", "skip"),
        ("cb", "where"),
        ("text", "42000"),
        ("cb", "yes"),
        ("text", "/demande"),
    ],
    [
        ("text", "/start"),
        ("cb", "steps"),
        ("cb", "step:1"),
        ("cb", "step:2"),
        ("text", "et si je rate"),
        ("cb", "resume"),
        ("cb", "domains"),
        ("cb", "domain:5"),
        ("text", "/aide"),
        ("text", "/demande"),
    ],
    [
        ("text", "/start"),
        ("cb", "where"),
        ("text", "marseile"),
        ("cb", "yes"),
        ("cb", "answer:young"),
        ("cb", "answer:no"),
        ("text", "c koi le cpf"),
        ("text", "/demande"),
        ("cb", "menu"),
    ],
    # A contact request: the note goes to the advisers' shared chat through the outbox.
    [
        ("text", "/start contact"),
        ("text", "69003"),
        ("cb", "yes"),
        ("cb", "answer:job_seeker"),
        ("cb", "answer:no"),
        ("text", "combien de temps ca dure"),
        ("cb", "handoff"),
        ("cb", "yes"),
        ("text", "{phone}"),
        ("text", "/demande"),
        ("cb", "menu"),
    ],
]
PHONE = "{phone}"  # in a script: this person's own phone number
SHARED_CHAT = -100_555


def phone_of(chat: int) -> tuple[str, str]:
    """(as typed, as the note shows it): one number per person, to count their notes."""
    d = f"{chat % 10_000:04d}"
    return f"06 {d[:2]} {d[2:]} 56 78", f"+33 6 {d[:2]} {d[2:]} 56 78"


def update_body(api: FakeBotApi, chat: int, kind: str, value: str) -> dict:
    if kind == "text":
        return {"message": api.message(chat, phone_of(chat)[0] if value == PHONE else value)}
    return {
        "callback_query": {
            "id": f"q{chat}-{time.monotonic_ns()}",
            "from": api.user(chat),
            "chat_instance": "c",
            "data": value,
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "chat": api.chat(chat),
                "text": "…",
            },
        }
    }


def expected_transcripts(
    knowledge,
    pushed: list[tuple[int, int, dict]],
    db: Path,
    *,
    shared_chat: int | None = None,
    chats: Collection[int] | None = None,
) -> dict[int, list[str]]:
    """What each chat must receive, computed in-process from the same updates with no crash:
    the same event mapping, the same turn runner, on a fresh database. `shared_chat` turns
    the contact hand-off on (its notes go there); `chats` keeps only those chats."""
    from bot.storage import Storage
    from bot.transport.incoming import read
    from bot.turn import TurnRunner
    from dialogs.engine import Engine

    engine = Engine(knowledge, handoff_enabled=shared_chat is not None)
    runner = TurnRunner(engine, Storage(db), shared_chat)
    ok_hand = engine.channel_text("keyboard_removed").text
    out: dict[int, list[str]] = {}
    for chat, update_id, body in pushed:
        if chats is not None and chat not in chats:
            continue
        event = read({"update_id": update_id, **body}, None).event
        if event is None:
            continue
        result = runner.run(f"tg:{chat}", event, update_id)
        replies = [r for r in result.replies if r.voice is None]
        texts = out.setdefault(chat, [])
        if result.remove_keyboard and all(r.buttons or r.request for r in replies):
            texts.append(ok_hand)
        texts.extend(r.text for r in replies)
    return out


def repeats(expected: list[str], got: list[str]) -> tuple[int, list[int]]:
    """(lost, positions in `got` of the repeats): `got` must be `expected` with, here and
    there, a message sent again right after itself. Anything else out of place counts as
    lost."""
    i = j = 0
    again: list[int] = []
    while i < len(expected) and j < len(got):
        if got[j] == expected[i]:
            i, j = i + 1, j + 1
        elif j and got[j] == got[j - 1]:
            again.append(j)
            j += 1
        else:
            break
    while j < len(got) and j and got[j] == got[j - 1]:
        again.append(j)
        j += 1
    return len(expected) - i + (len(got) - j), again


def first_difference(chat: int, expected: list[str], calls: list) -> str:
    """Where a chat's messages first differ from its transcript, for a failure message:
    the position, the expected texts and the calls made there (method and text)."""
    i = 0
    while i < min(len(expected), len(calls)) and calls[i].text == expected[i]:
        i += 1
    return (
        f"chat {chat}, message {i} of {len(expected)} expected, {len(calls)} sent: "
        f"expected {[t[:60] for t in expected[i : i + 2]]}, "
        f"got {[(c.method, c.text[:60]) for c in calls[i : i + 2]]}"
    )


def compare(expected: list[str], got: list[str]) -> tuple[int, int]:
    """(lost, repeated)."""
    lost, again = repeats(expected, got)
    return lost, len(again)


@dataclass
class Campaign:
    people: int
    kills: int = 0
    faults: int = 0
    updates: int = 0
    lost: int = 0  # messages missing or out of place, all chats
    requests: int = 0  # contact requests made
    notes_lost: int = 0  # requests whose note never reached the shared chat
    notes_repeated: int = 0
    repeated: int = 0
    worst_repeats_per_chat: int = 0
    worst_repeats_per_chat_per_crash: int = 0  # repeats sent by the same restarted process
    chats_over_limit: list[int] = field(default_factory=list)  # more than 1 per crash
    chats_with_loss: list[int] = field(default_factory=list)
    first_loss: str = ""  # where the first chat with a loss went off its transcript
    seconds: float = 0.0


def run_campaign(
    api: FakeBotApi,
    knowledge,
    workdir: Path,
    people: int,
    kills: int,
    seed: int = 25,
    first_chat: int = 400_000,
) -> Campaign:
    rng = random.Random(seed)
    started = time.monotonic()
    db = workdir / "crash.sqlite3"
    chats = [first_chat + i for i in range(people)]
    scripts = {chat: list(JOURNEYS[i % len(JOURNEYS)]) for i, chat in enumerate(chats)}
    waves = max(len(s) for s in scripts.values())
    kill_waves = sorted(rng.sample(range(waves * 2), min(kills, waves * 2)))
    campaign = Campaign(people)
    pushed: list[tuple[int, int, dict]] = []

    def start() -> subprocess.Popen:
        """Process number `campaign.kills`: its calls carry run0, run1… (Call.origin). The
        fake server may read a call after the process that sent it was killed (a busy
        machine): the time of the call cannot say which process made it."""
        return start_bot_process(
            api,
            db,
            CLEA_ADVISER_CHAT_ID=str(SHARED_CHAT),
            TELEGRAM_API_BASE_URL=api.base_url_for(f"run{campaign.kills}"),
        )

    proc = start()
    try:
        for half_wave in range(waves * 2):
            if half_wave % 2 == 0:  # one step for everyone still walking
                for chat in chats:
                    if scripts[chat]:
                        kind, value = scripts[chat].pop(0)
                        body = update_body(api, chat, kind, value)
                        pushed.append((chat, api.push(body), body))
                n = rng.randrange(1, 4)
                api.inject("sendMessage", *[Fault("500")] * n)
                campaign.faults += n
            if half_wave in kill_waves:
                time.sleep(rng.uniform(0.0, 0.6))
                kill_hard(proc)
                campaign.kills += 1
                proc = start()
            else:
                time.sleep(rng.uniform(0.1, 0.4))
        expected = expected_transcripts(
            knowledge, pushed, workdir / "expected.sqlite3", shared_chat=SHARED_CHAT
        )
        requesting = [
            c for i, c in enumerate(chats) if ("text", PHONE) in JOURNEYS[i % len(JOURNEYS)]
        ]

        def notes() -> dict[int, int]:
            texts = [c.text for c in api.sent(SHARED_CHAT, ("sendMessage",))]
            return {c: sum(phone_of(c)[1] in t for t in texts) for c in requesting}

        # Settled: every update fetched and out of the inbox (handled, every reply sent
        # and answered), no note left to send; nothing more can come.
        api.wait_until(
            lambda: (
                all(len(api.sent(c)) >= len(expected[c]) for c in chats)
                and all(notes().values())
                and api.pending_updates() == 0
                and count(db, "inbox") == 0
                and count(db, "outbox") == 0
            ),
            60 + people,
            interval=0.1,
        )
    finally:
        proc.terminate()
        proc.wait(30)
    campaign.updates = len(pushed)
    campaign.requests = len(requesting)
    counts = notes()
    campaign.notes_lost = sum(1 for n in counts.values() if n == 0)
    campaign.notes_repeated = sum(n - 1 for n in counts.values() if n > 1)
    for chat in chats:
        calls = api.sent(chat)
        lost, again = repeats(expected[chat], [c.text for c in calls])
        campaign.lost += lost
        campaign.repeated += len(again)
        campaign.worst_repeats_per_chat = max(campaign.worst_repeats_per_chat, len(again))
        # Which crash each repeat follows: the process that sent it (run0: no crash yet).
        per_crash = Counter(calls[j].origin for j in again)
        worst = max(per_crash.values(), default=0)
        campaign.worst_repeats_per_chat_per_crash = max(
            campaign.worst_repeats_per_chat_per_crash, worst
        )
        if lost:
            campaign.chats_with_loss.append(chat)
            if not campaign.first_loss:
                campaign.first_loss = first_difference(chat, expected[chat], calls)
        if worst > 1 or "run0" in per_crash:  # a repeat with no crash before
            campaign.chats_over_limit.append(chat)
    campaign.seconds = round(time.monotonic() - started, 1)
    return campaign
