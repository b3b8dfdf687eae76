"""Read queries over the store. All SQL here is parameterised; identifiers are never user text.

Every function takes a DuckDB connection or cursor (give each thread its own cursor).
"""
from __future__ import annotations

import duckdb
import pandas as pd

from core import gaps as gap_engine
from core.catalogue import Catalogue, load_default_catalogue
from core.importer import OBSERVATION_COLUMNS

_SELECT = ", ".join(f'"{c}"' for c in OBSERVATION_COLUMNS)


def fetch_observations(
    connection: duckdb.DuckDBPyConnection,
    indicator: str,
    geos: list[str] | None = None,
    sex: str | None = None,
    age: str | None = None,
    dataset: str | None = None,
    groups: list[str] | None = None,
    geo_levels: list[str] | None = None,
    period: int | None = None,
) -> pd.DataFrame:
    """Observations of one indicator, optionally filtered; columns OBSERVATION_COLUMNS (see core.importer),
    source and licence from the observation's dataset."""
    clauses = ["indicator = $indicator"]
    parameters: dict = {"indicator": indicator}
    if geos:
        clauses.append("list_contains($geos, geo)")
        parameters["geos"] = list(geos)
    if sex:
        clauses.append("sex = $sex")
        parameters["sex"] = sex
    if age:
        clauses.append("age = $age")
        parameters["age"] = age
    if dataset:
        clauses.append("dataset = $dataset")
        parameters["dataset"] = dataset
    if groups:
        clauses.append('list_contains($groups, "group")')
        parameters["groups"] = list(groups)
    if geo_levels:
        clauses.append("list_contains($levels, geo_level)")
        parameters["levels"] = list(geo_levels)
    if period is not None:
        clauses.append("period = $period")
        parameters["period"] = int(period)
    sql = f"SELECT {_SELECT} FROM observations_with_provenance WHERE {' AND '.join(clauses)}"
    return connection.execute(sql, parameters).df()


def fetch_gaps(
    connection: duckdb.DuckDBPyConnection,
    indicator: str,
    geos: list[str] | None = None,
    year: int | str | None = "latest",
    sex: str | None = None,
    group: str | None = None,
    age: str | None = None,
    dataset: str | None = None,
    catalogue: Catalogue | None = None,
    polarity: str | None = None,
) -> pd.DataFrame:
    """Gaps for one indicator (see core.gaps.compute_gaps for the columns and rules).

    group: one migrant group (e.g. 'non_nationals'); its reference group is added automatically.
    polarity: overrides the catalogue's (for indicators defined at upload time).
    Raises KeyError when the indicator is neither in the catalogue nor given a polarity.
    """
    if polarity is None:
        polarity = fetch_indicator(connection, indicator, catalogue)["polarity"]
    groups = None
    if group:
        from core.vocabulary import REFERENCE_GROUPS, dimension_of

        dimension = dimension_of(group)
        groups = [group, REFERENCE_GROUPS.get(dimension, group)]
    observations = fetch_observations(connection, indicator, geos=geos, sex=sex, age=age, dataset=dataset, groups=groups,
                                      period=int(year) if _is_year(year) else None)
    gaps = gap_engine.compute_gaps(observations, polarity, year=year, groups=[group] if group else None)
    return add_place_names(gaps)


def _is_year(year) -> bool:
    return isinstance(year, int) or (isinstance(year, str) and year.isdigit())


def add_place_names(frame: pd.DataFrame) -> pd.DataFrame:
    """Add geo_name (English name; the code itself for local units) after the geo column."""
    from core.geo import name_of

    frame = frame.copy()
    names = {code: name_of(code) for code in frame["geo"].unique()} if not frame.empty else {}
    frame.insert(frame.columns.get_loc("geo") + 1 if "geo" in frame.columns else 0, "geo_name",
                 frame["geo"].map(names) if not frame.empty else pd.Series(dtype=str))
    return frame


