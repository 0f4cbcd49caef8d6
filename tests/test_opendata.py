"""The open-data directory: parsing, the updater's guards, download, selection, recap."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from bot.cli import main
from bot.directory_update import UpdateRefused, update
from dialogs.engine import Engine
from dialogs.model import Event, Session
from knowledge.geography import lookup
from knowledge.local import select_local
from knowledge.opendata import (
    LocalDirectory,
    MalformedInput,
    json_field,
    load_settings,
    opening_hours,
)
from knowledge.phone import phone_number, tap_to_call

from .opendata_fixtures import copy_exports, france, offer, record, write_exports
from .test_console import console

SETTINGS = load_settings()


def install(
    tmp_path: Path, records=None, competence=None, offers=None, name="dir.sqlite3", force=False
) -> Path:
    default_records, default_competence, default_offers = france()
    folder = write_exports(
        tmp_path / f"exports-{name}",
        default_records if records is None else records,
        default_competence if competence is None else competence,
        default_offers if offers is None else offers,
    )
    out = tmp_path / name
    reinstall(out, folder, force)
    return out


def reinstall(out: Path, folder: Path, force: bool = False) -> None:
    """Installs the exports in `folder` as the directory `out`, the update's messages unread."""
    update(SETTINGS, out, folder, force=force, err=io.StringIO())


def install_with_meta(tmp_path: Path, key: str, value: str) -> Path:
    """An installed directory whose `key` row of its meta table is set to `value`."""
    out = install(tmp_path)
    db = sqlite3.connect(out)
    db.execute("UPDATE meta SET value = ? WHERE key = ?", (value, key))
    db.commit()
    db.close()
    return out


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- parsing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ('[{"valeur": "3949"}]', [{"valeur": "3949"}]),
        ([{"valeur": "3949"}], [{"valeur": "3949"}]),
        ({"valeur": "3949"}, [{"valeur": "3949"}]),
        (None, []),
        ("", []),
        ("[]", []),
        ([], []),
    ],
)
def test_nested_fields_accept_text_arrays_null_and_empty(value, expected):
    assert json_field(value, "x") == expected


def test_nested_field_with_broken_json_text_names_the_record():
    with pytest.raises(MalformedInput, match="rec-1 › telephone"):
        json_field('[{"valeur": ', "rec-1 › telephone")


def test_opening_hours_read_as_one_short_line():
    ranges = [
        {
            "nom_jour_debut": "Lundi",
            "nom_jour_fin": "Jeudi",
            "valeur_heure_debut_1": "08:30:00",
            "valeur_heure_fin_1": "12:30:00",
            "valeur_heure_debut_2": "14:00:00",
            "valeur_heure_fin_2": "17:00:00",
            "commentaire": "",
        },
        {
            "nom_jour_debut": "Vendredi",
            "nom_jour_fin": "Vendredi",
            "valeur_heure_debut_1": "08:30:00",
            "valeur_heure_fin_1": "12:00:00",
            "commentaire": "Fermé l'après-midi",
        },
    ]
    assert opening_hours(ranges) == (
        "lun-jeu 8h30-12h30, 14h-17h ; ven 8h30-12h (Fermé l'après-midi)"
    )


@pytest.mark.parametrize(
    "raw, shown, tap",
    [
        ("04 00 00 00 01", "04 00 00 00 01", "+33 4 00 00 00 01"),
        ("04.72.00.00.01", "04 72 00 00 01", "+33 4 72 00 00 01"),
        ("3949", "3949", "3949"),
        ("voir le site", "", ""),
        ("12", "", ""),
    ],
)
def test_phones_are_kept_only_when_they_look_like_phones(raw, shown, tap):
    assert phone_number(raw) == shown
    assert tap_to_call(shown) == tap


# --- the updater: the project's exports, guards -------------------------------------------


