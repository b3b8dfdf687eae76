"""Load: ten browser sessions at once against ONE `streamlit run` server, changing selections for a minute.

Usage: python benchmarks/load.py [--sessions 10] [--seconds 60]

Each session is its own Playwright context (its own cookies, websocket and Streamlit session) in one
headless Debian chromium, driven by asyncio so that all sessions act at the same time. A session
opens Explore on its own indicator and year, then, for ``seconds`` from its first page (and at most
``max_actions`` times: the loops are bounded), picks a change at random (seeded): another year,
sex, governance level (global, regional, national), indicator, country, or a switch to the Country
profile and back, and waits for the run to finish and the charts to be drawn (90 s at most: ten headless browsers share the two cores with the server).

Runs are followed on each session's websocket (Streamlit's ForwardMsg 'script_finished'), latency
is measured from the click to the run finished and the page's charts plotted.

Reported: actions done, errors (exception boxes on a page, runs that did not finish in time or
finished with an error, actions
the browser could not perform, JavaScript errors, tracebacks in the server's log, requests to any
host but 127.0.0.1), the latency a user sees (press -> run finished and charts plotted) median and
p95, the server-side script run times under that load (app.py's timing log) median and p95, and the
server's peak memory. Everything stays on 127.0.0.1.
"""
from __future__ import annotations

import asyncio
import contextlib
import random
import re
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import harness  # noqa: E402

ACTION_TIMEOUT_MS = 90_000  # ten headless browsers drawing WebGL maps in software share the CPU with the server
FIRST_PAGE_TIMEOUT_MS = 120_000  # ten sessions opening at once, chart code loaded by each context
LEVELS = ("Global", "Regional", "National")


@dataclass
class Plan:
    """What sessions can choose: for the right 'work', each indicator's title, code, years and sex
    labels; and country names (with data) for the country selector."""

    indicators: list[dict]
    countries: list[str]


def plan_load(database: Path) -> Plan:
    """Read the choices from a store built at ``database`` with the embedded data (core only)."""
    from core import geo, queries, store, vocabulary
    from core.catalogue import load_default_catalogue

    store.build_store(database)
    connection = store.open_database(database, read_only=True)
    try:
        catalogue = load_default_catalogue()
        summary = queries.fetch_data_summary(connection)
        indicators = []
        for code in summary.loc[summary["values"] > 0, "indicator"].unique():
            entry = catalogue.get(code) if code in catalogue else None
            if entry is None or entry.right != "work" or entry.context or entry.unit == "yes_no":
                continue
            options = queries.fetch_indicator_options(connection, code)
            indicators.append({"code": code, "title": entry.title, "years": [int(y) for y in options["years"]],
                               "sexes": [vocabulary.SEXES[s] for s in options["sexes"]]})
        countries = sorted({geo.name_of(code) for code in queries.fetch_gaps(
            connection, "work.employment_rate", year="latest", sex="T", group="non_nationals")
            .query("geo_level == 'national'")["geo"]})
    finally:
        connection.close()
    return Plan(indicators=indicators, countries=countries)


#: The one JavaScript error known to come from plotly.js itself (bundled in Streamlit's PlotlyChart
#: script), not from anything the app sends: Streamlit replaces a map chart whenever its figure changes
#: (the element id hashes the figure), and when that happens while MapLibre is finishing a move, the
#: removed subplot's view handler (`getView`) reads a map that is gone. The replacement chart draws
#: normally. It is told apart only with exactly this message and a stack in the PlotlyChart script;
#: it was seen once under CI load, in one session of ten.
PLOTLY_TEARDOWN_RACE = "Cannot read properties of null (reading 'getCenter')"


def is_plotly_teardown_race(message: str, stack: str | None) -> bool:
    """True for PLOTLY_TEARDOWN_RACE thrown inside Streamlit's PlotlyChart script."""
    return message.strip() == PLOTLY_TEARDOWN_RACE and "PlotlyChart" in (stack or "")


