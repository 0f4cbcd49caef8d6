"""Load and validate the content files into a `Knowledge` object.

Content is edited by people who are not developers, so every problem is reported with
the file, the entry and what is wrong, and all problems are collected before failing:
fixing one error at a time is discouraging.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from knowledge.amounts import MONEY_FILE, NOT_SAID, amounts_in, strings_in
from knowledge.costs import COST_KEYS
from knowledge.model import (
    Block,
    Contact,
    Domain,
    FaqEntry,
    FitRule,
    Knowledge,
    Link,
    Module,
    MoneyFact,
    Option,
    Organisation,
    Preference,
    Question,
    Source,
    Step,
    Subject,
    Typed,
)
from knowledge.vocabulary import VOCABULARY_FILE, Vocabulary, parse_vocabulary

CONTENT_DIR = Path(__file__).parent / "content"
SHIPPED_CONFIDENCE = {"H", "M"}
KINDS = {"evaluator", "adviser", "resource"}
AUDIENCES = {
    "employee",
    "job_seeker",
    "young",
    "disability",
    "self_employed",
    "public_agent",
    "all",
}
MAX_BUTTON_LABEL = 28  # characters, emoji included: longer labels are cut on phones
ID_RE = re.compile(r"^[a-z0-9_]{1,40}$")
FACT_RE = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class Problem:
    file: str
    entry: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file} › {self.entry}" if self.entry else self.file
        return f"{where} : {self.message}"


class ContentError(Exception):
    """Raised with every problem found; str() lists them one per line."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class Reader:
    """Field access that records problems instead of raising at the first one.

    `today` dates the facts: a message written `{text: …, valid_until: 2026-12-31}` is
    dropped after that day and listed in `expired`, which `clea-bot check` reports."""

    def __init__(self, file: str, today: dt.date | None = None):
        self.file = file
        self.today = today or dt.date.today()
        self.problems: list[Problem] = []
        self.expired: list[Problem] = []
        # Filled from money.yaml before the other files are read: "{participation}" in a
        # text says that fact; an item {cost: <key>} stands for that cost line's messages.
        self.money: dict[str, MoneyFact] = {}
        self.costs: dict[str, Block] = {}

    def problem(self, entry: str, message: str) -> None:
        self.problems.append(Problem(self.file, entry, message))

    def field(
        self,
        data: Any,
        key: str,
        kind: type | tuple[type, ...],
        entry: str,
        required: bool = True,
        default: Any = None,
    ) -> Any:
        if not isinstance(data, dict):
            self.problem(entry, "doit être une liste de champs (clé: valeur)")
            return default
        if key not in data or data[key] is None:
            if required:
                self.problem(entry, f"champ « {key} » manquant")
            return default
        value = data[key]
        if kind is str and isinstance(value, str) and not value.strip():
            self.problem(entry, f"champ « {key} » vide")
            return default
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            self.problem(entry, f"champ « {key} » : type {type(value).__name__}, attendu {names}")
            return default
        return value

    def strings(self, data: Any, key: str, entry: str, required: bool = True) -> tuple[str, ...]:
        values = self.field(data, key, list, entry, required, default=[])
        out = []
        for i, v in enumerate(values):
            if not isinstance(v, str) or not v.strip():
                self.problem(entry, f"« {key} »[{i}] doit être un texte non vide")
            else:
                out.append(v.strip())
        if required and values and not out:
            self.problem(entry, f"« {key} » est vide")
        return tuple(out)

    def texts(self, data: Any, key: str, entry: str, required: bool = True) -> tuple[str, ...]:
        """Messages: plain texts, dated facts {text, valid_until} kept until that day, and
        {cost: <key>} for a cost line of money.yaml. "{fact}" says a fact of money.yaml."""
        values = self.field(data, key, list, entry, required, default=[])
        out: list[str] = []
        hidden = False  # a message dropped because a fact it says has expired
        for i, v in enumerate(values):
            where = f"{entry}.{key}[{i}]"
            if isinstance(v, dict) and "cost" in v:
                line = self.costs.get(str(v["cost"]))
                if line is None:
                    self.problem(
                        entry,
                        f"ligne de coût inconnue « {v['cost']} » "
                        "(à déclarer dans money.yaml, « costs »)",
                    )
                else:
                    out.extend(line.messages)
                continue
            if isinstance(v, dict):
                text = self.field(v, "text", str, where)
                until = self.field(v, "valid_until", dt.date, where)
                if text is None or until is None:
                    continue
                if until < self.today:
                    self.expired.append(
                        Problem(
                            self.file,
                            entry,
                            (
                                f"fait daté expiré le {until:%d/%m/%Y} : « {text[:60]} » "
                                "(vérifiez-le et mettez à jour le texte et la date)"
                            ),
                        )
                    )
                    hidden = True
                    continue
            elif not isinstance(v, str) or not v.strip():
                self.problem(entry, f"« {key} »[{i}] doit être un texte non vide")
                continue
            else:
                text = v
            said = self.say_facts(text.strip(), entry)
            if said is None:
                hidden = True
            else:
                out.append(said)
        if required and values and not out and not hidden:
            self.problem(entry, f"« {key} » est vide")
        return tuple(out)

    def say_facts(self, text: str, entry: str) -> str | None:
        """`text` with each "{fact}" replaced by how money.yaml says it; None (and the
        message hidden) when a fact it needs is past its `valid_until`."""
        if self.file not in NOT_SAID:
            for amount in amounts_in(text):
                self.problem(
                    entry,
                    f"montant « {amount} » écrit dans le texte : mettez-le "
                    "dans money.yaml, avec sa source et ses dates",
                )
        missing = False

        def say(m: re.Match[str]) -> str:
            nonlocal missing
            fact = self.money.get(m.group(1))
            if fact is None:
                self.problem(
                    entry,
                    f"fait inconnu « {{{m.group(1)}}} » (à déclarer dans money.yaml, « facts »)",
                )
                return str(m.group(0))
            if fact.valid_until < self.today:
                missing = True
            return fact.said

        said = FACT_RE.sub(say, text)
        return None if missing else said

    def unique(self, seen: set[Any], value: Any, entry: str) -> None:
        if value in seen:
            self.problem(entry, f"identifiant « {value} » en double")
        seen.add(value)


