"""Logs keep stack traces but never an exception's message (it may quote a person)."""

from __future__ import annotations

import logging
import sys

from bot.logs import NoMessageFormatter


def fail_on(typed: str, phone: str) -> None:
    try:
        {}[typed]
    except KeyError as exc:
        raise ValueError(phone) from exc


def test_exception_messages_are_not_logged():
    typed = " ".join(["je suis au", "chomage a saint-etienne"])
    phone = "".join(["06 12", " 34 56 78"])
    try:
        fail_on(typed, phone)
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "turn failed", None,
                                   sys.exc_info())
    text = NoMessageFormatter("%(message)s").format(record)
    assert "turn failed" in text and "ValueError" in text and "KeyError" in text
    assert "chomage" not in text and "06 12" not in text
    assert "fail_on" in text  # the stack is still there
