"""Telegram keyboards, built in one place: the inline buttons under a message (a turn's
replies, the outbox's notes and notices) and the native "share" keyboard."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from dialogs.model import AnyButton, Button, LinkButton, Reply

# A button as the engine makes it, or as the outbox stores it: [label, callback data].
KeyboardButtonSpec = AnyButton | Sequence[str]
CALLBACK_DATA_MAX = 64  # bytes Telegram keeps of a button's callback data


def inline_button(button: KeyboardButtonSpec) -> InlineKeyboardButton:
    if isinstance(button, LinkButton):
        return InlineKeyboardButton(button.label, url=button.url)
    label, data = (button.label, button.choice) if isinstance(button, Button) else button
    return InlineKeyboardButton(label, callback_data=data[:CALLBACK_DATA_MAX])


def inline_keyboard(rows: Sequence[Sequence[KeyboardButtonSpec]]) -> InlineKeyboardMarkup | None:
    """The inline keyboard of these rows of buttons; None without any."""
    if not rows:
        return None
    return InlineKeyboardMarkup([[inline_button(b) for b in row] for row in rows])


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
