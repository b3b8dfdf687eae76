"""Figure builders: plotly figures returned, never shown (pages render them).

Maps are plotly ``choropleth_map`` traces (MapLibre) on a blank ``white-bg`` style with the
project's own Natural Earth boundaries, so they draw with no internet (plotly's ``choropleth`` and
``scatter_geo`` fetch a world outline from a CDN and draw nothing offline). Places with data but
no polygon (small states, local units without boundaries) are drawn as points.

Colours: the disadvantage uses a diverging scale centred on zero, red where migrants are worse
off and blue where they are better off (ColorBrewer RdBu, via plotly's built-in scales).
Low-reliability values (Eurostat flag u) are faded and marked with a ring, and their tooltips
say so.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.colors
import plotly.graph_objects as go

from core import vocabulary

# ColorBrewer RdBu reversed: red = positive disadvantage (worse off). Spelled out as [position, colour]
# pairs: the figures here skip plotly's validation, which is what turns the name "RdBu_r" into colours
# (plotly.js itself knows no "_r" names).
DIVERGING_SCALE = plotly.colors.get_colorscale("RdBu_r")
CONTEXT_SCALE = [[0.0, "#eef1f4"], [1.0, "#3d4a57"]]  # light to dark slate: context, not a gap
REFERENCE_COLOUR = "#4d4d4d"
GROUP_COLOUR = "#c0392b"
FONT = dict(family="DejaVu Sans, Arial, sans-serif", size=14)

#: Map views: centre and zoom for each view (MapLibre zoom levels).
MAP_VIEWS: dict[str, dict] = {
    "world": {"center": {"lat": 20, "lon": 8}, "zoom": 0.62},
    "europe": {"center": {"lat": 54, "lon": 15}, "zoom": 2.45},
}
EUROPE_BOX = (-32.0, 25.0, 60.0, 72.0)  # lon_min, lat_min, lon_max, lat_max


def format_value(value: float, unit: str) -> str:
    """'65.8%', '21 345 EUR', '—' for missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if unit == "percent":
        return f"{value:.1f}%"
    if unit == "yes_no":
        return "yes" if value >= 0.5 else "no"
    if unit == "EUR":
        return f"{value:,.0f} EUR".replace(",", " ")
    if unit == "international_dollars":
        return f"{value:,.0f} int.$".replace(",", " ")
    return f"{value:,.2f}"


