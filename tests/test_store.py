"""The DuckDB store built from the embedded data: what a user would see after a fresh start."""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from core import geo, queries, store
from core.catalogue import DEFAULT_CATALOGUE_PATH
from core.importer import OBSERVATION_COLUMNS
from core.readers import normalise_group, read_file_bytes

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def employment_polarity() -> str | None:
    """None (use the catalogue's) once data/catalogue.yaml exists; before that, the known polarity."""
    return None if DEFAULT_CATALOGUE_PATH.exists() else "higher_is_better"


@pytest.fixture(scope="module")
def connection(tmp_path_factory):
    root = store.open_database(tmp_path_factory.mktemp("store") / "x.duckdb")
    assert store.ensure_embedded_data(root) is True
    yield root
    root.close()


def count(connection, sql: str, parameters=None) -> int:
    return connection.execute(sql, parameters or []).fetchone()[0]


def test_building_twice_changes_nothing(tmp_path):
    root = store.open_database(tmp_path / "x.duckdb")
    try:
        assert store.ensure_embedded_data(root) is True
        first = root.execute("SELECT dataset, count(*), count(value) FROM observations GROUP BY dataset ORDER BY dataset").fetchall()
        datasets = count(root, "SELECT count(*) FROM datasets")
        assert store.ensure_embedded_data(root) is False
        second = root.execute("SELECT dataset, count(*), count(value) FROM observations GROUP BY dataset ORDER BY dataset").fetchall()
        assert second == first
        assert count(root, "SELECT count(*) FROM datasets") == datasets
        assert sum(rows for _, rows, _ in first) > 50_000
    finally:
        root.close()


def test_reopening_the_file_finds_the_data_current(tmp_path):
    path = tmp_path / "x.duckdb"
    store.build_store(path)
    root = store.open_database(path)
    try:
        assert store.ensure_embedded_data(root) is False
        assert count(root, "SELECT count(*) FROM observations WHERE dataset = 'LFSA_ERGAN'") == 7983
    finally:
        root.close()


def test_germany_2023_employment_gap_from_the_real_eurostat_file(connection):
    gaps = queries.fetch_gaps(connection.cursor(), "work.employment_rate", geos=["DEU"], year=2023, sex="T",
                              group="non_nationals", polarity=employment_polarity())
    row = gaps.loc[gaps["group"] == "non_nationals"].squeeze()
    assert (row.reference_value, row.value) == (79.7, 65.8)
    assert row.difference == pytest.approx(-13.9)
    assert row.disadvantage == pytest.approx(13.9)
    assert (row.geo, row.year, row.reference_group, row.dataset) == ("DEU", 2023, "nationals", "LFSA_ERGAN")


def test_the_stored_germany_figures_are_those_the_reader_finds_in_the_download(connection):
    read = read_file_bytes((SHARED_DATA / "eurostat/sdmx-csv/lfsa_ergan.csv").read_bytes()).table
    in_file = read.loc[(read.geo == "DEU") & (read.period == 2023) & (read.sex == "T")].set_index("citizen")["value"]
    stored = dict(connection.execute(
        "SELECT \"group\", value FROM observations WHERE indicator = 'work.employment_rate' AND geo = 'DEU' "
        "AND period = 2023 AND sex = 'T'").fetchall())
    assert stored == {"nationals": in_file["NAT"], "non_nationals": in_file["FOR"], "total": in_file["TOTAL"]}
    assert stored == {"nationals": 79.7, "non_nationals": 65.8, "total": 77.2}


def test_missing_values_are_stored_as_null_never_zero(connection):
    nulls = count(connection, "SELECT count(*) FROM observations WHERE dataset = 'HLTH_SILC_24' AND value IS NULL")
    assert nulls > 0
    # Albania 2017, EU citizens: published as an empty value flagged u
    value, flags = connection.execute(
        "SELECT value, flags FROM observations WHERE dataset = 'HLTH_SILC_24' AND geo = 'ALB' AND period = 2017 "
        "AND \"group\" = 'eu_citizens'").fetchone()
    assert value is None or math.isnan(value)
    assert flags == "u"
    # every stored row has the download's value: missing where it is missing, 0 only where it is 0
    read = read_file_bytes((SHARED_DATA / "eurostat/sdmx-csv/hlth_silc_24_labels.csv").read_bytes()).table
    read = read.loc[read.lev_perc == "Bad or very bad"].assign(
        group=lambda t: t.citizen.map(lambda label: normalise_group(label, "citizenship"))).dropna(subset=["group"])
    stored = connection.execute(
        "SELECT geo, period, \"group\", value AS stored_value FROM observations WHERE dataset = 'HLTH_SILC_24'").df()
    both = stored.merge(read[["geo", "period", "group", "value"]].astype({"period": int}), on=["geo", "period", "group"],
                        how="outer", indicator=True, validate="one_to_one")
    assert set(both["_merge"]) == {"both"}
    assert (both.stored_value.isna() == both.value.isna()).all()
    assert (both.stored_value.dropna() == both.value.dropna()).all()
    assert both.stored_value.isna().sum() == nulls
    assert (both.stored_value == 0).sum() == (both.value == 0).sum()


