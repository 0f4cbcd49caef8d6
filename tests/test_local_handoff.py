"""The local hand-off on exports shaped like the real ones (tests/data/opendata): the
competent office, every commune located, overseas, and `clea-bot directory explain`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.directory_update import update
from dialogs.engine import Engine
from knowledge.geography import lookup
from knowledge.local import select_local
from knowledge.opendata import LocalDirectory, load_settings

from .opendata_fixtures import copy_exports
from .test_opendata import recap

SETTINGS = load_settings()


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("exports")
    out = tmp / "dir.sqlite3"
    update(SETTINGS, out, copy_exports(tmp / "raw"), force=False, err=io.StringIO())
    return out


@pytest.fixture(scope="module")
def directory(installed) -> LocalDirectory:
    return LocalDirectory(installed)


@pytest.fixture(scope="module")
def engine(knowledge, directory) -> Engine:
    return Engine(knowledge, handoff_enabled=True, local_directory=directory)


def choose(directory, typed: str, situation: str, disability: bool = False):
    return select_local(directory, lookup(typed).places[0], situation, disability)


# --- competence means competence --------------------------------------------------------


def test_saint_etienne_two_competent_offices_the_nearer_one(directory, engine):
    local = choose(directory, "42000", "job_seeker")
    first = local.first
    # Bellevue comes first by name; Centre is nearer to the town hall: Centre is named.
    assert (first.office.id, first.how, first.competent) == ("ft-se-centre", "competence", 2)
    assert first.origin == "town_hall" and first.km < 0.5
    text = recap(engine, "42000", "job_seeker")[0].text
    assert "France Travail Saint-Étienne Centre (test)" in text
    assert "C'est un des bureaux prévus pour votre commune, le plus proche." in text
    assert "Bellevue" not in text


def test_a_single_competence_row_is_the_office_for_the_commune(directory, engine):
    assert choose(directory, "42300", "job_seeker").first.office.id == "ft-roanne"
    text = recap(engine, "roanne", "job_seeker")[0].text
    assert "C'est le bureau prévu pour votre commune." in text


@pytest.mark.parametrize(
    "typed, situation, disability",
    [
        ("42000", "job_seeker", False),
        ("42000", "young", False),
        ("42000", "employee", False),
        ("les omergues 04200", "job_seeker", False),
        ("valbelle 04200", "job_seeker", False),
        ("97400", "job_seeker", True),
        ("97410", "young", False),
        ("mamoudzou", "job_seeker", False),
        ("69003", "job_seeker", False),
        ("69003", "young", False),
        ("69100", "job_seeker", True),
        ("75011", "job_seeker", False),
        ("98800", "job_seeker", False),
    ],
)
def test_the_recap_claims_what_the_data_says_and_nothing_more(
    directory, engine, typed, situation, disability
):
    local = choose(directory, typed, situation, disability)
    text = recap(engine, typed, situation, "yes" if disability else "no")[0].text
    how = local.first.how if local.first else None
    assert ("prévu" in text) == (how == "competence"), text
    assert ("le plus proche que je connaisse" in text) == (how == "nearest"), text
    assert ("un bureau de votre département" in text) == (how == "departement"), text


def test_no_distance_no_nearest_the_departement_and_its_list(directory, engine):
    local = choose(directory, "42000", "young")  # the Loire's Mission locale has no point
    assert (local.first.office.id, local.first.how) == ("ml-roanne", "departement")
    reply = recap(engine, "42000", "young")[0]
    assert "C'est un bureau de votre département. Ce n'est peut-être pas le vôtre" in reply.text
    urls = [b.url for row in reply.buttons for b in row if getattr(b, "url", None)]
    assert "https://www.1jeune1solution.gouv.fr/accompagnement" in urls


# --- every commune located --------------------------------------------------------------


def test_a_village_of_04200_is_measured_from_its_own_town_hall(directory, engine):
    """Les Omergues shares Sisteron's point in the postal-code table; its town hall puts it
    nearer Forcalquier."""
    first = choose(directory, "les omergues 04200", "job_seeker").first
    assert (first.office.id, first.how, first.origin) == ("ft-forcalquier", "nearest", "town_hall")
    assert 26 < first.km < 27
    text = recap(engine, "les omergues 04200", "job_seeker")[0].text
    assert "France Travail Forcalquier (test)" in text
    assert "C'est le bureau le plus proche que je connaisse, à environ 26 km." in text
    # An employee: France services Banon, 14 km away, not Sisteron's, 27 km away.
    assert choose(directory, "les omergues 04200", "employee").help_place.office.id == "fs-banon"


def test_without_its_town_hall_the_village_falls_back_on_the_postal_code_point(tmp_path):
    folder = copy_exports(tmp_path / "raw")
    records = json.loads((folder / "annuaire-records.json").read_text())
    records = [r for r in records if r["id"] != "mairie-04140"]
    (folder / "annuaire-records.json").write_text(json.dumps(records))
    update(SETTINGS, tmp_path / "d.sqlite3", folder, force=False, err=io.StringIO())
    first = choose(LocalDirectory(tmp_path / "d.sqlite3"), "les omergues 04200", "job_seeker").first
    assert (first.office.id, first.origin) == ("ft-sisteron", "postal_code")


def test_a_town_hall_without_coordinates_leaves_the_postal_code_point(directory):
    assert directory.town_hall("04229") is None  # Valbelle's record has no coordinates
    assert choose(directory, "valbelle 04200", "job_seeker").first.origin == "postal_code"


# --- overseas -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, situation, disability, office",
    [
        ("97400", "job_seeker", False, "ft-st-denis-re"),
        ("97400", "young", False, "ml-nord-re"),
        ("97400", "job_seeker", True, "ft-st-denis-re"),  # no Cap emploi listed: France Travail
        ("97400", "other", True, "ft-st-denis-re"),
        ("97400", "young", True, "ml-nord-re"),  # 16-25: the Mission locale first
        ("97410", "job_seeker", False, "ft-st-pierre-re"),  # its record has no INSEE code
        ("mamoudzou", "job_seeker", False, "ft-mamoudzou"),
        ("mamoudzou", "young", False, "ml-mayotte"),
    ],
)
def test_overseas_departements_get_their_own_offices(
    directory, typed, situation, disability, office
):
    assert choose(directory, typed, situation, disability).first.office.id == office


def test_la_reunion_with_a_disability_names_the_office_not_a_national_site(engine):
    reply = recap(engine, "97400", "job_seeker", "yes")[0]
    assert "France Travail Saint-Denis (test)" in reply.text
    assert "France Travail et Cap emploi reçoivent ensemble" in reply.text
    urls = [b.url for row in reply.buttons for b in row if getattr(b, "url", None)]
    assert not any("capemploi" in u or "cheops" in u for u in urls)


def test_mamoudzou_employee_gets_a_place_to_go_and_no_vague_adviser(directory, engine):
    assert choose(directory, "mamoudzou", "employee").help_place.office.id == "fs-mamoudzou"
    reply = recap(engine, "mamoudzou", "employee")[0]
    text = reply.text
    assert "je n'ai pas de service de conseil vérifié" in text
    assert "Commencez par la France services ci-dessous" in text
    assert "France services Mamoudzou (test)" in text
    assert "Votre conseiller vous aidera" not in text
    assert "Un conseiller gratuit peut vous aider" not in text  # which one?
    urls = [b.url for row in reply.buttons for b in row if getattr(b, "url", None)]
    assert not any("mon-cep" in u for u in urls)


@pytest.mark.parametrize("situation", ["job_seeker", "employee", "young", "other"])
def test_noumea_no_france_travail_no_cpf_line_and_a_human_to_call(engine, situation):
    reply = recap(engine, "98800", situation)[0]
    text = reply.text
    assert "France Travail" not in text
    assert "somme fixe" not in text and "€" not in text and "CPF" not in text
    assert "Le compte formation national ne s'applique pas dans votre territoire" in text
    assert "je n'ai pas de contact vérifié" in text
    assert "Être recontacté" in text  # the human hand-off, named
    labels = [b.label for row in reply.buttons for b in row]
    assert "📞 Être recontacté" in labels


# --- clea-bot directory explain -------------------------------------------------------------


def test_explain_42000_job_seeker(installed, capsys):
    code = main(
        [
            "directory",
            "explain",
            "42000",
            "--situation",
            "job_seeker",
            "--directory",
            str(installed),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Lieu : Saint-Étienne (42), code INSEE 42218" in out
    assert "Position de la commune : sa mairie (annuaire)" in out
    assert "À voir en premier : France Travail Saint-Étienne Centre (test)" in out
    assert (
        "Pourquoi : lignes de compétence : 2 bureaux France Travail prévus pour la "
        "commune 42218 ; le plus proche, à 0,2 km."
    ) in out
    assert "France Travail Saint-Étienne Centre (test) : 0,2 km  ← choisi" in out
    assert "France Travail Saint-Étienne Bellevue (test) : 2,1 km" in out
    assert (
        "La fiche dit : « C'est un des bureaux prévus pour votre commune, le plus proche. »" in out
    )
    assert "catalogue Mon Compte Formation du 20/11/2026" in out
    assert "fiches modifiées jusqu'au 14/11/2026" in out
    fiche = out.split("--- Ma fiche, telle que la personne la reçoit ---")[1]
    assert "À voir en premier : France Travail Saint-Étienne Centre (test)" in fiche


def test_explain_the_nearest_and_the_fallback(installed, capsys):
    assert (
        main(["directory", "explain", "les", "omergues", "04200", "--directory", str(installed)])
        == 0
    )
    out = capsys.readouterr().out
    assert (
        "aucune ligne de compétence pour la commune : le bureau France Travail le plus "
        "proche du département, à 26,4 km" in out
    )
    assert (
        main(["directory", "explain", "97400", "--disability", "--directory", str(installed)]) == 0
    )
    out = capsys.readouterr().out
    assert "Aucun bureau Cap emploi ici : France Travail à la place." in out


@pytest.mark.parametrize(
    "args, expected",
    [
        (["04200"], "désigne plusieurs lieux"),
        (["zzzz"], "lieu inconnu"),
    ],
)
def test_explain_asks_for_one_place(installed, capsys, args, expected):
    assert main(["directory", "explain", *args, "--directory", str(installed)]) == 1
    assert expected in capsys.readouterr().err


def test_explain_without_a_directory_says_how_to_install_one(tmp_path, capsys):
    assert (
        main(["directory", "explain", "42000", "--directory", str(tmp_path / "none.sqlite3")]) == 1
    )
    assert "clea-bot directory update" in capsys.readouterr().err


@pytest.mark.parametrize("typed", ["97500", "97133", "97150"])
def test_other_overseas_collectivities_show_no_unsourced_cost_line(engine, typed):
    text = recap(engine, typed, "employee")[0].text
    assert "€" not in text and "compte formation" not in text.lower()


def test_an_export_without_competence_rows_is_refused(tmp_path, capsys):
    folder = copy_exports(tmp_path / "raw")
    (folder / "annuaire-competence.json").write_text("[]")
    assert (
        main(["directory", "update", "--from", str(folder), "--out", str(tmp_path / "d.sqlite3")])
        == 1
    )
    assert "compétence géographique : aucune ligne" in capsys.readouterr().err
    assert not (tmp_path / "d.sqlite3").exists()


def test_explain_shows_the_hand_off_when_the_install_takes_requests(installed, capsys, monkeypatch):
    monkeypatch.setenv("CLEA_ADVISER_CHAT_ID", "-100123")
    assert main(["directory", "explain", "98800", "--directory", str(installed)]) == 0
    out = capsys.readouterr().out
    assert "France Travail n'opère pas ici" in out
    fiche = out.split("--- Ma fiche, telle que la personne la reçoit ---")[1]
    assert "je n'ai pas de contact vérifié" in fiche and "[📞 Être recontacté]" in fiche
    assert "€" not in fiche and "France Travail" not in fiche


def test_a_village_without_any_point_in_the_table_is_located_by_its_town_hall(
    directory, engine, tmp_path
):
    """Banon has no coordinates in the postal-code table (like 90 of the 04's communes):
    its town hall gives the distance; without it, only the département fallback is left."""
    first = choose(directory, "banon", "job_seeker").first
    assert (first.office.id, first.how, first.origin) == ("ft-forcalquier", "nearest", "town_hall")
    assert 14 < first.km < 16
    assert choose(directory, "banon", "employee").help_place.office.id == "fs-banon"
    folder = copy_exports(tmp_path / "raw")
    records = [
        r
        for r in json.loads((folder / "annuaire-records.json").read_text())
        if r["id"] != "mairie-04018"
    ]
    (folder / "annuaire-records.json").write_text(json.dumps(records))
    update(SETTINGS, tmp_path / "d.sqlite3", folder, force=False, err=io.StringIO())
    without = choose(LocalDirectory(tmp_path / "d.sqlite3"), "banon", "job_seeker").first
    assert (without.how, without.origin, without.km) == ("departement", "", None)


def test_saint_pierre_et_miquelon_uses_what_the_annuaire_lists(directory, engine):
    assert choose(directory, "97500", "job_seeker").first.office.id == "ft-spm"
    text = recap(engine, "97500", "job_seeker")[0].text
    assert "France Travail Saint-Pierre-et-Miquelon (test)" in text
    assert "€" not in text and "compte formation" not in text.lower()  # no cited source
