"""The Telegram channel against a real local HTTP server speaking the Bot API."""

from __future__ import annotations

import asyncio
import json
import signal
import time
import urllib.error
import urllib.request

import pytest

from tests.fake_bot_api import Fault
from tests.menus import MAIN_MENU
from tests.telegram_helpers import kill_hard, running_bot, start_bot_process

CHAT = 4242


def texts(api, chat=CHAT):
    return [c.text for c in api.sent(chat)]


async def wait_screen(api, chat, before, timeout=10.0):
    """Wait for the end of a turn: a new message that carries an inline keyboard."""

    def done():
        new = api.sent(chat)[before:]
        return bool(new) and bool(new[-1].callback_data())

    assert await api.wait_async(done, timeout), texts(api, chat)
    return api.sent(chat)[before:]


async def wait_texts(api, chat, count, timeout=10.0):
    assert await api.wait_async(lambda: len(api.sent(chat)) >= count, timeout), texts(api, chat)
    await asyncio.sleep(0.05)  # let any extra message of the same turn arrive
    return api.sent(chat)


async def test_whole_conversation_by_messages_and_buttons(api, knowledge, tmp_path):
    async with running_bot(api, knowledge, tmp_path / "db.sqlite3"):
        # Registered in the background, alongside the first poll.
        assert await api.wait_async(lambda: api.calls_of("setMyCommands"), 10)
        commands = api.calls_of("setMyCommands")
        assert commands and {c["command"] for c in commands[0].params["commands"]} >= {
            "start",
            "menu",
            "aide",
            "recommencer",
            "oubli",
        }
        api.push_text(CHAT, "/start")
        sent = await wait_texts(api, CHAT, 1)  # the welcome is the menu's first paragraph
        assert len(sent) == 1 and "Bonjour" in sent[0].text
        assert sent[-1].callback_data() == MAIN_MENU  # "🔊 Tout écouter"
        menu_id = sent[-1].params["_message_id"]
        # A one-message screen replaces the pressed one instead of piling up.
        api.press(CHAT, "steps")
        assert await api.wait_async(lambda: len(api.calls_of("editMessageText")) == 1)
        assert "Étape 1 sur 7" in api.calls_of("editMessageText")[0].text
        api.push_callback(CHAT, "step:1", menu_id)
        assert await api.wait_async(lambda: len(api.calls_of("editMessageText")) == 2)
        edit = api.calls_of("editMessageText")[-1]
        assert "Étape 2 sur 7" in edit.text
        assert int(edit.params["message_id"]) == menu_id
        # Each button is answered, in the background (the edit may come first).
        assert await api.wait_async(lambda: len(api.calls_of("answerCallbackQuery")) == 2)
        n = len(api.sent(CHAT))
        api.push_text(CHAT, "/menu")
        await wait_texts(api, CHAT, n + 1)
        for choice in (
            "fit",
            "answer:job_seeker",
            "answer:none",
            "answer:job",
            "answer:easy",
            "skip",
        ):
            n = len(api.sent(CHAT))
            api.press(CHAT, choice)
            await wait_texts(api, CHAT, n + 1)
        assert any("fait pour vous" in t for t in texts(api))
        n = len(api.sent(CHAT))
        api.press(CHAT, "where")
        await wait_texts(api, CHAT, n + 1)
        n = len(api.sent(CHAT))
        api.push_text(CHAT, "42000")
        confirm = await wait_screen(api, CHAT, n)
        assert "Saint-Étienne (42)" in confirm[0].text and "C'est bien là" in confirm[-1].text
        n = len(api.sent(CHAT))
        api.press(CHAT, "yes")
        sent = await wait_texts(api, CHAT, n + 1)
        card = "\n".join(c.text for c in sent[n:])
        assert "Ma fiche CléA" in card and "France Travail" in card and "3949" in card
        urls = [b.get("url") for c in sent[n:] for b in c.buttons() if b.get("url")]
        assert "https://www.francetravail.fr" in urls
        assert all(c.params.get("parse_mode") == "HTML" for c in sent)


