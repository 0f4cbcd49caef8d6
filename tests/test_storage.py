"""SQLite storage: real files, schema migration, erase, purge, anonymous counters."""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path

from bot.storage import SCHEMA_VERSION, Storage
from dialogs.model import Session
from tests.db_helpers import count, write


def test_round_trip_and_schema(tmp_path):
    path = tmp_path / "s.sqlite3"
    store = Storage(path)
    s = Session("tg:1", state="fit_goal", answers={"situation": "employee"}, referral="mlyon")
    store.save(s)
    store.close()
    again = Storage(path)
    assert again.schema_version() == SCHEMA_VERSION
    loaded = again.load("tg:1")
    assert (loaded.state, loaded.answers, loaded.referral) == (
        "fit_goal",
        {"situation": "employee"},
        "mlyon",
    )
    assert again.load("tg:2").state == "menu"
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_migration_from_empty_v0_database(tmp_path):
    path = tmp_path / "old.sqlite3"
    sqlite3.connect(path).execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    store = Storage(path)
    assert store.schema_version() == SCHEMA_VERSION
    store.save(Session("tg:1"))


def test_corrupt_row_gives_a_fresh_session(tmp_path):
    store = Storage(tmp_path / "s.sqlite3")
    write(store, "INSERT INTO sessions (user, data, updated) VALUES ('tg:9', 'not json', 0)")
    assert store.load("tg:9").state == "menu"


def test_counted_once_per_stage_and_erased_without_trace(tmp_path):
    path = tmp_path / "s.sqlite3"
    store = Storage(path)
    for _ in range(3):  # restarting the conversation does not count again
        s = store.load("tg:77")
        s.referral = "mlyon"
        store.save(s, reached={"start", "fit_done"})
    rows = {(stage, n) for _, _, stage, n in store.figures("mlyon")}
    assert rows == {("start", 1), ("fit_done", 1)}
    s = store.load("tg:77")
    store.save(s, erase=True)
    store.close()
    db = sqlite3.connect(path)
    person = Storage(path).person("tg:77")
    dump = "\n".join(db.iterdump())
    assert "tg:77" not in dump and person not in dump
    # The anonymous totals stay.
    assert db.execute("SELECT SUM(n) FROM counters").fetchone()[0] == 2


def test_purge_by_age(tmp_path):
    store = Storage(tmp_path / "s.sqlite3")
    old = Session("tg:old", referral="c1", updated=time.time() - 91 * 86400)
    store.save(old, reached={"start"})
    store.save(Session("tg:new"))
    assert store.purge(90) == 1
    assert count(store, "sessions") == 1
    assert count(store, "stage_marks") == 0


def test_migration_to_schema_6_moves_the_replay_guard_out_of_the_dialogue(tmp_path):
    """The update ids applied to a session leave the dialogue's data for their own column;
    a later save of the session keeps them."""
    from bot.storage import MIGRATIONS

    path = tmp_path / "v5.sqlite3"
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);"
        + ";".join(MIGRATIONS[:5])
        + ";INSERT INTO meta VALUES ('schema_version', '5');"
        + 'INSERT INTO sessions VALUES (\'tg:5\', \'{"s":"help","d":'
        '{"seen":[[41,1800000000]],"u":41,"return":"menu"}}\', 0);'
        + "INSERT INTO sessions VALUES ('tg:6', 'not json', 0);"
    )
    con.close()
    store = Storage(path)
    session = store.load("tg:5")
    assert session.state == "help" and session.data == {"return": "menu"}
    assert store.load_with_applied("tg:5")[1] == [(41, 1800000000.0)]
    store.save(session)
    assert store.load_with_applied("tg:5")[1] == [(41, 1800000000.0)]
    assert store.load_with_applied("tg:6")[1] == [] and store.load("tg:6").state == "menu"


def test_migration_from_schema_1_keeps_sessions(tmp_path):
    from bot.storage import MIGRATIONS

    path = tmp_path / "v1.sqlite3"
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);"
        + MIGRATIONS[0]
        + "INSERT INTO meta VALUES ('schema_version', '1');"
        + "INSERT INTO sessions VALUES ('tg:5', '{\"s\":\"recap\"}', 0);"
    )
    con.close()
    store = Storage(path)
    assert store.schema_version() == SCHEMA_VERSION
    assert store.load("tg:5").state == "recap"
    store.inbox_add([(7, "{}")])
    assert store.inbox_pending() == [(7, "{}")]
    store.inbox_done(7)
    assert store.inbox_pending() == []


def test_newer_schema_is_refused(tmp_path):
    import pytest

    path = tmp_path / "future.sqlite3"
    Storage(path).close()
    write(path, "UPDATE meta SET value='99' WHERE key='schema_version'")
    with pytest.raises(RuntimeError, match="newer"):
        Storage(path)


