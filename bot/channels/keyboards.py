"""Telegram keyboards, built in one place: the inline buttons under a message (a turn's
replies, the outbox's notes and notices) and the native "share" keyboard."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from telegram import (
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    TelegramObject,
)

from dialogs.model import AnyButton, Button, LinkButton, Reply

# A button as the engine makes it, or as the outbox stores it: [label, callback data].
KeyboardButtonSpec = AnyButton | Sequence[str]
CALLBACK_DATA_MAX = 64  # bytes Telegram keeps of a button's callback data


def inline_keyboard(rows: Sequence[Sequence[KeyboardButtonSpec]]) -> InlineKeyboardMarkup | None:
    """The inline keyboard of these rows of buttons, as the library's object (a photo's
    upload, the outbox); None without any. Built from `keyboard_json`: one rule for both."""
    markup = keyboard_json(rows)
    return InlineKeyboardMarkup.de_json(markup, None) if markup else None


def keyboard_json(rows: Sequence[Sequence[KeyboardButtonSpec]]) -> dict[str, Any] | None:
    """What `inline_keyboard` gives once serialised, as the Bot API's JSON, built directly:
    the lean sends (TelegramChannel._send) skip building the library's objects only to
    turn them back into JSON (a tenth of the bot's CPU per update, measured)."""
    if not rows:
        return None
    return {"inline_keyboard": [[button_json(b) for b in row] for row in rows]}


def button_json(button: KeyboardButtonSpec) -> dict[str, str]:
    if isinstance(button, LinkButton):
        return {"text": button.label, "url": button.url}
    label, data = (button.label, button.choice) if isinstance(button, Button) else button
    return {"text": label, "callback_data": data[:CALLBACK_DATA_MAX]}


def markup_json(markup: TelegramObject | dict[str, Any] | None) -> dict[str, Any] | None:
    """A reply markup as JSON, whether built as the library's object or as JSON already."""
    return markup.to_dict() if isinstance(markup, TelegramObject) else markup


def request_keyboard(reply: Reply, share_label: str) -> ReplyKeyboardMarkup:
    """The native "share" button, with the reply's choices as typed buttons."""
    share = (
        KeyboardButton(share_label, request_contact=True)
        if reply.request == "contact"
        else KeyboardButton(share_label, request_location=True)
    )
    rows: list[list[KeyboardButton]] = [[share]]
    for row in reply.buttons:
        rows.extend([KeyboardButton(b.label)] for b in row if isinstance(b, Button))
    return ReplyKeyboardMarkup(rows, resize_keyboard=True, one_time_keyboard=True)
