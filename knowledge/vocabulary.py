"""The conversation's vocabulary (content/screens.yaml): screens, the topics that open them,
deep-link codes and commands, declared once.

Everything that names a place of the conversation reads it from here: the state machine
(its simple screens and "go to" events), the engine (commands, deep links, screens kept or
said about the person), the loader's cross-checks (where content may send people), the
advisers' codes (a code may not end with a link code), the Telegram command menu and /aide.
Adding a simple screen is an entry here and a template; no code changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from knowledge.loader import Reader

VOCABULARY_FILE = "screens.yaml"
# Parts of the conversation built by the code (dialogs/machine.py); a screen of screens.yaml
# may belong to one of them, to carry its properties (kept, personal, stage).
FLOWS = frozenset({"fact", "fit", "where", "handoff"})
# Topics whose argument comes from the content ("module:numerique").
ARGUMENTS = frozenset({"about", "domain", "step", "module"})
# What a command may do besides opening a topic (dialogs/engine.py does it).
ACTIONS = frozenset({"start", "restart", "voice", "request"})
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
LINK_RE = re.compile(r"^[a-z0-9_]{2,32}$")
MAX_LABEL = 28  # characters: longer button labels are cut on phones
_SCREEN_FIELDS = {
    "screen",
    "topic",
    "aliases",
    "argument",
    "label",
    "link",
    "aside",
    "personal",
    "keep",
    "stage",
    "goto",
    "flow",
}
_COMMAND_FIELDS = {"command", "topic", "action", "description", "aide"}


@dataclass(frozen=True)
class ScreenSpec:
    """One screen of screens.yaml (see the file's header for what each field means).
    `screen` is None for a topic that opens the start of a code-built flow (fit)."""

    screen: str | None
    topic: str | None = None
    aliases: tuple[str, ...] = ()
    argument: str | None = None
    label: str | None = None
    link: str | None = None
    aside: bool = False
    personal: bool = False
    keep: bool = False
    stage: str | None = None
    goto: bool = True
    flow: str | None = None


@dataclass(frozen=True)
class Command:
    """A /command: it opens `topic` or does `action`; listed in the menu with `description`."""

    name: str
    topic: str | None = None
    action: str | None = None
    description: str | None = None
    aide: bool = False


@dataclass(frozen=True)
class Vocabulary:
    """The screens and commands of screens.yaml. The lookups made from them (topics,
    aliases, links, labels, stages, commands by name) are read on every turn: each is
    built once (`cached_property`) and must not be changed by its readers."""

    screens: tuple[ScreenSpec, ...] = ()
    commands: tuple[Command, ...] = ()

    def screen(self, name: str) -> ScreenSpec | None:
        return next((s for s in self.screens if s.screen == name), None)

    @property
    def simple_screens(self) -> tuple[ScreenSpec, ...]:
        """Screens the machine builds from this file alone (not part of a code flow)."""
        return tuple(s for s in self.screens if s.flow is None and s.screen)

    @cached_property
    def topics(self) -> dict[str, ScreenSpec]:
        """Every topic name, aliases included, with its screen."""
        out: dict[str, ScreenSpec] = {}
        for s in self.screens:
            for name in (s.topic, *s.aliases):
                if name:
                    out[name] = s
        return out

    @cached_property
    def aliases(self) -> dict[str, str]:
        """Other names of a topic ("steps") → the topic ("step")."""
        return {a: str(s.topic) for s in self.screens for a in s.aliases}

    @cached_property
    def links(self) -> dict[str, str]:
        """Deep-link codes → the topic they open ("diag" → "fit")."""
        return {s.link: str(s.topic) for s in self.screens if s.link and s.topic}

    @cached_property
    def labels(self) -> dict[str, str]:
        """Button labels by topic name (aliases included)."""
        return {name: s.label for name, s in self.topics.items() if s.label}

    def states_where(self, attribute: str) -> frozenset[str]:
        """Screens with a true property ("aside", "personal", "keep")."""
        return frozenset(str(s.screen) for s in self.screens if s.screen and getattr(s, attribute))

    @cached_property
    def stages(self) -> dict[str, str]:
        """Stage of the path (anonymous figures) by the screen that marks it."""
        return {str(s.screen): s.stage for s in self.screens if s.screen and s.stage}

    @cached_property
    def commands_by_name(self) -> dict[str, Command]:
        return {c.name: c for c in self.commands}

    @property
    def menu(self) -> tuple[tuple[str, str], ...]:
        """(command, description) for the channel's command menu, in the file's order."""
        return tuple((c.name, c.description) for c in self.commands if c.description)


def parse_vocabulary(data: Any, r: Reader) -> Vocabulary:
    """screens.yaml as a `Vocabulary`; every problem recorded on `r` (file › entry : what)."""
    if data is None:
        return Vocabulary()
    raw_screens = r.field(data, "screens", list, "screens", default=[])
    raw_commands = r.field(data, "commands", list, "commands", default=[])
    screens = tuple(
        s
        for i, item in enumerate(raw_screens)
        if (s := _screen(r, item, f"screens[{i}]")) is not None
    )
    commands = tuple(
        c
        for i, item in enumerate(raw_commands)
        if (c := _command(r, item, f"commands[{i}]")) is not None
    )
    vocabulary = Vocabulary(screens, commands)
    _check_unique(r, vocabulary)
    _check_commands(r, vocabulary)
    return vocabulary


def _screen(r: Reader, item: Any, entry: str) -> ScreenSpec | None:
    if not isinstance(item, dict):
        r.problem(entry, "doit être une liste de champs (screen: …, topic: …)")
        return None
    before = len(r.problems)
    for key in sorted(set(item) - _SCREEN_FIELDS):
        r.problem(entry, f"champ inconnu « {key} » (attendu : {', '.join(sorted(_SCREEN_FIELDS))})")
    screen = _name(r, item, "screen", entry, required=False)
    topic = _name(r, item, "topic", entry, required=False)
    flow = r.field(item, "flow", str, entry, required=False)
    if flow is not None and flow not in FLOWS:
        r.problem(entry, f"parcours « {flow} » inconnu (attendu : {', '.join(sorted(FLOWS))})")
    if screen is None and not (flow and topic):
        r.problem(entry, "« screen » manquant (seul un sujet de parcours « flow » s'en passe)")
    argument = r.field(item, "argument", str, entry, required=False)
    if argument is not None and argument not in ARGUMENTS:
        r.problem(entry, f"argument « {argument} » inconnu ({', '.join(sorted(ARGUMENTS))})")
    label = r.field(item, "label", str, entry, required=False)
    if label is not None and len(label) > MAX_LABEL:
        r.problem(entry, f"« label » : {MAX_LABEL} caractères au plus")
    link = r.field(item, "link", str, entry, required=False)
    if link is not None and not LINK_RE.match(link):
        r.problem(entry, f"« link » « {link} » : 2 à 32 caractères parmi a-z 0-9 _")
    if (link or label or argument or item.get("aliases")) and topic is None:
        r.problem(entry, "« link », « label », « argument » et « aliases » vont avec un « topic »")
    aliases = r.strings(item, "aliases", entry, required=False)
    for alias in aliases:
        if not NAME_RE.match(alias):
            r.problem(entry, f"alias « {alias} » : a-z, 0-9 et _ seulement")
    flags = {
        key: r.field(item, key, bool, entry, required=False, default=key == "goto")
        for key in ("aside", "personal", "keep", "goto")
    }
    stage = _name(r, item, "stage", entry, required=False)
    if len(r.problems) > before:
        return None
    return ScreenSpec(
        screen, topic, aliases, argument, label, link, stage=stage, flow=flow, **flags
    )


def _command(r: Reader, item: Any, entry: str) -> Command | None:
    if not isinstance(item, dict):
        r.problem(entry, "doit être une liste de champs (command: …, topic: …)")
        return None
    before = len(r.problems)
    for key in sorted(set(item) - _COMMAND_FIELDS):
        r.problem(
            entry, f"champ inconnu « {key} » (attendu : {', '.join(sorted(_COMMAND_FIELDS))})"
        )
    name = _name(r, item, "command", entry)
    topic = r.field(item, "topic", str, entry, required=False)
    action = r.field(item, "action", str, entry, required=False)
    if (topic is None) == (action is None):
        r.problem(entry, "une commande a soit « topic », soit « action »")
    if action is not None and action not in ACTIONS:
        r.problem(entry, f"action « {action} » inconnue (attendu : {', '.join(sorted(ACTIONS))})")
    description = r.field(item, "description", str, entry, required=False)
    if description is not None and not 3 <= len(description) <= 256:
        r.problem(entry, "« description » : 3 à 256 caractères (règle de Telegram)")
    aide = r.field(item, "aide", bool, entry, required=False, default=False)
    if aide and description is None:
        r.problem(entry, "« aide: true » demande une « description »")
    if len(r.problems) > before or name is None:
        return None
    return Command(name, topic, action, description, aide)


def _name(r: Reader, item: Any, key: str, entry: str, required: bool = True) -> str | None:
    value = r.field(item, key, str, entry, required=required)
    if value is not None and not NAME_RE.match(value):
        r.problem(entry, f"« {key} » « {value} » : a-z, 0-9 et _ seulement, 32 caractères au plus")
        return None
    return None if value is None else str(value)


def _check_unique(r: Reader, v: Vocabulary) -> None:
    """A screen, a topic, a link or a command is declared once."""
    seen: dict[str, set[str]] = {"screen": set(), "topic": set(), "link": set(), "command": set()}

    def once(kind: str, name: str | None, entry: str) -> None:
        if name is None:
            return
        if name in seen[kind]:
            r.problem(entry, f"{kind} « {name} » déclaré deux fois")
        seen[kind].add(name)

    for s in v.screens:
        entry = f"screens ({s.screen or s.topic})"
        once("screen", s.screen, entry)
        for name in (s.topic, *s.aliases):
            once("topic", name, entry)
        once("link", s.link, entry)
    for c in v.commands:
        once("command", c.name, f"commands ({c.name})")


def _check_commands(r: Reader, v: Vocabulary) -> None:
    """A command opens a declared topic."""
    topics = v.topics
    for c in v.commands:
        if c.topic is not None and c.topic not in topics:
            r.problem(f"commands ({c.name})", f"sujet inconnu « {c.topic} »")
