"""Robustness: fuzzed updates, kill -9 at random points, API faults, a broken database."""

from __future__ import annotations

import contextlib
import logging
import random
import sqlite3
import time
from pathlib import Path

import pytest

from bot.transport.incoming import read
from dialogs.engine import Engine
from dialogs.model import Event, Session
from tests.crash_harness import JOURNEYS, expected_transcripts
from tests.fake_bot_api import Fault
from tests.telegram_helpers import kill_hard, running_bot, settled, start_bot_process

PRIVATE = list(range(70_000, 70_040))
GROUPS = [-1001, -1002, -1003]
CHANNELS = [-2001]
COMMANDS = [
    "/start",
    "/menu",
    "/aide",
    "/recommencer",
    "/oubli",
    "/privacy",
    "/question",
    "/contact",
    "/lien",
    "/stats",
    "/xyz",
    "/start mlyon-diag",
    "/start <bad>",
    "/menu@clea_test_bot",
]
VALID_DATA = [
    "fit",
    "where",
    "steps",
    "menu",
    "resume",
    "domain:3",
    "step:4",
    "module:numerique",
    "answer:employee",
    "answer:none",
    "yes",
    "no",
    "skip",
    "back",
    "pick:0",
    "forget_yes",
    "forget_no",
    "handoff",
    "about:cost",
    "retry",
]


def GROUP_INVITE() -> str:
    from dialogs.engine import Engine
    from knowledge.loader import load

    return Engine(load()).channel_text("group_invite").text


def random_text(rng: random.Random) -> str:
    size = rng.choice([0, 1, 3, 20, 200, 4096, 10_000])
    alphabet = (
        rng.choice(
            [
                "abcdefghijklmnopqrstuvwxyzéèàç '?!",
                "0123456789 ",
                "🙂😀🎉👍❤️🔥",
                "".join(chr(c) for c in range(0x20, 0x2FF)),
                "".join(
                    chr(c)
                    for c in (rng.randrange(0x20, 0x10FFFF) for _ in range(64))
                    if not 0xD800 <= c <= 0xDFFF
                ),
            ]
        )
        or "x"
    )
    return "".join(rng.choice(alphabet) for _ in range(size))


def random_update(api, rng: random.Random) -> tuple[int, dict]:
    """(chat id, update body). Private chats get every kind of update."""
    roll = rng.random()
    if roll < 0.08:
        chat = rng.choice(GROUPS)
        text = rng.choice(COMMANDS + ["bonjour", "@clea_test_bot aide", random_text(rng)])
        return chat, {"message": api.message(chat, text or "x", user_id=5, chat_type="group")}
    if roll < 0.11:
        chat = rng.choice(CHANNELS)
        return chat, {"channel_post": api.message(chat, "annonce", chat_type="channel")}
    chat = rng.choice(PRIVATE)
    kind = rng.choice(
        [
            "text",
            "text",
            "command",
            "callback",
            "callback",
            "photo",
            "sticker",
            "voice",
            "document",
            "location",
            "contact",
            "edited",
            "dice",
        ]
    )
    if kind == "text":
        return chat, {"message": api.message(chat, random_text(rng) or " ")}
    if kind == "command":
        return chat, {"message": api.message(chat, rng.choice(COMMANDS))}
    if kind == "callback":
        data = rng.choice(VALID_DATA + [random_text(rng)[:64] or "x", "zz:" + "9" * 60])
        message = {
            "message_id": rng.randrange(1, 10**6),
            "date": int(time.time()),
            "chat": api.chat(chat),
            "text": "ancien",
        }
        return chat, {
            "callback_query": {
                "id": f"q{rng.random()}",
                "from": api.user(chat),
                "chat_instance": "c",
                "data": data,
                "message": message,
            }
        }
    if kind == "edited":
        return chat, {
            "edited_message": api.message(chat, random_text(rng) or "x", edit_date=int(time.time()))
        }
    file = {"file_id": "f", "file_unique_id": "u"}
    extra = {
        "photo": {"photo": [{**file, "width": 10, "height": 10}]},
        "sticker": {
            "sticker": {
                **file,
                "type": "regular",
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
            }
        },
        "voice": {"voice": {**file, "duration": 2}},
        "document": {"document": file},
        "location": {"location": {"latitude": 45.43, "longitude": 4.39}},
        "contact": {
            "contact": {
                "phone_number": "+33600000000",
                "first_name": "X",
                "user_id": rng.choice([chat, 1]),
            }
        },
        "dice": {"dice": {"emoji": "🎲", "value": 3}},
    }[kind]
    return chat, {"message": api.message(chat, None, **extra)}