# libyaml's loader when PyYAML was built with it: the same safe loading, several times faster.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path, reader: Reader) -> Any:
    try:
        with path.open(encoding="utf-8") as f:
            return yaml.load(f, Loader=_SafeLoader)
    except FileNotFoundError:
        reader.problem("", "fichier introuvable")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"ligne {mark.line + 1}" if mark else ""
        reader.problem(line, f"YAML illisible : {getattr(exc, 'problem', exc)}")
    return None


def _load_sources(path: Path, r: Reader) -> dict[str, Source]:
    data = read_yaml(path, r)
    raw = r.field(data, "sources", dict, "sources", default={}) if data is not None else {}
    sources = {}
    for sid, s in raw.items():
        entry = f"sources.{sid}"
        url = r.field(s, "url", str, entry)
        title = r.field(s, "title", str, entry)
        checked = r.field(s, "checked", dt.date, entry)
        confidence = r.field(s, "confidence", str, entry)
        if confidence is not None and confidence not in SHIPPED_CONFIDENCE:
            r.problem(entry, f"confiance « {confidence} » : seules H et M sont publiées")
        if None not in (url, title, checked, confidence):
            sources[sid] = Source(sid, url, title, checked, confidence)
    return sources


def _load_money(
    path: Path, r: Reader, sources: dict[str, Source]
) -> tuple[dict[str, MoneyFact], dict[str, Block]]:
    """money.yaml: dated, sourced facts first, then the cost lines that use them."""
    data = read_yaml(path, r)
    facts: dict[str, MoneyFact] = {}
    raw = r.field(data, "facts", dict, "facts", default={}) if data is not None else {}
    for fid, item in raw.items():
        entry = f"facts.{fid}"
        said = r.field(item, "said", str, entry)
        start = r.field(item, "valid_from", dt.date, entry)
        until = r.field(item, "valid_until", dt.date, entry)
        refs = _source_refs(r, item, entry, sources)
        if not ID_RE.match(str(fid)):
            r.problem(entry, "identifiant : lettres minuscules, chiffres et _ seulement")
        if start and until and until < start:
            r.problem(entry, "« valid_until » avant « valid_from »")
        if said is None or start is None or until is None or not refs:
            continue
        if until < r.today:
            r.expired.append(
                Problem(
                    r.file,
                    entry,
                    (
                        f"fait daté expiré le {until:%d/%m/%Y} : « {said[:60]} » (vérifiez-le, "
                        "puis mettez à jour le texte, la source et les dates)"
                    ),
                )
            )
        facts[str(fid)] = MoneyFact(str(fid), said.strip(), refs, start, until)
    r.money = facts
    costs: dict[str, Block] = {}
    raw = r.field(data, "costs", dict, "costs", default={}) if data is not None else {}
    for key, item in raw.items():
        entry = f"costs.{key}"
        if key not in COST_KEYS:
            r.problem(entry, f"situation inconnue « {key} » (attendu : {', '.join(COST_KEYS)})")
        messages = r.texts(item, "messages", entry)
        refs = _source_refs(r, item, entry, sources)
        if messages:
            costs[str(key)] = Block(str(key), str(key), messages, refs)
    if data is not None:
        for key in COST_KEYS:
            if key not in raw:
                r.problem("costs", f"pas de ligne de coût pour « {key} »")
    return facts, costs


