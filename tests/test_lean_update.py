"""What the bot parses of a pressed button's update (bot.transport.inbox.lean): the
message under the button is reduced to its id, date and chat; the inbox keeps the update
exactly as received."""

from __future__ import annotations

import json

from telegram import Message, Update

from bot.transport.inbox import lean
from bot.transport.polling import parse_updates


def pressed(update_id: int, message: dict) -> dict:
    """A button's update as Telegram sends it, with `message` under the button."""
    return {
        "update_id": update_id,
        "callback_query": {
            "id": str(update_id),
            "from": {"id": 5, "is_bot": False, "first_name": "Awa"},
            "chat_instance": "1",
            "data": "fit",
            "message": message,
        },
    }


PRESSED = pressed(
    900,
    {
        "message_id": 42,
        "date": 1_700_000_000,
        "chat": {"id": 5, "type": "private", "first_name": "Awa"},
        "from": {"id": 1, "is_bot": True, "first_name": "CléA"},
        "text": "Bonjour ! Je vous aide à découvrir CléA.",
        "entities": [{"type": "bold", "offset": 0, "length": 7}],
        "reply_markup": {"inline_keyboard": [[{"text": "Oui", "callback_data": "fit"}]]},
    },
)


def test_a_pressed_button_is_read_with_its_message_id_and_chat_only():
    kept: list[str] = []
    updates, letters = parse_updates([PRESSED], None, kept)
    assert letters == []
    query = updates[0].callback_query
    assert query is not None and query.data == "fit" and query.id == "900"
    assert isinstance(query.message, Message)
    assert query.message.message_id == 42 and query.message.chat.id == 5
    assert updates[0].effective_chat is not None and updates[0].effective_chat.id == 5
    assert query.message.text is None and query.message.reply_markup is None
    assert json.loads(kept[0]) == PRESSED  # the inbox keeps what Telegram sent


def test_lean_leaves_the_received_update_untouched_and_other_updates_as_they_are():
    before = json.dumps(PRESSED)
    lean(PRESSED)
    assert json.dumps(PRESSED) == before
    text = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 1,
            "chat": {"id": 1, "type": "private"},
            "text": "salut",
        },
    }
    assert lean(text) is text
    inaccessible = pressed(2, {"message_id": 3, "date": 0, "chat": {"id": 5, "type": "private"}})
    updates, _ = parse_updates([inaccessible], None)
    whole = Update.de_json(inaccessible, None)
    assert updates[0].callback_query is not None and whole.callback_query is not None
    # The date is kept: the library tells a message it can no longer reach (date 0) alike.
    assert type(updates[0].callback_query.message) is type(whole.callback_query.message)
    assert lean({"update_id": 3, "callback_query": {"id": "1", "message": None}})["update_id"] == 3
