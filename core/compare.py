"""Side-by-side comparisons of two to four places: values, gaps, progression, capacity, commitments.

A *view* is what a presenter pins: the places (2-4: countries or regional aggregates such as
EU27_2020), the right, one indicator or all indicators of the right, and the year (the latest
year both groups have up to that year, for each place and indicator). A *deck* is a list of views;
both are encoded as short text for the URL (``encode_deck`` / ``decode_deck``).

Progression: the disadvantage (> 0: migrants worse off) between the first and the last year of a
window (by default the ten years up to the year shown), classified by core.gaps.classify_trend:
closing, widening or stable (a change under 0.2 pp a year), 'reversed' when the gap changed sign.
A widening disadvantage is a regression. At the current pace, the years to parity are
``last disadvantage / closing pace`` (DESIGN.md, "Trend"); when the gap changed sign, parity was
crossed within the window, in the year found by linear interpolation. For amounts (EUR), the same
rules apply to the disadvantage as a percentage of the reference group's value, so that a threshold
of 0.2 points a year means the same across currencies and price levels.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core import gaps as gap_engine
from core import vocabulary

MIN_PLACES, MAX_PLACES = 2, 4
PROGRESSION_WINDOW_YEARS = 10
STABLE_THRESHOLD_PP_PER_YEAR = 0.2
PREFERRED_GROUPS = ("non_nationals", "foreign_born", "non_eu_citizens", "non_eu_born", "eu_citizens", "eu_born")
PREFERRED_AGES = ("Y15-64", "Y25-64", "Y_GE16", "Y_GE18", "TOTAL", "not_stated")
ALL_INDICATORS = "all"

_VIEW_SEPARATOR = "!"
_FIELD_SEPARATOR = "~"
_PLACE_CODE = re.compile(r"^[A-Z][A-Z0-9_]{1,15}$")
_INDICATOR_CODE = re.compile(r"^[a-z_]+\.[a-z0-9_]+$")


# ------------------------------------------------------------------------------------------ views


@dataclass(frozen=True)
class View:
    """One pinned comparison: places (2-4 geo codes, in order), right, indicator (a catalogue
    code, or None for every indicator of the right with data), year (the latest year up to this one)."""

    places: tuple[str, ...]
    right: str
    indicator: str | None
    year: int

    def encode(self) -> str:
        """'work~work.employment_rate~2023~DEU,FRA' (indicator 'all' when None)."""
        return _FIELD_SEPARATOR.join([self.right, self.indicator or ALL_INDICATORS, str(self.year), ",".join(self.places)])


def validate_places(places) -> tuple[str, ...]:
    """The places as a tuple, checked: 2 to 4 distinct codes.

    Raises ValueError saying how many to choose, or which code repeats.
    """
    places = tuple(places)
    if not MIN_PLACES <= len(places) <= MAX_PLACES:
        raise ValueError(f"choose {MIN_PLACES} to {MAX_PLACES} places to compare (got {len(places)})")
    repeated = sorted({p for p in places if places.count(p) > 1})
    if repeated:
        raise ValueError(f"each place once: {', '.join(repeated)} repeats")
    return places


def decode_view(text: str) -> View:
    """Parse one view encoded by View.encode.

    Raises ValueError saying which field is wrong (right, indicator, year or places).
    """
    parts = str(text).strip().split(_FIELD_SEPARATOR)
    if len(parts) != 4:
        raise ValueError(f"{text!r}: expected right~indicator~year~places")
    right, indicator, year, places = parts
    if right not in vocabulary.RIGHTS:
        raise ValueError(f"{text!r}: unknown right {right!r}")
    if indicator != ALL_INDICATORS and not _INDICATOR_CODE.match(indicator):
        raise ValueError(f"{text!r}: {indicator!r} is not an indicator code")
    if not year.isdigit() or not 1900 <= int(year) <= 2100:
        raise ValueError(f"{text!r}: {year!r} is not a year")
    codes = [p for p in places.split(",") if p]
    bad = [p for p in codes if not _PLACE_CODE.match(p)]
    if bad:
        raise ValueError(f"{text!r}: {bad} are not place codes")
    return View(validate_places(codes), right, None if indicator == ALL_INDICATORS else indicator, int(year))


def encode_deck(views: list[View]) -> str:
    """The views as one URL-safe text: views joined by '!'."""
    return _VIEW_SEPARATOR.join(view.encode() for view in views)


def decode_deck(text: str | None) -> tuple[list[View], list[str]]:
    """Parse a deck; returns (views, problems). A view that does not parse is left out and its
    problem reported; an empty text gives an empty deck."""
    views: list[View] = []
    problems: list[str] = []
    for number, part in enumerate([p for p in str(text or "").split(_VIEW_SEPARATOR) if p.strip()], start=1):
        try:
            views.append(decode_view(part))
        except ValueError as error:
            problems.append(f"pinned view {number}: {error}")
    return views, problems


# ------------------------------------------------------------------------------------ progression


def compute_years_to_parity(first_year: int, first_disadvantage: float, last_year: int, last_disadvantage: float,
                            threshold: float = STABLE_THRESHOLD_PP_PER_YEAR) -> dict:
    """When migrants reach parity with their reference group, at the pace between two years.

    Returns {status, regression, change, change_per_year (from classify_trend), years_to_parity
    (float: 0 when migrants are not worse off in the last year; None when the gap is not closing),
    parity_year (float | None: last_year + years_to_parity), crossed_year (float | None: when the
    gap changed sign within the window, the year it crossed zero by linear interpolation)}.
    Raises ValueError when last_year <= first_year.
    """
    years = last_year - first_year
    trend = gap_engine.classify_trend(first_disadvantage, last_disadvantage, years, threshold_pp_per_year=threshold)
    crossed_year = None
    if (first_disadvantage > 0) != (last_disadvantage > 0) and first_disadvantage != last_disadvantage \
            and first_disadvantage != 0 and last_disadvantage != 0:
        crossed_year = first_year + years * first_disadvantage / (first_disadvantage - last_disadvantage)
    if last_disadvantage <= 0:
        years_to_parity = 0.0
    else:
        years_to_parity = trend["years_to_parity"]
    parity_year = last_year + years_to_parity if years_to_parity is not None else None
    return {**trend, "years_to_parity": years_to_parity, "parity_year": parity_year, "crossed_year": crossed_year}


def compute_progression(series: pd.DataFrame, end_year: int | None = None, window: int = PROGRESSION_WINDOW_YEARS,
                        unit: str = "percent", threshold: float = STABLE_THRESHOLD_PP_PER_YEAR) -> dict:
    """Classify how one place's gap moved over the window ending at end_year.

    series: rows of core.gaps.compute_gap_series for one place, group, sex and age (year,
    disadvantage, reference_value). end_year: the last year used (default: the latest); the
    first is the earliest year in [end_year - window, end_year].
    unit: for 'percent' the measure is the disadvantage in pp; for other units it is the
    disadvantage as % of the reference group's value ('measure' says which).
    Returns {first_year, last_year, first, last (the measure in those years), measure ('pp' |
    '% of reference'), threshold, status ('closing' | 'widening' | 'stable' | 'reversed' |
    'too few years'), regression, change, change_per_year, years_to_parity, parity_year,
    crossed_year, label (a sentence for the page)}.
    """
    measure = "pp" if unit == "percent" else "% of reference"
    empty = {"first_year": None, "last_year": None, "first": None, "last": None, "measure": measure,
             "threshold": threshold, "status": "too few years", "regression": False, "change": None,
             "change_per_year": None, "years_to_parity": None, "parity_year": None, "crossed_year": None}
    if series is None or series.empty:
        return {**empty, "label": "no years with values for both groups"}
    frame = series.sort_values("year")
    end_year = int(frame["year"].max()) if end_year is None else int(end_year)
    frame = frame.loc[(frame["year"] <= end_year) & (frame["year"] >= end_year - window)]
    if len(frame) < 2:
        return {**empty, "label": "only one year with values for both groups: no progression"}
    if unit == "percent":
        values = frame["disadvantage"].astype(float)
    else:
        values = 100.0 * frame["disadvantage"].astype(float) / frame["reference_value"].astype(float)
    first, last = frame.iloc[0], frame.iloc[-1]
    result = compute_years_to_parity(int(first["year"]), float(values.iloc[0]), int(last["year"]), float(values.iloc[-1]),
                                     threshold=threshold)
    result = {**empty, **result, "first_year": int(first["year"]), "last_year": int(last["year"]),
              "first": float(values.iloc[0]), "last": float(values.iloc[-1])}
    result["label"] = describe_progression(result)
    return result


def describe_progression(progress: dict) -> str:
    """A sentence for a progression (see compute_progression), e.g. 'closing by 0.8 pp a year since
    2013; parity in about 7 years (2030) at this pace'."""
    status = progress["status"]
    if status == "too few years":
        return progress.get("label") or "too few years"
    unit = "pp" if progress["measure"] == "pp" else "points of the reference value"
    pace = f"{abs(progress['change_per_year']):.2f} {unit} a year since {progress['first_year']}"
    if status == "stable":
        return f"stable: {progress['change_per_year']:+.2f} {unit} a year since {progress['first_year']} (under {progress['threshold']} a year)"
    if status == "reversed":
        crossed = f" around {progress['crossed_year']:.0f}" if progress.get("crossed_year") else ""
        if progress["regression"]:
            return f"reversed — regression: migrants became worse off{crossed} ({pace})"
        return f"reversed: the gap closed{crossed} and migrants are now better off ({pace})"
    if status == "closing":
        if progress["years_to_parity"] == 0:
            return f"closing by {pace}; migrants are not worse off"
        if progress["years_to_parity"] is not None:
            return (f"closing by {pace}; parity in about {progress['years_to_parity']:.0f} years "
                    f"({progress['parity_year']:.0f}) at this pace")
        return f"closing by {pace}"
    if progress["regression"]:
        return f"widening — regression: the disadvantage grows by {pace}"
    return f"widening in migrants' favour by {pace}"


