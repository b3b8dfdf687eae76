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


_NO_VALUE_FLAGS = "cz-"  # confidential, not applicable, legacy 'not applicable': no value, no gap


def is_usable(values: pd.Series, flags: pd.Series) -> pd.Series:
    """True where an observation can enter a gap: a value present and not flagged c or z ('-' legacy)."""
    flag_text = flags.fillna("").astype(str)
    no_value = _map_distinct(flag_text, lambda text: any(letter in _NO_VALUE_FLAGS for letter in text)).astype(bool)
    return values.notna() & ~no_value


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
    frame = observations.reset_index(drop=True)
    flags = frame["flags"].fillna("").astype(str) if "flags" in frame.columns else pd.Series("", index=frame.index)
    group = frame["group"]
    dimension = _map_distinct(group, vocabulary.dimension_of)
    keep = is_usable(frame["value"], flags) & dimension.isin(vocabulary.REFERENCE_GROUPS)
    specific_year = isinstance(year, (int, np.integer)) or (isinstance(year, str) and year.isdigit())
    if specific_year:
        keep &= frame["period"] == int(year)
    is_reference = group == _map_distinct(dimension, vocabulary.REFERENCE_GROUPS.get)
    migrant_mask = keep & ~is_reference
    if groups:
        migrant_mask &= group.isin(groups)
    migrant_rows, reference_rows = _pair_rows(frame, dimension, np.flatnonzero(migrant_mask.to_numpy()),
                                              np.flatnonzero((keep & is_reference).to_numpy()))
    if year != "all" and not specific_year and len(migrant_rows):
        latest_keys = pd.DataFrame({key: frame[key].take(migrant_rows).reset_index(drop=True) for key in [*_KEYS, "group"]})
        periods = frame["period"].to_numpy()[migrant_rows]
        latest = latest_keys.assign(period=periods).groupby([*_KEYS, "group"], dropna=False)["period"].transform("max")
        chosen = periods == latest.to_numpy()
        migrant_rows, reference_rows = migrant_rows[chosen], reference_rows[chosen]
    if not len(migrant_rows):
        return pd.DataFrame(columns=GAP_COLUMNS)
    return _measure(frame, flags, dimension, migrant_rows, reference_rows, polarity)


def compute_gap_series(observations: pd.DataFrame, polarity: str | dict[str, str]) -> pd.DataFrame:
    """Gaps for every year in which both groups have a usable value (same columns as compute_gaps,
    sorted by indicator, geo, sex, age, group, year). One pass over all years: the pairs are
    matched on the year as on every other key, which gives the same rows as compute_gaps year by year."""
    return compute_gaps(observations, polarity, year="all")


#: Up to this many candidate rows, pairs are matched through a dictionary of key tuples (a few tenths
#: of a millisecond for one selection); above it, through pandas (faster for whole indicators).
SMALL_PAIRING_ROWS = 4000


_MISSING = object()  # the key of every missing value (NaN is not equal to itself)


def _map_distinct(values: pd.Series, function) -> pd.Series:
    """function applied once per distinct value rather than once per row (group and flag columns
    hold a handful of distinct values in tens of thousands of rows). Up to SMALL_PAIRING_ROWS rows a
    plain loop over the values (pandas' map costs about a millisecond a call, whatever the size)."""
    if len(values) <= SMALL_PAIRING_ROWS:
        results: dict = {}
        mapped = []
        for value in values.tolist():
            key = value if value == value else _MISSING
            if key not in results:
                results[key] = function(value)
            mapped.append(results[key])
        return pd.Series(mapped, index=values.index, dtype=None if mapped else values.dtype)
    return values.map({value: function(value) for value in values.unique()})


