"""Readable by ear, all the way: every screen heard with /voix, a slow enough voice, a
spoken answer to a voice message, and "je comprends pas" answered with the screen again,
shorter."""

from __future__ import annotations

import re

import pytest

from bot.transport.incoming import read
from bot.voice import synthesise
from dialogs.model import Event, Session
from knowledge.speech import speech_text

from .test_console import console

MAX_WORDS_PER_MINUTE = 125


def _turn(engine, s, event):
    return engine.handle(s, event).replies


def _fit(engine, s):
    replies = _turn(engine, s, Event("choice", "fit"))
    for answer in ("employee", "none", "job", "hard", "no"):
        replies = _turn(engine, s, Event("choice", f"answer:{answer}"))
    return replies


def _recap(engine, s):
    for event in (Event("choice", "where"), Event("text", "42000")):
        replies = _turn(engine, s, event)
    if s.state == "where_pick":
        replies = _turn(engine, s, Event("choice", "pick:0"))
    replies = _turn(engine, s, Event("choice", "yes"))
    assert s.state == "recap", s.state
    return replies


def _rate(engine, replies) -> tuple[float, int, float]:
    said = speech_text([r.text for r in replies if not r.voice], engine.said)
    words = len(said.split())
    _, seconds = synthesise(said)
    return words / seconds * 60, words, seconds


def test_speech_is_at_most_125_words_a_minute_on_the_key_screens(engine):
    s = Session("rate")
    _turn(engine, s, Event("start"))
    what = _turn(engine, s, Event("choice", "about:what"))
    assert "certificat" in what[0].text
    screens = {"what-is": what, "fit result": _fit(engine, s), "recap": _recap(engine, s)}
    rates = {}
    for name, replies in screens.items():
        rate, words, seconds = _rate(engine, replies)
        rates[name] = (round(rate), words, round(seconds, 1))
        assert words >= 30, name  # a real screen, not an empty note
    assert all(r <= MAX_WORDS_PER_MINUTE for r, _, _ in rates.values()), rates


def test_with_voice_on_every_screen_is_heard_fit_questions_and_place_prompt_too(engine):
    s = Session("all")
    _turn(engine, s, Event("start"))
    _turn(engine, s, Event("text", "/voix"))
    heard = []
    for event in (
        Event("choice", "fit"),
        Event("choice", "answer:job_seeker"),
        Event("choice", "answer:none"),
        Event("choice", "answer:job"),
        Event("choice", "answer:easy"),
        Event("choice", "answer:no"),
        Event("choice", "where"),
        Event("text", "quelle est la duree"),
    ):
        replies = _turn(engine, s, event)
        voices = [r.voice for r in replies if r.voice]
        assert len(voices) == 1, (s.state, [r.text for r in replies])
        heard.append((s.state, voices[0]))
    states = [state for state, _ in heard]
    assert states[:5] == [
        "fit_diploma",
        "fit_goal",
        "fit_reading",
        "fit_disability",
        "fit_result",
    ] or states[0].startswith("fit_")
    assert any("Quel est votre diplôme" in v for _, v in heard)
    assert any("Où habitez-vous" in v for state, v in heard if state == "where_ask")
    _turn(engine, s, Event("text", "/voix"))  # off again: text only
    assert not [r for r in _turn(engine, s, Event("text", "/menu")) if r.voice]


def test_console_with_voix_writes_voice_files_for_fit_questions_and_the_place_prompt(tmp_path):
    out = console("/voix\n/diag\nje cherche un emploi\n/contact\n", tmp_path / "db.sqlite3")
    turns = out.split("\n> ")
    by_line = {t.split("\n", 1)[0]: t for t in turns}
    for line, screen in (
        ("/diag", "Quelle est votre situation"),
        ("je cherche un emploi", "Quel est votre diplôme"),
        ("/contact", "Où habitez-vous"),
    ):
        shown = by_line[line]
        assert screen in shown, shown
        files = re.findall(r"Fichier son \(\d+ s\) : (\S+\.ogg)", shown)
        assert len(files) == 1, shown
        assert (tmp_path / files[0]).exists() or __import__("os").path.exists(files[0])


