"""Browser benchmarks on the embedded data, in headless Debian chromium against a real `streamlit run`.

Usage: python benchmarks/browser.py [--repeat N]   (or python benchmarks/run.py --browser)

Measures (rows of ``measure``):
- cold start: from launching `streamlit run app.py` (new, empty database file: the first run builds
  it) to the Explore page fully drawn, its map canvas painted (the in-page MapLibre map loaded and
  idle, two frames later); and the same for a restart on the already built database;
- a selection change on Explore (alternately the year and the sex, never a combination seen before,
  so no cache hit): browser time from the press to the new map drawn, and the server-side run time
  of the app script (app.py's timing log), median and p95;
- the same for a change of country on the Country profile (browser: run finished and charts drawn);
- payload of the Explore page: bytes received by the browser, counting HTTP response bodies (as sent,
  i.e. compressed when the server compressed them) and websocket frames, split into the one-time
  static assets (Streamlit's JavaScript and CSS bundle and fonts, the world boundaries file fetched
  from /app/static/) and the page's own data (websocket frames: the app's elements and figures);
  and the bytes of one selection change (websocket frames), median.

Everything runs on 127.0.0.1; a request to any other host is aborted and reported.
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

INDICATOR = "work.employment_rate"
GROUP = "non_nationals"
AGE = "Y15-64"


def plan_selections(database: Path) -> tuple[list[int], list[tuple[str, str]]]:
    """(years, newest first, in which every sex has a gap for the Explore indicator; (name, code)
    of the countries with data, by name, for the Country profile), read with core from a store
    built at ``database``."""
    from core import geo, queries, store

    store.build_store(database)
    connection = store.open_database(database, read_only=True)
    try:
        years = []
        for year in queries.fetch_indicator_options(connection, INDICATOR)["years"]:
            if all(not queries.fetch_gaps(connection, INDICATOR, year=int(year), sex=sex, group=GROUP, age=AGE).empty
                   for sex in ("T", "F", "M")):
                years.append(int(year))
        gaps = queries.fetch_gaps(connection, INDICATOR, year="latest", sex="T", group=GROUP, age=AGE)
        codes = sorted(set(gaps.loc[gaps["geo_level"] == "national", "geo"]))
    finally:
        connection.close()
    return years, sorted((geo.name_of(code), code) for code in codes)


def classify(url: str) -> str:
    """'static' (Streamlit's bundle, fonts, icons), 'boundaries' (/app/static/), or 'page' (the rest)."""
    path = url.split("://", 1)[-1].split("/", 1)[-1] if "://" in url else url
    if path.startswith("app/static/"):
        return "boundaries"
    if path.startswith(("static/", "favicon")) or path.startswith("media/"):
        return "static"
    return "page"


class Payload:
    """Bytes received by one page, by category: HTTP bodies as sent, websocket frames."""

    def __init__(self, page):
        self.requests = []
        self.websocket_bytes = 0
        self.websocket_frames = 0
        page.on("requestfinished", lambda request: self.requests.append(request))
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))

    def _frame(self, payload) -> None:
        self.websocket_frames += 1
        self.websocket_bytes += len(payload.encode("utf-8") if isinstance(payload, str) else payload)

    def http_bytes(self) -> dict[str, int]:
        """{'static': bytes, 'boundaries': bytes, 'page': bytes} of the finished HTTP responses so far."""
        totals = {"static": 0, "boundaries": 0, "page": 0}
        for request in self.requests:
            if not request.url.startswith("http"):
                continue
            try:
                size = request.sizes()["responseBodySize"]
            except Exception:  # noqa: BLE001 — a request the browser cancelled has no sizes
                continue
            totals[classify(request.url)] += max(size, 0)
        return totals


def measure_cold_start(browser, database: Path, workdir: Path) -> tuple[float, float, "harness.Server", dict, Payload, tuple]:
    """Start a server on ``database`` and open Explore in a fresh context; returns (seconds from
    `streamlit run` to the map drawn, seconds to healthy, the server (left running), the wait
    outcome, the page's Payload, (context, page, outside requests, RunWatcher))."""
    outside: list[str] = []
    server = harness.start_server(database, workdir)
    try:
        context, page = harness.new_page(browser, outside)
        payload = Payload(page)
        runs = harness.RunWatcher(page)
        opened = time.perf_counter()
        page.goto(f"{server.base}/?right=work&indicator={INDICATOR}&group={GROUP}&sex=T")
        outcome = harness.wait_for_first_page(page, "map", runs=runs, opened=opened)
        drawn = time.perf_counter() - server.started_at
        if outside:
            raise RuntimeError(f"requests left 127.0.0.1: {sorted(set(outside))}")
    except BaseException:
        server.stop()  # never leave a server behind
        raise
    return drawn, server.healthy_seconds, server, outcome, payload, (context, page, outside, runs)


