"""Who should this person contact? Pure functions over the directory.

The rules follow the law on free career advice (conseil en évolution professionnelle):
job seekers → France Travail; 16–25 → Mission locale; recognised disability → Cap emploi;
employees and the self-employed → the regional operator found through mon-cep.org.
No verified public finder of CléA evaluator organisations exists in our sources, so unless
the deployer lists local evaluators, the adviser is the one who names them.
"""

from __future__ import annotations

from dataclasses import dataclass

from knowledge.geography import Place
from knowledge.model import Organisation

# Situation answer (fit.yaml) → audience tags (directory.yaml).
SITUATION_AUDIENCE = {
    "employee": "employee",
    "job_seeker": "job_seeker",
    "young": "young",
    "self_employed": "self_employed",
    "public_agent": "public_agent",
    "other": "all",
}


@dataclass(frozen=True)
class Handoff:
    advisers: tuple[Organisation, ...]  # first = the main one for this person
    evaluators: tuple[Organisation, ...]  # local evaluators for this place, if any
    resources: tuple[Organisation, ...]
    covered: bool  # False: place outside what our sources cover (overseas collectivities)


def serves_place(org: Organisation, place: Place) -> bool:
    return org.national or place.departement in org.departements or place.region in org.regions


def audiences_for(situation: str | None, disability: bool) -> list[str]:
    """Audience tags of this person, most specific first."""
    tags = []
    if disability:
        tags.append("disability")
    tag = SITUATION_AUDIENCE.get(situation or "", "all")
    tags.append(tag)
    if tag != "all":
        tags.append("all")
    return tags


def _rank(org: Organisation, tags: list[str]) -> tuple[int, int, str]:
    audience_rank = min((tags.index(a) for a in org.audience if a in tags), default=len(tags))
    local_rank = 0 if org.local and not org.national else 1
    return (audience_rank, local_rank, org.id)


def select(
    orgs: tuple[Organisation, ...] | list[Organisation],
    place: Place,
    situation: str | None,
    disability: bool = False,
) -> Handoff:
    """The organisations for a person in `place`, main adviser first."""
    tags = audiences_for(situation, disability)

    def fits(o: Organisation) -> bool:
        return serves_place(o, place) and bool(o.audience & set(tags))

    advisers = sorted(
        (o for o in orgs if o.kind == "adviser" and fits(o)), key=lambda o: _rank(o, tags)
    )
    # The free career advice service is offered to everybody it serves: not to public
    # agents, whom the regional operators do not serve (their employer is the way).
    cep = next((o for o in orgs if o.id == "mon_cep"), None)
    if situation == "public_agent":
        advisers = [o for o in advisers if o.id != "mon_cep"]
    elif cep is not None and cep not in advisers:
        advisers.append(cep)
    evaluators = sorted(
        (o for o in orgs if o.kind == "evaluator" and serves_place(o, place)),
        key=lambda o: (0 if o.local else 1, o.name),
    )
    resources = sorted(
        (o for o in orgs if o.kind == "resource" and fits(o)), key=lambda o: _rank(o, tags)
    )
    return Handoff(tuple(advisers), tuple(evaluators), tuple(resources), place.covered)
