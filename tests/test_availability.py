"""Data availability (core.availability) on the real embedded data, in a database of the test's own.

What a user of the "what data are missing" view relies on: Germany's employment rate has values for
non-nationals and nationals from 1995 to 2024; an indicator of the catalogue without any data is
'none' everywhere; a place with figures for nationals only shows 'one group only'; context figures
are 'whole population only'. The rules of usable values (confidential and not-applicable values do
not count, a real 0.0 does, like with like) are checked on a few rows added to a small database.
"""
from __future__ import annotations

import pytest

from core import availability, store
from core.catalogue import load_default_catalogue


@pytest.fixture(scope="module")
def connection(tmp_path_factory):
    path = tmp_path_factory.mktemp("availability") / "rightsgap.duckdb"
    root = store.open_database(path)
    store.ensure_embedded_data(root)
    yield root
    root.close()


@pytest.fixture(scope="module")
def catalogue():
    return load_default_catalogue()


@pytest.fixture(scope="module")
def everything(connection, catalogue):
    return availability.fetch_availability(connection, [i.code for i in catalogue])


def _row(frame, indicator, geo):
    rows = frame.loc[(frame["indicator"] == indicator) & (frame["geo"] == geo)]
    assert len(rows) == 1, (indicator, geo)
    return rows.iloc[0]


def test_germany_employment_rate_has_both_groups_every_year_from_1995_to_2024(everything):
    row = _row(everything, "work.employment_rate", "DEU")
    assert row["status"] == "both_groups"
    assert row["years_both_groups"] == list(range(1995, 2025))
    assert (row["first_year"], row["last_year"]) == (1995, 2024)
    assert row["groups"] == ["nationals", "non_nationals", "total"]
    assert row["geo_level"] == "national"


def test_an_indicator_without_data_is_none_in_every_place(everything):
    rows = everything.loc[everything["indicator"] == "health.firewall_health_services"]
    places = everything["geo"].nunique()
    assert len(rows) == places > 40
    assert set(rows["status"]) == {"none"}
    assert all(years == [] for years in rows["years_both_groups"])


def test_every_catalogue_indicator_meets_every_place_once(everything, catalogue):
    assert len(everything) == len(catalogue) * everything["geo"].nunique()
    assert list(dict.fromkeys(everything["indicator"])) == [i.code for i in catalogue]


def test_nationals_only_is_one_group_and_context_is_whole_population_only(everything):
    # Bosnia and Herzegovina: the unemployment rate of non-nationals is never published, only nationals'
    bosnia = _row(everything, "work.unemployment_rate", "BIH")
    assert bosnia["status"] == "one_group"
    assert bosnia["groups"] == ["nationals", "total"]
    assert bosnia["years_both_groups"] == []
    assert _row(everything, "context.migrant_share_of_population", "DEU")["status"] == "total_only"


def test_regional_aggregates_keep_their_level(everything):
    eu = _row(everything, "health.bad_self_perceived_health", "EU27_2020")
    assert eu["geo_level"] == "regional"
    assert eu["status"] == "both_groups"


def test_summary_counts_places_per_status(everything):
    summary = availability.summarise_availability(everything).set_index("indicator")
    employment = summary.loc["work.employment_rate"]
    assert employment["both_groups"] == 35
    assert employment["places"] == everything["geo"].nunique()
    assert (summary["both_groups"] + summary["one_group"] + summary["total_only"] + summary["none"] == summary["places"]).all()
    assert summary.loc["health.firewall_health_services", "none"] == summary.loc["health.firewall_health_services", "places"]


def test_matrix_has_indicators_as_rows_and_places_as_columns(everything):
    part = everything.loc[everything["indicator"].isin(["work.employment_rate", "health.firewall_health_services"])
                          & everything["geo"].isin(["AUT", "DEU", "BIH"])]
    matrix = availability.build_availability_matrix(part)
    assert list(matrix.index) == ["health.firewall_health_services", "work.employment_rate"]
    assert matrix.loc["work.employment_rate", "DEU"] == "both_groups"
    assert matrix.loc["health.firewall_health_services", "AUT"] == "none"
    figure = availability.build_availability_heatmap(matrix, {"work.employment_rate": "Employment rate"}, {"DEU": "Germany"})
    heatmap = figure.data[0]
    assert list(heatmap.y) == ["health.firewall_health_services", "Employment rate"]
    assert "Germany · Employment rate<br>Migrants and their reference group" in [t for row in heatmap.text for t in row]