def fetch_indicator(connection: duckdb.DuckDBPyConnection, code: str, catalogue: Catalogue | None = None) -> dict:
    """One indicator's catalogue entry as a dict (catalogue first, then indicators defined at upload).

    Raises KeyError naming the code when it is unknown.
    """
    catalogue = catalogue or load_default_catalogue()
    if code in catalogue:
        return catalogue.get(code).model_dump()
    import json

    rows = connection.execute("SELECT definition FROM custom_indicators WHERE code = ?", [code]).fetchall()
    if rows:
        return json.loads(rows[0][0])
    raise KeyError(f"unknown indicator {code!r}")


def fetch_data_summary(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per indicator and dataset with data: indicator, dataset, observations, values,
    first_year, last_year, geos (count of places with a value), groups (list), sexes (list), ages (list),
    geo_levels (list)."""
    return connection.execute(
        """
        SELECT indicator, dataset, count(*) AS observations, count(value) AS "values",
               min(period) AS first_year, max(period) AS last_year,
               count(DISTINCT geo) FILTER (WHERE value IS NOT NULL) AS geos,
               list_sort(list(DISTINCT "group")) AS groups, list_sort(list(DISTINCT sex)) AS sexes,
               list_sort(list(DISTINCT age)) AS ages, list_sort(list(DISTINCT geo_level)) AS geo_levels
        FROM observations GROUP BY indicator, dataset ORDER BY indicator, dataset
        """
    ).df()


def fetch_indicator_options(connection: duckdb.DuckDBPyConnection, indicator: str, group: str | None = None,
                            dataset: str | None = None) -> dict:
    """What can be chosen for one indicator: {years: [int, newest first], sexes: [...], ages: [...],
    groups: [...], datasets: [...], geo_levels: [...], best_year: int | None}.

    group: a migrant group; when given, years, sexes and ages are those where that group or its
    reference group has values (so that no choice offered is empty by construction), and
    best_year counts places having both. ``groups`` always lists every group of the indicator.
    best_year is the latest year with the widest coverage: the latest year in which the number
    of places having values for two groups reaches 90% of the best year's number.
    dataset: the options of that source dataset only. An indicator without values gives empty
    lists and best_year None.
    """
    table = fetch_options_table(connection, indicator=indicator, groups=[group], dataset=dataset)
    return table.get((indicator, group)) or options_without_values(table, indicator)


def options_without_values(table: dict, indicator: str) -> dict:
    """The options of a choice with no values in ``table`` (fetch_options_table): empty lists, and the
    indicator's groups when the table knows them."""
    groups = next((options["groups"] for (code, _), options in table.items() if code == indicator), [])
    return {"years": [], "sexes": [], "ages": [], "groups": list(groups), "datasets": [], "geo_levels": [], "best_year": None}


def fetch_options_table(connection: duckdb.DuckDBPyConnection, indicator: str | None = None,
                        groups: list[str | None] | None = None, dataset: str | None = None) -> dict[tuple[str, str | None], dict]:
    """fetch_indicator_options for many choices in three queries: {(indicator, group or None): options}.

    indicator: one indicator, or None for every indicator with values. groups: the choices (None =
    no group chosen); default: None and every population group of core.vocabulary. A choice
    without values has empty lists; an indicator without values is absent (see options_without_values).
    dataset: read that source dataset only (None: every dataset).
    """
    from core.vocabulary import POPULATION_GROUPS, REFERENCE_GROUPS, dimension_of

    choices = list(groups) if groups is not None else [None, *(g for g in POPULATION_GROUPS if g != "total")]
    members = [(choice, member) for choice in choices if choice is not None
               for member in dict.fromkeys([choice, REFERENCE_GROUPS.get(dimension_of(choice), choice)])]
    parameters = {"indicator": indicator, "dataset": dataset, "everything": None in choices,
                  "choices": [c for c, _ in members] or [""], "members": [m for _, m in members] or [""]}
    # Each row once with no group chosen (when asked), and once per choice whose pair holds its group.
    expanded = """
        WITH base AS (
            SELECT indicator, "group", period, sex, age, dataset, geo_level, geo FROM observations
            WHERE value IS NOT NULL AND ($indicator IS NULL OR indicator = $indicator)
              AND ($dataset IS NULL OR dataset = $dataset)
        ), pairs AS (SELECT unnest($choices) AS choice, unnest($members) AS member),
        expanded AS (
            SELECT NULL::VARCHAR AS choice, * FROM base WHERE $everything
            UNION ALL
            SELECT p.choice, b.* FROM base b JOIN pairs p ON b."group" = p.member
        )
    """
    group_rows = connection.execute(
        'SELECT indicator, list_sort(list(DISTINCT "group")) FROM observations '
        "WHERE value IS NOT NULL AND ($indicator IS NULL OR indicator = $indicator) GROUP BY indicator",
        {"indicator": indicator},  # every group of the indicator, whatever the dataset
    ).fetchall()
    list_rows = connection.execute(
        expanded + """
        SELECT indicator, choice, list_sort(list(DISTINCT period), 'DESC'), list_sort(list(DISTINCT sex)),
               list_sort(list(DISTINCT age)), list_sort(list(DISTINCT dataset)), list_sort(list(DISTINCT geo_level))
        FROM expanded GROUP BY indicator, choice
        """,
        parameters,
    ).fetchall()
    coverage_rows = connection.execute(
        expanded + """
        SELECT indicator, choice, period, count(DISTINCT geo) AS places FROM (
            SELECT indicator, choice, period, geo FROM expanded WHERE "group" <> 'total'
            GROUP BY indicator, choice, period, geo, sex, age HAVING count(DISTINCT "group") >= 2
        ) GROUP BY indicator, choice, period ORDER BY indicator, choice, period DESC
        """,
        parameters,
    ).fetchall()
    groups_of = dict(group_rows)
    coverage: dict[tuple, list[tuple[int, int]]] = {}
    for code, choice, period, places in coverage_rows:
        coverage.setdefault((code, choice), []).append((period, places))
    table = {(code, choice): options_without_values({}, code) | {"groups": list(groups_of[code])}
             for code in groups_of for choice in choices}  # choices without values: empty lists
    for code, choice, years, sexes, ages, datasets, levels in list_rows:
        counts = coverage.get((code, choice), [])
        widest = max((places for _, places in counts), default=0)
        # The latest year covering at least 90% of the widest coverage: recent, and nearly as wide.
        best_year = next((period for period, places in counts if places >= 0.9 * widest), None)
        best_year = best_year if best_year is not None else (years[0] if years else None)
        table[(code, choice)] = {"years": years or [], "sexes": sexes or [], "ages": ages or [],
                                 "groups": groups_of.get(code) or [], "datasets": datasets or [],
                                 "geo_levels": levels or [], "best_year": best_year}
    return table


def fetch_data_version(connection: duckdb.DuckDBPyConnection) -> str:
    """A text that changes whenever stored data change (embedded rebuild, upload, delete): a cache key."""
    rows = connection.execute(
        "SELECT coalesce(max(CASE WHEN key = 'data_version' THEN value END), '0') || ':' || "
        "coalesce(max(CASE WHEN key = 'embedded_fingerprint' THEN value END), '') FROM meta"
    ).fetchall()
    return rows[0][0]


def fetch_datasets(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """All datasets with their provenance (columns of the datasets table), embedded first."""
    return connection.execute("SELECT * FROM datasets ORDER BY kind, name").df()


def fetch_places(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Places with any value: geo, geo_level, indicators (count), sorted by geo."""
    return connection.execute(
        "SELECT geo, any_value(geo_level) AS geo_level, count(DISTINCT indicator) AS indicators "
        "FROM observations WHERE value IS NOT NULL GROUP BY geo ORDER BY geo"
    ).df()


def fetch_latest_by_country(connection: duckdb.DuckDBPyConnection, geo: str, provenance: bool = True) -> pd.DataFrame:
    """For one place: the observations of every indicator (all years), OBSERVATION_COLUMNS (source and
    licence from each observation's dataset). provenance=False leaves out source and licence (no
    join with the datasets: about 40% faster on a store of ten million observations)."""
    if not provenance:
        columns = ", ".join(f'"{c}"' for c in OBSERVATION_COLUMNS if c not in ("source", "licence"))
        return connection.execute(f"SELECT {columns} FROM observations WHERE geo = ?", [geo]).df()
    return connection.execute(f"SELECT {_SELECT} FROM observations_with_provenance WHERE geo = ?", [geo]).df()
