"""Phone numbers are read, shown and said by one module (knowledge/phone.py)."""

from __future__ import annotations

import pytest

from knowledge.phone import normalise_phone, phone_number, tap_to_call
from knowledge.speech import speech_text


@pytest.mark.parametrize(
    "typed, kept",
    [
        ("06 12 34 56 78", "0612345678"),
        ("06.12.34.56.78", "0612345678"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("0033 (6) 12-34-56-78", "0033612345678"),
        ("+32 470 12 34 56", "+32470123456"),
        ("612345678", None),  # no leading 0 nor country code: not guessed
        ("00 12", None),
        ("mon numéro", None),
        ("06 12 34 56 78 90 12 34", None),
    ],
)
def test_a_typed_number_is_kept_only_when_it_is_one(typed, kept):
    assert normalise_phone(typed) == kept


def test_one_number_three_forms():
    shown = phone_number("04-72-00-00-01")
    assert shown == "04 72 00 00 01"
    assert tap_to_call(shown) == "+33 4 72 00 00 01"
    said = speech_text([f"Appelez le {shown}."], ())
    assert said == "Appelez le zéro quatre, soixante-douze, zéro zéro, zéro zéro, zéro un."