def test_places_can_be_given_and_unknown_places_are_none(connection):
    frame = availability.fetch_availability(connection, ["work.employment_rate"], geos=["FRA", "ZZZ"])
    assert frame["status"].tolist() == ["both_groups", "none"]
    assert availability.fetch_availability(connection, []).empty


def test_year_ranges_are_compact():
    assert availability.format_year_ranges([2004, 1995, 1996, 1997, 2001, 2003]) == "1995–1997, 2001, 2003–2004"
    assert availability.format_year_ranges([]) == ""


# --- The rules of usable values, on a few rows of a small database ------------------------------------

def _insert(connection, rows):
    columns = "indicator, dataset, geo, geo_level, period, sex, age, \"group\", unit, value, flags"
    connection.executemany(f"INSERT INTO observations ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


@pytest.fixture
def small(tmp_path):
    root = store.open_database(tmp_path / "small.duckdb")
    yield root
    root.close()


def test_confidential_and_not_applicable_values_do_not_count_but_zero_does(small):
    _insert(small, [
        ("x.a", "D", "AAA", "national", 2020, "T", "TOTAL", "nationals", "percent", 5.0, ""),
        ("x.a", "D", "AAA", "national", 2020, "T", "TOTAL", "non_nationals", "percent", 7.0, "c"),
        ("x.a", "D", "BBB", "national", 2020, "T", "TOTAL", "nationals", "percent", 5.0, ""),
        ("x.a", "D", "BBB", "national", 2020, "T", "TOTAL", "non_nationals", "percent", 0.0, ""),
        ("x.a", "D", "CCC", "national", 2020, "T", "TOTAL", "native_born", "percent", 5.0, ""),
        ("x.a", "D", "CCC", "national", 2020, "T", "TOTAL", "foreign_born", "percent", None, "z"),
        ("x.a", "D", "DDD", "national", 2021, "T", "TOTAL", "native_born", "percent", 5.0, "u"),
        ("x.a", "D", "DDD", "national", 2021, "T", "TOTAL", "foreign_born", "percent", 6.0, "u"),
    ])
    frame = availability.fetch_availability(small, ["x.a"]).set_index("geo")
    assert frame.loc["AAA", "status"] == "one_group"      # confidential: no value
    assert frame.loc["BBB", "status"] == "both_groups"    # a real 0.0 is a value
    assert frame.loc["CCC", "status"] == "one_group"      # not applicable: no value
    assert frame.loc["DDD", "status"] == "both_groups"    # low reliability still counts
    assert frame.loc["DDD", "years_both_groups"] == [2021]


def test_only_like_with_like_and_one_dimension_make_both_groups(small):
    _insert(small, [
        # females for one group, males for the other: not comparable
        ("x.b", "D", "AAA", "national", 2020, "F", "TOTAL", "nationals", "percent", 5.0, ""),
        ("x.b", "D", "AAA", "national", 2020, "M", "TOTAL", "non_nationals", "percent", 6.0, ""),
        # nationals and foreign-born: two dimensions, never compared
        ("x.b", "D", "BBB", "national", 2020, "T", "TOTAL", "nationals", "percent", 5.0, ""),
        ("x.b", "D", "BBB", "national", 2020, "T", "TOTAL", "foreign_born", "percent", 6.0, ""),
        # different years
        ("x.b", "D", "CCC", "national", 2019, "T", "TOTAL", "nationals", "percent", 5.0, ""),
        ("x.b", "D", "CCC", "national", 2020, "T", "TOTAL", "non_nationals", "percent", 6.0, ""),
        # irregular migrants alone: one group (no reference group exists for legal status)
        ("x.b", "D", "DDD", "local", 2020, "T", "TOTAL", "irregular", "percent", 40.0, ""),
        # whole population only
        ("x.b", "D", "EEE", "national", 2020, "T", "TOTAL", "total", "percent", 5.0, ""),
    ])
    frame = availability.fetch_availability(small, ["x.b", "x.none"]).set_index(["indicator", "geo"])
    assert [frame.loc[("x.b", geo), "status"] for geo in ("AAA", "BBB", "CCC", "DDD", "EEE")] == [
        "one_group", "one_group", "one_group", "one_group", "total_only"]
    assert frame.loc[("x.b", "DDD"), "geo_level"] == "local"
    assert set(frame.loc["x.none", "status"]) == {"none"}
