"""What "Ma fiche" says to a person who asked to be called: one plain line, said once,
that fits their contact (found by an independent review of the call requests)."""

from __future__ import annotations

from dialogs.engine import Engine
from dialogs.model import Event

from .test_reading import _place_confirmed


def _recap_after_call_request(engine: Engine, user: str, postcode: str, situation: str) -> str:
    s = _place_confirmed(engine, user, postcode, situation)
    replies = engine.handle(s, Event("text", "je souhaiterais être rappelé")).replies
    assert s.state == "recap"
    return "\n".join(r.text for r in replies)


def test_a_public_agent_who_asks_for_a_call_is_sent_to_the_personnel_department(
    engine_no_handoff,
):
    shown = _recap_after_call_request(engine_no_handoff, "call-agent", "87000", "public_agent")
    assert "Je ne peux pas organiser un appel d'ici" in shown
    assert "Demandez au service du personnel de votre employeur" in shown
    assert "ouvrir son site" not in shown  # no site is shown for public agents


def test_overseas_the_call_back_is_offered_once(engine):
    shown = _recap_after_call_request(engine, "call-972", "97200", "employee")
    assert shown.count("« Être recontacté »") == 1


def test_overseas_without_a_call_back_no_number_is_said_to_be_above(engine_no_handoff):
    shown = _recap_after_call_request(engine_no_handoff, "call-972-none", "97200", "employee")
    assert "Appelez le numéro ci-dessus" not in shown
    assert "Je ne peux pas organiser un appel d'ici" in shown
