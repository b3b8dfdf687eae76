"""My indicator set: the indicators picked from the catalogue, their latest values for the chosen country, and the exports."""
from datetime import date

import pandas as pd
import streamlit as st

from core import charts, exports
from core.good_practices import select_good_practices
from ui import catalogue_view, data, indicator_set, layout, state

selection = state.current_selection()
catalogue = data.load_catalogue()
version = data.data_version()
codes = indicator_set.current_set()
places = data.load_places(version).set_index("geo")["geo_name"]
country_name = places.get(selection.country, selection.country) if selection.country else None

st.title("My indicator set")
st.caption("The indicators you picked, with what they say for your country, ready to take away. The set is kept in "
           "this page's address: copy the link to give a colleague the same set.")

ignored = indicator_set.ignored_codes()
if ignored:
    st.warning(f"The link named {len(ignored)} indicator code(s) that the catalogue does not know; they were left out: "
               + ", ".join(f"'{layout.escape_markdown(code)}'" for code in ignored) + ". Check the link, or add the indicators again from the Catalogue.",
               icon=":material/warning:")
if not codes:
    layout.empty_state("Your set is empty.",
                       "Add indicators from the Catalogue (one by one, or every indicator a filter leaves), from Explore "
                       "or from the Country profile, with the button 'Add to my set'.")
    st.page_link("pages/catalogue.py", label="Open the Catalogue", icon=":material/list_alt:")
    st.stop()

catalogue_view.render_sheet_dialog("set", selection.country, country_name)

with_country = st.toggle(f"With the latest values for {country_name}" if country_name else "With the latest values",
                         value=bool(selection.country), disabled=not selection.country, key="set_with_country",
                         help="The country chosen in the sidebar. Off: the exports carry the metadata sheets only.")
country = selection.country if with_country else None
bundle = catalogue_view.load_exports(tuple(codes), country, version)
table = bundle["table"]

compared = table.loc[table["Disadvantage"].notna()]
first, second, third = st.columns(3)
first.metric("Indicators in the set", len(codes))
second.metric(f"With a gap for {country_name}" if country else "With a gap", compared["Code"].nunique() if country else "—")
third.metric("Where migrants are worse off", int((compared["Disadvantage"] > 0).sum()) if country else "—",
             help="Rows (one per indicator, or per sex where the source has no total) with a positive disadvantage.")

# 1. The set, one row per indicator: open its sheet or take it out
st.markdown("#### The indicators")
units = {i.code: i.unit for i in catalogue}
for code in codes:
    indicator = catalogue.get(code)
    rows = table.loc[table["Code"] == code]
    with st.container(border=True):
        title_column, value_column, button_column = st.columns([4, 4, 3], vertical_alignment="center")
        title_column.markdown(f"**{indicator.title}**  \n"
                              f"<small>{indicator.type.capitalize()} · `{code}`</small>", unsafe_allow_html=True)
        lines = []
        for row in rows.to_dict("records"):
            if not country:
                break
            if row["Migrant group"] and not pd.isna(row["Disadvantage"]):
                lines.append(f"{row['Year']} · {row['Migrant group']} {charts.format_value(row['Migrant group value'], units[code])} "
                             f"vs {row['Reference group'].lower()} {charts.format_value(row['Reference group value'], units[code])}"
                             + (f" ({row['Sex'].lower()})" if row["Sex"] not in ("", "Total") else "")
                             + f" · disadvantage **{charts.format_difference(row['Disadvantage'], units[code])}**"
                             + (f" · flags {row['Flags']}" if row["Flags"] else ""))
            elif not pd.isna(row["Whole population value"]):
                lines.append(f"{row['Year']} · {exports.format_value(row['Whole population value'], units[code])} · {row['Note']}")
            else:
                lines.append(row["Note"].split(";")[0])
        value_column.markdown("  \n".join(lines) if lines else " ")
        open_column, remove_column = button_column.columns(2)
        open_column.button("Sheet", key=f"set_open_{code}", icon=":material/description:", on_click=catalogue_view.open_sheet,
                           args=(code, "set"), help="Open the metadata sheet")
        remove_column.button("Remove", key=f"set_remove_{code}", icon=":material/playlist_remove:",
                             on_click=indicator_set.remove, args=(code,), help="Take this indicator out of the set")
st.button("Empty the set", key="set_clear", icon=":material/delete_sweep:", on_click=indicator_set.clear)

# 2. Exports
st.markdown("#### Take it away")
st.caption("CSV and Excel: one row per indicator with the latest values and gaps"
           + (f" for {country_name}" if country else "") + "; the Excel workbook adds one sheet per indicator with its "
           "metadata sheet, and the sources. JSON: everything, for machines. PDF: a printable report. "
           "Text cells that a spreadsheet could run as a formula are neutralised.")
stem = f"rightsgap_set_{country or 'all'}_{date.today().isoformat()}"
columns = st.columns(4)
columns[0].download_button("CSV", bundle["csv"], file_name=f"{stem}.csv", mime="text/csv", key="export_csv",
                           icon=":material/download:", on_click="ignore", width="stretch")
columns[1].download_button("Excel", bundle["xlsx"], file_name=f"{stem}.xlsx", key="export_xlsx",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                           icon=":material/download:", on_click="ignore", width="stretch")
columns[2].download_button("JSON", bundle["json"], file_name=f"{stem}.json", mime="application/json", key="export_json",
                           icon=":material/download:", on_click="ignore", width="stretch")
if bundle["pdf"] is not None:
    columns[3].download_button("PDF report", bundle["pdf"], file_name=f"{stem}.pdf", mime="application/pdf", key="export_pdf",
                               icon=":material/download:", on_click="ignore", width="stretch")
else:
    columns[3].error(bundle["pdf_error"], icon=":material/error:")

st.markdown("#### Share")
st.caption("This page's address holds the set. The part to add after the app's address:")
st.code(f"?set={indicator_set.format_set_param(codes)}", language=None)

# 3. Good practices bearing on the set
bearing = select_good_practices(catalogue_view.load_good_practices(), indicators=codes)
if bearing:
    st.markdown("#### Good practices beside these indicators")
    practice_columns = st.columns(2)
    for position, practice in enumerate(bearing):
        with practice_columns[position % 2]:
            catalogue_view.render_practice(practice, catalogue, key_prefix="set_practice", scope="set")
