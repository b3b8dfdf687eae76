"""The country profile: every catalogue indicator for one place, with its latest gap and trend."""
from __future__ import annotations

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


def _choose(options, preferred):
    return next((o for o in preferred if o in set(options)), None)


def build_country_profile(observations: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """One row per catalogue indicator (and per sex when the source has no total), for one place.

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
    """
    rows: list[dict] = []
    by_indicator = dict(tuple(observations.groupby("indicator"))) if not observations.empty else {}
    polarities = {indicator.code: indicator.polarity for indicator in catalogue}
    known = observations.loc[observations["indicator"].isin(polarities)] if not observations.empty else observations
    # Every indicator's gap series in one pass of the gap engine (pairs matched on every key, year included).
    all_series = gap_engine.compute_gap_series(known, polarities) if not known.empty else pd.DataFrame(columns=gap_engine.GAP_COLUMNS)
    series_by_key = {key: frame for key, frame in all_series.groupby(["indicator", "group", "sex", "age"])} if not all_series.empty else {}
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
        group = _choose(usable["group"], PREFERRED_GROUPS)
        age = _choose(usable["age"], PREFERRED_AGES) or usable["age"].iloc[0]
        sexes = ["T"] if "T" in set(usable["sex"]) else sorted(set(usable["sex"]))
        for sex in sexes:
            series = series_by_key.get((indicator.code, group, sex, age))
            row = {**base, "group": group, "sex": sex, "age": age, "has_data": True,
                   "reference_group": vocabulary.REFERENCE_GROUPS.get(vocabulary.dimension_of(group))}
            if series is None or series.empty:
                row["note"] = "no year with values for both groups"
                rows.append(row)
                continue
            series = series.sort_values("year")
            latest = series.iloc[-1]
            rows.append({**row, "year": int(latest["year"]), "reference_value": float(latest["reference_value"]),
                         "value": float(latest["value"]), "disadvantage": float(latest["disadvantage"]),
                         "flags": latest["flags"], "trend": series["disadvantage"].round(2).tolist(),
                         "trend_years": series["year"].astype(int).tolist(), "dataset": latest["dataset"]})
    return pd.DataFrame(rows, columns=PROFILE_COLUMNS)
