"""The screens as the person sees them: a state's template rendered from its context.

Rendering has no side effect: it reads the session and never writes it. What a screen
needs decided first (a stored session repaired to a state that can be shown, who would
receive a contact request from the recap) is decided by the engine while it handles the
turn (dialogs/repair.py, Contexts.recap_target).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from dialogs import render as rendering
from dialogs.context import Contexts, reads_session_only
from dialogs.memo import BoundedMemo
from dialogs.model import Button, Reach, Reply, Session
from knowledge.model import Knowledge, Question
from knowledge.speech import Said, speech_text
from knowledge.vocabulary import Vocabulary

_TITLE = re.compile(r"^\W*<b>[^<]*</b>\W*$")
# Screens kept rendered (dialogs/memo.py): a few hundred distinct places in the
# conversation cover most people; each entry is a screen's text and buttons (about 1 kB).
SCREEN_MEMO_SIZE = 512


def shorter(texts: list[str], max_lines: int = 3) -> Markup:
    """A screen in fewer words ("je comprends pas"): for each message, its title, its first
    sentence and any question line; at most `max_lines` lines. The texts are rendered
    screens (already escaped), so the result is markup as it is."""
    out: list[str] = []
    for text in texts:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        first = next((i for i, line in enumerate(lines) if not _TITLE.match(line)), None)
        for i, line in enumerate(lines):  # kept in the screen's own order
            if i == first:
                line = re.split(r"(?<=[.!?])\s+", line)[0]
            elif not (_TITLE.match(line) or line.endswith("?")):
                continue
            if line not in out:
                out.append(line)
    return Markup("\n".join(out[:max_lines]))


def question_only(short: Markup) -> Markup:
    """A shorter question screen without its opening sentence ("Je vais vous poser 5
    questions courtes."): its titles ("Question 2 sur 5") and the question, for a help line
    to stand above it."""
    kept = [
        line
        for line in short.split("\n")
        if _TITLE.match(line) or line.rstrip().endswith(("?", "…"))
    ]
    return Markup("\n".join(kept)) if kept else short


def listen_choice(replies: Sequence[Reply]) -> str | None:
    """The screens meant to be heard carry a "🔊 Écouter" button."""
    return next(
        (b.choice for r in replies for b in r.choices() if b.choice.startswith("listen")), None
    )


def confirmed_question(k: Knowledge, s: Session) -> Question | None:
    """At "C'est bien ça ?" for a heard fact: the question, when the fact is still there."""
    q = k.question(str(s.data.get("confirm", "")))
    said = s.data.get("said", {})
    if q is None or not isinstance(said, dict) or q.option(str(said.get(q.id))) is None:
        return None
    return q


# Screens that ask one question of fit.yaml outside the fit check (state → question id),
# shown with the questions' template like the fit states and a heard fact to confirm.
_ASKED = {"where_situation": "situation", "where_disability": "disability"}
_FACT_CONFIRM = "fact_confirm"


def screen_key(s: Session) -> str:
    """Everything a screen that reads the session only is rendered from: its state,
    answers, data and referral, as JSON (how the session is stored between turns)."""
    return json.dumps(
        [s.state, s.answers, s.data, s.referral], ensure_ascii=False, separators=(",", ":")
    )


def session_of(key: str) -> Session:
    """The session a `screen_key` was made from (no person: such a screen does not read
    who they are). A memoized screen is rendered from its key itself, so what is kept
    is by construction a function of the key."""
    state, answers, data, referral = json.loads(key)
    return Session("", state, answers, data, referral)


def screen_template(state: str) -> str:
    """The template of a state's screen."""
    fit_question = state.startswith("fit_") and state != "fit_result"
    if fit_question or state in _ASKED or state == _FACT_CONFIRM:
        return "fit_question.j2"
    return f"{state}.j2"


def check_templates(
    env: jinja2.Environment, vocabulary: Vocabulary, states: Iterable[str] = ()
) -> None:
    """Every simple screen of screens.yaml has its template (dialogs/templates/<screen>.j2),
    and every screen declares its buttons in its `{% block buttons %}` (the engine reads
    a screen's buttons from that block alone, see dialogs/render.py)."""
    known = set(env.list_templates())
    missing = [
        f"{spec.screen}.j2"
        for spec in vocabulary.simple_screens
        if f"{spec.screen}.j2" not in known
    ]
    if missing:
        raise ValueError(f"screens.yaml : modèle introuvable : {', '.join(missing)}")
    outside = [
        f"{name} (ligne {', '.join(map(str, lines))})"
        for name in sorted({screen_template(state) for state in states} & known)
        if (lines := rendering.undeclared_buttons(env, name))
    ]
    if outside:
        raise ValueError("bouton déclaré hors du bloc {% block buttons %} : " + " ; ".join(outside))


class Views:
    """The templates, and the screens, notices and channel words rendered from them."""

    def __init__(
        self,
        knowledge: Knowledge,
        contexts: Contexts,
        templates_dir: Path,
        local_ready: bool,
        voice_enabled: bool,
        said: tuple[Said, ...],
        states: Iterable[str] = (),
    ) -> None:
        self.k = knowledge
        self.contexts = contexts
        self.env = rendering.make_environment(templates_dir)
        self.env.globals["local_ready"] = local_ready
        self.env.globals["vocabulary"] = knowledge.vocabulary
        self.env.globals["voice_enabled"] = voice_enabled
        check_templates(self.env, knowledge.vocabulary, states)
        self.said = said
        self._labels: dict[str, str] = {}
        self.screens: BoundedMemo[str, tuple[Reply, ...]] = BoundedMemo(SCREEN_MEMO_SIZE)
        self.declared: BoundedMemo[str, tuple[Button, ...]] = BoundedMemo(SCREEN_MEMO_SIZE)
        self.notices: BoundedMemo[tuple[object, ...], tuple[Reply, ...]] = BoundedMemo(64)

    @cached_property
    def _macros(self) -> Any:
        return self.env.get_template("_labels.j2").module

    def render(self, template: str, ctx: dict[str, Any], **extra: Any) -> list[Reply]:
        return rendering.render(self.env, template, **ctx, **extra)

    def page(self, template: str, s: Session, reach: Reach, **extra: Any) -> list[Reply]:
        """A template shown in the person's context (a FAQ answer, a notice about them)."""
        return self.render(template, self.contexts.of(s, reach), **extra)

    def notice(self, kind: str, **extra: Any) -> list[Reply]:
        """A notice (notice.j2): it reads the content and its arguments only, so one made
        with plain text arguments is rendered once and kept ("stale" on every old button)."""
        if not all(type(value) is str for value in extra.values()):
            return self._notice(kind, **extra)
        key = (kind, *sorted(extra.items()))
        return list(self.notices.get(key, lambda: tuple(self._notice(kind, **extra))))

    def _notice(self, kind: str, **extra: Any) -> list[Reply]:
        return self.render(
            "notice.j2", {"k": self.k, "handoff": self.contexts.handoff_enabled}, kind=kind, **extra
        )

    def channel_text(self, kind: str, **values: Any) -> Reply:
        """Words a channel shows around the conversation (templates/channel.j2)."""
        return self.render("channel.j2", {}, kind=kind, **values)[0]

    def topic_label(self, topic: str) -> str:
        """A topic's button label (_labels.j2), kept once made: it depends on the topic
        and the engine's content only, and a screen asks for several on every render."""
        label = self._labels.get(topic)
        if label is None:
            label = self._labels[topic] = str(self._macros.topic_label(topic, self.k)).strip()
        return label

    def voice_of(self, replies: Sequence[Reply], personal: bool = False) -> Reply:
        """The messages as one voice note."""
        return Reply(
            "",
            voice=speech_text([r.text for r in replies if not r.voice], self.said),
            personal=personal,
        )

    def _screen(self, s: Session, reach: Reach) -> tuple[str, dict[str, Any]]:
        """The template of the current state's screen and everything it is rendered with."""
        state = s.state
        template = screen_template(state)
        ctx = self.contexts.of(s, reach)
        if template != "fit_question.j2":
            return template, ctx
        if state in _ASKED or state == _FACT_CONFIRM:
            q = (
                confirmed_question(self.k, s)
                if state == _FACT_CONFIRM
                else self.k.question(_ASKED[state])
            )
            asked = {"q": q, "index": None, "total": None, "back": False}
            # "Reprendre où j'en étais": from the check, or back to where a place was typed
            aside = state == _FACT_CONFIRM or bool(s.data.get("place_from"))
            return template, {**ctx, **asked, "aside": aside}
        question = self.k.question(state.removeprefix("fit_"))
        assert question is not None  # fit states are made from the questions
        index = self.k.questions.index(question)
        fit = {"q": question, "index": index, "total": len(self.k.questions), "back": True}
        return template, {**ctx, **fit}

    def screen(self, s: Session, reach: Reach, key: str | None = None) -> list[Reply]:
        """The current state's screen. The session is read, never written: it must be in a
        state that can be shown (the engine repairs it when it arrives there). A screen
        that reads the session only (`reads_session_only`) is rendered once per content;
        `key`: the session's `screen_key` when the caller has it."""
        if not reads_session_only(s.state):
            return self._render_screen(s, reach)
        key = key or screen_key(s)
        return list(
            self.screens.get(key, lambda: tuple(self._render_screen(session_of(key), Reach())))
        )

    def _render_screen(self, s: Session, reach: Reach) -> list[Reply]:
        template, ctx = self._screen(s, reach)
        replies = self.render(template, ctx)
        if s.state == "handoff_contact":
            last = replies[-1]
            replies[-1] = Reply(last.text, last.buttons, request="contact")
        elif s.state == "where_ask":
            first = replies[0]
            replies[0] = Reply(first.text, first.buttons, request="location")
        return replies

    def buttons_of(self, s: Session, reach: Reach, key: str | None = None) -> tuple[Button, ...]:
        """The buttons of the current state's screen, in the order shown, from the
        screen's `buttons` block alone: its text is not rendered. Kept per content like
        the screens (`screen`)."""
        if not reads_session_only(s.state):
            return self._declared_buttons(s, reach)
        key = key or screen_key(s)
        return self.declared.get(key, lambda: self._declared_buttons(session_of(key), Reach()))

    def _declared_buttons(self, s: Session, reach: Reach) -> tuple[Button, ...]:
        template, ctx = self._screen(s, reach)
        rows = rendering.buttons(self.env, template, **ctx)
        return tuple(b for row in rows for b in row if isinstance(b, Button))

    @staticmethod
    def buttons(replies: Sequence[Reply]) -> tuple[Button, ...]:
        """The buttons of a screen, in the order shown."""
        return tuple(b for reply in replies for b in reply.choices())