@pytest.mark.slow
async def test_fuzzed_updates(api, knowledge, tmp_path, caplog):
    """2,000 random updates (random Unicode up to 10k characters, forged buttons, media,
    edits, groups, channels): every private update answered exactly once, in order — the
    transcript of each chat equals the one computed in-process from the same updates."""
    rng = random.Random(20261126)
    caplog.set_level(logging.ERROR)
    pushed: list[tuple[int, int, dict]] = []
    async with running_bot(api, knowledge, tmp_path / "db.sqlite3") as channel:
        for _ in range(2000):
            chat, body = random_update(api, rng)
            pushed.append((chat, api.push(body), body))
        expected = expected_transcripts(
            knowledge, pushed, tmp_path / "replay.sqlite3", chats=PRIVATE
        )
        assert await api.wait_async(lambda: api.pending_updates() == 0, 120)
        assert await api.wait_async(
            lambda: all(len(api.sent(c)) >= len(t) for c, t in expected.items()), 60
        )
        assert await settled(api, channel)  # nothing more can come
        for chat, texts in expected.items():
            assert [c.text for c in api.sent(chat)] == texts, chat
        for chat in GROUPS:  # only invitations, at most one per group for a while
            assert [c.text for c in api.sent(chat)] in ([], [GROUP_INVITE()])
        for chat in CHANNELS:
            assert not api.sent(chat)
        # Still alive and well.
        api.push_text(99, "/start")
        assert await api.wait_async(lambda: len(api.sent(99)) >= 1)
    bad = [r for r in caplog.records if r.name.startswith(("bot", "dialogs", "telegram"))]
    assert not bad, [f"{r.name}: {r.getMessage()}" for r in bad[:5]]


# The crash campaign's journeys (tests/crash_harness.py) without their /demande: the second
# one whole, the third and the fourth up to their sixth step, then on to other screens.
SCRIPTS = [
    JOURNEYS[1][:-1],
    JOURNEYS[2][:6]
    + [
        ("cb", "fit"),
        ("cb", "answer:employee"),
        ("cb", "answer:cap_bep"),
        ("cb", "answer:progress"),
    ],
    JOURNEYS[3][:6] + [("cb", "domains"), ("cb", "domain:5")],
]


def expected_final(knowledge, script) -> Session:
    engine = Engine(knowledge)
    s = Session("expected")
    for kind, value in script:
        engine.handle(s, Event("text", value) if kind == "text" else Event("choice", value))
    return s


def inbox_size(db: Path) -> int:
    """Updates the bot fetched and has not finished (read from its database file)."""
    with contextlib.closing(sqlite3.connect(db)) as con:
        return con.execute("SELECT count(*) FROM inbox").fetchone()[0]


@pytest.mark.slow
def test_kill_9_at_random_points_then_everyone_resumes(api, knowledge, tmp_path):
    rng = random.Random(7)
    db = tmp_path / "db.sqlite3"
    users = {80_000 + i: list(SCRIPTS[i % len(SCRIPTS)]) for i in range(9)}
    remaining = {chat: list(steps) for chat, steps in users.items()}
    proc = start_bot_process(api, db)
    kills = 0
    try:
        while any(remaining.values()):
            chat = rng.choice([c for c, steps in remaining.items() if steps])
            kind, value = remaining[chat].pop(0)
            if kind == "text":
                api.push_text(chat, value)
            else:
                api.push_callback(chat, value, message_id=1)
            if rng.random() < 0.3:
                time.sleep(rng.choice([0.0, 0.005, 0.02, 0.08]))
                kill_hard(proc)
                kills += 1
                proc = start_bot_process(api, db)
        assert api.wait_until(lambda: api.pending_updates() == 0, 60)
        # Fetched is not handled: on a busy machine the last updates may still wait in the
        # bot's inbox, and a stop leaves them there for the next start.
        assert api.wait_until(lambda: inbox_size(db) == 0, 60)
    finally:
        proc.terminate()
        proc.wait(20)
    assert kills >= 20
    rows = dict(sqlite3.connect(db).execute("SELECT user, data FROM sessions"))
    for chat, script in users.items():
        expected = expected_final(knowledge, script)
        got = Session.from_json("x", rows[f"tg:{chat}"])
        assert (got.state, got.answers) == (expected.state, expected.answers), chat
        assert got.data.get("place") == expected.data.get("place")


