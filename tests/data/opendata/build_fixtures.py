"""Write the open-data test exports of this folder (run it after editing it, commit the JSON).

    python tests/data/opendata/build_fixtures.py

The three files are shaped like the real exports, quirks included, so the updater is
tested on what a real run meets: nested fields as JSON text and as real arrays, null and
empty fields; France Travail under `pole_emploi` and `france_travail`, France services
under `france_services` and `msap`; `date_modification` as DD/MM/YYYY HH:MM:SS; town halls
(`mairie`) with and without coordinates; a 97x record without its INSEE code; a record
nobody can place; competence rows naming two offices for one commune, and a closed one;
catalogue rows with département "-1" or "", without organisation name, CléA numérique,
CléA Management and unrelated certifications. Every name ends in "(test)" and every phone
is a 01 02 03 04 0x test number: nothing here is data about real offices, nothing here
may ship as data. Tests read the JSON files only.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _text(value):
    return json.dumps(value, ensure_ascii=False)


def record(
    rid: str,
    code: str,
    name: str,
    insee: str,
    postal_code: str,
    commune: str,
    lat: float | None,
    lon: float | None,
    phone: str | None = "01 02 03 04 05",
    as_text: bool = True,
    modified: str = "22/12/2023 10:38:56",
    partner: str | None = None,
    served: list[str] | None = None,
    hours: tuple[str, str, str, str] = ("08:30:00", "12:30:00", "13:30:00", "16:30:00"),
) -> dict:
    """One annuaire record. `as_text`: nested fields as JSON text (the usual form) or as
    real arrays (also seen). `insee` may be '' (seen in 97x records). `served`: the
    communes its pivot names (by default its own); `hours`: Monday to Friday, morning
    start and end, afternoon start and end ('' for none). tests/opendata_fixtures.py
    writes the tests' own records with this function too."""
    encode = _text if as_text else (lambda v: v)
    if served is None:
        served = [insee] if insee else []
    pivot = {"type_service_local": code, "code_insee_commune": served}
    if partner:
        pivot["partenaire"] = partner
    address = {
        "type_adresse": "Adresse",
        "complement1": "",
        "complement2": "",
        "numero_voie": f"1 rue de l'Essai {rid}",
        "service_distribution": "",
        "code_postal": postal_code,
        "nom_commune": commune,
        "pays": "",
        "continent": "",
        "longitude": "" if lon is None else str(lon),
        "latitude": "" if lat is None else str(lat),
        "accessibilite": "",
        "note_accessibilite": "",
    }
    hours = [
        {
            "nom_jour_debut": "Lundi",
            "nom_jour_fin": "Vendredi",
            "valeur_heure_debut_1": hours[0],
            "valeur_heure_fin_1": hours[1],
            "valeur_heure_debut_2": hours[2],
            "valeur_heure_fin_2": hours[3],
            "commentaire": "",
        }
    ]
    return {
        "id": rid,
        "nom": f"{name} (test)",
        "pivot": encode([pivot]),
        "adresse": encode([address]),
        "telephone": encode([{"valeur": phone, "description": ""}]) if phone else None,
        "site_internet": "[]" if as_text else [],
        "adresse_courriel": "",
        "plage_ouverture": encode(hours) if code != "mairie" else None,
        "url_service_public": f"https://lannuaire.service-public.gouv.fr/test/{rid}",
        "code_insee_commune": insee,
        "date_modification": modified,
    }


def town_hall(
    insee: str, postal_code: str, commune: str, lat: float | None, lon: float | None
) -> dict:
    return record(
        f"mairie-{insee}",
        "mairie",
        f"Mairie de {commune}",
        insee,
        postal_code,
        commune,
        lat,
        lon,
        phone=None,
        modified="03/10/2026 08:15:02",
    )


