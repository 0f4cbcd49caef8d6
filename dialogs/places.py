"""Where the person lives, and the hand-off to a named, local contact.

A place can be typed on any screen ("j'habite à Lyon"), shared as a position or typed at
"Où habitez-vous ?"; it is confirmed, then the recap names the contact, and a contact
request goes to the adviser chosen when the recap was reached (Contexts.recap_target).
"""

from __future__ import annotations

from dataclasses import replace

from dialogs.context import place_of
from dialogs.flow import Flow, TurnState
from dialogs.machine import PLACE_FLOW, fit_state
from dialogs.model import AdviserNote, Reply, Session
from dialogs.reading import PLACE_SCREENS
from dialogs.understanding import ASKED_AT
from knowledge import geography
from knowledge.faq import FaqMatcher
from knowledge.text import fold

# "Ce n'est pas un lieu": a name nobody knows, of this many words or more.
NOT_A_PLACE_WORDS = 3


def candidates(result: geography.LookupResult) -> list[dict[str, object]]:
    """The places found, as the session stores them."""
    return [
        {"c": p.commune, "d": p.departement, "p": p.postal_code, "i": p.insee}
        for p in result.places
    ]


def place_name(result: geography.LookupResult) -> str:
    """How a place found in a message is named back: its commune, or its postal code
    when it has several."""
    first = result.places[0]
    if len(result.places) > 1 and first.postal_code:
        return first.postal_code
    return first.commune or first.postal_code or ""


def problem_of(result: geography.LookupResult, text: str) -> str:
    """What was wrong with a typed place, for where_problem.j2."""
    if result.problem == "unknown_name" and len(fold(text).split()) >= NOT_A_PLACE_WORDS:
        return "not_a_place"
    return str(result.problem)


class Places:
    def __init__(self, flow: Flow, matcher: FaqMatcher) -> None:
        self.flow = flow
        self.matcher = matcher

    def leave_for_place(self, s: Session) -> None:
        """Remember the screen a place was typed on, for "Reprendre où j'en étais"."""
        aside = self.flow.machine.aside_states
        where = s.data.get("return") if s.state in aside else s.state
        if not where or (s.state not in aside and where in PLACE_SCREENS):
            return
        if where in PLACE_FLOW and s.data.get("place_from"):
            return  # a place typed again on the way: the first screen stays the way back
        s.data["place_from"] = where

    def to_recap(self, s: Session, t: TurnState, call: bool = False) -> list[Reply]:
        """ "Qui contacter", "je souhaiterais être rappelé" typed anywhere: the recap (or
        "Où habitez-vous ?" and the questions still to ask first). `call`: the person asked
        to be called or for a number; the recap then says plainly how to reach a person
        (recap.j2)."""
        if call:
            s.data["wants_call"] = True
        self.leave_for_place(s)
        self.flow.go(s, t, "recap")
        return self.flow.show(s, t)

    def confirmed(self, s: Session, t: TurnState) -> list[Reply]:
        """The place confirmed. Typed at a fit question ("13015" at "Question 5 sur 5")
        whose question the hand-off would now ask again, the person goes back to that
        question in the fit check, numbered, under "C'est noté" (the contact comes with
        "Qui contacter ?" after it); otherwise on into the hand-off."""
        asked = ASKED_AT.get(s.state)
        came_from = s.data.get("place_from")
        if asked is None or came_from != fit_state(asked):
            return self.flow.show(s, t)
        self.flow.jump(s, t, s.data.pop("place_from"))
        shown = self.flow.show(s, t)
        line = self.flow.views.notice("noted")[0].text
        return [replace(shown[0], text=f"{line}\n\n{shown[0].text}"), *shown[1:]]

    def dont_know(self, s: Session, t: TurnState) -> list[Reply]:
        """ "Je sais pas" at "Où habitez-vous ?": a town is enough, and the national free
        adviser can be reached without one."""
        national = next((o for o in self.flow.k.organisations if o.id == "mon_cep"), None)
        return self.flow.page(
            "where_problem.j2", s, t, problem="dont_know", text="", national=national
        )

    def anywhere(
        self, s: Session, t: TurnState, text: str, found: geography.LookupResult
    ) -> list[Reply]:
        """A place typed on any screen: confirmed, then on into the hand-off."""
        if s.state in ("where_pick", "where_confirm"):
            self.flow.go(s, t, "retry")
        elif s.state != "where_ask":
            self.leave_for_place(s)
            self.flow.go(s, t, "where")
        return self.typed(s, t, text, found)

    def typed(
        self, s: Session, t: TurnState, text: str, result: geography.LookupResult | None = None
    ) -> list[Reply]:
        """Postal codes and commune names first; anything else may be a question."""
        result = result or geography.lookup(text)
        if not result.places:
            if result.problem == "unknown_name":
                match = self.matcher.match(text)
                if match.kind == "faq":
                    s.data["keep"] = True  # an answer worth keeping: the next screen below
                    return self.flow.page("faq_answer.j2", s, t, entry=match.entry, in_ask=False)
            return self.flow.page(
                "where_problem.j2", s, t, problem=problem_of(result, text), text=text[:40]
            )
        s.data["candidates"] = candidates(result)
        s.data.pop("page", None)
        self.flow.go(s, t, "place")
        return self.flow.show(s, t)

    def location(self, s: Session, t: TurnState, value: str) -> list[Reply]:
        """A shared position: the nearest town, to confirm. Coordinates are not kept."""
        try:
            latitude, longitude = (float(x) for x in value.split(","))
        except ValueError:
            return self.flow.views.notice("location")
        if s.state != "where_ask" and not self.flow.go(s, t, "where"):
            return self.flow.views.notice("location")
        place = geography.nearest(latitude, longitude)
        if place is None:
            return self.flow.page("where_problem.j2", s, t, problem="far", text="")
        s.data["candidates"] = [{"c": place.commune, "d": place.departement, "p": None, "n": True}]
        self.flow.go(s, t, "place")
        return self.flow.show(s, t)

    def handoff(
        self, s: Session, t: TurnState, phone: str, first_name: str | None, referral: str | None
    ) -> list[Reply]:
        """The person shared their number: a note for the adviser, and "C'est envoyé"."""
        place = place_of(s)
        if place is None or "handoff_to" not in s.data:
            return self.flow.show(s, t)  # a stored session missing its place: repaired, no note
        target = s.data.get("handoff_to", "")
        named = self.flow.contexts.named(s, place, t.reach)
        organisation = named.adviser.shown_name if named and target else ""
        self.flow.go(s, t, "contact")
        to_adviser = self.flow.page(
            "handoff_adviser.j2",
            s,
            t,
            phone=phone,
            first_name=(first_name or "")[:40],
            referral=referral,
        )
        t.notes.append(
            AdviserNote(
                "\n\n".join(r.text for r in to_adviser),
                adviser=target or "",
                organisation=organisation,
            )
        )
        return self.flow.show(s, t)
