"""/lien: an adviser's deep link, a message to forward, a printable QR code."""

from __future__ import annotations

from bot.advisers.media import qr_png
from dialogs.engine import START_TOPICS
from dialogs.model import LinkButton, Reply
from knowledge.advisers import Adviser


def deep_link(bot_username: str, code: str, topic: str | None = None) -> str:
    payload = f"{code}-{topic}" if topic else code
    return f"https://t.me/{bot_username}?start={payload}"


def link_replies(adviser: Adviser, bot_username: str, topic: str | None = None) -> list[Reply]:
    topic = topic if topic in START_TOPICS else None
    url = deep_link(bot_username, adviser.code, topic)
    return [
        Reply(f"🔗 Votre lien : {url}\n\nLes personnes qui arrivent par ce lien sont comptées "
              f"pour « {adviser.code} », sans savoir qui elles sont. Tapez /stats pour voir les "
              f"chiffres.\n\nSujets possibles : /lien diag, /lien contact, /lien etapes…"
              + ("\n\n📥 Les demandes de contact de vos personnes arrivent ici."
                 if adviser.handoff else "")),
        Reply("Message à transférer 👇"),
        Reply("Bonjour 👋 Vous voulez faire reconnaître vos compétences ? Le certificat CléA "
              "peut vous aider. Un assistant vous explique tout, pas à pas, sur Telegram. "
              "C'est gratuit.", buttons=((LinkButton("💬 Parler à l'assistant CléA", url),),)),
        Reply(f"QR code à imprimer ou à montrer ({url})", image=qr_png(url)),
    ]