def _amounts_outside_money(content_dir: Path, readers: dict[str, Reader]) -> None:
    """Texts read field by field (titles, steps, domains) are checked here, whole file."""
    for name, r in readers.items():
        path = content_dir / name
        if name in NOT_SAID or not path.exists() or r.problems:
            continue
        data = read_yaml(path, r)
        for where, text in strings_in(data):
            for amount in amounts_in(text):
                r.problem(
                    where,
                    f"montant « {amount} » écrit dans le texte : mettez-le "
                    "dans money.yaml, avec sa source et ses dates",
                )


def _source_refs(
    r: Reader, data: Any, entry: str, sources: dict[str, Source]
) -> tuple[Source, ...]:
    ids = r.strings(data, "sources", entry)
    out = []
    for sid in ids:
        if sid not in sources:
            r.problem(entry, f"source inconnue « {sid} » (à déclarer dans sources.yaml)")
        else:
            out.append(sources[sid])
    return tuple(out)


def _block(r: Reader, data: Any, entry: str, sources: dict[str, Source]) -> Block | None:
    bid = r.field(data, "id", str, entry)
    title = r.field(data, "title", str, entry)
    messages = r.texts(data, "messages", entry)
    refs = _source_refs(r, data, entry, sources)
    if bid is None or title is None or not messages:
        return None
    return Block(bid, title, messages, refs)


def _entries(r: Reader, data: Any, key: str) -> list[tuple[str, Any]]:
    items = r.field(data, key, list, key, default=[]) if data is not None else []
    out = []
    for i, item in enumerate(items):
        label = item.get("id") if isinstance(item, dict) else None
        out.append((f"{key}[{i}]" + (f" (id {label})" if label is not None else ""), item))
    return out


def _load_clea(path: Path, r: Reader, sources: dict[str, Source]) -> dict[str, Any]:
    """clea.yaml: what CléA is (blocks), its 7 domains, its modules and its procedure."""
    data = read_yaml(path, r)
    about: dict[str, Block] = {}
    for entry, item in _entries(r, data, "about"):
        block = _block(r, item, entry, sources)
        if block:
            r.unique(set(about), block.id, entry)
            about[block.id] = block
    intro = _block(r, (data or {}).get("domains_intro"), "domains_intro", sources)
    mod_intro = _block(r, (data or {}).get("modules_intro"), "modules_intro", sources)
    domains = _domains(r, data, sources)
    modules = _modules(r, data, sources)
    steps = _procedure(r, data, sources)
    tour = r.strings(data, "discover_tour", "discover_tour") if data is not None else ()
    for block_id in tour:
        if block_id not in about:
            r.problem("discover_tour", f"bloc inconnu « {block_id} » (à déclarer dans « about »)")
    return {
        "about": about,
        "domains_intro": intro,
        "domains": domains,
        "modules_intro": mod_intro,
        "modules": modules,
        "procedure": steps,
        "discover_tour": tour,
    }


def _domains(r: Reader, data: Any, sources: dict[str, Source]) -> tuple[Domain, ...]:
    domains: list[Domain] = []
    seen: set[Any] = set()
    for entry, item in _entries(r, data, "domains"):
        did = r.field(item, "id", int, entry)
        official, label, emoji, plain, example = (
            r.field(item, k, str, entry)
            for k in ("official_title", "label", "emoji", "plain", "example")
        )
        refs = _source_refs(r, item, entry, sources)
        r.unique(seen, did, entry)
        if None not in (did, official, label, emoji, plain, example):
            domains.append(Domain(did, official, label, emoji, plain, example, refs))
    if data is not None and len(domains) != 7:
        r.problem("domains", f"{len(domains)} domaines valides, il en faut 7")
    return tuple(domains)