def test_update_from_the_exports_installs_and_summarises(tmp_path, capsys):
    out = tmp_path / "dir"
    code = main(
        ["directory", "update", "--from", str(copy_exports(tmp_path / "s")), "--out", str(out)]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    directory = LocalDirectory(out)
    counts = directory.counts
    # pole_emploi and france_travail are one network; msap is France services.
    assert counts["offices"] == {
        "france_travail": 12,
        "mission_locale": 5,
        "cap_emploi": 1,
        "france_services": 6,
    }
    assert counts["codes"]["msap"] == 4 and counts["codes"]["pole_emploi"] == 8
    assert counts["offers"] == {"clea": 7, "clea_numerique": 1}  # Management left out
    assert counts["clea_management_excluded"] == 1
    assert counts["code_inventaire"] == {"clea": ["99901"], "clea_numerique": ["99902"]}
    assert counts["skipped"]["catalogue"] == {
        "sans département utilisable (vide ou -1)": 2,
        "sans organisme (nom_of vide)": 1,
    }
    assert counts["skipped"]["annuaire"] == {
        "sans commune utilisable (ni code INSEE ni code postal)": 1
    }
    assert counts["town_halls"] == 9
    assert directory.extracted == "2026-11-20"
    assert directory.annuaire_modified == "2026-11-14"  # read from "14/11/2026 16:02:11"
    assert any("DILA" in a for a in directory.attribution)
    assert "France Travail : 12 bureaux (pole_emploi 8, france_travail 4)" in printed
    assert "France services : 6 bureaux (france_services 2, msap 4)" in printed
    assert "départements sans bureau" in printed
    assert (
        "Lignes écartées (cpf-catalogue.json) : 3 sur 66 (4.5%) : 2 sans département "
        "utilisable (vide ou -1), 1 sans organisme (nom_of vide)"
    ) in printed
    assert "CléA Management écarté : 1 lignes" in printed
    assert "code_inventaire vus : clea : 99901; clea_numerique : 99902" in printed
    # Every commune of the table is counted once: by its town hall, by postal code, or not.
    assert (
        "Communes situées : 8 par leur mairie, 28765 par la table des codes postaux, "
        "6196 sans position" in printed
    )


def test_a_97x_record_without_insee_code_gets_its_departement_from_the_postal_code(tmp_path):
    out = tmp_path / "dir"
    assert (
        main(
            ["directory", "update", "--from", str(copy_exports(tmp_path / "s")), "--out", str(out)]
        )
        == 0
    )
    offices = {o.id: o for o in LocalDirectory(out).in_departement("france_travail", "974")}
    assert set(offices) == {"ft-st-denis-re", "ft-st-pierre-re"}
    assert offices["ft-st-pierre-re"].insee == ""


def test_more_than_5_percent_of_a_source_skipped_is_refused_unless_forced(tmp_path, capsys):
    out = install(tmp_path)
    folder = copy_exports(tmp_path / "s")
    rows = json.loads((folder / "cpf-catalogue.json").read_text())
    for row in rows[:3]:  # 6 of 66 CléA rows without a département: 9.1%
        row["code_departement"] = "-1"
    (folder / "cpf-catalogue.json").write_text(json.dumps(rows))
    err = refused(tmp_path, capsys, folder, out)
    assert "cpf-catalogue.json : 6 lignes écartées sur 66 (9.1%, plus de 5%" in err
    assert "5 sans département utilisable (vide ou -1), 1 sans organisme" in err
    assert main(["directory", "update", "--from", str(folder), "--out", str(out), "--force"]) == 0


def refused(tmp_path: Path, capsys, folder: Path, out: Path, *extra: str) -> str:
    before = digest(out) if out.exists() else None
    code = main(["directory", "update", "--from", str(folder), "--out", str(out), *extra])
    assert code == 1
    assert (digest(out) if out.exists() else None) == before  # installed file untouched
    return capsys.readouterr().err


def test_guard_records_not_json(tmp_path, capsys):
    out = install(tmp_path)
    folder = copy_exports(tmp_path / "s")
    (folder / "annuaire-records.json").write_text("<html>Service indisponible</html>")
    assert "annuaire-records.json : JSON illisible" in refused(tmp_path, capsys, folder, out)


def test_guard_records_not_an_array(tmp_path, capsys):
    out = install(tmp_path)
    folder = copy_exports(tmp_path / "s")
    (folder / "annuaire-records.json").write_text('{"error": "quota"}')
    assert "tableau JSON" in refused(tmp_path, capsys, folder, out)


def test_a_record_without_name_is_skipped_and_counted(tmp_path, capsys):
    out = install(tmp_path)
    records, competence, offers = france()
    del records[0]["nom"]
    folder = write_exports(tmp_path / "bad", records, competence, offers)
    # One record of 13 in this small France: above 5%, so refused, reason named.
    err = refused(tmp_path, capsys, folder, out)
    assert "annuaire-records.json : 1 lignes écartées sur 13" in err
    assert "1 sans identifiant ou nom" in err


def test_guard_broken_json_text_inside_a_record(tmp_path, capsys):
    out = install(tmp_path)
    records, competence, offers = france()
    records[2]["plage_ouverture"] = '[{"nom_jour_debut": "Lundi"'
    folder = write_exports(tmp_path / "bad", records, competence, offers)
    assert "ml-lyon › plage_ouverture" in refused(tmp_path, capsys, folder, out)


def test_guard_catalogue_missing(tmp_path, capsys):
    out = install(tmp_path)
    folder = copy_exports(tmp_path / "s")
    (folder / "cpf-catalogue.json").unlink()
    assert "cpf-catalogue.json : fichier introuvable" in refused(tmp_path, capsys, folder, out)


def test_a_competence_row_with_a_bad_insee_code_is_skipped_and_counted(tmp_path, capsys):
    out = install(tmp_path)
    records, competence, offers = france()
    competence.append(
        {
            "code_insee_commune": "Lyon",
            "code_type_service_local": "pole_emploi",
            "id_service_local": ["x"],
        }
    )
    folder = write_exports(tmp_path / "bad", records, competence, offers)
    err = refused(tmp_path, capsys, folder, out)
    assert "annuaire-competence.json : 1 lignes écartées sur 6" in err
    assert "1 code INSEE invalide" in err


def test_guard_required_network_with_no_office(tmp_path, capsys):
    records, competence, offers = france()
    records = [r for r in records if not r["id"].startswith("ml-")]
    folder = write_exports(tmp_path / "bad", records, competence, offers)
    err = refused(tmp_path, capsys, folder, tmp_path / "fresh.sqlite3")
    assert "réseau Mission locale : aucun bureau" in err
    assert not (tmp_path / "fresh.sqlite3").exists()


def test_guard_no_clea_offer(tmp_path, capsys):
    records, competence, _ = france()
    folder = write_exports(
        tmp_path / "bad",
        records,
        competence,
        [offer("Auto-école", "69", 3, certification="Permis B")],
    )
    assert "aucune offre CléA" in refused(tmp_path, capsys, folder, tmp_path / "x.sqlite3")


def test_guard_drop_of_more_than_a_fifth_unless_forced(tmp_path, capsys):
    out = install(tmp_path)
    records, competence, offers = france()
    # France Travail: 6 offices installed; 4 left is a drop of a third.
    records = [r for r in records if r["id"] not in ("ft-roanne", "ft-villeurbanne")]
    folder = write_exports(tmp_path / "drop", records, competence, offers)
    err = refused(tmp_path, capsys, folder, out)
    assert "réseau France Travail : 4 bureaux contre 6" in err and "--force" in err
    assert main(["directory", "update", "--from", str(folder), "--out", str(out), "--force"]) == 0
    assert LocalDirectory(out).counts["offices"]["france_travail"] == 4


def test_force_never_overrides_a_malformed_input(tmp_path, capsys):
    out = install(tmp_path)
    folder = copy_exports(tmp_path / "s")
    (folder / "cpf-catalogue.json").write_text("[1, 2")
    assert "JSON illisible" in refused(tmp_path, capsys, folder, out, "--force")


def test_a_small_drop_is_accepted(tmp_path):
    out = install(tmp_path)
    records, competence, offers = france()
    records = [r for r in records if r["id"] != "ft-roanne"]  # 6 → 5: a sixth
    reinstall(out, write_exports(tmp_path / "ok", records, competence, offers))
    assert LocalDirectory(out).counts["offices"]["france_travail"] == 5


def test_small_drops_one_after_another_are_compared_with_the_largest_install(tmp_path, capsys):
    """6 → 5 France Travail offices is accepted (a sixth); 5 → 4 is a fifth of the last
    install but a third of the largest of the last ones: refused. Compared with the last
    install only, small drops one after another emptied a network."""
    out = install(tmp_path)
    records, competence, offers = france()
    records = [r for r in records if r["id"] != "ft-roanne"]
    reinstall(out, write_exports(tmp_path / "ok", records, competence, offers))
    records = [r for r in records if r["id"] != "ft-villeurbanne"]
    folder = write_exports(tmp_path / "again", records, competence, offers)
    err = refused(tmp_path, capsys, folder, out)
    assert "réseau France Travail : 4 bureaux contre 6" in err
    # Forced, the deployer accepts the new level: the next update compares with it.
    assert main(["directory", "update", "--from", str(folder), "--out", str(out), "--force"]) == 0
    reinstall(out, folder)
    assert LocalDirectory(out).counts["offices"]["france_travail"] == 4


# --- download ------------------------------------------------------------------------------


class _Exports(BaseHTTPRequestHandler):
    """Answers the Opendatasoft export endpoint from the test's France; fails once first."""

    failures: dict[str, int] = {}
    requests: list[str] = []

    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):
        url = urlparse(self.path)
        query = parse_qs(url.query)
        where = query.get("where", [""])[0]
        type(self).requests.append(
            url.path + "?" + where + "&select=" + query.get("select", [""])[0]
        )
        if type(self).failures.get(url.path, 0) > 0:
            type(self).failures[url.path] -= 1
            self.send_response(503)
            self.end_headers()
            return
        records, competence, offers = france()
        if url.path.endswith("api-lannuaire-administration/exports/json"):
            code = where.split('"')[1]
            body = [r for r in records if f'"type_service_local": "{code}"' in r["pivot"]]
        elif "competence" in url.path:
            code = where.split('"')[1]
            body = [c for c in competence if c["code_type_service_local"] == code]
        else:
            body = offers
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _served(handler=_Exports):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def _settings_on(hosts: tuple[str, ...], only: str | None = None):
    """The real settings with every source (or `only` one) served by `hosts`."""
    sources = {
        sid: replace(s, hosts=hosts) if only in (None, sid) else s
        for sid, s in SETTINGS.sources.items()
    }
    return replace(SETTINGS, sources=sources)


