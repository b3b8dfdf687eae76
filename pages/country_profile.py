"""Country profile: one place, every right, its structural, process and outcome indicators."""
import streamlit as st

from core import charts, vocabulary
from ui import data, indicator_set, layout, state, treaty_view

selection = state.current_selection()
catalogue = data.load_catalogue()
version = data.data_version()
if not selection.country:
    layout.empty_state("No country has data yet.")
    st.stop()
places = data.load_places(version).set_index("geo")["geo_name"]
country_name = places.get(selection.country, selection.country)

st.title(f"Country profile: {country_name}")
st.caption("Every indicator of the catalogue for this country: the latest year both groups have, the gap "
           "(disadvantage > 0: migrants worse off), its trend, and 'no data' where the sources have nothing.")

profile = data.load_country_profile(selection.country, version)
with_gap = profile.loc[profile["disadvantage"].notna()]
first, second, third = st.columns(3)
first.metric("Indicators in the catalogue", len(profile["indicator"].unique()))
second.metric("With a gap for this country", len(with_gap["indicator"].unique()))
third.metric("Where migrants are worse off", int(with_gap.loc[with_gap["disadvantage"] > 0, "indicator"].nunique()),
             help="Indicators whose latest gap shows migrants worse off (for either sex where no total is published).")

def _status(row) -> str:
    """What the Status cell says: no data, a structural or context value (no comparison), notes and flags."""
    if not row.has_data:
        return "no data"
    parts = []
    if not isinstance(row.group, str):  # structural (yes/no) or context value: no migrant/reference comparison
        parts.append(charts.format_value(row.value, row.unit) + (f" ({int(row.year)})" if row.year == row.year and row.year else ""))
    elif row.note:
        parts.append(row.note)
    if row.flags:
        parts.append(f"flags {row.flags}")
    return " · ".join(parts)


for right_code, right_name in vocabulary.RIGHTS.items():
    rows = profile.loc[profile["right"] == right_code]
    if rows.empty:
        continue
    with_data_count = rows.loc[rows["has_data"], "indicator"].nunique()  # F and M rows are one indicator
    with st.expander(f"{right_name} — {with_data_count} of {rows['indicator'].nunique()} indicators with data",
                     expanded=right_code == selection.right):
        for attribute_code, attribute_name in vocabulary.ATTRIBUTES[right_code].items():
            part = rows.loc[rows["attribute"] == attribute_code]
            if part.empty:
                continue
            st.markdown(f"**{attribute_name}**")
            shown = part.assign(
                Type=part["type"].str.capitalize(), Indicator=part["title"],
                Comparison=[(state.describe_group_pair(g) + ("" if sex == "T" else f", {vocabulary.SEXES.get(sex, sex).lower()}"))
                            if isinstance(g, str) else "—" for g, sex in zip(part["group"], part["sex"])],
                Year=[str(int(y)) if y == y and y is not None else "—" for y in part["year"]],
                Reference=[charts.format_value(v, u) for v, u in zip(part["reference_value"], part["unit"])],
                Migrants=[charts.format_value(v, u) if isinstance(g, str) else "—"
                          for v, u, g in zip(part["value"], part["unit"], part["group"])],
                Disadvantage=[charts.format_difference(v, u) for v, u in zip(part["disadvantage"], part["unit"])],
                Trend=part["trend"],
                Status=[_status(row) for row in part.itertuples(index=False)],
            )[["Type", "Indicator", "Comparison", "Year", "Reference", "Migrants", "Disadvantage", "Trend", "Status"]]
            st.dataframe(shown, hide_index=True, width="stretch", key=f"profile_{attribute_code}",
                         column_config={"Trend": st.column_config.LineChartColumn("Trend", width=70,
                                                                                  help="The disadvantage over the years (positive: migrants worse off)"),
                                        "Type": st.column_config.TextColumn("Type", width=75),
                                        "Indicator": st.column_config.TextColumn("Indicator", width=250),
                                        "Comparison": st.column_config.TextColumn("Comparison", width=150),
                                        "Year": st.column_config.TextColumn("Year", width=50),
                                        "Reference": st.column_config.TextColumn("Reference", width=70, help="The reference group (nationals or native-born)"),
                                        "Migrants": st.column_config.TextColumn("Migrants", width=70, help="The migrant group named in Comparison"),
                                        "Disadvantage": st.column_config.TextColumn("Disadvantage", width=90),
                                        "Status": st.column_config.TextColumn("Status", width=100)})

st.markdown("### Commitments: treaties ratified")  # structural indicators, every UN member state
treaty_view.render_country_commitments(selection.country, selection.right)

st.markdown("### Over time")
with_data = profile.loc[profile["has_data"] & profile["group"].notna()].drop_duplicates("indicator")
if with_data.empty:
    layout.empty_state("No indicator compares migrants with their reference group for this country.")
    st.stop()
codes = with_data["indicator"].tolist()
default = codes.index(selection.indicator) if selection.indicator in codes else 0
code = st.selectbox("Indicator", codes, index=default, format_func=lambda c: catalogue.get(c).title, key="profile_indicator")
row = with_data.loc[with_data["indicator"] == code].iloc[0]
indicator = catalogue.get(code)
series = data.load_gap_series(code, row["group"], row["sex"], row["age"], selection.country, version)
group_label = vocabulary.POPULATION_GROUPS[row["group"]]
reference_label = vocabulary.POPULATION_GROUPS[row["reference_group"]]
st.plotly_chart(charts.build_time_series(series, indicator.unit, group_label, reference_label,
                                         title=f"{indicator.title} — {country_name}, {vocabulary.SEXES.get(row['sex'])}, "
                                               f"{state.describe_age(row['age'])}"),
                key="profile_series", config={"displaylogo": False})
st.caption("The shaded band is the gap between the two groups. Hollow markers: low reliability (flag u). "
           + layout.source_line(data.load_datasets(version), sorted(series["dataset"].unique()) if not series.empty else []))
indicator_set.render_toggle_button(code, key="profile_add_to_set")  # my indicator set: export it from 'My indicator set'
