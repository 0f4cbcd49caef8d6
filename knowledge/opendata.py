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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowledge.loader import CONTENT_DIR, ContentError, Problem, _read_yaml, _Reader
from knowledge.text import fold

SETTINGS_FILE = "opendata.yaml"
SCHEMA_VERSION = 1


# --- settings -------------------------------------------------------------------------------

@dataclass(frozen=True)
class SourceSettings:
    id: str
    url: str
    where: str
    file: str
    attribution: str
    optional: bool = False


@dataclass(frozen=True)
class Network:
    id: str
    name: str
    codes: tuple[str, ...]
    required: bool = True


@dataclass(frozen=True)
class OpenDataSettings:
    sources: dict[str, SourceSettings]
    networks: tuple[Network, ...]
    clea_include: tuple[str, ...]
    clea_digital: tuple[str, ...]
    max_drop: float
    max_age_days: int
    checked: dt.date

    def network_of_code(self, code: str) -> Network | None:
        return next((n for n in self.networks if code in n.codes), None)


SOURCE_IDS = ("annuaire", "competence", "catalogue")


def load_settings(content_dir: Path | None = None) -> OpenDataSettings:
    """Read and validate opendata.yaml; raise ContentError listing every problem."""
    r = _Reader(SETTINGS_FILE)
    settings = read_settings((content_dir or CONTENT_DIR) / SETTINGS_FILE, r)
    if r.problems or settings is None:
        raise ContentError(r.problems)
    return settings


def read_settings(path: Path, r: _Reader) -> OpenDataSettings | None:
    data = _read_yaml(path, r)
    if data is None:
        return None
    sources = {}
    raw_sources = r.field(data, "sources", dict, "sources", default={})
    for sid in SOURCE_IDS:
        entry = f"sources.{sid}"
        item = r.field(raw_sources, sid, dict, entry, default=None)
        if item is None:
            continue
        url = r.field(item, "url", str, entry)
        where = r.field(item, "where", str, entry)
        file = r.field(item, "file", str, entry)
        attribution = r.field(item, "attribution", str, entry)
        optional = r.field(item, "optional", bool, entry, required=False, default=False)
        if url and not url.startswith("https://"):
            r.problem(entry, f"« url » doit commencer par https:// (reçu « {url} »)")
        if file and ("/" in file or not file.endswith(".json")):
            r.problem(entry, f"« file » doit être un nom de fichier .json (reçu « {file} »)")
        if None not in (url, where, file, attribution):
            sources[sid] = SourceSettings(sid, url, where, file, attribution, optional)
    networks, seen_ids, seen_codes = [], set(), set()
    for i, item in enumerate(r.field(data, "networks", list, "networks", default=[])):
        entry = f"networks[{i}]"
        nid = r.field(item, "id", str, entry)
        name = r.field(item, "name", str, entry)
        codes = r.strings(item, "codes", entry)
        required = r.field(item, "required", bool, entry, required=False, default=True)
        r.unique(seen_ids, nid, entry)
        for code in codes:
            if code in seen_codes:
                r.problem(entry, f"code « {code} » déjà donné à un autre réseau")
            seen_codes.add(code)
        if nid and name and codes:
            networks.append(Network(nid, name, codes, required))
    clea = r.field(data, "clea", dict, "clea", default={})
    include = tuple(fold(x) for x in r.strings(clea, "include", "clea"))
    digital = tuple(fold(x) for x in r.strings(clea, "digital", "clea"))
    max_drop = r.field(data, "max_drop", float, "max_drop", default=0.2)
    if not 0 < max_drop < 1:
        r.problem("max_drop", "doit être entre 0 et 1 (ex. 0.2 pour un cinquième)")
    max_age = r.field(data, "max_age_days", int, "max_age_days", default=30)
    checked = r.field(data, "checked", dt.date, "checked", default=dt.date.today())
    if r.problems:
        return None
    return OpenDataSettings(sources, tuple(networks), include, digital, max_drop, max_age,
                            checked)


# --- parsing --------------------------------------------------------------------------------

class MalformedInput(ValueError):
    """An export that cannot be read safely; the message names the file and the record."""


