"""Match a free-text question, typed as real users type, to a FAQ entry.

Pipeline: fold accents and case → expand SMS spellings → drop French stop words → Snowball
stems → typo repair against the vocabulary → TF-IDF cosine against every example, blended
with a fuzzy whole-string score (rapidfuzz). The index is built once at start-up from the
examples in faq.yaml; nothing is downloaded at run time.

The score is calibrated so that `threshold` separates "understood" from "not understood"
on the evaluation set in tests/data (see `knowledge.faq_eval`).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer
from rapidfuzz import fuzz, process

from knowledge.model import FaqEntry, Knowledge
from knowledge.text import fold

MAX_CHARS = 500  # longer messages are cut before matching: the question is near the start
UNKNOWN_WEIGHT = 1.3  # weight of a word the examples never use, relative to the rarest known word

# SMS and phonetic spellings seen in real messages, folded (no accents).
SMS = {
    "koi": "quoi", "kwa": "quoi", "qoi": "quoi", "c": "c est", "cest": "c est", "ces": "c est",
    "pr": "pour", "pk": "pourquoi", "pq": "pourquoi", "pkoi": "pourquoi", "pourkoi": "pourquoi",
    "jsui": "je suis", "jsuis": "je suis", "chui": "je suis", "chuis": "je suis",
    "jss": "je suis", "suis": "suis", "jai": "j ai", "g": "j ai", "jpeux": "je peux",
    "jpe": "je peux", "jveux": "je veux", "jve": "je veux", "jsp": "je ne sais pas",
    "cb": "combien", "cbien": "combien", "combi1": "combien", "qd": "quand", "kan": "quand",
    "ke": "que", "ki": "qui", "kel": "quel", "kelle": "quelle", "ds": "dans", "dc": "donc",
    "tt": "tout", "bcp": "beaucoup", "ya": "il y a", "yen": "il y en", "mm": "meme",
    "slt": "salut", "bjr": "bonjour", "bsr": "bonsoir", "cc": "coucou", "mrc": "merci",
    "mci": "merci", "msi": "merci", "dac": "d accord", "ok": "ok", "stp": "", "svp": "",
    "vs": "vous", "ns": "nous", "pa": "pas", "pat": "pas", "oci": "aussi", "ossi": "aussi",
    "tafe": "travail", "taf": "travail", "boulot": "travail", "job": "emploi",
    "chomdu": "chomage", "chomeur": "chomage", "chomeuse": "chomage", "fo": "faut",
    "kle": "clea", "klea": "clea", "cleaa": "clea", "cle": "clea", "cela": "cela",
    "diplome": "diplome", "diplom": "diplome", "diplomes": "diplome", "exam": "examen",
    "formations": "formation", "certif": "certificat", "certifica": "certificat",
    "num": "numerique", "ordi": "ordinateur", "pc": "ordinateur", "tel": "telephone",
    "rdv": "rendez vous", "ecrire": "ecrire", "lir": "lire", "ecrir": "ecrire",
}
# Words that mean the same thing here, folded to one (applied after SMS spellings).
SYNONYMS = {
    "chomage": ("chomeur chomeuse demandeur demandeuse rsa pole francetravail"),
    "salarie": ("salariee salaries salariees cdi cdd interim interimaire ouvrier ouvriere "
                "employe employee employes"),
    "prix": "tarif tarifs cout coute couter payant payer paye cher argent gratuit gratuite "
            "frais euros financer financement",
    "etape": "etapes procedure demarche demarches deroulement deroule processus",
    "formation": "cours stage stages",
    "lire": "lecture lis lit",
    "ecrire": "ecriture ecris redige rediger redaction orthographe",
    "calcul": "maths math mathematiques calculette calculatrice compter calculs",
    "ordinateur": "informatique ordinateurs",
    "duree": "rapide longtemps long heures",
    "handicap": "handicape handicapee rqth invalidite aah",
    "evaluation": "test tests examen epreuve controle evaluations",
    "echec": "echoue echouer echoues rate rater rates loupe louper",
    "humain": "personne vraie",
    "organisme": "centre centres organismes",
    "age": "ans an vieux vieille",
    "inscription": "inscrit inscrite inscrire inscris inscrits",
}
_SYNONYM = {w: canon for canon, words in SYNONYMS.items() for w in words.split()}
_PHRASES = [(re.compile(r"\bcle\s+a\b"), "clea"),
            (re.compile(r"\bpole emploi\b"), "chomage"),
            (re.compile(r"\bfrance travail\b"), "chomage"),
            (re.compile(r"\bsans (?:emploi|travail|boulot)\b"), "chomage"),
            (re.compile(r"\bdemandeu(?:r|se) d emploi\b"), "chomage"),
            (re.compile(r"\bmon compte formation\b"), "cpf"),
            (re.compile(r"\b(?:pour qui|qui peut|a qui s adresse|s adresse a qui|"
                        r"qui a le droit|a qui c est destine)\b"), "public"),
            (re.compile(r"\bou (?=(?:je|j|on|se|s|aller|trouver|faire|passer|est|il|y|peut|"
                        r"peux|puis|dois|doit|m|me)\b)"), "lieu "),
            (re.compile(r"\bpres de chez moi\b"), "lieu"),
            (re.compile(r"\bcombien de temps\b"), "duree"),
            (re.compile(r"\b(?:c est combien|combien ca (?:coute|fait)|ca fait combien)\b"),
             "prix"),
            (re.compile(r"\ben cours(?: de route)?\b"), "encours"),
            # "depuis 10 ans" tells how long, not how old.
            (re.compile(r"\bdepuis (?:\d+|un|une|deux|trois|quelques|plusieurs|des) ?"
                        r"(?:ans?|annees?|mois|semaines?)\b"), "depuis"),
            (re.compile(r"\bcompte (?:personnel )?(?:de )?formation\b"), "cpf")]

STOP_WORDS = set("""
a au aux avec ce ces cet cette d de des du elle en et eux il ils j je l la le les leur lui
m ma me mes moi mon n ne nos notre nous on ou par pas pour qu que qui s sa se ses si son sur
t ta te tes toi ton tu un une vos votre vous y est suis es sont etre ai as avez avons ont
c ca cela ceci ici la bien alors donc mais car tres trop plus moins tout tous toute toutes
comment quoi quel quelle quels quelles dois doit faut peux peut veux voudrais voudrait
aimerais sais savoir dire svp merci bonjour salut hello oui non ok bah ben euh hein
dans sans depuis ni fait faire fasse fais va vais veut avoir aura aurai pourrai pourrais
pourrait pouvez pouvons passer passe passes ya y lui leur ils elles dont etc est-ce juste
""".split())
# Small-talk phrases are matched on whole words, so keep greeting/thanks words out of the
# stop-word list when building those indexes.
_SMALL_TALK_KEEP = {"merci", "bonjour", "salut", "hello", "oui", "non", "ok"}

POLITENESS = {"greeting", "thanks", "bye"}
OFF_TOPIC = "off_topic"  # small-talk key of messages about something else

_stemmer = snowballstemmer.stemmer("french")


@dataclass(frozen=True)
class Match:
    """kind: 'faq' (entry set), a small-talk key such as 'greeting', or 'none'.
    `suggestions`: the closest entries when nothing was understood."""

    kind: str
    entry: FaqEntry | None
    score: float
    suggestions: tuple[FaqEntry, ...] = ()


_REPEATS = re.compile(r"([a-z])\1{2,}")  # letters repeated for emphasis: "merciii"


def normalise(text: str) -> str:
    folded = _REPEATS.sub(r"\1", fold(text[:MAX_CHARS]))
    folded = " ".join(SMS.get(w, w) for w in folded.split())
    for pattern, canon in _PHRASES:
        folded = pattern.sub(canon, folded)
    return " ".join(_SYNONYM.get(w, w) for w in folded.split())


@lru_cache(maxsize=20000)
def _stem(word: str) -> str:
    return _stemmer.stemWord(word)


def tokens(text: str, keep: set[str] | frozenset[str] = frozenset()) -> list[str]:
    return tokens_of(normalise(text), keep)


def tokens_of(normalised: str, keep: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """Stems of a text already passed through `normalise`."""
    return [_stem(w) for w in normalised.split()
            if (w not in STOP_WORDS or w in keep) and (len(w) > 1 or w.isdigit())]


class _Index:
    """TF-IDF vectors with an inverted index. A query's unknown words keep their weight in
    its norm: a message mostly about something else scores low, which is what sends
    "comment passer le permis" to "not understood" instead of to "the steps"."""

    def __init__(self, docs: list[list[str]], groups: list[str] | None = None,
                 unknown_weight: float = 1.0):
        # Document frequency counts topics, not sentences: a word said in many examples
        # of one topic is a good sign of that topic, not a common word.
        groups = groups or [str(i) for i in range(len(docs))]
        per_group: dict[str, set[str]] = {}
        for g, d in zip(groups, docs, strict=True):
            per_group.setdefault(g, set()).update(d)
        df = Counter(t for words in per_group.values() for t in words)
        n = len(per_group)
        self.idf = {t: math.log((1 + n) / (1 + c)) + 1.0 for t, c in df.items()}
        self.unknown_idf = unknown_weight * (math.log(1 + n) + 1.0)
        self.vectors = [self.weigh(d) for d in docs]
        self.vocabulary = list(self.idf)

    def weigh(self, toks: list[str], query: bool = False) -> dict[str, float]:
        tf = Counter(toks)
        vec = {t: (1 + math.log(c)) * self.idf.get(t, self.unknown_idf if query else 0.0)
               for t, c in tf.items()}
        norm = math.sqrt(sum(w * w for w in vec.values())) or 1.0
        return {t: w / norm for t, w in vec.items() if t in self.idf}


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(w * b.get(t, 0.0) for t, w in a.items())


def _centroid(vectors: list[dict[str, float]]) -> dict[str, float]:
    total: Counter = Counter()
    for v in vectors:
        total.update(v)
    norm = math.sqrt(sum(w * w for w in total.values())) or 1.0
    return {t: w / norm for t, w in total.items()}


class _Intents:
    """Labelled examples; a label's score blends its best example and its centroid."""

    def __init__(self, labelled: list[tuple[str, str]], keep: frozenset[str] = frozenset(),
                 unknown_weight: float = UNKNOWN_WEIGHT):
        self.keep = keep
        self.labels = [label for label, _ in labelled]
        self.normalised = [normalise(text) for _, text in labelled]
        self.index = _Index([tokens(text, keep) for _, text in labelled], self.labels,
                            unknown_weight)
        by_label: dict[str, list[dict[str, float]]] = {}
        for label, vec in zip(self.labels, self.index.vectors, strict=True):
            by_label.setdefault(label, []).append(vec)
        self.centroids = {label: _centroid(vs) for label, vs in by_label.items()}
        self.postings: dict[str, list[int]] = {}
        for i, vec in enumerate(self.index.vectors):
            for t in vec:
                self.postings.setdefault(t, []).append(i)

    def rank(self, toks: list[str], norm: str) -> list[tuple[str, float]]:
        query = self.index.weigh(toks, query=True)
        candidates = {i for t in query for i in self.postings.get(t, ())}
        best: dict[str, float] = {}
        for i in candidates:
            c = _cosine(query, self.index.vectors[i])
            if c > best.get(self.labels[i], 0.0):
                best[self.labels[i]] = c
        scores = {label: 0.6 * c + 0.4 * _cosine(query, self.centroids[label])
                  for label, c in best.items()}
        # A near-identical sentence (typos aside) is strong evidence on its own; typos
        # are repaired word by word before, so only examples sharing a word are compared.
        for i in candidates:
            ratio = fuzz.token_sort_ratio(norm, self.normalised[i], score_cutoff=85)
            if ratio:
                label = self.labels[i]
                scores[label] = max(scores.get(label, 0.0), ratio / 100)
        return sorted(scores.items(), key=lambda kv: -kv[1])


