"""Claims corrected by the fact-check of 2026-12-01 (clea-facts.md §12; issue 23).

Each corrected claim is a pattern with the wording that was shipped: the test checks the
pattern still catches that old wording, then that no text the bot can say matches it (every
rendered screen, notice, FAQ answer and fit result, and the content files and templates
themselves). Behaviour that replaced a wrong claim is tested below through the engine.
"""

from __future__ import annotations

import re

import pytest
import yaml

from dialogs.model import Event, Session
from tests.readability import all_messages

from .conftest import ROOT

# pattern -> (why, the wording that was shipped)
CORRECTED = {
    r"103,20": (
        "the 2026 participation is not verified for 2026-12-01: no amount",
        "Avec le compte formation seul, vous payez 103,20 € en 2026.",
    ),
    r"au moins un an d'expérience": (
        "VAE: no minimum since loi 2022-1598",
        "La VAE demande au moins un an d'expérience liée au diplôme visé.",
    ),
    r"Ensuite, vous avez 5 ans": (
        "the 5 years are the path, not the certificate",
        "Ensuite, vous avez 5 ans pour finir.",
    ),
    r"jury (réunit des|d')\s?employeurs": (
        "their representatives (paritaire)",
        "Le jury réunit des employeurs et des salariés.",
    ),
    r"peuvent aussi financer": (
        "unsourced for 2026: 'parfois'",
        "France Travail ou votre Région peuvent aussi financer.",
    ),
    r"aider les autres à avancer": (
        "domain 4: unsourced",
        "Respecter les règles du groupe et aider les autres à avancer.",
    ),
    r"proposer mieux": (
        "a judgement, not a fact",
        "Avec le bac ou plus, un conseiller gratuit peut vous proposer mieux.",
    ),
    r"sans le dire à votre employeur": (
        "the employee whose employer asks is a different case",
        "Vous pouvez utiliser votre compte formation sans le dire à votre employeur.",
    ),
    r"[Ss]elon une source de": (
        "reads like research notes",
        "Selon une source de 2018, la première évaluation peut prendre de 2 à 8 heures.",
    ),
    r"\b[Ii]nscrit\b(?! ou inscrite)": (
        "not always masculine",
        "Inscrit à France Travail, vous ne payez pas.",
    ),
    r"ne reçoivent pas les agents publics": (
        "said first to a public agent, then contradicted",
        "Les conseillers régionaux en évolution "
        "professionnelle ne reçoivent pas les agents "
        "publics.",
    ),
    r"sur Telegram\. C'est gratuit\.": (
        "read as 'CléA is free' in the forwarded text",
        "Un assistant vous explique tout, pas à pas, sur Telegram. C'est gratuit.",
    ),
    r"Il vous aide à choisir un organisme évaluateur\.$": (
        "step 1 read as compulsory",
        "Un conseiller gratuit vous explique CléA. Il vous aide à choisir un organisme évaluateur.",
    ),
}


def _said_strings(data):
    if isinstance(data, dict):
        for key, value in data.items():
            if key not in ("examples", "typed"):  # people's own words
                yield from _said_strings(value)
    elif isinstance(data, list):
        for value in data:
            yield from _said_strings(value)
    elif isinstance(data, str):
        yield data


def _source_texts() -> list[tuple[str, str]]:
    out = []
    for path in sorted((ROOT / "knowledge" / "content").glob("*.yaml")):
        if path.name == "sources.yaml":  # titles of the documents read, with their dates
            continue
        for text in _said_strings(yaml.safe_load(path.read_text(encoding="utf-8"))):
            out.append((path.name, text))
    for path in sorted((ROOT / "dialogs" / "templates").glob("*.j2")):
        source = re.sub(r"\{#.*?#\}", "", path.read_text(encoding="utf-8"), flags=re.S)
        out += [(path.name, line) for line in source.splitlines()]
    return out


@pytest.fixture(scope="module")
def rendered(engine):
    return [(where, line) for where, text in all_messages(engine) for line in text.splitlines()]


@pytest.mark.parametrize("pattern", sorted(CORRECTED))
def test_a_corrected_claim_does_not_come_back(pattern, rendered):
    why, old = CORRECTED[pattern]
    assert re.search(pattern, old, re.MULTILINE), "the pattern must catch the old wording"
    hits = [
        f"{where}: {text}"
        for where, text in [*_source_texts(), *rendered]
        if re.search(pattern, text, re.MULTILINE)
    ]
    assert not hits, f"{why}:\n" + "\n".join(hits)


