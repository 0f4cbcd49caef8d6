"""One reading per message: every way a typed message can be understood on the screen it
was typed on, each with its evidence and confidence. The engine then chooses one with a
single policy (`choose`, current screen first).

Before, each part of the engine folded the text again and the first that fired won, so a
bare "oui" typed to confirm a town became "has a disability recognition". Here, a message
is read once, against what the screen shows and asks:

- `option`: a button of the screen, by its words or its rank ("2");
- `answer`: an answer to the question the screen asks ("je suis au chômage" at the
  situation question; "oui" where the screen asks yes or no); `two_answers`: words of two
  of its options in one message (asked again); `dont_know`: "je sais pas";
  `unsay`: "non" to "Vous m'avez dit… C'est bien ça ?";
- `navigation`: a whole-message navigation word (menu, retour…); `ack`: an
  acknowledgement ("ok", "super", a bare "oui" or "non") where the screen asks nothing it
  answers;
- `place`: a postal code anywhere, or a commune where the screen asks for a place or after
  a cue ("j'habite à"); `handoff`: "qui contacter" (`where`), "je souhaiterais être
  rappelé", "qui je peux appeler" (`call`); `phone`: a phone number typed
  where none is asked;
- `fact`: an explicit self-statement ("je suis au chômage", "j'ai 19 ans", "je n'ai pas de
  diplôme"); never a bare option label ("oui", "un peu", "autre");
- `age`: an age no question asks for ("j'ai 45 ans"): its FAQ topic (`value`), and the
  topics offered under it;
- `subject`: another certificate, exam, benefit or service, when CléA is not named;
- `faq`, `offer`, `small_talk`, `off_topic`: what the free-text model says.

Pure: no session is changed here, and nothing here knows about an `Engine`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache

from dialogs.model import Button
from knowledge import geography, phone, typed
from knowledge.faq import FaqMatcher, asks, question_part
from knowledge.model import Knowledge, Question, Subject
from knowledge.normalise import sms_fold
from knowledge.text import fold, name_key

POSTAL_CODE = re.compile(r"(?<![\d.,])\b\d{5}\b(?![\d.,])")
ARITHMETIC = re.compile(r"\d+\s*(?:fois|x|\*|\+|plus|moins|divise par|multiplie par)\s*\d+")
FIRST_PERSON = {"je", "j", "moi"}
QUESTION_WORDS = {
    "quoi",
    "comment",
    "combien",
    "pourquoi",
    "quand",
    "quel",
    "quelle",
    "quels",
    "quelles",
    "kel",
    "kelle",
    "koi",
    "ou",
    "qui",
    "est ce",
}
FACT_QUESTIONS = ("situation", "diploma", "reading", "disability")
# Screens whose free text is a place; a cue ("j'habite à") is needed elsewhere.
PLACE_SCREENS = {"where_ask", "where_pick", "where_confirm"}
# Cues after which only an exact commune name counts (they also start ordinary phrases).
WEAK_CUES = {"sur", "pres de", "a cote de", "je suis sur", "je suis a"}
# A commune name typed as the whole message ("Marseille") is a place only from this length,
# and only when nothing else reads it (no FAQ answer, no small talk): `choose`, rule 10a.
TOWN_ALONE_CHARS = 4
UNREAD = ("offer", "off_topic")  # model readings a commune name alone can win over
# "le niveau A2" is a language level (DELF, residence card), not a comparison with CléA.
_LANGUAGE_LEVEL = re.compile(r"\bniveau [abc][12]\b")
# The phrases of a question that fit two of its options (fit.yaml `between`), read as
# words of two options: no answer.
BETWEEN = "?between"
LEADING_ANSWER_WORDS = 6  # "non je n en ai pas": a yes or no, then its restatement
STATEMENT_WORDS = 4  # "je cherche un travail": a statement, not yet a question
# FAQ topics about where to go: in a message read as one of them, "à Lyon" is a place.
PLACE_TOPICS = frozenset({"where", "evaluator", "adviser"})
PLACE_WORDS = frozenset({"a", "au", "vers", "sur", "dans"})
# A message of only these ("Bonjour Madame", "bonsoir monsieur") is a greeting.
GREETINGS = frozenset({"bonjour", "bonsoir", "salut", "coucou", "hello", "allo"})
TITLES = frozenset({"madame", "monsieur", "mademoiselle", "mme", "m", "mr", "messieurs", "dames"})
AGE_WORDS = 6  # "bonjour moi j'ai 45 ans": an age said alone
# Ages of the situation "J'ai entre 16 et 25 ans" (fit.yaml); any other age typed alone
# gets the FAQ topic about age, or, from typed.yaml's `retired_from`, the one for retired
# people first (the age topic offered under it).
YOUNG = (16, 25)
AGE_TOPIC = "young"
RETIRED_TOPIC = "retired"


@dataclass(frozen=True)
class Screen:
    """What the person sees when they type: the state, its buttons, the question it asks
    (if any) and the heard fact it asks to confirm ("Vous m'avez dit… ?")."""

    state: str
    choices: tuple[Button, ...] = ()
    question: Question | None = None
    said: str | None = None
    # The person's answers so far, (question id, option id): a correction ("non en fait
    # j'ai un CDI") of one of them is asked back.
    answered: tuple[tuple[str, str], ...] = ()

    @property
    def choice_ids(self) -> frozenset[str]:
        return frozenset(b.choice for b in self.choices)


@dataclass(frozen=True)
class Reading:
    """One way to understand the message. `value`: the choice to press (option, answer),
    the action (navigation), the option id (fact), the subject or FAQ id; `question`: the
    question a fact answers; `topics`: FAQ ids offered; `evidence`: which rule fired (a
    name, never the text: readings are logged)."""

    kind: str
    value: str = ""
    confidence: float = 1.0
    evidence: str = ""
    question: str | None = None
    topics: tuple[str, ...] = ()
    alone: bool = False  # a fact: its phrase is the whole message
    place: geography.LookupResult | None = field(default=None, compare=False)

    @property
    def logged_value(self) -> str:
        """The value as the DEBUG log may show it: a topic, subject or action, but never
        what the person said about themselves (an option, a fact, an age, a place): those
        are health, literacy or situation answers tied to an update id in the log."""
        if self.kind in PERSONAL_KINDS or not self.value:
            return "-"
        return self.value


# Readings whose value is something the person said about themselves.
PERSONAL_KINDS = frozenset(
    {"answer", "option", "fact", "age", "place", "town", "phone", "two_answers"}
)


@dataclass(frozen=True)
class Readings:
    """Every reading of one message, plus what the policy needs to know about it."""

    all: tuple[Reading, ...]
    names_clea: bool
    is_question: bool
    words: int
    corrects: bool = False  # starts as a correction: "non en fait…", "finalement…"

    def first(self, *kinds: str) -> Reading | None:
        return next((r for r in self.all if r.kind in kinds), None)

    def facts(self) -> tuple[Reading, ...]:
        return tuple(r for r in self.all if r.kind == "fact")

    def summary(self) -> str:
        """Kinds and values only (never the text), for the DEBUG log."""
        return " ".join(f"{r.kind}:{r.logged_value}@{r.confidence:.2f}" for r in self.all)


@lru_cache(maxsize=1024)
def _folded_label(label: str) -> str:
    """A button's label folded once: labels come from the content and the templates, and
    every typed message is compared with each button of its screen."""
    return fold(label)


def _as_written(name: str) -> str:
    return " ".join(name.lower().replace("-", " ").split())


def _phrase_in(phrase: str, text: str) -> bool:
    # Most phrases are not in the message at all: the substring test answers those.
    return phrase in text and typed.phrase_at(phrase, text) is not None


@lru_cache(maxsize=256)
def _after_pattern(cue: str) -> re.Pattern[str]:
    return re.compile(rf"(?:^| ){re.escape(cue)} (.+)$")


def _after(cue: str, plain: str) -> re.Match[str] | None:
    """What follows a place cue ("j'habite à") in a folded message, as group 1."""
    return _after_pattern(cue).search(plain) if cue in plain else None


def _requested(phrase: str, plain: str) -> bool:
    """A request phrase ("qu'on m'appelle") not negated just before: "je ne veux pas
    qu'on m'appelle" asks for no call."""
    m = typed.phrase_at(phrase, plain)
    if m is None:
        return False
    before = plain[: m.start()].split()[-3:]
    return not typed.NEGATIONS & set(before)


