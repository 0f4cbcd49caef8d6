"""The Telegram channel, on python-telegram-bot 22.

Every update becomes a dialogs `Event`; the engine's `Reply`s become messages with inline
keyboards. Sessions live in SQLite, written once per turn before the replies go out, so a
process killed at any moment resumes everyone at their step.

Updates from different chats are handled concurrently; one chat's updates keep their
order (`ChatOrderedProcessor`). Sending goes through `RetryingRateLimiter`: Telegram's
flood limits, 429 retry_after waited out, network errors and 5xx retried with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sqlite3
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import urlparse

from telegram import (
    BotCommand,
    ReplyKeyboardRemove,
    TelegramObject,
    Update,
)
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import (
    BadRequest,
    Forbidden,
    TelegramError,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ContextTypes,
    TypeHandler,
)

from bot.advisers import Adviser, chart_reply, link_replies, stats_text
from bot.app import voice_service
from bot.channels.keyboards import inline_keyboard, keyboard_json, markup_json, request_keyboard
from bot.config import Config
from bot.database import DatabaseThread
from bot.loopwatch import LoopWatch, freeze_startup_objects
from bot.outbox import Outbox
from bot.storage import Storage
from bot.tasks import cancel
from bot.transport.aiohttp_request import AiohttpRequest
from bot.transport.calls import BotApiCalls
from bot.transport.inbox import InboxQueue
from bot.transport.incoming import Incoming
from bot.transport.ordering import ChatOrderedProcessor
from bot.transport.retries import RetryingRateLimiter
from bot.turn import TurnRunner
from bot.voice import VoiceUnavailable
from dialogs.engine import Engine
from dialogs.model import Event, LinkButton, Reply
from knowledge.geography import warm
from knowledge.speech import warm as warm_speech

log = logging.getLogger(__name__)

PURGE_EVERY_SECONDS = 24 * 3600
LAST_SCREENS_KEPT = 100_000  # chats whose last message id is remembered (a few MB)
PURGE_PAUSE_SECONDS = 0.01  # between two purge batches: the turns' database calls first
GROUP_INVITE_EVERY_SECONDS = 600  # at most one invitation per group every 10 minutes
NO_LINK_PREVIEW = {"is_disabled": True}


async def answer_button(calls: BotApiCalls, update: Incoming, text: str | None = None) -> None:
    """answerCallbackQuery as plain JSON (bot/transport/calls.py): the same request, rate
    limiter and errors as `CallbackQuery.answer`, without the library's per-method
    argument handling (about two calls in five under the benchmark mix are button
    answers)."""
    if update.callback_id is None:
        return
    params: dict[str, Any] = {"callback_query_id": update.callback_id}
    if text is not None:
        params.update(text=text, show_alert=False)
    await calls("answerCallbackQuery", params)


def bot_commands(engine: Engine) -> list[BotCommand]:
    """Telegram's command menu: the commands of screens.yaml that have a description."""
    return [BotCommand(name, text) for name, text in engine.command_menu]


