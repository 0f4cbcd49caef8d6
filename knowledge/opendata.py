"""Official open data for the local hand-off: settings, parsing, and the installed directory.

Three exports (see knowledge/content/opendata.yaml): DILA's annuaire of local public offices,
DILA's geographic competence rows (which office serves which commune), and the Mon Compte
Formation catalogue (who offers CléA in each département). Real exports carry JSON text
inside strings, real arrays, nulls and empty strings for the same field: every reader here
accepts all of them, and anything it cannot read is reported with the record it came from.

The updater (bot/directory_update.py) turns these into one SQLite file; `LocalDirectory`
reads that file at start-up and answers the selection's questions.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowledge.loader import CONTENT_DIR, ContentError, Problem, Reader, read_yaml
from knowledge.phone import phone_number
from knowledge.text import fold

SETTINGS_FILE = "opendata.yaml"
SCHEMA_VERSION = 2  # 2: town halls, offices' modification date


# --- settings -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceSettings:
    """One export. `hosts` are tried in order; `select` keeps only the fields used."""

    id: str
    hosts: tuple[str, ...]
    path: str
    where: str
    select: tuple[str, ...]
    file: str
    attribution: str
    optional: bool = False

    @property
    def url(self) -> str:
        """The export's address on the first host (for attribution and messages)."""
        return self.hosts[0] + self.path


@dataclass(frozen=True)
class Network:
    id: str
    name: str
    codes: tuple[str, ...]
    required: bool = True
    finder: str = ""  # the network's official search page, when one is verified


@dataclass(frozen=True)
class TownHalls:
    """The annuaire's town-hall records, one geolocated record per commune."""

    codes: tuple[str, ...]
    select: tuple[str, ...]


@dataclass(frozen=True)
class OpenDataSettings:
    sources: dict[str, SourceSettings]
    networks: tuple[Network, ...]
    clea_include: tuple[str, ...]
    clea_digital: tuple[str, ...]
    max_drop: float
    max_age_days: int
    checked: dt.date
    town_halls: TownHalls = TownHalls(("mairie",), ())
    clea_exclude: tuple[str, ...] = ()
    max_skipped: float = 0.05

    def network_of_code(self, code: str) -> Network | None:
        return next((n for n in self.networks if code in n.codes), None)

    def network(self, network_id: str) -> Network | None:
        return next((n for n in self.networks if n.id == network_id), None)


SOURCE_IDS = ("annuaire", "competence", "catalogue")


def load_settings(content_dir: Path | None = None) -> OpenDataSettings:
    """Read and validate opendata.yaml; raise ContentError listing every problem."""
    r = Reader(SETTINGS_FILE)
    settings = read_settings((content_dir or CONTENT_DIR) / SETTINGS_FILE, r)
    if r.problems or settings is None:
        raise ContentError(r.problems)
    return settings


def _share(r: Reader, data: dict[str, Any], key: str, default: float, example: str) -> float:
    value = r.field(data, key, (float, int), key, required=False, default=default)
    if value is not None and not 0 < value < 1:
        r.problem(key, f"doit être entre 0 et 1 (ex. {example})")
    return float(value or default)


def read_settings(path: Path, r: Reader) -> OpenDataSettings | None:
    data = read_yaml(path, r)
    if data is None:
        return None
    sources = _sources(r, data)
    networks, network_codes = _networks(r, data)
    halls = _town_halls(r, data, network_codes)
    clea = r.field(data, "clea", dict, "clea", default={})
    include = tuple(fold(x) for x in r.strings(clea, "include", "clea"))
    digital = tuple(fold(x) for x in r.strings(clea, "digital", "clea"))
    exclude = tuple(fold(x) for x in r.strings(clea, "exclude", "clea", required=False))
    max_drop = _share(r, data, "max_drop", 0.2, "0.2 pour un cinquième")
    max_skipped = _share(r, data, "max_skipped", 0.05, "0.05 pour 5 %")
    max_age = r.field(data, "max_age_days", int, "max_age_days", default=30)
    checked = r.field(data, "checked", dt.date, "checked", default=dt.date.today())
    if r.problems:
        return None
    return OpenDataSettings(
        sources, networks, include, digital, max_drop, max_age, checked, halls, exclude, max_skipped
    )


