"""The DuckDB store: schema, building the embedded default, and connections.

Schema (one database file; the embedded default is rebuilt from data/ when data/ changes):

- ``observations``: one row per observation, columns as core.importer.OBSERVATION_COLUMNS
  (indicator, dataset, geo, geo_level, period INTEGER, sex, age, "group", unit, value DOUBLE,
  flags, se, ci_lower, ci_upper, population DOUBLE, source, licence).
- ``datasets``: one row per dataset: name (primary key), kind ('embedded' | 'uploaded'), title,
  producer, producer_type ('official' | 'civil_society'), source (attribution), licence, url,
  as_of, file_name, sha256, loaded_at (timestamp), row_count, detection (JSON text),
  mapping (JSON text).
- ``custom_indicators``: indicators defined by analysts at upload time: code, definition (JSON text
  of a catalogue entry).
- ``meta``: key/value (e.g. the fingerprint of the embedded data last built).

Connections: open one root connection per process (``open_database``) and give each query or
session its own ``root.cursor()``; DuckDB connections are not shared across threads.
"""
from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pandas as pd
import yaml

from core.importer import OBSERVATION_COLUMNS

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
OBSERVATIONS_DIR = DATA_DIR / "observations"
SOURCES_FILE = DATA_DIR / "sources.yaml"
DEFAULT_DB_PATH = PROJECT_ROOT / ".rightsgap" / "rightsgap.duckdb"

SCHEMA = """
CREATE TABLE IF NOT EXISTS datasets (
    name VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, title VARCHAR, producer VARCHAR,
    producer_type VARCHAR, source VARCHAR, licence VARCHAR, url VARCHAR, as_of VARCHAR,
    file_name VARCHAR, sha256 VARCHAR, loaded_at TIMESTAMP, row_count BIGINT,
    detection VARCHAR, mapping VARCHAR
);
CREATE TABLE IF NOT EXISTS observations (
    indicator VARCHAR NOT NULL, dataset VARCHAR NOT NULL, geo VARCHAR NOT NULL, geo_level VARCHAR NOT NULL,
    period INTEGER NOT NULL, sex VARCHAR NOT NULL, age VARCHAR NOT NULL, "group" VARCHAR NOT NULL,
    unit VARCHAR NOT NULL, value DOUBLE, flags VARCHAR, se DOUBLE, ci_lower DOUBLE, ci_upper DOUBLE,
    population DOUBLE, source VARCHAR, licence VARCHAR
);
CREATE TABLE IF NOT EXISTS custom_indicators (code VARCHAR PRIMARY KEY, definition VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
"""


def default_db_path() -> Path:
    """The database file: $RIGHTSGAP_DB if set, else .rightsgap/rightsgap.duckdb in the project."""
    return Path(os.environ.get("RIGHTSGAP_DB", DEFAULT_DB_PATH))


def open_database(path: Path | str | None = None, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the database file and make sure the schema exists.

    Returns the root connection; hand ``root.cursor()`` to each thread or query.
    Raises duckdb.IOException when another process holds the file.
    """
    path = Path(path) if path else default_db_path()
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect(str(path), read_only=read_only)
    if not read_only:
        connection.execute(SCHEMA)
    return connection


def compute_embedded_fingerprint() -> str:
    """SHA-256 over the embedded data files (observations, sources, catalogue): changes when data/ changes."""
    digest = hashlib.sha256()
    files = sorted(OBSERVATIONS_DIR.glob("*.csv")) + [SOURCES_FILE, DATA_DIR / "catalogue.yaml"]
    for file in files:
        if file.exists():
            digest.update(file.name.encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def read_embedded_sources() -> list[dict]:
    """The embedded datasets' provenance from data/sources.yaml: list of dicts with name, title,
    producer, producer_type, source, licence, url, as_of."""
    return yaml.safe_load(SOURCES_FILE.read_text(encoding="utf-8"))["datasets"]


def read_embedded_observations() -> pd.DataFrame:
    """All tidy CSV files of data/observations as one DataFrame (OBSERVATION_COLUMNS)."""
    frames = [
        pd.read_csv(file, dtype={"geo": str, "sex": str, "age": str, "group": str, "flags": str}, keep_default_na=False,
                    na_values={"value": [""], "se": [""], "ci_lower": [""], "ci_upper": [""], "population": [""]})
        for file in sorted(OBSERVATIONS_DIR.glob("*.csv"))
    ]
    if not frames:
        raise FileNotFoundError(f"no embedded observations in {OBSERVATIONS_DIR}; run scripts/build_embedded_data.py")
    return pd.concat(frames, ignore_index=True)[OBSERVATION_COLUMNS]


def ensure_embedded_data(connection: duckdb.DuckDBPyConnection, force: bool = False) -> bool:
    """Load the embedded default into the store unless it is already there and up to date.

    Idempotent: uploaded datasets are kept; embedded ones are replaced in one transaction.
    Returns True when it (re)built, False when the store was already current.
    """
    fingerprint = compute_embedded_fingerprint()
    current = connection.execute("SELECT value FROM meta WHERE key = 'embedded_fingerprint'").fetchall()
    if current and current[0][0] == fingerprint and not force:
        return False
    observations = read_embedded_observations()
    sources = read_embedded_sources()
    counts = observations.groupby("dataset").size().to_dict()
    connection.execute("BEGIN TRANSACTION")
    try:
        connection.execute("DELETE FROM observations WHERE dataset IN (SELECT name FROM datasets WHERE kind = 'embedded')")
        connection.execute("DELETE FROM datasets WHERE kind = 'embedded'")
        for source in sources:
            connection.execute(
                "INSERT INTO datasets (name, kind, title, producer, producer_type, source, licence, url, as_of, row_count, loaded_at) "
                "VALUES ($name, 'embedded', $title, $producer, $producer_type, $source, $licence, $url, $as_of, $rows, $loaded_at)",
                {**{k: source.get(k) for k in ("name", "title", "producer", "producer_type", "source", "licence", "url", "as_of")},
                 "rows": int(counts.get(source["name"], 0)), "loaded_at": datetime.now(timezone.utc).replace(tzinfo=None)},
            )
        connection.register("embedded_observations", observations)
        columns = ", ".join(f'"{c}"' for c in OBSERVATION_COLUMNS)
        connection.execute(f"INSERT INTO observations ({columns}) SELECT {columns} FROM embedded_observations ORDER BY indicator, geo, period")
        connection.unregister("embedded_observations")
        connection.execute("INSERT OR REPLACE INTO meta VALUES ('embedded_fingerprint', ?)", [fingerprint])
        connection.execute("COMMIT")
    except Exception:
        connection.execute("ROLLBACK")
        raise
    return True


def build_store(path: Path | str | None = None, force: bool = False) -> Path:
    """Create or update the database file with the embedded default (see ensure_embedded_data)."""
    path = Path(path) if path else default_db_path()
    connection = open_database(path)
    try:
        ensure_embedded_data(connection, force=force)
    finally:
        connection.close()
    return path


def to_json_text(value) -> str:
    """JSON text for the detection/mapping columns (non-JSON values written as strings)."""
    return json.dumps(value, default=str, ensure_ascii=False)
