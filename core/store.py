"""The DuckDB store: schema, building the embedded default, and connections.

Schema (one database file; the embedded default is rebuilt from data/ when data/ changes):

- ``observations``: one row per observation, columns STORED_COLUMNS (indicator, dataset, geo,
  geo_level, period INTEGER, sex, age, "group", unit, value DOUBLE, flags, se, ci_lower, ci_upper,
  population DOUBLE): core.importer.OBSERVATION_COLUMNS without source and licence, which are the
  same on every row of a dataset and are kept once, in ``datasets`` (two more text columns written
  on every row cost about 4% of the load of a large upload, see benchmarks/RESULTS.md).
- ``observations_with_provenance`` (a view): observations with their dataset's source and licence,
  columns OBSERVATION_COLUMNS in that order. Read observations through it wherever the source or
  licence is shown.
- ``datasets``: one row per dataset: name (primary key), kind ('embedded' | 'uploaded'), title,
  producer, producer_type ('official' | 'civil_society'), source (attribution), licence, url,
  as_of, file_name, sha256, loaded_at (timestamp), row_count, detection (JSON text),
  mapping (JSON text).
- ``custom_indicators``: indicators defined by analysts at upload time: code, definition (JSON text
  of a catalogue entry).
- ``meta``: key/value (e.g. the fingerprint of the embedded data last built; ``data_version``, a
  counter bumped by every load, rename and delete of uploaded data, read by queries.fetch_data_version;
  ``schema_version``, SCHEMA_VERSION of the layout, see migrate_schema).
- ``boundaries``: boundaries of local units uploaded as GeoJSON: name (primary key), file_name,
  sha256, code_property, feature_count, codes (JSON list), geojson (FeatureCollection text), loaded_at.

Uploads (core.upload) stage each file in TEMP tables of the uploading session's own cursor
(upload_grid_cells seen through the view upload_grid, upload_staged, upload_rejected and the lookup_*
tables), so that two sessions never see each other's unfinished work; commit_staged_upload then
stores the usable rows in one transaction.

Connections: open one root connection per process (``open_database``) and give each query or
session its own ``root.cursor()``; DuckDB connections are not shared across threads.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pandas as pd

from core.catalogue import load_yaml
from core.importer import OBSERVATION_COLUMNS

#: Provenance columns of an observation kept once per dataset (in ``datasets``), not on every stored row.
PROVENANCE_COLUMNS: tuple[str, ...] = ("source", "licence")
#: Columns of the ``observations`` table, in order.
STORED_COLUMNS: list[str] = [c for c in OBSERVATION_COLUMNS if c not in PROVENANCE_COLUMNS]
#: The store's layout. 2: source and licence moved from ``observations`` to ``datasets`` (a file of
#: version 1 is migrated when opened for writing, uploads kept).
SCHEMA_VERSION = 2

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
    population DOUBLE
);
CREATE TABLE IF NOT EXISTS custom_indicators (code VARCHAR PRIMARY KEY, definition VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
"""
#: Created after migrate_schema (an observations table of version 1 still has source and licence).
VIEWS = """
CREATE OR REPLACE VIEW observations_with_provenance AS
SELECT o.*, d.source, d.licence FROM observations o LEFT JOIN datasets d ON d.name = o.dataset;
"""


def default_db_path() -> Path:
    """The database file: $RIGHTSGAP_DB if set, else .rightsgap/rightsgap.duckdb in the project."""
    return Path(os.environ.get("RIGHTSGAP_DB", DEFAULT_DB_PATH))


#: Bytes 8-11 of every DuckDB database file.
_DUCKDB_MAGIC = b"DUCK"


class NotADatabase(OSError):
    """A path given as the store that holds some other file (a CSV, a spreadsheet ...)."""


