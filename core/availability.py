"""Data availability: where migrant-disaggregated data exist, where only one group does, where nothing does.

For every indicator and place the store is asked one question — can a gap be computed here? — and the
answer is one of four statuses (STATUSES):

- ``both_groups``: in at least one year, a migrant group and its reference group (non-nationals and
  nationals, or foreign-born and native-born) both have a usable value for the same dataset, sex, age
  band and unit: a gap can be computed (the gap rules of DESIGN.md).
- ``one_group``: usable values exist for population groups, but never for a migrant group and its
  reference group in the same year (e.g. only migrants in an irregular situation, or only nationals).
- ``total_only``: only values for the whole population (group ``total``): not disaggregated by
  migrant status. Ratifications and context figures are of this kind by design.
- ``none``: no usable value at all.

"Usable" follows core.gaps.is_usable: a value is present and is not flagged confidential (``c``) or
not applicable (``z``, legacy ``-``); a value flagged ``u`` (low reliability) counts.

The matrix is computed in SQL, with parameters only; pandas does the reshaping for display.
"""
from __future__ import annotations

import duckdb
import pandas as pd
import plotly.graph_objects as go

from core import vocabulary

#: status code -> label shown to users, in order from most to least complete.
STATUSES: dict[str, str] = {
    "both_groups": "Migrants and their reference group",
    "one_group": "One group only",
    "total_only": "Whole population only (not disaggregated)",
    "none": "No data",
}

#: Colours of the statuses (ColorBrewer 'Greens'-like sequence, grey for nothing): colour-blind safe by lightness.
STATUS_COLOURS: dict[str, str] = {
    "both_groups": "#1b7837",
    "one_group": "#a6dba0",
    "total_only": "#c2a5cf",
    "none": "#f0f0f0",
}

#: Short symbols for tables and exports (readable in black and white).
STATUS_SYMBOLS: dict[str, str] = {"both_groups": "●", "one_group": "◐", "total_only": "○", "none": "·"}

AVAILABILITY_COLUMNS: list[str] = [
    "indicator", "geo", "geo_level", "status", "years_both_groups", "first_year", "last_year", "groups",
]


def _role_parameters() -> dict[str, list]:
    """The population-group vocabulary as three parallel lists for an SQL UNNEST: group, dimension,
    is_reference. Legal-status groups have a dimension but no reference group."""
    groups, dimensions, is_reference = [], [], []
    for dimension, members in vocabulary.DIMENSIONS.items():
        for group in members:
            groups.append(group)
            dimensions.append(dimension)
            is_reference.append(group == vocabulary.REFERENCE_GROUPS.get(dimension))
    return {"role_groups": groups, "role_dimensions": dimensions, "role_is_reference": is_reference,
            "compared_dimensions": list(vocabulary.REFERENCE_GROUPS)}


def fetch_availability(
    connection: duckdb.DuckDBPyConnection,
    indicators: list[str],
    geos: list[str] | None = None,
) -> pd.DataFrame:
    """The availability of every indicator given, in every place, computed in SQL.

    indicators: indicator codes (catalogue order is kept); codes without any observation are
        included, with status 'none' everywhere.
    geos: the places (columns of the matrix). Default: every place that has at least one usable
        value for any indicator in the store.

    Returns one row per (indicator, geo) — len(indicators) × len(geos) rows — with columns
    AVAILABILITY_COLUMNS: indicator, geo, geo_level ('national', 'regional', ... ; the level the
    place has in the store, 'national' for a place given in ``geos`` but absent from the store),
    status (a key of STATUSES), years_both_groups (list of int years, ascending, in which a gap can
    be computed; empty unless status is 'both_groups'), first_year and last_year (int or <NA>: the
    span of years with a gap), groups (list of population groups with a usable value, sorted).
    Sorted by the order of ``indicators``, then geo.
    """
    if not indicators:
        return pd.DataFrame(columns=AVAILABILITY_COLUMNS)
    parameters: dict = {"indicators": list(indicators), **_role_parameters()}
    if geos is None:
        places_sql = ("SELECT geo, any_value(geo_level) AS geo_level FROM usable_all GROUP BY geo")
    else:
        parameters["geos"] = list(geos)
        places_sql = ("SELECT g.geo, coalesce(l.geo_level, 'national') AS geo_level "
                      "FROM (SELECT unnest($geos) AS geo) g "
                      "LEFT JOIN (SELECT geo, any_value(geo_level) AS geo_level FROM observations GROUP BY geo) l USING (geo)")
    sql = f"""
        WITH roles AS (
            SELECT unnest($role_groups) AS "group", unnest($role_dimensions) AS dimension,
                   unnest($role_is_reference) AS is_reference
        ),
        usable_all AS (
            SELECT o.indicator, o.dataset, o.geo, o.geo_level, o.period, o.sex, o.age, o.unit, o."group",
                   r.dimension, r.is_reference
            FROM observations o LEFT JOIN roles r USING ("group")
            WHERE o.value IS NOT NULL AND NOT regexp_matches(coalesce(o.flags, ''), '[cz-]')
        ),
        usable AS (SELECT * FROM usable_all WHERE list_contains($indicators, indicator)),
        wanted AS (
            SELECT unnest($indicators) AS indicator, generate_subscripts($indicators, 1) AS position
        ),
        places AS ({places_sql}),
        comparable AS (
            -- like with like: same dataset, place, year, sex, age band, unit and dimension
            SELECT indicator, geo, period
            FROM usable
            WHERE list_contains($compared_dimensions, dimension)
            GROUP BY indicator, dataset, geo, period, sex, age, unit, dimension
            HAVING bool_or(is_reference) AND bool_or(NOT is_reference)
        ),
        gap_years AS (
            SELECT indicator, geo, list_sort(list(DISTINCT period)) AS years,
                   min(period) AS first_year, max(period) AS last_year
            FROM comparable GROUP BY indicator, geo
        ),
        present AS (
            SELECT indicator, geo, bool_or("group" <> 'total') AS has_groups,
                   list_sort(list(DISTINCT "group")) AS groups
            FROM usable GROUP BY indicator, geo
        )
        SELECT w.indicator, p.geo, p.geo_level,
               CASE WHEN g.years IS NOT NULL THEN 'both_groups'
                    WHEN pr.has_groups THEN 'one_group'
                    WHEN pr.groups IS NOT NULL THEN 'total_only'
                    ELSE 'none' END AS status,
               coalesce(g.years, []::INTEGER[]) AS years_both_groups,
               g.first_year, g.last_year,
               coalesce(pr.groups, []::VARCHAR[]) AS groups
        FROM wanted w CROSS JOIN places p
        LEFT JOIN gap_years g ON g.indicator = w.indicator AND g.geo = p.geo
        LEFT JOIN present pr ON pr.indicator = w.indicator AND pr.geo = p.geo
        ORDER BY w.position, p.geo
    """
    frame = connection.execute(sql, parameters).df()
    frame["first_year"] = frame["first_year"].astype("Int64")
    frame["last_year"] = frame["last_year"].astype("Int64")
    frame["years_both_groups"] = frame["years_both_groups"].map(lambda years: [int(y) for y in years])
    frame["groups"] = frame["groups"].map(list)
    return frame[AVAILABILITY_COLUMNS]


