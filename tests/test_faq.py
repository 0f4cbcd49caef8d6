"""The free-text matcher on messages written as real users type them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.faq_eval import EVAL_FILE, evaluate
from knowledge.faq import FaqMatcher, asks, question_part
from knowledge.normalise import normalise

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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("c koi clea", "what_is"),
        ("jsui au chomage ca marche pr moi", "job_seeker"),
        ("faut payer ?", "cost"),
        ("et si je rate", "fail"),
        ("C'EST UN DIPLÔME ???", "diploma"),
        ("combien ça coûte le cléa", "cost"),
    ],
)
def test_issue_examples(matcher, text, expected):
    match = matcher.match(text)
    assert match.kind == "faq" and match.entry.id == expected


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("bonjour", "greeting"),
        ("merciii", "thanks"),
        ("au revoir", "bye"),
        ("bot de merde", "insult"),
        ("je veux parler a un humain", "human"),
    ],
)
def test_small_talk(matcher, text, kind):
    assert matcher.match(text).kind == kind


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("y a des exams ?", "evaluation"),
        ("il y aura des examens ?", "evaluation"),
        ("c koi les evals", "evaluation"),
        ("eva c'est quoi ?", "test_myself"),  # the ANLCI's tool the bot names, not CléA
        ("on m'a parlé de eva", "test_myself"),
    ],
)
def test_short_words_for_the_evaluation_and_eva(matcher, text, expected):
    """SMS words (normalise.SMS): "exams", "examens", "eval(s)" are the evaluation; "eva"
    is the ANLCI's positioning tool the reading-help screens name."""
    match = matcher.match(text)
    assert match.kind == "faq" and match.entry.id == expected


def test_politeness_does_not_hide_a_question(matcher):
    match = matcher.match("bonjour, c'est payant ?")
    assert match.kind == "faq" and match.entry.id == "cost"


@pytest.mark.parametrize(
    "text", ["quel temps demain", "qsdfghjk", "je veux un pret", "🙂", "", "....", "a" * 5000]
)
def test_out_of_scope_is_not_understood(matcher, text):
    match = matcher.match(text)
    assert match.kind == "none"


def test_not_understood_offers_close_topics(matcher):
    match = matcher.match("la jury du certificat numérique")
    assert match.kind == "faq" or match.suggestions


# --- the learned model ----------------------------------------------------------------------


def test_shipped_weights_come_from_the_current_faq():
    from dialogs.checks import check_model

    assert check_model() == []


@pytest.mark.slow
def test_training_is_reproducible_and_matches_the_shipped_weights(knowledge, tmp_path):
    """`make train` on this faq.yaml gives the shipped model back (same topics, same
    features, same answers): the weights in the repository are not hand-edited."""
    pytest.importorskip("sklearn", reason="the train extra is installed by make test")
    from bench.faq_training import train_from_content
    from bench.train import TUNING_FILES
    from knowledge.faq_model import FaqModel

    fresh = train_from_content(knowledge, TUNING_FILES)
    fresh.save(tmp_path / "m.npz")
    again, shipped = FaqModel.load(tmp_path / "m.npz"), FaqModel.load()
    assert again.labels == shipped.labels and again.vocabulary == shipped.vocabulary
    assert abs(again.threshold - shipped.threshold) < 1e-6
    for text in ("c koi clea", "combien ca coute", "je suis au chomage", "bonjour"):
        assert (
            again.labels[again.probabilities(text).argmax()]
            == (shipped.labels[shipped.probabilities(text).argmax()])
        )


class _Stub:
    """A model whose probabilities the test sets, to check the decision rules alone."""

    def __init__(self, labels, p, threshold=0.3, suggest=0.35, long_threshold=None):
        import numpy as np

        self.labels, self._p = labels, np.asarray(p, dtype=float)
        self.threshold, self.suggest_threshold = threshold, suggest
        self.long_threshold = threshold if long_threshold is None else long_threshold
        self.conflict_threshold = self.long_threshold

    def probabilities(self, text):
        return self._p

    confidence = staticmethod(
        __import__("knowledge.faq_model", fromlist=["FaqModel"]).FaqModel.confidence
    )