# --- what replaced them ------------------------------------------------------------------------


def _fit(engine, **answers):
    s = Session("fc")
    engine.handle(s, Event("start"))
    engine.handle(s, Event("choice", "fit"))
    replies = []
    for q in engine.k.questions:
        replies = engine.handle(s, Event("choice", f"answer:{answers[q.id]}")).replies
    return s, replies


def _ask(engine, text: str) -> str:
    s = Session("ask")
    engine.handle(s, Event("start"))
    return "\n".join(r.text for r in engine.handle(s, Event("text", text)).replies)


def test_a_reader_with_a_foreign_diploma_is_sent_to_french_courses_not_illiteracy_help(engine):
    _, replies = _fit(
        engine,
        situation="job_seeker",
        diploma="foreign",
        goal="job",
        reading="hard",
        disability="no",
    )
    text = "\n".join(r.text for r in replies)
    assert "cours de français" in replies[0].text  # first, before "CléA est possible"
    assert "ANLCI" not in text and "eva" not in text.split()
    urls = [b.url for r in replies for row in r.buttons for b in row if hasattr(b, "url")]
    assert not any("anlci" in u for u in urls)


def test_a_reader_schooled_in_french_still_gets_illiteracy_help_first(engine):
    _, replies = _fit(
        engine, situation="employee", diploma="none", goal="job", reading="hard", disability="no"
    )
    assert "ANLCI" in replies[0].text


def test_vae_has_no_minimum_length_and_names_france_vae(engine):
    text = _ask(engine, "c est quoi la difference avec la vae")
    assert "en lien direct" in text and "plus de durée minimale" in text
    assert "vae.gouv.fr" in text


def test_the_five_years_are_not_the_certificate_validity(engine):
    text = _ask(engine, "le certificat est valable combien de temps")
    assert "pas d'information vérifiée" in text
    assert "5 ans" not in text or "parcours" in text  # the 5 years only as the path
    for entry in ("validity", "duration"):
        answer = " ".join(engine.matcher.by_id[entry].answer)
        assert "5 ans pour finir le parcours" in answer
        assert "certificat" in answer and "pas d'information vérifiée" in answer


def test_the_employee_whose_employer_asks_is_told_her_case(engine):
    text = _ask(engine, "mon chef veut que je passe clea")
    assert "Demandé par l'employeur ? Normalement il paie : temps de travail, salaire gardé" in text
    text = _ask(engine, "je dois prevenir mon patron")  # on her own initiative
    assert "ne demande pas l'accord de votre employeur" in text
    assert "vous payez aussi la différence" in text and "Votre employeur peut ajouter" in text


def test_time_off_says_when_to_ask_and_what_silence_means(engine):
    text = _ask(engine, "c'est sur le temps de travail")
    assert "au moins 60 jours avant" in text and "Sans réponse en 30 jours, c'est oui" in text
    assert "salaire" in text


def test_a_public_agent_is_told_no_participation_and_the_right_to_the_training(engine):
    s, replies = _fit(
        engine,
        situation="public_agent",
        diploma="none",
        goal="job",
        reading="easy",
        disability="no",
    )
    text = replies[-1].text
    assert "pas de somme fixe" in text and "ne peut pas refuser CléA" in text
    assert "mon-cep" not in text
    s = Session("agent")
    engine.handle(s, Event("start"))
    answer = "\n".join(
        r.text for r in engine.handle(s, Event("choice", "faq:public_agent")).replies
    )
    assert "CNFPT" in answer and "ne reçoivent pas" not in answer


def test_the_first_step_is_optional(engine, knowledge):
    first = knowledge.procedure[0].text
    assert "pas obligatoire" in first and "directement" in first
    assert "ne vous engage à rien" in knowledge.procedure[1].text


def test_the_regional_modules_are_never_offered_as_a_button(engine):
    """No Région is known to offer the illiteracy or qualification module: they are
    explained, never offered as something to pick."""
    from tests.readability import all_screens

    offered = {b.choice for _, replies in all_screens(engine) for r in replies for b in r.choices()}
    assert "module:numerique" in offered
    assert not offered & {"module:illettrisme", "module:qualification"}