def _pair_rows(frame: pd.DataFrame, dimension: pd.Series, migrant_rows: np.ndarray,
               reference_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row positions (migrant, reference) of every pair with equal indicator, dataset, geo, geo level,
    sex, age, unit, dimension and period (missing key values match each other, as in a pandas merge).
    Pairs come in migrant-row order, then reference-row order, like an inner merge."""
    if not len(migrant_rows) or not len(reference_rows):
        return np.array([], dtype=np.intp), np.array([], dtype=np.intp)
    columns = [*_KEYS, "period"]
    if len(migrant_rows) + len(reference_rows) <= SMALL_PAIRING_ROWS:
        rows = np.concatenate([migrant_rows, reference_rows])
        values = [_plain_list(frame[column].take(rows)) for column in columns] + [_plain_list(dimension.take(rows))]
        keys = list(zip(*values))
        by_key: dict[tuple, list[int]] = {}
        for position, key in zip(reference_rows.tolist(), keys[len(migrant_rows):]):
            by_key.setdefault(key, []).append(position)
        pairs = [(m, r) for m, key in zip(migrant_rows.tolist(), keys[: len(migrant_rows)]) for r in by_key.get(key, ())]
        if not pairs:
            return np.array([], dtype=np.intp), np.array([], dtype=np.intp)
        migrant, reference = zip(*pairs)
        return np.array(migrant, dtype=np.intp), np.array(reference, dtype=np.intp)
    keyed = frame[columns].assign(dimension=dimension)
    left = keyed.take(migrant_rows).assign(_migrant_row=migrant_rows)
    right = keyed.take(reference_rows).assign(_reference_row=reference_rows)
    merged = left.merge(right, on=[*columns, "dimension"], how="inner")
    return merged["_migrant_row"].to_numpy(dtype=np.intp), merged["_reference_row"].to_numpy(dtype=np.intp)


def _plain_list(values: pd.Series) -> list:
    """Values as a list with every missing value as None (NaN is not equal to itself in a key tuple)."""
    listed = values.tolist()
    if values.hasnans:
        return [None if value is None or value != value else value for value in listed]
    return listed


def _numbers(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """value, se, ci_lower and ci_upper as float arrays over the whole frame (NaN where a column is
    absent), converted once and then indexed for both groups."""
    return {column: frame[column].to_numpy(dtype=float, na_value=np.nan) if column in frame.columns
            else np.full(len(frame), np.nan) for column in ("value", "se", "ci_lower", "ci_upper")}


def _standard_error(numbers: dict[str, np.ndarray], rows: np.ndarray) -> np.ndarray:
    """SE from the se column, or from 95% bounds ((upper - lower) / (2 * 1.96)) where only those exist."""
    se = numbers["se"][rows]
    from_bounds = (numbers["ci_upper"][rows] - numbers["ci_lower"][rows]) / (2 * Z_95)
    return np.where(np.isnan(se), from_bounds, se)


def _measure(frame: pd.DataFrame, flags: pd.Series, dimension: pd.Series, migrant_rows: np.ndarray,
             reference_rows: np.ndarray, polarity: str | dict[str, str]) -> pd.DataFrame:
    def taken(values: pd.Series, rows: np.ndarray) -> pd.Series:
        return values.take(rows).reset_index(drop=True)

    numbers = _numbers(frame)
    m, n = numbers["value"][migrant_rows], numbers["value"][reference_rows]
    indicator = taken(frame["indicator"], migrant_rows)
    if isinstance(polarity, str):
        polarity_of_row = pd.Series(polarity, index=indicator.index)
    else:
        polarity_of_row = _map_distinct(indicator, polarity.get)
    if not polarity_of_row.isin(vocabulary.POLARITIES).all():
        raise ValueError(f"unknown polarity {set(polarity_of_row.unique()) - set(vocabulary.POLARITIES)}")
    with np.errstate(divide="ignore", invalid="ignore"):
        difference = np.round(m - n, 10)  # 79.7 - 65.8 is -13.900000000000006 in binary floating point
        nonzero = n != 0
        ratio = np.where(nonzero, np.round(m / n, 10), np.nan)
        relative_gap = np.where(nonzero, np.round(100 * difference / n, 10), np.nan)
        se_m = _standard_error(numbers, migrant_rows)
        se_n = _standard_error(numbers, reference_rows)
        difference_se = np.sqrt(se_m**2 + se_n**2)
        log_se = np.where((m > 0) & (n > 0), np.sqrt((se_m / m) ** 2 + (se_n / n) ** 2), np.nan)
    dimensions = taken(dimension, migrant_rows)
    reference_flags, group_flags = taken(flags, reference_rows), taken(flags, migrant_rows)
    both = reference_flags + "\x1f" + group_flags
    merged_flags = _map_distinct(both, lambda text: vocabulary.merge_flags(*text.split("\x1f")))
    out = pd.DataFrame({
        "indicator": indicator, "dataset": taken(frame["dataset"], migrant_rows), "geo": taken(frame["geo"], migrant_rows),
        "geo_level": taken(frame["geo_level"], migrant_rows), "year": frame["period"].to_numpy()[migrant_rows].astype(int),
        "sex": taken(frame["sex"], migrant_rows), "age": taken(frame["age"], migrant_rows),
        "unit": taken(frame["unit"], migrant_rows), "dimension": dimensions,
        "reference_group": _map_distinct(dimensions, vocabulary.REFERENCE_GROUPS.get), "group": taken(frame["group"], migrant_rows),
        "reference_value": n, "value": m, "difference": difference, "ratio": ratio, "relative_gap_pct": relative_gap,
        "disadvantage": np.where(polarity_of_row.to_numpy() == "lower_is_better", difference, -difference),
        "reference_flags": reference_flags, "group_flags": group_flags, "flags": merged_flags,
        "low_reliability": _map_distinct(merged_flags, lambda text: vocabulary.LOW_RELIABILITY_FLAG in text).astype(bool),
        "difference_se": difference_se,
        "difference_ci_lower": difference - Z_95 * difference_se, "difference_ci_upper": difference + Z_95 * difference_se,
        "ratio_ci_lower": ratio * np.exp(-Z_95 * log_se), "ratio_ci_upper": ratio * np.exp(Z_95 * log_se),
    })
    return _sorted(out, ["indicator", "geo", "sex", "age", "group", "year"])


def _sorted(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """frame sorted by columns (index 0..n-1), in the order of a stable pandas sort_values. Up to
    SMALL_PAIRING_ROWS rows without missing keys, by Python's sort of key tuples (pandas' multi-column
    sort costs a few milliseconds whatever the size)."""
    if len(frame) > SMALL_PAIRING_ROWS or frame[columns].isna().to_numpy().any():
        return frame.sort_values(columns, kind="stable").reset_index(drop=True)
    keys = list(zip(*(frame[column].tolist() for column in columns)))
    order = sorted(range(len(keys)), key=keys.__getitem__)
    return frame.take(order).reset_index(drop=True)


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