async def test_a_webhook_left_set_is_removed_when_polling_meets_it(api, knowledge, tmp_path):
    """Telegram refuses getUpdates (409) while a webhook is set: the bot removes it then,
    once, keeping the updates waiting, and answers."""
    api.webhook_url = "https://old.example/hook"
    api.push_text(CHAT, "/start")
    async with running_bot(api, knowledge, tmp_path / "db.sqlite3"):
        sent = await wait_texts(api, CHAT, 1)
        assert "Bonjour" in sent[0].text
        deletions = api.calls_of("deleteWebhook")
        assert len(deletions) == 1 and deletions[0].params.get("drop_pending_updates") is False
        assert api.webhook_url == ""


async def test_one_message_per_screen_edited_in_place_or_kept(api, knowledge, tmp_path):
    """A tap on the current screen replaces it; an FAQ answer is kept (the next screen
    comes below it); a tap on an older screen brings the screen below, not up there."""
    async with running_bot(api, knowledge, tmp_path / "db.sqlite3"):
        api.push_text(CHAT, "/start")
        menu = (await wait_texts(api, CHAT, 1))[-1].params["_message_id"]
        api.push_callback(CHAT, "discover", menu)
        assert await api.wait_async(lambda: len(api.calls_of("editMessageText")) == 1)
        n = len(api.sent(CHAT))
        api.push_text(CHAT, "c'est payant ?")
        answer = await wait_screen(api, CHAT, n)
        assert len(answer) == 1 and "resume" in answer[0].callback_data()
        api.push_callback(CHAT, "resume", answer[0].params["_message_id"])
        back = await wait_screen(api, CHAT, n + 1)
        assert back[0].method == "sendMessage"  # the answer stays readable above
        assert len(api.calls_of("editMessageText")) == 1
        api.push_callback(CHAT, "fit", menu)  # the first screen, far above now
        again = await wait_screen(api, CHAT, n + 2)
        assert again[0].method == "sendMessage" and "Question 1" in again[0].text
        assert len(api.calls_of("editMessageText")) == 1


async def test_forged_and_stale_buttons(api, knowledge, tmp_path):
    async with running_bot(api, knowledge, tmp_path / "db.sqlite3"):
        api.push_text(CHAT, "/start")
        await wait_texts(api, CHAT, 1)
        for data in ("zz:999", "answer:employee", "domain:-1"):
            n = len(api.sent(CHAT))
            api.push_callback(CHAT, data)
            sent = await wait_texts(api, CHAT, n + 1)
            assert "plus valable" in sent[-1].text
        assert len(api.calls_of("answerCallbackQuery")) == 3


async def test_non_text_messages_and_groups(api, knowledge, tmp_path):
    async with running_bot(api, knowledge, tmp_path / "db.sqlite3"):
        api.push(
            {
                "message": api.message(
                    CHAT,
                    None,
                    sticker={
                        "file_id": "s",
                        "file_unique_id": "s",
                        "type": "regular",
                        "width": 1,
                        "height": 1,
                        "is_animated": False,
                        "is_video": False,
                    },
                )
            }
        )
        sent = await wait_texts(api, CHAT, 1)
        assert "messages écrits" in sent[-1].text
        api.push_text(-100123, "/start", chat_type="supergroup", user_id=7)
        api.push_text(-100123, "bonjour tout le monde", chat_type="supergroup", user_id=7)
        api.push_text(-100999, "annonce", chat_type="channel")
        assert await api.wait_async(lambda: api.sent(-100123))
        await asyncio.sleep(0.3)
        group = api.sent(-100123)
        assert len(group) == 1 and "en privé" in group[0].text
        assert group[0].buttons()[0]["url"] == "https://t.me/clea_test_bot"
        assert not api.sent(-100999)


async def test_429_retry_after_is_waited_out(api, knowledge, tmp_path):
    async with running_bot(api, knowledge, tmp_path / "db.sqlite3"):
        api.inject("sendMessage", Fault("429", 1))
        started = time.monotonic()
        api.push_text(CHAT, "/aide")
        sent = await wait_texts(api, CHAT, 1, timeout=15)
        assert time.monotonic() - started >= 1.0
        failed = [c for c in api.calls_of("sendMessage") if not c.ok]
        assert len(failed) == 1
        assert sum("Les commandes" in c.text for c in sent) == 1  # delivered once