def json_field(value: Any, where: str) -> list:
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


def departement_of_insee(code: str) -> str:
    return code[:3] if code.startswith("97") else code[:2]


_DAYS = {"lundi": "lun", "mardi": "mar", "mercredi": "mer", "jeudi": "jeu",
         "vendredi": "ven", "samedi": "sam", "dimanche": "dim"}


def _clock(value: Any) -> str:
    """'08:30:00' → '8h30', '14:00:00' → '14h'."""
    m = re.match(r"^(\d{1,2}):(\d{2})", str(value or ""))
    if not m:
        return ""
    hours, minutes = int(m.group(1)), m.group(2)
    return f"{hours}h" if minutes == "00" else f"{hours}h{minutes}"


def opening_hours(ranges: list) -> str:
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
            start, end = _clock(r.get(f"valeur_heure_debut_{n}")), _clock(
                r.get(f"valeur_heure_fin_{n}"))
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


_PHONE_CHARS = re.compile(r"[\s.\-()]")


def phone_number(value: str) -> str:
    """A phone as people dial it, or '' when it does not look like one."""
    compact = _PHONE_CHARS.sub("", value)
    if re.fullmatch(r"0[1-9]\d{8}", compact):
        return " ".join(compact[i:i + 2] for i in range(0, 10, 2))
    if re.fullmatch(r"\+\d{9,14}|\d{4}", compact):
        return compact
    return ""


def tap_to_call(phone: str) -> str:
    """The international form Telegram turns into a call link: '+33 4 00 00 00 01'."""
    compact = phone.replace(" ", "")
    national = re.fullmatch(r"(?:0|\+33|0033)([1-9]\d{8})", compact)
    if national:
        rest = national.group(1)
        return "+33 " + rest[0] + " " + " ".join(rest[i:i + 2] for i in range(1, 9, 2))
    return phone


@dataclass(frozen=True)
class Office:
    id: str
    network: str
    name: str
    address: str  # one line: street, extra lines, postal code and commune
    postal_code: str
    commune: str
    insee: str
    departement: str
    phone: str
    website: str
    service_public_url: str
    hours: str
    lat: float | None
    lon: float | None

    @property
    def map_url(self) -> str | None:
        if self.lat is None or self.lon is None:
            return None
        return (f"https://www.openstreetmap.org/?mlat={self.lat:.5f}&mlon={self.lon:.5f}"
                f"#map=17/{self.lat:.5f}/{self.lon:.5f}")


def _float(value: Any) -> float | None:
    try:
        number = float(str(value).replace(",", "."))
    except (TypeError, ValueError):
        return None
    return number if -180 <= number <= 180 else None


def parse_records(rows: Any, settings: OpenDataSettings, file: str
                  ) -> tuple[list[Office], list[tuple[str, str, str]]]:
    """Offices of the networks we know, and the competence rows their `pivot` declares
    as (insee, network, office id). Records of other types are skipped."""
    if not isinstance(rows, list):
        raise MalformedInput(f"{file} : un tableau JSON d'enregistrements est attendu")
    offices, served = [], []
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise MalformedInput(f"{file} › enregistrement {i} : objet attendu")
        rid, name = _text(row.get("id")), _text(row.get("nom"))
        where = f"{file} › {rid or f'enregistrement {i}'}"
        if not rid or not name:
            raise MalformedInput(f"{where} : champ « id » ou « nom » manquant")
        network = None
        for pivot in json_field(row.get("pivot"), f"{where} › pivot"):
            if not isinstance(pivot, dict):
                continue
            found = settings.network_of_code(_text(pivot.get("type_service_local")))
            if found is None:
                continue
            network = network or found
            for code in json_field(pivot.get("code_insee_commune"), f"{where} › pivot"):
                served.append((_text(code), found.id, rid))
        if network is None:
            continue
        addresses = [a for a in json_field(row.get("adresse"), f"{where} › adresse")
                     if isinstance(a, dict)]
        address = next((a for a in addresses if fold(_text(a.get("type_adresse"))) == "adresse"),
                       addresses[0] if addresses else {})
        postal_code, commune = _text(address.get("code_postal")), _text(address.get("nom_commune"))
        street = [_text(address.get(k)) for k in ("numero_voie", "complement1", "complement2",
                                                   "service_distribution")]
        lines = [s for s in street if s] + ([f"{postal_code} {commune}".strip()]
                                            if postal_code or commune else [])
        phones = [phone_number(_text(p.get("valeur")))
                  for p in json_field(row.get("telephone"), f"{where} › telephone")
                  if isinstance(p, dict)]
        sites = [_text(s.get("valeur"))
                 for s in json_field(row.get("site_internet"), f"{where} › site_internet")
                 if isinstance(s, dict)]
        insee = _text(row.get("code_insee_commune"))
        departement = departement_of_insee(insee) if insee else postal_code[:2]
        offices.append(Office(
            id=rid, network=network.id, name=name, address=", ".join(lines),
            postal_code=postal_code, commune=commune, insee=insee, departement=departement,
            phone=next((p for p in phones if p), ""),
            website=next((s for s in sites if s.startswith("https://")), ""),
            service_public_url=_text(row.get("url_service_public")),
            hours=opening_hours(json_field(row.get("plage_ouverture"),
                                           f"{where} › plage_ouverture")),
            lat=_float(address.get("latitude")), lon=_float(address.get("longitude"))))
    return offices, served