def test_download_retries_keeps_raw_exports_and_replays(tmp_path):
    server, base = _served()
    try:
        settings = _settings_on((base,))
        catalogue_path = settings.sources["catalogue"].path
        _Exports.failures = {catalogue_path: 1}
        _Exports.requests = []
        err = io.StringIO()
        out = tmp_path / "data" / "dir.sqlite3"
        summary = update(settings, out, None, force=False, err=err, pause_s=0.01)
    finally:
        server.shutdown()
    assert "France Travail : 6 bureaux" in summary
    progress = err.getvalue()
    assert "annuaire (pole_emploi) : 5 lignes" in progress
    assert "annuaire (france_travail) : 1 lignes" in progress
    assert "annuaire (mairie) : 1 lignes" in progress  # town halls come with the records
    assert "nouvel essai" in progress  # the 503 was retried
    assert sum(1 for r in _Exports.requests if r.startswith(catalogue_path)) == 2
    # Only the fields used travel: select= on every export, a shorter one for town halls.
    selects = {
        r.split("?")[1].split("&select=")[0]: r.split("&select=")[1] for r in _Exports.requests
    }
    assert selects['pivot LIKE "pole_emploi"'].startswith("id,nom,pivot,adresse,telephone")
    assert selects['pivot LIKE "mairie"'] == "id,pivot,adresse,code_insee_commune"
    assert all(selects.values())
    raw = next((tmp_path / "data").glob("opendata-*"))
    assert {p.name for p in raw.iterdir()} >= {
        "annuaire-records.json",
        "cpf-catalogue.json",
        "annuaire-competence.json",
        "sources.json",
    }
    # The dated folder replays to the same directory.
    again = tmp_path / "again.sqlite3"
    reinstall(again, raw)
    assert LocalDirectory(again).counts == LocalDirectory(out).counts
    assert json.loads(LocalDirectory(out).meta["sources"])  # URLs kept for attribution


