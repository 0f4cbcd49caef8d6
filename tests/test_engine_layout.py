"""The engine as the dialogue only: rendering writes nothing, the current screen is rendered
once a turn, typed text is read against the screen's buttons computed from their
declaration (the template's `buttons` block) without rendering the screen, and what
storage knows of the advisers comes in the turn's `Reach`."""

from __future__ import annotations

import collections
import shutil
from pathlib import Path

import pytest

from dialogs import render as rendering
from dialogs.checks import check_screens
from dialogs.engine import Engine
from dialogs.memo import BoundedMemo
from dialogs.model import Event, Reach, Session
from knowledge.advisers import Adviser

LYON_ADVISER = Adviser(
    7, "mlyon", "Camille", "Mission locale de Lyon", frozenset({"69"}), contact={"hours": "9h"}
)


def _at_recap(engine: Engine, reach: Reach, user: str = "tg:1") -> Session:
    s = Session(user, answers={"situation": "job_seeker", "disability": "no"})
    for event in (Event("start"), Event("choice", "where"), Event("text", "69003")):
        engine.handle(s, event, reach)
    engine.handle(s, Event("choice", "yes"), reach)
    assert s.state == "recap", s.state
    return s


def test_rendering_a_screen_writes_nothing_in_the_session(engine):
    """Every state's screen, the recap included (it used to choose who receives a request
    while rendering): the session is the same before and after."""
    base = {
        "about": "what",
        "domain": 1,
        "step": 0,
        "module": engine.k.modules[0].id,
        "place": {"c": "Lyon", "d": "69", "p": "69003"},
        "candidates": [{"c": "Lyon", "d": "69", "p": "69003"}],
        "handoff_to": "",
    }
    for state in engine.machine.states:
        s = Session("r", state=state, answers={"situation": "employee"}, data=dict(base))
        engine.screen(s)  # arrives (repaired if it must be), then shown
        before = s.to_json()
        engine.views.screen(s, Reach())
        assert s.to_json() == before, state


def _count_calls(monkeypatch, name: str) -> collections.Counter[str]:
    """Calls of `rendering.<name>`, by template."""
    counts: collections.Counter[str] = collections.Counter()
    original = getattr(rendering, name)

    def counting(env, template, **context):
        counts[template] += 1
        return original(env, template, **context)

    monkeypatch.setattr(rendering, name, counting)
    return counts


@pytest.fixture
def unmemoized(engine, monkeypatch):
    """The shared engine without its memo of rendered screens (dialogs/memo.py), so that
    the renders a turn needs are all counted (tests/test_screen_memo.py: the memo)."""
    for name in ("screens", "declared", "notices"):
        monkeypatch.setattr(engine.views, name, BoundedMemo(0))


@pytest.fixture
def renders(monkeypatch, unmemoized):
    """Full renders (text and buttons) of each template."""
    return _count_calls(monkeypatch, "render")


@pytest.fixture
def button_reads(monkeypatch, unmemoized):
    """Renders of a template's `buttons` block alone."""
    return _count_calls(monkeypatch, "buttons")


def test_typed_yes_at_the_place_confirm_reads_its_buttons_once_and_never_renders_it(
    engine, renders, button_reads
):
    s = Session("u")
    for event in (Event("start"), Event("choice", "where"), Event("text", "69003")):
        engine.handle(s, event)
    assert s.state == "where_confirm"
    renders.clear()
    engine.handle(s, Event("text", "oui"))
    assert s.state != "where_confirm"
    assert renders["where_confirm.j2"] == 0  # its text is never written again
    assert button_reads["where_confirm.j2"] == 1  # read against the buttons of its block


@pytest.mark.parametrize(
    ("choices", "template", "typed"),
    [
        ((), "menu.j2", "c'est payant ?"),
        ((), "menu.j2", "bonjour"),
        (("modules",), "modules.j2", "combien de temps ça dure"),
        (("modules",), "modules.j2", "peut-être"),
        (("steps",), "step.j2", "c'est quoi l'evaluation"),
        (("fit",), "fit_question.j2", "pourquoi vous demandez ca"),
    ],
)
def test_typed_text_is_read_against_the_screens_buttons_without_rendering_its_text(
    engine, renders, button_reads, choices, template, typed
):
    """A question, a greeting or a word that is no button, typed on a screen that stays:
    the screen's buttons come from its `buttons` block; its text is not rendered."""
    s = Session("u")
    engine.handle(s, Event("start"))
    for choice in choices:
        engine.handle(s, Event("choice", choice))
    state = s.state
    renders.clear()
    replies = engine.handle(s, Event("text", typed)).replies
    assert replies and s.state == state
    assert button_reads[template] == 1
    assert renders[template] == 0, (typed, dict(renders))