def test_close_topics_are_offered_not_answered(knowledge):
    labels = ["cost", "cpf", "duration", "off_topic", "greeting"]
    m = FaqMatcher(knowledge, model=_Stub(labels, [0.30, 0.28, 0.22, 0.1, 0.1]))
    match = m.match("le prix et le cpf et le temps")
    assert match.kind == "unsure"
    assert [e.id for e in match.suggestions] == ["cost", "cpf", "duration"]
    sure = FaqMatcher(knowledge, model=_Stub(labels, [0.80, 0.05, 0.05, 0.05, 0.05]))
    assert sure.match("prix").entry.id == "cost"
    off = FaqMatcher(knowledge, model=_Stub(labels, [0.2, 0.1, 0.1, 0.5, 0.1]))
    assert off.match("la meteo").kind == "none"


def test_a_long_message_has_its_own_threshold_and_offers_the_other_topics(knowledge):
    """A story then a question spreads the probability: such a message is answered from
    `long_threshold`, with the other topics it touches as buttons; a single clause with
    the same probabilities is still offered a choice."""
    labels = ["cost", "cpf", "duration", "off_topic", "greeting"]
    stub = _Stub(labels, [0.50, 0.22, 0.12, 0.1, 0.06], threshold=0.44, long_threshold=0.25)
    m = FaqMatcher(knowledge, model=stub)
    story = "j'ai 45 ans, je travaille dans le ménage depuis longtemps, c'est combien pour moi ?"
    match = m.match(story)
    assert match.kind == "faq" and match.entry.id == "cost"
    assert [e.id for e in match.also] == ["cpf", "duration"]
    short = m.match("c'est combien")
    assert short.kind == "unsure" and short.also == ()
    below = FaqMatcher(
        knowledge, model=_Stub(labels, [0.40, 0.30, 0.1, 0.1, 0.1], 0.44, 0.25, 0.25)
    )
    assert below.match(story).kind == "unsure"


class _TwoReadings(_Stub):
    """Gives `whole` for the message `text` and `part` for anything else (its question
    part)."""

    def __init__(self, labels, text, whole, part, **thresholds):
        import numpy as np

        super().__init__(labels, whole, **thresholds)
        self._text, self._part = text, np.asarray(part, dtype=float)

    def probabilities(self, text):
        return self._p if text == self._text else self._part


def test_when_the_story_and_the_question_disagree_the_bar_is_higher(knowledge):
    """The whole message says one topic, its question part another ("…, c'est la même
    chose ?"): the more decisive reading needs `conflict_threshold` to be answered, and
    when it is not answered both readings' topics are offered."""
    labels = ["cost", "cpf", "duration", "validity", "off_topic", "greeting"]
    text = "j'ai commencé il y a trois ans, puis j'ai arrêté, c'est encore bon ?"
    whole = [0.10, 0.05, 0.05, 0.60, 0.1, 0.1]  # validity, margin 0.50
    part = [0.15, 0.05, 0.55, 0.05, 0.1, 0.1]  # duration, margin 0.40
    careful = _TwoReadings(labels, text, whole, part, threshold=0.3, long_threshold=0.3)
    careful.conflict_threshold = 0.55
    match = FaqMatcher(knowledge, model=careful).match(text)
    assert match.kind == "unsure"
    assert [e.id for e in match.suggestions][:2] == ["validity", "duration"]
    careful.conflict_threshold = 0.45
    match = FaqMatcher(knowledge, model=careful).match(text)
    assert match.kind == "faq" and match.entry.id == "validity"
    assert "duration" in [e.id for e in match.also]
    # Both readings confident enough to be answered: two subjects, both offered.
    careful.conflict_threshold = 0.35
    match = FaqMatcher(knowledge, model=careful).match(text)
    assert match.kind == "unsure"
    assert [e.id for e in match.suggestions][:2] == ["validity", "duration"]
    agreeing = _TwoReadings(labels, text, whole, whole, threshold=0.3, long_threshold=0.3)
    agreeing.conflict_threshold = 0.9
    assert FaqMatcher(knowledge, model=agreeing).match(text).entry.id == "validity"


def test_an_answer_to_a_long_message_offers_what_it_also_touches(engine, monkeypatch):
    from dialogs.model import Event, Session
    from knowledge.faq import Match

    by_id = engine.matcher.by_id
    answer = Match("faq", by_id["cost"], 0.5, also=(by_id["cpf"], by_id["employee"]))
    monkeypatch.setattr(engine.matcher, "match", lambda text: answer)
    s = Session("also")
    engine.handle(s, Event("start"))
    replies = engine.handle(s, Event("text", "je suis salarié, ça coûte combien ?")).replies
    text = "\n".join(r.text for r in replies)
    choices = [b.choice for r in replies for b in r.choices()]
    assert "Vous parlez aussi de" in text
    assert {"faq:cpf", "faq:employee", "listen:faq:cost"} <= set(choices)
    assert text.rstrip().endswith("Vous parlez aussi de :")  # the line its buttons follow
    assert choices.index("faq:cpf") < choices.index("listen:faq:cost")
    assert choices.index("faq:employee") < choices.index("listen:faq:cost")
    replies = engine.handle(s, Event("choice", "faq:cpf")).replies
    assert "listen:faq:cpf" in [b.choice for r in replies for b in r.choices()]


