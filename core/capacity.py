"""Each state judged against its own capacity: the achievement possibilities frontier and scores.

Method (after the SERF Index — Randolph, Fukuda-Parr and Lawson-Remer, "Economic and Social Rights
Fulfillment Index: Country Scores and Rankings", Journal of Human Rights 9(3), 2010 — and the Human
Rights Measurement Initiative's economic and social rights methodology, which builds on it; the
Protocol of San Salvador's progress indicators ask the same question: how far each state has come
with the resources it has):

1. **Achievement scale.** Values are put on a scale where higher is better. For an indicator whose
   polarity is ``lower_is_better`` the value is inverted first: a percentage ``v`` becomes
   ``100 - v`` (e.g. unemployment 7% -> 93% not unemployed), a rate per 100 000 becomes
   ``100000 - v`` (the SERF Index does the same with survival rates).
2. **Frontier points.** What each country achieved for its population: every usable observation
   of the indicator in the store for a whole population or a reference group (``total``,
   ``nationals``, ``native_born``), for one sex and age band, every country and year (regional
   aggregates and values flagged ``u``, low reliability, left out), paired with the country's GDP
   per capita, PPP (constant 2021 international $, World Bank NY.GDP.PCAP.PP.KD) of the same year,
   and placed at ``x = ln(GDP per capita)``. Migrant groups are scored against the frontier but do
   not shape it: a few thousand people in one small country can reach values no state reaches for
   its population, and a frontier resting on them would judge every state against a sample.
3. **Frontier.** The achievement possibilities frontier is the least increasing, concave function
   of ``x`` lying on or above every point: the upper part of the convex hull of the points
   (computed by qhull through ``scipy.spatial.ConvexHull``) up to the highest point, flat beyond it.
   It passes through the best performers, so the best value seen at a level of GDP per capita
   is on or under it; a point on the frontier scores exactly 100. A migrant group (or an aggregate,
   or a low-reliability value) above the frontier is capped at 100, as the SERF Index caps scores
   above its frontier, and marked (``above_frontier``). (The SERF Index fits a smooth
   curve through its frontier points; the hull is the assumption-light version of the same idea,
   the output frontier of data envelopment analysis.)
4. **Score.** A group's score is its achievement as a percentage of the frontier at its country's
   GDP per capita: ``100 * (a - floor) / (f(x) - floor)``, with ``floor = 0`` by default (the plain
   "percentage of the frontier"); ``floor=None`` rescales from the lowest achievement observed, as
   the SERF Index does, which spreads the scores of indicators bunched near the top.
5. **Capacity gap.** ``score of the reference group - score of the migrant group``, in score
   points: positive when migrants are further from what the country's income allows (the same
   sign convention as the disadvantage).

Limits (shown on the Sources and method page): the frontier rests on the few countries at its
vertices (``Frontier.countries_on_frontier``), all of them European for the Eurostat indicators, so
it says what European countries achieved at their income, not what is feasible at low incomes; one
unusual observation (a small sample, flag u) can pull it up; GDP per capita ignores how income is
shared; amounts in EUR are nominal; below the lowest GDP per capita among the points the frontier
is undefined (no score).
"""
from __future__ import annotations

import functools
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from core import gaps as gap_engine

GDP_INDICATOR = "context.gdp_per_capita_ppp"
GDP_DATASET = "WB_NY.GDP.PCAP.PP.KD"
INCOME_GROUPS_FILE = Path(__file__).resolve().parent.parent / "data" / "context" / "income_groups.csv"

#: World Bank aggregate codes that are the project's regional geos (the World Bank's "European
#: Union" is the EU of 27 since 2020; its "Euro area" is the current 20 members).
WORLD_BANK_AGGREGATES: dict[str, str] = {"EUU": "EU27_2020", "EMU": "EA20"}

#: The maximum of an achievement scale, per unit, for inverting lower-is-better indicators.
ACHIEVEMENT_MAXIMUM: dict[str, float] = {"percent": 100.0, "per_100000": 100_000.0}

