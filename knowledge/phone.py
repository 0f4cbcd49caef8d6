"""Phone numbers, in one place: what a person typed or shared for a call back
(`normalise_phone`), a number of the open data as people dial it (`phone_number`), the form
Telegram turns into a call link (`tap_to_call`), and a French number inside a sentence for
the voice (`IN_TEXT`, `national_pairs`). Pure functions: no I/O, no environment.

A wrong number sent to a vulnerable person is worse than none: each function returns
nothing (None or '') rather than a guess when the text does not look like a number.
"""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s.\-()]")  # what people put between digits
_ANY = re.compile(r"(?:\+|00)?\d{9,15}")  # an international or national number, compact
_FRENCH = re.compile(r"(?:(?:\+|00)33|0)([1-9]\d{8})")  # 0X XX XX XX XX, +33 X…, 0033 X…
_NATIONAL = re.compile(r"0[1-9]\d{8}")
_SHORT_OR_FOREIGN = re.compile(r"\+\d{9,14}|\d{4}")  # +32…, or a short number such as 3949
# A French number within a sentence ("04 00 00 00 01", "+33 4.00.00.00.01"): group 1 holds
# the nine digits after the leading 0 or +33, with their separators.
IN_TEXT = re.compile(r"(?:\+33\s?|\b0)([1-9](?:[\s.]?\d{2}){4})\b")


def compact(text: str) -> str:
    """The digits and the leading '+' only: spaces, dots, dashes and brackets removed."""
    return _SEPARATORS.sub("", text)


def normalise_phone(text: str) -> str | None:
    """A number typed or shared by a person, compact, or None when it is not one: French
    numbers (0…, +33…, 0033…) and international ones written with + or 00."""
    number = compact(text)
    if not _ANY.fullmatch(number):
        return None
    if number.startswith(("+", "00")) or _FRENCH.fullmatch(number):
        return number
    return None


def pairs(national: str) -> list[str]:
    """'0400000001' → ['04', '00', '00', '00', '01']: how a French number is written and
    said."""
    return [national[i : i + 2] for i in range(0, len(national), 2)]


def phone_number(value: str) -> str:
    """A phone as people dial it ('04 00 00 00 01', '3949'), or '' when it does not look
    like one."""
    number = compact(value)
    if _NATIONAL.fullmatch(number):
        return " ".join(pairs(number))
    if _SHORT_OR_FOREIGN.fullmatch(number):
        return number
    return ""


def tap_to_call(phone: str) -> str:
    """The international form Telegram turns into a call link: '+33 4 00 00 00 01'. Any
    other text is returned as it is."""
    national = _FRENCH.fullmatch(phone.replace(" ", ""))
    if national is None:
        return phone
    rest = national.group(1)
    return "+33 " + rest[0] + " " + " ".join(pairs(rest[1:]))


def national_pairs(match: re.Match[str]) -> list[str]:
    """The pairs of digits of a number found by `IN_TEXT`, with its leading 0."""
    return pairs("0" + re.sub(r"\D", "", match.group(1)))
