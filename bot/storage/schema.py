"""The database file: its connection, its schema and the migrations between versions.

One connection for the whole bot, used from one thread (bot/database.py). WAL mode, so a
process killed at any moment keeps every committed turn; `secure_delete`, so an erasure
overwrites the bytes instead of leaving them in free pages.
"""

from __future__ import annotations

import logging
import secrets
import sqlite3
from pathlib import Path

log = logging.getLogger(__name__)

SCHEMA_VERSION = 7

# Each migration takes the schema from version i to i + 1.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE sessions (
        user TEXT PRIMARY KEY,
        data TEXT NOT NULL,
        updated INTEGER NOT NULL
    );
    CREATE INDEX sessions_updated ON sessions(updated);
    CREATE TABLE stage_marks (
        person TEXT NOT NULL,
        stage TEXT NOT NULL,
        created INTEGER NOT NULL,
        PRIMARY KEY (person, stage)
    );
    CREATE TABLE counters (
        code TEXT NOT NULL,
        week TEXT NOT NULL,
        stage TEXT NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (code, week, stage)
    );
    """,
    # v2: the inbox. Updates fetched from Telegram are written here before Telegram is told
    # they arrived, and deleted once handled and answered (bot/transport/inbox.py).
    """
    CREATE TABLE inbox (
        update_id INTEGER PRIMARY KEY,
        data TEXT NOT NULL
    );
    """,
    # v3: contact requests and the outbox. A request and the message that carries it to
    # an adviser are written in the same transaction as the person's turn; the outbox is
    # emptied by bot/outbox.py once Telegram accepted each message (replayed at start-up).
    """
    CREATE TABLE requests (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        person TEXT NOT NULL,
        code TEXT NOT NULL,
        organisation TEXT NOT NULL,
        chat_id INTEGER NOT NULL,
        created REAL NOT NULL,
        status TEXT NOT NULL,
        claimed_at REAL,
        claimed_by TEXT,
        reminded INTEGER NOT NULL DEFAULT 0,
        messages TEXT NOT NULL DEFAULT '[]',
        note TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX requests_person ON requests(person);
    CREATE INDEX requests_open ON requests(status, created);
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        request_id INTEGER,
        person TEXT,
        kind TEXT NOT NULL,
        chat_id INTEGER NOT NULL,
        message_id INTEGER,
        text TEXT NOT NULL,
        buttons TEXT NOT NULL DEFAULT '[]',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at REAL NOT NULL
    );
    CREATE TABLE adviser_chats (
        code TEXT PRIMARY KEY,
        chat_id INTEGER NOT NULL,
        opened REAL NOT NULL
    );
    """,
    # v4: dead letters. An update that could not be read or handled is kept aside (7 days,
    # erased with the person's data) instead of stopping the bot or being retried forever.
    """
    CREATE TABLE dead_letters (
        update_id INTEGER NOT NULL,
        person TEXT,
        error TEXT NOT NULL,
        created REAL NOT NULL,
        data TEXT NOT NULL
    );
    CREATE INDEX dead_letters_person ON dead_letters(person);
    """,
    # v5: how many replies of an update were delivered, so a turn replayed after a crash
    # sends only the rest of its screen.
    """
    ALTER TABLE inbox ADD COLUMN sent INTEGER NOT NULL DEFAULT 0;
    """,
    # v6: the update ids already applied to a session, in their own column instead of the
    # dialogue's data (the replay guard of bot/turn.py).
    """
    ALTER TABLE sessions ADD COLUMN applied TEXT NOT NULL DEFAULT '[]';
    UPDATE sessions SET applied = COALESCE(json_extract(data, '$.d.seen'), '[]'),
                        data = json_remove(data, '$.d.seen', '$.d.u')
        WHERE json_valid(data);
    """,
    # v7: a request's buttons carry an unguessable token instead of its sequential id; an
    # adviser whose chat refused a note (blocked the bot) is marked unreachable until they
    # open the bot again; a turn's replies are stored with it (the inbox row of its update),
    # so a crash re-sends exactly those. The notes of requests still open get the new
    # buttons (their old ones named a guessable id and no longer work).
    """
    ALTER TABLE requests ADD COLUMN token TEXT;
    UPDATE requests SET token = lower(hex(randomblob(16)));
    CREATE UNIQUE INDEX requests_token ON requests(token);
    ALTER TABLE adviser_chats ADD COLUMN unreachable INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE inbox ADD COLUMN replies TEXT;
    INSERT INTO outbox (request_id, person, kind, chat_id, message_id, text, buttons, next_at)
        SELECT r.id, r.person, 'edit', json_extract(m.value, '$[0]'),
               json_extract(m.value, '$[1]'), r.note,
               json_array(json_array(json_array('✋ Je m''en occupe', 'claim:' || r.token),
                                     json_array('↪️ Pas pour moi', 'pass:' || r.token))), 0
        FROM requests r, json_each(r.messages) m WHERE r.status = 'sent';
    """,
]

# How long one statement waits for another connection's write lock. Short: the turn runner
# retries a save a few times (bot/turn.py), and a long wait holds every turn behind it.
BUSY_TIMEOUT_SECONDS = 0.25


def is_busy(exc: sqlite3.Error) -> bool:
    """Another connection holds the lock: worth a short wait and another try (a full disk
    or a read-only file is not)."""
    return "locked" in str(exc) or "busy" in str(exc)


def connect(path: Path | str, timeout: float = BUSY_TIMEOUT_SECONDS) -> sqlite3.Connection:
    """The bot's connection, its schema brought to SCHEMA_VERSION. Autocommit
    (isolation_level=None): every transaction is opened explicitly with BEGIN."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(str(path), timeout=timeout, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    # Deleted rows are overwritten with zeros, not left readable in free pages: /oubli
    # must erase the bytes, not only the rows.
    db.execute("PRAGMA secure_delete=ON")
    migrate(db)
    return db


def migrate(db: sqlite3.Connection) -> None:
    """Run the migrations this file has not had yet, one transaction each."""
    db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
    row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    version = int(row[0]) if row else 0
    if version > SCHEMA_VERSION:
        raise RuntimeError(
            f"database schema {version} is newer than this program "
            f"({SCHEMA_VERSION}); upgrade clea-bot"
        )
    for target in range(version + 1, SCHEMA_VERSION + 1):
        with db:
            db.execute("BEGIN")
            for statement in MIGRATIONS[target - 1].split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(target),))
        log.info("database migrated to schema %d", target)


def schema_version(db: sqlite3.Connection) -> int:
    row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    return int(row[0])


def salt(db: sqlite3.Connection) -> bytes:
    """The file's secret salt for the counters' person hashes, made on first use."""
    row = db.execute("SELECT value FROM meta WHERE key='salt'").fetchone()
    if row:
        return bytes.fromhex(row[0])
    db.execute("INSERT OR IGNORE INTO meta VALUES ('salt', ?)", (secrets.token_bytes(16).hex(),))
    row = db.execute("SELECT value FROM meta WHERE key='salt'").fetchone()
    return bytes.fromhex(row[0])
