"""Sessions and anonymous counters in SQLite.

One small JSON row per person, written once per turn (WAL mode, so a process killed at
any moment keeps every committed turn). The standard sqlite3 module, synchronous: the
Telegram bot calls it from one database thread (bot/database.py), never from the event
loop, so a lock or a slow disk holds only the turns that need the database.

Counters never hold a user id, a message or an answer: a person is counted once per
stage through a salted hash, and that hash is deleted with the person's data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from dialogs.model import Session

log = logging.getLogger(__name__)

SCHEMA_VERSION = 7
STAGES = ("start", "fit_done", "recap", "handoff")

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
# A session row written without losing the ids already applied to it.
UPSERT_SESSION = (
    "INSERT INTO sessions (user, data, updated) VALUES (?, ?, ?) "
    "ON CONFLICT(user) DO UPDATE SET data=excluded.data, updated=excluded.updated"
)
DEAD_LETTER_DAYS = 7


@dataclass(frozen=True)
class NewRequest:
    """A contact request made in this turn, and the note that carries it."""

    person: str
    code: str  # the adviser's code; "" for the shared advisers' chat
    organisation: str
    chat_id: int
    text: str


@dataclass(frozen=True)
class Outgoing:
    """A message for someone other than the person of the current turn."""

    kind: str  # note | reminder | notice | edit
    chat_id: int
    text: str
    request_id: int | None = None
    person: str | None = None  # whose data this is (erased with them)
    buttons: list = field(default_factory=list)  # [[label, callback data], …] rows
    message_id: int | None = None  # for an edit


@dataclass(frozen=True)
class OutboxRow:
    id: int
    request_id: int | None
    person: str | None
    kind: str
    chat_id: int
    message_id: int | None
    text: str
    buttons: list
    attempts: int


REQUEST_FIELDS = (
    "id, person, code, organisation, chat_id, created, status, claimed_at, "
    "claimed_by, reminded, note, token, messages"
)


@dataclass(frozen=True)
class RequestRow:
    id: int
    person: str
    code: str
    organisation: str
    chat_id: int
    created: float
    status: str  # sent | claimed | passed | failed
    claimed_at: float | None
    claimed_by: str | None
    reminded: int
    note: str  # the request as the adviser reads it
    token: str  # what its buttons carry: unguessable, unlike the id
    messages: list  # [[chat id, message id], …] where the note landed

    def chats(self) -> set[int]:
        """The chats the note was sent to: the only ones where its buttons are obeyed."""
        return {int(self.chat_id), *(int(chat) for chat, _ in self.messages)}


def new_token() -> str:
    """A request's token: 128 random bits, 22 characters (callback data holds 64 bytes)."""
    return secrets.token_urlsafe(16)


def claim_buttons(token: str) -> list:
    return [[["✋ Je m'en occupe", f"claim:{token}"], ["↪️ Pas pour moi", f"pass:{token}"]]]


def week_of(timestamp: float) -> str:
    """ISO week, e.g. '2026-W48'."""
    year, week, _ = dt.date.fromtimestamp(timestamp).isocalendar()
    return f"{year}-W{week:02d}"


def is_busy(exc: sqlite3.Error) -> bool:
    """Another connection holds the lock: worth a short wait and another try (a full disk
    or a read-only file is not)."""
    return "locked" in str(exc) or "busy" in str(exc)


# How long one statement waits for another connection's write lock. Short: the turn runner
# retries a save a few times (bot/turn.py), and a long wait holds every turn behind it.
BUSY_TIMEOUT_SECONDS = 0.25
# Expired rows removed per purge transaction (Storage.purge_batch).
PURGE_BATCH = 200


