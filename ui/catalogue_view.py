"""The catalogue's building blocks shared by the Catalogue and My indicator set pages: cached loaders over
core.availability / core.exports / core.good_practices, the framework table, the metadata sheet and
the good-practice cards."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core import availability as availability_core
from core import charts, exports, queries, vocabulary
from core.catalogue import Indicator
from core.good_practices import KINDS, GoodPractice, load_default_good_practices, select_good_practices
from ui import data, indicator_set, layout, state

#: Material icons (bundled with Streamlit, no network) marking an indicator's data for the chosen country.
STATUS_ICONS: dict[str, str] = {
    "both_groups": ":material/check_circle:",
    "one_group": ":material/contrast:",
    "total_only": ":material/radio_button_checked:",
    "none": ":material/radio_button_unchecked:",
}


# --- Cached loaders ------------------------------------------------------------------------------------

@st.cache_data(show_spinner=False)
def load_availability(version: str) -> pd.DataFrame:
    """core.availability.fetch_availability for every catalogue indicator and every place with data."""
    return availability_core.fetch_availability(data.cursor(), [i.code for i in data.load_catalogue()])


@st.cache_data(show_spinner=False, max_entries=64)
def load_availability_view(codes: tuple[str, ...], include_regional: bool, include_all: bool, version: str) -> dict:
    """What the Data availability view shows for a list of indicators, cached per choice.

    Returns {'summary': core.availability.summarise_availability over every place (one row per code),
    'matrix': status matrix (rows: codes; columns: places sorted by name) of the national places — and
    regional aggregates when include_regional — where at least one code has values by population group
    (or, with include_all, any value), 'figure': its heatmap (plotly Figure, None when no place)}.
    """
    catalogue = data.load_catalogue()
    places = data.load_places(version).set_index("geo")["geo_name"]
    availability = load_availability(version)
    shown = availability.loc[availability["indicator"].isin(codes)]
    summary = availability_core.summarise_availability(shown)
    levels = {"national", "regional"} if include_regional else {"national"}
    wanted = shown.loc[shown["geo_level"].isin(levels)]
    kept = {"both_groups", "one_group", "total_only"} if include_all else {"both_groups", "one_group"}
    geos = sorted(wanted.loc[wanted["status"].isin(kept), "geo"].unique(), key=lambda g: places.get(g, g))
    if not geos:
        return {"summary": summary, "matrix": pd.DataFrame(), "figure": None}
    matrix = availability_core.build_availability_matrix(wanted.loc[wanted["geo"].isin(geos)])[geos]
    figure = availability_core.build_availability_heatmap(matrix, short_titles(catalogue, matrix.index), places.to_dict())
    return {"summary": summary, "matrix": matrix, "figure": figure}


def short_titles(catalogue, codes) -> dict[str, str]:
    """{code: title cut to 60 characters} for axis labels."""
    return {code: (title if len(title) <= 60 else title[:58] + "…")
            for code, title in ((c, catalogue.get(c).title) for c in codes)}


@st.cache_resource
def load_good_practices() -> tuple[GoodPractice, ...]:
    """The good practices of data/good_practices.yaml (checked against the catalogue)."""
    return load_default_good_practices()


@st.cache_data(show_spinner=False, max_entries=64)
def load_latest_gaps(code: str, country: str, version: str) -> pd.DataFrame:
    """Every comparison of one indicator for one place in the latest year both groups have
    (core.queries.fetch_gaps with year='latest'; columns of core.gaps.compute_gaps plus geo_name)."""
    return queries.fetch_gaps(data.cursor(), code, geos=[country], year="latest", catalogue=data.load_catalogue())


@st.cache_data(show_spinner="Preparing the exports…", max_entries=32)
def load_exports(codes: tuple[str, ...], country: str | None, version: str) -> dict:
    """The set report and its four exports for a set and a country.

    Returns {'table': set table (core.exports.SET_TABLE_COLUMNS), 'practices': [GoodPractice ids],
    'csv', 'xlsx', 'json': bytes, 'pdf': bytes or None, 'pdf_error': message or None}.
    """
    report = exports.build_set_report(data.cursor(), list(codes), country, data.load_catalogue(), load_good_practices())
    try:
        pdf, pdf_error = exports.export_pdf(report), None
    except exports.ExportError as error:
        pdf, pdf_error = None, str(error)
    return {"table": report.table, "practices": [p.id for p in report.practices], "csv": exports.export_csv(report),
            "xlsx": exports.export_excel(report), "json": exports.export_json(report), "pdf": pdf, "pdf_error": pdf_error}


def statuses_for(country: str | None, version: str) -> dict[str, str]:
    """{indicator code: availability status} for one place ('none' for every code when no place is given)."""
    availability = load_availability(version)
    if not country:
        return {}
    rows = availability.loc[availability["geo"] == country]
    return dict(zip(rows["indicator"], rows["status"]))


# --- Opening a metadata sheet --------------------------------------------------------------------------

def _sheet_key(scope: str) -> str:
    return f"_open_sheet_{scope}"


def open_sheet(code: str, scope: str) -> None:
    """Open the metadata sheet of an indicator on one page (``scope``: 'catalogue' or 'set')."""
    st.session_state[_sheet_key(scope)] = code


def close_sheet(scope: str) -> None:
    """Close the metadata sheet open on one page."""
    st.session_state.pop(_sheet_key(scope), None)


def opened_sheet(scope: str) -> str | None:
    """The code of the metadata sheet open on one page, if any."""
    code = st.session_state.get(_sheet_key(scope))
    return code if code in data.load_catalogue() else None


def render_sheet_dialog(scope: str, country: str | None, country_name: str | None) -> None:
    """When a sheet is open on this page, show it in a drawer on the right (closing it closes the sheet)."""
    _switch_to_explore_if_asked()  # the button lives in the drawer; a full rerun may not draw it again
    code = opened_sheet(scope)
    if not code:
        return

    @st.dialog(data.load_catalogue().get(code).title, width="large", position="right",
               on_dismiss=lambda: close_sheet(scope))
    def show_sheet():
        render_metadata_sheet(code, country, country_name, key_prefix=f"{scope}_sheet")

    show_sheet()


_GOTO_EXPLORE_KEY = "_goto_explore"


def _explore(code: str) -> None:
    """Point the shared selection at an indicator and ask for a switch to Explore (button callback)."""
    indicator = data.load_catalogue().get(code)
    st.session_state["right"] = indicator.right
    st.session_state["indicator"] = code
    for key in ("group", "year", "sex", "age"):  # chosen again for the new indicator
        st.session_state.pop(key, None)
    st.session_state[_GOTO_EXPLORE_KEY] = code


def _switch_to_explore_if_asked() -> None:
    """Switch to Explore when the 'Open in Explore' button was clicked (close every open sheet first)."""
    code = st.session_state.pop(_GOTO_EXPLORE_KEY, None)
    if not code:
        return
    for scope in ("catalogue", "set"):
        close_sheet(scope)
    indicator = data.load_catalogue().get(code)
    country = state.current_selection().country
    codes = indicator_set.current_set()
    st.switch_page("pages/explore.py", query_params={
        "right": indicator.right, "indicator": code, **({"country": country} if country else {}),
        **({indicator_set.SET_PARAM: indicator_set.format_set_param(codes)} if codes else {})})


def render_explore_button(indicator: Indicator, key: str) -> None:
    """'Open in Explore': switches to Explore with the shared selection set to this indicator.

    The shared sidebar selection is set in the button's callback (the sidebar keeps a session's own
    choice over the URL's), then the page switches with the codes in the URL. Explore lists only
    indicators that compare groups and have data; for others a caption says so.
    """
    with_data = state.indicators_with_data(data.data_version())
    if indicator.code not in with_data.get(indicator.right, []):
        st.caption("Not in Explore: no comparable data embedded for this indicator yet.")
        return
    st.button("Open in Explore", key=key, icon=":material/map:", on_click=_explore, args=(indicator.code,),
              help="Explore this indicator on the map and ranking, with the country chosen in the sidebar.")
    _switch_to_explore_if_asked()


# --- Rendering -------------------------------------------------------------------------------------------

def describe_groups(indicator: Indicator) -> str:
    """'Non-nationals, Citizens of a non-EU country vs nationals; Foreign-born vs native-born' or 'no comparison'."""
    parts = []
    for dimension, members in indicator.groups.items():
        names = ", ".join(vocabulary.POPULATION_GROUPS[g] for g in members)
        reference = vocabulary.REFERENCE_GROUPS.get(dimension)
        parts.append(f"{names} vs {vocabulary.POPULATION_GROUPS[reference].lower()}" if reference else names)
    return "; ".join(parts) or "no comparison of groups (applies to everyone)"


def render_framework_table(right: str, indicators: list[Indicator], statuses: dict[str, str], key_prefix: str,
                           practices: tuple[GoodPractice, ...] = (), scope: str = "catalogue") -> None:
    """The framework of one right as the UN human rights office lays it out: attributes as columns,
    structural / process / outcome as rows, each cell listing its indicators as buttons that open
    the metadata sheet. ``indicators``: those left by the filters; ``statuses``: {code: status} for
    the chosen country (icons, see STATUS_ICONS)."""
    attributes = vocabulary.ATTRIBUTES[right]
    header = st.columns(len(attributes), gap="small")
    for column, name in zip(header, attributes.values()):
        column.markdown(f"**{name}**")
    for type_code, type_label in vocabulary.INDICATOR_TYPES.items():
        name, _, explanation = type_label.partition(" (")
        st.markdown(f"**{name} indicators** <small>— {explanation.rstrip(')')}</small>", unsafe_allow_html=True)
        cells = st.columns(len(attributes), gap="small", border=True)
        for column, attribute in zip(cells, attributes):
            chosen = [i for i in indicators if i.attribute == attribute and i.type == type_code]
            if not chosen:
                column.caption("—")
            for indicator in chosen:
                status = statuses.get(indicator.code, "none")
                bearing = [p.title for p in practices if indicator.code in p.indicators]
                column.button(
                    indicator.title + (" ★" if bearing else ""), key=f"{key_prefix}_{indicator.code}", type="tertiary",
                    icon=STATUS_ICONS[status], wrap=True, on_click=open_sheet, args=(indicator.code, scope),
                    help=(f"{availability_core.STATUSES[status]} for the chosen country. "
                          f"Sources: {', '.join(vocabulary.SOURCE_TYPES[s].lower() for s in indicator.source_types)}. "
                          f"Levels: {', '.join(indicator.levels)}."
                          + (f" Good practice: {'; '.join(bearing)}." if bearing else "") + " Click to open its metadata sheet."))


def render_status_legend(country_name: str | None) -> None:
    """One caption explaining the icons of the framework table."""
    where = f"for {country_name}" if country_name else "for the chosen country"
    st.caption(f"Data {where}: "
               + " · ".join(f"{STATUS_ICONS[code]} {label.lower()}" for code, label in availability_core.STATUSES.items())
               + " · ★ a good practice bears on it")


def render_practice(practice: GoodPractice, catalogue, key_prefix: str, scope: str) -> None:
    """One good practice as a bordered card: title, place, right(s) and level(s), summary, and buttons
    opening the indicators it bears on."""
    with st.container(border=True):
        st.markdown(f"**{practice.title}**")
        st.caption(f"{practice.place} · {KINDS[practice.kind]} · "
                   f"{', '.join(vocabulary.RIGHTS[r] for r in practice.rights)} · "
                   f"level: {', '.join(vocabulary.GOVERNANCE_LEVELS[level].lower() for level in practice.levels)}")
        st.markdown(" ".join(practice.summary.split()))
        st.caption("Indicators it bears on:")
        for code in practice.indicators:
            st.button(catalogue.get(code).title, key=f"{key_prefix}_{practice.id}_{code}", type="tertiary", wrap=True,
                      icon=":material/description:", on_click=open_sheet, args=(code, scope))
        st.caption(f"Named at: {practice.source}")


def render_metadata_sheet(code: str, country: str | None, country_name: str | None, key_prefix: str) -> None:
    """The metadata sheet of one indicator with every field, and its data: which places and years have
    values for both groups, the latest values and gap for the chosen country, a button to Explore,
    the add/remove button of the set, and the good practices bearing on it."""
    catalogue = data.load_catalogue()
    version = data.data_version()
    indicator = catalogue.get(code)
    st.caption(f"`{indicator.code}` · {vocabulary.RIGHTS[indicator.right]} · "
               f"{vocabulary.ATTRIBUTES[indicator.right][indicator.attribute]} · {indicator.type.capitalize()} indicator")
    buttons = st.columns([1, 1, 2])
    with buttons[0]:
        indicator_set.render_toggle_button(code, key=f"{key_prefix}_set_{code}")
    with buttons[1]:
        render_explore_button(indicator, key=f"{key_prefix}_explore_{code}")
    sheet_column, data_column = st.columns([3, 2], gap="large")
    with sheet_column:
        st.markdown("#### Metadata sheet")
        facts = pd.DataFrame([
            ("Unit", indicator.unit_symbol),
            ("Polarity", vocabulary.POLARITIES[indicator.polarity]),
            ("Source types", ", ".join(vocabulary.SOURCE_TYPES[s] for s in indicator.source_types)),
            ("Governance levels", ", ".join(vocabulary.GOVERNANCE_LEVELS[level] for level in indicator.levels)),
            ("Population groups compared", describe_groups(indicator)),
            ("Official or civil-society data", ", ".join(vocabulary.PRODUCERS[p] for p in indicator.producers)),
            ("Datasets embedded", ", ".join(indicator.datasets) or "none"),
        ], columns=["Field", "Value"])
        st.dataframe(facts, hide_index=True, width="stretch", key=f"{key_prefix}_facts_{code}")
        for name in exports.METADATA_SHEET_FIELDS:
            if name == "title":
                continue
            st.markdown(f"**{exports.SHEET_FIELD_LABELS[name]}**")
            st.markdown(" ".join(getattr(indicator, name).split()))
        if indicator.data_gap_note.strip():
            st.markdown("**Known data gap**")
            st.warning(" ".join(indicator.data_gap_note.split()), icon=":material/report:")
    with data_column:
        st.markdown("#### Data")
        availability = load_availability(version)
        rows = availability.loc[availability["indicator"] == code]
        status = rows.loc[rows["geo"] == country, "status"].iloc[0] if country and (rows["geo"] == country).any() else "none"
        if country_name:
            st.markdown(f"{STATUS_ICONS[status]} **{country_name}**: {availability_core.STATUSES[status].lower()}")
            render_latest_values(indicator, country, country_name, version, key_prefix)
        both = rows.loc[rows["status"] == "both_groups"]
        st.markdown(f"**Places with values for both groups: {len(both)}**")
        if both.empty:
            st.caption("No place has values for migrants and their reference group in the same year.")
        else:
            table = pd.DataFrame({
                "Place": queries.add_place_names(both[["geo"]])["geo_name"].tolist(),
                "Code": both["geo"].tolist(),
                "Years with both groups": [availability_core.format_year_ranges(y) for y in both["years_both_groups"]],
                "Latest": both["last_year"].astype("Int64").tolist(),
            }).sort_values("Place")
            st.dataframe(table, hide_index=True, width="stretch", height=min(38 + 35 * len(table), 320),
                         key=f"{key_prefix}_both_{code}")
        partial = rows.loc[rows["status"].isin(["one_group", "total_only"])]
        if not partial.empty:
            st.caption(f"{len(partial)} more place(s) have values for one group only or for the whole population only.")
        practices = select_good_practices(load_good_practices(), indicators=[code])
        if practices:
            st.markdown("#### Good practices")
            for practice in practices:
                with st.container(border=True):
                    st.markdown(f"**{practice.title}** — {practice.place}")
                    st.caption(" ".join(practice.summary.split()))


def render_latest_values(indicator: Indicator, country: str, country_name: str, version: str, key_prefix: str) -> None:
    """The latest values and gap of one indicator for the chosen country: the main comparison as metrics
    (the Country profile's choice), every other comparison of that latest year in a table."""
    latest = exports.compute_latest_values(data.load_country_observations(country, version), [indicator])
    for row in latest.itertuples(index=False):
        if row.disadvantage is not None and not pd.isna(row.disadvantage):
            st.caption(f"{row.year} · {vocabulary.SEXES.get(row.sex, row.sex)} · {layout.escape_markdown(state.describe_age(row.age))} · "
                       f"{state.describe_group_pair(row.group)}")
            layout.metric_pair(indicator, pd.Series(row._asdict()), vocabulary.POPULATION_GROUPS[row.reference_group],
                               vocabulary.POPULATION_GROUPS[row.group])
        elif row.value is not None and not pd.isna(row.value):
            st.metric(f"{country_name}, {row.year}", exports.format_value(row.value, indicator.unit), help=row.note)
        else:
            st.caption(f"{country_name}: {row.note}.")
    if not indicator.groups:
        return
    gaps = load_latest_gaps(indicator.code, country, version)
    if len(gaps) > 1:
        with st.expander(f"All {len(gaps)} comparisons for {country_name} (latest year of each)"):
            st.dataframe(pd.DataFrame({
                "Comparison": [state.describe_group_pair(g) for g in gaps["group"]],
                "Sex": gaps["sex"].map(vocabulary.SEXES), "Age": gaps["age"].map(state.describe_age), "Year": gaps["year"],
                "Reference": [charts.format_value(v, indicator.unit) for v in gaps["reference_value"]],
                "Migrants": [charts.format_value(v, indicator.unit) for v in gaps["value"]],
                "Disadvantage": [charts.format_difference(v, indicator.unit) for v in gaps["disadvantage"]],
                "Flags": gaps["flags"],
            }), hide_index=True, width="stretch", key=f"{key_prefix}_gaps_{indicator.code}")
