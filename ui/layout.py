"""Small rendering helpers shared by pages: empty states, gap tables, source lines, downloads."""
from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from core import charts, vocabulary
from core.catalogue import Indicator


_MARKDOWN_SPECIAL = re.compile(r"([\\`*\[\]<>!$~|])")


#: Where Streamlit's markdown would turn bare text into a link by itself (http://..., www.example,
#: name@example.org): a word joiner (U+2060, invisible) is put in front of '://', '.' after 'www' and '@'.
_AUTOLINK = re.compile(r"(?i)(?<=[a-z0-9])(?=://)|(?<=\bwww)(?=\.)|(?=@)")


def escape_markdown(text) -> str:
    """Text from a file or a user made literal for st.markdown / st.caption / st.error: the markdown
    characters that make links and images (a request off the machine), HTML, emphasis, code, tables
    and formulas are backslash-escaped (underscores inside words and dots are left as they are), and
    bare web and mail addresses are kept from becoming links (_AUTOLINK)."""
    return _AUTOLINK.sub("\u2060", _MARKDOWN_SPECIAL.sub(r"\\\1", str(text)))


def empty_state(message: str, suggestion: str | None = None) -> None:
    """A calm 'nothing to show' box with what to do next."""
    st.info(message + (f"\n\n{suggestion}" if suggestion else ""), icon=":material/info:")


def gap_table_frame(gaps: pd.DataFrame, indicator: Indicator, sources: dict[str, str]) -> pd.DataFrame:
    """The table shown (and downloaded) for a set of gaps: one row per place, readable column names.

    Columns: Place, Code, Level, Year, Sex, Age, <reference group> (unit), <migrant group> (unit),
    Difference (pp or unit), Ratio, Relative gap (%), Disadvantage (pp or unit), Flags,
    Flag meaning, Source.
    """
    if gaps.empty:
        return pd.DataFrame()
    unit = indicator.unit_symbol
    difference_unit = indicator.difference_unit
    reference = vocabulary.POPULATION_GROUPS[gaps["reference_group"].iloc[0]]
    group = vocabulary.POPULATION_GROUPS[gaps["group"].iloc[0]]
    table = pd.DataFrame({
        "Place": gaps["geo_name"], "Code": gaps["geo"], "Level": gaps["geo_level"], "Year": gaps["year"],
        "Sex": gaps["sex"], "Age": gaps["age"],
        f"{reference} ({unit})": gaps["reference_value"], f"{group} ({unit})": gaps["value"],
        f"Difference ({difference_unit})": gaps["difference"].round(2), "Ratio": gaps["ratio"].round(3),
        "Relative gap (%)": gaps["relative_gap_pct"].round(1), f"Disadvantage ({difference_unit})": gaps["disadvantage"].round(2),
        "Flags": gaps["flags"], "Flag meaning": gaps["flags"].map(vocabulary.describe_flags),
        "Source": gaps["dataset"].map(lambda d: sources.get(d, d)),
    })
    # Aggregates (EU27 ...) first and apart, then the countries ranked by disadvantage: never interleaved.
    table["_aggregate"] = table["Level"] == "regional"
    table = table.sort_values(["_aggregate", f"Disadvantage ({difference_unit})"], ascending=[False, False])
    return table.drop(columns="_aggregate").reset_index(drop=True)


def render_gap_table(table: pd.DataFrame, key: str) -> None:
    """Show a gap table with its numbers aligned and flags explained."""
    st.dataframe(table, hide_index=True, width="stretch", key=key)


def source_line(datasets: pd.DataFrame, names: list[str]) -> str:
    """'Source: Eurostat, dataset LFSA_ERGAN — CC BY 4.0 (c) European Union' for each dataset named."""
    rows = datasets.loc[datasets["name"].isin(names)]
    parts = [escape_markdown(row.source) + (f" — licence {escape_markdown(row.licence)}" if row.licence else "")
             + (f" (uploaded; {vocabulary.PRODUCERS.get(row.producer_type, 'producer not stated').lower()})"
                if row.kind == "uploaded" else "")
             for row in rows.itertuples(index=False)]
    return " · ".join(parts)


def metric_pair(indicator: Indicator, row: pd.Series, reference_label: str, group_label: str) -> None:
    """Three metrics for one place: reference value, migrant value, disadvantage."""
    first, second, third = st.columns(3)
    first.metric(reference_label, charts.format_value(row["reference_value"], indicator.unit))
    second.metric(group_label, charts.format_value(row["value"], indicator.unit))
    third.metric("Disadvantage", charts.format_difference(row["disadvantage"], indicator.unit),
                 help="Positive: migrants are worse off. "
                      f"{'Higher' if indicator.polarity == 'higher_is_better' else 'Lower'} values are better for this indicator.")
    if row.get("flags"):
        st.caption(f"Flags: {row['flags']} — {vocabulary.describe_flags(row['flags'])}")


def aggregate_summary(indicator: Indicator, aggregates: pd.DataFrame, reference_label: str, group_label: str) -> None:
    """One compact line per regional aggregate (EU27, euro area ...): both values and the disadvantage."""
    header = st.columns([3, 2, 2, 2])
    for column, text in zip(header, ["Regional aggregate", reference_label, group_label, "Disadvantage"]):
        column.caption(text)
    for row in aggregates.sort_values("geo_name").itertuples(index=False):
        cells = st.columns([3, 2, 2, 2])
        cells[0].markdown(f"**{row.geo_name}**" + (" (u)" if row.low_reliability else ""))
        cells[1].markdown(f"### {charts.format_value(row.reference_value, indicator.unit)}")
        cells[2].markdown(f"### {charts.format_value(row.value, indicator.unit)}")
        cells[3].markdown(f"### {charts.format_difference(row.disadvantage, indicator.unit)}")
