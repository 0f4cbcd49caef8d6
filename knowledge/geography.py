"""Where does the person live? Postal codes, commune names and départements.

Data: knowledge/geo/geo.json (régions, départements, arrondissements) and
knowledge/geo/communes.json, rebuilt by tools/build_geo.py from
@etalab/decoupage-administratif (INSEE COG + La Poste, Licence Ouverte).
The communes are read and indexed at the first look-up, not at start-up: 0.15-0.2 s of
CPU that the first people to write after a restart no longer wait for (a restart with
10,000 updates waiting must answer a new person within 2 s). Look-ups are dictionary
hits, with a fuzzy pass on names only when the exact name is unknown.
"""

from __future__ import annotations

import bisect
import json
import math
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from rapidfuzz import fuzz, process

from knowledge.text import fold, name_key

GEO_FILE = Path(__file__).parent / "geo" / "geo.json"
COMMUNES_FILE = Path(__file__).parent / "geo" / "communes.json"
PLACES_FILE = Path(__file__).parent / "geo" / "places.json"  # GeoNames, CC BY 4.0
MAX_CHOICES = 40  # a postal code can hold many communes (04200: 19); the screen pages them


def _read(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


_RAW = _read(GEO_FILE)
REGIONS: dict[str, str] = {code: v[0] for code, v in _RAW["regions"].items()}
DEPARTEMENT_REGION: dict[str, str] = {code: v[1] for code, v in _RAW["departements"].items()}
DEPARTEMENT_NAME: dict[str, str] = {code: v[0] for code, v in _RAW["departements"].items()}
# Collectivités d'outre-mer (Saint-Pierre-et-Miquelon, Polynésie…): outside the routing
# sources we have, so the bot says so instead of guessing.
OVERSEAS_COLLECTIVITIES = {code for code, v in _RAW["departements"].items() if v[2] == "com"}
OVERSEAS_DEPARTEMENTS = {code for code, v in _RAW["departements"].items() if v[2] == "drom"}
# New Caledonia, French Polynesia, Wallis-et-Futuna have their own labour codes: no France
# Travail, no national CPF (clea-facts.md §11-12, H/M, checked 2026-12-01).
OWN_LABOUR_CODE = {"986", "987", "988"}
# Paris, Lyon, Marseille: postal code → INSEE code of the arrondissement municipal.
ARRONDISSEMENTS: dict[str, str] = _RAW.get("arrondissements_by_postal_code", {})
# Régions and collectivities that do not take "en".
REGION_PHRASES = {
    "04": "à La Réunion",
    "06": "à Mayotte",
    "975": "à Saint-Pierre-et-Miquelon",
    "977": "à Saint-Barthélemy",
    "978": "à Saint-Martin",
    "984": "dans les Terres australes et antarctiques françaises",
    "986": "à Wallis-et-Futuna",
    "989": "à Clipperton",
}
_DEPARTEMENT_KEYS = {name_key(v[0]): code for code, v in _RAW["departements"].items()}


@dataclass(frozen=True)
class Place:
    commune: str | None
    departement: str
    postal_code: str | None = None
    part_of: str | None = None  # a former commune merged into another one
    near: bool = False  # found from a shared position: the nearest town, not the commune
    insee: str | None = None  # INSEE code (an arrondissement's in Paris, Lyon, Marseille)

    @property
    def departement_name(self) -> str:
        return DEPARTEMENT_NAME[self.departement]

    @property
    def region(self) -> str:
        return DEPARTEMENT_REGION[self.departement]

    @property
    def region_name(self) -> str:
        return REGIONS[self.region]

    @property
    def region_phrase(self) -> str:
        """'en Bretagne', 'à La Réunion', 'à Mayotte': the région with its preposition."""
        return REGION_PHRASES.get(self.region, f"en {self.region_name}")

    @property
    def departement_phrase(self) -> str:
        """'dans votre département (Rhône)', or the overseas place with its preposition
        ('à La Réunion'): never a guessed article."""
        if self.departement in OVERSEAS_DEPARTEMENTS | OVERSEAS_COLLECTIVITIES:
            return self.region_phrase
        return f"dans votre département ({self.departement_name})"

    @property
    def covered(self) -> bool:
        return self.departement not in OVERSEAS_COLLECTIVITIES

    def label(self) -> str:
        """'Saint-Étienne (42)', or the département alone when no commune is known."""
        if self.commune is None:
            return f"{self.departement_name} ({self.departement})"
        return f"{self.commune} ({self.departement})"


@dataclass(frozen=True)
class LookupResult:
    """found: one place. choices: several places. Otherwise `problem` says what went wrong:
    'empty', 'bad_code' (not a plausible code), 'unknown_code', 'unknown_name'."""

    places: tuple[Place, ...] = field(default_factory=tuple)
    problem: str | None = None

    @property
    def found(self) -> Place | None:
        return self.places[0] if len(self.places) == 1 else None


class _Commune(NamedTuple):
    name: str
    departement: str
    postal_codes: str  # space-separated
    population: int
    part_of: str
    insee: str
    lat: float | None
    lon: float | None
    key: str  # search key, see knowledge.text.name_key


class _Index:
    def __init__(self, rows: list[list[Any]]):
        self.communes = [_Commune(*r) for r in rows]
        self.by_code: dict[str, list[int]] = {}
        self.by_name: dict[str, list[int]] = {}
        self.by_insee: dict[str, int] = {}
        for i, c in enumerate(self.communes):
            if not c.part_of:
                self.by_insee[c.insee] = i
            for cp in c.postal_codes.split():
                self.by_code.setdefault(cp, []).append(i)
            self.by_name.setdefault(c.key, []).append(i)
        self.names = sorted(self.by_name)
        # Typos rarely hit the first letter: fuzzy search looks in that letter's names.
        self.by_initial: dict[str, list[str]] = {}
        for name in self.names:
            self.by_initial.setdefault(name[:1], []).append(name)


@cache
def _index() -> _Index:
    return _Index(_read(COMMUNES_FILE)["communes"])


_PREFIXES = re.compile(
    r"^(?:(?:je |j )?(?:suis|habite|vis|reside|demeure)\s+)?(?:(?:a|au|aux|en|sur|dans|"
    r"pres de|a cote de|vers|ville de|commune de|code postal|cp)\s+)?"
)


def _place(c: _Commune, postal_code: str | None = None) -> Place:
    insee = ARRONDISSEMENTS.get(postal_code or "", "") if postal_code else ""
    if insee[:2] != c.insee[:2]:  # not one of this city's arrondissements
        insee = c.insee
    return Place(c.name, c.departement, postal_code, c.part_of or None, insee=insee)


def coordinates(place: Place) -> tuple[float, float] | None:
    """Approximate (lat, lon) of the person's commune, for the nearest-office fallback."""
    if not place.insee:
        return None
    idx = _index()
    i = idx.by_insee.get(place.insee)
    if i is None:  # an arrondissement: the city's coordinates
        city = next((cp for cp, code in ARRONDISSEMENTS.items() if code == place.insee), None)
        hits = idx.by_code.get(city or "", [])
        i = next((h for h in hits if not idx.communes[h].part_of), None)
    if i is None:
        return None
    c = idx.communes[i]
    return (c.lat, c.lon) if c.lat is not None and c.lon is not None else None


def commune_points() -> dict[str, tuple[float, float] | None]:
    """Every current commune's INSEE code and its point in the postal-code table (its own,
    or a neighbour's sharing its postal code), None when it has none."""
    idx = _index()
    return {
        insee: ((c.lat, c.lon) if c.lat is not None and c.lon is not None else None)
        for insee, i in idx.by_insee.items()
        for c in (idx.communes[i],)
    }


def lookup(text: str) -> LookupResult:
    """Understand a postal code, a département number or a commune name typed loosely."""
    raw = text.strip()
    folded = fold(raw)
    if not folded:
        return LookupResult(problem="empty")
    digits = folded.replace(" ", "")
    if digits.isdigit() or re.fullmatch(r"2[ab]", digits):
        return _by_number(digits)
    if re.search(r"\d", folded) and not re.search(r"[a-z]{3,}", folded):
        return LookupResult(problem="bad_code")
    code = re.search(r"\b\d{5}\b", folded)
    if code:  # "valbelle 04200", "saint denis 97400": the name among that code's communes
        return _by_name_and_code(folded.replace(code.group(), " "), code.group())
    return _by_name(folded)


def _by_name_and_code(folded: str, code: str) -> LookupResult:
    in_code = _by_number(code)
    key = name_key(_PREFIXES.sub("", " ".join(folded.split()), count=1))
    if not in_code.places or not key:
        return in_code
    exact = [p for p in in_code.places if name_key(p.commune or "") == key]
    if exact:
        return LookupResult(tuple(exact))
    names = {name_key(p.commune or ""): p for p in in_code.places}
    best = process.extract(key, list(names), scorer=fuzz.WRatio, limit=3, score_cutoff=80)
    if best:
        top = best[0][1]
        return LookupResult(tuple(names[n] for n, score, _ in best if score >= top - 3))
    return in_code


def _by_number(digits: str) -> LookupResult:
    if len(digits) in (2, 3) and digits.upper() in DEPARTEMENT_NAME:
        return LookupResult((Place(None, digits.upper()),))
    if len(digits) == 2 and digits == "20":
        return LookupResult((Place(None, "2A"), Place(None, "2B")))
    if len(digits) == 4:
        digits = "0" + digits
    if len(digits) != 5 or digits == "00000":
        return LookupResult(problem="bad_code")
    idx = _index()
    hits = idx.by_code.get(digits)
    if not hits:
        return LookupResult(problem="unknown_code")
    communes = sorted((idx.communes[i] for i in hits), key=lambda c: -c.population)
    communes = [c for c in communes if not c.part_of] or communes
    return LookupResult(tuple(_place(c, digits) for c in communes[:MAX_CHOICES]))


_ARRONDISSEMENT = re.compile(r"\b(?:\d{1,2}(?:e|er|eme|ieme)?|arrondissement|arr)\b")


def _by_name(folded: str) -> LookupResult:
    idx = _index()
    key = name_key(_PREFIXES.sub("", folded, count=1)) or name_key(folded)
    departement = _DEPARTEMENT_KEYS.get(key) or _DEPARTEMENT_KEYS.get(
        name_key(re.sub(r"^(?:la|le|les|l)\s+", "", key))
    )
    hits = idx.by_name.get(key)
    if departement and not any(idx.communes[i].departement == departement for i in hits or []):
        # "la reunion", "guyane", "ardeche": the département, not a small homonym commune
        # elsewhere (La Réunion, Lot-et-Garonne); the person can still correct it.
        return LookupResult((Place(None, departement),))
    arrondissement = None
    if not hits:  # "paris 15", "lyon 3e": the city itself, and its arrondissement
        number = re.search(r"\b(\d{1,2})", key)
        bare = " ".join(_ARRONDISSEMENT.sub(" ", key).split())
        hits = idx.by_name.get(bare) if bare else None
        key = bare or key
        if hits and number:
            arrondissement = int(number.group(1))
    if not hits and len(key) >= 3:  # "aix" → Aix-en-Provence, Aix-les-Bains…
        lo = bisect.bisect_left(idx.names, key + " ")
        hi = bisect.bisect_left(idx.names, key + "!")  # "!" sorts right after " "
        starts = idx.names[lo:hi]
        hits = [i for n in starts for i in idx.by_name[n]] or None
    if not hits:
        best = process.extract(
            key,
            idx.by_initial.get(key[:1], idx.names),
            scorer=fuzz.ratio,
            limit=MAX_CHOICES,
            score_cutoff=84,
        )
        if not best:
            return LookupResult(problem="unknown_name")
        top = best[0][1]
        hits = [i for name, score, _ in best if score >= top - 3 for i in idx.by_name[name]]
    communes = sorted(
        (idx.communes[i] for i in hits), key=lambda c: (bool(c.part_of), -c.population)
    )

    def postal_code(c: _Commune) -> str | None:
        code = f"{c.departement}{arrondissement:03d}" if arrondissement else ""
        return code if code in ARRONDISSEMENTS else None

    return LookupResult(tuple(_place(c, postal_code(c)) for c in communes[:MAX_CHOICES]))


def is_commune_key(key: str) -> bool:
    """Whether some commune's search key is `key` (knowledge.text.name_key of a name): a
    reading that takes only a commune's exact name skips the look-up, with its fuzzy
    search, for words that are no commune's name."""
    return key in _index().by_name


def warm() -> None:
    """Build the look-up index and the towns' grid now rather than at the first look-up
    (the Telegram bot, before it starts polling; tools, benchmarks)."""
    _index()
    _places()


@cache
def _places() -> dict[tuple[int, int], list[tuple[str, str, float, float]]]:
    """Towns with coordinates, bucketed by whole degrees of latitude and longitude."""
    with PLACES_FILE.open(encoding="utf-8") as f:
        rows = json.load(f)["places"]
    grid: dict[tuple[int, int], list[tuple[str, str, float, float]]] = {}
    for name, dep, lat, lon in rows:
        grid.setdefault((math.floor(lat), math.floor(lon)), []).append((name, dep, lat, lon))
    return grid


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in km between two (latitude, longitude) points: the one
    distance of the project (nearest town to a shared location, nearest office)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def nearest(latitude: float, longitude: float, max_km: float = 60.0) -> Place | None:
    """The town nearest to a shared location, if one is within `max_km` (else None: the
    person is probably outside France, or at sea)."""
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    grid = _places()
    cell = (math.floor(latitude), math.floor(longitude))
    best, best_km = None, max_km
    for dlat in (-1, 0, 1):
        for dlon in (-1, 0, 1):
            for name, dep, lat, lon in grid.get((cell[0] + dlat, cell[1] + dlon), ()):
                km = haversine_km((latitude, longitude), (lat, lon))
                if km < best_km:
                    best, best_km = (name, dep), km
    return Place(best[0], best[1], near=True) if best else None
