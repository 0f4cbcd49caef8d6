"""Logging that never writes what a person typed.

Our own log lines carry only update ids, states and error types. Exception messages are
another matter: a library may put a user's text in one (a KeyError on a typed word, a
BadRequest quoting a message). This formatter keeps the stack trace, which is what a
developer needs, and replaces every exception message with its type.
"""

from __future__ import annotations

import logging
import traceback


class NoMessageFormatter(logging.Formatter):
    def formatException(self, ei) -> str:  # noqa: N802 - logging's own name
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


def setup(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(NoMessageFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(getattr(logging, level, logging.INFO))
    # httpx logs every request URL, and the URL holds the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("transitions").setLevel(logging.WARNING)
