"""Advisers as the local network: named on the recap, requests in their own chat, claimed,
passed on, reminded, never lost, never sent twice."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sqlite3

import pytest
from telegram.error import TimedOut

from bot.outbox import Outbox, working_days_before
from bot.storage import Storage
from dialogs.engine import Engine
from dialogs.model import Event, Reach, Session
from knowledge.advisers import Adviser, load_advisers, select_adviser
from knowledge.geography import lookup
from knowledge.loader import ContentError
from tests.db_helpers import count
from tests.journeys import place_and_situation
from tests.telegram_helpers import kill_hard, running_bot, start_bot_process

PERSON = 7001
ML_ID, ML2_ID, LINK_ID = 800001, 800002, 800003
SHARED = -100777
ML = Adviser(
    ML_ID,
    "mlexemple",
    "Camille",
    "Mission locale Exemple",
    frozenset({"69"}),
    contact={"phone": "04 00 00 00 02", "hours": "lun-ven 9h-17h"},
)


# --- the advisers file ------------------------------------------------------------------------


def test_advisers_file_new_fields_and_bare_list(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text(
        "- telegram_id: 1\n  code: mlyon\n  name: Camille\n  organisation: Mission locale\n"
        "  coverage: ['69', '2A', '974', '01004']\n"
        "  contact: {phone: '04 00 00 00 02', url: 'https://ml.example', hours: 'lun 9h'}\n"
        "- {telegram_id: 2, code: cep42, name: Sam, handoff: false}\n",
        encoding="utf-8",
    )
    advisers = load_advisers(path)
    ml = advisers[1]
    assert ml.departements == {"69", "2A", "974"} and ml.communes == {"01004"}
    assert ml.contact["hours"] == "lun 9h" and ml.shown_name == "Mission locale"
    assert advisers[2].handoff is False


@pytest.mark.parametrize(
    "entry, message",
    [
        ("organisation: ML\n    coverage: ['999']", "« 999 » n'est ni un département ni un code"),
        ("organisation: ML\n    coverage: ['ain']", "n'est ni un département"),
        ("coverage: ['69']", "« organisation » est obligatoire avec « coverage »"),
        ("contact: {url: 'http://x'}", "« contact.url » doit commencer par https://"),
        ("contact: {fax: '1'}", "« contact.fax » inconnu"),
        ("handoff: 'oui'", "« handoff » : true ou false"),
    ],
)
def test_advisers_file_errors_name_file_entry_problem(tmp_path, entry, message):
    path = tmp_path / "a.yaml"
    path.write_text(
        f"advisers:\n  - telegram_id: 1\n    code: mlyon\n    name: C\n    {entry}\n",
        encoding="utf-8",
    )
    with pytest.raises(ContentError) as err:
        load_advisers(path)
    assert f"{path} › advisers[0] : " in str(err.value) and message in str(err.value)


# --- who is named -------------------------------------------------------------------------------

LYON3 = lookup("69003").places[0]
VILLEURBANNE = lookup("69100").places[0]
BY_LINK = Adviser(LINK_ID, "cep42", "Sam", "CEP Loire", frozenset({"42"}))
COMMUNE = Adviser(
    ML2_ID, "mlcity", "Alex", "Mission locale Lyon ville", communes=frozenset({"69123"})
)


@pytest.mark.parametrize(
    "referral, place, expected, how",
    [
        ("cep42", LYON3, "cep42", "link"),  # the link beats everything
        (None, LYON3, "mlcity", "commune"),  # Lyon 3e is in Lyon: commune beats département
        (None, VILLEURBANNE, "mlexemple", "departement"),
        ("unknown-code", VILLEURBANNE, "mlexemple", "departement"),  # unknown codes ignored
        (None, lookup("13001").places[0], None, None),  # nobody: open data or national
    ],
)
def test_selection_order(referral, place, expected, how):
    named = select_adviser([ML, BY_LINK, COMMUNE], referral, place, "tg:1")
    assert (named.adviser.code if named else None) == expected
    assert (named.how if named else None) == how


def test_several_advisers_share_a_departement_evenly():
    others = [Adviser(10 + i, f"ml{i}x", "N", f"ML {i}", frozenset({"69"})) for i in range(3)]
    picks = [
        select_adviser(others, None, VILLEURBANNE, f"tg:{i}").adviser.code for i in range(3000)
    ]
    counts = {code: picks.count(code) for code in set(picks)}
    assert len(counts) == 3 and min(counts.values()) > 850  # about a third each
    assert (
        len({select_adviser(others, None, VILLEURBANNE, "tg:5").adviser.code for _ in range(5)})
        == 1
    )  # a person keeps their adviser


def test_recap_names_the_adviser_above_the_open_data(knowledge):
    engine = Engine(knowledge, advisers=(ML,))
    reach = Reach(open=frozenset({ML.code}))  # the adviser opened the bot
    s = Session("tg:1")
    place_and_situation(engine, s, "69003", "job_seeker", reach)
    text = engine.handle(s, Event("choice", "answer:no"), reach).replies[0].text
    assert "Votre conseiller : Mission locale Exemple" in text
    assert "+33 4 00 00 00 02" in text and "lun-ven 9h-17h" in text
    assert s.data["handoff_to"] == "mlexemple"


# --- through the local Bot API server ----------------------------------------------------------


def _offers(api, data: str) -> bool:
    """The last message to the person carries a button with this callback data."""
    sent = api.sent(PERSON)
    return bool(sent) and data in sent[-1].callback_data()


async def walk_to_recap(api, place="69003"):
    api.push_text(PERSON, "/start contact")
    assert await api.wait_async(lambda: len(api.sent(PERSON)) >= 1)
    steps = [place, "yes", "answer:job_seeker", "answer:no"]
    for step, following in zip(steps, [*steps[1:], "menu"], strict=True):
        if step[0].isdigit():
            api.push_text(PERSON, step)
        else:
            api.press(PERSON, step)
        assert await api.wait_async(lambda f=following: _offers(api, f))
    return api.sent(PERSON)[-1]


async def ask_to_be_called(api) -> tuple[list[str], str]:
    """Consent, then the phone shared: (the consent screen's texts, the confirmation)."""
    start = len(api.sent(PERSON))
    api.press(PERSON, "handoff")
    assert await api.wait_async(lambda: _offers(api, "yes"))
    consent = [c.text for c in api.sent(PERSON)[start:]]
    api.press(PERSON, "yes")
    assert await api.wait_async(
        lambda: "keyboard" in (api.sent(PERSON)[-1].params.get("reply_markup") or {})
    )
    n = len(api.sent(PERSON))
    api.push(
        {
            "message": api.message(
                PERSON,
                None,
                contact={"phone_number": "+33612345678", "first_name": "Lou", "user_id": PERSON},
            )
        }
    )
    assert await api.wait_async(lambda: len(api.sent(PERSON)) > n)
    return consent, api.sent(PERSON)[n].text


async def test_named_adviser_gets_the_request_once_claims_it_and_the_person_is_told(
    api, knowledge, tmp_path
):
    async with running_bot(
        api, knowledge, tmp_path / "db.sqlite3", advisers={ML_ID: ML}
    ) as channel:
        api.push_text(ML_ID, "/start")  # the adviser opens the bot once
        assert await api.wait_async(
            lambda: any("arriveront ici" in c.text for c in api.sent(ML_ID))
        )
        recap = await walk_to_recap(api)
        assert "Votre conseiller : Mission locale Exemple" in recap.text
        assert "handoff" in recap.callback_data()
        consent, confirmation = await ask_to_be_called(api)
        assert any("Mission locale Exemple votre prénom, votre numéro" in t for t in consent)
        assert "enregistrée" in confirmation
        notes = lambda: [  # noqa: E731
            c
            for c in api.sent(ML_ID)
            if c.method == "sendMessage" and "Demande de contact" in c.text
        ]
        assert await api.wait_async(lambda: len(notes()) == 1)
        note = notes()[0]
        assert "Prénom : Lou" in note.text and "+33 6 12 34 56 78" in note.text
        assert "Situation : cherche un emploi" in note.text and "Handicap : non" in note.text
        assert "Arrivée par la zone (Rhône)" in note.text
        request_id = json.loads(json.dumps(note.callback_data()))[0].split(":")[1]
        assert not api.sent(SHARED)  # no shared chat involved
        # The adviser claims it.
        api.push_callback(ML_ID, f"claim:{request_id}", note.params["_message_id"])
        assert await api.wait_async(
            lambda: any("va vous appeler" in c.text for c in api.sent(PERSON))
        )
        told = [c.text for c in api.sent(PERSON) if "va vous appeler" in c.text][0]
        assert told.startswith("✅ Mission locale Exemple a bien reçu votre demande. Camille")
        assert await api.wait_async(
            lambda: any("Pris par Camille" in c.text for c in api.calls_of("editMessageText"))
        )
        # /demande tells where it stands.
        n = len(api.sent(PERSON))
        api.push_text(PERSON, "/demande")
        assert await api.wait_async(lambda: len(api.sent(PERSON)) > n)
        assert "Camille va vous appeler" in api.sent(PERSON)[-1].text
        await asyncio.sleep(0.3)
        assert len(notes()) == 1  # exactly once
        rows = channel.storage.request_figures()
        assert rows[0][:3] == ("mlexemple", 1, 1)


async def test_pass_goes_to_the_shared_chat_then_without_one_the_person_is_told(
    api, knowledge, tmp_path
):
    async with running_bot(
        api, knowledge, tmp_path / "db.sqlite3", adviser_chat_id=SHARED, advisers={ML_ID: ML}
    ):
        api.push_text(ML_ID, "/start")
        await walk_to_recap(api)
        await ask_to_be_called(api)
        assert await api.wait_async(lambda: any("Demande" in c.text for c in api.sent(ML_ID)))
        note = [c for c in api.sent(ML_ID) if "Demande" in c.text][0]
        rid = note.callback_data()[1].split(":")[1]
        api.push_callback(ML_ID, f"pass:{rid}", note.params["_message_id"])
        assert await api.wait_async(lambda: any("Demande" in c.text for c in api.sent(SHARED)))
        shared_note = [c for c in api.sent(SHARED) if "Demande" in c.text][0]
        assert shared_note.callback_data() == [f"claim:{rid}", f"pass:{rid}"]
        # In the shared chat, "pas pour moi" has nowhere else to go: the person is told.
        api.push_callback(
            SHARED,
            f"pass:{rid}",
            shared_note.params["_message_id"],
            user_id=ML_ID,
            chat_type="supergroup",
        )
        assert await api.wait_async(
            lambda: any("ne peut pas vous rappeler" in c.text for c in api.sent(PERSON))
        )


async def test_request_without_a_reachable_adviser_goes_to_the_shared_chat(
    api, knowledge, tmp_path
):
    """The named adviser never opened the bot: Telegram would refuse; the shared chat gets
    it, and the consent said 'l'équipe de conseillers CléA'."""
    async with running_bot(
        api, knowledge, tmp_path / "db.sqlite3", adviser_chat_id=SHARED, advisers={ML_ID: ML}
    ):
        await walk_to_recap(api)
        n = len(api.sent(PERSON))
        api.press(PERSON, "handoff")
        assert await api.wait_async(lambda: _offers(api, "yes"))
        assert any("l'équipe de conseillers CléA" in c.text for c in api.sent(PERSON)[n:])
        api.press(PERSON, "yes")
        assert await api.wait_async(
            lambda: "keyboard" in (api.sent(PERSON)[-1].params.get("reply_markup") or {})
        )
        api.push_text(PERSON, "06 12 34 56 78")
        assert await api.wait_async(lambda: any("Demande" in c.text for c in api.sent(SHARED)))
        assert not api.sent(ML_ID)


@pytest.mark.parametrize("refusal", [400, 403])
async def test_delivery_refused_is_never_reported_as_sent(api, knowledge, tmp_path, refusal):
    """The shared chat refuses the bot (400: a wrong CLEA_ADVISER_CHAT_ID or a deleted
    group; 403: the bot was removed): the person is told plainly and offered their other
    contacts; /demande says so too. (In python-telegram-bot 22 a 400 is a NetworkError:
    it was taken for "may have been delivered".)"""
    api.chat_faults[SHARED] = refusal
    async with running_bot(api, knowledge, tmp_path / "db.sqlite3", adviser_chat_id=SHARED):
        await walk_to_recap(api)
        await ask_to_be_called(api)
        assert await api.wait_async(
            lambda: any("pas pu transmettre" in c.text for c in api.sent(PERSON))
        )
        told = [c for c in api.sent(PERSON) if "pas pu transmettre" in c.text][0]
        assert "recap" in told.callback_data()
        n = len(api.sent(PERSON))
        api.push_text(PERSON, "/demande")
        assert await api.wait_async(lambda: len(api.sent(PERSON)) > n)
        assert "pas pu transmettre" in api.sent(PERSON)[-1].text


# --- the outbox ------------------------------------------------------------------------------


class _TimingOutBot:
    """Applies the message, then times out reading the answer (like a slow Telegram)."""

    def __init__(self):
        self.sent: list[tuple[int, str]] = []

    async def send_message(self, chat_id, text, **kwargs):
        self.sent.append((chat_id, text))
        raise TimedOut("read timeout")


async def test_no_duplicate_after_a_read_timeout(knowledge, tmp_path):
    storage = Storage(tmp_path / "db.sqlite3")
    engine = Engine(knowledge, handoff_enabled=True)
    from bot.storage import NewRequest

    s = Session("tg:1")
    storage.save(s, [NewRequest("tg:1", "", "", SHARED, "note")])
    outbox = Outbox(engine, storage, SHARED)
    bot = _TimingOutBot()
    for _ in range(3):
        await outbox.flush(bot)
    assert len(bot.sent) == 1  # never sent again: it may have arrived
    assert count(storage, "outbox") == 0


async def test_outbox_survives_500s_and_kill_9_then_delivers_exactly_once(api, tmp_path):
    """The note is written with the turn; Telegram answers 500 to it, the process is killed,
    the next start sends it: the adviser receives exactly one note."""
    db = tmp_path / "db.sqlite3"
    env = {"CLEA_ADVISER_CHAT_ID": str(SHARED)}
    api.chat_faults[SHARED] = 500  # Telegram fails every send to the advisers' chat
    proc = start_bot_process(api, db, **env)
    try:
        store = Storage(db)
        session = Session(
            f"tg:{PERSON}",
            state="recap",
            data={"place": {"c": "Lyon", "d": "69", "p": "69003", "i": "69383"}, "handoff_to": ""},
        )
        store.save(session)
        store.close()
        for step in ("handoff", "yes"):
            api.push_callback(PERSON, step)
        api.push_text(PERSON, "06 12 34 56 78")
        assert api.wait_until(lambda: count(db, "outbox") == 1 and count(db, "requests") == 1, 20)
        assert api.wait_until(
            lambda: any(
                c.method == "sendMessage"
                and not c.ok
                and str(c.params.get("chat_id")) == str(SHARED)
                for c in api.calls
            ),
            20,
        )
    finally:
        kill_hard(proc)
    api.chat_faults.clear()
    proc = start_bot_process(api, db, **env)
    try:
        # Once the row is gone nothing can send it again: then count.
        assert api.wait_until(lambda: count(db, "outbox") == 0, 30)
        assert len(api.sent(SHARED)) == 1
    finally:
        kill_hard(proc)


@pytest.mark.parametrize("kind", ["note", "notice"])
def test_killed_right_after_telegram_accepted_a_message_repeats_it_at_most_once(
    api, tmp_path, kind
):
    """The process dies the moment Telegram applied the adviser's note (or the claim
    notice to the person), before it read the answer: after the restart the message is
    there, at most twice, and everything after it still happens once (the claim notice
    after the note; /demande's status)."""
    import os
    import signal

    db = tmp_path / "db.sqlite3"
    advisers = tmp_path / "advisers.yaml"
    advisers.write_text(
        f"- {{telegram_id: {ML_ID}, code: mlexemple, name: Camille}}\n", encoding="utf-8"
    )
    env = {"CLEA_ADVISER_CHAT_ID": str(SHARED), "CLEA_ADVISERS": str(advisers)}
    proc = start_bot_process(api, db, **env)
    target = SHARED if kind == "note" else PERSON
    marker = "Demande" if kind == "note" else "va vous appeler"
    killed = []

    def kill_on_accept(call):  # in the server, before the bot gets the answer
        if (
            call.method == "sendMessage"
            and call.chat_id == target
            and marker in call.text
            and not killed
        ):
            killed.append(call)
            os.kill(proc.pid, signal.SIGKILL)

    api.on_call = kill_on_accept

    def claim(note) -> None:  # the adviser presses the note's claim button in the shared chat
        api.push_callback(
            SHARED,
            note.callback_data()[0],
            note.params["_message_id"],
            user_id=ML_ID,
            chat_type="supergroup",
        )

    try:
        store = Storage(db)
        store.save(
            Session(
                f"tg:{PERSON}",
                state="recap",
                data={
                    "place": {"c": "Lyon", "d": "69", "p": "69003", "i": "69383"},
                    "handoff_to": "",
                },
            )
        )
        store.close()
        for step in ("handoff", "yes"):
            api.push_callback(PERSON, step)
        api.push_text(PERSON, "06 12 34 56 78")
        notes = lambda: [  # noqa: E731
            c for c in api.sent(SHARED, ("sendMessage",)) if "Demande" in c.text
        ]
        assert api.wait_until(lambda: notes() or killed, 20)
        if kind == "notice":
            claim(notes()[0])
        assert api.wait_until(lambda: bool(killed), 20)
        proc.wait(10)
        proc = start_bot_process(api, db, **env)
        assert api.wait_until(lambda: count(db, "outbox") == 0, 30)
        told = lambda: [  # noqa: E731
            c for c in api.sent(PERSON) if "a bien reçu votre demande" in c.text
        ]
        if kind == "note":  # the claim still works, once
            claim(notes()[-1])
        assert api.wait_until(lambda: told() and count(db, "outbox") == 0, 20)
        n = len(api.sent(PERSON))
        api.push_text(PERSON, "/demande")
        assert api.wait_until(lambda: len(api.sent(PERSON)) > n, 20)
        assert "Camille va vous appeler" in api.sent(PERSON)[-1].text
    finally:
        kill_hard(proc)
    assert 1 <= len(notes()) <= (2 if kind == "note" else 1)
    assert 1 <= len(told()) <= (2 if kind == "notice" else 1)


def test_reminder_after_two_working_days_once(knowledge, tmp_path):
    storage = Storage(tmp_path / "db.sqlite3")
    engine = Engine(knowledge, handoff_enabled=True)
    from bot.storage import NewRequest

    friday_17h = dt.datetime(2026, 11, 27, 17, 0).timestamp()
    s = Session("tg:1", updated=friday_17h)
    storage.save(s, [NewRequest("tg:1", "", "", SHARED, "la note")])
    now = [friday_17h]
    outbox = Outbox(engine, storage, SHARED, clock=lambda: now[0])
    storage.outbox.drop(storage.outbox.due(now[0])[0].id)  # the note went out
    now[0] = dt.datetime(2026, 11, 30, 17, 0).timestamp()  # Monday: 1 working day
    assert outbox.remind() == 0
    now[0] = dt.datetime(2026, 12, 1, 17, 0).timestamp()  # Tuesday: 2 working days
    assert outbox.remind() == 1
    rows = storage.outbox.due(now[0])
    assert len(rows) == 1 and rows[0].kind == "reminder" and "la note" in rows[0].text
    assert rows[0].buttons[0][0][1].startswith("claim:")
    assert outbox.remind() == 0  # one reminder only


def test_working_days_skip_the_weekend():
    monday = dt.datetime(2026, 11, 30, 10, 0).timestamp()
    assert dt.datetime.fromtimestamp(working_days_before(monday, 2)).weekday() == 3  # Thursday


def test_forgetting_clears_pending_requests_and_messages(knowledge, tmp_path):
    from bot.storage import NewRequest

    storage = Storage(tmp_path / "db.sqlite3")
    s = Session("tg:9")
    storage.save(s, [NewRequest("tg:9", "", "", SHARED, "Téléphone : +33 6 12 34 56 78")])
    assert count(storage, "outbox") == 1 and count(tmp_path / "db.sqlite3", "requests") == 1
    storage.save(s, erase=True)
    assert count(storage, "outbox") == 0 and count(tmp_path / "db.sqlite3", "requests") == 0


def test_migration_from_schema_2_keeps_sessions(tmp_path):
    from bot.storage import MIGRATIONS, SCHEMA_VERSION

    db = tmp_path / "old.sqlite3"
    raw = sqlite3.connect(db, isolation_level=None)
    raw.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    for migration in MIGRATIONS[:2]:
        for statement in migration.split(";"):
            if statement.strip():
                raw.execute(statement)
    raw.execute("INSERT INTO meta VALUES ('schema_version', '2')")
    raw.execute("INSERT INTO sessions VALUES ('tg:1', '{\"s\": \"menu\"}', 1)")
    raw.close()
    storage = Storage(db)
    assert storage.schema_version() == SCHEMA_VERSION == 7
    assert storage.load("tg:1").state == "menu" and count(storage, "outbox") == 0


async def test_start_up_names_an_advisers_chat_the_bot_cannot_reach(
    api, knowledge, tmp_path, caplog
):
    import logging

    caplog.set_level(logging.ERROR)
    api.chat_faults[SHARED] = 403
    async with running_bot(api, knowledge, tmp_path / "db.sqlite3", adviser_chat_id=SHARED):
        # Checked in the background once started: people are answered meanwhile.
        await api.wait_async(lambda: any("cannot reach" in r.getMessage() for r in caplog.records))
    errors = [r.getMessage() for r in caplog.records if r.name == "bot.channels.telegram"]
    assert any("cannot reach the advisers' shared chat (Forbidden)" in e for e in errors)


async def test_a_shared_chat_without_declared_advisers_is_reported(
    api, knowledge, tmp_path, caplog
):
    """Only advisers of the advisers file may take a request: a shared chat with nobody
    declared could never see one taken. Said once, at start-up."""
    import logging

    caplog.set_level(logging.ERROR)
    async with running_bot(api, knowledge, tmp_path / "db.sqlite3", adviser_chat_id=SHARED):
        assert await api.wait_async(
            lambda: any("no adviser is declared" in r.getMessage() for r in caplog.records)
        )


async def test_reachable_advisers_chats_log_nothing(api, knowledge, tmp_path, caplog):
    import logging

    caplog.set_level(logging.ERROR)
    async with running_bot(
        api, knowledge, tmp_path / "db.sqlite3", adviser_chat_id=SHARED, advisers={ML_ID: ML}
    ) as channel:
        channel.storage.adviser_opened(ML.code, ML_ID)
        assert await channel.check_recipients(channel.app.bot) == []
    assert not [r for r in caplog.records if "cannot reach" in r.getMessage()]


async def test_an_adviser_who_blocked_the_bot_is_not_named_until_they_open_it_again(
    api, knowledge, tmp_path
):
    """The named adviser's chat refuses the note (403, they blocked the bot): the request
    goes to the shared chat, and recaps stop naming them until they open the bot again."""
    async with running_bot(
        api, knowledge, tmp_path / "db.sqlite3", adviser_chat_id=SHARED, advisers={ML_ID: ML}
    ):
        api.push_text(ML_ID, "/start")
        assert await api.wait_async(
            lambda: any("arriveront ici" in c.text for c in api.sent(ML_ID))
        )
        api.chat_faults[ML_ID] = 403  # then they block the bot
        recap = await walk_to_recap(api)
        assert "Votre conseiller : Mission locale Exemple" in recap.text
        await ask_to_be_called(api)
        assert await api.wait_async(lambda: any("Demande" in c.text for c in api.sent(SHARED)))
        assert not [c for c in api.sent(ML_ID) if "Demande" in c.text]
        assert not any("pas pu transmettre" in c.text for c in api.sent(PERSON))

        async def recap_text() -> str:
            n = len(api.sent(PERSON))
            api.push_text(PERSON, "/menu")
            assert await api.wait_async(lambda: len(api.sent(PERSON)) > n)
            api.press(PERSON, "recap")
            assert await api.wait_async(lambda: _offers(api, "menu"))
            return api.sent(PERSON)[-1].text

        assert "Mission locale Exemple" not in await recap_text()
        del api.chat_faults[ML_ID]
        api.push_text(ML_ID, "/start")  # opened again
        assert await api.wait_async(
            lambda: sum("arriveront ici" in c.text for c in api.sent(ML_ID)) == 2
        )
        assert "Votre conseiller : Mission locale Exemple" in await recap_text()


async def test_without_a_shared_chat_a_refused_request_goes_to_another_adviser_of_the_area(
    api, knowledge, tmp_path
):
    other = Adviser(ML2_ID, "mlautre", "Alex", "Mission locale Autre", frozenset({"69"}))
    advisers = {ML_ID: ML, ML2_ID: other}
    async with running_bot(api, knowledge, tmp_path / "db.sqlite3", advisers=advisers):
        for chat in advisers:
            api.push_text(chat, "/start")
            assert await api.wait_async(
                lambda c=chat: any("arriveront ici" in m.text for m in api.sent(c))
            )
        recap = await walk_to_recap(api)
        named, second = (
            (ML, other) if f"Votre conseiller : {ML.organisation}" in recap.text else (other, ML)
        )
        assert f"Votre conseiller : {named.organisation}" in recap.text
        api.chat_faults[named.telegram_id] = 403  # the named adviser blocked the bot
        await ask_to_be_called(api)
        assert await api.wait_async(
            lambda: any("Demande" in c.text for c in api.sent(second.telegram_id))
        )
        note = [c for c in api.sent(second.telegram_id) if "Demande" in c.text][0]
        api.push_callback(second.telegram_id, note.callback_data()[0], note.params["_message_id"])
        assert await api.wait_async(
            lambda: any("va vous appeler" in c.text for c in api.sent(PERSON))
        )
        told = [c.text for c in api.sent(PERSON) if "va vous appeler" in c.text][0]
        assert f"{second.organisation} a bien reçu votre demande. {second.name}" in told
        assert not any("pas pu transmettre" in c.text for c in api.sent(PERSON))
