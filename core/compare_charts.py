"""Figures of the Compare page: plotly figures returned, never shown (pages render them).

- build_comparison_chart: one chart per indicator, every place on the same axis (a dumbbell:
  reference group and migrant group joined by a line, the gap written at the right, the frontier at
  the country's GDP per capita marked), so places are read against one scale.
- build_progression_chart: the disadvantage over the years, one panel per place, the same
  vertical scale in every panel, coloured by its classification (closing, widening, stable,
  reversed; a regression in red and marked ▲).
- build_frontier_chart: every point the frontier rests on, the frontier, and the places compared.
- build_treaty_map: states parties, signatories and others for one instrument, on the project's
  own boundaries (MapLibre white-bg style: no tiles, no outside requests; no text on the map).

Colours follow core.charts (reference group dark grey, migrants red). The chart toolbar's camera
button (plotly's 'toImage') saves any of them as PNG with no server and no internet.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core import capacity, charts, vocabulary
from core.compare import IndicatorComparison

STATUS_COLOURS = {
    "closing": "#1a9850", "widening": "#d73027", "stable": "#7f7f7f", "reversed": "#d73027",
    "too few years": "#bbbbbb", "favour": "#4575b4",
}
SHORT_NAMES = {"EU27_2020": "EU27", "EA20": "Euro area 20", "EA19": "Euro area 19", "EU28": "EU28", "EA": "Euro area"}
SEX_WORDS = {"T": "", "F": "women", "M": "men"}
#: Short names of population groups for table headers and legends.
SHORT_GROUP_NAMES = {"nationals": "Nationals", "non_nationals": "Non-nationals", "eu_citizens": "EU citizens",
                     "non_eu_citizens": "Non-EU citizens", "native_born": "Native-born", "foreign_born": "Foreign-born",
                     "eu_born": "Born in EU", "non_eu_born": "Born outside EU", "total": "Total"}
FRONTIER_COLOUR = "#8c6d1f"
PARTY_COLOURS = {"state party": "#2166ac", "signed only": "#92c5de", "not a party": "#e0e0e0"}

#: The toolbar configuration for every figure: PNG at twice the screen size, no plotly logo.
def png_config(file_name: str) -> dict:
    """plotly.js config for st.plotly_chart: the camera button saves '<file_name>.png' at scale 2."""
    return {"displaylogo": False, "toImageButtonOptions": {"format": "png", "filename": file_name, "scale": 2},
            "modeBarButtonsToRemove": ["lasso2d", "select2d"]}


def short_place_name(code: str) -> str:
    """A short name for charts: 'EU27' for EU27_2020, the English name for a country."""
    from core.geo import name_of

    return SHORT_NAMES.get(code) or name_of(code)


def status_colour(status: str | None, regression: bool = False, last: float | None = None) -> str:
    """Colour of a progression: red for a regression, green for a disadvantage closing (or closed by
    a sign change), blue where migrants are better off and the gap moves (last disadvantage < 0),
    grey for stable or too few years."""
    if status is None or (isinstance(status, float) and np.isnan(status)):
        return STATUS_COLOURS["too few years"]
    if regression:
        return STATUS_COLOURS["widening"]
    if status == "reversed":
        return STATUS_COLOURS["closing"]
    if status in ("closing", "widening") and (status == "widening" or (last is not None and last < 0)):
        return STATUS_COLOURS["favour"]
    return STATUS_COLOURS.get(status, "#7f7f7f")


def short_status(row) -> str:
    """'closing · parity ≈ 2035', 'widening ▲ regression', 'stable', 'reversed · closed ≈ 2013', ..."""
    status = row.get("status") if hasattr(row, "get") else row["status"]
    if status is None or (isinstance(status, float) and np.isnan(status)):
        return "no data"
    if status == "too few years":
        return "one year only"
    if row["regression"]:
        return f"{status} ▲ regression"
    if status == "closing" and row["parity_year"] is not None and not pd.isna(row["parity_year"]) and row["years_to_parity"]:
        return f"closing · parity ≈ {row['parity_year']:.0f}"
    if status == "reversed" and row["crossed_year"] is not None and not pd.isna(row["crossed_year"]):
        return f"reversed · closed ≈ {row['crossed_year']:.0f}"
    if status == "widening":
        return "widening (migrants ahead)"
    return str(status)


def _row_label(row, multiple_sexes: bool) -> str:
    label = short_place_name(row["geo"])
    if multiple_sexes:
        label += f" · {SEX_WORDS.get(row['sex'], row['sex'])}"
    flagged = row.get("low_reliability")
    if isinstance(flagged, (bool, np.bool_)) and flagged:
        label += " (u)"
    return label


def build_comparison_chart(comparison: IndicatorComparison, font_size: int = 14, row_height: int = 46) -> go.Figure:
    """Both groups' values for every place on one axis, with the disadvantage written at the right
    and the frontier at the country's GDP per capita marked (where capacity scores exist).

    comparison: a core.compare.IndicatorComparison (rows: geo, sex, reference_value, value,
    disadvantage, year, flags, low_reliability, note, frontier_value ...).
    Places without a gap are listed with a grey note. Returns a plotly Figure.
    """
    rows = comparison.rows.copy()
    unit = comparison.unit
    multiple_sexes = len(comparison.breakdown["sexes"]) > 1
    rows["label"] = [_row_label(row, multiple_sexes) for _, row in rows.iterrows()]
    reference_label = vocabulary.POPULATION_GROUPS[comparison.breakdown["reference_group"]]
    group_label = vocabulary.POPULATION_GROUPS[comparison.breakdown["group"]]
    have = rows.loc[rows["value"].notna()]
    figure = go.Figure()
    values = pd.concat([have["reference_value"], have["value"], have.get("frontier_value", pd.Series(dtype=float))]).dropna()
    if values.empty:
        low, high = 0.0, 100.0 if unit == "percent" else 1.0
    else:
        low, high = float(values.min()), float(values.max())
    pad = (high - low) * 0.08 or 1.0
    x_range = [max(0.0, low - pad) if low >= 0 else low - pad, high + pad]
    line_x, line_y = [], []
    for _, row in have.iterrows():
        line_x += [row["reference_value"], row["value"], None]
        line_y += [row["label"], row["label"], None]
    figure.add_trace(go.Scatter(x=line_x, y=line_y, mode="lines", line=dict(color="#b0b0b0", width=4),
                                hoverinfo="skip", showlegend=False))
    hover = [f"<b>{row['label']}</b> ({int(row['year'])})<br>{reference_label}: {charts.format_value(row['reference_value'], unit)}"
             f"<br>{group_label}: {charts.format_value(row['value'], unit)}<br>Disadvantage: "
             f"{charts.format_difference(row['disadvantage'], unit)}" + (f"<br>Flags: {row['flags']} ({vocabulary.describe_flags(row['flags'])})"
                                                                         if row['flags'] else "")
             for _, row in have.iterrows()]
    opacity = np.where(have["low_reliability"].astype(bool), 0.4, 1.0) if not have.empty else 1.0
    figure.add_trace(go.Scatter(x=have["reference_value"], y=have["label"], mode="markers", name=reference_label,
                                marker=dict(color=charts.REFERENCE_COLOUR, size=14, opacity=opacity),
                                text=hover, hovertemplate="%{text}<extra></extra>"))
    figure.add_trace(go.Scatter(x=have["value"], y=have["label"], mode="markers", name=group_label,
                                marker=dict(color=charts.GROUP_COLOUR, size=14, opacity=opacity),
                                text=hover, hovertemplate="%{text}<extra></extra>"))
    if "frontier_value" in have.columns and have["frontier_value"].notna().any():
        frontier = have.loc[have["frontier_value"].notna()]
        figure.add_trace(go.Scatter(
            x=frontier["frontier_value"], y=frontier["label"], mode="markers", name="frontier at its GDP per capita",
            marker=dict(symbol="line-ns", size=22, line=dict(color=FRONTIER_COLOUR, width=3), color=FRONTIER_COLOUR),
            customdata=np.stack([frontier["gdp_per_capita_ppp"], frontier["score_reference"], frontier["score_group"]], axis=1),
            hovertemplate="Frontier %{x:.1f} at GDP per capita %{customdata[0]:,.0f} int.$<br>scores: "
                          "%{customdata[1]:.0f} (reference), %{customdata[2]:.0f} (migrants)<extra></extra>"))
    annotations = []  # one list: add_annotation per row is slow
    for _, row in rows.iterrows():
        if pd.notna(row["value"]):
            colour = charts.GROUP_COLOUR if row["disadvantage"] > 0 else "#2166ac"
            text = f"<b>{charts.format_difference(row['disadvantage'], unit)}</b> ({int(row['year'])})"
        else:
            colour, text = "#888888", row["note"] or "no data"
        annotations.append(dict(x=1.0, xref="paper", xanchor="left", y=row["label"], yref="y", text=text, showarrow=False,
                                font=dict(color=colour, size=font_size), xshift=8))
    unit_title = "%" if unit == "percent" else charts.format_value(0, unit).split(" ", 1)[-1]
    better = "higher is better" if comparison.polarity == "higher_is_better" else "lower is better"
    figure.update_layout(
        height=max(190, row_height * len(rows) + 100 + 2 * font_size),
        margin=dict(l=10, r=_right_margin([a["text"] for a in annotations], font_size), t=24 + 3 * font_size, b=50),
        font=dict(family=charts.FONT["family"], size=font_size), plot_bgcolor="white",
        # explicit sizes: Streamlit's chart theme would otherwise shrink ticks and legend in presentation mode
        xaxis=dict(title=dict(text=f"{unit_title} ({better})", font=dict(size=font_size)), range=x_range, gridcolor="#eeeeee",
                   zeroline=False, tickfont=dict(size=font_size - 1)),
        yaxis=dict(categoryorder="array", categoryarray=list(dict.fromkeys(rows["label"]))[::-1], automargin=True,
                   type="category", tickfont=dict(size=font_size)),
        legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0, font=dict(size=font_size - 1)), annotations=annotations,
    )
    missing = rows.loc[rows["value"].isna(), "label"].tolist()
    if missing:  # keep places without data on the axis, with their note
        figure.add_trace(go.Scatter(x=[None] * len(missing), y=missing, mode="markers", showlegend=False, hoverinfo="skip"))
    return figure


def _right_margin(texts: list[str], font_size: int) -> int:
    """Pixels right of the plot for the notes written there ('+13.9 pp (2023)', 'no data for this
    place'): the longest text at about 0.56 of the font size per character (the chart font's average
    width), at least 190 (a note cut at the chart's edge was seen in presentation mode)."""
    longest = max((len(re.sub(r"<[^>]+>", "", text)) for text in texts), default=0)
    return max(190, int(0.56 * font_size * longest) + 24)


def _progression_measure(series: pd.DataFrame, unit: str) -> pd.Series:
    if unit == "percent":
        return series["disadvantage"].astype(float)
    return 100.0 * series["disadvantage"].astype(float) / series["reference_value"].astype(float)


def build_progression_chart(comparison: IndicatorComparison, threshold: float, font_size: int = 13,
                            height: int = 330) -> go.Figure:
    """The disadvantage over the years, one panel per place, the same vertical scale for all.

    Each line is coloured by its classification (see status_colour); the window the
    classification uses is shaded; the panel title gives the status ('closing · parity ≈ 2035',
    'widening ▲ regression' ...). For amounts (EUR) the line is the disadvantage as % of the
    reference group's value. threshold: the 'stable' threshold shown in the axis title.
    """
    places = list(dict.fromkeys(comparison.rows["geo"]))
    rows = comparison.rows
    multiple_sexes = len(comparison.breakdown["sexes"]) > 1
    extra = 18 * (len(comparison.breakdown["sexes"]) - 1)
    series = comparison.series
    measure_name = "pp" if comparison.unit == "percent" else "% of the reference value"
    gap, count = 0.03, len(places)
    width = (1 - gap * (count - 1)) / count
    # One figure built from plain dicts in one pass: plotly's make_subplots and per-panel updates are
    # ten times slower, and the page draws one of these per indicator.
    traces, shapes, annotations, layout = [], [], [], {}
    for column, geo in enumerate(places, start=1):
        axis = "" if column == 1 else str(column)
        left = (column - 1) * (width + gap)
        layout[f"xaxis{axis}"] = dict(domain=[left, left + width], anchor=f"y{axis}", gridcolor="#f5f5f5", tickformat="d",
                                      tickfont=dict(size=font_size - 2), **({} if column == 1 else {"matches": "x"}))
        layout[f"yaxis{axis}"] = dict(anchor=f"x{axis}", gridcolor="#eeeeee", zeroline=False, tickfont=dict(size=font_size - 2),
                                      **({"title": dict(text=f"Disadvantage ({measure_name})<br>> 0: migrants worse off",
                                                        font=dict(size=font_size - 2))}
                                         if column == 1 else {"matches": "y", "showticklabels": False}))
        part_rows = rows.loc[rows["geo"] == geo]
        statuses = [(f"{SEX_WORDS[r['sex']]}: " if multiple_sexes else "") + short_status(r) for _, r in part_rows.iterrows()]
        annotations.append(dict(text=f"<b>{short_place_name(geo)}</b><br>" + "<br>".join(statuses), x=left + width / 2,
                                y=1.0, xref="paper", yref="paper", xanchor="center", yanchor="bottom", showarrow=False,
                                font=dict(size=font_size)))
        for _, row in part_rows.iterrows():
            part = series.loc[(series["geo"] == geo) & (series["sex"] == row["sex"])].sort_values("year") if not series.empty else series
            if part.empty:
                continue
            colour = status_colour(row["status"], bool(row["regression"]), row.get("disadvantage"))
            traces.append(dict(
                type="scatter", x=part["year"].tolist(), y=_progression_measure(part, comparison.unit).round(3).tolist(),
                xaxis=f"x{axis}", yaxis=f"y{axis}", mode="lines+markers", marker=dict(size=6), showlegend=False,
                line=dict(color=colour, width=3, dash="dot" if row["sex"] == "M" and multiple_sexes else "solid"),
                name=f"{short_place_name(geo)}{' · ' + SEX_WORDS[row['sex']] if multiple_sexes else ''}",
                hovertemplate="%{x}: %{y:+.1f} " + measure_name + "<extra>" + short_place_name(geo) + "</extra>"))
            if pd.notna(row.get("first_year")) and pd.notna(row.get("last_year")) and row["first_year"] != row["last_year"]:
                shapes.append(dict(type="rect", xref=f"x{axis}", yref=f"y{axis} domain", x0=row["first_year"],
                                   x1=row["last_year"], y0=0, y1=1, fillcolor="#f2f2f2", line=dict(width=0), layer="below"))
        shapes.append(dict(type="line", xref=f"x{axis} domain", yref=f"y{axis}", x0=0, x1=1, y0=0, y1=0,
                           line=dict(color="#555555", width=1)))
    layout.update(shapes=shapes, annotations=annotations, height=height + extra, plot_bgcolor="white",
                  margin=dict(l=10, r=10, t=70 + extra, b=30), font=dict(family=charts.FONT["family"], size=font_size))
    return go.Figure(dict(data=traces, layout=layout))


def build_frontier_chart(frontier: capacity.Frontier, rows: pd.DataFrame, title: str = "", font_size: int = 13,
                         height: int = 420) -> go.Figure:
    """Every frontier point (grey), the frontier (brown line) and the places compared (reference
    group dark, migrants red) against GDP per capita on a log axis, in the indicator's own unit
    (axis reversed when lower is better, so that better is always up)."""
    points = frontier.points
    figure = go.Figure()
    figure.add_trace(go.Scatter(
        x=points["gdp_per_capita_ppp"], y=points["value"], mode="markers", name="countries and years (whole population or reference group)",
        marker=dict(color="#c8c8c8", size=6), customdata=np.stack([points["geo"], points["year"]], axis=1),
        hovertemplate="%{customdata[0]} %{customdata[1]}: %{y:.1f} at %{x:,.0f} int.$<extra></extra>"))
    high = float(points["gdp_per_capita_ppp"].max()) * 1.05
    x = np.exp(np.append(frontier.log_gdp, np.log(high)))
    y = capacity.from_achievement(np.append(frontier.achievement, frontier.achievement[-1]), frontier.polarity, frontier.unit)
    figure.add_trace(go.Scatter(x=x, y=y, mode="lines", name="frontier", line=dict(color=FRONTIER_COLOUR, width=3),
                                hovertemplate="frontier %{y:.1f} at %{x:,.0f} int.$<extra></extra>"))
    support = frontier.support
    figure.add_trace(go.Scatter(x=support["gdp_per_capita_ppp"], y=support["value"], mode="markers", name="on the frontier",
                                marker=dict(color=FRONTIER_COLOUR, size=9, symbol="diamond"),
                                customdata=np.stack([support["geo"], support["year"]], axis=1),
                                hovertemplate="%{customdata[0]} %{customdata[1]}: %{y:.1f}<extra>on the frontier</extra>"))
    scored = rows.loc[rows["gdp_per_capita_ppp"].notna()] if "gdp_per_capita_ppp" in rows.columns else rows.iloc[0:0]
    if not scored.empty:
        labels = [short_place_name(g) for g in scored["geo"]]
        figure.add_trace(go.Scatter(x=scored["gdp_per_capita_ppp"], y=scored["reference_value"], mode="markers+text",
                                    text=labels, textposition="top center", name="reference group",
                                    marker=dict(color=charts.REFERENCE_COLOUR, size=13),
                                    hovertemplate="%{text}: %{y:.1f}<extra>reference group</extra>"))
        figure.add_trace(go.Scatter(x=scored["gdp_per_capita_ppp"], y=scored["value"], mode="markers", text=labels,
                                    name="migrant group", marker=dict(color=charts.GROUP_COLOUR, size=13),
                                    hovertemplate="%{text}: %{y:.1f}<extra>migrant group</extra>"))
    figure.update_layout(
        title=title, height=height, plot_bgcolor="white", font=dict(family=charts.FONT["family"], size=font_size),
        margin=dict(l=10, r=10, t=50 if title else 20, b=40), legend=dict(orientation="h", y=-0.18),
        xaxis=dict(type="log", title="GDP per capita, PPP (constant 2021 international $, log scale)", gridcolor="#eeeeee"),
        yaxis=dict(title="%" if frontier.unit == "percent" else frontier.unit, gridcolor="#eeeeee",
                   autorange="reversed" if frontier.polarity == "lower_is_better" else True),
    )
    return figure


def build_treaty_map(commitments: pd.DataFrame, boundaries: dict, points: pd.DataFrame, title: str = "",
                     height: int = 460, highlight: list[str] | None = None) -> go.Figure:
    """World map of one instrument: states parties (dark blue), signatories that have not ratified
    (light blue), other UN member states (light grey); small states without a polygon as points.

    commitments: rows of core.treaties.load_treaty_status for one instrument (geo, member,
    state_party, year, signatory, status, as_of); boundaries: GeoJSON keyed by ISO alpha-3;
    points: iso_a3, name, longitude, latitude. highlight: places outlined in black.
    """
    from core.geo import name_of

    frame = commitments.copy()
    frame["category"] = np.where(frame["state_party"], "state party", np.where(frame["signatory"], "signed only", "not a party"))
    frame["name"] = frame["geo"].map(name_of)
    frame["hover"] = [f"<b>{row.name}</b><br>{row.category}" + (f" since {int(row.year)}" if row.state_party and pd.notna(row.year) else "")
                      + f"<br>as of {row.as_of}" for row in frame.itertuples(index=False)]
    polygon_ids = {feature["id"] for feature in boundaries["features"]}
    figure = go.Figure()
    others = sorted(polygon_ids - set(frame["geo"]))  # not UN member states (Greenland, Taiwan, Kosovo ...)
    if others:
        figure.add_trace(go.Choroplethmap(
            geojson=charts._features_for(boundaries, set(others)), locations=others, z=[0] * len(others),
            colorscale=[[0, "#f6f6f6"], [1, "#f6f6f6"]], showscale=False, marker_line_color="#ffffff", marker_line_width=0.5,
            text=[f"<b>{name_of(code)}</b><br>not a UN member state: no record" for code in others],
            hovertemplate="%{text}<extra></extra>", showlegend=False))
    for category, colour in PARTY_COLOURS.items():
        part = frame.loc[(frame["category"] == category) & frame["geo"].isin(polygon_ids)]
        if part.empty:
            continue
        figure.add_trace(go.Choroplethmap(
            geojson=charts._features_for(boundaries, set(part["geo"])), locations=part["geo"], z=[1] * len(part),
            colorscale=[[0, colour], [1, colour]], showscale=False, marker_line_color="#ffffff", marker_line_width=0.5,
            text=part["hover"], hovertemplate="%{text}<extra></extra>", name=f"{category} ({len(frame.loc[frame['category'] == category])})",
            showlegend=True))
        small = frame.loc[(frame["category"] == category) & ~frame["geo"].isin(polygon_ids)].merge(
            points.rename(columns={"iso_a3": "geo"})[["geo", "longitude", "latitude"]], on="geo", how="inner")
        if not small.empty:
            figure.add_trace(go.Scattermap(lon=small["longitude"], lat=small["latitude"], mode="markers",
                                           marker=dict(size=8, color=colour), text=small["hover"],
                                           hovertemplate="%{text}<extra></extra>", showlegend=False))
    if highlight:
        shown = [g for g in highlight if g in polygon_ids]
        if shown:
            figure.add_trace(go.Choroplethmap(
                geojson=charts._features_for(boundaries, set(shown)), locations=shown, z=[0] * len(shown),
                colorscale=[[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]], showscale=False, marker_line_color="#000000",
                marker_line_width=2, hoverinfo="skip", name="places compared (outlined)", showlegend=True))
    view = charts.MAP_VIEWS["world"]
    figure.update_layout(map=dict(style="white-bg", center=view["center"], zoom=view["zoom"]), height=height,
                         margin=dict(l=0, r=0, t=40 if title else 0, b=0), title=title,
                         font=dict(family=charts.FONT["family"], size=13),
                         legend=dict(x=0.01, y=0.02, bgcolor="rgba(255,255,255,0.85)"))
    return figure