def test_download_falls_back_to_the_second_host_and_keeps_it(tmp_path):
    """The .gouv.fr host first; when it does not answer (here: 404 for everything), the
    other one, which is then asked first for the rest of the run."""
    dead, dead_base = _served(_NotFound)
    server, base = _served()
    try:
        _Exports.failures, _Exports.requests, _NotFound.requests = {}, [], []
        settings = _settings_on((dead_base, base), only="annuaire")
        settings = replace(
            settings,
            sources={
                **settings.sources,
                "competence": replace(settings.sources["competence"], hosts=(base,)),
                "catalogue": replace(settings.sources["catalogue"], hosts=(base,)),
            },
        )
        err = io.StringIO()
        update(settings, tmp_path / "d.sqlite3", None, force=False, err=err, pause_s=0.01)
    finally:
        server.shutdown()
        dead.shutdown()
    assert len(_NotFound.requests) == 1  # asked once, then the good host is kept
    assert "HTTP 404 ; on essaie l'hôte suivant" in err.getvalue()
    assert LocalDirectory(tmp_path / "d.sqlite3").counts["offices"]["france_travail"] == 6


class _NotFound(BaseHTTPRequestHandler):
    requests: list[str] = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        type(self).requests.append(self.path)
        self.send_response(404)
        self.end_headers()


