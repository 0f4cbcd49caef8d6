"""`clea-bot directory update`: download the open data, check it, install it atomically.

Run it daily or weekly (cron) on a machine that reaches the internet. Every raw export is
kept in a dated folder beside the installed file, so a run can be replayed with --from.
The installed file is replaced only when the new one passed every guard: a malformed
export, a network with no office, or a network that lost more than a fifth of its offices
leaves the bot on the previous directory.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from knowledge import geography
from knowledge.opendata import (
    SCHEMA,
    SCHEMA_VERSION,
    MalformedInput,
    Offer,
    Office,
    OpenDataSettings,
    SourceSettings,
    parse_competence,
    parse_offers,
    parse_records,
)

TIMEOUT_S = 60
ATTEMPTS = 4
USER_AGENT = "clea-bot directory update (+https://github.com)"


class UpdateRefused(RuntimeError):
    """The new data failed a guard; the installed file was not touched."""


# --- download -------------------------------------------------------------------------------

def _get_json(url: str, err: TextIO, attempts: int = ATTEMPTS, pause_s: float = 2.0) -> Any:
    """GET a JSON document with a timeout and bounded retries on network errors and 5xx."""
    last: Exception | None = None
    for attempt in range(1, attempts + 1):
        try:
            request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT,
                                                           "Accept": "application/json"})
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310
                return json.load(response)
        except urllib.error.HTTPError as exc:
            if exc.code < 500 and exc.code != 429:
                raise UpdateRefused(f"{url} : HTTP {exc.code}") from None
            last = exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            last = exc
        except json.JSONDecodeError:
            raise UpdateRefused(f"{url} : la réponse n'est pas du JSON") from None
        if attempt < attempts:
            print(f"  nouvel essai ({attempt}/{attempts - 1}) après une erreur réseau",
                  file=err)
            time.sleep(pause_s * 2 ** (attempt - 1))
    raise UpdateRefused(f"{url} : injoignable après {attempts} essais ({type(last).__name__})")


def _export_url(source: SourceSettings, code: str | None = None) -> str:
    where = source.where.replace("{code}", code or "")
    return f"{source.url}?{urllib.parse.urlencode({'where': where})}"


def download(settings: OpenDataSettings, folder: Path, err: TextIO,
             pause_s: float = 2.0) -> dict[str, str]:
    """Fetch the three exports into `folder`; return the URLs fetched, by source."""
    folder.mkdir(parents=True, exist_ok=True)
    urls: dict[str, str] = {}
    for sid in ("annuaire", "competence"):
        source = settings.sources[sid]
        rows: list = []
        seen: set = set()
        for network in settings.networks:
            for code in network.codes:
                url = _export_url(source, code)
                try:
                    got = _get_json(url, err, pause_s=pause_s)
                except UpdateRefused:
                    if source.optional:
                        print(f"  {sid} ({code}) : indisponible, on s'en passe", file=err)
                        continue
                    raise
                if not isinstance(got, list):
                    raise UpdateRefused(f"{url} : un tableau JSON est attendu")
                for row in got:  # the same office may be listed under two codes
                    key = json.dumps(row, sort_keys=True) if sid == "competence" else (
                        row.get("id") if isinstance(row, dict) else None)
                    if key is None or key not in seen:
                        seen.add(key)
                        rows.append(row)
                print(f"  {sid} ({code}) : {len(got)} lignes", file=err)
                urls[f"{sid}:{code}"] = url
        if rows or not source.optional:
            _write_json(folder / source.file, rows)
    source = settings.sources["catalogue"]
    url = _export_url(source)
    rows = _get_json(url, err, pause_s=pause_s)
    print(f"  catalogue Mon Compte Formation : {len(rows) if isinstance(rows, list) else 0}"
          " lignes", file=err)
    _write_json(folder / source.file, rows)
    urls["catalogue"] = url
    _write_json(folder / "sources.json", urls)
    return urls


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(".part")
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


# --- build ----------------------------------------------------------------------------------

@dataclass
class Built:
    offices: list[Office]
    competence: set[tuple[str, str, str]]
    offers: list[Offer]
    extracted: str
    urls: dict[str, str]

    def counts(self) -> dict[str, Any]:
        per_network = Counter(o.network for o in self.offices)
        per_dep: dict[str, Counter] = {}
        for o in self.offices:
            per_dep.setdefault(o.network, Counter())[o.departement] += 1
        offers = Counter(o.kind for o in self.offers)
        communes = Counter(net for _, net, _ in self.competence)
        return {"offices": dict(per_network), "communes": dict(communes),
                "offices_by_departement": {k: dict(v) for k, v in per_dep.items()},
                "offers": dict(offers),
                "offers_by_departement": dict(Counter(o.departement for o in self.offers
                                                      if o.kind == "clea"))}


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MalformedInput(f"{path.name} : fichier introuvable dans {path.parent}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MalformedInput(f"{path.name} : JSON illisible ({exc})") from None


def build(folder: Path, settings: OpenDataSettings) -> Built:
    """Parse the raw exports of `folder` (raises MalformedInput naming the file)."""
    records = settings.sources["annuaire"]
    offices, served = parse_records(_read_json(folder / records.file), settings, records.file)
    competence_source = settings.sources["competence"]
    rows: list = []
    if (folder / competence_source.file).exists():
        rows = parse_competence(_read_json(folder / competence_source.file), settings,
                                competence_source.file)
    elif not competence_source.optional:
        raise MalformedInput(f"{competence_source.file} : fichier introuvable dans {folder}")
    catalogue = settings.sources["catalogue"]
    offers = parse_offers(_read_json(folder / catalogue.file), settings, catalogue.file)
    known = {o.id for o in offices}
    # Competence rows may name offices of other networks or closed ones: keep known offices.
    competence = {row for row in [*served, *rows] if row[2] in known and row[0]}
    dates = [o.extracted for o in offers if o.extracted]
    # The URLs the exports came from, for attribution; replayed files without a record of
    # them are attributed to the configured endpoints.
    urls = {sid: s.url for sid, s in settings.sources.items()}
    if (folder / "sources.json").exists():
        urls = _read_json(folder / "sources.json")
    return Built(offices, competence, offers, max(dates, default=""), urls)


def check_guards(new: dict[str, Any], old: dict[str, Any] | None, settings: OpenDataSettings,
                 force: bool) -> list[str]:
    """Reasons to refuse the new directory (empty when it may be installed)."""
    problems = []
    for network in settings.networks:
        count = new["offices"].get(network.id, 0)
        before = (old or {}).get("offices", {}).get(network.id, 0)
        if count == 0 and network.required:
            problems.append(f"réseau {network.name} : aucun bureau dans l'annuaire "
                            f"(codes {', '.join(network.codes)})")
        elif before and count < before * (1 - settings.max_drop) and not force:
            problems.append(f"réseau {network.name} : {count} bureaux contre {before} "
                            f"installés (baisse de plus de {settings.max_drop:.0%} ; "
                            "--force pour passer outre)")
    offers = new["offers"].get("clea", 0)
    before = (old or {}).get("offers", {}).get("clea", 0)
    if offers == 0:
        problems.append("catalogue Mon Compte Formation : aucune offre CléA")
    elif before and offers < before * (1 - settings.max_drop) and not force:
        problems.append(f"catalogue Mon Compte Formation : {offers} offres CléA contre "
                        f"{before} installées (--force pour passer outre)")
    return problems


def installed_counts(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = db.execute("SELECT value FROM meta WHERE key = 'counts'").fetchone()
        finally:
            db.close()
    except sqlite3.DatabaseError:
        return None  # a broken file is replaced, not compared with
    return json.loads(row[0]) if row else None


def install(built: Built, settings: OpenDataSettings, out: Path) -> None:
    """Write a new SQLite file beside `out` and swap it in with one rename."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".new")
    tmp.unlink(missing_ok=True)
    db = sqlite3.connect(tmp)
    try:
        db.executescript(SCHEMA)
        attribution = [s.attribution for s in settings.sources.values()]
        meta = {"schema": str(SCHEMA_VERSION), "installed": dt.datetime.now().isoformat(
            timespec="seconds"), "extracted": built.extracted,
            "sources": json.dumps(built.urls, ensure_ascii=False),
            "attribution": json.dumps(attribution, ensure_ascii=False),
            "counts": json.dumps(built.counts(), ensure_ascii=False)}
        db.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        db.executemany(f"INSERT OR REPLACE INTO offices VALUES ({', '.join('?' * 14)})",
                       [(o.id, o.network, o.name, o.address, o.postal_code, o.commune,
                         o.insee, o.departement, o.phone, o.website, o.service_public_url,
                         o.hours, o.lat, o.lon) for o in built.offices])
        db.executemany("INSERT OR IGNORE INTO competence VALUES (?, ?, ?)",
                       sorted(built.competence))
        db.executemany(f"INSERT INTO offers VALUES ({', '.join('?' * 11)})",
                       [(o.siret, o.name, o.departement, o.kind, o.sessions,
                         o.distance_sessions, o.hours_min, o.hours_max, o.price_min,
                         o.price_max, o.extracted) for o in built.offers])
        db.commit()
    finally:
        db.close()
    os.replace(tmp, out)


