"""What CléA costs each person: one line per situation, said the same way everywhere, from
dated and sourced money data (knowledge/content/money.yaml)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
import yaml

from bot.cli import main
from dialogs.checks import check_all
from dialogs.engine import Engine
from dialogs.model import Event, Session
from knowledge.costs import COST_KEYS, cost_key, cpf_applies
from knowledge.loader import CONTENT_DIR, ContentError, load

from .conftest import ROOT

# (situation, diploma, disability, département) -> the line, and words that pin it.
COST_TABLE = [
    ("job_seeker", "none", "no", "42", "job_seeker", "pas de somme fixe"),
    ("job_seeker", "none", "yes", "974", "job_seeker", "France Travail ou la Région aident"),
    ("employee", "bac", "no", "69", "employee", "Et la différence si le compte ne suffit pas"),
    (
        "employee",
        "none",
        "no",
        "42",
        "employee_low",
        "Sans CAP ni BEP, votre compte reçoit 800 € par an",
    ),
    ("employee", "brevet_cfg", None, None, "employee_low", "800 € par an"),
    (
        "employee",
        "cap_bep",
        "no",
        "75",
        "employee",
        "Demandé par l'employeur ? Normalement il paie : temps de travail, salaire gardé",
    ),
    (
        "employee",
        "bac",
        "yes",
        "13",
        "employee_disability",
        "Avec un handicap reconnu, votre compte reçoit 800 € par an",
    ),
    (
        "self_employed",
        "cap_bep",
        "no",
        "976",
        "self_employed",
        "Et la différence si le compte ne suffit pas",
    ),
    ("public_agent", "none", "no", "42", "public_agent", "ne peut pas refuser CléA, seulement"),
    ("public_agent", "bac", None, None, "public_agent", "Voyez le service du personnel"),
    ("young", "none", "no", "59", "young", "la Mission locale vous aide gratuitement"),
    ("other", "none", "yes", "33", "disability", "Cap emploi vous aide gratuitement"),
    ("other", "bac", "no", "33", "other", "Le prix dépend de l'organisme"),
    ("employee", "none", "no", "988", "no_cpf", "ne s'applique pas dans votre territoire"),
    ("self_employed", "none", "no", "987", "no_cpf", "ne s'applique pas dans votre territoire"),
    ("job_seeker", "none", "no", "986", "no_cpf", "ne s'applique pas"),
    ("employee", "none", "no", "975", "territory_unverified", "je n'ai pas d'information vérifiée"),
]


@pytest.mark.parametrize("situation, diploma, disability, dep, key, words", COST_TABLE)
def test_cost_table(knowledge, situation, diploma, disability, dep, key, words):
    answers = {"situation": situation, "diploma": diploma}
    if disability is not None:
        answers["disability"] = disability
    assert cost_key(answers, dep) == key
    line = knowledge.cost_for(answers, dep)
    assert line.id == key
    assert words in " ".join(line.messages)
    assert line.messages[0].startswith("💶")
    assert line.sources


def test_the_table_covers_every_line_but_the_faq_only_ones(knowledge):
    assert len(COST_TABLE) >= 10
    covered = {row[4] for row in COST_TABLE}
    assert set(COST_KEYS) - covered == {"employee_own"}  # a FAQ answer's line
    assert set(knowledge.costs) == set(COST_KEYS)


def test_cpf_applies_overseas():
    assert cpf_applies("976") and cpf_applies("974") and cpf_applies("2A")
    assert cpf_applies("988") is False and cpf_applies("987") is False
    assert cpf_applies("975") is None and cpf_applies(None) is None


def test_the_participation_is_named_by_no_amount(knowledge):
    """Not verified on 2026-12-01 from an official source (103,20 € in January 2026; 150 €
    reported from April 2026): the bot says where the amount is shown, never a figure."""
    fact = knowledge.money["participation"]
    assert "Mon Compte Formation" in fact.said and not re.search(r"\d", fact.said)
    texts = [m for b in knowledge.costs.values() for m in b.messages]
    texts += [m for e in knowledge.faq for m in e.answer]
    texts += [m for b in knowledge.about.values() for m in b.messages]
    for t in texts:
        assert not re.search(r"103|102,23|150 ?€|100 ?€", t), t


# --- one line, three screens ------------------------------------------------------------------


def _fit(engine: Engine, s: Session, **answers: str) -> list:
    engine.handle(s, Event("choice", "fit"))
    replies = []
    for q in engine.k.questions:
        replies = engine.handle(s, Event("choice", f"answer:{answers[q.id]}")).replies
    assert s.state == "fit_result"
    return replies


@pytest.mark.parametrize(
    "situation, diploma, disability, key",
    [
        ("employee", "none", "no", "employee_low"),
        ("public_agent", "bac", "no", "public_agent"),
        ("job_seeker", "cap_bep", "yes", "job_seeker"),
        ("self_employed", "bac", "no", "self_employed"),
    ],
)
def test_fit_result_faq_and_recap_say_the_same_line(engine, situation, diploma, disability, key):
    line = engine.k.costs[key].messages
    s = Session("same")
    engine.handle(s, Event("start"))
    fit = _fit(
        engine,
        s,
        situation=situation,
        diploma=diploma,
        goal="job",
        reading="easy",
        disability=disability,
    )
    assert all(m in fit[-1].text for m in line)
    faq = engine.handle(s, Event("choice", "faq:cost")).replies
    assert "Pour vous" in faq[-1].text and all(m in faq[-1].text for m in line)
    for event in (Event("choice", "where"), Event("text", "42000")):
        engine.handle(s, event)
    if s.state == "where_pick":
        engine.handle(s, Event("choice", "pick:0"))
    engine.handle(s, Event("choice", "yes"))
    assert s.state == "recap", s.state
    recap = engine.screen(s)[-1].text
    assert all(m in recap for m in line), recap


def test_recap_in_new_caledonia_has_no_cpf_line(engine):
    s = Session("nc", answers={"situation": "employee", "diploma": "none", "disability": "no"})
    for event in (Event("start"), Event("choice", "where"), Event("text", "98800")):
        engine.handle(s, event)
    engine.handle(s, Event("choice", "yes"))
    assert s.state == "recap", s.state
    text = engine.screen(s)[-1].text
    assert "ne s'applique pas dans votre territoire" in text
    assert "une somme fixe" not in text


def test_faq_about_money_stays_general_before_the_bot_knows_the_situation(engine):
    s = Session("general")
    engine.handle(s, Event("start"))
    replies = engine.handle(s, Event("choice", "faq:cost")).replies
    assert "Pour vous" not in " ".join(r.text for r in replies)
    assert "Mon Compte Formation" in " ".join(r.text for r in replies)


def test_faq_about_money_says_no_general_line_twice_once_only_the_place_is_known(engine):
    """A place alone (Lyon) picks the general line: "Pour vous" would repeat the answer."""
    s = Session("place-only")
    for event in (Event("start"), Event("choice", "where"), Event("text", "69008")):
        engine.handle(s, event)
    engine.handle(s, Event("choice", "yes"))
    assert "place" in s.data
    text = " ".join(r.text for r in engine.handle(s, Event("choice", "faq:cost")).replies)
    assert "Pour vous" not in text
    general = engine.k.costs["other"].messages
    assert all(text.count(m) <= 1 for m in general), text


# --- no amount outside the dated data -----------------------------------------------------------

AMOUNT = re.compile(r"\d[\d\s\u202f\u00a0.,]*\s?(€|euros?\b|EUR\b)", re.IGNORECASE)


def _said_strings(data, skip=("examples", "typed")):
    if isinstance(data, dict):
        for key, value in data.items():
            if key not in skip:
                yield from _said_strings(value)
    elif isinstance(data, list):
        for value in data:
            yield from _said_strings(value)
    elif isinstance(data, str):
        yield data


def test_no_amount_in_content_or_templates_outside_the_money_file():
    content = ROOT / "knowledge" / "content"
    hits = []
    for path in sorted(content.glob("*.yaml")):
        if path.name in ("money.yaml", "sources.yaml"):  # the dated data; document titles
            continue
        for text in _said_strings(yaml.safe_load(path.read_text(encoding="utf-8"))):
            hits += [f"{path.name}: {text}" for _ in AMOUNT.finditer(text)]
    for path in sorted((ROOT / "dialogs" / "templates").glob("*.j2")):
        source = re.sub(r"\{#.*?#\}", "", path.read_text(encoding="utf-8"), flags=re.S)
        hits += [f"{path.name}: {m.group(0)}" for m in AMOUNT.finditer(source)]
    assert not hits, "\n".join(hits)


def test_every_amount_in_the_money_file_is_dated_and_sourced(knowledge):
    raw = yaml.safe_load((CONTENT_DIR / "money.yaml").read_text(encoding="utf-8"))
    for fid, fact in raw["facts"].items():
        assert fact.get("sources") and fact.get("valid_from") and fact.get("valid_until"), fid
        loaded = knowledge.money[fid]
        assert loaded.valid_from <= dt.date.today() <= loaded.valid_until, fid
        assert all(s.confidence in {"H", "M"} for s in loaded.sources), fid


# --- `clea-bot check` enforces sources and dates -----------------------------------------------


def _copy(tmp_path: Path) -> Path:
    content = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, content)
    return content


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_check_fails_on_an_amount_without_source(tmp_path, capsys):
    content = _copy(tmp_path)
    _edit(content / "money.yaml", "    sources: [code-travail-l6323-11-1]\n", "")
    assert main(["check", "--content", str(content)]) == 1
    assert "money.yaml › facts.low_qualified_credit : champ « sources » manquant" in (
        capsys.readouterr().err
    )


def test_check_fails_on_an_amount_written_outside_the_money_file(tmp_path, capsys):
    content = _copy(tmp_path)
    _edit(
        content / "faq.yaml", "Il est affiché sur Mon Compte Formation.", "Il coûte 150 € en 2026."
    )
    assert main(["check", "--content", str(content)]) == 1
    assert "montant « 150 € » écrit dans le texte" in capsys.readouterr().err
    with pytest.raises(ContentError):
        load(content)


def test_check_fails_on_an_amount_written_in_a_template(tmp_path):
    from dialogs.checks import check_templates

    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "dialogs" / "templates", templates)
    assert check_templates(templates) == []
    path = templates / "recap.j2"
    path.write_text(path.read_text(encoding="utf-8") + "\nVous payez 103,20 €.\n", encoding="utf-8")
    problems = [str(p) for p in check_templates(templates)]
    assert problems == [
        "templates/recap.j2 : montant « 103,20 € » écrit dans le modèle : mettez-le dans money.yaml"
    ]


def test_a_fact_past_its_valid_until_fails_the_check_and_hides_its_sentences():
    later = dt.date(2028, 1, 1)
    problems = [str(p) for p in check_all(today=later)]
    assert any("facts.low_qualified_credit" in p and "expiré le 31/12/2027" in p for p in problems)
    hidden = load(today=later)
    texts = [m for b in hidden.costs.values() for m in b.messages]
    assert not any("800 €" in t for t in texts)
    assert any("800 €" in m for b in load().costs.values() for m in b.messages)


def test_the_cpf_answer_names_every_exemption_and_the_cap_exclusion(knowledge):
    answer = " ".join(next(e for e in knowledge.faq if e.id == "cpf").answer)
    for said in (
        "si vous cherchez un emploi",
        "votre employeur ajoute de l'argent",
        "points du compte prévention",
        "incapacité d'au moins 10 %",
        "Les nouveaux plafonds du compte formation ne concernent pas CléA",
        "800 € par an",
        "jusqu'à 8 000 €",
    ):
        assert said in answer, said


def test_check_warns_before_a_money_fact_expires():
    from dialogs.checks import money_due

    assert money_due(today=dt.date(2026, 12, 1)) == []
    soon = money_due(today=dt.date(2027, 5, 15))
    assert (
        "À revérifier avant le 30/06/2027 : money.yaml › facts.participation "
        "(source, montant, dates)" in soon
    )
    assert not any("low_qualified_credit" in line for line in soon)  # 31/12/2027