def format_difference(value: float, unit: str) -> str:
    """'+13.9 pp' for percentages, '-1 200 EUR' for money, '—' for missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if unit == "percent":
        return f"{value:+.1f} pp"
    if unit in ("EUR", "international_dollars"):
        return f"{value:+,.0f} {'EUR' if unit == 'EUR' else 'int.$'}".replace(",", " ")
    return f"{value:+.2f}"


def _features_for(boundaries: dict, codes: set[str]) -> dict:
    """The boundary features for these codes only, to keep an embedded figure small."""
    return {"type": "FeatureCollection", "features": [f for f in boundaries["features"] if f["id"] in codes]}


#: Per boundaries/points object (kept alive here, so that an id is never reused while cached; a few entries
#: at most: the world boundaries, the points, and the latest uploaded local boundaries).
_OBJECT_CACHE: dict[tuple[str, int], tuple[object, object]] = {}


def _cached_per_object(kind: str, source: object, compute):
    key = (kind, id(source))
    cached = _OBJECT_CACHE.get(key)
    if cached is None or cached[0] is not source:
        if len(_OBJECT_CACHE) > 16:
            _OBJECT_CACHE.clear()
        cached = _OBJECT_CACHE[key] = (source, compute(source))
    return cached[1]


def small_polygon_codes(boundaries: dict, max_degrees: float = 1.2) -> frozenset[str]:
    """Codes whose whole polygon fits in a box of max_degrees x max_degrees (Malta, Luxembourg,
    Liechtenstein ...): too small to see or click on a world or Europe map, so they also get a point."""
    def compute(collection: dict) -> frozenset[str]:
        small = set()
        for feature in collection["features"]:
            coordinates = np.array([point for ring in _rings(feature["geometry"]) for point in ring])
            if coordinates.size and np.ptp(coordinates[:, 0]) <= max_degrees and np.ptp(coordinates[:, 1]) <= max_degrees:
                small.add(feature["id"])
        return frozenset(small)

    return _cached_per_object(f"small-{max_degrees}", boundaries, compute)


def _rings(geometry: dict) -> list:
    if geometry["type"] == "Polygon":
        return geometry["coordinates"]
    if geometry["type"] == "MultiPolygon":
        return [ring for polygon in geometry["coordinates"] for ring in polygon]
    return []


def _figure(data: list[dict], layout: dict) -> go.Figure:
    """A plotly Figure from plain trace and layout dicts, without plotly's property validation.

    Validation costs about 10 ms per figure (more than the rest of a page's work), and the
    figures here are built by this module alone: tests/test_charts.py validates every builder's
    output with plotly's full validation instead (``go.Figure(figure.to_dict())``).
    """
    return go.Figure({"data": data, "layout": layout}, _validate=False)


def _column(frame: pd.DataFrame, name: str) -> list:
    """A column as a plain Python list (plotly serialises lists without per-element validation)."""
    return frame[name].tolist()


def _hover_texts(frame: pd.DataFrame, unit: str, group_label: str, reference_label: str) -> list[str]:
    """One tooltip per row of a gaps frame (geo_name, year, value, reference_value, disadvantage,
    flags, low_reliability): both values, the disadvantage, the flags spelled out, and a warning
    for low-reliability values."""
    return [
        _hover_text(name, year, value, reference_value, disadvantage, flags, low, unit, group_label, reference_label)
        for name, year, value, reference_value, disadvantage, flags, low in zip(
            _column(frame, "geo_name"), _column(frame, "year"), _column(frame, "value"), _column(frame, "reference_value"),
            _column(frame, "disadvantage"), frame["flags"].fillna("").tolist(), _column(frame, "low_reliability"))
    ]


def build_gap_map(
    gaps: pd.DataFrame,
    boundaries: dict,
    points: pd.DataFrame,
    unit: str,
    group_label: str,
    reference_label: str,
    view: str = "world",
    highlight: str | None = None,
    context: pd.DataFrame | None = None,
    context_label: str = "",
    height: int = 520,
    geojson_url: str | None = None,
) -> go.Figure:
    """Choropleth of the disadvantage (positive = migrants worse off), diverging and centred on zero.

    gaps: rows of core.gaps.compute_gaps for one group, sex, age and year (columns geo, geo_name,
        disadvantage, value, reference_value, flags, low_reliability, year).
    boundaries: GeoJSON FeatureCollection keyed by feature id (ISO alpha-3 or local code).
    points: places drawn as points when they have no polygon: columns iso_a3, name, longitude, latitude.
    view: 'world' or 'europe' (see MAP_VIEWS); highlight: a geo code outlined in black.
    geojson_url: where the browser can fetch the same boundaries (e.g. core.boundaries.WORLD_GEOJSON_URL,
        served from 127.0.0.1). When given, traces reference the URL instead of embedding the polygons:
        the browser downloads them once and caches them, and each figure stays a few KB.
    context: optional rows (geo, geo_name, value) shown in greys where no gap exists (e.g. migrants'
        share of the population), labelled context_label.
    Returns a plotly Figure (choroplethmap + scattermap traces, white-bg style: no tiles).
    """
    traces: list[dict] = []
    national = gaps.loc[gaps["geo_level"] != "regional"] if not gaps.empty else gaps
    polygon_ids = _polygon_ids(boundaries)

    def polygons(codes, layer: str = "") -> dict | str:
        # Each trace gets its own spelling of the URL (a #fragment: the same file, fetched once per
        # spelling). plotly.js fetches a URL once per page and makes other traces wait for it, giving
        # up after 5 s: on a starved machine the first map then lost its other layers with an error.
        if geojson_url:
            return f"{geojson_url}#{layer}" if layer else geojson_url
        return _features_for(boundaries, set(codes))

    codes_shown = set(national["geo"]) if not national.empty else set()
    if context is not None and not context.empty:
        context = context.loc[~context["geo"].isin(codes_shown)]
        codes_shown |= set(context["geo"])
    if view == "europe":
        background = _europe_background(points, polygon_ids)
        traces.append({
            "type": "choroplethmap", "geojson": polygons(background, "background"), "locations": background,
            "z": [0] * len(background), "colorscale": [[0, "#eeeeee"], [1, "#eeeeee"]], "showscale": False,
            "marker": {"line": {"color": "#ffffff", "width": 0.5}}, "hoverinfo": "skip", "name": "no data",
        })
    if context is not None and not context.empty:
        in_polygons = context.loc[context["geo"].isin(polygon_ids)]
        traces.append({
            "type": "choroplethmap", "geojson": polygons(in_polygons["geo"], "context"), "locations": _column(in_polygons, "geo"),
            "z": _column(in_polygons, "value"), "colorscale": CONTEXT_SCALE, "zmin": 0,
            "zmax": float(np.nanpercentile(context["value"], 95)),
            "marker": {"line": {"color": "#ffffff", "width": 0.4}, "opacity": 0.9},
            "colorbar": {"title": {"text": context_label, "side": "top"}, "orientation": "h", "x": 0.5, "xanchor": "center",
                         "y": -0.02, "yanchor": "top", "len": 0.5, "thickness": 10},
            "customdata": [[name] for name in _column(in_polygons, "geo_name")],
            "hovertemplate": "<b>%{customdata[0]}</b><br>" + context_label + ": %{z:.1f}%<br>no gap data<extra></extra>",
            "name": context_label,
        })
    if not national.empty:
        limit = float(np.nanmax(np.abs(national["disadvantage"].to_numpy(dtype=float)))) or 1.0
        hover = _hover_texts(national, unit, group_label, reference_label)
        geos = _column(national, "geo")
        disadvantages = _column(national, "disadvantage")
        low_reliability = _column(national, "low_reliability")
        # The chosen country last (drawn on top), outlined in black in the same layer.
        shown = sorted((i for i, geo in enumerate(geos) if geo in polygon_ids), key=lambda i: geos[i] == highlight)
        outlined = [geos[i] == highlight for i in shown]
        traces.append({
            "type": "choroplethmap", "geojson": polygons([geos[i] for i in shown]), "locations": [geos[i] for i in shown],
            "z": [disadvantages[i] for i in shown], "zmin": -limit, "zmax": limit, "zmid": 0, "colorscale": DIVERGING_SCALE,
            "marker": {"line": {"color": ["#000000" if chosen else "#ffffff" for chosen in outlined],
                                "width": [2.5 if chosen else 0.6 for chosen in outlined]},
                       "opacity": [0.4 if low_reliability[i] else 0.95 for i in shown]},
            "colorbar": {"title": {"text": f"Disadvantage ({'pp' if unit == 'percent' else unit})<br>red: migrants worse off",
                                   "side": "top"}, "x": 1.0, "len": 0.75, "y": 0.5, "thickness": 14},
            "text": [hover[i] for i in shown], "hovertemplate": "%{text}<extra></extra>", "name": "disadvantage",
        })
        located = _point_locations(points)
        small = small_polygon_codes(boundaries)
        as_points = [i for i, geo in enumerate(geos) if (geo not in polygon_ids or geo in small) and geo in located]
        if as_points:
            traces.append({
                "type": "scattermap", "lon": [located[geos[i]][0] for i in as_points],
                "lat": [located[geos[i]][1] for i in as_points], "mode": "markers",
                "marker": {"size": 11, "color": [disadvantages[i] for i in as_points], "colorscale": DIVERGING_SCALE,
                           "cmin": -limit, "cmax": limit},
                "text": [hover[i] for i in as_points], "hovertemplate": "%{text}<extra></extra>",
                "name": "small states (points)", "showlegend": False,
            })
        unreliable = [i for i, geo in enumerate(geos) if low_reliability[i] and geo in located]
        if unreliable:
            # A dark dot (not a text label: MapLibre text needs glyphs from a font server).
            traces.append({
                "type": "scattermap", "lon": [located[geos[i]][0] for i in unreliable],
                "lat": [located[geos[i]][1] for i in unreliable], "mode": "markers",
                "marker": {"size": 9, "color": "#222222", "opacity": 0.9},
                "text": [hover[i] for i in unreliable], "hovertemplate": "%{text}<extra></extra>",
                "name": "low reliability (flag u), faded", "showlegend": True,
            })
    if highlight and highlight in polygon_ids and highlight not in set(national["geo"] if not national.empty else []):
        traces.append({  # a chosen country without a gap: its outline alone
            "type": "choroplethmap", "geojson": polygons([highlight], "chosen"), "locations": [highlight], "z": [0],
            "colorscale": [[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]], "showscale": False,
            "marker": {"line": {"color": "#000000", "width": 2.5}}, "hoverinfo": "skip", "name": "chosen country",
        })
    view_settings = MAP_VIEWS.get(view, MAP_VIEWS["world"])
    return _figure(traces, {
        "map": {"style": "white-bg", "center": dict(view_settings["center"]), "zoom": view_settings["zoom"]},
        "margin": {"l": 0, "r": 0, "t": 0, "b": 60 if context is not None and not context.empty else 0}, "height": height,
        "font": dict(FONT), "legend": {"x": 0.01, "y": 0.02, "bgcolor": "rgba(255,255,255,0.8)"},
    })


def _polygon_ids(boundaries: dict) -> frozenset[str]:
    """The feature ids of a FeatureCollection."""
    return _cached_per_object("ids", boundaries, lambda b: frozenset(f["id"] for f in b["features"]))


def _point_locations(points: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """{code: (longitude, latitude)} of the representative points (columns iso_a3, longitude, latitude)."""
    return _cached_per_object("points", points, lambda p: dict(zip(_column(p, "iso_a3"), zip(_column(p, "longitude"),
                                                                                             _column(p, "latitude")))))


def _europe_background(points: pd.DataFrame, polygon_ids: frozenset[str]) -> list[str]:
    """Codes of the polygons whose representative point lies in EUROPE_BOX (the grey 'no data' layer)."""
    lon_min, lat_min, lon_max, lat_max = EUROPE_BOX
    return sorted(code for code, (lon, lat) in _point_locations(points).items()
                  if lon_min <= lon <= lon_max and lat_min <= lat <= lat_max and code in polygon_ids)


def _hover_text(name, year, value, reference_value, disadvantage, flags, low_reliability, unit: str, group_label: str,
                reference_label: str) -> str:
    lines = [
        f"<b>{name}</b> ({year})",
        f"{group_label}: {format_value(value, unit)}",
        f"{reference_label}: {format_value(reference_value, unit)}",
        f"Disadvantage: {format_difference(disadvantage, unit)}",
    ]
    if flags:
        lines.append(f"Flags: {flags} ({vocabulary.describe_flags(flags)})")
    if low_reliability:
        lines.append("⚠ low reliability (Eurostat flag u): small sample, read with care")
    return "<br>".join(lines)


def build_dumbbell(
    gaps: pd.DataFrame,
    unit: str,
    group_label: str,
    reference_label: str,
    highlight: str | None = None,
    height_per_row: int = 22,
) -> go.Figure:
    """Ranked dumbbell chart: each place's reference-group and migrant-group values joined by a line,
    ordered by disadvantage (largest first, at the top). Aggregates (EU27 ...) are listed below the
    countries, under their own heading; low-reliability values are faded and say so in the tooltip.

    gaps: rows of compute_gaps for one group, sex, age and year with geo, geo_name, geo_level,
    value, reference_value, disadvantage, flags, low_reliability.
    """
    if gaps.empty:
        return go.Figure()
    countries = gaps.loc[gaps["geo_level"] != "regional"].sort_values("disadvantage", ascending=True)
    aggregates = gaps.loc[gaps["geo_level"] == "regional"].sort_values("disadvantage", ascending=True)
    ordered = pd.concat([aggregates, countries], ignore_index=True)
    low_reliability = _column(ordered, "low_reliability")
    labels = [
        ("▸ " if level == "regional" else "") + ("▶ " if geo == highlight else "") + name + (" (u)" if low else "")
        for level, geo, name, low in zip(_column(ordered, "geo_level"), _column(ordered, "geo"), _column(ordered, "geo_name"),
                                         low_reliability)
    ]
    hover = _hover_texts(ordered, unit, group_label, reference_label)
    reference_values, values = _column(ordered, "reference_value"), _column(ordered, "value")
    line_x, line_y = [], []
    for label, reference_value, value in zip(labels, reference_values, values):
        line_x += [reference_value, value, None]
        line_y += [label, label, None]
    opacity = [0.35 if low else 1.0 for low in low_reliability]
    traces = [
        {"type": "scatter", "x": line_x, "y": line_y, "mode": "lines", "line": {"color": "#b0b0b0", "width": 3},
         "hoverinfo": "skip", "showlegend": False},
        {"type": "scatter", "x": reference_values, "y": labels, "mode": "markers", "name": reference_label,
         "marker": {"color": REFERENCE_COLOUR, "size": 11, "opacity": opacity},
         "text": hover, "hovertemplate": "%{text}<extra></extra>"},
        {"type": "scatter", "x": values, "y": labels, "mode": "markers", "name": group_label,
         "marker": {"color": GROUP_COLOUR, "size": 11, "opacity": opacity,
                    "line": {"color": GROUP_COLOUR, "width": [2 if low else 0 for low in low_reliability]}},
         "text": hover, "hovertemplate": "%{text}<extra></extra>"},
    ]
    layout = {
        "height": max(260, height_per_row * len(ordered) + 110), "margin": {"l": 10, "r": 20, "t": 30, "b": 40},
        "font": dict(FONT), "xaxis": {"title": {"text": f"{'%' if unit == 'percent' else unit}"}, "gridcolor": "#eeeeee",
                                      "zeroline": False},
        "yaxis": {"automargin": True}, "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
        "plot_bgcolor": "white",
    }
    if not aggregates.empty:  # a dotted line between the aggregates (below) and the ranked countries
        layout["shapes"] = [{"type": "line", "xref": "x domain", "x0": 0, "x1": 1, "yref": "y", "y0": len(aggregates) - 0.5,
                             "y1": len(aggregates) - 0.5, "line": {"dash": "dot", "color": "#999999"}}]
    return _figure(traces, layout)


def build_time_series(gaps: pd.DataFrame, unit: str, group_label: str, reference_label: str, title: str = "",
                      height: int = 380) -> go.Figure:
    """Both groups' values over time with the gap between them shaded.

    gaps: core.gaps.compute_gap_series rows for one place, group, sex and age (year,
    reference_value, value, disadvantage, flags, low_reliability).
    """
    if gaps.empty:
        return go.Figure()
    series = gaps.sort_values("year").drop_duplicates("year")
    # A year missing in between breaks the lines (no straight line drawn across a year without data).
    years = range(int(series["year"].min()), int(series["year"].max()) + 1)
    series = series.set_index("year").reindex(years).rename_axis("year").reset_index()
    low_reliability = series["low_reliability"].fillna(False).astype(bool).tolist()
    flags = series["flags"].fillna("").tolist()
    year_values = [int(year) for year in series["year"]]
    traces = [
        {"type": "scatter", "x": year_values, "y": _column(series, "reference_value"), "mode": "lines+markers",
         "name": reference_label, "line": {"color": REFERENCE_COLOUR, "width": 3},
         "hovertemplate": "%{x}: %{y:.1f}<extra>" + reference_label + "</extra>"},
        {"type": "scatter", "x": year_values, "y": _column(series, "value"), "mode": "lines+markers", "name": group_label,
         "line": {"color": GROUP_COLOUR, "width": 3}, "fill": "tonexty", "fillcolor": "rgba(192,57,43,0.12)",
         "marker": {"symbol": ["circle-open" if low else "circle" for low in low_reliability], "size": 9},
         "customdata": [[disadvantage, flag] for disadvantage, flag in zip(_column(series, "disadvantage"), flags)],
         "hovertemplate": "%{x}: %{y:.1f}<br>disadvantage %{customdata[0]:+.1f}<br>flags %{customdata[1]}<extra>"
                          + group_label + "</extra>"},
    ]
    return _figure(traces, {
        "title": {"text": title, "y": 0.97, "yanchor": "top"}, "height": height,
        "margin": {"l": 10, "r": 10, "t": 50 if title else 20, "b": 70}, "font": dict(FONT),
        "yaxis": {"title": {"text": "%" if unit == "percent" else unit}, "gridcolor": "#eeeeee"},
        "xaxis": {"dtick": 2 if len(series) > 8 else 1},
        "legend": {"orientation": "h", "y": -0.12, "yanchor": "top", "x": 0}, "plot_bgcolor": "white",
    })


def build_sparkline(gaps: pd.DataFrame, height: int = 60) -> go.Figure:
    """A small line of the disadvantage over the years (positive = migrants worse off), for tables."""
    series = gaps.sort_values("year")
    figure = go.Figure(go.Scatter(x=series["year"], y=series["disadvantage"], mode="lines", line=dict(color=GROUP_COLOUR, width=2),
                                  hovertemplate="%{x}: %{y:+.1f}<extra></extra>"))
    figure.add_hline(y=0, line_color="#999999", line_width=1)
    figure.update_layout(height=height, margin=dict(l=0, r=0, t=0, b=0), xaxis=dict(visible=False), yaxis=dict(visible=False),
                         showlegend=False, plot_bgcolor="white")
    return figure