async def test_a_429_holds_only_its_chat_and_each_chat_is_paced(api, knowledge, tmp_path):
    """Telegram's 429 for one chat delays that chat only; a chat sent many messages at once
    gets a short burst, then about one a second (it would earn a 429 otherwise)."""
    async with running_bot(api, knowledge, tmp_path / "db.sqlite3", chat_rate=1.0, chat_burst=2):
        api.inject("sendMessage", Fault("429", 3))
        api.push_text(CHAT, "/aide")
        assert await api.wait_async(lambda: any(not c.ok for c in api.calls_of("sendMessage")))
        other = CHAT + 1
        api.push_text(other, "/aide")
        assert await api.wait_async(lambda: api.sent(other), 10)
        assert not api.sent(CHAT)  # still waiting out its own 429
        assert await api.wait_async(lambda: api.sent(CHAT), 10)
        assert api.sent(CHAT)[0].at > api.sent(other)[0].at
        busy = CHAT + 2
        for _ in range(4):
            api.push_text(busy, "/aide")
        assert await api.wait_async(lambda: len(api.sent(busy)) == 4, 15)
        at = [c.at for c in api.sent(busy)]
        assert at[3] - at[0] >= 1.5  # two at once, then one a second


async def test_server_errors_are_retried(api, knowledge, tmp_path):
    async with running_bot(api, knowledge, tmp_path / "db.sqlite3"):
        api.inject("sendMessage", Fault("500"), Fault("500"))
        api.push_text(CHAT, "/start")
        sent = await wait_texts(api, CHAT, 1, timeout=20)
        assert sum("Bonjour" in c.text for c in sent) == 1
        assert len([c for c in api.calls_of("sendMessage") if not c.ok]) == 2


async def test_a_message_is_never_sent_twice_after_a_cut_connection(api, knowledge, tmp_path):
    """Telegram applied it, then the connection broke: the client cannot tell, so a
    sendMessage is not repeated (a duplicate note could make two advisers call)."""
    async with running_bot(api, knowledge, tmp_path / "db.sqlite3"):
        api.inject("sendMessage", Fault("apply_drop"))
        api.push_text(CHAT, "/start")
        sent = await wait_texts(api, CHAT, 1, timeout=20)
        await api.wait_async(lambda: False, 0.5)
        assert sum("Bonjour" in c.text for c in api.sent(CHAT)) == 1
        assert len(sent) == 1


async def test_two_hundred_chats_at_once(api, knowledge, tmp_path):
    chats = list(range(10_000, 10_200))
    async with running_bot(api, knowledge, tmp_path / "db.sqlite3"):
        for chat in chats:
            api.push_text(chat, "/start")
        for chat in chats:
            api.push_callback(chat, "fit")
        for i, chat in enumerate(chats):
            api.push_callback(chat, "answer:employee" if i % 2 else "answer:job_seeker")
        assert await api.wait_async(lambda: all(len(api.sent(c)) >= 3 for c in chats), 60)
        for chat in chats:
            got = texts(api, chat)  # buttons of unknown messages: each screen comes below
            assert "Bonjour" in got[0]
            assert "Question 1 sur 5" in got[1]
            assert "Question 2 sur 5" in got[2]
        channel_db = tmp_path / "db.sqlite3"
    import sqlite3

    rows = dict(sqlite3.connect(channel_db).execute("SELECT user, data FROM sessions"))
    for i, chat in enumerate(chats):
        data = json.loads(rows[f"tg:{chat}"])
        assert data["a"] == {"situation": "employee" if i % 2 else "job_seeker"}


async def test_handoff_through_telegram(api, knowledge, tmp_path):
    advisers = -100777
    async with running_bot(api, knowledge, tmp_path / "db.sqlite3", adviser_chat_id=advisers):
        api.push_text(CHAT, "/start contact")
        await wait_texts(api, CHAT, 1)
        for step in ("75011", "yes", "answer:employee", "answer:no", "handoff", "no", "handoff"):
            n = len(api.sent(CHAT))
            if step.isdigit():
                api.push_text(CHAT, step)
            else:
                api.press(CHAT, step)
            await wait_screen(api, CHAT, n)
        n = len(api.sent(CHAT))
        api.press(CHAT, "yes")
        await wait_texts(api, CHAT, n + 1)
        assert not api.sent(advisers)  # refused first: nothing was sent
        ask = api.sent(CHAT)[-1]
        keyboard = ask.params["reply_markup"]["keyboard"]
        assert keyboard[0][0]["request_contact"] is True
        n = len(api.sent(CHAT))
        api.push(
            {
                "message": api.message(
                    CHAT,
                    None,
                    contact={"phone_number": "+33612345678", "first_name": "Test", "user_id": CHAT},
                )
            }
        )
        await wait_texts(api, CHAT, n + 2)
        assert await api.wait_async(lambda: api.sent(advisers))
        note = api.sent(advisers)[0].text
        assert "+33 6 12 34 56 78" in note and "Paris (75)" in note and "Test" in note
        confirmation = api.sent(CHAT)[n]
        assert "enregistrée" in confirmation.text
        assert confirmation.params["reply_markup"] == {"remove_keyboard": True}


