"""Typed answers: what people write instead of tapping a button, read in context.

A screen that expects an answer ("Quelle est votre situation ?") first looks for one of its
options' typed phrases (fit.yaml) in the message, before the message is treated as a
question. Yes/no and navigation words (typed.yaml) work the same way. Texts and phrases go
through the FAQ's normalisation (accents, SMS spellings, synonyms), so "chui au chomdu"
and "Je suis au chômage" read alike; a phrase preceded by a negation ("je ne suis pas au
chômage") does not count; near-misses of longer phrases are accepted ("chomagee").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz

from knowledge.normalise import normalise

NEGATIONS = {"pas", "ne", "n", "plus", "jamais", "non"}
_AGE = re.compile(r"\b(?:j ai|jai|g|age de|agee? de)\s+(\d{2})\s*(?:ans?|age)\b")


@dataclass(frozen=True)
class TypedWords:
    """typed.yaml, normalised once."""

    yes: frozenset[str]
    no: frozenset[str]
    politeness: frozenset[str]
    navigation: dict[str, str]  # normalised phrase → action (menu, back, resume, …)


def key(text: str) -> str:
    return normalise(text)


def _strip_politeness(words: TypedWords, text: str) -> str:
    out = key(text)
    for phrase in sorted(words.politeness, key=len, reverse=True):
        out = re.sub(rf"(?:^| ){re.escape(phrase)}(?= |$)", " ", out)
    return " ".join(out.split())


def navigation(words: TypedWords, text: str) -> str | None:
    """'menu', 'back', 'resume', 'restart' or 'help' when the whole message is that word."""
    return words.navigation.get(_strip_politeness(words, text))


def yes_no(words: TypedWords, text: str) -> str | None:
    core = _strip_politeness(words, text)
    if core in words.yes:
        return "yes"
    if core in words.no:
        return "no"
    return None


def _negated(tokens: list[str], start: int) -> bool:
    return any(t in NEGATIONS for t in tokens[max(0, start - 2) : start])


def _close(window: list[str], words: list[str]) -> bool:
    """A typo of the phrase: every word equal, or a long word a letter or two away
    ("chomagee"). Short words must be exact: "je travaille a" is not "je travaille pas",
    "mon diplome" is not "non diplome"."""
    if len(window) != len(words):
        return False
    for a, b in zip(window, words, strict=True):
        if a == b:
            continue
        if len(a) < 5 or len(b) < 5 or a in NEGATIONS or b in NEGATIONS:
            return False
        if fuzz.ratio(a, b) < 80:
            return False
    return True


def find_options(
    phrases: dict[str, tuple[str, ...]], tokens: list[str]
) -> list[tuple[int, int, str]]:
    """(start, length in words, option id) of every phrase found in `tokens` (normalised
    words), longest first; a shorter phrase inside a longer one does not count
    ("je travaille pas" hides "je travaille"); a phrase after a negation does not count
    unless it is itself negative ("pas de diplome")."""
    found: list[tuple[int, int, str]] = []
    for option_id, option_phrases in phrases.items():
        for phrase in option_phrases:
            words = phrase.split()
            n = len(words)
            for i in range(len(tokens) - n + 1):
                window = tokens[i : i + n]
                if (window == words or _close(window, words)) and (
                    phrase.startswith(("pas ", "sans ", "aucun")) or not _negated(tokens, i)
                ):
                    found.append((i, n, option_id))
    found.sort(key=lambda f: -f[1])
    kept: list[tuple[int, int, str]] = []
    for start, n, option_id in found:
        if all(start + n <= s or start >= s + m for s, m, _ in kept):
            kept.append((start, n, option_id))
    return kept


def decide(kept: list[tuple[int, int, str]]) -> str | None:
    """One option from the phrases found: the only one, or the one of the longest phrase."""
    if not kept:
        return None
    options = {option_id for _, _, option_id in kept}
    if len(options) == 1:
        return options.pop()
    longest = kept[0][1]
    best = {option_id for _, n, option_id in kept if n == longest}
    return best.pop() if len(best) == 1 else None


def age(text: str) -> int | None:
    """'j'ai 19 ans' → 19 (ages from 14 to 99 only)."""
    m = _AGE.search(key(text))
    if not m:
        return None
    value = int(m.group(1))
    return value if 14 <= value <= 99 else None
