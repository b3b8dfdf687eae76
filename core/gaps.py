"""The gap engine: migrants compared with their reference group, by the rules of DESIGN.md.

Rules (DESIGN.md, "Gap rules"):
- compare only within one dimension (non-nationals with nationals; foreign-born with native-born);
- compare like with like: same indicator, dataset, geo, period, sex, age band and unit;
- in "latest" mode, when the two groups' latest years differ, use the latest year both have;
- a missing, confidential (c) or not-applicable (z, legacy '-') value gives no gap; a real 0.0 is a value;
- a value flagged u (low reliability) gives a gap that carries the flag.

Measures, with M the migrant group's value and N the reference group's:
difference M - N (percentage points when the unit is %); ratio M / N (null when N = 0);
relative gap 100 (M - N) / N (null when N = 0); disadvantage = the difference signed by polarity so
that a positive value means migrants are worse off. Where standard errors or 95% confidence bounds
are given: SE of the difference sqrt(se_M^2 + se_N^2), 95% CI D +/- 1.96 SE; the ratio's CI on the
log scale, SE(log R) = sqrt((se_M/M)^2 + (se_N/N)^2) (the delta method, as in WHO's HEAT
health-inequality measures).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from core import vocabulary

Z_95 = 1.959963984540054

GAP_COLUMNS: list[str] = [
    "indicator", "dataset", "geo", "geo_level", "year", "sex", "age", "unit", "dimension",
    "reference_group", "group", "reference_value", "value", "difference", "ratio", "relative_gap_pct",
    "disadvantage", "reference_flags", "group_flags", "flags", "low_reliability",
    "difference_se", "difference_ci_lower", "difference_ci_upper", "ratio_ci_lower", "ratio_ci_upper",
]

_KEYS = ["indicator", "dataset", "geo", "geo_level", "sex", "age", "unit"]


class MixedDimensionsError(ValueError):
    """A comparison across the citizenship and country-of-birth dimensions was requested."""


def is_usable(values: pd.Series, flags: pd.Series) -> pd.Series:
    """True where an observation can enter a gap: a value present and not flagged c or z ('-' legacy)."""
    flag_text = flags.fillna("").astype(str)
    no_value = flag_text.str.contains("[cz-]", regex=True)
    return values.notna() & ~no_value


def _standard_error(frame: pd.DataFrame, prefix: str = "") -> pd.Series:
    """SE from the se column, or from 95% bounds ((upper - lower) / (2 * 1.96)) where only those exist."""
    se = frame.get(f"{prefix}se", pd.Series(np.nan, index=frame.index)).astype(float)
    lower = frame.get(f"{prefix}ci_lower", pd.Series(np.nan, index=frame.index)).astype(float)
    upper = frame.get(f"{prefix}ci_upper", pd.Series(np.nan, index=frame.index)).astype(float)
    return se.fillna((upper - lower) / (2 * Z_95))


def compute_gaps(
    observations: pd.DataFrame,
    polarity: str | dict[str, str],
    year: int | str | None = "latest",
    groups: list[str] | None = None,
) -> pd.DataFrame:
    """Compare each migrant group with its reference group, one row per comparable pair.

    observations: one row per observation with columns indicator, dataset, geo, geo_level,
        period (int year), sex (T/F/M), age (e.g. 'Y15-64'), unit, group (population-group
        vocabulary), value (float, NaN when missing), flags (str of Eurostat letters), and
        optionally se, ci_lower, ci_upper (same unit as value).
    polarity: 'higher_is_better' or 'lower_is_better', or {indicator code: polarity}.
    year: an int for that year only; 'latest' (or None) for the latest year in which both groups
        have a usable value, chosen separately for each geo, sex, age and group; 'all' for every
        year in which both groups have a usable value (see compute_gap_series).
    groups: migrant groups to compare (default: every group of the citizenship and
        country-of-birth dimensions present, except the reference groups).

    Returns a DataFrame with the columns GAP_COLUMNS: year (int), dimension, reference_group,
    reference_value, value, difference (pp when the unit is %), ratio (null when the reference
    value is 0), relative_gap_pct (%), disadvantage (> 0: migrants worse off), reference_flags,
    group_flags, flags (union), low_reliability (bool: either value flagged u), and, where standard
    errors or bounds exist, difference_se, difference_ci_lower/upper, ratio_ci_lower/upper (95%).
    Sorted by indicator, geo, sex, age, group, year.

    Raises MixedDimensionsError when ``groups`` names groups of two dimensions at once, and
    ValueError for an unknown polarity.
    """
    if groups:
        dimensions = {vocabulary.dimension_of(g) for g in groups} - {None}
        if len(dimensions) > 1:
            raise MixedDimensionsError(
                f"groups {groups} mix the {' and '.join(sorted(dimensions))} dimensions; "
                "compare non-nationals with nationals, or foreign-born with native-born, not across"
            )
    if observations.empty:
        return pd.DataFrame(columns=GAP_COLUMNS)
    frame = observations.copy()
    for column in ("se", "ci_lower", "ci_upper"):
        if column not in frame.columns:
            frame[column] = np.nan
    if "flags" not in frame.columns:
        frame["flags"] = ""
    frame["flags"] = frame["flags"].fillna("")
    frame["dimension"] = _map_distinct(frame["group"], vocabulary.dimension_of)
    frame = frame.loc[is_usable(frame["value"], frame["flags"]) & frame["dimension"].isin(vocabulary.REFERENCE_GROUPS)]
    if isinstance(year, (int, np.integer)) or (isinstance(year, str) and year.isdigit()):
        frame = frame.loc[frame["period"] == int(year)]
    reference_mask = frame["group"] == frame["dimension"].map(vocabulary.REFERENCE_GROUPS)
    reference = frame.loc[reference_mask]
    migrants = frame.loc[~reference_mask]
    if groups:
        migrants = migrants.loc[migrants["group"].isin(groups)]
    columns = [*_KEYS, "dimension", "period", "value", "flags", "se", "ci_lower", "ci_upper"]
    pairs = migrants[[*columns, "group"]].merge(
        reference[columns].rename(columns={"value": "reference_value", "flags": "reference_flags", "se": "reference_se",
                                           "ci_lower": "reference_ci_lower", "ci_upper": "reference_ci_upper"}),
        on=[*_KEYS, "dimension", "period"],
        how="inner",
    )
    if year != "all" and not (isinstance(year, (int, np.integer)) or (isinstance(year, str) and year.isdigit())):
        latest = pairs.groupby([*_KEYS, "group"], dropna=False)["period"].transform("max")
        pairs = pairs.loc[pairs["period"] == latest]
    if pairs.empty:
        return pd.DataFrame(columns=GAP_COLUMNS)
    return _measure(pairs, polarity)


def compute_gap_series(observations: pd.DataFrame, polarity: str | dict[str, str]) -> pd.DataFrame:
    """Gaps for every year in which both groups have a usable value (same columns as compute_gaps,
    sorted by indicator, geo, sex, age, group, year). One pass over all years: the pairs are
    matched on the year as on every other key, which gives the same rows as compute_gaps year by year."""
    return compute_gaps(observations, polarity, year="all")


def _map_distinct(values: pd.Series, function) -> pd.Series:
    """function applied once per distinct value rather than once per row (group and flag columns
    hold a handful of distinct values in tens of thousands of rows)."""
    return values.map({value: function(value) for value in values.unique()})


def _measure(pairs: pd.DataFrame, polarity: str | dict[str, str]) -> pd.DataFrame:
    m = pairs["value"].astype(float)
    n = pairs["reference_value"].astype(float)
    if isinstance(polarity, str):
        polarity_of_row = pd.Series(polarity, index=pairs.index)
    else:
        polarity_of_row = pairs["indicator"].map(polarity)
    if not polarity_of_row.isin(vocabulary.POLARITIES).all():
        raise ValueError(f"unknown polarity {set(polarity_of_row.unique()) - set(vocabulary.POLARITIES)}")
    difference = (m - n).round(10)  # 79.7 - 65.8 is -13.900000000000006 in binary floating point
    nonzero = n != 0
    ratio = (m / n).where(nonzero).round(10)
    out = pd.DataFrame({
        "indicator": pairs["indicator"], "dataset": pairs["dataset"], "geo": pairs["geo"],
        "geo_level": pairs["geo_level"], "year": pairs["period"].astype(int), "sex": pairs["sex"],
        "age": pairs["age"], "unit": pairs["unit"], "dimension": pairs["dimension"],
        "reference_group": pairs["dimension"].map(vocabulary.REFERENCE_GROUPS), "group": pairs["group"],
        "reference_value": n, "value": m, "difference": difference, "ratio": ratio,
        "relative_gap_pct": (100 * difference / n).where(nonzero).round(10),
        "disadvantage": difference.where(polarity_of_row == "lower_is_better", -difference),
        "reference_flags": pairs["reference_flags"], "group_flags": pairs["flags"],
    })
    both = out["reference_flags"].fillna("").astype(str) + "\x1f" + out["group_flags"].fillna("").astype(str)
    out["flags"] = _map_distinct(both, lambda text: vocabulary.merge_flags(*text.split("\x1f")))
    out["low_reliability"] = out["flags"].str.contains(vocabulary.LOW_RELIABILITY_FLAG, regex=False)
    se_m = _standard_error(pairs)
    se_n = _standard_error(pairs, prefix="reference_")
    difference_se = np.sqrt(se_m**2 + se_n**2)
    out["difference_se"] = difference_se
    out["difference_ci_lower"] = difference - Z_95 * difference_se
    out["difference_ci_upper"] = difference + Z_95 * difference_se
    positive = (m > 0) & (n > 0)
    log_se = np.sqrt((se_m / m) ** 2 + (se_n / n) ** 2).where(positive)
    out["ratio_ci_lower"] = ratio * np.exp(-Z_95 * log_se)
    out["ratio_ci_upper"] = ratio * np.exp(Z_95 * log_se)
    out = out.sort_values(["indicator", "geo", "sex", "age", "group", "year"]).reset_index(drop=True)
    return out[GAP_COLUMNS]


def classify_trend(first_disadvantage: float, last_disadvantage: float, years: int, threshold_pp_per_year: float = 0.2) -> dict:
    """Classify how a gap moved between two years.

    first_disadvantage, last_disadvantage: the disadvantage (positive = migrants worse off) in the
    first and last year; years: the number of years between them (> 0).
    threshold_pp_per_year: changes smaller than this, per year, count as stable (0.2 pp a year is
    about the sampling error of a change in LFS rates for a mid-sized country; documented on the
    Sources and method page).

    Returns {change (last - first), change_per_year, status ('closing' | 'widening' | 'stable' |
    'reversed'), regression (bool: a widening disadvantage, what treaty bodies call retrogression),
    years_to_parity (float | None: at the current pace, when the disadvantage is closing)}.
    'reversed' means the gap changed sign (migrants moved from worse off to better off or back).
    """
    if years <= 0:
        raise ValueError("years must be positive")
    change = last_disadvantage - first_disadvantage
    per_year = change / years
    sign_changed = (first_disadvantage > 0) != (last_disadvantage > 0) and first_disadvantage != 0 and last_disadvantage != 0
    if abs(per_year) < threshold_pp_per_year:
        status = "stable"
    elif sign_changed:
        status = "reversed"
    elif abs(last_disadvantage) < abs(first_disadvantage):
        status = "closing"
    else:
        status = "widening"
    regression = last_disadvantage > 0 and change > 0 and status in {"widening", "reversed"}
    years_to_parity = None
    if status == "closing" and last_disadvantage > 0 and per_year < 0:
        years_to_parity = last_disadvantage / -per_year
    return {"change": change, "change_per_year": per_year, "status": status, "regression": regression,
            "years_to_parity": years_to_parity}