def parse_competence(rows: Any, settings: OpenDataSettings, file: str
                     ) -> list[tuple[str, str, str]]:
    """(insee, network, office id) for each commune a local office serves."""
    if not isinstance(rows, list):
        raise MalformedInput(f"{file} : un tableau JSON est attendu")
    out = []
    for i, row in enumerate(rows):
        where = f"{file} › ligne {i}"
        if not isinstance(row, dict):
            raise MalformedInput(f"{where} : objet attendu")
        insee = _text(row.get("code_insee_commune"))
        if not re.fullmatch(r"[0-9][0-9AB][0-9]{3}", insee):
            raise MalformedInput(f"{where} : code INSEE « {insee[:10]} » invalide")
        network = settings.network_of_code(_text(row.get("code_type_service_local")))
        if network is None:
            continue
        for office in json_field(row.get("id_service_local"), f"{where} › id_service_local"):
            if _text(office):
                out.append((insee, network.id, _text(office)))
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


def clea_kind(row: dict, settings: OpenDataSettings) -> str | None:
    """'clea', 'clea_numerique' or None, from the certification title (whole words)."""
    title = f" {fold(_text(row.get('intitule_certification')))} "
    if any(f" {d} " in title for d in settings.clea_digital):
        return "clea_numerique"
    if any(f" {w} " in title for w in settings.clea_include):
        return "clea"
    return None


def _number(value: Any, where: str, field: str) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise MalformedInput(f"{where} : « {field} » n'est pas un nombre") from None


def parse_offers(rows: Any, settings: OpenDataSettings, file: str) -> list[Offer]:
    """CléA offers grouped by organisation, département and kind (sessions added up,
    hours and prices as ranges)."""
    if not isinstance(rows, list):
        raise MalformedInput(f"{file} : un tableau JSON est attendu")
    grouped: dict[tuple[str, str, str], dict] = {}
    for i, row in enumerate(rows):
        where = f"{file} › ligne {i}"
        if not isinstance(row, dict):
            raise MalformedInput(f"{where} : objet attendu")
        kind = clea_kind(row, settings)
        if kind is None:
            continue
        name, dep = _text(row.get("nom_of")), _text(row.get("code_departement")).upper()
        if not name or not re.fullmatch(r"\d{2}|2[AB]|97\d", dep):
            raise MalformedInput(f"{where} : « nom_of » ou « code_departement » manquant")
        siret = _text(row.get("siret")) or name
        g = grouped.setdefault((siret, dep, kind), {
            "name": name, "sessions": 0, "distance": 0, "hours": [], "prices": [],
            "extracted": ""})
        g["sessions"] += int(_number(row.get("nb_session_active"), where,
                                     "nb_session_active") or 0)
        g["distance"] += int(_number(row.get("nb_session_a_distance"), where,
                                     "nb_session_a_distance") or 0)
        for key, bucket in (("nombre_heures_total_min", "hours"),
                            ("nombre_heures_total_max", "hours"),
                            ("frais_ttc_tot_min", "prices"), ("frais_ttc_tot_max", "prices")):
            value = _number(row.get(key), where, key)
            if value is not None and value >= 0:
                g[bucket].append(value)
        g["extracted"] = max(g["extracted"], _text(row.get("date_extract")))
    return [Offer(siret, g["name"], dep, kind, g["sessions"], g["distance"],
                  min(g["hours"], default=None), max(g["hours"], default=None),
                  min(g["prices"], default=None), max(g["prices"], default=None),
                  g["extracted"])
            for (siret, dep, kind), g in sorted(grouped.items())]


