"""The conversation map as ONE `transitions` state machine shared by every person.

The machine holds no model: each turn, the engine fires an event on the person's
`Session` directly (`machine.events[name].trigger(session, arg)`), so restoring a person
costs nothing more than reading their JSON. Navigation events ("go to the domains") are
valid from every state; answers ("I am a job seeker") only where they were asked, which is
how stale or forged buttons are told apart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from transitions import Event, Machine, Transition
from transitions import EventData as _EventData

from dialogs.model import Session
from knowledge.model import Knowledge, Question
from knowledge.vocabulary import Vocabulary

if TYPE_CHECKING:

    class EventData(_EventData):
        """For the type checker only: this machine drives Sessions, so `model` is one."""

        model: Session
else:
    EventData = _EventData

# The simple screens, the topics that open them from anywhere and the screens opened aside
# are declared in knowledge/content/screens.yaml (knowledge.vocabulary); the flows below
# (fit questions, the commune, the hand-off) are built here.
WHERE_STATES = [
    "where_ask",
    "where_pick",
    "where_confirm",
    "where_situation",
    "where_disability",
    "recap",
]
PAGE_SIZE = 8  # communes per screen at "Lequel est le vôtre ?"
HANDOFF_STATES = ["handoff_consent", "handoff_contact", "handoff_done"]
# From a typed place to the hand-off: the screen the place was typed on stays the way back
# ("Reprendre où j'en étais", session.data["place_from"]) on all of them.
PLACE_FLOW = frozenset(WHERE_STATES + HANDOFF_STATES)


def fit_state(question_id: str) -> str:
    return f"fit_{question_id}"


def _check_flows(vocabulary: Vocabulary, flows: dict[str, list[str]]) -> None:
    """A screen screens.yaml puts in a code-built flow must be one of that flow's screens."""
    for spec in vocabulary.screens:
        if spec.flow is None:
            continue
        if spec.screen is not None and spec.screen not in flows[spec.flow]:
            raise ValueError(
                f"screens.yaml : l'écran « {spec.screen} » n'est pas dans le parcours "
                f"« {spec.flow} » ({', '.join(flows[spec.flow])})"
            )
        if spec.screen is None and spec.flow != "fit":
            raise ValueError(f"screens.yaml : le sujet « {spec.topic} » n'a pas d'écran")