# ----------------------------------------------------------------------------------- comparisons


def choose_breakdown(observations: pd.DataFrame, geos: list[str]) -> dict | None:
    """Which comparison to show for one indicator across places, the same for every place.

    observations: OBSERVATION_COLUMNS rows of the indicator (all places). Picks the migrant group
    (first of PREFERRED_GROUPS that most of the places have; ties: the preference order), the sex
    (['T'] when the source has totals, else ['F', 'M']), and the age band (first of PREFERRED_AGES
    the group has). Returns {group, reference_group, sexes, age} or None when no migrant group exists.
    """
    usable = observations.loc[gap_engine.is_usable(observations["value"], observations["flags"].fillna(""))]
    candidates = [g for g in PREFERRED_GROUPS if g in set(usable["group"])]
    candidates += sorted(g for g in set(usable["group"]) if vocabulary.dimension_of(g) in vocabulary.REFERENCE_GROUPS
                         and g not in vocabulary.REFERENCE_GROUPS.values() and g not in candidates)
    if not candidates:
        return None
    counts = usable.loc[usable["geo"].isin(geos)].groupby("group")["geo"].nunique()
    coverage = {g: int(counts.get(g, 0)) for g in candidates}
    group = max(candidates, key=lambda g: (coverage[g], -candidates.index(g)))
    part = usable.loc[usable["group"] == group]
    sexes = ["T"] if "T" in set(part["sex"]) else sorted(set(part["sex"]) & {"F", "M"}) or sorted(set(part["sex"]))
    ages = set(part["age"])
    age = next((a for a in PREFERRED_AGES if a in ages), sorted(ages)[0])
    return {"group": group, "reference_group": vocabulary.REFERENCE_GROUPS[vocabulary.dimension_of(group)],
            "sexes": sexes, "age": age}


