"""The console channel, scripted through stdin: `clea-bot console` run in-process (the same
entry point as the command, without a Python start-up per test)."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import subprocess
import sys
from unittest import mock

import pytest

from bot.cli import main

from .conftest import ROOT


def console(script: str, db, extra_env: dict | None = None, *args: str) -> str:
    # No open-data directory unless the test installs one (a developer's data/ must not leak).
    env = dict(os.environ, CLEA_DB_PATH=str(db), CLEA_LOCAL_DIRECTORY=str(db) + ".none")
    env.update(extra_env or {})
    env.pop("TELEGRAM_BOT_TOKEN", None)
    out, err = io.StringIO(), io.StringIO()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        with (
            mock.patch.dict(os.environ, env, clear=True),
            mock.patch.object(sys, "stdin", io.StringIO(script)),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            code = main(["console", *args])
    finally:  # the command sets up logging for a process; give pytest's back
        root.handlers[:], root.level = handlers, level
    assert code == 0, err.getvalue()
    assert "Traceback" not in err.getvalue()
    return out.getvalue()


def test_transcript_reads_like_a_conversation(tmp_path):
    out = console("/start\n1\n", tmp_path / "c.sqlite3")
    lines = out.splitlines()
    assert lines[0] == "> /start"
    assert "[1] 🔎 Qu'est-ce que CléA ?" in lines
    assert "> 1" in lines
    after = out.split("> 1", 1)[1]
    assert "certificat" in after and "[1] ➡️ Pour qui ?" in after


def test_whole_fit_check_by_numbers_and_typing(tmp_path):
    script = "/start\n2\n2\naucun diplome\n1\n3\n3\n"
    out = console(script, tmp_path / "c.sqlite3")
    assert "Question 5 sur 5" in out
    assert "fait pour vous" in out  # no diploma → headline for the core audience
    assert "Lire et écrire" in out  # hard reading → illiteracy module suggested


def test_where_flow_and_links(tmp_path):
    script = "/start\n6\nst etienne\n1\n2\n2\n"
    out = console(script, tmp_path / "c.sqlite3")
    assert "Saint-Étienne (42)" in out and "Auvergne-Rhône-Alpes" in out
    assert "Ma fiche CléA" in out and "France Travail" in out
    assert ": https://www.francetravail.fr" in out  # link buttons print their address


def test_sessions_survive_between_runs(tmp_path):
    db = tmp_path / "c.sqlite3"
    first = console("/start\n2\n1\n", db)
    assert "Question 2 sur 5" in first
    # A new process, the same store: typing an answer continues at question 2.
    out = console("Aucun diplôme\n", db)
    assert "Question 3 sur 5" in out


def test_deep_link_payload_and_bad_input(tmp_path):
    out = console(
        "/start mlyon-diag\n\n😀\n/inconnue\n" + "a" * 5000 + "\n", tmp_path / "c.sqlite3"
    )
    assert "Question 1 sur 5" in out
    assert "Je n'ai rien reçu" in out
    assert "émojis" in out
    assert "Je ne connais pas la commande /inconnue" in out
    assert out.count("> ") >= 5


@pytest.mark.integration
def test_graph_command_writes_mermaid(tmp_path):
    target = tmp_path / "graph.mmd"
    done = subprocess.run(
        [sys.executable, "-m", "bot", "graph", "-o", str(target)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    text = target.read_text()
    assert text.startswith("---") or "stateDiagram" in text
    for state in ("menu", "fit_situation", "fit_result", "where_ask", "recap"):
        assert state in text


def test_handoff_in_the_console_refused_then_given(tmp_path):
    # where → 75011 → yes → employee → no disability → recap → handoff → no → handoff → yes
    script = (
        "/start contact\n75011\n1\n1\n2\n"
        "Être recontacté\nNon merci\n"
        "Être recontacté\nOui, j'accepte\n06 12 34 56 78\n"
    )
    out = console(script, tmp_path / "c.sqlite3", {"CLEA_ADVISER_CHAT_ID": "-100"})
    refused, given = out.split("rien envoyé", 1)
    assert "📨" not in refused
    assert "📨 (envoyé à la conversation -100)" in given
    assert "+33 6 12 34 56 78" in given and "Votre demande est enregistrée" in given


def test_no_handoff_button_without_adviser_chat(tmp_path):
    out = console("/start contact\n75011\n1\n1\n2\n", tmp_path / "c.sqlite3")
    assert "Ma fiche CléA" in out and "Être recontacté" not in out


def test_wrong_number_gets_a_hint(tmp_path):
    out = console("/start\n9\n", tmp_path / "c.sqlite3")
    assert "Tapez un numéro entre 1 et 7" in out  # the menu and "🔊 Tout écouter"


def test_messages_are_separated_and_numbers_match_the_options_shown(tmp_path):
    db = tmp_path / "c.sqlite3"
    console("/start\n/etapes\n1\n", db)  # leaves the person at step 2
    out = console("/start\n1\n", db)
    welcome = out.split("> 1")[0]
    assert "\n\n" in welcome.strip()  # a blank line between two messages
    numbers = [line.split("]")[0] for line in welcome.splitlines() if line.startswith("[")]
    assert numbers == [f"[{n}" for n in range(1, len(numbers) + 1)]  # one running count
    assert "[1] ↩️ Reprendre" in welcome
    assert "Étape 2 sur" in out.split("> 1")[1]  # "1" pressed the option shown as [1]


def test_typed_answers_move_the_console_conversation_on(tmp_path):
    script = "/start\n/diag\nje suis au chômage\npas de diplome\nmenu\n/contact\nc'est combien ?\n"
    out = console(script, tmp_path / "c.sqlite3")
    after = out.split("> je suis au chômage", 1)[1]
    assert after.split("> pas de diplome")[0].count("Quel est votre diplôme") == 1
    assert "Qu'est-ce que vous voulez d'abord ?" in after.split("> menu")[0]
    assert "Que voulez-vous faire ?" in after.split("> menu")[1].split("> /contact")[0]
    assert "prix dépend de l'organisme" in out.split("> c'est combien ?")[1]


def test_typed_contact_request_then_postal_code_reaches_the_situation_question(tmp_path):
    out = console("/start\nje dois contacter qui\n69008\noui\n", tmp_path / "c.sqlite3")
    after = out.split("> 69008", 1)[1]
    assert "C'est bien là ?" in after and "Lyon" in after
    assert "Quelle est votre situation aujourd'hui ?" in after.split("> oui", 1)[1]


def test_postal_code_typed_after_ask_goes_to_the_place_confirm(tmp_path):
    out = console("/start\n5\n42000\n", tmp_path / "c.sqlite3")
    after = out.split("> 42000", 1)[1]
    assert "Saint-Étienne" in after and "C'est bien là ?" in after
    assert "Je n'ai pas bien compris" not in after


def test_oui_c_ca_confirms_the_town_and_stores_no_disability(tmp_path):
    out = console("/start\n6\n42000\noui c ca\n1\n", tmp_path / "c.sqlite3")
    after = out.split("> oui c ca", 1)[1]
    assert "Quelle est votre situation aujourd'hui ?" in after
    assert "Vous m'avez dit" not in after and "handicap" in after.split("> 1", 1)[1]


def _after(out: str, line: str) -> str:
    """What the bot answered to the last `line` typed."""
    return out.rsplit(f"> {line}\n", 1)[1].split("\n> ", 1)[0]


@pytest.mark.parametrize("place", ["jhabite au 69008\noui c ca", "jhabite marseille\noui"])
def test_a_place_typed_in_the_fit_questions_keeps_the_way_back_through_the_hand_off(
    tmp_path, place
):
    confirm = place.split("\n")[1]
    # at the hand-off's question: "Reprendre" gives the fit question the person was on
    out = console(f"/start\n2\n1\n3\n{place}\nreprendre\n", tmp_path / "a.sqlite3")
    disability = _after(out, confirm)
    assert "reconnaissance officielle de handicap" in disability
    assert "[4] ↩️ Reprendre où j'en étais" in disability
    assert "Question 3 sur 5" in _after(out, "reprendre")
    # through the hand-off to the sheet, then back, earlier answers kept, to the fit result
    out = console(f"/start\n2\n1\n3\n{place}\n2\nreprendre\n1\n1\n2\n", tmp_path / "b.sqlite3")
    recap = out.rsplit(f"> {confirm}\n", 1)[1].split("> 2\n", 1)[1].split("\n> ", 1)[0]
    assert "Ma fiche" in recap and "Reprendre où j'en étais" in recap
    assert "Question 3 sur 5" in _after(out, "reprendre")
    assert "CléA peut vous être utile" in _after(out, "2")  # the fit result, Q1-2 kept


def test_a_fact_answering_the_question_asked_moves_on_to_the_next_question(tmp_path):
    out = console("/start\n2\njai 19 ans\n1\nreprendre\n", tmp_path / "c.sqlite3")
    noted = _after(out, "1")
    assert "C'est noté" in noted and "Question 2 sur 5" in noted
    assert "Mission locale" not in noted  # the question comes, not a FAQ answer
    assert "Question 2 sur 5" in _after(out, "reprendre")


def test_resume_after_a_faq_answer_over_a_fact_check_gives_the_check_again(tmp_path):
    out = console("/start\nje bosse en cuisine\nca coute cb\nreprendre\n", tmp_path / "c.sqlite3")
    assert "Mon Compte Formation" in _after(out, "ca coute cb")
    back = _after(out, "reprendre")
    assert "Vous m'avez dit : 🏭 J'ai un emploi. C'est bien ça ?" in back
    assert "Que voulez-vous faire" not in back
