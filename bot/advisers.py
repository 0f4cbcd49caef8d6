"""Advisers who share the bot: their deep link, a printable QR code, anonymous figures.

Advisers are declared by the deployer in the YAML file named by CLEA_ADVISERS:

    advisers:
      - {telegram_id: 123456789, code: mlyon, name: "Mission locale de Lyon"}

Only those Telegram accounts get answers to /lien and /stats; anybody else gets the usual
"unknown command" reply, so nothing reveals that the commands exist.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.storage import STAGES, Storage, week_of
from dialogs.engine import START_TOPICS
from dialogs.model import LinkButton, Reply
from knowledge.loader import ContentError, Problem

CODE_RE = re.compile(r"^[a-z0-9_-]{3,32}$")
STAGE_LABELS = {
    "start": "ont commencé",
    "fit_done": "ont fini « Est-ce pour moi ? »",
    "recap": "ont reçu leur fiche",
    "handoff": "ont demandé un conseiller",
}
WEEKS = 4


@dataclass(frozen=True)
class Adviser:
    telegram_id: int
    code: str
    name: str


def load_advisers(path: Path | None) -> dict[int, Adviser]:
    """Advisers by Telegram id; ContentError naming the file and entry on any problem."""
    if path is None:
        return {}
    where = str(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ContentError([Problem(where, "", "fichier introuvable")]) from None
    except yaml.YAMLError as exc:
        raise ContentError([Problem(where, "", f"YAML illisible : {exc}")]) from None
    items = data.get("advisers") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ContentError([Problem(where, "advisers", "une liste « advisers: » est attendue")])
    problems, advisers, codes = [], {}, set()
    for i, item in enumerate(items):
        entry = f"advisers[{i}]"
        if not isinstance(item, dict):
            problems.append(Problem(where, entry, "doit être {telegram_id, code, name}"))
            continue
        tid, code, name = item.get("telegram_id"), item.get("code"), item.get("name")
        if not isinstance(tid, int) or isinstance(tid, bool) or tid <= 0:
            problems.append(Problem(where, entry, "« telegram_id » doit être un nombre entier"))
        if not isinstance(code, str) or not CODE_RE.match(code):
            problems.append(Problem(where, entry, "« code » : 3 à 32 caractères parmi a-z 0-9 _ -"))
        elif code in codes:
            problems.append(Problem(where, entry, f"code « {code} » en double"))
        elif code.rsplit("-", 1)[-1] in START_TOPICS or code in START_TOPICS:
            problems.append(Problem(where, entry,
                                    f"code « {code} » : ne doit pas finir par un sujet "
                                    f"({', '.join(sorted(START_TOPICS))})"))
        if not isinstance(name, str) or not name.strip():
            problems.append(Problem(where, entry, "« name » manquant"))
        if isinstance(tid, int) and tid in advisers:
            problems.append(Problem(where, entry, f"telegram_id {tid} en double"))
        if not problems or all(p.entry != entry for p in problems):
            advisers[tid] = Adviser(tid, code, name.strip())
            codes.add(code)
    if problems:
        raise ContentError(problems)
    return advisers


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
              f"chiffres.\n\nSujets possibles : /lien diag, /lien contact, /lien etapes…"),
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


def chart_png(table: dict[str, dict[str, int]], title: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    weeks = list(table)
    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=110)
    width = 0.8 / len(STAGES)
    for i, stage in enumerate(STAGES):
        xs = [w + i * width for w in range(len(weeks))]
        ax.bar(xs, [table[w][stage] for w in weeks], width, label=STAGE_LABELS[stage])
    ax.set_xticks([w + 0.4 - width / 2 for w in range(len(weeks))],
                  [f"sem. du {monday_of(w):%d/%m}" for w in weeks])
    ax.set_ylabel("personnes")
    ax.set_title(title)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def stats_replies(adviser: Adviser, storage: Storage, now: float | None = None) -> list[Reply]:
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
    return [Reply("\n".join(lines)),
            Reply(f"Graphique du lien « {adviser.code} »",
                  image=chart_png(table, f"Lien {adviser.code}"))]


def all_figures_table(storage: Storage, csv: bool = False) -> str:
    """Every code's figures, for the deployer (`clea-bot stats`)."""
    rows = storage.figures()
    if csv:
        out = ["code,week,stage,count"]
        out.extend(f"{c},{w},{s},{n}" for c, w, s, n in rows)
        return "\n".join(out)
    if not rows:
        return "Aucun chiffre pour l'instant."
    header = f"{'code':<24} {'semaine':<10} " + " ".join(f"{s:>9}" for s in STAGES)
    grouped: dict[tuple[str, str], dict[str, int]] = {}
    for code, week, stage, n in rows:
        grouped.setdefault((code, week), dict.fromkeys(STAGES, 0))[stage] = n
    lines = [header]
    for (code, week), counts in sorted(grouped.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        lines.append(f"{code:<24} {week:<10} " + " ".join(f"{counts[s]:>9}" for s in STAGES))
    return "\n".join(lines)