def _yes_no_readings(answer: str | None, ids: frozenset[str], q: Question | None) -> list[Reading]:
    """A typed yes or no as the screen's button: "oui" presses "yes" or "Oui" of a yes/no
    question; an acknowledgement ("ok") agrees with a confirmation ("C'est bien là ?")
    only, never answers a question about the person."""
    if answer == "ok":
        return [Reading("answer", "yes", 0.95, "ok to confirm")] if "yes" in ids else []
    if answer is None:
        return []
    for choice in (answer, f"answer:{answer}", "retry" if answer == "no" else ""):
        if choice and choice in ids:
            return [Reading("answer", choice, 0.95, "yes/no", question=(q.id if q else None))]
    return []


class Subjects:
    """Subject before topic: the other certificates, exams, benefits and services of
    subjects.yaml, found in a message that does not name CléA. Needs the content only (no
    model): `make train` uses it too."""

    def __init__(self, knowledge: Knowledge):
        t = knowledge.typed
        self.clea_names = tuple(sms_fold(p) for p in t.clea_names)
        self.comparison = tuple(sms_fold(p) for p in t.comparison)
        self.subjects: tuple[tuple[Subject, tuple[str, ...]], ...] = tuple(
            (s, tuple(sorted({sms_fold(w) for w in s.words}, key=len, reverse=True)))
            for s in knowledge.subjects
        )

    def other_subject(self, text: str) -> str | None:
        """The subject other than CléA a message names (subjects.yaml), if any: such a
        message is declined before any FAQ topic is weighed (`choose`, rule 6), so `make
        train` leaves it out when it chooses the answering thresholds."""
        found = self.in_question(text, sms_fold(text))
        return found.value if found is not None else None

    def in_question(self, text: str, plain: str) -> Reading | None:
        """The subject reading of a message, unless the subject is only in the context
        given after the question: "Et France Travail, il paye pour moi ? Je suis inscrit
        depuis 1 an, je reçois l'ARE" asks about CléA, not about the ARE. (A subject in
        the story before the question stays: "mon chef veut que je passe le CACES,
        combien de temps ça prend ?" is about the CACES.)"""
        found = self.find(plain, self.names_clea(plain))
        if found is None or found.evidence == "arithmetic":
            return found
        part = question_part(text)
        at = text.find(part) if part else -1
        if at >= 0 and asks(text):
            upto = sms_fold(text[: at + len(part or "")])
            if self.find(upto, self.names_clea(upto)) is None:
                return None
        return found

    def names_clea(self, plain: str) -> bool:
        return any(_phrase_in(p, plain) for p in self.clea_names)

    def find(self, plain: str, names_clea: bool) -> Reading | None:
        """The subject reading of a folded message (`sms_fold`), if it names one."""
        if names_clea:
            return None
        if ARITHMETIC.search(plain):
            return Reading("subject", "calculation", 0.9, "arithmetic")
        without_levels = _LANGUAGE_LEVEL.sub(" ", plain)
        if any(_phrase_in(c, without_levels) for c in self.comparison):
            return None  # "ça remplace le brevet ?": a question about CléA
        tokens = plain.split()
        for subject, words in self.subjects:
            for w in words:
                m = typed.phrase_at(w, plain) if w in plain else None  # most are not there
                if not m:
                    continue
                before = tokens[: len(plain[: m.start()].split())][-3:]
                if subject.diploma and ({"j", "ai"} <= set(before) or "mon" in before):
                    continue  # "j'ai le bac": a fact about the person
                return Reading("subject", subject.id, 0.9, f"subject {subject.kind}")
        return None