COMPARISON_COLUMNS: list[str] = [
    "geo", "sex", "age", "group", "reference_group", "year", "reference_value", "value", "difference", "disadvantage",
    "flags", "low_reliability", "dataset", "note",
]

#: The progression fields of compare_places' rows (compute_progression; NaN, and regression False,
#: for a place without a gap).
PROGRESSION_COLUMNS: list[str] = [
    "first_year", "last_year", "status", "regression", "change_per_year", "years_to_parity", "parity_year",
    "crossed_year", "progress_label", "measure", "threshold",
]


def compare_places(observations: pd.DataFrame, polarity: str, unit: str, geos: list[str], year: int | None,
                   breakdown: dict, window: int = PROGRESSION_WINDOW_YEARS) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both groups' values, the gap and its progression for each place, one row per place and sex.

    observations: OBSERVATION_COLUMNS rows of one indicator; breakdown: from choose_breakdown;
    year: the latest year both groups have up to this one is used, per place (None: the latest).
    Returns (rows, series):
    - rows: COMPARISON_COLUMNS plus the progression fields (first_year, last_year, status,
      regression, change_per_year, years_to_parity, parity_year, crossed_year, progress_label,
      measure, threshold), in the order of geos; a place without a gap has NaN values and a note
      ('no data for this place', 'no year with values for both groups').
    - series: core.gaps.compute_gap_series rows (every year up to ``year``) for every place and sex.
    """
    group, reference = breakdown["group"], breakdown["reference_group"]
    subset = observations.loc[observations["group"].isin([group, reference]) & (observations["age"] == breakdown["age"])
                              & observations["sex"].isin(breakdown["sexes"]) & observations["geo"].isin(geos)]
    if year is not None:
        subset = subset.loc[subset["period"] <= int(year)]
    series = gap_engine.compute_gap_series(subset, polarity)
    if not series.empty:
        series = series.loc[series["group"] == group]
    rows = []
    for geo in geos:
        for sex in breakdown["sexes"]:
            base = {"geo": geo, "sex": sex, "age": breakdown["age"], "group": group, "reference_group": reference}
            part = series.loc[(series["geo"] == geo) & (series["sex"] == sex)] if not series.empty else series
            if part.empty:
                has_any = not subset.loc[(subset["geo"] == geo) & (subset["sex"] == sex)].empty
                rows.append({**base, "note": "no year with values for both groups" if has_any else "no data for this place"})
                continue
            latest = part.sort_values("year").iloc[-1]
            progress = compute_progression(part, end_year=int(latest["year"]), window=window, unit=unit)
            rows.append({**base, "year": int(latest["year"]), "reference_value": latest["reference_value"],
                         "value": latest["value"], "difference": latest["difference"], "disadvantage": latest["disadvantage"],
                         "flags": latest["flags"], "low_reliability": bool(latest["low_reliability"]),
                         "dataset": latest["dataset"], "note": "",
                         **{k: progress[k] for k in ("first_year", "last_year", "status", "regression", "change_per_year",
                                                     "years_to_parity", "parity_year", "crossed_year", "measure", "threshold")},
                         "progress_label": progress["label"]})
    frame = pd.DataFrame(rows)
    for column in COMPARISON_COLUMNS + PROGRESSION_COLUMNS:  # every column, even when no place has a gap
        if column not in frame.columns:
            frame[column] = False if column == "regression" else np.nan
    return frame, series


@dataclass
class IndicatorComparison:
    """One indicator compared across places: its catalogue fields, the breakdown chosen, the rows
    (compare_places rows with capacity scores, see core.capacity.SCORE_COLUMNS), the gap series,
    the frontier's countries and the datasets used."""

    code: str
    title: str
    unit: str
    polarity: str
    breakdown: dict
    rows: pd.DataFrame
    series: pd.DataFrame
    frontier_countries: int | None = None
    frontier_support: list[str] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)


