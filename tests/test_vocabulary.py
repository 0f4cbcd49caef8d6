"""One vocabulary: a screen, its topic, its command and its deep-link code are declared once,
in knowledge/content/screens.yaml, and every part of the bot reads them from there.

The test adds a screen to a copy of the content and templates (its entry in screens.yaml and
its template, nothing else) and finds it everywhere: the state machine, the engine's command
and buttons, the deep link, /aide, Telegram's command menu, the loader's cross-checks and the
advisers' codes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot.channels.telegram import bot_commands
from dialogs.engine import Engine
from dialogs.model import Event, Session
from dialogs.render import TEMPLATES_DIR
from knowledge.advisers import load_advisers
from knowledge.loader import CONTENT_DIR, ContentError, load, topics

NEW_SCREEN = {
    "screen": "newtopic",
    "topic": "newtopic",
    "label": "🆕 Le nouvel écran",
    "link": "newtopic",
}
NEW_COMMAND = {
    "command": "nouveau",
    "topic": "newtopic",
    "description": "Ouvrir le nouvel écran",
    "aide": True,
}
TEMPLATE = """🆕 Voici le nouvel écran, ajouté sans toucher au code.
{% block buttons %}
{{ ui.button(topic_label("menu"), "menu") }}
{% endblock %}
"""


def _copy(tmp_path: Path) -> tuple[Path, Path]:
    content = tmp_path / "content"
    templates = tmp_path / "templates"
    shutil.copytree(CONTENT_DIR, content)
    shutil.copytree(TEMPLATES_DIR, templates)
    return content, templates


def _edit_screens(content: Path, edit) -> None:
    path = content / "screens.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


@pytest.fixture(scope="module")
def added(tmp_path_factory) -> tuple[Engine, Path]:
    """An engine on a copy of the content with one more screen: screens.yaml and one
    template are the only files written."""
    tmp_path = tmp_path_factory.mktemp("vocabulary")
    content, templates = _copy(tmp_path)
    before = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}

    def add(data: dict) -> None:
        data["screens"].append(NEW_SCREEN)
        data["commands"].append(NEW_COMMAND)

    _edit_screens(content, add)
    (templates / "newtopic.j2").write_text(TEMPLATE, encoding="utf-8")
    after = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    changed = {p for p in after if before.get(p) != after[p]}
    assert changed == {Path("content/screens.yaml"), Path("templates/newtopic.j2")}
    return Engine(load(content), handoff_enabled=True, templates_dir=templates), content


def _texts(replies) -> str:
    return "\n".join(r.text for r in replies)


def test_a_new_screen_is_a_state_with_a_navigation_event(added):
    engine, _ = added
    assert "newtopic" in engine.machine.states
    s = Session("u", state="domains")
    assert engine.machine.can(s, "newtopic")  # "go to" events work from every screen
    replies = engine.handle(s, Event("choice", "newtopic")).replies
    assert s.state == "newtopic" and "nouvel écran" in _texts(replies)
    engine.handle(s, Event("choice", "menu"))
    assert s.state == "menu"


def test_its_command_opens_it_and_is_listed_in_help_and_the_command_menu(added):
    engine, _ = added
    s = Session("u")
    engine.handle(s, Event("start"))
    replies = engine.handle(s, Event("text", "/nouveau")).replies
    assert s.state == "newtopic" and "nouvel écran" in _texts(replies)
    assert "/nouveau : ouvrir le nouvel écran" in _texts(
        engine.handle(s, Event("text", "/aide")).replies
    )
    menu = {c.command: c.description for c in bot_commands(engine)}
    assert menu["nouveau"] == "Ouvrir le nouvel écran"
    assert menu["menu"] == "Revenir au menu"  # the shipped commands are still there


def test_its_deep_link_opens_it_and_keeps_the_referral(added):
    engine, _ = added
    s = Session("u")
    replies = engine.handle(s, Event("start", payload="mlyon-newtopic")).replies
    assert s.state == "newtopic" and s.referral == "mlyon"
    assert "nouvel écran" in _texts(replies)
    alone = Session("v")
    engine.handle(alone, Event("start", payload="newtopic"))
    assert alone.state == "newtopic" and alone.referral is None


def test_content_may_send_people_there_with_its_label(added):
    engine, _ = added
    assert "newtopic" in topics(engine.k)
    assert engine.topic_label("newtopic") == "🆕 Le nouvel écran"


def test_no_adviser_can_take_its_code(added, tmp_path):
    engine, _ = added
    path = tmp_path / "advisers.yaml"
    path.write_text("advisers:\n  - {telegram_id: 42, code: ml-newtopic, name: Camille}\n")
    assert load_advisers(path)[42].code == "ml-newtopic"  # the shipped vocabulary: free
    with pytest.raises(ContentError, match="newtopic"):
        load_advisers(path, engine.vocabulary.links)
    path.write_text("advisers:\n  - {telegram_id: 42, code: newtopic, name: Camille}\n")
    with pytest.raises(ContentError, match="newtopic"):
        load_advisers(path, engine.vocabulary.links)


def test_the_shipped_vocabulary_drives_what_it_used_to_hard_code(engine):
    v = engine.vocabulary
    assert v.links == {
        "diag": "fit",
        "decouvrir": "discover",
        "domaines": "domains",
        "etapes": "step",
        "modules": "modules",
        "contact": "where",
        "question": "ask",
    }
    assert engine.machine.aside_states == {
        "ask",
        "help",
        "privacy",
        "forget_confirm",
        "fact_confirm",
    }
    assert v.stages == {"fit_result": "fit_done", "recap": "recap", "handoff_done": "handoff"}
    assert engine.keep_screens == {"recap", "handoff_done"}


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["screens"].append({"screen": "x", "colour": "red"}),
            "champ inconnu « colour »",
        ),
        (
            lambda d: d["commands"].append({"command": "x", "topic": "nowhere"}),
            "sujet inconnu « nowhere »",
        ),
        (
            lambda d: d["screens"].append({"screen": "x", "topic": "y", "link": "diag"}),
            "link « diag » déclaré deux fois",
        ),
        (
            lambda d: d["commands"].append({"command": "x", "action": "fly"}),
            "action « fly » inconnue",
        ),
        (
            lambda d: d["screens"].append({"screen": "x", "flow": "nowhere"}),
            "parcours « nowhere » inconnu",
        ),
        (
            lambda d: d["screens"].append({"screen": "x", "topic": "y", "label": "x" * 40}),
            "28 caractères",
        ),
    ],
)
def test_a_wrong_screens_file_is_reported_clearly(tmp_path, edit, message):
    content, _ = _copy(tmp_path)
    _edit_screens(content, edit)
    with pytest.raises(ContentError, match=message) as raised:
        load(content)
    assert "screens.yaml ›" in str(raised.value)


def test_a_screen_without_its_template_is_reported_at_start_up(tmp_path):
    content, templates = _copy(tmp_path)
    _edit_screens(content, lambda d: d["screens"].append({"screen": "lost", "topic": "lost"}))
    with pytest.raises(ValueError, match="lost.j2"):
        Engine(load(content), templates_dir=templates)
