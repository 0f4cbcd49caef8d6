"""Every path of the conversation map, through handle()."""

from __future__ import annotations

import pytest

from dialogs.engine import Engine, parse_payload
from dialogs.model import Event, Reply, Session
from tests.menus import MAIN_MENU


def choice(value: str) -> Event:
    return Event("choice", value)


def text(value: str) -> Event:
    return Event("text", value)


def turn(engine: Engine, session: Session, event: Event) -> list[Reply]:
    replies = engine.handle(session, event).replies
    assert replies, f"no reply to {event}"
    return replies


def joined(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def choices(replies: list[Reply]) -> list[str]:
    return [b.choice for r in replies for b in r.choices()]


def fresh(engine: Engine, payload: str | None = None) -> Session:
    s = Session("test")
    turn(engine, s, Event("start", payload=payload))
    return s


def do_fit(engine: Engine, s: Session, **answers: str) -> list[Reply]:
    turn(engine, s, choice("fit"))
    replies: list[Reply] = []
    for q in engine.k.questions:
        if q.id in answers:
            replies = turn(engine, s, choice(f"answer:{answers[q.id]}"))
        else:
            replies = turn(engine, s, choice("skip"))
    assert s.state == "fit_result"
    return replies


def test_welcome_shows_the_main_menu(engine):
    s = Session("u")
    done = engine.handle(s, Event("start"))
    replies = done.replies
    assert "Bonjour" in replies[0].text
    assert choices(replies) == MAIN_MENU  # the welcome offers to read aloud
    assert s.state == "menu" and done.reached == {"start"}
    assert engine.handle(s, Event("start")).reached == frozenset()  # counted once


def test_discover_tour(engine):
    s = fresh(engine)
    replies = turn(engine, s, choice("discover"))
    assert "certificat" in joined(replies)
    seen = []
    step = "about:audience"
    while step.startswith("about:"):
        replies = turn(engine, s, choice(step))
        seen.append(s.data["about"])
        step = choices(replies)[0]
    assert seen == ["audience", "not_diploma", "all_sectors", "certificate"]
    assert "pas un diplôme" in joined(turn(engine, s, choice("about:not_diploma")))
    certificate = joined(turn(engine, s, choice("about:certificate")))
    assert "jury" in certificate and "papier" not in certificate  # the format is unsourced


def test_domains_list_has_seven_official_domains(engine, knowledge):
    s = fresh(engine)
    replies = turn(engine, s, choice("domains"))
    domain_buttons = [c for c in choices(replies) if c.startswith("domain:")]
    assert domain_buttons == [f"domain:{i}" for i in range(1, 8)]
    for d in knowledge.domains:
        shown = joined(turn(engine, s, choice(f"domain:{d.id}")))
        assert d.official_title in shown and d.example[1:] in shown and d.plain in shown
    assert "fit" in choices(turn(engine, s, choice("domain:7")))


def test_fit_results_differ_by_profile(engine):
    s1 = fresh(engine)
    job_seeker = joined(
        do_fit(
            engine,
            s1,
            situation="job_seeker",
            diploma="none",
            goal="job",
            reading="easy",
            disability="no",
        )
    )
    s2 = fresh(engine)
    graduate = joined(
        do_fit(engine, s2, situation="employee", diploma="higher", goal="progress", reading="easy")
    )
    assert "fait pour vous" in job_seeker and "France Travail" in job_seeker
    assert "possible" in graduate and "sans diplôme" in graduate
    assert job_seeker != graduate


@pytest.mark.parametrize(
    ("answers", "expected_button"),
    [
        ({"goal": "digital"}, "module:numerique"),
        ({"goal": "training"}, None),  # no Région is known to offer the qualification module
    ],
)
def test_fit_points_to_the_right_module(engine, answers, expected_button):
    s = fresh(engine)
    base = {"situation": "other", "diploma": "none", "goal": "job", "reading": "easy"}
    replies = do_fit(engine, s, **{**base, **answers})
    modules = [c for c in choices(replies) if c.startswith("module:")]
    assert modules == ([expected_button] if expected_button else [])
    assert "where" in choices(replies)  # the result ends with "who to contact"


def test_fit_back_and_restart(engine):
    s = fresh(engine)
    turn(engine, s, choice("fit"))
    turn(engine, s, choice("answer:employee"))
    assert s.state == "fit_diploma"
    turn(engine, s, choice("back"))
    assert s.state == "fit_situation"
    turn(engine, s, choice("back"))
    assert s.state == "menu"


def test_steps_one_per_message_with_next_and_back(engine, knowledge):
    s = fresh(engine)
    replies = turn(engine, s, choice("steps"))
    n = len(knowledge.procedure)
    for i in range(n):
        assert f"Étape {i + 1} sur {n}" in joined(replies)
        if i + 1 < n:
            assert f"step:{i + 1}" in choices(replies)
            replies = turn(engine, s, choice(f"step:{i + 1}"))
    last = joined(replies)
    assert "jury" in last and "papier" not in last
    assert "where" in choices(replies)
    back = turn(engine, s, choice(f"step:{n - 2}"))
    assert "évaluation finale" in joined(back)


def test_modules(engine, knowledge):
    s = fresh(engine)
    replies = turn(engine, s, choice("modules"))
    # The two regional modules are explained, not offered: no Région is known to have them.
    assert [c for c in choices(replies) if c.startswith("module:")] == ["module:numerique"]
    assert "Je ne connais pas de région qui les propose" in joined(replies)
    numerique = joined(turn(engine, s, choice("module:numerique")))
    assert "CléA numérique" in numerique and "sécurité" in numerique


def test_question_mid_fit_then_resume_keeps_place_and_answers(engine):
    s = fresh(engine)
    turn(engine, s, choice("fit"))
    turn(engine, s, choice("answer:job_seeker"))
    turn(engine, s, choice("answer:none"))
    assert s.state == "fit_goal"
    answer = turn(engine, s, text("faut payer ?"))
    assert "prix" in joined(answer).lower()
    assert "resume" in choices(answer)
    assert s.state == "fit_goal"
    resumed = turn(engine, s, choice("resume"))
    assert "Question 3 sur 5" in joined(resumed)
    assert s.answers == {"situation": "job_seeker", "diploma": "none"}


def test_ask_state_returns_where_the_person_was(engine):
    s = fresh(engine)
    turn(engine, s, choice("domain:4"))
    turn(engine, s, choice("ask"))
    assert s.state == "ask"
    reply = turn(engine, s, text("et si je rate"))
    assert "vous formez" in joined(reply)
    assert s.state == "ask"
    turn(engine, s, choice("resume"))
    assert s.state == "domain" and s.data["domain"] == 4


def test_not_understood_twice_offers_menu_and_adviser(engine):
    s = fresh(engine)
    first = turn(engine, s, text("quel temps fera-t-il a brest demain"))
    assert "pas bien compris" in joined(first)
    second = turn(engine, s, text("xqzw vbnm plok"))
    assert "conseiller" in joined(second)
    assert {"menu", "where"} <= set(choices(second))


def test_where_flow_by_postal_code(engine):
    s = fresh(engine)
    turn(engine, s, choice("where"))
    confirm = turn(engine, s, text("42000"))
    assert "Saint-Étienne (42)" in joined(confirm) and "Auvergne-Rhône-Alpes" in joined(confirm)
    turn(engine, s, choice("yes"))
    assert s.state == "where_situation"
    turn(engine, s, choice("answer:young"))
    assert s.state == "where_disability"
    reached = engine.handle(s, choice("skip"))
    recap = joined(reached.replies)
    assert s.state == "recap" and reached.reached == {"recap"}
    assert "Mission locale" in recap or "1jeune1solution" in recap
    assert "Ma fiche" in recap


def test_where_flow_with_homonyms_and_bad_input(engine):
    s = fresh(engine)
    turn(engine, s, choice("where"))
    for bad in ("abc", "99999", "00000"):
        replies = turn(engine, s, text(bad))
        assert s.state == "where_ask"
        assert "code postal" in joined(replies) or "ville" in joined(replies)
    pick = turn(engine, s, text("Saint-Martin"))
    assert s.state == "where_pick"
    assert len([c for c in choices(pick) if c.startswith("pick:")]) >= 2
    turn(engine, s, choice("pick:1"))
    assert s.state == "where_confirm"
    turn(engine, s, choice("retry"))
    assert s.state == "where_ask"


def test_fit_answers_are_reused_by_the_recap(engine):
    s = fresh(engine)
    do_fit(
        engine,
        s,
        situation="job_seeker",
        diploma="none",
        goal="job",
        reading="easy",
        disability="yes",
    )
    turn(engine, s, choice("where"))
    turn(engine, s, text("13001"))
    recap = joined(turn(engine, s, choice("yes")))
    assert s.state == "recap"  # no question asked again
    assert "Cap emploi" in recap and "France Travail" in recap and "3949" in recap
    assert "Marseille (13)" in recap


def reach_recap_in_paris(engine: Engine) -> tuple[Session, list[Reply]]:
    """An employee without recognised disability, living in Paris 11e, at the recap."""
    s = fresh(engine)
    for event in (choice("where"), text("75011"), choice("yes"), choice("answer:employee")):
        turn(engine, s, event)
    return s, turn(engine, s, choice("answer:no"))


def test_handoff_consent_refused_then_given(engine):
    s, recap = reach_recap_in_paris(engine)
    assert "handoff" in choices(recap)
    turn(engine, s, choice("handoff"))
    refused = engine.handle(s, choice("no"))
    assert "rien envoyé" in joined(refused.replies)
    assert not refused.notes
    turn(engine, s, choice("handoff"))
    ask_phone = turn(engine, s, choice("yes"))
    assert ask_phone[-1].request == "contact"
    assert "complet" in joined(turn(engine, s, text("12")))
    done = engine.handle(s, text("06 12 34 56 78"))
    notes = done.notes
    assert len(notes) == 1 and "+33 6 12 34 56 78" in notes[0].text
    assert "Paris" in notes[0].text and "+33 6 12 34 56 78" not in joined(done.replies)
    assert "enregistrée" in joined(done.replies)
    assert done.reached == {"handoff"}
    assert "0612345678" not in s.to_json()  # the number is not kept


def test_handoff_hidden_without_adviser_chat(engine_no_handoff):
    s, recap = reach_recap_in_paris(engine_no_handoff)
    assert "handoff" not in choices(recap)
    assert "Ce bouton" in joined(turn(engine_no_handoff, s, choice("handoff")))


@pytest.mark.parametrize(
    "event",
    [
        choice("answer:employee"),  # valid id, wrong state
        choice("domain:99"),
        choice("step:42"),
        choice("module:inconnu"),
        choice("about:../../etc"),
        choice("n'importe quoi"),
        choice(""),
        choice("x" * 500),
    ],
)
def test_stale_or_forged_buttons_get_a_kind_reply(engine, event):
    s = fresh(engine)
    turn(engine, s, choice("domains"))
    replies = turn(engine, s, event)
    assert "plus valable" in joined(replies)
    assert s.state == "domains"
    assert {"resume", "menu"} <= set(choices(replies))


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (Event("text", "/inconnue"), "Je ne connais pas la commande /inconnue"),
        (text("/blabla"), "Je ne connais pas la commande /blabla"),
        (text(""), "Je n'ai rien reçu"),
        (text("   "), "Je n'ai rien reçu"),
        (text("😀😀🎉"), "émojis"),
        (Event("unsupported"), "messages écrits"),
        (Event("location", "not a position"), "code postal"),
        (Event("contact", "+33612345678"), "pas besoin de votre numéro"),
    ],
)
def test_bad_input_gets_a_short_kind_answer(engine, event, expected):
    s = fresh(engine)
    turn(engine, s, choice("fit"))
    replies = turn(engine, s, event)
    assert expected in joined(replies)
    assert s.state == "fit_situation"


