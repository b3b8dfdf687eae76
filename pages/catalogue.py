"""Catalogue: every indicator of the framework, to pick those that suit one's purpose, level of government and data."""
import pandas as pd
import streamlit as st

from core import availability as availability_core
from core import vocabulary
from core.catalogue_filter import IndicatorFilter, filter_indicators
from core.good_practices import select_good_practices
from ui import catalogue_view, data, indicator_set, layout, state

selection = state.current_selection()
catalogue = data.load_catalogue()
version = data.data_version()
practices = catalogue_view.load_good_practices()
places = data.load_places(version).set_index("geo")["geo_name"]
country = selection.country
country_name = places.get(country, country) if country else None
statuses = catalogue_view.statuses_for(country, version)

st.title("Catalogue")
st.caption("Every indicator of the framework: pick those that fit your purpose, your level of government and your "
           "data. Click an indicator to open its metadata sheet; add it to your set to export it.")

# 1. Filters (combined: AND across filters, OR within one)
RIGHT_OPTIONS = ["all", *vocabulary.RIGHTS]
if "catalogue_right" not in st.session_state:
    st.session_state["catalogue_right"] = selection.right if selection.right in vocabulary.RIGHTS else "all"
used_groups = {g for i in catalogue for members in i.groups.values() for g in members} | {"irregular"}
GROUP_OPTIONS = [g for g in vocabulary.POPULATION_GROUPS if g in used_groups]
with st.container(border=True):
    first = st.columns([2, 3, 2, 3])
    right = first[0].selectbox("Right", RIGHT_OPTIONS, key="catalogue_right",
                               format_func=lambda r: "All rights" if r == "all" else vocabulary.RIGHTS[r])
    attribute_options = [(r, a) for r in (vocabulary.RIGHTS if right == "all" else [right]) for a in vocabulary.ATTRIBUTES[r]]
    attributes = first[1].multiselect("Attribute", [a for _, a in attribute_options], key="catalogue_attributes",
                                      format_func=lambda a: next(vocabulary.ATTRIBUTES[r][x] for r, x in attribute_options if x == a),
                                      placeholder="Any attribute")
    types = first[2].multiselect("Type", list(vocabulary.INDICATOR_TYPES), key="catalogue_types",
                                 format_func=str.capitalize, placeholder="Structural, process, outcome")
    source_types = first[3].multiselect("Source type", list(vocabulary.SOURCE_TYPES), key="catalogue_source_types",
                                        format_func=vocabulary.SOURCE_TYPES.get, placeholder="Any source type")
    second = st.columns([2, 3, 2, 3])
    levels = second[0].multiselect("Governance level", list(vocabulary.GOVERNANCE_LEVELS), key="catalogue_levels",
                                   format_func=vocabulary.GOVERNANCE_LEVELS.get, placeholder="Any level")
    groups = second[1].multiselect("Population group", GROUP_OPTIONS, key="catalogue_groups",
                                   format_func=vocabulary.POPULATION_GROUPS.get, placeholder="Any group",
                                   help="Indicators comparing this group with its reference group. Migrants in an irregular "
                                        "situation: also the laws, firewalls and entitlements written for them, since "
                                        "outcome data on them rarely exist.")
    producers = second[2].multiselect("Data producer", list(vocabulary.PRODUCERS), key="catalogue_producers",
                                      format_func=vocabulary.PRODUCERS.get, placeholder="Official or civil society")
    text = second[3].text_input("Search titles and definitions", key="catalogue_search", placeholder="e.g. firewall, vaccination")
    only_with_data = st.toggle(f"Only indicators with data for {country_name}" if country_name else "Only indicators with data",
                               key="catalogue_with_data", disabled=not country,
                               help="Any value for this country (the country chosen in the sidebar), even for one group only.")

with_data = frozenset(code for code, status in statuses.items() if status != "none") if only_with_data else None
criteria = IndicatorFilter(rights=() if right == "all" else (right,), attributes=tuple(attributes), types=tuple(types),
                           source_types=tuple(source_types), levels=tuple(levels), groups=tuple(groups),
                           producers=tuple(producers), with_data=with_data, text=text)
found = filter_indicators(catalogue, criteria)
codes_found = [i.code for i in found]
count_column, add_column = st.columns([3, 1], vertical_alignment="center")
count_column.markdown(f"**{len(found)} of {len(catalogue)} indicators** match"
                      + (f" · {sum(statuses.get(c) == 'both_groups' for c in codes_found)} with values for both groups in {country_name}"
                         if country_name else ""))
missing_from_set = [c for c in codes_found if c not in indicator_set.current_set()]
if found:
    add_column.button(f"Add these {len(missing_from_set)} to my set" if missing_from_set else "All are in my set",
                      key="catalogue_add_all", disabled=not missing_from_set, icon=":material/playlist_add:",
                      on_click=indicator_set.add_many, args=(missing_from_set,))

# 2. The metadata sheet of the indicator clicked, in a drawer beside the table
catalogue_view.render_sheet_dialog("catalogue", country, country_name)

framework_tab, list_tab, availability_tab, practices_tab = st.tabs(
    ["Framework", "List", "Data availability", "Good practices"])

