"""Shared fixtures: the real ../shared/data folder and a database file of the test's own."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def built_database(tmp_path_factory) -> Path:
    """A database file built once per test session from the embedded default (never the app's own file)."""
    from core import store

    path = tmp_path_factory.mktemp("store") / "rightsgap.duckdb"
    store.build_store(path)
    return path


@pytest.fixture
def private_store(built_database, tmp_path):
    """The root connection of a private copy of the built store (embedded data), closed after the test."""
    import shutil

    from core import store

    path = tmp_path / "private.duckdb"
    shutil.copy(built_database, path)
    connection = store.open_database(path)
    yield connection
    connection.close()


@pytest.fixture
def app_database(built_database, tmp_path, monkeypatch) -> Path:
    """A private copy of the built database, set as $RIGHTSGAP_DB for the app under test."""
    import shutil

    path = tmp_path / "app.duckdb"
    shutil.copy(built_database, path)
    monkeypatch.setenv("RIGHTSGAP_DB", str(path))
    return path


def open_app(page: str | None = None, **query):
    """Run app.py with these URL query parameters (as a copied link would), then switch to ``page``.

    Clears Streamlit's caches first: each test has its own database file. Fails on any exception.
    """
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_resource.clear()
    st.cache_data.clear()
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    for key, value in query.items():
        app.query_params[key] = str(value)
    app.run()
    if page:
        app.switch_page(page).run()
    assert not app.exception, app.exception
    return app
