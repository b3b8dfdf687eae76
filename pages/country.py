"""Country profile: one place, every right, its structural, process and outcome indicators."""
import streamlit as st

from core import charts, vocabulary
from ui import data, indicator_set, layout, profile_view, state

selection = state.current_selection()
catalogue = data.load_catalogue()
version = data.data_version()
if not selection.country:
    layout.empty_state("No country has data yet.")
    st.stop()
country_name = profile_view.load_place_names(version).get(selection.country, selection.country)

st.title(f"Country profile: {country_name}")
st.caption("Every indicator of the catalogue for this country: the latest year both groups have, the gap "
           "(disadvantage > 0: migrants worse off), its trend, and 'no data' where the sources have nothing.")
profile_view.render_uploaded_datasets_note(selection.country, country_name, version)

all_series = profile_view.load_profile(selection.country, version)[1]  # read-only, shared
summary, tables = profile_view.load_profile_tables(selection.country, version)  # one table per right, cached per place
first, second, third = st.columns(3)
first.metric("Indicators in the catalogue", summary["indicators"])
second.metric("With a gap for this country", summary["with_gap"])
third.metric("Where migrants are worse off", summary["worse_off"],
             help="Indicators whose latest gap shows migrants worse off (for either sex where no total is published).")

for right_code, right_name in vocabulary.RIGHTS.items():
    if right_code not in tables:
        continue
    with_data_count, indicator_count = summary["by_right"][right_code]  # F and M rows are one indicator
    with st.expander(f"{right_name} — {with_data_count} of {indicator_count} indicators with data",
                     expanded=right_code == selection.right):
        profile_view.render_profile_table(tables[right_code], key=f"profile_{right_code}")

st.markdown("### Commitments: treaties ratified")  # structural indicators, every UN member state
profile_view.render_commitments(selection.country, selection.right)

st.markdown("### Over time")
charted = {choice["indicator"]: choice for choice in summary["charted"]}  # one comparison per indicator
if not charted:
    layout.empty_state("No indicator compares migrants with their reference group for this country.")
    st.stop()
codes = list(charted)
default = codes.index(selection.indicator) if selection.indicator in codes else 0
code = st.selectbox("Indicator", codes, index=default, format_func=lambda c: catalogue.get(c).title, key="profile_indicator")
row = charted[code]
indicator = catalogue.get(code)
series = profile_view.comparison_series(all_series, code, row["group"], row["sex"], row["age"])  # computed with the profile
group_label = vocabulary.POPULATION_GROUPS[row["group"]]
reference_label = vocabulary.POPULATION_GROUPS[row["reference_group"]]
st.plotly_chart(charts.build_time_series(series, indicator.unit, group_label, reference_label,
                                         title=f"{indicator.title} — {country_name}, {vocabulary.SEXES.get(row['sex'])}, "
                                               f"{state.describe_age(row['age'])}"),
                key="profile_series", config={"displaylogo": False})
st.caption("The shaded band is the gap between the two groups. Hollow markers: low reliability (flag u). "
           + profile_view.load_source_line(tuple(sorted(series["dataset"].unique())) if not series.empty else (), version))
indicator_set.render_toggle_button(code, key="profile_add_to_set")  # my indicator set: export it from 'My indicator set'
