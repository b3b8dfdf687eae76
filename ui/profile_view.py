"""The Country profile's tables: one table per right (its attributes as a column), and the country's
treaty commitments, each built once per place and data version and cached."""
from __future__ import annotations

import math

import pandas as pd
import pyarrow as pa
import streamlit as st

from core import charts, profile as country_profile, queries, treaties, vocabulary
from ui import data, layout, state, treaty_view

#: Columns of a right's table, in order.
TABLE_COLUMNS = ["Attribute", "Type", "Indicator", "Comparison", "Year", "Reference", "Migrants", "Disadvantage",
                 "Trend", "Status"]

#: Column configuration of every right's table (built once, at import).
COLUMN_CONFIG = {
    "Attribute": st.column_config.TextColumn("Attribute", width=100, pinned=True, help="The attribute of the right (OHCHR framework)"),
    "Type": st.column_config.TextColumn("Type", width=65, help="Structural, process or outcome indicator"),
    "Indicator": st.column_config.TextColumn("Indicator", width=190),
    "Comparison": st.column_config.TextColumn("Comparison", width=160),
    "Year": st.column_config.TextColumn("Year", width=40),
    "Reference": st.column_config.TextColumn("Reference", width=65, help="The reference group (nationals or native-born)"),
    "Migrants": st.column_config.TextColumn("Migrants", width=62, help="The migrant group named in Comparison"),
    "Disadvantage": st.column_config.TextColumn("Disadvantage", width=85, help="Positive: migrants are worse off"),
    "Trend": st.column_config.LineChartColumn("Trend", width=55,
                                              help="The disadvantage over the years (positive: migrants worse off)"),
    "Status": st.column_config.TextColumn("Status", width=80),
}

COMMITMENT_COLUMN_CONFIG = {
    "Instrument": st.column_config.TextColumn("Instrument", width="medium"),
    "Bears on": st.column_config.TextColumn("Bears on (right — attribute, from the catalogue)"),
}


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def describe_status(has_data: bool, group, value, unit: str, year, note: str, flags) -> str:
    """What a row's Status cell says: 'no data'; for a structural or context value (no migrant /
    reference comparison) the value and its year, e.g. 'yes (2020)'; otherwise the note (why there is
    no gap); then 'flags bu' when the value carries Eurostat flags. Parts are joined by ' · '."""
    if not has_data:
        return "no data"
    parts = []
    if not isinstance(group, str):  # structural (yes/no) or context value: no migrant/reference comparison
        parts.append(charts.format_value(value, unit) + (f" ({int(year)})" if not _is_missing(year) and year else ""))
    elif note:
        parts.append(note)
    if isinstance(flags, str) and flags:
        parts.append(f"flags {flags}")
    return " · ".join(parts)


def build_profile_tables(profile: pd.DataFrame) -> dict[str, pa.Table]:
    """The tables of the page, one per right that has indicators: {right code: Arrow table}.

    profile: core.profile.build_country_profile's rows. Each table has TABLE_COLUMNS (TABLE_SCHEMA), every value text
    except Trend (a list of disadvantages, oldest first): Attribute (its name), Type ('Outcome' ...),
    Indicator (title), Comparison ('Non-nationals (all foreign citizens) vs nationals', after 'Females: '
    or 'Males: ' when the source has no total; '—' for structural and context indicators), Year ('—'
    when there is no gap), Reference and Migrants (formatted values with their unit, e.g. '80.0%'),
    Disadvantage ('+14.0 pp'), Trend and Status (describe_status). Rows follow the attributes in the
    order of core.vocabulary.ATTRIBUTES (attributes it does not know come last, named by their code),
    then the profile's order (the catalogue's).
    """
    if profile.empty:
        return {}
    columns = {name: profile[name].tolist() for name in
               ("right", "attribute", "type", "title", "group", "sex", "year", "reference_value", "value", "unit",
                "disadvantage", "trend", "has_data", "note", "flags")}
    tables: dict[str, list[tuple]] = {}
    for position in range(len(profile)):
        right, attribute, group, sex, unit = (columns[name][position] for name in ("right", "attribute", "group", "sex", "unit"))
        year = columns["year"][position]
        attributes = vocabulary.ATTRIBUTES.get(right, {})
        order = list(attributes).index(attribute) if attribute in attributes else len(attributes)
        comparison = (("" if sex == "T" else f"{vocabulary.SEXES.get(sex, sex)}: ") + state.describe_group_pair(group)
                      if isinstance(group, str) else "—")  # the sex first: still seen when the cell is cut
        row = (attributes.get(attribute, attribute), str(columns["type"][position]).capitalize(), columns["title"][position],
               comparison, "—" if _is_missing(year) else str(int(year)),
               charts.format_value(columns["reference_value"][position], unit),
               charts.format_value(columns["value"][position], unit) if isinstance(group, str) else "—",
               charts.format_difference(columns["disadvantage"][position], unit), columns["trend"][position],
               describe_status(columns["has_data"][position], group, columns["value"][position], unit, year,
                               columns["note"][position], columns["flags"][position]))
        tables.setdefault(right, []).append((order, position, row))
    return {right: _arrow_table([row for _, _, row in sorted(rows, key=lambda item: item[:2])]) for right, rows in tables.items()}


