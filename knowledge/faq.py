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
from knowledge.normalise import MAX_CHARS, normalise, sms_fold, turn_cache

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
_CLAUSE_SEP = re.compile(r"[,:()]+")
# Words that make a clause a question even without "?" (normalised text).
_QUESTION_CUES = re.compile(
    r"\b(?:est ce qu|combien|comment|pourquoi|quand|qui|quel|quelle|quels|quelles|lieu|"
    r"je me demand\w*|savoir si|peut on|puis je|faut il|est il|y a t il|prix|duree|"
    r"possible|quoi)\b"
)
# Where a question starts, read on the text before letter formulas are removed: "est-ce
# que", "combien", "je voudrais savoir si", "pourriez-vous", "je me permets de vous
# demander si"… ("qui", "quand", "quoi" also start relative clauses: weaker, see above).
_QUESTION_STARTS = re.compile(
    r"\b(?:est ce qu|combien|comment|pourquoi|quel|quelle|quels|quelles|je me demand\w*|"
    r"(?:savoir|demander|dire) (?:si|s il|s ils|comment|combien|quand|qui|ou|pourquoi|quel\w*|"
    r"ce qu\w*)|connaitre|(?:pourriez|pouvez|pourrez|pourrais|pouvais) vous|"
    r"vous pouvez|vous pourriez|"
    r"tu peux|existe t il|y a t il|peut on|puis je|faut il|dois je|est il|est elle|"
    r"a t on|va t on|ai je|suis je|ou (?:si|s il|s ils|bien))\b"
)
# A clause that only closes a letter or thanks ("Je vous remercie de l'attention portée à
# ma demande", "Avec mes remerciements", "Dans l'attente de votre retour"): not a question.
_CLOSING = re.compile(
    r"^(?:je vous (?:en )?remercie|en vous remerciant|avec (?:tous )?mes remerciements|"
    r"merci|dans l attente|je reste a votre disposition|bonne (?:journee|soiree)|"
    r"(?:bien |tres )?cordialement|respectueusement|salutations|sinceres salutations|"
    r"veuillez agreer|je vous prie d agreer|bien a vous)\b"
)
# A clause made only of these says hello or goodbye and nothing else.
_EMPTY_WORDS = frozenset("bonjour salut bonsoir coucou hello voila cordialement".split())
LONG_WORDS = 18  # normalised words of a dictated message read again by its end
QUESTION_MIN_WORDS = 8  # a shorter question clause is read with the clauses before it


def asks(text: str) -> bool:
    """Whether a message asks something: a "?", or a word that opens a question, also
    where no "?" is typed ("je me demande si à mon âge ça vaut le coup", "je voudrais
    savoir combien…", "pouvez-vous m'aider"). A story that ends this way is a question,
    not a statement about oneself."""
    return "?" in text or bool(_QUESTION_STARTS.search(sms_fold(text)))


@dataclass(frozen=True)
class _Clause:
    text: str
    sentence: int  # index of its sentence in the message
    asks: bool  # ends a sentence with "?" or holds a question word
    starts_question: bool  # holds a word that opens a question ("est-ce que", "combien"…)
    marked: bool  # its sentence ends with "?"


def _clauses(text: str) -> list[_Clause]:
    """The clauses of a message, in order. Clauses left empty once letter formulas are
    removed ("Madame, Monsieur", "Bien cordialement"), closing lines ("Je vous remercie de
    l'attention portée à ma demande") and bare greetings are dropped, and so is a
    signature after a closing word ("Cordialement, Mme Benali")."""
    out = []
    closed = False  # a closing word was seen: what follows without asking is a signature
    for n, sentence in enumerate(_SENTENCES.split(text[-MAX_CHARS:])):
        asks = sentence.strip().endswith("?")
        for clause in _CLAUSE_SEP.split(sentence):
            clause = clause.strip(" .!?;\n")
            plain = sms_fold(clause)
            if _CLOSING.search(plain):
                closed = True
                continue
            norm = normalise(clause)
            if not any(c.isalpha() for c in norm) or set(norm.split()) <= _EMPTY_WORDS:
                continue
            starts = bool(_QUESTION_STARTS.search(plain))
            if closed and not (asks or starts):
                continue
            cued = bool(_QUESTION_CUES.search(norm))
            out.append(_Clause(clause, n, asks or starts or cued, starts, asks))
    return out


