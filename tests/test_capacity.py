"""The achievement possibilities frontier and capacity scores.

Small inputs first, with the right answer worked out by hand: GDP per capita of 1 000, 10 000 and
100 000 international $ sit at equal steps of ln(10) on the frontier's axis, so the frontier
halfway between two vertices (at 10^4.5 = 31 623 $) is the mean of their values. Then the real
data: every score between 0 and 100, a country on the frontier scores 100, and the command line.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from core import capacity, store
from core.__main__ import main

HALFWAY = 10 ** 4.5  # 31 622.78 $: halfway between 10 000 and 100 000 on a log scale


def test_envelope_passes_through_the_best_and_is_linear_in_log_gdp_between_them():
    gdp = [1_000, 10_000, 100_000, 10_000, HALFWAY]
    values = [50, 70, 80, 60, 74]
    xs, ys = capacity.fit_upper_envelope(np.log(gdp), values)
    assert np.allclose(np.exp(xs), [1_000, 10_000, 100_000]) and ys.tolist() == [50, 70, 80]
    points = pd.DataFrame({"geo": list("ABCDE"), "year": 2020, "group": "total", "value": values,
                           "gdp_per_capita_ppp": gdp, "log_gdp": np.log(gdp)})
    frontier = capacity.fit_frontier(points, "higher_is_better", "percent")
    assert frontier.achievement_at(HALFWAY) == pytest.approx(75.0)
    assert frontier.score(74, HALFWAY) == pytest.approx(100 * 74 / 75)
    assert frontier.score(60, 10_000) == pytest.approx(100 * 60 / 70)
    assert frontier.countries_on_frontier == ["A", "B", "C"]


def test_envelope_is_concave_a_point_below_the_chord_is_not_on_it():
    xs, ys = capacity.fit_upper_envelope(np.log([1_000, 10_000, 100_000]), [50, 55, 80])
    assert ys.tolist() == [50, 80]
    assert np.interp(np.log(10_000), xs, ys) == pytest.approx(65.0)  # chord from 50 to 80, halfway


def test_envelope_is_increasing_flat_after_the_best_value():
    points = pd.DataFrame({"geo": ["A", "B", "C"], "year": 2020, "group": "total", "value": [50, 70, 60],
                           "gdp_per_capita_ppp": [1_000, 10_000, 100_000]})
    points["log_gdp"] = np.log(points["gdp_per_capita_ppp"])
    frontier = capacity.fit_frontier(points, "higher_is_better", "percent")
    assert frontier.achievement_at(100_000) == pytest.approx(70.0)
    assert frontier.achievement_at(1_000_000) == pytest.approx(70.0)
    assert frontier.score(60, 100_000) == pytest.approx(100 * 60 / 70)
    assert math.isnan(float(frontier.achievement_at(500)))  # below the poorest point: undefined


def test_single_and_collinear_points():
    xs, ys = capacity.fit_upper_envelope([2.0, 2.0], [3.0, 5.0])
    assert (xs.tolist(), ys.tolist()) == ([2.0], [5.0])
    xs, ys = capacity.fit_upper_envelope([0.0, 1.0, 2.0], [0.0, 1.0, 2.0])
    assert np.interp(1.0, xs, ys) == pytest.approx(1.0)
    with pytest.raises(capacity.CapacityError):
        capacity.fit_upper_envelope([], [])


def test_lower_is_better_is_inverted_before_the_frontier():
    assert capacity.to_achievement([10.0, 2.5], "lower_is_better", "percent").tolist() == [90.0, 97.5]
    assert capacity.to_achievement([120.0], "lower_is_better", "per_100000").tolist() == [99_880.0]
    with pytest.raises(capacity.CapacityError, match="cannot invert"):
        capacity.to_achievement([3.0], "lower_is_better", "EUR")


def observations(rows: list[tuple], indicator: str = "work.employment_rate") -> pd.DataFrame:
    """(geo, group, value, flags) rows for 2020, sex T, age Y15-64."""
    frame = pd.DataFrame(rows, columns=["geo", "group", "value", "flags"])
    return frame.assign(indicator=indicator, dataset="TEST", geo_level="national", period=2020, sex="T",
                        age="Y15-64", unit="percent")


GDP = pd.DataFrame({"geo": ["AUT", "BEL", "CHE", "DNK", "LUX"], "year": 2020,
                    "gdp_per_capita_ppp": [1_000, 10_000, 100_000, HALFWAY, 10_000]})


def scores_by_place(frame: pd.DataFrame, polarity: str = "higher_is_better", floor=0.0) -> pd.DataFrame:
    from core.gaps import compute_gaps

    gaps = compute_gaps(frame, polarity, year=2020)
    return capacity.compute_capacity_scores(gaps, frame, GDP, polarity, "percent", floor=floor).set_index("geo")


EMPLOYMENT = observations([
    ("AUT", "nationals", 50, ""), ("AUT", "non_nationals", 40, ""),
    ("BEL", "nationals", 70, ""), ("BEL", "non_nationals", 56, ""),
    ("CHE", "nationals", 80, ""), ("CHE", "non_nationals", 80, ""),
    ("DNK", "nationals", 74, ""), ("DNK", "non_nationals", 60, ""),
    ("LUX", "nationals", 65, ""), ("LUX", "non_nationals", 72, ""),
])


def test_scores_of_both_groups_and_the_capacity_gap_by_hand():
    scores = scores_by_place(EMPLOYMENT)
    # the frontier rests on the nationals of AUT, BEL and CHE; at DNK's GDP it is 75
    assert scores.loc["AUT", ["score_reference", "score_group", "capacity_gap"]].tolist() == pytest.approx([100, 80, 20])
    assert scores.loc["BEL", ["score_reference", "score_group"]].tolist() == pytest.approx([100, 80])
    assert scores.loc["CHE", ["score_reference", "score_group", "capacity_gap"]].tolist() == pytest.approx([100, 100, 0])
    assert scores.loc["DNK", "frontier_value"] == pytest.approx(75.0)
    assert scores.loc["DNK", ["score_reference", "score_group"]].tolist() == pytest.approx([100 * 74 / 75, 80.0])
    assert scores.loc["DNK", "capacity_gap"] == pytest.approx(100 * 14 / 75)
    assert scores.loc["DNK", "frontier_countries"] == 5 and scores.loc["DNK", "frontier_support_countries"] == 3


def test_migrants_above_the_frontier_are_capped_at_100_and_marked():
    scores = scores_by_place(EMPLOYMENT)
    # Luxembourg's non-nationals (72%) beat the frontier of 70% at 10 000 $: they do not move it
    assert scores.loc["LUX", "score_reference"] == pytest.approx(100 * 65 / 70)
    assert scores.loc["LUX", "score_group"] == 100.0
    assert bool(scores.loc["LUX", "above_frontier"]) is True
    assert "migrant group above the frontier" in scores.loc["LUX", "score_note"]
    assert not scores.drop(index="LUX")["above_frontier"].any()


def test_a_low_reliability_value_does_not_shape_the_frontier():
    frame = pd.concat([EMPLOYMENT, observations([("DNK", "total", 90, "u")])], ignore_index=True)
    scores = scores_by_place(frame)
    assert scores.loc["DNK", "frontier_value"] == pytest.approx(75.0)


def test_unemployment_is_scored_on_the_share_not_unemployed():
    frame = observations([("AUT", "nationals", 10, ""), ("AUT", "non_nationals", 20, ""),
                          ("BEL", "nationals", 5, ""), ("BEL", "non_nationals", 24, "")], indicator="work.unemployment_rate")
    scores = scores_by_place(frame, polarity="lower_is_better")
    assert scores.loc["BEL", "frontier_value"] == pytest.approx(5.0)  # the lowest rate attainable at 10 000 $
    assert scores.loc["BEL", ["score_reference", "score_group"]].tolist() == pytest.approx([100.0, 100 * 76 / 95])
    assert scores.loc["AUT", "score_group"] == pytest.approx(100 * 80 / 90)


def test_serf_floor_rescales_from_the_lowest_achievement():
    scores = scores_by_place(EMPLOYMENT, floor=None)  # floor = 50, the lowest nationals' value
    assert scores.loc["DNK", "score_reference"] == pytest.approx(100 * (74 - 50) / (75 - 50))
    assert scores.loc["DNK", "score_group"] == pytest.approx(100 * (60 - 50) / (75 - 50))


def test_no_gdp_no_score_and_the_reason_is_given():
    frame = pd.concat([EMPLOYMENT, observations([("FRA", "nationals", 70, ""), ("FRA", "non_nationals", 60, "")])])
    scores = scores_by_place(frame)
    assert np.isnan(scores.loc["FRA", "score_reference"])
    assert scores.loc["FRA", "score_note"] == "no GDP per capita for FRA in 2020"


# ---------------------------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def db_path(tmp_path_factory):
    return store.build_store(tmp_path_factory.mktemp("capacity") / "c.duckdb")


@pytest.fixture(scope="module")
def connection(db_path):
    root = store.open_database(db_path)
    yield root
    root.close()


OUTCOMES = ["work.employment_rate", "work.unemployment_rate", "work.activity_rate", "health.bad_self_perceived_health",
            "education.tertiary_attainment_share", "standard_of_living.median_equivalised_net_income"]


@pytest.mark.parametrize("indicator", OUTCOMES)
def test_every_real_score_is_between_0_and_100(connection, indicator):
    scores = capacity.fetch_capacity_scores(connection, indicator, sex="F" if indicator == "work.activity_rate" else None)
    scored = scores.dropna(subset=["score_reference"])
    assert len(scored) >= 30
    for column in ("score_reference", "score_group"):
        assert scored[column].between(0, 100).all(), scored.loc[~scored[column].between(0, 100), ["geo", "year", column]]
    assert scored["frontier_support_countries"].le(scored["frontier_countries"]).all()


def test_a_country_on_the_real_frontier_scores_100(connection):
    from core import queries

    observations_ = queries.fetch_observations(connection, "work.employment_rate", sex="T", age="Y15-64")
    frontier = capacity.compute_frontiers(observations_, capacity.fetch_gdp(connection), "higher_is_better", "percent")[("T", "Y15-64")]
    nationals_on_frontier = frontier.support.loc[frontier.support["group"] == "nationals"]
    assert not nationals_on_frontier.empty
    best = nationals_on_frontier.iloc[-1]
    scores = capacity.fetch_capacity_scores(connection, "work.employment_rate", geos=[best["geo"]], year=int(best["year"]),
                                            sex="T", group="non_nationals")
    assert scores.iloc[0]["score_reference"] == pytest.approx(100.0)
    assert len(frontier.countries_on_frontier) < frontier.countries / 3  # it rests on a few countries


def test_germany_2023_employment_scores_are_its_values_over_the_frontier(connection):
    scores = capacity.fetch_capacity_scores(connection, "work.employment_rate", geos=["DEU"], year=2023, sex="T",
                                            group="non_nationals")
    row = scores.iloc[0]
    assert row["gdp_per_capita_ppp"] == pytest.approx(63_140.2, abs=0.1)
    assert 79.7 < row["frontier_value"] <= 100
    assert row["score_reference"] == pytest.approx(100 * 79.7 / row["frontier_value"])
    assert row["score_group"] == pytest.approx(100 * 65.8 / row["frontier_value"])
    assert row["capacity_gap"] == pytest.approx(100 * 13.9 / row["frontier_value"])


def test_eu27_has_a_gdp_per_capita_from_the_world_bank_european_union(connection):
    gdp = capacity.fetch_gdp(connection)
    eu = gdp.loc[(gdp["geo"] == "EU27_2020") & (gdp["year"] == 2023), "gdp_per_capita_ppp"]
    assert eu.iloc[0] == pytest.approx(53_861.8, abs=0.1)
    assert not gdp["geo"].isin(["HIC", "EUU", "LMY"]).any()


def test_command_line_prints_scores_per_place(db_path, capsys):
    status = main(["capacity", "--indicator", "work.employment_rate", "--geo", "DEU", "--geo", "France", "--year", "2023",
                   "--format", "json", "--db", str(db_path)])
    rows = json.loads(capsys.readouterr().out)
    assert status == 0 and [row["geo"] for row in rows] == ["DEU", "FRA"]
    germany = rows[0]
    for key in ("gdp_per_capita_ppp", "frontier_value", "score_reference", "score_group", "capacity_gap"):
        assert isinstance(germany[key], float), key
    assert germany["capacity_gap"] == pytest.approx(germany["score_reference"] - germany["score_group"])


def test_command_line_refuses_a_structural_indicator(db_path, capsys):
    status = main(["capacity", "--indicator", "work.ratification_icmw", "--db", str(db_path)])
    assert status == 2
    assert "structural" in capsys.readouterr().err