def _sample_sessions(engine: Engine) -> list[Session]:
    """A session per state, in several situations: every answer or none, the first or the
    last step, domain, module and about block, one place or several pages of them, a place
    typed on another screen, a heard fact to confirm."""
    k = engine.k
    every_answer = {q.id: q.options[0].id for q in k.questions}
    lyon = {"c": "Lyon", "d": "69", "p": "69003"}
    firsts = {
        "about": next(iter(k.about)),
        "domain": k.domains[0].id,
        "step": 0,
        "module": k.modules[0].id,
        "place": lyon,
        "candidates": [lyon],
        "handoff_to": "",
    }
    lasts = {
        "about": list(k.about)[-1],
        "domain": k.domains[-1].id,
        "step": len(k.procedure) - 1,
        "module": k.modules[-1].id,
        "place": {"c": "Fort-de-France", "d": "972", "p": "97200"},
        "candidates": [lyon] * 12,
        "page": 1,
        "place_from": "menu",
        "return": "menu",
        "said": {"situation": "job_seeker"},
        "confirm": "situation",
    }
    sessions = []
    for state in engine.machine.states:
        for answers in (every_answer, {}, {"situation": "employee", "reading": "hard"}):
            for data in (firsts, lasts):
                s = Session("b", state=state, answers=dict(answers), data=dict(data))
                engine.screen(s)  # arrives as a turn would (repaired if it must be)
                sessions.append(s)
    return sessions


@pytest.mark.parametrize(("handoff", "voice"), [(True, True), (False, False)])
def test_the_buttons_block_gives_the_buttons_of_the_full_screen_in_every_state(
    knowledge, handoff, voice
):
    engine = Engine(knowledge, handoff_enabled=handoff, voice_enabled=voice)
    reach = Reach()
    states = set()
    for s in _sample_sessions(engine):
        shown = engine.views.buttons(engine.views.screen(s, reach))
        assert engine.views.buttons_of(s, reach) == shown, (s.state, s.answers, s.data)
        states.add(s.state)
    assert states >= {"menu", "recap", "fit_result", "where_pick", "step", "fit_situation"}


def _templates_copy(tmp_path, name: str, edit) -> Path:
    copy = tmp_path / "templates"
    shutil.copytree(rendering.TEMPLATES_DIR, copy)
    path = copy / name
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    return copy


def test_a_screen_whose_buttons_lack_their_block_stops_the_start(knowledge, tmp_path):
    templates = _templates_copy(
        tmp_path,
        "where_confirm.j2",
        lambda text: text.replace("{% block buttons %}\n", "").replace("{% endblock %}", ""),
    )
    with pytest.raises(ValueError, match=r"hors du bloc .*where_confirm\.j2 \(ligne 5, 6, 8\)"):
        Engine(knowledge, templates_dir=templates)


def test_a_buttons_block_using_a_variable_set_outside_it_fails_the_check(knowledge, tmp_path):
    templates = _templates_copy(
        tmp_path,
        "step.j2",
        lambda text: text.replace(
            "{% block buttons %}\n{% set i = s.step %}\n", "{% block buttons %}\n"
        ),
    )
    engine = Engine(knowledge, templates_dir=templates)  # starts: the block is there
    problems = [str(p) for p in check_screens(engine)]
    assert any("templates/step.j2" in p for p in problems), problems


def test_not_understood_twice_renders_the_screen_it_reads_against_once(engine, renders):
    """ "je comprends pas": the screen read against and the shorter screen are one render."""
    s = Session("u")
    engine.handle(s, Event("start"))
    engine.handle(s, Event("choice", "modules"))
    renders.clear()
    engine.handle(s, Event("text", "je comprends pas"))
    assert renders["modules.j2"] == 1 and renders["simpler.j2"] == 1


def test_who_receives_a_request_comes_from_the_reach_read_before_the_turn(knowledge):
    engine = Engine(knowledge, handoff_enabled=True, advisers=(LYON_ADVISER,))
    opened = _at_recap(engine, Reach(open=frozenset({"mlyon"})))
    assert opened.data["handoff_to"] == "mlyon"
    not_opened = _at_recap(engine, Reach(), "tg:2")
    assert not_opened.data["handoff_to"] == ""  # the shared advisers' chat
    blocked = _at_recap(engine, Reach(blocked=frozenset({"mlyon"})), "tg:3")
    assert blocked.data["handoff_to"] == ""
    text = "\n".join(r.text for r in engine.screen(blocked, Reach(blocked=frozenset({"mlyon"}))))
    assert "Mission locale de Lyon" not in text  # a blocked adviser is not named
    assert "Mission locale de Lyon" in "\n".join(r.text for r in engine.screen(opened))


def test_without_a_shared_chat_nobody_reachable_means_no_request(knowledge):
    engine = Engine(knowledge, handoff_enabled=False, advisers=(LYON_ADVISER,))
    s = _at_recap(engine, Reach())
    assert "handoff_to" not in s.data
    assert engine.another_adviser(s, "other", Reach(open=frozenset({"mlyon"}))) == LYON_ADVISER
    assert engine.another_adviser(s, "other", Reach()) is None