def _modules(r: Reader, data: Any, sources: dict[str, Source]) -> tuple[Module, ...]:
    modules: list[Module] = []
    seen: set[Any] = set()
    for entry, item in _entries(r, data, "modules"):
        mid = r.field(item, "id", str, entry)
        title = r.field(item, "title", str, entry)
        emoji = r.field(item, "emoji", str, entry)
        messages = r.texts(item, "messages", entry)
        refs = _source_refs(r, item, entry, sources)
        if mid is not None and not ID_RE.match(mid):
            r.problem(entry, f"identifiant « {mid} » : lettres minuscules, chiffres et _ seulement")
        r.unique(seen, mid, entry)
        if None not in (mid, title, emoji) and messages:
            button = r.field(item, "button", bool, entry, required=False, default=True)
            modules.append(Module(mid, title, emoji, messages, refs, button))
    return tuple(modules)


def _procedure(r: Reader, data: Any, sources: dict[str, Source]) -> tuple[Step, ...]:
    """The steps, each branch (choices) and "Retour" pointing at a step that exists."""
    steps: list[Step] = []
    seen: set[Any] = set()
    for entry, item in _entries(r, data, "procedure"):
        sid, title, emoji, text = (
            r.field(item, k, str, entry) for k in ("id", "title", "emoji", "text")
        )
        refs = _source_refs(r, item, entry, sources)
        choices = _choices(r, item, entry)
        back = r.field(item, "back", str, entry, required=False)
        r.unique(seen, sid, entry)
        if None not in (sid, title, emoji, text):
            steps.append(Step(sid, title, emoji, text, refs, choices, back))
    if data is not None and not steps:
        r.problem("procedure", "aucune étape")
    for step in steps:
        for target in [t for _, t in step.choices] + ([step.back] if step.back else []):
            if target not in seen:
                r.problem(f"procedure (id {step.id})", f"étape inconnue « {target} »")
    return tuple(steps)


def _choices(r: Reader, item: Any, entry: str) -> tuple[tuple[str, str], ...]:
    """A step's branch buttons: (label, step id)."""
    choices = []
    for j, c in enumerate(r.field(item, "choices", list, entry, required=False, default=[])):
        label = r.field(c, "label", str, f"{entry}.choices[{j}]")
        target = r.field(c, "step", str, f"{entry}.choices[{j}]")
        if label and len(label) > MAX_BUTTON_LABEL:
            r.problem(entry, f"bouton « {label} » : {MAX_BUTTON_LABEL} caractères au plus")
        if label and target:
            choices.append((label, target))
    return tuple(choices)


def _links(r: Reader, item: Any, entry: str) -> tuple[Link, ...]:
    out = []
    for i, raw in enumerate(r.field(item, "links", list, entry, required=False, default=[])):
        label = r.field(raw, "label", str, f"{entry}.links[{i}]")
        url = r.field(raw, "url", str, f"{entry}.links[{i}]")
        if url and not url.startswith("https://"):
            r.problem(entry, f"lien « {url} » : l'adresse doit commencer par https://")
        if label and len(label) > MAX_BUTTON_LABEL:
            r.problem(entry, f"bouton « {label} » : {MAX_BUTTON_LABEL} caractères au plus")
        if label and url:
            out.append(Link(label, url))
    return tuple(out)


def _load_options(r: Reader, item: Any, entry: str) -> list[Option]:
    """The options of one fit question; `over` names other options of the same question."""
    options: list[Option] = []
    seen_opt: set[Any] = set()
    for j, opt in enumerate(r.field(item, "options", list, entry, default=[])):
        oentry = f"{entry}.options[{j}]"
        oid = r.field(opt, "id", str, oentry)
        label = r.field(opt, "label", str, oentry)
        typed = r.strings(opt, "typed", oentry, required=False)
        alone = r.strings(opt, "alone", oentry, required=False)
        asks_nothing = r.field(opt, "asks_nothing", bool, oentry, required=False, default=False)
        over = r.strings(opt, "over", oentry, required=False)
        if label and len(label) > MAX_BUTTON_LABEL:
            r.problem(oentry, f"libellé « {label} » : {MAX_BUTTON_LABEL} caractères au plus")
        r.unique(seen_opt, oid, oentry)
        if oid is not None and label is not None:
            options.append(Option(oid, label, typed, alone, bool(asks_nothing), over))
    ids = {o.id for o in options}
    for o in options:
        for other in o.over:
            if other not in ids or other == o.id:
                r.problem(f"{entry}.{o.id}.over", f"« {other} » n'est pas une autre option")
    return options


