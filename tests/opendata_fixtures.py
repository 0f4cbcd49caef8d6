"""Open-data exports shaped exactly like the real ones (JSON text inside strings, real
arrays, nulls), written by the tests, and the project's own exports in tests/data/opendata
(built by build_fixtures.py there). Every name ends in "(test)": nothing here is data.
Nothing here reads outside the project: a clone of the project alone runs these tests."""

from __future__ import annotations

import copy
import functools
import json
import shutil
from pathlib import Path

from .data.opendata import build_fixtures

EXPORTS = build_fixtures.HERE  # the project's own exports


# One annuaire record, written like the project's exports (build_fixtures.record), open
# from 9h to 12h.
record = functools.partial(
    build_fixtures.record, modified="01/11/2026 10:00:00", hours=("09:00:00", "12:00:00", "", "")
)


def offer(
    name: str,
    departement: str,
    sessions: int,
    distance: int = 0,
    certification: str = build_fixtures.CLEA,
    siret: str | None = None,
) -> dict:
    """One catalogue row, written like the project's exports (build_fixtures.offer)."""
    siret = siret or f"{abs(hash((name, departement))) % 10**14:014d}"
    return build_fixtures.offer(0, name, siret, departement, sessions, distance, certification)


# One competence row, written like the project's exports (build_fixtures.competence).
competence = functools.partial(build_fixtures.competence, commune="x", as_text=False)


def write_exports(folder: Path, records: list, competence_rows: list | None, offers: list) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "annuaire-records.json").write_text(json.dumps(records, ensure_ascii=False))
    if competence_rows is not None:
        (folder / "annuaire-competence.json").write_text(json.dumps(competence_rows))
    (folder / "cpf-catalogue.json").write_text(json.dumps(offers, ensure_ascii=False))
    return folder


def copy_exports(folder: Path) -> Path:
    """A copy of the project's test exports (tests/data/opendata), free to be altered."""
    folder.mkdir(parents=True)
    for f in EXPORTS.glob("*.json"):
        shutil.copyfile(f, folder / f.name)
    return folder


def exported(*ids: str, renamed: dict[str, str] | None = None) -> list[dict]:
    """Copies of these records of the project's exports (build_fixtures.RECORDS), free to be
    altered; `renamed`: a new id for some of them (by their id in the exports)."""
    by_id = {r["id"]: r for r in build_fixtures.RECORDS}
    rows = [copy.deepcopy(by_id[rid]) for rid in ids]
    for row in rows:
        new_id = (renamed or {}).get(row["id"])
        if new_id:
            row["url_service_public"] = row["url_service_public"].replace(row["id"], new_id)
            row["id"] = new_id
    return rows


def france() -> tuple[list, list, list]:
    """A small France: offices in Lyon, the Loire, Paris, Réunion and Polynesia, some of them
    the project's exports' own records."""
    records = [
        record(
            "ft-lyon3",
            "pole_emploi",
            "France Travail Lyon 3e",
            "69383",
            "69003",
            "Lyon",
            45.76,
            4.85,
        ),
        *exported("ft-villeurbanne"),
        record(
            "ml-lyon",
            "mission_locale",
            "Mission locale Lyon",
            "69382",
            "69002",
            "Lyon",
            45.75,
            4.83,
            served=["69381", "69382", "69383"],
        ),
        *exported("ce-rhone", "fs-givors"),
        # The Loire: no competence rows at all; two agencies far apart.
        record(
            "ft-st-etienne",
            "pole_emploi",
            "France Travail Saint-Étienne",
            "42218",
            "42000",
            "Saint-Étienne",
            45.43,
            4.39,
        ),
        *exported("ft-roanne", "ml-roanne", "fs-feurs"),
        *exported(
            "ft-paris11",
            "ft-st-denis-re",
            "ml-nord-re",
            renamed={"ml-nord-re": "ml-st-denis-re"},
        ),
        # An office of a network we do not route to: skipped.
        record("mairie", "mairie", "Mairie", "69383", "69003", "Lyon", 45.76, 4.85),
    ]
    competence_rows = [
        competence("69383", "pole_emploi", ["ft-lyon3"]),
        competence("69266", "france_travail", ["ft-villeurbanne"], as_text=True),
        competence("69383", "cap_emploi", ["ce-rhone"]),
        competence("69123", "pole_emploi", ["ft-lyon3"]),
        competence("75111", "pole_emploi", ["ft-paris11"]),
    ]
    offers = [
        offer("Organisme A", "69", 2, distance=1, siret="1"),
        offer("Organisme B", "69", 9, siret="2"),
        offer("Organisme C", "69", 5, siret="3"),
        offer("Organisme D", "69", 1, siret="4"),
        offer("Numérique E", "69", 50, certification="CléA numérique", siret="5"),
        offer("Auto-école F", "69", 80, certification="Permis de conduire B", siret="6"),
        offer("Centre nucléaire G", "69", 80, certification="Sûreté nucléaire", siret="7"),
        offer("Organisme H", "42", 3, siret="8"),
        offer("Organisme I", "974", 1, siret="9"),
    ]
    return records, competence_rows, offers
