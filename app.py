"""RightsGap: the router. Page config, the shared selectors, navigation; nothing else."""
import time
from pathlib import Path

import streamlit as st

from ui import data, indicator_set, state, timing

run_started = time.perf_counter()
data.start_run()  # read the store's data version afresh, once per run

# A local icon file: a Material or emoji page icon makes the browser fetch it from a font CDN.
st.set_page_config(page_title="RightsGap — human rights indicators for migrants",
                   page_icon=str(Path(__file__).parent / "ui" / "assets" / "icon.png"), layout="wide")

pages = [
    st.Page("pages/explore.py", title="Explore", icon=":material/map:", url_path="", default=True),  # at the root URL
    st.Page("pages/country.py", title="Country profile", icon=":material/flag:", url_path="country"),
    st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:", url_path="compare"),
    st.Page("pages/catalogue.py", title="Catalogue", icon=":material/list_alt:", url_path="catalogue"),
    st.Page("pages/my-set.py", title="My indicator set", icon=":material/playlist_add_check:", url_path="my-set"),
    st.Page("pages/upload.py", title="Upload", icon=":material/upload:", url_path="upload"),
    st.Page("pages/datasets.py", title="Your datasets", icon=":material/dataset:", url_path="datasets"),
    st.Page("pages/sources.py", title="Sources and method", icon=":material/menu_book:", url_path="sources"),
    st.Page(state.open_explore, title="Explore", url_path="explore", visibility="hidden"),  # a typed /explore link
]
page = st.navigation(pages)
state.open_requested_page(pages)  # a deep link opened on a fresh server comes back here (ui.state.require_router)
st.sidebar.markdown("### RightsGap")
st.session_state["_selection"] = state.render_selectors()
indicator_set.sync_with_url()  # the user's indicator set, kept in the URL parameter 'set'
st.sidebar.caption("Data: Eurostat (CC BY 4.0), UN DESA (CC BY 3.0 IGO), World Bank (CC BY 4.0), UN Treaty Collection, "
                   "ILO, Natural Earth boundaries. See *Sources and method*.")
with timing.record_run(page.url_path, run_started):  # server-side run time, for benchmarks (off unless asked)
    page.run()
