"""handle(session, event) -> Turn: the dialogue, channel-agnostic.

The engine interprets an event (command, button, typed text…), moves the session through
the shared state machine (dialogs/flow.py) and shows the screen it arrives at
(dialogs/views.py). Typed text is read by dialogs/reading.py against what the person sees
(dialogs/understanding.py); places and the hand-off are dialogs/places.py, answers to
questions dialogs/answers.py, facts heard in free text dialogs/facts.py; what the
templates see of a person is dialogs/context.py. Anything the engine does not expect gets
a short kind notice and a way forward; nothing raises to the channel. What a turn means
beyond its replies (a contact request, an erasure, a stage of the path reached) comes back
as data in the `Turn`, for the turn runner to apply; what it needs from storage comes in
(`Reach`), read by the channel before the turn.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from dialogs import render as rendering
from dialogs.answers import Answers
from dialogs.context import Contexts
from dialogs.facts import Facts
from dialogs.flow import Flow, TurnState
from dialogs.machine import PLACE_FLOW, ConversationMachine
from dialogs.model import Button, Event, Reach, Reply, Session, Turn
from dialogs.places import Places, candidates, place_name
from dialogs.reading import AGE_TOPIC, PLACE_SCREENS, Reader, Reading, Readings, choose
from dialogs.understanding import keep_facts, question_id, reading_screen, typed_candidate
from dialogs.views import Views, listen_choice, question_only, shorter
from knowledge.advisers import CODE_RE, Adviser
from knowledge.faq import FaqMatcher
from knowledge.loader import load_vocabulary
from knowledge.model import Knowledge
from knowledge.normalise import forget_texts
from knowledge.opendata import LocalDirectory
from knowledge.phone import normalise_phone
from knowledge.speech import load_said
from knowledge.text import has_letters_or_digits

__all__ = ["Engine", "parse_choice", "parse_payload", "shorter"]

log = logging.getLogger(__name__)

PAYLOAD_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_TEXT = 4096
# Topics, commands, deep-link codes and the screens kept, personal or counted as a stage of
# the path: knowledge/content/screens.yaml (Knowledge.vocabulary).


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


# FAQ readings chosen by a rule of dialogs/reading.py, not by the model's best topic: the
# topic is answered as chosen (the model, asked again, would hesitate).
BY_RULE = frozenset({"topic phrase", "situation named", "topic preferred"})


class Engine:
    """One per process: the machine, templates and matcher are built once."""

    def __init__(
        self,
        knowledge: Knowledge,
        handoff_enabled: bool = False,
        retention_days: int = 90,
        local_directory: LocalDirectory | None = None,
        advisers: tuple[Adviser, ...] = (),
        voice_enabled: bool = True,
        templates_dir: Path = rendering.TEMPLATES_DIR,
    ):
        """`handoff_enabled`: a shared advisers' chat receives contact requests.
        `local_directory`: the installed open-data directory of local offices; without
        it the hand-off stays national and says how to find the local office.
        `advisers`: the local network (CLEA_ADVISERS); whether each opened the bot comes
        with every turn (`Reach`).
        `voice_enabled`: the "🔊 Écouter" voice notes (CLEA_VOICE).
        `templates_dir`: the screens' templates (dialogs/templates)."""
        self.k = knowledge
        self.vocabulary = knowledge.vocabulary
        self.personal_screens = self.vocabulary.states_where("personal")
        self.keep_screens = self.vocabulary.states_where("keep")
        self.handoff_enabled = handoff_enabled
        self.advisers = advisers
        self.voice_enabled = voice_enabled
        self.machine = ConversationMachine(knowledge, handoff_enabled)
        self.contexts = Contexts(
            knowledge,
            handoff_enabled,
            retention_days,
            local_directory,
            advisers,
            topic_label=self.topic_label,
        )
        self.views = Views(
            knowledge,
            self.contexts,
            templates_dir,
            local_ready=local_directory is not None,
            voice_enabled=voice_enabled,
            said=load_said(),
            states=self.machine.states,
        )
        self.env = self.views.env
        self.said = self.views.said
        self.flow = Flow(self.machine, self.views, self.contexts)
        self.matcher = FaqMatcher(knowledge)
        self.reader = Reader(knowledge, self.matcher)
        self.places = Places(self.flow, self.matcher)
        self.answers = Answers(self.flow, self.matcher)
        self.facts = Facts(self.flow, self.answers)

    # --- public API -----------------------------------------------------------------------

    def handle(self, session: Session, event: Event, reach: Reach | None = None) -> Turn:
        """The turn of one event. `reach`: what storage knows of the advisers' chats, read
        by the channel before the turn (nobody reachable when not given)."""
        forget_texts()  # the last turn's typed text, cached while it was read
        session.updated = time.time()
        before = session.state
        keep_before = bool(session.data.pop("keep", False))
        started = bool(session.data.get("started"))
        if session.state not in self.machine.triggers_by_state:
            session.state = "menu"  # a state removed since this session was stored
        t = TurnState(reach or Reach(), over=session.data.pop("over", None))
        try:
            self.flow.arrive(session, t)  # a stored session that cannot be shown: repaired
            replies = self._dispatch(session, event, t)
        except Exception:
            log.exception("dialog error in state %s on a %s event", session.state, event.kind)
            replies, t = self.notice("error"), TurnState()
        if not replies:
            replies = self.notice("error")
        replies, remove_keyboard = self._finish(session, replies, before, keep_before)
        return Turn(
            replies,
            t.notes,
            self._reached(session, before, started),
            t.erase,
            remove_keyboard,
            keep_previous=keep_before,
        )

    def screen(self, session: Session, reach: Reach | None = None) -> list[Reply]:
        """The current state's screen, as shown after a transition: a stored session that
        cannot be shown in its state is repaired first (a replayed turn, checks, tests)."""
        t = TurnState(reach or Reach())
        self.flow.arrive(session, t)
        return self.flow.show(session, t)

    def another_adviser(self, s: Session, instead_of: str, reach: Reach) -> Adviser | None:
        """Where a request goes when the named adviser's chat refuses it and there is no
        shared advisers' chat (Contexts.another_adviser)."""
        return self.contexts.another_adviser(s, instead_of, reach)

    @property
    def command_menu(self) -> tuple[tuple[str, str], ...]:
        """(command, description) for the channel's command menu (screens.yaml)."""
        return self.vocabulary.menu

    def channel_text(self, kind: str, **values: Any) -> Reply:
        """Words a channel shows around the conversation (templates/channel.j2)."""
        return self.views.channel_text(kind, **values)

    def notice(self, kind: str, **extra: Any) -> list[Reply]:
        return self.views.notice(kind, **extra)

    def topic_label(self, topic: str) -> str:
        return self.views.topic_label(topic)

    def _voice_of(self, replies: list[Reply], personal: bool = False) -> Reply:
        return self.views.voice_of(replies, personal)

    # --- the end of a turn ----------------------------------------------------------------

    def _finish(
        self, s: Session, replies: list[Reply], before: str, keep_before: bool
    ) -> tuple[list[Reply], bool]:
        """What the replies of any turn get: the screen kept or not, the native keyboard
        removed, the voice note when "always read aloud" is on."""
        if s.state not in PLACE_FLOW and s.state not in self.machine.aside_states:
            s.data.pop("place_from", None)  # the place and hand-off left for another screen
            s.data.pop("wants_call", None)
        if all(r.voice for r in replies):  # a voice note: the screen shown stays
            s.data.pop("keep", None)
            if keep_before:
                s.data["keep"] = True
        elif s.state in self.keep_screens:
            s.data["keep"] = True
        native = any(r.request for r in replies)
        remove_keyboard = bool(s.data.pop("native", False)) and not native and s.state != before
        if native:
            s.data["native"] = True
        if remove_keyboard and all(r.buttons or r.request for r in replies):
            replies = rendering.lead_apart(replies)  # a plain message removes the keyboard
        if (
            s.data.get("voice")
            and self.voice_enabled
            and not any(r.voice for r in replies)
            and any(r.text.strip() for r in replies)
        ):
            # "Always read aloud" is on: every screen the person reaches is also heard,
            # the fit questions and "Où habitez-vous ?" included.
            replies = [*replies, self._voice_of(replies, personal=self._personal(s, replies))]
        return replies, remove_keyboard

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

    def _personal(self, s: Session, replies: list[Reply]) -> bool:
        """A screen that says something about the person (their town, their answers, the
        words they typed, their cost line): its note is cached apart."""
        return (
            s.state in self.personal_screens
            or s.state.startswith(("where", "handoff"))
            or any("Pour vous" in r.text for r in replies)
        )

    def _listen(self, s: Session, t: TurnState, arg: str | None) -> list[Reply]:
        """The current screen (or a FAQ answer) as a voice note; the screen stays."""
        if not self.voice_enabled:
            return self.notice("stale")
        if arg and arg.startswith("faq:"):
            entry = self.matcher.by_id.get(arg[4:])
            if entry is None:
                return self.notice("stale")
            return [
                self._voice_of(self.flow.page("faq_answer.j2", s, t, entry=entry, in_ask=False))
            ]
        shown = self.flow.show(s, t)
        if listen_choice(shown) is None:
            return self.notice("stale")
        return [self._voice_of(shown, personal=s.state in self.personal_screens)]

    # --- dispatch -------------------------------------------------------------------------

    def _dispatch(self, s: Session, e: Event, t: TurnState) -> list[Reply]:
        # "Reprendre" offered on a returning person's welcome is valid for one event only.
        left_at = s.data.pop("continue", None)
        if e.kind == "choice" and e.value == "continue":
            if left_at in self.machine.triggers_by_state:
                self.flow.jump(s, t, left_at)
                return self.flow.show(s, t)
            return self.notice("stale")
        if e.kind == "start":
            return self._start(s, t, e.payload)
        if e.kind == "choice":
            return self._choice(s, t, e.value)
        if e.kind == "text":
            return self._text(s, t, e.value, e.first_name)
        if e.kind == "contact":
            if s.state == "handoff_contact":
                phone = normalise_phone(e.value)
                if phone is None:  # a forged or malformed contact: no hand-off without it
                    return self.notice("bad_phone")
                return self.places.handoff(s, t, phone, e.first_name, s.referral)
            return self.notice("contact_not_needed")
        if e.kind == "location":
            return self.places.location(s, t, e.value)
        if e.kind == "edited":
            return self.notice("edited")
        if e.kind == "voice":  # a voice message: the bot cannot listen yet; say so aloud
            replies = self.notice("voice_message")
            if self.voice_enabled:
                replies = [*replies, self._voice_of(replies)]
            return replies
        return self.notice("unsupported")

    def _start(self, s: Session, t: TurnState, payload: str | None) -> list[Reply]:
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
        replies = self.flow.page(
            "welcome.j2",
            s,
            t,
            returning=returning,
            bad_payload=bool(payload) and not (referral or topic),
        )
        if topic:
            name, arg = parse_choice(topic, self.vocabulary.aliases)
            self.flow.go(s, t, name, *([arg] if arg else []))
            return rendering.join(replies[:-1] + [Reply(replies[-1].text)], self.flow.show(s, t))
        self.flow.go(s, t, "menu")
        return self._offer_voice(s, rendering.join(replies, self.flow.show(s, t)))

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

    def _command(self, s: Session, t: TurnState, name: str) -> list[Reply]:
        """A /command of screens.yaml: it opens its topic or does its action."""
        name = name.split("@", 1)[0]
        command = self.vocabulary.commands_by_name.get(name)
        if command is None:
            return self.notice("unknown_command", command=name[:30])
        if command.topic is not None:
            return self._choice(s, t, command.topic)
        if command.action == "start":
            return self._start(s, t, None)
        if command.action == "restart":
            s.answers.clear()
            s.data = {k: v for k, v in s.data.items() if k == "started"}
            self.flow.go(s, t, "menu")
            return rendering.join(self.notice("restarted"), self.flow.show(s, t))
        if command.action == "voice":  # "always read aloud", on or off
            return self._choice(s, t, "voice_off" if s.data.get("voice") else "voice_on")
        # "request": where the person's contact request stands
        return self.flow.page("request_status.j2", s, t, request=s.data.get("request"))

    def _choice(self, s: Session, t: TurnState, choice: str) -> list[Reply]:
        name, arg = parse_choice(choice[:64], self.vocabulary.aliases)
        if name == "resume":
            return self.flow.resume_pressed(s, t)
        if name == "listen":
            return self._listen(s, t, arg)
        if name == "voice_on" and not self.voice_enabled:  # no promise the bot cannot keep
            return self.notice("voice_unavailable")
        if name in ("voice_on", "voice_off"):
            s.data["voice"] = name == "voice_on"
            if name == "voice_on":  # said at once: the notice, then the screen, aloud
                return self.notice(name) + self.flow.show(s, t)
            return self.notice(name)
        if name == "faq":  # a topic chosen from "Vouliez-vous parler de…"
            return self.answers.chosen(s, t, arg or "") or self.notice("stale")
        if name == "unsay":  # "Non" to "Vous m'avez dit… C'est bien ça ?"
            return self.facts.unsay(s, t)
        if name == "answer" and s.state == "fact_confirm":
            return self.facts.confirm(s, t, arg)
        if name == "forget_yes" and s.state == "forget_confirm":
            t.erase = True
            s.state, s.answers, s.data, s.referral = "menu", {}, {}, None
            return self.notice("forgotten")
        if name == "forget_no" and s.state == "forget_confirm":
            return self.flow.resume(s, t)
        if name == "call":  # "🙋 Parler à une personne": the recap says how to reach one
            return self.places.to_recap(s, t, call=True)
        if name == "where":
            name, shown = self._where(s, t)
            if shown is not None:
                return shown
        return self._go(s, t, name, arg)

    def _go(self, s: Session, t: TurnState, name: str, arg: str | None) -> list[Reply]:
        """A button's event fired, and the screen it leads to (a place confirmed: see
        Places.confirmed); "stale" when the button belongs to another screen."""
        before = s.state
        if not self.flow.go(s, t, name, *([arg] if arg is not None else [])):
            return self.notice("stale")
        s.data.pop("miss", None)
        if before == "where_confirm":
            return self.places.confirmed(s, t)
        return self.flow.show(s, t)

    def _where(self, s: Session, t: TurnState) -> tuple[str, list[Reply] | None]:
        """ "Qui contacter ?": the transition to take, or the screen already shown."""
        if s.state != "menu":
            # "Qui contacter ?" from a screen or a page over it: the way back stays.
            self.places.leave_for_place(s)
        if s.state in PLACE_SCREENS:
            return "where", None
        if s.data.get("place"):
            # A place already confirmed: on to what is still to ask, or the recap; never
            # "Où habitez-vous ?" again (a typed postal code still changes it).
            return "recap", None
        heard = s.data.pop("heard_place", None)
        if heard and self.flow.go(s, t, "where"):
            # A place told with an earlier question: "C'est bien là ?", not "Où habitez-vous ?".
            s.data["candidates"] = heard
            s.data.pop("page", None)
            self.flow.go(s, t, "place")
            return "where", self.flow.show(s, t)
        return "where", None

    # --- typed text -----------------------------------------------------------------------

    def _text(self, s: Session, t: TurnState, text: str, first_name: str | None) -> list[Reply]:
        text = text[:MAX_TEXT]
        if not text.strip():
            return self.notice("empty")
        if text.startswith("/"):
            command, _, rest = text[1:].partition(" ")
            if command.split("@", 1)[0].lower() == "start":
                return self._start(s, t, rest.strip() or None)
            return self._command(s, t, command)
        if not has_letters_or_digits(text):
            if set(text.strip()) <= set("?¿ "):  # "?", "???": "what?", the screen said simpler
                return self._simpler(s, t)
            return self.notice("emoji_only")
        if s.state == "handoff_contact":
            phone = normalise_phone(text)
            if phone is None:
                return self.notice("bad_phone")
            return self.places.handoff(s, t, phone, first_name, s.referral)
        picked = typed_candidate(s, text)
        if picked is not None:
            return self._choice(s, t, picked)
        screen = reading_screen(self.k, s, self.flow.buttons(s, t))
        readings = self.reader.read(text, screen)
        chosen = choose(readings, screen)
        log.debug(
            "reading in %s: %s %s (%s); candidates: %s",
            s.state,
            chosen.kind,
            chosen.logged_value,
            chosen.evidence,
            readings.summary(),
        )
        keep_facts(s, readings, screen)
        return self._act(s, t, text, chosen, readings)

    def _act(
        self, s: Session, t: TurnState, text: str, chosen: Reading, readings: Readings
    ) -> list[Reply]:
        """Do what the chosen reading means (see dialogs.reading.choose for the policy)."""
        kind = chosen.kind
        if kind in ("option", "answer", "unsay"):
            return self._choice(s, t, chosen.value)
        if kind == "dont_know":
            return self._dont_know(s, t, chosen.value)
        if kind == "repeat":
            return self._repeat_question(s, t)
        if kind == "navigation":
            return self._navigate(s, t, chosen.value)
        if kind in ("place", "town") and chosen.place is not None:
            return self.places.anywhere(s, t, text, chosen.place)
        if kind == "handoff":
            return self.places.to_recap(s, t, call=chosen.value == "call")
        if kind == "ack":
            return self._acknowledged(s, t)
        if kind == "phone":
            return self._phone_typed(s, t)
        if s.state == "where_ask" and kind not in ("faq", "subject"):
            return self.places.typed(s, t, text)  # says what was wrong with the place typed
        if kind == "subject":
            subject = next((x for x in self.k.subjects if x.id == chosen.value), None)
            return self.flow.page(
                "small_talk.j2", s, t, kind="subject", subject=subject, in_ask=s.state == "ask"
            )
        if kind == "age":
            return self.answers.topics(s, t, chosen.value, chosen.topics) or self.notice("stale")
        if kind == "fact":
            faq = readings.first("faq")
            # An age: once the situation is known, the topic about age answers it.
            fallback = AGE_TOPIC if chosen.evidence == "age" else None
            return self.facts.ask(s, t, chosen, faq.value if faq else fallback)
        if kind == "offer" and not chosen.topics:
            return self.answers.offer(s, t, text)
        return self._answer(s, t, text, chosen, readings)

    def _answer(
        self, s: Session, t: TurnState, text: str, chosen: Reading, readings: Readings
    ) -> list[Reply]:
        """A question answered; a place told with it is kept, unconfirmed, for "Qui
        contacter ?" (dialogs.reading: rule 3)."""
        if chosen.kind == "faq" and chosen.evidence in BY_RULE:
            # A topic named by a rule, not by the model: that topic, the others offered.
            return self.answers.topics(s, t, chosen.value, chosen.topics) or self.notice("stale")
        if chosen.kind == "small_talk":
            # By the reading's value: "Bonjour Madame" is a greeting by rule, although
            # the model alone finds nothing in it.
            return self.answers.small_talk(s, t, chosen.value)
        if chosen.kind == "faq":
            # By the chosen topic's id, never by matching the text again: the policy may
            # have chosen another topic than the model's first.
            place = None
            heard = readings.first("place")
            if heard is not None and heard.place is not None:
                s.data["heard_place"] = candidates(heard.place)
                place = place_name(heard.place)
            shown = self.answers.by_id(s, t, text, chosen.value, place=place)
            return shown if shown is not None else self.answers.question(s, t, text, place=place)
        return self.answers.question(s, t, text)

    def _dont_know(self, s: Session, t: TurnState, value: str) -> list[Reply]:
        """ "je sais pas": the question's "Je préfère ne pas répondre", help for the place,
        a kind line over a screen that asks nothing, or the question again with its help."""
        if value == "place_help":
            return self.places.dont_know(s, t)
        if value == "skip":
            return self._choice(s, t, "skip")
        if value == "screen_help":
            return self._with_line(s, t, "dont_know_screen")
        return self._repeat_question(s, t)

    def _acknowledged(self, s: Session, t: TurnState) -> list[Reply]:
        """ "ok", "super" where nothing is asked: the screen the person is on, under "👍
        D'accord." (one message); no miss is counted."""
        return self._with_line(s, t, "ack")

    def _with_line(self, s: Session, t: TurnState, kind: str) -> list[Reply]:
        """The screen the person is on, under one line of notice.j2 (one message); no miss
        is counted ("ok": "👍 D'accord."; "jsp" at the menu: touch a button)."""
        s.data.pop("miss", None)
        return self._under_line(self.flow.show(s, t), kind)

    def _under_line(self, shown: list[Reply], kind: str) -> list[Reply]:
        """`shown` with one line of notice.j2 on top of its first message; the line alone
        when nothing is shown."""
        line = self.notice(kind)
        if not shown:
            return line
        return [replace(shown[0], text=f"{line[0].text}\n\n{shown[0].text}"), *shown[1:]]

    def _phone_typed(self, s: Session, t: TurnState) -> list[Reply]:
        """A phone number typed where none is asked: it is not kept (a number is taken only
        with the person's consent, at "Être recontacté"). Where that is offered, its consent
        comes; elsewhere, the way to a contact."""
        if self.flow.can(s, "handoff") and self.flow.go(s, t, "handoff"):
            return self._under_line(self.flow.show(s, t), "phone_not_kept")
        return self.notice("phone_typed")

    def _repeat_question(self, s: Session, t: TurnState) -> list[Reply]:
        """The question again, with its line of help: a typed answer that is none of its
        options is never read as another question's answer or as a FAQ question."""
        qid = question_id(s.state, s)
        q = self.k.question(qid) if qid else None
        replies = self.flow.show(s, t)
        if q is None or not q.help:
            return replies
        return [Reply(f"💡 {q.help}"), *replies]

    def _navigate(self, s: Session, t: TurnState, action: str) -> list[Reply]:
        """Typed navigation words: menu, retour, reprendre, recommencer, aide."""
        if action == "restart":
            return self._command(s, t, "recommencer")
        if action == "resume":
            return self.flow.resume_pressed(s, t)
        if action == "back" and self.flow.can(s, "back"):
            return self._choice(s, t, "back")
        if action == "back" and (
            s.state in self.machine.aside_states
            or (s.state in PLACE_FLOW and s.data.get("place_from"))
        ):
            return self.flow.resume(s, t)
        if action == "back":
            # Nothing before this screen (the first step of "Les étapes"): the menu, not
            # the same screen again with no way out by typing.
            return self._choice(s, t, "menu") if s.state != "menu" else self.flow.show(s, t)
        if action == "simpler":
            return self._simpler(s, t)
        return self._choice(s, t, action)

    def _simpler(self, s: Session, t: TurnState) -> list[Reply]:
        """«Je comprends pas»: the current screen said again, shorter (its first sentences
        and its question), with its buttons, voice and a person offered. Never "je n'ai pas
        compris": the person did nothing wrong."""
        shown = self.flow.show(s, t)
        qid = question_id(s.state, s)
        q = self.k.question(qid) if qid else None
        short = shorter([r.text for r in shown if not r.voice])
        return self.flow.page(
            "simpler.j2",
            s,
            t,
            # A question is already short: its line of help says it more simply.
            help=q.help if q is not None else "",
            short=question_only(short) if q is not None and q.help else short,
            buttons=list(self.views.buttons(shown)),
            person=not s.state.startswith(("where", "recap", "handoff")),
        )
