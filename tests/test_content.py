"""The shipped content loads, carries every seed fact, and broken copies fail precisely."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from knowledge.loader import CONTENT_DIR, ContentError, load
from knowledge.model import Knowledge

from .conftest import ROOT


def all_text(block) -> str:
    return " ".join(block.messages).lower()


def test_every_block_has_dated_sources(knowledge: Knowledge):
    blocks = [
        *knowledge.about.values(),
        knowledge.domains_intro,
        knowledge.modules_intro,
        *knowledge.domains,
        *knowledge.modules,
        *knowledge.procedure,
    ]
    for block in blocks:
        assert block.sources, f"{block.id} has no source"
        for s in block.sources:
            assert s.url and s.checked.year >= 2026 and s.confidence in {"H", "M"}


def test_seed_facts_are_present(knowledge: Knowledge):
    about = knowledge.about
    assert "certificat" in all_text(about["what"])
    assert "pas un diplôme" in all_text(about["not_diploma"])
    assert "tous les métiers" in all_text(about["all_sectors"])
    audience = all_text(about["audience"])
    assert "salariés sans diplôme" in audience and "cherchent un emploi" in audience
    certificate = all_text(about["certificate"])
    assert "7 domaines" in certificate and "jury" in certificate
    support = all_text(about["support"])
    assert "gratuit" in support and "situation" in support and "habitez" in support


def test_seven_domains_with_official_titles(knowledge: Knowledge):
    assert [d.id for d in knowledge.domains] == [1, 2, 3, 4, 5, 6, 7]
    titles = [d.official_title for d in knowledge.domains]
    assert titles[0] == "La communication en français"
    assert "calcul" in titles[1] and "numérique" in titles[2] and "équipe" in titles[3]
    assert "autonomie" in titles[4] and "apprendre à apprendre" in titles[5]
    assert "hygiène" in titles[6] and "sécurité" in titles[6]
    for d in knowledge.domains:
        assert d.plain and d.example and d.label


def test_modules(knowledge: Knowledge):
    ids = {m.id for m in knowledge.modules}
    assert ids == {"numerique", "illettrisme", "qualification"}
    numerique = all_text(knowledge.module("numerique"))
    for idea in ("chercher une information", "sécurité", "en ligne", "certificat à part"):
        assert idea in numerique
    # The two others are optional and regional (D6113-30 II): never presented as existing.
    for mid in ("illettrisme", "qualification"):
        assert "chaque région décide" in all_text(knowledge.module(mid))
    assert "anlci" in all_text(knowledge.module("illettrisme"))


def test_procedure_has_two_branches_after_the_first_evaluation(knowledge: Knowledge):
    ids = [s.id for s in knowledge.procedure]
    assert ids == [
        "conseil",
        "organisme",
        "evaluation",
        "deux_cas",
        "formation",
        "evaluation_finale",
        "jury",
    ]
    steps = {s.id: s for s in knowledge.procedure}
    branches = dict((target, label) for label, target in steps["deux_cas"].choices)
    assert set(branches) == {"jury", "formation"}  # all mastered → jury; else training
    text = {s.id: s.text.lower() for s in knowledge.procedure}
    assert "conseiller gratuit" in text["conseil"] and "pas obligatoire" in text["conseil"]
    assert "certif'pro" in text["organisme"] and "ne vous engage à rien" in text["organisme"]
    assert "seulement sur les domaines qui manquent" in text["formation"]
    assert "évaluation finale" in text["evaluation_finale"] and "5 ans" in text["evaluation_finale"]
    assert "employeurs" in text["jury"] and "salariés" in text["jury"]
    assert steps["jury"].back == "deux_cas"


def test_no_low_confidence_source_is_shipped(knowledge: Knowledge):
    assert {s.confidence for s in knowledge.sources.values()} <= {"H", "M"}


def test_directory_entries_are_sourced(knowledge: Knowledge):
    for org in knowledge.organisations:
        assert org.sources and org.checked
        assert org.contact.url or org.contact.phone
    phones = {o.id: o.contact.phone for o in knowledge.organisations if o.contact.phone}
    assert phones == {"france_travail": "3949"}  # the only phone number verified H


def copy_content(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, target)
    return target


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        (
            "clea.yaml",
            '    label: "Calculer et raisonner"\n',
            "",
            ["clea.yaml", "domains[1] (id 2)", "champ « label » manquant"],
        ),
        ("clea.yaml", "  - id: 3\n", "  - id: 2\n", ["clea.yaml", "identifiant « 2 » en double"]),
        ("clea.yaml", "  - id: 4\n", '  - id: "quatre"\n', ["type str, attendu int"]),
        (
            "clea.yaml",
            "sources: [travail-emploi-cep, transitionspro-na]",
            "sources: [travail-emploi-cep, inconnue]",
            ["clea.yaml", "procedure[0] (id conseil)", "source inconnue « inconnue »"],
        ),
        (
            "directory.yaml",
            "    checked: 2026-11-26\n",
            "",
            ["directory.yaml", "organisations[0] (id france_travail)", "« checked » manquant"],
        ),
        (
            "directory.yaml",
            "    sources: [francetravail-inscription, datagouv-agences-ft]\n",
            "",
            ["directory.yaml", "id france_travail", "« sources » manquant"],
        ),
        (
            "fit.yaml",
            "when: {goal: [digital]}",
            "when: {goal: [numerik]}",
            ["fit.yaml", "id goal_digital", "option inconnue « numerik »"],
        ),
        (
            "fit.yaml",
            "    headline: true\n    when: {diploma: [none]}",
            "    when: {diploma: [none]}",
            ["fit.yaml", "aucune règle « headline »"],
        ),
        (
            "faq.yaml",
            "goto: about:cost",
            "goto: about:prix",
            ["faq.yaml", "destination inconnue « about:prix »"],
        ),
        (
            "sources.yaml",
            "    confidence: M\n",
            "    confidence: L\n",
            ["sources.yaml", "seules H et M sont publiées"],
        ),
        ("clea.yaml", "domains_intro:\n", "domains_intro: [\n", ["clea.yaml", "YAML illisible"]),
        (
            "clea.yaml",
            "discover_tour: [what,",
            "discover_tour: [quoi,",
            ["clea.yaml › discover_tour", "bloc inconnu « quoi »"],
        ),
        ("typed.yaml", "retired_from: 60", "retired_from: 6", ["typed.yaml", "entre 26 et 99"]),
        ("typed.yaml", "retired_from: 60", "retired_from: soixante", ["typed.yaml", "int"]),
    ],
)
def test_broken_content_names_file_entry_and_problem(tmp_path, file, old, new, expected):
    content = copy_content(tmp_path)
    replace(content / file, old, new)
    with pytest.raises(ContentError) as err:
        load(content)
    message = str(err.value)
    for part in expected:
        assert part in message, message


def test_several_problems_are_reported_together(tmp_path):
    content = copy_content(tmp_path)
    replace(content / "clea.yaml", '    label: "Calculer et raisonner"\n', "")
    replace(content / "directory.yaml", "    checked: 2026-11-26\n", "")
    with pytest.raises(ContentError) as err:
        load(content)
    assert {p.file for p in err.value.problems} == {"clea.yaml", "directory.yaml"}


def test_extra_directory_is_validated_and_ranked_first(tmp_path, knowledge):
    extra = tmp_path / "local.yaml"
    extra.write_text(
        """