def test_download_gives_up_after_bounded_retries(tmp_path):
    server, base = _served()
    try:
        settings = _settings_on((base,), only="annuaire")
        _Exports.failures = {settings.sources["annuaire"].path: 99}
        with pytest.raises(UpdateRefused, match="injoignable après 4 essais"):
            update(
                settings, tmp_path / "d.sqlite3", None, force=False, err=io.StringIO(), pause_s=0.01
            )
    finally:
        server.shutdown()
    assert not (tmp_path / "d.sqlite3").exists()


# --- selection ------------------------------------------------------------------------------


@pytest.fixture
def directory(tmp_path) -> LocalDirectory:
    return LocalDirectory(install(tmp_path))


# (typed place, situation, disability, first office, how, help place)
SELECTION = [
    ("69003", "job_seeker", False, "ft-lyon3", "competence", None),  # arrondissement row
    ("lyon 3e", "job_seeker", False, "ft-lyon3", "competence", None),
    ("69100", "job_seeker", False, "ft-villeurbanne", "competence", None),  # code as text
    # The record's pivot lists 69383, but that is its own commune, not a competence row.
    ("69003", "young", False, "ml-lyon", "nearest", None),
    ("69003", "job_seeker", True, "ce-rhone", "competence", None),  # Cap emploi listed
    ("69100", "young", True, "ce-rhone", "nearest", None),  # no row: nearest Cap emploi
    ("42000", "job_seeker", False, "ft-st-etienne", "nearest", None),  # no competence rows
    ("42300", "job_seeker", False, "ft-roanne", "nearest", None),
    ("42000", "job_seeker", True, "ft-st-etienne", "nearest", None),  # no Cap emploi: FT
    ("42000", "young", False, "ml-roanne", "departement", None),  # office without coords
    ("42000", "employee", False, None, None, "fs-feurs"),  # CEP + France services
    ("69003", "self_employed", False, None, None, "fs-givors"),
    ("75011", "job_seeker", False, "ft-paris11", "competence", None),
    ("97400", "young", False, "ml-st-denis-re", "nearest", None),
    ("13001", "job_seeker", False, None, None, None),  # nothing listed in the Bouches-du-Rhône
    ("98714", "job_seeker", False, None, None, None),  # Polynesia: never France Travail
]


