"""Upload: an analyst's own file, read, checked row by row, and loaded as a named dataset (all rows or none)."""
import streamlit as st

from core import upload as upload_core
from core import vocabulary
from ui import data, layout, upload, state

state.require_router()  # a deep link on a fresh server goes through app.py first

version = data.data_version()
catalogue = data.load_catalogue()

st.title("Upload your data")
st.caption("CSV, TSV, TXT or Excel: an Eurostat download, a statistics office's export, a World Bank table, a city's or an "
           "NGO's own figures — or a GeoJSON of local units. We say what we understood and every problem, by row and column, "
           f"before anything is stored. Files up to {upload.upload_limit_mb()} MB.")

uploaded = st.file_uploader("Your file", type=["csv", "tsv", "txt", "xlsx", "xls", "ods", "geojson", "json"], key="upload_file",
                            help="Nothing leaves this computer: the file is read by the dashboard's own server.")
if uploaded is None:
    upload.forget_session()
    layout.empty_state("Choose a file to start.",
                       "Tidy tables (one observation per row), wide tables (one column per year), Eurostat SDMX-CSV or TSV, "
                       "World Bank downloads and Excel sheets with title rows are all understood.")
    st.stop()
content = uploaded.getvalue()
if len(content) > upload.upload_limit_mb() * 1024 * 1024:
    st.error(f"{layout.escape_markdown(uploaded.name)} is {len(content) / 1e6:.0f} MB, above the {upload.upload_limit_mb()} MB limit; split the file "
             "or ask your administrator to raise server.maxUploadSize.", icon=":material/error:")
    st.stop()
if upload.is_boundaries(content, uploaded.name):
    upload.forget_session()
    upload.render_boundaries_upload(content, uploaded.name, version)
    st.stop()

# 1. detection, correctable
overrides = st.session_state.get("upload_overrides", {}).get(uploaded.file_id, {})
held = upload.session_for(content, uploaded.name, overrides)
session = held.session
wanted = upload.render_detection(held, overrides, held.token)
if wanted != overrides:
    st.session_state["upload_overrides"] = {uploaded.file_id: wanted}
    st.rerun()
for problem in session.format_problems:
    st.error(layout.escape_markdown(problem.message), icon=":material/error:")
if not session.readable:
    st.stop()
with st.expander("The first rows as read", expanded=False):
    upload.render_preview(held)

# 2. mapping, with guesses
guessed = session.guess_mapping(set().union(*upload.boundary_codes(version).values()) if upload.boundary_codes(version) else None)
mapping = upload.render_mapping(held, guessed, catalogue, held.token, version)

# 3. validation report (with a table for places we do not know)
report = upload.validate(held, mapping, version)
fixes = upload.render_place_fixes(report, mapping, held.token)
if fixes:
    mapping.place_labels.update(fixes)
    report = upload.validate(held, mapping, version)
upload.render_report(report, uploaded.name)

# 4. load
st.markdown("#### 4. Load")
with st.container(border=True):
    first = st.columns([2, 3])
    name = first[0].text_input("Dataset name", value=uploaded.name.rsplit(".", 1)[0][:80], key=f"dataset_name_{held.token}")
    title = first[1].text_input("Title", key=f"dataset_title_{held.token}", placeholder="What the figures are")
    second = st.columns([2, 2, 2])
    producer = second[0].text_input("Producer", key=f"dataset_producer_{held.token}", placeholder="e.g. City of Vienna")
    producer_type = second[1].radio("Source", list(vocabulary.PRODUCERS), format_func=vocabulary.PRODUCERS.get, horizontal=True,
                                    key=f"dataset_producer_type_{held.token}")
    licence = second[2].text_input("Licence", key=f"dataset_licence_{held.token}", placeholder="e.g. CC BY 4.0")
    source = st.text_input("Attribution shown with every figure", key=f"dataset_source_{held.token}",
                           placeholder=f"Source: {producer or 'the producer'}, {title or 'the dataset'}")
    allow = False
    if report.status != "valid" and report.rows_usable:
        allow = st.checkbox(f"Load the {report.rows_usable:,} usable rows and leave the {report.rows_rejected:,} rejected rows out",
                            key=f"allow_rejected_{held.token}")
    replace = st.checkbox("Replace an uploaded dataset of the same name", key=f"replace_{held.token}")
    ready = report.rows_usable > 0 and (report.status == "valid" or allow)
    clicked = st.button("Load the dataset", type="primary", disabled=not ready, key=f"load_{held.token}", icon=":material/upload:")
if clicked:
    info = upload_core.DatasetInfo(name=name, title=title, producer=producer, producer_type=producer_type, source=source,
                                   licence=licence)
    try:
        result = upload.load(held, mapping, info, allow, replace, version)
    except (upload_core.UploadError, *upload.REQUEST_ERRORS) as error:
        st.error(layout.escape_markdown(str(error)), icon=":material/error:")
        st.stop()
    if result.status == "loaded":
        st.session_state["upload_last_loaded"] = result.dataset
        st.success(f"Loaded '{layout.escape_markdown(result.dataset)}': {result.rows_loaded:,} observations. It now appears on every page, marked as "
                   "uploaded.", icon=":material/check_circle:")
        links = st.columns(3)
        loaded_indicators = result.summary.get("indicators") or []
        catalogue = data.load_catalogue()
        where = {"dataset": result.dataset}  # Explore opens on this dataset, even beside an embedded source
        if len(loaded_indicators) == 1 and loaded_indicators[0] in catalogue:
            where.update(right=catalogue.get(loaded_indicators[0]).right, indicator=loaded_indicators[0])
        links[0].page_link("pages/explore.py", label="See its gaps on Explore", icon=":material/map:", query_params=where)
        links[1].page_link("pages/datasets.py", label="Manage your datasets", icon=":material/dataset:")
    else:
        st.error("Not loaded: the file has problems (see the report above). Nothing was stored.", icon=":material/error:")
elif not ready:
    st.caption(layout.escape_markdown(upload.load_hint(report)))
