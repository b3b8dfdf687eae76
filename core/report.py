"""A printable PDF of comparisons (fpdf2), with charts drawn by matplotlib (no browser, no download).

Plotly's own static export (kaleido) needs a Chrome download, so the PDF's charts are drawn again
with matplotlib's object-oriented API (``matplotlib.figure.Figure``, Agg canvas: no display, no
global state) and embedded as PNG. Text is set in DejaVu Sans, the font matplotlib ships with (so
accented place names and signs such as ≈ and ▲ print on any machine).

One section per pinned view: the places, the right and the year; for each indicator its chart
(both groups' values and the gap for every place, one axis), a table (values, disadvantage,
progression, capacity scores) and the source; the places' treaty commitments; then the method.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from core import charts, vocabulary
from core.compare import IndicatorComparison, View
from core.compare_charts import SEX_WORDS, SHORT_GROUP_NAMES, short_place_name, short_status

FONT_NAME = "DejaVuSans"


@dataclass
class ReportSection:
    """One view in the PDF: the view, its comparisons (core.compare.fetch_comparison), the places'
    commitments (core.treaties.fetch_commitments rows) and {dataset: attribution}."""

    view: View
    comparisons: list[IndicatorComparison]
    commitments: pd.DataFrame
    sources: dict[str, str]


def _font_paths() -> dict[str, Path]:
    import matplotlib

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return {"": folder / "DejaVuSans.ttf", "B": folder / "DejaVuSans-Bold.ttf"}


def draw_comparison_png(comparison: IndicatorComparison, width_inches: float = 7.2) -> bytes:
    """The comparison chart (reference group dark, migrants red, frontier marked) as PNG bytes."""
    from matplotlib.figure import Figure

    rows = comparison.rows.reset_index(drop=True)
    multiple = len(comparison.breakdown["sexes"]) > 1
    labels = [short_place_name(r["geo"]) + (f" · {SEX_WORDS[r['sex']]}" if multiple else "") for _, r in rows.iterrows()]
    height = 0.55 + 0.42 * len(rows)
    figure = Figure(figsize=(width_inches, height), dpi=200)
    axis = figure.add_subplot()
    y = np.arange(len(rows))[::-1]
    have = rows["value"].notna().to_numpy()
    for position, (_, row) in zip(y, rows.iterrows()):
        if pd.notna(row["value"]):
            axis.plot([row["reference_value"], row["value"]], [position, position], color="#b0b0b0", linewidth=3, zorder=1)
    axis.scatter(rows.loc[have, "reference_value"], y[have], color=charts.REFERENCE_COLOUR, s=45, zorder=2,
                 label=vocabulary.POPULATION_GROUPS[comparison.breakdown["reference_group"]])
    axis.scatter(rows.loc[have, "value"], y[have], color=charts.GROUP_COLOUR, s=45, zorder=3,
                 label=vocabulary.POPULATION_GROUPS[comparison.breakdown["group"]])
    if "frontier_value" in rows.columns and rows["frontier_value"].notna().any():
        with_frontier = rows["frontier_value"].notna().to_numpy()
        axis.scatter(rows.loc[with_frontier, "frontier_value"], y[with_frontier], marker="|", s=260, color="#8c6d1f",
                     linewidths=2.2, zorder=2, label="frontier at its GDP per capita")
    values = pd.concat([rows["reference_value"], rows["value"], rows.get("frontier_value", pd.Series(dtype=float))]).dropna()
    low, high = (float(values.min()), float(values.max())) if not values.empty else (0.0, 1.0)
    pad = (high - low) * 0.08 or 1.0
    axis.set_xlim(max(0.0, low - pad) if low >= 0 else low - pad, high + pad)
    for position, (_, row) in zip(y, rows.iterrows()):
        text = charts.format_difference(row["disadvantage"], comparison.unit) if pd.notna(row["value"]) else "no data"
        colour = "#888888" if pd.isna(row["value"]) else (charts.GROUP_COLOUR if row["disadvantage"] > 0 else "#2166ac")
        axis.annotate(text, xy=(1.01, position), xycoords=("axes fraction", "data"), va="center", fontsize=8, color=colour)
    axis.set_yticks(y, labels, fontsize=8)
    axis.set_ylim(-0.7, len(rows) - 0.3)
    axis.tick_params(axis="x", labelsize=8)
    unit = "%" if comparison.unit == "percent" else comparison.unit.replace("international_dollars", "int.$")
    axis.set_xlabel(f"{unit} ({'higher' if comparison.polarity == 'higher_is_better' else 'lower'} is better)", fontsize=8)
    axis.grid(axis="x", color="#eeeeee")
    for side in ("top", "right"):
        axis.spines[side].set_visible(False)
    axis.legend(fontsize=7, loc="lower left", bbox_to_anchor=(0, 1.0), ncols=3, frameon=False)
    figure.subplots_adjust(left=0.2, right=0.86, top=1 - 0.45 / height, bottom=0.5 / height)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


class _ComparisonPDF(FPDF):
    footer_text = ""

    def footer(self):
        self.set_y(-12)
        self.set_font(FONT_NAME, size=7)
        self.set_text_color(110)
        self.cell(0, 5, f"{self.footer_text} · page {self.page_no()}", align="C")
        self.set_text_color(0)


def _fmt(value, unit: str) -> str:
    return charts.format_value(value, unit) if pd.notna(value) else "—"


def _signed_points(value) -> str:
    """A capacity gap in whole points with its sign ('+12', '-3'), '0' when it rounds to zero (never
    '-0'), '—' when missing."""
    if value is None or pd.isna(value):
        return "—"
    points = round(float(value))
    return f"{points:+d}" if points else "0"


def _score(value) -> str:
    return f"{value:.0f}" if pd.notna(value) else "—"


def build_comparison_pdf(sections: list[ReportSection], threshold: float, title: str = "RightsGap — comparison",
                         generated_on: date | None = None) -> bytes:
    """The comparisons as a printable A4 PDF (bytes), one section per view, ending with the method.

    threshold: the stable threshold of the progression (pp a year), printed with the method.
    Raises ValueError when sections is empty.
    """
    if not sections:
        raise ValueError("nothing to export: pin a view or choose places first")
    generated_on = generated_on or date.today()
    pdf = _ComparisonPDF(orientation="portrait", unit="mm", format="A4")
    pdf.footer_text = f"RightsGap · human rights indicators for migrants · generated {generated_on.isoformat()}"
    for style, path in _font_paths().items():
        pdf.add_font(FONT_NAME, style, str(path))
    pdf.set_auto_page_break(True, margin=16)
    pdf.set_margins(15, 14, 15)
    for number, section in enumerate(sections, start=1):
        pdf.add_page()
        view = section.view
        pdf.set_font(FONT_NAME, "B", 16)
        pdf.multi_cell(0, 8, title if len(sections) == 1 else f"{title} — view {number} of {len(sections)}",
                       align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(FONT_NAME, size=10)
        places = ", ".join(short_place_name(p) for p in view.places)
        pdf.multi_cell(0, 5.5, f"{vocabulary.RIGHTS[view.right]} · {places} · latest year both groups have, up to {view.year}",
                       new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font(FONT_NAME, size=8)
        pdf.set_text_color(90)
        pdf.multi_cell(0, 4.2, "Disadvantage > 0: migrants worse off than their reference group. Progression over the "
                               "last ten years up to the year shown; scores: % of the achievement possibilities frontier "
                               "at the country's GDP per capita.", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0)
        if not section.comparisons:
            pdf.ln(3)
            pdf.set_font(FONT_NAME, size=10)
            pdf.multi_cell(0, 5, "No indicator of this right compares migrants with their reference group for these places.")
        for comparison in section.comparisons:
            _indicator_section(pdf, comparison, section.sources)
        _commitments_section(pdf, section.commitments, view)
    _method_section(pdf, threshold)
    return bytes(pdf.output())


def _indicator_section(pdf: FPDF, comparison: IndicatorComparison, sources: dict[str, str]) -> None:
    rows = comparison.rows
    image = draw_comparison_png(comparison)
    image_height = 180 * (0.55 + 0.42 * len(rows)) / 7.2
    needed = 12 + image_height + 6 * (len(rows) + 1) + 14
    if pdf.get_y() + min(needed, 150) > pdf.h - 16:
        pdf.add_page()
    pdf.ln(3)
    pdf.set_font(FONT_NAME, "B", 12)
    pdf.multi_cell(0, 6, comparison.title, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT_NAME, size=8)
    reference = vocabulary.POPULATION_GROUPS[comparison.breakdown["reference_group"]]
    group = vocabulary.POPULATION_GROUPS[comparison.breakdown["group"]]
    pdf.multi_cell(0, 4, f"{group} compared with {reference.lower()}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.image(io.BytesIO(image), w=180)
    unit = comparison.unit
    headers = ["Place", "Year", SHORT_GROUP_NAMES[comparison.breakdown["reference_group"]],
               SHORT_GROUP_NAMES[comparison.breakdown["group"]], "Disadvantage", "Progression", "Score ref.", "Score migr.",
               "Capacity gap"]
    widths = [24, 9, 22, 22, 24, 34, 13, 13, 15]  # 'Disadvantage' on one line at 7 pt
    pdf.set_font(FONT_NAME, size=7)
    with pdf.table(col_widths=widths, text_align=("LEFT", "CENTER", "RIGHT", "RIGHT", "RIGHT", "LEFT", "RIGHT", "RIGHT", "RIGHT"),
                   line_height=3.6, first_row_as_headings=True, width=sum(widths)) as table:
        table.row(headers)
        for _, row in rows.iterrows():
            place = short_place_name(row["geo"]) + (f" · {SEX_WORDS[row['sex']]}" if len(comparison.breakdown["sexes"]) > 1 else "")
            if pd.isna(row["value"]):
                table.row([place, "—", "—", "—", "—", row["note"] or "no data", "—", "—", "—"])
                continue
            table.row([place, str(int(row["year"])), _fmt(row["reference_value"], unit), _fmt(row["value"], unit),
                       charts.format_difference(row["disadvantage"], unit), short_status(row),
                       _score(row.get("score_reference")), _score(row.get("score_group")),
                       _signed_points(row.get("capacity_gap"))])
    pdf.set_font(FONT_NAME, size=7)
    for _, row in rows.loc[rows["value"].notna()].iterrows():
        place = short_place_name(row["geo"]) + (f" ({SEX_WORDS[row['sex']]})" if len(comparison.breakdown["sexes"]) > 1 else "")
        pdf.multi_cell(0, 3.6, f"{place}: {row['progress_label']}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    attribution = " · ".join(sources.get(d, d) for d in comparison.datasets)
    if attribution:
        pdf.set_text_color(90)
        pdf.multi_cell(0, 3.6, attribution, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0)


def _commitments_section(pdf: FPDF, commitments: pd.DataFrame, view: View) -> None:
    if commitments is None or commitments.empty:
        return
    if pdf.get_y() > pdf.h - 70:
        pdf.add_page()
    pdf.ln(4)
    pdf.set_font(FONT_NAME, "B", 12)
    pdf.multi_cell(0, 6, "Commitments: treaties ratified (structural indicators)", align="L", new_x=XPos.LMARGIN,
                   new_y=YPos.NEXT)
    places = list(view.places)
    widths = [62, 18] + [100 / len(places)] * len(places)
    pdf.set_font(FONT_NAME, size=7)
    with pdf.table(col_widths=widths, line_height=3.8, first_row_as_headings=True, width=sum(widths),
                   text_align="LEFT") as table:
        table.row(["Instrument", "As of", *[short_place_name(p) for p in places]])
        for instrument, part in commitments.groupby("instrument", sort=False):
            labels = part.set_index("geo")["label"]
            table.row([part["label_short"].iloc[0], part["as_of"].iloc[0], *[labels.get(p, "—") for p in places]])
    pdf.set_text_color(90)
    pdf.multi_cell(0, 3.6, "Sources: United Nations Treaty Collection (status as of 2022-08); ILO Convention No. 189 "
                           "ratifications (as of 2020-10-05). 'yes, YEAR': state party since that year; 'signed only': "
                           "signed, not ratified.", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0)


def _method_section(pdf: FPDF, threshold: float) -> None:
    pdf.add_page()
    pdf.set_font(FONT_NAME, "B", 12)
    pdf.multi_cell(0, 6, "Method", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT_NAME, size=8.5)
    paragraphs = [
        "Gap. Migrants are compared with their reference group in one dimension only: non-nationals with nationals, "
        "the foreign-born with the native-born; same indicator, place, year, sex and age band. The disadvantage is the "
        "difference signed so that a positive value means migrants are worse off (percentage points, pp, for rates).",
        f"Progression. The change of the disadvantage between the first and the last year of the ten years up to the year "
        f"shown. Changes under {threshold} pp a year are stable (about the sampling error of year-on-year changes in "
        f"Labour Force Survey rates for a mid-sized country); a widening disadvantage is a regression (▲). For amounts "
        f"in EUR the same rule applies to the disadvantage as a percentage of the reference group's value. Years to "
        f"parity: the last disadvantage divided by the yearly pace, where the gap is closing; when the gap changed "
        f"sign, the year it crossed zero is interpolated.",
        "Capacity. After the SERF Index (Randolph, Fukuda-Parr and Lawson-Remer, 2010) and the Human Rights "
        "Measurement Initiative: for each outcome indicator, the achievement possibilities frontier is the least "
        "increasing, concave function of the logarithm of GDP per capita (PPP, constant 2021 international $, World "
        "Bank) lying on or above what every country achieved for its whole population or reference group, in every "
        "year in the store (the upper convex hull, computed with qhull through scipy). Lower-is-better indicators are "
        "inverted first (100 - rate). A group's score is its achievement as a percentage of the frontier at its "
        "country's GDP per capita; the capacity gap is the reference group's score minus the migrants' score. "
        "Limits: the frontier rests on the few countries at its vertices, all European for Eurostat data; one unusual "
        "value can raise it; GDP per capita says nothing about how income is shared.",
        "Sources: Eurostat (CC BY 4.0, (c) European Union); World Bank, World Development Indicators (CC BY 4.0); "
        "United Nations Treaty Collection; International Labour Organization. Generated by RightsGap.",
    ]
    for paragraph in paragraphs:
        pdf.multi_cell(0, 4.4, paragraph, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(2)
