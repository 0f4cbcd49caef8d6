"""Typed, immutable view of the content files.

The loader builds these once at start-up; the rest of the program only reads them,
so there is no I/O and no parsing on the per-message path.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from knowledge.vocabulary import Vocabulary


@dataclass(frozen=True)
class Source:
    id: str
    url: str
    title: str
    checked: dt.date
    confidence: str


@dataclass(frozen=True)
class Block:
    """A piece of explanation: a title for buttons and short messages, one idea each."""

    id: str
    title: str
    messages: tuple[str, ...]
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class MoneyFact:
    """An amount or a rule about money that changes (money.yaml): how the bot says it,
    where it comes from, and the days it is known to be true."""

    id: str
    said: str
    sources: tuple[Source, ...]
    valid_from: dt.date
    valid_until: dt.date


@dataclass(frozen=True)
class Domain:
    id: int
    official_title: str
    label: str
    emoji: str
    plain: str
    example: str
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class Module:
    id: str
    title: str
    emoji: str
    messages: tuple[str, ...]
    sources: tuple[Source, ...]
    button: bool = True  # offered as a choice on the modules screen


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    emoji: str
    text: str
    sources: tuple[Source, ...]
    choices: tuple[tuple[str, str], ...] = ()  # (button label, step id): a branch
    back: str | None = None  # step id "Retour" goes to; None: the one before


@dataclass(frozen=True)
class Option:
    id: str
    label: str
    typed: tuple[str, ...] = ()  # what people type instead of tapping it
    # Typed as the whole answer only: a word that means something else inside a sentence
    # ("bien" in "je veux bien qu'on m'appelle").
    alone: tuple[str, ...] = ()
    # A statement of this option asks for nothing: once confirmed, no FAQ answer follows
    # it ("je lis bien" is no request for help to read).
    asks_nothing: bool = False
    # Options this one wins over when both are said in one message: "un master en
    # Ukraine" is a diploma from another country, not "Plus que le bac".
    over: tuple[str, ...] = ()


@dataclass(frozen=True)
class Preference:
    """typed.yaml `prefer`: `topic` answers instead of `instead_of` (the model's answer,
    or one of the topics it hesitates between) when the message has one of `phrases`."""

    topic: str
    instead_of: str
    phrases: tuple[str, ...]


@dataclass(frozen=True)
class Typed:
    """typed.yaml: yes/no words, politeness fillers, navigation words by action, and the
    phrases that read a message in context: "je ne sais pas", a place cue ("j'habite à"),
    a request for someone to contact, the words that name CléA, and the age from which an
    age typed alone ("j'ai 67 ans") gets the answer for retired people first."""

    yes: tuple[str, ...] = ()
    no: tuple[str, ...] = ()
    politeness: tuple[str, ...] = ()
    navigation: dict[str, tuple[str, ...]] = field(default_factory=dict)
    ok: tuple[str, ...] = ()  # yes at a confirmation only, never a question's answer
    dont_know: tuple[str, ...] = ()
    dont_know_hedges: tuple[str, ...] = ()
    # After a yes or no word, words of doubt ("oui je crois", "non bientôt"): no answer.
    doubts: tuple[str, ...] = ()
    place_cues: tuple[str, ...] = ()
    handoff: tuple[str, ...] = ()
    call: tuple[str, ...] = ()  # asking to be called, or for a number to call
    clea_names: tuple[str, ...] = ()
    comparison: tuple[str, ...] = ()
    not_places: tuple[str, ...] = ()
    corrections: tuple[str, ...] = ()  # "non en fait…": an earlier answer corrected
    # FAQ id → phrases that name its topic when the model reads nothing sure ("comment
    # trouver un organisme", "j'ai pas internet").
    topics: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # A topic preferred to a close one when the message has one of its phrases ("mon
    # patron va savoir ?": the results, not the employer's consent); the other is offered.
    prefer: tuple[Preference, ...] = ()
    # From this age, an age typed alone gets the answer for retired people first.
    retired_from: int | None = None


@dataclass(frozen=True)
class Subject:
    """subjects.yaml: something else than CléA people ask about (another certificate, an
    exam, a benefit, a service). `line`: what the bot says (it is not CléA); `kind`
    groups them; `diploma`: a diploma people may state they hold ("j'ai le bac"), which
    is then a fact about them, not a question about it."""

    id: str
    kind: str
    name: str
    words: tuple[str, ...]
    line: str = ""
    diploma: bool = False


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    options: tuple[Option, ...]
    optional: bool = False
    help: str = ""  # one line said when a typed answer is not one of the options
    # Only typed phrases that say "je…" themselves ("je lis mal") state a fact about this
    # question outside it: its short answers ("difficile") are about anything in a sentence.
    explicit_facts: bool = False
    # Phrases that fit two options ("c'est pas mon fort": sometimes or very hard?): no
    # answer, the question comes again with its help.
    between: tuple[str, ...] = ()

    def option(self, option_id: str) -> Option | None:
        return next((o for o in self.options if o.id == option_id), None)


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class FitRule:
    id: str
    when: dict[str, frozenset[str]]
    messages: tuple[str, ...]
    headline: bool = False
    buttons: tuple[str, ...] = ()
    first: bool = False  # shown before the headline (reading help comes before CléA)
    links: tuple[Link, ...] = ()
    sources: tuple[Source, ...] = ()

    def matches(self, answers: Mapping[str, str | None]) -> bool:
        return all(answers.get(q) in values for q, values in self.when.items())


@dataclass(frozen=True)
class Contact:
    url: str | None = None
    phone: str | None = None
    phone_note: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class Organisation:
    id: str
    name: str
    kind: str  # evaluator | adviser | resource
    audience: frozenset[str]
    regions: frozenset[str]  # empty with departements empty = national
    departements: frozenset[str]
    why: str
    contact: Contact
    sources: tuple[Source, ...]
    checked: dt.date
    local: bool = False  # comes from the deployer's extra file
    button: str | None = None  # short label of its link button (phones cut long ones)

    @property
    def button_label(self) -> str:
        return self.button or self.name

    @property
    def national(self) -> bool:
        return not self.regions and not self.departements


@dataclass(frozen=True)
class FaqEntry:
    id: str
    answer: tuple[str, ...]
    examples: tuple[str, ...]
    goto: str | None = None
    goto_label: str | None = None
    sources: tuple[Source, ...] = ()
    title: str = ""  # short button label, for "Vouliez-vous parler de…"
    personal_cost: bool = False  # also say the person's own cost line when it is known


@dataclass(frozen=True)
class Knowledge:
    sources: dict[str, Source]
    about: dict[str, Block]
    domains_intro: Block
    domains: tuple[Domain, ...]
    modules_intro: Block
    modules: tuple[Module, ...]
    procedure: tuple[Step, ...]
    questions: tuple[Question, ...]
    fit_rules: tuple[FitRule, ...]
    organisations: tuple[Organisation, ...]
    faq: tuple[FaqEntry, ...]
    small_talk: dict[str, tuple[str, ...]] = field(default_factory=dict)
    discover_tour: tuple[str, ...] = ()
    costs: dict[str, Block] = field(default_factory=dict)  # by cost key (knowledge.costs)
    money: dict[str, MoneyFact] = field(default_factory=dict)  # dated amounts and rules
    typed: Typed = field(default_factory=Typed)
    subjects: tuple[Subject, ...] = ()
    expired: tuple[str, ...] = ()  # dated facts past their day, dropped from the content
    # Screens, topics, deep-link codes and commands (screens.yaml).
    vocabulary: Vocabulary = field(default_factory=Vocabulary)

    def cost_for(self, answers: dict[str, str], departement: str | None = None) -> Block | None:
        """The one cost line for this person (fit answers, and the place when known)."""
        from knowledge.costs import cost_key

        return self.costs.get(cost_key(answers, departement)) or self.costs.get("other")

    def domain(self, domain_id: int) -> Domain | None:
        return next((d for d in self.domains if d.id == domain_id), None)

    def step_index(self, step_id: str) -> int:
        return next(i for i, s in enumerate(self.procedure) if s.id == step_id)

    def module(self, module_id: str) -> Module | None:
        return next((m for m in self.modules if m.id == module_id), None)

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def fit_result(self, answers: dict[str, str]) -> list[FitRule]:
        """Rules marked `first`, then the headline rule (first one that matches), then every
        other matching advice. Empty when answers are missing (the loader checks that
        complete answers always find a headline)."""
        headline = next((r for r in self.fit_rules if r.headline and r.matches(answers)), None)
        if headline is None:
            return []
        matching = [r for r in self.fit_rules if not r.headline and r.matches(answers)]
        return [r for r in matching if r.first] + [headline] + [r for r in matching if not r.first]
