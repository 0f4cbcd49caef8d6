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
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from knowledge.normalise import normalise, turn_cache

NEGATIONS = {"pas", "ne", "n", "plus", "jamais", "non"}
SUBJECTS = {"je", "j"}  # a negation before them negates no phrase they start
# "j'ai 30 ans d'expérience": years of work, no age.
_YEARS_OF = (
    r"(?! (?:d experience|d anciennete|de metier|de travail|de carriere|de service|de boite))"
)
_AGE = re.compile(
    r"\b(?:j ai|jai|g|moi|age de|agee? de|j ai bientot|je vais avoir)\s+(\d{2})\s*(?:ans?|age)\b"
    + _YEARS_OF
)
_AGE_ALONE = re.compile(r"^(\d{2})\s*(?:ans?|age)$")  # "45 ans" as the whole message


@dataclass(frozen=True)
class TypedWords:
    """typed.yaml, normalised once."""

    yes: frozenset[str]
    no: frozenset[str]
    ok: frozenset[str]  # acknowledgements: yes at a confirmation only
    politeness: frozenset[str]
    navigation: dict[str, str]  # normalised phrase → action (menu, back, resume, …)


def key(text: str) -> str:
    return normalise(text)


def _strip_politeness(words: TypedWords, text: str) -> str:
    return _without(words.politeness, key(text))


@lru_cache(maxsize=4096)
def phrase_pattern(phrase: str) -> re.Pattern[str]:
    """A phrase as whole words of a folded text, compiled once: phrases come from the
    content (typed.yaml, subjects.yaml), so the cache holds no typed text."""
    return re.compile(rf"(?:^| ){re.escape(phrase)}(?= |$)")


def phrase_at(phrase: str, text: str) -> re.Match[str] | None:
    """Where a phrase stands as whole words in a folded text (None when it does not)."""
    if phrase not in text:  # the pattern can only match where the phrase is
        return None
    return phrase_pattern(phrase).search(text)