@pytest.mark.slow
def test_kill_9_mid_conversation_then_resume(api, tmp_path):
    db = tmp_path / "db.sqlite3"
    proc = start_bot_process(api, db)
    try:
        api.push_text(CHAT, "/start")
        api.wait_for_replies(CHAT, 2)
        for choice, count in (("fit", 4), ("answer:job_seeker", 5), ("answer:none", 6)):
            api.press(CHAT, choice)
            api.wait_for_replies(CHAT, count)
        assert "Question 3 sur 5" in texts(api)[-1]
    finally:
        kill_hard(proc)
    proc = start_bot_process(api, db)
    try:
        api.press(CHAT, "answer:digital")
        # Killed before the last update left the inbox, its reply may come once more
        # first (a repeat the crash allows): wait for the next question itself.
        assert api.wait_until(lambda: "Question 4 sur 5" in texts(api)[-1])
        for choice in ("answer:easy", "skip"):
            n = len(api.sent(CHAT))
            api.press(CHAT, choice)
            api.wait_for_replies(CHAT, n + 1)
        # The result ends with the message that carries the "who to contact" button.
        assert api.wait_until(lambda: "where" in api.sent(CHAT)[-1].callback_data())
        result = "\n".join(texts(api)[n:])
        # Answers given before the kill are still there: job seeker without diploma.
        assert "fait pour vous" in result and "France Travail" in result
        assert "CléA numérique" in result
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0  # graceful shutdown on SIGTERM


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_webhook_bot(api, db, port):
    import subprocess
    import sys

    from tests.telegram_helpers import ROOT, bot_env

    before = len(api.calls_of("setWebhook"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "telegram"],
        cwd=ROOT,
        env=bot_env(
            api,
            db,
            CLEA_WEBHOOK_URL=f"http://127.0.0.1:{port}/hook",
            CLEA_WEBHOOK_SECRET="s3cret",
            CLEA_WEBHOOK_LISTEN="127.0.0.1",
            CLEA_WEBHOOK_PORT=str(port),
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert api.wait_until(lambda: len(api.calls_of("setWebhook")) > before, 30)
    return proc


def post_update(port, update, secret="s3cret"):
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/hook",
        data=json.dumps(update).encode(),
        headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret},
    )
    try:
        return urllib.request.urlopen(req, timeout=5).status
    except urllib.error.HTTPError as err:
        return err.code
    except OSError:
        return None


def test_webhook_checks_the_secret(api, tmp_path):
    port = free_port()
    proc = start_webhook_bot(api, tmp_path / "db.sqlite3", port)
    try:
        hook = api.calls_of("setWebhook")[0].params
        assert hook["url"] == f"http://127.0.0.1:{port}/hook" and hook["secret_token"] == "s3cret"
        update = {"update_id": 1, "message": api.message(CHAT, "/start")}
        assert api.wait_until(lambda: post_update(port, update, "wrong") == 403, 10)
        assert not api.sent(CHAT)
        assert post_update(port, update) == 200
        assert api.wait_for_replies(CHAT, 1)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)


def test_webhook_update_survives_kill_9_after_its_200(api, tmp_path):
    """Telegram will not resend an update it got a 200 for: the inbox must keep it."""
    db, port = tmp_path / "db.sqlite3", free_port()
    proc = start_webhook_bot(api, db, port)
    try:
        api.inject("sendMessage", Fault("delay", 1.5))  # handling is still going on…
        update = {"update_id": 7, "message": api.message(CHAT, "/aide")}
        assert api.wait_until(lambda: post_update(port, update) == 200, 10)
        kill_hard(proc)  # …when the process dies
        assert not api.sent(CHAT)
        proc = start_webhook_bot(api, db, free_port())
        # The killed process never got its answer out (held 1.5 s by the server), so the
        # answer can only come from the replay.
        assert api.wait_until(lambda: any("Les commandes" in c.text for c in api.sent(CHAT)), 20)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)


