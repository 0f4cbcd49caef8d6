"""Match a free-text question, typed as real users type, to a FAQ entry.

The text is read as knowledge/normalise.py folds it. The matching itself is the learned
model of knowledge/faq_model.py, trained at build time on faq.yaml's examples; nothing is
downloaded or trained at run time. A message of several clauses is also read by its
question part (`question_part`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from knowledge.faq_model import FaqModel
from knowledge.model import FaqEntry, Knowledge
from knowledge.normalise import MAX_CHARS, normalise, turn_cache

POLITENESS = {"greeting", "thanks", "bye"}
ALSO_MIN = 0.1  # a topic a long message also touches, offered under its answer
OFF_TOPIC = "off_topic"  # small-talk key of messages about something else


@dataclass(frozen=True)
class Match:
    """kind: 'faq' (entry set), a small-talk key such as 'greeting', 'unsure' (not sure
    enough to answer: `suggestions` holds the closest entries) or 'none'."""

    kind: str
    entry: FaqEntry | None
    score: float
    suggestions: tuple[FaqEntry, ...] = ()
    # With an answer to a message of several clauses: the other topics it also touches,
    # offered under the answer ("Vous parlez aussi de…").
    also: tuple[FaqEntry, ...] = ()


_SENTENCES = re.compile(r"(?<=[.!?;\n])")
_CLAUSE_SEP = re.compile(r"[,:]+")
# Words that make a clause a question even without "?" (normalised text).
_QUESTION_CUES = re.compile(
    r"\b(?:est ce qu|combien|comment|pourquoi|quand|qui|quel|quelle|quels|quelles|lieu|"
    r"je me demand\w*|savoir si|peut on|puis je|faut il|est il|y a t il|prix|duree|"
    r"possible|quoi)\b"
)
# A clause made only of these says hello or goodbye and nothing else.
_EMPTY_WORDS = frozenset("bonjour salut bonsoir coucou hello voila cordialement".split())
LONG_WORDS = 18  # normalised words of a dictated message read again by its end
QUESTION_MIN_WORDS = 8  # a shorter question clause is read with the clauses before it


def _clauses(text: str) -> list[tuple[str, bool]]:
    """(clause, asks something) for each clause of a message, in order. Clauses left
    empty once letter formulas are removed ("Madame, Monsieur", "Bien cordialement", "Je
    vous remercie par avance de votre réponse") and bare greetings are dropped."""
    out = []
    for sentence in _SENTENCES.split(text[:MAX_CHARS]):
        asks = sentence.strip().endswith("?")
        for clause in _CLAUSE_SEP.split(sentence):
            clause = clause.strip(" .!?;\n")
            norm = normalise(clause)
            if not any(c.isalpha() for c in norm) or set(norm.split()) <= _EMPTY_WORDS:
                continue
            out.append((clause, asks or bool(_QUESTION_CUES.search(norm))))
    return out


@turn_cache  # read up to three times per message (probabilities, threshold, also)
def question_part(text: str) -> str | None:
    """The question of a message of several clauses: its last clause that asks something
    (ends a sentence with "?" or holds a question word), with the clauses just before it
    while it is short; the last clause when none asks. A long message without punctuation
    (dictated) gives its last 12 words. None for a short single clause.

    People tell their story first ("j'ai 47 ans, je travaille en cuisine depuis…") and
    letters wrap the question in formulas: the question part is what they want to know."""
    clauses = _clauses(text)
    if len(clauses) < 2:
        words = text[:MAX_CHARS].split()
        long = len(normalise(text).split()) > LONG_WORDS and len(words) > 12
        return " ".join(words[-12:]) if long else None
    asking = [i for i, (_, asks) in enumerate(clauses) if asks]
    i = asking[-1] if asking else len(clauses) - 1
    part = clauses[i][0]
    while len(part.split()) < QUESTION_MIN_WORDS and i > 0:
        i -= 1
        part = f"{clauses[i][0]}, {part}"
    return part


def read_probabilities(model: FaqModel, text: str) -> np.ndarray:
    """The model's probabilities for a message; for a message of several clauses, those of
    the whole or of its question part (`question_part`), whichever is more decisive: the
    context or a letter's formulas alone must not outweigh the question. The answering
    threshold is chosen on this same reading (bench/faq_training.py)."""
    p = model.probabilities(text)
    part = question_part(text)
    if part is None:
        return p
    asked = model.probabilities(part)
    return asked if model.confidence(asked) > model.confidence(p) else p


def answering_threshold(model: FaqModel, text: str) -> float:
    """The confidence a message needs to be answered. A message of several clauses (a
    story, then the question; a letter) spreads its probability over the topics its story
    touches, so the top topic leads by less even when it is the right one: such messages
    have their own threshold (`long_threshold`), chosen on the long messages and letters
    of the tuning sets (bench/faq_training.choose_thresholds), never on a measuring set.
    The answer then offers the other topics the message touches ("Vous parlez aussi de…")."""
    return model.long_threshold if question_part(text) is not None else model.threshold


class FaqMatcher:
    """Built once from the knowledge and the shipped weights; `match` is pure and fast.

    The learned model (knowledge.faq_model) gives one probability per topic. At or above
    its threshold the top topic answers; below, when the three best FAQ topics together
    are likely enough, they are offered as buttons ("Vouliez-vous parler de…"); otherwise
    the message is not understood. A wrong answer is worse than "je ne sais pas" for the
    people this bot serves: the thresholds are chosen with that cost (see `make train`).
    """

    def __init__(self, knowledge: Knowledge, model: FaqModel | None = None):
        self.model = model or FaqModel.load()
        self.entries = knowledge.faq
        self.by_id = {e.id: e for e in self.entries}
        self.labels = self.model.labels
        self.small_talk = set(knowledge.small_talk)

    def probabilities(self, text: str) -> np.ndarray:
        """The model's probabilities as the message is read (`read_probabilities`)."""
        return read_probabilities(self.model, text)

    def ranked(self, text: str, n: int = 3) -> tuple[FaqEntry, ...]:
        """The `n` FAQ entries closest to the message, most likely first."""
        p = self.probabilities(text)
        order = np.argsort(-p)
        return tuple(self.by_id[self.labels[i]] for i in order if self.labels[i] in self.by_id)[:n]

    def match(self, text: str) -> Match:
        norm = normalise(text)
        if not norm or not any(c.isalpha() for c in norm):
            return Match("none", None, 0.0)
        p = self.probabilities(text)
        order = np.argsort(-p)
        top, p_top = self.labels[order[0]], float(p[order[0]])
        faq_ranked = [(self.labels[i], float(p[i])) for i in order if self.labels[i] in self.by_id][
            :3
        ]
        suggestions = tuple(self.by_id[label] for label, q in faq_ranked if q >= 0.05)
        if top == OFF_TOPIC:
            return Match("none", None, p_top)
        # "Bonjour, c'est payant ?" is a question: politeness only wins in a short message.
        if top in POLITENESS and len(norm.split()) > 4 and faq_ranked and (faq_ranked[0][1] >= 0.2):
            top, p_top = faq_ranked[0]
            return Match("faq", self.by_id[top], p_top)
        threshold = answering_threshold(self.model, text)
        if self.model.confidence(p) >= threshold:
            if top in self.by_id:
                also: tuple[FaqEntry, ...] = ()
                if question_part(text) is not None:
                    also = tuple(self.by_id[label] for label, q in faq_ranked[1:] if q >= ALSO_MIN)
                return Match("faq", self.by_id[top], p_top, also=also)
            if top in self.small_talk:
                return Match(top, None, p_top)
        if sum(q for _, q in faq_ranked) >= self.model.suggest_threshold and suggestions:
            return Match("unsure", None, p_top, suggestions)
        return Match("none", None, p_top)
