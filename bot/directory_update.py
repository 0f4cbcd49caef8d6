"""`clea-bot directory update`: download the open data, check it, install it atomically.

Run it daily or weekly (cron) on a machine that reaches the internet. Every raw export is
kept in a dated folder beside the installed file, so a run can be replayed with --from.
The installed file is replaced only when the new one passed every guard: a malformed
export, a network with no office, a network that lost more than a fifth of its offices, or
a source with more than 5% of its rows skipped (no usable commune, département, organisation
or title: such rows are skipped one by one and counted by reason) leaves the bot on the
previous directory.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from bot.retrying import Backoff, retry_sync
from bot.storage import directory
from knowledge import geography
from knowledge.opendata import (
    SCHEMA_VERSION,
    MalformedInput,
    Offer,
    Office,
    OpenDataSettings,
    Parsed,
    ParsedCompetence,
    ParsedOffers,
    ParsedRecords,
    SourceSettings,
    parse_competence,
    parse_offers,
    parse_records,
)

TIMEOUT_S = 60
ATTEMPTS = 4
HISTORY_KEPT = 5  # installs whose counts the drop guards compare with
USER_AGENT = "clea-bot directory update (+https://github.com)"


class UpdateRefused(RuntimeError):
    """The new data failed a guard; the installed file was not touched."""


# --- download -------------------------------------------------------------------------------


def _get_json(url: str, err: TextIO, attempts: int = ATTEMPTS, pause_s: float = 2.0) -> Any:
    """GET a JSON document with a timeout and bounded retries on network errors and 5xx."""

    def get() -> Any:
        request = urllib.request.Request(
            url, headers={"User-Agent": USER_AGENT, "Accept": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
                return json.load(response)
        except urllib.error.HTTPError as exc:
            if exc.code < 500 and exc.code != 429:
                raise UpdateRefused(f"{url} : HTTP {exc.code}") from None
            raise
        except json.JSONDecodeError:
            raise UpdateRefused(f"{url} : la réponse n'est pas du JSON") from None

    def report(exc: Exception, retry: int, pause: float) -> None:
        print(f"  nouvel essai ({retry}/{attempts - 1}) après une erreur réseau", file=err)

    try:
        return retry_sync(get, Backoff(first=pause_s).pauses(attempts - 1), _network_error, report)
    except UpdateRefused:
        raise
    except Exception as exc:
        if not _network_error(exc):
            raise
        raise UpdateRefused(
            f"{url} : injoignable après {attempts} essais ({type(exc).__name__})"
        ) from None


def _network_error(exc: Exception) -> bool:
    """Worth another try: no answer, a cut body (IncompleteRead), a 5xx or a 429."""
    return isinstance(
        exc, urllib.error.URLError | TimeoutError | ConnectionError | http.client.HTTPException
    )


def _export_url(
    host: str,
    source: SourceSettings,
    code: str | None = None,
    select: tuple[str, ...] | None = None,
) -> str:
    params = {"where": source.where.replace("{code}", code or "")}
    fields = source.select if select is None else select
    if fields:
        params["select"] = ",".join(fields)
    return f"{host}{source.path}?{urllib.parse.urlencode(params)}"


class _Hosts:
    """Try a source's hosts in order; once one answers, keep it for the rest of the run."""

    def __init__(self, err: TextIO, pause_s: float):
        self.err, self.pause_s = err, pause_s
        self.good: dict[str, str] = {}

    def get(
        self, source: SourceSettings, code: str | None = None, select: tuple[str, ...] | None = None
    ) -> tuple[Any, str]:
        hosts = list(source.hosts)
        if source.id in self.good:
            hosts.remove(self.good[source.id])
            hosts.insert(0, self.good[source.id])
        problem: UpdateRefused | None = None
        for host in hosts:
            url = _export_url(host, source, code, select)
            try:
                data = _get_json(url, self.err, pause_s=self.pause_s)
            except UpdateRefused as exc:
                problem = exc
                if host != hosts[-1]:
                    print(f"  {host} : {exc} ; on essaie l'hôte suivant", file=self.err)
                continue
            self.good[source.id] = host
            return data, url
        assert problem is not None
        raise problem