def indicators_for_right(connection, right: str, catalogue=None, summary: pd.DataFrame | None = None) -> list[str]:
    """Catalogue codes of the right's indicators that compare groups and have values in the store,
    in catalogue order (context indicators and structural yes/no indicators left out).
    summary: core.queries.fetch_data_summary's result, when the caller has it already."""
    from core import queries
    from core.catalogue import load_default_catalogue

    catalogue = catalogue or load_default_catalogue()
    summary = queries.fetch_data_summary(connection) if summary is None else summary
    with_groups = set()
    for row in summary.itertuples(index=False):
        if row.values > 0 and any(vocabulary.dimension_of(g) in vocabulary.REFERENCE_GROUPS for g in row.groups):
            with_groups.add(row.indicator)
    return [i.code for i in catalogue if i.right == right and not i.context and i.code in with_groups]


def fetch_comparison(connection, view: View, catalogue=None, gdp: pd.DataFrame | None = None,
                     window: int = PROGRESSION_WINDOW_YEARS) -> list[IndicatorComparison]:
    """Everything a view shows, one IndicatorComparison per indicator (the view's indicator, or
    every indicator of the right with data). Capacity scores are added for outcome indicators when
    GDP per capita is in the store (frontier over every place and year of the same sex and age band).
    """
    from core import capacity, queries
    from core.catalogue import load_default_catalogue

    catalogue = catalogue or load_default_catalogue()
    codes = [view.indicator] if view.indicator else indicators_for_right(connection, view.right, catalogue)
    gdp = capacity.fetch_gdp(connection) if gdp is None else gdp
    results = []
    for code in codes:
        entry = queries.fetch_indicator(connection, code, catalogue)
        observations = queries.fetch_observations(connection, code)
        breakdown = choose_breakdown(observations, list(view.places)) if not observations.empty else None
        if breakdown is None:
            continue
        rows, series = compare_places(observations, entry["polarity"], entry["unit"], list(view.places), view.year,
                                      breakdown, window=window)
        countries, support = None, []
        scorable = entry.get("type") == "outcome" and not gdp.empty and (
            entry["polarity"] == "higher_is_better" or entry["unit"] in capacity.ACHIEVEMENT_MAXIMUM)
        if scorable:
            frontier_observations = observations.loc[(observations["age"] == breakdown["age"])
                                                     & observations["sex"].isin(breakdown["sexes"])]
            with_gap = rows.loc[rows["year"].notna()].copy()
            if not with_gap.empty:
                with_gap["year"] = with_gap["year"].astype(int)
                frontiers = capacity.compute_frontiers(frontier_observations, gdp, entry["polarity"], entry["unit"])
                scored = capacity.compute_capacity_scores(with_gap, frontier_observations, gdp, entry["polarity"], entry["unit"],
                                                          frontiers=frontiers)
                rows = rows.merge(scored[["geo", "sex", *capacity.SCORE_COLUMNS]], on=["geo", "sex"], how="left")
                if frontiers:
                    first = frontiers[sorted(frontiers)[0]]
                    countries, support = first.countries, first.countries_on_frontier
        for column in capacity.SCORE_COLUMNS:
            if column not in rows.columns:
                rows[column] = np.nan
        datasets = sorted(set(rows["dataset"].dropna())) if "dataset" in rows.columns else []
        results.append(IndicatorComparison(code, entry["title"], entry["unit"], entry["polarity"], breakdown, rows, series,
                                           countries, support, datasets))
    return results


