"""Which cost line a person gets: one line per situation, the same on every screen.

The lines themselves are content (knowledge/content/money.yaml); this module only decides
which one applies, from what the person told the bot (fit answers) and where they live.
The fit result, the FAQ answers about money and "Ma fiche" all ask `cost_key`, so the
three never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping

from knowledge.geography import OVERSEAS_COLLECTIVITIES, OWN_LABOUR_CODE

# Own labour codes, no national compte personnel de formation (clea-facts.md §12, H/M):
# Wallis-et-Futuna, French Polynesia, New Caledonia.
NO_CPF_TERRITORIES = frozenset(OWN_LABOUR_CODE)
# Overseas collectivities where no source we read says how training is paid for.
UNVERIFIED_TERRITORIES = frozenset(OVERSEAS_COLLECTIVITIES) - NO_CPF_TERRITORIES
# Employees credited 800 € a year (L6323-11-1): no CAP/BEP level, or a disability
# recognition (bénéficiaires de l'obligation d'emploi).
NO_CAP_BEP = frozenset({"none", "brevet_cfg"})

COST_KEYS = (
    "job_seeker",
    "employee",
    "employee_low",
    "employee_disability",
    "employee_own",
    "self_employed",
    "public_agent",
    "young",
    "disability",
    "no_cpf",
    "territory_unverified",
    "other",
)


def cpf_applies(departement: str | None) -> bool | None:
    """True where the national CPF applies, False where it does not, None when no source
    says (or the place is unknown)."""
    if departement is None:
        return None
    if departement in NO_CPF_TERRITORIES:
        return False
    if departement in UNVERIFIED_TERRITORIES:
        return None
    return True


def cost_key(answers: Mapping[str, str], departement: str | None = None) -> str:
    """The cost line for these fit answers (situation, diploma, disability) and place."""
    applies = cpf_applies(departement)
    if applies is False:
        return "no_cpf"
    if applies is None and departement is not None:
        return "territory_unverified"
    situation = answers.get("situation")
    disability = answers.get("disability") == "yes"
    if situation == "employee":
        if disability:
            return "employee_disability"
        if answers.get("diploma") in NO_CAP_BEP:
            return "employee_low"
        return "employee"
    if situation in ("job_seeker", "self_employed", "public_agent", "young"):
        return situation
    if disability:
        return "disability"
    return "other"
