"""Explore at the local level: uploaded sub-national data on the boundaries uploaded with them."""
from __future__ import annotations

import streamlit as st

from core import charts, local, store, vocabulary
from ui import data, layout, upload
from ui.state import describe_age


@st.cache_data(show_spinner=False)
def load_boundaries(name: str, version: str) -> dict:
    """One stored boundaries set (GeoJSON FeatureCollection keyed by unit code)."""
    return store.fetch_boundaries(data.cursor(), name)


def local_indicators(version: str) -> list[str]:
    """Indicators with local-level observations (uploaded data keyed by local unit codes)."""
    summary = data.load_data_summary(version)
    if summary.empty:
        return []
    has_local = summary["geo_levels"].map(lambda levels: levels is not None and "local" in list(levels))
    return sorted(set(summary.loc[has_local & (summary["values"] > 0), "indicator"]))


def render_local_level(selection, version: str) -> bool:
    """The local map and ranking for the selection, when uploaded local data and boundaries with the
    same codes exist. Returns False (nothing drawn) when there is nothing local to show."""
    indicators = local_indicators(version)
    if not indicators:
        return False
    catalogue = data.load_catalogue()
    if selection.indicator not in indicators or not selection.group:
        names = ", ".join(catalogue.get(code).title if code in catalogue else code for code in indicators)
        layout.empty_state(f"This indicator has no local data. Uploaded local data exist for: {layout.escape_markdown(names)}.",
                           "Choose one of them in the sidebar (its right first).")
        return True
    indicator = catalogue.get(selection.indicator)
    group_label = vocabulary.POPULATION_GROUPS[selection.group]
    reference_label = vocabulary.POPULATION_GROUPS[selection.reference_group]
    # The sidebar's source dataset defaults to the embedded one, which has no local units: the local
    # level reads the uploads unless one of them is chosen.
    kinds = data.load_datasets(version).set_index("name")["kind"]
    dataset = selection.dataset if selection.dataset and kinds.get(selection.dataset) == "uploaded" else None
    everything = data.load_gaps(indicator.code, selection.group, "latest", None, None, version, dataset=dataset)
    local_gaps = everything.loc[everything["geo_level"] == "local"] if not everything.empty else everything
    st.subheader(layout.escape_markdown(indicator.title))
    if local_gaps.empty:
        layout.empty_state(f"No local unit has values for both {group_label.lower()} and {reference_label.lower()}.",
                           "Check the group labels of the uploaded file on the Upload page.")
        return True
    # The sidebar's year, sex and age band come from all the data of the indicator; local files often
    # have fewer breakdowns: keep the choice where the local data have it, else their own.
    sex = selection.sex if selection.sex in set(local_gaps["sex"]) else local_gaps["sex"].mode().iloc[0]
    age = selection.age if selection.age in set(local_gaps["age"]) else local_gaps["age"].mode().iloc[0]
    gaps = data.load_gaps(indicator.code, selection.group, selection.year, sex, age, version, dataset=dataset)
    gaps = gaps.loc[gaps["geo_level"] == "local"] if not gaps.empty else gaps
    st.markdown(f"**{group_label}** compared with **{reference_label.lower()}** · {selection.year} · "
                f"{vocabulary.SEXES.get(sex, sex)} · {layout.escape_markdown(describe_age(age))} · local units")
    if (sex, age) != (selection.sex, selection.age):
        st.caption("The uploaded local data have no figures for the sex or age band chosen in the sidebar; theirs are shown.")
    if gaps.empty:
        years = sorted(set(local_gaps["year"]))
        layout.empty_state(f"No local unit has values for both groups in {selection.year}.",
                           f"The local data have gaps for {', '.join(map(str, years))}: choose one of these years.")
        return True
    codes = upload.boundary_codes(version)
    name = local.choose_boundaries(set(gaps["geo"]), codes)
    geojson = load_boundaries(name, version) if name else None
    gaps = local.name_local_units(gaps, geojson)
    if geojson:
        missing = sorted(set(gaps["geo"]) - codes[name])
        st.plotly_chart(local.build_local_gap_map(gaps, geojson, indicator.unit, group_label, reference_label),
                        key="local_gap_map", config={"displaylogo": False})
        st.caption(f"Boundaries: '{layout.escape_markdown(name)}' (uploaded); grey: units of the same boundaries without data."
                   + (f" No polygon for {layout.escape_markdown(', '.join(missing))}." if missing else ""))
    else:
        layout.empty_state("No uploaded boundaries carry these units' codes, so there is no map.",
                           "Upload a GeoJSON keyed by the same codes on the Upload page; the ranking is below.")
    st.markdown(f"#### Ranking of {len(gaps)} local units by disadvantage")
    st.plotly_chart(charts.build_dumbbell(gaps, indicator.unit, group_label, reference_label), key="local_ranking",
                    config={"displaylogo": False})
    datasets = data.load_datasets(version)
    sources = dict(zip(datasets["name"], datasets["source"]))
    table = layout.gap_table_frame(gaps, indicator, sources)
    layout.render_gap_table(table, key="local_gap_table")
    st.caption(layout.source_line(datasets, sorted(gaps["dataset"].unique())))
    return True


def local_empty_message() -> None:
    """The plain message when there are no local data at all."""
    layout.empty_state(
        "Local (sub-national) data come from files you upload: a data file keyed by your units' codes "
        "and a GeoJSON of their boundaries.",
        "The embedded data are national and regional (Eurostat, UN DESA). Upload your city's or region's figures "
        "to see them here; until then choose the global, regional or national level.")

