"""One turn, the same for every channel: load → handle → save → deliver.

A channel turns its input into an `Event`, calls `TurnRunner.run`, and renders the replies
it gets back; it never writes the session itself. What a turn means for someone else (a
contact request for an adviser) is written in the same SQLite transaction as the session,
as a request and an outbox message: a crash after the save cannot lose it, and the person
is told "Votre demande est enregistrée" only once it is.
"""

from __future__ import annotations

import base64
import json
import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.retrying import MustWait, on_the_loop, retry_sync
from bot.storage import NewRequest, Storage, is_busy
from dialogs.engine import Engine
from dialogs.model import AdviserNote, Button, Event, LinkButton, Reach, Reply, Session

log = logging.getLogger(__name__)


@dataclass
class TurnResult:
    """What the channel renders: the replies, and whether to remove a native keyboard."""

    replies: list[Reply]
    session: Session
    remove_keyboard: bool = False
    saved: bool = True
    requests: list[int] = field(default_factory=list)
    replayed: bool = False  # the turn was applied before a crash: its own replies, again
    erased: bool = False  # the person's data was erased: cancel what is still on its way
    keep_previous: bool = False  # the screen before is not to be replaced (Turn)


def encode_replies(replies: list[Reply], remove_keyboard: bool) -> str:
    """A turn's replies as stored with the turn (the inbox row of its update)."""
    return json.dumps(
        {
            "k": remove_keyboard,
            "r": [
                {
                    "t": r.text,
                    "q": r.request,
                    "v": r.voice,
                    "p": r.personal,
                    "i": base64.b64encode(r.image).decode() if r.image is not None else None,
                    "b": [
                        [
                            ["u", b.label, b.url]
                            if isinstance(b, LinkButton)
                            else ["c", b.label, b.choice]
                            for b in row
                        ]
                        for row in r.buttons
                    ],
                }
                for r in replies
            ],
        },
        ensure_ascii=False,
    )


def decode_replies(data: str) -> tuple[list[Reply], bool]:
    """(replies, remove_keyboard) stored by encode_replies."""
    stored = json.loads(data)
    replies = [
        Reply(
            text=r["t"],
            buttons=tuple(
                tuple(
                    LinkButton(label, value) if kind == "u" else Button(label, value)
                    for kind, label, value in row
                )
                for row in r["b"]
            ),
            image=base64.b64decode(r["i"]) if r["i"] is not None else None,
            request=r["q"],
            voice=r["v"],
            personal=bool(r.get("p")),
        )
        for r in stored["r"]
    ]
    return replies, bool(stored["k"])


LOG_EVERY_SECONDS = 60.0
# A save that meets another writer's lock is tried again after these pauses (with the
# storage's short busy timeout, about 1.2 s in all), then the person is told.
SAVE_RETRY_PAUSES = (0.1, 0.3)
LOCKED_FAST_FAIL_SECONDS = 5.0
SEEN_KEEP = 30  # update ids remembered per person
SEEN_SECONDS = 48 * 3600  # Telegram restarts ids lower only after a week without updates


def already_applied(applied: list[tuple[int, float]], update_id: int, now: float) -> bool:
    """This update's turn was applied already (an inbox row replayed after a crash). Not
    "id <= last id": Telegram restarts update ids at a lower value after a quiet week, and
    a returning person must not be taken for a replay. Only ids of the last SEEN_SECONDS
    count, whenever they were stored: a person quiet since keeps old ids in their row."""
    return any(seen == update_id and now - at < SEEN_SECONDS for seen, at in applied)


def with_applied(
    applied: list[tuple[int, float]], update_id: int, now: float
) -> list[tuple[int, float]]:
    """The recent ids plus this one: the last SEEN_KEEP of the last SEEN_SECONDS."""
    recent = [(i, t) for i, t in applied if now - t < SEEN_SECONDS]
    return [*recent[-(SEEN_KEEP - 1) :], (update_id, now)]


def _wait_on_the_thread(exc: sqlite3.Error) -> None:
    """A read met a lock in a quick call on the event loop: the turn goes to the thread,
    where it waits (rather than going on without the person's session)."""
    if on_the_loop() and is_busy(exc):
        raise MustWait from exc


