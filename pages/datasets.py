"""Your datasets: the files analysts loaded, with their provenance; inspect, rename, delete."""
import json

import pandas as pd
import streamlit as st

from core import vocabulary
from ui import data, layout, upload, state

state.require_router()  # a deep link on a fresh server goes through app.py first



def rename_chosen(name: str) -> None:
    """Button callback (runs before the widgets are drawn): rename, and keep the renamed dataset chosen."""
    new_name = st.session_state.get(f"rename_{name}", name).strip()
    try:
        upload.rename_dataset(name, new_name)
    except upload.REQUEST_ERRORS as error:
        st.session_state["datasets_message"] = ("error", str(error))
        return
    st.session_state["datasets_chosen"] = new_name
    st.session_state["datasets_message"] = ("success", f"Renamed '{name}' to '{new_name}'.")


def delete_chosen(name: str) -> None:
    """Button callback: delete the dataset and its observations."""
    try:
        count = upload.delete_dataset(name)
    except upload.REQUEST_ERRORS as error:
        st.session_state["datasets_message"] = ("error", str(error))
        return
    st.session_state.pop("datasets_chosen", None)
    st.session_state["datasets_message"] = ("success", f"Deleted '{name}' and its {count:,} observations.")


def rename_boundaries(name: str) -> None:
    """Button callback: rename stored boundaries."""
    new_name = st.session_state.get(f"boundaries_rename_{name}", name).strip()
    try:
        upload.rename_boundaries(name, new_name)
    except upload.REQUEST_ERRORS as error:
        st.session_state["datasets_message"] = ("error", str(error))
        return
    st.session_state["boundaries_chosen"] = new_name
    st.session_state["datasets_message"] = ("success", f"Renamed the boundaries '{name}' to '{new_name}'.")


def delete_boundaries(name: str) -> None:
    """Button callback: delete stored boundaries."""
    try:
        upload.delete_boundaries(name)
    except upload.REQUEST_ERRORS as error:
        st.session_state["datasets_message"] = ("error", str(error))
        return
    st.session_state.pop("boundaries_chosen", None)
    st.session_state["datasets_message"] = ("success", f"Deleted the boundaries '{name}'.")


version = data.data_version()
st.title("Your datasets")
st.caption("Every file loaded through *Upload*, with where it came from (file, SHA-256 fingerprint, time, rows) and how it "
           "was read. Uploads are kept in the dashboard's database and survive a restart.")

message = st.session_state.pop("datasets_message", None)
if message:
    (st.success if message[0] == "success" else st.error)(layout.escape_markdown(message[1]), icon=":material/check_circle:" if message[0] == "success"
                                                           else ":material/error:")

datasets = upload.load_uploaded_datasets(version)
if datasets.empty:
    layout.empty_state("No uploaded dataset yet.", "Load a file on the Upload page; it will be listed here.")
    st.page_link("pages/upload.py", label="Upload a file", icon=":material/upload:")
else:
    table = pd.DataFrame({
        "Dataset": datasets["name"], "Title": datasets["title"], "Producer": datasets["producer"],
        "Official or civil society": datasets["producer_type"].map(vocabulary.PRODUCERS),
        "Indicators": datasets["indicators"].map(lambda codes: ", ".join(codes) if codes is not None else ""),
        "Observations": datasets["observations"], "Years": [f"{a}-{b}" if pd.notna(a) else "" for a, b in
                                                            zip(datasets["first_year"], datasets["last_year"])],
        "Places": datasets["places"], "File": datasets["file_name"], "Loaded": datasets["loaded_at"],
        "SHA-256": datasets["sha256"].str[:12] + "…",
    })
    st.dataframe(table, hide_index=True, width="stretch", key="datasets_table")

    names = datasets["name"].tolist()
    if st.session_state.get("datasets_chosen") not in names:
        st.session_state.pop("datasets_chosen", None)
    chosen = st.selectbox("Inspect a dataset", names, key="datasets_chosen")
    row = datasets.loc[datasets["name"] == chosen].iloc[0]
    with st.container(border=True):
        st.markdown(f"#### {layout.escape_markdown(row['title'] or row['name'])}")
        st.markdown(f"**{vocabulary.PRODUCERS.get(row['producer_type'], 'Producer not stated')}** · uploaded · "
                    f"{layout.escape_markdown(row['source'] or 'no attribution given')}"
                    + (f" · licence {layout.escape_markdown(row['licence'])}" if row["licence"] else ""))
        st.caption(f"File {layout.escape_markdown(row['file_name'])} · SHA-256 {row['sha256']} · loaded {row['loaded_at']} · "
                   f"{row['row_count']:,} observations")
        detection = json.loads(row["detection"]) if row["detection"] else {}
        mapping = json.loads(row["mapping"]) if row["mapping"] else {}
        left, right = st.columns(2)
        with left.expander("How the file was read (detection)"):
            st.json(detection, expanded=False)
        with right.expander("What the columns meant (mapping)"):
            st.json(mapping, expanded=False)
        st.dataframe(upload.load_dataset_sample(chosen, version), hide_index=True, width="stretch", key="dataset_sample")
        first, second = st.columns(2)
        with first:
            st.text_input("New name", value=chosen, key=f"rename_{chosen}")
            st.button("Rename", key=f"rename_button_{chosen}", icon=":material/edit:", on_click=rename_chosen, args=(chosen,))
        with second:
            sure = st.checkbox(f"Yes, delete '{layout.escape_markdown(chosen)}' and its {row['row_count']:,} observations",
                               key=f"delete_sure_{chosen}")
            st.button("Delete", key=f"delete_button_{chosen}", icon=":material/delete:", disabled=not sure,
                      on_click=delete_chosen, args=(chosen,))

st.markdown("### Boundaries of local units")
stored = upload.load_boundaries_list(version)
if stored.empty:
    st.caption("None yet. Upload a GeoJSON of your units (for example NUTS regions) on the Upload page; a data file keyed by "
               "the same codes then shows on a local map in Explore.")
else:
    st.dataframe(stored.rename(columns={"name": "Name", "file_name": "File", "code_property": "Codes from", "feature_count": "Units",
                                        "loaded_at": "Loaded", "sha256": "SHA-256"}), hide_index=True, width="stretch",
                 key="boundaries_table")
    boundary_names = stored["name"].tolist()
    if st.session_state.get("boundaries_chosen") not in boundary_names:
        st.session_state.pop("boundaries_chosen", None)
    chosen_boundaries = st.selectbox("Boundaries", boundary_names, key="boundaries_chosen")
    first, second = st.columns(2)
    with first:
        st.text_input("New name", value=chosen_boundaries, key=f"boundaries_rename_{chosen_boundaries}")
        st.button("Rename", key="boundaries_rename_button", icon=":material/edit:", on_click=rename_boundaries,
                  args=(chosen_boundaries,))
    with second:
        sure = st.checkbox(f"Yes, delete the boundaries '{layout.escape_markdown(chosen_boundaries)}'",
                           key=f"boundaries_delete_sure_{chosen_boundaries}")
        st.button("Delete", key="boundaries_delete_button", icon=":material/delete:", disabled=not sure,
                  on_click=delete_boundaries, args=(chosen_boundaries,))
