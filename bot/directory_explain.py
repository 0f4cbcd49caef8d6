"""`clea-bot directory explain PLACE [--situation …]`: what "Ma fiche" names, and why.

For a deployer checking a real install, or an adviser wondering why the bot sent someone
to an office: the place as understood, where its point comes from (town hall or postal
code), the network for the situation, the office chosen and the rule that chose it
(competence row, nearest at N km, département fallback), the other candidates with their
distances, and the open-data dates. Then the recap itself, rendered by the same engine.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from dialogs import render as rendering
from dialogs.engine import Engine
from dialogs.model import LinkButton, Session
from knowledge import geography
from knowledge.geography import Place, haversine_km
from knowledge.local import (
    NO_FRANCE_TRAVAIL,
    LocalContact,
    locate,
    network_for,
    select_local,
)
from knowledge.model import Knowledge
from knowledge.opendata import LocalDirectory, OpenDataSettings

SITUATIONS = {
    "job_seeker": "demandeur d'emploi",
    "young": "16-25 ans",
    "employee": "salarié",
    "self_employed": "indépendant",
    "public_agent": "agent public",
    "other": "autre situation",
}


def _km(km: float | None) -> str:
    return "distance inconnue" if km is None else f"{km:.1f} km".replace(".", ",")


def _date(iso: str) -> str:
    return rendering.french_date(iso) if iso else "date inconnue"


def _candidates(
    directory: LocalDirectory, contact: LocalContact, place: Place
) -> list[tuple[str, float | None]]:
    """The offices the choice was made among, with their distance from the person."""
    if contact.how == "competence":
        offices = directory.competent(contact.network, place.insee or "")
    else:
        offices = directory.in_departement(contact.network, place.departement)
    here, _ = locate(directory, place)
    rows = []
    for o in offices:
        km = (
            haversine_km(here, (o.lat, o.lon))
            if here and o.lat is not None and o.lon is not None
            else None
        )
        rows.append((o.name, km))
    return sorted(rows, key=lambda r: (r[1] is None, r[1] or 0, r[0]))


def _reason(contact: LocalContact, names: dict[str, str], place: Place) -> str:
    network = names.get(contact.network, contact.network)
    if contact.how == "competence":
        if contact.competent == 1:
            return (
                f"ligne de compétence : c'est le seul bureau {network} prévu pour la "
                f"commune {place.insee}"
            )
        return (
            f"lignes de compétence : {contact.competent} bureaux {network} prévus pour "
            f"la commune {place.insee} ; "
            + (
                f"le plus proche, à {_km(contact.km)}"
                if contact.km is not None
                else "aucune distance calculable : le premier par son nom"
            )
        )
    if contact.how == "nearest":
        return (
            f"aucune ligne de compétence pour la commune : le bureau {network} le plus "
            f"proche du département, à {_km(contact.km)}"
        )
    return (
        "aucune ligne de compétence et aucune distance calculable : un bureau "
        f"{network} du département"
        + (f" (lien vers la liste : {contact.finder})" if contact.finder else "")
    )


def _contact_lines(
    label: str,
    contact: LocalContact,
    directory: LocalDirectory,
    names: dict[str, str],
    place: Place,
) -> list[str]:
    o = contact.office
    details = " · ".join(
        x
        for x in (
            o.address,
            o.phone and f"tél. {o.phone}",
            f"fiche modifiée le {_date(o.modified)}",
        )
        if x
    )
    lines = [
        f"{label} : {o.name}",
        f"  {details}",
        f"  Pourquoi : {_reason(contact, names, place)}.",
    ]
    candidates = _candidates(directory, contact, place)
    if len(candidates) > 1:
        lines.append("  Parmi :")
        lines += [
            f"    - {name} : {_km(km)}" + ("  ← choisi" if name == o.name else "")
            for name, km in candidates
        ]
    macros: Any = rendering.make_environment().get_template("_local.j2").module
    why = macros.why(contact)
    lines.append(f"  La fiche dit : « {str(why).strip()} »")
    return lines


def recap_text(
    knowledge: Knowledge,
    directory: LocalDirectory,
    place: Place,
    situation: str,
    disability: bool,
    handoff: bool = False,
) -> str:
    """ "Ma fiche" as the person would get it, from the same engine and templates.
    `handoff`: this install takes contact requests (CLEA_ADVISER_CHAT_ID is set)."""
    engine = Engine(knowledge, handoff_enabled=handoff, local_directory=directory)
    data: dict = {
        "place": {
            "c": place.commune,
            "d": place.departement,
            "p": place.postal_code,
            "i": place.insee,
        }
    }
    if handoff:
        data["handoff_to"] = ""  # the advisers' shared chat, as for a person without a link
    s = Session(
        "explain",
        state="recap",
        answers={"situation": situation, "disability": "yes" if disability else "no"},
        data=data,
    )
    lines = []
    for reply in engine.screen(s):
        lines.append(re.sub(r"</?b>", "", reply.text))
        for row in reply.buttons:
            lines += [
                f"[{b.label}]" + (f" {b.url}" if isinstance(b, LinkButton) and b.url else "")
                for b in row
            ]
    return "\n".join(lines)


def explain(
    knowledge: Knowledge,
    settings: OpenDataSettings,
    directory: LocalDirectory,
    place: Place,
    situation: str,
    disability: bool,
    handoff: bool = False,
) -> str:
    names = {n.id: n.name for n in settings.networks}
    here, origin = locate(directory, place)
    where = {
        "town_hall": "sa mairie (annuaire)",
        "postal_code": "la table des codes postaux (peut être le point d'une commune "
        "voisine du même code postal)",
    }.get(origin, "aucune position")
    lines = [
        f"Lieu : {place.label()}" + (f", code INSEE {place.insee}" if place.insee else ""),
        f"Position de la commune : {where}" + (f" ({here[0]:.4f}, {here[1]:.4f})" if here else ""),
    ]
    network = network_for(situation, disability, place)
    who = SITUATIONS.get(situation, situation) + (", avec un handicap" if disability else "")
    if network:
        lines.append(f"Situation : {who} → réseau {names.get(network, network)}")
    elif situation == "job_seeker" and place.departement in NO_FRANCE_TRAVAIL:
        lines.append(
            f"Situation : {who} → France Travail n'opère pas ici : aucun réseau local nommé"
        )
    else:
        lines.append(
            f"Situation : {who} → pas de réseau local (contact national ; "
            "France services pour de l'aide sur place)"
        )
    local = select_local(directory, place, situation, disability)
    assert local is not None
    lines.append("")
    if local.first:
        if network and local.first.network != network:
            lines.append(
                f"Aucun bureau {names.get(network, network)} ici : "
                f"{names.get(local.first.network)} à la place."
            )
        lines += _contact_lines("À voir en premier", local.first, directory, names, place)
    else:
        lines.append(
            "À voir en premier : aucun bureau local (la fiche donne le contact "
            "national, ou dit qu'elle n'a pas de contact vérifié)"
        )
    if local.help_place:
        lines += _contact_lines("Aide sur place", local.help_place, directory, names, place)
    lines.append("")
    if local.offers:
        lines.append(
            f"Organismes CléA ({place.departement}), les plus actifs d'abord : "
            + " ; ".join(f"{o.name} ({o.sessions} sessions)" for o in local.offers)
        )
    else:
        lines.append(f"Organismes CléA ({place.departement}) : aucun dans le catalogue")
    lines.append(
        f"Données : annuaire installé le {_date(directory.installed.date().isoformat())}"
        f", fiches modifiées jusqu'au {_date(directory.annuaire_modified)}, "
        f"catalogue Mon Compte Formation du {_date(directory.extracted)} "
        f"({directory.path})"
    )
    lines += [
        "",
        "--- Ma fiche, telle que la personne la reçoit ---",
        recap_text(knowledge, directory, place, situation, disability, handoff),
    ]
    return "\n".join(lines)


def find_place(text: str) -> tuple[Place | None, str]:
    """The one place the text names, or None and a message saying what to type."""
    result = geography.lookup(text)
    if result.found:
        return result.found, ""
    if result.places:
        shown = ", ".join(f"{p.label()} {p.postal_code or ''}".strip() for p in result.places[:10])
        return None, (
            f"« {text} » désigne plusieurs lieux : {shown}. Précisez, par exemple "
            "« nom de la commune + code postal »."
        )
    return None, f"« {text} » : lieu inconnu ({result.problem})."


def run(
    place_text: str,
    situation: str,
    disability: bool,
    path: Path,
    knowledge: Knowledge,
    settings: OpenDataSettings,
    handoff: bool = False,
) -> tuple[int, str]:
    place, problem = find_place(place_text)
    if place is None:
        return 1, problem
    if not path.exists():
        return 1, (
            f"Aucun annuaire installé ({path}) : la fiche donne les contacts "
            "nationaux. Lancez clea-bot directory update."
        )
    directory = LocalDirectory(path)
    try:
        return 0, explain(knowledge, settings, directory, place, situation, disability, handoff)
    finally:
        directory.close()
