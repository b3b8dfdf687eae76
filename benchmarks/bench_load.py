"""Benchmark: loading an analyst's file versus a bare DuckDB read_csv of the same file.

Generates a tidy CSV of one million observations (about 55 MB: indicator, geo, year, sex, age,
group, value, flags; every observation unique) in a temporary folder, then measures in the same run:

- bare: DuckDB ``CREATE TABLE t AS SELECT * FROM read_csv(file)`` into a fresh database file
  (type sniffing included; no checks at all);
- ours: RightsGap's read + validate + load of the same bytes into a fresh store
  (core.upload.UploadSession: format detection, staging, mapping guesses, every validation rule,
  the one-transaction load with provenance).

Prints both throughputs (MB/s and rows/s) and their ratio; the budget (DESIGN.md) is ours >= half
of bare. Usage: ``python benchmarks/bench_load.py [--rows N] [--repeat K]``.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core import store, upload  # noqa: E402

GROUPS = ["nationals", "non_nationals", "eu_citizens", "non_eu_citizens", "native_born", "foreign_born", "eu_born", "non_eu_born"]
AGES = ["Y15-24", "Y15-64", "Y20-64", "Y25-54", "Y25-64", "Y55-64"]
SEXES = ["T", "F", "M"]


def write_file(path: Path, rows: int, seed: int = 7) -> int:
    """Write the benchmark CSV (unique observations: place x year x sex x age x group); returns its size in bytes."""
    import pycountry

    geos = sorted(c.alpha_3 for c in pycountry.countries)
    years = list(range(1990, 2025))
    per_geo = len(years) * len(SEXES) * len(AGES) * len(GROUPS)
    needed = -(-rows // per_geo)
    if needed > len(geos):
        raise SystemExit(f"at most {len(geos) * per_geo} unique rows")
    index = np.arange(rows)
    group = index % len(GROUPS)
    age = (index // len(GROUPS)) % len(AGES)
    sex = (index // (len(GROUPS) * len(AGES))) % len(SEXES)
    year = (index // (len(GROUPS) * len(AGES) * len(SEXES))) % len(years)
    geo = index // per_geo
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "indicator": "work.employment_rate",
        "geo": np.array(geos)[geo],
        "year": np.array(years)[year],
        "sex": np.array(SEXES)[sex],
        "age": np.array(AGES)[age],
        "group": np.array(GROUPS)[group],
        "value": np.round(rng.uniform(20, 90, rows), 1),
        "flags": rng.choice(["", "", "", "", "", "", "b", "u"], rows),
    })
    frame.to_csv(path, index=False)
    return path.stat().st_size


def run_bare(path: Path, folder: Path) -> float:
    """Seconds for a bare DuckDB read_csv of the file into a table of a fresh database file."""
    database = folder / "bare.duckdb"
    database.unlink(missing_ok=True)
    connection = duckdb.connect(str(database))
    try:
        start = time.perf_counter()
        connection.execute("CREATE TABLE t AS SELECT * FROM read_csv(?)", [str(path)])
        connection.execute("CHECKPOINT")
        return time.perf_counter() - start
    finally:
        connection.close()


def run_ours(path: Path, folder: Path) -> tuple[float, upload.Report]:
    """Seconds for RightsGap's read + validate + load of the file into a fresh store (a file database)."""
    database = folder / "ours.duckdb"
    database.unlink(missing_ok=True)
    root = store.open_database(database)
    try:
        cursor = root.cursor()
        start = time.perf_counter()
        content = path.read_bytes()
        session = upload.UploadSession(cursor, content, path.name)
        mapping = session.guess_mapping()
        mapping.indicator = mapping.indicator or "work.employment_rate"
        report = session.load(mapping, upload.DatasetInfo(name="benchmark", producer="benchmark", source="Benchmark"))
        root.execute("CHECKPOINT")
        seconds = time.perf_counter() - start
        session.close()
        return seconds, report
    finally:
        root.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2, help="runs of each; the best is reported")
    arguments = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="rightsgap_bench_") as name:
        folder = Path(name)
        path = folder / "observations.csv"
        size = write_file(path, arguments.rows)
        megabytes = size / 1e6
        print(f"file: {arguments.rows:,} observations, {megabytes:.1f} MB")
        bare = min(run_bare(path, folder) for _ in range(arguments.repeat))
        runs = [run_ours(path, folder) for _ in range(arguments.repeat)]
        ours, report = min(runs, key=lambda r: r[0])
        if report.status != "loaded" or report.rows_loaded != arguments.rows:
            print(f"LOAD FAILED: {report.status}, {report.rows_loaded} rows; first problems: "
                  f"{[p.as_dict() for p in report.problems[:3]]}")
            return 1
        print(f"bare DuckDB read_csv into a table: {bare:.2f} s  {megabytes / bare:6.1f} MB/s  {arguments.rows / bare:10,.0f} rows/s")
        print(f"RightsGap read + validate + load:  {ours:.2f} s  {megabytes / ours:6.1f} MB/s  {arguments.rows / ours:10,.0f} rows/s")
        ratio = bare / ours
        print(f"ratio (ours / bare throughput): {ratio:.2f}  (budget: >= 0.50) -> {'OK' if ratio >= 0.5 else 'TOO SLOW'}")
        return 0 if ratio >= 0.5 else 1


if __name__ == "__main__":
    raise SystemExit(main())