#: The groups whose values shape the frontier: whole populations and reference groups.
FRONTIER_GROUPS: tuple[str, ...] = ("total", "nationals", "native_born")
#: Values with these flags do not shape the frontier (u: low reliability, Eurostat).
FRONTIER_EXCLUDED_FLAGS = "u"

SCORE_COLUMNS: list[str] = [
    "gdp_per_capita_ppp", "gdp_year", "frontier_value", "frontier_achievement", "reference_achievement",
    "group_achievement", "score_reference", "score_group", "capacity_gap", "frontier_countries",
    "frontier_support_countries", "above_frontier", "score_note",
]


class CapacityError(ValueError):
    """The frontier cannot be built (no points, or an indicator that cannot be inverted)."""


def to_achievement(values, polarity: str, unit: str) -> np.ndarray:
    """Values on a higher-is-better scale: unchanged when higher is better; ``maximum - value`` when
    lower is better (maximum 100 for percent, 100 000 for rates per 100 000).

    Raises CapacityError for a lower-is-better indicator in another unit (no natural maximum).
    """
    values = np.asarray(values, dtype=float)
    if polarity == "higher_is_better":
        return values
    if polarity != "lower_is_better":
        raise CapacityError(f"unknown polarity {polarity!r}")
    if unit not in ACHIEVEMENT_MAXIMUM:
        raise CapacityError(f"cannot invert a lower-is-better indicator in {unit!r}: no natural maximum "
                            f"(units that can be inverted: {sorted(ACHIEVEMENT_MAXIMUM)})")
    return ACHIEVEMENT_MAXIMUM[unit] - values


def from_achievement(achievement, polarity: str, unit: str) -> np.ndarray:
    """The inverse of to_achievement: back to the indicator's own unit."""
    return to_achievement(achievement, polarity, unit)


