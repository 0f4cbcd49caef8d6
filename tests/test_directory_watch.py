"""The installed directory while the bot runs: broken in place, removed, replaced. People
get the national contacts meanwhile (never "Oups"), the log one ERROR line, and the new
file is read once it is there, without a restart."""

from __future__ import annotations

import logging
import os
import shutil

from bot.directory_watch import WatchedDirectory
from dialogs.engine import Engine
from knowledge.opendata import LocalDirectory

from .test_opendata import install, recap

LOCAL = "France Travail Lyon 3e (test)"


def test_broken_removed_then_replaced_directory(knowledge, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="bot.directory_watch")
    path = install(tmp_path)
    good = tmp_path / "good-copy.sqlite3"
    shutil.copy(path, good)
    now = [0.0]
    watched = WatchedDirectory(path, LocalDirectory(path), check_seconds=5, clock=lambda: now[0])
    engine = Engine(knowledge, handoff_enabled=True, local_directory=watched)
    assert LOCAL in recap(engine, "69003", "job_seeker")[0].text
    # Broken in place while open (a bad copy, a full disk): garbage over the pages.
    with open(path, "r+b") as f:
        f.seek(0)
        f.write(b"\x00garbage" * 4096)
    national = recap(engine, "69003", "job_seeker")[0].text
    assert LOCAL not in national and "France Travail" in national  # the national contact
    now[0] += 6
    assert LOCAL not in recap(engine, "69003", "job_seeker")[0].text
    path.unlink()  # removed
    now[0] += 6
    assert LOCAL not in recap(engine, "69003", "job_seeker")[0].text
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]  # once, not once a person
    # A good file is put back the way `clea-bot directory update` does it: one rename.
    shutil.copy(good, tmp_path / "new.sqlite3")
    os.replace(tmp_path / "new.sqlite3", path)
    now[0] += 6
    assert LOCAL in recap(engine, "69003", "job_seeker")[0].text
    assert any("readable again" in r.getMessage() for r in caplog.records)


def test_a_replaced_file_is_read_without_a_restart(knowledge, tmp_path):
    path = install(tmp_path)
    now = [0.0]
    watched = WatchedDirectory(path, LocalDirectory(path), check_seconds=5, clock=lambda: now[0])
    before = watched.counts["offices"]["france_travail"]
    other = install(tmp_path / "other", name="dir2.sqlite3")
    con = __import__("sqlite3").connect(other)
    con.execute("DELETE FROM offices WHERE network = 'france_travail' AND id = 'ft-roanne'")
    con.execute(
        "UPDATE meta SET value = json_set(value, '$.offices.france_travail', ?) "
        "WHERE key = 'counts'",
        (before - 1,),
    )
    con.commit()
    con.close()
    os.replace(other, path)
    assert watched.counts["offices"]["france_travail"] == before  # checked every 5 s
    now[0] += 6
    assert watched.counts["offices"]["france_travail"] == before - 1
