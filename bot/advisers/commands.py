"""/lien: an adviser's deep link, a message to forward, a printable QR code."""

from __future__ import annotations

from collections.abc import Collection

import jinja2
from telegram.helpers import create_deep_linked_url

from bot.advisers.media import qr_png
from dialogs.model import Reply
from dialogs.render import render
from knowledge.advisers import Adviser


def deep_link(bot_username: str, code: str, topic: str | None = None) -> str:
    """https://t.me/<bot>?start=<code>[-<topic>], by the library's helper (it refuses a
    payload Telegram would not pass on)."""
    return create_deep_linked_url(bot_username, f"{code}-{topic}" if topic else code)


def link_replies(
    adviser: Adviser,
    bot_username: str,
    topic: str | None,
    env: jinja2.Environment,
    links: Collection[str] = (),
) -> list[Reply]:
    """The link, a message to forward (templates/adviser_link.j2), and the QR code.
    `topic`: a deep-link code of screens.yaml (`links`) the link opens on; others are ignored."""
    topic = topic if topic in links else None
    url = deep_link(bot_username, adviser.code, topic)
    replies = render(env, "adviser_link.j2", url=url, code=adviser.code, handoff=adviser.handoff)
    caption = render(env, "adviser_notice.j2", kind="qr", url=url)[0].text
    return [*replies, Reply(caption, image=qr_png(url))]