@pytest.mark.parametrize("typed, situation, disability, first, how, help_place", SELECTION)
def test_selection_table(directory, typed, situation, disability, first, how, help_place):
    place = lookup(typed).places[0]
    local = select_local(directory, place, situation, disability)
    assert (local.first.office.id if local.first else None) == first
    assert (local.first.how if local.first else None) == how
    assert (local.help_place.office.id if local.help_place else None) == help_place


def test_polynesia_job_seeker_is_never_sent_to_france_travail(tmp_path):
    records, competence, offers = france()
    records.append(
        record(
            "ft-papeete",
            "pole_emploi",
            "Agence Papeete",
            "98735",
            "98714",
            "Papeete",
            -17.53,
            -149.56,
        )
    )
    directory = LocalDirectory(install(tmp_path, records=records, name="pf.sqlite3"))
    place = lookup("98714").places[0]
    for disability in (False, True):
        local = select_local(directory, place, "job_seeker", disability)
        assert local.first is None or local.first.network != "france_travail"


def test_offers_most_active_first_three_at_most_clea_only(directory):
    local = select_local(directory, lookup("69003").places[0], "job_seeker")
    names = [o.name for o in local.offers]
    assert names == ["Organisme B (test)", "Organisme C (test)", "Organisme A (test)"]
    assert local.offers[2].distance_sessions == 1
    assert select_local(directory, lookup("13001").places[0], "employee").offers == ()


def test_without_a_directory_there_is_no_local_selection():
    assert select_local(None, lookup("69003").places[0], "job_seeker") is None


# --- the recap ----------------------------------------------------------------------------


def recap(engine: Engine, typed: str, situation: str, disability: str = "no") -> list:
    s = Session("t")
    for event in (Event("start"), Event("choice", "where"), Event("text", typed)):
        engine.handle(s, event)
    if s.state == "where_pick":
        engine.handle(s, Event("choice", "pick:0"))
    engine.handle(s, Event("choice", "yes"))
    engine.handle(s, Event("choice", f"answer:{situation}"))
    replies = engine.handle(s, Event("choice", f"answer:{disability}")).replies
    assert s.state == "recap"
    return replies


def words(text: str) -> int:
    return len(text.replace("<b>", "").replace("</b>", "").split())


@pytest.mark.parametrize("typed, situation", [(t, s) for t, s, *_ in SELECTION])
def test_recap_is_one_message_of_at_most_160_words(knowledge, directory, typed, situation):
    engine = Engine(knowledge, handoff_enabled=True, local_directory=directory)
    replies = recap(engine, typed, situation)
    assert len(replies) == 1
    assert words(replies[0].text) <= 160, replies[0].text
    urls = [b.url for row in replies[0].buttons for b in row if hasattr(b, "url")]
    assert len(urls) == len(set(urls))  # each link once, as a button
    assert not any(u in replies[0].text for u in urls)


def test_recap_names_office_hours_phone_and_offers(knowledge, directory):
    engine = Engine(knowledge, handoff_enabled=True, local_directory=directory)
    text = recap(engine, "69003", "job_seeker")[0].text
    assert "France Travail Lyon 3e (test)" in text
    assert "+33 1 02 03 04 05" in text and "lun-ven 9h-12h" in text
    assert "Organisme B (test)" in text and "Numérique E" not in text
    assert "Auto-école" not in text and "nucléaire" not in text
    assert "à distance possible" in text
    assert "Mon Compte Formation, le 20/11/2026" in text


