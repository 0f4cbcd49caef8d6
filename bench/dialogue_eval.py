"""Measure understanding the way a person meets it: each message typed on the menu screen
of a fresh session, through `Engine.handle`, and the reply read back.

    python -m bench.faq_eval --set PATH/questions-dev.yaml

The set stays outside the project (a user's clone has none). Its shape:
`in_scope`: {id, style, accept: [faq ids] (or [none]: no entry covers it), text};
`out_of_scope`: {id, style, trap (near-topic) or kind: trap|off, text} (or {near_topic:
[texts], far: [texts]}); `greetings`: {id, text, expect (optional small-talk kind)} or
plain strings (any greeting, thanks or bye reply).
Control sets with `expect` (an id or a list) and `kind` instead are read the same way.

What a reply counts as (read from its buttons and the small-talk texts, so the figure does
not depend on how the engine is built):
- answered X: the reply carries the "🔊 Écouter" button of FAQ entry X;
- offered: "Vouliez-vous parler de…" with `faq:` buttons;
- place: the message was read as a place and the hand-off started (counted as `where`);
- small talk (greeting, thanks, bye…), declined (off-topic line or near-topic line) or
  not understood.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dialogs.engine import Engine
from dialogs.model import Event, Reach, Reply, Session
from knowledge.loader import load

POLITE = ("greeting", "thanks", "bye")
PLACE_STATES = {"where_confirm", "where_pick", "where_ask"}


@dataclass(frozen=True)
class Outcome:
    """kind: answer | offer | place | small_talk | declined | not_understood."""

    kind: str
    topics: tuple[str, ...] = ()


class Reader:
    """Sends one message on a fresh menu screen and says what the reply was."""

    def __init__(self, engine: Engine | None = None):
        self.engine = engine or Engine(load(), handoff_enabled=True, voice_enabled=True)
        session = Session("eval")
        self.small_talk = {}
        for kind in ("greeting", "thanks", "bye", "insult", "human", "off_topic"):
            first = self.engine.views.page("small_talk.j2", session, Reach(), kind=kind)[0].text
            self.small_talk[first] = kind

    def outcome(self, text: str) -> Outcome:
        s = Session("eval")
        self.engine.handle(s, Event("start"))
        replies = self.engine.handle(s, Event("text", text)).replies
        return classify(replies, s.state, self.small_talk)


def classify(replies: list[Reply], state: str, small_talk: dict[str, str]) -> Outcome:
    choices = [b.choice for r in replies for b in r.choices()]
    answered = [c.removeprefix("listen:faq:") for c in choices if c.startswith("listen:faq:")]
    if answered:
        return Outcome("answer", (answered[0],))
    offered = tuple(c.removeprefix("faq:") for c in choices if c.startswith("faq:"))
    if offered:
        return Outcome("offer", offered)
    if state in PLACE_STATES:
        return Outcome("place", ("where",))
    kind = small_talk.get(replies[0].text) if replies else None
    if kind in POLITE or kind in ("insult", "human"):
        return Outcome("small_talk", (kind,))
    if kind == "off_topic" or any(c == "declined" for c in choices):
        return Outcome("declined")
    return Outcome("not_understood")


@dataclass
class SetReport:
    name: str
    counts: Counter = field(default_factory=Counter)  # right / offered / not_understood / wrong
    by_style: dict[str, Counter] = field(default_factory=dict)
    gaps: Counter = field(default_factory=Counter)
    traps: Counter = field(default_factory=Counter)
    off_topic: Counter = field(default_factory=Counter)
    greetings: Counter = field(default_factory=Counter)
    mistakes: list[str] = field(default_factory=list)

    def text(self) -> str:
        n = sum(self.counts.values())
        lines = [f"== {self.name}"]
        if n:

            def pct(k: str) -> str:
                return f"{self.counts[k]} ({self.counts[k] / n:.1%})"

            lines.append(
                f"in scope {n}: right {pct('right')}, offered {pct('offered')}, "
                f"not understood {pct('not_understood')}, wrong {pct('wrong')}; "
                f"right or offered {(self.counts['right'] + self.counts['offered']) / n:.1%}"
            )
            styles = ", ".join(
                f"{k} {c['right']}/{sum(c.values())} ({c['right'] / sum(c.values()):.0%})"
                for k, c in sorted(self.by_style.items())
            )
            lines.append(f"right by style: {styles}")
        if self.gaps:
            lines.append(
                "no entry in the set (gaps): "
                + ", ".join(f"{k} {v}" for k, v in sorted(self.gaps.items()))
            )
        for title, c in (("near-topic traps", self.traps), ("other off-topic", self.off_topic)):
            if c:
                total = sum(c.values())
                lines.append(
                    f"{title} {total}: answered with a CléA topic {c['answer']}, "
                    f"offered CléA topics {c['offer']}, declined or not understood "
                    f"{c['declined'] + c['not_understood'] + c['small_talk']}"
                )
        out = self.traps + self.off_topic
        if out:
            total = sum(out.values())
            kept = total - out["answer"] - out["offer"]
            lines.append(
                f"out of scope {total}: declined (no CléA answer, no CléA offer) "
                f"{kept} ({kept / total:.1%}); no CléA answer "
                f"{total - out['answer']} ({(total - out['answer']) / total:.1%})"
            )
        if self.greetings:
            lines.append(f"greetings: {self.greetings['ok']}/{sum(self.greetings.values())}")
        if self.mistakes:
            lines += ["mistakes:", *(f"  {m}" for m in self.mistakes)]
        return "\n".join(lines)

    @property
    def right_share(self) -> float:
        n = sum(self.counts.values())
        return self.counts["right"] / n if n else 0.0


def _accepted(item: dict[str, Any]) -> list[str]:
    raw = item.get("accept", item.get("expect"))
    return [str(x) for x in raw] if isinstance(raw, list) else [str(raw)]


def evaluate_set(path: Path, reader: Reader | None = None) -> SetReport:
    reader = reader or Reader()
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    report = SetReport(path.name)
    for item in data.get("in_scope", []):
        accept = _accepted(item)
        got = reader.outcome(item["text"])
        style = item.get("style") or item.get("kind") or "?"
        if accept == ["none"]:
            tolerable = set(item.get("tolerable", []))
            tag = (
                f"answered {got.topics[0]}"
                if got.kind == "answer" and (got.topics[0] in tolerable)
                else got.kind
            )
            report.gaps[tag] += 1
            continue
        if got.kind in ("answer", "place", "small_talk") and got.topics[0] in accept:
            verdict = "right"
        elif got.kind == "offer" and set(got.topics) & set(accept):
            verdict = "offered"
        elif got.kind in ("answer", "place", "small_talk") and got.kind != "small_talk":
            verdict = "wrong"
        else:
            verdict = "not_understood"
        report.counts[verdict] += 1
        report.by_style.setdefault(style, Counter())[verdict] += 1
        if verdict != "right":
            report.mistakes.append(
                f"[{style}] {item['text'][:90]!r}: expected "
                f"{'/'.join(accept)}, {verdict} {','.join(got.topics)}"
            )
    out = data.get("out_of_scope", [])
    if isinstance(out, dict):  # {near_topic: [...], far: [...]}
        out = [
            {"text": t, "trap": group == "near_topic"}
            for group, texts in out.items()
            for t in texts
        ]
    for item in out:
        text = item["text"] if isinstance(item, dict) else item
        trap = isinstance(item, dict) and (item.get("trap") or item.get("kind") == "trap")
        got = reader.outcome(text)
        (report.traps if trap else report.off_topic)[got.kind] += 1
        if got.kind in ("answer", "offer"):
            report.mistakes.append(
                f"[{'trap' if trap else 'off'}] {text[:90]!r}: {got.kind} {','.join(got.topics)}"
            )
    for item in data.get("greetings", []):
        if isinstance(item, str):  # a plain string: any polite reply will do
            item = {"text": item}
        got = reader.outcome(item["text"])
        wanted = {item["expect"]} if item.get("expect") else set(POLITE)
        ok = got.kind == "small_talk" and got.topics[0] in wanted
        report.greetings["ok" if ok else "ko"] += 1
        if not ok:
            report.mistakes.append(
                f"[greeting] {item['text']!r}: {got.kind} {','.join(got.topics)}"
            )
    return report