def download(
    settings: OpenDataSettings, folder: Path, err: TextIO, pause_s: float = 2.0
) -> dict[str, str]:
    """Fetch the three exports into `folder` (the town halls with the annuaire's records);
    return the URLs fetched, by source and code."""
    folder.mkdir(parents=True, exist_ok=True)
    hosts = _Hosts(err, pause_s)
    urls: dict[str, str] = {}
    for sid in ("annuaire", "competence"):
        source = settings.sources[sid]
        requests: list[tuple[str, tuple[str, ...] | None]] = [
            (code, None) for network in settings.networks for code in network.codes
        ]
        if sid == "annuaire":
            requests += [
                (code, settings.town_halls.select or None) for code in settings.town_halls.codes
            ]
        rows: list = []
        seen: set = set()
        for code, select in requests:
            try:
                got, url = hosts.get(source, code, select)
            except UpdateRefused:
                if source.optional:
                    print(f"  {sid} ({code}) : indisponible, on s'en passe", file=err)
                    continue
                raise
            if not isinstance(got, list):
                raise UpdateRefused(f"{url} : un tableau JSON est attendu")
            for row in got:  # the same office may be listed under two codes
                key = (
                    json.dumps(row, sort_keys=True)
                    if sid == "competence"
                    else (row.get("id") if isinstance(row, dict) else None)
                )
                if key is None or key not in seen:
                    seen.add(key)
                    rows.append(row)
            print(f"  {sid} ({code}) : {len(got)} lignes", file=err)
            urls[f"{sid}:{code}"] = url
        if rows or not source.optional:
            _write_json(folder / source.file, rows)
    source = settings.sources["catalogue"]
    rows, url = hosts.get(source)
    print(
        f"  catalogue Mon Compte Formation : {len(rows) if isinstance(rows, list) else 0} lignes",
        file=err,
    )
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
    records: ParsedRecords
    competence_rows: ParsedCompetence
    catalogue: ParsedOffers
    competence: set[tuple[str, str, str]]
    extracted: str
    urls: dict[str, str]

    @property
    def offices(self) -> list[Office]:
        return self.records.offices

    @property
    def offers(self) -> list[Offer]:
        return self.catalogue.offers

    def sources(self) -> dict[str, Parsed]:
        return {
            "annuaire": self.records,
            "competence": self.competence_rows,
            "catalogue": self.catalogue,
        }

    def located(self) -> dict[str, int]:
        """Communes of the commune table located by their town hall, by the postal-code
        table only, or not at all."""
        points = geography.commune_points()
        by_town_hall = sum(1 for insee in points if insee in self.records.town_halls)
        by_postal_code = sum(
            1
            for insee, point in points.items()
            if point is not None and insee not in self.records.town_halls
        )
        return {
            "town_hall": by_town_hall,
            "postal_code": by_postal_code,
            "none": len(points) - by_town_hall - by_postal_code,
        }

    def counts(self) -> dict[str, Any]:
        per_network = Counter(o.network for o in self.offices)
        per_dep: dict[str, Counter] = {}
        for o in self.offices:
            per_dep.setdefault(o.network, Counter())[o.departement] += 1
        offers = Counter(o.kind for o in self.offers)
        communes = Counter(net for _, net in {(insee, net) for insee, net, _ in self.competence})
        return {
            "offices": dict(per_network),
            "communes": dict(communes),
            "codes": dict(self.records.per_code),
            "offices_by_departement": {k: dict(v) for k, v in per_dep.items()},
            "offers": dict(offers),
            "offers_by_departement": dict(
                Counter(o.departement for o in self.offers if o.kind == "clea")
            ),
            "clea_management_excluded": self.catalogue.excluded,
            "code_inventaire": self.catalogue.code_inventaire,
            "town_halls": len(self.records.town_halls),
            "located": self.located(),
            "skipped": {sid: dict(p.skipped) for sid, p in self.sources().items()},
        }


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MalformedInput(f"{path.name} : fichier introuvable dans {path.parent}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MalformedInput(f"{path.name} : JSON illisible ({exc})") from None


def build(folder: Path, settings: OpenDataSettings) -> Built:
    """Parse the raw exports of `folder` (raises MalformedInput naming the file)."""
    records_source = settings.sources["annuaire"]
    records = parse_records(_read_json(folder / records_source.file), settings, records_source.file)
    competence_source = settings.sources["competence"]
    rows = ParsedCompetence()
    if (folder / competence_source.file).exists():
        rows = parse_competence(
            _read_json(folder / competence_source.file), settings, competence_source.file
        )
    elif not competence_source.optional:
        raise MalformedInput(f"{competence_source.file} : fichier introuvable dans {folder}")
    catalogue_source = settings.sources["catalogue"]
    catalogue = parse_offers(
        _read_json(folder / catalogue_source.file), settings, catalogue_source.file
    )
    networks = {o.id: o.network for o in records.offices}
    # Competence rows may name offices of other networks or closed ones: keep known offices.
    competence = {row for row in rows.rows if networks.get(row[2]) == row[1]}
    dates = [o.extracted for o in catalogue.offers if o.extracted]
    # The URLs the exports came from, for attribution; replayed files without a record of
    # them are attributed to the configured endpoints.
    urls = {sid: s.url for sid, s in settings.sources.items()}
    if (folder / "sources.json").exists():
        urls = _read_json(folder / "sources.json")
    return Built(records, rows, catalogue, competence, max(dates, default=""), urls)


def check_guards(
    built: Built, old: dict[str, Any] | None, settings: OpenDataSettings, force: bool
) -> list[str]:
    """Reasons to refuse the new directory (empty when it may be installed)."""
    new = built.counts()
    problems = []
    for network in settings.networks:
        count = new["offices"].get(network.id, 0)
        before = (old or {}).get("offices", {}).get(network.id, 0)
        if count == 0 and network.required:
            problems.append(
                f"réseau {network.name} : aucun bureau dans l'annuaire "
                f"(codes {', '.join(network.codes)})"
            )
        elif before and count < before * (1 - settings.max_drop) and not force:
            problems.append(
                f"réseau {network.name} : {count} bureaux contre {before} "
                f"installés (baisse de plus de {settings.max_drop:.0%} ; "
                "--force pour passer outre)"
            )
    communes = sum(new["communes"].values())
    communes_before = sum((old or {}).get("communes", {}).values())
    if communes == 0 and not settings.sources["competence"].optional:
        problems.append(
            "compétence géographique : aucune ligne pour nos réseaux (sans elle, "
            "aucun bureau ne serait « prévu pour la commune »)"
        )
    elif communes_before and communes < communes_before * (1 - settings.max_drop) and not force:
        problems.append(
            f"compétence géographique : {communes} communes rattachées contre "
            f"{communes_before} installées (--force pour passer outre)"
        )
    offers = new["offers"].get("clea", 0)
    before = (old or {}).get("offers", {}).get("clea", 0)
    if offers == 0:
        problems.append("catalogue Mon Compte Formation : aucune offre CléA")
    elif before and offers < before * (1 - settings.max_drop) and not force:
        problems.append(
            f"catalogue Mon Compte Formation : {offers} offres CléA contre "
            f"{before} installées (--force pour passer outre)"
        )
    for sid, parsed in built.sources().items():
        if parsed.share_skipped > settings.max_skipped and not force:
            problems.append(
                f"{settings.sources[sid].file} : {sum(parsed.skipped.values())} lignes "
                f"écartées sur {parsed.considered} ({parsed.share_skipped:.1%}, plus de "
                f"{settings.max_skipped:.0%} ; {_reasons(parsed.skipped)} ; "
                "--force pour passer outre)"
            )
    return problems


def _reasons(skipped: Counter | dict) -> str:
    return ", ".join(f"{n} {reason}" for reason, n in sorted(skipped.items(), key=lambda x: -x[1]))


def installed_counts(path: Path) -> dict[str, Any] | None:
    return directory.installed_meta(path, "counts")


def installed_history(path: Path) -> list[dict[str, Any]]:
    """The counts of the last installs (HISTORY_KEPT), oldest first."""
    history = directory.installed_meta(path, "history")
    if isinstance(history, list) and history:
        return history
    counts = installed_counts(path)  # a file installed before the history was kept
    return [counts] if counts else []


def floor_counts(history: list[dict[str, Any]]) -> dict[str, Any] | None:
    """What the guards compare with: for each network, the largest count of the last
    installs, not only the last one. Compared with the last only, five updates each a
    little under the limit took France Travail from 400 offices to 139."""
    if not history:
        return None
    floor: dict[str, dict[str, int]] = {"offices": {}, "communes": {}, "offers": {}}
    for counts in history:
        for key, values in floor.items():
            for name, n in (counts.get(key) or {}).items():
                values[name] = max(values.get(name, 0), int(n))
    return floor


def install(built: Built, settings: OpenDataSettings, out: Path, forced: bool = False) -> None:
    """Write a new SQLite file beside `out` and swap it in with one rename. It keeps the
    counts of the last installs for the guards; a forced install (the deployer accepted
    the new level) starts that history again."""
    history = [] if forced else installed_history(out)
    history = [*history, built.counts()][-HISTORY_KEPT:]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".new")
    tmp.unlink(missing_ok=True)
    attribution = [s.attribution for s in settings.sources.values()]
    meta = {
        "schema": str(SCHEMA_VERSION),
        "installed": dt.datetime.now().isoformat(timespec="seconds"),
        "extracted": built.extracted,
        "annuaire_modified": built.records.modified,
        "sources": json.dumps(built.urls, ensure_ascii=False),
        "attribution": json.dumps(attribution, ensure_ascii=False),
        "finders": json.dumps({n.id: n.finder for n in settings.networks if n.finder}),
        "counts": json.dumps(built.counts(), ensure_ascii=False),
        "history": json.dumps(history, ensure_ascii=False),
    }
    directory.write(
        tmp, meta, built.offices, built.competence, built.records.town_halls, built.offers
    )
    os.replace(tmp, out)