async def test_faults_every_reply_once(api, knowledge, tmp_path):
    chats = list(range(60_000, 60_008))
    async with running_bot(api, knowledge, tmp_path / "db.sqlite3") as channel:
        api.push_text(59_999, "/aide")  # a clean run, to know what /aide sends
        assert await settled(api, channel)
        clean = [c.text for c in api.sent(59_999)]
        # A connection cut after Telegram applied the message: it must not come twice.
        api.inject(
            "sendMessage",
            Fault("429", 1),
            Fault("500"),
            Fault("apply_drop"),
            Fault("delay", 1.5),
            Fault("apply_drop"),
            Fault("500"),
            Fault("delay", 0.5),
            Fault("apply_drop"),
            Fault("apply_drop"),
            Fault("429", 1),
        )
        for chat in chats:
            api.push_text(chat, "/aide")
        assert await api.wait_async(lambda: all(len(api.sent(c)) >= len(clean) for c in chats), 60)
        assert await settled(api, channel, 60)
        for chat in chats:
            assert [c.text for c in api.sent(chat)] == clean  # all of them, once, in order


async def test_exhausted_retries_are_logged(api, knowledge, tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    async with running_bot(api, knowledge, tmp_path / "db.sqlite3") as channel:
        limiter = channel.app.bot.rate_limiter
        limiter.backoff = 0.01
        api.inject("sendMessage", *[Fault("500")] * (limiter.network_retries + 1))
        api.push_text(61_000, "/privacy")
        assert await api.wait_async(
            lambda: any("not delivered" in r.getMessage() for r in caplog.records), 20
        )
        api.push_text(61_001, "/start")  # the bot goes on
        assert await api.wait_async(lambda: len(api.sent(61_001)) >= 1)
    failed = [c for c in api.calls_of("sendMessage") if not c.ok]
    assert len(failed) == limiter.network_retries + 1


@pytest.mark.parametrize("breakage", ["read_only", "locked"])
async def test_broken_database_still_answers(api, knowledge, tmp_path, caplog, breakage):
    caplog.set_level(logging.ERROR)
    db = tmp_path / "db.sqlite3"
    async with running_bot(api, knowledge, db) as channel:
        other = None
        if breakage == "read_only":
            channel.storage.db.execute("PRAGMA query_only=1")
        else:
            channel.storage.db.execute("PRAGMA busy_timeout=200")
            other = sqlite3.connect(db, isolation_level=None)
            other.execute("BEGIN EXCLUSIVE")
        api.push_text(62_000, "/start")
        assert await api.wait_async(lambda: len(api.sent(62_000)) >= 1, 10)
        # The person is told plainly that nothing was saved, not shown a screen as if it was.
        assert "enregistrer" in api.sent(62_000)[0].text
        errors = [r.getMessage() for r in caplog.records if r.name == "bot.turn"]
        assert any("could not save" in e and ("readonly" in e or "locked" in e) for e in errors), (
            errors
        )
        if other is not None:
            other.execute("ROLLBACK")


async def test_inbox_left_by_a_crash_is_handled_first(api, knowledge, tmp_path):
    """An update received (written to the inbox, acknowledged) before a crash is handled
    at the next start, although Telegram will not send it again."""
    import json

    from bot.storage import Storage

    db = tmp_path / "db.sqlite3"
    store = Storage(db)
    update = {"update_id": 5000, "message": api.message(63_000, "/aide")}
    store.inbox_add([(5000, json.dumps(update))])
    store.close()
    async with running_bot(api, knowledge, db) as channel:
        assert await api.wait_async(lambda: len(api.sent(63_000)) >= 1)
        assert "Les commandes" in "\n".join(c.text for c in api.sent(63_000))
        assert await api.wait_async(lambda: channel.storage.inbox_pending() == [])


async def test_a_screen_cut_by_a_crash_is_completed_not_repeated(api, knowledge, tmp_path):
    """Killed after the first message of a two-message screen had gone out (the question
    with its "share my position" keyboard): at restart the turn is not applied twice, and
    only the second message is sent."""
    import json
    import time as clock

    from bot.storage import Storage
    from bot.turn import encode_replies
    from dialogs.model import Session

    db = tmp_path / "db.sqlite3"
    store = Storage(db)
    update = {"update_id": 5001, "message": api.message(63_001, "/contact")}
    store.inbox_add([(5001, json.dumps(update))])
    session = Session("tg:63001", state="where_ask")
    store.save(  # the turn and its replies, in one transaction, as the bot saves them
        session,
        applied=[(5001, clock.time())],
        update_id=5001,
        replies=encode_replies(Engine(knowledge).screen(session), False),
    )
    store.inbox_sent(5001, 1)  # "📍 Où habitez-vous ?" went out, then the process died
    store.close()
    async with running_bot(api, knowledge, db) as channel:
        assert await api.wait_async(lambda: channel.storage.inbox_pending() == [])
        assert await settled(api, channel)
        texts = [c.text for c in api.sent(63_001)]
    assert len(texts) == 1 and texts[0].startswith("Écrivez votre code postal")


@pytest.mark.parametrize("row", ["answered", "cut_short"])
async def test_an_update_telegram_delivers_again_is_answered_once(api, knowledge, tmp_path, row):
    """Telegram forgets an update only at the next getUpdates. Killed before that, the bot
    gets it again at its next start, although its turn was applied: either answered and out
    of the inbox already, or cut short with its inbox copy replayed beside the one Telegram
    sends again. Either way each reply goes out once and nothing else (the current screen
    once came again after a FAQ answer: every chat of the kill -9 campaign under load went
    off its transcript)."""
    import json

    from bot.storage import Storage
    from bot.turn import TurnRunner

    chat = 63_010
    body = {"message": api.message(chat, "combien ca coute")}  # a FAQ answer, not a screen
    update_id = api.push(body)  # not acknowledged: Telegram delivers it at the next start
    update = {"update_id": update_id, **body}
    # The killed process: the update in its inbox, the turn applied with its replies.
    store = Storage(tmp_path / "db.sqlite3")
    store.inbox_add([(update_id, json.dumps(update))])
    event = read(update, None).event
    assert event is not None
    replies = [
        r.text
        for r in TurnRunner(Engine(knowledge), store).run(f"tg:{chat}", event, update_id).replies
    ]
    if row == "answered":  # every reply went out and the row left the inbox
        store.inbox_done(update_id)
        left: list[str] = []
    else:  # all but the last went out
        store.inbox_sent(update_id, len(replies) - 1)
        left = replies[-1:]
    store.close()
    async with running_bot(api, knowledge, tmp_path / "db.sqlite3") as channel:
        assert await api.wait_async(lambda: channel.storage.inbox_pending() == [])
        assert await settled(api, channel)
        assert [c.text for c in api.sent(chat)] == left
        api.push_text(chat, "/aide")  # and the conversation goes on
        assert await api.wait_async(lambda: len(api.sent(chat)) > len(left))
        assert await settled(api, channel)
        assert api.sent(chat)[len(left)].text.startswith("ℹ️ Je réponds")


async def test_a_locked_database_holds_only_the_turns_that_need_it(api, knowledge, tmp_path):
    """SQLite runs on its own thread: while one person's turn waits for a lock held by
    another process, the event loop goes on — another person's button is answered first —
    and the waiting person is then told plainly that nothing was saved."""
    db = tmp_path / "db.sqlite3"
    async with running_bot(api, knowledge, db) as channel:
        api.push_text(64_000, "/start")
        assert await api.wait_async(lambda: len(api.sent(64_000)) >= 1)
        # The first update is out of the inbox before the lock is taken (on a busy machine
        # its deletion could come after, meet the lock and stay behind).
        assert await api.wait_async(lambda: channel.storage.inbox_pending() == [])
        other = sqlite3.connect(db, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # a backup, a second process: the write lock
        try:
            with api.together():  # one batch: both wait for the same inbox write
                api.push_text(64_000, "/aide")
                api.push_callback(64_001, "menu")
            assert await api.wait_async(lambda: api.calls_of("answerCallbackQuery"))
            # The button was answered while the first turn still waits for the lock.
            assert len(api.sent(64_000)) == 1
        finally:
            other.execute("ROLLBACK")
            other.close()
        # Then the turn is saved (the lock went before its retries ran out) or the person
        # is told it was not; never an error, never silence.
        assert await api.wait_async(lambda: len(api.sent(64_000)) >= 2)
        third = api.sent(64_000)[1].text
        assert third.startswith("ℹ️ Je réponds") or "enregistrer" in third
        assert await api.wait_async(
            lambda: channel.storage.inbox_pending() == [] or "enregistrer" in third
        )


async def test_a_save_waits_out_a_short_lock(api, knowledge, tmp_path):
    """A lock held a moment (a backup's checkpoint) costs a short wait, not the turn: the
    save is tried again and the person sees their screen."""
    import threading

    db = tmp_path / "db.sqlite3"
    async with running_bot(api, knowledge, db):
        api.push_text(64_100, "/start")
        assert await api.wait_async(lambda: len(api.sent(64_100)) >= 1)
        other = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")
        threading.Timer(0.3, lambda: other.execute("ROLLBACK")).start()
        api.push_text(64_100, "/aide")
        assert await api.wait_async(lambda: len(api.sent(64_100)) >= 2)
        assert api.sent(64_100)[1].text.startswith("ℹ️ Je réponds")
        other.close()


def test_a_read_only_database_file(knowledge):
    """A database file the bot may read but not write (mode 0444, owned by someone else):
    each turn tells the person plainly that nothing was saved, and the log says so once a
    minute, not once a turn. Root ignores file modes, so under root the turns run in a
    forked child that gives up root first (nothing left to import: it has the engine)."""
    import json
    import os
    import shutil
    import tempfile

    from bot.storage import Storage
    from bot.turn import TurnRunner

    engine = Engine(knowledge)
    engine.handle(Session("warm"), Event("start"))  # templates compiled before the fork
    folder = Path(tempfile.mkdtemp(prefix="clea-ro-"))
    try:
        db = folder / "db.sqlite3"
        Storage(db).close()
        folder.chmod(0o777)  # the -wal and -shm files may be made; the database may not change
        db.chmod(0o444)
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: a bot process that does not own its database
            out: dict = {}
            try:
                if os.getuid() == 0:
                    os.setgid(65534)
                    os.setuid(65534)
                errors: list[str] = []
                handler = logging.Handler(logging.ERROR)
                handler.emit = lambda record: errors.append(record.getMessage())
                logging.getLogger("bot.turn").addHandler(handler)
                runner = TurnRunner(engine, Storage(db))
                results = [runner.run("tg:1", Event("start"), n) for n in (1, 2, 3)]
                out = {
                    "saved": [r.saved for r in results],
                    "texts": [r.replies[0].text for r in results],
                    "errors": errors,
                }
            except BaseException as exc:
                out = {"crash": repr(exc)}
            finally:
                os.write(write, json.dumps(out).encode())
                os._exit(0)
        os.close(write)
        with os.fdopen(read) as pipe:
            out = json.loads(pipe.read())
        os.waitpid(pid, 0)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert "crash" not in out, out
    assert out["saved"] == [False, False, False]
    assert all("enregistrer" in t for t in out["texts"])
    assert len(out["errors"]) == 1 and "readonly" in out["errors"][0], out["errors"]


def test_a_long_lock_costs_each_waiting_person_one_short_wait(knowledge, tmp_path):
    """While another process holds the write lock, the first turn retries its save, and
    the turns behind it try once: with the default busy timeout, ten people get "not
    saved" after about 2.5 s of database time in all, not ten retry series (about 12 s).
    (A shorter busy timeout here: the test counts the tries.)"""
    from bot.storage import Storage
    from bot.turn import TurnRunner

    db = tmp_path / "db.sqlite3"
    runner = TurnRunner(Engine(knowledge), Storage(db, timeout=0.05))
    calls = []
    save = runner.storage.save

    def counted_save(*args):
        calls.append(1)
        return save(*args)

    runner.storage.save = counted_save
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        results = [runner.run(f"tg:{n}", Event("start"), n) for n in range(10)]
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert [r.saved for r in results] == [False] * 10
    assert len(calls) == 3 + 9  # three tries for the first, one for each after it
    assert runner.run("tg:99", Event("start"), 99).saved  # the lock is gone: saved


@pytest.mark.parametrize("typed", ["/demande", "c'est payant ?", "merci beaucoup"])
async def test_a_turn_saved_but_not_answered_sends_its_own_replies(api, knowledge, tmp_path, typed):
    """Killed after the turn was saved, before any reply went out: at restart the turn is
    not applied again, and exactly its own replies are sent (a FAQ answer, a /demande
    status), not the person's current screen instead."""
    import json

    from bot.storage import Storage
    from bot.turn import TurnRunner

    db = tmp_path / "db.sqlite3"
    store = Storage(db)
    update = {"update_id": 5002, "message": api.message(63_002, typed)}
    store.inbox_add([(5002, json.dumps(update))])
    engine = Engine(knowledge)
    event = read(update, None).event
    applied = TurnRunner(engine, store).run("tg:63002", event, 5002)  # then the crash
    screen = [r.text for r in engine.screen(store.load("tg:63002"))]
    store.close()
    expected = [r.text for r in applied.replies if r.voice is None]
    assert expected != screen
    async with running_bot(api, knowledge, db) as channel:
        assert await api.wait_async(lambda: channel.storage.inbox_pending() == [])
        assert await settled(api, channel)
        assert [c.text for c in api.sent(63_002)] == expected


async def test_a_replay_does_not_repeat_the_keyboard_removal_already_sent(api, knowledge, tmp_path):
    """A turn whose replies all carry buttons removes the native keyboard with a short
    '👌' first. Killed after it went out: the replay sends the rest, not '👌' again."""
    import json
    import time as clock

    from bot.storage import Storage
    from bot.turn import encode_replies
    from dialogs.model import Button, Reply, Session

    db = tmp_path / "db.sqlite3"
    store = Storage(db)
    update = {"update_id": 5003, "message": api.message(63_003, "oui")}
    store.inbox_add([(5003, json.dumps(update))])
    screen = Reply("Quelle est votre situation ?", ((Button("Salarié", "answer:employee"),),))
    store.save(
        Session("tg:63003", state="fit_situation"),
        applied=[(5003, clock.time())],
        update_id=5003,
        replies=encode_replies([screen], True),
    )
    store.inbox_sent(5003, 1)  # '👌' went out, then the process died
    store.close()
    async with running_bot(api, knowledge, db) as channel:
        assert await api.wait_async(lambda: channel.storage.inbox_pending() == [])
        assert await settled(api, channel)
        assert [c.text for c in api.sent(63_003)] == [screen.text]


@pytest.mark.slow
async def test_a_backlog_never_blinds_the_bot(api, knowledge, tmp_path):
    """600 people's updates left in the inbox by a stop (more conversations than the bot
    takes in hand at once): polling starts at once, a new person is answered before most
    of the backlog, and a person of the backlog who writes again gets that answer after
    the ones of their backlog. (The old start queued the whole backlog first.)"""
    import itertools
    import json

    from bot.storage import Storage

    api.latency = 0.05
    api._update_ids = itertools.count(100_000)  # Telegram's next ids, above the backlog's
    db = tmp_path / "db.sqlite3"
    backlog = list(range(70_000, 70_600))
    store = Storage(db)
    rows = [
        (i, json.dumps({"update_id": i, "message": api.message(chat, "/start")}))
        for i, chat in enumerate(backlog, 1)
    ]
    for text in ("/aide", "/menu"):  # the last person had written three times
        rows.append(
            (
                len(rows) + 1,
                json.dumps({"update_id": len(rows) + 1, "message": api.message(backlog[-1], text)}),
            )
        )
    store.inbox_add(rows)
    store.close()
    async with running_bot(api, knowledge, db) as channel:
        api.push_text(71_000, "/start")
        api.push_text(backlog[-1], "/privacy")
        assert await api.wait_async(lambda: api.sent(71_000), 30)
        answered = sum(len(api.sent(chat)) for chat in backlog)
        assert answered < len(rows) // 2, answered  # not behind the whole backlog
        assert await api.wait_async(lambda: all(api.sent(c) for c in backlog), 60)
        assert await settled(api, channel)
        last = [c.text for c in api.sent(backlog[-1])]
        assert len(last) == 4 and "Bonjour" in last[0] and "Vos données" in last[3]
        assert "Les commandes" in last[1]


def test_the_backlog_is_sorted_by_the_same_chats_as_new_updates():
    """A backlog row's chat is read from its JSON (before it is parsed); it must be the
    chat a new update of the same person is held under."""
    from bot.transport.inbox import chat_of, raw_chat_key
    from bot.transport.incoming import read
    from tests.fake_bot_api import FakeBotApi

    api = FakeBotApi()
    bodies = [
        {"message": api.message(5, "bonjour")},
        {"edited_message": api.message(6, "bonjour")},
        {"message": api.message(-100123, "/start", 7, "supergroup")},
        {"channel_post": api.message(-100999, "annonce", None, "channel")},
        {
            "callback_query": {
                "id": "q",
                "from": api.user(8),
                "chat_instance": "c",
                "data": "x",
                "message": api.message(8, "…"),
            }
        },
        {
            "callback_query": {
                "id": "q",
                "from": api.user(9),
                "chat_instance": "c",
                "data": "x",
                "inline_message_id": "i",
            }
        },
        {"inline_query": {"id": "i", "from": api.user(10), "query": "", "offset": ""}},
    ]
    for i, body in enumerate(bodies, 1):
        raw = {"update_id": i, **body}
        assert raw_chat_key(raw) == chat_of(read(raw, None)), body
