"""Every message a person reads is plain French: short sentences, easy words.

Score: Kandel & Moles (1958), the French adaptation of Flesch reading ease, computed by
textstat with the French settings (207 − 1.015 × words per sentence − 73.6 × syllables
per word). 100 is very easy; 60–70 is standard; below 30 is hard.
Thresholds (also in the README): the mean over all messages is at least 80; every message
of 8 words or more scores at least 45; every sentence has at most 20 words. The legal
titles of the 7 domains are quoted as such and only count in the mean; messages built
around a place name (which the formula reads as long words) are left out of the floor.
"""

from __future__ import annotations

import re
import statistics

import pytest
import textstat

from tests.readability import all_messages, plain

MEAN_MIN = 80
MESSAGE_MIN = 45
SENTENCE_MAX_WORDS = 20
PLACE_SCREENS = ("where_confirm", "recap", "handoff_adviser")

textstat.set_lang("fr")


@pytest.fixture(scope="module")
def messages(engine):
    return [(where, plain(text)) for where, text in all_messages(engine)]


def is_quote(text: str) -> bool:
    return text.startswith("Le nom officiel")


def test_mean_reading_ease(messages):
    mean = statistics.mean(textstat.flesch_reading_ease(t) for _, t in messages)
    assert mean >= MEAN_MIN, f"mean Kandel-Moles {mean:.1f} < {MEAN_MIN}"


def test_every_message_is_easy_enough(messages):
    hard = []
    for where, text in messages:
        if len(text.split()) < 8 or is_quote(text) or where.startswith(PLACE_SCREENS):
            continue
        score = textstat.flesch_reading_ease(text)
        if score < MESSAGE_MIN:
            hard.append(f"{where} ({score:.0f}): {text[:80]}")
    assert not hard, "\n".join(hard)


def test_sentences_are_short(messages):
    long = []
    for where, text in messages:
        if is_quote(text):
            continue
        for sentence in re.split(r"(?<=[.!?…])\s+|\n", text):
            if len(sentence.split()) > SENTENCE_MAX_WORDS:
                long.append(f"{where}: {sentence}")
    assert not long, "\n".join(long)


def test_markup_is_valid_telegram_html(engine):
    """Telegram refuses a message with unknown or unbalanced tags: only <b> is used."""
    from tests.readability import all_messages

    for where, text in all_messages(engine):
        tags = re.findall(r"</?([a-zA-Z]+)[^>]*>", text)
        assert set(tags) <= {"b"}, (where, tags)
        assert text.count("<b>") == text.count("</b>"), where
        assert "<" not in re.sub(r"</?b>", "", text), where  # content is escaped
