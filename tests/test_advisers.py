"""Advisers' links, QR codes and anonymous figures; the person's control over their data."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys

import pytest

from bot.advisers import Adviser, all_figures_table, load_advisers
from bot.storage import Storage
from knowledge.loader import ContentError
from tests.db_helpers import write
from tests.telegram_helpers import ROOT, running_bot

ADVISER_ID = 900001
USER = 5555
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def advisers():
    return {ADVISER_ID: Adviser(ADVISER_ID, "mlyon", "Mission locale de Lyon")}


async def run_turn(api, chat, text=None, press=None, min_new=1):
    before = len(api.sent(chat))
    if text is not None:
        api.push_text(chat, text)
    else:
        api.press(chat, press)
    assert await api.wait_async(lambda: len(api.sent(chat)) >= before + min_new, 10)
    await asyncio.sleep(0.1)
    return api.sent(chat)[before:]


def test_advisers_file_is_validated(tmp_path):
    good = tmp_path / "advisers.yaml"
    good.write_text("advisers:\n  - {telegram_id: 42, code: ml-lyon, name: Mission locale}\n")
    assert load_advisers(good)[42].code == "ml-lyon"
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "advisers:\n  - {telegram_id: 42, code: ml-lyon, name: A}\n"
        "  - {telegram_id: x, code: ML!, name: B}\n"
        "  - {telegram_id: 43, code: ml-lyon, name: C}\n"
        "  - {telegram_id: 44, code: ft-diag, name: D}\n"
    )
    with pytest.raises(ContentError) as err:
        load_advisers(bad)
    text = str(err.value)
    assert str(bad) in text and "advisers[1]" in text and "telegram_id" in text
    assert "3 à 32 caractères" in text and "en double" in text and "advisers[3]" in text


async def test_adviser_gets_link_message_and_qr(api, knowledge, tmp_path, advisers):
    async with running_bot(api, knowledge, tmp_path / "db.sqlite3") as channel:
        channel.advisers = advisers
        sent = await run_turn(api, ADVISER_ID, "/lien", min_new=4)
        assert "https://t.me/clea_test_bot?start=mlyon" in sent[0].text
        forward = [c for c in sent if c.buttons() and c.buttons()[0].get("url")]
        assert forward[0].buttons()[0]["url"] == "https://t.me/clea_test_bot?start=mlyon"
        photo = api.calls_of("sendPhoto")[-1]
        assert photo.params["photo"]["png"] and photo.params["photo"]["file_bytes"] > 500
        sent = await run_turn(api, ADVISER_ID, "/lien diag", min_new=4)
        assert "?start=mlyon-diag" in sent[0].text


async def test_non_adviser_learns_nothing(api, knowledge, tmp_path, advisers):
    async with running_bot(api, knowledge, tmp_path / "db.sqlite3") as channel:
        channel.advisers = advisers
        unknown = (await run_turn(api, USER, "/xyz"))[0].text
        for command in ("/lien", "/stats"):
            reply = (await run_turn(api, USER, command))[0].text
            assert reply == unknown.replace("/xyz", command)
        assert not api.calls_of("sendPhoto")


async def test_link_arrivals_counted_once_per_stage(api, knowledge, tmp_path, advisers):
    db = tmp_path / "db.sqlite3"
    async with running_bot(api, knowledge, db) as channel:
        channel.advisers = advisers
        for _ in range(2):  # arriving twice, restarting, doing the fit check twice
            await run_turn(api, USER, "/start mlyon-diag", min_new=1)
            for answer in ("answer:employee", "answer:none", "answer:job", "answer:easy"):
                await run_turn(api, USER, press=answer)
            await run_turn(api, USER, press="skip", min_new=1)
            await run_turn(api, USER, "/recommencer", min_new=1)
        await run_turn(api, USER + 1, "/start mlyon", min_new=1)
        sent = await run_turn(api, ADVISER_ID, "/stats", min_new=2)
        assert (
            "Total : 2 personnes ont commencé, 1 personne a fini « Est-ce pour moi ? »"
            in sent[0].text
        )
        assert api.calls_of("sendPhoto")[-1].params["photo"]["png"]
    rows = sqlite3.connect(db).execute("SELECT code, stage, n FROM counters").fetchall()
    assert sorted((s, n) for c, s, n in rows) == [("fit_done", 1), ("start", 2)]
    table = all_figures_table(Storage(db))
    assert "mlyon" in table and all_figures_table(Storage(db), csv=True).startswith(
        "code,week,stage,count"
    )


async def test_forget_leaves_no_trace_of_the_person(api, knowledge, tmp_path):
    db = tmp_path / "db.sqlite3"
    async with running_bot(api, knowledge, db, adviser_chat_id=-100) as channel:
        await run_turn(api, USER, "/start mlyon-diag", min_new=1)
        await run_turn(api, USER, press="answer:job_seeker")
        # A contact request too: its phone number must go with the rest.
        from bot.storage import NewRequest

        channel.storage.save(
            channel.storage.load(f"tg:{USER}"),
            [NewRequest(f"tg:{USER}", "", "", -100, "Téléphone : +33 6 99 88 77 66")],
        )
        person = channel.storage.person(f"tg:{USER}")
        assert person in "\n".join(sqlite3.connect(db).iterdump())
        confirm = await run_turn(api, USER, "/oubli")
        assert "effacer" in confirm[-1].text
        done = await run_turn(api, USER, press="forget_yes")
        assert "effacées" in done[0].text
        # Not only the rows: the bytes of the database, its -wal and its -shm, read raw
        # while the bot runs (what a kill -9 would leave), with no checkpoint from the test
        # (a clean stop checkpoints, and would hide what a crash leaves).
        for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
            if path.exists():
                raw = path.read_bytes()
                for secret in (f"tg:{USER}".encode(), person.encode(), b"99 88 77 66"):
                    assert secret not in raw, (path.name, secret)
    dump = "\n".join(sqlite3.connect(db).iterdump())
    assert f"tg:{USER}" not in dump and person not in dump
    assert "mlyon" in dump  # the anonymous weekly count stays


@pytest.mark.integration
def test_stats_command_line(tmp_path):
    db = tmp_path / "db.sqlite3"
    store = Storage(db)
    from dialogs.model import Session

    s = Session("tg:1", referral="ft13")
    store.save(s, reached={"start", "recap"})
    store.close()
    env = {"CLEA_DB_PATH": str(db), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-m", "bot", "stats"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0 and "ft13" in out.stdout
    csv = subprocess.run(
        [sys.executable, "-m", "bot", "stats", "--csv"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.splitlines()
    assert csv[0] == "code,week,stage,count" and len(csv) == 3


def test_figures_show_requests_received_claimed_and_median_time(tmp_path):
    from bot.advisers import stats_text
    from bot.storage import NewRequest
    from dialogs import render
    from dialogs.model import Session

    store = Storage(tmp_path / "db.sqlite3")
    for i, delay in enumerate((3600, 7200, None)):
        s = Session(f"tg:{i}", updated=1_000_000.0)
        (rid,) = store.save(s, [NewRequest(f"tg:{i}", "mlyon", "ML", 1, "note")])
        if delay is not None:
            write(
                store,
                "UPDATE requests SET status='claimed', claimed_at=?, claimed_by='C' WHERE id=?",
                (1_000_000.0 + delay, rid),
            )
    assert store.request_figures() == [("mlyon", 3, 2, 5400.0)]
    text, _ = stats_text(Adviser(1, "mlyon", "C"), store, render.make_environment())
    assert "📞 Demandes de contact : 3 reçues, 2 prises. Délai médian avant prise : 1 h 30." in text
    table = all_figures_table(store)
    assert "mlyon" in table and "1 h 30" in table


async def test_a_slow_chart_does_not_hold_other_people(
    api, knowledge, tmp_path, advisers, monkeypatch
):
    """The chart (and the QR code) are drawn in a worker thread: while a cold /stats takes a
    second, another person's /start is answered."""
    import time as clock

    import bot.channels.telegram as channel_module
    from dialogs.model import Reply

    def slow_chart(adviser, table):
        clock.sleep(1.0)  # a cold first drawing
        return Reply("chart", image=PNG + b"\0" * 16)

    monkeypatch.setattr(channel_module, "chart_reply", slow_chart)
    async with running_bot(api, knowledge, tmp_path / "db.sqlite3") as channel:
        channel.advisers = advisers
        api.push_text(ADVISER_ID, "/stats")
        await asyncio.sleep(0.2)  # the chart is being drawn
        started = clock.monotonic()
        api.push_text(USER, "/start")
        assert await api.wait_async(lambda: len(api.sent(USER)) >= 1, 5)
        waited = clock.monotonic() - started
        assert await api.wait_async(
            lambda: any(c.method == "sendPhoto" for c in api.sent(ADVISER_ID)), 5
        )
        photo_at = next(c.at for c in api.sent(ADVISER_ID) if c.method == "sendPhoto")
        assert api.sent(USER)[0].at < photo_at and waited < 0.8
