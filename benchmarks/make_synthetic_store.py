"""Generate a DuckDB store holding ten million synthetic observations, for the large benchmarks.

Usage (from the project root):
    python benchmarks/make_synthetic_store.py PATH [--rows 10000000] [--force]

The store is an ordinary RightsGap store (core.store.open_database, embedded data loaded by
core.store.ensure_embedded_data) to which ``rows`` synthetic observations are added, generated in
DuckDB SQL (range(), hash()) rather than in Python loops: about half a minute for ten million rows
on two cores. The values are pseudo-random but deterministic (hash of the row's index), so two runs
give the same store.

Shape of the synthetic part (documented in benchmarks/RESULTS.md too):
- indicators: every catalogue indicator that compares population groups (the ones declaring
  ``groups``), with their catalogue unit; for each, every group of each declared dimension
  (citizenship: nationals, non_nationals, eu_citizens, non_eu_citizens; country of birth:
  native_born, foreign_born, eu_born, non_eu_born; legal status: regular, irregular, refugees,
  asylum_seekers) and ``total``;
- age bands: the Labour Force Survey's (Y15-24, Y25-54, Y55-64, Y15-64, Y20-64, Y25-64) for
  work and education indicators, EU-SILC's (Y_GE16, Y_GE18, Y16-64, Y_GE65) for health and
  standard of living, TOTAL for the rest;
- places: 250 geos: 200 countries (ISO 3166-1 alpha-3, from data/boundaries/world_points.csv),
  8 aggregates (EU27_2020, EU28, EA20, EA19, EU15, EA, EFTA: regional; WLD: global) and 42 local
  units (32 NUTS 2 regions such as DE21 and FR10, and 10 districts of Barcelona coded BCN-D01 ..
  BCN-D10, as an analyst's own codes);
- years 1990-2024; sexes T, F and M;
- the full cross product is thinned to exactly ``rows`` observations by a permutation of the row
  index (so some years, sexes or groups are missing for some places, as in real sources);
- flags: about 2% ``c`` (confidential, value missing), 0.5% ``z`` (not applicable, value
  missing), 1% missing without a flag, 7.5% ``u`` (low reliability), 4% ``b``, 1% ``bu``,
  1.5% ``e``, 0.7% ``p``, the rest none;
- values: a level per indicator and place, an offset per migrant group (migrants mostly worse
  off, by polarity), a slow trend over the years and noise; percentages kept within 0.1-99.9;
  local units carry a standard error (4% of the value), as surveys of cities do;
- datasets: one uploaded dataset per indicator, named ``synthetic:<indicator code>`` (kind
  'uploaded', producer 'RightsGap benchmarks', licence CC0 1.0), so they sit beside the embedded
  data the way an analyst's uploads do.
Rows are inserted one dataset at a time, ordered by geo and period within each (the order the
embedded data use).
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_ROWS = 10_000_000
FIRST_YEAR, LAST_YEAR = 1990, 2024
SEXES = ("T", "F", "M")
LFS_AGES = ("Y15-24", "Y25-54", "Y55-64", "Y15-64", "Y20-64", "Y25-64")
SILC_AGES = ("Y_GE16", "Y_GE18", "Y16-64", "Y_GE65")
COUNTRY_COUNT = 200
AGGREGATES = ("EU27_2020", "EU28", "EA20", "EA19", "EU15", "EA", "EFTA", "WLD")
NUTS2_REGIONS = (
    "DE11", "DE21", "DE30", "DE60", "DE71", "DEA1", "DEA2", "FR10", "FRK2", "FRL0", "FRI1", "ITC4", "ITI4", "ITF3",
    "ES30", "ES51", "ES61", "NL32", "NL33", "BE10", "BE21", "AT13", "SE11", "SE22", "DK01", "PL91", "PT17", "PT11",
    "IE06", "CZ01", "HU11", "EL30",
)
CITY_DISTRICTS = tuple(f"BCN-D{n:02d}" for n in range(1, 11))
SOURCE = "Synthetic benchmark observations (RightsGap benchmarks/make_synthetic_store.py); not real figures"
LICENCE = "CC0 1.0"
#: (level, spread) of the generated values per catalogue unit.
UNIT_LEVELS = {"percent": (40.0, 30.0), "per_100000": (20.0, 15.0), "number": (2000.0, 1500.0),
               "EUR": (22000.0, 9000.0), "score": (55.0, 20.0), "international_dollars": (30000.0, 15000.0)}
#: Offset of each group from its dimension's reference group, in spreads of the unit (x polarity).
GROUP_OFFSETS = {"nationals": 0.0, "native_born": 0.0, "regular": 0.0, "total": 0.03,
                 "non_nationals": 0.25, "foreign_born": 0.2, "eu_citizens": 0.08, "eu_born": 0.05,
                 "non_eu_citizens": 0.35, "non_eu_born": 0.3, "irregular": 0.5, "refugees": 0.45, "asylum_seekers": 0.55}


def _ages_for(right: str) -> tuple[str, ...]:
    if right in ("work", "education"):
        return LFS_AGES
    if right in ("health", "standard_of_living"):
        return SILC_AGES
    return ("TOTAL",)


def build_combinations() -> list[dict]:
    """The (indicator, group, age) combinations generated for every place, year and sex.

    Returns dicts with indicator, dataset, unit, polarity, group, age, level, spread, group_offset,
    indicator_index: one per combination, for every catalogue indicator that declares groups.
    """
    from core import vocabulary
    from core.catalogue import load_default_catalogue

    combinations = []
    indicators = [i for i in load_default_catalogue() if i.groups and not i.context and i.unit != "yes_no"]
    for index, indicator in enumerate(indicators):
        level, spread = UNIT_LEVELS.get(indicator.unit, (50.0, 20.0))
        sign = 1.0 if indicator.polarity == "lower_is_better" else -1.0  # migrants mostly worse off
        groups = ["total"] + [g for dimension in indicator.groups for g in vocabulary.DIMENSIONS[dimension]]
        for group in groups:
            for age in _ages_for(indicator.right):
                combinations.append({"indicator": indicator.code, "dataset": f"synthetic:{indicator.code}",
                                     "unit": indicator.unit, "polarity": indicator.polarity, "group": group, "age": age,
                                     "level": level, "spread": spread, "group_offset": sign * GROUP_OFFSETS[group] * spread,
                                     "indicator_index": index})
    return combinations


def build_places() -> list[dict]:
    """The 250 synthetic places: dicts with geo, geo_level, geo_index (see the module docstring)."""
    from core.geo import resolve_place

    with open(ROOT / "data" / "boundaries" / "world_points.csv", encoding="utf-8") as file:
        codes = [row["iso_a3"] for row in csv.DictReader(file)]
    european = {"AUT", "BEL", "BGR", "HRV", "CYP", "CZE", "DNK", "EST", "FIN", "FRA", "DEU", "GRC", "HUN", "IRL", "ITA",
                "LVA", "LTU", "LUX", "MLT", "NLD", "POL", "PRT", "ROU", "SVK", "SVN", "ESP", "SWE", "NOR", "ISL", "CHE",
                "LIE", "GBR", "TUR", "MKD", "SRB", "MNE", "ALB", "BIH", "XKX"}
    resolved = [c for c in codes if resolve_place(c) is not None and resolve_place(c).code == c]
    chosen = sorted(c for c in resolved if c in european)
    chosen += [c for c in resolved if c not in european][: COUNTRY_COUNT - len(chosen)]
    places = [{"geo": code, "geo_level": "national"} for code in sorted(chosen)]
    places += [{"geo": code, "geo_level": resolve_place(code).level} for code in AGGREGATES]
    places += [{"geo": code, "geo_level": "local"} for code in NUTS2_REGIONS + CITY_DISTRICTS]
    return [{**place, "geo_index": index} for index, place in enumerate(places)]


def _coprime_step(total: int) -> int:
    """A large step coprime with total: i -> (i * step) mod total is then a permutation of 0..total-1."""
    step = 2_654_435_761 % total or 1
    while math.gcd(step, total) != 1:
        step += 1
    return step


def build_synthetic_store(path: Path | str, rows: int = DEFAULT_ROWS, force: bool = False, quiet: bool = False) -> dict:
    """Create (or reuse) a store at ``path`` with the embedded data and ``rows`` synthetic observations.

    An existing file that already holds ``rows`` synthetic observations is reused unless force (its
    embedded part brought up to date with data/ first).
    Returns {path, rows (synthetic observations), total_rows, datasets, indicators, places, seconds,
    file_mb}. Raises ValueError when rows exceeds the cross product of the shape
    (indicators x groups x ages x places x years x sexes).
    """
    import pandas as pd

    from core import store

    path = Path(path)
    started = time.perf_counter()
    if path.exists() and not force:
        connection = store.open_database(path)
        try:
            existing = connection.execute("SELECT count(*) FROM observations WHERE starts_with(dataset, 'synthetic:')").fetchone()[0]
            if existing == rows:
                store.ensure_embedded_data(connection)  # data/ may have changed since the store was made
        finally:
            connection.close()
        if existing == rows:
            return describe_store(path, seconds=0.0)
    if path.exists():
        path.unlink()
        Path(str(path) + ".wal").unlink(missing_ok=True)
    combinations = pd.DataFrame(build_combinations())
    combinations["combination_index"] = range(len(combinations))
    places = pd.DataFrame(build_places())
    years = LAST_YEAR - FIRST_YEAR + 1
    total = len(combinations) * len(places) * years * len(SEXES)
    if rows > total:
        raise ValueError(f"{rows} rows asked, but the shape holds at most {total}")
    step = _coprime_step(total)
    connection = store.open_database(path)
    try:
        store.ensure_embedded_data(connection)
        connection.register("synthetic_combinations", combinations)
        connection.register("synthetic_places", places)
        connection.execute("CREATE TEMP TABLE synthetic_sexes AS SELECT * FROM (VALUES (0, 'T'), (1, 'F'), (2, 'M')) s(sex_index, sex)")
        loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)
        for dataset, part in combinations.groupby("dataset", sort=False):
            first, last = int(part["combination_index"].min()), int(part["combination_index"].max())
            connection.execute(_INSERT_SQL, {"first": first, "last": last, "places": len(places), "years": years,
                                              "first_year": FIRST_YEAR, "step": step, "total": total, "rows": rows})
            count = connection.execute("SELECT count(*) FROM observations WHERE dataset = ?", [dataset]).fetchone()[0]
            connection.execute(
                "INSERT INTO datasets (name, kind, title, producer, producer_type, source, licence, url, as_of, file_name, "
                "sha256, loaded_at, row_count, detection, mapping) VALUES ($name, 'uploaded', $title, 'RightsGap benchmarks', "
                "'official', $source, $licence, NULL, $as_of, 'benchmarks/make_synthetic_store.py', NULL, $loaded_at, $rows, "
                "$detection, NULL)",
                {"name": dataset, "title": f"Synthetic observations of {part['indicator'].iloc[0]} (benchmark)",
                 "source": SOURCE, "licence": LICENCE, "as_of": loaded_at.date().isoformat(), "loaded_at": loaded_at,
                 "rows": count, "detection": json.dumps({"generator": "benchmarks/make_synthetic_store.py"})})
            if not quiet:
                print(f"  {dataset}: {count:,} observations", file=sys.stderr)
        connection.execute("INSERT OR REPLACE INTO meta SELECT 'data_version', CAST(coalesce(max(TRY_CAST(value AS BIGINT)), 0) + 1 "
                           "AS VARCHAR) FROM meta WHERE key = 'data_version'")
        connection.execute("CHECKPOINT")
    finally:
        connection.close()
    return describe_store(path, seconds=time.perf_counter() - started)


#: One dataset's rows: the cross product of its combinations with places, years and sexes, kept
#: when the permuted row index falls below the number of rows asked (exactly ``rows`` in total).
_INSERT_SQL = """
INSERT INTO observations (indicator, dataset, geo, geo_level, period, sex, age, "group", unit, value, flags, se,
                          ci_lower, ci_upper, population)