#: Arrow types of a right's table: text everywhere, the Trend a list of numbers.
TABLE_SCHEMA = pa.schema([(name, pa.list_(pa.float64()) if name == "Trend" else pa.string()) for name in TABLE_COLUMNS])


def _arrow_table(rows: list[tuple]) -> pa.Table:
    """Rows (tuples in TABLE_COLUMNS order) as an Arrow table: st.dataframe sends it as it is, without
    the pandas-to-Arrow conversion a DataFrame needs on every run."""
    return pa.table([list(column) for column in zip(*rows)], schema=TABLE_SCHEMA) if rows else TABLE_SCHEMA.empty_table()


@st.cache_resource(show_spinner=False, max_entries=64)
def load_profile(geo: str, version: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(profile, series, uploaded) for one place from every observation of the place (one query),
    cached per place and data version: profile and series of
    core.profile.build_country_profile_with_series, uploaded of core.profile.summarise_uploaded_datasets
    (the uploaded datasets holding values for the place). Shared by every session without a copy:
    read them, never change them in place."""
    observations = queries.fetch_latest_by_country(data.cursor(), geo, provenance=False)  # the profile shows no source
    profile, series = country_profile.build_country_profile_with_series(observations, data.load_catalogue())
    datasets = data.load_datasets(version)
    uploaded = set(datasets.loc[datasets["kind"] == "uploaded", "name"])
    return profile, series, country_profile.summarise_uploaded_datasets(observations, uploaded)


def summarise_profile(profile: pd.DataFrame) -> dict:
    """The counts the page shows above its tables: indicators (distinct codes in the profile),
    with_gap (with a disadvantage), worse_off (latest disadvantage > 0, for either sex), and
    by_right: {right code: (indicators with data, indicators)} (F and M rows count once), and
    charted: the comparisons the time series can show, one per indicator in the profile's order
    (dicts with indicator, group, reference_group, sex, age; the first sex where there is no total)."""
    indicators, with_gap, worse_off = set(), set(), set()
    by_right: dict[str, tuple[set, set]] = {}
    for code, right, has_data, disadvantage in zip(profile["indicator"].tolist(), profile["right"].tolist(),
                                                   profile["has_data"].tolist(), profile["disadvantage"].tolist()):
        indicators.add(code)
        with_data, listed = by_right.setdefault(right, (set(), set()))
        listed.add(code)
        if has_data:
            with_data.add(code)
        if not _is_missing(disadvantage):
            with_gap.add(code)
            if disadvantage > 0:
                worse_off.add(code)
    charted = profile.loc[profile["has_data"] & profile["group"].notna()].drop_duplicates("indicator")
    return {"indicators": len(indicators), "with_gap": len(with_gap), "worse_off": len(worse_off),
            "by_right": {right: (len(with_data), len(listed)) for right, (with_data, listed) in by_right.items()},
            "charted": charted[["indicator", "group", "reference_group", "sex", "age"]].to_dict("records")}


@st.cache_data(show_spinner=False, max_entries=64)
def load_profile_tables(geo: str, version: str) -> tuple[dict, dict[str, pa.Table]]:
    """(summarise_profile, build_profile_tables) for one place (load_profile), cached per place and data version."""
    profile = load_profile(geo, version)[0]
    return summarise_profile(profile), build_profile_tables(profile)


def comparison_series(series: pd.DataFrame, indicator: str, group: str, sex: str, age: str) -> pd.DataFrame:
    """The time series of one comparison the profile shows (core.profile.select_comparison_series)."""
    return country_profile.select_comparison_series(series, indicator, group, sex, age)


def build_commitment_rows(status: pd.DataFrame, catalogue) -> dict[str, list[dict]]:
    """The commitments table's rows of every place in the treaty status with a row for every
    instrument (the UN member states): {geo: [{Instrument, Status, As of, States parties, Bears on,
    right}, ...]} in the treaties' order. The same rows as core.treaties.fetch_commitments gives for
    one place, built in one pass over the status. Places missing here (aggregates, local units,
    non-members) go through fetch_commitments one by one (load_commitments_table)."""
    summary = treaties.summarise_instruments(status).set_index("instrument")
    attributes = {code: name for attributes in vocabulary.ATTRIBUTES.values() for code, name in attributes.items()}
    found = {(row.instrument, row.geo): row for row in status.itertuples(index=False)}
    complete = {geo for geo in status["geo"].unique()
                if all((instrument, geo) in found for instrument in treaties.INSTRUMENTS)}
    rows: dict[str, list[dict]] = {geo: [] for geo in sorted(complete)}
    for instrument in treaties.INSTRUMENTS.values():
        entry = catalogue.get(instrument.indicator) if instrument.indicator in catalogue else None
        right, attribute = (entry.right, entry.attribute) if entry else (None, None)
        common = {"Instrument": treaties.LABELS[instrument.code], "As of": instrument.as_of,
                  "States parties": f"{summary.loc[instrument.code, 'parties']} of {summary.loc[instrument.code, 'states']}",
                  "Bears on": f"{vocabulary.RIGHTS.get(right, '')} — {attributes.get(attribute, '')}", "right": right}
        for geo in rows:
            status_row = found[(instrument.code, geo)]
            label = treaties.describe_commitment(bool(status_row.state_party), status_row.year, bool(status_row.signatory))
            rows[geo].append({**common, "Status": label})
    return rows


@st.cache_resource(show_spinner=False)
def _commitment_rows() -> dict[str, list[dict]]:
    """build_commitment_rows of the embedded treaty status, once per process (read-only)."""
    return build_commitment_rows(treaty_view.load_treaty_status(), data.load_catalogue())


def commitments_table(rows: list[dict], right: str | None) -> pa.Table:
    """One place's commitment rows (build_commitment_rows) as the table shown: the instruments bearing
    on ``right`` first, then the others, each in the treaties' order (COMMITMENT_SCHEMA)."""
    ordered = [row for row in rows if right and row["right"] == right] + [row for row in rows if not (right and row["right"] == right)]
    return pa.Table.from_pylist([{name: row[name] for name in COMMITMENT_SCHEMA.names} for row in ordered], schema=COMMITMENT_SCHEMA)


@st.cache_data(show_spinner=False, max_entries=64)
def load_commitments_table(geo: str, right: str | None) -> pa.Table:
    """One country's ratifications as shown: Instrument, Status ('yes, 1973', 'signed only', 'no'), As of,
    States parties ('57 of 193'), Bears on ('Right to decent work — Access to decent and productive work');
    the instruments bearing on ``right`` first (commitments_table). An Arrow table (sent as it is);
    cached per place and right (the treaty data are embedded)."""
    rows = _commitment_rows().get(geo)
    if rows is None:  # not a UN member state with every instrument listed: an aggregate, a local unit ...
        commitments = treaty_view.load_commitments((geo,))
        status = treaty_view.load_treaty_status()
        summary = treaties.summarise_instruments(status).set_index("instrument")
        attributes = {code: name for attributes in vocabulary.ATTRIBUTES.values() for code, name in attributes.items()}
        rows = [{"Instrument": row.label_short, "Status": row.label, "As of": row.as_of,
                 "States parties": f"{summary.loc[row.instrument, 'parties']} of {summary.loc[row.instrument, 'states']}",
                 "Bears on": f"{vocabulary.RIGHTS.get(row.right, '')} — {attributes.get(row.attribute, '')}", "right": row.right}
                for row in commitments.itertuples(index=False)]
    return commitments_table(rows, right)


@st.cache_resource(show_spinner=False, max_entries=8)
def load_place_names(version: str) -> dict[str, str]:
    """{geo: place name} of the places with data (ui.data.load_places), per data version (read-only)."""
    places = data.load_places(version)
    return dict(zip(places["geo"].tolist(), places["geo_name"].tolist()))


@st.cache_data(show_spinner=False, max_entries=256)
def load_source_line(datasets: tuple[str, ...], version: str) -> str:
    """ui.layout.source_line for these datasets (sorted names), cached per data version."""
    return layout.source_line(data.load_datasets(version), list(datasets))


#: Arrow types of the commitments table (all text).
COMMITMENT_SCHEMA = pa.schema([(name, pa.string()) for name in ("Instrument", "Status", "As of", "States parties", "Bears on")])


def render_profile_table(table: pa.Table, key: str) -> None:
    """One right's table, every row visible (no inner scrolling)."""
    st.dataframe(table, hide_index=True, width="stretch", height="content", key=key, column_config=COLUMN_CONFIG)


def render_commitments(geo: str, right: str | None, key: str = "profile_commitments") -> None:
    """The country's treaty commitments (load_commitments_table) and their source line."""
    st.dataframe(load_commitments_table(geo, right), hide_index=True, width="stretch", key=key,
                 column_config=COMMITMENT_COLUMN_CONFIG)
    st.caption(treaty_view.SOURCE_NOTE + " The whole world, instrument by instrument, is mapped on the Compare page.")


def render_uploaded_datasets_note(geo: str, country_name: str, version: str) -> None:
    """Under the title: the uploaded datasets that hold figures for this place, each with a link to
    Explore on that source (the profile shows one figure per indicator, the latest of any source)."""
    uploads = load_profile(geo, version)[2]
    if uploads.empty:
        return
    catalogue = data.load_catalogue()
    st.info(f"Uploaded datasets also hold figures for {layout.escape_markdown(country_name)}. The tables show, for each "
            "indicator, the latest year of any source; Explore shows one source at a time.", icon=":material/dataset:")
    for row in uploads.head(8).itertuples(index=False):
        title = catalogue.get(row.indicator).title if row.indicator in catalogue else row.indicator
        years = f"{row.first_year}" if row.first_year == row.last_year else f"{row.first_year}-{row.last_year}"
        where = {"dataset": row.dataset, "indicator": row.indicator, "country": geo}
        if row.indicator in catalogue:
            where["right"] = catalogue.get(row.indicator).right
        st.page_link("pages/explore.py", label=f"{row.dataset}: {title}, {years}", icon=":material/map:",
                     query_params=where)
