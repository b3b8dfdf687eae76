"""Comparisons of places: progression (closing / widening / stable / reversed), years to parity,
the breakdown chosen for every place, pinned views in the URL, and the real figures shown."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import compare, store


def series(points: dict[int, float], reference: float = 50.0) -> pd.DataFrame:
    """A gap series of one place: {year: disadvantage}."""
    return pd.DataFrame({"year": list(points), "disadvantage": list(points.values()),
                         "reference_value": [reference] * len(points)})


# ------------------------------------------------------------------------------ years to parity


def test_closing_gap_reaches_parity_at_the_current_pace():
    result = compare.compute_years_to_parity(2013, 10.0, 2023, 6.0)  # -0.4 pp a year, 6 pp left
    assert result["status"] == "closing" and result["regression"] is False
    assert result["change_per_year"] == pytest.approx(-0.4)
    assert result["years_to_parity"] == pytest.approx(15.0)
    assert result["parity_year"] == pytest.approx(2038.0)
    assert result["crossed_year"] is None


def test_widening_gap_has_no_parity_and_is_a_regression():
    result = compare.compute_years_to_parity(2013, 5.0, 2023, 8.0)
    assert (result["status"], result["regression"], result["years_to_parity"], result["parity_year"]) == (
        "widening", True, None, None)


def test_stable_gap_under_the_threshold_is_not_projected():
    result = compare.compute_years_to_parity(2013, 5.0, 2023, 4.0)  # -0.1 pp a year < 0.2
    assert result["status"] == "stable" and result["years_to_parity"] is None


def test_gap_that_changes_sign_towards_migrants_reached_parity_in_between():
    # +3 pp in 2010 (migrants worse off) to -2 pp in 2015: zero crossed 3/5 of the way, in 2013
    result = compare.compute_years_to_parity(2010, 3.0, 2015, -2.0)
    assert result["status"] == "reversed" and result["regression"] is False
    assert result["years_to_parity"] == 0.0
    assert result["crossed_year"] == pytest.approx(2013.0)
    assert compare.describe_progression({**result, "measure": "pp", "threshold": 0.2, "first_year": 2010}).startswith(
        "reversed: the gap closed around 2013")


def test_gap_that_changes_sign_against_migrants_is_a_regression_without_parity():
    # -2 pp in 2010 (migrants better off) to +3 pp in 2015: they became worse off in 2012
    result = compare.compute_years_to_parity(2010, -2.0, 2015, 3.0)
    assert result["status"] == "reversed" and result["regression"] is True
    assert result["years_to_parity"] is None
    assert result["crossed_year"] == pytest.approx(2012.0)


def test_progression_uses_the_last_ten_years_of_the_series():
    points = {year: 20.0 - 0.5 * (year - 2000) for year in range(2000, 2021)}  # 10 pp in 2020, -0.5 a year
    progress = compare.compute_progression(series(points))
    assert (progress["first_year"], progress["last_year"]) == (2010, 2020)
    assert progress["first"] == pytest.approx(15.0) and progress["last"] == pytest.approx(10.0)
    assert progress["status"] == "closing"
    assert progress["years_to_parity"] == pytest.approx(20.0)
    assert "parity in about 20 years (2040)" in progress["label"]


def test_progression_needs_two_years():
    progress = compare.compute_progression(series({2014: 9.2}))
    assert progress["status"] == "too few years" and progress["years_to_parity"] is None


def test_amounts_are_judged_as_a_share_of_the_reference_value():
    # an income gap of 2 000 EUR on 20 000 (10%) in 2014 and 1 000 EUR on 25 000 (4%) in 2024
    frame = pd.DataFrame({"year": [2014, 2024], "disadvantage": [2000.0, 1000.0], "reference_value": [20000.0, 25000.0]})
    progress = compare.compute_progression(frame, unit="EUR")
    assert progress["measure"] == "% of reference"
    assert progress["first"] == pytest.approx(10.0) and progress["last"] == pytest.approx(4.0)
    assert progress["change_per_year"] == pytest.approx(-0.6)
    assert progress["years_to_parity"] == pytest.approx(4.0 / 0.6)


# ------------------------------------------------------------------------------------- views


def test_deck_round_trip_and_bad_views_reported():
    views = [compare.View(("DEU", "FRA", "EU27_2020"), "work", "work.employment_rate", 2023),
             compare.View(("ITA", "ESP"), "health", None, 2022)]
    text = compare.encode_deck(views)
    assert text == "work~work.employment_rate~2023~DEU,FRA,EU27_2020!health~all~2022~ITA,ESP"
    decoded, problems = compare.decode_deck(text + "!work~x~2023~DEU!nonsense")
    assert decoded == views
    assert len(problems) == 2 and problems[0].startswith("pinned view 3") and "indicator code" in problems[0]
    assert compare.decode_deck("") == ([], [])


@pytest.mark.parametrize("places, message", [(["DEU"], "2 to 4"), (["DEU", "FRA", "ITA", "ESP", "AUT"], "2 to 4"),
                                             (["DEU", "DEU"], "DEU repeats")])
def test_two_to_four_distinct_places(places, message):
    with pytest.raises(ValueError, match=message):
        compare.validate_places(places)


# --------------------------------------------------------------------------------- breakdown


def observations(rows: list[tuple]) -> pd.DataFrame:
    """(geo, group, sex, year, value) rows of one indicator."""
    frame = pd.DataFrame(rows, columns=["geo", "group", "sex", "period", "value"])
    return frame.assign(indicator="work.activity_rate", dataset="X", geo_level="national", age="not_stated",
                        unit="percent", flags="")


def test_breakdown_is_the_same_for_every_place_and_uses_women_and_men_when_no_total():
    frame = observations([("DEU", "native_born", "F", 2020, 78.2), ("DEU", "foreign_born", "F", 2020, 65.8),
                          ("DEU", "native_born", "M", 2020, 82.8), ("DEU", "foreign_born", "M", 2020, 81.9),
                          ("FRA", "native_born", "F", 2020, 69.1), ("FRA", "foreign_born", "F", 2020, 58.6),
                          ("FRA", "native_born", "M", 2020, 74.1), ("FRA", "foreign_born", "M", 2020, np.nan)])
    breakdown = compare.choose_breakdown(frame, ["DEU", "FRA"])
    assert breakdown == {"group": "foreign_born", "reference_group": "native_born", "sexes": ["F", "M"], "age": "not_stated"}
    rows, _ = compare.compare_places(frame, "higher_is_better", "percent", ["DEU", "FRA", "ITA"], 2023, breakdown)
    shown = rows.set_index(["geo", "sex"])
    assert shown.loc[("DEU", "F"), "disadvantage"] == pytest.approx(12.4)
    assert shown.loc[("FRA", "M"), "note"] == "no year with values for both groups"
    assert shown.loc[("ITA", "F"), "note"] == "no data for this place"
    assert np.isnan(shown.loc[("ITA", "F"), "value"])


def test_year_means_the_latest_year_both_groups_have_up_to_it():
    frame = observations([("DEU", "native_born", "F", 2018, 70.0), ("DEU", "foreign_born", "F", 2018, 60.0),
                          ("DEU", "native_born", "F", 2020, 72.0), ("DEU", "foreign_born", "F", 2020, 65.0),
                          ("DEU", "native_born", "F", 2021, 73.0)])
    breakdown = compare.choose_breakdown(frame, ["DEU"])
    rows, _ = compare.compare_places(frame, "higher_is_better", "percent", ["DEU"], 2021, breakdown)
    assert rows.iloc[0]["year"] == 2020 and rows.iloc[0]["disadvantage"] == pytest.approx(7.0)
    rows, _ = compare.compare_places(frame, "higher_is_better", "percent", ["DEU"], 2019, breakdown)
    assert rows.iloc[0]["year"] == 2018 and rows.iloc[0]["status"] == "too few years"


# ---------------------------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def connection(tmp_path_factory):
    root = store.open_database(tmp_path_factory.mktemp("compare") / "c.duckdb")
    store.ensure_embedded_data(root)
    yield root
    root.close()


def test_germany_and_france_employment_2023_from_the_real_files(connection):
    view = compare.View(("DEU", "FRA", "EU27_2020"), "work", "work.employment_rate", 2023)
    [result] = compare.fetch_comparison(connection, view)
    rows = result.rows.set_index("geo")
    assert (rows.loc["DEU", "reference_value"], rows.loc["DEU", "value"]) == (79.7, 65.8)
    assert rows.loc["DEU", "disadvantage"] == pytest.approx(13.9)
    assert rows.loc["FRA", "disadvantage"] == pytest.approx(10.2)
    assert rows.loc["EU27_2020", "note"] == "no data for this place"  # LFSA_ERGAN has no EU aggregate
    assert result.breakdown["group"] == "non_nationals" and result.breakdown["sexes"] == ["T"]
    assert rows.loc["DEU", "first_year"] == 2013 and rows.loc["DEU", "status"] in {"closing", "widening", "stable", "reversed"}


def test_every_indicator_of_a_right_with_data_is_compared(connection):
    view = compare.View(("DEU", "FRA"), "work", None, 2023)
    codes = [result.code for result in compare.fetch_comparison(connection, view)]
    assert codes[:2] == ["work.employment_rate", "work.unemployment_rate"]
    assert "work.activity_rate" in codes
    assert not any("ratification" in code for code in codes)


def test_eu27_is_compared_where_the_source_has_it(connection):
    view = compare.View(("DEU", "EU27_2020"), "health", None, 2024)
    [result] = compare.fetch_comparison(connection, view)
    rows = result.rows.set_index("geo")
    assert result.code == "health.bad_self_perceived_health"
    assert not np.isnan(rows.loc["EU27_2020", "disadvantage"])


def test_places_without_any_gap_for_an_indicator_still_have_every_column(connection):
    # Türkiye and Kosovo have no employment rate by citizenship: rows of notes, not a frame missing
    # its progression columns (the Compare page indexed 'regression' and crashed).
    view = compare.View(("TUR", "XKX"), "work", "work.employment_rate", 2023)
    [result] = compare.fetch_comparison(connection, view)
    assert list(result.rows["geo"]) == ["TUR", "XKX"]
    assert set(result.rows["note"]) == {"no data for this place"}
    assert set(compare.COMPARISON_COLUMNS + compare.PROGRESSION_COLUMNS) <= set(result.rows.columns)
    assert not result.rows["regression"].any()


def test_notes_right_of_the_comparison_chart_fit_in_its_margin_at_presentation_size(connection):
    # In presentation mode (font 20) 'no data for this place' was cut at the chart's right edge.
    from core import compare_charts

    [result] = compare.fetch_comparison(connection, compare.View(("DEU", "XKX"), "work", "work.employment_rate", 2023))
    for font_size in (14, 20):
        layout = compare_charts.build_comparison_chart(result, font_size=font_size).to_plotly_json()["layout"]
        texts = {a["text"] for a in layout["annotations"] if a.get("xref") == "paper" and a.get("x") == 1.0}
        assert "no data for this place" in texts
        # at least 0.55 of the font size per character (DejaVu/Source Sans average) must fit
        assert all(0.55 * font_size * len(text.replace("<b>", "").replace("</b>", "")) <= layout["margin"]["r"] - 8
                   for text in texts)
