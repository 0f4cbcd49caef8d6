"""`clea-bot check`: content files and templates, all problems listed at once."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path

import jinja2
from jinja2 import nodes

from dialogs import render
from dialogs.engine import Engine
from dialogs.model import Reach, Session
from knowledge.amounts import amounts_in
from knowledge.loader import ContentError, Problem, load
from knowledge.speech import load_said


def template_kinds(name: str, templates_dir: Path = render.TEMPLATES_DIR) -> tuple[str, ...]:
    """The kinds a template knows, read from the template itself: every constant it
    compares `kind` with (`kind == "stale"`, `kind in ("a", "b")`). A notice added to
    notice.j2 is checked without being listed a second time here."""
    env = render.make_environment(templates_dir)
    assert env.loader is not None  # make_environment always gives one
    source = env.loader.get_source(env, name)[0]
    kinds: list[str] = []
    for compare in env.parse(source).find_all(nodes.Compare):
        if not (isinstance(compare.expr, nodes.Name) and compare.expr.name == "kind"):
            continue
        for operand in compare.ops:
            if operand.op == "eq" and isinstance(operand.expr, nodes.Const):
                kinds.append(operand.expr.value)
            elif operand.op == "in" and isinstance(operand.expr, nodes.Tuple | nodes.List):
                kinds.extend(
                    item.value for item in operand.expr.items if isinstance(item, nodes.Const)
                )
    return tuple(dict.fromkeys(kinds))


def check_all(
    content_dir: Path | None = None,
    extra_directory: Path | None = None,
    templates_dir: Path = render.TEMPLATES_DIR,
    today: dt.date | None = None,
) -> Sequence[Problem | str]:
    try:
        knowledge = load(content_dir, extra_directory, today=today)
    except ContentError as exc:
        return exc.problems
    if knowledge.expired:  # a dated fact past its day: the bot hides it, check fails
        return list(knowledge.expired)
    stale = check_model(content_dir)
    if stale:
        return stale
    try:
        load_said(content_dir)
    except ContentError as exc:
        return exc.problems
    problems = check_templates(templates_dir)
    if problems:
        return problems
    return check_screens(Engine(knowledge, handoff_enabled=True))


MONEY_WARNING_DAYS = 60


def money_due(
    content_dir: Path | None = None, today: dt.date | None = None, within: int = MONEY_WARNING_DAYS
) -> list[str]:
    """Amounts and rules of money.yaml that stop being shown within `within` days: the
    check warns before the bot goes quiet on them (it fails once the day has passed)."""
    today = today or dt.date.today()
    try:
        knowledge = load(content_dir, today=today)
    except ContentError:
        return []  # the problems are reported by check_all
    due = sorted(
        (f.valid_until, f.id)
        for f in knowledge.money.values()
        if today <= f.valid_until <= today + dt.timedelta(days=within)
    )
    return [
        f"À revérifier avant le {until:%d/%m/%Y} : money.yaml › facts.{fid} "
        "(source, montant, dates)"
        for until, fid in due
    ]


def check_model(content_dir: Path | None = None) -> list[Problem]:
    """The shipped weights must come from the current faq.yaml."""
    from knowledge.faq_model import MODEL_FILE, FaqModel, faq_hash
    from knowledge.loader import CONTENT_DIR

    faq_file = (content_dir or CONTENT_DIR) / "faq.yaml"
    try:
        model = FaqModel.load(MODEL_FILE)
    except (OSError, KeyError, ValueError) as exc:
        return [
            Problem(
                "knowledge/model/faq_model.npz",
                "",
                f"illisible ({type(exc).__name__}) : lancez make train",
            )
        ]
    if model.faq_sha256 != faq_hash(faq_file):
        return [
            Problem(
                "knowledge/model/faq_model.npz",
                "",
                "entraîné sur une autre version de faq.yaml : lancez make train",
            )
        ]
    return []


def check_templates(templates_dir: Path) -> list[Problem]:
    """Every template must parse, and write no amount of money (they live in money.yaml,
    dated and sourced)."""
    env = render.make_environment(templates_dir)
    problems = []
    for path in sorted(templates_dir.glob("*.j2")):
        source = re.sub(r"\{#.*?#\}", "", path.read_text(encoding="utf-8"), flags=re.S)
        for amount in amounts_in(source):
            problems.append(
                Problem(
                    f"templates/{path.name}",
                    "",
                    f"montant « {amount} » écrit dans le modèle : mettez-le dans money.yaml",
                )
            )
        try:
            env.get_template(path.name)
        except jinja2.TemplateSyntaxError as exc:
            problems.append(
                Problem(
                    f"templates/{path.name}",
                    f"ligne {exc.lineno}",
                    exc.message or "erreur de syntaxe",
                )
            )
    return problems


def check_screens(engine: Engine) -> list[Problem]:
    """Render every state once with a complete session: a template that breaks on real
    content (unknown variable, bad filter) is found at start-up, not by a user. The
    screen's `buttons` block, rendered alone as the engine reads it, must give the
    buttons shown (a variable it uses but sets outside the block breaks it)."""
    k = engine.k
    problems = []
    session = Session(
        "check",
        answers={q.id: q.options[0].id for q in k.questions},
        data={
            "about": next(iter(k.about)),
            "domain": k.domains[0].id,
            "step": 0,
            "module": k.modules[0].id,
            "return": "menu",
            "place": {"c": "Paris", "d": "75", "p": "75001"},
            "candidates": [{"c": "Paris", "d": "75", "p": "75001"}],
        },
    )
    full_answers = dict(session.answers)
    for answers in (full_answers, {}):  # with every answer, and before any answer
        session.answers = dict(answers)
        for state in engine.machine.states:
            session.state = state
            try:
                replies = engine.screen(session)
                if not replies:
                    raise ValueError("aucun message")
                if engine.views.buttons_of(session, Reach()) != engine.views.buttons(replies):
                    raise ValueError(
                        "le bloc buttons, lu seul, ne donne pas les boutons de l'écran : "
                        "une variable du bloc est définie hors du bloc ?"
                    )
            except Exception as exc:  # report, whatever the template did wrong
                problems.append(
                    Problem(f"templates/{state}.j2", "", f"{type(exc).__name__}: {exc}")
                )
    for kind in template_kinds("channel.j2"):
        try:
            if not engine.channel_text(
                kind, count=3, url="https://t.me/x", seconds=5, path="data/voice/x.ogg", chat=-100
            ).text:
                raise ValueError("aucun texte")
        except Exception as exc:  # report, whatever the template did wrong
            problems.append(Problem("templates/channel.j2", kind, f"{type(exc).__name__}: {exc}"))
    for kind in template_kinds("notice.j2"):
        try:
            if not engine.notice(kind, command="x"):
                raise ValueError("aucun message")
        except Exception as exc:  # report, whatever the template did wrong
            problems.append(Problem("templates/notice.j2", kind, f"{type(exc).__name__}: {exc}"))
    return problems