class Reader:
    """Built once per engine from the content; `read` is pure."""

    def __init__(self, knowledge: Knowledge, matcher: FaqMatcher):
        self.k = knowledge
        self.matcher = matcher
        t = knowledge.typed
        self.words = typed.TypedWords(
            frozenset(map(typed.key, t.yes)),
            frozenset(map(typed.key, t.no)),
            frozenset(map(typed.key, t.ok)),
            frozenset(map(typed.key, t.politeness)),
            {typed.key(w): action for action, ws in t.navigation.items() for w in ws},
        )
        # Each question's phrases: the answers (typed phrases and labels) and the facts a
        # person states about themself (typed phrases only: a bare label is no statement).
        self.answers = {
            q.id: typed.PhraseTable(
                {o.id: tuple(typed.key(p) for p in (*o.typed, o.label)) for o in q.options}
                | ({BETWEEN: tuple(typed.key(p) for p in q.between)} if q.between else {})
            )
            for q in knowledge.questions
        }
        # The labels alone ("Oui", "Non"): inside a question ("oui mais c'est quoi la
        # RQTH ?") a label is no answer.
        self.labels = {
            q.id: {o.id: (typed.key(o.label),) for o in q.options} for q in knowledge.questions
        }
        self.fact_phrases = {
            q.id: typed.PhraseTable(
                {
                    o.id: tuple(
                        typed.key(p)
                        for p in o.typed
                        if not q.explicit_facts or typed.key(p).split()[0] in FIRST_PERSON
                    )
                    for o in q.options
                }
            )
            for q in knowledge.questions
            if q.id in FACT_QUESTIONS
        }
        # Each option's typed phrases alone (no label), by question and option: what
        # `_label_in_a_question` looks for said in the first person.
        self.typed_only = {
            q.id: {
                o.id: typed.PhraseTable({o.id: tuple(typed.key(p) for p in o.typed)})
                for o in q.options
            }
            for q in knowledge.questions
        }
        # Options that win over others said with them ("un master en Ukraine"), by question.
        self.over = {
            q.id: {o.id: frozenset(o.over) for o in q.options if o.over}
            for q in knowledge.questions
        }
        # Answers typed as the whole message only ("bien"), by question.
        self.alone = {
            q.id: {typed.key(p): o.id for o in q.options for p in o.alone}
            for q in knowledge.questions
        }
        self.dont_know = frozenset(sms_fold(p) for p in t.dont_know)
        self.doubts = tuple(typed.key(p) for p in t.doubts)
        self.hedges = tuple(
            sorted(
                {sms_fold(p) for p in (*t.dont_know_hedges, *t.politeness)} - {""},
                key=len,
                reverse=True,
            )
        )
        self.hedge_words = tuple((hedge, hedge.split()) for hedge in self.hedges)
        self.cues = sorted({sms_fold(p) for p in t.place_cues}, key=len, reverse=True)
        self.handoff = tuple(sms_fold(p) for p in t.handoff)
        self.call = tuple(sms_fold(p) for p in t.call)
        self.subject_rule = Subjects(knowledge)
        self.not_places = frozenset(sms_fold(p) for p in t.not_places)
        self.corrections = tuple(sorted({typed.key(p) for p in t.corrections}, key=len))
        self.prefer = tuple(
            (p.topic, p.instead_of, tuple(sms_fold(x) for x in p.phrases)) for p in t.prefer
        )
        self.topic_phrases = tuple(
            (topic, tuple(sms_fold(p) for p in phrases)) for topic, phrases in t.topics.items()
        )

    # --- the readings ----------------------------------------------------------------------

    def read(self, text: str, screen: Screen) -> Readings:
        plain = sms_fold(text)
        norm = typed.key(text)
        found: list[Reading] = []
        found += self._screen_readings(text, plain, screen)
        action = typed.navigation(self.words, text) or self._after_no(text)
        if action is not None:
            found.append(Reading("navigation", action, 1.0, "whole message"))
        if typed.yes_no(self.words, text) is not None:  # "ok", "oui", "non" alone
            found.append(Reading("ack", "", 0.9, "acknowledgement"))
        found += self._place_readings(text, plain, screen)
        if any(_requested(p, plain) for p in self.call if p in plain):  # most are not there
            found.append(Reading("handoff", "call", 0.9, "call phrase"))
        elif any(_phrase_in(p, plain) for p in self.handoff):
            found.append(Reading("handoff", "where", 0.9, "handoff phrase"))
        if phone.IN_TEXT.search(text):  # never kept: the reading holds no digit
            found.append(Reading("phone", "", 0.9, "phone number"))
        found += self._fact_readings(text, norm)
        names_clea = self.subject_rule.names_clea(plain)
        subject = self.subject_rule.in_question(text, plain)
        if subject is not None:
            found.append(subject)
        faq = self._topic_phrase(self._situation_topic(self._faq_readings(text), norm), plain)
        faq = self._preferred(faq, plain)
        found += faq
        if not any(r.kind == "place" for r in found):
            found += self._where_question_place(plain, faq)
        if not any(r.kind == "place" for r in found) and faq and faq[0].kind in UNREAD:
            found += self._town_alone(text)  # a lookup (~1 ms): only when nothing reads it
        tokens = plain.split()
        is_question = any(w in QUESTION_WORDS for w in tokens) or "est ce" in plain or asks(text)
        core = typed._strip_politeness(self.words, text)  # "euh", "bon ben" aside
        corrects = any(core == c or core.startswith(c + " ") for c in self.corrections)
        return Readings(tuple(found), names_clea, is_question, len(tokens), corrects)

    def _screen_readings(self, text: str, plain: str, screen: Screen) -> list[Reading]:
        out: list[Reading] = []
        choices = list(screen.choices)
        wanted = fold(text)
        if wanted.isdigit() and len(wanted) == 1 and 1 <= int(wanted) <= len(choices):
            out.append(Reading("option", choices[int(wanted) - 1].choice, 1.0, "rank"))
        label = next(
            (b.choice for b in choices if _folded_label(b.label) == wanted and wanted), None
        )
        if label is not None:
            out.append(Reading("option", label, 1.0, "label"))
        ids = screen.choice_ids
        q = screen.question
        core = typed._strip_politeness(self.words, text)
        doubt = self._doubted_yes_no(core, text) if q is not None else None
        answer = None if doubt else typed.yes_no(self.words, text)
        answer = answer or (None if doubt else self._leading_yes_no(core, text, q))
        if q is not None and doubt == "yes or no then doubt":
            out.append(Reading("dont_know", "help", 1.0, doubt))
        if self.says_dont_know(plain) or doubt == "yes or no then dont know":
            if q is not None:
                value = "skip" if "skip" in ids else "help"
                out.append(Reading("dont_know", value, 1.0, doubt or "dont know"))
            elif screen.state == "where_ask":
                out.append(Reading("dont_know", "place_help", 1.0, "dont know the place"))
            else:  # "jsp" at the menu: a kind line and the same buttons, no topic guessed
                out.append(Reading("dont_know", "screen_help", 1.0, "dont know the screen"))
        if q is not None and screen.said:
            if answer in ("yes", "ok"):
                out.append(
                    Reading("answer", f"answer:{screen.said}", 1.0, "yes to said", question=q.id)
                )
            elif answer == "no":
                out.append(Reading("unsay", "unsay", 1.0, "no to said", question=q.id))
        if q is not None:
            # "non je travaille": a correction, read against the question asked.
            words = core.split()
            corrected = (
                " ".join(words[1:])
                if len(words) > 1
                and (words[0] in self.words.no or words[0] in {"non", "nan", "si"})
                else core
            )
            kept = typed.find_options(self.answers[q.id], corrected.split())
            option = self.alone[q.id].get(corrected) or typed.decide(kept, self.over[q.id])
            if option == BETWEEN:
                option = None  # "c'est pas mon fort": sometimes or very hard?
            if option is None and kept:
                # Phrases of two options ("jsp lire, c'est pas mon fort"): an answer, but
                # which? The question comes again (`_no_answer`).
                out.append(Reading("two_answers", "", 0.9, "two options", question=q.id))
            if option is not None and self._label_in_a_question(text, corrected, q, option):
                option = None
            if option is not None and f"answer:{option}" in ids:
                out.append(
                    Reading(
                        "answer",
                        f"answer:{option}",
                        0.9,
                        "correction" if corrected != core else "option phrase",
                        question=q.id,
                    )
                )
        out += _yes_no_readings(answer, ids, q)
        return out

    def _label_in_a_question(self, text: str, words: str, q: Question, option: str) -> bool:
        """ "oui mais c'est quoi ?", "c'est quoi la RQTH ?": a message that asks something
        answers the question only with one of the option's phrases said in the first
        person ("oui j'ai la RQTH, c'est quoi la suite ?"); a label or a word of the
        option inside a question is no answer."""
        tokens = words.split()
        if not (asks(text) or QUESTION_WORDS & set(tokens)) or words in self.labels[q.id][option]:
            return False
        typed_only = self.typed_only[q.id].get(option)
        if typed_only is None:  # not an option of the question: no phrase of it is said
            return True
        return not any(
            tokens[start] in FIRST_PERSON or FIRST_PERSON & set(tokens[max(0, start - 4) : start])
            for start, _, _ in typed.find_options(typed_only, tokens)
        )

    def _after_no(self, text: str) -> str | None:
        """ "non attends, je me suis trompée": a navigation phrase after a "non" (the
        whole rest of the message) is that navigation."""
        words = typed._strip_politeness(self.words, text).split()
        if len(words) < 2 or words[0] not in self.words.no:
            return None
        return self.words.navigation.get(" ".join(words[1:]))

    def _leading_yes_no(self, core: str, text: str, q: Question | None) -> str | None:
        """ "Oui, c'est exact.", "oui c bon", "Non, je n'en ai pas.": a yes or no word, then
        a few words that only restate it. Not when the rest asks something ("oui mais c'est
        quoi ?") or names an option of the question ("non, j'ai la RQTH"): those are read
        for what they say."""
        words = core.split()
        if not 2 <= len(words) <= LEADING_ANSWER_WORDS or "?" in text:
            return None
        first = "yes" if words[0] in self.words.yes else "no" if words[0] in self.words.no else None
        rest = words[1:]
        if first is None or QUESTION_WORDS & set(rest):
            return None
        if " ".join(rest) in self.words.navigation:  # "non je me suis trompé": back
            return None
        if q is not None and typed.find_options(self.answers[q.id], rest):
            return None
        return first

    def _doubted_yes_no(self, core: str, text: str) -> str | None:
        """ "non je sais pas", "oui je crois", "oui mais pas officiellement", "oui en
        cours": a yes or no word, then doubt. No answer: storing "Non" or "Oui" there
        would invent a fact (and "Oui" at the disability question shows a money line).
        The evidence name: "…dont know" (the question's skip option where it has one)
        or "…doubt" (the question again with its help). A question ("oui mais c'est
        quoi la RQTH ?") is read for what it asks."""
        words = core.split()
        if len(words) < 2 or "?" in text or QUESTION_WORDS & set(words):
            return None
        first = "yes" if words[0] in self.words.yes else "no" if words[0] in self.words.no else None
        if first is None:
            return None
        rest = " ".join(words[1:])
        if self.says_dont_know(sms_fold(rest)):
            return "yes or no then dont know"
        if any(_phrase_in(d, rest) for d in self.doubts) or (
            first == "yes" and typed.NEGATIONS & set(words[1:])  # "oui pas vraiment"
        ):
            return "yes or no then doubt"
        return None

    def says_dont_know(self, plain: str) -> bool:
        """The whole message says "I don't know", hedges aside, wherever they stand: "je
        sais pas trop", "jsp vraiment", "franchement je sais pas", "je sais pas trop quoi
        répondre" (never "je sais pas si c'est payant")."""
        words = plain.split()
        joined = " ".join(words)
        if joined in self.dont_know:
            return True
        changed = True
        while words and changed:
            changed = False
            for hedge, h in self.hedge_words:
                if hedge not in joined:  # its words can only stand where its text does
                    continue
                at = next(
                    (i for i in range(len(words) - len(h) + 1) if words[i : i + len(h)] == h),
                    None,
                )
                if at is not None and len(words) > len(h):
                    words, changed = words[:at] + words[at + len(h) :], True
                    joined = " ".join(words)
                    if joined in self.dont_know:
                        return True
        return joined in self.dont_know

    def _place_readings(self, text: str, plain: str, screen: Screen) -> list[Reading]:
        out: list[Reading] = []
        code = POSTAL_CODE.search(plain)
        if screen.state in PLACE_SCREENS:
            result = geography.lookup(text)
            if result.places:
                out.append(Reading("place", "screen", 0.95, "place screen", place=result))
                return out
        if code:
            result = geography.lookup(code.group())
            if result.places:
                out.append(Reading("place", "postal code", 0.95, "postal code", place=result))
                return out
        for cue in self.cues:
            m = _after(cue, plain)
            if not m:
                continue
            rest = m.group(1).split()
            for n in (3, 2, 1):  # "lyon 8", "saint etienne", "lyon"
                if len(rest) < n:
                    continue
                candidate = " ".join(rest[:n])
                result = geography.lookup(candidate)
                exact = [
                    p
                    for p in result.places
                    if p.commune and name_key(p.commune) == name_key(candidate)
                ]
                if cue in WEAK_CUES:
                    # "sur place" is not Placé: after a weak cue, the name as written,
                    # accents included, and never a common word of typed.yaml.
                    exact = [
                        p
                        for p in exact
                        if _as_written(p.commune or "")
                        == " ".join(text.lower().replace("-", " ").split()[-n:]).strip(" ?!.,")
                        and candidate not in self.not_places
                    ]
                    if exact:
                        out.append(
                            Reading(
                                "place",
                                "cue",
                                0.8,
                                f"weak cue {cue}",
                                place=geography.LookupResult(tuple(exact)),
                            )
                        )
                        return out
                elif result.places and (
                    exact
                    or n == 1
                    and len(candidate) >= 3
                    and name_key(result.places[0].commune or "").startswith(name_key(candidate))
                ):
                    out.append(Reading("place", "cue", 0.9, f"cue {cue}", place=result))
                    return out
        return out

    def _where_question_place(self, plain: str, faq: list[Reading]) -> list[Reading]:
        """ "où passer CléA à Lyon ?": a message about where to go names its town after "à",
        "vers", "sur" without a cue ("j'habite à"). Read only when the FAQ reading is about
        where to go (PLACE_TOPICS), and only an exact commune name counts: "j'ai travaillé
        à Paris" says nothing about where the person lives."""
        topics = {t for r in faq for t in (r.value, *r.topics[:1])}
        if not topics & PLACE_TOPICS:
            return []
        tokens = plain.split()
        for i, word in enumerate(tokens):
            if word not in PLACE_WORDS:
                continue
            for n in (3, 2, 1):  # "saint etienne du rouvray", "saint etienne", "lyon"
                candidate = " ".join(tokens[i + 1 : i + 1 + n])
                if len(tokens) < i + 1 + n or candidate in self.not_places:
                    continue
                if not geography.is_commune_key(name_key(candidate)):
                    continue  # no commune has this name: no exact one to look up
                exact = tuple(
                    p
                    for p in geography.lookup(candidate).places
                    if p.commune and name_key(p.commune) == name_key(candidate)
                )
                if exact:
                    return [
                        Reading(
                            "place",
                            "where question",
                            0.7,
                            "commune in a where question",
                            place=geography.LookupResult(exact),
                        )
                    ]
        return []

    def _town_alone(self, text: str) -> list[Reading]:
        """ "Marseille", "Saint-Étienne" typed as the whole message, on any screen: the
        exact name of a commune as written (accents included: "lire" is not Liré), never
        a common word of typed.yaml's `not_places`. Weak: `choose` takes it only when
        nothing else reads the message."""
        written = " ".join(text.lower().replace("-", " ").split()).strip(" ?!.,")
        if (
            len(written) < TOWN_ALONE_CHARS
            or not written.replace(" ", "").replace("'", "").isalpha()
        ):
            return []
        if sms_fold(written) in self.not_places or len(written.split()) > 4:
            return []
        if not geography.is_commune_key(name_key(written)):
            return []  # no commune has this name, as written or otherwise: no look-up
        exact = tuple(
            p
            for p in geography.lookup(written).places
            if p.commune and _as_written(p.commune) == written
        )
        if not exact:
            return []
        return [
            Reading("town", "alone", 0.6, "commune name alone", place=geography.LookupResult(exact))
        ]

    def _fact_readings(self, text: str, norm: str) -> list[Reading]:
        tokens = norm.split()
        # A fact is said in the first person ("je", "j'", "moi" before its phrase): a
        # message without one states none, and its phrases need not be looked for.
        out = [] if FIRST_PERSON.isdisjoint(tokens) else self._stated_facts(tokens)
        years = typed.age(text)
        if years is None:
            return out
        if YOUNG[0] <= years <= YOUNG[1]:
            if not any(r.question == "situation" for r in out):
                out.append(Reading("fact", "young", 0.8, "age", question="situation"))
        else:  # an age no question asks for: the topics about age
            retired = self.k.typed.retired_from
            topics = (
                (RETIRED_TOPIC, AGE_TOPIC)
                if retired is not None and years >= retired
                else (AGE_TOPIC,)
            )
            out.append(Reading("age", topics[0], 0.8, "age", topics=topics[1:]))
        return out

    def _stated_facts(self, tokens: list[str]) -> list[Reading]:
        """The facts a message states in the first person, one per question at most."""
        out: list[Reading] = []
        for qid, phrases in self.fact_phrases.items():
            found = typed.find_options(phrases, tokens)
            kept = [
                (start, n, option)
                for start, n, option in found
                if tokens[start] in FIRST_PERSON
                or FIRST_PERSON & set(tokens[max(0, start - 4) : start])
            ]
            # "j'ai un master en Ukraine": the country, further from "j'ai", still says
            # where the diploma said in the first person comes from.
            over = self.over[qid]
            said = {option for _, _, option in kept}
            kept += [
                f for f in found if f not in kept and said and said <= over.get(f[2], frozenset())
            ]
            option = typed.decide(kept, over)
            if option is not None:
                whole = any(n == len(tokens) for _, n, _ in kept)  # "j'ai du mal à lire"
                evidence = "whole self-statement" if whole else "self-statement"
                out.append(Reading("fact", option, 0.8, evidence, question=qid, alone=whole))
        return out

    def _situation_topic(self, faq: list[Reading], norm: str) -> list[Reading]:
        """ "France Travail paye le CléA ?": the model hesitates between the price and the
        job seekers' topic. A situation the message names (a typed phrase of the
        situation question, fit.yaml), whose own topic is one of the two closest, decides:
        that topic answers it."""
        offer = faq[0] if faq and faq[0].kind == "offer" else None
        if offer is None or not offer.topics:
            return faq
        situation = typed.decide(typed.find_options(self.answers["situation"], norm.split()))
        if situation is None or situation not in offer.topics[:2]:
            return faq
        return [Reading("faq", situation, offer.confidence, "situation named")]

    def _preferred(self, faq: list[Reading], plain: str) -> list[Reading]:
        """ "mon patron va savoir ?": typed.yaml's `prefer` — a topic answers instead of a
        close one (the model's answer, or one it hesitates between) when the message has
        one of its phrases; the replaced topic is offered under it."""
        if not faq or faq[0].kind not in ("faq", "offer"):
            return faq
        read = faq[0]
        named = (read.value,) if read.kind == "faq" else read.topics
        for topic, instead_of, phrases in self.prefer:
            if instead_of not in named and not (read.kind == "offer" and topic in named):
                continue
            if not any(_phrase_in(p, plain) for p in phrases):
                continue
            others = tuple(x for x in (instead_of, *named) if x != topic)
            return [Reading("faq", topic, read.confidence, "topic preferred", topics=others[:1])]
        return faq

    def _topic_phrase(self, faq: list[Reading], plain: str) -> list[Reading]:
        """ "comment trouver un organisme", "jai pas dinternet": too few words for the model,
        which hesitates or finds nothing; a phrase of typed.yaml's `topics` names the topic
        (the first one found answers, the others are offered under it)."""
        if not faq or faq[0].kind not in UNREAD:
            return faq
        found = tuple(
            topic
            for topic, phrases in self.topic_phrases
            if any(_phrase_in(p, plain) for p in phrases)
        )
        if not found:
            return faq
        return [Reading("faq", found[0], 0.8, "topic phrase", topics=found[1:])]

    def _faq_readings(self, text: str) -> list[Reading]:
        match = self.matcher.match(text)
        words = set(sms_fold(text).split())
        if match.kind == "none" and words & GREETINGS and words <= GREETINGS | TITLES:
            # "Bonjour Madame": the letter formula "bonjour madame" leaves the model
            # nothing to read; a greeting, like "Bonjour Monsieur".
            return [Reading("small_talk", "greeting", 0.9, "greeting and title")]
        if match.kind == "faq" and match.entry is not None:
            return [Reading("faq", match.entry.id, match.score, "model")]
        if match.kind == "unsure":
            return [
                Reading(
                    "offer", "", match.score, "model", topics=tuple(e.id for e in match.suggestions)
                )
            ]
        if match.kind == "none":
            return [Reading("off_topic", "", match.score, "model")]
        return [Reading("small_talk", match.kind, match.score, "model")]


