"""Match a free-text question, typed as real users type, to a FAQ entry.

Normalisation (shared with the typed answers and the learned model): fold accents and
case, expand SMS spellings, fold synonyms; `tokens_of` drops French stop words and keeps
Snowball stems. The matching itself is the learned model of knowledge.faq_model, trained
at build time on faq.yaml's examples; nothing is downloaded or trained at run time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import snowballstemmer

from knowledge.model import FaqEntry, Knowledge
from knowledge.text import fold

if TYPE_CHECKING:
    from knowledge.faq_model import FaqModel

MAX_CHARS = 500  # longer messages are cut before matching: the question is near the start

# SMS and phonetic spellings seen in real messages, folded (no accents).
SMS = {
    "koi": "quoi",
    "kwa": "quoi",
    "qoi": "quoi",
    "c": "c est",
    "cest": "c est",
    "ces": "c est",
    "pr": "pour",
    "pk": "pourquoi",
    "pq": "pourquoi",
    "pkoi": "pourquoi",
    "pourkoi": "pourquoi",
    "jsui": "je suis",
    "jsuis": "je suis",
    "chui": "je suis",
    "chuis": "je suis",
    "jss": "je suis",
    "suis": "suis",
    "jai": "j ai",
    "g": "j ai",
    "jpeux": "je peux",
    "jpe": "je peux",
    "jveux": "je veux",
    "jve": "je veux",
    "jsp": "je ne sais pas",
    "pdt": "pendant",
    "ct": "c etait",
    "mtn": "maintenant",
    "tjr": "toujours",
    "tjrs": "toujours",
    "pcq": "parce que",
    "pck": "parce que",
    "qlq": "quelque",
    "cb": "combien",
    "cbien": "combien",
    "combi1": "combien",
    "qd": "quand",
    "kan": "quand",
    "ke": "que",
    "ki": "qui",
    "kel": "quel",
    "kelle": "quelle",
    "ds": "dans",
    "dc": "donc",
    "tt": "tout",
    "bcp": "beaucoup",
    "ya": "il y a",
    "yen": "il y en",
    "mm": "meme",
    "slt": "salut",
    "bjr": "bonjour",
    "bsr": "bonsoir",
    "cc": "coucou",
    "mrc": "merci",
    "mci": "merci",
    "msi": "merci",
    "dac": "d accord",
    "ok": "ok",
    "stp": "",
    "svp": "",
    "vs": "vous",
    "ns": "nous",
    "pa": "pas",
    "pat": "pas",
    "oci": "aussi",
    "ossi": "aussi",
    "tafe": "travail",
    "taf": "travail",
    "boulot": "travail",
    "job": "emploi",
    "chomdu": "chomage",
    "chomeur": "chomage",
    "chomeuse": "chomage",
    "fo": "faut",
    "kle": "clea",
    "klea": "clea",
    "cleaa": "clea",
    "cle": "clea",
    "cela": "cela",
    "diplome": "diplome",
    "diplom": "diplome",
    "diplomes": "diplome",
    "exam": "examen",
    "formations": "formation",
    "certif": "certificat",
    "certifica": "certificat",
    "num": "numerique",
    "ordi": "ordinateur",
    "pc": "ordinateur",
    "tel": "telephone",
    "rdv": "rendez vous",
    "ecrire": "ecrire",
    "lir": "lire",
    "ecrir": "ecrire",
}
# Words that mean the same thing here, folded to one (applied after SMS spellings).
SYNONYMS = {
    "chomage": ("chomeur chomeuse demandeur demandeuse rsa pole francetravail"),
    "salarie": (
        "salariee salaries salariees cdi cdd interim interimaire ouvrier ouvriere "
        "employe employee employes"
    ),
    "prix": "tarif tarifs cout coute couter payant payer paye cher argent gratuit gratuite "
    "frais euros financer financement finance finances financee financent",
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
# The formal register (letters, e-mails): greetings, closing formulas and polite framings
# carry no topic; they are removed so that the question itself decides ("Madame, Monsieur,
# je souhaiterais connaître les modalités d'inscription…" reads as "inscription").
_FORMULAS = [
    re.compile(r"\b(?:veuillez|je vous prie d) agreer\b.*$"),
    re.compile(r"\b(?:bien |tres )?(?:cordialement|respectueusement|sinceres salutations)\b"),
    re.compile(r"\b(?:bonjour )?madame(?: monsieur)?\b|\bmonsieur\b|\bbien a vous\b"),
    re.compile(
        r"\bje me permets de vous (?:solliciter|contacter|ecrire)"
        r"(?: afin d obtenir| pour obtenir| afin de| pour)?"
    ),
    re.compile(
        r"\bje vous (?:en )?remercie(?: par avance| d avance)?"
        r"(?: de| pour)?(?: votre reponse| votre aide)?"
    ),
    re.compile(r"\b(?:merci|remerciements) (?:d avance|par avance)\b"),
    re.compile(r"\bdans l attente de votre reponse\b"),
    re.compile(
        r"\bje vous saurais gre de bien vouloir(?: me)?"
        r"(?: preciser| indiquer| communiquer| faire savoir| dire)?\b"
    ),
    re.compile(
        r"\b(?:je souhaiterais|je souhaite|je voudrais|j aimerais) "
        r"(?:savoir|connaitre|obtenir|recevoir|avoir)\b"
    ),
    re.compile(
        r"\b(?:pourriez|pouvez) vous (?:m indiquer|me dire|me preciser|"
        r"m informer sur|m expliquer)\b"
    ),
    re.compile(r"\bje vous ecris (?:afin de|pour) (?:connaitre|savoir|obtenir)\b"),
    re.compile(
        r"\b(?:des|les) (?:informations|precisions|renseignements) "
        r"(?:relatives? (?:a|aux|au)|sur|concernant)\b"
    ),
    re.compile(r"\b(?:(?:la|les|aux|des) )?modalites (?:d |de |du |des )?"),
    re.compile(r"\b(?:du|le) dispositif(?= clea\b)"),
]
_PHRASES = [
    (re.compile(r"\bcle\s+a\b"), "clea"),
    (re.compile(r"\bpole emploi\b"), "chomage"),
    (re.compile(r"\bfrance travail\b"), "chomage"),
    (re.compile(r"\bsans (?:emploi|travail|boulot)\b"), "chomage"),
    (re.compile(r"\bdemandeu(?:r|se) d emploi\b"), "chomage"),
    (re.compile(r"\bmon compte formation\b"), "cpf"),
    (
        re.compile(
            r"\b(?:pour qui|qui peut|a qui s adresse|s adresse a qui|"
            r"qui a le droit|a qui c est destine)\b"
        ),
        "public",
    ),
    (
        re.compile(
            r"\bou (?=(?:je|j|on|se|s|aller|trouver|faire|passer|est|il|y|peut|"
            r"peux|puis|dois|doit|m|me)\b)"
        ),
        "lieu ",
    ),
    (re.compile(r"\bpres de chez moi\b"), "lieu"),
    (re.compile(r"\bcombien de temps\b"), "duree"),
    (re.compile(r"\b(?:c est combien|combien ca (?:coute|fait)|ca fait combien)\b"), "prix"),
    (re.compile(r"\ben cours(?: de route)?\b"), "encours"),
    # "depuis 10 ans" tells how long, not how old.
    (
        re.compile(
            r"\bdepuis (?:\d+|un|une|deux|trois|quelques|plusieurs|des) ?"
            r"(?:ans?|annees?|mois|semaines?)\b"
        ),
        "depuis",
    ),
    (re.compile(r"\bcompte (?:personnel )?(?:de )?formation\b"), "cpf"),
    (re.compile(r"\bmobiliser\b"), "utiliser"),
    (re.compile(r"\b(?:en|a la) recherche d (?:un )?emploi\b"), "chomage"),
    (re.compile(r"\btitulaire d(?:u| un| une)\b"), "j ai un"),
    (re.compile(r"\bconditions d (?:acces|admission|inscription)\b"), "public"),
    (re.compile(r"\bpre ?requis\b"), "public"),
    (re.compile(r"\bechec partiel\b"), "echec"),
    (re.compile(r"\bpretendre a\b"), "passer"),
    (re.compile(r"\bcertification clea\b"), "clea"),
    # Here "the certificate" is CléA: the word names it, it does not ask about the paper.
    (re.compile(r"\b(?:certificats?|certifications?)(?: clea)?\b"), "clea"),
]

STOP_WORDS = set(
    """
