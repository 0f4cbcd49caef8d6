"""handle(session, event) -> Turn: the whole conversation, channel-agnostic.

The engine interprets an event (command, button, typed text…), fires the matching event
on the shared state machine, then renders the state's template. Anything it does not
expect gets a short kind notice and a way forward; nothing raises to the channel.
What a turn means beyond its replies (a contact request, an erasure, a stage of the path
reached) comes back as data in the `Turn`, for the turn runner to apply.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from markupsafe import Markup

from dialogs import render as rendering
from dialogs.machine import ConversationMachine
from dialogs.model import AdviserNote, Button, Event, Reply, Session, Turn
from dialogs.reading import PLACE_SCREENS, Reader, Reading, Readings, Screen, choose
from knowledge import directory, geography
from knowledge.advisers import CODE_RE, Adviser, NamedAdviser, select_adviser
from knowledge.costs import cost_key
from knowledge.faq import FaqMatcher
from knowledge.loader import load_vocabulary
from knowledge.local import select_local
from knowledge.model import Knowledge
from knowledge.opendata import DirectoryUnavailable, LocalDirectory
from knowledge.phone import normalise_phone
from knowledge.speech import load_said, speech_text
from knowledge.text import fold, has_letters_or_digits

log = logging.getLogger(__name__)

PAYLOAD_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_TEXT = 4096
# Topics, commands, deep-link codes and the screens kept, personal or counted as a stage of
# the path: knowledge/content/screens.yaml (Knowledge.vocabulary).


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


def parse_choice(choice: str, aliases: Mapping[str, str] | None = None) -> tuple[str, str | None]:
    """(event, argument) of a button's choice ("domain:3"); an alias of a topic ("steps",
    screens.yaml) is that topic."""
    if aliases and choice in aliases:
        return aliases[choice], None
    name, _, arg = choice.partition(":")
    return name, (arg if arg else None)


@lru_cache(maxsize=1)
def _shipped_links() -> Mapping[str, str]:
    return load_vocabulary().links


def parse_payload(
    payload: str | None, links: Mapping[str, str] | None = None
) -> tuple[str | None, str | None]:
    """(referral code, topic) from a /start payload; (None, None) when it is not valid.
    `links`: deep-link codes → topics (screens.yaml; the shipped file's by default)."""
    links = _shipped_links() if links is None else links
    if not payload or not PAYLOAD_RE.match(payload):
        return None, None
    payload = payload.lower()
    if payload in links:
        return None, links[payload]
    code, _, topic = payload.rpartition("-")
    if code and topic in links:
        return (code if CODE_RE.match(code) else None), links[topic]
    return (payload if CODE_RE.match(payload) else None), None


@dataclass
class _Effects:
    """Collected while one event is handled; becomes part of the `Turn`."""

    notes: list[AdviserNote] = field(default_factory=list)
    erase: bool = False


def _check_templates(env: Any, machine: ConversationMachine) -> None:
    """Every simple screen of screens.yaml has its template (dialogs/templates/<screen>.j2)."""
    known = set(env.list_templates())
    missing = [
        f"{spec.screen}.j2"
        for spec in machine.vocabulary.simple_screens
        if f"{spec.screen}.j2" not in known
    ]
    if missing:
        raise ValueError(f"screens.yaml : modèle introuvable : {', '.join(missing)}")


class Engine:
    """One per process: the machine, templates and matcher are built once."""

    def __init__(
        self,
        knowledge: Knowledge,
        handoff_enabled: bool = False,
        retention_days: int = 90,
        local_directory: LocalDirectory | None = None,
        advisers: tuple[Adviser, ...] = (),
        adviser_reachable: Callable[[str], bool] = lambda code: False,
        voice_enabled: bool = True,
        templates_dir: Path = rendering.TEMPLATES_DIR,
    ):
        """`handoff_enabled`: a shared advisers' chat receives contact requests.
        `local_directory`: the installed open-data directory of local offices; without
        it the hand-off stays national and says how to find the local office.
        `advisers`: the local network (CLEA_ADVISERS); `adviser_reachable(code)` tells
        whether that adviser opened the bot, so that it can write to them.
        `voice_enabled`: the "🔊 Écouter" voice notes (CLEA_VOICE).
        `templates_dir`: the screens' templates (dialogs/templates)."""
        self.k = knowledge
        self.vocabulary = knowledge.vocabulary
        self.personal_screens = self.vocabulary.states_where("personal")
        self.keep_screens = self.vocabulary.states_where("keep")
        self.handoff_enabled = handoff_enabled
        self.advisers = advisers
        self.adviser_reachable = adviser_reachable
        # The codes of advisers who blocked the bot: not named until they open it again.
        # The Telegram channel points it at its storage.
        self.advisers_blocked: Callable[[], frozenset[str]] = frozenset
        self.retention_days = retention_days
        self.local_directory = local_directory
        self.machine = ConversationMachine(knowledge, handoff_enabled)
        self.env = rendering.make_environment(templates_dir)
        self.env.globals["local_ready"] = local_directory is not None
        self.env.globals["vocabulary"] = self.vocabulary
        _check_templates(self.env, self.machine)
        self.voice_enabled = voice_enabled
        self.env.globals["voice_enabled"] = voice_enabled
        self.said = load_said()
        self.matcher = FaqMatcher(knowledge)
        self.reader = Reader(knowledge, self.matcher)

    @cached_property
    def _macros(self) -> Any:
        return self.env.get_template("_labels.j2").module

    # --- public API -----------------------------------------------------------------------

    def handle(self, session: Session, event: Event) -> Turn:
        session.updated = time.time()
        before = session.state
        keep_before = bool(session.data.pop("keep", False))
        started = bool(session.data.get("started"))
        if session.state not in self.machine.triggers_by_state:
            session.state = "menu"  # a state removed since this session was stored
        fx = _Effects()
        try:
            replies = self._dispatch(session, event, fx)
        except Exception:
            log.exception("dialog error in state %s on a %s event", session.state, event.kind)
            replies, fx = self.notice("error"), _Effects()
        if not replies:
            replies = self.notice("error")
        if session.state not in PLACE_SCREENS:  # the place is confirmed or given up
            session.data.pop("place_from", None)
        if all(r.voice for r in replies):  # a voice note: the screen shown stays
            session.data.pop("keep", None)
            if keep_before:
                session.data["keep"] = True
        elif session.state in self.keep_screens:
            session.data["keep"] = True
        native = any(r.request for r in replies)
        remove_keyboard = (
            bool(session.data.pop("native", False)) and not native and (session.state != before)
        )
        if native:
            session.data["native"] = True
        if remove_keyboard and all(r.buttons or r.request for r in replies):
            replies = rendering.lead_apart(replies)  # a plain message removes the keyboard
        if (
            session.data.get("voice")
            and self.voice_enabled
            and not any(r.voice for r in replies)
            and any(r.text.strip() for r in replies)
        ):
            # "Always read aloud" is on: every screen the person reaches is also heard,
            # the fit questions and "Où habitez-vous ?" included.
            replies = [*replies, self._voice_of(replies, personal=self._personal(session, replies))]
        return Turn(
            replies,
            fx.notes,
            self._reached(session, before, started),
            fx.erase,
            remove_keyboard,
            keep_previous=keep_before,
        )

    def _reached(self, s: Session, before: str, started: bool) -> frozenset[str]:
        """Stages of the path this turn reached: the first start, and the screens that
        mark one (the result of the fit check, the recap, a sent contact request)."""
        reached = set()
        if not started and s.data.get("started"):
            reached.add("start")
        stages = self.vocabulary.stages
        if s.state != before and s.state in stages:
            reached.add(stages[s.state])
        return frozenset(reached)

    # --- voice notes -----------------------------------------------------------------------

    @staticmethod
    def _listen_choice(replies: list[Reply]) -> str | None:
        """The screens meant to be heard carry a "🔊 Écouter" button."""
        return next(
            (b.choice for r in replies for b in r.choices() if b.choice.startswith("listen")), None
        )

    def _personal(self, s: Session, replies: list[Reply]) -> bool:
        """A screen that says something about the person (their town, their answers, the
        words they typed, their cost line): its note is cached apart."""
        return (
            s.state in self.personal_screens
            or s.state.startswith(("where", "handoff"))
            or any("Pour vous" in r.text for r in replies)
        )

    def _voice_of(self, replies: list[Reply], personal: bool = False) -> Reply:
        return Reply(
            "",
            voice=speech_text([r.text for r in replies if not r.voice], self.said),
            personal=personal,
        )

    def _listen(self, s: Session, arg: str | None) -> list[Reply]:
        """The current screen (or a FAQ answer) as a voice note; the screen stays."""
        if not self.voice_enabled:
            return self.notice("stale")
        if arg and arg.startswith("faq:"):
            entry = self.matcher.by_id.get(arg[4:])
            if entry is None:
                return self.notice("stale")
            shown = self._render("faq_answer.j2", self._context(s), entry=entry, in_ask=False)
        else:
            shown = self.screen(s)
            if self._listen_choice(shown) is None:
                return self.notice("stale")
            return [self._voice_of(shown, personal=s.state in self.personal_screens)]
        return [self._voice_of(shown)]

    def _repair(self, s: Session) -> None:
        """A stored session may miss what its state needs (content changed, data cleared):
        move it to the nearest state that can be shown, never crash."""
        d, k = s.data, self.k

        def place_ok(p: object) -> bool:
            return isinstance(p, dict) and p.get("d") in geography.DEPARTEMENT_NAME

        needs = {
            "about": lambda: d.get("about") in k.about,
            "domain": lambda: isinstance(d.get("domain"), int) and k.domain(d["domain"]),
            "step": lambda: isinstance(d.get("step"), int) and 0 <= d["step"] < len(k.procedure),
            "module": lambda: isinstance(d.get("module"), str) and k.module(d["module"]),
            "where_pick": lambda: d.get("candidates") and all(map(place_ok, d["candidates"])),
            "where_confirm": lambda: d.get("candidates") and all(map(place_ok, d["candidates"])),
            "recap": lambda: place_ok(d.get("place")),
            "handoff_consent": lambda: place_ok(d.get("place")),
            "handoff_contact": lambda: place_ok(d.get("place")),
            "handoff_done": lambda: place_ok(d.get("place")),
            "fact_confirm": lambda: self._confirmed_question(s) is not None,
        }
        check = needs.get(s.state)
        try:
            ok = check() if check else True
        except (TypeError, KeyError, ValueError):
            ok = False
        if not ok:
            fallback = "where_ask" if s.state.startswith(("where", "recap", "handoff")) else "menu"
            self.machine.machine.set_state(fallback, s)

    def screen(self, session: Session) -> list[Reply]:
        """The current state's screen, as shown after a transition."""
        self._repair(session)
        state = session.state
        ctx = self._context(session)
        if state.startswith("fit_") and state != "fit_result":
            q = self.k.question(state.removeprefix("fit_"))
            index = self.k.questions.index(q)
            return self._render(
                "fit_question.j2", ctx, q=q, index=index, total=len(self.k.questions), back=True
            )
        if state == "where_situation":
            return self._render(
                "fit_question.j2",
                ctx,
                q=self.k.question("situation"),
                index=None,
                total=None,
                back=False,
            )
        if state == "where_disability":
            return self._render(
                "fit_question.j2",
                ctx,
                q=self.k.question("disability"),
                index=None,
                total=None,
                back=False,
            )
        if state == "fact_confirm":
            return self._render(
                "fit_question.j2",
                ctx,
                q=self._confirmed_question(session),
                index=None,
                total=None,
                back=False,
                aside=True,
            )
        if state == "recap":
            self._recap_target(session, ctx["named"])
        replies = self._render(f"{state}.j2", ctx)
        if state == "handoff_contact":
            last = replies[-1]
            replies[-1] = Reply(last.text, last.buttons, request="contact")
        elif state == "where_ask":
            first = replies[0]
            replies[0] = Reply(first.text, first.buttons, request="location")
        return replies

    # --- dispatch -------------------------------------------------------------------------

    def _dispatch(self, s: Session, e: Event, fx: _Effects) -> list[Reply]:
        # "Reprendre" offered on a returning person's welcome is valid for one event only.
        left_at = s.data.pop("continue", None)
        if e.kind == "choice" and e.value == "continue":
            if left_at in self.machine.triggers_by_state:
                self.machine.machine.set_state(left_at, s)
                return self.screen(s)
            return self.notice("stale")
        if e.kind == "start":
            return self._start(s, e.payload)
        if e.kind == "choice":
            return self._choice(s, e.value, fx)
        if e.kind == "text":
            return self._text(s, e.value, fx, e.first_name)
        if e.kind == "contact":
            if s.state == "handoff_contact":
                phone = normalise_phone(e.value)
                if phone is None:  # a forged or malformed contact: no hand-off without it
                    return self.notice("bad_phone")
                return self._handoff(s, phone, e.first_name, fx)
            return self.notice("contact_not_needed")
        if e.kind == "location":
            return self._location(s, e.value)
        if e.kind == "edited":
            return self.notice("edited")
        if e.kind == "voice":  # a voice message: the bot cannot listen yet; say so aloud
            replies = self.notice("voice_message")
            if self.voice_enabled:
                replies = [*replies, self._voice_of(replies)]
            return replies
        return self.notice("unsupported")

    def _start(self, s: Session, payload: str | None) -> list[Reply]:
        referral, topic = parse_payload(payload, self.vocabulary.links)
        if referral and self.advisers and referral not in {a.code for a in self.advisers}:
            referral = None  # a code no declared adviser owns: not counted, not named
        s.data.pop("miss", None)  # a fresh start: "two misunderstandings" counts anew
        if s.referral is None and referral:
            s.referral = referral
        returning = bool(s.data.get("started")) and s.state != "menu" and not topic
        if returning:
            s.data["continue"] = s.state
        if not s.data.get("started"):
            s.data["started"] = True
        replies = self._render(
            "welcome.j2",
            self._context(s),
            returning=returning,
            bad_payload=bool(payload) and not (referral or topic),
        )
        if topic:
            name, arg = parse_choice(topic, self.vocabulary.aliases)
            self.machine.fire(s, name, *([arg] if arg else []))
            return rendering.join(replies[:-1] + [Reply(replies[-1].text)], self.screen(s))
        self.machine.fire(s, "menu")
        return self._offer_voice(s, rendering.join(replies, self.screen(s)))

    def _offer_voice(self, s: Session, replies: list[Reply]) -> list[Reply]:
        """The welcome offers to read every screen aloud (last button, after the menu's):
        people who find reading hard should not have to find /voix."""
        if not self.voice_enabled or s.data.get("voice"):
            return replies
        last = replies[-1]
        offer = ((Button("🔊 Tout écouter", "voice_on"),),)
        return [
            *replies[:-1],
            Reply(
                last.text, last.buttons + offer, last.image, last.request, personal=last.personal
            ),
        ]

    def _command(self, s: Session, name: str, fx: _Effects) -> list[Reply]:
        """A /command of screens.yaml: it opens its topic or does its action."""
        name = name.split("@", 1)[0]
        command = self.vocabulary.commands_by_name.get(name)
        if command is None:
            return self.notice("unknown_command", command=name[:30])
        if command.topic is not None:
            return self._choice(s, command.topic, fx)
        if command.action == "start":
            return self._start(s, None)
        if command.action == "restart":
            s.answers.clear()
            s.data = {k: v for k, v in s.data.items() if k == "started"}
            self.machine.fire(s, "menu")
            return rendering.join(self.notice("restarted"), self.screen(s))
        if command.action == "voice":  # "always read aloud", on or off
            return self._choice(s, "voice_off" if s.data.get("voice") else "voice_on", fx)
        # "request": where the person's contact request stands
        return self._render("request_status.j2", self._context(s), request=s.data.get("request"))

    def _choice(self, s: Session, choice: str, fx: _Effects) -> list[Reply]:
        name, arg = parse_choice(choice[:64], self.vocabulary.aliases)
        if name == "resume":
            return self._resume(s)
        if name == "listen":
            return self._listen(s, arg)
        if name in ("voice_on", "voice_off"):
            s.data["voice"] = name == "voice_on"
            if name == "voice_on":  # said at once: the notice, then the screen, aloud
                return self.notice(name) + self.screen(s)
            return self.notice(name)
        if name == "faq":  # a topic chosen from "Vouliez-vous parler de…"
            entry = self.matcher.by_id.get(arg or "")
            if entry is None:
                return self.notice("stale")
            s.data.pop("miss", None)
            return self._faq_answer(s, entry, in_ask=s.state == "ask")
        if name == "unsay":  # "Non" to "Vous m'avez dit… C'est bien ça ?"
            qid = self._question_id(s.state, s)
            if qid is None or not s.data.get("said", {}).get(qid):
                return self.notice("stale")
            s.data["said"].pop(qid)
            if s.state == "fact_confirm":
                s.data.pop("confirm_faq", None)
                return self._resume(s)
            return self.screen(s)
        if name == "answer" and s.state == "fact_confirm":
            return self._confirm_fact(s, arg)
        if name == "forget_yes" and s.state == "forget_confirm":
            fx.erase = True
            s.state, s.answers, s.data, s.referral = "menu", {}, {}, None
            return self.notice("forgotten")
        if name == "forget_no" and s.state == "forget_confirm":
            return self._resume(s)
        if self.machine.fire(s, name, *([arg] if arg is not None else [])):
            s.data.pop("miss", None)
            return self.screen(s)
        return self.notice("stale")

    def _resume(self, s: Session) -> list[Reply]:
        if s.state in self.machine.aside_states:
            self.machine.machine.set_state(s.data.pop("return", "menu"), s)
        elif s.state in PLACE_SCREENS and s.data.get("place_from"):
            # A place typed on another screen: back to that screen.
            s.data.pop("candidates", None)
            self.machine.machine.set_state(s.data.pop("place_from"), s)
        return self.screen(s)

    def _confirmed_question(self, s: Session):
        """At "C'est bien ça ?" for a heard fact: the question, when the fact is still there."""
        q = self.k.question(str(s.data.get("confirm", "")))
        said = s.data.get("said", {})
        if q is None or not isinstance(said, dict) or q.option(str(said.get(q.id))) is None:
            return None
        return q

    def _confirm_fact(self, s: Session, option: str | None) -> list[Reply]:
        """The person confirmed (or corrected) a fact heard in free text: from now on it is
        an answer, used for routing, the recap and an adviser's note."""
        q = self.k.question(str(s.data.get("confirm", "")))
        if q is None or q.option(option or "") is None:
            return self.notice("stale")
        s.answers[q.id] = str(option)
        heard = s.data.get("said", {}).pop(q.id, None)
        s.data.pop("confirm", None)
        entry = self.matcher.by_id.get(str(s.data.pop("confirm_faq", "")))
        if heard != option:
            entry = None  # corrected: the answer to what was misheard no longer fits
        resumed = self._resume(s)
        if entry is not None:  # what the person's message was about, now for their case
            resumed = self._render(
                "faq_answer.j2", self._context(s), entry=entry, in_ask=s.state == "ask"
            )
        noted = self.notice("noted")[0].text  # one line before the screen, no buttons
        first = resumed[0]
        return [replace(first, text=f"{noted}\n\n{first.text}"), *resumed[1:]]

    def _text(
        self, s: Session, text: str, fx: _Effects, event_name: str | None = None
    ) -> list[Reply]:
        text = text[:MAX_TEXT]
        if not text.strip():
            return self.notice("empty")
        if text.startswith("/"):
            command, _, rest = text[1:].partition(" ")
            if command.split("@", 1)[0].lower() == "start":
                return self._start(s, rest.strip() or None)
            return self._command(s, command, fx)
        if not has_letters_or_digits(text):
            return self.notice("emoji_only")
        if s.state == "handoff_contact":
            phone = normalise_phone(text)
            if phone is None:
                return self.notice("bad_phone")
            return self._handoff(s, phone, event_name, fx)
        picked = self._typed_candidate(s, text)
        if picked is not None:
            return self._choice(s, picked, fx)
        screen = self._reading_screen(s)
        readings = self.reader.read(text, screen)
        chosen = choose(readings, screen)
        log.debug(
            "reading in %s: %s %s (%s); candidates: %s",
            s.state,
            chosen.kind,
            chosen.value or "-",
            chosen.evidence,
            readings.summary(),
        )
        self._keep_facts(s, readings, screen)
        return self._act(s, text, chosen, readings, fx)

    # Questions whose answer can be typed, by state.
    def _question_id(self, state: str, s: Session | None = None) -> str | None:
        if state.startswith("fit_") and state != "fit_result":
            return state.removeprefix("fit_")
        if state == "fact_confirm" and s is not None:
            return str(s.data.get("confirm", "")) or None
        return {"where_situation": "situation", "where_disability": "disability"}.get(state)

    def _choices(self, s: Session) -> list[Button]:
        """The buttons of the current screen, in the order shown."""
        return [b for reply in self.screen(s) for b in reply.choices()]

    def _reading_screen(self, s: Session) -> Screen:
        """What the person sees, for reading what they type against it."""
        qid = self._question_id(s.state, s)
        q = self.k.question(qid) if qid else None
        said = s.data.get("said", {}).get(qid) if q is not None else None
        return Screen(
            s.state,
            tuple(self._choices(s)),
            q,
            said if q is not None and q.option(str(said)) else None,
        )

    def _keep_facts(self, s: Session, readings: Readings, screen: Screen) -> None:
        """Facts a person states about themself ("je suis au chômage") are kept aside,
        unconfirmed: they are asked back with their question before anything uses them."""
        said = dict(s.data.get("said", {}))
        for r in readings.facts():
            asked = screen.question is not None and screen.question.id == r.question
            if r.question and r.question not in s.answers and not asked:
                said[r.question] = r.value
        if said:
            s.data["said"] = said

    def _act(
        self, s: Session, text: str, chosen: Reading, readings: Readings, fx: _Effects
    ) -> list[Reply]:
        """Do what the chosen reading means (see dialogs.reading.choose for the policy)."""
        kind = chosen.kind
        if kind in ("option", "answer", "unsay"):
            return self._choice(s, chosen.value, fx)
        if kind == "dont_know" and chosen.value == "place_help":
            national = next((o for o in self.k.organisations if o.id == "mon_cep"), None)
            return self._render(
                "where_problem.j2",
                self._context(s),
                problem="dont_know",
                text="",
                national=national,
            )
        if kind == "dont_know" and chosen.value == "skip":
            return self._choice(s, "skip", fx)
        if kind in ("dont_know", "repeat"):
            return self._repeat_question(s)
        if kind == "navigation":
            return self._navigate(s, chosen.value, fx)
        if kind == "place" and chosen.place is not None:
            return self._place_anywhere(s, text, chosen.place)
        if kind == "handoff":
            self._leave_for_place(s)
            self.machine.fire(s, "recap")
            return self.screen(s)
        if s.state == "where_ask" and kind not in ("faq", "subject"):
            return self._place(s, text)  # says what was wrong with the place typed
        if kind == "subject":
            subject = next((x for x in self.k.subjects if x.id == chosen.value), None)
            return self._render(
                "small_talk.j2",
                self._context(s),
                kind="subject",
                subject=subject,
                in_ask=s.state == "ask",
            )
        if kind == "fact":
            faq = readings.first("faq")
            return self._ask_fact(s, chosen, faq.value if faq else None)
        if kind == "offer" and not chosen.topics:
            suggestions = self.matcher.ranked(text)
            return self._render(
                "not_understood.j2",
                self._context(s),
                suggestions=suggestions,
                misses=0,
                in_ask=s.state == "ask",
            )
        return self._question(s, text)

    def _repeat_question(self, s: Session) -> list[Reply]:
        """The question again, with its line of help: a typed answer that is none of its
        options is never read as another question's answer or as a FAQ question."""
        qid = self._question_id(s.state, s)
        q = self.k.question(qid) if qid else None
        replies = self.screen(s)
        if q is None or not q.help:
            return replies
        return [Reply(f"💡 {q.help}"), *replies]

    def _ask_fact(self, s: Session, fact: Reading, faq_id: str | None) -> list[Reply]:
        """A fact stated alone ("je cherche un emploi"): asked back with its question and
        its options before it is used; the FAQ answer that fits the message (if any) comes
        once it is confirmed."""
        if fact.question in s.answers or self.k.question(str(fact.question)) is None:
            return (
                self._question_text_fallback(s)
                if faq_id is None
                else self._choice(s, f"faq:{faq_id}", _Effects())
            )
        s.data.setdefault("said", {})[str(fact.question)] = fact.value
        s.data["confirm"] = fact.question
        if faq_id:
            s.data["confirm_faq"] = faq_id
        self.machine.fire(s, "fact")
        return self.screen(s)

    def _question_text_fallback(self, s: Session) -> list[Reply]:
        s.data["miss"] = s.data.get("miss", 0) + 1
        return self._render(
            "not_understood.j2",
            self._context(s),
            suggestions=(),
            misses=s.data["miss"],
            in_ask=s.state == "ask",
        )

    def _leave_for_place(self, s: Session) -> None:
        """Remember the screen a place was typed on, for "Reprendre où j'en étais"."""
        aside = self.machine.aside_states
        if s.state not in PLACE_SCREENS and s.state not in aside:
            s.data["place_from"] = s.state
        elif s.state in aside and s.data.get("return"):
            s.data["place_from"] = s.data["return"]

    def _place_anywhere(self, s: Session, text: str, found: geography.LookupResult) -> list[Reply]:
        """A place typed on any screen: confirmed, then on into the hand-off."""
        if s.state in ("where_pick", "where_confirm"):
            self.machine.fire(s, "retry")
        elif s.state != "where_ask":
            self._leave_for_place(s)
            self.machine.fire(s, "where")
        return self._place(s, text, found)

    def _navigate(self, s: Session, action: str, fx: _Effects) -> list[Reply]:
        """Typed navigation words: menu, retour, reprendre, recommencer, aide."""
        if action == "restart":
            return self._command(s, "recommencer", fx)
        if action == "resume":
            return self._resume(s)
        if action == "back" and self.machine.can(s, "back"):
            return self._choice(s, "back", fx)
        if action == "back":
            return self._resume(s)
        if action == "simpler":
            return self._simpler(s)
        return self._choice(s, action, fx)

    def _simpler(self, s: Session) -> list[Reply]:
        """«Je comprends pas»: the current screen said again, shorter (its first sentences
        and its question), with its buttons, voice and a person offered. Never "je n'ai pas
        compris": the person did nothing wrong."""
        shown = self.screen(s)
        buttons = [b for r in shown for row in r.buttons for b in row]
        return self._render(
            "simpler.j2",
            self._context(s),
            short=shorter([r.text for r in shown if not r.voice]),
            buttons=buttons,
            person=not s.state.startswith(("where", "recap", "handoff")),
        )

    def _question(self, s: Session, text: str) -> list[Reply]:
        match = self.matcher.match(text)
        in_ask = s.state == "ask"
        if match.kind == "faq":
            s.data.pop("miss", None)
            return self._faq_answer(s, match.entry, in_ask=in_ask, also=match.also)
        if match.kind == "unsure":  # close topics: let the person choose
            return self._render(
                "not_understood.j2",
                self._context(s),
                suggestions=match.suggestions,
                misses=0,
                in_ask=in_ask,
            )
        if match.kind != "none":
            s.data.pop("miss", None)
            return self._render("small_talk.j2", self._context(s), kind=match.kind, in_ask=in_ask)
        s.data["miss"] = s.data.get("miss", 0) + 1
        return self._render(
            "not_understood.j2",
            self._context(s),
            suggestions=match.suggestions,
            misses=s.data["miss"],
            in_ask=in_ask,
        )

    def _faq_answer(
        self, s: Session, entry: Any, in_ask: bool, also: tuple[Any, ...] = ()
    ) -> list[Reply]:
        """An answer the person may want to read again: the next screen comes below it.
        `also`: the other topics a long message touches, offered as buttons."""
        s.data["keep"] = True
        return self._render(
            "faq_answer.j2", self._context(s), entry=entry, in_ask=in_ask, also=also
        )

    def _typed_candidate(self, s: Session, text: str) -> str | None:
        """At the list of communes, typing one of their names picks it."""
        if s.state != "where_pick":
            return None
        wanted = geography.name_key(text)
        names = [geography.name_key(c.get("c") or "") for c in s.data.get("candidates", [])]
        return f"pick:{names.index(wanted)}" if wanted and names.count(wanted) == 1 else None

    def _place(
        self, s: Session, text: str, result: geography.LookupResult | None = None
    ) -> list[Reply]:
        """Postal codes and commune names first; anything else may be a question."""
        result = result or geography.lookup(text)
        if not result.places:
            if result.problem == "unknown_name":
                match = self.matcher.match(text)
                if match.kind == "faq":
                    return self._faq_answer(s, match.entry, in_ask=False)
            words = len(fold(text).split())
            problem = (
                "not_a_place"
                if result.problem == "unknown_name" and words >= 3
                else (result.problem)
            )
            return self._render(
                "where_problem.j2", self._context(s), problem=problem, text=text[:40]
            )
        s.data["candidates"] = [
            {"c": p.commune, "d": p.departement, "p": p.postal_code, "i": p.insee}
            for p in result.places
        ]
        s.data.pop("page", None)
        self.machine.fire(s, "place")
        return self.screen(s)

    def _location(self, s: Session, value: str) -> list[Reply]:
        """A shared position: the nearest town, to confirm. Coordinates are not kept."""
        try:
            latitude, longitude = (float(x) for x in value.split(","))
        except ValueError:
            return self.notice("location")
        if s.state != "where_ask" and not self.machine.fire(s, "where"):
            return self.notice("location")
        place = geography.nearest(latitude, longitude)
        if place is None:
            return self._render("where_problem.j2", self._context(s), problem="far", text="")
        s.data["candidates"] = [{"c": place.commune, "d": place.departement, "p": None, "n": True}]
        self.machine.fire(s, "place")
        return self.screen(s)

    def _handoff(self, s: Session, phone: str, first_name: str | None, fx: _Effects) -> list[Reply]:
        if self._place_of(s) is None or "handoff_to" not in s.data:
            return self.screen(s)  # a stored session missing its place: repaired, no note
        target = s.data.get("handoff_to", "")
        named = self._named(s, self._place_of(s))
        organisation = named.adviser.shown_name if named and target else ""
        self.machine.fire(s, "contact")
        ctx = self._context(s)
        to_adviser = self._render(
            "handoff_adviser.j2",
            ctx,
            phone=phone,
            first_name=(first_name or "")[:40],
            referral=s.referral,
        )
        fx.notes.append(
            AdviserNote(
                "\n\n".join(r.text for r in to_adviser),
                adviser=target or "",
                organisation=organisation,
            )
        )
        return self.screen(s)

    def _named(self, s: Session, place: geography.Place | None) -> NamedAdviser | None:
        """The adviser named on this person's recap (link, commune, département), among
        those whose chat did not refuse the bot (`advisers_blocked`)."""
        blocked = self.advisers_blocked()
        advisers = (
            tuple(a for a in self.advisers if a.code not in blocked) if blocked else self.advisers
        )
        return select_adviser(advisers, s.referral, place, s.user)

    def another_adviser(self, s: Session, instead_of: str) -> Adviser | None:
        """An adviser of the person's area, other than `instead_of`, who takes requests and
        can be written to: where a request goes when the named adviser's chat refuses it
        and there is no shared advisers' chat."""
        blocked = self.advisers_blocked()
        others = tuple(
            a
            for a in self.advisers
            if a.code != instead_of
            and a.handoff
            and a.code not in blocked
            and self.adviser_reachable(a.code)
        )
        named = select_adviser(others, None, self._place_of(s), s.user)
        return named.adviser if named else None

    def _recap_target(self, s: Session, named: NamedAdviser | None) -> None:
        """Who would receive a contact request: the named adviser when they opened the bot
        and take requests, else the shared advisers' chat, else nobody (no button)."""
        if named and named.adviser.handoff and self.adviser_reachable(named.adviser.code):
            s.data["handoff_to"] = named.adviser.code
        elif self.handoff_enabled:
            s.data["handoff_to"] = ""
        else:
            s.data.pop("handoff_to", None)

    # --- rendering ------------------------------------------------------------------------

    def _render(self, template: str, ctx: dict[str, Any], **extra: Any) -> list[Reply]:
        return rendering.render(self.env, template, **ctx, **extra)

    @property
    def command_menu(self) -> tuple[tuple[str, str], ...]:
        """(command, description) for the channel's command menu (screens.yaml)."""
        return self.vocabulary.menu

    def channel_text(self, kind: str, **values: Any) -> Reply:
        """Words a channel shows around the conversation (templates/channel.j2)."""
        return self._render("channel.j2", {}, kind=kind, **values)[0]

    def notice(self, kind: str, **extra: Any) -> list[Reply]:
        return self._render(
            "notice.j2", {"k": self.k, "handoff": self.handoff_enabled}, kind=kind, **extra
        )

    def topic_label(self, topic: str) -> str:
        return str(self._macros.topic_label(topic, self.k)).strip()

    def _context(self, s: Session) -> dict[str, Any]:
        place = self._place_of(s)
        return {
            "k": self.k,
            "s": s.data,
            "answers": s.answers,
            "state": s.state,
            "handoff": self.handoff_enabled,
            "retention_days": self.retention_days,
            "tour": self.k.discover_tour,
            "place": place,
            "candidates": [self._to_place(c) for c in s.data.get("candidates", [])],
            "fit": self.k.fit_result(s.answers) if s.state == "fit_result" else [],
            "contacts": self._contacts(s, place) if s.state in ("recap", "handoff_done") else None,
            "local": self._local(s, place) if s.state == "recap" else None,
            "named": (self._named(s, place) if s.state.startswith(("recap", "handoff")) else None),
            "cost": self._cost(s, place),
            "cost_is_personal": self._cost_is_personal(s, place),
            "topic_label": self.topic_label,
            "option_label": self._option_label,
        }

    def _cost(self, s: Session, place: geography.Place | None):
        """The person's cost line (knowledge/costs.py), once the bot knows their situation
        or where they live; None before (a FAQ answer then stays general)."""
        if not s.answers.get("situation") and place is None:
            return None
        return self.k.cost_for(s.answers, place.departement if place else None)

    def _cost_is_personal(self, s: Session, place: geography.Place | None) -> bool:
        """Whether the cost line says more than the general answer: a FAQ answer adds
        "Pour vous" only then (the general line under the general answer said it twice)."""
        return cost_key(s.answers, place.departement if place else None) != "other"

    def _option_label(self, question_id: str, option_id: str | None) -> str | None:
        q = self.k.question(question_id)
        opt = q.option(option_id) if q and option_id else None
        return opt.label if opt else None

    @staticmethod
    def _to_place(d: dict) -> geography.Place:
        return geography.Place(
            d.get("c"), d["d"], d.get("p"), near=bool(d.get("n")), insee=d.get("i")
        )

    def _place_of(self, s: Session) -> geography.Place | None:
        raw = s.data.get("place")
        return self._to_place(raw) if raw else None

    def _local(self, s: Session, place: geography.Place | None):
        if place is None:
            return None
        try:
            return select_local(
                self.local_directory,
                place,
                s.answers.get("situation"),
                s.answers.get("disability") == "yes",
            )
        except DirectoryUnavailable:  # national contacts, never "Oups" (the file is watched)
            return None

    def _contacts(self, s: Session, place: geography.Place | None):
        if place is None:
            return None
        return directory.select(
            self.k.organisations,
            place,
            s.answers.get("situation"),
            s.answers.get("disability") == "yes",
        )