# --- the policy ---------------------------------------------------------------------------

# Readings the screen itself gives, strongest first: they win over everything else.
SCREEN_FIRST = ("option", "dont_know", "unsay", "answer")


def _by_priority(readings: Readings, kinds: tuple[str, ...]) -> Reading | None:
    """The first reading of the first of `kinds` that has one."""
    return next((r for k in kinds if (r := readings.first(k)) is not None), None)


def _correction(readings: Readings, screen: Screen) -> Reading | None:
    """ "non en fait j'ai un CDI" typed after "Je cherche un emploi" was answered: the
    fact that corrects an earlier answer (of another question than the screen's), to ask
    back with its question."""
    if not readings.corrects:
        return None
    answered = dict(screen.answered)
    asked = screen.question.id if screen.question is not None else None
    found = next(
        (
            f
            for f in readings.facts()
            if f.question != asked and answered.get(str(f.question)) not in (None, f.value)
        ),
        None,
    )
    return replace(found, evidence="correction") if found is not None else None


def _no_answer(readings: Readings, question: Question, age_alone: bool) -> bool:
    """Typed at `question`, a message that answers another question (a fact, an age it
    does not ask for) or is too short to be anything but a wrong option: the question
    comes again. A short request for a person ("parler a qqn") is no miss."""
    other_fact = any(r.question != question.id for r in readings.facts())
    # A request for a person, a goodbye or thanks ("merci au revoir") gets its own kind
    # answer, with "Reprendre" back to the question.
    person = any(
        r.kind == "small_talk" and r.value in ("human", "bye", "thanks") for r in readings.all
    )
    short = readings.words <= 3 and not readings.is_question and not person
    two = readings.first("two_answers") is not None and not readings.is_question
    return other_fact or age_alone or short or two


