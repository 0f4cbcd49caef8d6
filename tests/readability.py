"""Render every message a person can read, for the readability test and the README."""

from __future__ import annotations

import itertools
import re

from dialogs.checks import template_kinds
from dialogs.engine import Engine
from dialogs.model import Event, Reach, Reply, Session


def all_messages(engine: Engine) -> list[tuple[str, str]]:
    """(where, text) for every screen, notice, FAQ answer and fit result."""
    return [(where, r.text) for where, replies in all_screens(engine) for r in replies]


def fit_screens(engine: Engine) -> list[tuple[str, list[Reply]]]:
    """The fit result for every possible set of answers (skipped optional ones included)."""
    k = engine.k
    out = []
    values = [[o.id for o in q.options] + ([None] if q.optional else []) for q in k.questions]
    for combo in itertools.product(*values):
        answers = {q.id: v for q, v in zip(k.questions, combo, strict=True) if v is not None}
        s = Session("fit", state="fit_result", answers=answers)
        out.append(("fit_result:" + ",".join(str(v) for v in combo), engine.screen(s)))
    return out


def all_screens(engine: Engine) -> list[tuple[str, list[Reply]]]:
    """(where, replies) for every screen, notice, FAQ answer and small talk."""
    k = engine.k
    out: list[tuple[str, list[Reply]]] = []

    def add(where: str, replies: list[Reply]) -> None:
        out.append((where, replies))

    base = {
        "about": "what",
        "domain": 1,
        "step": 0,
        "module": k.modules[0].id,
        "place": {"c": "Saint-Étienne", "d": "42", "p": "42000"},
        "candidates": [{"c": "Saint-Étienne", "d": "42", "p": "42000"}],
    }
    s = Session("r", answers={q.id: q.options[0].id for q in k.questions}, data=dict(base))
    for state in engine.machine.states:
        s.state, s.data = state, dict(base)
        variants = {
            "about": ("about", list(k.about)),
            "domain": ("domain", [d.id for d in k.domains]),
            "step": ("step", range(len(k.procedure))),
            "module": ("module", [m.id for m in k.modules]),
        }.get(state)
        for value in variants[1] if variants else [None]:
            if variants:
                s.data[variants[0]] = value
            add(f"{state}:{value}" if variants else state, engine.screen(s))
    for kind in template_kinds("notice.j2"):
        add(f"notice:{kind}", engine.notice(kind, command="x"))
    for kind in template_kinds("channel.j2"):
        add(
            f"channel:{kind}",
            [
                engine.channel_text(
                    kind,
                    count=3,
                    url="https://t.me/x",
                    seconds=5,
                    path="data/voice/x.ogg",
                    chat=-100,
                )
            ],
        )
    seen_results: set[tuple[str, ...]] = set()
    for where, replies in fit_screens(engine):
        key = tuple(r.text for r in replies)
        if key not in seen_results:  # one copy of each distinct result
            seen_results.add(key)
            add(where, replies)
    for e in k.faq:
        add(
            f"faq:{e.id}",
            engine.views.page("faq_answer.j2", s, Reach(), entry=e, in_ask=False),
        )
    for kind in k.small_talk:
        add(
            f"small_talk:{kind}",
            engine.views.page("small_talk.j2", s, Reach(), kind=kind, in_ask=False),
        )
    s.state = "menu"
    add("welcome", engine.handle(Session("w"), Event("start")).replies)
    return out


_TAGS = re.compile(r"<[^>]+>")
_URL = re.compile(r"https?://\S+")


def plain(text: str) -> str:
    return _URL.sub("lien", _TAGS.sub("", text))
