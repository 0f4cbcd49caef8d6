"""The screens as the person sees them: a state's template rendered from its context.

Rendering has no side effect: it reads the session and never writes it. What a screen
needs decided first (a stored session repaired to a state that can be shown, who would
receive a contact request from the recap) is decided by the engine while it handles the
turn (dialogs/repair.py, Contexts.recap_target).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from dialogs import render as rendering
from dialogs.context import Contexts
from dialogs.model import Button, Reach, Reply, Session
from knowledge.model import Knowledge, Question
from knowledge.speech import Said, speech_text
from knowledge.vocabulary import Vocabulary

_TITLE = re.compile(r"^\W*<b>[^<]*</b>\W*$")


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


def check_templates(env: jinja2.Environment, vocabulary: Vocabulary) -> None:
    """Every simple screen of screens.yaml has its template (dialogs/templates/<screen>.j2)."""
    known = set(env.list_templates())
    missing = [
        f"{spec.screen}.j2"
        for spec in vocabulary.simple_screens
        if f"{spec.screen}.j2" not in known
    ]
    if missing:
        raise ValueError(f"screens.yaml : modèle introuvable : {', '.join(missing)}")


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
    ) -> None:
        self.k = knowledge
        self.contexts = contexts
        self.env = rendering.make_environment(templates_dir)
        self.env.globals["local_ready"] = local_ready
        self.env.globals["vocabulary"] = knowledge.vocabulary
        self.env.globals["voice_enabled"] = voice_enabled
        check_templates(self.env, knowledge.vocabulary)
        self.said = said

    @cached_property
    def _macros(self) -> Any:
        return self.env.get_template("_labels.j2").module

    def render(self, template: str, ctx: dict[str, Any], **extra: Any) -> list[Reply]:
        return rendering.render(self.env, template, **ctx, **extra)

    def page(self, template: str, s: Session, reach: Reach, **extra: Any) -> list[Reply]:
        """A template shown in the person's context (a FAQ answer, a notice about them)."""
        return self.render(template, self.contexts.of(s, reach), **extra)

    def notice(self, kind: str, **extra: Any) -> list[Reply]:
        return self.render(
            "notice.j2", {"k": self.k, "handoff": self.contexts.handoff_enabled}, kind=kind, **extra
        )

    def channel_text(self, kind: str, **values: Any) -> Reply:
        """Words a channel shows around the conversation (templates/channel.j2)."""
        return self.render("channel.j2", {}, kind=kind, **values)[0]

    def topic_label(self, topic: str) -> str:
        return str(self._macros.topic_label(topic, self.k)).strip()

    def voice_of(self, replies: Sequence[Reply], personal: bool = False) -> Reply:
        """The messages as one voice note."""
        return Reply(
            "",
            voice=speech_text([r.text for r in replies if not r.voice], self.said),
            personal=personal,
        )

    def screen(self, s: Session, reach: Reach) -> list[Reply]:
        """The current state's screen. The session is read, never written: it must be in a
        state that can be shown (the engine repairs it when it arrives there)."""
        state = s.state
        ctx = self.contexts.of(s, reach)
        if state.startswith("fit_") and state != "fit_result":
            q = self.k.question(state.removeprefix("fit_"))
            assert q is not None  # fit states are made from the questions
            index = self.k.questions.index(q)
            return self.render(
                "fit_question.j2", ctx, q=q, index=index, total=len(self.k.questions), back=True
            )
        asked = {
            "where_situation": self.k.question("situation"),
            "where_disability": self.k.question("disability"),
            "fact_confirm": confirmed_question(self.k, s),
        }
        if state in asked:
            return self.render(
                "fit_question.j2",
                ctx,
                q=asked[state],
                index=None,
                total=None,
                back=False,
                aside=state == "fact_confirm",
            )
        replies = self.render(f"{state}.j2", ctx)
        if state == "handoff_contact":
            last = replies[-1]
            replies[-1] = Reply(last.text, last.buttons, request="contact")
        elif state == "where_ask":
            first = replies[0]
            replies[0] = Reply(first.text, first.buttons, request="location")
        return replies

    @staticmethod
    def buttons(replies: Sequence[Reply]) -> tuple[Button, ...]:
        """The buttons of a screen, in the order shown."""
        return tuple(b for reply in replies for b in reply.choices())
