"""Advisers as the local network: who they are, what they cover, who is named on a recap.

The deployer declares advisers in a YAML file (path given by the caller, CLEA_ADVISERS):

    advisers:
      - telegram_id: 123456789
        code: mlyon                       # their link: https://t.me/<bot>?start=mlyon
        name: "Camille"                   # shown to nobody but the adviser and the team
        organisation: "Mission locale de Lyon"   # shown to people
        coverage: ["69", "01004"]         # départements and/or INSEE commune codes
        contact: {address: "…", phone: "04 …", url: "https://…", hours: "lun-ven 9h-17h"}
        handoff: true                     # receives contact requests (default true)

A bare top-level list is accepted too. Every problem is reported as `file › entry : problem`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowledge.geography import ARRONDISSEMENTS, DEPARTEMENT_NAME, Place
from knowledge.loader import ContentError, Problem, Reader, load_vocabulary, read_yaml

CODE_RE = re.compile(r"^[a-z0-9_-]{3,32}$")
INSEE_RE = re.compile(r"^(?:\d{5}|2[AB]\d{3})$")
CONTACT_FIELDS = ("address", "phone", "url", "hours")
ARRONDISSEMENT_CODES = frozenset(ARRONDISSEMENTS.values())
PLM_CITY = {"75": "75056", "69": "69123", "13": "13055"}  # Paris, Lyon, Marseille


@dataclass(frozen=True)
class Adviser:
    telegram_id: int
    code: str
    name: str
    organisation: str = ""
    departements: frozenset[str] = field(default_factory=frozenset)
    communes: frozenset[str] = field(default_factory=frozenset)
    contact: dict[str, str] = field(default_factory=dict)
    handoff: bool = True

    @property
    def shown_name(self) -> str:
        """What people read: the organisation, else the adviser's name."""
        return self.organisation or self.name


def load_advisers(path: Path | None, links: Collection[str] | None = None) -> dict[int, Adviser]:
    """Advisers by Telegram id; ContentError naming the file and entry on any problem.

    Read like the content files (knowledge.loader.Reader): every problem is collected
    before failing, so a deployer fixes the whole file in one go. `links`: the deep-link
    codes of the conversation (screens.yaml, read from the shipped content by default): an
    adviser's code may not be one or end with one (« mlyon-diag » is a link to the fit check)."""
    if path is None:
        return {}
    reserved = frozenset(load_vocabulary().links if links is None else links)
    r = Reader(str(path))
    data = read_yaml(path, r)
    if r.problems:
        raise ContentError(r.problems)
    items = data.get("advisers") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ContentError([Problem(r.file, "advisers", "une liste « advisers: » est attendue")])
    advisers: dict[int, Adviser] = {}
    codes: set[str] = set()
    for i, item in enumerate(items):
        entry = f"advisers[{i}]"
        before = len(r.problems)
        adviser = _adviser(r, item, entry, reserved)
        if adviser is None:
            continue
        if adviser.telegram_id in advisers:
            r.problem(entry, f"telegram_id {adviser.telegram_id} en double")
        if adviser.code in codes:
            r.problem(entry, f"code « {adviser.code} » en double")
        if len(r.problems) == before:
            advisers[adviser.telegram_id] = adviser
            codes.add(adviser.code)
    if r.problems:
        raise ContentError(r.problems)
    return advisers


