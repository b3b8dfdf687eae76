"""The gap rules of DESIGN.md, one test per rule, with numbers worked out by hand.

Each test builds the few observations an analyst would have in front of them and checks what the
dashboard would show: the pp difference, the ratio, whether migrants are worse off, or that no gap
is shown at all.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core.gaps import MixedDimensionsError, classify_trend, compute_gaps


def observation(group: str, value: float | None, period: int = 2023, flags: str = "", **overrides) -> dict:
    """One observation row in the layout compute_gaps reads (Germany, employment rate, 15-64, total)."""
    row = {
        "indicator": "work.employment_rate", "dataset": "LFSA_ERGAN", "geo": "DEU", "geo_level": "national",
        "period": period, "sex": "T", "age": "Y15-64", "unit": "percent", "group": group,
        "value": np.nan if value is None else value, "flags": flags,
    }
    row.update(overrides)
    return row


def observations(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows))


def only_row(gaps: pd.DataFrame) -> pd.Series:
    assert len(gaps) == 1, gaps
    return gaps.iloc[0]


# ------------------------------------------------------------------------------------- measures


def test_employment_gap_measures_for_a_higher_is_better_indicator():
    gaps = compute_gaps(observations(observation("nationals", 80.0), observation("non_nationals", 60.0)),
                        "higher_is_better")
    row = only_row(gaps)
    assert (row.reference_group, row.group) == ("nationals", "non_nationals")
    assert (row.reference_value, row.value) == (80.0, 60.0)
    assert row.difference == pytest.approx(-20.0)          # 60 - 80 pp
    assert row.ratio == pytest.approx(0.75)                # 60 / 80
    assert row.relative_gap_pct == pytest.approx(-25.0)    # 100 * (60 - 80) / 80
    assert row.disadvantage == pytest.approx(20.0)         # migrants 20 pp worse off
    assert row.year == 2023


def test_unemployment_gap_measures_for_a_lower_is_better_indicator():
    gaps = compute_gaps(observations(observation("nationals", 5.0), observation("non_nationals", 12.0)),
                        "lower_is_better")
    row = only_row(gaps)
    assert row.difference == pytest.approx(7.0)
    assert row.ratio == pytest.approx(2.4)
    assert row.relative_gap_pct == pytest.approx(140.0)
    assert row.disadvantage == pytest.approx(7.0)          # more unemployment: worse off, positive


@pytest.mark.parametrize(("polarity", "expected_disadvantage"), [("higher_is_better", 2.0), ("lower_is_better", -2.0)])
def test_disadvantage_sign_follows_polarity_when_migrants_have_the_lower_value(polarity, expected_disadvantage):
    gaps = compute_gaps(observations(observation("nationals", 8.0), observation("non_nationals", 6.0)), polarity)
    row = only_row(gaps)
    assert row.difference == pytest.approx(-2.0)
    assert row.disadvantage == pytest.approx(expected_disadvantage)


def test_polarity_can_be_given_per_indicator():
    obs = observations(
        observation("nationals", 80.0), observation("non_nationals", 60.0),
        observation("nationals", 5.0, indicator="work.unemployment_rate", dataset="LFSA_URGAN"),
        observation("non_nationals", 12.0, indicator="work.unemployment_rate", dataset="LFSA_URGAN"),
    )
    gaps = compute_gaps(obs, {"work.employment_rate": "higher_is_better", "work.unemployment_rate": "lower_is_better"})
    by_indicator = gaps.set_index("indicator")["disadvantage"]
    assert by_indicator["work.employment_rate"] == pytest.approx(20.0)
    assert by_indicator["work.unemployment_rate"] == pytest.approx(7.0)


def test_unknown_polarity_is_refused():
    with pytest.raises(ValueError, match="polarity"):
        compute_gaps(observations(observation("nationals", 80.0), observation("non_nationals", 60.0)), "bigger_is_nicer")


def test_ratio_and_relative_gap_are_null_not_infinite_when_nationals_have_zero():
    gaps = compute_gaps(observations(observation("nationals", 0.0), observation("non_nationals", 3.0)), "lower_is_better")
    row = only_row(gaps)
    assert row.difference == pytest.approx(3.0)
    assert row.disadvantage == pytest.approx(3.0)
    assert pd.isna(row.ratio) and not np.isinf(row.ratio)
    assert pd.isna(row.relative_gap_pct) and not np.isinf(row.relative_gap_pct)
    assert pd.isna(row.ratio_ci_lower) and pd.isna(row.ratio_ci_upper)


def test_a_real_zero_for_migrants_is_a_value_and_gives_a_gap():
    gaps = compute_gaps(observations(observation("nationals", 4.0), observation("non_nationals", 0.0)), "lower_is_better")
    row = only_row(gaps)
    assert row.value == 0.0
    assert row.difference == pytest.approx(-4.0)
    assert row.ratio == pytest.approx(0.0)
    assert row.relative_gap_pct == pytest.approx(-100.0)
    assert row.disadvantage == pytest.approx(-4.0)


@pytest.mark.parametrize("missing_group", ["nationals", "non_nationals"])
def test_a_missing_value_gives_no_gap_and_is_never_read_as_zero(missing_group):
    values = {"nationals": 80.0, "non_nationals": 60.0, missing_group: None}
    obs = observations(*(observation(group, value) for group, value in values.items()))
    assert compute_gaps(obs, "higher_is_better").empty


@pytest.mark.parametrize("flags", ["c", "z", "-", "bc", "uz"])
@pytest.mark.parametrize("flagged_group", ["nationals", "non_nationals"])
def test_confidential_or_not_applicable_values_give_no_gap(flags, flagged_group):
    obs = observations(
        observation("nationals", 80.0, flags=flags if flagged_group == "nationals" else ""),
        observation("non_nationals", 60.0, flags=flags if flagged_group == "non_nationals" else ""),
    )
    assert compute_gaps(obs, "higher_is_better").empty


def test_a_low_reliability_value_gives_a_gap_that_carries_the_flag():
    gaps = compute_gaps(observations(observation("nationals", 10.0), observation("non_nationals", 20.0, flags="u")),
                        "lower_is_better")
    row = only_row(gaps)
    assert row.disadvantage == pytest.approx(10.0)
    assert row.group_flags == "u" and row.reference_flags == ""
    assert row["flags"] == "u"
    assert bool(row.low_reliability) is True


def test_a_low_reliability_flag_on_nationals_marks_the_gap_too():
    gaps = compute_gaps(observations(observation("nationals", 10.0, flags="u"), observation("non_nationals", 20.0)),
                        "lower_is_better")
    assert bool(only_row(gaps).low_reliability)


def test_flags_of_both_groups_are_united():
    gaps = compute_gaps(observations(observation("nationals", 80.0, flags="b"), observation("non_nationals", 60.0, flags="u")),
                        "higher_is_better")
    row = only_row(gaps)
    assert row["flags"] == "bu"
    assert bool(row.low_reliability)


def test_a_break_in_series_alone_is_not_low_reliability():
    gaps = compute_gaps(observations(observation("nationals", 80.0, flags="b"), observation("non_nationals", 60.0, flags="b")),
                        "higher_is_better")
    row = only_row(gaps)
    assert row["flags"] == "b"
    assert not bool(row.low_reliability)


# ------------------------------------------------------------------------------------------ years


def test_latest_year_both_groups_have_is_used_when_their_latest_years_differ():
    obs = observations(
        observation("nationals", 78.0, period=2021), observation("nationals", 79.0, period=2022),
        observation("nationals", 79.7, period=2023),
        observation("non_nationals", 63.0, period=2021), observation("non_nationals", 64.5, period=2022),
        observation("non_nationals", None, period=2023),  # 2023 not published for non-nationals
    )
    row = only_row(compute_gaps(obs, "higher_is_better"))
    assert row.year == 2022
    assert (row.reference_value, row.value) == (79.0, 64.5)
    assert row.difference == pytest.approx(-14.5)


def test_no_common_year_means_no_gap():
    obs = observations(observation("nationals", 79.7, period=2023), observation("non_nationals", 64.0, period=2021))
    assert compute_gaps(obs, "higher_is_better").empty


def test_latest_common_year_is_chosen_per_group_and_per_place():
    obs = observations(
        observation("nationals", 79.0, period=2022), observation("nationals", 79.7, period=2023),
        observation("eu_citizens", 75.0, period=2023), observation("non_eu_citizens", 58.0, period=2022),
        observation("nationals", 70.0, period=2020, geo="BGR"), observation("non_nationals", 50.0, period=2020, geo="BGR"),
    )
    gaps = compute_gaps(obs, "higher_is_better").set_index(["geo", "group"])
    assert gaps.loc[("DEU", "eu_citizens"), "year"] == 2023
    assert gaps.loc[("DEU", "eu_citizens"), "difference"] == pytest.approx(75.0 - 79.7)
    assert gaps.loc[("DEU", "non_eu_citizens"), "year"] == 2022
    assert gaps.loc[("DEU", "non_eu_citizens"), "difference"] == pytest.approx(-21.0)
    assert gaps.loc[("BGR", "non_nationals"), "year"] == 2020


@pytest.mark.parametrize("year", [2021, "2021"])
def test_a_chosen_year_compares_that_year_only(year):
    obs = observations(
        observation("nationals", 78.0, period=2021), observation("nationals", 79.7, period=2023),
        observation("non_nationals", 63.0, period=2021), observation("non_nationals", 65.8, period=2023),
    )
    row = only_row(compute_gaps(obs, "higher_is_better", year=year))
    assert row.year == 2021
    assert row.difference == pytest.approx(-15.0)


def test_a_chosen_year_without_migrant_data_gives_no_gap_even_if_another_year_has_one():
    obs = observations(
        observation("nationals", 78.0, period=2021), observation("nationals", 79.7, period=2023),
        observation("non_nationals", 63.0, period=2021),
    )
    assert compute_gaps(obs, "higher_is_better", year=2023).empty


# ------------------------------------------------------------------------------------ dimensions


def test_asking_to_compare_across_dimensions_is_refused():
    obs = observations(observation("nationals", 80.0), observation("foreign_born", 60.0))
    with pytest.raises(MixedDimensionsError):
        compute_gaps(obs, "higher_is_better", groups=["non_nationals", "foreign_born"])


def test_both_dimensions_in_one_file_pair_only_within_each():
    obs = observations(
        observation("nationals", 80.0), observation("non_nationals", 60.0),
        observation("native_born", 78.0), observation("foreign_born", 70.0),
        observation("total", 77.0),
    )
    gaps = compute_gaps(obs, "higher_is_better").set_index("group")
    assert sorted(gaps.index) == ["foreign_born", "non_nationals"]
    assert gaps.loc["non_nationals", "reference_group"] == "nationals"
    assert gaps.loc["non_nationals", "reference_value"] == 80.0
    assert gaps.loc["non_nationals", "dimension"] == "citizenship"
    assert gaps.loc["foreign_born", "reference_group"] == "native_born"
    assert gaps.loc["foreign_born", "reference_value"] == 78.0
    assert gaps.loc["foreign_born", "difference"] == pytest.approx(-8.0)
    assert gaps.loc["foreign_born", "dimension"] == "country_of_birth"


def test_foreign_born_are_never_compared_with_nationals():
    obs = observations(observation("nationals", 80.0), observation("foreign_born", 60.0),
                       observation("non_nationals", 55.0, flags="c"))
    assert compute_gaps(obs, "higher_is_better").empty


def test_asking_for_one_group_returns_only_that_group():
    obs = observations(observation("nationals", 80.0), observation("eu_citizens", 76.0), observation("non_eu_citizens", 58.0))
    row = only_row(compute_gaps(obs, "higher_is_better", groups=["non_eu_citizens"]))
    assert row.group == "non_eu_citizens"
    assert row.disadvantage == pytest.approx(22.0)


@pytest.mark.parametrize(("field", "other"), [
    ("sex", "F"), ("age", "Y25-54"), ("unit", "thousand_persons"), ("dataset", "LFS_BY_COUNTRY_OF_BIRTH"),
    ("geo", "FRA"), ("indicator", "work.activity_rate"),
])
def test_only_like_is_compared_with_like(field, other):
    obs = observations(observation("nationals", 80.0), observation("non_nationals", 60.0, **{field: other}))
    assert compute_gaps(obs, "higher_is_better").empty


def test_each_sex_is_compared_with_the_same_sex():
    obs = observations(
        observation("nationals", 75.0, sex="F"), observation("nationals", 84.0, sex="M"),
        observation("non_nationals", 55.0, sex="F"), observation("non_nationals", 75.0, sex="M"),
    )
    gaps = compute_gaps(obs, "higher_is_better").set_index("sex")
    assert gaps.loc["F", "difference"] == pytest.approx(-20.0)
    assert gaps.loc["M", "difference"] == pytest.approx(-9.0)


# ------------------------------------------------------------------------------ sampling error


def test_standard_error_and_confidence_interval_of_the_difference_from_standard_errors():
    obs = observations(observation("nationals", 80.0, se=0.5), observation("non_nationals", 60.0, se=1.2))
    row = only_row(compute_gaps(obs, "higher_is_better"))
    # SE(D) = sqrt(1.2^2 + 0.5^2) = sqrt(1.69) = 1.3; 95% CI = -20 +/- 1.96 * 1.3 = -20 +/- 2.548
    assert row.difference_se == pytest.approx(1.3)
    assert row.difference_ci_lower == pytest.approx(-22.548, abs=1e-3)
    assert row.difference_ci_upper == pytest.approx(-17.452, abs=1e-3)


def test_ratio_confidence_interval_is_computed_on_the_log_scale_from_standard_errors():
    obs = observations(observation("nationals", 80.0, se=0.5), observation("non_nationals", 60.0, se=1.2))
    row = only_row(compute_gaps(obs, "higher_is_better"))
    log_se = math.sqrt((1.2 / 60.0) ** 2 + (0.5 / 80.0) ** 2)  # delta method: 0.020954
    assert log_se == pytest.approx(0.020954, abs=1e-6)
    assert row.ratio_ci_lower == pytest.approx(0.75 * math.exp(-1.96 * log_se), rel=1e-4)  # 0.71982
    assert row.ratio_ci_upper == pytest.approx(0.75 * math.exp(1.96 * log_se), rel=1e-4)   # 0.78144
    assert row.ratio_ci_lower == pytest.approx(0.71982, abs=1e-4)
    assert row.ratio_ci_upper == pytest.approx(0.78144, abs=1e-4)
    # on the log scale the interval is symmetric around log R, so wider above R than below it
    assert math.log(row.ratio_ci_upper) - math.log(0.75) == pytest.approx(math.log(0.75) - math.log(row.ratio_ci_lower))
    assert row.ratio_ci_upper - 0.75 > 0.75 - row.ratio_ci_lower


def test_standard_errors_are_derived_from_95_percent_bounds_when_only_bounds_are_given():
    # migrants 60 (57.06-62.94): SE = 5.88 / 3.92 = 1.5; nationals 80 (79.02-80.98): SE = 1.96 / 3.92 = 0.5
    obs = observations(
        observation("nationals", 80.0, ci_lower=79.02, ci_upper=80.98),
        observation("non_nationals", 60.0, ci_lower=57.06, ci_upper=62.94),
    )
    row = only_row(compute_gaps(obs, "higher_is_better"))
    se = math.sqrt(1.5 ** 2 + 0.5 ** 2)  # sqrt(2.5) = 1.5811
    assert row.difference_se == pytest.approx(se, rel=1e-4)
    assert row.difference_ci_lower == pytest.approx(-20.0 - 1.96 * se, rel=1e-4)
    assert row.difference_ci_upper == pytest.approx(-20.0 + 1.96 * se, rel=1e-4)
    log_se = math.sqrt((1.5 / 60.0) ** 2 + (0.5 / 80.0) ** 2)
    assert row.ratio_ci_lower == pytest.approx(0.75 * math.exp(-1.96 * log_se), rel=1e-4)
    assert row.ratio_ci_upper == pytest.approx(0.75 * math.exp(1.96 * log_se), rel=1e-4)


def test_a_given_standard_error_is_preferred_to_bounds_and_the_two_can_be_mixed():
    obs = observations(
        observation("nationals", 80.0, se=0.5),
        observation("non_nationals", 60.0, se=1.2, ci_lower=50.0, ci_upper=70.0),
    )
    row = only_row(compute_gaps(obs, "higher_is_better"))
    assert row.difference_se == pytest.approx(1.3)


def test_no_standard_errors_means_no_confidence_interval():
    row = only_row(compute_gaps(observations(observation("nationals", 80.0), observation("non_nationals", 60.0)),
                                "higher_is_better"))
    assert pd.isna(row.difference_se)
    assert pd.isna(row.difference_ci_lower) and pd.isna(row.difference_ci_upper)
    assert pd.isna(row.ratio_ci_lower) and pd.isna(row.ratio_ci_upper)


# ------------------------------------------------------------------------------------------ trend


def test_a_shrinking_disadvantage_is_closing_with_years_to_parity():
    trend = classify_trend(10.0, 6.0, years=4)
    assert trend["change"] == pytest.approx(-4.0)
    assert trend["change_per_year"] == pytest.approx(-1.0)
    assert trend["status"] == "closing"
    assert trend["regression"] is False
    assert trend["years_to_parity"] == pytest.approx(6.0)  # 6 pp left at 1 pp a year


def test_a_growing_disadvantage_is_widening_and_a_regression():
    trend = classify_trend(5.0, 8.0, years=5)
    assert trend["change"] == pytest.approx(3.0)
    assert trend["change_per_year"] == pytest.approx(0.6)
    assert trend["status"] == "widening"
    assert trend["regression"] is True
    assert trend["years_to_parity"] is None


def test_migrants_pulling_further_ahead_is_widening_but_not_a_regression():
    trend = classify_trend(-2.0, -6.0, years=4)
    assert trend["status"] == "widening"
    assert trend["regression"] is False


def test_a_change_under_the_threshold_is_stable():
    trend = classify_trend(5.0, 5.5, years=5)  # 0.1 pp a year < 0.2
    assert trend["status"] == "stable"
    assert trend["regression"] is False
    assert trend["years_to_parity"] is None
    assert classify_trend(5.0, 5.5, years=5, threshold_pp_per_year=0.05)["status"] == "widening"


def test_a_gap_that_changes_sign_is_reversed():
    to_better_off = classify_trend(3.0, -2.0, years=5)
    assert to_better_off["status"] == "reversed"
    assert to_better_off["regression"] is False
    to_worse_off = classify_trend(-2.0, 3.0, years=5)
    assert to_worse_off["status"] == "reversed"
    assert to_worse_off["regression"] is True
    assert to_worse_off["change"] == pytest.approx(5.0)


def test_trend_needs_a_positive_number_of_years():
    with pytest.raises(ValueError):
        classify_trend(5.0, 3.0, years=0)


# ------------------------------------------------------------------------------ the two pairing paths

@pytest.mark.parametrize("year", ["latest", "all", 2019])
def test_small_and_large_pairing_give_the_same_gaps_on_a_whole_real_indicator(built_database, monkeypatch, year):
    # A selection pairs its rows through a dictionary, a whole indicator through pandas: same rows either way.
    import core.gaps
    from core import queries, store

    connection = store.open_database(built_database, read_only=True)
    observations = queries.fetch_observations(connection, "education.tertiary_attainment_share")
    connection.close()
    assert len(observations) > core.gaps.SMALL_PAIRING_ROWS  # the real file takes the large path by default
    large = compute_gaps(observations, "higher_is_better", year=year)
    monkeypatch.setattr(core.gaps, "SMALL_PAIRING_ROWS", 10**9)
    small = compute_gaps(observations, "higher_is_better", year=year)
    assert len(large) > 100
    pd.testing.assert_frame_equal(small, large)


@pytest.mark.parametrize("limit", [0, 10**9])
def test_missing_key_values_match_each_other_and_duplicates_give_every_pair(monkeypatch, limit):
    import core.gaps

    monkeypatch.setattr(core.gaps, "SMALL_PAIRING_ROWS", limit)
    gaps = compute_gaps(observations(observation("nationals", 80.0, age=None), observation("non_nationals", 60.0, age=None),
                                     observation("nationals", 70.0, dataset="OTHER"),
                                     observation("non_nationals", 50.0, dataset="OTHER"),
                                     observation("non_nationals", 55.0, dataset="OTHER")), "higher_is_better", year=2023)
    assert sorted(gaps["difference"]) == [-20.0, -20.0, -15.0]  # the unknown age pairs; OTHER's duplicate pairs twice