async def test_shared_location_finds_the_nearest_town(api, knowledge, tmp_path):
    async with running_bot(api, knowledge, tmp_path / "db.sqlite3"):
        api.push_text(CHAT, "/start contact")
        sent = await wait_texts(api, CHAT, 1)
        ask = [c for c in sent if (c.params.get("reply_markup") or {}).get("keyboard")]
        assert ask[0].params["reply_markup"]["keyboard"][0][0]["request_location"] is True
        n = len(api.sent(CHAT))
        api.push(
            {
                "message": api.message(
                    CHAT, None, location={"latitude": 45.4339, "longitude": 4.3900}
                )
            }
        )
        confirm = await wait_screen(api, CHAT, n)
        assert "près de Saint-Étienne (42)" in confirm[0].text
        # Leaving the question removes the "send my position" keyboard.
        assert confirm[0].params["reply_markup"] == {"remove_keyboard": True}


async def test_leaving_the_place_question_removes_the_position_keyboard(api, knowledge, tmp_path):
    async with running_bot(api, knowledge, tmp_path / "db.sqlite3"):
        api.push_text(CHAT, "/start contact")
        await wait_screen(api, CHAT, 0)
        n = len(api.sent(CHAT))
        api.press(CHAT, "menu")  # the menu is one message with an inline keyboard
        sent = await wait_screen(api, CHAT, n)
        assert sent[0].params["reply_markup"] == {"remove_keyboard": True}
        assert sent[-1].callback_data()[0] == "discover"


def raw_post(port: int, headers: dict[str, str], body: bytes = b"") -> int | None:
    """A request whose headers announce what they like; the body may never be sent."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.putrequest("POST", "/hook")
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.endheaders()
        if body:
            conn.send(body)
        return conn.getresponse().status
    except OSError:
        return None
    finally:
        conn.close()


def test_webhook_refuses_before_reading_the_body(api, tmp_path):
    """A wrong secret gets 403, a body over 1 MB gets 413, both answered from the headers
    alone: 90 MB announced (and never sent) cost the bot nothing."""
    port = free_port()
    proc = start_webhook_bot(api, tmp_path / "db.sqlite3", port)
    try:
        huge = {"Content-Type": "application/json", "Content-Length": str(90 * 1024 * 1024)}
        assert api.wait_until(
            lambda: raw_post(port, {**huge, "X-Telegram-Bot-Api-Secret-Token": "wrong"}) == 403, 10
        )
        assert raw_post(port, {**huge, "X-Telegram-Bot-Api-Secret-Token": "s3cret"}) == 413
        assert (
            raw_post(
                port,
                {
                    "Content-Type": "application/json",
                    "Content-Length": "5",
                    "X-Telegram-Bot-Api-Secret-Token": "s3cret",
                },
                b"{nope",
            )
            == 400
        )
        update = {"update_id": 3, "message": api.message(CHAT, "/start")}
        assert post_update(port, update) == 200  # and real updates still go through
        assert api.wait_for_replies(CHAT, 1)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)


def test_webhook_update_ids_restarting_lower(api, tmp_path):
    """Telegram restarts update ids lower after a quiet week, webhook mode too: the person's
    next messages are answered, not taken for replays of what they sent before."""
    port = free_port()
    proc = start_webhook_bot(api, tmp_path / "db.sqlite3", port)
    try:
        start = {"update_id": 5_000_000, "message": api.message(CHAT, "/start")}
        assert api.wait_until(lambda: post_update(port, start) == 200, 10)
        assert api.wait_for_replies(CHAT, 1)
        again = {"update_id": 1_234, "message": api.message(CHAT, "/aide")}
        assert post_update(port, again) == 200
        assert api.wait_until(lambda: any("Les commandes" in c.text for c in api.sent(CHAT)), 20)
        then = {"update_id": 1_235, "message": api.message(CHAT, "/menu")}
        assert post_update(port, then) == 200
        assert api.wait_until(lambda: len(api.sent(CHAT)) >= 3, 20)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
