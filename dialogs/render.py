"""Render a state's jinja2 template into `Reply` messages.

A template is plain text for a non-developer. A line `---` separates the parts of one
screen: they become paragraphs of one message (one screen, one message), as long as the
message stays short (MAX_MESSAGE_WORDS); a longer screen goes on in a second message. A
line `===` starts a message of its own whatever its length (the recap sheet, a message to
forward). Buttons are declared with `{{ ui.button("Label", "choice") }}` or
`{{ ui.link("Label", "https://…") }}` and attach to the last message. A screen declares
them in its `{% block buttons %}`: that block alone can be rendered (`buttons`), so the
engine learns which buttons a screen has without writing its text.
"""

from __future__ import annotations

import contextlib
import functools
import html
import re
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import nodes
from markupsafe import Markup

from dialogs.model import AnyButton, Button, LinkButton, Reply
from knowledge.phone import tap_to_call

TEMPLATES_DIR = Path(__file__).parent / "templates"
BUTTONS_BLOCK = "buttons"
_SEPARATOR = re.compile(r"^\s*---\s*$", re.MULTILINE)
_MESSAGE_SEPARATOR = re.compile(r"^\s*===\s*$", re.MULTILINE)
_TAGS = re.compile(r"<[^>]+>")
# One message of a screen: at most this many words (each paragraph at most 60, see the
# readability tests); Telegram shows about that much on a phone without scrolling far.
MAX_MESSAGE_WORDS = 120
_BLANK_LINES = re.compile(r"\n\s*\n\s*\n+")


class UI:
    """Collects the buttons a template declares, in rows."""

    def __init__(self) -> None:
        self.rows: list[list[AnyButton]] = []

    def button(self, label: str, choice: str, same_row: bool = False) -> str:
        self._add(Button(str(label), str(choice)), same_row)
        return ""

    def link(self, label: str, url: str, same_row: bool = False) -> str:
        self._add(LinkButton(str(label), str(url)), same_row)
        return ""

    def _add(self, button: AnyButton, same_row: bool) -> None:
        if same_row and self.rows:
            self.rows[-1].append(button)
        else:
            self.rows.append([button])


def escape_text(value: Any) -> Any:
    """Escape what Telegram's HTML mode reads as markup (&, <, >), and nothing else,
    so apostrophes stay readable in every channel. Called on every value a template
    writes: plain text, by far the most frequent, is tested first."""
    if type(value) is str:
        return html.escape(value, quote=False)
    if isinstance(value, str) and not isinstance(value, Markup):
        return html.escape(value, quote=False)
    return value


class QuietBytecodeCache(jinja2.FileSystemBytecodeCache):
    """A cache that cannot be read or written (a full disk, a folder of another user
    after the process changed user) only makes rendering slower, never fail: the
    template is compiled again."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except OSError:
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


@functools.cache
def bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiled templates kept between runs, in jinja2's own per-user folder of the
    system's temporary directory. Compiling the templates costs about 0.5 s of CPU,
    paid by the first turns after every start (people waiting through a restart feel
    it); loading them compiled costs 0.01 s. Each is checked against its template's
    source, so an edited template is compiled again. None when no safe folder exists."""
    try:
        return QuietBytecodeCache()
    except (OSError, RuntimeError):
        return None


def make_environment(templates_dir: Path = TEMPLATES_DIR) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        bytecode_cache=bytecode_cache(),
        auto_reload=False,  # templates are read once; no file check on every message
        autoescape=False,
        finalize=escape_text,  # content text never becomes markup; templates may use <b>
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters.update(tel=tap_to_call, number=french_number, date_fr=french_date)
    return env


def french_number(value: float | int | None) -> str:
    """900 → '900', 2400.0 → '2 400', 7.5 → '7,5'."""
    if value is None:
        return ""
    if float(value).is_integer():
        return f"{int(value):,}".replace(",", "\u202f")
    return f"{value:.1f}".replace(".", ",")


def french_date(value: str) -> str:
    """'2026-11-20' → '20/11/2026'; anything else as it is."""
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2}).*", value or "")
    return f"{m.group(3)}/{m.group(2)}/{m.group(1)}" if m else (value or "")


