"""Messages for someone other than the person of the current turn: contact requests for
advisers, claim notices, reminders, news of a request for the person.

Each is a row of the outbox table, written in the same transaction as what caused it. A
worker sends the rows in order, removes each once Telegram accepted it, and is replayed at
start-up, so a crash loses nothing. A sendMessage is retried only when Telegram cannot have
received it (connection refused, connect timeout, 429, an HTTP 5xx answer); after a read
timeout or a connection dropped mid-request it may have arrived, so it is not sent again:
the reminder after 2 working days covers a note that was lost that way.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import RetryAfter, TelegramError

from bot.channels.keyboards import inline_keyboard
from bot.database import inline
from bot.retrying import Backoff
from bot.storage import Buttons, OutboxRow, Outgoing, RequestRow, Storage
from bot.tasks import cancel
from bot.transport.retries import MAYBE_SENT, classify, may_resend
from dialogs import render
from dialogs.engine import Engine

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
REMIND_AFTER_WORKING_DAYS = 2
TICK_SECONDS = 30.0
# Between two tries of a row Telegram cannot have received: 1 s, 2 s, 4 s… at most 5 min.
RESEND_BACKOFF = Backoff(first=1.0, most=300.0, jitter=0.5)


def working_days_before(now: float, days: int) -> float:
    """The moment `days` working days (Monday to Friday) before `now`."""
    moment = dt.datetime.fromtimestamp(now)
    left = days
    while left > 0:
        moment -= dt.timedelta(days=1)
        if moment.weekday() < 5:
            left -= 1
    return moment.timestamp()


class Outbox:
    """Sends the outbox and handles what advisers do with a request. The worker makes its
    storage calls through `run_db` (the bot's DatabaseThread.call); `claim`, `pass_on` and
    `remind` are plain functions, run on that thread by their callers."""

    def __init__(
        self,
        engine: Engine,
        storage: Storage,
        shared_chat: int | None,
        clock: Callable[[], float] = time.time,
        run_db: Callable[..., Awaitable[Any]] = inline,
    ) -> None:
        self.engine = engine
        self.storage = storage
        self.shared_chat = shared_chat
        self.clock = clock
        self.run_db = run_db
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._forgotten: set[str] = set()
        self._sending: tuple[str | None, asyncio.Future[bool]] | None = None
        self._cancelled_by_forget = False

    # --- texts ------------------------------------------------------------------------------

    def adviser_text(self, kind: str, **context: Any) -> str:
        replies = render.render(self.engine.env, "adviser_notice.j2", kind=kind, **context)
        return "\n\n".join(r.text for r in replies)

    def _person_notice(self, kind: str, **context: Any) -> tuple[str, Buttons]:
        reply = self.engine.notice(kind, **context)[-1]
        return reply.text, [
            [[b.label, b.choice] for b in row if hasattr(b, "choice")] for row in reply.buttons
        ]

    # --- the worker -------------------------------------------------------------------------

    def wake(self) -> None:
        """Tell the worker to look now. Called from the database thread too: the event is
        set on the loop's own thread."""
        if self._loop is None:
            self._wake.set()
            return
        try:
            self._loop.call_soon_threadsafe(self._wake.set)
        except RuntimeError:  # the loop is closed: the rows wait for the next start
            pass

    def start(self, bot: Bot) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = self._loop.create_task(self._run(bot))

    async def stop(self) -> None:
        if self._task is not None:
            await cancel(self._task)

    async def _run(self, bot: Bot) -> None:
        while True:
            try:
                await self.flush(bot)
                await self.run_db(self.remind)
            except Exception:  # the worker must survive anything; the rows stay queued
                log.exception("outbox round failed")
            self._wake.clear()
            if await self.run_db(self.storage.outbox.due, self.clock(), 1):
                await asyncio.sleep(0.2)
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), TICK_SECONDS)
            except TimeoutError:
                pass

    async def flush(self, bot: Bot) -> int:
        """Send every due row once; returns how many were accepted."""
        sent = 0
        self._forgotten.clear()  # rows read from now on no longer hold them
        for row in await self.run_db(self.storage.outbox.due, self.clock()):
            if row.person is not None and row.person in self._forgotten:
                continue  # erased after this round read its rows
            send = asyncio.ensure_future(self._send(bot, row))
            self._sending = (row.person, send)
            try:
                if await send:
                    sent += 1
            except asyncio.CancelledError:
                if not send.cancelled() or not self._cancelled_by_forget:
                    raise  # the worker itself is stopping
            finally:
                self._sending, self._cancelled_by_forget = None, False
        return sent

    def forget(self, person: str) -> None:
        """The person's data was just erased (their rows are gone): a message about them
        already read by the worker is not sent, and one in flight (waiting between two
        tries of the rate limiter) is cancelled. Called on the loop after the erasure,
        before the person reads "vos données sont effacées"."""
        self._forgotten.add(person)
        if self._sending is not None and self._sending[0] == person and not self._sending[1].done():
            self._cancelled_by_forget = True
            self._sending[1].cancel()

    async def _send(self, bot: Bot, row: OutboxRow) -> bool:
        try:
            if row.kind == "edit":
                await bot.edit_message_text(
                    row.text,
                    chat_id=row.chat_id,
                    message_id=row.message_id,
                    parse_mode=ParseMode.HTML,
                    reply_markup=inline_keyboard(row.buttons),
                )
                await self.run_db(self.storage.requests.delivered, row, row.message_id)
                return True
            message = await bot.send_message(
                row.chat_id,
                row.text,
                parse_mode=ParseMode.HTML,
                reply_markup=inline_keyboard(row.buttons),
                disable_web_page_preview=True,
            )
            await self.run_db(self.storage.requests.delivered, row, message.message_id)
            return True
        except TelegramError as exc:
            endpoint = "editMessageText" if row.kind == "edit" else "sendMessage"
            if isinstance(exc, RetryAfter):
                wait = exc.retry_after
                seconds = wait.total_seconds() if isinstance(wait, dt.timedelta) else float(wait)
                await self.run_db(self.storage.outbox.retry, row, seconds, self.clock())
            elif may_resend(exc, endpoint):  # send again later
                if row.attempts + 1 >= MAX_ATTEMPTS:
                    await self.run_db(self._failed, row, type(exc).__name__)
                else:
                    delay = RESEND_BACKOFF.delay(row.attempts)
                    await self.run_db(self.storage.outbox.retry, row, delay, self.clock())
            elif classify(exc) == MAYBE_SENT:
                # Sending again could make a duplicate. The reminder covers a loss.
                log.warning(
                    "outbox row %s may have been delivered (%s): not resent",
                    row.id,
                    type(exc).__name__,
                )
                await self.run_db(self.storage.requests.delivered, row, None)
            elif row.kind == "edit" and "not modified" in str(exc).lower():
                await self.run_db(self.storage.requests.delivered, row, row.message_id)
                return True
            else:
                await self.run_db(self._failed, row, type(exc).__name__)
        return False

    def _failed(self, row: OutboxRow, reason: str) -> None:
        """A message that will never go (refused for good, or never accepted after every
        try). A note or reminder refused by an adviser's own chat (they blocked the bot):
        the adviser is marked unreachable, the request goes to the shared advisers' chat,
        or without one to another adviser of the person's area.
        A note nobody can receive: the person is told plainly, never left with "sent"."""
        # The row and its kind, never the chat: a chat id is a person's Telegram id.
        log.error("outbox row %s (%s) given up: %s", row.id, row.kind, reason)
        requests = self.storage.requests
        request = requests.get(row.request_id) if row.request_id else None
        if (
            row.kind not in ("note", "reminder")
            or request is None
            or request.status != "sent"
            or row.chat_id != request.chat_id
        ):
            self.storage.outbox.drop(row.id)
            return
        if reason == "Forbidden" and self.storage.advisers.mark_unreachable(row.chat_id):
            log.error(
                "an adviser's chat refused a contact request: that adviser is not "
                "named any more until they open the bot again"
            )
        if row.chat_id != self.shared_chat and self._move_elsewhere(request, row):
            self.wake()
            return
        if row.kind == "reminder" or not self._settle(
            request, "failed", "request_failed", drop=row.id
        ):
            self.storage.outbox.drop(row.id)

    def _move_elsewhere(self, request: RequestRow, row: OutboxRow) -> bool:
        """The request to the shared advisers' chat, else to another adviser of the
        person's area; False when there is neither (or it changed meanwhile)."""
        code, organisation, chat = "", request.organisation, self.shared_chat
        if chat is None:
            other = self.engine.another_adviser(
                self.storage.load(request.person), request.code, self.storage.adviser_reach()
            )
            chat = self.storage.advisers.chat(other.code) if other else None
            if other is not None:
                code, organisation = other.code, other.shown_name
        if chat is None:
            return False
        return self.storage.requests.move(
            request, row.chat_id, chat, self.clock(), code, organisation, drop=row.id
        )

    def _settle(
        self,
        request: RequestRow,
        status: str,
        notice: str,
        extra: Iterable[Outgoing] = (),
        drop: int | None = None,
        **context: Any,
    ) -> bool:
        """One state change of an open request (sent → claimed, passed or failed), the
        person's notice and `extra` messages, all in one transaction (the storage writes
        the person's request state with it), or nothing when the request was no longer
        open."""
        messages = list(extra)
        if request.person.startswith("tg:"):
            text, buttons = self._person_notice(
                notice, organisation=request.organisation, **context
            )
            person_chat = int(request.person.removeprefix("tg:"))
            messages.append(
                Outgoing("notice", person_chat, text, request.id, request.person, buttons)
            )
        done = self.storage.requests.settle(
            request, status, self.clock(), messages, by=context.get("name", ""), drop=drop
        )
        if done:
            self.wake()
        return done

    # --- what advisers do -------------------------------------------------------------------

    def _open_request(self, token: str, chat_id: int) -> tuple[RequestRow | None, str]:
        """The request if it may still be acted on from this chat, else the answer to show.
        A token not found and a note pressed outside the chats it was sent to get the same
        answer: nothing tells which tokens exist."""
        request = self.storage.requests.by_token(token)
        if request is None or chat_id not in request.chats():
            return None, self.adviser_text("unknown")
        if request.status == "claimed":
            return None, self.adviser_text("taken_already", name=request.claimed_by or "")
        if request.status != "sent":
            return None, self.adviser_text("closed")
        return request, ""

    def claim(self, token: str, by: str, chat_id: int) -> str:
        """'✋ Je m'en occupe', pressed by the declared adviser `by` in `chat_id`. Returns a
        short answer for them. Only the first of two presses changes anything."""
        request, answer = self._open_request(token, chat_id)
        if request is None:
            return answer
        edited = self.adviser_text("claimed", note=request.note, name=by)
        edits = [
            Outgoing("edit", chat, edited, request.id, request.person, message_id=message_id)
            for chat, message_id in request.messages
        ]
        if not self._settle(request, "claimed", "request_claimed", edits, name=by):
            return self._open_request(token, chat_id)[1]
        return self.adviser_text("claimed_toast")

    def pass_on(self, token: str, by: str, chat_id: int) -> str:
        """'↪️ Pas pour moi': to the shared advisers' chat when there is one (and the request
        is not already there), else the person is told plainly."""
        request, answer = self._open_request(token, chat_id)
        if request is None:
            return answer
        if chat_id != request.chat_id:  # pressed on a note already passed on
            return self.adviser_text("passed_already")
        if self.shared_chat is not None and request.chat_id != self.shared_chat:
            moved = self.storage.requests.move(request, chat_id, self.shared_chat, self.clock())
            if not moved:
                return self._open_request(token, chat_id)[1] or self.adviser_text("passed_already")
            self.wake()
            return self.adviser_text("passed_on", name=by)
        if not self._settle(request, "passed", "request_passed"):
            return self._open_request(token, chat_id)[1]
        return self.adviser_text("passed_out", name=by)

    def remind(self) -> int:
        """One reminder per request left unclaimed for 2 working days."""
        now = self.clock()
        due = self.storage.requests.to_remind(working_days_before(now, REMIND_AFTER_WORKING_DAYS))
        for request in due:
            self.storage.requests.remind(
                request, self.adviser_text("reminder", note=request.note), now
            )
        if due:
            self.wake()
        return len(due)
