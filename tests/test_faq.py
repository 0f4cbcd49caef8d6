"""The free-text matcher on messages written as real users type them."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.faq import FaqMatcher, normalise
from knowledge.faq_eval import EVAL_FILE, evaluate

ACCURACY_MIN = 0.90
REJECTION_MIN = 0.90


@pytest.fixture(scope="module")
def matcher(knowledge) -> FaqMatcher:
    return FaqMatcher(knowledge)


def test_evaluation_set_meets_the_thresholds(matcher):
    report = evaluate(EVAL_FILE, matcher)
    assert report.in_scope >= 120 and report.out_of_scope >= 30
    assert report.accuracy >= ACCURACY_MIN, report.text()
    assert report.rejection >= REJECTION_MIN, report.text()


def test_evaluation_set_is_not_copied_from_the_examples(knowledge):
    import yaml

    examples = {normalise(ex) for e in knowledge.faq for ex in e.examples}
    data = yaml.safe_load(Path(EVAL_FILE).read_text(encoding="utf-8"))
    copied = [i["text"] for i in data["in_scope"] if normalise(i["text"]) in examples]
    copied += [t for t in data["out_of_scope"] if normalise(t) in examples]
    assert not copied


def test_faq_content_is_rich_enough(knowledge):
    assert len(knowledge.faq) >= 40
    assert all(len(e.examples) >= 8 for e in knowledge.faq)


@pytest.mark.parametrize(("text", "expected"), [
    ("c koi clea", "what_is"),
    ("jsui au chomage ca marche pr moi", "job_seeker"),
    ("faut payer ?", "cost"),
    ("et si je rate", "fail"),
    ("C'EST UN DIPLÔME ???", "diploma"),
    ("combien ça coûte le cléa", "cost"),
])
def test_issue_examples(matcher, text, expected):
    match = matcher.match(text)
    assert match.kind == "faq" and match.entry.id == expected


@pytest.mark.parametrize(("text", "kind"), [
    ("bonjour", "greeting"), ("merciii", "thanks"), ("au revoir", "bye"),
    ("bot de merde", "insult"), ("je veux parler a un humain", "human"),
])
def test_small_talk(matcher, text, kind):
    assert matcher.match(text).kind == kind


def test_politeness_does_not_hide_a_question(matcher):
    match = matcher.match("bonjour, c'est payant ?")
    assert match.kind == "faq" and match.entry.id == "cost"


@pytest.mark.parametrize("text", ["quel temps demain", "qsdfghjk", "je veux un pret",
                                  "🙂", "", "....", "a" * 5000])
def test_out_of_scope_is_not_understood(matcher, text):
    match = matcher.match(text)
    assert match.kind == "none"


def test_not_understood_offers_close_topics(matcher):
    match = matcher.match("la jury du certificat numérique")
    assert match.kind == "faq" or match.suggestions