@dataclass
class LoadReport:
    """What the sessions saw. latency_ms: press -> run finished and charts plotted, every action."""

    sessions: int = 0
    seconds: float = 0.0
    actions: int = 0
    actions_per_session: list[int] = field(default_factory=list)
    latency_ms: list[float] = field(default_factory=list)
    #: (click -> request sent by the browser, request -> run finished message received, -> charts drawn), ms
    parts_ms: list[tuple[float, float, float]] = field(default_factory=list)
    exception_boxes: list[str] = field(default_factory=list)
    timeouts: list[str] = field(default_factory=list)
    failed_runs: list[str] = field(default_factory=list)
    failed_actions: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    #: plotly.js's own teardown race (PLOTLY_TEARDOWN_RACE), counted and printed, not an app error
    plotly_teardown_races: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)
    server_runs_ms: list[float] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    peak_memory_mb: float | None = None

    @property
    def app_errors(self) -> list[str]:
        """What the app did wrong, one line each: exception boxes, runs that did not finish or
        failed, JavaScript errors, requests off the machine, tracebacks in the server's log."""
        return ([f"exception box: {e}" for e in self.exception_boxes] + [f"run did not finish: {e}" for e in self.timeouts]
                + [f"run failed: {e}" for e in self.failed_runs] + [f"JavaScript error: {e}" for e in self.page_errors]
                + [f"request left 127.0.0.1: {e}" for e in self.outside_requests]
                + [f"server log: {e}" for e in self.server_errors])

    @property
    def errors(self) -> list[str]:
        """Every problem, one line each: app_errors, then the actions the browser could not perform
        (a click that found no clickable option in 90 s: the driver's side, told apart)."""
        return self.app_errors + [f"action failed: {e}" for e in self.failed_actions]


async def _choose(page, label: str, option: str) -> float:
    """Open the selectbox, filter, click the option; returns the perf_counter time of that last click."""
    box = page.locator("[data-testid='stSelectbox']").filter(has=page.get_by_text(label, exact=True)).first
    await box.click(timeout=ACTION_TIMEOUT_MS)
    await page.keyboard.type(option[:12])
    target = page.get_by_role("option", name=option, exact=True).first
    await target.wait_for(timeout=ACTION_TIMEOUT_MS)
    pressed = time.perf_counter()
    await target.click(timeout=ACTION_TIMEOUT_MS)
    return pressed


async def _segment(page, option: str) -> None:
    await (page.locator("[data-testid='stButtonGroup'] button").filter(has_text=re.compile(f"^{re.escape(option)}$")).first
           .click(timeout=ACTION_TIMEOUT_MS))


async def _navigate(page, title: str) -> None:
    await page.locator("[data-testid='stSidebarNav'] a").filter(has_text=title).first.click(timeout=ACTION_TIMEOUT_MS)


_STATE_SCRIPT = """() => { const app = document.querySelector("[data-testid='stApp']");
  return `state now: ${app && app.getAttribute('data-test-script-state')}, url: ${location.pathname}${location.search}`; }"""


async def _selected(page, label: str) -> str:
    """The option a sidebar selectbox shows now."""
    return await page.locator(f"[data-testid='stSelectbox'] input[aria-label='{label}']").first.input_value(timeout=ACTION_TIMEOUT_MS)


async def _segment_checked(page, option: str) -> bool:
    """True when the segmented-control option is the one selected."""
    button = page.locator("[data-testid='stButtonGroup'] button").filter(has_text=re.compile(f"^{re.escape(option)}$")).first
    return await button.get_attribute("aria-checked", timeout=ACTION_TIMEOUT_MS) == "true"


async def _exception_text(page) -> str:
    boxes = page.locator("[data-testid='stException']")
    return (await boxes.first.inner_text())[:300] if await boxes.count() else ""


class RunWatcher(harness.RunWatcher):
    """harness.RunWatcher with an asyncio wait (the async API delivers events while awaiting)."""

    def __init__(self, page):
        self._event = asyncio.Event()
        super().__init__(page)

    def _notify(self) -> None:
        self._event.set()

    async def wait(self, since: float, timeout_s: float) -> str | None:
        """The status of the first run that finished after ``since`` (perf_counter) and was not cut
        short by a newer run; None when none finished in time."""
        end = time.perf_counter() + timeout_s
        while (status := self.finished_since(since)) is None:
            remaining = end - time.perf_counter()
            if remaining <= 0:
                return None
            self._event.clear()
            with contextlib.suppress(asyncio.TimeoutError):  # the loop checks the deadline
                await asyncio.wait_for(self._event.wait(), remaining)
        return status


async def _drawn(page, expect_chart: bool = False, timeout_ms: float = ACTION_TIMEOUT_MS) -> dict:
    """Wait until the page is idle and its charts plotted (the run is known to be finished)."""
    return await page.evaluate(harness.WAIT_SCRIPT, {"kind": "page", "timeout": timeout_ms, "needNewChart": False,
                                                     "expectChart": expect_chart, "noRunMs": None, "runSeen": True})