@pytest.mark.parametrize(
    "typed, situation",
    [("69003", "job_seeker"), ("42000", "young"), ("42000", "employee"), ("97400", "job_seeker")],
)
def test_without_directory_nothing_claims_to_be_near(engine, typed, situation):
    replies = recap(engine, typed, situation)
    assert len(replies) == 1
    assert "près de chez vous" not in replies[0].text
    menu = engine.handle(Session("m"), Event("choice", "menu")).replies
    labels = [b.label for r in menu for row in r.buttons for b in row]
    assert not any("près de" in label for label in labels)


def test_without_directory_the_recap_says_how_to_find_the_office(engine):
    assert "3949" in recap(engine, "69003", "job_seeker")[0].text
    young = recap(engine, "69003", "young")[0]
    assert any("Mission locale" in b.label for row in young.buttons for b in row)
    employee = recap(engine, "69003", "employee")[0]
    assert any("mon-cep" in getattr(b, "url", "") for row in employee.buttons for b in row)


def test_overseas_employee_is_not_told_mon_cep_serves_their_region(engine):
    text = recap(engine, "97400", "employee")[0].text
    assert "votre région" not in text and "mon-cep" not in text


def test_console_conversation_with_the_exports(tmp_path):
    out = tmp_path / "dir"
    assert (
        main(
            ["directory", "update", "--from", str(copy_exports(tmp_path / "s")), "--out", str(out)]
        )
        == 0
    )
    transcript = console(
        "/start contact\n69003\n1\n2\n2\n",
        tmp_path / "c.sqlite3",
        {"CLEA_LOCAL_DIRECTORY": str(out)},
    )
    fiche = transcript.split("> 2\n")[-1]
    assert "France Travail Lyon 3e (test)" in fiche
    assert "lun-ven 8h30-12h30, 13h30-16h30" in fiche and "📞 +33 1 02 03 04 05" in fiche
    assert "Organisme Rhône B (test)" in fiche
    assert "Auto-école" not in fiche and "numérique" not in fiche


# --- check ---------------------------------------------------------------------------------


def test_check_warns_when_the_directory_is_older_than_30_days(tmp_path, monkeypatch, capsys):
    out = install_with_meta(tmp_path, "installed", "2026-01-01T00:00:00")
    monkeypatch.setenv("CLEA_LOCAL_DIRECTORY", str(out))
    assert main(["check"]) == 0  # a warning, not a failure
    assert "Attention : l'annuaire local a" in capsys.readouterr().err


def test_check_fails_on_bad_open_data_settings(tmp_path, capsys):
    import shutil

    from knowledge.loader import CONTENT_DIR

    content = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, content)
    path = content / "opendata.yaml"
    path.write_text(
        path.read_text(encoding="utf-8")
        .replace(
            '["https://opendata.caissedesdepots.fr"]', '["http://opendata.caissedesdepots.fr"]'
        )
        .replace("codes: [mission_locale]", "codes: [pole_emploi]"),
        encoding="utf-8",
    )
    assert main(["check", "--content", str(content)]) == 1
    err = capsys.readouterr().err
    assert (
        "opendata.yaml › sources.catalogue : « hosts » : une adresse https:// sans chemin "
        "est attendue (reçu « http://opendata.caissedesdepots.fr »)"
    ) in err
    assert "opendata.yaml › networks[1] : code « pole_emploi » déjà donné" in err


@pytest.mark.parametrize(
    "situation, expected",
    [
        ("job_seeker", "pas de somme fixe à payer"),
        ("employee", "affichée sur Mon Compte Formation"),
        ("public_agent", "votre employeur"),
    ],
)
def test_recap_says_what_it_costs_for_the_situation(knowledge, directory, situation, expected):
    engine = Engine(knowledge, handoff_enabled=True, local_directory=directory)
    text = recap(engine, "69003", situation)[0].text
    assert expected in text
    if situation == "public_agent":  # regional CEP operators do not serve public agents
        assert "mon-cep" not in text and "conseil en évolution" not in text.lower()