class ConversationMachine:
    """Builds the machine from the content (fit questions come from fit.yaml)."""

    def __init__(
        self,
        knowledge: Knowledge,
        handoff_enabled: bool = False,
        machine_cls: type[Machine] = Machine,
        navigation_from: str = "*",
        **machine_kwargs: Any,
    ):
        """`navigation_from`: source of the "go to" events; "*" (everywhere) for the real
        machine, "menu" to draw a readable map."""
        self.k = knowledge
        self.vocabulary = knowledge.vocabulary
        self.everywhere = navigation_from
        self.handoff_enabled = handoff_enabled
        self.fit_states = [fit_state(q.id) for q in knowledge.questions]
        # Screens opened aside: "Reprendre où j'en étais" goes back to the screen before them.
        self.aside_states = self.vocabulary.states_where("aside")
        flows = {
            "fact": ["fact_confirm"],
            "fit": [*self.fit_states, "fit_result"],
            "where": WHERE_STATES,
            "handoff": HANDOFF_STATES,
        }
        _check_flows(self.vocabulary, flows)
        states = [str(spec.screen) for spec in self.vocabulary.simple_screens] + [
            state for flow in flows.values() for state in flow
        ]
        self.machine = machine_cls(
            model=None,
            states=states,
            initial="menu",
            auto_transitions=False,
            send_event=True,
            **machine_kwargs,
        )
        self._add_navigation()
        self._add_fit()
        self._add_where()
        self._add_handoff()
        self.triggers_by_state = {s: frozenset(self.machine.get_triggers(s)) for s in states}
        self.states = states
        self._prepared = self._prepare()

    # --- building -------------------------------------------------------------------------

    def _add_navigation(self) -> None:
        """A "go to" event for every topic of screens.yaml, valid from every screen."""
        add = self.machine.add_transition
        setters = {
            "about": (self._valid_about, self._set_about),
            "domain": (self._valid_domain, self._set_domain),
            "step": (self._valid_step, self._set_step),
            "module": (self._valid_module, self._set_module),
        }
        for spec in self.vocabulary.screens:
            if spec.topic is None:
                continue
            before: list[str | Callable[..., bool | None]] = []
            conditions: list[str | Callable[..., bool | None]] = []
            if spec.argument is not None:
                condition, setter = setters[spec.argument]
                conditions.append(condition)
                before.append(setter)
            if spec.aside:
                before.append(self._remember_return)
            if spec.screen is None:  # a topic that opens the fit questions
                before.append(self._reset_fit)
            dest = spec.screen or self.fit_states[0]
            add(spec.topic, self.everywhere, dest, before=before, conditions=conditions)

    def _add_fit(self) -> None:
        add = self.machine.add_transition
        for i, state in enumerate(self.fit_states):
            nxt = self.fit_states[i + 1] if i + 1 < len(self.fit_states) else "fit_result"
            question = self.k.questions[i]
            add("answer", state, nxt, conditions=self._valid_answer, before=self._store_answer)
            if question.optional:
                add("skip", state, nxt, before=self._store_skip)
            add("back", state, self.fit_states[i - 1] if i else "menu")
        add("back", "fit_result", self.fit_states[-1])

    def _add_where(self) -> None:
        add = self.machine.add_transition
        add("place", "where_ask", "where_confirm", conditions=self._single_place)
        add("place", "where_ask", "where_pick")
        add(
            "pick",
            "where_pick",
            "where_confirm",
            conditions=self._valid_pick,
            before=self._store_pick,
        )
        add("more", "where_pick", "where_pick", conditions=self._has_more, before=self._next_page)
        add("retry", ["where_pick", "where_confirm"], "where_ask")
        # "Qui contacter ?" with a confirmed place goes to the recap: the recap's own
        # button is the way to give another place (not "retry": a typed "non" presses it).
        add("new_place", "recap", "where_ask")
        add(
            "yes",
            "where_confirm",
            "where_situation",
            unless=self._has_situation,
            before=self._confirm_place,
        )
        add(
            "yes",
            "where_confirm",
            "where_disability",
            unless=self._has_disability_answer,
            before=self._confirm_place,
        )
        add("yes", "where_confirm", "recap", before=self._confirm_place)
        add(
            "answer",
            "where_situation",
            "where_disability",
            conditions=self._valid_situation,
            unless=self._has_disability_answer,
            before=self._store_situation,
        )
        add(
            "answer",
            "where_situation",
            "recap",
            conditions=self._valid_situation,
            before=self._store_situation,
        )
        add(
            "answer",
            "where_disability",
            "recap",
            conditions=self._valid_disability,
            before=self._store_answer_for("disability"),
        )
        add("skip", "where_disability", "recap", before=self._store_skip_for("disability"))
        # A place already confirmed: the questions still to ask, then the recap.
        add(
            "recap",
            self.everywhere,
            "where_situation",
            conditions=self._has_place,
            unless=self._has_situation,
        )
        add(
            "recap",
            self.everywhere,
            "where_disability",
            conditions=self._has_place,
            unless=self._has_disability_answer,
        )
        add("recap", self.everywhere, "recap", conditions=self._has_place)
        add("recap", self.everywhere, "where_ask")

    def _add_handoff(self) -> None:
        add = self.machine.add_transition
        add(
            "handoff",
            ["recap", "handoff_done"],
            "handoff_consent",
            conditions=self._handoff_possible,
        )
        add("yes", "handoff_consent", "handoff_contact")
        add("no", "handoff_consent", "recap", before=self._note_refused)
        add("contact", "handoff_contact", "handoff_done", before=self._store_phone)
        add("no", "handoff_contact", "recap", before=self._note_refused)

    # --- firing ---------------------------------------------------------------------------

    def can(self, session: Session, trigger: str) -> bool:
        return trigger in self.triggers_by_state.get(session.state, ())

    def _prepare(self) -> dict[tuple[str, str], tuple[Event, tuple[Transition, ...]]]:
        """The machine's own transitions of each (event, state), looked up once. Firing
        one runs `Event.trigger`'s work minus what this machine does not use: no event
        queue, no machine-wide prepare/finalize/exception callbacks (checked here)."""
        m = self.machine
        unused = (m.has_queue, m.prepare_event, m.finalize_event, m.on_exception)
        if any(unused):
            raise ValueError("ConversationMachine.fire assumes no queue and no machine callbacks")
        return {
            (name, state): (event, tuple(transitions))
            for name, event in m.events.items()
            for state, transitions in event.transitions.items()
        }

    def fire(self, session: Session, trigger: str, *args: object) -> bool:
        """True when a transition happened. Unknown events return False, never raise.
        The first of the (event, state)'s transitions whose conditions hold is executed,
        as `Event.trigger` does, without its per-call lookups (a button turn's share of
        CPU)."""
        prepared = self._prepared.get((trigger, session.state))
        if prepared is None:
            return False
        event, transitions = prepared
        data = EventData(
            self.machine.get_state(session.state), event, self.machine, session, args, {}
        )
        for transition in transitions:
            data.transition = transition
            if transition.execute(data):
                data.result = True
                return True
        return False

    # --- callbacks (EventData.model is the Session) ----------------------------------------

    @staticmethod
    def _arg(e: EventData) -> str:
        args = tuple(e.args)
        return str(args[0]) if args else ""

    def _valid_about(self, e: EventData) -> bool:
        return self._arg(e) in self.k.about

    def _set_about(self, e: EventData) -> None:
        e.model.data["about"] = self._arg(e)

    def _valid_domain(self, e: EventData) -> bool:
        arg = self._arg(e)
        return arg.isdigit() and self.k.domain(int(arg)) is not None

    def _set_domain(self, e: EventData) -> None:
        e.model.data["domain"] = int(self._arg(e))

    def _valid_step(self, e: EventData) -> bool:
        arg = self._arg(e) or "0"
        return arg.isdigit() and int(arg) < len(self.k.procedure)

    def _set_step(self, e: EventData) -> None:
        """The step shown, and the steps the person came through to it ("step_path"): its
        "Retour" goes to the step they actually saw before (after "Le jury", reached by
        "Suivant" through the training, the final evaluation, not the branch point)."""
        step = int(self._arg(e) or 0)
        path = (
            [int(x) for x in e.model.data.get("step_path", [])] if e.model.state == "step" else []
        )
        path = path[: path.index(step)] if step in path else path
        e.model.data["step"] = step
        e.model.data["step_path"] = [*path, step][-len(self.k.procedure) :]

    def _valid_module(self, e: EventData) -> bool:
        return self.k.module(self._arg(e)) is not None

    def _set_module(self, e: EventData) -> None:
        e.model.data["module"] = self._arg(e)

    def _remember_return(self, e: EventData) -> None:
        """Keep where the person was, so "Reprendre où j'en étais" brings them back."""
        current = e.model.state
        if current not in self.aside_states:
            e.model.data["return"] = current

    def _reset_fit(self, e: EventData) -> None:
        e.model.answers.clear()

    def _question_of(self, state: str) -> Question | None:
        return self.k.question(state.removeprefix("fit_"))

    def _asked(self, e: EventData) -> Question:
        """The question of the fit state being left: fit states are made from the questions."""
        q = self._question_of(e.model.state)
        assert q is not None, e.model.state
        return q

    def _valid_answer(self, e: EventData) -> bool:
        q = self._question_of(e.model.state)
        return q is not None and q.option(self._arg(e)) is not None

    def _store_answer(self, e: EventData) -> None:
        q = self._asked(e)
        e.model.answers[q.id] = self._arg(e)
        e.model.data.get("said", {}).pop(q.id, None)

    def _store_skip(self, e: EventData) -> None:
        q = self._asked(e)
        e.model.answers.pop(q.id, None)
        e.model.data.setdefault("skipped", [])
        if q.id not in e.model.data["skipped"]:
            e.model.data["skipped"].append(q.id)

    def _store_answer_for(self, question_id: str) -> Callable[[EventData], None]:
        def store(e: EventData) -> None:
            e.model.answers[question_id] = self._arg(e)
            e.model.data.get("said", {}).pop(question_id, None)

        return store

    def _store_skip_for(self, question_id: str) -> Callable[[EventData], None]:
        def store(e: EventData) -> None:
            e.model.answers.pop(question_id, None)
            skipped = e.model.data.setdefault("skipped", [])
            if question_id not in skipped:
                skipped.append(question_id)

        return store

    def _valid_situation(self, e: EventData) -> bool:
        q = self.k.question("situation")
        return q is not None and q.option(self._arg(e)) is not None

    def _store_situation(self, e: EventData) -> None:
        e.model.answers["situation"] = self._arg(e)
        e.model.data.get("said", {}).pop("situation", None)

    def _valid_disability(self, e: EventData) -> bool:
        q = self.k.question("disability")
        return q is not None and q.option(self._arg(e)) is not None

    def _has_situation(self, e: EventData) -> bool:
        return "situation" in e.model.answers

    def _has_disability_answer(self, e: EventData) -> bool:
        return "disability" in e.model.answers or "disability" in e.model.data.get("skipped", [])

    def _single_place(self, e: EventData) -> bool:
        return len(e.model.data.get("candidates", [])) == 1

    def _valid_pick(self, e: EventData) -> bool:
        arg = self._arg(e)
        return arg.isdigit() and int(arg) < len(e.model.data.get("candidates", []))

    def _has_more(self, e: EventData) -> bool:
        page: int = e.model.data.get("page", 0)
        return (page + 1) * PAGE_SIZE < len(e.model.data.get("candidates", []))

    def _next_page(self, e: EventData) -> None:
        e.model.data["page"] = e.model.data.get("page", 0) + 1

    def _store_pick(self, e: EventData) -> None:
        e.model.data.pop("page", None)
        candidates = e.model.data["candidates"]
        e.model.data["candidates"] = [candidates[int(self._arg(e))]]

    def _confirm_place(self, e: EventData) -> None:
        e.model.data["place"] = e.model.data.pop("candidates")[0]

    def _has_place(self, e: EventData) -> bool:
        return bool(e.model.data.get("place"))

    def _handoff_possible(self, e: EventData) -> bool:
        """Someone can receive the request: decided on arrival at the recap (Flow.arrive,
        Contexts.recap_target)."""
        return bool(e.model.data.get("place")) and "handoff_to" in e.model.data

    def _note_refused(self, e: EventData) -> None:
        e.model.data["handoff"] = "refused"

    def _store_phone(self, e: EventData) -> None:
        e.model.data["handoff"] = "sent"