def test_missing_values_give_no_gap(connection):
    gaps = queries.fetch_gaps(connection.cursor(), "health.bad_self_perceived_health", geos=["ALB"], year=2017,
                              group="eu_citizens", polarity=None if DEFAULT_CATALOGUE_PATH.exists() else "lower_is_better")
    assert gaps.empty


def test_every_row_says_its_source_and_licence(connection):
    assert count(connection, "SELECT count(*) FROM observations_with_provenance WHERE source IS NULL OR source = '' "
                             "OR licence IS NULL OR licence = ''") == 0
    assert count(connection, "SELECT count(*) FROM observations_with_provenance") == count(connection, "SELECT count(*) FROM observations")
    sources = dict(connection.execute("SELECT dataset, any_value(source) FROM observations_with_provenance GROUP BY dataset").fetchall())
    assert sources["LFSA_ERGAN"] == "Source: Eurostat, dataset LFSA_ERGAN"
    licences = dict(connection.execute("SELECT dataset, list_sort(list(DISTINCT licence)) FROM observations_with_provenance "
                                       "GROUP BY dataset").fetchall())
    assert licences["LFSA_ERGAN"] == ["CC BY 4.0 (c) European Union"]
    assert licences["UNDESA_MIGRANT_STOCK_2020"] == ["CC BY 3.0 IGO"]


def test_every_dataset_with_rows_has_provenance_and_its_row_count(connection):
    datasets = queries.fetch_datasets(connection.cursor()).set_index("name")
    per_dataset = dict(connection.execute("SELECT dataset, count(*) FROM observations GROUP BY dataset").fetchall())
    assert set(per_dataset) <= set(datasets.index)
    for name, rows in per_dataset.items():
        assert datasets.loc[name, "row_count"] == rows
        assert datasets.loc[name, "kind"] == "embedded"
        assert datasets.loc[name, "licence"]


def test_aggregates_are_stored_as_regional(connection):
    levels = dict(connection.execute(
        "SELECT geo, list_sort(list(DISTINCT geo_level)) FROM observations WHERE geo = 'EU27_2020' GROUP BY geo").fetchall())
    assert levels == {"EU27_2020": ["regional"]}
    national_geos = {g for (g,) in connection.execute("SELECT DISTINCT geo FROM observations WHERE geo_level = 'national'").fetchall()}
    assert not {g for g in national_geos if geo.is_aggregate(g)}
    assert all(len(g) == 3 and g.isupper() for g in national_geos)


def test_the_uk_is_stored_as_gbr_and_greece_as_grc(connection):
    geos = {g for (g,) in connection.execute("SELECT DISTINCT geo FROM observations").fetchall()}
    assert {"GBR", "GRC"} <= geos
    assert not {"UK", "EL", "GB", "GR"} & geos
    stored = dict(connection.execute(
        "SELECT geo || ' ' || \"group\", value FROM observations WHERE indicator = 'work.employment_rate' "
        "AND geo IN ('GRC', 'GBR') AND period = 2019 AND sex = 'T' AND \"group\" = 'non_nationals'").fetchall())
    assert stored == {"GRC non_nationals": 53.0, "GBR non_nationals": 75.0}


def test_uploaded_data_survive_a_forced_rebuild_of_the_embedded_data(tmp_path):
    root = store.open_database(tmp_path / "x.duckdb")
    try:
        store.ensure_embedded_data(root)
        embedded = count(root, "SELECT count(*) FROM observations")
        root.execute("INSERT INTO datasets (name, kind, title, producer_type, source, licence, row_count) "
                     "VALUES ('city_survey', 'uploaded', 'City survey', 'civil_society', 'Source: City of X', 'CC BY 4.0', 2)")
        upload = pd.DataFrame([
            {"indicator": "health.city_clinic_use", "dataset": "city_survey", "geo": "X01", "geo_level": "local",
             "period": 2023, "sex": "T", "age": "TOTAL", "group": "nationals", "unit": "percent", "value": 41.0},
            {"indicator": "health.city_clinic_use", "dataset": "city_survey", "geo": "X01", "geo_level": "local",
             "period": 2023, "sex": "T", "age": "TOTAL", "group": "non_nationals", "unit": "percent", "value": 0.0},
        ]).reindex(columns=OBSERVATION_COLUMNS)
        upload["flags"] = ""
        upload["source"] = "Source: City of X"
        upload["licence"] = "CC BY 4.0"
        root.register("upload", upload)
        root.execute(f"INSERT INTO observations SELECT {', '.join(repr(c).replace(chr(39), chr(34)) for c in store.STORED_COLUMNS)} FROM upload")
        root.unregister("upload")

        assert store.ensure_embedded_data(root, force=True) is True

        assert count(root, "SELECT count(*) FROM observations") == embedded + 2
        kept = root.execute("SELECT \"group\", value FROM observations WHERE dataset = 'city_survey' ORDER BY \"group\"").fetchall()
        assert kept == [("nationals", 41.0), ("non_nationals", 0.0)]
        assert root.execute("SELECT kind FROM datasets WHERE name = 'city_survey'").fetchone() == ("uploaded",)
        gaps = queries.fetch_gaps(root.cursor(), "health.city_clinic_use", polarity="higher_is_better")
        row = gaps.squeeze()
        assert (row.geo, row.geo_level, row.difference, row.disadvantage) == ("X01", "local", -41.0, 41.0)
    finally:
        root.close()