def _load_fit(
    path: Path, r: Reader, sources: dict[str, Source]
) -> tuple[tuple[Question, ...], tuple[FitRule, ...]]:
    data = read_yaml(path, r)
    questions: list[Question] = []
    seen: set[Any] = set()
    for entry, item in _entries(r, data, "questions"):
        qid = r.field(item, "id", str, entry)
        text = r.field(item, "text", str, entry)
        optional = r.field(item, "optional", bool, entry, required=False, default=False)
        help_line = r.field(item, "help", str, entry, required=False, default="")
        explicit = r.field(item, "explicit_facts", bool, entry, required=False, default=False)
        options = _load_options(r, item, entry)
        between = r.strings(item, "between", entry, required=False)
        r.unique(seen, qid, entry)
        if qid is not None and text is not None and options:
            questions.append(
                Question(
                    qid, text, tuple(options), optional, help_line or "", bool(explicit), between
                )
            )
    by_id = {q.id: q for q in questions}

    rules, seen = [], set()
    for entry, item in _entries(r, data, "rules"):
        rid = r.field(item, "id", str, entry)
        when_raw = r.field(item, "when", dict, entry, default={})
        when = {}
        for qid, values in when_raw.items():
            q = by_id.get(qid)
            if q is None:
                r.problem(entry, f"question inconnue « {qid} » dans « when »")
                continue
            if not isinstance(values, list):
                r.problem(entry, f"« when.{qid} » doit être une liste d'options")
                continue
            for v in values:
                if q.option(str(v)) is None:
                    r.problem(entry, f"option inconnue « {v} » pour la question « {qid} »")
            when[qid] = frozenset(str(v) for v in values)
        messages = r.texts(item, "messages", entry)
        headline = r.field(item, "headline", bool, entry, required=False, default=False)
        first = r.field(item, "first", bool, entry, required=False, default=False)
        buttons = r.strings(item, "buttons", entry, required=False)
        for b in buttons:
            _check_topic(r, entry, b)
        refs = _source_refs(r, item, entry, sources)
        r.unique(seen, rid, entry)
        if rid is not None and messages:
            rules.append(
                FitRule(rid, when, messages, headline, buttons, first, _links(r, item, entry), refs)
            )
    if data is not None and "costs" in data:
        r.problem("costs", "les lignes de coût sont dans money.yaml (« costs »)")
    return tuple(questions), tuple(rules)


def _check_topic(r: Reader, entry: str, topic: str) -> None:
    """The form of a topic here; whether it exists is checked in _check_cross_references."""
    if not re.match(r"^[a-z_]+(:[a-z0-9_]+)?$", topic):
        r.problem(
            entry, f"destination « {topic} » mal écrite (ex. « steps », « module:numerique »)"
        )


def _load_directory(
    path: Path, r: Reader, sources: dict[str, Source], local: bool = False
) -> tuple[Organisation, ...]:
    data = read_yaml(path, r)
    orgs: list[Organisation] = []
    seen: set[Any] = set()
    for entry, item in _entries(r, data, "organisations"):
        oid = r.field(item, "id", str, entry)
        name = r.field(item, "name", str, entry)
        kind = r.field(item, "kind", str, entry)
        why = r.field(item, "why", str, entry)
        checked = r.field(item, "checked", dt.date, entry)
        audience = r.strings(item, "audience", entry)
        if kind is not None and kind not in KINDS:
            r.problem(entry, f"type « {kind} » inconnu (attendu : {', '.join(sorted(KINDS))})")
        for a in audience:
            if a not in AUDIENCES:
                r.problem(
                    entry, f"public « {a} » inconnu (attendu : {', '.join(sorted(AUDIENCES))})"
                )
        regions, deps = _coverage(r, item, entry)
        c = r.field(item, "contact", dict, entry, default={})
        contact = Contact(
            **{
                k: (str(c[k]) if c.get(k) is not None else None)
                for k in ("url", "phone", "phone_note", "address")
            }
        )
        if not (contact.url or contact.phone or contact.address):
            r.problem(entry, "contact vide : il faut au moins un site, un téléphone ou une adresse")
        if contact.url and not contact.url.startswith("https://"):
            r.problem(entry, f"site « {contact.url} » : l'adresse doit commencer par https://")
        button = r.field(item, "button", str, entry, required=False)
        if len(button or name or "") > MAX_BUTTON_LABEL - 2:
            r.problem(
                entry,
                f"« button » : {MAX_BUTTON_LABEL - 2} caractères au plus "
                "(le nom est trop long pour un bouton)",
            )
        refs = _local_sources(r, item, entry) if local else _source_refs(r, item, entry, sources)
        r.unique(seen, oid, entry)
        if None not in (oid, name, kind, why, checked):
            orgs.append(
                Organisation(
                    oid,
                    name,
                    kind,
                    frozenset(audience),
                    regions,
                    deps,
                    why,
                    contact,
                    refs,
                    checked,
                    local,
                    button,
                )
            )
    return tuple(orgs)


