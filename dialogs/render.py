"""Render a state's jinja2 template into `Reply` messages.

A template is plain text for a non-developer: messages are separated by a line `---`,
buttons are declared with `{{ ui.button("Label", "choice") }}` or
`{{ ui.link("Label", "https://…") }}` and attach to the last message.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from dialogs.model import AnyButton, Button, LinkButton, Reply
from knowledge.opendata import tap_to_call

TEMPLATES_DIR = Path(__file__).parent / "templates"
_SEPARATOR = re.compile(r"^\s*---\s*$", re.MULTILINE)
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
    so apostrophes stay readable in every channel."""
    if isinstance(value, str | Markup):
        return value if isinstance(value, Markup) else html.escape(value, quote=False)
    return value


def make_environment(templates_dir: Path = TEMPLATES_DIR) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
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


def split_messages(text: str) -> list[str]:
    parts = (_BLANK_LINES.sub("\n\n", p).strip() for p in _SEPARATOR.split(text))
    return [p for p in parts if p]


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
