"""Render every message a person can read, for the readability test and the README."""

from __future__ import annotations

import itertools
import re

from dialogs.checks import NOTICES
from dialogs.engine import Engine
from dialogs.model import Event, Reply, Session


def all_messages(engine: Engine) -> list[tuple[str, str]]:
    """(where, text) for every screen, notice, FAQ answer and fit result."""
    k = engine.k
    out: list[tuple[str, str]] = []

    def add(where: str, replies: list[Reply]) -> None:
        out.extend((where, r.text) for r in replies)

    base = {"about": "what", "domain": 1, "step": 0, "module": k.modules[0].id,
            "place": {"c": "Saint-Étienne", "d": "42", "p": "42000"},
            "candidates": [{"c": "Saint-Étienne", "d": "42", "p": "42000"}]}
    s = Session("r", answers={q.id: q.options[0].id for q in k.questions}, data=dict(base))
    for state in engine.machine.states:
        s.state, s.data = state, dict(base)
        variants = {"about": ("about", list(k.about)), "domain": ("domain", [d.id for d in
                                                                                k.domains]),
                    "step": ("step", range(len(k.procedure))),
                    "module": ("module", [m.id for m in k.modules])}.get(state)
        for value in (variants[1] if variants else [None]):
            if variants:
                s.data[variants[0]] = value
            add(f"{state}:{value}" if variants else state, engine.screen(s))
    for kind in NOTICES:
        add(f"notice:{kind}", engine.notice(kind, command="x"))
    combos = itertools.product(*[[o.id for o in q.options] for q in k.questions])
    seen_rules: set[str] = set()
    for combo in combos:
        answers = dict(zip([q.id for q in k.questions], combo, strict=True))
        for rule in k.fit_result(answers):
            if rule.id not in seen_rules:
                seen_rules.add(rule.id)
                out.extend((f"fit:{rule.id}", m) for m in rule.messages)
    for e in k.faq:
        out.extend((f"faq:{e.id}", m) for m in e.answer)
    for kind in k.small_talk:
        add(f"small_talk:{kind}", engine._render("small_talk.j2", engine._context(s),
                                                  kind=kind, in_ask=False))
    s.state = "menu"
    add("welcome", engine.handle(Session("w"), Event("start")))
    return out


_TAGS = re.compile(r"<[^>]+>")
_URL = re.compile(r"https?://\S+")


def plain(text: str) -> str:
    return _URL.sub("lien", _TAGS.sub("", text))