def test_a_suggested_topic_can_be_tapped(engine):
    from dialogs.model import Event, Session

    s = Session("t")
    engine.handle(s, Event("start"))
    replies = engine.handle(s, Event("choice", "faq:cost")).replies
    assert "prix" in replies[0].text.lower() and s.state == "menu"
    assert "plus valable" in engine.handle(s, Event("choice", "faq:nope")).replies[0].text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Letter formulas around the question are dropped, even after it.
        (
            "Madame, Monsieur, étant salarié en CDI, pourriez-vous m'indiquer le tarif de la "
            "certification ? Je vous en remercie. Bien cordialement.",
            "étant salarié en CDI, pourriez-vous m'indiquer le tarif de la certification",
        ),
        ("Madame, Monsieur, quel est le tarif ? Cordialement.", None),  # one clause left
        # The story comes first; the last clause that asks is the question.
        (
            "j'ai 52 ans, je suis cariste depuis longtemps, je n'ai jamais eu de diplôme, "
            "est-ce qu'on peut rater une partie et la repasser plus tard ?",
            "est-ce qu'on peut rater une partie et la repasser plus tard",
        ),
        # A short question is read with the clause before it.
        (
            "Je travaille à mi-temps dans une crèche, ça dure combien ?",
            "Je travaille à mi-temps dans une crèche, ça dure combien",
        ),
        # Dictated, no punctuation: its last 12 words.
        (
            "alors voila je travaille dans le nettoyage depuis longtemps et ma cheffe m a parle "
            "du certificat et je voulais savoir si je peux le faire pendant mes heures de travail",
            "voulais savoir si je peux le faire pendant mes heures de travail",
        ),
        ("c'est payant ?", None),
        ("Bonjour, c'est payant ?", None),  # a bare greeting is no clause
        # A closing line is no question, even when nothing else asks with a "?".
        (
            "Madame, Monsieur, agent d'entretien dans un collège, je souhaiterais savoir si "
            "la certification se prépare le soir. Je vous remercie de l'intérêt porté à "
            "ma demande.",
            "je souhaiterais savoir si la certification se prépare le soir",
        ),
        # A signature after the closing word is no clause.
        (
            "Madame, Monsieur, je suis aide-soignante de nuit. Je cherche des renseignements "
            "sur l'inscription à CléA. Cordialement, Mme Karimi.",
            "Je cherche des renseignements sur l'inscription à CléA",
        ),
        # What follows the question in its sentence is context ("sachant que…").
        (
            "Bonjour, je voudrais vous demander si l'organisme garde mes copies d'examen, "
            "sachant que j'ai payé avec mon compte formation.",
            "je voudrais vous demander si l'organisme garde mes copies d'examen",
        ),
        # The question starts where it opens ("est-ce que"), not at its last comma.
        (
            "Je suis serveur depuis six ans. Le certificat que j'aurais, est-ce qu'il compte "
            "dans le bâtiment, ou seulement dans les cafés ?",
            "est-ce qu'il compte dans le bâtiment, ou seulement dans les cafés",
        ),
    ],
)
def test_question_part(text, expected):
    part = question_part(text)
    assert part == expected or (
        expected is not None and part is not None and part.endswith(expected)
    ), part


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("c'est payant ?", True),
        ("j'ai 61 ans et je me demande si ça vaut encore la peine", True),
        ("bonjour je voudrais savoir combien de temps ça prend", True),
        ("vous pouvez m'aider pour l'inscription", True),
        ("je travaille dans un garage depuis dix ans", False),
        ("je suis au chômage", False),
    ],
)
def test_a_message_asks_without_a_question_mark(text, expected):
    """A story that ends with "je me demande si…" is a question, not a statement about
    oneself to confirm (dialogs.reading reads it so)."""
    assert asks(text) is expected