def fit_upper_envelope(x, y) -> tuple[np.ndarray, np.ndarray]:
    """The least increasing concave function on or above every point (x, y).

    Returns (vertex x, vertex y), x strictly increasing; between vertices the function is linear,
    beyond the last vertex it is flat, below the first (the smallest x) it is undefined.
    The vertices are the upper convex hull of the points (qhull via scipy.spatial.ConvexHull)
    from the leftmost point to the highest one.
    Raises CapacityError when no point has finite coordinates.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    finite = np.isfinite(x) & np.isfinite(y)
    x, y = x[finite], y[finite]
    if x.size == 0:
        raise CapacityError("no points to build a frontier on")
    if np.unique(x).size == 1:
        return np.array([x[0]]), np.array([y.max()])
    # Two points well below the cloud at its left and right ends make the hull two-dimensional even
    # when the points are collinear; they are never on the upper chain.
    low = y.min() - (y.max() - y.min()) - 1.0
    px = np.concatenate([x, [x.min(), x.max()]])
    py = np.concatenate([y, [low, low]])
    from scipy.spatial import ConvexHull  # imported here: scipy adds 0.3 s to every start of the app

    hull = ConvexHull(np.column_stack([px, py]))
    vertices = list(hull.vertices)  # counter-clockwise for two-dimensional hulls
    right = max(vertices, key=lambda i: (px[i], py[i]))
    left = min(vertices, key=lambda i: (px[i], -py[i]))
    start = vertices.index(right)
    chain = []
    for step in range(len(vertices)):
        index = vertices[(start + step) % len(vertices)]
        chain.append(index)
        if index == left:
            break
    chain.reverse()  # from the leftmost point to the rightmost, over the top
    xs, ys = px[chain], py[chain]
    top = int(np.argmax(ys))
    return xs[: top + 1], ys[: top + 1]


@dataclass
class Frontier:
    """The achievement possibilities frontier of one indicator, sex and age band.

    log_gdp, achievement: the vertices (ln of GDP per capita, achievement scale); points: the
    observations it was fitted on (geo, year, group, value, achievement, gdp_per_capita_ppp,
    log_gdp, on_frontier); polarity and unit of the indicator; sex, age.
    """

    log_gdp: np.ndarray
    achievement: np.ndarray
    points: pd.DataFrame
    polarity: str
    unit: str
    sex: str | None = None
    age: str | None = None
    floor: float = field(default=0.0)

    @property
    def support(self) -> pd.DataFrame:
        """The observations at the vertices of the frontier (the best performers it rests on)."""
        return self.points.loc[self.points["on_frontier"]].sort_values("log_gdp")

    @property
    def countries_on_frontier(self) -> list[str]:
        """The distinct places whose observations the frontier rests on, by GDP per capita."""
        return list(dict.fromkeys(self.support["geo"]))

    @property
    def countries(self) -> int:
        """How many countries the points come from."""
        return int(self.points["geo"].nunique())

    @property
    def gdp_range(self) -> tuple[float, float]:
        """The lowest and highest GDP per capita among the points (international $)."""
        return float(self.points["gdp_per_capita_ppp"].min()), float(self.points["gdp_per_capita_ppp"].max())

    def achievement_at(self, gdp_per_capita) -> np.ndarray:
        """The frontier (achievement scale) at these GDP per capita values; NaN below the lowest
        GDP per capita among the points or where the GDP is missing."""
        gdp = np.asarray(gdp_per_capita, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            x = np.log(gdp)
        result = np.interp(x, self.log_gdp, self.achievement, left=np.nan, right=self.achievement[-1])
        return np.where(np.isfinite(x), result, np.nan)

    def value_at(self, gdp_per_capita) -> np.ndarray:
        """The frontier in the indicator's own unit (e.g. the lowest unemployment rate attainable)."""
        return from_achievement(self.achievement_at(gdp_per_capita), self.polarity, self.unit)

    def score(self, values, gdp_per_capita) -> np.ndarray:
        """Scores (0-100) of values in the indicator's unit at these GDP per capita values:
        100 * (a - floor) / (f(x) - floor). NaN where the frontier is undefined. A value above the
        frontier (possible only for a place that is not among the points, e.g. an aggregate) is
        capped at 100."""
        achievement = to_achievement(values, self.polarity, self.unit)
        frontier = self.achievement_at(gdp_per_capita)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.clip(self.raw_score(values, gdp_per_capita), 0.0, 100.0)

    def raw_score(self, values, gdp_per_capita) -> np.ndarray:
        """Scores before capping: above 100 for a value above the frontier (see score)."""
        achievement = to_achievement(values, self.polarity, self.unit)
        frontier = self.achievement_at(gdp_per_capita)
        with np.errstate(divide="ignore", invalid="ignore"):
            scores = 100.0 * (achievement - self.floor) / (frontier - self.floor)
        return np.where(frontier - self.floor > 0, scores, np.nan)


def build_frontier_points(observations: pd.DataFrame, gdp: pd.DataFrame, groups: tuple[str, ...] = FRONTIER_GROUPS,
                          excluded_flags: str = FRONTIER_EXCLUDED_FLAGS) -> pd.DataFrame:
    """Pair each usable national observation of a whole population or reference group with its
    country's GDP per capita of the same year.

    observations: OBSERVATION_COLUMNS rows of one indicator (filter sex and age first).
    gdp: columns geo, year, gdp_per_capita_ppp.
    groups: the population groups that shape the frontier; excluded_flags: flag letters that keep
    a value out (default u, low reliability).
    Returns columns geo, year, group, sex, age, value, flags, gdp_per_capita_ppp, log_gdp; rows
    without a value (missing, c, z), of other groups, flagged, or without GDP (or GDP <= 0) are left out.
    """
    flags = observations["flags"].fillna("").astype(str)
    flagged = flags.str.contains(f"[{excluded_flags}]", regex=True) if excluded_flags else False
    usable = observations.loc[gap_engine.is_usable(observations["value"], flags) & ~flagged
                              & (observations["geo_level"] == "national") & observations["group"].isin(groups)]
    points = usable.rename(columns={"period": "year"})[["geo", "year", "group", "sex", "age", "value", "flags"]]
    points = points.merge(gdp[["geo", "year", "gdp_per_capita_ppp"]], on=["geo", "year"], how="inner")
    points = points.loc[points["gdp_per_capita_ppp"] > 0].copy()
    points["log_gdp"] = np.log(points["gdp_per_capita_ppp"].astype(float))
    return points.reset_index(drop=True)


