"""The plain data that crosses the boundary between channels and the dialog engine.

Channels build `Event`s and render `Reply`s; the engine never sees Telegram objects.
A `Session` is JSON in, JSON out, so restoring one costs microseconds.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Literal

EventKind = Literal[
    "start", "text", "choice", "location", "contact", "voice", "unsupported", "edited"
]


@dataclass(frozen=True)
class Event:
    """What the person did. `value`: text typed, choice id pressed, command name (no slash),
    phone number shared, "latitude,longitude" of a shared location. `payload`: the
    deep-link payload of /start."""

    kind: EventKind
    value: str = ""
    payload: str | None = None
    first_name: str | None = None  # the person's first name on Telegram, for a hand-off


@dataclass(frozen=True)
class Button:
    label: str
    choice: str  # short stable id, e.g. "domain:3"; sent back as Event(kind="choice")


@dataclass(frozen=True)
class LinkButton:
    label: str
    url: str


AnyButton = Button | LinkButton


@dataclass(frozen=True)
class Reply:
    """One message. `text` may hold <b>…</b> only. `buttons` are rows of buttons.
    `request` asks the channel for a native input: the person's phone contact, or their
    location (a button that shares it; they may type instead)."""

    text: str
    buttons: tuple[tuple[AnyButton, ...], ...] = ()
    image: bytes | None = None
    request: Literal["contact", "location"] | None = None
    voice: str | None = None  # a voice note saying this text (the text field is unused)
    # The voice note says something about this person (their town, their answers): kept
    # apart from the notes of the screens everyone hears.
    personal: bool = False

    def choices(self) -> list[Button]:
        return [b for row in self.buttons for b in row if isinstance(b, Button)]


@dataclass(frozen=True)
class AdviserNote:
    """A contact request for an adviser: a message for someone else than the person.
    `adviser`: the code of the adviser who receives it ("" for the shared advisers' chat);
    `organisation`: the name the person was shown for them."""

    text: str
    adviser: str = ""
    organisation: str = ""


@dataclass(frozen=True)
class Reach:
    """What storage knows of the advisers' private chats when a turn starts, read by the
    channel before the turn (the engine never reads the database): `open`, the codes of the
    advisers who opened the bot and did not block it since (the bot can write to them);
    `blocked`, those whose chat refused the bot (not named until they open it again)."""

    open: frozenset[str] = frozenset()
    blocked: frozenset[str] = frozenset()


@dataclass
class Turn:
    """What one event did: the replies for the person, and the effects the runner applies
    with the saved session (in the same transaction) or the channel renders.

    `notes`: contact requests to deliver to advisers (written to the outbox).
    `reached`: stages of the path reached by this turn, for the anonymous figures.
    `erase`: the person asked to forget everything about them.
    `remove_keyboard`: the screen before showed a native keyboard (share phone / position)
    that this one does not; the channel removes it.
    `keep_previous`: the screen shown before this turn is worth keeping (the recap, an FAQ
    answer): a channel that can replace a message in place (Telegram's edit) shows the
    new screen below it instead."""

    replies: list[Reply]
    notes: list[AdviserNote] = field(default_factory=list)
    reached: frozenset[str] = frozenset()
    erase: bool = False
    remove_keyboard: bool = False
    keep_previous: bool = False


SESSION_VERSION = 1


@dataclass
class Session:
    """One person's place in the conversation.

    `state`: the machine state. `answers`: the fit-check answers by question id.
    `data`: the rest of the place (current domain, step, chosen commune, return point…).
    `referral`: the adviser code of the link the person came through (anonymous figures).
    """

    user: str
    state: str = "menu"
    answers: dict[str, str] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    referral: str | None = None
    updated: float = field(default_factory=time.time)

    def to_json(self) -> str:
        return json.dumps(
            {
                "v": SESSION_VERSION,
                "s": self.state,
                "a": self.answers,
                "d": self.data,
                "r": self.referral,
                "u": round(self.updated),
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, user: str, raw: str) -> Session:
        d = json.loads(raw)
        return cls(
            user=user,
            state=d.get("s", "menu"),
            answers=d.get("a") or {},
            data=d.get("d") or {},
            referral=d.get("r"),
            updated=d.get("u", time.time()),
        )