def _local_sources(r: Reader, item: Any, entry: str) -> tuple[Source, ...]:
    """A deployer's entries name their source inline: {url, checked}."""
    raw = r.field(item, "sources", list, entry, default=[])
    out = []
    for i, s in enumerate(raw):
        url = r.field(s, "url", str, f"{entry}.sources[{i}]")
        checked = r.field(s, "checked", dt.date, f"{entry}.sources[{i}]")
        if url and checked:
            out.append(Source(f"local-{i}", url, url, checked, "M"))
    if not raw:
        r.problem(entry, "champ « sources » manquant")
    return tuple(out)


def _coverage(r: Reader, item: Any, entry: str) -> tuple[frozenset[str], frozenset[str]]:
    from knowledge.geography import DEPARTEMENT_REGION, REGIONS

    cov = item.get("coverage") if isinstance(item, dict) else None
    if cov == "national":
        return frozenset(), frozenset()
    if not isinstance(cov, dict) or not (cov.get("regions") or cov.get("departements")):
        r.problem(
            entry, "« coverage » : « national », ou {regions: [...]} ou {departements: [...]}"
        )
        return frozenset(), frozenset()
    regions = frozenset(str(x) for x in cov.get("regions") or [])
    deps = frozenset(str(x).zfill(2) for x in cov.get("departements") or [])
    for x in regions - set(REGIONS):
        r.problem(entry, f"région « {x} » inconnue (code INSEE, ex. 84)")
    for x in deps - set(DEPARTEMENT_REGION):
        r.problem(entry, f"département « {x} » inconnu (ex. 42, 2A, 974)")
    return regions, deps


def _load_faq(
    path: Path, r: Reader, sources: dict[str, Source]
) -> tuple[tuple[FaqEntry, ...], dict[str, tuple[str, ...]]]:
    data = read_yaml(path, r)
    entries: list[FaqEntry] = []
    seen: set[Any] = set()
    for entry, item in _entries(r, data, "entries"):
        fid = r.field(item, "id", str, entry)
        title = r.field(item, "title", str, entry)
        if title and len(title) > MAX_BUTTON_LABEL:
            r.problem(entry, f"titre « {title} » : {MAX_BUTTON_LABEL} caractères au plus")
        answer = r.texts(item, "answer", entry)
        examples = r.strings(item, "examples", entry)
        refs = _source_refs(r, item, entry, sources)
        if answer and answer[0].split()[0].rstrip(".,!") in ("Oui", "Non"):
            r.problem(
                entry,
                "la réponse commence par « Oui » ou « Non » : dites le fait "
                "d'abord (la question peut être posée à l'envers)",
            )
        personal = r.field(item, "personal_cost", bool, entry, required=False, default=False)
        goto = r.field(item, "goto", str, entry, required=False)
        goto_label = r.field(item, "goto_label", str, entry, required=goto is not None)
        if goto:
            _check_topic(r, entry, goto)
        r.unique(seen, fid, entry)
        if fid is not None and answer and examples:
            entries.append(
                FaqEntry(fid, answer, examples, goto, goto_label, refs, title or fid, personal)
            )
    small_talk = {}
    raw = r.field(data, "small_talk", dict, "small_talk", default={}) if data is not None else {}
    for key in raw:
        small_talk[key] = r.strings(raw, key, f"small_talk.{key}")
    return tuple(entries), small_talk


NAVIGATION_ACTIONS = {"menu", "back", "resume", "restart", "help", "simpler"}