class TurnRunner:
    """`shared_chat`: CLEA_ADVISER_CHAT_ID. `adviser_chat(code)`: the private chat of an
    adviser who opened the bot, or None. `wake()`: tells the outbox worker to look."""

    def __init__(
        self,
        engine: Engine,
        storage: Storage,
        shared_chat: int | None = None,
        adviser_chat: Callable[[str], int | None] | None = None,
        wake: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.engine = engine
        self.clock = clock
        self._last_save_error: dict[str, float] = {}
        self._locked_until = 0.0  # until then, a save meeting a lock is not retried
        self.storage = storage
        self.shared_chat = shared_chat
        self.adviser_chat = adviser_chat or storage.adviser_chat
        self.wake = wake or (lambda: None)

    def run(self, user: str, event: Event, update_id: int | None = None) -> TurnResult:
        """One turn. Made on the event loop when the database is free (a quick call,
        bot/database.py): then a lock, or an erasure (a checkpoint with a disk flush),
        raises MustWait before anything is written, and the channel makes the whole turn
        again on the database thread."""
        try:
            session, applied = self.storage.load_with_applied(user)
        except sqlite3.Error as exc:
            _wait_on_the_thread(exc)
            log.error("could not read a session: %s: %s", type(exc).__name__, exc)
            session, applied = Session(user), []
        previous = session.state
        if update_id is not None and already_applied(applied, update_id, self.clock()):
            return self._replayed(session, update_id)
        turn = self.engine.handle(session, event, self._reach())
        if turn.erase and on_the_loop():
            raise MustWait  # nothing written yet: the thread makes the turn again
        requests = [r for r in (self._request(user, n) for n in turn.notes) if r]
        result = TurnResult(
            turn.replies,
            session,
            turn.remove_keyboard,
            erased=turn.erase,
            keep_previous=turn.keep_previous,
        )
        try:
            result.requests = self._save(
                session,
                requests,
                turn.reached,
                turn.erase,
                with_applied(applied, update_id, self.clock()) if update_id is not None else None,
                update_id,
                encode_replies(turn.replies, turn.remove_keyboard)
                if update_id is not None
                else None,
            )
        except sqlite3.Error as exc:
            # SQLite's message ("database is locked") says what is wrong, nothing personal.
            # A full disk fails every turn: one line a minute, not one per update.
            now = time.monotonic()
            if now - self._last_save_error.get(str(exc), -LOG_EVERY_SECONDS) >= LOG_EVERY_SECONDS:
                self._last_save_error[str(exc)] = now
                log.error("could not save a turn: %s: %s", type(exc).__name__, exc)
            result.saved = False
            result.erased = False
            # Not "Votre demande est enregistrée" when it is not: say it plainly.
            result.replies = self.engine.notice("not_saved")
        if result.requests:
            self.wake()
        log.debug(
            "turn %s: %s -> %s, %d replies", update_id, previous, session.state, len(result.replies)
        )
        return result

    def _reach(self) -> Reach:
        """The advisers' chats as storage knows them, for the engine (it reads no database).
        Without declared advisers nobody can be named: no read."""
        if not self.engine.advisers:
            return Reach()
        try:
            return self.storage.adviser_reach()
        except sqlite3.Error as exc:
            _wait_on_the_thread(exc)
            log.error("could not read the advisers' chats: %s: %s", type(exc).__name__, exc)
            return Reach()

    def _replayed(self, session: Session, update_id: int) -> TurnResult:
        """Delivered again: the turn was applied, and its replies stored with it in the same
        transaction (Storage.save). While its inbox row holds them (a crash came before
        they were all sent), exactly those are sent again (the channel skips the ones that
        went out), never the current screen in their place: a FAQ answer or a /demande
        status is not a screen.

        No replies on its row: the turn was answered and its row removed, and this is
        Telegram delivering the update again. Telegram forgets an update only at the next
        getUpdates; a process killed before that gets it again at its next start, beside
        its inbox copy (or after that copy was answered). Nothing is sent then: the
        current screen once sent here came after the answer already given, an extra
        message, out of place after a FAQ answer. Only when the row cannot be read is the
        screen sent, so the person still sees where they are."""
        try:
            stored = self.storage.inbox_replies(update_id)
        except sqlite3.Error as exc:
            _wait_on_the_thread(exc)
            log.error("could not read a turn's replies: %s: %s", type(exc).__name__, exc)
            return TurnResult(
                self.engine.screen(session, self._reach()),
                session,
                replayed=True,
                keep_previous=True,
            )
        if stored is None:
            return TurnResult([], session, replayed=True, keep_previous=True)
        replies, remove_keyboard = decode_replies(stored)
        return TurnResult(replies, session, remove_keyboard, replayed=True, keep_previous=True)

    def _save(
        self,
        session: Session,
        requests: list[NewRequest],
        reached: frozenset[str],
        erase: bool,
        applied: list[tuple[int, float]] | None,
        update_id: int | None = None,
        replies: str | None = None,
    ) -> list[int]:
        """Storage.save, tried again while the database is busy (a lock held by a backup
        or another process); a full disk or a read-only file fails at once. Each try is
        one transaction, rolled back whole when it fails."""
        # Right after a save gave up on a lock, the next turns try once: turns wait for
        # the database one after another, and ten people must not wait ten retry series.
        recently_locked = time.monotonic() < self._locked_until
        try:
            return retry_sync(  # on the database thread, never the event loop
                lambda: self.storage.save(
                    session, requests, reached, erase, applied, update_id, replies
                ),
                () if recently_locked else SAVE_RETRY_PAUSES,
                lambda exc: isinstance(exc, sqlite3.OperationalError) and is_busy(exc),
            )
        except sqlite3.OperationalError as exc:
            if is_busy(exc):
                self._locked_until = time.monotonic() + LOCKED_FAST_FAIL_SECONDS
            raise

    def _request(self, user: str, note: AdviserNote) -> NewRequest | None:
        chat = self.adviser_chat(note.adviser) if note.adviser else None
        if chat is None:
            chat = self.shared_chat
        if chat is None:  # nobody can receive it; the engine offers no button then
            log.error("a contact request had no recipient")
            return None
        return NewRequest(
            user,
            note.adviser if chat != self.shared_chat else "",
            note.organisation,
            chat,
            note.text,
        )