def test_huge_message_is_answered(engine):
    s = fresh(engine)
    replies = turn(engine, s, text("combien ca coute " + "bla " * 1500))
    assert replies and all(len(r.text) < 4096 for r in replies)


def test_typed_button_label_counts_as_a_press(engine):
    s = fresh(engine)
    turn(engine, s, choice("fit"))
    turn(engine, s, text("je cherche un emploi"))
    assert s.answers == {"situation": "job_seeker"}


def test_commands(engine):
    s = fresh(engine)
    do_fit(engine, s, situation="employee", diploma="none", goal="job", reading="easy")
    assert "Les commandes" in joined(turn(engine, s, Event("text", "/aide")))
    turn(engine, s, choice("resume"))
    assert s.state == "fit_result"
    turn(engine, s, Event("text", "/menu"))
    assert s.state == "menu" and s.answers  # /menu keeps the answers
    turn(engine, s, Event("text", "/recommencer"))
    assert s.state == "menu" and not s.answers
    assert "jours" in joined(turn(engine, s, Event("text", "/privacy")))


def test_forget_asks_confirmation_then_erases(engine):
    s = fresh(engine, "mlyon")
    do_fit(engine, s, situation="employee", diploma="none", goal="job", reading="easy")
    turn(engine, s, Event("text", "/oubli"))
    kept = engine.handle(s, choice("forget_no"))
    assert s.state == "fit_result" and s.answers and not kept.erase and kept.replies
    turn(engine, s, Event("text", "/oubli"))
    done = engine.handle(s, choice("forget_yes"))
    assert "effacées" in joined(done.replies)
    assert done.erase and not s.answers and s.referral is None


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("mlyon", ("mlyon", None)),
        ("mlyon-diag", ("mlyon", "fit")),
        ("ft_paris-13-contact", ("ft_paris-13", "where")),
        ("diag", (None, "fit")),
        ("a" * 65, (None, None)),
        ("bad payload!", (None, None)),
        ("ab", (None, None)),
    ],
)
def test_payload_parsing(payload, expected):
    assert parse_payload(payload) == expected