def _load_typed(path: Path, r: Reader) -> Typed:
    data = read_yaml(path, r)
    if data is None:
        return Typed()
    nav = r.field(data, "navigation", dict, "navigation", default={})
    navigation = {}
    for action in nav:
        if action not in NAVIGATION_ACTIONS:
            r.problem(
                f"navigation.{action}",
                f"action inconnue (attendu : {', '.join(sorted(NAVIGATION_ACTIONS))})",
            )
        navigation[str(action)] = r.strings(nav, action, f"navigation.{action}")
    # "oui"/"non" as keys: YAML reads a bare yes/no as true/false.
    optional = {
        key: r.strings(data, key, key, required=False)
        for key in (
            "ok",
            "dont_know",
            "dont_know_hedges",
            "doubts",
            "place_cues",
            "handoff",
            "call",
            "clea_names",
            "comparison",
            "not_places",
            "corrections",
        )
    }
    by_topic = r.field(data, "topics", dict, "topics", required=False, default={})
    topic_phrases = {str(t): r.strings(by_topic, t, f"topics.{t}") for t in by_topic or {}}
    prefer = []
    for i, item in enumerate(r.field(data, "prefer", list, "prefer", required=False, default=[])):
        entry = f"prefer[{i}]"
        topic = r.field(item, "topic", str, entry)
        instead_of = r.field(item, "instead_of", str, entry)
        phrases = r.strings(item, "phrases", entry)
        if topic and instead_of and phrases:
            prefer.append(Preference(topic, instead_of, phrases))
    retired_from = r.field(data, "retired_from", int, "retired_from", required=False)
    if retired_from is not None and not 26 <= retired_from <= 99:
        r.problem("retired_from", f"{retired_from} : un âge entre 26 et 99 ans est attendu")
        retired_from = None
    return Typed(
        r.strings(data, "oui", "oui"),
        r.strings(data, "non", "non"),
        r.strings(data, "politeness", "politeness"),
        navigation,
        **optional,
        topics=topic_phrases,
        prefer=tuple(prefer),
        retired_from=retired_from,
    )


SUBJECT_KINDS = {"certificate", "exam", "training", "benefit", "service", "other"}


def _load_subjects(path: Path, r: Reader) -> tuple[Subject, ...]:
    data = read_yaml(path, r)
    out: list[Subject] = []
    seen: set[Any] = set()
    for entry, item in _entries(r, data, "subjects"):
        sid = r.field(item, "id", str, entry)
        kind = r.field(item, "kind", str, entry)
        name = r.field(item, "name", str, entry)
        words = r.strings(item, "words", entry)
        line = r.field(item, "line", str, entry, required=False, default="")
        diploma = r.field(item, "diploma", bool, entry, required=False, default=False)
        if kind is not None and kind not in SUBJECT_KINDS:
            r.problem(
                entry, f"kind « {kind} » inconnu (attendu : {', '.join(sorted(SUBJECT_KINDS))})"
            )
        for w in words:
            if "clea" in w.lower().replace("é", "e").split():
                r.problem(entry, f"« {w} » nomme CléA : un sujet est autre chose que CléA")
        r.unique(seen, sid, entry)
        if sid and kind and name and words:
            out.append(Subject(sid, kind, name, words, line or "", bool(diploma)))
    return tuple(out)