# --- the installed directory ----------------------------------------------------------------

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE offices (
    id TEXT PRIMARY KEY, network TEXT NOT NULL, name TEXT NOT NULL, address TEXT NOT NULL,
    postal_code TEXT NOT NULL, commune TEXT NOT NULL, insee TEXT NOT NULL,
    departement TEXT NOT NULL, phone TEXT NOT NULL, website TEXT NOT NULL,
    service_public_url TEXT NOT NULL, hours TEXT NOT NULL, lat REAL, lon REAL);
CREATE INDEX offices_by_departement ON offices (network, departement);
CREATE TABLE competence (insee TEXT NOT NULL, network TEXT NOT NULL, office TEXT NOT NULL,
    PRIMARY KEY (insee, network, office)) WITHOUT ROWID;
CREATE TABLE offers (
    siret TEXT NOT NULL, name TEXT NOT NULL, departement TEXT NOT NULL, kind TEXT NOT NULL,
    sessions INTEGER NOT NULL, distance_sessions INTEGER NOT NULL,
    hours_min REAL, hours_max REAL, price_min REAL, price_max REAL, extracted TEXT NOT NULL,
    PRIMARY KEY (siret, departement, kind));
"""

_OFFICE_FIELDS = ("id", "network", "name", "address", "postal_code", "commune", "insee",
                  "departement", "phone", "website", "service_public_url", "hours", "lat", "lon")


class LocalDirectory:
    """The installed open-data directory, read-only. Queries are indexed look-ups."""

    def __init__(self, path: Path):
        self.path = path
        self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        meta = dict(self.db.execute("SELECT key, value FROM meta"))
        if int(meta.get("schema", 0)) != SCHEMA_VERSION:
            raise ValueError(f"{path}: schéma {meta.get('schema')} inattendu")
        self.meta = meta
        self.counts: dict[str, Any] = json.loads(meta.get("counts", "{}"))
        self.extracted = meta.get("extracted", "")
        self.attribution: list[str] = json.loads(meta.get("attribution", "[]"))

    def close(self) -> None:
        self.db.close()

    @property
    def installed(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.meta["installed"])

    def _office(self, row: tuple) -> Office:
        return Office(**dict(zip(_OFFICE_FIELDS, row, strict=True)))

    def competent(self, network: str, insee: str) -> list[Office]:
        """The offices the competence data names for this commune."""
        rows = self.db.execute(
            f"SELECT {', '.join('o.' + f for f in _OFFICE_FIELDS)} FROM competence c "
            "JOIN offices o ON o.id = c.office WHERE c.insee = ? AND c.network = ? "
            "ORDER BY o.name", (insee, network))
        return [self._office(r) for r in rows]

    def in_departement(self, network: str, departement: str) -> list[Office]:
        rows = self.db.execute(
            f"SELECT {', '.join(_OFFICE_FIELDS)} FROM offices WHERE network = ? AND "
            "departement = ? ORDER BY name", (network, departement))
        return [self._office(r) for r in rows]

    def offers(self, departement: str, kind: str = "clea", limit: int = 3) -> list[Offer]:
        rows = self.db.execute(
            "SELECT siret, name, departement, kind, sessions, distance_sessions, hours_min, "
            "hours_max, price_min, price_max, extracted FROM offers WHERE departement = ? "
            "AND kind = ? ORDER BY sessions DESC, name LIMIT ?", (departement, kind, limit))
        return [Offer(*r) for r in rows]


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