def test_the_welcome_offers_to_read_aloud(engine):
    replies = _turn(engine, Session("w"), Event("start"))
    choices = [b.choice for r in replies for b in r.choices()]
    labels = [b.label for r in replies for row in r.buttons for b in row]
    assert "voice_on" in choices and any("🔊" in label for label in labels)
    s = Session("w2")
    _turn(engine, s, Event("start"))
    replies = _turn(engine, s, Event("choice", "voice_on"))
    assert replies[-1].voice and "menu" in replies[-1].voice.lower() or replies[-1].voice


def test_a_voice_message_gets_a_short_spoken_answer_buttons_and_a_person(engine):
    s = Session("v")
    _turn(engine, s, Event("start"))
    replies = _turn(engine, s, Event("voice"))
    text = " ".join(r.text for r in replies)
    assert "écouter les messages vocaux" in text
    spoken = [r.voice for r in replies if r.voice]
    assert len(spoken) == 1 and len(spoken[0].split()) <= 40
    choices = [b.choice for r in replies for b in r.choices()]
    assert {"where", "resume", "menu"} <= set(choices)  # a person, and the way back


@pytest.mark.parametrize("kind", ["voice", "audio", "video_note"])
def test_telegram_voice_messages_become_voice_events(kind):
    media = {
        "voice": {"file_id": "a", "file_unique_id": "b", "duration": 3},
        "audio": {"file_id": "a", "file_unique_id": "b", "duration": 3},
        "video_note": {"file_id": "a", "file_unique_id": "b", "length": 1, "duration": 3},
    }[kind]
    update = read(
        {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": 5, "type": "private"},
                "from": {"id": 5, "is_bot": False, "first_name": "A"},
                kind: media,
            },
        },
        None,
    )
    assert update.event is not None and update.event.kind == "voice"


@pytest.mark.parametrize(
    "typed",
    ["je comprends pas", "j'comprend pas", "J'ai rien compris", "c'est trop compliqué", "hein ?"],
)
def test_je_comprends_pas_says_the_screen_again_more_simply(engine, typed):
    s = Session("lost")
    _turn(engine, s, Event("start"))
    _turn(engine, s, Event("choice", "fit"))
    before = engine.screen(s)
    replies = _turn(engine, s, Event("text", typed))
    text = "\n".join(r.text for r in replies)
    assert s.state == "fit_situation"
    assert "compris" not in text.lower() and "comprendre" not in text.lower()
    assert "Quelle est votre situation aujourd'hui ?" in text
    assert len(text.split()) < len(" ".join(r.text for r in before).split()) + 6
    choices = [b.choice for r in replies for b in r.choices()]
    before_choices = [b.choice for r in before for b in r.choices()]
    assert set(before_choices) <= set(choices)  # the same answers, still one tap away
    assert "voice_on" in choices and "call" in choices  # "🙋 Parler à une personne"
    assert "&lt;" not in text and "&amp;" not in text  # the screen's markup, escaped once


@pytest.mark.parametrize(
    "start, said",
    [
        ("about:what", "CléA est un certificat."),
        ("steps", "Étape 1 sur 7"),
        ("where", "Où habitez-vous ?"),
    ],
)
def test_je_comprends_pas_keeps_the_gist_of_each_screen(engine, start, said):
    s = Session("gist")
    _turn(engine, s, Event("start"))
    _turn(engine, s, Event("choice", start))
    state = s.state
    text = "\n".join(r.text for r in _turn(engine, s, Event("text", "je comprends pas")))
    assert said in text and s.state == state
    assert "compris" not in text


def test_rien_is_not_answered_as_a_disappointment(engine):
    s = Session("rien")
    _turn(engine, s, Event("start"))
    text = " ".join(r.text for r in _turn(engine, s, Event("text", "rien")))
    assert "déçu" not in text and "désolé" not in text.lower()


def test_the_shorter_screen_keeps_its_lines_in_order():
    from dialogs.engine import shorter

    screen = (
        "Je vais vous poser 5 questions courtes. Cela prend une minute.\n"
        "<b>Question 1 sur 5</b>\nUn détail de plus.\nQuelle est votre situation ?"
    )
    assert shorter([screen]).splitlines() == [
        "Je vais vous poser 5 questions courtes.",
        "<b>Question 1 sur 5</b>",
        "Quelle est votre situation ?",
    ]