async def run_session(number: int, browser, base: str, plan: Plan, seconds: float, max_actions: int,
                      report: LoadReport) -> None:
    """One user: open Explore, then change selections for ``seconds`` (from the first page drawn) or
    ``max_actions`` times, whichever comes first."""
    rng = random.Random(number)
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    await context.add_init_script(harness.INIT_SCRIPT)

    async def route(route_):
        if harness.is_outside(route_.request.url):
            report.outside_requests.append(route_.request.url)
            await route_.abort()
        else:
            await route_.continue_()

    await context.route("**/*", route)
    page = await context.new_page()
    def on_page_error(error) -> None:
        where = report.plotly_teardown_races if is_plotly_teardown_race(error.message, error.stack) else report.page_errors
        where.append(f"session {number}: {str(error)[:200]}")

    page.on("pageerror", on_page_error)
    runs = RunWatcher(page)
    indicator = plan.indicators[number % len(plan.indicators)]
    on_profile = False
    done = 0
    try:
        year = indicator["years"][number % len(indicator["years"])]
        opened = time.perf_counter()
        await page.goto(f"{base}/?right=work&indicator={indicator['code']}&year={year}", timeout=120_000)
        status = await runs.wait(opened, FIRST_PAGE_TIMEOUT_MS / 1000)
        first = await _drawn(page, expect_chart=True, timeout_ms=FIRST_PAGE_TIMEOUT_MS) if status else {"timeout": True}
        if first.get("timeout"):
            report.timeouts.append(f"session {number}: first page")
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline and done < max_actions:
            choice = rng.choice(["year", "year", "sex", "level", "indicator", "country", "page"])
            if on_profile and choice in ("sex", "level", "indicator"):
                choice = "year"  # the shared selectors work on every page; change them there too
            description = f"session {number}: {choice}"
            try:
                # Only real changes: a choice of what is already shown asks Streamlit for no run.
                if choice == "page":
                    on_profile = not on_profile
                    pressed = time.perf_counter()
                    await _navigate(page, "Country profile" if on_profile else "Explore")
                elif choice == "country":
                    name = rng.choice([c for c in plan.countries if c != await _selected(page, "Country")])
                    description += f" {name}"
                    pressed = await _choose(page, "Country", name)
                elif choice == "year":
                    shown = await _selected(page, "Year")
                    others = [y for y in indicator["years"] if str(y) != shown]
                    if not others:  # an indicator published for one year only
                        continue
                    year = rng.choice(others)
                    description += f" {year}"
                    pressed = await _choose(page, "Year", str(year))
                elif choice == "sex":
                    options = [s for s in indicator["sexes"] if not await _segment_checked(page, s)]
                    if not options:
                        continue
                    sex = rng.choice(options)
                    description += f" {sex}"
                    pressed = time.perf_counter()
                    await _segment(page, sex)
                elif choice == "level":
                    level = rng.choice([v for v in LEVELS if not await _segment_checked(page, v)])
                    description += f" {level}"
                    pressed = time.perf_counter()
                    await _segment(page, level)
                else:
                    shown = await _selected(page, "Indicator")
                    indicator = rng.choice([i for i in plan.indicators if i["title"] != shown])
                    description += f" {indicator['code']}"
                    pressed = await _choose(page, "Indicator", indicator["title"])
            except Exception as error:  # noqa: BLE001 — the browser could not do it: report, go on
                report.failed_actions.append(f"{description}: {str(error).splitlines()[0][:200]}")
                await page.keyboard.press("Escape")
                continue
            status = await runs.wait(pressed, ACTION_TIMEOUT_MS / 1000)
            done += 1
            if status is None:
                report.timeouts.append(f"{description} ({await page.evaluate(_STATE_SCRIPT)})")
                continue
            if status != "FINISHED_SUCCESSFULLY":
                report.failed_runs.append(f"{description}: {status}")
            outcome = await _drawn(page)
            if outcome.get("timeout"):
                report.timeouts.append(f"{description}: charts not drawn (longest gap between two frames of the page "
                                       f"{outcome.get('maxFrameGapMs', 0) / 1000:.1f} s)")
            else:
                drawn = time.perf_counter()
                report.latency_ms.append((drawn - pressed) * 1000)
                sent = runs.first_sent_after(pressed)
                if sent is not None and sent <= runs.last_finished_at:
                    report.parts_ms.append(((sent - pressed) * 1000, (runs.last_finished_at - sent) * 1000,
                                            (drawn - runs.last_finished_at) * 1000))
            if outcome.get("exceptions"):
                report.exception_boxes.append(f"{description}: {await _exception_text(page)}")
    except Exception as error:  # noqa: BLE001 — the session broke down: report it
        report.failed_actions.append(f"session {number}: {str(error).splitlines()[0][:200]}")
    finally:
        report.actions += done
        report.actions_per_session.append(done)
        await context.close()