def _sources(r: Reader, data: Any) -> dict[str, SourceSettings]:
    """« sources »: where each export is downloaded from, and what is kept of it."""
    sources = {}
    raw_sources = r.field(data, "sources", dict, "sources", default={})
    for sid in SOURCE_IDS:
        entry = f"sources.{sid}"
        item = r.field(raw_sources, sid, dict, entry, default=None)
        if item is None:
            continue
        hosts = r.strings(item, "hosts", entry)
        url_path = r.field(item, "path", str, entry)
        where = r.field(item, "where", str, entry)
        select = r.strings(item, "select", entry, required=False)
        file = r.field(item, "file", str, entry)
        attribution = r.field(item, "attribution", str, entry)
        optional = r.field(item, "optional", bool, entry, required=False, default=False)
        for host in hosts:
            if not re.fullmatch(r"https://[a-z0-9.-]+", host):
                r.problem(
                    entry,
                    f"« hosts » : une adresse https:// sans chemin est attendue (reçu « {host} »)",
                )
        if url_path and not url_path.startswith("/"):
            r.problem(entry, f"« path » doit commencer par / (reçu « {url_path} »)")
        if file and ("/" in file or not file.endswith(".json")):
            r.problem(entry, f"« file » doit être un nom de fichier .json (reçu « {file} »)")
        if hosts and None not in (url_path, where, file, attribution):
            sources[sid] = SourceSettings(
                sid, hosts, url_path, where, select, file, attribution, optional
            )
    return sources


def _networks(r: Reader, data: Any) -> tuple[tuple[Network, ...], set[str]]:
    """« networks »: the offices of each network by type code; (networks, every code)."""
    networks: list[Network] = []
    seen_ids: set[Any] = set()
    seen_codes: set[str] = set()
    for i, item in enumerate(r.field(data, "networks", list, "networks", default=[])):
        entry = f"networks[{i}]"
        nid = r.field(item, "id", str, entry)
        name = r.field(item, "name", str, entry)
        codes = r.strings(item, "codes", entry)
        required = r.field(item, "required", bool, entry, required=False, default=True)
        finder = r.field(item, "finder", str, entry, required=False, default="")
        if finder and not finder.startswith("https://"):
            r.problem(entry, f"« finder » doit commencer par https:// (reçu « {finder} »)")
        r.unique(seen_ids, nid, entry)
        for code in codes:
            if code in seen_codes:
                r.problem(entry, f"code « {code} » déjà donné à un autre réseau")
            seen_codes.add(code)
        if nid and name and codes:
            networks.append(Network(nid, name, codes, required, finder))
    return tuple(networks), seen_codes


def _town_halls(r: Reader, data: Any, network_codes: set[str]) -> TownHalls:
    """« town_halls »: the type codes of town halls, which locate each commune."""
    raw_halls = r.field(data, "town_halls", dict, "town_halls", default={})
    hall_codes = r.strings(raw_halls, "codes", "town_halls")
    for code in hall_codes:
        if code in network_codes:
            r.problem("town_halls", f"code « {code} » déjà donné à un réseau")
    return TownHalls(hall_codes, r.strings(raw_halls, "select", "town_halls", required=False))


# --- parsing --------------------------------------------------------------------------------


class MalformedInput(ValueError):
    """An export that cannot be read safely; the message names the file and the record."""


