"""The country profile: every catalogue indicator for one place, with its latest gap and trend."""
from __future__ import annotations

import numpy as np
import pandas as pd

from core import gaps as gap_engine
from core import vocabulary
from core.catalogue import Catalogue

PREFERRED_GROUPS = ("non_nationals", "foreign_born", "non_eu_citizens", "non_eu_born", "eu_citizens", "eu_born")
PREFERRED_AGES = ("Y15-64", "Y25-64", "Y_GE16", "Y_GE18", "TOTAL", "not_stated")

PROFILE_COLUMNS = [
    "right", "attribute", "type", "indicator", "title", "unit", "polarity", "group", "reference_group", "sex", "age",
    "year", "reference_value", "value", "disadvantage", "flags", "trend", "trend_years", "dataset", "has_data", "note",
]


def _choose(options: set, preferred) -> str | None:
    """The first of ``preferred`` found in ``options`` (a set), or None."""
    return next((o for o in preferred if o in options), None)


def _object_array(observations: pd.DataFrame, column: str) -> np.ndarray:
    """A column as a numpy object array (Python str, NaN where missing): cheap to index many times."""
    return observations[column].to_numpy(dtype=object)


def build_country_profile(observations: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """The profile table of build_country_profile_with_series alone (see there)."""
    return build_country_profile_with_series(observations, catalogue)[0]


def build_country_profile_with_series(observations: pd.DataFrame, catalogue: Catalogue) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(profile, series): one row per catalogue indicator (and per sex when the source has no total), for one place.

    observations: every observation of the place (OBSERVATION_COLUMNS of core.importer).
    For indicators with data, the row shows the main comparison (non-nationals vs nationals first,
    else foreign-born vs native-born, else the first migrant group), sex T when the source has it
    (else one row for F and one for M), the preferred age band, and the latest year both groups
    have. Context indicators (no groups) show their latest value alone.

    Returns a DataFrame with PROFILE_COLUMNS: right, attribute, type, indicator (code), title,
    unit, polarity, group, reference_group, sex, age, year (latest common year, None when no
    gap), reference_value, value, disadvantage (> 0: migrants worse off), flags,
    trend (list of disadvantages, oldest first), trend_years (list of years), dataset, has_data
    (bool), note (why there is no gap, e.g. 'no data for this place').

    series: the gap series of every comparison the profile shows (core.gaps.compute_gap_series
    columns, GAP_COLUMNS, sorted by indicator, geo, sex, age, group, year): the rows of one
    (indicator, group, sex, age) are what core.gaps.compute_gap_series gives for that place from the
    observations of that comparison alone, so the page's time series needs no second query.

    How: the observations are split by indicator through row positions (no sub-DataFrame per
    indicator or per comparison), the comparison of each indicator is chosen first, and the gap
    engine (core.gaps.compute_gap_series) then runs once, on the rows of the chosen comparisons only
    (the group, its reference group, the age band and the sexes shown): a few hundred rows rather
    than every observation of the place.
    """
    polarities = {indicator.code: indicator.polarity for indicator in catalogue}
    positions_by_indicator: dict = {}
    if not observations.empty:
        observations = observations.reset_index(drop=True)
        usable_rows = np.flatnonzero(gap_engine.is_usable(observations["value"], observations["flags"]).to_numpy())
        usable_indicators = _object_array(observations, "indicator")[usable_rows]
        positions_by_indicator = pd.Series(usable_indicators).groupby(usable_indicators, sort=False).indices
        positions_by_indicator = {code: usable_rows[positions] for code, positions in positions_by_indicator.items()}
        groups, sexes_of_rows, ages = (_object_array(observations, c) for c in ("group", "sex", "age"))
        periods = observations["period"].to_numpy()
    # First pass: the comparison shown for each indicator (or its context value, or why there is none).
    plans: list[tuple] = []  # (indicator, kind, details)
    wanted: list[np.ndarray] = []  # rows the gap engine needs: the chosen comparisons' observations
    for indicator in catalogue:
        usable = positions_by_indicator.get(indicator.code)
        if usable is None or not len(usable):
            plans.append((indicator, "none", None))
            continue
        present_groups = set(groups[usable])
        if indicator.context or present_groups == {"total"}:
            # The latest period (sorted as pandas' sort_values does: quicksort on the period)
            latest = usable[np.argsort(periods[usable], kind="quicksort")[-1]]
            plans.append((indicator, "context", latest))
            continue
        group = _choose(present_groups, PREFERRED_GROUPS)
        age = _choose(set(ages[usable]), PREFERRED_AGES) or ages[usable[0]]
        present_sexes = set(sexes_of_rows[usable])
        sexes = ["T"] if "T" in present_sexes else sorted(present_sexes)
        plans.append((indicator, "comparison", (group, age, sexes)))
        if group is not None:
            reference = vocabulary.REFERENCE_GROUPS.get(vocabulary.dimension_of(group))
            rows = usable[np.isin(groups[usable], [group, reference]) & (ages[usable] == age)
                          & np.isin(sexes_of_rows[usable], sexes)]
            wanted.append(rows)
    # The gap series of the chosen comparisons, in one pass of the gap engine (pairs matched on every key,
    # year included). Only rows of those comparisons enter it, so each series is the one the whole place gives.
    series_rows: dict = {}
    all_series = pd.DataFrame(columns=gap_engine.GAP_COLUMNS)
    if wanted:
        chosen = observations.take(np.sort(np.concatenate(wanted)))
        if not chosen.empty:
            all_series = gap_engine.compute_gap_series(chosen, polarities)
    if not all_series.empty:
        series_rows = all_series.groupby(["indicator", "group", "sex", "age"], sort=False).indices
        series_years = all_series["year"].to_numpy()
        series_reference = all_series["reference_value"].to_numpy(dtype=float)
        series_value = all_series["value"].to_numpy(dtype=float)
        series_disadvantage = all_series["disadvantage"].to_numpy(dtype=float)
        series_flags = _object_array(all_series, "flags")
        series_dataset = _object_array(all_series, "dataset")
    rows: list[dict] = []
    for indicator, kind, details in plans:
        base = {"right": indicator.right, "attribute": indicator.attribute, "type": indicator.type,
                "indicator": indicator.code, "title": indicator.title, "unit": indicator.unit, "polarity": indicator.polarity,
                "group": None, "reference_group": None, "sex": None, "age": None, "year": None, "reference_value": None,
                "value": None, "disadvantage": None, "flags": "", "trend": [], "trend_years": [], "dataset": None,
                "has_data": False, "note": ""}
        if kind == "none":
            base["note"] = indicator.data_gap_note and "data gap (see the catalogue)" or "no data for this place"
            rows.append(base)
            continue
        if kind == "context":
            latest = details
            rows.append({**base, "year": int(periods[latest]), "value": float(observations["value"].iat[latest]),
                         "flags": observations["flags"].iat[latest], "dataset": observations["dataset"].iat[latest],
                         "has_data": True, "note": "context (no comparison)"})
            continue
        group, age, sexes = details
        for sex in sexes:
            positions = series_rows.get((indicator.code, group, sex, age))
            row = {**base, "group": group, "sex": sex, "age": age, "has_data": True,
                   "reference_group": vocabulary.REFERENCE_GROUPS.get(vocabulary.dimension_of(group))}
            if positions is None or not len(positions):
                row["note"] = "no year with values for both groups"
                rows.append(row)
                continue
            ordered = positions[np.argsort(series_years[positions], kind="quicksort")]  # oldest first
            latest = ordered[-1]
            rows.append({**row, "year": int(series_years[latest]), "reference_value": float(series_reference[latest]),
                         "value": float(series_value[latest]), "disadvantage": float(series_disadvantage[latest]),
                         "flags": series_flags[latest], "trend": np.round(series_disadvantage[ordered], 2).tolist(),
                         "trend_years": series_years[ordered].astype(int).tolist(), "dataset": series_dataset[latest]})
    return pd.DataFrame(rows, columns=PROFILE_COLUMNS), all_series


def select_comparison_series(series: pd.DataFrame, indicator: str, group: str, sex: str, age: str) -> pd.DataFrame:
    """The rows of one comparison (indicator, migrant group, sex, age band) from the series of
    build_country_profile_with_series, index 0..n-1 (GAP_COLUMNS, oldest year first). Empty when
    the profile shows no such comparison."""
    if series.empty:
        return series.reset_index(drop=True)
    mask = ((series["indicator"] == indicator) & (series["group"] == group) & (series["sex"] == sex)
            & (series["age"] == age))
    return series.loc[mask.to_numpy()].reset_index(drop=True)


UPLOADED_COLUMNS = ["dataset", "indicator", "first_year", "last_year"]


def summarise_uploaded_datasets(observations: pd.DataFrame, uploaded: set[str]) -> pd.DataFrame:
    """The uploaded datasets holding values for one place, from that place's observations (the
    profile's own rows: no second query): columns UPLOADED_COLUMNS (dataset, indicator, first_year,
    last_year as int years), one row per dataset and indicator with at least one value, sorted by
    dataset then indicator. ``uploaded``: the names of the uploaded datasets (datasets of kind
    'uploaded'). Empty when none of them has a value for the place."""
    if observations.empty or not uploaded:
        return pd.DataFrame(columns=UPLOADED_COLUMNS)
    held = observations.loc[observations["dataset"].isin(uploaded) & observations["value"].notna(),
                            ["dataset", "indicator", "period"]]
    if held.empty:
        return pd.DataFrame(columns=UPLOADED_COLUMNS)
    years = held.groupby(["dataset", "indicator"], sort=True)["period"].agg(["min", "max"]).reset_index()
    return pd.DataFrame({"dataset": years["dataset"], "indicator": years["indicator"],
                         "first_year": years["min"].astype(int), "last_year": years["max"].astype(int)})