@turn_cache  # read up to three times per message (probabilities, threshold, also)
def question_part(text: str) -> str | None:
    """The question of a message of several clauses, None for a short single clause.

    People tell their story first ("j'ai 47 ans, je travaille en cuisine depuis…") and
    letters wrap the question in formulas: the question part is what they want to know.
    It is the last clause that asks (ends a sentence with "?" or holds a question word),
    read from the first clause of its sentence that opens a question ("est-ce que",
    "combien", "je voudrais savoir si", "pourriez-vous"…), closing formulas left out; what
    follows it ("…, sachant que je paie avec mon CPF") is context. A short one is read
    with the clauses just before it. A long message without
    punctuation (dictated) gives its last 12 words."""
    clauses = _clauses(text)
    if len(clauses) < 2:
        words = text[-MAX_CHARS:].split()
        long = len(normalise(text).split()) > LONG_WORDS and len(words) > 12
        return " ".join(words[-12:]) if long else None
    asking = [i for i, c in enumerate(clauses) if c.asks]
    last = asking[-1] if asking else len(clauses) - 1
    sentence = [i for i, c in enumerate(clauses) if c.sentence == clauses[last].sentence]
    opens = [i for i in sentence if clauses[i].starts_question]
    i = opens[0] if opens else last
    if opens:  # up to its last clause with a "?" or a question opener, not a topic word
        last = max(j for j in sentence if clauses[j].starts_question or clauses[j].marked)
    part = ", ".join(c.text for c in clauses[i : last + 1])
    while len(part.split()) < QUESTION_MIN_WORDS and i > 0:
        i -= 1
        part = f"{clauses[i].text}, {part}"
    return part


@dataclass(frozen=True)
class Reading:
    """How the model reads a message. `p`: the probabilities acted on; `regime`: "short"
    (one clause), "long" (several clauses whose whole and question part point to the same
    topic) or "conflict" (they point to different topics); `other`: in a conflict, the
    probabilities of the reading not acted on (its topic is offered too)."""

    p: np.ndarray
    regime: str
    confidence: float  # compared with the regime's answering threshold
    other: np.ndarray | None = None


def read(model: FaqModel, text: str) -> Reading:
    """The model's reading of a message. A message of several clauses is read whole and
    by its question part (`question_part`), and the more decisive of the two is acted on:
    the context or a letter's formulas alone must not outweigh the question, and a short
    question must not lose the story it refers to. When the two point to different topics
    (a "conflict"), the answer needs more confidence (`answering_threshold`) and the other
    reading's topic is offered as well. The thresholds are chosen on this same reading
    (bench/faq_training.py)."""
    whole = model.probabilities(text)
    part = question_part(text)
    if part is None:
        return Reading(whole, "short", model.confidence(whole))
    asked = model.probabilities(part)
    p, other = (
        (asked, whole) if model.confidence(asked) > model.confidence(whole) else (whole, asked)
    )
    if int(np.argmax(asked)) == int(np.argmax(whole)):
        return Reading(p, "long", model.confidence(p))
    return Reading(p, "conflict", model.confidence(p), other)


def read_probabilities(model: FaqModel, text: str) -> np.ndarray:
    """The probabilities acted on for a message (`read`)."""
    return read(model, text).p


def regime(model: FaqModel, text: str) -> str:
    """How a message is read, for its answering threshold (`read`): "short", "long" or
    "conflict" (the whole message and its question part disagree: the story says one
    thing and the question another, or the question alone lacks what it refers to, "c'est
    la même chose ?")."""
    return read(model, text).regime