def test_a_letter_is_read_by_its_question_not_its_formulas(matcher):
    """Formal letters: the formulas after the question must not outvote it."""
    text = (
        "Madame, Monsieur, salariée dans la restauration, je souhaiterais savoir "
        "combien coûte la certification CléA. Je vous remercie par avance de votre "
        "réponse. Bien cordialement."
    )
    match = matcher.match(text)
    assert match.kind == "faq" and match.entry is not None, match
    assert match.entry.id == "cost"


def _choose_threshold() -> Any:
    """bench.faq_training.choose_threshold, when the train extra is installed."""
    pytest.importorskip("sklearn", reason="the train extra is installed by make test")
    from bench.faq_training import choose_threshold

    return choose_threshold


def _fixed_model(when: tuple[str, list[float]], otherwise: list[float]) -> Any:
    """A model over cost / steps / off_topic that gives `when`'s probabilities to a text
    starting with its prefix, `otherwise` to any other text."""
    import numpy as np

    from knowledge.faq_model import FaqModel

    prefix, probabilities = when

    class Fixed:
        labels = ["cost", "steps", "off_topic"]
        confidence = staticmethod(FaqModel.confidence)

        def probabilities(self, text: str) -> np.ndarray:
            return np.array(probabilities if text.startswith(prefix) else otherwise)

    return Fixed()


def test_threshold_choice_leaves_out_messages_declined_before_the_faq():
    """A message on another subject (TOEIC…) never reaches the FAQ: it must not push the
    answering threshold up (bench/faq_training.choose_threshold, `declined`)."""
    choose_threshold = _choose_threshold()
    # "toeic…": margin 0.7, a CléA answer; the others: margin 0.45, right.
    fixed = _fixed_model(("toeic", [0.8, 0.1, 0.1]), otherwise=[0.65, 0.15, 0.2])
    right = [(f"prix {i}", "cost") for i in range(3)]
    kept = choose_threshold(fixed, right, ["toeic prix"])
    left_out = choose_threshold(
        fixed,
        right,
        ["toeic prix"],
        declined=lambda text: text.startswith("toeic"),
    )
    assert kept > 0.7 and left_out <= 0.45


def test_threshold_choice_takes_the_safer_end_of_a_plateau():
    """Two thresholds that score nearly the same (within one wrong answer's worth): the
    higher one is kept, sparing the wrong answer the lower one gives
    (bench/faq_training.TOLERANCE)."""
    choose_threshold = _choose_threshold()
    # "sure…": margin 0.6; the others ("torn…"): margin 0.2.
    fixed = _fixed_model(("sure", [0.75, 0.15, 0.1]), otherwise=[0.5, 0.3, 0.2])

    sure = [(f"sure {i}", "cost") for i in range(10)]
    torn = [(f"torn {i}", "cost") for i in range(6)] + [("torn wrong", "steps")]
    # Answering from 0.2 scores 10 + 6 - 5 = 11, from 0.21 to 0.6 scores 10.
    chosen = choose_threshold(fixed, sure + torn, [])
    assert 0.45 < chosen <= 0.6


def test_thanks_and_goodbye_together_are_one_polite_reply(knowledge):
    """Hello, thanks and goodbye are one family: a message split between "merci" and
    "à bientôt" is still answered politely, not offered CléA topics."""
    labels = ["cost", "cpf", "thanks", "bye", "off_topic", "greeting"]
    stub = _Stub(labels, [0.14, 0.05, 0.26, 0.45, 0.05, 0.05], threshold=0.4)
    match = FaqMatcher(knowledge, model=stub).match("merci pour tout, a bientot")
    assert match.kind == "bye"


def test_a_match_is_read_once_per_turn_and_forgotten_with_it(engine, monkeypatch):
    """The reading and the answer of one turn share the message's match
    (knowledge.faq._match_once); the next turn reads its own message afresh, so a match
    never outlives its turn (nor the typed text it holds)."""
    from dialogs.model import Event, Session
    from knowledge.normalise import forget_texts

    text = "c'est payant ?"
    first = engine.matcher.match(text)
    assert first.kind == "faq"
    assert engine.matcher.match(text) is first
    try:
        monkeypatch.setattr(engine.matcher.model, "threshold", 2.0)  # nothing is sure enough
        assert engine.matcher.match(text) is first  # the same turn: the same match
        engine.handle(Session("faq-once"), Event("text", "bonjour"))  # a new turn
        assert engine.matcher.match(text).kind != "faq"
    finally:
        forget_texts()  # no match made with the patched threshold is left for other tests
