"""Erased means erased: after /oubli, none of the person's bytes in the database, its -wal
or its -shm file — read raw, as a kill -9 leaves them, without a checkpoint first — and
nothing about them sent afterwards, not even a note the outbox was retrying."""

from __future__ import annotations

import time

import pytest

from bot.storage import Storage
from tests.db_helpers import count
from tests.telegram_helpers import kill_hard, start_bot_process

USER = 987_654_321
SHARED = -100_777
TYPED = "xyzzyplugh est-ce que c'est payant"
NAME = "Zoelinette"


def _offers(api, data: str) -> bool:
    sent = api.sent(USER)
    return bool(sent) and data in sent[-1].callback_data()


def _step(api, action, until) -> None:
    action()
    assert api.wait_until(until, 20), [c.text[:60] for c in api.sent(USER)[-3:]]


def _journey_to_a_request(api) -> None:
    """A typed question, the place, the questions, then a request with name and phone."""
    n = len(api.sent(USER))
    _step(api, lambda: api.push_text(USER, "/start contact"), lambda: len(api.sent(USER)) >= n + 2)
    n = len(api.sent(USER))
    _step(api, lambda: api.push_text(USER, TYPED), lambda: len(api.sent(USER)) > n)
    n = len(api.sent(USER))
    _step(api, lambda: api.push_text(USER, "/start contact"), lambda: len(api.sent(USER)) >= n + 2)
    for action, then in [
        (lambda: api.push_text(USER, "69003"), "yes"),
        (lambda: api.press(USER, "yes"), "answer:job_seeker"),
        (lambda: api.press(USER, "answer:job_seeker"), "answer:no"),
        (lambda: api.press(USER, "answer:no"), "handoff"),
        (lambda: api.press(USER, "handoff"), "yes"),
    ]:
        _step(api, action, lambda t=then: _offers(api, t))
    _step(
        api,
        lambda: api.press(USER, "yes"),
        lambda: "keyboard" in (api.sent(USER)[-1].params.get("reply_markup") or {}),
    )
    _step(
        api,
        lambda: api.push(
            {
                "message": api.message(
                    USER,
                    None,
                    contact={"phone_number": "+33698765432", "first_name": NAME, "user_id": USER},
                )
            }
        ),
        lambda: any("enregistrée" in c.text for c in api.sent(USER)[-3:]),
    )


@pytest.mark.integration
def test_after_forget_and_kill_9_no_byte_of_the_person_is_left(api, tmp_path):
    db = tmp_path / "db.sqlite3"
    env = {"CLEA_ADVISER_CHAT_ID": str(SHARED)}
    api.chat_faults[SHARED] = 500  # the note is being retried when the person leaves
    proc = start_bot_process(api, db, **env)
    try:
        _journey_to_a_request(api)
        assert api.wait_until(
            lambda: any(not c.ok and c.chat_id == SHARED for c in api.calls_of("sendMessage")), 20
        )
        _step(api, lambda: api.push_text(USER, "/oubli"), lambda: _offers(api, "forget_yes"))
        _step(
            api,
            lambda: api.press(USER, "forget_yes"),
            lambda: any("effacées" in c.text for c in api.sent(USER)[-2:]),
        )
        api.chat_faults.clear()  # Telegram is back: the note must not go now
        time.sleep(2.5)
        # As kill -9 leaves them: no clean stop, no checkpoint by anyone.
        kill_hard(proc)
        files = {
            p.name: p.read_bytes()
            for p in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm"))
            if p.exists()
        }
        assert db.name in files
        store = Storage(db)  # only now: opening the database may checkpoint it
        secrets = [
            f"tg:{USER}",
            str(USER),
            store.person(f"tg:{USER}"),
            "98 76 54 32",
            "698765432",
            NAME,
            "xyzzyplugh",
        ]
        store.close()
        for name, raw in files.items():
            for secret in secrets:
                assert secret.encode() not in raw, (name, secret)
        proc = start_bot_process(api, db, **env)
        time.sleep(2.0)
    finally:
        kill_hard(proc)
    assert not [c for c in api.sent(SHARED) if "Demande" in c.text]


async def test_forgetting_cancels_the_note_in_flight(knowledge, tmp_path):
    """The worker is waiting on Telegram (or between two tries) with a note about the
    person when they erase their data: that send is cancelled, the worker goes on with the
    next row, and a row read before the erasure is skipped."""
    import asyncio

    from bot.outbox import Outbox
    from bot.storage import NewRequest
    from dialogs.engine import Engine
    from dialogs.model import Session

    storage = Storage(tmp_path / "db.sqlite3")
    for user in ("tg:1", "tg:2", "tg:1"):
        storage.save(Session(user), [NewRequest(user, "", "", SHARED, f"note de {user}")])
    outbox = Outbox(Engine(knowledge, handoff_enabled=True), storage, SHARED)
    started, delivered = asyncio.Event(), []

    class SlowBot:
        async def send_message(self, chat_id, text, **kwargs):
            started.set()
            if text == "note de tg:1":
                await asyncio.sleep(30)  # Telegram slow, or a retry's pause
            delivered.append(text)
            return type("Message", (), {"message_id": len(delivered)})()

    flush = asyncio.create_task(outbox.flush(SlowBot()))
    await asyncio.wait_for(started.wait(), 5)
    storage.erase("tg:1")
    outbox.forget("tg:1")
    assert await asyncio.wait_for(flush, 5) == 1
    assert delivered == ["note de tg:2"]  # the second note of tg:1 was skipped too
    assert count(storage, "outbox") == 0
