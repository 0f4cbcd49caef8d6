"""Text prepared for speech, from the same text the screen shows.

One function, `speech_text`: markup, emojis and button labels go; links become "le lien
est dans le message"; abbreviations are said the way a French speaker says them
(knowledge/content/speech.yaml); amounts, dates, phone numbers and other numbers are said
in words (num2words), because the voice reads digits badly ("103,20 €", "3949").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from knowledge import phone
from knowledge.loader import CONTENT_DIR, ContentError, Problem

SPEECH_FILE = "speech.yaml"
_URL = re.compile(r"https?://\S+|\bwww\.\S+")
_TAGS = re.compile(r"<[^>]+>")
# Emojis and pictographs (and the variation selector that follows some of them).
_EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2190-\u21ff\ufe0f\u200d]")
_AMOUNT = re.compile(r"(\d[\d\u202f ]*)(?:,(\d{1,2}))?\s*€")
_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
_NUMBER = re.compile(r"\d+")
MONTHS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]


@dataclass(frozen=True)
class Said:
    pattern: re.Pattern[str]
    spoken: str


def load_said(content_dir: Path | None = None) -> tuple[Said, ...]:
    path = (content_dir or CONTENT_DIR) / SPEECH_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ContentError(
            [Problem(SPEECH_FILE, "", f"illisible : {type(exc).__name__}")]
        ) from None
    out, problems = [], []
    for i, item in enumerate((data or {}).get("said") or []):
        entry = f"said[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("spoken"), str):
            problems.append(Problem(SPEECH_FILE, entry, "{written ou pattern, spoken} attendu"))
            continue
        if isinstance(item.get("written"), str):
            pattern = re.compile(rf"(?<!\w){re.escape(item['written'])}(?!\w)")
        elif isinstance(item.get("pattern"), str):
            try:
                pattern = re.compile(item["pattern"])
            except re.error as exc:
                problems.append(Problem(SPEECH_FILE, entry, f"expression invalide : {exc}"))
                continue
        else:
            problems.append(Problem(SPEECH_FILE, entry, "« written » ou « pattern » manquant"))
            continue
        out.append(Said(pattern, item["spoken"]))
    if problems:
        raise ContentError(problems)
    return tuple(out)


def warm() -> None:
    """Import the number speller now rather than at the first voice note: imported there,
    on the Telegram bot's event loop, it held everyone 30-38 ms (bench.stalls)."""
    _words(0)


def _words(n: int) -> str:
    # Imported when first needed (the Telegram bot warms it before polling, when voice
    # notes are on): the console and the tools rarely speak.
    from num2words import num2words

    return str(num2words(n, lang="fr"))


def _amount(m: re.Match[str]) -> str:
    euros = int(re.sub(r"\D", "", m.group(1)))
    said = f"{_words(euros)} euro{'s' if euros > 1 else ''}"
    if m.group(2):
        said += f" {_words(int(m.group(2).ljust(2, '0')))}"
    return said


def _date(m: re.Match[str]) -> str:
    day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if not 1 <= month <= 12:
        return str(m.group(0))
    return f"{'premier' if day == 1 else _words(day)} {MONTHS[month - 1]} {_words(year)}"


def _phone(m: re.Match[str]) -> str:
    return ", ".join(
        ("zéro " + _words(int(p[1]))) if p[0] == "0" else _words(int(p))
        for p in phone.national_pairs(m)
    )


def speech_text(texts: list[str], said: tuple[Said, ...]) -> str:
    """What the voice says for these messages (one screen)."""
    out = []
    for text in texts:
        t = _TAGS.sub("", text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        t = _URL.sub("le lien est dans le message", t)
        t = _EMOJI.sub("", t)
        for rule in said:
            t = rule.pattern.sub(rule.spoken, t)
        t = _AMOUNT.sub(_amount, t)
        t = _DATE.sub(_date, t)
        t = phone.IN_TEXT.sub(_phone, t)
        t = _NUMBER.sub(lambda m: _words(int(m.group(0))), t)
        t = t.replace("•", "").replace("·", ",").replace("«", "").replace("»", "")
        lines = [" ".join(line.split()) for line in t.splitlines()]
        for line in lines:
            if line:
                out.append(line if line[-1] in ".!?:;," else line + ".")
    return re.sub(r"\.\.+", ".", " ".join(out))
