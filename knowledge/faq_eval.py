"""Measure the free-text matcher on the evaluation set (tests/data/faq_eval.yaml).

    python -m knowledge.faq_eval        or        clea-bot eval

Prints top-1 accuracy on in-scope messages, the share of out-of-scope messages sent to
the "not understood" path, the mistakes, and the time per message.
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from knowledge.faq import FaqMatcher, Match
from knowledge.loader import load

DATA_DIR = Path(__file__).resolve().parent.parent / "tests" / "data"
EVAL_FILE = DATA_DIR / "faq_eval.yaml"  # used while tuning: the thresholds are tested on it
HOLDOUT_FILE = DATA_DIR / "faq_holdout.yaml"  # written after tuning, then consulted: tainted
FRESH_FILE = DATA_DIR / "faq_fresh.yaml"  # written last, never used to tune anything
SETS = [("évaluation (seuils testés)", EVAL_FILE),
        ("contrôle 1 (consulté pendant le réglage)", HOLDOUT_FILE),
        ("contrôle 2 (écrit en dernier, jamais utilisé pour régler)", FRESH_FILE)]


@dataclass
class Report:
    in_scope: int
    correct: int
    not_understood: int  # in-scope messages that got "not understood" (the safe failure)
    out_of_scope: int
    rejected: int
    mistakes: list[str]
    per_message_us: float
    build_ms: float

    @property
    def accuracy(self) -> float:
        return self.correct / self.in_scope

    @property
    def rejection(self) -> float:
        return self.rejected / self.out_of_scope

    def text(self) -> str:
        wrong = self.in_scope - self.correct - self.not_understood
        lines = [
            f"in scope:     {self.correct}/{self.in_scope} top-1 = {self.accuracy:.1%} "
            f"(not understood {self.not_understood}, wrong answer {wrong})",
            f"out of scope: {self.rejected}/{self.out_of_scope} rejected = {self.rejection:.1%}",
            f"index built in {self.build_ms:.0f} ms; {self.per_message_us:.0f} µs per message",
        ]
        if self.mistakes:
            lines.append("mistakes:")
            lines.extend(f"  {m}" for m in self.mistakes)
        return "\n".join(lines)


def label(match: Match) -> str:
    if match.kind == "faq" and match.entry is not None:
        return match.entry.id
    return match.kind


def evaluate(eval_file: Path = EVAL_FILE, matcher: FaqMatcher | None = None) -> Report:
    started = time.perf_counter()
    matcher = matcher or FaqMatcher(load())
    build_ms = (time.perf_counter() - started) * 1000
    data = yaml.safe_load(eval_file.read_text(encoding="utf-8"))
    mistakes, correct, rejected, missed, timings = [], 0, 0, 0, []
    for item in data["in_scope"]:
        t = time.perf_counter()
        got = label(matcher.match(item["text"]))
        timings.append(time.perf_counter() - t)
        if got == item["expect"]:
            correct += 1
        else:
            missed += got == "none"
            mistakes.append(f"{item['text']!r}: expected {item['expect']}, got {got}")
    for text in data["out_of_scope"]:
        t = time.perf_counter()
        match = matcher.match(text)
        timings.append(time.perf_counter() - t)
        if match.kind == "none":
            rejected += 1
        else:
            mistakes.append(f"{text!r}: out of scope, got {label(match)} ({match.score:.2f})")
    return Report(len(data["in_scope"]), correct, missed, len(data["out_of_scope"]), rejected,
                  mistakes, statistics.mean(timings) * 1e6, build_ms)


def main() -> int:
    report = evaluate()
    print(report.text())
    return 0 if report.accuracy >= 0.9 and report.rejection >= 0.9 else 1


if __name__ == "__main__":
    sys.exit(main())