def summary(built: Built, settings: OpenDataSettings) -> str:
    counts = built.counts()
    metro_and_drom = {d for d in geography.DEPARTEMENT_NAME
                      if d not in geography.OVERSEAS_COLLECTIVITIES}
    lines = [f"Annuaire installé (données du {built.extracted or 'date inconnue'}) :"]
    for network in settings.networks:
        offices = counts["offices"].get(network.id, 0)
        communes = counts["communes"].get(network.id, 0)
        covered = set(counts["offices_by_departement"].get(network.id, {}))
        missing = sorted(metro_and_drom - covered)
        shown = ", ".join(missing[:15]) + (" …" if len(missing) > 15 else "")
        lines.append(f"- {network.name} : {offices} bureaux, {communes} communes rattachées, "
                     f"{len(missing)} départements sans bureau"
                     + (f" ({shown})" if missing else ""))
    offers = counts["offers"]
    lines.append(f"- Offres CléA (Mon Compte Formation) : {offers.get('clea', 0)}, "
                 f"dans {len(counts['offers_by_departement'])} départements ; "
                 f"CléA numérique à part : {offers.get('clea_numerique', 0)}")
    return "\n".join(lines)


def update(settings: OpenDataSettings, out: Path, source_dir: Path | None, force: bool,
           err: TextIO = sys.stderr, pause_s: float = 2.0) -> str:
    """Download (unless `source_dir`), build, check and install. Returns the summary;
    raises UpdateRefused or MalformedInput, with `out` untouched."""
    if source_dir is None:
        source_dir = out.parent / f"opendata-{dt.date.today():%Y%m%d}"
        print(f"Téléchargement vers {source_dir}", file=err)
        download(settings, source_dir, err, pause_s=pause_s)
    built = build(source_dir, settings)
    problems = check_guards(built.counts(), installed_counts(out), settings, force)
    if problems:
        raise UpdateRefused("\n".join(problems))
    install(built, settings, out)
    return summary(built, settings)
