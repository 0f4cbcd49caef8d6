"""Typed text as the bot reads it: accents and case folded, SMS spellings expanded
(`sms_fold`), letter formulas removed and synonyms folded to one word (`normalise`), then
French stop words dropped and Snowball stems kept (`tokens_of`). Shared by the FAQ matcher
(knowledge/faq.py), its learned model (knowledge/faq_model.py) and the typed answers
(knowledge/typed.py); the tables below are data a non-developer can extend.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import _lru_cache_wrapper, lru_cache
from typing import Any, TypeVar

import snowballstemmer

from knowledge.text import fold

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
    "exams": "examen",
    "examens": "examen",
    "eval": "evaluation",
    "evals": "evaluation",
    "evalu": "evaluation",
    "eva": "eva anlci",  # the ANLCI's test of reading and counting (not "évaluation")
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
# (pattern, canonical word): phrases said many ways, replaced by one word the model
# knows. A table of text, compiled once below.
_PHRASE_TABLE: list[tuple[str, str]] = [
    (r"\bcle\s+a\b", "clea"),
    (r"\bpole emploi\b", "chomage"),
    (r"\bfrance travail\b", "chomage"),
    (r"\bsans (?:emploi|travail|boulot)\b", "chomage"),
    (r"\bdemandeu(?:r|se) d emploi\b", "chomage"),
    (r"\bmon compte formation\b", "cpf"),
    (
        r"\b(?:pour qui|qui peut|a qui s adresse|s adresse a qui|"
        r"qui a le droit|a qui c est destine)\b",
        "public",
    ),
    (
        r"\bou (?=(?:je|j|on|se|s|aller|trouver|faire|passer|est|il|y|peut|"
        r"peux|puis|dois|doit|m|me)\b)",
        "lieu ",
    ),
    (r"\bpres de chez moi\b", "lieu"),
    (r"\bcombien de temps\b", "duree"),
    (r"\b(?:c est combien|combien ca (?:coute|fait)|ca fait combien)\b", "prix"),
    (r"\ben cours(?: de route)?\b", "encours"),
    # "depuis 10 ans" tells how long, not how old.
    (
        r"\bdepuis (?:\d+|un|une|deux|trois|quelques|plusieurs|des) ?"
        r"(?:ans?|annees?|mois|semaines?)\b",
        "depuis",
    ),
    (r"\bcompte (?:personnel )?(?:de )?formation\b", "cpf"),
    (r"\bmobiliser\b", "utiliser"),
    (r"\b(?:en|a la) recherche d (?:un )?emploi\b", "chomage"),
    (r"\btitulaire d(?:u| un| une)\b", "j ai un"),
    (r"\bconditions d (?:acces|admission|inscription)\b", "public"),
    (r"\bpre ?requis\b", "public"),
    (r"\bechec partiel\b", "echec"),
    (r"\bpretendre a\b", "passer"),
    (r"\bcertification clea\b", "clea"),
    # Here "the certificate" is CléA: the word names it, it does not ask about the paper.
    (r"\b(?:certificats?|certifications?)(?: clea)?\b", "clea"),
]
_PHRASES = [(re.compile(pattern), canon) for pattern, canon in _PHRASE_TABLE]

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

_stemmer = snowballstemmer.stemmer("french")

_REPEATS = re.compile(r"([a-z])\1{2,}")

_T = TypeVar("_T")
_TURN_CACHES: list[_lru_cache_wrapper[Any]] = []


def turn_cache(function: Callable[..., _T]) -> _lru_cache_wrapper[_T]:
    """Cache a pure function of typed text for one turn. A turn reads the same message
    many times (the screen's answers, yes/no, navigation, facts, places, the FAQ's
    clauses): each reading then costs once. The engine empties these caches at the start
    of every turn (`forget_texts`): a typed text stays in them until the next turn only,
    and a benchmark repeating the same messages measures no gain a real mix would not have.
    """
    cached = lru_cache(maxsize=64)(function)
    _TURN_CACHES.append(cached)
    return cached


def forget_texts() -> None:
    """Empty every `turn_cache`."""
    for cached in _TURN_CACHES:
        cached.cache_clear()


@turn_cache
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


@turn_cache
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
