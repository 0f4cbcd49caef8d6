"""Who to contact: the adviser network by situation, local evaluators first."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from knowledge.directory import select
from knowledge.geography import lookup
from knowledge.model import Contact, Organisation

LOIRE = lookup("42000").places[0]
MARTINIQUE = lookup("97200").places[0]


def ids(orgs) -> list[str]:
    return [o.id for o in orgs]


@pytest.mark.parametrize(
    ("situation", "disability", "first"),
    [
        ("job_seeker", False, "france_travail"),
        ("young", False, "jeunes_accompagnement"),
        ("employee", False, "mon_cep"),
        ("self_employed", False, "mon_cep"),
        ("other", False, "mon_cep"),
        (None, False, "mon_cep"),
        ("job_seeker", True, "cap_emploi"),
        ("employee", True, "cap_emploi"),
    ],
)
def test_main_adviser_by_situation(knowledge, situation, disability, first):
    handoff = select(knowledge.organisations, LOIRE, situation, disability)
    assert handoff.advisers[0].id == first
    assert "mon_cep" in ids(handoff.advisers)  # the free national service is always offered
    for o in handoff.advisers:
        assert o.why  # one sentence explains each proposal


def test_job_seeker_gets_france_travail_and_agency_finder(knowledge):
    handoff = select(knowledge.organisations, MARTINIQUE, "job_seeker")
    assert ids(handoff.advisers)[:1] == ["france_travail"]
    assert "france_travail_agences" in ids(handoff.resources)
    assert handoff.covered


def test_no_verified_evaluator_list_means_none_invented(knowledge):
    handoff = select(knowledge.organisations, LOIRE, "employee")
    assert handoff.evaluators == ()


def local(org_id: str, kind: str, deps: set[str]) -> Organisation:
    return Organisation(
        org_id,
        "Organisme local",
        kind,
        frozenset({"all"}),
        frozenset(),
        frozenset(deps),
        "Près de chez vous.",
        Contact(url="https://x.org"),
        (),
        dt.date(2026, 11, 1),
        local=True,
    )


def test_local_entries_rank_first_for_their_area(knowledge):
    orgs = (
        local("eval42", "evaluator", {"42"}),
        local("adv42", "adviser", {"42"}),
        local("eval13", "evaluator", {"13"}),
        *knowledge.organisations,
    )
    handoff = select(orgs, LOIRE, "other")
    assert ids(handoff.evaluators) == ["eval42"]
    assert ids(handoff.advisers)[0] == "adv42"
    elsewhere = select(orgs, MARTINIQUE, "other")
    assert ids(elsewhere.evaluators) == [] and "adv42" not in ids(elsewhere.advisers)


def test_region_coverage(knowledge):
    org = dataclasses.replace(local("ara", "evaluator", set()), regions=frozenset({"84"}))
    assert ids(select((org,), LOIRE, "other").evaluators) == ["ara"]
    assert ids(select((org,), MARTINIQUE, "other").evaluators) == []
