"""Which local office should this person see first? Pure functions over the open-data
directory (knowledge/opendata.py) and the person's commune and situation.

The rules follow who serves whom in free career advice (clea-facts.md §7, §11):
job seeker → France Travail; 16–25 → Mission locale; recognised disability → Cap emploi
where the directory lists it (else, for a job seeker, France Travail, which follows job
seekers with a disability together with Cap emploi);
employee or self-employed → the regional CEP through mon-cep.org, and the nearest
France services as a place to get help on the spot. The competence data decides which
office serves a commune (`pivot.code_insee_commune` is only the office's own commune);
without a competence row, the nearest office of that network in the same département,
measured from the commune's town hall when the annuaire gives it. France Travail does not
operate in New Caledonia, French Polynesia or Wallis-et-Futuna.
"""

from __future__ import annotations

from dataclasses import dataclass

from knowledge import geography
from knowledge.geography import Place, haversine_km
from knowledge.opendata import LocalDirectory, Offer, Office

# Own labour codes and employment services, no France Travail (clea-facts.md §11, §12).
NO_FRANCE_TRAVAIL = geography.OWN_LABOUR_CODE
MAX_OFFERS = 3


@dataclass(frozen=True)
class LocalContact:
    """An office and why it was chosen. `how`: 'competence' (a competence row names it
    for the commune; `competent` says how many do), 'nearest' (no competence row: the
    nearest office of the network, `km` away), 'departement' (no distance could be
    computed: an office of the département). `origin`: where the person's point came
    from ('town_hall', 'postal_code' or '' when there was none)."""

    office: Office
    network: str
    how: str
    km: float | None = None
    competent: int = 0
    origin: str = ""
    finder: str = ""  # the network's official search page, for 'departement'


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


def locate(directory: LocalDirectory, place: Place) -> tuple[tuple[float, float] | None, str]:
    """The person's point and where it came from: the commune's own town hall in the
    annuaire, else the postal-code table (which may lend a neighbour's point)."""
    if place.insee:
        point = directory.town_hall(place.insee)
        if point:
            return point, "town_hall"
    point = geography.coordinates(place)
    return (point, "postal_code") if point else (None, "")


def _nearest(
    offices: list[Office], here: tuple[float, float] | None
) -> tuple[Office, float] | None:
    if here is None:
        return None
    located = [
        (haversine_km(here, (o.lat, o.lon)), o.name, o)
        for o in offices
        if o.lat is not None and o.lon is not None
    ]
    if not located:
        return None
    km, _, best = min(located, key=lambda t: (t[0], t[1]))
    return best, km


def office_for(
    directory: LocalDirectory, network: str, place: Place, finder: str = ""
) -> LocalContact | None:
    """The office the competence rows name for the commune (the nearest of them when they
    name several), else the nearest office of the network in the département, else one
    office of the département (no distance can be computed)."""
    here, origin = locate(directory, place)
    competent = directory.competent(network, place.insee) if place.insee else []
    if competent:
        nearest = _nearest(competent, here)
        office, km = nearest if nearest else (competent[0], None)
        return LocalContact(office, network, "competence", km, len(competent), origin)
    candidates = directory.in_departement(network, place.departement)
    if not candidates:
        return None
    nearest = _nearest(candidates, here)
    if nearest:
        return LocalContact(nearest[0], network, "nearest", nearest[1], 0, origin)
    same_commune = [o for o in candidates if place.insee and o.insee == place.insee]
    return LocalContact(
        (same_commune or candidates)[0], network, "departement", None, 0, origin, finder
    )


def select_local(
    directory: LocalDirectory | None, place: Place, situation: str | None, disability: bool = False
) -> LocalHandoff | None:
    """The local hand-off for this person, or None without an installed directory."""
    if directory is None:
        return None
    finders = directory.finders  # each network's search page, for the département fallback

    def office(net: str) -> LocalContact | None:
        return office_for(directory, net, place, finders.get(net, ""))

    network = network_for(situation, disability, place)
    first = office(network) if network else None
    if first is None and network == "cap_emploi" and situation == "young":
        first = office("mission_locale")  # 16-25: the Mission locale, as without disability
    if (
        first is None
        and network == "cap_emploi"
        and situation not in ("employee", "self_employed", "public_agent")
        and place.departement not in NO_FRANCE_TRAVAIL
    ):
        # No Cap emploi listed here: France Travail follows people with a disability who
        # look for work together with Cap emploi, in one place. Employees keep Cap
        # emploi's national contact (job retention) and a France services nearby.
        first = office("france_travail")
    help_place = None
    if (situation in ("employee", "self_employed") or first is None) and (
        situation != "public_agent"
    ):
        help_place = office("france_services")
    offers = tuple(directory.offers(place.departement, "clea", MAX_OFFERS))
    return LocalHandoff(
        network,
        first,
        help_place,
        offers,
        max((o.extracted for o in offers), default=directory.extracted),
    )
