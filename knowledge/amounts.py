"""Amounts of money written in content: only money.yaml may hold one.

An amount written in a message goes stale silently (the CPF participation changed three
times in two years). Every amount lives once, dated and sourced, in money.yaml, and other
texts use it by name ("{participation}"). This module finds amounts written anywhere else,
for the loader (content files) and `clea-bot check` (templates).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

# "103,20 €", "1 500 €", "150 euros", "100€", "800 EUR".
AMOUNT_RE = re.compile(r"\d[\d\s\u202f\u00a0.,]*\s?(?:€|euros?\b|EUR\b)", re.IGNORECASE)
# People's own words (FAQ examples, typed answers) may mention money: they are not claims.
PEOPLES_WORDS = frozenset({"examples", "typed"})
MONEY_FILE = "money.yaml"
# Files whose texts are not said to people as facts: the titles of the documents read.
NOT_SAID = frozenset({MONEY_FILE, "sources.yaml"})


def amounts_in(text: str) -> list[str]:
    return [m.group(0).strip() for m in AMOUNT_RE.finditer(text)]


def strings_in(data: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(where, text) for every string the bot may say in a parsed content file."""
    if isinstance(data, dict):
        for key, value in data.items():
            if str(key) not in PEOPLES_WORDS:
                yield from strings_in(value, f"{path}.{key}" if path else str(key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            label = value.get("id") if isinstance(value, dict) else None
            yield from strings_in(value, f"{path}[{i}]" + (f" (id {label})" if label else ""))
    elif isinstance(data, str):
        yield path, data