RECORDS = [
    # Lyon and the Rhône: both France Travail codes, a Cap emploi, a France services.
    record(
        "ft-lyon3", "pole_emploi", "France Travail Lyon 3e", "69383", "69003", "Lyon", 45.76, 4.85
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
        modified="14/11/2026 16:02:11",
    ),
    record(
        "ml-lyon", "mission_locale", "Mission locale Lyon", "69382", "69002", "Lyon", 45.75, 4.83
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
    # The Loire: two agencies competent for Saint-Étienne; the alphabetically first one
    # (Bellevue) is the farther one from the town hall. France services filed under msap.
    record(
        "ft-se-bellevue",
        "pole_emploi",
        "France Travail Saint-Étienne Bellevue",
        "42218",
        "42100",
        "Saint-Étienne",
        45.4215,
        4.3960,
    ),
    record(
        "ft-se-centre",
        "france_travail",
        "France Travail Saint-Étienne Centre",
        "42218",
        "42000",
        "Saint-Étienne",
        45.4380,
        4.3890,
        as_text=False,
    ),
    record(
        "ft-roanne", "pole_emploi", "France Travail Roanne", "42187", "42300", "Roanne", 46.04, 4.07
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
        "msap",
        "France services Feurs",
        "42094",
        "42110",
        "Feurs",
        45.74,
        4.23,
        partner="france_service",
    ),
    # The Alpes-de-Haute-Provence: Les Omergues (04200) borrows Sisteron's point in the
    # postal-code table; its own town hall puts it nearer Forcalquier.
    record(
        "ft-sisteron",
        "pole_emploi",
        "France Travail Sisteron",
        "04209",
        "04200",
        "Sisteron",
        44.1947,
        5.9445,
    ),
    record(
        "ft-forcalquier",
        "france_travail",
        "France Travail Forcalquier",
        "04088",
        "04300",
        "Forcalquier",
        43.9597,
        5.7803,
    ),
    record(
        "ml-04",
        "mission_locale",
        "Mission locale Alpes de Haute-Provence",
        "04070",
        "04000",
        "Digne-les-Bains",
        44.0925,
        6.2356,
    ),
    record(
        "fs-banon",
        "msap",
        "France services Banon",
        "04018",
        "04150",
        "Banon",
        44.0385,
        5.6300,
        partner="france_service",
    ),
    record(
        "fs-sisteron",
        "france_services",
        "France services Sisteron",
        "04209",
        "04200",
        "Sisteron",
        44.1950,
        5.9440,
    ),
    # Paris.
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
    # La Réunion: one record without its INSEE code (its département comes from the
    # postal code), no Cap emploi listed.
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
        "ft-st-pierre-re",
        "france_travail",
        "France Travail Saint-Pierre",
        "",
        "97410",
        "Saint-Pierre",
        -21.34,
        55.48,
    ),
    record(
        "ml-nord-re",
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
    record(
        "fs-st-denis-re",
        "msap",
        "France services Saint-Denis",
        "97411",
        "97400",
        "Saint-Denis",
        -20.8795,
        55.4485,
        partner="france_service",
    ),
    # Mayotte.
    record(
        "ft-mamoudzou",
        "pole_emploi",
        "France Travail Mamoudzou",
        "97611",
        "97600",
        "Mamoudzou",
        -12.78,
        45.23,
    ),
    record(
        "ml-mayotte",
        "mission_locale",
        "Mission locale Mayotte",
        "97611",
        "97600",
        "Mamoudzou",
        -12.7810,
        45.2275,
    ),
    record(
        "fs-mamoudzou",
        "msap",
        "France services Mamoudzou",
        "97611",
        "97600",
        "Mamoudzou",
        -12.7790,
        45.2290,
        partner="france_service",
    ),
    # Saint-Pierre-et-Miquelon: what the annuaire lists there is used like anywhere else.
    record(
        "ft-spm",
        "pole_emploi",
        "France Travail Saint-Pierre-et-Miquelon",
        "97502",
        "97500",
        "Saint-Pierre",
        46.7791,
        -56.1773,
    ),
    # A record nobody can place: no INSEE code, no postal code. Skipped and counted.
    record("ft-nowhere", "pole_emploi", "France Travail sans adresse", "", "", "", None, None),
    # Town halls: one geolocated record per commune.
    town_hall("42218", "42000", "Saint-Étienne", 45.4397, 4.3872),
    town_hall("42187", "42300", "Roanne", 46.0367, 4.0686),
    town_hall("04140", "04200", "Les Omergues", 44.1597, 5.6022),
    town_hall("04209", "04200", "Sisteron", 44.1953, 5.9436),
    town_hall("04229", "04200", "Valbelle", None, None),  # a town hall without coordinates
    # Banon has no point at all in the postal-code table: only its town hall locates it.
    town_hall("04018", "04150", "Banon", 44.0389, 5.6298),
    town_hall("69383", "69003", "Lyon 3e Arrondissement", 45.7597, 4.8497),
    town_hall("97411", "97400", "Saint-Denis", -20.8789, 55.4481),
    town_hall("97611", "97600", "Mamoudzou", -12.7806, 45.2278),
    town_hall("98818", "98800", "Nouméa", -22.2758, 166.4580),
]


def competence(
    insee: str, type_code: str, office_ids: list[str], commune: str, as_text: bool = True
) -> dict:
    """One competence row: the offices of one type competent for a commune, their ids as
    JSON text (the usual form) or as a real array (also seen)."""
    return {
        "code_insee_commune": insee,
        "nom_commune": commune,
        "id_service_local": _text(office_ids) if as_text else office_ids,
        "code_type_service_local": type_code,
    }


LYON_3 = "Lyon 3e Arrondissement"
COMPETENCE = [
    competence("42218", "pole_emploi", ["ft-se-bellevue", "ft-se-centre"], "Saint-Étienne"),
    competence("42187", "pole_emploi", ["ft-roanne"], "Roanne"),
    competence("69383", "pole_emploi", ["ft-lyon3"], LYON_3, as_text=False),
    competence("69383", "mission_locale", ["ml-lyon"], LYON_3),
    competence("69383", "cap_emploi", ["ce-rhone"], LYON_3),
    competence("69266", "france_travail", ["ft-villeurbanne"], "Villeurbanne"),
    competence("75111", "pole_emploi", ["ft-paris11"], "Paris 11e Arrondissement"),
    # A competence row naming an office that is not among the records (closed): ignored.
    competence("04209", "mission_locale", ["ml-closed"], "Sisteron"),
]

CLEA = "Certificat CléA - Socle de connaissances et de compétences professionnelles"


def offer(
    n: int,
    name: str,
    siret: str,
    departement: str,
    sessions: int = 1,
    distance: int = 0,
    certification: str = CLEA,
    code: int | None = 99901,
    date: str = "2026-11-20",
) -> dict:
    return {
        "date_extract": date,
        "nom_of": f"{name} (test)" if name else name,
        "siret": siret,
        "numero_formation": f"{siret}_TEST{n}",
        "intitule_formation": "Préparer CléA (test)",
        "intitule_certification": certification,
        "type_referentiel": "RS",
        "code_inventaire": code,
        "code_rncp": None,
        "nom_departement": "x",
        "code_departement": departement,
        "nom_region": "x",
        "code_region": "x",
        "nb_action": 1,
        "nb_session_active": sessions,
        "nb_session_a_distance": distance,
        "nombre_heures_total_min": 7,
        "nombre_heures_total_max": 120,
        "frais_ttc_tot_min": 900.0,
        "frais_ttc_tot_max": 2400.0,
        "points_forts": None,
    }


def catalogue() -> list[dict]:
    """One row per training offer: most organisations list several offers."""
    rows = []
    organisations = [  # (name, siret, département, offers, sessions per offer)
        ("Organisme Rhône A", "10000000000001", "69", 20, 1),
        ("Organisme Rhône B", "10000000000002", "69", 10, 2),
        ("Organisme Loire", "10000000000003", "42", 10, 1),
        ("Organisme Haute-Provence", "10000000000004", "04", 6, 1),
        ("Organisme Réunion", "10000000000005", "974", 8, 1),
        ("Organisme Mayotte", "10000000000006", "976", 4, 1),
        ("Organisme Corse", "10000000000007", "2A", 4, 1),
    ]
    for name, siret, dep, count, sessions in organisations:
        for i in range(count):
            rows.append(offer(len(rows), name, siret, dep, sessions, distance=i % 2))
    rows.append(
        offer(
            len(rows),
            "Organisme numérique",
            "10000000000008",
            "69",
            3,
            certification="CléA numérique",
            code=99902,
        )
    )
    rows.append(
        offer(
            len(rows),
            "Organisme encadrement",
            "10000000000009",
            "69",
            20,
            certification="CléA Management",
            code=99903,
        )
    )
    rows.append(
        offer(
            len(rows),
            "Auto-école",
            "10000000000010",
            "69",
            40,
            certification="Permis de conduire B",
            code=None,
        )
    )
    # Dirty rows seen in the real catalogue: département "-1" or "", no organisation name.
    rows.append(offer(len(rows), "Organisme sans département", "10000000000011", "-1"))
    rows.append(offer(len(rows), "Organisme département vide", "10000000000012", ""))
    rows.append(offer(len(rows), "", "10000000000013", "42"))
    return rows


def main() -> None:
    for name, data in (
        ("annuaire-records.json", RECORDS),
        ("annuaire-competence.json", COMPETENCE),
        ("cpf-catalogue.json", catalogue()),
    ):
        (HERE / name).write_text(
            json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        print(f"{name}: {len(data)} rows")


if __name__ == "__main__":
    main()
