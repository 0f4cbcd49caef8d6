"""Open-data exports shaped exactly like the real ones (JSON text inside strings, real
arrays, nulls), written by the tests, and the project's own exports in tests/data/opendata
(built by build_fixtures.py there). Every name ends in "(test)": nothing here is data.
Nothing here reads outside the project: a clone of the project alone runs these tests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

EXPORTS = Path(__file__).resolve().parent / "data" / "opendata"


def record(
    rid: str,
    type_code: str,
    name: str,
    insee: str,
    postal_code: str,
    commune: str,
    lat: float | None,
    lon: float | None,
    served: list[str] | None = None,
    phone: str | None = "01 02 03 04 05",
    as_text: bool = True,
) -> dict:
    """One annuaire record; `as_text` puts the nested fields in JSON text, as the API does."""

    def encode(value):
        return json.dumps(value, ensure_ascii=False) if as_text else value

    address = {
        "type_adresse": "Adresse",
        "numero_voie": f"1 rue {name}",
        "complement1": "",
        "complement2": "",
        "service_distribution": "",
        "code_postal": postal_code,
        "nom_commune": commune,
        "longitude": "" if lon is None else str(lon),
        "latitude": "" if lat is None else str(lat),
    }
    return {
        "id": rid,
        "nom": f"{name} (test)",
        "pivot": encode([{"type_service_local": type_code, "code_insee_commune": served or []}]),
        "adresse": encode([address]),
        "telephone": encode([{"valeur": phone, "description": ""}]) if phone else None,
        "site_internet": "",
        "adresse_courriel": "",
        "plage_ouverture": encode(
            [
                {
                    "nom_jour_debut": "Lundi",
                    "nom_jour_fin": "Vendredi",
                    "valeur_heure_debut_1": "09:00:00",
                    "valeur_heure_fin_1": "12:00:00",
                    "valeur_heure_debut_2": "",
                    "valeur_heure_fin_2": "",
                    "commentaire": "",
                }
            ]
        ),
        "url_service_public": f"https://lannuaire.service-public.gouv.fr/test/{rid}",
        "code_insee_commune": insee,
        "date_modification": "2026-11-01 10:00:00",
    }


def offer(
    name: str,
    departement: str,
    sessions: int,
    distance: int = 0,
    certification: str = "Certificat CléA - Socle de connaissances et de compétences "
    "professionnelles",
    siret: str | None = None,
) -> dict:
    return {
        "date_extract": "2026-11-20",
        "nom_of": f"{name} (test)",
        "siret": siret or f"{abs(hash((name, departement))) % 10**14:014d}",
        "numero_formation": "x",
        "intitule_formation": "CléA",
        "intitule_certification": certification,
        "type_referentiel": "RS",
        "code_inventaire": 0,
        "code_rncp": None,
        "nom_departement": "x",
        "code_departement": departement,
        "nom_region": "x",
        "code_region": "x",
        "nb_action": 1,
        "nb_session_active": sessions,
        "nb_session_a_distance": distance,
        "nombre_heures_total_min": 10,
        "nombre_heures_total_max": 50,
        "frais_ttc_tot_min": 500.0,
        "frais_ttc_tot_max": 1500.0,
        "points_forts": None,
    }


def competence(insee: str, type_code: str, office_ids: list[str], as_text: bool = False) -> dict:
    return {
        "code_insee_commune": insee,
        "nom_commune": "x",
        "id_service_local": json.dumps(office_ids) if as_text else office_ids,
        "code_type_service_local": type_code,
    }


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


def france() -> tuple[list, list, list]:
    """A small France: offices in Lyon, the Loire, Paris, Réunion and Polynesia."""
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
        record(
            "ft-villeurbanne",
            "france_travail",
            "France Travail Villeurbanne",
            "69266",
            "69100",
            "Villeurbanne",
            45.77,
            4.88,
        ),
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
        record("ce-rhone", "cap_emploi", "Cap emploi Rhône", "69387", "69007", "Lyon", 45.74, 4.84),
        record(
            "fs-givors",
            "france_services",
            "France services Givors",
            "69091",
            "69700",
            "Givors",
            45.59,
            4.77,
        ),
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
        record(
            "ft-roanne",
            "pole_emploi",
            "France Travail Roanne",
            "42187",
            "42300",
            "Roanne",
            46.04,
            4.07,
        ),
        record(
            "ml-roanne",
            "mission_locale",
            "Mission locale Roanne",
            "42187",
            "42300",
            "Roanne",
            None,
            None,
        ),
        record(
            "fs-feurs",
            "france_services",
            "France services Feurs",
            "42094",
            "42110",
            "Feurs",
            45.74,
            4.23,
        ),
        record(
            "ft-paris11",
            "pole_emploi",
            "France Travail Paris 11e",
            "75111",
            "75011",
            "Paris",
            48.86,
            2.38,
            phone="3949",
        ),
        record(
            "ft-st-denis-re",
            "pole_emploi",
            "France Travail Saint-Denis",
            "97411",
            "97400",
            "Saint-Denis",
            -20.88,
            55.45,
        ),
        record(
            "ml-st-denis-re",
            "mission_locale",
            "Mission locale Nord Réunion",
            "97411",
            "97400",
            "Saint-Denis",
            -20.89,
            55.46,
            phone=None,
            as_text=False,
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
