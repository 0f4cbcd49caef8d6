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
# "clé a", "cle a" → clea
_CLEA = re.compile(r"\bcle\s+a\b")

STOP_WORDS = set("""
a au aux avec ce ces cet cette d de des du elle en et eux il ils j je l la le les leur lui
m ma me mes moi mon n ne nos notre nous on ou par pas pour qu que qui s sa se ses si son sur
t ta te tes toi ton tu un une vos votre vous y est suis es sont etre ai as avez avons ont
c ca cela ceci ici la bien alors donc mais car tres trop plus moins tout tous toute toutes
comment quoi quel quelle quels quelles dois doit faut peux peut veux voudrais voudrait
aimerais sais savoir dire svp merci bonjour salut hello oui non ok bah ben euh hein
""".split())
# Small-talk phrases are matched on whole words, so keep greeting/thanks words out of the
# stop-word list when building those indexes.
_SMALL_TALK_KEEP = {"merci", "bonjour", "salut", "hello", "oui", "non", "ok"}

_stemmer = snowballstemmer.stemmer("french")


@dataclass(frozen=True)
class Match:
    """kind: 'faq' (entry set), a small-talk key such as 'greeting', or 'none'.
    `suggestions`: the closest entries when nothing was understood."""

    kind: str
    entry: FaqEntry | None
    score: float
    suggestions: tuple[FaqEntry, ...] = ()


def normalise(text: str) -> str:
    folded = _CLEA.sub("clea", fold(text[:MAX_CHARS]))
    words = []
    for w in folded.split():
        # Letters repeated for emphasis: "merciii", "nooon".
        w = re.sub(r"([a-z])\1{2,}", r"\1", w)
        words.append(SMS.get(w, w))
    return " ".join(w for w in " ".join(words).split())


@lru_cache(maxsize=20000)
def _stem(word: str) -> str:
    return _stemmer.stemWord(word)


def tokens(text: str, keep: set[str] | frozenset[str] = frozenset()) -> list[str]:
    return [_stem(w) for w in normalise(text).split()
            if (w not in STOP_WORDS or w in keep) and (len(w) > 1 or w.isdigit())]


class _Index:
    """TF-IDF vectors of example sentences, with an inverted index for fast scoring."""

    def __init__(self, docs: list[list[str]]):
        df = Counter(t for d in docs for t in set(d))
        n = len(docs)
        self.idf = {t: math.log((1 + n) / (1 + c)) + 1.0 for t, c in df.items()}
        self.postings: dict[str, list[tuple[int, float]]] = {}
        for i, d in enumerate(docs):
            vec = self._weigh(d)
            for t, w in vec.items():
                self.postings.setdefault(t, []).append((i, w))
        self.vocabulary = list(self.idf)

    def _weigh(self, toks: list[str]) -> dict[str, float]:
        tf = Counter(t for t in toks if t in self.idf)
        vec = {t: (1 + math.log(c)) * self.idf[t] for t, c in tf.items()}
        norm = math.sqrt(sum(w * w for w in vec.values())) or 1.0
        return {t: w / norm for t, w in vec.items()}

    def scores(self, toks: list[str]) -> dict[int, float]:
        out: dict[int, float] = {}
        for t, w in self._weigh(toks).items():
            for i, dw in self.postings.get(t, ()):
                out[i] = out.get(i, 0.0) + w * dw
        return out


class FaqMatcher:
    """Built once from the knowledge; `match` is pure and fast."""

    def __init__(self, knowledge: Knowledge, threshold: float = 0.42):
        self.threshold = threshold
        self.entries = knowledge.faq
        self.labels: list[str] = []  # "faq:<id>" or small-talk key, per example
        self.examples: list[str] = []
        docs: list[list[str]] = []
        for e in self.entries:
            for ex in e.examples:
                self.labels.append(f"faq:{e.id}")
                self.examples.append(normalise(ex))
                docs.append(tokens(ex))
        for key, phrases in knowledge.small_talk.items():
            for ex in phrases:
                self.labels.append(key)
                self.examples.append(normalise(ex))
                docs.append(tokens(ex, _SMALL_TALK_KEEP))
        self.index = _Index(docs)
        self.by_id = {e.id: e for e in self.entries}

    @lru_cache(maxsize=4096)  # noqa: B019 - the matcher lives as long as the process
    def _repair(self, tok: str) -> str:
        """Map an unknown stem to the closest known one when it is a likely typo."""
        if tok in self.index.idf or len(tok) < 5:
            return tok
        best = process.extractOne(tok, self.index.vocabulary, scorer=fuzz.ratio,
                                  score_cutoff=85)
        return best[0] if best else tok

    def match(self, text: str) -> Match:
        norm = normalise(text)
        if not norm:
            return Match("none", None, 0.0)
        toks = [self._repair(t) for t in tokens(text, _SMALL_TALK_KEEP)]
        cos = self.index.scores(toks)
        fuzzy = process.extract(norm, self.examples, scorer=fuzz.token_set_ratio, limit=12,
                                score_cutoff=55)
        for _, _score, i in fuzzy:
            cos[i] = cos.get(i, 0.0)
        best: dict[str, float] = {}
        fuzzy_by_i = {i: s / 100 for _, s, i in fuzzy}
        for i, c in cos.items():
            score = 0.75 * c + 0.25 * fuzzy_by_i.get(i, 0.0)
            label = self.labels[i]
            if score > best.get(label, 0.0):
                best[label] = score
        ranked = sorted(best.items(), key=lambda kv: -kv[1])
        faq_ranked = [(lbl, s) for lbl, s in ranked if lbl.startswith("faq:")]
        suggestions = tuple(self.by_id[lbl[4:]] for lbl, s in faq_ranked[:3] if s > 0.12)
        if not ranked or ranked[0][1] < self.threshold:
            return Match("none", None, ranked[0][1] if ranked else 0.0, suggestions)
        label, score = ranked[0]
        if label.startswith("faq:"):
            return Match("faq", self.by_id[label[4:]], score)
        return Match(label, None, score, suggestions)
