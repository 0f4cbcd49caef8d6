"""Advisers who share the bot: their deep link, a printable QR code, anonymous figures.

Advisers are declared by the deployer in the YAML file named by CLEA_ADVISERS (format and
validation: knowledge/advisers.py). Only those Telegram accounts get answers to /lien and
/stats; anybody else gets the usual "unknown command" reply, so nothing reveals that the
commands exist.
"""

from __future__ import annotations

import datetime as dt
import io
import time

from bot.storage import STAGES, Storage, week_of
from dialogs.engine import START_TOPICS
from dialogs.model import LinkButton, Reply
from knowledge.advisers import Adviser, load_advisers
from knowledge.text import strip_accents

__all__ = ["Adviser", "load_advisers", "link_replies", "stats_text", "chart_reply",
           "all_figures_table"]

STAGE_LABELS = {
    "start": "ont commencé",
    "fit_done": "ont fini « Est-ce pour moi ? »",
    "recap": "ont reçu leur fiche",
    "handoff": "ont demandé un conseiller",
}
WEEKS = 4


def deep_link(bot_username: str, code: str, topic: str | None = None) -> str:
    payload = f"{code}-{topic}" if topic else code
    return f"https://t.me/{bot_username}?start={payload}"


def qr_png(url: str) -> bytes:
    """A printable QR code of the link (high error correction survives poor printing)."""
    import qrcode
    from qrcode.constants import ERROR_CORRECT_H

    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_H, box_size=12, border=4)
    qr.add_data(url)
    qr.make(fit=True)
    buffer = io.BytesIO()
    qr.make_image().save(buffer, format="PNG")
    return buffer.getvalue()


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


def monday_of(week: str) -> dt.date:
    return dt.date.fromisocalendar(int(week[:4]), int(week[-2:]), 1)


def weeks_back(now: float, count: int = WEEKS) -> list[str]:
    return [week_of(now - i * 7 * 86400) for i in reversed(range(count))]


def figures_by_week(storage: Storage, code: str, now: float) -> dict[str, dict[str, int]]:
    weeks = weeks_back(now)
    table = {w: dict.fromkeys(STAGES, 0) for w in weeks}
    for _, week, stage, n in storage.figures(code, weeks=WEEKS, now=now):
        if week in table and stage in table[week]:
            table[week][stage] = n
    return table


COLOURS = ("#4C72B0", "#55A868", "#C44E52", "#8172B2")


