"""A real local HTTP server speaking the parts of the Telegram Bot API the bot uses.

python-telegram-bot is pointed at it through `base_url`; the server records every call,
queues updates for getUpdates (long polling, offsets acknowledged like Telegram), and can
inject faults: 429 with retry_after, 500, dropped connections, slow answers. It runs in its
own thread and event loop, so the bot can live in the test process or in a subprocess.
Used by the tests and by the benchmarks.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.parser
import email.policy
import itertools
import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

TOKEN = "123456:TEST-TOKEN"
BOT_USER = {
    "id": 123456,
    "is_bot": True,
    "first_name": "CléA",
    "username": "clea_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}

# What Telegram says when a chat refuses: a group the bot was removed from (403), a chat
# id that is wrong or deleted (400).
CHAT_FAULT_DESCRIPTIONS = {
    403: "Forbidden: bot was kicked from the group chat",
    400: "Bad Request: chat not found",
}


# How long a test waits for the bot before giving up. A wait ends as soon as its condition
# holds, so this costs nothing when the bot answers; it only has to outlast a busy machine
# (two xdist workers, bot processes restarted after kill -9, CI sharing the cores).
WAIT_SECONDS = 30.0


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float
    ok: bool = True
    origin: str = ""  # who called: the first part of the path of base_url_for(origin)

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value is not None else None

    @property
    def text(self) -> str:
        return str(self.params.get("text") or self.params.get("caption") or "")

    def buttons(self) -> list[dict]:
        markup = self.params.get("reply_markup") or {}
        rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
        return [b if isinstance(b, dict) else {"text": b} for row in rows for b in row]

    def callback_data(self) -> list[str]:
        return [b["callback_data"] for b in self.buttons() if "callback_data" in b]


@dataclass
class Fault:
    kind: str  # "429" | "500" | "403" | "drop" (before applying) | "apply_drop" (applied,
    # then the connection is cut: the client cannot know) | "delay"
    seconds: float = 0.0


@dataclass
class FakeBotApi:
    latency: float = 0.0  # added to every answer except getUpdates (Telegram's round trip)
    max_poll_wait: float = 10.0
    calls: list[Call] = field(default_factory=list)
    chat_faults: dict = field(default_factory=dict)  # chat id → 400, 403 or 500 for sendMessage
    on_call: Any = None  # called in the server's loop with each successful Call (benchmarks)
    record: bool = True  # False: keep no call history (long benchmarks)
    webhook_url: str = ""  # set: getUpdates is refused (409), as Telegram does
    # Before a getUpdates is answered (0: at once). Telegram's round trip applies to it too:
    # updates arriving meanwhile come in the same answer (benchmarks, bench.cpu_ratio).
    poll_latency: float = 0.0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._updates: list[dict] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._faults: dict[str, deque[Fault]] = defaultdict(deque)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._new_update: asyncio.Event | None = None
        self._held: list[dict] | None = None  # pushes held back by together()
        self._file_ids: set[str] = set()  # the voice file_ids this server gave
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self.port = 0
        self.get_updates_count = 0
        self.connections = 0
        self.first_get_updates_at: float | None = None

    # --- lifecycle ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    def base_url_for(self, origin: str) -> str:
        """`base_url` for one client: its calls carry `origin`, known by the process that
        made them even when the server reads them after that process was killed."""
        return f"http://127.0.0.1:{self.port}/{origin}/bot"

    @property
    def file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    def start(self) -> FakeBotApi:
        self._thread = threading.Thread(target=self._run, name="fake-bot-api", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fake Bot API server did not start")
        return self

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return

        async def shutdown() -> None:
            self._server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._loop.stop()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop)
        self._thread.join(5)

    async def wait_async(self, predicate, timeout: float = WAIT_SECONDS) -> bool:
        """Like wait_until, for tests whose bot runs in the same event loop."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            await asyncio.sleep(0.01)
        return bool(predicate())

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        self._new_update = asyncio.Event()

        async def serve() -> None:
            self._server = await asyncio.start_server(self._client, "127.0.0.1", 0, backlog=1024)
            self.port = self._server.sockets[0].getsockname()[1]
            self._ready.set()

        self._loop.run_until_complete(serve())
        try:
            self._loop.run_forever()
        finally:
            self._loop.close()

    # --- test API -------------------------------------------------------------------------

    def inject(self, method: str, *faults: Fault) -> None:
        with self._lock:
            self._faults[method].extend(faults)

    @contextlib.contextmanager
    def together(self) -> Iterator[None]:
        """The updates pushed inside arrive in the same getUpdates answer."""
        self._held = []
        try:
            yield
        finally:
            held, self._held = self._held or [], None
            with self._lock:
                self._updates.extend(held)
            if self._loop is not None and self._new_update is not None:
                self._loop.call_soon_threadsafe(self._new_update.set)

    def push(self, update: dict) -> int:
        with self._lock:
            update_id = next(self._update_ids)
            update = {"update_id": update_id, **update}
            if self._held is not None:
                self._held.append(update)
                return update_id
            self._updates.append(update)
        if self._loop is not None and self._new_update is not None:
            self._loop.call_soon_threadsafe(self._new_update.set)
        return update_id

    @staticmethod
    def user(user_id: int) -> dict:
        return {"id": user_id, "is_bot": False, "first_name": "Test", "language_code": "fr"}

    @staticmethod
    def chat(chat_id: int, kind: str = "private") -> dict:
        chat = {"id": chat_id, "type": kind}
        if kind == "private":
            chat["first_name"] = "Test"
        else:
            chat["title"] = "Groupe"
        return chat

    def message(
        self,
        chat_id: int,
        text: str | None = None,
        user_id: int | None = None,
        chat_type: str = "private",
        **extra: Any,
    ) -> dict:
        msg: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self.chat(chat_id, chat_type),
        }
        if chat_type != "channel":
            msg["from"] = self.user(user_id if user_id is not None else chat_id)
        if text is not None:
            msg["text"] = text
            if text.startswith("/"):
                msg["entities"] = [
                    {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
                ]
        msg.update(extra)
        return msg

    def push_text(
        self, chat_id: int, text: str, chat_type: str = "private", user_id: int | None = None
    ) -> int:
        key = "channel_post" if chat_type == "channel" else "message"
        return self.push({key: self.message(chat_id, text, user_id, chat_type)})

    def push_callback(
        self,
        chat_id: int,
        data: str,
        message_id: int | None = None,
        text: str = "…",
        user_id: int | None = None,
        chat_type: str = "private",
    ) -> int:
        """A button pressed under a message of `chat_id`, by `user_id` (by default the
        private chat's own user; in a group, a member)."""
        message = {
            "message_id": message_id or next(self._message_ids),
            "date": int(time.time()),
            "chat": self.chat(chat_id, chat_type),
            "from": BOT_USER,
            "text": text,
        }
        return self.push(
            {
                "callback_query": {
                    "id": f"cq{next(self._message_ids)}",
                    "from": self.user(user_id if user_id is not None else chat_id),
                    "chat_instance": f"ci{chat_id}",
                    "data": data,
                    "message": message,
                }
            }
        )

    def press(self, chat_id: int, label_or_data: str) -> int:
        """Press a button of the last keyboard sent to this chat, by label or data."""
        for call in reversed(self.sent(chat_id)):
            for b in call.buttons():
                if (
                    label_or_data in (b.get("text"), b.get("callback_data"))
                    and "callback_data" in b
                ):
                    msg_id = call.params.get("message_id") or call.params.get("_message_id")
                    return self.push_callback(chat_id, b["callback_data"], msg_id, call.text)
        raise AssertionError(f"no button {label_or_data!r} sent to chat {chat_id}")

    def sent(
        self,
        chat_id: int | None = None,
        methods: tuple[str, ...] = ("sendMessage", "editMessageText", "sendPhoto"),
    ) -> list[Call]:
        with self._lock:
            return [
                c
                for c in self.calls
                if c.ok and c.method in methods and (chat_id is None or c.chat_id == chat_id)
            ]

    def calls_of(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def pending_updates(self) -> int:
        with self._lock:
            return len(self._updates)

    def wait_until(self, predicate, timeout: float = WAIT_SECONDS, interval: float = 0.01) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(interval)
        return bool(predicate())

    def wait_for_replies(
        self, chat_id: int, count: int, timeout: float = WAIT_SECONDS
    ) -> list[Call]:
        self.wait_until(lambda: len(self.sent(chat_id)) >= count, timeout)
        return self.sent(chat_id)

    # --- HTTP -----------------------------------------------------------------------------

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                request_line = await reader.readline()
                if not request_line:
                    break
                _, path, _ = request_line.decode("latin-1").split(" ", 2)
                headers = {}
                while True:
                    line = await reader.readline()
                    if line in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = line.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", 0) or 0))
                method = path.rstrip("/").rsplit("/", 1)[-1]
                first = path.lstrip("/").split("/", 1)[0]
                origin = "" if first.startswith(("bot", "file")) else first
                params = self._parse(headers.get("content-type", ""), body)
                if any(value is None for value in params.values()):
                    # A JSON null is not a parameter the Bot API documents: clients leave
                    # unset parameters out (python-telegram-bot does; so must the bot).
                    status, payload = (
                        400,
                        {
                            "ok": False,
                            "error_code": 400,
                            "description": "Bad Request: null parameter",
                        },
                    )
                else:
                    status, payload = await self._answer(method, params, origin)
                if status is None:  # dropped connection
                    writer.transport.abort()
                    return
                data = json.dumps(payload).encode()
                writer.write(
                    b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\nConnection: keep-alive\r\n\r\n"
                    % (status, len(data))
                    + data
                )
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        except asyncio.CancelledError:  # the server is stopping
            return
        finally:
            writer.close()

    @staticmethod
    def _parse(content_type: str, body: bytes) -> dict[str, Any]:
        if not body:
            return {}
        if content_type.startswith("application/json"):
            return json.loads(body)
        if content_type.startswith("multipart/form-data"):
            msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
            )
            fields: dict[str, Any] = {}
            for part in msg.iter_parts():
                name = part.get_param("name", header="content-disposition")
                payload = part.get_payload(decode=True)
                if part.get_filename():
                    fields[name] = {
                        "file_bytes": len(payload),
                        "png": payload[:8] == b"\x89PNG\r\n\x1a\n",
                        "ogg": payload[:4] == b"OggS",
                        "opus": b"OpusHead" in payload[:64],
                    }
                else:
                    fields[name] = _maybe_json(payload.decode())
            return fields
        return {k: _maybe_json(v) for k, v in parse_qsl(body.decode(), keep_blank_values=True)}

    async def _answer(self, method: str, params: dict, origin: str = "") -> tuple[int | None, dict]:
        fault = None
        with self._lock:
            if self._faults.get(method):
                fault = self._faults[method].popleft()
        wait = self.poll_latency if method == "getUpdates" else self.latency
        if wait:
            await asyncio.sleep(wait)
        call = Call(method, params, time.time(), origin=origin)
        if fault is not None and fault.kind == "apply_drop":
            if method != "getUpdates":
                self._result(method, params)
                with self._lock:
                    self.calls.append(call)  # applied: it counts as sent
            return None, {}
        if fault is not None:
            if fault.kind == "delay":
                await asyncio.sleep(fault.seconds)
            else:
                call.ok = False
                with self._lock:
                    self.calls.append(call)
                if fault.kind == "429":
                    return 429, {
                        "ok": False,
                        "error_code": 429,
                        "description": "Too Many Requests: retry later",
                        "parameters": {"retry_after": int(fault.seconds) or 1},
                    }
                if fault.kind == "500":
                    return 500, {
                        "ok": False,
                        "error_code": 500,
                        "description": "Internal Server Error",
                    }
                if fault.kind == "403":
                    return 403, {
                        "ok": False,
                        "error_code": 403,
                        "description": "Forbidden: bot was blocked by the user",
                    }
                return None, {}
        if method == "getUpdates":
            return self._refused_poll() or (
                200,
                {"ok": True, "result": await self._get_updates(params)},
            )
        voice = params.get("voice") if method == "sendVoice" else None
        if isinstance(voice, str) and voice not in self._file_ids:
            # A file_id this server never gave (another bot's, another server's).
            call.ok = False
            with self._lock:
                self.calls.append(call)
            return 400, {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: wrong file identifier/HTTP URL specified",
            }
        status = (
            {str(c): code for c, code in self.chat_faults.items()}.get(str(params.get("chat_id")))
            if method in ("sendMessage", "getChat")
            else None
        )
        if status is not None:  # this chat refuses (403) or Telegram fails for it (500)
            call.ok = False
            with self._lock:
                self.calls.append(call)
            return status, {
                "ok": False,
                "error_code": status,
                "description": CHAT_FAULT_DESCRIPTIONS.get(status, "Internal Server Error"),
            }
        result = self._result(method, params)
        if self.record:
            with self._lock:
                self.calls.append(call)
        if self.on_call is not None:
            self.on_call(call)
        return 200, {"ok": True, "result": result}

    def _refused_poll(self) -> tuple[int, dict] | None:
        """Telegram's rule: no getUpdates while a webhook is set (409 Conflict)."""
        if not self.webhook_url:
            return None
        self.get_updates_count += 1
        return 409, {
            "ok": False,
            "error_code": 409,
            "description": "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        }

    async def _get_updates(self, params: dict) -> list[dict]:
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), self.max_poll_wait)
        limit = int(params.get("limit") or 100)
        self.get_updates_count += 1
        if self.first_get_updates_at is None:
            self.first_get_updates_at = time.time()
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if offset:
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                ready = self._updates[:limit]
                if not ready:
                    self._new_update.clear()
            if ready or time.monotonic() >= deadline:
                return ready
            try:
                await asyncio.wait_for(
                    self._new_update.wait(), max(0.0, deadline - time.monotonic())
                )
            except TimeoutError:
                pass

    def _result(self, method: str, params: dict) -> Any:
        now = int(time.time())
        if method == "getMe":
            return BOT_USER
        if method == "getChat":
            chat_id = int(params["chat_id"])
            kind = "private" if chat_id > 0 else "supergroup"
            return {
                **self.chat(chat_id, kind),
                "accent_color_id": 0,
                "max_reaction_count": 11,
                **({"title": "Conseillers"} if chat_id < 0 else {}),
            }
        if method == "sendVoice":
            chat_id = int(params["chat_id"])
            message_id = next(self._message_ids)
            params["_message_id"] = message_id
            voice = params.get("voice")
            file_id = voice if isinstance(voice, str) else f"voice-{message_id}"
            self._file_ids.add(file_id)
            return {
                "message_id": message_id,
                "date": now,
                "chat": self.chat(chat_id),
                "from": BOT_USER,
                "voice": {
                    "file_id": file_id,
                    "file_unique_id": f"u{file_id}",
                    "duration": int(params.get("duration") or 1),
                },
            }
        if method in ("sendMessage", "sendPhoto"):
            chat_id = int(params["chat_id"])
            message_id = next(self._message_ids)
            params["_message_id"] = message_id
            msg = {
                "message_id": message_id,
                "date": now,
                "chat": self.chat(chat_id),
                "from": BOT_USER,
            }
            if method == "sendMessage":
                msg["text"] = params.get("text", "")
            else:
                msg["photo"] = [
                    {"file_id": "f1", "file_unique_id": "u1", "width": 400, "height": 400}
                ]
                if params.get("caption"):
                    msg["caption"] = params["caption"]
            return msg
        if method == "editMessageText":
            return {
                "message_id": int(params.get("message_id", 0)),
                "date": now,
                "chat": self.chat(int(params["chat_id"])),
                "from": BOT_USER,
                "text": params.get("text", ""),
            }
        if method in ("setWebhook", "deleteWebhook"):
            self.webhook_url = str(params.get("url") or "") if method == "setWebhook" else ""
        if method in (
            "answerCallbackQuery",
            "setMyCommands",
            "deleteWebhook",
            "setWebhook",
            "sendChatAction",
            "editMessageReplyMarkup",
            "close",
            "logOut",
        ):
            return True
        if method == "getWebhookInfo":
            return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        return True


def _maybe_json(value: str) -> Any:
    if value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
