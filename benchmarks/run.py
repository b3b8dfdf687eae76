"""RightsGap benchmarks: one command, prints a table (median and p95 where repeated).

Usage (from the project root): python benchmarks/run.py [--repeat N] [--large] [--browser]

Measures, on the embedded data:
- cold build of the store (fresh DuckDB file from data/);
- first page render (server-side, cold caches: the whole app script through AppTest);
- a selection change on Explore and on the Country profile, server-side: the whole app script
  re-run with a new selection and warm shared caches (what the server does when a user changes a
  selector), and the core work alone (query + gap engine + figures);
With --large: the same selection changes on a store holding ten million synthetic observations
(benchmarks/make_synthetic_store.py), and the peak memory of that process.
With --browser: cold start (streamlit run -> first page drawn), browser time from a selection change
to the new map drawn, and the bytes sent to the browser for the Explore page.
Budgets (DESIGN.md): selection change < 100 ms server-side on the embedded data, < 1 s with ten
million observations; map payload a few hundred KB; cold start a few seconds.
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)


def summarise(samples: list[float]) -> tuple[float, float]:
    """(median, p95) in milliseconds."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return statistics.median(ordered) * 1000, p95 * 1000


def explore_selections(connection, count: int, seed: int = 7) -> list[dict]:
    """Random but valid Explore selections (indicator, group, year, sex, age, level)."""
    from core import queries, vocabulary
    from core.catalogue import load_default_catalogue

    catalogue = load_default_catalogue()
    summary = queries.fetch_data_summary(connection)
    codes = [c for c in summary.loc[summary["values"] > 0, "indicator"].unique() if not catalogue.get(c).context]
    rng = random.Random(seed)
    selections = []
    while len(selections) < count:
        code = rng.choice(codes)
        options = queries.fetch_indicator_options(connection, code)
        groups = [g for g in options["groups"] if g not in vocabulary.REFERENCE_GROUPS.values() and g != "total"]
        if not groups or not options["years"]:
            continue
        selections.append({"indicator": code, "right": catalogue.get(code).right, "group": rng.choice(groups),
                           "year": rng.choice(options["years"]), "sex": rng.choice(options["sexes"]),
                           "age": rng.choice(options["ages"]), "level": rng.choice(["national", "regional", "global"])})
    return selections


def time_core_selection(connection, selections: list[dict]) -> list[float]:
    """Core work of one Explore selection change: gaps query + gap engine + map + ranking + table."""
    from core import boundaries, charts, queries
    from core.catalogue import load_default_catalogue

    catalogue = load_default_catalogue()
    world, points = boundaries.load_world_boundaries(), boundaries.load_world_points()
    samples = []
    for selection in selections:
        started = time.perf_counter()
        cursor = connection.cursor()
        gaps = queries.fetch_gaps(cursor, selection["indicator"], year=selection["year"], sex=selection["sex"],
                                  group=selection["group"], age=selection["age"], catalogue=catalogue)
        indicator = catalogue.get(selection["indicator"])
        if not gaps.empty:
            charts.build_gap_map(gaps, world, points, indicator.unit, "migrants", "reference",
                                 view="world" if selection["level"] == "global" else "europe",
                                 geojson_url=boundaries.WORLD_GEOJSON_URL).to_plotly_json()
            charts.build_dumbbell(gaps, indicator.unit, "migrants", "reference").to_plotly_json()
        samples.append(time.perf_counter() - started)
        cursor.close()
    return samples


def time_app_runs(database: Path, selections: list[dict], page: str | None = None) -> tuple[float, list[float]]:
    """(first render seconds with cold caches, [seconds per re-run with a new selection and warm caches]).

    The app script runs in Streamlit's AppTest; the time is the one app.py itself logs (from its first
    line to the end of the page, $RIGHTSGAP_TIMING_LOG), so AppTest's own start-up is not counted.
    """
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    os.environ["RIGHTSGAP_DB"] = str(database)
    log_path = database.parent / f"timing-{os.getpid()}.log"
    os.environ["RIGHTSGAP_TIMING_LOG"] = str(log_path)
    st.cache_data.clear()
    st.cache_resource.clear()

    def run_once(query: dict) -> float:
        app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        for key, value in query.items():
            app.query_params[key] = str(value)
        log_path.write_text("")
        app.run()
        if page:
            app.switch_page(page).run()
        if app.exception:
            raise RuntimeError(app.exception)
        return float(log_path.read_text().strip().splitlines()[-1].split("\t")[1])

    first = run_once({})
    samples = []
    for selection in selections:
        query = {k: v for k, v in selection.items() if k in ("right", "indicator", "group", "year", "sex", "age", "level")}
        if page:
            query = {"country": selection.get("country", "FRA"), "right": selection["right"]}
        samples.append(run_once(query))
    return first, samples


def main() -> int:
    parser = argparse.ArgumentParser(description="RightsGap benchmarks")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--large", action="store_true", help="also measure a store of ten million synthetic observations")
    parser.add_argument("--large-db", type=Path, default=None, help="reuse this synthetic store instead of generating it")
    parser.add_argument("--browser", action="store_true", help="also measure in headless chromium")
    args = parser.parse_args()
    from core import store

    rows: list[tuple[str, str, str]] = []
    workdir = Path(tempfile.mkdtemp(prefix="rightsgap-bench-"))
    database = workdir / "embedded.duckdb"
    started = time.perf_counter()
    store.build_store(database)
    rows.append(("cold build of the store (embedded data)", f"{(time.perf_counter() - started) * 1000:.0f} ms", "a few s"))

    connection = store.open_database(database)
    selections = explore_selections(connection, args.repeat)
    time_core_selection(connection, selections[:3])  # warm imports
    median, p95 = summarise(time_core_selection(connection, selections))
    rows.append(("Explore selection change, core work (embedded)", f"median {median:.0f} ms, p95 {p95:.0f} ms", "< 100 ms"))
    connection.close()

    first, samples = time_app_runs(database, selections)
    rows.append(("first page render, server-side, cold caches", f"{first * 1000:.0f} ms", "a few s"))
    median, p95 = summarise(samples)
    rows.append(("Explore selection change, whole script (embedded)", f"median {median:.0f} ms, p95 {p95:.0f} ms", "< 100 ms"))
    countries = ["FRA", "DEU", "ITA", "ESP", "SWE", "POL", "AUT", "BEL", "NLD", "PRT",
                 "CZE", "DNK", "FIN", "GRC", "HUN", "IRL", "LUX", "ROU", "SVN", "NOR"]  # 20 changes: p95 is not just the maximum
    profile_selections = [{"right": s["right"], "country": countries[i % len(countries)]} for i, s in enumerate(selections[:len(countries)])]
    _, samples = time_app_runs(database, profile_selections, page="pages/country.py")
    median, p95 = summarise(samples)
    rows.append(("Country profile change of country, whole script (embedded)", f"median {median:.0f} ms, p95 {p95:.0f} ms", "< 100 ms"))

    if args.large:
        from benchmarks import large

        rows.extend(large.measure(args.large_db or workdir / "large.duckdb", args.repeat))
    if args.browser:
        from benchmarks import browser

        rows.extend(browser.measure(args.repeat))

    width = max(len(r[0]) for r in rows)
    print(f"RightsGap benchmarks — {time.strftime('%Y-%m-%d %H:%M')} — {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{'measure'.ljust(width)} | result | budget")
    print(f"{'-' * width}-|--------|-------")
    for name, result, budget in rows:
        print(f"{name.ljust(width)} | {result} | {budget}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