def fit_frontier(points: pd.DataFrame, polarity: str, unit: str, floor: float | None = 0.0,
                 sex: str | None = None, age: str | None = None) -> Frontier:
    """The frontier over frontier points (see build_frontier_points).

    floor: the bottom of the score scale on the achievement scale (0: plain percentage of the
    frontier; None: the lowest achievement among the points, as the SERF Index).
    Raises CapacityError when there are no points or the indicator cannot be inverted.
    """
    if points.empty:
        raise CapacityError("no observation of this indicator has a GDP per capita for its country and year")
    points = points.copy()
    points["achievement"] = to_achievement(points["value"], polarity, unit)
    xs, ys = fit_upper_envelope(points["log_gdp"], points["achievement"])
    vertex_keys = set(zip(np.round(xs, 12), np.round(ys, 12)))
    points["on_frontier"] = [(round(x, 12), round(y, 12)) in vertex_keys
                             for x, y in zip(points["log_gdp"], points["achievement"])]
    lowest = float(points["achievement"].min())
    chosen_floor = lowest if floor is None else float(floor)
    if floor is None and np.isclose(lowest, ys.max()):
        chosen_floor = 0.0
    return Frontier(xs, ys, points, polarity, unit, sex=sex, age=age, floor=chosen_floor)


def compute_frontiers(observations: pd.DataFrame, gdp: pd.DataFrame, polarity: str, unit: str,
                      floor: float | None = 0.0) -> dict[tuple[str, str], Frontier]:
    """One frontier per (sex, age) present in the observations of one indicator: {(sex, age): Frontier}.
    Combinations with no point (no GDP) are left out."""
    points = build_frontier_points(observations, gdp)
    frontiers: dict[tuple[str, str], Frontier] = {}
    for (sex, age), part in points.groupby(["sex", "age"], sort=True):
        frontiers[(sex, age)] = fit_frontier(part, polarity, unit, floor=floor, sex=sex, age=age)
    return frontiers


