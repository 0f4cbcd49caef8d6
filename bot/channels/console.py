"""The conversation in a terminal.

Interactive when stdin is a terminal. Otherwise it reads one user message per line,
echoes it as `> message`, and prints every reply with its options as `[n] Label`, so a
whole conversation can be scripted: printf '/start\\n1\\n' | clea-bot console
A number picks an option of the last message; `/start PAYLOAD` passes a deep-link payload.
"""

from __future__ import annotations

import html
import logging
import re
import sys
from typing import TextIO

from bot.storage import Storage
from bot.turn import TurnRunner
from bot.voice import VoiceService, VoiceUnavailable
from dialogs.engine import Engine
from dialogs.model import Button, Event, LinkButton, Reply

log = logging.getLogger(__name__)
_TAGS = re.compile(r"</?b>")


def to_plain(text: str) -> str:
    return html.unescape(_TAGS.sub("", text))


def parse_line(line: str, options: list[Button | LinkButton]) -> Event | LinkButton | int:
    """The event for a typed line; a link to open; or, for a wrong number, how many options
    there are (the hint says which numbers work)."""
    text = line.strip()
    if text.isdigit() and 1 <= int(text) <= len(options):
        option = options[int(text) - 1]
        if isinstance(option, LinkButton):
            return option
        return Event("choice", option.choice)
    if len(text) == 1 and text.isdigit() and options:
        return len(options)  # a number outside the options: a hint, not a question
    return Event("text", line.rstrip("\n"))  # commands too: the engine reads "/start X"


def format_replies(
    replies: list[Reply], phone_hint: str = "(écrivez votre numéro)"
) -> tuple[str, list[Button | LinkButton]]:
    """The turn as text: a blank line between two messages, so a transcript shows where each
    one ends; options numbered across the whole turn, so the number typed is the one read
    (a returning person's "Reprendre" and the menu below it do not both start at [1])."""
    blocks, options = [], []
    for reply in replies:
        if reply.voice is not None:
            continue  # shown by Console._voice_notes
        lines = [to_plain(reply.text)]
        for b in (b for row in reply.buttons for b in row):
            options.append(b)
            suffix = f" : {b.url}" if isinstance(b, LinkButton) else ""
            lines.append(f"[{len(options)}] {b.label}{suffix}")
        if reply.request == "contact":
            lines.append(phone_hint)
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks), options


class Console:
    def __init__(
        self,
        engine: Engine,
        storage: Storage,
        user: str = "console:local",
        shared_chat: int | None = None,
        voice: VoiceService | None = None,
    ):
        self.engine = engine
        self.voice = voice
        self.storage = storage
        self.user = user
        self.turns = TurnRunner(engine, storage, shared_chat)
        self.options: list[Button | LinkButton] = []

    def _voice_notes(self, replies: list[Reply]) -> str:
        """A voice note becomes an OGG file under data/voice/, whose path is printed."""
        shown = []
        for reply in replies:
            if reply.voice is None or self.voice is None:
                continue
            try:
                note = self.voice.get_sync(reply.voice, reply.personal)
                shown.append(
                    self.engine.channel_text(
                        "console_voice", seconds=note.duration, path=str(note.path)
                    ).text
                )
            except VoiceUnavailable:
                shown.append(to_plain(self.engine.notice("voice_unavailable")[0].text))
        return "".join(f"\n\n{line}" for line in shown)

    def _outbox(self) -> str:
        """In the console, messages for advisers are shown where they would be sent."""
        shown = []
        for row in self.storage.outbox.due():
            header = self.engine.channel_text("console_outbox", chat=row.chat_id).text
            shown.append(f"\n\n{header}\n{to_plain(row.text)}")
            self.storage.requests.delivered(row, None)
        return "".join(shown)

    def turn(self, line: str) -> str:
        parsed = parse_line(line, self.options)
        if isinstance(parsed, LinkButton):
            return self.engine.channel_text("console_link", url=parsed.url).text
        if isinstance(parsed, int):
            return self.engine.channel_text("console_number", count=parsed).text
        result = self.turns.run(self.user, parsed)
        text, options = format_replies(
            result.replies, self.engine.channel_text("console_phone").text
        )
        text = (text + self._voice_notes(result.replies) + self._outbox()).strip("\n")
        if options:
            self.options = options
        return text

    def run(self, stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
        """Reads sys.stdin and writes sys.stdout unless told otherwise (looked up now, not
        when the module was imported, so that a caller may redirect them)."""
        stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
        interactive = stdin.isatty()
        if interactive:
            print(self.engine.channel_text("console_welcome").text, file=stdout)
            print(self.turn("/start"), file=stdout, flush=True)
        while True:
            if interactive:
                try:
                    line = input("\nvous> ")
                except (EOFError, KeyboardInterrupt):
                    print(file=stdout)
                    return
            else:
                line = stdin.readline()
                if not line:
                    return
                line = line.rstrip("\n")
                print(f"> {line}", file=stdout)
            print(self.turn(line), file=stdout, flush=True)
            if not interactive:
                print(file=stdout)
