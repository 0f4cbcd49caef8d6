"""Postal codes and commune names across France, Corsica and overseas."""

from __future__ import annotations

import pytest

from knowledge.geography import DEPARTEMENT_NAME, DEPARTEMENT_REGION, REGIONS, lookup

# (typed, département, région) — built from known places and checked against the dataset.
PLACES = [
    ("42000", "42", "Auvergne-Rhône-Alpes"),
    ("st etienne", "42", "Auvergne-Rhône-Alpes"),
    ("saint-étienne", "42", "Auvergne-Rhône-Alpes"),
    ("SAINT ETIENNE", "42", "Auvergne-Rhône-Alpes"),
    ("marseile", "13", "Provence-Alpes-Côte d'Azur"),
    ("13001", "13", "Provence-Alpes-Côte d'Azur"),
    ("marseille 13eme", "13", "Provence-Alpes-Côte d'Azur"),
    ("6000", "06", "Provence-Alpes-Côte d'Azur"),
    ("06000", "06", "Provence-Alpes-Côte d'Azur"),
    ("75 011", "75", "Île-de-France"),
    ("paris 15", "75", "Île-de-France"),
    ("j'habite à Lyon", "69", "Auvergne-Rhône-Alpes"),
    ("lyon 3e", "69", "Auvergne-Rhône-Alpes"),
    ("1000", "01", "Auvergne-Rhône-Alpes"),
    ("toulouze", "31", "Occitanie"),
    ("Besancon", "25", "Bourgogne-Franche-Comté"),
    ("chateau thierry", "02", "Hauts-de-France"),
    ("l isle sur la sorgue", "84", "Provence-Alpes-Côte d'Azur"),
    ("le puy en velay", "43", "Auvergne-Rhône-Alpes"),
    ("67000", "67", "Grand Est"),
    ("Brest", "29", "Bretagne"),
    ("59000", "59", "Hauts-de-France"),
    ("St Malo", "35", "Bretagne"),
    ("Caen", "14", "Normandie"),
    ("Orleans", "45", "Centre-Val de Loire"),
    ("Nantes", "44", "Pays de la Loire"),
    ("Limoges", "87", "Nouvelle-Aquitaine"),
    ("Amiens", "80", "Hauts-de-France"),
    ("ajaccio", "2A", "Corse"),
    ("20000", "2A", "Corse"),
    ("Bastia", "2B", "Corse"),
    ("Porto-Vecchio", "2A", "Corse"),
    ("Pointe-a-Pitre", "971", "Guadeloupe"),
    ("97110", "971", "Guadeloupe"),
    ("fort de france", "972", "Martinique"),
    ("Cayenne", "973", "Guyane"),
    ("97400", "974", "La Réunion"),
    ("Mamoudzou", "976", "Mayotte"),
    ("93", "93", "Île-de-France"),
    ("2B", "2B", "Corse"),
]


@pytest.mark.parametrize(("typed", "departement", "region"), PLACES)
def test_place_maps_to_departement_and_region(typed, departement, region):
    result = lookup(typed)
    assert result.places, f"{typed}: {result.problem}"
    first = result.places[0]
    assert (first.departement, first.region_name) == (departement, region)


def test_homonyms_give_a_choice():
    result = lookup("Saint-Denis")
    deps = {p.departement for p in result.places}
    assert {"93", "974"} <= deps and result.found is None


def test_postal_code_shared_by_several_communes():
    result = lookup("20200")
    assert len(result.places) > 1 and {p.departement for p in result.places} == {"2B"}


def test_corsica_20_is_two_departements():
    assert {p.departement for p in lookup("20").places} == {"2A", "2B"}


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("abc", "unknown_name"),
        ("99999", "unknown_code"),
        ("00000", "bad_code"),
        ("123", "bad_code"),
        ("", "empty"),
        ("12 34 56 78", "bad_code"),
    ],
)
def test_bad_input(typed, problem):
    assert lookup(typed).problem == problem


def test_overseas_collectivities_are_flagged_not_covered():
    place = lookup("97500").places[0]
    assert place.departement == "975" and not place.covered
    assert lookup("42000").places[0].covered


def test_reference_tables():
    metropolitan = [d for d in DEPARTEMENT_NAME if len(d) == 2]
    assert len(metropolitan) == 96
    assert {"971", "972", "973", "974", "976"} <= set(DEPARTEMENT_NAME)
    assert len({DEPARTEMENT_REGION[d] for d in metropolitan}) == 13
    assert REGIONS["84"] == "Auvergne-Rhône-Alpes" and DEPARTEMENT_REGION["2A"] == "94"


def test_a_postal_code_with_many_communes_lists_them_all():
    names = {p.commune for p in lookup("04200").places}
    assert len(names) == 19 and "Valbelle" in names and "Sisteron" in names


@pytest.mark.parametrize(
    "typed, commune, departement, insee",
    [
        ("valbelle 04200", "Valbelle", "04", "04229"),
        ("saint denis 97400", "Saint-Denis", "974", "97411"),
        ("04200 valbele", "Valbelle", "04", "04229"),  # a typo among that code's communes
        ("69003", "Lyon", "69", "69383"),  # the arrondissement, for the competence rows
        ("lyon 3e", "Lyon", "69", "69383"),
        ("paris 15", "Paris", "75", "75115"),
        ("13001", "Marseille", "13", "13201"),
    ],
)
def test_name_and_code_together_and_arrondissements(typed, commune, departement, insee):
    places = lookup(typed).places
    assert len(places) == 1, places
    assert (places[0].commune, places[0].departement, places[0].insee) == (
        commune,
        departement,
        insee,
    )


@pytest.mark.parametrize(
    "typed, departement",
    [("la reunion", "974"), ("Guyane", "973"), ("mayotte", "976"), ("ardeche", "07")],
)
def test_a_departement_name_gives_the_departement(typed, departement):
    places = lookup(typed).places
    assert [(p.commune, p.departement) for p in places] == [(None, departement)]


@pytest.mark.parametrize(
    "typed, phrase",
    [
        ("97400", "à La Réunion"),
        ("97600", "à Mayotte"),
        ("97300", "en Guyane"),
        ("42000", "en Auvergne-Rhône-Alpes"),
    ],
)
def test_region_prepositions(typed, phrase):
    assert lookup(typed).places[0].region_phrase == phrase


def test_every_commune_is_found_by_the_key_of_its_name():
    """The readings that take only an exact commune name skip the look-up when
    `is_commune_key` says no commune has that name (dialogs/reading.py): that holds only
    while each commune's stored search key is `name_key` of its name (tools/build_geo.py)."""
    from knowledge import geography
    from knowledge.text import name_key

    communes = geography._index().communes
    assert all(c.key == name_key(c.name) for c in communes)
    assert geography.is_commune_key(name_key("Saint-Étienne"))
    assert not geography.is_commune_key(name_key("formation"))
