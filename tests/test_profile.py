"""The country profile (core.profile.build_country_profile): which comparison, year and gap each
indicator shows for a place, checked on the embedded data and on small hand-made cases."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import gaps as gap_engine
from core import queries, vocabulary
from core.catalogue import load_default_catalogue
from core.profile import PREFERRED_AGES, PREFERRED_GROUPS, PROFILE_COLUMNS, build_country_profile


@pytest.fixture(scope="module")
def connection(built_database):
    from core import store

    connection = store.open_database(built_database, read_only=True)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def catalogue():
    return load_default_catalogue()


def straightforward_profile(observations: pd.DataFrame, catalogue) -> pd.DataFrame:
    """The profile written the plain way (one sub-DataFrame per indicator and per comparison, the gap
    engine over every observation of the place): the oracle the fast version must equal exactly."""
    def choose(options, preferred):
        return next((o for o in preferred if o in set(options)), None)

    rows = []
    by_indicator = dict(tuple(observations.groupby("indicator"))) if not observations.empty else {}
    polarities = {indicator.code: indicator.polarity for indicator in catalogue}
    known = observations.loc[observations["indicator"].isin(polarities)]
    all_series = gap_engine.compute_gap_series(known, polarities) if not known.empty else pd.DataFrame(columns=gap_engine.GAP_COLUMNS)
    series_by_key = dict(tuple(all_series.groupby(["indicator", "group", "sex", "age"]))) if not all_series.empty else {}
    for indicator in catalogue:
        base = {"right": indicator.right, "attribute": indicator.attribute, "type": indicator.type,
                "indicator": indicator.code, "title": indicator.title, "unit": indicator.unit, "polarity": indicator.polarity,
                "group": None, "reference_group": None, "sex": None, "age": None, "year": None, "reference_value": None,
                "value": None, "disadvantage": None, "flags": "", "trend": [], "trend_years": [], "dataset": None,
                "has_data": False, "note": ""}
        frame = by_indicator.get(indicator.code)
        usable = frame.loc[gap_engine.is_usable(frame["value"], frame["flags"])] if frame is not None else None
        if usable is None or usable.empty:
            base["note"] = indicator.data_gap_note and "data gap (see the catalogue)" or "no data for this place"
            rows.append(base)
            continue
        if indicator.context or set(usable["group"]) == {"total"}:
            latest = usable.sort_values("period").iloc[-1]
            rows.append({**base, "year": int(latest["period"]), "value": float(latest["value"]), "flags": latest["flags"],
                         "dataset": latest["dataset"], "has_data": True, "note": "context (no comparison)"})
            continue
        group = choose(usable["group"], PREFERRED_GROUPS)
        age = choose(usable["age"], PREFERRED_AGES) or usable["age"].iloc[0]
        sexes = ["T"] if "T" in set(usable["sex"]) else sorted(set(usable["sex"]))
        for sex in sexes:
            series = series_by_key.get((indicator.code, group, sex, age))
            row = {**base, "group": group, "sex": sex, "age": age, "has_data": True,
                   "reference_group": vocabulary.REFERENCE_GROUPS.get(vocabulary.dimension_of(group))}
            if series is None or series.empty:
                rows.append({**row, "note": "no year with values for both groups"})
                continue
            series = series.sort_values("year")
            latest = series.iloc[-1]
            rows.append({**row, "year": int(latest["year"]), "reference_value": float(latest["reference_value"]),
                         "value": float(latest["value"]), "disadvantage": float(latest["disadvantage"]),
                         "flags": latest["flags"], "trend": series["disadvantage"].round(2).tolist(),
                         "trend_years": series["year"].astype(int).tolist(), "dataset": latest["dataset"]})
    return pd.DataFrame(rows, columns=PROFILE_COLUMNS)


def test_profile_equals_the_straightforward_computation_for_every_place(connection, catalogue):
    places = [geo for (geo,) in connection.execute("SELECT DISTINCT geo FROM observations ORDER BY geo").fetchall()]
    assert len(places) > 100
    for geo in places[::3] + ["DEU", "FRA", "EU27_2020"]:  # every third place, and the ones the tests open
        observations = queries.fetch_latest_by_country(connection.cursor(), geo)
        pd.testing.assert_frame_equal(build_country_profile(observations, catalogue),
                                      straightforward_profile(observations, catalogue), check_exact=True, obj=geo)


def test_france_employment_rate_is_the_latest_common_year_of_nationals_and_non_nationals(connection, catalogue):
    observations = queries.fetch_latest_by_country(connection.cursor(), "FRA")
    profile = build_country_profile(observations, catalogue)
    row = profile.loc[profile["indicator"] == "work.employment_rate"].iloc[0]
    assert (row["group"], row["reference_group"], row["sex"], row["age"]) == ("non_nationals", "nationals", "T", "Y15-64")
    mine = observations.loc[(observations["indicator"] == "work.employment_rate") & (observations["sex"] == "T")
                            & (observations["age"] == "Y15-64") & observations["value"].notna()]
    nationals = mine.loc[mine["group"] == "nationals"].set_index("period")["value"]
    migrants = mine.loc[mine["group"] == "non_nationals"].set_index("period")["value"]
    common = sorted(set(nationals.index) & set(migrants.index))
    assert row["year"] == common[-1]
    assert row["reference_value"] == nationals[common[-1]] and row["value"] == migrants[common[-1]]
    assert row["disadvantage"] == pytest.approx(nationals[common[-1]] - migrants[common[-1]])  # higher is better
    assert row["trend_years"] == common
    assert row["trend"][-1] == round(row["disadvantage"], 2)


def test_every_catalogue_indicator_has_a_row_and_no_data_is_said(connection, catalogue):
    profile = build_country_profile(queries.fetch_latest_by_country(connection.cursor(), "DEU"), catalogue)
    assert set(profile["indicator"]) == {indicator.code for indicator in catalogue}
    missing = profile.loc[~profile["has_data"]]
    assert len(missing) > 20 and set(missing["note"]) <= {"no data for this place", "data gap (see the catalogue)"}
    assert missing["disadvantage"].isna().all()


def observation(group: str, value, period: int, sex: str = "T", age: str = "Y15-64", flags: str = "",
                indicator: str = "work.employment_rate", dataset: str = "LFSA_ERGAN") -> dict:
    return {"indicator": indicator, "dataset": dataset, "geo": "AUT", "geo_level": "national", "period": period,
            "sex": sex, "age": age, "unit": "percent", "group": group, "value": np.nan if value is None else value,
            "flags": flags, "se": np.nan, "ci_lower": np.nan, "ci_upper": np.nan, "population": np.nan,
            "source": "test", "licence": "CC0"}


def profile_row(rows: list[dict], catalogue, indicator: str = "work.employment_rate") -> pd.DataFrame:
    profile = build_country_profile(pd.DataFrame(rows), catalogue)
    return profile.loc[profile["indicator"] == indicator].reset_index(drop=True)


def test_confidential_value_gives_no_gap_and_the_latest_common_year_is_used(catalogue):
    rows = [observation("nationals", 75.0, 2021), observation("non_nationals", 60.0, 2021),
            observation("nationals", 76.0, 2022), observation("non_nationals", None, 2022, flags="c"),
            observation("nationals", 77.0, 2023)]
    row = profile_row(rows, catalogue).iloc[0]
    assert row["year"] == 2021 and row["disadvantage"] == pytest.approx(15.0)
    assert row["trend"] == [15.0] and row["trend_years"] == [2021]


def test_females_and_males_get_a_row_each_when_there_is_no_total(catalogue):
    rows = [observation("nationals", 70.0, 2022, sex="F"), observation("non_nationals", 50.0, 2022, sex="F"),
            observation("nationals", 80.0, 2022, sex="M"), observation("non_nationals", 78.0, 2022, sex="M")]
    rows_shown = profile_row(rows, catalogue)
    assert rows_shown["sex"].tolist() == ["F", "M"]
    assert rows_shown["disadvantage"].tolist() == pytest.approx([20.0, 2.0])


def test_preferred_comparison_and_age_band_win_over_others(catalogue):
    rows = [observation("native_born", 70.0, 2022, age="Y25-64"), observation("foreign_born", 60.0, 2022, age="Y25-64"),
            observation("nationals", 71.0, 2020, age="Y25-64"), observation("non_nationals", 55.0, 2020, age="Y25-64"),
            observation("nationals", 72.0, 2022, age="Y20-64"), observation("non_nationals", 50.0, 2022, age="Y20-64")]
    row = profile_row(rows, catalogue).iloc[0]
    assert (row["group"], row["age"], row["year"]) == ("non_nationals", "Y25-64", 2020)  # non-nationals first, 25-64 before 20-64
    assert row["disadvantage"] == pytest.approx(16.0)


def test_a_group_with_no_year_in_common_says_so_and_shows_no_gap(catalogue):
    rows = [observation("nationals", 70.0, 2020), observation("non_nationals", 60.0, 2022)]
    row = profile_row(rows, catalogue).iloc[0]
    assert row["has_data"] and row["note"] == "no year with values for both groups"
    assert row["disadvantage"] is None or np.isnan(row["disadvantage"])


def test_a_place_with_no_observations_lists_every_indicator_as_no_data(catalogue):
    profile = build_country_profile(pd.DataFrame(columns=list(observation("nationals", 1.0, 2020))), catalogue)
    assert len(profile) == len(list(catalogue)) and not profile["has_data"].any()


def test_the_series_kept_with_the_profile_is_the_one_a_separate_query_gives(connection, catalogue):
    from core.profile import build_country_profile_with_series, select_comparison_series
    from core.vocabulary import REFERENCE_GROUPS, dimension_of

    compared = 0
    for geo in ("FRA", "DEU", "ITA", "ESP", "SWE"):
        profile, series = build_country_profile_with_series(queries.fetch_latest_by_country(connection.cursor(), geo), catalogue)
        for row in profile.loc[profile["has_data"] & profile["group"].notna()].itertuples():
            observations = queries.fetch_observations(connection.cursor(), row.indicator, geos=[geo], sex=row.sex, age=row.age,
                                                      groups=[row.group, REFERENCE_GROUPS[dimension_of(row.group)]])
            expected = gap_engine.compute_gap_series(observations, row.polarity)
            shown = select_comparison_series(series, row.indicator, row.group, row.sex, row.age)
            if expected.empty:
                assert shown.empty
                continue
            pd.testing.assert_frame_equal(shown, expected, check_exact=True)
            assert shown["year"].tolist() == row.trend_years and shown["disadvantage"].round(2).tolist() == row.trend
            compared += 1
    assert compared >= 10
    assert select_comparison_series(series, "work.employment_rate", "no_such_group", "T", "Y15-64").empty


def test_uploaded_datasets_of_a_place_come_from_its_own_observations(app_database):
    # tests/files/group_columns.csv: Austria and Belgium 2023 (Czechia's migrant value is ':' c).
    from core import store
    from core.profile import summarise_uploaded_datasets
    from tests.test_upload_page import load_into

    load_into(app_database, "group_columns.csv", "work.employment_rate", "my_survey")
    connection = store.open_database(app_database, read_only=True)
    try:
        uploaded = set(queries.fetch_datasets(connection).query("kind == 'uploaded'")["name"])
        assert uploaded == {"my_survey"}
        austria = summarise_uploaded_datasets(queries.fetch_latest_by_country(connection, "AUT", provenance=False), uploaded)
        assert austria.to_dict("records") == [{"dataset": "my_survey", "indicator": "work.employment_rate",
                                               "first_year": 2023, "last_year": 2023}]
        for geo in ("AUT", "BEL", "CZE", "FRA"):  # the same rows as asking the store directly
            expected = connection.execute(
                "SELECT o.dataset, o.indicator, min(o.period) AS first_year, max(o.period) AS last_year FROM observations o "
                "JOIN datasets d ON d.name = o.dataset WHERE d.kind = 'uploaded' AND o.geo = ? AND o.value IS NOT NULL "
                "GROUP BY ALL ORDER BY 1, 2", [geo]).df()
            found = summarise_uploaded_datasets(queries.fetch_latest_by_country(connection, geo, provenance=False), uploaded)
            assert found.to_dict("records") == expected.to_dict("records"), geo
        assert summarise_uploaded_datasets(queries.fetch_latest_by_country(connection, "FRA", provenance=False), uploaded).empty
        assert summarise_uploaded_datasets(queries.fetch_latest_by_country(connection, "AUT", provenance=False), set()).empty
    finally:
        connection.close()