def answering_threshold(model: FaqModel, text: str) -> float:
    """The confidence a message needs to be answered. A message of several clauses (a
    story, then the question; a letter) spreads its probability over the topics its story
    touches, so the top topic leads by less even when it is the right one: such messages
    have their own threshold (`long_threshold`). When its whole and its question part
    disagree on the topic, the two readings contradict each other and a confident-looking
    answer is often wrong: it needs `conflict_threshold`. Each threshold is chosen on its
    own messages of the tuning sets (bench/faq_training.choose_threshold), never on a
    measuring set. The answer then offers the other topics the message touches ("Vous
    parlez aussi de…")."""
    return _threshold(model, read(model, text).regime)


def _threshold(model: FaqModel, kind: str) -> float:
    if kind == "short":
        return model.threshold
    return model.long_threshold if kind == "long" else model.conflict_threshold


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
        """How the message is answered (`_match_once`: read once per turn)."""
        return _match_once(self, text)

    def _match(self, text: str) -> Match:
        norm = normalise(text)
        if not norm or not any(c.isalpha() for c in norm):
            return Match("none", None, 0.0)
        reading = read(self.model, text)
        p = reading.p
        order = np.argsort(-p)
        top, p_top = self.labels[order[0]], float(p[order[0]])
        faq_ranked = self._faq_ranked(p)
        # A conflict: the other reading's best topic is offered too, right after this one's.
        if reading.other is not None:
            faq_ranked = _merged(faq_ranked, self._faq_ranked(reading.other))
        suggestions = tuple(self.by_id[label] for label, q in faq_ranked if q >= 0.05)
        if top == OFF_TOPIC:
            return Match("none", None, p_top)
        # "Bonjour, c'est payant ?" is a question: politeness only wins in a short message.
        if top in POLITENESS and len(norm.split()) > 4 and faq_ranked and (faq_ranked[0][1] >= 0.2):
            top, p_top = faq_ranked[0]
            return Match("faq", self.by_id[top], p_top)
        threshold = _threshold(self.model, reading.regime)
        # Two confident readings that disagree: the message has two subjects (a story
        # about a disability, a question about where to go). Both are offered.
        two_subjects = (
            reading.other is not None and self.model.confidence(reading.other) >= threshold
        )
        confidence = reading.confidence
        if top in POLITENESS:  # hello, thanks and goodbye: one family of polite replies
            polite = [i for i, label in enumerate(self.labels) if label in POLITENESS]
            rest = max(float(q) for i, q in enumerate(p) if i not in polite)
            confidence = max(confidence, float(p[polite].sum()) - rest)
        if confidence >= threshold and not two_subjects:
            if top in self.by_id:
                also: tuple[FaqEntry, ...] = ()
                if reading.regime != "short":
                    also = tuple(
                        self.by_id[label]
                        for label, q in faq_ranked
                        if q >= ALSO_MIN and label != top
                    )
                return Match("faq", self.by_id[top], p_top, also=also)
            if top in self.small_talk:
                return Match(top, None, p_top)
        if sum(q for _, q in faq_ranked) >= self.model.suggest_threshold and suggestions:
            return Match("unsure", None, p_top, suggestions)
        return Match("none", None, p_top)

    def _faq_ranked(self, p: np.ndarray) -> list[tuple[str, float]]:
        """The three most likely FAQ topics of a reading, with their probabilities."""
        ranked: list[tuple[str, float]] = []
        for i in np.argsort(-p):
            if self.labels[i] in self.by_id:
                ranked.append((self.labels[i], float(p[i])))
                if len(ranked) == 3:  # the rest would be cut: not read
                    break
        return ranked


@turn_cache
def _match_once(matcher: FaqMatcher, text: str) -> Match:
    """A message's match, computed once per turn: the reading and the answer it chooses
    both ask for it (dialogs/reading.py, dialogs/answers.py). A `Match` is immutable."""
    return matcher._match(text)


def _merged(
    mine: list[tuple[str, float]], other: list[tuple[str, float]]
) -> list[tuple[str, float]]:
    """Three topics: this reading's best, the other reading's best, then this reading's
    next ones (each topic once)."""
    out: list[tuple[str, float]] = []
    for label, q in [*mine[:1], *other[:1], *mine[1:]]:
        if label not in (seen for seen, _ in out):
            out.append((label, q))
    return out[:3]
