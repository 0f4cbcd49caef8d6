"""One Telegram update as the bot reads it: who, where, and what they did.

python-telegram-bot turns each update into `Update`, `Message`, `Chat` and `User` objects;
a `Message` alone sets about two hundred attributes. Under the benchmark mix that parsing
was about a tenth of the bot's CPU, for five or six values the bot reads. The two updates
that make nearly all the traffic, a message typed in a chat and a pressed button, are read
straight from their JSON here, from the fields the library requires and the few the bot
reads; the others are not looked at (a malformed entity or reply under a typed message,
which the library would refuse, does not stop the message from being answered). Anything
else (a contact, a location, a voice note, an edit, a group event, a shape this module
does not know) is parsed by the library as before, then read the same way: the library
decides what is unreadable there.

A test holds the two readings equal on every shape the quick one accepts
(tests/test_incoming.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from telegram import Bot, Update

from dialogs.model import Event

# What the bot reads of the message under a pressed button: which message, and in which chat.
PRESSED_MESSAGE_FIELDS = ("message_id", "date", "chat", "message_thread_id")


@dataclass(frozen=True, slots=True)
class Incoming:
    """An update, reduced to what the bot reads.

    `chat`, `chat_type`, `user`: the update's effective chat and sender (None when it has
    none). `event`: the dialog event it makes in a private chat (None: nothing to do).
    `callback_id`/`callback_data`: a pressed button. `pressed`: the id of the message
    under it (the screen an edit replaces); `pressed_chat`: that message's chat. `text`:
    the text of a new message (what a group's message says). `raw`: the update as
    received, for the dead letters."""

    update_id: int
    chat: int | None = None
    chat_type: str | None = None
    user: int | None = None
    event: Event | None = None
    callback_id: str | None = None
    callback_data: str | None = None
    pressed: int | None = None
    pressed_chat: int | None = None
    text: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def key(self) -> object:
        """The conversation it belongs to (bot/transport/inbox.py `chat_of`)."""
        if self.chat is not None:
            return self.chat
        if self.user is not None:
            return ("user", self.user)
        return ("update", self.update_id)

    @property
    def is_button(self) -> bool:
        return self.callback_id is not None

    @classmethod
    def from_update(cls, update: Update, raw: dict[str, Any] | None = None) -> Incoming:
        """The library's reading of an update, for the shapes `read` leaves to it."""
        chat = update.effective_chat
        user = update.effective_user
        query = update.callback_query
        under = query.message if query is not None else None
        return cls(
            update_id=update.update_id,
            chat=chat.id if chat is not None else None,
            chat_type=chat.type if chat is not None else None,
            user=user.id if user is not None else None,
            event=update_to_event(update),
            callback_id=query.id if query is not None else None,
            callback_data=query.data if query is not None else None,
            pressed=under.message_id if under is not None else None,
            pressed_chat=under.chat.id if under is not None and under.chat is not None else None,
            text=update.message.text if update.message is not None else None,
            raw=raw if raw is not None else update.to_dict(),
        )


def update_to_event(update: Update) -> Event | None:
    """The dialog event for a private-chat update, or None when there is nothing to do."""
    if update.callback_query is not None:
        return Event("choice", update.callback_query.data or "")
    if update.edited_message is not None:
        return Event("edited")  # answered kindly, not as a new message
    message = update.effective_message
    if message is None:
        return None
    # The first name goes with a typed or shared phone number to the adviser the person
    # chose to be called by (the consent message says so); it is never stored.
    first_name = message.from_user.first_name if message.from_user else None
    if message.text is not None:
        return Event("text", message.text, first_name=first_name)
    if message.contact is not None:
        own = message.from_user is not None and message.contact.user_id == message.from_user.id
        return (
            Event(
                "contact",
                message.contact.phone_number,
                first_name=message.contact.first_name or first_name,
            )
            if own
            else Event("unsupported")
        )
    if message.location is not None:
        return Event("location", f"{message.location.latitude},{message.location.longitude}")
    if message.voice is not None or message.audio is not None or message.video_note is not None:
        return Event("voice")  # answered aloud: the bot cannot listen yet
    return Event("unsupported")


def read(item: Any, bot: Bot | None) -> Incoming:
    """An update received as JSON. A typed message or a pressed button is read directly
    (from the fields the bot reads); anything else goes through the library (which raises
    on what it cannot read)."""
    quick = _typed_message(item) or _pressed_button(item)
    if quick is not None:
        return quick
    return Incoming.from_update(Update.de_json(lean(item), bot), item)


def lean(item: Any) -> Any:
    """The update as the library is given it: the message under a pressed button comes
    back whole with every callback query (its text, its keyboard, its sender), and the bot
    reads only its id and chat. The inbox keeps the update as received."""
    query = item.get("callback_query") if isinstance(item, dict) else None
    if not isinstance(query, dict) or not isinstance(query.get("message"), dict):
        return item
    message = query["message"]
    kept = {k: message[k] for k in PRESSED_MESSAGE_FIELDS if k in message}
    return {**item, "callback_query": {**query, "message": kept}}


# --- the two quick readings -------------------------------------------------------------
# Each accepts only a shape the library would read the same way: every field the library
# requires is there with its JSON type. Anything else returns None and goes to the library.


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _user(value: object) -> dict[str, Any] | None:
    """A Bot API User the library would build (id, is_bot and first_name are required)."""
    if (
        isinstance(value, dict)
        and _is_int(value.get("id"))
        and isinstance(value.get("is_bot"), bool)
        and isinstance(value.get("first_name"), str)
    ):
        return value
    return None


def _chat(value: object) -> dict[str, Any] | None:
    """A Bot API Chat the library would build (id and type are required)."""
    if isinstance(value, dict) and _is_int(value.get("id")) and isinstance(value.get("type"), str):
        return value
    return None


def _update_id(item: object) -> int | None:
    if not isinstance(item, dict) or len(item) != 2:  # update_id and one payload
        return None
    update_id = item.get("update_id")
    return update_id if _is_int(update_id) else None


def _typed_message(item: Any) -> Incoming | None:
    """{"update_id", "message": {"message_id", "date", "chat", "from"?, "text", ...}}."""
    update_id = _update_id(item)
    message = item.get("message") if update_id is not None else None
    if not isinstance(message, dict):
        return None
    text = message.get("text")
    chat = _chat(message.get("chat"))
    sender = message.get("from")
    user = _user(sender) if sender is not None else None
    if (
        not isinstance(text, str)
        or chat is None
        or (sender is not None and user is None)
        or not _is_int(message.get("message_id"))
        or not _is_int(message.get("date"))
    ):
        return None
    assert update_id is not None  # message is read only when the update id was
    first_name = user["first_name"] if user is not None else None
    return Incoming(
        update_id=update_id,
        chat=chat["id"],
        chat_type=chat["type"],
        user=user["id"] if user is not None else None,
        event=Event("text", text, first_name=first_name),
        text=text,
        raw=item,
    )


def _pressed_button(item: Any) -> Incoming | None:
    """{"update_id", "callback_query": {"id", "from", "chat_instance", "data"?,
    "message"?: {"message_id", "date", "chat", ...}}}."""
    update_id = _update_id(item)
    query = item.get("callback_query") if update_id is not None else None
    if not isinstance(query, dict):
        return None
    user = _user(query.get("from"))
    data = query.get("data")
    under = query.get("message")
    if (
        user is None
        or not isinstance(query.get("id"), str)
        or not isinstance(query.get("chat_instance"), str)
        or (data is not None and not isinstance(data, str))
        or "game_short_name" in query
    ):
        return None
    chat: dict[str, Any] | None = None
    pressed: int | None = None
    if under is not None:
        chat = _chat(under.get("chat")) if isinstance(under, dict) else None
        if chat is None or not isinstance(under, dict):
            return None
        message_id = under.get("message_id")
        if not _is_int(message_id) or not _is_int(under.get("date")):
            return None
        # Date 0 is a message the bot can no longer reach: the library still makes it a
        # Message, and an edit of it fails and becomes a new message (TelegramChannel._edit).
        pressed = message_id
    assert update_id is not None  # the query is read only when the update id was
    return Incoming(
        update_id=update_id,
        chat=chat["id"] if chat is not None else None,
        chat_type=chat["type"] if chat is not None else None,
        user=user["id"],
        event=Event("choice", data or ""),
        callback_id=query["id"],
        callback_data=data,
        pressed=pressed,
        pressed_chat=chat["id"] if chat is not None else None,
        raw=item,
    )
