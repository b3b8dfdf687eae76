"""Cached loaders over core: one DuckDB root connection per process, a cursor per query.

Every cached function takes the store's data version as an argument, so an upload or delete
invalidates exactly the entries that depend on data.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core import boundaries, queries, store
from core.catalogue import Catalogue, load_default_catalogue


class DatabaseUnavailable(RuntimeError):
    """The database file cannot be opened (locked by another process, not a DuckDB file, read-only place)."""


@st.cache_resource(show_spinner="Preparing the database (first start only)…")
def _open_root_connection(path: str):
    connection = store.open_database(path)
    store.ensure_embedded_data(connection)
    return connection


def get_root_connection():
    """The process's root DuckDB connection, with the embedded default loaded (built on first run).

    Raises DatabaseUnavailable with a message saying what to do when the file cannot be opened.
    """
    import duckdb

    try:
        return _open_root_connection(str(store.default_db_path()))  # one per database file ($RIGHTSGAP_DB)
    except (duckdb.Error, OSError) as error:
        path = store.default_db_path()
        reason = str(error).splitlines()[0]
        if "lock" in reason.lower():
            advice = ("another program holds it (a second copy of the app, or `python -m core` without --db). "
                      "Close it, or start this app with RIGHTSGAP_DB pointing to another file.")
        else:
            advice = "set RIGHTSGAP_DB to a writable file path (it is created and filled on first start)."
        raise DatabaseUnavailable(f"The database {path} cannot be opened: {reason[:200]}. What to do: {advice}") from None


def cursor():
    """A fresh cursor for one query (DuckDB connections are not shared across Streamlit's threads)."""
    return get_root_connection().cursor()


_RUN_VERSION_KEY = "_data_version_of_this_run"


def data_version() -> str:
    """The store's current data version (changes on every load or delete), prefixed with the
    database file, so that cached results never cross from one database file to another.

    Read from the database once per script run (app.py calls start_run first) and remembered for
    the rest of the run; a load, rename or delete made during the run calls forget_data_version.
    """
    version = st.session_state.get(_RUN_VERSION_KEY)
    if version is None:
        version = f"{store.default_db_path()}|{queries.fetch_data_version(cursor())}"
        st.session_state[_RUN_VERSION_KEY] = version
    return version


def start_run() -> None:
    """Called by app.py at the start of every run: the next data_version() reads the database again
    (another session may have loaded or deleted a dataset since this session's last run)."""
    st.session_state.pop(_RUN_VERSION_KEY, None)


forget_data_version = start_run  # after this session changed the stored data


def load_catalogue() -> Catalogue:
    """The embedded indicator catalogue (checked against its schema on load), followed by the
    indicators analysts defined when uploading their files (so that their data show on every page)."""
    return _load_catalogue(data_version())


@st.cache_resource(max_entries=4)
def _load_catalogue(version: str) -> Catalogue:
    from core.catalogue import Indicator

    embedded = load_default_catalogue()
    custom = [Indicator.model_validate(d) for d in store.fetch_custom_indicators(cursor())]
    if not custom:
        return embedded
    return Catalogue([*embedded, *(i for i in custom if i.code not in embedded)])


@st.cache_data(show_spinner=False)
def load_data_summary(version: str) -> pd.DataFrame:
    """core.queries.fetch_data_summary, cached per data version."""
    return queries.fetch_data_summary(cursor())


def load_indicator_options(indicator: str, version: str, group: str | None = None, dataset: str | None = None) -> dict:
    """core.queries.fetch_indicator_options (keys years, sexes, ages, groups, datasets, geo_levels,
    best_year), read for every comparison group of the indicator at once and cached per indicator,
    dataset and data version: choosing another comparison never waits for the database.
    dataset: the options of one source dataset (None: every dataset)."""
    table = _load_options_of_indicator(indicator, version, dataset)
    return table.get((indicator, group)) or queries.options_without_values(table, indicator)


@st.cache_data(show_spinner=False, max_entries=128)
def _load_options_of_indicator(indicator: str, version: str, dataset: str | None) -> dict:
    return queries.fetch_options_table(cursor(), indicator=indicator, dataset=dataset)


@st.cache_data(show_spinner=False, max_entries=256)
def load_gaps(indicator: str, group: str | None, year, sex: str | None, age: str | None, version: str,
              geos: tuple[str, ...] | None = None, dataset: str | None = None) -> pd.DataFrame:
    """core.queries.fetch_gaps for one selection (see core.gaps.compute_gaps for the columns);
    dataset: one source dataset only (None: every dataset holding the indicator)."""
    return queries.fetch_gaps(cursor(), indicator, geos=list(geos) if geos else None, year=year, sex=sex,
                              group=group, age=age, dataset=dataset, catalogue=load_catalogue())


@st.cache_data(show_spinner=False, max_entries=256)
def load_gap_series(indicator: str, group: str, sex: str | None, age: str | None, geo: str, version: str) -> pd.DataFrame:
    """Gaps of one place for every year both groups have (core.gaps.compute_gap_series)."""
    from core import gaps as gap_engine
    from core.vocabulary import REFERENCE_GROUPS, dimension_of

    observations = queries.fetch_observations(cursor(), indicator, geos=[geo], sex=sex, age=age,
                                              groups=[group, REFERENCE_GROUPS.get(dimension_of(group), group)])
    polarity = queries.fetch_indicator(cursor(), indicator, load_catalogue())["polarity"]
    return gap_engine.compute_gap_series(observations, polarity)


@st.cache_data(show_spinner=False)
def load_country_observations(geo: str, version: str) -> pd.DataFrame:
    """Every observation of one place (OBSERVATION_COLUMNS)."""
    return queries.fetch_latest_by_country(cursor(), geo)


@st.cache_data(show_spinner=False)
def load_places(version: str) -> pd.DataFrame:
    """Places with data: geo, geo_name, geo_level, indicators."""
    return queries.add_place_names(queries.fetch_places(cursor()))


@st.cache_data(show_spinner=False)
def load_datasets(version: str) -> pd.DataFrame:
    """Datasets with provenance (core.queries.fetch_datasets)."""
    return queries.fetch_datasets(cursor())


@st.cache_resource
def load_world_boundaries() -> dict:
    """Natural Earth country polygons keyed by ISO alpha-3 (data/boundaries/world.geojson)."""
    return boundaries.load_world_boundaries()


#: The URL the browser fetches the world boundaries from (Streamlit static serving, on 127.0.0.1).
WORLD_GEOJSON_URL = boundaries.WORLD_GEOJSON_URL


@st.cache_resource
def load_world_points() -> pd.DataFrame:
    """One representative point per country (for small states without a polygon)."""
    return boundaries.load_world_points()


@st.cache_data(show_spinner=False)
def load_latest_values(indicator: str, version: str) -> pd.DataFrame:
    """The latest value of a context indicator (one group 'total') per place: geo, geo_name, period, value."""
    observations = queries.fetch_observations(cursor(), indicator, groups=["total"], sex="T")
    observations = observations.loc[observations["value"].notna()]
    latest = observations.sort_values("period").groupby("geo", as_index=False).last()
    return queries.add_place_names(latest[["geo", "period", "value"]])
