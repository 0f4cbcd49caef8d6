"""Contact requests: a person's request for an adviser, the notes that carry it, and every
change of its state (sent → claimed, passed or failed; moved to another chat; reminded).

This module is the one writer of a person's request state (`session.data["request"]`,
what /demande shows): a request made in a turn (`Requests.add_for_turn`, from Storage.save) and
every later change (`Requests.settle`, from the outbox worker) write it through
`show_request`, in the transaction that changes the request itself.

A state change is guarded (UPDATE … WHERE status='sent'): when someone else changed the
request first, nothing of the change is written, so two advisers pressing together give
the person one outcome.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bot.storage.outbox import Buttons, MessageQueue, OutboxRow, Outgoing
from bot.storage.sessions import Sessions
from dialogs.model import Session

REQUEST_FIELDS = (
    "id, person, code, organisation, chat_id, created, status, claimed_at, "
    "claimed_by, reminded, note, token, messages"
)


@dataclass(frozen=True)
class NewRequest:
    """A contact request made in this turn, and the note that carries it."""

    person: str
    code: str  # the adviser's code; "" for the shared advisers' chat
    organisation: str
    chat_id: int
    text: str


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
    messages: list[list[int]]  # [[chat id, message id], …] where the note landed

    def chats(self) -> set[int]:
        """The chats the note was sent to: the only ones where its buttons are obeyed."""
        return {int(self.chat_id), *(int(chat) for chat, _ in self.messages)}


def new_token() -> str:
    """A request's token: 128 random bits, 22 characters (callback data holds 64 bytes)."""
    return secrets.token_urlsafe(16)


def claim_buttons(token: str) -> Buttons:
    return [[["✋ Je m'en occupe", f"claim:{token}"], ["↪️ Pas pour moi", f"pass:{token}"]]]


def show_request(
    session: Session,
    request_id: int,
    status: str,
    organisation: str,
    at: float,
    by: str | None = None,
) -> None:
    """Where the person's request stands, as the dialogue reads it (/demande). The only
    place that writes it."""
    state: dict[str, Any] = {"id": request_id, "status": status, "org": organisation}
    if by is not None:
        state["by"] = by
    state["at"] = round(at)
    session.data["request"] = state


def _row(values: tuple[Any, ...]) -> RequestRow:
    """A row of REQUEST_FIELDS: `messages`, the last, is JSON."""
    fields = list(values)
    fields[-1] = json.loads(fields[-1])
    return RequestRow(*fields)


@contextmanager
def _immediate(db: sqlite3.Connection) -> Iterator[None]:
    """A write transaction that takes the lock at once (its first statement is a guard)."""
    with db:
        db.execute("BEGIN IMMEDIATE")
        yield


