"""/stats and `clea-bot stats`: anonymous figures of each adviser's link and requests."""

from __future__ import annotations

import datetime as dt
import time

import jinja2

from bot.advisers.media import chart_png
from bot.storage import STAGES, Storage, week_of
from dialogs.model import Reply
from dialogs.render import render
from knowledge.advisers import Adviser

STAGE_LABELS = {
    "start": "ont commencé",
    "fit_done": "ont fini « Est-ce pour moi ? »",
    "recap": "ont reçu leur fiche",
    "handoff": "ont demandé un conseiller",
}
# The same, for one person (or none): "1 personne a commencé", never "1 ont commencé".
STAGE_LABELS_ONE = {
    "start": "a commencé",
    "fit_done": "a fini « Est-ce pour moi ? »",
    "recap": "a reçu sa fiche",
    "handoff": "a demandé un conseiller",
}
WEEKS = 4


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


def stats_text(
    adviser: Adviser, storage: Storage, env: jinja2.Environment, now: float | None = None
) -> tuple[str, dict[str, dict[str, int]]]:
    """The figures as text (templates/adviser_stats.j2), and the table the chart is drawn
    from (database reads only)."""
    now = now or time.time()
    table = figures_by_week(storage, adviser.code, now)
    weeks = [{"monday": f"{monday_of(w):%d/%m}", "counts": c} for w, c in table.items()]
    totals = {s: sum(c[s] for c in table.values()) for s in STAGES}
    requests = next(
        (
            {"received": r, "claimed": k, "median": _duration(m)}
            for code, r, k, m in storage.request_figures()
            if code == adviser.code
        ),
        None,
    )
    text = render(
        env,
        "adviser_stats.j2",
        code=adviser.code,
        weeks=weeks,
        stages=STAGES,
        labels=STAGE_LABELS,
        labels_one=STAGE_LABELS_ONE,
        totals=totals,
        requests=requests,
    )[0].text
    return text, table


def chart_reply(adviser: Adviser, table: dict[str, dict[str, int]]) -> Reply:
    return Reply(
        f"Graphique du lien « {adviser.code} »",
        image=chart_png(table, f"Lien {adviser.code}", STAGE_LABELS),
    )


def _duration(seconds: float | None) -> str:
    """Plain French: '12 min' under an hour, '3 h 05' under two days, then '2,5 jours'."""
    if seconds is None:
        return "—"
    minutes = round(seconds / 60)
    if minutes < 1:
        return "moins d'une minute"
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        hours, rest = divmod(minutes, 60)
        return f"{hours} h {rest:02d}" if rest else f"{hours} h"
    days = seconds / 86400
    return f"{days:.1f} jours".replace(".", ",")


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
            out.extend(
                f"{c or 'equipe'},{r},{k},{'' if m is None else round(m)}"
                for c, r, k, m in requests
            )
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
        lines.append(
            f"{'demandes de contact':<24} {'reçues':>9} {'prises':>9} {'délai médian':>13}"
        )
        for code, received, claimed, median in requests:
            lines.append(
                f"{code or '(équipe)':<24} {received:>9} {claimed:>9} {_duration(median):>13}"
            )
    return "\n".join(lines)
