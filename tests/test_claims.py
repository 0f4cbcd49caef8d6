"""Who may take a contact request: only a declared adviser, only in a chat the note was
sent to, once. Through the local Bot API server, since a forged or replayed update is what
a stranger can send (Telegram's own servers check callback data; the bot must not rely on
it)."""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter

from bot.outbox import Outbox
from bot.storage import NewRequest, Storage
from dialogs.engine import Engine
from dialogs.model import Session
from knowledge.advisers import Adviser
from tests.db_helpers import count, query, write
from tests.telegram_helpers import running_bot, settled
from tests.test_adviser_network import ML, ML_ID, PERSON, SHARED, ask_to_be_called, walk_to_recap

ML2_ID, MEMBER, STRANGER = 800002, 555_001, 555_002
ML2 = Adviser(ML2_ID, "mlautre", "Alex", "Mission locale Autre")
ADVISERS = {ML_ID: ML, ML2_ID: ML2}


def toasts(api) -> list[str]:
    return [c.params.get("text", "") for c in api.calls_of("answerCallbackQuery")]


def person_told(api) -> list[str]:
    return [
        c.text
        for c in api.sent(PERSON)
        if "va vous appeler" in c.text or "ne peut pas vous rappeler" in c.text
    ]


def status(db) -> str:
    return sqlite3.connect(db).execute("SELECT status FROM requests").fetchone()[0]


async def shared_request(api):
    """A person's request, in the shared advisers' chat: (its note, its token)."""
    await walk_to_recap(api)
    await ask_to_be_called(api)
    assert await api.wait_async(lambda: any("Demande" in c.text for c in api.sent(SHARED)))
    note = [c for c in api.sent(SHARED) if "Demande" in c.text][0]
    token = note.callback_data()[0].split(":", 1)[1]
    return note, token


async def test_only_a_declared_adviser_in_the_notes_chat_takes_a_request(api, knowledge, tmp_path):
    db = tmp_path / "db.sqlite3"
    async with running_bot(
        api, knowledge, db, adviser_chat_id=SHARED, advisers=ADVISERS
    ) as channel:
        note, token = await shared_request(api)
        assert len(token) >= 20 and not token.isdigit()  # not a sequential id
        assert len(f"claim:{token}".encode()) <= 64  # Telegram's callback data limit
        msg = note.params["_message_id"]
        before = len(toasts(api))
        # A member of the shared chat who is not in the advisers file.
        api.push_callback(SHARED, f"claim:{token}", msg, user_id=MEMBER, chat_type="supergroup")
        api.push_callback(SHARED, f"pass:{token}", msg, user_id=MEMBER, chat_type="supergroup")
        # A stranger replaying the buttons from his own chat, and enumerating ids.
        api.push_callback(STRANGER, f"claim:{token}", msg)
        api.push_callback(STRANGER, f"pass:{token}", msg)
        for guess in [*range(0, 6), token[:-1] + "A", "", "../1"]:
            api.push_callback(STRANGER, f"claim:{guess}")
            api.push_callback(STRANGER, f"pass:{guess}")
        # Another adviser, replaying them from his own chat (the note was not sent there).
        api.push_callback(ML2_ID, f"claim:{token}", msg)
        api.push_callback(ML2_ID, f"pass:{token}", msg)
        assert await settled(api, channel)
        # Non-advisers read one same notice whatever they press: nothing tells what exists.
        # The other adviser reads that the request is not there, as for any unknown token.
        assert Counter(toasts(api)[before:]) == {
            "Ces boutons sont réservés aux conseillers.": 4 + 18,
            "Cette demande n'existe plus ici.": 2,
        }
        assert not person_told(api)
        assert not [c for c in api.calls_of("editMessageText") if c.chat_id == SHARED]
        assert status(db) == "sent"
        # The declared adviser, in the shared chat: taken, the person told once.
        api.push_callback(SHARED, f"claim:{token}", msg, user_id=ML_ID, chat_type="supergroup")
        assert await api.wait_async(lambda: len(person_told(api)) == 1)
        # A second press, even by another adviser: already taken, nothing else changes.
        api.push_callback(SHARED, f"pass:{token}", msg, user_id=ML2_ID, chat_type="supergroup")
        api.push_callback(SHARED, f"claim:{token}", msg, user_id=ML2_ID, chat_type="supergroup")
        assert await settled(api, channel)
        assert toasts(api)[-2:] == ["Cette demande a déjà été prise par Camille."] * 2
        assert len(person_told(api)) == 1 and "Camille va vous appeler" in person_told(api)[0]
        assert status(db) == "claimed"


async def test_two_advisers_pressing_together_give_one_outcome(api, knowledge, tmp_path):
    db = tmp_path / "db.sqlite3"
    async with running_bot(
        api, knowledge, db, adviser_chat_id=SHARED, advisers=ADVISERS
    ) as channel:
        note, token = await shared_request(api)
        msg = note.params["_message_id"]
        with api.together():
            api.push_callback(SHARED, f"pass:{token}", msg, user_id=ML2_ID, chat_type="supergroup")
            api.push_callback(SHARED, f"claim:{token}", msg, user_id=ML_ID, chat_type="supergroup")
        assert await settled(api, channel)
        assert await api.wait_async(lambda: len(person_told(api)) >= 1)
        assert await settled(api, channel)
    told = person_told(api)
    assert len(told) == 1, told
    assert ("ne peut pas vous rappeler" in told[0]) == (status(db) == "passed")