a au aux avec ce ces cet cette d de des du elle en et eux il ils j je l la le les leur lui
m ma me mes moi mon n ne nos notre nous on ou par pas pour qu que qui s sa se ses si son sur
t ta te tes toi ton tu un une vos votre vous y est suis es sont etre ai as avez avons ont
c ca cela ceci ici la bien alors donc mais car tres trop plus moins tout tous toute toutes
comment quoi quel quelle quels quelles dois doit faut peux peut veux voudrais voudrait
aimerais sais savoir dire svp merci bonjour salut hello oui non ok bah ben euh hein
dans sans depuis ni fait faire fasse fais va vais veut avoir aura aurai pourrai pourrais
pourrait pouvez pouvons passer passe passes ya y lui leur ils elles dont etc est-ce juste
""".split()
)

POLITENESS = {"greeting", "thanks", "bye"}
ALSO_MIN = 0.1  # a topic a long message also touches, offered under its answer
OFF_TOPIC = "off_topic"  # small-talk key of messages about something else

_stemmer = snowballstemmer.stemmer("french")


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


_REPEATS = re.compile(r"([a-z])\1{2,}")
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


def sms_fold(text: str) -> str:
    """Folded text with SMS spellings expanded, and nothing else (no synonyms): what
    phrase lists written by people (typed.yaml, subjects.yaml) are compared with."""
    words = _REPEATS.sub(r"\1", fold(text[:MAX_CHARS])).split()
    # "c est" is already spelled out: only a bare "c" stands for "c'est".
    expanded = (
        w if w == "c" and nxt == "est" else SMS.get(w, w)
        for w, nxt in zip(words, [*words[1:], ""][: len(words)], strict=True)
    )
    return " ".join(" ".join(expanded).split())


def normalise(text: str) -> str:
    folded = sms_fold(text)
    for formula in _FORMULAS:
        folded = formula.sub(" ", folded)
    folded = " ".join(folded.split())
    for pattern, canon in _PHRASES:
        folded = pattern.sub(canon, folded)
    return " ".join(_SYNONYM.get(w, w) for w in folded.split())


@lru_cache(maxsize=20000)
def _stem(word: str) -> str:
    return str(_stemmer.stemWord(word))


def tokens_of(normalised: str, keep: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """Stems of a text already passed through `normalise`."""
    return [
        _stem(w)
        for w in normalised.split()
        if (w not in STOP_WORDS or w in keep) and (len(w) > 1 or w.isdigit())
    ]


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
        from knowledge.faq_model import FaqModel

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