def _adviser(r: Reader, item: Any, entry: str, reserved: frozenset[str]) -> Adviser | None:
    """One entry of the file, or None (and its problems recorded) when it is not valid."""
    if not isinstance(item, dict):
        r.problem(entry, "doit être {telegram_id, code, name, …}")
        return None
    before = len(r.problems)
    tid, code, name = item.get("telegram_id"), item.get("code"), item.get("name")
    if not isinstance(tid, int) or isinstance(tid, bool) or tid <= 0:
        r.problem(entry, "« telegram_id » doit être un nombre entier")
    if not isinstance(code, str) or not CODE_RE.match(code):
        r.problem(entry, "« code » : 3 à 32 caractères parmi a-z 0-9 _ -")
    elif code in reserved or code.rsplit("-", 1)[-1] in reserved:
        r.problem(
            entry,
            f"code « {code} » : ne doit pas finir par un sujet ({', '.join(sorted(reserved))})",
        )
    if not isinstance(name, str) or not name.strip():
        r.problem(entry, "« name » manquant")
    organisation = item.get("organisation", "")
    if not isinstance(organisation, str):
        r.problem(entry, "« organisation » doit être un texte")
        organisation = ""
    departements, communes = _coverage(r, item.get("coverage", []), entry)
    contact = _contact(r, item.get("contact") or {}, entry)
    handoff = item.get("handoff", True)
    if not isinstance(handoff, bool):
        r.problem(entry, "« handoff » : true ou false")
    if (departements or communes) and not organisation:
        r.problem(
            entry, "« organisation » est obligatoire avec « coverage » (c'est le nom affiché)"
        )
    if len(r.problems) > before:
        return None
    assert isinstance(tid, int) and isinstance(code, str) and isinstance(name, str)
    return Adviser(
        tid, code, name.strip(), organisation.strip(), departements, communes, contact, handoff
    )


def _coverage(r: Reader, coverage: Any, entry: str) -> tuple[frozenset[str], frozenset[str]]:
    """« coverage »: (départements, INSEE commune codes)."""
    if not isinstance(coverage, list):
        r.problem(
            entry,
            '« coverage » : une liste de départements ("42", "2A", "974") '
            'ou de codes INSEE de communes ("69123")',
        )
        return frozenset(), frozenset()
    departements, communes = set(), set()
    for value in coverage:
        text = str(value).upper().zfill(2) if isinstance(value, int | str) else ""
        if text in DEPARTEMENT_NAME:
            departements.add(text)
        elif INSEE_RE.match(text):
            communes.add(text)
        else:
            r.problem(
                entry,
                f"« coverage » : « {value} » n'est ni un département ni un code INSEE de commune",
            )
    return frozenset(departements), frozenset(communes)


def _contact(r: Reader, contact: Any, entry: str) -> dict[str, str]:
    """« contact »: the fields shown to people, https links only."""
    if not isinstance(contact, dict):
        r.problem(entry, "« contact » : {address, phone, url, hours}")
        return {}
    for key in contact:
        if key not in CONTACT_FIELDS:
            r.problem(entry, f"« contact.{key} » inconnu (attendu : {', '.join(CONTACT_FIELDS)})")
    url = contact.get("url")
    if url is not None and not (isinstance(url, str) and url.startswith("https://")):
        r.problem(entry, "« contact.url » doit commencer par https://")
    return {k: str(v) for k, v in contact.items() if k in CONTACT_FIELDS and v}


@dataclass(frozen=True)
class NamedAdviser:
    adviser: Adviser
    how: str  # link | commune | departement


def _spread(person: str, candidates: list[Adviser]) -> Adviser:
    """Several advisers cover the place: a stable, even spread by person (a hash), so a
    person always gets the same one and each gets about the same share."""
    digest = int(hashlib.sha256(person.encode()).hexdigest()[:8], 16)
    return sorted(candidates, key=lambda a: a.code)[digest % len(candidates)]


def select_adviser(
    advisers: list[Adviser] | tuple[Adviser, ...],
    referral: str | None,
    place: Place | None,
    person: str,
) -> NamedAdviser | None:
    """The adviser named on the recap: the one whose link brought the person, else one
    covering their commune, else one covering their département."""
    by_code = {a.code: a for a in advisers}
    if referral and referral in by_code:
        return NamedAdviser(by_code[referral], "link")
    if place is None:
        return None
    communes = {place.insee} if place.insee else set()
    if place.insee in ARRONDISSEMENT_CODES:  # Lyon 3e is also Lyon
        communes.add(PLM_CITY[place.insee[:2]])
    in_commune = [a for a in advisers if a.communes & communes]
    if in_commune:
        return NamedAdviser(_spread(person, in_commune), "commune")
    in_departement = [a for a in advisers if place.departement in a.departements]
    if in_departement:
        return NamedAdviser(_spread(person, in_departement), "departement")
    return None