async def run_load_async(base: str, plan: Plan, sessions: int = 10, seconds: float = 60,
                         max_actions: int = 400) -> LoadReport:
    """Run ``sessions`` sessions at once against the server at ``base`` for ``seconds``."""
    from playwright.async_api import async_playwright

    report = LoadReport(sessions=sessions)
    async with async_playwright() as playwright:
        if harness.CHROMIUM is None:
            raise RuntimeError("chromium is not installed (apt-get install chromium)")
        browser = await playwright.chromium.launch(executable_path=harness.CHROMIUM, headless=True, args=harness.BROWSER_ARGS)
        try:
            started = time.perf_counter()
            await asyncio.gather(*(run_session(number, browser, base, plan, seconds, max_actions, report)
                                   for number in range(sessions)))
            report.seconds = time.perf_counter() - started
        finally:
            await browser.close()
    return report


def run_load(base: str, plan: Plan, sessions: int = 10, seconds: float = 60, max_actions: int = 400) -> LoadReport:
    """run_load_async in a thread of its own (its own event loop and browser), so it can be called
    from code that already uses Playwright's sync API or an event loop."""
    result: dict = {}

    def target():
        try:
            result["report"] = asyncio.run(run_load_async(base, plan, sessions, seconds, max_actions))
        except BaseException as error:  # noqa: BLE001 — handed back to the caller
            result["error"] = error

    thread = threading.Thread(target=target, name="rightsgap-load")
    thread.start()
    thread.join(timeout=seconds + 600)
    if "error" in result:
        raise result["error"]
    if "report" not in result:
        raise TimeoutError("the load run did not finish")
    return result["report"]


def measure(sessions: int = 10, seconds: float = 60) -> tuple[list[tuple[str, str, str]], LoadReport]:
    """Start a server on a fresh embedded store, run the load, return (rows, report)."""
    workdir = Path(tempfile.mkdtemp(prefix="rightsgap-load-"))
    plan = plan_load(workdir / "plan.duckdb")
    server = harness.start_server(workdir / "server.duckdb", workdir)
    try:
        report = run_load(server.base, plan, sessions, seconds)
        report.server_runs_ms = [s * 1000 for _, s in server.new_runs()]
        report.server_errors = server.server_errors()
        report.peak_memory_mb = server.peak_memory_mb()
    finally:
        server.stop()
    rows = [
        (f"load: {sessions} sessions at once for {report.seconds:.0f} s, one server", f"{report.actions} selection changes "
         f"({min(report.actions_per_session, default=0)}-{max(report.actions_per_session, default=0)} per session)", "-"),
        ("load: errors of the app (exception boxes, runs not finished in 90 s or failed, JS errors, server tracebacks, "
         "outside requests)", f"{len(report.app_errors)}" + (f": {report.app_errors[:3]}" if report.app_errors else ""), "0"),
        ("load: plotly.js's own error when a map is replaced mid-move (PLOTLY_TEARDOWN_RACE; the new map draws)",
         f"{len(report.plotly_teardown_races)}", "-"),
        ("load: actions the browser could not perform (driver side)", f"{len(report.failed_actions)}"
         + (f": {report.failed_actions[:2]}" if report.failed_actions else ""), "0"),
        ("load: latency seen in the browser (click -> run finished, charts plotted)", harness.describe_ms(report.latency_ms), "-"),
        ("load: where that latency goes (medians): browser before sending / server run and reply / browser drawing",
         " / ".join(f"{harness.summarise([p[i] for p in report.parts_ms])[0]:.0f} ms" for i in range(3)) if report.parts_ms else "-",
         "-"),
        ("load: server-side script runs under load", harness.describe_ms(report.server_runs_ms), "-"),
        ("load: peak memory of the server (VmHWM)", f"{report.peak_memory_mb:.0f} MB", "-"),
    ]
    return rows, report


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="RightsGap load: concurrent browser sessions against one server")
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=60)
    arguments = parser.parse_args(argv)
    print(harness.environment_line())
    rows, report = measure(arguments.sessions, arguments.seconds)
    for name, result, budget in rows:
        print(f"{name} | {result} | {budget}")
    for line in report.errors:
        print("  " + line)
    return 1 if report.app_errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
