"""Which local office should this person see first? Pure functions over the open-data
directory (knowledge/opendata.py) and the person's commune and situation.

The rules follow who serves whom in free career advice (clea-facts.md §7, §11):
job seeker → France Travail; 16–25 → Mission locale; recognised disability → Cap emploi
where the directory lists it (else, for a job seeker, France Travail, which follows job
seekers with a disability together with Cap emploi);
employee or self-employed → the regional CEP through mon-cep.org, and the nearest
France services as a place to get help on the spot. The competence data decides which
office serves a commune; without it, the nearest office of that network in the same
département. France Travail does not operate in French Polynesia or New Caledonia.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from knowledge import geography
from knowledge.geography import Place
from knowledge.opendata import LocalDirectory, Offer, Office

# Own employment services, no France Travail (clea-facts.md §11, "Overseas").
NO_FRANCE_TRAVAIL = {"987", "988"}
MAX_OFFERS = 3


@dataclass(frozen=True)
class LocalContact:
    office: Office
    network: str
    how: str  # competence | nearest | departement (no coordinates to compare)


@dataclass(frozen=True)
class LocalHandoff:
    """`first`: the office to see first, when the directory names one. `network`: the
    network that fits the person (even when no office of it is listed here). `help_place`:
    a France services office to get help on the spot (employees, self-employed).
    `offers`: up to three organisations offering CléA in the département."""

    network: str | None
    first: LocalContact | None
    help_place: LocalContact | None
    offers: tuple[Offer, ...]
    offers_date: str


def network_for(situation: str | None, disability: bool, place: Place) -> str | None:
    """The network whose advisers serve this person; None: the regional CEP (mon-cep.org)
    or, where France Travail does not operate, no network we can name."""
    if disability:
        return "cap_emploi"
    if situation == "young":
        return "mission_locale"
    if situation == "job_seeker":
        return None if place.departement in NO_FRANCE_TRAVAIL else "france_travail"
    return None


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def office_for(directory: LocalDirectory, network: str, place: Place) -> LocalContact | None:
    """The competent office for the commune, else the nearest one in the département."""
    if place.insee:
        competent = directory.competent(network, place.insee)
        if competent:
            return LocalContact(competent[0], network, "competence")
    candidates = directory.in_departement(network, place.departement)
    if not candidates:
        return None
    here = geography.coordinates(place)
    located = [o for o in candidates if o.lat is not None and o.lon is not None]
    if here and located:
        nearest = min(located, key=lambda o: haversine_km(here, (o.lat, o.lon)))
        return LocalContact(nearest, network, "nearest")
    same_commune = [o for o in candidates if place.insee and o.insee == place.insee]
    return LocalContact((same_commune or candidates)[0], network, "departement")


def select_local(directory: LocalDirectory | None, place: Place, situation: str | None,
                 disability: bool = False) -> LocalHandoff | None:
    """The local hand-off for this person, or None without an installed directory."""
    if directory is None:
        return None
    network = network_for(situation, disability, place)
    first = office_for(directory, network, place) if network else None
    if (first is None and network == "cap_emploi" and situation == "job_seeker"
            and place.departement not in NO_FRANCE_TRAVAIL):
        # Cap emploi not listed here: France Travail follows *job seekers* with a disability
        # together with Cap emploi, in one place. Others keep Cap emploi's national contact.
        first = office_for(directory, "france_travail", place)
    help_place = None
    if situation in ("employee", "self_employed") or (first is None and network is None):
        help_place = office_for(directory, "france_services", place)
    offers = tuple(directory.offers(place.departement, "clea", MAX_OFFERS))
    return LocalHandoff(network, first, help_place, offers,
                        max((o.extracted for o in offers), default=directory.extracted))