class TelegramChannel:
    """Turns updates into events and replies into Bot API calls."""

    def __init__(
        self,
        engine: Engine,
        storage: Storage,
        config: Config,
        advisers: dict[int, Adviser] | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.engine = engine
        self.storage = storage
        self.config = config
        self.advisers = advisers or {}
        # Every SQLite call of the running bot, turns included, happens on this thread.
        # …or on the event loop, for the calls of each update, when it is free at once.
        self.db = DatabaseThread(storage)
        self.outbox = Outbox(engine, storage, config.adviser_chat_id, clock, self.db.call)
        self.voice = voice_service(config) if engine.voice_enabled else None
        self.turns = TurnRunner(engine, storage, config.adviser_chat_id, wake=self.outbox.wake)
        self.bot_username: str | None = None
        self._unsaved: set[int] = set()
        self._purge_task: asyncio.Task | None = None
        self._check_task: asyncio.Task | None = None
        self._commands_task: asyncio.Task | None = None
        self._last_invite: dict[int, float] = {}
        self.loop_watch = LoopWatch()
        self._screens: dict[int, int] = {}  # chat → id of the last message sent there

    # --- wiring ---------------------------------------------------------------------------

    def build_application(self) -> Application:
        """The PTB Application, without PTB's Updater: updates come from our polling loop
        (bot/transport/polling.py) or our webhook server (bot/transport/webhook.py), both
        through the inbox."""
        cfg = self.config
        request = AiohttpRequest(connection_pool_size=max(8, cfg.concurrency * 2))
        self._updates_request = AiohttpRequest(connection_pool_size=2, read_timeout=40.0)
        builder = (
            ApplicationBuilder()
            .token(cfg.token or "")
            .request(request)
            .get_updates_request(self._updates_request)
            .rate_limiter(
                RetryingRateLimiter(
                    max_retries=5,
                    overall_max_rate=cfg.overall_rate,
                    group_max_rate=20,
                    chat_max_rate=cfg.chat_rate,
                    chat_burst=cfg.chat_burst,
                )
            )
            .concurrent_updates(ChatOrderedProcessor(cfg.concurrency))
            .post_init(self._post_init)
            .post_stop(self._post_stop)
            .post_shutdown(self._post_shutdown)
        )
        inbox = InboxQueue(
            self.storage,
            run_db=self.db.call,
            run_quick=self.db.quick,
            replay_in_flight=max(1, cfg.concurrency * 3 // 4),  # the rest: new updates
        )
        builder = builder.update_queue(inbox).updater(None)
        if cfg.api_base_url:
            builder = builder.base_url(cfg.api_base_url)
        if cfg.api_file_url:
            builder = builder.base_file_url(cfg.api_file_url)
        app = builder.build()
        self.calls = BotApiCalls(request, app.bot.rate_limiter, app.bot.base_url)
        self._updates_url = f"{app.bot.base_url}/getUpdates"
        app.add_handler(TypeHandler(Incoming, self.on_update))
        app.add_error_handler(self.on_error)
        return app

    async def fetch_updates(self, params: dict[str, Any], read_timeout: float) -> Any:
        """getUpdates as plain JSON, on its own connection (bot/transport/polling.py): not
        paced, like the library's own getUpdates."""
        return await self._updates_request.post_json(self._updates_url, params, read_timeout)

    async def _post_init(self, app: Application) -> None:
        # Application.initialize asked Telegram who we are already (one round trip less).
        self.bot_username = app.bot.username
        # In the background: the menu of commands does not need to be registered before
        # the first person is answered (one round trip less before polling starts).
        self._commands_task = asyncio.get_running_loop().create_task(
            self._register_commands(app.bot, bot_commands(self.engine))
        )
        self.loop_watch.start()
        self._purge_task = asyncio.get_running_loop().create_task(self._purge_daily())
        # In the background: a chat answering 5xx is retried with backoff, and the people
        # writing meanwhile must not wait for that check.
        self._check_task = asyncio.get_running_loop().create_task(self.check_recipients(app.bot))
        self.outbox.start(app.bot)  # replays what a previous run left unsent
        log.info("bot @%s ready", self.bot_username)

    @staticmethod
    async def _register_commands(bot: Any, commands: list[BotCommand]) -> None:
        try:
            await bot.set_my_commands(commands)
        except TelegramError as exc:
            log.warning("could not register the commands: %s", type(exc).__name__)

    async def check_recipients(self, bot: Any) -> list[str]:
        """Contact requests must be deliverable: one ERROR line for each advisers' chat the
        bot cannot reach (removed from a group, blocked by an adviser), at start-up."""
        targets = []
        if self.config.adviser_chat_id is not None:
            targets.append(("the advisers' shared chat", self.config.adviser_chat_id))
            if not self.advisers:  # only advisers of the file may take a request
                log.error(
                    "the advisers' shared chat is set but no adviser is declared "
                    "(CLEA_ADVISERS): nobody can take its contact requests"
                )
        for adviser in self.advisers.values():
            chat = await self.db.call(self.storage.adviser_chat, adviser.code)
            if chat is not None and adviser.handoff:
                targets.append((f"the chat of adviser {adviser.code}", chat))
        unreachable = []
        for name, chat_id in targets:
            try:
                await bot.get_chat(chat_id)
            except TelegramError as exc:
                log.error(
                    "cannot reach %s (%s): its contact requests will fail", name, type(exc).__name__
                )
                unreachable.append(name)
        return unreachable

    async def _post_stop(self, app: Application) -> None:
        await self.outbox.stop()
        await self.loop_watch.stop()
        for task in (self._purge_task, self._check_task, self._commands_task):
            if task is not None:
                await cancel(task)

    async def _post_shutdown(self, app: Application) -> None:
        if self.voice is not None:
            self.voice.close()
        with contextlib.suppress(Exception):
            await self.db.call(self.storage.close)
        self.db.shutdown()

    async def _purge_daily(self) -> None:
        """At start-up, then once a day: expired sessions go in short batches, each its own
        call on the database thread, so the turns waiting for it run in between."""
        while True:
            try:
                n = await self.purge()
                if n:
                    log.info("purge: %d sessions removed", n)
            except Exception:
                log.exception("purge failed")
            await asyncio.sleep(PURGE_EVERY_SECONDS)

    async def purge(self) -> int:
        removed = 0
        while True:
            sessions, rows = await self.db.call(
                self.storage.purge_batch, self.config.retention_days
            )
            removed += sessions
            if not rows:
                return removed
            await asyncio.sleep(PURGE_PAUSE_SECONDS)

    # --- updates --------------------------------------------------------------------------

    async def on_update(self, update: Incoming, context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            await self._on_update(update, context)
        except Exception as exc:
            # Contained to this update: kept aside (dead letters), the bot goes on.
            log.error(
                "update %s failed: %s; kept aside",
                update.update_id,
                type(exc).__name__,
                exc_info=exc,
            )
            with contextlib.suppress(sqlite3.Error, TypeError, ValueError):
                await self.db.call(
                    self.storage.dead_letters.add,
                    update.update_id,
                    type(exc).__name__,
                    f"tg:{update.chat}" if update.chat is not None else None,
                    json.dumps(update.raw),
                )
        finally:
            # Handled and answered: the update may leave the inbox (bot/transport/inbox.py).
            queue = context.application.update_queue
            if isinstance(queue, InboxQueue):
                queue.finished(update)
            try:
                if update.update_id in self._unsaved:
                    self._unsaved.discard(update.update_id)  # stays in the inbox
                elif isinstance(queue, InboxQueue):
                    await queue.done(update.update_id)
                else:
                    await self.db.quick(self.storage.inbox_done, update.update_id)
            except sqlite3.Error as exc:
                log.error(
                    "inbox entry of update %s not cleared: %s: %s",
                    update.update_id,
                    type(exc).__name__,
                    exc,
                )

    async def _on_update(self, update: Incoming, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.chat is None:
            return
        data = update.callback_data
        if data and data.startswith(("claim:", "pass:")):
            await self.on_request_button(update, context, data)
            return
        if update.is_button:
            # Answer at once so the button stops spinning, whatever happens next; in the
            # background, so the reply does not wait for this round trip.
            context.application.create_task(self._answer_callback(update, context), update=update)
        if update.chat_type != ChatType.PRIVATE:
            await self.on_group_update(update, context)
            return
        event = update.event
        if event is None:
            return
        await self.handle_private(update, context, event)

    async def _answer_callback(self, update: Incoming, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not update.is_button:
            return
        try:
            await answer_button(self.calls, update)
        except TelegramError as exc:
            log.info("callback of update %s not answered: %s", update.update_id, type(exc).__name__)

    async def on_group_update(self, update: Incoming, context: ContextTypes.DEFAULT_TYPE) -> None:
        """In groups and channels: only invite people to talk in private."""
        if update.chat is None or update.chat_type == ChatType.CHANNEL:
            return
        text = update.text
        if not text:
            return
        mention = f"@{self.bot_username}".lower() if self.bot_username else None
        addressed = text.startswith("/") or (mention and mention in text.lower())
        if not addressed:
            return
        now = time.monotonic()
        chat_id = update.chat
        if (
            now - self._last_invite.get(chat_id, -GROUP_INVITE_EVERY_SECONDS)
            < GROUP_INVITE_EVERY_SECONDS
        ):
            return  # one invitation is enough; a busy group must not flood (nor stall us)
        if len(self._last_invite) > 10_000:
            self._last_invite.clear()
        self._last_invite[chat_id] = now
        url = f"https://t.me/{self.bot_username}" if self.bot_username else None
        invite = self.engine.channel_text("group_invite")
        label = invite.buttons[0][0].label
        markup = inline_keyboard([[LinkButton(label, url)]]) if url else None
        await self._send(context, chat_id, invite.text, markup, update)

    async def adviser_replies(self, chat_id: int, event: Event) -> list[Reply] | None:
        """/lien and /stats for declared advisers; None for everybody else. The QR code and
        the chart are drawn in a worker thread: other conversations go on meanwhile."""
        adviser = self.advisers.get(chat_id)
        if adviser is None or event.kind != "text" or not event.value.startswith("/"):
            return None
        command, _, rest = event.value[1:].partition(" ")
        command = command.split("@", 1)[0].lower()
        if command == "lien":
            return await asyncio.to_thread(
                link_replies,
                adviser,
                self.bot_username or "bot",
                rest.strip().lower() or None,
                self.engine.env,
                self.engine.vocabulary.links,
            )
        if command == "stats":
            text, table = await self.db.call(stats_text, adviser, self.storage, self.engine.env)
            return [Reply(text), await asyncio.to_thread(chart_reply, adviser, table)]
        return None

    async def on_request_button(
        self, update: Incoming, context: ContextTypes.DEFAULT_TYPE, data: str
    ) -> None:
        """'✋ Je m'en occupe' / '↪️ Pas pour moi' under a contact request. Obeyed only from
        an adviser of the advisers file, in a chat the note was sent to; anyone else reads
        the same short notice whatever the token, so nothing tells which requests exist.
        Telegram checks callback data against the message's buttons, but a local Bot API
        server or a forged update does not: the bot checks for itself."""
        if not update.is_button:
            return
        action, _, token = data.partition(":")
        adviser = self.advisers.get(update.user) if update.user is not None else None
        chat_id = update.pressed_chat
        if adviser is None or chat_id is None:
            text = self.outbox.adviser_text("advisers_only")
        else:
            try:
                act = self.outbox.claim if action == "claim" else self.outbox.pass_on
                text = await self.db.call(act, token[:64], adviser.name, chat_id)
            except sqlite3.Error as exc:
                log.error(
                    "request button of update %s failed: %s", update.update_id, type(exc).__name__
                )
                text = self.engine.notice("not_saved")[0].text
        try:
            await answer_button(self.calls, update, text[:190])
        except TelegramError as exc:
            log.info(
                "request button of update %s not answered: %s", update.update_id, type(exc).__name__
            )

    async def handle_private(
        self, update: Incoming, context: ContextTypes.DEFAULT_TYPE, event: Event
    ) -> None:
        if update.chat is None:  # _on_update answers only updates of a chat
            return
        chat_id = update.chat
        adviser = self.advisers.get(chat_id)
        command = event.value.startswith(("/lien", "/stats"))
        opened = adviser is not None and await self.db.call(
            self.storage.adviser_opened, adviser.code, chat_id
        )
        if opened and not command:
            # Telegram lets a bot write to a person only after they opened it: from now on
            # this adviser's contact requests come here (/lien says so too).
            await self._send(context, chat_id, self.outbox.adviser_text("opened"), None, update)
        if adviser is not None and command:
            # Drawing a QR code or a chart takes a moment: say so.
            with contextlib.suppress(TelegramError):
                await context.bot.send_chat_action(chat_id, ChatAction.UPLOAD_PHOTO)
        adviser_answer = await self.adviser_replies(chat_id, event)
        if adviser_answer is not None:
            await self.deliver(context, update, chat_id, adviser_answer)
            return
        result = await self.db.quick(self.turns.run, f"tg:{chat_id}", event, update.update_id)
        if not result.saved:  # the person was told; the update is tried again next start
            self._unsaved.add(update.update_id)
        if result.erased:  # before they read "effacées": nothing about them goes out after
            self.outbox.forget(f"tg:{chat_id}")
        replies = result.replies
        remove_keyboard = result.remove_keyboard
        if remove_keyboard and replies and all(r.buttons or r.request for r in replies):
            # No plain message to carry the keyboard's removal: a short acknowledgement
            # does, counted with the replies (a replay after a crash skips it once sent).
            replies = [Reply(self.engine.channel_text("keyboard_removed").text), *replies]
        if result.replayed:
            # Part of this turn's replies went out before the crash: send only the rest.
            done = await self.db.quick(self.storage.inbox_sent_count, update.update_id)
            if done and remove_keyboard:  # unless its first plain message is still to go,
                # the keyboard's removal went out with what was sent
                plain = [i for i, r in enumerate(replies) if not (r.buttons or r.request)]
                remove_keyboard = bool(plain) and plain[0] >= done
            replies = replies[done:] if done < len(replies) else []
        await self.deliver(context, update, chat_id, replies, remove_keyboard, result.keep_previous)

    # --- sending --------------------------------------------------------------------------

    async def deliver(
        self,
        context: ContextTypes.DEFAULT_TYPE,
        update: Incoming,
        chat_id: int,
        replies: list[Reply],
        remove_keyboard: bool = False,
        keep_previous: bool = True,
    ) -> None:
        """Send a turn's replies. A tap on the current screen's button replaces that screen
        (one edit instead of a new message) unless the person should keep what they read
        (`keep_previous`: the recap, an FAQ answer); a tap on an older screen, a typed
        message or a voice note comes below."""
        pressed = update.pressed
        first = replies[0] if replies else None
        if (
            pressed is not None
            and first is not None
            and not keep_previous
            and not first.image
            and not first.request
            and not first.voice
            and not remove_keyboard
            and self._screens.get(chat_id) == pressed
            and await self._edit(context, chat_id, pressed, first, update)
        ):
            replies = replies[1:]
            if replies:
                await self._progress(update, 1)
            start = 1
        else:
            start = 0
        if remove_keyboard and all(r.buttons or r.request for r in replies):
            # No plain message to carry the removal: a short acknowledgement does.
            await self._send(
                context,
                chat_id,
                self.engine.channel_text("keyboard_removed").text,
                ReplyKeyboardRemove(),
                update,
            )
            remove_keyboard = False
        for sent, reply in enumerate(replies, start):
            if sent > start:  # remember what went out, for a replay after a crash
                await self._progress(update, sent)
            if reply.voice is not None:
                # In the background: a note may wait for the voice process (one synthesis
                # at a time), and a turn waiting for it held one of the 32 places, so 50
                # listeners at once kept everybody else waiting for seconds.
                context.application.create_task(
                    self._send_voice(context, chat_id, reply, update), update=update
                )
                continue
            # A photo goes through the library (an upload); a message as plain JSON.
            markup: Any = (
                inline_keyboard(reply.buttons)
                if reply.image is not None
                else keyboard_json(reply.buttons)
            )
            if reply.request is not None:
                # Both kinds spelled out: the content test finds every kind the code asks for.
                shown = (
                    self.engine.channel_text("share_contact")
                    if reply.request == "contact"
                    else self.engine.channel_text("share_location")
                )
                markup = request_keyboard(reply, shown.text)
            elif remove_keyboard and markup is None:
                markup = ReplyKeyboardRemove()
                remove_keyboard = False
            if reply.image is not None:
                await self._send_photo(context, chat_id, reply, markup, update)
            else:
                await self._send(context, chat_id, reply.text, markup, update)

    async def _progress(self, update: Incoming, sent: int) -> None:
        with contextlib.suppress(sqlite3.Error):
            await self.db.quick(self.storage.inbox_sent, update.update_id, sent)

    async def _edit(
        self,
        context: ContextTypes.DEFAULT_TYPE,
        chat_id: int,
        message_id: int,
        reply: Reply,
        update: Incoming,
    ) -> bool:
        """Replace the screen whose button was pressed. False: send a new message instead."""
        try:
            await self.calls(
                "editMessageText",
                {
                    "chat_id": chat_id,
                    "message_id": message_id,
                    "text": reply.text,
                    "parse_mode": ParseMode.HTML.value,
                    "reply_markup": keyboard_json(reply.buttons),
                    "link_preview_options": NO_LINK_PREVIEW,
                },
            )
            return True
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return True
            return False
        except TelegramError as exc:
            log.error("edit for update %s failed: %s", update.update_id, type(exc).__name__)
            return False

    def _shown(self, chat_id: int, message: object) -> None:
        """The last message sent to a chat: the only screen whose buttons edit it.
        `message`: a Message, or the Bot API's JSON of one (the lean sends)."""
        message_id = (
            message.get("message_id")
            if isinstance(message, dict)
            else getattr(message, "message_id", None)
        )
        if not isinstance(message_id, int):
            return
        self._screens.pop(chat_id, None)
        self._screens[chat_id] = message_id
        if len(self._screens) > LAST_SCREENS_KEPT:  # the oldest conversations first
            del self._screens[next(iter(self._screens))]

    async def _send(
        self,
        context: ContextTypes.DEFAULT_TYPE,
        chat_id: int,
        text: str,
        markup: TelegramObject | dict[str, Any] | None,
        update: Incoming,
    ) -> None:
        """sendMessage as plain JSON (bot/transport/calls.py): the same request, the same
        rate limiter and errors as `Bot.send_message`, but the result stays JSON. Only its
        message id is read, and building a `Message` from every result was the largest
        single cost of the send path (measured with cProfile under the load benchmark)."""
        try:
            self._shown(
                chat_id,
                await self.calls(
                    "sendMessage",
                    {
                        "chat_id": chat_id,
                        "text": text,
                        "parse_mode": ParseMode.HTML.value,
                        "reply_markup": markup_json(markup),
                        "link_preview_options": NO_LINK_PREVIEW,
                    },
                ),
            )
        except Forbidden:
            log.info("chat of update %s blocked the bot", update.update_id)
        except TelegramError as exc:
            log.error("reply to update %s not delivered: %s", update.update_id, type(exc).__name__)

    async def _send_voice(
        self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, reply: Reply, update: Incoming
    ) -> None:
        """A voice note of a screen: made in the voice process (or found in the cache),
        sent by Telegram file_id when it was uploaded before."""
        if self.voice is None:
            return
        try:
            with contextlib.suppress(TelegramError):
                await context.bot.send_chat_action(chat_id, ChatAction.RECORD_VOICE)
            note = await self.voice.get(reply.voice or "", personal=reply.personal)
        except VoiceUnavailable as exc:
            log.error("voice note for update %s unavailable: %s", update.update_id, exc)
            notice = self.engine.notice("voice_unavailable")[0]
            await self._send(context, chat_id, notice.text, None, update)
            return
        try:
            try:
                message = await context.bot.send_voice(
                    chat_id, note.file_id or note.data(), duration=note.duration
                )
            except BadRequest:
                if note.file_id is None:
                    raise
                # A file_id this bot or this Bot API server does not know (the cache came
                # from another one): forgotten, and the note uploaded again.
                log.warning(
                    "cached voice file id refused for update %s: uploaded again", update.update_id
                )
                await asyncio.to_thread(self.voice.remember_file_id, note, "")
                note = replace(note, file_id=None)
                message = await context.bot.send_voice(chat_id, note.data(), duration=note.duration)
            self._shown(chat_id, message)
            if note.file_id is None and message.voice is not None:
                await asyncio.to_thread(self.voice.remember_file_id, note, message.voice.file_id)
        except (TelegramError, OSError) as exc:
            log.error("voice for update %s not delivered: %s", update.update_id, type(exc).__name__)

    async def _send_photo(
        self,
        context: ContextTypes.DEFAULT_TYPE,
        chat_id: int,
        reply: Reply,
        markup: Any,
        update: Incoming,
    ) -> None:
        if reply.image is None:
            return
        try:
            self._shown(
                chat_id,
                await context.bot.send_photo(
                    chat_id,
                    reply.image,
                    caption=reply.text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                ),
            )
        except TelegramError as exc:
            log.error("photo for update %s not delivered: %s", update.update_id, type(exc).__name__)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        update_id = update.update_id if isinstance(update, Incoming | Update) else None
        log.error(
            "unhandled error on update %s: %s",
            update_id,
            type(context.error).__name__,
            exc_info=context.error,
        )


def run(config: Config) -> None:
    """Start the bot: polling by default, webhook when CLEA_WEBHOOK_URL is set."""
    from bot.advisers import load_advisers
    from bot.app import build_engine, open_storage
    from bot.transport.polling import serve

    started = time.perf_counter()
    advisers = load_advisers(config.advisers_file)
    storage = open_storage(config, purge=False)  # purged in the background
    engine = build_engine(config, tuple(advisers.values()))
    channel = TelegramChannel(engine, storage, config, advisers)
    app = channel.build_application()
    # The communes' index (0.15-0.2 s) before polling starts: built by the first turn that
    # looks up a place, it held the event loop that long (turns run on the loop when the
    # database is free, bot/database.py); built in a thread meanwhile, it slowed the loop
    # for everyone (bench.stalls: 45-63 ms against 36-43). Frozen with the rest below.
    warm()
    if config.voice:
        warm_speech()  # the number speller, imported by the first voice note otherwise
    freeze_startup_objects()
    log.info("start-up took %.2fs", time.perf_counter() - started)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if not config.webhook_url:
            await serve(app, stop, channel.fetch_updates, grace=config.stop_grace)
            return
        from bot.transport.webhook import serve_webhook  # aiohttp's server: 0.1 s to import

        await serve_webhook(
            app,
            stop,
            config.webhook_url,
            config.webhook_secret or "",
            config.webhook_listen,
            config.webhook_port,
            urlparse(config.webhook_url).path.lstrip("/"),
            config.stop_grace,
        )

    asyncio.run(main())