class FaqMatcher:
    """Built once from the knowledge; `match` is pure and fast."""

    def __init__(self, knowledge: Knowledge, threshold: float = 0.28,
                 small_talk_threshold: float = 0.4):
        self.threshold = threshold
        self.small_talk_threshold = small_talk_threshold
        self.entries = knowledge.faq
        self.by_id = {e.id: e for e in self.entries}
        self.faq = _Intents([(e.id, ex) for e in self.entries for ex in e.examples])
        # Small talk is short and mixed with names and fillers ("bonjour madame"):
        # words it does not know count less there.
        self.small_talk = _Intents([(k, ex) for k, exs in knowledge.small_talk.items()
                                    for ex in exs], keep=frozenset(_SMALL_TALK_KEEP),
                                   unknown_weight=0.5)

    @lru_cache(maxsize=4096)  # noqa: B019 - the matcher lives as long as the process
    def _repair(self, tok: str) -> str:
        """Map an unknown stem to the closest known one when it is a likely typo."""
        if tok in self.faq.index.idf or tok in self.small_talk.index.idf or len(tok) < 5:
            return tok
        best = process.extractOne(tok, self.faq.index.vocabulary, scorer=fuzz.ratio,
                                  score_cutoff=88)
        return best[0] if best else tok

    def match(self, text: str) -> Match:
        norm = normalise(text)
        if not norm:
            return Match("none", None, 0.0)
        content = [self._repair(t) for t in tokens_of(norm)]
        ranked = self.faq.rank(content, norm)
        suggestions = tuple(self.by_id[label] for label, s in ranked[:3] if s > 0.15)
        talk = self.small_talk.rank([self._repair(t) for t in tokens_of(norm, _SMALL_TALK_KEEP)],
                                    norm)
        faq_score = ranked[0][1] if ranked else 0.0
        talk_kind, talk_score = talk[0] if talk else ("none", 0.0)
        # "Bonjour, c'est payant ?" is a question: politeness only wins alone, in a short
        # message ("et si j'ai pas tout bon" is not a goodbye).
        polite_only = talk_kind in POLITENESS and len(norm.split()) <= 4 and not any(
            t in self.faq.index.idf for t in content)
        if talk_kind == OFF_TOPIC and talk_score >= faq_score:
            return Match("none", None, faq_score, suggestions)
        if talk_score >= self.small_talk_threshold and talk_score > faq_score and (
                talk_kind not in POLITENESS or polite_only):
            return Match(talk_kind, None, talk_score, suggestions)
        if ranked and faq_score >= self.threshold:
            return Match("faq", self.by_id[ranked[0][0]], faq_score)
        return Match("none", None, faq_score, suggestions)
