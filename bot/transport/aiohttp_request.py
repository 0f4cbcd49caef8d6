"""A python-telegram-bot request backend on aiohttp.

python-telegram-bot talks HTTP through httpx by default. Measured on the load benchmark,
httpx's connection pool and per-request machinery cost several milliseconds of CPU per
Bot API call once a few dozen requests are in flight, which made HTTP, not the
conversation, the bot's bottleneck (see README, "Performances"). aiohttp's client does the
same job with a fraction of that CPU. PTB supports custom backends through `BaseRequest`;
this one keeps its semantics: timeouts become `TimedOut`, transport errors `NetworkError`.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

import aiohttp
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import BaseRequest, RequestData


class NotSent(NetworkError):
    """The request never reached Telegram (connection refused, connect timeout): sending
    it again cannot make a duplicate."""


class MaybeSent(NetworkError):
    """The connection broke after the request was written: Telegram may have applied it."""


_NOT_GIVEN = type(BaseRequest.DEFAULT_NONE)
JSON_HEADERS = {"Content-Type": "application/json"}


def _given(value: object, default: float | None) -> float | None:
    return default if isinstance(value, _NOT_GIVEN) else value  # type: ignore[return-value]


def api_result(status: int, payload: bytes) -> Any:
    """The `result` of a Bot API answer, or the exception python-telegram-bot raises for
    it (`BaseRequest.post`: the same status codes, the same classes, the same messages)."""
    parse_error: ValueError | None = None
    try:
        answer = json.loads(payload.decode("utf-8", "replace"))
    except ValueError as exc:
        answer, parse_error = None, exc
    if HTTPStatus.OK <= status <= 299:
        if not isinstance(answer, dict) or "result" not in answer:
            raise TelegramError("Invalid server response") from parse_error
        return answer["result"]
    try:
        message = f"{HTTPStatus(status).phrase} ({status})"
    except ValueError:
        message = f"Unknown HTTPError ({status})"
    if not isinstance(answer, dict):
        message += f". Parsing the server response {payload!r} failed"
    else:
        message = answer.get("description") or message
        parameters = answer.get("parameters")
        if parameters:
            if parameters.get("migrate_to_chat_id"):
                raise ChatMigrated(parameters["migrate_to_chat_id"])
            if parameters.get("retry_after"):
                raise RetryAfter(parameters["retry_after"])
            message += f". The server response contained unknown parameters: {parameters}"
    if status == HTTPStatus.FORBIDDEN:
        raise Forbidden(message) from parse_error
    if status in (HTTPStatus.NOT_FOUND, HTTPStatus.UNAUTHORIZED):
        raise InvalidToken(message) from parse_error
    if status == HTTPStatus.BAD_REQUEST:
        raise BadRequest(message) from parse_error
    if status == HTTPStatus.CONFLICT:
        raise Conflict(message) from parse_error
    raise NetworkError(message) from parse_error


class AiohttpRequest(BaseRequest):
    __slots__ = (
        "_connect_timeout",
        "_pool_size",
        "_read_timeout",
        "_session",
        "_write_timeout",
        "json_bodies",
    )

    def __init__(
        self,
        connection_pool_size: int = 64,
        read_timeout: float | None = 15.0,
        write_timeout: float | None = 15.0,
        connect_timeout: float | None = 5.0,
        json_bodies: bool = True,
    ):
        """`json_bodies`: requests without files go as one JSON document (else as form
        fields, python-telegram-bot's way)."""
        self.json_bodies = json_bodies
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT}
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout=BaseRequest.DEFAULT_NONE,
        write_timeout=BaseRequest.DEFAULT_NONE,
        connect_timeout=BaseRequest.DEFAULT_NONE,
        pool_timeout=BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        timeout = self._timeout(read_timeout, write_timeout, connect_timeout, pool_timeout)
        data: aiohttp.FormData | dict | bytes | None = None
        headers = None
        if request_data is not None:
            if request_data.contains_files:
                form = aiohttp.FormData()
                for name, value in request_data.json_parameters.items():
                    form.add_field(name, value)
                for name, (filename, content, mime) in request_data.multipart_data.items():
                    form.add_field(name, content, filename=filename, content_type=mime)
                data = form
            elif self.json_bodies:
                # One JSON document instead of form fields each holding JSON: the Bot API
                # reads both; this skips aiohttp's form encoding (see bench/micro.py).
                data = json.dumps(request_data.parameters).encode()
                headers = JSON_HEADERS
            else:
                data = request_data.json_parameters
        return await self._exchange(method, url, data, headers, timeout)

    async def post_json(
        self, url: str, params: dict[str, Any], read_timeout: float | None = None
    ) -> Any:
        """POST `params` as one JSON document (None values left out, as the library
        does) and return the Bot API's `result`, with the errors `Bot.do_api_request`
        raises (bot/transport/calls.py says why). `read_timeout`: else this backend's."""
        if self._session is None or self._session.closed:
            raise NetworkError("Unknown error in HTTP implementation: not initialized")
        default = BaseRequest.DEFAULT_NONE
        timeout = self._timeout(
            default if read_timeout is None else read_timeout, default, default, default
        )
        body = json.dumps({k: v for k, v in params.items() if v is not None}).encode()
        try:
            status, payload = await self._exchange("POST", url, body, JSON_HEADERS, timeout)
            return api_result(status, payload)
        except InvalidToken as exc:
            # As `Bot.do_api_request` once the bot is initialized (its token was accepted)
            endpoint = url.rsplit("/", 1)[-1]
            raise EndPointNotFound(f"Endpoint '{endpoint}' not found in Bot API") from exc
        except TelegramError:
            raise
        except Exception as exc:  # as BaseRequest: anything else is a network error
            raise NetworkError(f"Unknown error in HTTP implementation: {exc!r}") from exc

    def _timeout(
        self, read_timeout: Any, write_timeout: Any, connect_timeout: Any, pool_timeout: Any
    ) -> aiohttp.ClientTimeout:
        """The library's timeouts, or ours where it gives none. "Not given" markers are
        instances of the class of BaseRequest.DEFAULT_NONE (public), which spares
        importing the library's private defaultvalue module."""
        given = _given
        read = given(read_timeout, self._read_timeout)
        connect = given(connect_timeout, self._connect_timeout)
        pool = given(pool_timeout, None)
        write = given(write_timeout, self._write_timeout)
        return aiohttp.ClientTimeout(
            sock_connect=connect,
            sock_read=read,
            connect=pool,
            total=None if read is None else read + (write or 0) + (connect or 0),
        )

    async def _exchange(
        self,
        method: str,
        url: str,
        data: aiohttp.FormData | dict | bytes | None,
        headers: dict[str, str] | None,
        timeout: aiohttp.ClientTimeout,
    ) -> tuple[int, bytes]:
        """One HTTP request: its status and body, or the library's network errors."""
        assert self._session is not None  # both callers check it first
        try:
            async with self._session.request(
                method, url, data=data, timeout=timeout, headers=headers
            ) as res:
                return res.status, await res.read()
        except aiohttp.ConnectionTimeoutError as err:
            raise NotSent(f"aiohttp.{err.__class__.__name__}") from err
        except TimeoutError as err:
            raise TimedOut from err
        except aiohttp.ClientConnectorError as err:
            raise NotSent(f"aiohttp.{err.__class__.__name__}") from err
        except (
            aiohttp.ServerDisconnectedError,
            aiohttp.ClientOSError,
            aiohttp.ClientPayloadError,
        ) as err:
            raise MaybeSent(f"aiohttp.{err.__class__.__name__}") from err
        except aiohttp.ClientError as err:
            # Anything else went wrong somewhere between sending and reading: it may have
            # arrived (a plain NetworkError would mean a 5xx answer, safe to send again).
            raise MaybeSent(f"aiohttp.{err.__class__.__name__}") from err
