"""How the bot reads an update (bot/transport/incoming.py): a typed message and a pressed
button straight from their JSON, anything else through python-telegram-bot. Both readings
must agree wherever the quick one is taken; the inbox keeps the update as received."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from telegram import Update

from bot.transport.incoming import Incoming, lean, read
from bot.transport.polling import parse_updates

USER = {"id": 5, "is_bot": False, "first_name": "Awa", "language_code": "fr"}
PRIVATE = {"id": 5, "type": "private", "first_name": "Awa"}
GROUP = {"id": -100123, "type": "supergroup", "title": "Conseillers"}


def pressed(update_id: int, message: dict | None, data: str | None = "fit") -> dict:
    """A button's update as Telegram sends it, with `message` under the button."""
    query: dict[str, Any] = {"id": str(update_id), "from": USER, "chat_instance": "1"}
    if data is not None:
        query["data"] = data
    if message is not None:
        query["message"] = message
    return {"update_id": update_id, "callback_query": query}


def typed(update_id: int, chat: dict, text: str, sender: dict | None = USER, **more: Any) -> dict:
    message: dict[str, Any] = {"message_id": 7, "date": 1_700_000_000, "chat": chat, "text": text}
    if sender is not None:
        message["from"] = sender
    return {"update_id": update_id, "message": {**message, **more}}


SCREEN = {
    "message_id": 42,
    "date": 1_700_000_000,
    "chat": PRIVATE,
    "from": {"id": 1, "is_bot": True, "first_name": "CléA"},
    "text": "Bonjour ! Je vous aide à découvrir CléA.",
    "entities": [{"type": "bold", "offset": 0, "length": 7}],
    "reply_markup": {"inline_keyboard": [[{"text": "Oui", "callback_data": "fit"}]]},
}
PRESSED = pressed(900, SCREEN)

# Shapes the quick readings take: each must read exactly as the library reads it.
QUICK = [
    typed(1, PRIVATE, "c'est payant ?"),
    typed(2, PRIVATE, "/start mlyon", entities=[{"type": "bot_command", "offset": 0, "length": 6}]),
    typed(3, PRIVATE, ""),
    typed(4, GROUP, "@clea_bot bonjour"),
    typed(5, PRIVATE, "salut", sender=None),
    typed(6, PRIVATE, "ok", reply_to_message={"message_id": 2, "date": 1, "chat": PRIVATE}),
    PRESSED,
    pressed(901, {"message_id": 3, "date": 0, "chat": PRIVATE}),  # can no longer be reached
    pressed(902, None),  # a button under an inline message: no chat
    pressed(903, SCREEN, data=None),
    pressed(904, {**SCREEN, "chat": GROUP}, data="claim:abc"),
    typed(7, GROUP, "annonce", sender_chat={"id": -100123, "type": "supergroup", "title": "C"}),
    typed(8, GROUP, "dans un sujet", message_thread_id=4, is_topic_message=True),
    typed(9, PRIVATE, "via", via_bot={"id": 2, "is_bot": True, "first_name": "B"}),
    typed(10, PRIVATE, "mon numero", contact={"phone_number": "0600000000", "first_name": "A"}),
    pressed(905, {**SCREEN, "message_thread_id": 4, "is_topic_message": True}),
]


@pytest.mark.parametrize("item", QUICK, ids=lambda i: str(i["update_id"]))
def test_the_quick_reading_agrees_with_the_library(item):
    library = Incoming.from_update(Update.de_json(copy.deepcopy(item), None), item)
    quick = read(item, None)
    assert quick == library
    assert quick.key == (library.chat if library.chat is not None else ("user", USER["id"]))


@pytest.mark.parametrize(
    "item",
    [
        # Shapes the quick readings leave to the library, which reads them as before.
        {"update_id": 10, "edited_message": typed(0, PRIVATE, "oups")["message"]},
        {
            "update_id": 11,
            "message": {
                "message_id": 1,
                "date": 1,
                "chat": PRIVATE,
                "from": USER,
                "contact": {"phone_number": "0600000000", "first_name": "Awa", "user_id": 5},
            },
        },
        typed(12, PRIVATE, "x", sender={"id": 5, "first_name": "Awa"}),  # no is_bot
        typed(13, {"id": "5", "type": "private"}, "x"),  # an id as text
        {**typed(14, PRIVATE, "x"), "extra": {}},
        pressed(15, {"message_id": 3, "chat": PRIVATE}),  # no date
        pressed(16, {"message_id": 3, "date": 1}),  # no chat: no conversation to answer
        {
            "update_id": 17,
            "callback_query": {**pressed(0, None)["callback_query"], "game_short_name": "g"},
        },
    ],
    ids=lambda i: str(i["update_id"]),
)
def test_other_shapes_are_read_by_the_library(item):
    try:
        library: Incoming | str = Incoming.from_update(Update.de_json(lean(item), None), item)
    except Exception as exc:  # unreadable: set aside by parse_updates
        library = type(exc).__name__
    try:
        ours: Incoming | str = read(item, None)
    except Exception as exc:
        ours = type(exc).__name__
    assert ours == library


def test_an_update_the_library_cannot_read_is_set_aside():
    broken = {"update_id": 20, "message": {"message_id": 1, "text": "x", "from": USER}}
    updates, letters = parse_updates([broken, typed(21, PRIVATE, "salut")], None)
    assert [u.update_id for u in updates] == [21]
    assert [(d.update_id, d.person) for d in letters] == [(20, "tg:5")]


def test_a_pressed_button_is_read_with_its_message_id_and_chat_only():
    kept: list[str] = []
    updates, letters = parse_updates([PRESSED], None, kept)
    assert letters == []
    (update,) = updates
    assert update.callback_data == "fit" and update.callback_id == "900"
    assert update.pressed == 42 and update.pressed_chat == 5 and update.chat == 5
    assert update.event is not None and (update.event.kind, update.event.value) == ("choice", "fit")
    assert json.loads(kept[0]) == PRESSED  # the inbox keeps what Telegram sent


def test_a_message_that_can_no_longer_be_reached_is_read_like_the_others():
    """The library makes it a Message too: an edit of it fails and becomes a new message."""
    update = read(pressed(2, {"message_id": 3, "date": 0, "chat": PRIVATE}), None)
    assert update.pressed == 3 and update.pressed_chat == 5


def test_a_typed_message_carries_its_text_and_the_first_name_for_a_hand_off():
    update = read(typed(3, PRIVATE, "rappelez-moi"), None)
    assert update.event is not None and update.event.value == "rappelez-moi"
    assert update.event.first_name == "Awa" and update.text == "rappelez-moi"


def test_a_typed_message_is_answered_whatever_its_other_fields_hold():
    """Only the fields the bot reads are checked: an entity the library would refuse (no
    offset, no length) does not make the person's message a dead letter."""
    odd = typed(30, PRIVATE, "bonjour", entities=[{"type": "bold"}])
    (update,), letters = parse_updates([odd], None)
    assert letters == [] and update.event is not None and update.event.value == "bonjour"


def test_lean_leaves_the_received_update_untouched_and_other_updates_as_they_are():
    before = json.dumps(PRESSED)
    lean(PRESSED)
    assert json.dumps(PRESSED) == before
    text = typed(1, PRIVATE, "salut")
    assert lean(text) is text
    assert lean({"update_id": 3, "callback_query": {"id": "1", "message": None}})["update_id"] == 3