def test_deep_link_starts_on_topic_and_keeps_referral(engine):
    s = Session("u")
    replies = turn(engine, s, Event("start", payload="mlyon-diag"))
    assert s.state == "fit_situation" and s.referral == "mlyon"
    assert "Question 1 sur 5" in joined(replies)
    turn(engine, s, Event("start", payload="autre_code"))
    assert s.referral == "mlyon"  # the first link that brought the person counts


def test_invalid_payload_is_ignored_kindly(engine):
    s = Session("u")
    replies = turn(engine, s, Event("start", payload="<script>"))
    assert "pas complet" in joined(replies) and s.referral is None and s.state == "menu"


def test_session_round_trip_is_small(engine):
    s = fresh(engine, "mlyon")
    do_fit(
        engine,
        s,
        situation="job_seeker",
        diploma="none",
        goal="job",
        reading="hard",
        disability="yes",
    )
    turn(engine, s, choice("where"))
    turn(engine, s, text("Saint-Martin"))
    raw = s.to_json()
    assert len(raw.encode()) < 1024
    restored = Session.from_json("test", raw)
    assert (restored.state, restored.answers, restored.data, restored.referral) == (
        s.state,
        s.answers,
        s.data,
        s.referral,
    )


def test_overseas_collectivity_is_told_plainly(engine):
    s = fresh(engine)
    turn(engine, s, choice("where"))
    turn(engine, s, text("98800"))
    turn(engine, s, choice("yes"))
    recap = joined(turn(engine, s, choice("answer:employee")) + turn(engine, s, choice("skip")))
    assert "Nouméa (988)" in recap
    assert "je n'ai pas de contact vérifié" in recap
    assert "Être recontacté" in recap  # the human hand-off is offered by name