@lru_cache(maxsize=8)
def _phrase_patterns(phrases: frozenset[str]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Each phrase with its compiled pattern, longest first (compiled once per word list,
    not once per message)."""
    return tuple(
        (phrase, phrase_pattern(phrase)) for phrase in sorted(phrases, key=len, reverse=True)
    )


@turn_cache
def _without(phrases: frozenset[str], normalised: str) -> str:
    """A normalised text without the given phrases (read three times per message: the
    screen's answer, yes/no, navigation)."""
    out = normalised
    for phrase, pattern in _phrase_patterns(phrases):
        if phrase in out:  # a pattern can only match where its phrase is
            out = pattern.sub(" ", out)
    return " ".join(out.split())


def navigation(words: TypedWords, text: str) -> str | None:
    """'menu', 'back', 'resume', 'restart' or 'help' when the whole message is that word."""
    return words.navigation.get(_strip_politeness(words, text))


def yes_no(words: TypedWords, text: str) -> str | None:
    """'yes', 'no', or 'ok' for an acknowledgement ("ok", "d'accord"), which agrees with a
    confirmation but answers no question about the person."""
    core = _strip_politeness(words, text)
    if core in words.yes:
        return "yes"
    if core in words.no:
        return "no"
    if core in words.ok:
        return "ok"
    return None


def _negated(tokens: list[str], start: int) -> bool:
    """A negation just before the phrase. French negates a verb after its subject ("je ne
    travaille pas"): before "je" a negation answers something else ("non, je travaille")."""
    if tokens[start] in SUBJECTS:
        return False
    return any(t in NEGATIONS for t in tokens[max(0, start - 2) : start])


NEGATIONS_AFTER = {"pas", "plus", "jamais"}
# "plus de 35 heures", "plus que l'an dernier": "plus" as "more", no negation.
MORE_AFTER = {"de", "d", "du", "des", "que", "qu"}
# "jtravaille", "jbosse": "je" fused with its verb in SMS.
_FUSED_SUBJECT = re.compile(r"^j[bcdfghjklmnpqrstvwxz]")


def _negated_after(tokens: list[str], end: int, words: list[str]) -> bool:
    """A negation just after a phrase that starts with its subject: French puts "pas",
    "plus" or "jamais" after the verb ("je travaille plus", "je bosse pas"), and the
    "ne" is often dropped, so the phrase says the opposite."""
    if not words or not (words[0] in SUBJECTS or _FUSED_SUBJECT.match(words[0])):
        return False
    after = tokens[end] if end < len(tokens) else None
    if after not in NEGATIONS_AFTER:
        return False
    return not _means_more(tokens, end)


def _means_more(tokens: list[str], at: int) -> bool:
    """ "plus" at `at` means "more" ("plus de 35 heures"), not "no longer"."""
    return tokens[at : at + 1] == ["plus"] and at + 1 < len(tokens) and tokens[at + 1] in MORE_AFTER


def _close(window: list[str], words: list[str], known: frozenset[str] = frozenset()) -> bool:
    """A typo of the phrase: every word equal, or a long word a letter or two away
    ("chomagee"). Short words must be exact: "je travaille a" is not "je travaille pas",
    "mon diplome" is not "non diplome". A word the question's own phrases use (`known`)
    is never a typo of another one: "trouver" is not "prouver"."""
    if len(window) != len(words):
        return False
    for a, b in zip(window, words, strict=True):
        if a == b:
            continue
        if len(a) < 5 or len(b) < 5 or a in NEGATIONS or b in NEGATIONS or a in known:
            return False
        if fuzz.ratio(a, b) < 80:
            return False
    return True


@dataclass(frozen=True)
class _Phrase:
    """One typed phrase of an option, split once: its words, and those `_close` never
    lets a typo stand for (short words and negations), so the phrase can only be found
    where all of those are among the message's words."""

    index: int  # its rank in the table: phrases of equal length are reported in this order
    option: str
    words: list[str]
    exact: frozenset[str]
    negative: bool  # "pas de diplome": a negation before it does not cancel it


class PhraseTable:
    """The phrases of one question (option id → normalised phrases), prepared once when
    the content is loaded. `find_options` runs several times per typed message; before,
    it split every phrase and gathered the question's vocabulary again on each run, and
    tried every phrase; now only those whose first word (or a typo of it) is in the
    message."""

    def __init__(self, phrases: Mapping[str, tuple[str, ...]]) -> None:
        listed = [(option_id, phrase) for option_id, ps in phrases.items() for phrase in ps]
        self.phrases = tuple(
            _Phrase(
                index,
                option_id,
                phrase.split(),
                _exact_words(phrase.split()),
                phrase.startswith(NEGATIVE_STARTS),
            )
            for index, (option_id, phrase) in enumerate(listed)
        )
        # Every word of the phrases: a typed word among them is meant as written, never as
        # a typo of another.
        self.known = frozenset(w for p in self.phrases for w in p.words)
        # The phrases by first word ("" for an empty phrase), in the table's order.
        self.by_first: dict[str, list[_Phrase]] = {}
        for p in self.phrases:
            self.by_first.setdefault(p.words[0] if p.words else "", []).append(p)
        # The first words a typo may stand for (`_close`: long, not a negation).
        self.long_firsts = tuple(
            sorted(w for w in self.by_first if len(w) >= 5 and w not in NEGATIONS)
        )


NEGATIVE_STARTS = ("pas ", "sans ", "aucun")


def _exact_words(words: list[str]) -> frozenset[str]:
    """The words of a phrase no typo may stand for (`_close`): short ones and negations."""
    return frozenset(w for w in words if len(w) < 5 or w in NEGATIONS)


def find_options(
    phrases: PhraseTable | Mapping[str, tuple[str, ...]], tokens: list[str]
) -> list[tuple[int, int, str]]:
    """(start, length in words, option id) of every phrase found in `tokens` (normalised
    words), longest first; a shorter phrase inside a longer one does not count
    ("je travaille pas" hides "je travaille"); a phrase after a negation does not count
    unless it is itself negative ("pas de diplome"). The engine passes tables prepared
    once (`PhraseTable`); a mapping is prepared on the spot."""
    table = phrases if isinstance(phrases, PhraseTable) else PhraseTable(phrases)
    at: dict[str, list[int]] = {}  # where each word of the message is
    for i, t in enumerate(tokens):
        at.setdefault(t, []).append(i)
    known = table.known
    long_at = [
        i for i, t in enumerate(tokens) if len(t) >= 5 and t not in NEGATIONS and t not in known
    ]
    typos = _typos(table, tokens, long_at)
    # A phrase can only start where its first word is, or a typo of it (`_starts`): only
    # the phrases of those first words are tried.
    firsts = {*at, *typos, ""}
    found: list[tuple[int, int, int, str]] = []  # (-length, phrase index, start, option)
    for first in firsts:
        tried = table.by_first.get(first)
        if not tried:
            continue
        starts = _starts(first, tokens, at, typos)
        for phrase in tried:
            if not phrase.exact <= at.keys():
                continue  # a word that must be typed exactly is not in the message
            words = phrase.words
            n = len(words)
            last = len(tokens) - n
            for i in starts:
                if i > last:
                    break
                window = tokens[i : i + n]
                if (
                    (window == words or _close(window, words, known))
                    and (
                        phrase.negative
                        or not (_negated(tokens, i) or _negated_after(tokens, i + n, words))
                    )
                    and not (words[-1:] == ["plus"] and _means_more(tokens, i + n - 1))
                ):
                    found.append((-n, phrase.index, i, phrase.option))
    # Longest first; phrases of one length in the table's order, each at its starts in order.
    found.sort()
    kept: list[tuple[int, int, str]] = []
    for minus_n, _, start, option_id in found:
        n = -minus_n
        if all(start + n <= s or start >= s + m for s, m, _ in kept):
            kept.append((start, n, option_id))
    return kept


def _typos(table: PhraseTable, tokens: list[str], long_at: list[int]) -> dict[str, list[int]]:
    """For each long first word of the table's phrases, where in the message a word stands
    that `_close` may accept as a typo of it (another word at least 80 % like it), in
    order. One fuzzy search per long word of the message over the table's first words
    (rapidfuzz, in C), with a cut-off a point lower, then the exact test of `_close`: the
    same positions as comparing every pair one by one."""
    found: dict[str, list[int]] = {}
    for i in long_at:
        token = tokens[i]
        near = process.extract(
            token, table.long_firsts, scorer=fuzz.ratio, score_cutoff=79, limit=None
        )
        for first, _, _ in near:
            if first != token and fuzz.ratio(token, first) >= 80:
                found.setdefault(first, []).append(i)
    return found


def _starts(
    first: str, tokens: list[str], at: dict[str, list[int]], typos: dict[str, list[int]]
) -> list[int] | range:
    """Where in the message a phrase starting with `first` may start, in order: where
    that word is, or, for a long word, where `_close` may accept a typo of it (`_typos`).
    Every other start fails `_close` on the first word: skipping them changes nothing
    found. An empty phrase ("") may start anywhere."""
    if not first:
        return range(len(tokens) + 1)
    if first not in typos:
        return at.get(first, [])
    return sorted([*at.get(first, []), *typos[first]])


def decide(
    kept: list[tuple[int, int, str]], over: Mapping[str, frozenset[str]] | None = None
) -> str | None:
    """One option from the phrases found: the only one. Phrases of two options in one
    message ("jsp lire, c'est pas mon fort": "je sais pas lire" and "pas mon fort") say
    two things: no option (the question comes again), never the one of the longer phrase.
    A phrase inside a longer one was already left out (`find_options`). An option that
    wins over the others found (`over`, fit.yaml: "un master en Ukraine" is a diploma
    from another country) is that option."""
    options = {option_id for _, _, option_id in kept}
    if len(options) == 1:
        return options.pop()
    for option in sorted(options):
        if options - {option} <= (over or {}).get(option, frozenset()):
            return option
    return None


def age(text: str) -> int | None:
    """'j'ai 19 ans', 'moi 45 ans', '45 ans' alone → the age (from 14 to 99 only)."""
    norm = key(text)
    m = _AGE.search(norm) or _AGE_ALONE.match(norm)
    if not m:
        return None
    value = int(m.group(1))
    return value if 14 <= value <= 99 else None