def test_claim_and_pass_from_two_processes_at_once_one_outcome_each(knowledge, tmp_path):
    """Two connections (two bot processes, or the bot and a tool) race on 20 requests: each
    request is claimed or passed, never both, and its person gets exactly one notice."""
    db = tmp_path / "db.sqlite3"
    engine = Engine(knowledge, handoff_enabled=True)
    setup = Storage(db)
    tokens = []
    for i in range(20):
        setup.save(Session(f"tg:{i + 1}"), [NewRequest(f"tg:{i + 1}", "", "", SHARED, "n")])
    tokens = [r[0] for r in query(setup, "SELECT token FROM requests ORDER BY id")]
    write(setup, "DELETE FROM outbox")
    outboxes = [Outbox(engine, Storage(db, timeout=5), SHARED) for _ in range(2)]
    barrier = threading.Barrier(2)
    answers: list[list[str]] = [[], []]

    def press(n: int) -> None:
        for token in tokens:
            barrier.wait()
            act = outboxes[n].claim if n == 0 else outboxes[n].pass_on
            answers[n].append(act(token, ["Camille", "Alex"][n], SHARED))

    threads = [threading.Thread(target=press, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    notices = query(
        setup, "SELECT request_id, COUNT(*) FROM outbox WHERE kind='notice' GROUP BY request_id"
    )
    assert len(notices) == 20 and {n for _, n in notices} == {1}
    statuses = [r[0] for r in query(setup, "SELECT status FROM requests ORDER BY id")]
    for status_, claimed, passed in zip(statuses, *answers, strict=True):
        assert status_ in ("claimed", "passed")
        won = claimed.startswith("✋") if status_ == "claimed" else passed.startswith("↪️")
        assert won, (status_, claimed, passed)


def test_open_requests_of_schema_6_get_unguessable_buttons(tmp_path):
    """Notes already sent carry `claim:<id>`, which no longer works: the migration gives
    every request a token and queues an edit of each open note with the new buttons."""
    from bot.storage import MIGRATIONS

    db = tmp_path / "old.sqlite3"
    raw = sqlite3.connect(db, isolation_level=None)
    raw.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    for migration in MIGRATIONS[:6]:
        for statement in migration.split(";"):
            if statement.strip():
                raw.execute(statement)
    raw.execute("INSERT INTO meta VALUES ('schema_version', '6')")
    for status_ in ("sent", "claimed"):
        raw.execute(
            "INSERT INTO requests (person, code, organisation, chat_id, created, "
            "status, messages, note) VALUES ('tg:1', '', '', ?, 0, ?, ?, 'la note')",
            (SHARED, status_, f"[[{SHARED}, 42]]"),
        )
    raw.close()
    storage = Storage(db)
    open_request, claimed = storage.requests.get(1), storage.requests.get(2)
    assert len({open_request.token, claimed.token}) == 2 and len(open_request.token) == 32
    edits = storage.outbox.due(1e12)
    assert [(e.kind, e.chat_id, e.message_id, e.text) for e in edits] == [
        ("edit", SHARED, 42, "la note")
    ]
    assert [b[1] for b in edits[0].buttons[0]] == [
        f"claim:{open_request.token}",
        f"pass:{open_request.token}",
    ]


def test_one_rule_classifies_every_failed_send():
    from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

    from bot.transport.aiohttp_request import MaybeSent, NotSent
    from bot.transport.retries import MAYBE_SENT, REFUSED, RETRY, classify

    assert classify(BadRequest("Chat not found")) == REFUSED  # a NetworkError in PTB 22
    assert classify(Forbidden("bot was blocked by the user")) == REFUSED
    assert classify(RetryAfter(3)) == RETRY
    assert classify(NotSent("connect")) == RETRY
    assert classify(NetworkError("Internal Server Error (500)")) == RETRY
    assert classify(TimedOut()) == MAYBE_SENT
    assert classify(MaybeSent("dropped")) == MAYBE_SENT


def test_a_claim_cut_before_the_persons_notice_leaves_nothing_half_done(
    knowledge, tmp_path, monkeypatch
):
    """The process dies between recording the claim and queueing the person's notice (an
    exception there stands for it): nothing is written, so the request is still open and
    the next press does it all. Before, the claim was kept and the person never told."""
    import pytest

    db = tmp_path / "db.sqlite3"
    storage = Storage(db)
    storage.save(Session("tg:5"), [NewRequest("tg:5", "", "", SHARED, "la note")])
    token = storage.requests.get(1).token
    storage.outbox.drop(storage.outbox.due(1e12)[0].id)
    outbox = Outbox(Engine(knowledge, handoff_enabled=True), storage, SHARED)

    def dies(*args, **kwargs):
        raise RuntimeError("killed here")

    with monkeypatch.context() as m:
        m.setattr(outbox, "_person_notice", dies)
        with pytest.raises(RuntimeError):
            outbox.claim(token, "Camille", SHARED)
    assert storage.requests.get(1).status == "sent" and count(storage, "outbox") == 0
    assert outbox.claim(token, "Camille", SHARED).startswith("✋")
    kinds = sorted(r.kind for r in storage.outbox.due(1e12))
    assert kinds == ["notice"] and storage.requests.get(1).status == "claimed"