def test_purge_goes_in_short_batches_and_keeps_recent_sessions(tmp_path):
    """The running bot purges between turns: each batch is one short transaction, and
    the batches together remove exactly what one purge would."""
    store = Storage(tmp_path / "s.sqlite3")
    long_ago = time.time() - 91 * 86400
    for i in range(45):
        store.save(Session(f"tg:{i}", referral="c1", updated=long_ago), reached={"start"})
    store.save(Session("tg:recent", referral="c1"), reached={"start"})
    batches = []
    while True:
        sessions, rows = store.purge_batch(90, limit=20)
        if not rows:
            break
        batches.append(sessions)
    assert batches[:3] == [20, 20, 5]
    assert count(store, "sessions") == 1 and store.load("tg:recent").referral == "c1"
    assert count(store, "stage_marks") == 1


def test_a_turns_replies_survive_storage_whole():
    """Every field of a Reply comes back from what is stored with the turn (a field added
    to Reply and forgotten here would change what a replay after a crash sends)."""
    import dataclasses

    from bot.turn import decode_replies, encode_replies
    from dialogs.model import Button, LinkButton, Reply

    reply = Reply(
        "<b>Texte</b> é",
        ((Button("Oui", "yes"), LinkButton("Site", "https://x")),),
        image=b"\x89PNG",
        request="contact",
        voice="dit ceci",
        personal=True,
    )
    assert {f.name for f in dataclasses.fields(Reply)} == {
        "text",
        "buttons",
        "image",
        "request",
        "voice",
        "personal",
    }
    assert decode_replies(encode_replies([reply, Reply("b")], True)) == ([reply, Reply("b")], True)


# SQL in a string (a statement's first words) or a call that runs it.
SQL = re.compile(
    r"\b(SELECT\s.+\sFROM|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|PRAGMA)\b"
    r"|\.execute(many|script)?\(|sqlite3\.connect\("
)


def sql_outside_storage(root: Path) -> list[str]:
    """Lines of bot/ outside bot/storage/ that hold SQL or run it."""
    found = []
    for path in sorted((root / "bot").rglob("*.py")):
        if (root / "bot" / "storage") in path.parents:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if SQL.search(line):
                found.append(f"{path.relative_to(root)}:{n}: {line.strip()}")
    return found


def test_no_sql_outside_the_storage_package(tmp_path):
    root = Path(__file__).resolve().parent.parent
    assert sql_outside_storage(root) == []
    # The check sees a statement that moved out of the package.
    (tmp_path / "bot" / "storage").mkdir(parents=True)
    (tmp_path / "bot" / "storage" / "ok.py").write_text('db.execute("SELECT 1 FROM t")\n')
    (tmp_path / "bot" / "outbox.py").write_text(
        'guard = ("UPDATE requests SET status=? WHERE id=?", (status, rid))\n'
    )
    assert sql_outside_storage(tmp_path) == [
        'bot/outbox.py:1: guard = ("UPDATE requests SET status=? WHERE id=?", (status, rid))'
    ]


# A write of the person's request state: `…["request"] = …`, `….update(request=…)`,
# `setdefault("request"…)`, `pop("request"…)`, `del …["request"]`.
REQUEST_STATE_WRITE = re.compile(
    r"\[[\"']request[\"']\]\s*=[^=]|update\(\s*request\s*=|setdefault\([\"']request[\"']"
    r"|pop\([\"']request[\"']|del\s+\S+\[[\"']request[\"']\]"
)


def request_state_writers(root: Path) -> set[str]:
    """The files of bot/ and dialogs/ that write a person's request state."""
    return {
        str(path.relative_to(root))
        for package in ("bot", "dialogs")
        for path in (root / package).rglob("*.py")
        if REQUEST_STATE_WRITE.search(path.read_text(encoding="utf-8"))
    }


def test_one_writer_of_the_request_state(tmp_path):
    root = Path(__file__).resolve().parent.parent
    assert request_state_writers(root) == {"bot/storage/requests.py"}
    (tmp_path / "bot").mkdir()
    (tmp_path / "dialogs").mkdir()
    (tmp_path / "bot" / "outbox.py").write_text('session.data["request"] = {"status": s}\n')
    (tmp_path / "dialogs" / "engine.py").write_text('s.data.get("request") == x\n')
    assert request_state_writers(tmp_path) == {"bot/outbox.py"}


def test_the_request_state_follows_the_request(tmp_path):
    """Made in a turn: 'sent'. Claimed by an adviser: 'claimed', by whom, in the same
    transaction as the claim; a second change of the same request writes nothing."""
    from bot.storage import NewRequest

    store = Storage(tmp_path / "s.sqlite3")
    session = Session("tg:5", updated=1_000.0)
    (rid,) = store.save(session, [NewRequest("tg:5", "c1", "Mission locale", 42, "note")])
    assert store.load("tg:5").data["request"] == {
        "id": rid,
        "status": "sent",
        "org": "Mission locale",
        "at": 1000,
    }
    request = store.requests.get(rid)
    assert request is not None
    assert store.requests.settle(request, "claimed", 2_000.0, by="Camille")
    assert store.load("tg:5").data["request"] == {
        "id": rid,
        "status": "claimed",
        "org": "Mission locale",
        "by": "Camille",
        "at": 2000,
    }
    assert not store.requests.settle(request, "passed", 3_000.0)
    assert store.load("tg:5").data["request"]["status"] == "claimed"
    assert store.requests.get(rid).status == "claimed"