# 3. The framework table(s)
with framework_tab:
    if not found:
        layout.empty_state("No indicator matches all these filters.", "Remove a filter or shorten the search.")
    catalogue_view.render_status_legend(country_name)
    rights_shown = [right] if right != "all" else [r for r in vocabulary.RIGHTS if any(i.right == r for i in found)]
    for right_code in rights_shown:
        part = [i for i in found if i.right == right_code]
        if right == "all":
            st.markdown(f"### {vocabulary.RIGHTS[right_code]}")
        catalogue_view.render_framework_table(right_code, part, statuses, key_prefix=f"framework_{right_code}", practices=practices)
        bearing = select_good_practices(practices, indicators=[i.code for i in part])
        if bearing:
            st.caption("Good practices beside these indicators: " + "; ".join(p.title for p in bearing)
                       + " (see the tab Good practices).")

# 4. The list, one row per indicator; selecting a row opens its sheet
with list_tab:
    listing = pd.DataFrame([{
        "Indicator": i.title, "Type": i.type.capitalize(),
        f"Data for {country_name or 'the country'}": availability_core.STATUSES[statuses.get(i.code, "none")],
        "Right": vocabulary.RIGHTS[i.right], "Attribute": vocabulary.ATTRIBUTES[i.right][i.attribute],
        "Source types": ", ".join(vocabulary.SOURCE_TYPES[s] for s in i.source_types),
        "Levels": ", ".join(i.levels), "Groups compared": catalogue_view.describe_groups(i),
        "Producers": ", ".join(vocabulary.PRODUCERS[p] for p in i.producers),
        "In my set": i.code in indicator_set.current_set(), "Code": i.code,
    } for i in found])
    if listing.empty:
        layout.empty_state("No indicator matches all these filters.")
    else:
        st.caption("Select a row to open the indicator's metadata sheet.")

        def open_selected_row():
            rows = st.session_state["catalogue_list"].selection.rows
            if rows:
                catalogue_view.open_sheet(listing.iloc[rows[0]]["Code"], "catalogue")

        st.dataframe(listing, hide_index=True, width="stretch", key="catalogue_list", on_select=open_selected_row,
                     selection_mode="single-row", height=min(38 + 35 * len(listing), 740),
                     column_config={"Indicator": st.column_config.TextColumn(width="large")})

# 5. Data availability: indicators x places
with availability_tab:
    metrics_row = st.container()  # filled below, once the view is known
    options = st.columns(2)
    include_regional = options[0].checkbox("Include regional aggregates (EU27, euro area ...)", key="availability_regional")
    include_all = options[1].checkbox("Include places with whole-population figures only", key="availability_all",
                                      help="Off: only places where at least one of these indicators has values by population group.")
    view = catalogue_view.load_availability_view(tuple(codes_found), include_regional, include_all, version)
    summary, matrix = view["summary"], view["matrix"]
    nowhere = int((summary["both_groups"] + summary["one_group"] + summary["total_only"] == 0).sum()) if not summary.empty else 0
    first, second, third = metrics_row.columns(3)
    first.metric("Indicators shown", len(codes_found))
    second.metric("With values for both groups somewhere", int((summary["both_groups"] > 0).sum()) if not summary.empty else 0)
    third.metric("With no data anywhere", nowhere,
                 help="No embedded or uploaded figures at all: the known data gaps of the catalogue.")
    if not codes_found:
        layout.empty_state("No indicator matches all these filters.")
    elif matrix.empty:
        layout.empty_state("None of these indicators has figures by population group in any place.",
                           "That is the data gap itself: see each indicator's metadata sheet for the source that could fill it.")
    else:
        st.plotly_chart(view["figure"], key="availability_map", config={"displaylogo": False})
        st.caption(f"{len(matrix.columns)} places (ISO 3166 codes across the top), {len(matrix)} indicators. "
                   "Where an indicator has values for migrants and their reference group, a gap can be computed.")
        with st.expander("As a table"):
            symbols = matrix.replace(availability_core.STATUS_SYMBOLS)
            symbols.index = [catalogue_view.short_titles(catalogue, [c])[c] for c in symbols.index]
            st.caption(" · ".join(f"{availability_core.STATUS_SYMBOLS[k]} {v.lower()}" for k, v in availability_core.STATUSES.items()))
            st.dataframe(symbols, width="stretch", key="availability_table")
    if not summary.empty:
        st.markdown("#### Places per indicator")
        by_indicator = pd.DataFrame({
            "Indicator": [catalogue.get(c).title for c in summary["indicator"]],
            "Both groups": summary["both_groups"], "One group only": summary["one_group"],
            "Whole population only": summary["total_only"], "No data": summary["none"], "Code": summary["indicator"],
        })
        st.caption(f"Number of places ({int(summary['places'].iloc[0])} in all) in each situation.")
        st.dataframe(by_indicator, hide_index=True, width="stretch", key="availability_summary",
                     height=min(38 + 35 * len(by_indicator), 740),
                     column_config={"Indicator": st.column_config.TextColumn(width="large")})

# 6. Good practices for the right(s) and level(s) chosen
with practices_tab:
    chosen = [p for p in practices
              if (right == "all" or right in p.rights) and (not levels or set(levels) & set(p.levels))]
    if not chosen:
        layout.empty_state("No good practice recorded for this right and level.")
    columns = st.columns(2)
    for position, practice in enumerate(chosen):
        with columns[position % 2]:
            catalogue_view.render_practice(practice, catalogue, key_prefix="practice", scope="catalogue")