def compute_capacity_scores(gaps: pd.DataFrame, observations: pd.DataFrame, gdp: pd.DataFrame, polarity: str,
                            unit: str, floor: float | None = 0.0,
                            frontiers: dict[tuple[str, str], Frontier] | None = None) -> pd.DataFrame:
    """Scores of both groups of each gap against the frontier at the place's GDP per capita.

    gaps: rows of core.gaps.compute_gaps (geo, year, sex, age, reference_value, value, ...).
    observations: every observation of the indicator (the frontier's points; the gaps' places among them).
    gdp: geo, year, gdp_per_capita_ppp (aggregates such as EU27_2020 included when known).
    frontiers: compute_frontiers(observations, gdp, polarity, unit, floor) when the caller has them.
    Returns the gaps with SCORE_COLUMNS added: gdp_per_capita_ppp (international $ of the gap's
    year), gdp_year, frontier_value (the frontier in the indicator's unit at that GDP),
    frontier_achievement, reference_achievement and group_achievement (achievement scale),
    score_reference and score_group (0-100, % of the frontier), capacity_gap (score_reference -
    score_group, score points; > 0: migrants further from what the country's income allows),
    frontier_countries (how many countries the frontier's points come from),
    frontier_support_countries (how many countries it rests on: those at its vertices),
    above_frontier (bool: a group's value lies above the frontier, its score capped at 100),
    score_note (why a score is missing, or which group is above the frontier).
    """
    out = gaps.copy()
    for column in SCORE_COLUMNS:
        out[column] = "" if column == "score_note" else (False if column == "above_frontier" else np.nan)
    if out.empty:
        return out
    out["score_note"] = out["score_note"].astype(object)
    out["above_frontier"] = out["above_frontier"].astype(object)
    if frontiers is None:
        frontiers = compute_frontiers(observations, gdp, polarity, unit, floor=floor) if not observations.empty else {}
    gdp_lookup = gdp.set_index(["geo", "year"])["gdp_per_capita_ppp"]
    for index, row in out.iterrows():
        key = (row["geo"], int(row["year"]))
        gdp_value = float(gdp_lookup.get(key, np.nan))
        out.at[index, "gdp_per_capita_ppp"] = gdp_value
        out.at[index, "gdp_year"] = int(row["year"]) if np.isfinite(gdp_value) else np.nan
        frontier = frontiers.get((row["sex"], row["age"]))
        if not np.isfinite(gdp_value):
            out.at[index, "score_note"] = f"no GDP per capita for {row['geo']} in {int(row['year'])}"
            continue
        if frontier is None:
            out.at[index, "score_note"] = "no frontier for this sex and age band"
            continue
        achievement = float(frontier.achievement_at(gdp_value))
        out.at[index, "frontier_countries"] = frontier.countries
        out.at[index, "frontier_support_countries"] = len(frontier.countries_on_frontier)
        if not np.isfinite(achievement):
            out.at[index, "score_note"] = "GDP per capita below the lowest among the frontier's countries"
            continue
        out.at[index, "frontier_achievement"] = achievement
        out.at[index, "frontier_value"] = float(from_achievement(achievement, polarity, unit))
        out.at[index, "reference_achievement"] = float(to_achievement(row["reference_value"], polarity, unit))
        out.at[index, "group_achievement"] = float(to_achievement(row["value"], polarity, unit))
        raw = [float(frontier.raw_score(row[column], gdp_value)) for column in ("reference_value", "value")]
        out.at[index, "score_reference"] = float(np.clip(raw[0], 0.0, 100.0))
        out.at[index, "score_group"] = float(np.clip(raw[1], 0.0, 100.0))
        above = [name for name, score in zip(("reference group", "migrant group"), raw) if score > 100.0 + 1e-9]
        out.at[index, "above_frontier"] = bool(above)
        if above:
            out.at[index, "score_note"] = f"{' and '.join(above)} above the frontier: scored 100"
    out["capacity_gap"] = out["score_reference"] - out["score_group"]
    return out


def fetch_gdp(connection) -> pd.DataFrame:
    """GDP per capita, PPP of every place and year in the store: geo, year, gdp_per_capita_ppp
    (constant 2021 international $), dataset."""
    from core import queries

    observations = queries.fetch_observations(connection, GDP_INDICATOR, groups=["total"])
    observations = observations.loc[observations["value"].notna()]
    frame = observations.rename(columns={"period": "year", "value": "gdp_per_capita_ppp"})
    return frame[["geo", "year", "gdp_per_capita_ppp", "dataset"]].drop_duplicates(["geo", "year"]).reset_index(drop=True)


def fetch_capacity_scores(connection, indicator: str, geos: list[str] | None = None, year: int | str | None = "latest",
                          sex: str | None = None, age: str | None = None, group: str | None = None,
                          catalogue=None, floor: float | None = 0.0) -> pd.DataFrame:
    """Gaps of one indicator with both groups' capacity scores (see compute_capacity_scores).

    The frontier is built on every observation of the indicator in the store (every place and
    year) of the same sex and age band; geos, year and group only choose which gaps are scored.
    Raises KeyError for an unknown indicator; CapacityError when the indicator is not an outcome
    indicator with values or cannot be inverted.
    """
    from core import queries

    entry = queries.fetch_indicator(connection, indicator, catalogue)
    if entry.get("context") or entry.get("type") != "outcome":
        raise CapacityError(f"{indicator} is not an outcome indicator comparing groups; the frontier applies to outcomes")
    if entry["unit"] not in ACHIEVEMENT_MAXIMUM and entry["polarity"] == "lower_is_better":
        to_achievement([], entry["polarity"], entry["unit"])  # raises with the reason
    observations = queries.fetch_observations(connection, indicator, sex=sex, age=age)
    gaps = queries.fetch_gaps(connection, indicator, geos=geos, year=year, sex=sex, group=group, age=age, catalogue=catalogue)
    return compute_capacity_scores(gaps, observations, fetch_gdp(connection), entry["polarity"], entry["unit"], floor=floor)