def words(text: str) -> int:
    """Words a person reads (tags left out)."""
    return len(_TAGS.sub("", text).split())


def split_messages(text: str) -> list[str]:
    """The messages of a rendered template: its `---` parts joined as paragraphs while
    the message stays within MAX_MESSAGE_WORDS; `===` always starts a new message."""
    messages: list[str] = []
    for block in _MESSAGE_SEPARATOR.split(text):
        current: list[str] = []
        for part in (_BLANK_LINES.sub("\n\n", p).strip() for p in _SEPARATOR.split(block)):
            if not part:
                continue
            if current and words("\n\n".join([*current, part])) > MAX_MESSAGE_WORDS:
                messages.append("\n\n".join(current))
                current = []
            current.append(part)
        if current:
            messages.append("\n\n".join(current))
    return messages


def lead_apart(replies: list[Reply]) -> list[Reply]:
    """The first paragraph of the first message on its own, when it has several: a
    native keyboard is removed by a message without buttons (a message carries one
    keyboard), and this one says what the screen is about."""
    first = replies[0] if replies else None
    if first is None or first.image or first.voice:
        return replies
    lead, _, rest = first.text.partition("\n\n")
    if not rest:
        return replies
    return [
        Reply(lead),
        Reply(rest, first.buttons, request=first.request, personal=first.personal),
        *replies[1:],
    ]


def join(first: list[Reply], then: list[Reply]) -> list[Reply]:
    """Two renderings shown together (a notice, then the screen): the last message of
    `first` becomes the first paragraph of `then`'s first message when it is plain text
    (no buttons, image, native keyboard or voice) and the message stays short."""
    if not first or not then:
        return [*first, *then]
    a, b = first[-1], then[0]
    plain = not (a.buttons or a.image or a.request or a.voice or b.image or b.voice)
    if not plain or words(a.text) + words(b.text) > MAX_MESSAGE_WORDS:
        return [*first, *then]
    return [
        *first[:-1],
        Reply(f"{a.text}\n\n{b.text}", b.buttons, request=b.request, personal=b.personal),
        *then[1:],
    ]


def render(env: jinja2.Environment, template: str, **context: Any) -> list[Reply]:
    ui = UI()
    text = env.get_template(template).render(ui=ui, **context)
    messages = split_messages(text)
    if not messages:
        raise ValueError(f"template {template} rendered no message")
    buttons = tuple(tuple(row) for row in ui.rows)
    replies = [Reply(m) for m in messages[:-1]]
    replies.append(Reply(messages[-1], buttons=buttons))
    return replies


def buttons(
    env: jinja2.Environment, template: str, **context: Any
) -> tuple[tuple[AnyButton, ...], ...]:
    """The buttons a template declares in its `buttons` block, in rows, rendered without the
    rest of the template (its text); no buttons when it has no such block. The block sees
    the context only: a variable it needs is set inside it."""
    ui = UI()
    loaded = env.get_template(template)
    block = loaded.blocks.get(BUTTONS_BLOCK)
    if block is not None:
        for _ in block(loaded.new_context({"ui": ui, **context})):
            pass  # the block writes no text a person reads: only the buttons count
    return tuple(tuple(row) for row in ui.rows)


def undeclared_buttons(env: jinja2.Environment, template: str) -> list[int]:
    """The lines where a template declares a button outside its `buttons` block."""
    assert env.loader is not None  # make_environment always gives one
    source = env.loader.get_source(env, template)[0]
    tree = env.parse(source)
    inside = {
        id(call)
        for block in tree.find_all(nodes.Block)
        if block.name == BUTTONS_BLOCK
        for call in block.find_all(nodes.Call)
    }
    return [
        call.lineno
        for call in tree.find_all(nodes.Call)
        if id(call) not in inside
        and isinstance(call.node, nodes.Getattr)
        and isinstance(call.node.node, nodes.Name)
        and call.node.node.name == "ui"
        and call.node.attr in ("button", "link")
    ]
