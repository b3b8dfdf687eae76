"""Benchmarks on a store holding ten million synthetic observations (benchmarks/make_synthetic_store.py).

Usage: python benchmarks/large.py [--db PATH] [--repeat N]   (or python benchmarks/run.py --large)

Measures (rows of ``measure``), budget < 1 s per selection change:
- generating the store (skipped when the file already holds the ten million rows);
- the core work of a selection change, in this process: on Explore (gaps query + gap engine + map
  and ranking figures, benchmarks/run.py's random selections) and on the Country profile (every
  observation of the place + core.profile.build_country_profile + one indicator's gap series);
- the whole app script, server-side, in a real `streamlit run` server with RIGHTSGAP_DB pointing at the
  large store, driven by Playwright in headless chromium: the first page with cold caches, then
  selection changes on Explore (alternately year and sex on the densest indicator,
  work.unemployment_rate, never a combination seen before) and changes of country on the Country
  profile; run times read from app.py's timing log ($RIGHTSGAP_TIMING_LOG), median and p95; the
  browser time to the new map drawn is reported beside them;
- peak memory of that server: the RSS high-water mark (VmHWM in /proc/<pid>/status) after all of it.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import harness  # noqa: E402

INDICATOR = "work.unemployment_rate"  # the densest: citizenship and country-of-birth groups, synthetic and Eurostat rows
GROUP = "non_nationals"
AGE = "Y15-64"
ROWS = 10_000_000


def time_core_profiles(connection, codes: list[str]) -> list[float]:
    """Seconds of the Country profile's core work for each place: its observations, the profile, and
    the gap series of the first indicator with a gap (what the page's chart asks for)."""
    from core import gaps as gap_engine
    from core import queries
    from core.catalogue import load_default_catalogue
    from core.profile import build_country_profile
    from core.vocabulary import REFERENCE_GROUPS, dimension_of

    catalogue = load_default_catalogue()
    samples = []
    for code in codes:
        started = time.perf_counter()
        cursor = connection.cursor()
        profile = build_country_profile(queries.fetch_latest_by_country(cursor, code), catalogue)
        with_gap = profile.loc[profile["has_data"] & profile["group"].notna()]
        if not with_gap.empty:
            row = with_gap.iloc[0]
            observations = queries.fetch_observations(cursor, row["indicator"], geos=[code], sex=row["sex"], age=row["age"],
                                                      groups=[row["group"], REFERENCE_GROUPS[dimension_of(row["group"])]])
            gap_engine.compute_gap_series(observations, row["polarity"])
        samples.append(time.perf_counter() - started)
        cursor.close()
    return samples


def plan_countries(connection, count: int) -> list[tuple[str, str]]:
    """(name, code) of the ``count`` countries with the most observations, by name."""
    from core import geo

    codes = [code for (code,) in connection.execute(
        "SELECT geo FROM observations WHERE geo_level = 'national' GROUP BY geo ORDER BY count(*) DESC, geo LIMIT ?",
        [count]).fetchall()]
    return sorted((geo.name_of(code), code) for code in codes)


def measure(db_path: Path | str, repeat: int = 30) -> list[tuple[str, str, str]]:
    """Rows (measure, result, budget) of the ten-million-observation benchmarks; generates the store
    at db_path first unless it is already there."""
    from playwright.sync_api import sync_playwright

    from benchmarks import make_synthetic_store
    from benchmarks.run import explore_selections, time_core_selection
    from core import store

    db_path = Path(db_path)
    rows: list[tuple[str, str, str]] = []
    summary = make_synthetic_store.build_synthetic_store(db_path, ROWS, quiet=True)
    made = f"{summary['seconds']:.0f} s" if summary["seconds"] else "reused"
    rows.append(("synthetic store: observations (synthetic + embedded), file size, generation time",
                 f"{summary['rows']:,} + {summary['total_rows'] - summary['rows']:,}, {summary['file_mb']:.0f} MB, {made}", "-"))

    connection = store.open_database(db_path, read_only=True)
    try:
        selections = explore_selections(connection, repeat)
        time_core_selection(connection, selections[:2])  # imports, boundaries
        rows.append(("Explore selection change, core work (10M)", harness.describe_ms([s * 1000 for s in time_core_selection(connection, selections)]),
                     "< 1 s"))
        countries = plan_countries(connection, repeat + 1)
        time_core_profiles(connection, [countries[0][1]])
        rows.append(("Country profile change of country, core work (10M)",
                     harness.describe_ms([s * 1000 for s in time_core_profiles(connection, [code for _, code in countries[1:]])]), "< 1 s"))
    finally:
        connection.close()

    workdir = Path(tempfile.mkdtemp(prefix="rightsgap-large-"))
    years = list(range(make_synthetic_store.LAST_YEAR, make_synthetic_store.FIRST_YEAR - 1, -1))
    with sync_playwright() as playwright:
        browser = harness.launch_browser(playwright)
        server = harness.start_server(db_path, workdir)
        outside: list[str] = []
        try:
            context, page = harness.new_page(browser, outside)
            runs = harness.RunWatcher(page)
            opened = time.perf_counter()
            page.goto(f"{server.base}/?right=work&indicator={INDICATOR}&group={GROUP}&year={years[0]}&sex=T&age={AGE}")
            first = harness.wait_for_first_page(page, "map", timeout_ms=300_000, runs=runs, opened=opened)
            first_runs = server.new_runs()
            rows.append(("first Explore page, cold caches, whole script via `streamlit run` (10M)",
                         f"{sum(s for _, s in first_runs) * 1000:.0f} ms in {len(first_runs)} run(s); map drawn "
                         f"{(first['ms'] or float('nan')) / 1000:.1f} s after opening", "a few s"))
            explore = harness.drive_explore(server, page, runs, years, repeat)
            rows.append(("Explore selection change, whole script via `streamlit run` (10M)",
                         harness.describe_ms(explore.server_ms) + _problems(explore), "< 1 s"))
            rows.append(("Explore selection change, browser: press -> new map drawn (10M)",
                         harness.describe_ms(explore.browser_ms)
                         + harness.describe_parts(explore), "-"))
            opened = time.perf_counter()
            page.goto(f"{server.base}/country?country={countries[0][1]}")
            harness.wait_for_first_page(page, "page", timeout_ms=300_000, runs=runs, opened=opened)
            server.new_runs()
            profile = harness.drive_profile(server, page, runs, [name for name, _ in countries], repeat)
            rows.append(("Country profile change of country, whole script via `streamlit run` (10M)",
                         harness.describe_ms(profile.server_ms) + _problems(profile), "< 1 s"))
            rows.append(("Country profile change of country, browser: press -> page drawn (10M)",
                         harness.describe_ms(profile.browser_ms)
                         + harness.describe_parts(profile), "-"))
            rows.append(("peak memory of the server with ten million observations (VmHWM)",
                         f"{server.peak_memory_mb():.0f} MB (RSS now {server.memory_mb():.0f} MB)", "-"))
            errors = server.server_errors()
            if errors or outside:
                rows.append(("errors", f"server log: {errors[:3]}; outside requests: {sorted(set(outside))[:3]}", "none"))
            context.close()
        finally:
            server.stop()
            browser.close()
    return rows


def _problems(results: "harness.ChangeResults") -> str:
    text = results.problems()
    return f" [{text}]" if text else ""


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="RightsGap benchmarks on ten million synthetic observations")
    parser.add_argument("--db", type=Path, default=Path(tempfile.gettempdir()) / "rightsgap-large.duckdb",
                        help="the synthetic store (generated when missing)")
    parser.add_argument("--repeat", type=int, default=30)
    arguments = parser.parse_args(argv)
    print(harness.environment_line())
    for name, result, budget in measure(arguments.db, arguments.repeat):
        print(f"{name} | {result} | {budget}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