WITH cells AS (
    SELECT c.*, p.geo, p.geo_level, p.geo_index, y.year_index, s.sex, s.sex_index,
           ((c.combination_index * $places + p.geo_index) * $years + y.year_index) * 3 + s.sex_index AS row_index
    FROM synthetic_combinations c, synthetic_places p, range($years) y(year_index), synthetic_sexes s
    WHERE c.combination_index BETWEEN $first AND $last
), kept AS (
    SELECT *, hash(row_index) % 1000 AS draw,
           (hash(indicator_index, geo_index) % 10000) / 10000.0 AS place_level,
           ((hash(row_index, 7) % 10000) / 10000.0 - 0.5) AS noise
    FROM cells WHERE (row_index * $step) % $total < $rows
), valued AS (
    SELECT *, CASE
        WHEN draw < 20 THEN 'c' WHEN draw < 25 THEN 'z' WHEN draw < 100 THEN 'u' WHEN draw < 140 THEN 'b'
        WHEN draw < 150 THEN 'bu' WHEN draw < 165 THEN 'e' WHEN draw < 172 THEN 'p' ELSE '' END AS flag,
        level + spread * (place_level - 0.5) + group_offset * (1 + 0.5 * place_level)
            + 0.01 * spread * (year_index - 17) * (CASE WHEN polarity = 'lower_is_better' THEN -1 ELSE 1 END)
            + 0.08 * spread * noise AS raw_value
    FROM kept
)
SELECT indicator, dataset, geo, geo_level, $first_year + year_index AS period, sex, age, "group", unit,
       CASE WHEN flag IN ('c', 'z') OR draw BETWEEN 172 AND 181 THEN NULL
            WHEN unit = 'percent' THEN round(least(99.9, greatest(0.1, raw_value)), 1)
            ELSE round(greatest(0.0, raw_value), 1) END AS value,
       flag,
       CASE WHEN geo_level = 'local' AND flag NOT IN ('c', 'z') THEN round(0.04 * abs(raw_value), 2) END AS se,
       NULL AS ci_lower, NULL AS ci_upper, NULL AS population
