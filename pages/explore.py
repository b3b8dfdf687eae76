"""Explore: how far migrants' enjoyment of a right falls behind, country by country."""
import streamlit as st

from core import charts, vocabulary
from ui import data, indicator_set, layout, local_view, state

selection = state.current_selection()
catalogue = data.load_catalogue()
version = data.data_version()

st.title("Explore")
st.caption("How far migrants fall behind their reference group, for one indicator, year, sex and age band. "
           "Positive disadvantage = migrants worse off.")

if selection.level == "local":
    if not local_view.render_local_level(selection, version):  # uploaded local data on uploaded boundaries
        local_view.local_empty_message()
    st.stop()
if not selection.indicator or not selection.group:
    layout.empty_state("No indicator with comparable data for this right yet.",
                       "The Catalogue lists every indicator of this right and which data are missing.")
    st.stop()

indicator = catalogue.get(selection.indicator)
group_label = vocabulary.POPULATION_GROUPS[selection.group]
reference_label = vocabulary.POPULATION_GROUPS[selection.reference_group]
gaps = data.load_gaps(indicator.code, selection.group, selection.year, selection.sex, selection.age, version,
                     dataset=selection.dataset)
datasets = data.load_datasets(version)

st.subheader(f"{indicator.title}")
st.markdown(f"**{group_label}** compared with **{state.lower_first(reference_label)}** · {selection.year} · "
            f"{vocabulary.SEXES.get(selection.sex, selection.sex)} · {layout.escape_markdown(state.describe_age(selection.age))} · "
            f"{'higher is better' if indicator.polarity == 'higher_is_better' else 'lower is better'}"
            + (f" · source dataset: {layout.escape_markdown(selection.dataset)}" if selection.dataset else ""))

if gaps.empty:
    layout.empty_state(f"No place has values for both groups in {selection.year} for this choice.",
                       "Try another year, sex or age band: the sources do not publish every breakdown every year.")
    st.stop()

countries = gaps.loc[gaps["geo_level"] == "national"]
aggregates = gaps.loc[gaps["geo_level"] == "regional"]
shown = gaps if selection.level == "regional" else countries
highlight = selection.country if selection.level == "national" else None
view = "world" if selection.level == "global" else "europe"

if selection.level == "national" and selection.country:
    chosen = countries.loc[countries["geo"] == selection.country]
    if chosen.empty:
        st.warning(f"No {selection.year} figure for both groups in {data.load_places(version).set_index('geo')['geo_name'].get(selection.country, selection.country)}; "
                   "the others are shown.", icon=":material/warning:")
    else:
        st.markdown(f"#### {chosen['geo_name'].iloc[0]}")
        layout.metric_pair(indicator, chosen.iloc[0], reference_label, group_label)
elif selection.level == "regional":
    if aggregates.empty:
        st.info("The embedded data hold no regional aggregate (such as EU27) for this indicator; its member countries are shown.")
    else:
        layout.aggregate_summary(indicator, aggregates, reference_label, group_label)

context = None
context_label = ""
if selection.level == "global":
    context = data.load_latest_values("context.migrant_share_of_population", version)
    context_label = "Migrants' share of population, 2020 (%)"
    st.caption("Countries without gap data are shaded by the share of international migrants in their population "
               "(UN DESA, International Migrant Stock 2020), for context.")

figure = charts.build_gap_map(shown, data.load_world_boundaries(), data.load_world_points(), indicator.unit,
                              group_label, reference_label, view=view, highlight=highlight, context=context,
                              context_label=context_label, height=560, geojson_url=data.WORLD_GEOJSON_URL)
st.plotly_chart(figure, key="gap_map", config={"displaylogo": False})

st.markdown(f"#### Ranking of {len(countries)} countries by disadvantage"
            + (f" — {len(aggregates)} aggregate(s) shown apart, not ranked" if selection.level == "regional" and len(aggregates) else ""))
st.caption(f"Each line joins {state.lower_first(reference_label)} (grey) and {state.lower_first(group_label)} (red). "
           "Sorted by disadvantage: migrants furthest behind at the top, better off than their reference group at the bottom.")
st.plotly_chart(charts.build_dumbbell(shown, indicator.unit, group_label, reference_label, highlight=highlight),
                key="ranking", config={"displaylogo": False})

unreliable = int(shown["low_reliability"].sum())
if unreliable:
    st.caption(f"{unreliable} value(s) flagged u (low reliability) are faded and marked 'u': small samples, read with care.")

sources = dict(zip(datasets["name"], datasets["source"]))
table = layout.gap_table_frame(shown, indicator, sources)
st.markdown("#### Table")
layout.render_gap_table(table, key="gap_table")
st.download_button("Download this table (CSV)", table.to_csv(index=False).encode("utf-8"),
                   file_name=f"rightsgap_{indicator.code}_{selection.group}_{selection.year}_{selection.sex}_{selection.age}"
                             + (f"_{selection.dataset}" if selection.dataset else "") + ".csv",
                   mime="text/csv", key="download_gaps", icon=":material/download:")
st.caption(layout.source_line(datasets, sorted(shown["dataset"].unique())))
indicator_set.render_toggle_button(indicator.code, key="explore_add_to_set")  # my indicator set: export it from 'My indicator set'