class Requests:
    """The `requests` table, with the outbox messages and the person's session that each
    change writes in the same transaction."""

    def __init__(self, db: sqlite3.Connection, queue: MessageQueue, sessions: Sessions) -> None:
        self.db = db
        self.queue = queue
        self.sessions = sessions

    # --- made in a turn ----------------------------------------------------------------------

    def add(self, r: NewRequest, now: float) -> int:
        """The request and its note for the adviser. Runs in the turn's transaction."""
        token = new_token()
        cur = self.db.execute(
            "INSERT INTO requests (person, code, organisation, chat_id, created, status, note,"
            " token) VALUES (?, ?, ?, ?, ?, 'sent', ?, ?)",
            (r.person, r.code, r.organisation, r.chat_id, now, r.text, token),
        )
        rid = int(cur.lastrowid or 0)
        self.queue.add(
            Outgoing("note", r.chat_id, r.text, rid, r.person, claim_buttons(token)), now
        )
        return rid

    def add_for_turn(self, session: Session, requests: list[NewRequest]) -> list[int]:
        """The turn's requests; the person's request state names the last one. Runs in
        the turn's transaction, before the session is written."""
        ids = [self.add(request, session.updated) for request in requests]
        if ids:
            show_request(session, ids[-1], "sent", requests[-1].organisation, session.updated)
        return ids

    # --- read --------------------------------------------------------------------------------

    def get(self, request_id: int) -> RequestRow | None:
        row = self.db.execute(
            f"SELECT {REQUEST_FIELDS} FROM requests WHERE id=?", (request_id,)
        ).fetchone()
        return _row(row) if row else None

    def by_token(self, token: str) -> RequestRow | None:
        row = self.db.execute(
            f"SELECT {REQUEST_FIELDS} FROM requests WHERE token=?", (token,)
        ).fetchone()
        return _row(row) if row else None

    def to_remind(self, created_before: float) -> list[RequestRow]:
        """Open requests made before `created_before` and not reminded yet."""
        rows = self.db.execute(
            f"SELECT {REQUEST_FIELDS} FROM requests WHERE status='sent' AND reminded=0 "
            "AND created <= ?",
            (created_before,),
        )
        return [_row(r) for r in rows]

    # --- what happens to a request -----------------------------------------------------------

    def delivered(self, row: OutboxRow, message_id: int | None) -> None:
        """Telegram accepted the message (or may have): the row goes; where a note landed
        is remembered, so a claim can edit it."""
        with self.db:
            self.db.execute("BEGIN")
            self.queue.drop(row.id)
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

    def settle(
        self,
        request: RequestRow,
        status: str,
        now: float,
        messages: Iterable[Outgoing] = (),
        by: str = "",
        drop: int | None = None,
    ) -> bool:
        """One state change of an open request (sent → claimed, passed or failed), with
        the person's request state, `messages` (their notice, edits of the notes) and the
        outbox row `drop` removed, all in one transaction; False and nothing written when
        the request was no longer open."""
        claimed = status == "claimed"
        fields = ", claimed_at=?, claimed_by=?" if claimed else ""
        args = (now, by) if claimed else ()
        with _immediate(self.db):
            if not self._guard(
                f"UPDATE requests SET status=?{fields} WHERE id=? AND status='sent'",
                (status, *args, request.id),
            ):
                return False
            if drop is not None:
                self.queue.drop(drop)
            session = self.sessions.load(request.person)
            show_request(session, request.id, status, request.organisation, now, by)
            session.updated = now
            self.sessions.write(session)
            for message in messages:
                self.queue.add(message, now)
        return True

    def move(
        self,
        request: RequestRow,
        from_chat: int,
        to_chat: int,
        now: float,
        code: str = "",
        organisation: str | None = None,
        drop: int | None = None,
    ) -> bool:
        """An open request handed from `from_chat` to `to_chat` (adviser `code`, "" for
        the shared chat), with a new note there and the outbox row `drop` removed, in one
        transaction; False and nothing written when it was no longer open in `from_chat`."""
        organisation = request.organisation if organisation is None else organisation
        with _immediate(self.db):
            if not self._guard(
                "UPDATE requests SET chat_id=?, code=?, organisation=? WHERE id=? "
                "AND status='sent' AND chat_id=?",
                (to_chat, code, organisation, request.id, from_chat),
            ):
                return False
            if drop is not None:
                self.queue.drop(drop)
            note = Outgoing(
                "note",
                to_chat,
                request.note,
                request.id,
                request.person,
                claim_buttons(request.token),
            )
            self.queue.add(note, now)
        return True

    def remind(self, request: RequestRow, text: str, now: float) -> None:
        """The one reminder of a request, to the chat that holds it."""
        with _immediate(self.db):
            self.db.execute("UPDATE requests SET reminded=1 WHERE id=?", (request.id,))
            reminder = Outgoing(
                "reminder",
                request.chat_id,
                text,
                request.id,
                request.person,
                claim_buttons(request.token),
            )
            self.queue.add(reminder, now)

    def _guard(self, sql: str, args: tuple[Any, ...]) -> bool:
        """Run a guarded state change; when it changed no row, roll back and say so."""
        if self.db.execute(sql, args).rowcount != 1:
            self.db.execute("ROLLBACK")
            return False
        return True

    # --- erasure and expiry ------------------------------------------------------------------

    def delete_person(self, person: str) -> None:
        self.db.execute("DELETE FROM requests WHERE person=?", (person,))

    def purge(self, cutoff: float, limit: int) -> int:
        """Up to `limit` requests made before `cutoff` removed, with anything about them
        not yet sent; returns how many. A request keeps the phone number for the
        adviser's claim and reminder: it goes after the same time as a session."""
        old = [
            r[0]
            for r in self.db.execute(
                "SELECT id FROM requests WHERE created < ? LIMIT ?", (cutoff, limit)
            )
        ]
        self.queue.delete_requests(old)
        self.db.executemany("DELETE FROM requests WHERE id=?", [(i,) for i in old])
        return len(old)