FROM valued
ORDER BY geo, period, "group", sex, age
"""


def describe_store(path: Path | str, seconds: float | None = None) -> dict:
    """What a synthetic store holds: {path, rows, total_rows, datasets, indicators, places, local_places,
    first_year, last_year, flags (dict letter -> count), missing_values, seconds, file_mb}."""
    from core import store

    connection = store.open_database(path, read_only=True)
    try:
        row = connection.execute("""
            SELECT count(*), count(DISTINCT dataset), count(DISTINCT indicator), count(DISTINCT geo),
                   count(DISTINCT geo) FILTER (WHERE geo_level = 'local'), min(period), max(period), count(*) - count(value)
            FROM observations WHERE starts_with(dataset, 'synthetic:')""").fetchone()
        flags = dict(connection.execute("SELECT flags, count(*) FROM observations WHERE starts_with(dataset, 'synthetic:') "
                                        "GROUP BY flags ORDER BY 2 DESC").fetchall())
        total_rows = connection.execute("SELECT count(*) FROM observations").fetchone()[0]
    finally:
        connection.close()
    keys = ("rows", "datasets", "indicators", "places", "local_places", "first_year", "last_year", "missing_values")
    return {"path": str(path), **dict(zip(keys, row)), "total_rows": total_rows, "flags": flags, "seconds": seconds,
            "file_mb": round(Path(path).stat().st_size / 1e6, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate a RightsGap store with synthetic observations")
    parser.add_argument("path", type=Path, help="the DuckDB file to create")
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="synthetic observations (default: ten million)")
    parser.add_argument("--force", action="store_true", help="rebuild even when the file already holds that many rows")
    arguments = parser.parse_args(argv)
    summary = build_synthetic_store(arguments.path, arguments.rows, force=arguments.force)
    print(json.dumps(summary, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