def json_field(value: Any, where: str) -> list[Any]:
    """A field that arrives as a JSON array, as JSON text holding one, as null or as ''."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise MalformedInput(f"{where} : texte JSON illisible ({exc.msg})") from None
    if isinstance(value, dict):
        return [value]
    if not isinstance(value, list):
        raise MalformedInput(f"{where} : liste attendue, reçu {type(value).__name__}")
    return value


def _text(value: Any) -> str:
    return " ".join(str(value).split()) if value not in (None, "") else ""


INSEE_CODE = re.compile(r"[0-9][0-9AB][0-9]{3}")


def departement_of_insee(code: str) -> str:
    return code[:3] if code.startswith("97") else code[:2]


def departement_of_postal_code(code: str) -> str:
    """The département of a French postal code, '' when it cannot be told. The commune
    table decides (20200 → 2B, 97133 → Saint-Barthélemy 977); for a code it lacks, overseas
    codes carry it in their first three digits (97400 → 974)."""
    if not re.fullmatch(r"\d{5}", code) or code == "00000":
        return ""
    from knowledge.geography import lookup

    places = lookup(code).places
    if places:
        return places[0].departement
    if code.startswith(("97", "98")):
        return code[:3]
    return "" if code.startswith("20") else code[:2]


def modified_date(value: Any) -> str:
    """`date_modification` as an ISO date: the real form is '22/12/2023 10:38:56';
    ISO text is accepted too. '' when unreadable."""
    text = _text(value)
    m = re.match(r"^(\d{2})/(\d{2})/(\d{4})", text)
    try:
        if m:
            return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1))).isoformat()
        return dt.date.fromisoformat(text[:10]).isoformat() if text else ""
    except ValueError:
        return ""


_DAYS = {
    "lundi": "lun",
    "mardi": "mar",
    "mercredi": "mer",
    "jeudi": "jeu",
    "vendredi": "ven",
    "samedi": "sam",
    "dimanche": "dim",
}


def _clock(value: Any) -> str:
    """'08:30:00' → '8h30', '14:00:00' → '14h'."""
    m = re.match(r"^(\d{1,2}):(\d{2})", str(value or ""))
    if not m:
        return ""
    hours, minutes = int(m.group(1)), m.group(2)
    return f"{hours}h" if minutes == "00" else f"{hours}h{minutes}"


def opening_hours(ranges: list[Any]) -> str:
    """Opening hours as one short French line: 'lun-ven 8h30-12h30, 13h30-16h30'."""
    parts = []
    for r in ranges:
        if not isinstance(r, dict):
            continue
        first = _DAYS.get(fold(_text(r.get("nom_jour_debut"))), "")
        last = _DAYS.get(fold(_text(r.get("nom_jour_fin"))), "")
        if not first:
            continue
        days = first if not last or last == first else f"{first}-{last}"
        slots = []
        for n in (1, 2):
            start, end = (
                _clock(r.get(f"valeur_heure_debut_{n}")),
                _clock(r.get(f"valeur_heure_fin_{n}")),
            )
            if start and end:
                slots.append(f"{start}-{end}")
        if not slots:
            continue
        line = f"{days} {', '.join(slots)}"
        comment = _text(r.get("commentaire"))
        if comment:
            line += f" ({comment[:60]})"
        parts.append(line)
    return " ; ".join(parts)


@dataclass(frozen=True)
class Office:
    id: str
    network: str
    name: str
    address: str  # one line: street, extra lines, postal code and commune
    postal_code: str
    commune: str
    insee: str  # '' when the record has none (seen overseas)
    departement: str
    phone: str
    website: str
    service_public_url: str
    hours: str
    lat: float | None
    lon: float | None
    modified: str = ""  # ISO date of the record's last change in the annuaire

    @property
    def map_url(self) -> str | None:
        if self.lat is None or self.lon is None:
            return None
        return (
            f"https://www.openstreetmap.org/?mlat={self.lat:.5f}&mlon={self.lon:.5f}"
            f"#map=17/{self.lat:.5f}/{self.lon:.5f}"
        )


def _coordinates(address: dict[str, Any]) -> tuple[float, float] | None:
    try:
        lat = float(str(address.get("latitude")).replace(",", "."))
        lon = float(str(address.get("longitude")).replace(",", "."))
    except (TypeError, ValueError):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat, lon) == (0, 0):
        return None
    return lat, lon


@dataclass
class Parsed:
    """What one export gave: the rows `considered` (of the kinds we use) and, among them,
    those skipped, counted by reason (French, for the update's summary)."""

    considered: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    def skip(self, reason: str) -> None:
        self.skipped[reason] += 1

    @property
    def share_skipped(self) -> float:
        return sum(self.skipped.values()) / self.considered if self.considered else 0.0


@dataclass
class ParsedRecords(Parsed):
    offices: list[Office] = field(default_factory=list)
    town_halls: dict[str, tuple[float, float]] = field(default_factory=dict)
    town_halls_without_point: int = 0
    per_code: Counter[str] = field(default_factory=Counter)
    modified: str = ""  # the most recent date_modification among the offices


SKIP_NO_ID = "sans identifiant ou nom"
SKIP_NO_COMMUNE = "sans commune utilisable (ni code INSEE ni code postal)"
SKIP_TOWN_HALL_NO_INSEE = "mairie sans code INSEE"


def _address(row: dict[str, Any], where: str) -> dict[str, Any]:
    addresses = [
        a for a in json_field(row.get("adresse"), f"{where} › adresse") if isinstance(a, dict)
    ]
    return next(
        (a for a in addresses if fold(_text(a.get("type_adresse"))) == "adresse"),
        addresses[0] if addresses else {},
    )


def parse_records(rows: Any, settings: OpenDataSettings, file: str) -> ParsedRecords:
    """Offices of the networks we know and the town halls' points. The `pivot`'s communes
    are the office's own, not the ones it serves: only competence rows say that.
    Records without an id, a name or a usable commune are skipped and counted; a record
    whose JSON text is broken stops everything (the export itself is damaged)."""
    if not isinstance(rows, list):
        raise MalformedInput(f"{file} : un tableau JSON d'enregistrements est attendu")
    out = ParsedRecords()
    hall_codes = set(settings.town_halls.codes)
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise MalformedInput(f"{file} › enregistrement {i} : objet attendu")
        rid = _text(row.get("id"))
        where = f"{file} › {rid or f'enregistrement {i}'}"
        network, code, town_hall, own_communes = None, "", False, []
        for pivot in json_field(row.get("pivot"), f"{where} › pivot"):
            if not isinstance(pivot, dict):
                continue
            kind = _text(pivot.get("type_service_local"))
            found = settings.network_of_code(kind)
            if found is not None and network is None:
                network, code = found, kind
            town_hall = town_hall or kind in hall_codes
            own_communes += [
                _text(c).upper()
                for c in json_field(pivot.get("code_insee_commune"), f"{where} › pivot")
            ]
        if network is None and not town_hall:
            continue
        out.considered += 1
        address = _address(row, where)
        # The record's own commune; when the field is empty, the pivot's (its own too).
        insee = next(
            (
                c
                for c in [_text(row.get("code_insee_commune")).upper(), *own_communes]
                if INSEE_CODE.fullmatch(c)
            ),
            "",
        )
        point = _coordinates(address)
        if network is None:  # a town hall: one point for its commune
            if not insee:
                out.skip(SKIP_TOWN_HALL_NO_INSEE)
            elif point is None:
                out.town_halls_without_point += 1
            else:
                out.town_halls.setdefault(insee, point)
            continue
        name = _text(row.get("nom"))
        if not rid or not name:
            out.skip(SKIP_NO_ID)
            continue
        postal_code, commune = _text(address.get("code_postal")), _text(address.get("nom_commune"))
        departement = (
            departement_of_insee(insee) if insee else departement_of_postal_code(postal_code)
        )
        if not departement:
            out.skip(SKIP_NO_COMMUNE)
            continue
        out.per_code[code] += 1
        street = [
            _text(address.get(k))
            for k in ("numero_voie", "complement1", "complement2", "service_distribution")
        ]
        lines = [s for s in street if s] + (
            [f"{postal_code} {commune}".strip()] if postal_code or commune else []
        )
        phones = [
            phone_number(_text(p.get("valeur")))
            for p in json_field(row.get("telephone"), f"{where} › telephone")
            if isinstance(p, dict)
        ]
        sites = [
            _text(s.get("valeur"))
            for s in json_field(row.get("site_internet"), f"{where} › site_internet")
            if isinstance(s, dict)
        ]
        modified = modified_date(row.get("date_modification"))
        out.modified = max(out.modified, modified)
        out.offices.append(
            Office(
                id=rid,
                network=network.id,
                name=name,
                address=", ".join(lines),
                postal_code=postal_code,
                commune=commune,
                insee=insee,
                departement=departement,
                phone=next((p for p in phones if p), ""),
                website=next((s for s in sites if s.startswith("https://")), ""),
                service_public_url=_text(row.get("url_service_public")),
                hours=opening_hours(
                    json_field(row.get("plage_ouverture"), f"{where} › plage_ouverture")
                ),
                lat=point[0] if point else None,
                lon=point[1] if point else None,
                modified=modified,
            )
        )
    return out


@dataclass
class ParsedCompetence(Parsed):
    rows: list[tuple[str, str, str]] = field(default_factory=list)  # insee, network, office


def parse_competence(rows: Any, settings: OpenDataSettings, file: str) -> ParsedCompetence:
    """(insee, network, office id) for each commune a local office serves. Rows with an
    invalid INSEE code or no office are skipped and counted."""
    if not isinstance(rows, list):
        raise MalformedInput(f"{file} : un tableau JSON est attendu")
    out = ParsedCompetence()
    for i, row in enumerate(rows):
        where = f"{file} › ligne {i}"
        if not isinstance(row, dict):
            raise MalformedInput(f"{where} : objet attendu")
        network = settings.network_of_code(_text(row.get("code_type_service_local")))
        if network is None:
            continue
        out.considered += 1
        insee = _text(row.get("code_insee_commune")).upper()
        if not INSEE_CODE.fullmatch(insee):
            out.skip("code INSEE invalide")
            continue
        offices = [
            _text(o)
            for o in json_field(row.get("id_service_local"), f"{where} › id_service_local")
            if _text(o)
        ]
        if not offices:
            out.skip("sans bureau")
            continue
        out.rows.extend((insee, network.id, office) for office in offices)
    return out


@dataclass(frozen=True)
class Offer:
    """One organisation's CléA offers on Mon Compte Formation in one département."""

    siret: str
    name: str
    departement: str
    kind: str  # clea | clea_numerique
    sessions: int
    distance_sessions: int
    hours_min: float | None
    hours_max: float | None
    price_min: float | None
    price_max: float | None
    extracted: str


def _has_any(title: str, phrases: tuple[str, ...]) -> bool:
    return any(f" {p} " in title for p in phrases)


def clea_kind(row: dict[str, Any], settings: OpenDataSettings) -> str | None:
    """'clea', 'clea_numerique', 'excluded' (CléA Management: another certificate) or
    None, from the certification title (whole words, without accents or case)."""
    title = f" {' '.join(fold(_text(row.get('intitule_certification'))).split())} "
    if _has_any(title, settings.clea_exclude):
        return "excluded"
    if _has_any(title, settings.clea_digital):
        return "clea_numerique"
    if _has_any(title, settings.clea_include):
        return "clea"
    return None


def _number(value: Any) -> float | None:
    """A number, None when empty; raises ValueError when unreadable."""
    if value in (None, ""):
        return None
    return float(value)


@dataclass
class ParsedOffers(Parsed):
    offers: list[Offer] = field(default_factory=list)
    excluded: int = 0  # CléA Management rows
    code_inventaire: dict[str, list[str]] = field(default_factory=dict)  # by kind


SKIP_NO_DEPARTEMENT = "sans département utilisable (vide ou -1)"
SKIP_NO_ORGANISATION = "sans organisme (nom_of vide)"
SKIP_NO_TITLE = "sans intitulé de certification"
SKIP_BAD_NUMBER = "nombre illisible"


def parse_offers(rows: Any, settings: OpenDataSettings, file: str) -> ParsedOffers:
    """CléA offers grouped by organisation, département and kind (sessions added up,
    hours and prices as ranges). Rows without a usable département, organisation or
    title are skipped and counted; CléA Management is left out and counted apart."""
    if not isinstance(rows, list):
        raise MalformedInput(f"{file} : un tableau JSON est attendu")
    out = ParsedOffers()
    grouped: dict[tuple[str, str, str], dict[str, Any]] = {}
    codes: dict[str, set[str]] = {}
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise MalformedInput(f"{file} › ligne {i} : objet attendu")
        if not _text(row.get("intitule_certification")):
            out.considered += 1
            out.skip(SKIP_NO_TITLE)
            continue
        kind = clea_kind(row, settings)
        if kind is None:
            continue
        if kind == "excluded":
            out.excluded += 1
            continue
        out.considered += 1
        name, dep = _text(row.get("nom_of")), _text(row.get("code_departement")).upper()
        if not re.fullmatch(r"\d{2}|2[AB]|97\d", dep) or dep in ("00", "20", "96", "97"):
            out.skip(SKIP_NO_DEPARTEMENT)
            continue
        if not name:
            out.skip(SKIP_NO_ORGANISATION)
            continue
        try:
            numbers = {
                key: _number(row.get(key))
                for key in (
                    "nb_session_active",
                    "nb_session_a_distance",
                    "nombre_heures_total_min",
                    "nombre_heures_total_max",
                    "frais_ttc_tot_min",
                    "frais_ttc_tot_max",
                )
            }
        except (TypeError, ValueError):
            out.skip(SKIP_BAD_NUMBER)
            continue
        siret = _text(row.get("siret")) or name
        g = grouped.setdefault(
            (siret, dep, kind),
            {
                "name": name,
                "sessions": 0,
                "distance": 0,
                "hours": [],
                "prices": [],
                "extracted": "",
            },
        )
        g["sessions"] += int(numbers["nb_session_active"] or 0)
        g["distance"] += int(numbers["nb_session_a_distance"] or 0)
        for key, bucket in (
            ("nombre_heures_total_min", "hours"),
            ("nombre_heures_total_max", "hours"),
            ("frais_ttc_tot_min", "prices"),
            ("frais_ttc_tot_max", "prices"),
        ):
            value = numbers[key]
            if value is not None and value >= 0:
                g[bucket].append(value)
        g["extracted"] = max(g["extracted"], _text(row.get("date_extract")))
        code = _text(row.get("code_inventaire"))
        if code:
            codes.setdefault(kind, set()).add(code)
    out.offers = [
        Offer(
            siret,
            g["name"],
            dep,
            kind,
            g["sessions"],
            g["distance"],
            min(g["hours"], default=None),
            max(g["hours"], default=None),
            min(g["prices"], default=None),
            max(g["prices"], default=None),
            g["extracted"],
        )
        for (siret, dep, kind), g in sorted(grouped.items())
    ]
    out.code_inventaire = {kind: sorted(values) for kind, values in sorted(codes.items())}
    return out


# --- the installed directory ----------------------------------------------------------------

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE offices (
    id TEXT PRIMARY KEY, network TEXT NOT NULL, name TEXT NOT NULL, address TEXT NOT NULL,
    postal_code TEXT NOT NULL, commune TEXT NOT NULL, insee TEXT NOT NULL,
    departement TEXT NOT NULL, phone TEXT NOT NULL, website TEXT NOT NULL,
    service_public_url TEXT NOT NULL, hours TEXT NOT NULL, lat REAL, lon REAL,
    modified TEXT NOT NULL);
CREATE INDEX offices_by_departement ON offices (network, departement);
CREATE TABLE competence (insee TEXT NOT NULL, network TEXT NOT NULL, office TEXT NOT NULL,
    PRIMARY KEY (insee, network, office)) WITHOUT ROWID;
CREATE TABLE town_halls (insee TEXT PRIMARY KEY, lat REAL NOT NULL, lon REAL NOT NULL)
    WITHOUT ROWID;
CREATE TABLE offers (
    siret TEXT NOT NULL, name TEXT NOT NULL, departement TEXT NOT NULL, kind TEXT NOT NULL,
    sessions INTEGER NOT NULL, distance_sessions INTEGER NOT NULL,
    hours_min REAL, hours_max REAL, price_min REAL, price_max REAL, extracted TEXT NOT NULL,
    PRIMARY KEY (siret, departement, kind));
"""

OFFICE_FIELDS = (
    "id",
    "network",
    "name",
    "address",
    "postal_code",
    "commune",
    "insee",
    "departement",
    "phone",
    "website",
    "service_public_url",
    "hours",
    "lat",
    "lon",
    "modified",
)


class LocalDirectory:
    """The installed open-data directory, read-only. Queries are indexed look-ups."""

    def __init__(self, path: Path):
        self.path = path
        # timeout=0: the file is only ever replaced whole (one rename); someone writing it
        # in place makes it unavailable for a moment (national contacts), never makes a
        # turn wait for their lock (turns may run on the bot's event loop).
        self.db = sqlite3.connect(
            f"file:{path}?mode=ro", uri=True, check_same_thread=False, timeout=0
        )
        meta = dict(self.db.execute("SELECT key, value FROM meta"))
        if int(meta.get("schema", 0)) != SCHEMA_VERSION:
            raise ValueError(
                f"{path}: schéma {meta.get('schema')} inattendu "
                f"(attendu {SCHEMA_VERSION} : relancez clea-bot directory update)"
            )
        self.meta = meta
        self.counts: dict[str, Any] = json.loads(meta.get("counts", "{}"))
        self.extracted = meta.get("extracted", "")
        self.annuaire_modified = meta.get("annuaire_modified", "")
        self.attribution: list[str] = json.loads(meta.get("attribution", "[]"))
        # Each network's official search page (opendata.yaml at install time).
        self.finders: dict[str, str] = json.loads(meta.get("finders", "{}"))

    def close(self) -> None:
        self.db.close()

    @property
    def installed(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.meta["installed"])

    def _office(self, row: tuple[Any, ...]) -> Office:
        return Office(**dict(zip(OFFICE_FIELDS, row, strict=True)))

    def competent(self, network: str, insee: str) -> list[Office]:
        """The offices the competence rows name for this commune (by name: callers choose
        among several by distance)."""
        rows = self.db.execute(
            f"SELECT {', '.join('o.' + f for f in OFFICE_FIELDS)} FROM competence c "
            "JOIN offices o ON o.id = c.office WHERE c.insee = ? AND c.network = ? "
            "ORDER BY o.name",
            (insee, network),
        )
        return [self._office(r) for r in rows]

    def in_departement(self, network: str, departement: str) -> list[Office]:
        rows = self.db.execute(
            f"SELECT {', '.join(OFFICE_FIELDS)} FROM offices WHERE network = ? AND "
            "departement = ? ORDER BY name",
            (network, departement),
        )
        return [self._office(r) for r in rows]

    def town_hall(self, insee: str) -> tuple[float, float] | None:
        """The commune's town hall (lat, lon), when the annuaire gave one."""
        row = self.db.execute(
            "SELECT lat, lon FROM town_halls WHERE insee = ?", (insee,)
        ).fetchone()
        return (row[0], row[1]) if row else None

    def offers(self, departement: str, kind: str = "clea", limit: int = 3) -> list[Offer]:
        rows = self.db.execute(
            "SELECT siret, name, departement, kind, sessions, distance_sessions, hours_min, "
            "hours_max, price_min, price_max, extracted FROM offers WHERE departement = ? "
            "AND kind = ? ORDER BY sessions DESC, name LIMIT ?",
            (departement, kind, limit),
        )
        return [Offer(*r) for r in rows]


class DirectoryUnavailable(Exception):
    """The installed directory cannot answer now (missing, corrupt, being replaced): the
    caller gives the national contacts instead."""


def open_directory(path: Path | None) -> LocalDirectory | None:
    """The installed directory, or None when there is none (a fresh install)."""
    if path is None or not path.exists():
        return None
    return LocalDirectory(path)


def settings_problems(content_dir: Path | None = None) -> list[Problem]:
    try:
        load_settings(content_dir)
    except ContentError as exc:
        return exc.problems
    return []
