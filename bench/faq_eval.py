"""Measure the free-text matcher on the evaluation sets of tests/data (a dev tool: the
sets live in the repository, not in the installed package).

    make eval        (python -m bench.faq_eval)
    python -m bench.faq_eval --set PATH [--set PATH…]   (a set kept outside the project,
                     measured through the dialogue: see bench/dialogue_eval.py)

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
# Control set 3: written before this turn's matcher work, never tuned on (see its header).
CONTROL_FILE = DATA_DIR / "faq_control3.yaml"
SETS = [
    ("évaluation (seuils testés)", EVAL_FILE),
    ("contrôle 1 (consulté pendant le réglage)", HOLDOUT_FILE),
    ("contrôle 2 (écrit en dernier, jamais utilisé pour régler)", FRESH_FILE),
]


def with_mistakes(lines: list[str], mistakes: list[str]) -> str:
    """A report's lines, then its mistakes one per line."""
    if mistakes:
        lines = [*lines, "mistakes:", *(f"  {m}" for m in mistakes)]
    return "\n".join(lines)


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
        return with_mistakes(lines, self.mistakes)


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
            missed += got in ("none", "unsure")
            mistakes.append(f"{item['text']!r}: expected {item['expect']}, got {got}")
    for text in data["out_of_scope"]:
        t = time.perf_counter()
        match = matcher.match(text)
        timings.append(time.perf_counter() - t)
        if match.kind != "faq":  # not answered as if it were about CléA
            rejected += 1
        else:
            mistakes.append(f"{text!r}: out of scope, got {label(match)} ({match.score:.2f})")
    return Report(
        len(data["in_scope"]),
        correct,
        missed,
        len(data["out_of_scope"]),
        rejected,
        mistakes,
        statistics.mean(timings) * 1e6,
        build_ms,
    )


@dataclass
class ControlReport:
    """right / not understood / wrong on in-scope messages; off-topic rejected."""

    right: int
    not_understood: int
    wrong: int
    off_topic: int
    off_topic_rejected: int
    by_kind: dict[str, tuple[int, int]]  # kind → (right, total)
    mistakes: list[str]

    @property
    def in_scope(self) -> int:
        return self.right + self.not_understood + self.wrong

    def text(self) -> str:
        n = self.in_scope
        kinds = ", ".join(f"{k} {r}/{t}" for k, (r, t) in sorted(self.by_kind.items()))
        lines = [
            f"in scope {n}: right {self.right} ({self.right / n:.1%}), not understood "
            f"{self.not_understood} ({self.not_understood / n:.1%}), wrong {self.wrong} "
            f"({self.wrong / n:.1%})",
            f"off-topic {self.off_topic}: rejected {self.off_topic_rejected} "
            f"({self.off_topic_rejected / self.off_topic:.1%})",
            f"by kind: {kinds}",
        ]
        return with_mistakes(lines, self.mistakes)


def evaluate_control(path: Path = CONTROL_FILE, matcher: FaqMatcher | None = None) -> ControlReport:
    """A reply that is not a FAQ answer (not understood, off-topic notice) counts as the
    safe failure; a FAQ answer on the wrong topic, or to an off-topic message, is wrong."""
    matcher = matcher or FaqMatcher(load())
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    right = unsure = wrong = rejected = 0
    by_kind: dict[str, tuple[int, int]] = {}
    mistakes = []
    for item in data["in_scope"]:
        expect = item["expect"] if isinstance(item["expect"], list) else [item["expect"]]
        match = matcher.match(item["text"])
        got = label(match)
        ok = got in expect
        r, t = by_kind.get(item["kind"], (0, 0))
        by_kind[item["kind"]] = (r + ok, t + 1)
        if ok:
            right += 1
        elif match.kind in ("none", "off_topic", "unsure"):
            unsure += 1
            mistakes.append(f"{item['text']!r}: expected {'/'.join(expect)}, not understood")
        else:
            wrong += 1
            mistakes.append(f"{item['text']!r}: expected {'/'.join(expect)}, WRONG {got}")
    for text in data["out_of_scope"]:
        match = matcher.match(text)
        if match.kind != "faq":
            rejected += 1
        else:
            mistakes.append(f"{text!r}: off-topic, answered {label(match)}")
    return ControlReport(
        right, unsure, wrong, len(data["out_of_scope"]), rejected, by_kind, mistakes
    )


def main(argv: list[str] | None = None) -> int:
    """Every set; exit 1 when the evaluation set falls under 90 % (accuracy or rejection).
    With `--set PATH`: only those sets, through the dialogue (bench/dialogue_eval.py)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.faq_eval")
    parser.add_argument(
        "--set",
        dest="sets",
        action="append",
        type=Path,
        default=[],
        help="a set file (e.g. questions-dev.yaml), measured through the dialogue; may be repeated",
    )
    args = parser.parse_args(argv)
    if args.sets:
        from bench.dialogue_eval import Reader, evaluate_set

        reader = Reader()
        for path in args.sets:
            print(evaluate_set(path, reader).text() + "\n")
        return 0
    code = 0
    for name, path in SETS:
        report = evaluate(path)
        print(f"== {name} : {path.name}\n{report.text()}\n")
        if path == EVAL_FILE and (report.accuracy < 0.9 or report.rejection < 0.9):
            code = 1
    print(
        f"== contrôle 3 (écrit avant le travail sur le moteur) : {CONTROL_FILE.name}\n"
        f"{evaluate_control().text()}"
    )
    return code


if __name__ == "__main__":
    sys.exit(main())
