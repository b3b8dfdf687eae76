"""Treaty commitments (structural indicators) on the pages: a country's ratifications, the places
compared side by side, and a world map per instrument."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core import compare_charts, treaties, vocabulary
from ui import data

SOURCE_NOTE = ("Sources: United Nations Treaty Collection, status as of 2022-08; ILO Convention No. 189 ratifications as of "
               "2020-10-05. 'yes, YEAR': state party since that year (ratification or accession); 'signed only': signed, "
               "not ratified.")


@st.cache_data(show_spinner=False)
def load_treaty_status() -> pd.DataFrame:
    """core.treaties.load_treaty_status (the embedded ratifications)."""
    return treaties.load_treaty_status()


@st.cache_data(show_spinner=False)
def load_commitments(places: tuple[str, ...]) -> pd.DataFrame:
    """core.treaties.fetch_commitments for these places."""
    return treaties.fetch_commitments(list(places), data.load_catalogue(), load_treaty_status())


def render_places_commitments(places: tuple[str, ...], right: str, large: bool, key: str = "cmp_commitments") -> None:
    """The places' ratifications side by side, the instruments linked to this right first (◀)."""
    commitments = load_commitments(places)
    ordered = pd.concat([commitments.loc[commitments["right"] == right], commitments.loc[commitments["right"] != right]])
    table: dict[str, list] = {"Instrument": [], "Right": [], "As of": []}
    for geo in places:
        table[compare_charts.short_place_name(geo)] = []
    for _, part in ordered.groupby("instrument", sort=False):
        first = part.iloc[0]
        table["Instrument"].append(first["label_short"])
        table["Right"].append(vocabulary.RIGHTS.get(first["right"], "") + (" ◀" if first["right"] == right else ""))
        table["As of"].append(first["as_of"])
        labels = part.set_index("geo")["label"]
        for geo in places:
            table[compare_charts.short_place_name(geo)].append(labels.get(geo, "—"))
    frame = pd.DataFrame(table)
    if large:  # an HTML table: its text grows with the presentation style
        st.table(frame.set_index("Instrument"))
    else:
        st.dataframe(frame, hide_index=True, width="stretch", key=key,
                     column_config={"Instrument": st.column_config.TextColumn("Instrument", width="large")})
    st.caption(SOURCE_NOTE + " ◀: instruments linked to this right in the catalogue.")


@st.cache_data(show_spinner=False, max_entries=32)
def load_treaty_map(instrument: str, highlight: tuple[str, ...]):
    """The world map of one instrument (core.compare_charts.build_treaty_map), cached."""
    status = load_treaty_status()
    return compare_charts.build_treaty_map(status.loc[status["instrument"] == instrument], data.load_world_boundaries(),
                                           data.load_world_points(), highlight=list(highlight))


def render_world_map(highlight: list[str], key: str = "treaty_map") -> None:
    """A world map of one instrument (chosen in a select box): states parties, signatories, others."""
    instrument = st.selectbox("Instrument", list(treaties.INSTRUMENTS), key=f"{key}_instrument",
                              format_func=lambda c: treaties.INSTRUMENTS[c].name)
    chosen = treaties.INSTRUMENTS[instrument]
    status = load_treaty_status()
    part = status.loc[status["instrument"] == instrument]
    st.plotly_chart(load_treaty_map(instrument, tuple(highlight)), key=key, config=compare_charts.png_config(f"rightsgap_{instrument.lower()}_map"))
    st.caption(f"{int(part['state_party'].sum())} of {len(part)} UN member states were parties to {chosen.short_name} "
               f"as of {chosen.as_of}. {chosen.source}." + (" The places compared are outlined." if highlight else ""))