def load(
    content_dir: Path | None = None,
    extra_directory: Path | None = None,
    today: dt.date | None = None,
) -> Knowledge:
    """Read every content file; raise ContentError listing all problems at once.
    `today` decides which dated facts are still shown (see Reader.texts)."""
    content_dir = content_dir or CONTENT_DIR
    readers = {
        name: Reader(name, today)
        for name in (
            "sources.yaml",
            MONEY_FILE,
            "clea.yaml",
            "fit.yaml",
            "directory.yaml",
            "faq.yaml",
            "typed.yaml",
            "subjects.yaml",
            VOCABULARY_FILE,
        )
    }
    sources = _load_sources(content_dir / "sources.yaml", readers["sources.yaml"])
    money, costs = _load_money(content_dir / MONEY_FILE, readers[MONEY_FILE], sources)
    for rd in readers.values():
        rd.money, rd.costs = money, costs
    clea = _load_clea(content_dir / "clea.yaml", readers["clea.yaml"], sources)
    questions, rules = _load_fit(content_dir / "fit.yaml", readers["fit.yaml"], sources)
    orgs = _load_directory(content_dir / "directory.yaml", readers["directory.yaml"], sources)
    if extra_directory is not None:
        extra = Reader(str(extra_directory), today)
        readers[str(extra_directory)] = extra
        local = _load_directory(extra_directory, extra, sources, local=True)
        clash = {o.id for o in orgs} & {o.id for o in local}
        for oid in sorted(clash):
            extra.problem(f"id {oid}", "identifiant déjà utilisé dans directory.yaml")
        orgs = local + orgs
    faq, small_talk = _load_faq(content_dir / "faq.yaml", readers["faq.yaml"], sources)
    typed = _load_typed(content_dir / "typed.yaml", readers["typed.yaml"])
    subjects = (
        _load_subjects(content_dir / "subjects.yaml", readers["subjects.yaml"])
        if (content_dir / "subjects.yaml").exists()
        else ()
    )
    vocabulary = parse_vocabulary(
        read_yaml(content_dir / VOCABULARY_FILE, readers[VOCABULARY_FILE]),
        readers[VOCABULARY_FILE],
    )
    _amounts_outside_money(content_dir, readers)

    problems = [p for rd in readers.values() for p in rd.problems]
    knowledge = None
    if not problems:
        expired = tuple(str(p) for rd in readers.values() for p in rd.expired)
        knowledge = Knowledge(
            sources=sources,
            questions=questions,
            fit_rules=rules,
            organisations=orgs,
            faq=faq,
            small_talk=small_talk,
            costs=costs,
            money=money,
            expired=expired,
            typed=typed,
            subjects=subjects,
            vocabulary=vocabulary,
            **clea,
        )
        problems = _check_cross_references(knowledge)
    if problems:
        raise ContentError(problems)
    assert knowledge is not None
    return knowledge


def load_vocabulary(content_dir: Path | None = None) -> Vocabulary:
    """screens.yaml alone (the advisers' file checks its codes against the link codes)."""
    r = Reader(VOCABULARY_FILE)
    vocabulary = parse_vocabulary(read_yaml((content_dir or CONTENT_DIR) / VOCABULARY_FILE, r), r)
    if r.problems:
        raise ContentError(r.problems)
    return vocabulary


def topics(knowledge: Knowledge) -> set[str]:
    """Every place of the conversation that content may send the person to (screens.yaml):
    the topics without argument, and those with one for every id of the content."""
    ids: dict[str, list[str]] = {
        "about": list(knowledge.about),
        "domain": [str(d.id) for d in knowledge.domains],
        "step": [str(i) for i in range(len(knowledge.procedure))],
        "module": [m.id for m in knowledge.modules],
    }
    out: set[str] = set()
    for name, screen in knowledge.vocabulary.topics.items():
        if not screen.goto:
            continue
        if screen.argument is None or name != screen.topic:
            out.add(name)  # an alias stands for the topic without argument ("steps")
        else:
            out.update(f"{name}:{i}" for i in ids[screen.argument])
    return out


def _check_cross_references(k: Knowledge) -> list[Problem]:
    problems = []
    known = topics(k)
    for rule in k.fit_rules:
        for b in rule.buttons:
            if b not in known:
                problems.append(
                    Problem("fit.yaml", f"rules (id {rule.id})", f"destination inconnue « {b} »")
                )
    faq_ids = {e.id for e in k.faq}
    for topic in k.typed.topics:
        if topic not in faq_ids:
            problems.append(Problem("typed.yaml", f"topics.{topic}", "sujet inconnu de faq.yaml"))
    for i, p in enumerate(k.typed.prefer):
        for topic in (p.topic, p.instead_of):
            if topic not in faq_ids:
                problems.append(Problem("typed.yaml", f"prefer[{i}]", f"sujet inconnu « {topic} »"))
    for e in k.faq:
        if e.goto and e.goto not in known:
            problems.append(
                Problem("faq.yaml", f"entries (id {e.id})", f"destination inconnue « {e.goto} »")
            )
    # Every possible set of answers must give exactly one headline.
    combos: list[dict[str, str | None]] = [{}]
    for q in k.questions:
        values = [o.id for o in q.options] + ([None] if q.optional else [])
        combos = [{**c, q.id: v} for c in combos for v in values]
    for answers in combos:
        if not any(r.headline and r.matches(answers) for r in k.fit_rules):
            shown = ", ".join(f"{q}={v}" for q, v in answers.items() if v)
            problems.append(
                Problem(
                    "fit.yaml", "rules", f"aucune règle « headline » pour les réponses : {shown}"
                )
            )
            break
    return problems