organisations:
  - id: greta_loire
    name: "Organisme local"
    kind: evaluator
    audience: [all]
    coverage: {departements: [42]}
    why: "Un organisme évaluateur près de chez vous."
    contact: {url: "https://example.org/clea"}
    sources: [{url: "https://example.org/clea", checked: 2026-11-20}]
    checked: 2026-11-20
""",
        encoding="utf-8",
    )
    k = load(extra_directory=extra)
    assert k.organisations[0].id == "greta_loire" and k.organisations[0].local
    extra.write_text(
        extra.read_text().replace("[42]", "[420]").replace("    checked: 2026-11-20\n", "", 1),
        encoding="utf-8",
    )
    with pytest.raises(ContentError) as err:
        load(extra_directory=extra)
    assert "département « 420 » inconnu" in str(err.value)
    assert str(extra) in str(err.value)


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.integration
def test_check_command_exit_codes(tmp_path):
    ok = run_cli("check")
    assert ok.returncode == 0, ok.stderr
    content = copy_content(tmp_path)
    replace(content / "clea.yaml", '    label: "Calculer et raisonner"\n', "")
    bad = run_cli("check", "--content", str(content))
    assert bad.returncode == 1
    assert "clea.yaml › domains[1] (id 2)" in bad.stderr


def test_check_finds_broken_template(tmp_path):
    from dialogs.checks import check_templates

    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "menu.j2").write_text("{% if x %}oups", encoding="utf-8")
    problems = check_templates(templates)
    assert problems and problems[0].file == "templates/menu.j2"


# --- claims corrected by the fact-check of 2026-11-27 (clea-facts.md §11) -------------------
# Each pattern is a claim that was shipped and is wrong or unsourced; none may come back in
# content or templates.
FORBIDDEN = {
    r"trois modules": "only CléA numérique adds to CléA; two modules are optional, regional",
    r"on ne .{0,3}rate.{0,3} pas": "a partial result is no certificate (5 years to finish)",
    r"formation courte|courte formation": "training length is individual",
    r"reconna[iî]t officiellement ce que vous avez appris": "that is VAE, not CléA",
    r"vous aide à trouver un emploi|aide à trouver un emploi": "no job promise",
    r"version (sur )?papier|papier sur demande|sous forme numérique": "format unsourced",
    r"il n'y a pas de durée officielle": "absence of evidence stated as a fact",
    r"vise surtout les personnes sans diplôme": "contradicted the fit check for CAP holders",
    r"peuvent aider à payer": "CPF cost without the 2026 participation",
    r"\(e\)|\(es\)": "gender brackets are hard to read",
    r"\ben (Mayotte|La Réunion)": "à Mayotte, à La Réunion",
    r"près de chez vous": "only where a local office is named (recap with a directory)",
}


def _all_content_text() -> list[tuple[str, str]]:
    root = Path(__file__).resolve().parent.parent
    files = [
        *sorted((root / "knowledge" / "content").glob("*.yaml")),
        *sorted((root / "dialogs" / "templates").glob("*.j2")),
    ]
    out = []
    for f in files:
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            stripped = line.strip()
            if (
                stripped.startswith(("#", "{#"))
                or f.name == "faq.yaml"
                and (stripped.startswith('- "') and "answer" not in stripped)
            ):
                continue  # comments, and people's own words in the FAQ examples
            out.append((f"{f.name}:{n}", line))
    return out


@pytest.mark.parametrize("pattern", sorted(FORBIDDEN))
def test_corrected_claims_do_not_come_back(pattern):
    hits = [
        f"{where}: {line.strip()}"
        for where, line in _all_content_text()
        if re.search(pattern, line, re.IGNORECASE)
    ]
    assert not hits, f"{FORBIDDEN[pattern]}:\n" + "\n".join(hits)


def test_an_expired_dated_fact_is_hidden_and_fails_the_check():
    import datetime as dt

    from dialogs.checks import check_all

    assert check_all() == []
    later = dt.date(2027, 7, 1)
    problems = [str(p) for p in check_all(today=later)]
    assert problems and all("expiré le 30/06/2027" in p for p in problems)
    assert any("facts.participation" in p for p in problems)
    hidden = load(today=later)
    texts = [m for b in hidden.costs.values() for m in b.messages]
    texts += [m for e in hidden.faq for m in e.answer]
    assert not any("une somme fixe, affichée" in t for t in texts)
    assert any("une somme fixe, affichée" in m for b in load().costs.values() for m in b.messages)


def test_every_notice_the_code_asks_for_is_in_its_template():
    """`clea-bot check` and the readability test read the notices from the templates; this
    makes sure the code asks for no notice the template lacks (it would render nothing)."""
    import re

    from dialogs.checks import template_kinds

    asked: dict[str, set[str]] = {"notice.j2": set(), "channel.j2": set()}
    for path in [*ROOT.joinpath("bot").rglob("*.py"), *ROOT.joinpath("dialogs").rglob("*.py")]:
        source = path.read_text(encoding="utf-8")
        asked["notice.j2"].update(re.findall(r'\bnotice\(\s*"([a-z_]+)"', source))
        asked["channel.j2"].update(re.findall(r'\bchannel_text\(\s*"([a-z_]+)"', source))
    for template, kinds in asked.items():
        assert len(kinds) >= 9, template  # the pattern still finds the calls
        assert kinds <= set(template_kinds(template)), (
            template,
            kinds - set(template_kinds(template)),
        )


def test_template_kinds_are_read_from_the_template(tmp_path):
    from dialogs.checks import template_kinds

    (tmp_path / "notice.j2").write_text(
        '{% if kind == "a" %}A{% elif kind in ("b", "c") %}B{% elif other == "x" %}{% endif %}',
        encoding="utf-8",
    )
    assert template_kinds("notice.j2", tmp_path) == ("a", "b", "c")