def fetch_comparable_places(connection, catalogue=None) -> pd.DataFrame:
    """Places where at least one indicator compares a migrant group with its reference group.

    Returns columns geo, geo_name, geo_level ('national' | 'regional' ...), rights (sorted list of
    the rights with a comparison there), sorted with aggregates first, then countries by name.
    """
    from core import queries
    from core.catalogue import load_default_catalogue
    from core.geo import name_of

    catalogue = catalogue or load_default_catalogue()
    rights: dict[tuple[str, str], set[str]] = {}
    summary = queries.fetch_data_summary(connection)
    for right in vocabulary.RIGHTS:
        for code in indicators_for_right(connection, right, catalogue, summary):
            frame = queries.fetch_observations(connection, code, groups=list(vocabulary.REFERENCE_GROUPS.values()))
            frame = frame.loc[frame["value"].notna(), ["geo", "geo_level"]].drop_duplicates()
            for geo, level in frame.itertuples(index=False):
                rights.setdefault((geo, level), set()).add(right)
    rows = [{"geo": geo, "geo_name": name_of(geo), "geo_level": level, "rights": sorted(found)}
            for (geo, level), found in rights.items()]
    frame = pd.DataFrame(rows, columns=["geo", "geo_name", "geo_level", "rights"])
    frame["order"] = (frame["geo_level"] == "national").astype(int)
    return frame.sort_values(["order", "geo_name"]).drop(columns="order").reset_index(drop=True)