def test_an_employee_with_a_disability_is_not_sent_to_france_travail(directory):
    """France Travail follows job seekers with a disability together with Cap emploi; an
    employee without a listed Cap emploi keeps Cap emploi's national contact."""
    place = lookup("42000").places[0]  # no Cap emploi listed in the Loire
    local = select_local(directory, place, "employee", disability=True)
    assert local.first is None and local.help_place.office.id == "fs-feurs"


def test_the_deployers_local_evaluators_are_on_the_recap(tmp_path):
    from knowledge.loader import load

    extra = tmp_path / "local.yaml"
    extra.write_text(
        'organisations:\n  - id: eval42\n    name: "Centre d\'évaluation Test"\n'
        '    kind: evaluator\n    audience: [all]\n    coverage: {departements: ["42"]}\n'
        '    why: "Il fait passer CléA dans la Loire."\n'
        '    contact: {phone: "04 77 00 00 00"}\n'
        '    sources: [{url: "https://example.org", checked: 2026-11-27}]\n'
        "    checked: 2026-11-27\n",
        encoding="utf-8",
    )
    engine = Engine(load(extra_directory=extra))
    text = recap(engine, "42000", "job_seeker")[0].text
    assert "Centre d'évaluation Test" in text and "+33 4 77 00 00 00" in text
    assert "Centre d'évaluation" not in recap(engine, "69003", "job_seeker")[0].text


@pytest.mark.parametrize(
    "insee, pivot, postal_code, expected",
    [
        ("97416", [], "97410", ("97416", "974")),
        ("", ["97416"], "97410", ("97416", "974")),  # the pivot's own commune as fallback
        ("", [], "97410", ("", "974")),  # overseas: the postal code's first three digits
        ("", [], "97133", ("", "977")),  # Saint-Barthélemy, though its code starts with 971
        ("", [], "20200", ("", "2B")),
        ("", [], "42000", ("", "42")),
    ],
)
def test_an_office_s_commune_and_departement(insee, pivot, postal_code, expected):
    from knowledge.opendata import parse_records

    row = record("x", "pole_emploi", "X", insee, postal_code, "Ville", 1.0, 1.0, served=pivot)
    parsed = parse_records([row], SETTINGS, "f.json")
    assert [(o.insee, o.departement) for o in parsed.offices] == [expected]


def test_a_record_with_neither_insee_nor_postal_code_is_skipped():
    from knowledge.opendata import parse_records

    row = record("x", "pole_emploi", "X", "", "", "", None, None)
    parsed = parse_records([row], SETTINGS, "f.json")
    assert parsed.offices == [] and parsed.share_skipped == 1.0


def test_check_names_an_old_format_directory_and_what_to_run(tmp_path, monkeypatch, capsys):
    out = install_with_meta(tmp_path, "schema", "1")
    monkeypatch.setenv("CLEA_LOCAL_DIRECTORY", str(out))
    assert main(["check"]) == 0  # a warning: the bot still runs on national contacts
    err = capsys.readouterr().err
    assert "schéma 1 inattendu (attendu 2 : relancez clea-bot directory update)" in err


class _CutBody(_Exports):
    """The first answer of each export stops in the middle of its body."""

    cut: set[str] = set()

    def do_GET(self):
        path = urlparse(self.path).path
        if path in type(self).cut:
            return super().do_GET()
        type(self).cut.add(path)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "5000")
        self.end_headers()
        self.wfile.write(b'[{"id": "x", "nom"')
        self.wfile.flush()
        self.close_connection = True


def test_a_download_cut_mid_body_is_retried(tmp_path):
    server, base = _served(_CutBody)
    try:
        _CutBody.cut, _Exports.failures = set(), {}
        err = io.StringIO()
        summary = update(
            _settings_on((base,)),
            tmp_path / "dir.sqlite3",
            None,
            force=False,
            err=err,
            pause_s=0.01,
        )
    finally:
        server.shutdown()
    assert "France Travail : 6 bureaux" in summary and "nouvel essai" in err.getvalue()
