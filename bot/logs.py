"""Logging that never writes what a person typed.

Our own log lines carry only update ids, states and error types. Exception messages are
another matter: a library may put a user's text in one (a KeyError on a typed word, a
BadRequest quoting a message). This formatter keeps the stack trace, which is what a
developer needs, and replaces every exception message with its type.
"""

from __future__ import annotations

import logging
import re
import traceback

# A bot token: "<digits>:<35 characters>", alone or inside an API URL.
TOKEN_RE = re.compile(r"(?<!\d)\d{5,}:[A-Za-z0-9_-]{30,}")
# Libraries that log requests, responses and updates at DEBUG (URLs with the token, the
# parameters of sendMessage, the text of every update): never below INFO, whatever the level.
CHATTY = ("telegram", "httpx", "httpcore", "aiohttp", "asyncio", "hpack", "urllib3")
# python-telegram-bot's own dumps of what it received or sent (names, texts, phone numbers).
DUMPS = (
    "Received data was",
    "Calling Bot API endpoint",
    "finished with return value",
    "Got response",
    "Remaining updates",
    "Unpacked",
    "Processing update",
    "Can not load invalid JSON data",
)


class PrivacyFilter(logging.Filter):
    """Drops library records that dump payloads, and blanks any token left in a record."""

    def __init__(self, token: str | None = None):
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken %-format: keep nothing of it
            message = str(record.msg)
        if record.name.startswith(CHATTY) and any(d in message for d in DUMPS):
            return False
        if TOKEN_RE.search(message) or (self.token and self.token in message):
            if self.token:
                message = message.replace(self.token, "<token>")
            record.msg, record.args = TOKEN_RE.sub("<token>", message), None
        return True


class NoMessageFormatter(logging.Formatter):
    def formatException(self, ei) -> str:
        exc_type, exc, tb = ei
        lines = traceback.format_tb(tb)
        lines.append(f"{exc_type.__name__} (message not logged)\n")
        cause = exc.__cause__ or exc.__context__ if exc is not None else None
        while cause is not None:
            lines.insert(0, f"caused by {type(cause).__name__} (message not logged)\n")
            cause = cause.__cause__ or cause.__context__
            if len(lines) > 200:
                break
        return "Traceback (most recent call last):\n" + "".join(lines).rstrip("\n")


def setup(level: str, stream=None, token: str | None = None) -> None:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(NoMessageFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(PrivacyFilter(token))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    value = getattr(logging, level, logging.INFO)
    root.setLevel(value)
    for name in CHATTY:
        logging.getLogger(name).setLevel(max(value, logging.INFO))
    # httpx logs every request URL at INFO, and the URL holds the bot token.
    logging.getLogger("httpx").setLevel(max(value, logging.WARNING))
    logging.getLogger("transitions").setLevel(max(value, logging.WARNING))
