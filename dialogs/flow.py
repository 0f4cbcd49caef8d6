"""Moving a session through the machine, and showing where it arrived.

Every change of state goes through `Flow.go` (an event) or `Flow.jump` (back to a stored
state); both end in `arrive`, which takes the decisions a screen depends on: a session that
cannot be shown in its state is repaired (dialogs/repair.py), and the recap records who
would receive a contact request. Rendering (dialogs/views.py) then only reads the session.

`TurnState` is what one turn carries besides the session: what the channel read from
storage before the turn (`reach`), the effects collected for the `Turn`, and the current
screen once rendered. A screen's buttons (what typed text is read against) are computed
once per turn from the screen's `buttons` block, without rendering its text; a screen
already shown in the turn gives them as they were shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dialogs.context import Contexts
from dialogs.machine import PLACE_FLOW, ConversationMachine
from dialogs.model import AdviserNote, Button, Reach, Reply, Session
from dialogs.repair import fallback
from dialogs.views import Views, screen_key

# A heard fact asked back (dialogs/facts.py): "Reprendre" under a page over it returns to it.
CHECK_STATE = "fact_confirm"


@dataclass
class TurnState:
    """One turn's inputs and effects."""

    reach: Reach = field(default_factory=Reach)
    notes: list[AdviserNote] = field(default_factory=list)
    erase: bool = False
    # The current screen, rendered once: (the session as it was, its replies). The session
    # is told by its `screen_key` (its content; the person and the time do not change
    # within a turn).
    shown: tuple[str, list[Reply]] | None = None
    # The current screen's buttons, from its declaration: (the session's key, buttons).
    buttons: tuple[str, tuple[Button, ...]] | None = None
    # The state a page (a FAQ answer…) was shown over in the last turn: its "Reprendre".
    over: str | None = None


class Flow:
    def __init__(self, machine: ConversationMachine, views: Views, contexts: Contexts) -> None:
        self.machine = machine
        self.views = views
        self.contexts = contexts
        self.k = views.k

    def can(self, s: Session, trigger: str) -> bool:
        return self.machine.can(s, trigger)

    def go(self, s: Session, t: TurnState, trigger: str, *args: object) -> bool:
        """Fire `trigger`; True when a transition happened (the session then arrived)."""
        if not self.machine.fire(s, trigger, *args):
            return False
        self.arrive(s, t)
        return True

    def jump(self, s: Session, t: TurnState, state: str) -> None:
        """Put the session back in a stored state (resume, continue)."""
        self.machine.machine.set_state(state, s)
        self.arrive(s, t)

    def arrive(self, s: Session, t: TurnState) -> None:
        """Decide what the screen of the session's state depends on, before it is shown."""
        instead = fallback(self.k, s)
        if instead is not None:
            self.machine.machine.set_state(instead, s)
        if s.state == "recap":
            target = self.contexts.recap_target(s, t.reach)
            if target is None:
                s.data.pop("handoff_to", None)
            else:
                s.data["handoff_to"] = target

    def resume_pressed(self, s: Session, t: TurnState) -> list[Reply]:
        """ "Reprendre où j'en étais" pressed or typed. Under a page (a FAQ answer, small
        talk) shown over "Vous m'avez dit… C'est bien ça ?", the person was on that check,
        still to answer: it comes again. Otherwise `resume` (from "Poser une question",
        back to the screen before it)."""
        if t.over == s.state == CHECK_STATE:
            return self.show(s, t)
        return self.resume(s, t)

    def resume(self, s: Session, t: TurnState) -> list[Reply]:
        """Back from a screen opened aside, or from a place typed on another screen (through
        its confirmation and the hand-off), to that screen."""
        if s.state in self.machine.aside_states:
            self.jump(s, t, s.data.pop("return", "menu"))
        elif s.state in PLACE_FLOW and s.data.get("place_from"):
            s.data.pop("candidates", None)
            self.jump(s, t, s.data.pop("place_from"))
        return self.show(s, t)

    def show(self, s: Session, t: TurnState) -> list[Reply]:
        """The current screen; rendered at most once per turn for one session content."""
        s.data.pop("over", None)  # the screen is shown last: no page over it
        key = screen_key(s)
        if t.shown is not None and t.shown[0] == key:
            return list(t.shown[1])
        replies = self.views.screen(s, t.reach, key)
        t.shown = (key, replies)
        return list(replies)

    def buttons(self, s: Session, t: TurnState) -> tuple[Button, ...]:
        """The buttons of the current screen, in the order shown: computed once per turn
        for one session content, from the screen's declaration (its text is not rendered)."""
        key = screen_key(s)
        if t.shown is not None and t.shown[0] == key:
            return self.views.buttons(t.shown[1])
        if t.buttons is None or t.buttons[0] != key:
            t.buttons = (key, self.views.buttons_of(s, t.reach, key))
        return t.buttons[1]

    def page(self, template: str, s: Session, t: TurnState, **extra: object) -> list[Reply]:
        """A template in the person's context (a FAQ answer, a status, a problem), shown
        over the current screen. Over a check still to answer, that is remembered for the
        next turn's "Reprendre" (Engine.handle moves it into TurnState.over); a screen shown
        after it forgets it."""
        replies = self.views.page(template, s, t.reach, **extra)
        if s.state == CHECK_STATE:
            s.data["over"] = s.state
        return replies