def chart_png(table: dict[str, dict[str, int]], title: str) -> bytes:
    """Four groups of four bars, drawn with Pillow (already installed for the QR code):
    matplotlib, for this one chart, weighed about 170 MB in every install."""
    from PIL import Image, ImageDraw, ImageFont

    width, height, left, bottom, top = 780, 400, 60, 60, 50
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    try:  # DejaVu, when the system has it, draws "é" and "ç"
        font = ImageFont.truetype("DejaVuSans.ttf", 14)
        small = ImageFont.truetype("DejaVuSans.ttf", 12)
        label = str
    except OSError:  # Pillow's own font has no accented letters: write them without
        font, small = ImageFont.load_default(size=14), ImageFont.load_default(size=12)
        label = strip_accents
    weeks = list(table)
    peak = max([1, *(table[w][s] for w in weeks for s in STAGES)])
    plot_h = height - top - bottom
    draw.text((left, 12), label(title), fill="black", font=font)
    draw.line((left, top, left, height - bottom), fill="black")
    draw.line((left, height - bottom, width - 20, height - bottom), fill="black")
    draw.text((8, top - 6), str(peak), fill="black", font=small)
    draw.text((8, height - bottom - 8), "0", fill="black", font=small)
    group = (width - left - 40) / max(1, len(weeks))
    bar = group * 0.8 / len(STAGES)
    for i, week in enumerate(weeks):
        x0 = left + 10 + i * group
        for j, stage in enumerate(STAGES):
            value = table[week][stage]
            h = plot_h * value / peak
            x = x0 + j * bar
            draw.rectangle((x, height - bottom - h, x + bar - 2, height - bottom),
                           fill=COLOURS[j])
            if value:
                draw.text((x, height - bottom - h - 14), str(value), fill="black", font=small)
        draw.text((x0, height - bottom + 6), f"sem. du {monday_of(week):%d/%m}", fill="black",
                  font=small)
    x = 20
    for j, stage in enumerate(STAGES):
        text = label(STAGE_LABELS[stage])
        draw.rectangle((x, height - 26, x + 12, height - 14), fill=COLOURS[j])
        draw.text((x + 16, height - 28), text, fill="black", font=small)
        x += 16 + draw.textlength(text, font=small) + 18
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def stats_text(adviser: Adviser, storage: Storage, now: float | None = None
               ) -> tuple[str, dict[str, dict[str, int]]]:
    """The figures as text, and the table the chart is drawn from (database reads only)."""
    now = now or time.time()
    table = figures_by_week(storage, adviser.code, now)
    lines = [f"📊 Lien « {adviser.code} », 4 dernières semaines (chiffres anonymes) :"]
    for week, counts in table.items():
        monday = monday_of(week)
        detail = ", ".join(f"{counts[s]} {STAGE_LABELS[s]}" for s in STAGES)
        lines.append(f"• semaine du {monday:%d/%m} : {detail}")
    total = {s: sum(c[s] for c in table.values()) for s in STAGES}
    lines.append("Total : " + ", ".join(f"{total[s]} {STAGE_LABELS[s]}" for s in STAGES))
    lines.append("Une personne compte une seule fois par étape.")
    lines.append(request_line(storage, adviser.code))
    return "\n".join(lines), table


def chart_reply(adviser: Adviser, table: dict[str, dict[str, int]]) -> Reply:
    return Reply(f"Graphique du lien « {adviser.code} »",
                 image=chart_png(table, f"Lien {adviser.code}"))


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    hours = seconds / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} j"


def request_line(storage: Storage, code: str) -> str:
    """Contact requests of one adviser: received, claimed, median time to claim."""
    for row_code, received, claimed, median in storage.request_figures():
        if row_code == code:
            return (f"📞 Demandes de contact : {received} reçues, {claimed} prises, "
                    f"délai médian avant prise : {_duration(median)}.")
    return "📞 Demandes de contact : aucune pour l'instant."


def all_figures_table(storage: Storage, csv: bool = False) -> str:
    """Every code's figures, for the deployer (`clea-bot stats`)."""
    rows = storage.figures()
    requests = storage.request_figures()
    if csv:
        out = ["code,week,stage,count"]
        out.extend(f"{c},{w},{s},{n}" for c, w, s, n in rows)
        if requests:  # a second table, after a blank line
            out.append("")
            out.append("code,requests_received,requests_claimed,median_seconds_to_claim")
            out.extend(f"{c or 'equipe'},{r},{k},{'' if m is None else round(m)}"
                       for c, r, k, m in requests)
        return "\n".join(out)
    if not rows and not requests:
        return "Aucun chiffre pour l'instant."
    header = f"{'code':<24} {'semaine':<10} " + " ".join(f"{s:>9}" for s in STAGES)
    grouped: dict[tuple[str, str], dict[str, int]] = {}
    for code, week, stage, n in rows:
        grouped.setdefault((code, week), dict.fromkeys(STAGES, 0))[stage] = n
    lines = [header]
    for (code, week), counts in sorted(grouped.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        lines.append(f"{code:<24} {week:<10} " + " ".join(f"{counts[s]:>9}" for s in STAGES))
    if requests:
        lines.append("")
        lines.append(f"{'demandes de contact':<24} {'reçues':>9} {'prises':>9} "
                     f"{'délai médian':>13}")
        for code, received, claimed, median in requests:
            lines.append(f"{code or '(équipe)':<24} {received:>9} {claimed:>9} "
                         f"{_duration(median):>13}")
    return "\n".join(lines)
