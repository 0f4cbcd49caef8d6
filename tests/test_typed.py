"""Typed answers read in context: the conversation moves on when people type."""

from __future__ import annotations

import pytest

from dialogs.model import Event, Session


def start(engine, state_choice: str | None = None) -> Session:
    s = Session("t")
    engine.handle(s, Event("start"))
    if state_choice:
        engine.handle(s, Event("choice", state_choice))
    return s


@pytest.mark.parametrize(
    "typed, option",
    [
        ("je suis au chômage", "job_seeker"),
        ("chui au chomdu", "job_seeker"),
        ("je cherche du travail depuis 2 ans", "job_seeker"),
        ("inscrit a france travail", "job_seeker"),
        ("je suis en interim", "employee"),
        ("je suis salarié", "employee"),
        ("je suis auto entrepreneur", "self_employed"),
        ("je suis fonctionnaire a la mairie", "public_agent"),
        ("je ne suis pas au chomage, je suis en cdi", "employee"),
        ("je travaille pas", "job_seeker"),
    ],
)
def test_situation_typed(engine, typed, option):
    s = start(engine, "fit")
    engine.handle(s, Event("text", typed))
    assert s.answers.get("situation") == option and s.state == "fit_diploma"


@pytest.mark.parametrize(
    "typed, option",
    [
        ("pas de diplome", "none"),
        ("aucun", "none"),
        ("rien", "none"),
        ("j'ai un CAP", "cap_bep"),
        ("cap", "cap_bep"),
        ("BEP vente", "cap_bep"),
        ("le brevet", "brevet_cfg"),
        ("CFG", "brevet_cfg"),
        ("bac pro", "bac"),
        ("une licence", "higher"),
        ("diplome etranger", "foreign"),
    ],
)
def test_diploma_typed(engine, typed, option):
    s = start(engine, "fit")
    engine.handle(s, Event("choice", "answer:employee"))
    engine.handle(s, Event("text", typed))
    assert s.answers.get("diploma") == option and s.state == "fit_goal"


def test_a_question_typed_during_the_fit_check_is_answered_without_moving(engine):
    s = start(engine, "fit")
    replies = engine.handle(s, Event("text", "c'est combien ?")).replies
    assert s.state == "fit_situation" and "situation" not in s.answers
    assert "prix" in " ".join(r.text for r in replies).lower()


@pytest.mark.parametrize(
    "typed, state",
    [("menu", "menu"), ("Menu svp", "menu"), ("retour", "fit_situation"), ("aide", "help")],
)
def test_navigation_words_work_on_every_screen(engine, typed, state):
    s = start(engine, "fit")
    engine.handle(s, Event("choice", "answer:employee"))
    engine.handle(s, Event("text", typed))
    assert s.state == state


def test_reprendre_after_a_question(engine):
    s = start(engine, "fit")
    engine.handle(s, Event("choice", "ask"))
    engine.handle(s, Event("text", "reprendre"))
    assert s.state == "fit_situation"


def test_yes_no_typed_at_confirmation_screens(engine):
    s = start(engine, "where")
    engine.handle(s, Event("text", "42000"))
    engine.handle(s, Event("text", "ouais"))
    assert s.state == "where_situation"
    engine.handle(s, Event("text", "je cherche un emploi"))
    assert s.state == "where_disability"
    engine.handle(s, Event("text", "nan"))
    assert s.state == "recap" and s.answers["disability"] == "no"


def test_start_resets_the_misunderstanding_counter(engine):
    s = start(engine)
    engine.handle(s, Event("text", "zzkqw plorp"))
    assert s.data["miss"] == 1
    engine.handle(s, Event("start"))
    assert "miss" not in s.data


def test_facts_said_in_free_text_are_confirmed_not_asked_again(engine):
    s = start(engine)
    engine.handle(s, Event("text", "j'ai 19 ans et je suis au chomage, c'est pour moi ?"))
    assert s.data["said"]["situation"] == "job_seeker"
    replies = engine.handle(s, Event("choice", "fit")).replies
    text = " ".join(r.text for r in replies)
    assert "Vous m'avez dit : 🔎 Je cherche un emploi. C'est bien ça ?" in text
    engine.handle(s, Event("text", "oui"))
    assert s.answers["situation"] == "job_seeker" and s.state == "fit_diploma"


def test_age_alone_suggests_the_young_situation_at_the_hand_off(engine):
    s = start(engine)
    engine.handle(s, Event("text", "j'ai 22 ans, je peux faire clea ?"))
    engine.handle(s, Event("choice", "where"))
    engine.handle(s, Event("text", "69003"))
    replies = engine.handle(s, Event("choice", "yes")).replies
    assert s.state == "where_situation"
    assert "Vous m'avez dit : 🧑 J'ai entre 16 et 25 ans" in replies[-1].text


def test_rqth_is_remembered_for_the_disability_question(engine):
    s = start(engine)
    engine.handle(s, Event("text", "j'ai une RQTH"))
    assert s.data["said"]["disability"] == "yes"
