"""Queries a page relies on, on the real embedded data."""
from __future__ import annotations

import duckdb
import pytest

from core import queries


@pytest.fixture
def connection(built_database):
    con = duckdb.connect(str(built_database), read_only=True)
    yield con
    con.close()


def test_default_year_is_recent_and_nearly_as_wide_as_the_widest(connection):
    options = queries.fetch_indicator_options(connection, "work.employment_rate")
    assert options["best_year"] == 2024
    coverage = connection.execute(
        """SELECT period, count(*) FROM (SELECT period, geo FROM observations WHERE indicator = 'work.employment_rate'
           AND value IS NOT NULL AND "group" <> 'total' GROUP BY ALL HAVING count(DISTINCT "group") >= 2) GROUP BY period"""
    ).fetchall()
    widest = max(count for _, count in coverage)
    assert dict(coverage)[2024] >= 0.9 * widest


def test_options_list_only_what_the_indicator_has(connection):
    options = queries.fetch_indicator_options(connection, "work.activity_rate")
    assert options["sexes"] == ["F", "M"]  # the country-of-birth file has no total
    assert options["groups"] == ["foreign_born", "native_born"]
    assert options["years"][0] == 2020 and options["years"][-1] == 1995


def test_gaps_for_a_year_and_for_latest_agree_where_latest_is_that_year(connection):
    latest = queries.fetch_gaps(connection, "work.employment_rate", geos=["DEU"], sex="T", group="non_nationals")
    assert latest["year"].tolist() == [2024]
    same = queries.fetch_gaps(connection, "work.employment_rate", geos=["DEU"], sex="T", group="non_nationals", year=2024)
    assert same["disadvantage"].tolist() == latest["disadvantage"].tolist()
    assert latest["geo_name"].tolist() == ["Germany"]


def test_unknown_indicator_is_a_key_error_naming_it(connection):
    with pytest.raises(KeyError, match="no.such"):
        queries.fetch_gaps(connection, "no.such")


def test_options_of_every_indicator_at_once_equal_those_asked_one_by_one(connection):
    table = queries.fetch_options_table(connection)
    assert ("work.employment_rate", "non_nationals") in table and ("work.employment_rate", None) in table
    for (indicator, group), options in table.items():
        assert options == queries.fetch_indicator_options(connection, indicator, group), (indicator, group)


def test_a_chosen_comparison_offers_only_years_and_ages_where_its_pair_has_values(connection):
    every = queries.fetch_indicator_options(connection, "education.tertiary_attainment_share")
    born_abroad = queries.fetch_indicator_options(connection, "education.tertiary_attainment_share", "non_eu_born")
    assert set(born_abroad["years"]) <= set(every["years"])
    pair_years = {year for (year,) in connection.execute(
        """SELECT DISTINCT period FROM observations WHERE indicator = 'education.tertiary_attainment_share'
           AND value IS NOT NULL AND "group" IN ('non_eu_born', 'native_born')""").fetchall()}
    assert set(born_abroad["years"]) == pair_years
    assert born_abroad["groups"] == every["groups"] == ["eu_born", "native_born", "non_eu_born"]
    nothing = queries.fetch_indicator_options(connection, "education.tertiary_attainment_share", "refugees")
    assert nothing["years"] == [] and nothing["best_year"] is None and nothing["groups"] == every["groups"]