def test_shared_location(engine):
    s = fresh(engine)
    asked = turn(engine, s, choice("where"))
    assert asked[0].request == "location"
    confirm = joined(turn(engine, s, Event("location", "43.2965,5.3698")))
    assert "près de Marseille (13)" in confirm and s.state == "where_confirm"
    turn(engine, s, choice("yes"))
    assert s.data["place"] == {"c": "Marseille", "d": "13", "p": None, "n": True}
    assert "43.29" not in s.to_json()  # the position itself is not kept


@pytest.mark.parametrize("value", ["51.5,-0.12", "0,0", "abc", "999,999"])
def test_location_outside_france_or_broken(engine, value):
    s = fresh(engine)
    turn(engine, s, choice("where"))
    replies = joined(turn(engine, s, Event("location", value)))
    assert "code postal" in replies and s.state == "where_ask"


def test_location_shared_from_anywhere_starts_the_hand_off(engine):
    s = fresh(engine)
    turn(engine, s, choice("domains"))
    turn(engine, s, Event("location", "45.4339,4.39"))
    assert s.state == "where_confirm"


def test_typed_rank_counts_as_a_press(engine):
    s = fresh(engine)
    turn(engine, s, text("2"))  # the second button of the menu: "Est-ce pour moi ?"
    assert s.state == "fit_situation"
    turn(engine, s, text("2"))
    assert s.answers == {"situation": "job_seeker"}