def open_database(path: Path | str | None = None, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the database file and make sure the schema exists.

    Returns the root connection; hand ``root.cursor()`` to each thread or query.
    Raises duckdb.IOException when another process holds the file, and NotADatabase when the path is
    an existing file that is not a DuckDB database (DuckDB would open a CSV file as a throwaway
    in-memory store, so a load would say 'loaded' and keep nothing).
    """
    path = Path(path) if path else default_db_path()
    if str(path) != ":memory:":
        if path.is_file() and path.stat().st_size:
            with open(path, "rb") as handle:
                if handle.read(12)[8:12] != _DUCKDB_MAGIC:
                    raise NotADatabase(f"{path} is not a RightsGap database (a DuckDB file); give another path, "
                                       "for example one ending in .duckdb")
        path.parent.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect(str(path), read_only=read_only)
    if not read_only:
        connection.execute(SCHEMA)
        connection.execute(UPLOAD_SCHEMA)
        migrate_schema(connection)
        connection.execute(VIEWS)
    return connection


def migrate_schema(connection: duckdb.DuckDBPyConnection) -> bool:
    """Bring a database file of an older layout to SCHEMA_VERSION, in one transaction, keeping
    every dataset (embedded and uploaded) and its rows.

    Version 1 -> 2: drop observations.source and .licence. Nothing is lost: every load wrote the
    same source and licence into its ``datasets`` row, which the view observations_with_provenance
    joins back. Writes meta 'schema_version'. Returns True when it changed the layout.
    """
    columns = {name for (name,) in connection.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'observations' "
        "AND table_schema = 'main' AND table_catalog = current_database()").fetchall()}
    old = [c for c in PROVENANCE_COLUMNS if c in columns]
    version = connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
    if not old and version and version[0][0] == str(SCHEMA_VERSION):
        return False
    connection.execute("BEGIN TRANSACTION")
    try:
        connection.execute("DROP VIEW IF EXISTS observations_with_provenance")
        for column in old:  # names from PROVENANCE_COLUMNS, never user text
            connection.execute(f"ALTER TABLE observations DROP COLUMN {column}")
        connection.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
        connection.execute("COMMIT")
    except Exception:
        connection.execute("ROLLBACK")
        raise
    return bool(old)


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
    return load_yaml(SOURCES_FILE.read_text(encoding="utf-8"))["datasets"]


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
    check_embedded_provenance(observations, sources)
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
        columns = ", ".join(f'"{c}"' for c in STORED_COLUMNS)
        connection.execute(f"INSERT INTO observations ({columns}) SELECT {columns} FROM embedded_observations ORDER BY indicator, geo, period")
        connection.unregister("embedded_observations")
        connection.execute("INSERT OR REPLACE INTO meta VALUES ('embedded_fingerprint', ?)", [fingerprint])
        connection.execute("COMMIT")
    except Exception:
        connection.execute("ROLLBACK")
        raise
    return True


def check_embedded_provenance(observations: pd.DataFrame, sources: list[dict]) -> None:
    """Check that keeping source and licence once per dataset loses nothing: each dataset's rows
    (OBSERVATION_COLUMNS) carry one source and one licence, the licence of its data/sources.yaml
    entry and its attribution (or the beginning of it: sources.yaml may add a description).
    Raises ValueError naming the dataset and the texts otherwise."""
    declared = {source["name"]: source for source in sources}
    pairs = observations.groupby("dataset")[list(PROVENANCE_COLUMNS)].agg(lambda column: sorted(set(column)))
    for name, row in pairs.iterrows():
        entry = declared.get(name)
        if entry is None:
            raise ValueError(f"dataset {name!r} has observations but no entry in {SOURCES_FILE.name}")
        if len(row["source"]) != 1 or len(row["licence"]) != 1:
            raise ValueError(f"dataset {name!r}: its rows carry several sources {row['source']} or licences "
                             f"{row['licence']}; the store keeps one per dataset")
        if row["licence"][0] != (entry.get("licence") or ""):
            raise ValueError(f"dataset {name!r}: licence {row['licence'][0]!r} on its rows, {entry.get('licence')!r} in "
                             f"{SOURCES_FILE.name}")
        if not (entry.get("source") or "").startswith(row["source"][0]):
            raise ValueError(f"dataset {name!r}: source {row['source'][0]!r} on its rows, {entry.get('source')!r} in "
                             f"{SOURCES_FILE.name}")


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


# ------------------------------------------------------------------------------------------------
# Uploaded datasets: staging in TEMP tables, validation queries, the one-transaction load, and the
# dataset manager's list / rename / delete. TEMP tables live on the cursor that made them, so two
# sessions staging at once (each with its own cursor) never see each other's unfinished work.
# Identifiers are never user text: grid columns are c0, c1 ... (generated), lookup and staging
# table names come from the whitelists below; every value from a file is a parameter.
# ------------------------------------------------------------------------------------------------

UPLOAD_SCHEMA = """
CREATE TABLE IF NOT EXISTS boundaries (
    name VARCHAR PRIMARY KEY, file_name VARCHAR, sha256 VARCHAR, code_property VARCHAR,
    feature_count INTEGER, codes VARCHAR, geojson VARCHAR NOT NULL, loaded_at TIMESTAMP
);
"""

#: Text columns of the long staging table, one per role (see core.upload.ROLES), in this order.
LONG_TEXT_COLUMNS = ("geo_text", "period_text", "value_text", "flag_text", "group_text", "sex_text", "age_text",
                     "unit_text", "indicator_text", "se_text", "ci_lower_text", "ci_upper_text", "population_text")
#: Lookup tables: each distinct cell text (raw, '' for empty) -> key (a small integer standing for
#: the resolved value; NULL when unknown or left out), status ('ok' | 'unknown' | 'left_out') and
#: the resolved value(s). Registered from small DataFrames built in Python (core.upload).
LOOKUP_TABLES: dict[str, tuple[str, ...]] = {
    "lookup_place": ("text", "key", "status", "geo", "geo_level"),
    "lookup_group": ("text", "key", "status", "grp"),
    "lookup_sex": ("text", "key", "status", "sex"),
    "lookup_age": ("text", "key", "status", "age"),
    "lookup_indicator": ("text", "key", "status", "indicator", "unit"),
    "lookup_flag": ("text", "key", "status", "flags"),
    "lookup_period": ("text", "key", "status", "period"),
}
_INTEGER_COLUMNS = {"key", "period"}
_GRID_COLUMN = re.compile(r"c\d{1,5}")
_DELIMITERS = {",", ";", "\t", "|"}
#: Earliest year accepted in an upload (the latest: next year, for provisional data).
FIRST_YEAR = 1900
class LoadError(RuntimeError):
    """A load, rename or delete failed inside its transaction (the database refused a write, ran out
    of memory or disk ...); it was rolled back and nothing of it was stored."""


class UploadConflictError(LoadError):
    """A load could not be committed because another load changed the same data at the same time,
    or the dataset name was taken meanwhile; nothing of this load was stored."""


def ensure_upload_schema(connection: duckdb.DuckDBPyConnection) -> None:
    """Create the tables uploads need beyond SCHEMA (boundaries) when they are missing."""
    connection.execute(UPLOAD_SCHEMA)


def _used(sql: str, parameters: dict) -> dict:
    """The named parameters a statement uses (DuckDB refuses unused ones)."""
    return {k: v for k, v in parameters.items() if re.search(rf"\${k}\b", sql)}


def _grid_column(name: str) -> str:
    if not _GRID_COLUMN.fullmatch(name):
        raise ValueError(f"not a grid column: {name!r}")
    return name


def stage_grid_from_csv(cursor: duckdb.DuckDBPyConnection, path: str, delimiter: str, skip_lines: int,
                        column_count: int, first_row: int) -> int:
    """Read delimited UTF-8 text with DuckDB's CSV reader into the staged grid, every cell as text,
    without type sniffing: the TEMP table upload_grid_cells (c0 .. c{n-1} VARCHAR, in file order)
    and the TEMP view upload_grid (source_row BIGINT, c0 ..) over it.

    skip_lines: lines above the first data row; first_row: the 1-based line number of the first
    data row (source_row counts from it). Blank lines are skipped by DuckDB, so the caller checks
    the row count against the file's line count and falls back when they differ.
    source_row is the table's rowid plus first_row: the rows are stored in file order (insertion
    order is preserved) and never deleted, so the rowid is the row's position. (A
    ``row_number() OVER ()`` column cost as much as reading the file.)
    Returns the number of rows staged. Raises duckdb.Error when the text does not parse with these
    settings (e.g. a row with more fields than columns).
    """
    if delimiter not in _DELIMITERS:
        raise ValueError(f"unsupported delimiter {delimiter!r}")
    names = [f"c{i}" for i in range(column_count)]
    columns = "{" + ", ".join(f"'{name}': 'VARCHAR'" for name in names) + "}"
    cursor.execute(
        f"CREATE OR REPLACE TEMP TABLE upload_grid_cells AS SELECT {', '.join(names)} "
        f"FROM read_csv($path, header = false, skip = $skip, delim = $delim, quote = '\"', escape = '\"', "
        f"all_varchar = true, auto_detect = false, null_padding = true, columns = {columns})",
        {"path": path, "skip": skip_lines, "delim": delimiter},
    )
    # a view holds no parameters: the offset is an integer made here, never text from the file
    cursor.execute(f"CREATE OR REPLACE TEMP VIEW upload_grid AS SELECT (rowid + {int(first_row)})::BIGINT AS source_row, "
                   f"{', '.join(names)} FROM upload_grid_cells")
    return cursor.execute("SELECT count(*) FROM upload_grid_cells").fetchall()[0][0]


def stage_grid_from_frame(cursor: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> int:
    """Copy a grid read in Python (core.readers.Grid.frame: c0.. text, source_row) into the TEMP
    table upload_grid_cells, seen through the TEMP view upload_grid (source_row, c0 ..).
    Returns the number of rows."""
    columns = [_grid_column(c) for c in frame.columns if c != "source_row"]
    cursor.register("upload_grid_frame", frame)
    try:
        select = ", ".join(f"CAST({c} AS VARCHAR) AS {c}" for c in columns)
        cursor.execute(f"CREATE OR REPLACE TEMP TABLE upload_grid_cells AS SELECT CAST(source_row AS BIGINT) AS source_row"
                       f"{', ' if select else ''}{select} FROM upload_grid_frame")
    finally:
        cursor.unregister("upload_grid_frame")
    cursor.execute("CREATE OR REPLACE TEMP VIEW upload_grid AS SELECT * FROM upload_grid_cells")
    return cursor.execute("SELECT count(*) FROM upload_grid_cells").fetchall()[0][0]


def fetch_grid_rows(cursor: duckdb.DuckDBPyConnection, limit: int = 20) -> pd.DataFrame:
    """The first rows of the staged grid (source_row, c0 ..), for previews."""
    return cursor.execute("SELECT * FROM upload_grid ORDER BY source_row LIMIT $limit", {"limit": limit}).df()


def fetch_distinct_cells(cursor: duckdb.DuckDBPyConnection, column: str, last_row: int | None = None,
                         limit: int = 5000, sample_rows: int | None = None, first_row: int = 1) -> pd.DataFrame:
    """Distinct texts of one staged grid column with their row counts: columns value (str, '' for
    empty), rows (int), first_row (int); most frequent first, at most ``limit``. sample_rows: look
    only at the rows on the sample_rows lines from first_row, the first data row (for guesses on
    large files; fewer rows when blank lines were skipped)."""
    column = _grid_column(column)
    # the first rows by their number, a range DuckDB applies while scanning (a LIMIT in a subquery
    # took 11 ms against 7 a query on a million rows)
    where = []
    if last_row is not None:
        where.append("source_row <= $last")
    if sample_rows:
        where.append("source_row < $sample_end")
    return cursor.execute(
        f"SELECT coalesce(trim({column}), '') AS value, count(*) AS rows, min(source_row) AS first_row FROM upload_grid "
        + (f"WHERE {' AND '.join(where)} " if where else "") + "GROUP BY ALL ORDER BY rows DESC, first_row LIMIT $limit",
        {"limit": limit, **({"last": int(last_row)} if last_row is not None else {}),
         **({"sample_end": int(first_row) + int(sample_rows)} if sample_rows else {})},
    ).df()


class LongPlan:
    """How the staged grid becomes one row per observation cell (the 'long' table), as SQL.

    parts: one dict per value column (one for a tidy table, one per year or per group column):
        {"value_column": header text of the value cell (reported in problems),
         role text column (LONG_TEXT_COLUMNS) -> ("column", "c3") | ("literal", "text") | None}.
        A long row carries its part's index (``part``), not the header text.
    filters: (grid column, accepted texts) pairs; rows whose cell is not accepted are left out.
    last_row: rows below it (notes) are left out. Blank grid rows are always left out.
    Cells are raw text (NULL when empty): trimming and resolving happen once per distinct text in
    the lookups. (Blank lines never reach the grid; a row of empty cells has neither place nor
    value and is left out.) The SQL is built from generated identifiers only; texts travel as parameters.
    """

    def __init__(self, parts: list[dict], filters: list[tuple[str, list[str]]], last_row: int | None):
        if not parts:
            raise ValueError("no value column to read")
        self.parts, self.filters, self.last_row = parts, filters, last_row

    def _where(self, cursor, parameters: dict, with_filters: bool = True) -> str:
        where = ["true"]
        if self.last_row is not None:  # no condition at all when the table runs to the end of the file
            parameters["last"] = int(self.last_row)
            where.append("g.source_row <= $last")
        if with_filters:
            for number, (column, accepted) in enumerate(self.filters):
                parameters[f"f{number}"] = [str(a) for a in accepted]
                where.append(f"list_contains($f{number}, coalesce(trim(g.{_grid_column(column)}), ''))")
        return " AND ".join(where)

    @staticmethod
    def _expression(source, key: str, parameters: dict) -> str:
        if source is None:
            return "NULL::VARCHAR"
        if source[0] == "column":
            return f"nullif(g.{_grid_column(source[1])}, '')"
        parameters[key] = str(source[1])
        return f"${key}::VARCHAR"

    def select(self, cursor, parameters: dict, columns: tuple[str, ...] = LONG_TEXT_COLUMNS) -> str:
        """SELECT source_row, part, <columns> over upload_grid (UNION ALL of the parts)."""
        where = self._where(cursor, parameters)
        selects = []
        for index, part in enumerate(self.parts):
            expressions = [f"{index}::SMALLINT AS part"]
            expressions += [f"{self._expression(part.get(c), f'l{index}_{c}', parameters)} AS {c}" for c in columns]
            selects.append(f"SELECT g.source_row, {', '.join(expressions)} FROM upload_grid g WHERE {where}")
        return " UNION ALL ".join(selects)

    def count(self, cursor) -> tuple[int, int]:
        """(observation cells before the filters, after them): rows x value columns."""
        parameters: dict = {}
        all_rows = self._where(cursor, parameters, with_filters=False)
        kept = self._where(cursor, parameters)
        row = cursor.execute(f"SELECT count(*), count(*) FILTER (WHERE {kept}) FROM upload_grid g WHERE {all_rows}",
                             parameters).fetchall()[0]
        return row[0] * len(self.parts), row[1] * len(self.parts)

    def distinct(self, cursor, columns: list[str], sample_every: int | None = None) -> dict[str, list[str]]:
        """{role column: distinct raw texts ('' for empty)} for several LONG_TEXT_COLUMNS at once
        (one scan of the grid for all the grid columns they read).

        sample_every: look only at about one row in sample_every, chosen by a hash of the row
        number (no stride that could fall in step with the file's own order); the texts are then
        those of the sampled rows only (see stage_observations, complete_lookups)."""
        unknown = [c for c in columns if c not in LONG_TEXT_COLUMNS]
        if unknown:
            raise ValueError(f"not long-table columns: {unknown}")
        grid_columns = sorted({part[c][1] for part in self.parts for c in columns
                               if part.get(c) is not None and part[c][0] == "column"})
        found: dict[str, set[str]] = {}
        if grid_columns:
            parameters: dict = {}
            source, where = "upload_grid g", self._where(cursor, parameters)
            if sample_every and where == "true":
                # every row counts: sample the grid's table by its rowid, a condition DuckDB applies
                # before reading the texts (through the view's source_row it reads them all: 43 ms
                # against 23 ms a million rows)
                source, where = "upload_grid_cells g", f"hash(g.rowid) % {int(sample_every)} = 0"
            elif sample_every:
                where += f" AND hash(g.source_row) % {int(sample_every)} = 0"
            select = ", ".join(f"list(DISTINCT g.{_grid_column(c)}), bool_or(g.{c} IS NULL)" for c in grid_columns)
            row = cursor.execute(f"SELECT {select} FROM {source} WHERE {where}", parameters).fetchall()[0]
            for index, column in enumerate(grid_columns):
                values = {v for v in (row[2 * index] or []) if v is not None}
                if row[2 * index + 1]:
                    values.add("")
                found[column] = values
        result = {}
        for column in columns:
            values: set[str] = set()
            for part in self.parts:
                source = part.get(column)
                if source is None:
                    values.add("")
                elif source[0] == "literal":
                    values.add(str(source[1]))
                else:
                    values |= found.get(source[1], set())
            result[column] = sorted(values)
        return result


def register_lookup(cursor: duckdb.DuckDBPyConnection, name: str, rows: list[tuple]) -> None:
    """Store a small lookup as the TEMP table ``name`` (one of LOOKUP_TABLES): rows are tuples of its
    columns in order (key and period int or None, the rest str or None). Raises ValueError for
    another table name or a row of another length."""
    columns = LOOKUP_TABLES.get(name)
    if columns is None or any(len(row) != len(columns) for row in rows):
        raise ValueError(f"bad lookup table {name!r} or rows of the wrong length")
    # one statement with a list per column (no DataFrame to convert: 7 lookups took 30 ms that way)
    values = {f"v{i}": [row[i] for row in rows] for i in range(len(columns))}
    select = ", ".join(f"CAST(unnest($v{i}::{'INTEGER' if c in _INTEGER_COLUMNS else 'VARCHAR'}[]) AS "
                       f"{'INTEGER' if c in _INTEGER_COLUMNS else 'VARCHAR'}) AS {c}" for i, c in enumerate(columns))
    cursor.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {select}", values)


#: Problem classes found row by row (bits of upload_staged.errors, in this order), and across rows
#: (rows of upload_rejected).
ERROR_KINDS = ("value", "place", "period", "year_range", "group", "sex", "indicator", "se", "ci_lower", "ci_upper",
               "population", "se_negative", "ci_order", "percent_range")
#: 'repeat' is no problem: a later row repeating an earlier one exactly, kept once (not stored twice).
CROSS_ROW_KINDS = ("duplicate", "repeat", "share_mixed", "mixed_dimensions")
#: The errors bit of a row whose text has no lookup entry (lookups from a sample), above ERROR_KINDS.
_UNLISTED = 1 << len(ERROR_KINDS)
_KEYS = ("ind", "place", "period", "sex", "age", "grp")


def stage_observations(cursor: duckdb.DuckDBPyConnection, plan: LongPlan, number_pattern: str, decimal: str,
                       thousands_pattern: str, missing_markers: list[str], value_scale: float = 1.0,
                       last_year: int | None = None, complete_lookups: bool = True) -> dict:
    """Turn the staged grid into the TEMP table upload_staged: one typed observation per cell, using
    the lookup tables (all must be registered); then find the problems across rows (duplicates,
    0-1 shares among percentages) into the small TEMP table upload_rejected (source_row, part,
    kind, duplicate_of, duplicate_first); kind 'repeat' marks a later row repeating an earlier one
    exactly (kept once, not a problem), 'duplicate' every row of an observation given with
    different values or flags.

    number_pattern: core.readers.number_pattern for the file's number format; decimal: its decimal
    mark; thousands_pattern: a regular expression matching its thousands separator ('$^' for none);
    missing_markers: cells meaning "no value"; value_scale: 100 turns 0-1 shares into percentages;
    last_year: the latest year accepted (default: next year); complete_lookups: False when the
    lookups were made from a sample of the rows (LongPlan.distinct, sample_every): a row whose text
    has no entry is then counted, and when there are such rows the function stops there and returns
    {"cells", "kept", "unlisted": rows} (nothing else checked: make the lookups from every row and
    stage again).

    upload_staged columns (compact: texts stay in the grid and the lookups): source_row, part
    (SMALLINT), ind, place, grp, sex, age, flag (INTEGER lookup keys, NULL when unknown), period
    (INTEGER), value, and se, ci_lower, ci_upper, population when the file has them (DOUBLE), cell_flags (VARCHAR: flag
    letters written in the value cell, NULL when none), errors (INTEGER, bit i set for
    ERROR_KINDS[i]; with lookups from a sample, the bit above them marks a text with no entry),
    left_out (a label mapped to 'leave out', or a row with neither place nor value) and clean (no
    error, not left out). Whether any observation key repeats is seen from a bitmap of the packed
    integer keys (_may_have_duplicates); the repeats are then found by hashing the keys.
    Each lookup must hold every distinct text of its column among the rows read (or, with
    complete_lookups False, texts of some of them).
    Returns {"cells": n, "kept": n (after filters, the rows of upload_staged), "clean": n, "left_out": n,
    "rejected": rows in upload_rejected (exact repeats included)}.
    """
    last_year = last_year or datetime.now(timezone.utc).year + 1
    simple = r"[-+]?[0-9]+(\.[0-9]+)?" if decimal == "." else r"[-+]?[0-9]+"
    # a missing marker, as one regular expression tried only on cells that are not plain numbers
    # (list_contains over trimmed cells became two joins over every row: about 40 ms a million)
    markers = " *(?:" + "|".join(re.escape(m) for m in sorted(missing_markers)) + ") *"
    parameters = {"pattern": number_pattern, "decimal": decimal, "thousands": thousands_pattern, "markers": markers,
                  "simple": simple, "scale": float(value_scale), "first_year": FIRST_YEAR, "last_year": int(last_year)}
    long_sql = plan.select(cursor, parameters)
    cells, kept = plan.count(cursor)
    prefixes = {"v": "value_text", "se": "se_text", "lo": "ci_lower_text", "hi": "ci_upper_text", "po": "population_text"}
    present = {p for p, c in prefixes.items() if any(part.get(c) is not None for part in plan.parts)}

    def split(prefix: str) -> str:
        if prefix not in present:
            return f"true AS {prefix}_missing, NULL::STRUCT(n VARCHAR, m VARCHAR, f VARCHAR) AS {prefix}_parts, '' AS {prefix}_cell"
        column = prefixes[prefix]
        return f"""coalesce({column}, '') AS {prefix}_cell,
            regexp_full_match(coalesce({column}, ''), $simple) AS {prefix}_simple,
            CASE WHEN {prefix}_simple THEN false ELSE regexp_full_match(coalesce({column}, ''), $markers) END AS {prefix}_missing,
            CASE WHEN {prefix}_simple OR {prefix}_missing THEN NULL
                 ELSE regexp_extract({column}, $pattern, ['n', 'm', 'f']) END AS {prefix}_parts"""

    def number(prefix: str) -> str:
        if prefix not in present:
            return f"NULL::DOUBLE AS {prefix}_number, false AS {prefix}_bad"
        return f"""CASE WHEN {prefix}_missing THEN NULL
             WHEN {prefix}_simple THEN TRY_CAST({prefix}_cell AS DOUBLE)
             WHEN {prefix}_parts.n <> '' AND {prefix}_parts.m = ''
                  THEN TRY_CAST(replace(regexp_replace({prefix}_parts.n, $thousands, '', 'g'), $decimal, '.') AS DOUBLE)
             ELSE NULL END AS {prefix}_number,
             (NOT {prefix}_simple AND NOT {prefix}_missing AND NOT (
                    regexp_matches({prefix}_cell, $pattern) AND (({prefix}_parts.n <> '') <> ({prefix}_parts.m <> '')))) AS {prefix}_bad"""

    bits = {kind: 1 << index for index, kind in enumerate(ERROR_KINDS)}
    # Each lookup holds every distinct text of its column among the rows read, so a lookup of one
    # entry applies to every row (no join), and when every period text is a year written plainly
    # ('2019') the year is the text itself (a cast, no join): each join saved is about 8 ms a million.
    lookups = (("lookup_place", "pl", "geo_text"), ("lookup_group", "gr", "group_text"), ("lookup_sex", "sx", "sex_text"),
               ("lookup_age", "ag", "age_text"), ("lookup_indicator", "ind", "indicator_text"), ("lookup_flag", "fl", "flag_text"),
               ("lookup_period", "pe", "period_text"))
    # entries, largest key, and (for periods) the years and whether all are written plainly: one
    # UNION ALL (scalar subqueries of the same took 6 ms to plan, this takes 1)
    found = {name: values for name, *values in cursor.execute(" UNION ALL ".join(
        [f"SELECT '{table}', count(*)::BIGINT, max(key)::BIGINT FROM {table}" for table, _, _ in lookups]
        + ["SELECT 'years', min(period)::BIGINT, max(period)::BIGINT FROM lookup_period",
           "SELECT 'plain_years', (coalesce(bool_and(coalesce(text = CAST(period AS VARCHAR), false)), false))::BIGINT, "
           "NULL FROM lookup_period"])).fetchall()}
    plain_years = bool(found["plain_years"][0])
    plain_years = plain_years and complete_lookups  # (a text outside a sample may be '2019-A1')
    # Each lookup row brings its key, its error bit when unknown ('bad'), whether it is left out
    # ('out', never NULL: NULL after the join means no entry) and what else the checks need, all
    # worked out once per lookup row instead of string comparisons on every staged row.
    unknown_bit = {"lookup_place": bits["place"], "lookup_group": bits["group"], "lookup_sex": bits["sex"],
                   "lookup_indicator": bits["indicator"]}
    extra = {"lookup_indicator": ", unit = 'percent' AS percent", "lookup_period": ", period"}
    joins, unlisted = [], []
    for table, alias, column in lookups:
        size = found[table][0]
        if table == "lookup_period" and plain_years:
            continue
        select = (f"SELECT text, key, CASE WHEN status = 'unknown' THEN {unknown_bit.get(table, 0)} ELSE 0 END AS bad, "
                  f"status = 'left_out' AS out{extra.get(table, '')} FROM {table}")
        if size == 1:
            joins.append(f"CROSS JOIN ({select}) {alias}")
            unlisted.append(f"coalesce(n.{column}, '') <> {alias}.text")
        else:
            joins.append(f"LEFT JOIN ({select}) {alias} ON {alias}.text = coalesce(n.{column}, '')")
            unlisted.append(f"{alias}.out IS NULL")
    joins = "\n        ".join(joins)
    period = "TRY_CAST(n.period_text AS INTEGER)" if plain_years else "pe.period"
    # a text with no lookup entry (only possible when the lookups come from a sample)
    unlisted = "false" if complete_lookups else " OR ".join(unlisted)
    # se, bounds and population are stored only when the file has them (else NULL at insert time)
    uncertainty = "".join(f"n.{p}_number{' * $scale' if p != 'po' else ''} AS {name}, " for p, name in
                          (("se", "se"), ("lo", "ci_lower"), ("hi", "ci_upper"), ("po", "population")) if p in present)
    sql = f"""
    CREATE OR REPLACE TEMP TABLE upload_staged AS
    WITH cells AS (
        SELECT l.*, {', '.join(split(p) for p in prefixes)} FROM ({long_sql}) l
    ), numbers AS (
        SELECT *, {', '.join(number(p) for p in prefixes)} FROM cells
    ), typed AS (
        SELECT n.source_row, n.part, ind.key AS ind, pl.key AS place, gr.key AS grp, sx.key AS sex, ag.key AS age,
               fl.key AS flag, {period} AS period, n.v_number * $scale AS value,
               CASE WHEN n.v_parts IS NULL OR n.v_parts.f = '' THEN NULL ELSE lower(n.v_parts.f) END AS cell_flags,
               {uncertainty}
               coalesce(pl.out OR gr.out OR sx.out OR ind.out OR (n.geo_text IS NULL AND (n.v_missing OR n.v_cell = '')),
                        false) AS left_out,
               (CASE WHEN n.v_bad OR (n.v_number IS NOT NULL AND NOT isfinite(n.v_number)) THEN {bits['value']} ELSE 0 END)
             | coalesce(pl.bad, 0) | coalesce(gr.bad, 0) | coalesce(sx.bad, 0) | coalesce(ind.bad, 0)
             | (CASE WHEN {period} IS NULL THEN {bits['period']}
                     WHEN {period} < $first_year OR {period} > $last_year THEN {bits['year_range']} ELSE 0 END)
             | (CASE WHEN n.se_bad THEN {bits['se']} WHEN n.se_number < 0 THEN {bits['se_negative']} ELSE 0 END)
             | (CASE WHEN n.lo_bad THEN {bits['ci_lower']} ELSE 0 END) | (CASE WHEN n.hi_bad THEN {bits['ci_upper']} ELSE 0 END)
             | (CASE WHEN n.po_bad THEN {bits['population']} ELSE 0 END)
             | (CASE WHEN n.lo_number > n.hi_number THEN {bits['ci_order']} ELSE 0 END)
             | (CASE WHEN ind.percent AND (n.v_number * $scale < 0 OR n.v_number * $scale > 100)
                     THEN {bits['percent_range']} ELSE 0 END)
             | (CASE WHEN {unlisted} THEN {_UNLISTED} ELSE 0 END) AS errors
        FROM numbers n
        {joins}
    )
    SELECT *, NOT left_out AND errors = 0 AS clean FROM typed
    """
    cursor.execute(sql, _used(sql, parameters))
    cursor.execute("CREATE OR REPLACE TEMP TABLE upload_rejected (source_row BIGINT, part SMALLINT, kind VARCHAR, "
                   "duplicate_of BIGINT, duplicate_first BOOLEAN)")
    if not complete_lookups:
        missed = cursor.execute(f"SELECT count(*) FROM upload_staged WHERE errors >= {_UNLISTED}").fetchall()[0][0]
        if missed:
            return {"cells": cells, "kept": kept, "unlisted": missed}
    keys = ", ".join(_KEYS)
    # duplicates: the same observation twice among clean rows. When a bitmap of the packed keys shows
    # that some key may repeat (_may_have_duplicates), group by a hash of the integer keys, then
    # check the exact keys of the few candidates. An exact repeat (same value, flags and
    # uncertainty figures) is kept once: its later rows go in as 'repeat'. A conflict (the values
    # or flags differ) rejects every row of the observation as 'duplicate' (nobody can tell which is right).
    extra = [name for prefix, name in (("se", "se"), ("lo", "ci_lower"), ("hi", "ci_upper"), ("po", "population"))
             if prefix in present]
    identity = ", ".join(f"s.{c}" for c in ("value", "flag", "cell_flags", *extra))
    if _may_have_duplicates(cursor, found):  # else every clean row has an observation key of its own
        cursor.execute(f"""
    INSERT INTO upload_rejected
    WITH candidates AS (
        SELECT hash({keys}) AS key_hash FROM upload_staged WHERE clean GROUP BY key_hash HAVING count(*) > 1
    ), rows AS (
        SELECT s.source_row, s.part, {', '.join('s.' + k for k in _KEYS)}, row({identity}) AS identity FROM upload_staged s
        SEMI JOIN candidates c ON hash({', '.join('s.' + k for k in _KEYS)}) = c.key_hash WHERE s.clean
    ), firsts AS (
        SELECT {keys}, min(source_row) AS first_row, arg_min(part, source_row) AS first_part,
               count(DISTINCT identity) = 1 AS exact
        FROM rows GROUP BY {keys} HAVING count(*) > 1
    )
    SELECT r.source_row, r.part, CASE WHEN f.exact THEN 'repeat' ELSE 'duplicate' END, f.first_row,
           r.source_row = f.first_row AND r.part = f.first_part
    FROM rows r JOIN firsts f USING ({keys})
    WHERE NOT (f.exact AND r.source_row = f.first_row AND r.part = f.first_part)
    """)
    # a 0-1 share among percentages: a value in (0, 1] whose place and breakdown has values > 1 of
    # the same size as 100 times it (checked only when such small values exist)
    percent = "ind IN (SELECT key FROM lookup_indicator WHERE unit = 'percent')"
    small = cursor.execute(f"SELECT count(*) FROM upload_staged WHERE clean AND value > 0 AND value <= 1 AND {percent}").fetchall()[0][0]
    if small:
        cursor.execute(f"""
        INSERT INTO upload_rejected
        WITH small AS (SELECT source_row, part, ind, place, sex, age, value FROM upload_staged s
                       WHERE clean AND value > 0 AND value <= 1 AND {percent}
                       AND NOT EXISTS (SELECT 1 FROM upload_rejected r WHERE r.source_row = s.source_row AND r.part = s.part)),
             series AS (SELECT s.ind, s.place, s.sex, s.age, max(s.value) AS series_max FROM upload_staged s
                        SEMI JOIN (SELECT DISTINCT ind, place, sex, age FROM small) k USING (ind, place, sex, age)
                        WHERE s.clean GROUP BY ALL HAVING max(s.value) > 1)
        SELECT s.source_row, s.part, 'share_mixed', NULL, NULL
        FROM small s JOIN series m USING (ind, place, sex, age)
        WHERE 100 * s.value BETWEEN 0.5 * m.series_max AND 2 * m.series_max
        """)
    row = cursor.execute("SELECT count(*) FILTER (WHERE clean), count(*) FILTER (WHERE left_out), "
                         "(SELECT count(*) FROM upload_rejected) FROM upload_staged").fetchall()[0]
    return {"cells": cells, "kept": kept, "clean": row[0], "left_out": row[1], "rejected": row[2]}


#: The largest key space (bits) checked for duplicates with a bitmap; beyond it, a hash aggregate.
_BITMAP_KEYS = 1 << 27


def _may_have_duplicates(cursor: duckdb.DuckDBPyConnection, found: dict) -> bool:
    """False when no two clean staged rows share an observation key (_KEYS), found without hashing:
    each row's keys packed into one number below the product of the key ranges (the lookups' keys
    run from 0 to their largest key, the years over the lookup's years), one bit set per number
    (bitstring_agg; 10 ms a million rows, where grouping a million hashes took 45 ms), and the
    bits counted. True when some row may repeat a key (then the exact check runs), or when the key
    space is too large for a bitmap of _BITMAP_KEYS bits. found: the lookup facts of
    stage_observations ({table: [entries, largest key]}, 'years': [first, last])."""
    first, last = found["years"]
    sizes = {"ind": found["lookup_indicator"][1], "place": found["lookup_place"][1], "sex": found["lookup_sex"][1],
             "age": found["lookup_age"][1], "grp": found["lookup_group"][1]}
    if first is None or any(size is None for size in sizes.values()):
        return True
    ranges = {**{name: int(size) + 1 for name, size in sizes.items()}, "period": int(last) - int(first) + 1}
    space = 1
    for name in _KEYS:
        space *= ranges[name]
    if space > _BITMAP_KEYS:
        return True
    packed = "0::BIGINT"
    for name in _KEYS:  # names and ranges are ours (integers), never text from the file
        offset = f" - {int(first)}" if name == "period" else ""
        packed = f"({packed}) * {ranges[name]} + ({name}{offset})"
    distinct, rows = cursor.execute(f"SELECT bit_count(bitstring_agg({packed}, 0::BIGINT, {space - 1}::BIGINT)), count(*) "
                                    "FROM upload_staged WHERE clean").fetchall()[0]
    return bool(rows) and distinct != rows


def _usable(cursor: duckdb.DuckDBPyConnection, alias: str = "s") -> str:
    """The condition of a usable staged row: clean, and not rejected across rows (the anti join is
    left out when nothing was rejected across rows, the usual case)."""
    if not cursor.execute("SELECT count(*) FROM upload_rejected").fetchall()[0][0]:
        return f"{alias}.clean"
    return (f"{alias}.clean AND NOT EXISTS (SELECT 1 FROM upload_rejected r WHERE r.source_row = {alias}.source_row "
            f"AND r.part = {alias}.part)")


def reject_staged_groups(cursor: duckdb.DuckDBPyConnection, group_keys: list[int]) -> pd.DataFrame:
    """Reject the usable staged rows whose group key is one of ``group_keys`` (groups mixed across
    dimensions), recording them in upload_rejected (kind 'mixed_dimensions'). Returns the first 50
    of them (source_row, part, grp)."""
    usable = _usable(cursor)
    rows = cursor.execute(f"SELECT source_row, part, grp FROM upload_staged s WHERE {usable} AND list_contains($keys, grp) "
                          "ORDER BY source_row, part LIMIT 50", {"keys": group_keys}).df()
    cursor.execute(f"INSERT INTO upload_rejected SELECT source_row, part, 'mixed_dimensions', NULL, NULL FROM upload_staged s "
                   f"WHERE {usable} AND list_contains($keys, grp)", {"keys": group_keys})
    return rows


def count_staged(cursor: duckdb.DuckDBPyConnection) -> dict:
    """{'usable': rows to store, 'missing_values': usable rows with no value (stored as missing),
    'smallest_value' / 'largest_value': the range of the usable values (None when there is none)},
    in one scan of the staged rows."""
    usable = _usable(cursor)
    row = cursor.execute(f"SELECT count(*) FILTER (WHERE {usable}), count(*) FILTER (WHERE {usable} AND s.value IS NULL), "
                         f"min(s.value) FILTER (WHERE {usable}), max(s.value) FILTER (WHERE {usable}) "
                         "FROM upload_staged s").fetchall()[0]
    return {"usable": row[0], "missing_values": row[1], "smallest_value": row[2], "largest_value": row[3]}


def fetch_staged_problems(cursor: duckdb.DuckDBPyConnection, plan: LongPlan, limit: int = 1000) -> tuple[pd.DataFrame, dict[str, int]]:
    """The staged rows with a problem, one row per (row, problem): columns kind (one of ERROR_KINDS
    or CROSS_ROW_KINDS), source_row, part, value, period, grp (key),
    duplicate_of, and the cell texts (LONG_TEXT_COLUMNS, read again from the grid for these rows
    only); sorted by row, at most ``limit`` (every row of a conflicting duplicate is listed, naming
    the first in duplicate_of; an exact repeat, kind 'repeat', at its later rows). Also {kind: rows}
    (every listed row counts, so the counts and the list agree)."""
    counts_sql = ", ".join(f"count(*) FILTER (WHERE errors & {1 << i} <> 0) AS {kind}" for i, kind in enumerate(ERROR_KINDS))
    counts: dict[str, int] = {}
    # the per-kind counts only when some row has a problem (one cheap scan in the usual clean case)
    if cursor.execute("SELECT count(*) FROM upload_staged WHERE errors <> 0 AND NOT left_out").fetchall()[0][0]:
        counts = {k: int(v) for k, v in cursor.execute(f"SELECT {counts_sql} FROM upload_staged WHERE NOT left_out").df()
                  .iloc[0].to_dict().items() if v}
    counts.update({kind: int(n) for kind, n in cursor.execute("SELECT kind, count(*) FROM upload_rejected GROUP BY kind").fetchall()})
    columns = "source_row, part, value, period, grp"
    unions = [f"SELECT '{kind}' AS kind, {columns}, NULL::BIGINT AS duplicate_of FROM upload_staged "
              f"WHERE errors & {1 << i} <> 0 AND NOT left_out" for i, kind in enumerate(ERROR_KINDS) if kind in counts]
    if any(kind in counts for kind in CROSS_ROW_KINDS):
        unions.append(f"SELECT r.kind, {', '.join('s.' + c.strip() for c in columns.split(','))}, r.duplicate_of "
                      "FROM upload_rejected r JOIN upload_staged s USING (source_row, part)")
    names = ["kind", *[c.strip() for c in columns.split(",")], "duplicate_of", *LONG_TEXT_COLUMNS]
    if not unions:
        return pd.DataFrame(columns=names), counts
    cursor.execute("CREATE OR REPLACE TEMP TABLE upload_problem_rows AS SELECT * FROM ("
                   f"{' UNION ALL '.join(unions)}) ORDER BY source_row, part, kind LIMIT $limit", {"limit": limit})
    parameters: dict = {}
    long_sql = plan.select(cursor, parameters)
    rows = cursor.execute(f"""
        SELECT p.*, {', '.join('l.' + c for c in LONG_TEXT_COLUMNS)}
        FROM upload_problem_rows p LEFT JOIN ({long_sql}) l ON l.source_row = p.source_row AND l.part = p.part
        ORDER BY p.source_row, p.part, p.kind
    """, parameters).df()
    cursor.execute("DROP TABLE IF EXISTS upload_problem_rows")
    return rows[names], counts


def fetch_duplicate_members(cursor: duckdb.DuckDBPyConnection, rows: list[tuple[int, int]]) -> pd.DataFrame:
    """Every row of the conflicting duplicates that the given (source_row, part) rows belong to:
    DataFrame(source_row, part: the given row; other_row, other_part, other_value: each row of its
    observation, itself included, in file order)."""
    if not rows:
        return pd.DataFrame(columns=["source_row", "part", "other_row", "other_part", "other_value"])
    keys = " AND ".join(f"a.{k} = b.{k}" for k in _KEYS)
    return cursor.execute(f"""
        WITH wanted AS (SELECT unnest($rows) AS source_row, unnest($parts) AS part),
             conflicting AS (SELECT s.* FROM upload_staged s SEMI JOIN upload_rejected r
                             ON r.source_row = s.source_row AND r.part = s.part AND r.kind = 'duplicate')
        SELECT a.source_row, a.part, b.source_row AS other_row, b.part AS other_part, b.value AS other_value
        FROM conflicting a SEMI JOIN wanted w ON w.source_row = a.source_row AND w.part = a.part
        JOIN conflicting b ON {keys}
        ORDER BY a.source_row, a.part, b.source_row, b.part
    """, {"rows": [int(r) for r, _ in rows], "parts": [int(p) for _, p in rows]}).df()


def fetch_staged_key_summary(cursor: duckdb.DuckDBPyConnection) -> dict:
    """Keys the usable staged rows hold: {ind, grp, sex, age, place: sorted key lists, first_year, last_year}."""
    usable = _usable(cursor)
    row = cursor.execute(f"""
        SELECT list_sort(list(DISTINCT ind)), list_sort(list(DISTINCT grp)), list_sort(list(DISTINCT sex)),
               list_sort(list(DISTINCT age)), list_sort(list(DISTINCT place)), min(period), max(period)
        FROM upload_staged s WHERE {usable}
    """).fetchall()[0]
    return {"ind": row[0] or [], "grp": row[1] or [], "sex": row[2] or [], "age": row[3] or [], "place": row[4] or [],
            "first_year": row[5], "last_year": row[6]}


def _resolved_select(cursor: duckdb.DuckDBPyConnection, usable: str) -> str:
    """Usable staged rows with their keys turned back into values (joins with the small lookups)."""
    staged = {r[0] for r in cursor.execute("SELECT column_name FROM (DESCRIBE upload_staged)").fetchall()}
    extra = ", ".join(f"s.{c}" if c in staged else f"NULL::DOUBLE AS {c}" for c in ("se", "ci_lower", "ci_upper", "population"))
    distinct = {name: f"(SELECT DISTINCT key, {', '.join(LOOKUP_TABLES[name][3:])} FROM {name} WHERE key IS NOT NULL)"
                for name in ("lookup_place", "lookup_group", "lookup_sex", "lookup_age", "lookup_indicator")}
    return f"""
        SELECT s.source_row, s.part, i.indicator, p.geo, p.geo_level, s.period, x.sex, a.age, g.grp AS "group", i.unit, s.value,
               CASE WHEN s.cell_flags IS NULL THEN coalesce(f.flags, '')
                    ELSE array_to_string(list_sort(list_distinct(list_filter(string_split(s.cell_flags || coalesce(f.flags, ''), ''),
                         lambda c: c <> ''))), '') END AS flags,
               {extra}
        FROM upload_staged s
        JOIN {distinct['lookup_indicator']} i ON i.key = s.ind
        JOIN {distinct['lookup_place']} p ON p.key = s.place
        JOIN {distinct['lookup_sex']} x ON x.key = s.sex
        JOIN {distinct['lookup_age']} a ON a.key = s.age
        JOIN {distinct['lookup_group']} g ON g.key = s.grp
        LEFT JOIN (SELECT key, any_value(flags) AS flags FROM lookup_flag GROUP BY key) f ON f.key = s.flag
        WHERE {usable}"""


def fetch_staged_observations(cursor: duckdb.DuckDBPyConnection, limit: int | None = None) -> pd.DataFrame:
    """The usable staged observations as they would be stored (OBSERVATION_COLUMNS without dataset,
    source, licence) plus source_row, in file order."""
    select = _resolved_select(cursor, _usable(cursor))
    return cursor.execute(f"SELECT * EXCLUDE (part) FROM ({select}) ORDER BY source_row, part "
                          + ("LIMIT $limit" if limit else ""), {"limit": limit} if limit else {}).df()


def _bump_data_version(cursor: duckdb.DuckDBPyConnection) -> None:
    cursor.execute("INSERT OR REPLACE INTO meta SELECT 'data_version', CAST(coalesce(max(TRY_CAST(value AS BIGINT)), 0) + 1 AS VARCHAR) "
                   "FROM meta WHERE key = 'data_version'")


def _in_transaction(cursor: duckdb.DuckDBPyConnection, work, attempts: int = 6) -> None:
    """Run work(cursor) in one transaction: all of it or nothing.

    DuckDB's concurrency is optimistic: when another session commits a change to the same row
    first (two loads bumping meta 'data_version' at once), this transaction fails; it is rolled
    back and run again, up to ``attempts`` times. A name taken meanwhile (the datasets primary key)
    is not retried. Raises UploadConflictError (nothing stored) in both cases; any other error is
    wrapped in LoadError after the rollback (other exceptions are raised as they are, after it).
    """
    import time

    for attempt in range(attempts):
        cursor.execute("BEGIN TRANSACTION")
        try:
            work(cursor)
            cursor.execute("COMMIT")
            return
        except (duckdb.TransactionException, duckdb.ConstraintException) as error:
            _rollback_quietly(cursor)
            message = str(error).splitlines()[0]
            retry = isinstance(error, duckdb.TransactionException) or "data_version" in message
            if retry and attempt < attempts - 1:
                time.sleep(0.05 * (attempt + 1))
                continue
            if retry:
                raise UploadConflictError(f"other changes to the store kept getting in the way ({message}); "
                                          "nothing was stored, try again") from None
            raise UploadConflictError(f"the name is already taken ({message}); nothing was stored") from None
        except duckdb.Error as error:
            _rollback_quietly(cursor)
            raise LoadError(f"the database refused the change ({str(error).splitlines()[0]}); it was rolled back and "
                            "nothing was stored") from None
        except BaseException:
            _rollback_quietly(cursor)
            raise


def _rollback_quietly(cursor: duckdb.DuckDBPyConnection) -> None:
    """Roll back the open transaction, if any (DuckDB has already ended a transaction whose COMMIT failed)."""
    with contextlib.suppress(duckdb.Error):
        cursor.execute("ROLLBACK")


def commit_staged_upload(cursor: duckdb.DuckDBPyConnection, dataset: dict, custom_indicator: dict | None = None,
                         replace: bool = False) -> int:
    """Store the usable rows of upload_staged (clean, not in upload_rejected) as one dataset, in one transaction: all rows or none.

    dataset: {name, title, producer, producer_type ('official' | 'civil_society'), source, licence,
    url, as_of, file_name, sha256, detection (JSON text), mapping (JSON text)}; loaded_at and
    row_count are set here. custom_indicator: {code, definition (JSON text)} of an indicator
    defined at upload, stored when new. replace: drop an uploaded dataset of the same name first
    (same transaction). Bumps meta 'data_version'.
    Returns the number of observations stored. Raises UploadConflictError (nothing stored) when the
    name is taken or a concurrent change conflicts; ValueError when the name is an embedded dataset.
    """
    name = dataset["name"]
    kind = cursor.execute("SELECT kind FROM datasets WHERE name = ?", [name]).fetchall()
    if kind and kind[0][0] != "uploaded":
        raise ValueError(f"{name!r} is an embedded dataset; choose another name")
    if kind and not replace:
        raise UploadConflictError(f"a dataset named {name!r} exists; choose another name, or replace it")
    stored = {"rows": 0}
    select = _resolved_select(cursor, _usable(cursor))

    def work(cur):
        if replace:
            cur.execute("DELETE FROM observations WHERE dataset = ?", [name])
            cur.execute("DELETE FROM datasets WHERE name = ? AND kind = 'uploaded'", [name])
        columns = ", ".join(f'"{c}"' for c in STORED_COLUMNS)
        # source and licence go once into the datasets row below (observations_with_provenance)
        stored["rows"] = cur.execute(
            f"INSERT INTO observations ({columns}) SELECT indicator, $name, geo, geo_level, period, sex, age, \"group\", unit, "
            f"value, flags, se, ci_lower, ci_upper, population FROM ({select})", {"name": name}).fetchall()[0][0]
        cur.execute(
            "INSERT INTO datasets (name, kind, title, producer, producer_type, source, licence, url, as_of, file_name, sha256, "
            "loaded_at, row_count, detection, mapping) VALUES ($name, 'uploaded', $title, $producer, $producer_type, $source, "
            "$licence, $url, $as_of, $file_name, $sha256, $loaded_at, $rows, $detection, $mapping)",
            {**{k: dataset.get(k) for k in ("name", "title", "producer", "producer_type", "source", "licence", "url", "as_of",
                                            "file_name", "sha256", "detection", "mapping")},
             "loaded_at": datetime.now(timezone.utc).replace(tzinfo=None), "rows": stored["rows"]})
        if custom_indicator:
            cur.execute("INSERT INTO custom_indicators SELECT $code, $definition WHERE NOT EXISTS "
                        "(SELECT 1 FROM custom_indicators WHERE code = $code)", custom_indicator)
        _bump_data_version(cur)

    _in_transaction(cursor, work)
    return stored["rows"]


def drop_staging(cursor: duckdb.DuckDBPyConnection) -> None:
    """Drop this cursor's staging tables (they also vanish when the cursor closes)."""
    cursor.execute("DROP VIEW IF EXISTS upload_grid")
    for table in ("upload_grid_cells", "upload_staged", "upload_rejected", "upload_problem_rows", *LOOKUP_TABLES):
        cursor.execute(f"DROP TABLE IF EXISTS {table}")


def fetch_uploaded_datasets(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Uploaded datasets with provenance (all columns of datasets) and, per dataset, indicators
    (list), observations, values (non-missing), first_year, last_year, places; newest first."""
    return connection.execute("""
        SELECT d.*, o.indicators, coalesce(o.observations, 0) AS observations, coalesce(o."values", 0) AS "values",
               o.first_year, o.last_year, coalesce(o.places, 0) AS places
        FROM datasets d LEFT JOIN (
            SELECT dataset, list_sort(list(DISTINCT indicator)) AS indicators, count(*) AS observations,
                   count(value) AS "values", min(period) AS first_year, max(period) AS last_year, count(DISTINCT geo) AS places
            FROM observations GROUP BY dataset) o ON o.dataset = d.name
        WHERE d.kind = 'uploaded' ORDER BY d.loaded_at DESC, d.name
    """).df()


def fetch_dataset_sample(connection: duckdb.DuckDBPyConnection, name: str, limit: int = 200) -> pd.DataFrame:
    """The first observations of one dataset (OBSERVATION_COLUMNS, with its source and licence),
    ordered by indicator, geo, period."""
    columns = ", ".join(f'"{c}"' for c in OBSERVATION_COLUMNS)
    return connection.execute(f"SELECT {columns} FROM observations_with_provenance WHERE dataset = $name ORDER BY indicator, geo, period, "
                              "\"group\", sex LIMIT $limit", {"name": name, "limit": limit}).df()


def rename_dataset(connection: duckdb.DuckDBPyConnection, old: str, new: str) -> None:
    """Rename an uploaded dataset (its observations follow), in one transaction; bumps data_version.
    Raises ValueError when old is not an uploaded dataset or new is empty or taken."""
    new = (new or "").strip()
    if not new:
        raise ValueError("the new name is empty")
    kinds = dict(connection.execute("SELECT name, kind FROM datasets WHERE list_contains($names, name)",
                                    {"names": [old, new]}).fetchall())
    if kinds.get(old) != "uploaded":
        raise ValueError(f"no uploaded dataset named {old!r}")
    if new in kinds and new != old:
        raise ValueError(f"a dataset named {new!r} exists; choose another name")
    if new == old:
        return

    def work(cur):
        row = cur.execute("SELECT * FROM datasets WHERE name = ?", [old]).df()
        cur.execute("DELETE FROM datasets WHERE name = ?", [old])
        row["name"] = new
        cur.register("renamed_dataset", row)
        cur.execute("INSERT INTO datasets SELECT * FROM renamed_dataset")
        cur.unregister("renamed_dataset")
        cur.execute("UPDATE observations SET dataset = $new WHERE dataset = $old", {"new": new, "old": old})
        _bump_data_version(cur)

    _in_transaction(connection, work)


def delete_dataset(connection: duckdb.DuckDBPyConnection, name: str) -> int:
    """Delete an uploaded dataset and its observations in one transaction; bumps data_version.
    Custom indicators no other dataset uses are deleted with it. Returns the observations deleted.
    Raises ValueError for an embedded dataset or an unknown name."""
    kind = connection.execute("SELECT kind FROM datasets WHERE name = ?", [name]).fetchall()
    if not kind:
        raise ValueError(f"no dataset named {name!r}")
    if kind[0][0] != "uploaded":
        raise ValueError(f"{name!r} is embedded data; it cannot be deleted (only uploads can)")
    deleted = {"rows": 0}

    def work(cur):
        deleted["rows"] = cur.execute("SELECT count(*) FROM observations WHERE dataset = ?", [name]).fetchall()[0][0]
        cur.execute("DELETE FROM observations WHERE dataset = ?", [name])
        cur.execute("DELETE FROM datasets WHERE name = ?", [name])
        cur.execute("DELETE FROM custom_indicators WHERE code NOT IN (SELECT DISTINCT indicator FROM observations)")
        _bump_data_version(cur)

    _in_transaction(connection, work)
    return deleted["rows"]


def fetch_custom_indicators(connection: duckdb.DuckDBPyConnection) -> list[dict]:
    """Indicators defined at upload time: their definitions (dicts of core.catalogue.Indicator fields)."""
    return [json.loads(text) for (text,) in connection.execute("SELECT definition FROM custom_indicators ORDER BY code").fetchall()]


# ------------------------------------------------------------------------------ uploaded boundaries

def save_boundaries(connection: duckdb.DuckDBPyConnection, name: str, file_name: str, sha256: str, code_property: str,
                    geojson: dict, replace: bool = False) -> int:
    """Store uploaded boundaries (a FeatureCollection keyed by feature id, as returned by
    core.boundaries.read_uploaded_boundaries) under a name, in one transaction; bumps data_version.
    Returns the number of features. Raises ValueError when the name is empty or taken (unless replace)."""
    name = (name or "").strip()
    if not name:
        raise ValueError("give the boundaries a name")
    ensure_upload_schema(connection)
    exists = connection.execute("SELECT count(*) FROM boundaries WHERE name = ?", [name]).fetchall()[0][0]
    if exists and not replace:
        raise ValueError(f"boundaries named {name!r} exist; choose another name, or replace them")
    codes = [feature["id"] for feature in geojson["features"]]

    def work(cur):
        cur.execute("DELETE FROM boundaries WHERE name = ?", [name])
        cur.execute("INSERT INTO boundaries VALUES ($name, $file, $sha, $property, $count, $codes, $geojson, $at)",
                    {"name": name, "file": file_name, "sha": sha256, "property": code_property, "count": len(codes),
                     "codes": json.dumps(codes, ensure_ascii=False), "geojson": json.dumps(geojson, ensure_ascii=False),
                     "at": datetime.now(timezone.utc).replace(tzinfo=None)})
        _bump_data_version(cur)

    _in_transaction(connection, work)
    return len(codes)


def fetch_boundaries_list(connection: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Stored boundaries: name, file_name, sha256, code_property, feature_count, loaded_at (newest first)."""
    ensure_upload_schema(connection)
    return connection.execute("SELECT name, file_name, sha256, code_property, feature_count, loaded_at FROM boundaries "
                              "ORDER BY loaded_at DESC, name").df()


def fetch_boundary_codes(connection: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    """{boundaries name: set of unit codes} for every stored boundaries set."""
    ensure_upload_schema(connection)
    return {name: set(json.loads(codes)) for name, codes in connection.execute("SELECT name, codes FROM boundaries").fetchall()}


def fetch_boundaries(connection: duckdb.DuckDBPyConnection, name: str) -> dict:
    """The GeoJSON FeatureCollection of one stored boundaries set. Raises KeyError when unknown."""
    ensure_upload_schema(connection)
    rows = connection.execute("SELECT geojson FROM boundaries WHERE name = ?", [name]).fetchall()
    if not rows:
        raise KeyError(f"no boundaries named {name!r}")
    return json.loads(rows[0][0])


def rename_boundaries(connection: duckdb.DuckDBPyConnection, old: str, new: str) -> None:
    """Rename stored boundaries; bumps data_version. Raises ValueError when old is unknown or new taken/empty."""
    new = (new or "").strip()
    names = {n for (n,) in connection.execute("SELECT name FROM boundaries").fetchall()}
    if old not in names:
        raise ValueError(f"no boundaries named {old!r}")
    if not new or (new in names and new != old):
        raise ValueError(f"choose another name than {new!r}")

    def work(cur):
        cur.execute("UPDATE boundaries SET name = $new WHERE name = $old", {"new": new, "old": old})
        _bump_data_version(cur)

    _in_transaction(connection, work)


def delete_boundaries(connection: duckdb.DuckDBPyConnection, name: str) -> None:
    """Delete stored boundaries; bumps data_version. Raises ValueError when unknown."""
    if not connection.execute("SELECT count(*) FROM boundaries WHERE name = ?", [name]).fetchall()[0][0]:
        raise ValueError(f"no boundaries named {name!r}")

    def work(cur):
        cur.execute("DELETE FROM boundaries WHERE name = ?", [name])
        _bump_data_version(cur)

    _in_transaction(connection, work)
