"""Advisers who share the bot: their deep link and a printable QR code (commands), anonymous
figures (figures), the pictures drawn for them (media).

Advisers are declared by the deployer in the YAML file named by CLEA_ADVISERS (format and
validation: knowledge/advisers.py). Only those Telegram accounts get answers to /lien and
/stats; anybody else gets the usual "unknown command" reply, so nothing reveals that the
commands exist.
"""

from bot.advisers.commands import deep_link, link_replies
from bot.advisers.figures import (
    STAGE_LABELS,
    all_figures_table,
    chart_reply,
    figures_by_week,
    stats_text,
)
from knowledge.advisers import Adviser, load_advisers

__all__ = [
    "Adviser",
    "load_advisers",
    "deep_link",
    "link_replies",
    "stats_text",
    "chart_reply",
    "figures_by_week",
    "all_figures_table",
    "STAGE_LABELS",
]
