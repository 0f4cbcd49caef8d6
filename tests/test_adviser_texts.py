"""What advisers read: every note kind escaped exactly once, the note carries what the
person gave, and /stats in plain French."""

from __future__ import annotations

import html
import re

import pytest

from bot.advisers.figures import _duration
from dialogs import render
from dialogs.checks import template_kinds
from dialogs.engine import Engine
from dialogs.model import Event, Session
from dialogs.understanding import question_id
from tests.telegram_helpers import running_bot, settled
from tests.test_adviser_network import PERSON, SHARED, walk_to_recap
from tests.test_claims import ADVISERS, status

NAME = '<Zoé & "Léa">'


def shown(text: str) -> str:
    """What Telegram shows for a message sent with parse_mode HTML."""
    return html.unescape(re.sub(r"</?b>", "", text))


def note_for(engine: Engine, first_name: str, **answers: str) -> str:
    s = Session("n", answers=dict(answers))
    for event in (Event("start"), Event("choice", "where"), Event("text", "69003")):
        engine.handle(s, event)
    if s.state == "where_pick":
        engine.handle(s, Event("choice", "pick:0"))
    engine.handle(s, Event("choice", "yes"))
    while s.state != "recap":
        q = question_id(s.state)
        engine.handle(s, Event("choice", f"answer:{answers.get(q, 'no')}"))
    engine.handle(s, Event("choice", "handoff"))
    engine.handle(s, Event("choice", "yes"))
    turn = engine.handle(s, Event("contact", "+33612345678", first_name=first_name))
    assert turn.notes, s.state
    return turn.notes[0].text


@pytest.fixture(scope="module")
def note(engine) -> str:
    return note_for(engine, NAME, situation="young", diploma="none", disability="no")


def test_the_note_escapes_the_name_once(note):
    assert '&lt;Zoé &amp; "Léa"&gt;' in note and "&amp;lt;" not in note
    assert f"Prénom : {NAME}" in shown(note)


def test_every_adviser_notice_kind_shows_names_and_the_note_exactly(engine, note):
    for kind in template_kinds("adviser_notice.j2"):
        text = render.render(
            engine.env,
            "adviser_notice.j2",
            kind=kind,
            note=note,
            name=NAME,
            url="https://t.me/x?start=a&b=<c>",
        )[0].text
        assert "&amp;lt;" not in text and "&amp;amp;" not in text, (kind, text)
        assert "&lt;b&gt;" not in text, (kind, text)  # the note's markup stays markup
        if kind in ("claimed", "reminder"):
            assert "<b>Demande de contact CléA</b>" in text
            assert f"Prénom : {NAME}" in shown(text)
        if kind in ("claimed", "taken_already", "passed_on", "passed_out"):
            assert NAME in shown(text), kind


def test_the_note_carries_commune_postal_code_age_range_and_diploma(note):
    text = shown(note)
    assert "Commune : Lyon" in text and "(69003)" in text
    assert "Département : Rhône (69)" in text
    assert "Âge : 16 à 25 ans" in text
    assert "Diplôme : aucun" in text


@pytest.mark.parametrize(
    "seconds, said",
    [
        (0, "moins d'une minute"),
        (12 * 60, "12 min"),
        (59 * 60 + 10, "59 min"),
        (3600, "1 h"),
        (5400, "1 h 30"),
        (3 * 86400, "3,0 jours"),
        (None, "—"),
    ],
)
def test_delays_in_plain_french(seconds, said):
    assert _duration(seconds) == said


async def test_a_claimed_request_of_zoe_and_lea_shows_the_name_exactly(api, knowledge, tmp_path):
    db = tmp_path / "db.sqlite3"
    async with running_bot(
        api, knowledge, db, adviser_chat_id=SHARED, advisers=ADVISERS
    ) as channel:
        await walk_to_recap(api)
        api.press(PERSON, "handoff")
        assert await api.wait_async(
            lambda: any(b == "yes" for b in (api.sent(PERSON)[-1].callback_data() or []))
        )
        api.press(PERSON, "yes")
        assert await api.wait_async(
            lambda: "keyboard" in (api.sent(PERSON)[-1].params.get("reply_markup") or {})
        )
        api.push(
            {
                "message": api.message(
                    PERSON,
                    None,
                    contact={"phone_number": "+33612345678", "first_name": NAME, "user_id": PERSON},
                )
            }
        )
        assert await api.wait_async(lambda: any("Demande" in c.text for c in api.sent(SHARED)))
        note = [c for c in api.sent(SHARED) if "Demande" in c.text][0]
        token = note.callback_data()[0].split(":", 1)[1]
        from tests.test_adviser_network import ML_ID

        api.push_callback(
            SHARED,
            f"claim:{token}",
            note.params["_message_id"],
            user_id=ML_ID,
            chat_type="supergroup",
        )

        # The person's own screens are edited too (one message per screen): the note's edit
        # is the one in the advisers' chat.
        def note_edits() -> list:
            return [c for c in api.calls_of("editMessageText") if c.chat_id == SHARED]

        assert await api.wait_async(note_edits)
        assert await settled(api, channel)
    edited = note_edits()[-1].params["text"]
    assert status(db) == "claimed"
    assert edited.startswith("📞 <b>Demande de contact CléA</b>")
    assert f"Prénom : {NAME}\n" in shown(edited)
    assert "&lt;b&gt;" not in edited and "&amp;" not in edited.replace("&amp; ", "", 1)
    assert "✋ Pris par Camille." in edited
