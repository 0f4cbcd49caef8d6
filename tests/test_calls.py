"""Bot API calls made as plain JSON (bot/transport/calls.py): every answer reads as the
library reads it, the same result or the same exception with the same message."""

from __future__ import annotations

import json

import pytest
from telegram.request import BaseRequest

from bot.transport.aiohttp_request import api_result


class Answering(BaseRequest):
    """A request backend that answers one fixed HTTP response, to read the library's side."""

    def __init__(self, status: int, payload: bytes) -> None:
        self.status, self.payload = status, payload

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def do_request(self, *args: object, **kwargs: object) -> tuple[int, bytes]:
        return self.status, self.payload


def answer(**fields: object) -> bytes:
    return json.dumps(fields).encode()


ANSWERS = [
    (200, answer(ok=True, result={"message_id": 7, "chat": {"id": 5}})),
    (200, answer(ok=True, result=True)),
    (200, b"<html>proxy</html>"),
    (400, answer(ok=False, error_code=400, description="Bad Request: message is not modified")),
    (400, answer(ok=False, error_code=400, description="Bad Request: chat not found")),
    (403, answer(ok=False, error_code=403, description="Forbidden: bot was blocked by the user")),
    (429, answer(ok=False, description="Too Many Requests", parameters={"retry_after": 3})),
    (400, answer(ok=False, description="migrated", parameters={"migrate_to_chat_id": -1001})),
    (400, answer(ok=False, description="odd", parameters={"something": 1})),
    (401, answer(ok=False, error_code=401, description="Unauthorized")),
    (404, answer(ok=False, error_code=404, description="Not Found")),
    (409, answer(ok=False, description="Conflict: terminated by other getUpdates request")),
    (500, answer(ok=False, error_code=500, description="Internal Server Error")),
    (502, b"Bad Gateway"),
    (599, b""),
    (503, answer(ok=False)),
]


def outcome(read) -> tuple[str, object]:
    try:
        return "result", read()
    except Exception as exc:
        extra = getattr(exc, "retry_after", None) or getattr(exc, "new_chat_id", None)
        return type(exc).__name__, (str(exc), extra)


@pytest.mark.parametrize(("status", "payload"), ANSWERS)
async def test_an_answer_reads_as_the_library_reads_it(status, payload):
    try:
        library = "result", await Answering(status, payload).post("https://x/sendMessage")
    except Exception as exc:
        extra = getattr(exc, "retry_after", None) or getattr(exc, "new_chat_id", None)
        library = type(exc).__name__, (str(exc), extra)
    assert outcome(lambda: api_result(status, payload)) == library


async def test_a_refused_call_of_a_started_bot_reads_as_do_api_request_reads_it():
    """404 once the bot has started (its token was accepted): EndPointNotFound, as
    `Bot.do_api_request` says, not InvalidToken (which would stop the polling)."""
    from aiohttp import web
    from telegram.error import EndPointNotFound

    from bot.transport.aiohttp_request import AiohttpRequest

    async def not_found(request: web.Request) -> web.Response:
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )

    server = web.Application()
    server.router.add_post("/{tail:.*}", not_found)
    runner = web.AppRunner(server, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    request = AiohttpRequest()
    await request.initialize()
    try:
        with pytest.raises(EndPointNotFound, match="noSuchMethod"):
            await request.post_json(f"http://127.0.0.1:{port}/bot1:a/noSuchMethod", {"x": 1})
    finally:
        await request.shutdown()
        await runner.cleanup()


async def test_an_unexpected_error_of_the_http_client_is_a_network_error():
    """As python-telegram-bot's own calls: the rate limiter retries it and the polling
    goes on, instead of the bot stopping."""
    from telegram.error import NetworkError

    from bot.transport.aiohttp_request import AiohttpRequest

    class Broken(AiohttpRequest):
        async def _exchange(self, *args: object, **kwargs: object) -> tuple[int, bytes]:
            raise RuntimeError("Session is closed")

    request = Broken()
    await request.initialize()
    try:
        with pytest.raises(NetworkError, match="Unknown error in HTTP implementation"):
            await request.post_json("http://127.0.0.1:9/bot1:a/getUpdates", {"offset": None})
    finally:
        await request.shutdown()


async def test_calls_go_through_the_rate_limiter_and_leave_out_unset_values(api):
    """A call without a chat (a button's answer) and a message: through RetryingRateLimiter,
    to a server that refuses a JSON null (tests/fake_bot_api.py)."""
    from bot.transport.aiohttp_request import AiohttpRequest
    from bot.transport.calls import BotApiCalls
    from bot.transport.retries import RetryingRateLimiter

    request = AiohttpRequest()
    await request.initialize()
    calls = BotApiCalls(request, RetryingRateLimiter(), f"{api.base_url}123:abc")
    try:
        assert await calls("answerCallbackQuery", {"callback_query_id": "q1", "text": None})
        sent = await calls("sendMessage", {"chat_id": 5, "text": "Bonjour", "reply_markup": None})
        assert sent["message_id"] and sent["chat"]["id"] == 5
    finally:
        await request.shutdown()
    assert [c.method for c in api.calls] == ["answerCallbackQuery", "sendMessage"]
    assert "text" not in api.calls[0].params and "reply_markup" not in api.calls[1].params