def read_income_groups(text: str) -> pd.DataFrame:
    """Read the World Bank's country metadata file (Country Code, Region, IncomeGroup, SpecialNotes,
    TableName): returns geo (ISO alpha-3), name, region, income_group ('High income', 'Upper middle
    income', 'Lower middle income', 'Low income', or '' when unclassified), for economies only
    (aggregates, which have no region, are left out; the Channel Islands, CHI, have no ISO code
    and are left out). Raises ValueError when a column is missing."""
    from core import geo as geo_codes

    raw = pd.read_csv(io.StringIO(text.lstrip("\ufeff")), dtype=str, keep_default_na=False)
    needed = ["Country Code", "Region", "IncomeGroup", "TableName"]
    missing = [c for c in needed if c not in raw.columns]
    if missing:
        raise ValueError(f"World Bank country metadata: column(s) {missing} missing; expected {needed}")
    economies = raw.loc[raw["Region"].str.strip() != ""]
    rows = []
    for row in economies.itertuples(index=False):
        place = geo_codes.resolve_place(row[raw.columns.get_loc("Country Code")])
        if place is None or place.level != "national":
            continue
        rows.append({"geo": place.code, "name": row.TableName, "region": row.Region, "income_group": row.IncomeGroup})
    return pd.DataFrame(rows, columns=["geo", "name", "region", "income_group"]).sort_values("geo").reset_index(drop=True)


@functools.lru_cache(maxsize=2)
def load_income_groups(path: Path | str = INCOME_GROUPS_FILE) -> pd.DataFrame:
    """The embedded World Bank income groups (data/context/income_groups.csv): geo, name, region,
    income_group. Raises FileNotFoundError naming the build script when the file is missing."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: income groups missing; run scripts/build_embedded_data.py")
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def summarise_frontiers(connection, catalogue=None) -> pd.DataFrame:
    """How much each outcome indicator's frontier rests on: one row per indicator with data that
    compares groups, for its usual sex and age band (as the Compare page chooses them).

    Returns columns indicator, title, sex, age, points (observations the frontier is fitted on),
    countries (how many countries they come from), countries_on_frontier (names of the countries
    at its vertices, lowest GDP first), support (how many), gdp_min, gdp_max (international $).
    Indicators whose frontier cannot be built (no GDP, no natural maximum) are left out.
    """
    from core import compare, queries
    from core.catalogue import load_default_catalogue
    from core.geo import name_of

    catalogue = catalogue or load_default_catalogue()
    gdp = fetch_gdp(connection)
    summary = queries.fetch_data_summary(connection)
    rows = []
    for right in dict.fromkeys(i.right for i in catalogue):
        for code in compare.indicators_for_right(connection, right, catalogue, summary):
            entry = catalogue.get(code)
            if entry.type != "outcome":
                continue
            observations = queries.fetch_observations(connection, code)
            breakdown = compare.choose_breakdown(observations, sorted(observations["geo"].unique()))
            if breakdown is None:
                continue
            sex, age = breakdown["sexes"][0], breakdown["age"]
            chosen = observations.loc[(observations["sex"] == sex) & (observations["age"] == age)]
            try:
                frontier = fit_frontier(build_frontier_points(chosen, gdp), entry.polarity, entry.unit, sex=sex, age=age)
            except CapacityError:
                continue
            low, high = frontier.gdp_range
            rows.append({"indicator": code, "title": entry.title, "sex": sex, "age": age, "points": len(frontier.points),
                         "countries": frontier.countries,
                         "countries_on_frontier": [name_of(g) for g in frontier.countries_on_frontier],
                         "support": len(frontier.countries_on_frontier), "gdp_min": low, "gdp_max": high})
    return pd.DataFrame(rows, columns=["indicator", "title", "sex", "age", "points", "countries", "countries_on_frontier",
                                       "support", "gdp_min", "gdp_max"])