# Layout version 1 (before source and licence moved to datasets): observations carried both on every row.
_VERSION_1_SCHEMA = """
CREATE TABLE datasets (
    name VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, title VARCHAR, producer VARCHAR,
    producer_type VARCHAR, source VARCHAR, licence VARCHAR, url VARCHAR, as_of VARCHAR,
    file_name VARCHAR, sha256 VARCHAR, loaded_at TIMESTAMP, row_count BIGINT,
    detection VARCHAR, mapping VARCHAR
);
CREATE TABLE observations (
    indicator VARCHAR NOT NULL, dataset VARCHAR NOT NULL, geo VARCHAR NOT NULL, geo_level VARCHAR NOT NULL,
    period INTEGER NOT NULL, sex VARCHAR NOT NULL, age VARCHAR NOT NULL, "group" VARCHAR NOT NULL,
    unit VARCHAR NOT NULL, value DOUBLE, flags VARCHAR, se DOUBLE, ci_lower DOUBLE, ci_upper DOUBLE,
    population DOUBLE, source VARCHAR, licence VARCHAR
);
CREATE TABLE custom_indicators (code VARCHAR PRIMARY KEY, definition VARCHAR NOT NULL);
CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR);
INSERT INTO datasets (name, kind, title, producer_type, source, licence, row_count)
    VALUES ('city_survey', 'uploaded', 'City survey', 'civil_society', 'Source: City of X', 'CC BY 4.0', 2);
INSERT INTO observations VALUES
    ('health.city_clinic_use', 'city_survey', 'X01', 'local', 2023, 'T', 'TOTAL', 'nationals', 'percent', 41.0, '',
     NULL, NULL, NULL, NULL, 'Source: City of X', 'CC BY 4.0'),
    ('health.city_clinic_use', 'city_survey', 'X01', 'local', 2023, 'T', 'TOTAL', 'non_nationals', 'percent', 0.0, 'u',
     NULL, NULL, NULL, NULL, 'Source: City of X', 'CC BY 4.0');
"""


def test_a_store_of_the_old_layout_is_migrated_keeping_its_uploads_and_their_sources(tmp_path):
    import duckdb

    path = tmp_path / "old.duckdb"
    old = duckdb.connect(str(path))
    old.execute(_VERSION_1_SCHEMA)
    old.close()

    root = store.open_database(path)
    try:
        columns = [name for (name,) in root.execute("SELECT column_name FROM (DESCRIBE observations)").fetchall()]
        assert columns == store.STORED_COLUMNS
        assert count(root, "SELECT count(*) FROM meta WHERE key = 'schema_version' AND value = ?", [str(store.SCHEMA_VERSION)]) == 1
        rows = queries.fetch_observations(root.cursor(), "health.city_clinic_use").sort_values("group")
        assert list(rows.columns) == OBSERVATION_COLUMNS
        assert rows[["group", "value", "flags", "source", "licence"]].values.tolist() == [
            ["nationals", 41.0, "", "Source: City of X", "CC BY 4.0"],
            ["non_nationals", 0.0, "u", "Source: City of X", "CC BY 4.0"]]
        assert store.migrate_schema(root) is False
        store.ensure_embedded_data(root)
        assert count(root, "SELECT count(*) FROM observations WHERE dataset = 'city_survey'") == 2
    finally:
        root.close()


def test_the_embedded_build_refuses_a_dataset_whose_rows_disagree_on_the_licence():
    observations = store.read_embedded_observations()
    sources = store.read_embedded_sources()
    store.check_embedded_provenance(observations, sources)  # the committed data pass
    changed = observations.copy()
    first = changed.index[changed["dataset"] == "LFSA_ERGAN"][0]
    changed.loc[first, "licence"] = "All rights reserved"
    with pytest.raises(ValueError, match="LFSA_ERGAN"):
        store.check_embedded_provenance(changed, sources)
    changed = observations.copy()
    changed.loc[changed["dataset"] == "UNDESA_MIGRANT_STOCK_2020", "source"] = "Source: somebody else"
    with pytest.raises(ValueError, match="UNDESA_MIGRANT_STOCK_2020"):
        store.check_embedded_provenance(changed, sources)