class Storage:
    def __init__(self, path: Path | str, timeout: float = BUSY_TIMEOUT_SECONDS):
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(
            str(path), timeout=timeout, isolation_level=None, check_same_thread=False
        )
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        # Deleted rows are overwritten with zeros, not left readable in free pages: /oubli
        # must erase the bytes, not only the rows.
        self.db.execute("PRAGMA secure_delete=ON")
        self.migrate()
        self._salt = self._get_or_create_salt()

    # --- schema ---------------------------------------------------------------------------

    def migrate(self) -> None:
        self.db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        row = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        version = int(row[0]) if row else 0
        if version > SCHEMA_VERSION:
            raise RuntimeError(
                f"database schema {version} is newer than this program "
                f"({SCHEMA_VERSION}); upgrade clea-bot"
            )
        for target in range(version + 1, SCHEMA_VERSION + 1):
            with self.db:
                self.db.execute("BEGIN")
                for statement in MIGRATIONS[target - 1].split(";"):
                    if statement.strip():
                        self.db.execute(statement)
                self.db.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(target),)
                )
            log.info("database migrated to schema %d", target)

    def schema_version(self) -> int:
        row = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        return int(row[0])

    def _get_or_create_salt(self) -> bytes:
        row = self.db.execute("SELECT value FROM meta WHERE key='salt'").fetchone()
        if row:
            return bytes.fromhex(row[0])
        salt = secrets.token_bytes(16)
        self.db.execute("INSERT OR IGNORE INTO meta VALUES ('salt', ?)", (salt.hex(),))
        row = self.db.execute("SELECT value FROM meta WHERE key='salt'").fetchone()
        return bytes.fromhex(row[0])

    # --- sessions -------------------------------------------------------------------------

    def load(self, user: str) -> Session:
        return self.load_with_applied(user)[0]

    def load_with_applied(self, user: str) -> tuple[Session, list[tuple[int, float]]]:
        """The session and the update ids applied to it, in one read (once per turn)."""
        row = self.db.execute("SELECT data, applied FROM sessions WHERE user=?", (user,)).fetchone()
        if row is None:
            return Session(user), []
        try:
            session = Session.from_json(user, row[0])
        except (ValueError, TypeError):
            log.error("unreadable session row replaced by a new session")
            session = Session(user)
        try:
            applied = [(int(i), float(t)) for i, t in json.loads(row[1])]
        except (ValueError, TypeError):
            applied = []
        return session, applied

    def save(
        self,
        session: Session,
        requests: Iterable[NewRequest] = (),
        reached: Iterable[str] = (),
        erase: bool = False,
        applied: list[tuple[int, float]] | None = None,
        update_id: int | None = None,
        replies: str | None = None,
    ) -> list[int]:
        """Persist one turn in one transaction: the session, the update ids applied to it,
        its counters (`reached`), and the contact requests it made with the outbox messages
        that carry them. `erase`: the person asked to forget everything about them. Returns
        the new request ids. `replies`: the turn's replies (bot.turn.encode_replies), kept
        with the inbox row of `update_id` until they are all sent, so a crash re-sends
        exactly them."""
        if erase:
            self.erase(session.user, update_id)
            return []
        ids: list[int] = []
        requests = list(requests)
        with self.db:
            self.db.execute("BEGIN")
            for request in requests:
                ids.append(self._add_request(request, session.updated))
            if ids:  # /demande reads where the request stands from the session
                session.data["request"] = {
                    "id": ids[-1],
                    "status": "sent",
                    "org": requests[-1].organisation,
                    "at": round(session.updated),
                }
            self.db.execute(UPSERT_SESSION, (session.user, session.to_json(), int(session.updated)))
            if applied is not None:
                self.db.execute(
                    "UPDATE sessions SET applied=? WHERE user=?",
                    (json.dumps([[i, round(t)] for i, t in applied]), session.user),
                )
            if update_id is not None and replies is not None:
                self.db.execute(
                    "UPDATE inbox SET replies=? WHERE update_id=?", (replies, update_id)
                )
            reached = set(reached)
            if reached and session.referral:
                self._count(session.user, session.referral, reached, session.updated)
        return ids

    # --- contact requests and the outbox ---------------------------------------------------

    def _add_request(self, r: NewRequest, now: float) -> int:
        token = new_token()
        cur = self.db.execute(
            "INSERT INTO requests (person, code, organisation, chat_id, created, status, note,"
            " token) VALUES (?, ?, ?, ?, ?, 'sent', ?, ?)",
            (r.person, r.code, r.organisation, r.chat_id, now, r.text, token),
        )
        rid = int(cur.lastrowid)
        self._queue(
            Outgoing(
                "note",
                r.chat_id,
                r.text,
                request_id=rid,
                person=r.person,
                buttons=claim_buttons(token),
            ),
            now,
        )
        return rid

    def _queue(self, o: Outgoing, now: float) -> None:
        self.db.execute(
            "INSERT INTO outbox (request_id, person, kind, chat_id, message_id, text, buttons,"
            " next_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                o.request_id,
                o.person,
                o.kind,
                o.chat_id,
                o.message_id,
                o.text,
                json.dumps(o.buttons, ensure_ascii=False),
                now,
            ),
        )

    def queue(
        self,
        messages: Iterable[Outgoing],
        now: float | None = None,
        sessions: Iterable[Session] = (),
        request_updates: Iterable[tuple] = (),
        guard: tuple | None = None,
    ) -> bool:
        """Outgoing messages, session changes and request changes in one transaction
        (a claim edits the note, tells the person, and records who took it, all or none).
        `guard`: a state change (UPDATE … WHERE state=…) run first; when it changes no row
        (someone else changed the state first) nothing is written and False is returned,
        so two advisers pressing together give the person one outcome."""
        now = now or time.time()
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            if guard is not None and self.db.execute(*guard).rowcount != 1:
                self.db.execute("ROLLBACK")
                return False
            for sql, args in request_updates:
                self.db.execute(sql, args)
            for session in sessions:
                self.db.execute(
                    UPSERT_SESSION, (session.user, session.to_json(), int(session.updated))
                )
            for o in messages:
                self._queue(o, now)
        return True

    def outbox_due(self, now: float | None = None, limit: int = 50) -> list[OutboxRow]:
        rows = self.db.execute(
            "SELECT id, request_id, person, kind, chat_id, message_id, text, buttons, attempts"
            " FROM outbox WHERE next_at <= ? ORDER BY id LIMIT ?",
            (now or time.time(), limit),
        )
        return [OutboxRow(*r[:7], json.loads(r[7]), r[8]) for r in rows]

    def outbox_count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]

    def outbox_sent(self, row: OutboxRow, message_id: int | None) -> None:
        """Telegram accepted the message: remove it; remember where a note landed, so a
        claim can edit it."""
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute("DELETE FROM outbox WHERE id=?", (row.id,))
            if row.kind in ("note", "reminder") and row.request_id and message_id:
                found = self.db.execute(
                    "SELECT messages FROM requests WHERE id=?", (row.request_id,)
                ).fetchone()
                if found:
                    messages = json.loads(found[0]) + [[row.chat_id, message_id]]
                    self.db.execute(
                        "UPDATE requests SET messages=? WHERE id=?",
                        (json.dumps(messages), row.request_id),
                    )

    def outbox_retry(self, row: OutboxRow, delay: float, now: float | None = None) -> None:
        self.db.execute(
            "UPDATE outbox SET attempts=attempts+1, next_at=? WHERE id=?",
            ((now or time.time()) + delay, row.id),
        )

    def outbox_drop(self, row: OutboxRow) -> None:
        self.db.execute("DELETE FROM outbox WHERE id=?", (row.id,))

    def request(self, request_id: int) -> RequestRow | None:
        row = self.db.execute(
            f"SELECT {REQUEST_FIELDS} FROM requests WHERE id=?", (request_id,)
        ).fetchone()
        return RequestRow(*row[:-1], json.loads(row[-1])) if row else None

    def request_by_token(self, token: str) -> RequestRow | None:
        row = self.db.execute(
            f"SELECT {REQUEST_FIELDS} FROM requests WHERE token=?", (token,)
        ).fetchone()
        return RequestRow(*row[:-1], json.loads(row[-1])) if row else None

    def requests_to_remind(self, created_before: float) -> list[RequestRow]:
        rows = self.db.execute(
            f"SELECT {REQUEST_FIELDS} FROM requests WHERE status='sent' AND reminded=0 "
            "AND created <= ?",
            (created_before,),
        )
        return [RequestRow(*r[:-1], json.loads(r[-1])) for r in rows]

    def request_figures(self) -> list[tuple[str, int, int, float | None]]:
        """(code, received, claimed, median seconds to claim) per adviser code."""
        rows = self.db.execute("SELECT code, status, created, claimed_at FROM requests")
        by_code: dict[str, list] = {}
        for code, status, created, claimed_at in rows:
            by_code.setdefault(code or "", []).append((status, created, claimed_at))
        out = []
        for code, items in sorted(by_code.items()):
            delays = sorted(c - r for _, r, c in items if c is not None)
            median = None
            if delays:
                mid = len(delays) // 2
                median = delays[mid] if len(delays) % 2 else (delays[mid - 1] + delays[mid]) / 2
            out.append((code, len(items), len(delays), median))
        return out

    def adviser_opened(self, code: str, chat_id: int, now: float | None = None) -> bool:
        """Record that an adviser opened the bot (Telegram lets a bot write to a person only
        after that). True the first time, and the first time after their chat refused a
        message (they blocked the bot, then opened it again)."""
        cur = self.db.execute(
            "INSERT INTO adviser_chats (code, chat_id, opened) VALUES (?, ?, ?) "
            "ON CONFLICT(code) DO UPDATE SET chat_id=excluded.chat_id, opened=excluded.opened,"
            " unreachable=0 WHERE unreachable=1 OR chat_id<>excluded.chat_id",
            (code, chat_id, now or time.time()),
        )
        return bool(cur.rowcount)

    def adviser_unreachable(self, chat_id: int) -> str | None:
        """The adviser whose private chat refused a message for good (403: they blocked
        the bot): not named nor sent requests until they open the bot again. Their code,
        or None when the chat is no adviser's."""
        row = self.db.execute(
            "UPDATE adviser_chats SET unreachable=1 WHERE chat_id=? RETURNING code", (chat_id,)
        ).fetchone()
        return row[0] if row else None

    def unreachable_advisers(self) -> frozenset[str]:
        return frozenset(
            r[0] for r in self.db.execute("SELECT code FROM adviser_chats WHERE unreachable=1")
        )

    def adviser_chat(self, code: str) -> int | None:
        """The private chat of an adviser who opened the bot and did not block it since."""
        row = self.db.execute(
            "SELECT chat_id FROM adviser_chats WHERE code=? AND unreachable=0", (code,)
        ).fetchone()
        return int(row[0]) if row else None

    # --- inbox: updates received, not yet handled -------------------------------------------

    def inbox_add(self, updates: Iterable[tuple[int, str]]) -> None:
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany(
                "INSERT OR IGNORE INTO inbox (update_id, data) VALUES (?, ?)", updates
            )

    def inbox_sent(self, update_id: int, count: int) -> None:
        self.db.execute("UPDATE inbox SET sent=? WHERE update_id=?", (count, update_id))

    def inbox_sent_count(self, update_id: int) -> int:
        row = self.db.execute("SELECT sent FROM inbox WHERE update_id=?", (update_id,)).fetchone()
        return int(row[0]) if row else 0

    def inbox_replies(self, update_id: int) -> str | None:
        """The replies stored with the turn of this update (bot.turn.encode_replies)."""
        row = self.db.execute(
            "SELECT replies FROM inbox WHERE update_id=?", (update_id,)
        ).fetchone()
        return row[0] if row else None

    def inbox_done(self, update_id: int) -> None:
        self.db.execute("DELETE FROM inbox WHERE update_id=?", (update_id,))

    def inbox_done_many(self, update_ids: list[int]) -> None:
        """Several finished updates out of the inbox in one transaction."""
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany("DELETE FROM inbox WHERE update_id=?", [(i,) for i in update_ids])

    def inbox_pending(self) -> list[tuple[int, str]]:
        return list(self.db.execute("SELECT update_id, data FROM inbox ORDER BY update_id"))

    def dead_letter(
        self,
        update_id: int | None,
        error: str,
        person: str | None,
        data: str,
        now: float | None = None,
    ) -> None:
        self.db.execute(
            "INSERT INTO dead_letters VALUES (?, ?, ?, ?, ?)",
            (update_id or 0, person, error, now or time.time(), data[:100_000]),
        )

    def dead_letter_count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM dead_letters").fetchone()[0]

    def erase(self, user: str, update_id: int | None = None) -> None:
        """Everything the bot keeps about the person: session, marks, their requests and
        the messages about them not yet sent, and the update asking for it (`update_id`:
        its inbox row holds their chat id and name). What an adviser already received
        stays with the adviser (the privacy notice says so). Then the bytes: deleted rows
        are zeroed (secure_delete), but the -wal file keeps every page as it was before,
        until a checkpoint copies the pages back and empties it."""
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute("DELETE FROM sessions WHERE user=?", (user,))
            self.db.execute("DELETE FROM stage_marks WHERE person=?", (self.person(user),))
            self.db.execute("DELETE FROM outbox WHERE person=?", (user,))
            self.db.execute("DELETE FROM requests WHERE person=?", (user,))
            self.db.execute("DELETE FROM dead_letters WHERE person=?", (user,))
            if update_id is not None:
                self.db.execute("DELETE FROM inbox WHERE update_id=?", (update_id,))
        self.checkpoint()

    def checkpoint(self) -> bool:
        """Copy the -wal file into the database and empty it (TRUNCATE). Another reader
        (a `clea-bot stats` in progress) can hold it up: tried a few times; False (and a
        WARNING) when it could not finish, the next erasure or checkpoint finishes it."""
        for pause in (0.0, 0.05, 0.2, 0.5):
            time.sleep(pause)
            busy = self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            if not busy:
                return True
        log.warning("the write-ahead log could not be emptied (another reader)")
        return False

    def purge(self, retention_days: int, now: float | None = None) -> int:
        """Delete sessions untouched for `retention_days`, and their marks. Returns count.
        In batches (one transaction each), as the running bot does between its turns."""
        removed = 0
        while True:
            sessions, rows = self.purge_batch(retention_days, now)
            removed += sessions
            if not rows:
                return removed

    def purge_batch(
        self, retention_days: int, now: float | None = None, limit: int = PURGE_BATCH
    ) -> tuple[int, int]:
        """One short transaction of the purge: at most `limit` expired sessions with their
        marks, and at most `limit` rows of each other expired kind. Returns (sessions, all
        rows) removed; (0, 0) when nothing is left. Why batches: with secure_delete, 100k
        sessions in one transaction held the database thread 0.46 s, and every turn with
        it; a batch of 200 holds it about a millisecond, and turns run between batches."""
        now = now or time.time()
        cutoff = int(now - retention_days * 86400)
        with self.db:
            self.db.execute("BEGIN")
            users = [
                r[0]
                for r in self.db.execute(
                    "SELECT user FROM sessions WHERE updated < ? LIMIT ?", (cutoff, limit)
                )
            ]
            self.db.executemany(
                "DELETE FROM stage_marks WHERE person=?", [(self.person(u),) for u in users]
            )
            self.db.executemany("DELETE FROM sessions WHERE user=?", [(u,) for u in users])
            rows = len(users)
            if users:  # the other kinds once the sessions are done: one scan each
                return len(users), rows
            rows += self.db.execute(
                "DELETE FROM stage_marks WHERE rowid IN (SELECT rowid FROM stage_marks"
                " WHERE created < ? LIMIT ?)",
                (cutoff, limit),
            ).rowcount
            # A request keeps the phone number for the adviser's claim and reminder: it goes
            # after the same time, with anything about it not yet sent.
            old = [
                r[0]
                for r in self.db.execute(
                    "SELECT id FROM requests WHERE created < ? LIMIT ?", (cutoff, limit)
                )
            ]
            self.db.executemany("DELETE FROM outbox WHERE request_id=?", [(i,) for i in old])
            self.db.executemany("DELETE FROM requests WHERE id=?", [(i,) for i in old])
            rows += len(old)
            rows += self.db.execute(
                "DELETE FROM dead_letters WHERE rowid IN (SELECT rowid FROM dead_letters"
                " WHERE created < ? LIMIT ?)",
                (now - DEAD_LETTER_DAYS * 86400, limit),
            ).rowcount
        return len(users), rows

    def count_sessions(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0]

    # --- anonymous counters ---------------------------------------------------------------

    def person(self, user: str) -> str:
        return hmac.new(self._salt, user.encode(), hashlib.sha256).hexdigest()[:32]

    def _count(self, user: str, code: str, stages: Iterable[str], when: float) -> None:
        """Count the person once per stage. Runs inside the caller's transaction."""
        person, week = self.person(user), week_of(when)
        for stage in stages:
            if stage not in STAGES:
                continue
            cur = self.db.execute(
                "INSERT OR IGNORE INTO stage_marks VALUES (?, ?, ?)", (person, stage, int(when))
            )
            if cur.rowcount:
                self.db.execute(
                    "INSERT INTO counters VALUES (?, ?, ?, 1) ON CONFLICT(code, week, stage)"
                    " DO UPDATE SET n = n + 1",
                    (code, week, stage),
                )

    def figures(
        self, code: str | None = None, weeks: int | None = None, now: float | None = None
    ) -> list[tuple[str, str, str, int]]:
        """(code, week, stage, n) rows, newest week first."""
        sql, args = "SELECT code, week, stage, n FROM counters", []
        where = []
        if code is not None:
            where.append("code = ?")
            args.append(code)
        if weeks is not None:
            now = now or time.time()
            first = week_of(now - (weeks - 1) * 7 * 86400)
            where.append("week >= ?")
            args.append(first)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY week DESC, code, stage"
        return [tuple(r) for r in self.db.execute(sql, args)]

    def close(self) -> None:
        self.db.close()
