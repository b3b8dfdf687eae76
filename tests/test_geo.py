"""Place codes and names in every spelling analysts bring, resolved to ISO alpha-3 or an aggregate."""
from __future__ import annotations

import pytest

from core.geo import is_aggregate, name_of, resolve_column, resolve_geo_code, resolve_place


@pytest.mark.parametrize(("text", "code"), [
    ("AT", "AUT"), ("AUT", "AUT"), ("aut", "AUT"), ("040", "AUT"), ("40", "AUT"), (" AT ", "AUT"),
    ("DE", "DEU"), ("DEU", "DEU"), ("276", "DEU"),
    ("FR", "FRA"), ("US", "USA"),
])
def test_iso_alpha2_alpha3_and_numeric_codes(text, code):
    place = resolve_place(text)
    assert place is not None
    assert (place.code, place.level) == (code, "national")


@pytest.mark.parametrize(("text", "code", "name"), [
    ("EL", "GRC", "Greece"), ("GR", "GRC", "Greece"),
    ("UK", "GBR", "United Kingdom"), ("GB", "GBR", "United Kingdom"),
    ("XK", "XKX", "Kosovo"), ("XKX", "XKX", "Kosovo"),
])
def test_eurostat_country_codes(text, code, name):
    place = resolve_place(text)
    assert (place.code, place.level, place.name) == (code, "national", name)


@pytest.mark.parametrize(("text", "code"), [
    ("Türkiye", "TUR"), ("Turkey", "TUR"),
    ("Czechia", "CZE"), ("Czech Republic", "CZE"),
    ("Côte d'Ivoire", "CIV"), ("Cote d'Ivoire", "CIV"),
    ("Germany (until 1990 former territory of the FRG)", "DEU"),
    ("Kosovo*", "XKX"),
    ("Kosovo (under United Nations Security Council Resolution 1244/99)", "XKX"),
    ("United Kingdom", "GBR"), ("Greece", "GRC"), ("Namibia", "NAM"),
    ("North Macedonia", "MKD"), ("Bosnia and Herzegovina", "BIH"),
])
def test_country_names_in_statistical_spellings(text, code):
    place = resolve_place(text)
    assert place is not None, text
    assert (place.code, place.level) == (code, "national")


def test_na_is_namibia_not_missing():
    place = resolve_place("NA")
    assert (place.code, place.level, place.name) == ("NAM", "national", "Namibia")
    assert resolve_geo_code("NAM") == "NAM"


def test_na_among_alpha2_codes_is_namibia():
    places = resolve_column(["DE", "FR", "NA", "ZA", "BW", "EL"])
    assert places["NA"].code == "NAM"
    assert places["EL"].code == "GRC"


def test_na_in_a_column_of_alpha3_codes_is_a_missing_code_not_namibia():
    places = resolve_column(["DEU", "FRA", "NAM", "ZAF", "BWA", "NA"])
    assert places["NA"] is None
    assert places["NAM"].code == "NAM"
    assert places["DEU"].code == "DEU"


@pytest.mark.parametrize(("text", "code"), [
    ("EU27_2020", "EU27_2020"), ("EA20", "EA20"), ("EU28", "EU28"), ("EA19", "EA19"),
    ("European Union - 27 countries (from 2020)", "EU27_2020"),
    ("European Union - 28 countries (2013-2020)", "EU28"),
    ("Euro area – 20 countries (from 2023)", "EA20"),
    ("Euro area - 19 countries  (2015-2022)", "EA19"),
    ("European Union (EU6-1958, EU9-1973, EU10-1981, EU12-1986, EU15-1995, EU25-2004, EU27-2007, EU28-2013, EU27-2020)", "EU"),
])
def test_aggregate_codes_and_labels_are_regional(text, code):
    place = resolve_place(text)
    assert place is not None, text
    assert (place.code, place.level) == (code, "regional")
    assert is_aggregate(place.code)


def test_aggregate_names_are_readable():
    assert name_of("EU27_2020") == "European Union - 27 countries (from 2020)"
    assert name_of("DEU") == "Germany"


@pytest.mark.parametrize("text", ["WLD", "World"])
def test_the_world_is_global(text):
    place = resolve_place(text)
    assert (place.code, place.level) == ("WLD", "global")
    assert is_aggregate("WLD")


def test_countries_are_not_aggregates():
    assert not is_aggregate("DEU")
    assert not is_aggregate("GRC")


@pytest.mark.parametrize("text", ["Atlantis", "xyz", "ZZ", "999", "0", "", "   ", "DE21", None])
def test_unknown_places_resolve_to_none(text):
    assert resolve_place(text) is None
    assert resolve_geo_code(text) is None


def test_an_unknown_local_code_keeps_its_own_name():
    assert name_of("DE21") == "DE21"


@pytest.mark.parametrize("text", ["T", "F", "t", "f", "TRUE", "True", "FALSE", "False"])
def test_codes_that_look_like_booleans_are_neither_booleans_nor_countries(text):
    assert resolve_place(text) is None
