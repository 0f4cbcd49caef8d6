"""`Storage`: the one object the bot holds for its SQLite file.

Each concern has its own small class over the one connection (sessions, inbox, outbox,
contact requests, advisers' chats, anonymous counters, dead letters); `Storage` builds them,
keeps the operations that span several (a turn saved in one transaction, an erasure, the
purge) and offers the methods the channels call by their usual names. No SQL lives
outside this package.

The standard sqlite3 module, synchronous: the Telegram bot calls it from one database
thread (bot/database.py), or from the event loop for the few calls of each update when
nothing else uses the connection and with a busy timeout of 0 (a lock sends the call to
the thread): a lock or a slow checkpoint holds only the turns that need the database.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

from bot.retrying import retry_sync
from bot.storage import schema
from bot.storage.advisers import AdviserChats
from bot.storage.counters import Counters, FigureRow, RequestFigure
from bot.storage.dead_letters import DeadLetters
from bot.storage.inbox import Inbox
from bot.storage.outbox import MessageQueue
from bot.storage.requests import NewRequest, Requests
from bot.storage.sessions import Applied, Sessions
from dialogs.model import Reach, Session

log = logging.getLogger(__name__)

# Between two tries to empty the write-ahead log while another reader holds it up.
CHECKPOINT_PAUSES = (0.05, 0.2, 0.5)


class _WalBusy(Exception):
    """The checkpoint could not finish: another connection is reading."""


# The write-ahead log file is cut back to this size when it starts again (bytes).
WAL_SIZE_LIMIT = 8 * 1024 * 1024

# Expired rows removed per purge transaction (Storage.purge_batch).
PURGE_BATCH = 200


class Storage:
    def __init__(self, path: Path | str, timeout: float = schema.BUSY_TIMEOUT_SECONDS) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self._waits = True  # the busy timeout is `timeout` (False: 0, bot.database.quick)
        self.db = schema.connect(path, timeout)
        self.sessions = Sessions(self.db)
        self.inbox = Inbox(self.db)
        self.outbox = MessageQueue(self.db)
        self.requests = Requests(self.db, self.outbox, self.sessions)
        self.advisers = AdviserChats(self.db)
        self.counters = Counters(self.db, schema.salt(self.db))
        self.dead_letters = DeadLetters(self.db)

    def schema_version(self) -> int:
        return schema.schema_version(self.db)

    def close(self) -> None:
        self.db.close()

    # --- quick calls on the event loop (bot/database.py) -------------------------------------

    def wait_for_locks(self, wait: bool) -> None:
        """A lock held by another connection is waited for `timeout` seconds (True), or
        fails at once (False: a quick call on the event loop, which must not wait)."""
        if wait != self._waits:
            self._waits = wait
            self.db.execute(f"PRAGMA busy_timeout={int(self.timeout * 1000) if wait else 0}")

    def changes(self) -> int:
        """Rows changed since the connection opened."""
        return self.db.total_changes

    def checkpoints_by_hand(self) -> None:
        """SQLite copies the write-ahead log back into the database inside the commit that
        makes it long (about 1,000 pages), a disk flush included: turned off, and
        `checkpoint_passive` called on the database thread instead. Called at start-up,
        before the first turn: the log is started here (its header flushed) too."""
        self.db.execute("PRAGMA wal_autocheckpoint=0")
        # Once started again, the log file is cut back to this size (a burst of writes
        # on the thread would otherwise leave it as long as it ever was).
        self.db.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
        try:
            self.checkpoint_passive()
        except sqlite3.Error as exc:  # a read-only file: every turn will say so
            log.warning("write-ahead log not started: %s", type(exc).__name__)

    def checkpoint_passive(self) -> None:
        """Copy what the write-ahead log holds into the database as far as no reader
        prevents it, without waiting for anyone. When all of it was copied, the log is
        started again from its beginning by a one-row write here: the first write after
        a full checkpoint flushes the log's new header to disk, and that must not be the
        next turn's, on the event loop (bot/database.py)."""
        busy, frames, copied = self.db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if not busy and frames == copied:
            self._restart_log()

    def _restart_log(self) -> None:
        """A write that changes something (an unchanged row writes nothing)."""
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('log_restarted', hex(randomblob(4)))"
            )

    def rollback(self) -> None:
        """End the transaction a failed call left open, if any (none on a closed
        connection)."""
        with contextlib.suppress(sqlite3.ProgrammingError):
            if self.db.in_transaction:
                self.db.rollback()

    # --- one turn ----------------------------------------------------------------------------

    def save(
        self,
        session: Session,
        requests: Iterable[NewRequest] = (),
        reached: Iterable[str] = (),
        erase: bool = False,
        applied: Applied | None = None,
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
        with self.db:
            self.db.execute("BEGIN")
            ids = self.requests.add_for_turn(session, list(requests))
            self.sessions.write(session, applied)
            if update_id is not None and replies is not None:
                self.inbox.keep_replies(update_id, replies)
            reached = set(reached)
            if reached and session.referral:
                self.counters.count(session.user, session.referral, reached, session.updated)
        return ids

    def erase(self, user: str, update_id: int | None = None) -> None:
        """Everything the bot keeps about the person: session, marks, their requests and
        the messages about them not yet sent, and the update asking for it (`update_id`:
        its inbox row holds their chat id and name). What an adviser already received
        stays with the adviser (the privacy notice says so). Then the bytes: deleted rows
        are zeroed (secure_delete), but the -wal file keeps every page as it was before,
        until a checkpoint copies the pages back and empties it."""
        with self.db:
            self.db.execute("BEGIN")
            self.sessions.delete([user])
            self.counters.forget([user])
            self.outbox.delete_person(user)
            self.requests.delete_person(user)
            self.dead_letters.delete_person(user)
            if update_id is not None:
                self.inbox.done(update_id)
        self.checkpoint()

    def checkpoint(self) -> bool:
        """Copy the -wal file into the database and empty it (TRUNCATE). Another reader
        (a `clea-bot stats` in progress) can hold it up: tried a few times; False (and a
        WARNING) when it could not finish, the next erasure or checkpoint finishes it."""

        def truncate() -> None:
            if self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]:
                raise _WalBusy

        try:
            retry_sync(truncate, CHECKPOINT_PAUSES, lambda exc: isinstance(exc, _WalBusy))
        except _WalBusy:
            log.warning("the write-ahead log could not be emptied (another reader)")
            return False
        try:
            self._restart_log()  # here, not in the next turn (checkpoint_passive)
        except sqlite3.Error as exc:  # only saves the next writer a disk flush
            log.warning("write-ahead log not started again: %s", type(exc).__name__)
        return True

    # --- expiry ------------------------------------------------------------------------------

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
            users = self.sessions.untouched_since(cutoff, limit)
            self.counters.forget(users)
            self.sessions.delete(users)
            if users:  # the other kinds once the sessions are done: one scan each
                return len(users), len(users)
            rows = self.counters.purge_marks(cutoff, limit)
            rows += self.requests.purge(cutoff, limit)
            rows += self.dead_letters.purge(now, limit)
        return 0, rows

    # --- the names the turn runner, the channels and the inbox call --------------------------
    # Kept as they were before the split (other work calls them); new callers may use the
    # concern objects directly (`storage.requests.settle`, `storage.outbox.due`…).

    def load(self, user: str) -> Session:
        return self.sessions.load(user)

    def load_with_applied(self, user: str) -> tuple[Session, Applied]:
        return self.sessions.load_with_applied(user)

    def inbox_add(self, updates: Iterable[tuple[int, str]]) -> None:
        self.inbox.add(updates)

    def inbox_sent(self, update_id: int, count: int) -> None:
        self.inbox.sent(update_id, count)

    def inbox_sent_count(self, update_id: int) -> int:
        return self.inbox.sent_count(update_id)

    def inbox_replies(self, update_id: int) -> str | None:
        return self.inbox.replies(update_id)

    def inbox_done(self, update_id: int) -> None:
        self.inbox.done(update_id)

    def inbox_done_many(self, update_ids: list[int]) -> None:
        self.inbox.done_many(update_ids)

    def inbox_pending(self) -> list[tuple[int, str]]:
        return self.inbox.pending()

    def adviser_opened(self, code: str, chat_id: int, now: float | None = None) -> bool:
        return self.advisers.opened(code, chat_id, now)

    def adviser_reach(self) -> Reach:
        """What a turn needs to know of the advisers' chats (read before the turn)."""
        return self.advisers.reach()

    def adviser_chat(self, code: str) -> int | None:
        return self.advisers.chat(code)

    def person(self, user: str) -> str:
        return self.counters.person(user)

    def figures(
        self, code: str | None = None, weeks: int | None = None, now: float | None = None
    ) -> list[FigureRow]:
        return self.counters.figures(code, weeks, now)

    def request_figures(self) -> list[RequestFigure]:
        return self.counters.request_figures()