def summary(built: Built, settings: OpenDataSettings) -> str:
    counts = built.counts()
    metro_and_drom = {
        d for d in geography.DEPARTEMENT_NAME if d not in geography.OVERSEAS_COLLECTIVITIES
    }
    lines = [
        f"Annuaire installé (catalogue du {built.extracted or 'date inconnue'}, "
        f"fiches de l'annuaire modifiées jusqu'au "
        f"{built.records.modified or 'date inconnue'}) :"
    ]
    for network in settings.networks:
        offices = counts["offices"].get(network.id, 0)
        communes = counts["communes"].get(network.id, 0)
        covered = set(counts["offices_by_departement"].get(network.id, {}))
        missing = sorted(metro_and_drom - covered)
        shown = ", ".join(missing[:15]) + (" …" if len(missing) > 15 else "")
        per_code = ", ".join(f"{code} {counts['codes'].get(code, 0)}" for code in network.codes)
        lines.append(
            f"- {network.name} : {offices} bureaux ({per_code}), {communes} communes "
            f"avec une ligne de compétence, {len(missing)} départements sans bureau"
            + (f" ({shown})" if missing else "")
        )
    offers = counts["offers"]
    lines.append(
        f"- Offres CléA (Mon Compte Formation) : {offers.get('clea', 0)}, "
        f"dans {len(counts['offers_by_departement'])} départements ; "
        f"CléA numérique à part : {offers.get('clea_numerique', 0)} ; "
        f"CléA Management écarté : {counts['clea_management_excluded']} lignes"
    )
    seen = "; ".join(
        f"{kind} : {', '.join(values)}" for kind, values in counts["code_inventaire"].items()
    )
    lines.append(f"- code_inventaire vus : {seen or 'aucun'}")
    located = counts["located"]
    lines.append(
        f"- Communes situées : {located['town_hall']} par leur mairie, "
        f"{located['postal_code']} par la table des codes postaux, "
        f"{located['none']} sans position "
        f"({counts['town_halls']} mairies géolocalisées, "
        f"{built.records.town_halls_without_point} sans coordonnées)"
    )
    for sid, parsed in built.sources().items():
        if parsed.skipped:
            lines.append(
                f"- Lignes écartées ({settings.sources[sid].file}) : "
                f"{sum(parsed.skipped.values())} sur {parsed.considered} "
                f"({parsed.share_skipped:.1%}) : {_reasons(parsed.skipped)}"
            )
        else:
            lines.append(
                f"- Lignes écartées ({settings.sources[sid].file}) : aucune sur {parsed.considered}"
            )
    return "\n".join(lines)


def update(
    settings: OpenDataSettings,
    out: Path,
    source_dir: Path | None,
    force: bool,
    err: TextIO = sys.stderr,
    pause_s: float = 2.0,
) -> str:
    """Download (unless `source_dir`), build, check and install. Returns the summary;
    raises UpdateRefused or MalformedInput, with `out` untouched."""
    if source_dir is None:
        source_dir = out.parent / f"opendata-{dt.date.today():%Y%m%d}"
        print(f"Téléchargement vers {source_dir}", file=err)
        download(settings, source_dir, err, pause_s=pause_s)
    built = build(source_dir, settings)
    problems = check_guards(built, floor_counts(installed_history(out)), settings, force)
    if problems:
        raise UpdateRefused("\n".join(problems))
    install(built, settings, out, forced=force)
    return summary(built, settings)