def summarise_availability(availability: pd.DataFrame) -> pd.DataFrame:
    """Count places per status for each indicator.

    availability: the output of fetch_availability.
    Returns one row per indicator (input order) with columns indicator, both_groups, one_group,
    total_only, none (int: number of places), places (int: all places considered).
    """
    if availability.empty:
        return pd.DataFrame(columns=["indicator", *STATUSES, "places"])
    counts = (availability.groupby(["indicator", "status"], sort=False).size().unstack(fill_value=0)
              .reindex(columns=list(STATUSES), fill_value=0))
    order = list(dict.fromkeys(availability["indicator"]))
    counts = counts.reindex(order).fillna(0).astype(int)
    counts["places"] = counts.sum(axis=1)
    return counts.reset_index()


def build_availability_matrix(availability: pd.DataFrame) -> pd.DataFrame:
    """Reshape fetch_availability's rows into a matrix: index indicator (input order), columns geo
    (input order), values status codes (keys of STATUSES)."""
    if availability.empty:
        return pd.DataFrame()
    indicators = list(dict.fromkeys(availability["indicator"]))
    geos = list(dict.fromkeys(availability["geo"]))
    return availability.pivot(index="indicator", columns="geo", values="status").reindex(index=indicators, columns=geos)


def format_year_ranges(years: list[int]) -> str:
    """Compact list of years: [1995, 1996, 1997, 2001, 2003, 2004] -> '1995–1997, 2001, 2003–2004'; '' when empty."""
    years = sorted(set(int(y) for y in years))
    if not years:
        return ""
    parts: list[str] = []
    start = previous = years[0]
    for year in years[1:] + [None]:
        if year is not None and year == previous + 1:
            previous = year
            continue
        parts.append(str(start) if start == previous else f"{start}–{previous}")
        if year is not None:
            start = previous = year
    return ", ".join(parts)


def build_availability_heatmap(
    matrix: pd.DataFrame,
    indicator_labels: dict[str, str],
    geo_labels: dict[str, str],
) -> go.Figure:
    """A heatmap of the availability matrix: indicators as rows, places as columns, one colour per status.

    matrix: build_availability_matrix's output. indicator_labels / geo_labels: {code: label} for the
    axes (the code itself when missing). Colours: STATUS_COLOURS; the hover text names the place,
    the indicator and the status. Returns a plotly Figure (not shown).
    """
    codes = list(STATUSES)
    z = matrix.apply(lambda column: column.map(codes.index)).to_numpy(dtype=float).tolist() if not matrix.empty else [[]]
    # A discrete colour scale: each status occupies an equal band of [0, 1].
    colourscale = []
    for position, code in enumerate(codes):
        colourscale.append([position / len(codes), STATUS_COLOURS[code]])
        colourscale.append([(position + 1) / len(codes), STATUS_COLOURS[code]])
    rows = [indicator_labels.get(code, code) for code in matrix.index]
    columns = [geo for geo in matrix.columns]
    hover = [[f"{geo_labels.get(geo, geo)} · {indicator_labels.get(code, code)}<br>{STATUSES[status]}"
              for geo, status in row.items()] for code, row in matrix.iterrows()]
    figure = go.Figure(go.Heatmap(
        z=z, x=columns, y=rows, zmin=-0.5, zmax=len(codes) - 0.5,
        colorscale=colourscale,
        xgap=1, ygap=1, hoverinfo="text", text=hover, showscale=False,
    ))
    for code in codes:  # a legend: one invisible trace per status
        figure.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=STATUSES[code],
                                    marker=dict(size=12, symbol="square", color=STATUS_COLOURS[code],
                                                line=dict(color="#999999", width=1))))
    figure.update_layout(
        height=max(260, 22 * len(rows) + 160), margin=dict(l=10, r=10, t=50, b=50),
        font=dict(family="DejaVu Sans, Arial, sans-serif", size=12), plot_bgcolor="white",
        legend=dict(orientation="h", yanchor="top", y=-0.01, x=0),
        xaxis=dict(side="top", tickangle=-90, showgrid=False, type="category"),
        yaxis=dict(autorange="reversed", showgrid=False, type="category", automargin=True),
    )
    return figure