def measure(repeat: int = 30) -> list[tuple[str, str, str]]:
    """Rows (measure, result, budget) of the browser benchmarks on the embedded data."""
    from playwright.sync_api import sync_playwright

    workdir = Path(tempfile.mkdtemp(prefix="rightsgap-browser-"))
    years, countries = plan_selections(workdir / "plan.duckdb")
    rows: list[tuple[str, str, str]] = []
    with sync_playwright() as playwright:
        browser = harness.launch_browser(playwright)
        try:
            database = workdir / "cold.duckdb"
            cold, healthy, server, outcome, payload, (context, page, outside, runs) = measure_cold_start(browser, database, workdir)
            try:
                first_runs = server.new_runs()
                first_finished = runs.finished[0][0] - server.started_at if runs.finished else float("nan")
                rows.append(("cold start: `streamlit run` -> Explore drawn, map painted (new database, built on first run)",
                             f"{cold:.1f} s (server healthy {healthy:.1f} s; first script run {sum(s for _, s in first_runs):.1f} s, "
                             f"finished {first_finished:.1f} s after start; the rest is the browser loading the bundle "
                             f"and drawing the map)", "a few s"))
                # Payload of the first visit (empty browser cache), then of one selection change.
                page.wait_for_timeout(500)
                http = payload.http_bytes()
                rows.append(("Explore payload, first visit: one-time static assets (JS/CSS bundle, fonts)",
                             f"{http['static'] / 1e6:.2f} MB", "cached by the browser"))
                rows.append(("Explore payload, first visit: world boundaries (/app/static, gzip)",
                             f"{http['boundaries'] / 1e3:.0f} KB", "a few hundred KB"))
                rows.append(("Explore payload, first visit: page data (websocket frames + HTML/config)",
                             f"{(payload.websocket_bytes + http['page']) / 1e3:.0f} KB ({payload.websocket_frames} frames)",
                             "a few hundred KB"))
                before = payload.websocket_bytes
                changes = harness.drive_explore(server, page, runs, years, repeat)
                per_change = (payload.websocket_bytes - before) / max(1, repeat)
                rows.append(("Explore payload per selection change (websocket frames, mean)", f"{per_change / 1e3:.0f} KB",
                             "a few hundred KB"))
                rows.append(("Explore selection change, browser: press -> new map drawn (embedded)",
                             harness.describe_ms(changes.browser_ms) + _problems(changes)
                             + harness.describe_parts(changes), "-"))
                rows.append(("Explore selection change, server-side script run via `streamlit run` (embedded)",
                             harness.describe_ms(changes.server_ms), "< 100 ms"))
                opened = time.perf_counter()
                page.goto(f"{server.base}/country?country={countries[0][1]}")
                harness.wait_for_first_page(page, "page", runs=runs, opened=opened)
                profile = harness.drive_profile(server, page, runs, [name for name, _ in countries], min(repeat, len(countries) - 1))
                rows.append(("Country profile change of country, browser: press -> page drawn (embedded)",
                             harness.describe_ms(profile.browser_ms) + _problems(profile)
                             + harness.describe_parts(profile), "-"))
                rows.append(("Country profile change of country, server-side script run via `streamlit run` (embedded)",
                             harness.describe_ms(profile.server_ms), "< 100 ms"))
                if outside:
                    rows.append(("requests that left 127.0.0.1", ", ".join(sorted(set(outside))), "none"))
                context.close()
            finally:
                server.stop()
            # Restart on the database built above: what a user meets every day after the first start.
            restart, healthy, server, _, _, (context, page, outside, _) = measure_cold_start(browser, database, workdir)
            try:
                rows.append(("restart: `streamlit run` -> Explore drawn, map painted (database already built)",
                             f"{restart:.1f} s (server healthy after {healthy:.1f} s)", "a few s"))
                context.close()
            finally:
                server.stop()
        finally:
            browser.close()
    return rows


def _problems(results: "harness.ChangeResults") -> str:
    text = results.problems()
    return f" [{text}]" if text else ""


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="RightsGap browser benchmarks (embedded data)")
    parser.add_argument("--repeat", type=int, default=30)
    arguments = parser.parse_args(argv)
    print(harness.environment_line())
    for name, result, budget in measure(arguments.repeat):
        print(f"{name} | {result} | {budget}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