def test_returning_person_can_continue_where_they_left(engine):
    s = fresh(engine)
    turn(engine, s, choice("fit"))
    turn(engine, s, choice("answer:employee"))
    back = turn(engine, s, Event("start"))
    assert "Bon retour" in joined(back) and "continue" in choices(back)
    assert s.state == "menu"
    resumed = turn(engine, s, choice("continue"))
    assert s.state == "fit_diploma" and "Question 2 sur 5" in joined(resumed)
    turn(engine, s, Event("start"))
    turn(engine, s, choice("steps"))
    assert "plus valable" in joined(turn(engine, s, choice("continue")))  # one event only


def test_place_prompt_pages_communes_and_reads_typed_names(engine):
    s = fresh(engine)
    turn(engine, s, choice("where"))
    first = turn(engine, s, text("04200"))
    assert "19 endroits" in joined(first)
    assert len(first[-1].choices()) == 10  # 8 communes, "Voir la suite", "Aucun"
    turn(engine, s, choice("more"))
    turn(engine, s, choice("more"))
    assert s.state == "where_pick" and s.data["page"] == 2
    turn(engine, s, text("valbelle"))  # typed, not tapped
    assert s.state == "where_confirm" and s.data["candidates"][0]["c"] == "Valbelle"
    # The right name typed at "C'est bien là ?" searches again.
    turn(engine, s, text("Sisteron"))
    assert s.state == "where_confirm" and s.data["candidates"][0]["c"] == "Sisteron"


def test_questions_typed_at_the_place_prompt_are_answered(engine):
    s = fresh(engine)
    turn(engine, s, choice("where"))
    answer = joined(turn(engine, s, text("c'est combien ?")))
    assert "prix" in answer.lower() and s.state == "where_ask"
    lost = joined(turn(engine, s, text("je sais pas mon code postal")))
    assert "ne connaissez pas votre code postal" in lost and "nom de votre ville" in lost


def test_fit_result_for_a_weak_reader_puts_reading_help_first_and_stays_short(engine):
    s = fresh(engine)
    replies = do_fit(
        engine, s, situation="employee", diploma="none", goal="job", reading="hard", disability="no"
    )
    assert len(replies) == 1  # one screen, one message: its parts are paragraphs
    assert sum(len(r.text.split()) for r in replies) <= 90
    shown = replies[0].text
    assert "ANLCI" in shown and "eva" in shown
    assert shown.index("ANLCI") < shown.index("fait pour vous")  # reading help first
    urls = [b.url for r in replies for row in r.buttons for b in row if hasattr(b, "url")]
    assert "https://eva.anlci.gouv.fr/rechercher-une-solution-de-remediation" in urls
    assert "800 € par an" in replies[-1].text  # employee without CAP/BEP


def test_a_stored_hand_off_without_its_place_is_repaired_not_an_error(engine):
    s = Session("h", state="handoff_contact")
    done = engine.handle(s, Event("contact", "+33612345678"))
    assert s.state == "where_ask" and not done.notes
    assert "Oups" not in joined(done.replies)


def test_edited_messages_are_answered_kindly(engine):
    s = fresh(engine)
    state = s.state
    assert "modifié un message" in joined(engine.handle(s, Event("edited")).replies)
    assert s.state == state


def test_unknown_referral_codes_are_ignored_when_advisers_are_declared(knowledge):
    from knowledge.advisers import Adviser

    engine = Engine(knowledge, advisers=(Adviser(1, "mlyon", "C"),))
    s = Session("r")
    engine.handle(s, Event("start", payload="inconnu"))
    assert s.referral is None
    s2 = Session("r2")
    engine.handle(s2, Event("start", payload="mlyon-diag"))
    assert s2.referral == "mlyon" and s2.state == "fit_situation"