def _question_before_place(readings: Readings, screen: Screen) -> Reading | None:
    """ "J'habite à Lille… C'est quoi exactement et ça aide pour trouver du travail ?": a
    place told as context of a question, off the place screens, with a confident answer
    that is not about where to go. The question is answered; the place is kept, unconfirmed,
    for "Qui contacter ?" (the engine offers it under the answer)."""
    place = readings.first("place")
    faq = readings.first("faq")
    if (
        place is None
        or faq is None
        or screen.state in PLACE_SCREENS
        or not readings.is_question
        or faq.value in PLACE_TOPICS
        or readings.first("handoff") is not None
    ):
        return None
    return replace(faq, evidence="question with a place")


def _first_rules(readings: Readings, screen: Screen) -> Reading | None:
    """Rules 1 to 4: the screen, navigation, a place (or the question told with it), a
    phone number, a request for a contact."""
    found = _by_priority(readings, (*SCREEN_FIRST, "navigation", "place", "phone", "handoff"))
    if found is not None and found.kind == "place":
        return _question_before_place(readings, screen) or found
    return found


def choose(readings: Readings, screen: Screen) -> Reading:
    """The one reading the dialogue acts on. Current screen first:

    1. what the screen shows or asks: a button's words or rank, "je sais pas", "non" to a
       heard fact, an answer to its question (or yes/no where it asks yes or no);
    2. a whole-message navigation word (menu, retour…);
    3. a place: the place screens take any commune; elsewhere a postal code or a commune
       after a cue ("j'habite à") starts the hand-off — unless the message asks a question
       with a confident answer not about where to go ("J'habite à Lille… c'est quoi
       CléA ?"): the answer comes, the place is kept for "Qui contacter ?";
    4. a phone number typed where none is asked (not kept: the way to be called back is
       shown); a request for someone to contact ("qui je peux appeler");
    4b. a correction ("non en fait j'ai un CDI") of an earlier answer: asked back with its
        question (on any screen);
    5. on a question screen, another question's fact, an age it does not ask for, words of
       two of its options ("jsp lire, c'est pas mon fort"), or a
       short answer that is none of the options (a request for a person aside): the same
       question again, with one line of help (never a FAQ answer);
    6. an acknowledgement ("ok", "super", a bare "oui" or "non") the screen does not take
       as an answer: "👍 D'accord." and the screen again (never "je n'ai pas compris", nor
       a FAQ answer the model finds for "non");
    6b. another certificate, exam, benefit or service, CléA not named: said plainly;
    7. a statement about oneself and nothing else, short ("je cherche un travail") or a
       longer phrase that is the whole message ("j'ai du mal à lire"): asked back with
       its question (the answer that fits comes once it is confirmed);
    8. an age said alone that no question asks for ("j'ai 45 ans"): the topic about age
       (or, for a retirement age, the one for retired people, the age topic offered);
    9. a confident FAQ answer (a fact stated with it is kept aside, unconfirmed, and asked
       back when its question comes); else a fact stated alone is asked back;
    10. small talk (greeting, thanks…);
    10a. a commune name typed as the whole message ("Marseille"): the place confirm;
    10b. on a question screen, a statement that is no question and does not name CléA
        ("j'ai arrêté l'école à 15 ans"): the question again, with its help;
    11. close topics offered; a message naming CléA is never declined: its closest topics
        are offered;
    12. not understood.
    """
    found = _first_rules(readings, screen)
    if found is not None:
        return found
    correction = _correction(readings, screen)
    if correction is not None:
        return correction
    age = readings.first("age")
    age_alone = age is not None and not readings.is_question and readings.words <= AGE_WORDS
    if screen.question is not None and _no_answer(readings, screen.question, age_alone):
        return Reading("repeat", screen.question.id, 1.0, "not an option")
    ack = readings.first("ack")
    if ack is not None:
        return ack
    subject = readings.first("subject")
    if subject is not None:
        return subject
    facts = readings.facts()
    if facts and not readings.is_question:
        if readings.words <= STATEMENT_WORDS or any(f.alone for f in facts):
            return facts[0]
    if age is not None and age_alone:
        return age
    faq = readings.first("faq")
    if faq is not None:
        return faq
    if facts and not readings.is_question:
        return facts[0]
    small = _by_priority(readings, ("small_talk", "town"))
    if small is not None:
        return small
    if screen.question is not None and not readings.is_question and not readings.names_clea:
        # "jsuis femme de menage dans un hotel" at "Quelle est votre situation ?": said to
        # answer the question, in words none of its options has. The question again, with
        # its help; never "je connais seulement CléA", which threw the person out of it.
        return Reading("repeat", screen.question.id, 0.5, "free text at a question")
    offer = readings.first("offer")
    if offer is not None:
        return offer
    if readings.names_clea:
        return Reading("offer", "", 0.0, "names CléA")
    return Reading("off_topic", "", 0.0, "no reading")
