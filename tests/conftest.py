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
def app_database(built_database, tmp_path, monkeypatch) -> Path:
    """A private copy of the built database, set as $RIGHTSGAP_DB for the app under test."""
    import shutil

    path = tmp_path / "app.duckdb"
    shutil.copy(built_database, path)
    monkeypatch.setenv("RIGHTSGAP_DB", str(path))
    return path
