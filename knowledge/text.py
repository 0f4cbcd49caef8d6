"""French text normalisation shared by the FAQ matcher and the place look-up.

Users type on phones, often without accents and with SMS spellings; everything that
compares user text with content goes through `fold` first.
"""

from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'"})
_NON_WORD = re.compile(r"[^a-z0-9]+")


def strip_accents(text: str) -> str:
    if text.isascii():  # no accent to strip (NFKD leaves ASCII as it is): most texts folded
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold(text: str) -> str:
    """Lower case, no accents, œ→oe, punctuation and apostrophes as single spaces."""
    text = text.translate(_APOSTROPHES).lower().replace("œ", "oe").replace("æ", "ae")
    text = strip_accents(text)
    return _NON_WORD.sub(" ", text).strip()


def has_letters_or_digits(text: str) -> bool:
    return any(c.isalnum() for c in text)


_SAINT = re.compile(r"\b(st|ste|sts|stes)\b")
_SAINTS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}


def name_key(name: str) -> str:
    """Search key of a place name: folded, "st" → "saint" ("St-Étienne" = "saint etienne")."""
    return _SAINT.sub(lambda m: _SAINTS[m.group(1)], fold(name))
