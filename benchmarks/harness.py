"""Shared machinery of the browser benchmarks (browser.py, large.py, load.py): a real `streamlit run`
server on a free loopback port, Debian's chromium through Playwright, and in-page timing.

Timing in the page: an init script records the moment of the user's last press (pointerdown or
keydown, ``performance.now()``). When the change's run has finished — read from the session's
websocket (``RunWatcher``: Streamlit's ForwardMsg 'script_finished'), or else from the page's
``data-test-script-state`` — ``WAIT_SCRIPT`` polls once per frame until the charts are drawn (for
maps: the MapLibre map has its style and sources loaded and is not moving), waits two more frames
so the pixels are painted, and returns the milliseconds since the press. Server-side run times come from the file
app.py appends to ($RIGHTSGAP_TIMING_LOG; ui/timing.py).

Offline: every context aborts requests to any host but 127.0.0.1 and records them; callers report
them as failures.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--disable-quic", "--disable-renderer-backgrounding",
                "--disable-background-timer-throttling", "--disable-backgrounding-occluded-windows"]

#: Installed in every page before any script of the app runs (see the module docstring).
INIT_SCRIPT = """
(() => {
  const rg = window.__rg = {pressAt: 0, runStarts: [], runEnds: [], old: null};
  const press = () => { rg.pressAt = performance.now(); };
  document.addEventListener('pointerdown', press, true);
  document.addEventListener('keydown', press, true);
  new MutationObserver((records) => {
    for (const record of records) {
      const state = record.target.getAttribute && record.target.getAttribute('data-test-script-state');
      if (state === 'running') rg.runStarts.push(performance.now());
      else if (state === 'notRunning') rg.runEnds.push(performance.now());
    }
  }).observe(document, {subtree: true, attributes: true, attributeFilter: ['data-test-script-state']});
})();
"""

#: Remember the chart shown now, so that wait_until_drawn can tell the new one from it.
MARK_SCRIPT = """() => {
  const gd = document.querySelector("[data-testid='stPlotlyChart'] .js-plotly-plot");
  window.__rg.old = {gd: gd, data: gd ? gd.data : null};
  window.__rg.pressAt = performance.now();
}"""

#: Resolves when the run after the last press has finished and the page's charts are drawn (runSeen:
#: the caller already knows the run finished, e.g. from the websocket, so only the drawing is awaited).
#: kind 'map': the first chart is a MapLibre map whose style and sources are loaded; 'page': every
#: plotly chart on the page is plotted. Unless a chart is expected, a page without one (an empty state)
#: counts as drawn, reported as such (Streamlit loads its chart code lazily: on a first visit the chart
#: appears only after that code arrived, so the first page always expects its chart).
WAIT_SCRIPT = """async ({kind, timeout, needNewChart, expectChart, noRunMs, runSeen}) => {
  const rg = window.__rg;
  const pressAt = rg.pressAt;
  const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
  const began = performance.now();
  const chartState = () => {
    const charts = Array.from(document.querySelectorAll("[data-testid='stPlotlyChart'] .js-plotly-plot"));
    if (!charts.length) return expectChart ? 'pending' : 'none';
    if (!charts.every((gd) => gd._fullLayout)) return 'pending';
    const first = charts[0];
    const old = rg.old || {};
    if (needNewChart && first === old.gd && first.data === old.data) return 'pending';
    if (kind === 'map') {
      const holder = first._fullLayout.map;
      if (!holder) return 'drawn';
      const map = holder._subplot && holder._subplot.map;
      if (!map || !map.loaded() || !map.areTilesLoaded() || map.isMoving()) return 'pending';
    }
    return 'drawn';
  };
  const exceptions = () => document.querySelectorAll("[data-testid='stException']").length;
  let lastFrame = performance.now(), maxGap = 0;  // a long gap: the page itself was starved of CPU
  while (performance.now() - began < timeout) {
    maxGap = Math.max(maxGap, performance.now() - lastFrame);
    lastFrame = performance.now();
    const app = document.querySelector("[data-testid='stApp']");
    const state = app && app.getAttribute('data-test-script-state');
    // The observer sees attribute changes; polling also catches a run on an element mounted as 'running'.
    if (state === 'running' && !rg.runStarts.some((t) => t >= pressAt)) rg.runStarts.push(performance.now());
    const started = runSeen || rg.runStarts.some((t) => t >= pressAt);
    if (started && state === 'notRunning') {
      if (!rg.runEnds.some((t) => t >= pressAt)) rg.runEnds.push(performance.now());
      const charts = chartState();
      if (charts !== 'pending') {
        await frame(); await frame();
        return {ms: performance.now() - pressAt, charts: charts, exceptions: exceptions(), maxFrameGapMs: maxGap};
      }
    }
    if (!started && noRunMs && performance.now() - pressAt > noRunMs && state === 'notRunning') {
      return {ms: null, norun: true, charts: chartState(), exceptions: exceptions(), maxFrameGapMs: maxGap};
    }
    await frame();
  }
  return {ms: null, timeout: true, charts: chartState(), exceptions: exceptions(), maxFrameGapMs: maxGap};
}"""


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def summarise(samples: list[float]) -> tuple[float, float]:
    """(median, p95) of the samples, in their own unit (nearest-rank p95)."""
    if not samples:
        return float("nan"), float("nan")
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return statistics.median(ordered), p95


def describe_ms(samples_ms: list[float], count: bool = True) -> str:
    """'median 120 ms, p95 340 ms (n=30)'."""
    median, p95 = summarise(samples_ms)
    return f"median {median:.0f} ms, p95 {p95:.0f} ms" + (f" (n={len(samples_ms)})" if count else "")


@dataclass
class Server:
    """A running `streamlit run app.py` with its own database and timing log."""

    process: subprocess.Popen
    base: str
    healthy_seconds: float
    started_at: float
    log_path: Path
    timing_log: Path
    _timing_offset: int = field(default=0)

    def peak_memory_mb(self) -> float:
        """The server process's RSS high-water mark (VmHWM of /proc/<pid>/status), in MB."""
        return _status_kb(self.process.pid, "VmHWM") / 1024

    def memory_mb(self) -> float:
        """The server process's current RSS (VmRSS), in MB."""
        return _status_kb(self.process.pid, "VmRSS") / 1024

    def new_runs(self) -> list[tuple[str, float]]:
        """(page url path, seconds) of the script runs logged since the last call."""
        if not self.timing_log.exists():
            return []
        with open(self.timing_log, encoding="utf-8") as log:
            log.seek(self._timing_offset)
            text = log.read()
        complete = text[: text.rfind("\n") + 1]
        self._timing_offset += len(complete.encode("utf-8"))
        runs = []
        for line in complete.splitlines():
            page, _, seconds = line.partition("\t")
            runs.append((page, float(seconds)))
        return runs

    def server_errors(self) -> list[str]:
        """Tracebacks and errors the server wrote to its log."""
        text = self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""
        return [line for line in text.splitlines() if "Traceback" in line or line.startswith(("Error", "ERROR"))]

    def stop(self) -> None:
        """Terminate the server (only this process), killing it after ten seconds."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _status_kb(pid: int, key: str) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(key + ":"):
                return float(line.split()[1])
    raise KeyError(key)


def start_server(database: Path, workdir: Path, extra_env: dict | None = None, timeout: float = 120) -> Server:
    """Start `streamlit run app.py` headless on a free loopback port with RIGHTSGAP_DB=database and
    RIGHTSGAP_TIMING_LOG=workdir/timing.log; returns once /_stcore/health says ok.

    Raises RuntimeError (naming the log file) when the server does not become healthy in time.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    timing_log = workdir / f"timing-{port}.log"
    log_path = workdir / f"streamlit-{port}.log"
    timing_log.write_text("")
    env = {**os.environ, "RIGHTSGAP_DB": str(database), "RIGHTSGAP_TIMING_LOG": str(timing_log), **(extra_env or {})}
    log = open(log_path, "w")
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless=true", f"--server.port={port}",
         "--server.address=127.0.0.1", "--browser.gatherUsageStats=false", "--server.fileWatcherType=none"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    base = f"http://127.0.0.1:{port}"
    while True:
        with contextlib.suppress(OSError):  # not listening yet
            if urllib.request.urlopen(base + "/_stcore/health", timeout=2).read().strip() == b"ok":
                return Server(process, base, time.perf_counter() - started, started, log_path, timing_log)
        if process.poll() is not None or time.perf_counter() - started > timeout:
            if process.poll() is None:
                process.kill()
            raise RuntimeError(f"streamlit did not become healthy; see {log_path}")
        time.sleep(0.05)


def launch_browser(playwright):
    """Debian chromium, headless (``playwright install`` cannot download browsers offline)."""
    if CHROMIUM is None:
        raise RuntimeError("chromium is not installed (apt-get install chromium)")
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)


def is_outside(url: str) -> bool:
    """True for an http(s)/ws(s) URL whose host is not the loopback interface."""
    parsed = urlparse(url)
    return parsed.scheme in {"http", "https", "ws", "wss"} and parsed.hostname not in LOCAL_HOSTS


def new_page(browser, outside: list[str], viewport=(1440, 1000)):
    """A fresh context and page with the timing init script; requests leaving 127.0.0.1 are aborted
    and appended to ``outside``. Returns (context, page). Works with the sync API."""
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    context.add_init_script(INIT_SCRIPT)

    def route(route_):
        if is_outside(route_.request.url):
            outside.append(route_.request.url)
            route_.abort()
        else:
            route_.continue_()

    context.route("**/*", route)
    return context, context.new_page()


def wait_until_drawn(page, kind: str = "map", timeout_ms: float = 60_000, need_new_chart: bool = True,
                     expect_chart: bool = True, no_run_ms: float | None = None) -> dict:
    """Wait (in the page) for the run after the last press to finish and its charts to be drawn.

    expect_chart: the page must show a chart (otherwise a page without one counts as drawn).
    no_run_ms: when given, return {norun: True} if no run has started that long after the press (the
    change asked for what was already shown, so Streamlit had nothing to run).
    Returns {ms: milliseconds from the press to drawn (None on timeout), charts: 'drawn' | 'none'
    (an empty state) | 'pending', exceptions: number of exception boxes on the page, timeout: bool,
    maxFrameGapMs: the longest time between two frames while waiting (seconds-long gaps mean the
    browser itself was starved of CPU, not that the server was slow)}.
    """
    return page.evaluate(WAIT_SCRIPT, {"kind": kind, "timeout": timeout_ms, "needNewChart": need_new_chart,
                                       "expectChart": expect_chart, "noRunMs": no_run_ms, "runSeen": False})


class RunWatcher:
    """The script runs of one page's Streamlit session, read from its websocket: the ForwardMsg
    protobuf 'script_finished' says when a run finished and how (FINISHED_SUCCESSFULLY,
    FINISHED_WITH_COMPILE_ERROR, or FINISHED_EARLY_FOR_RERUN when a newer run replaced it). More
    reliable than the page's 'running' attribute, which a burst of messages can skip entirely.
    Works with the sync API (``wait``); benchmarks/load.py adds an asyncio wait."""

    def __init__(self, page):
        self.page = page
        self.finished: list[tuple[float, str]] = []
        self.sent: list[float] = []
        self.last_finished_at: float | None = None
        page.on("websocket", self._attach)

    def _attach(self, websocket) -> None:
        websocket.on("framereceived", self._frame)
        websocket.on("framesent", lambda payload: self.sent.append(time.perf_counter()))

    def _frame(self, payload) -> None:
        if isinstance(payload, str):
            return
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        try:
            message = ForwardMsg.FromString(payload)
        except Exception:  # noqa: BLE001 — not a ForwardMsg: ignore
            return
        if message.WhichOneof("type") == "script_finished":
            self.finished.append((time.perf_counter(), ForwardMsg.ScriptFinishedStatus.Name(message.script_finished)))
            self._notify()

    def _notify(self) -> None:
        """Hook for subclasses (an asyncio event)."""

    def finished_since(self, since: float) -> str | None:
        """The status of the first run that finished after ``since`` (perf_counter) and was not cut
        short by a newer run (sets last_finished_at); None when there is none yet."""
        for at, status in self.finished:
            if at >= since and status != "FINISHED_EARLY_FOR_RERUN":
                self.last_finished_at = at
                return status
        return None

    def first_sent_after(self, since: float) -> float | None:
        """When the browser first sent something to the server after ``since`` (the rerun request)."""
        return next((at for at in self.sent if at >= since), None)

    def wait(self, since: float, timeout_s: float) -> str | None:
        """Sync API: poll (letting Playwright deliver events) until a run finished after ``since``."""
        end = time.perf_counter() + timeout_s
        while (status := self.finished_since(since)) is None and time.perf_counter() < end:
            self.page.wait_for_timeout(10)
        return status


def wait_drawn_after_run(page, kind: str, timeout_ms: float, need_new_chart: bool = True, expect_chart: bool = True) -> dict:
    """Once the run is known to have finished: wait for the charts to be drawn (see WAIT_SCRIPT);
    ms is counted from the last press in the page."""
    return page.evaluate(WAIT_SCRIPT, {"kind": kind, "timeout": timeout_ms, "needNewChart": need_new_chart,
                                       "expectChart": expect_chart, "noRunMs": None, "runSeen": True})


def wait_for_first_page(page, kind: str = "map", timeout_ms: float = 120_000, runs: RunWatcher | None = None,
                        opened: float = 0.0) -> dict:
    """Wait for the first page of a fresh session to be fully drawn (no press needed): its first run
    finished (from ``runs`` when given, opened = perf_counter before page.goto) and charts drawn."""
    page.evaluate("() => { window.__rg.pressAt = 0; window.__rg.old = null; }")
    if runs is not None:
        if runs.wait(opened, timeout_ms / 1000) is None:
            return {"ms": None, "timeout": True, "charts": "pending", "exceptions": 0}
        return wait_drawn_after_run(page, kind, timeout_ms, need_new_chart=False)
    return wait_until_drawn(page, kind, timeout_ms, need_new_chart=False)


def mark(page) -> None:
    """Remember the chart now shown (call before a change)."""
    page.evaluate(MARK_SCRIPT)


def choose(page, label: str, option: str) -> float:
    """Open the sidebar selectbox labelled ``label``, type to filter, and click ``option`` exactly;
    returns the perf_counter time of that last click."""
    box = page.locator("[data-testid='stSelectbox']").filter(has=page.get_by_text(label, exact=True)).first
    box.click()
    page.keyboard.type(option[:12])
    target = page.get_by_role("option", name=option, exact=True).first
    target.wait_for()
    pressed = time.perf_counter()
    target.click()
    return pressed


def click_segment(page, option: str) -> float:
    """Click one option of a segmented control (Sex, Governance level); returns the perf_counter time."""
    import re

    button = page.locator("[data-testid='stButtonGroup'] button").filter(has_text=re.compile(f"^{re.escape(option)}$")).first
    button.wait_for()
    pressed = time.perf_counter()
    button.click()
    return pressed


def environment_line() -> str:
    """Machine, date, load average and versions, for the results table."""
    import platform

    load = os.getloadavg()
    return (f"{time.strftime('%Y-%m-%d %H:%M')} — {platform.platform()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


def describe_parts(results: "ChangeResults") -> str:
    """'; press -> rerun request sent: median 300 ms; press -> run finished message: median 600 ms':
    where a browser-measured change spends its time (the rest is drawing)."""
    return (f"; press -> rerun request sent: median {summarise(results.request_ms)[0]:.0f} ms"
            f"; press -> run finished message: median {summarise(results.reply_ms)[0]:.0f} ms")


@dataclass
class ChangeResults:
    """What a series of selection changes measured: browser milliseconds from the press to drawn,
    server-side milliseconds (sum of the script runs the change caused, from the timing log), and
    what went wrong (timeouts, exception boxes, changes that showed an empty state)."""

    browser_ms: list[float] = field(default_factory=list)
    #: press -> the run's 'script_finished' message received by the browser (server work + transfer), ms
    reply_ms: list[float] = field(default_factory=list)
    #: press -> the browser's first websocket message to the server (the rerun request), ms
    request_ms: list[float] = field(default_factory=list)
    server_ms: list[float] = field(default_factory=list)
    runs: list[int] = field(default_factory=list)
    timeouts: int = 0
    exceptions: int = 0
    empty: int = 0
    failed_runs: int = 0

    def problems(self) -> str:
        parts = [f"{n} {what}" for n, what in ((self.timeouts, "timeouts"), (self.exceptions, "exception boxes"),
                                               (self.empty, "empty states"), (self.failed_runs, "failed runs")) if n]
        return "; ".join(parts)


def _record(results: ChangeResults, server: Server, page, runs: RunWatcher, pressed: float, kind: str,
            page_path: str, timeout_ms: float) -> None:
    """Wait for the run the change caused (websocket), then for the drawing (page); record both
    sides: browser ms from the press (in the page) and the server's run times (timing log)."""
    status = runs.wait(pressed, timeout_ms / 1000)
    if status is None:
        results.timeouts += 1
    else:
        outcome = wait_drawn_after_run(page, kind, timeout_ms)
        if status != "FINISHED_SUCCESSFULLY":
            results.failed_runs += 1
        if outcome.get("timeout"):
            results.timeouts += 1
        elif outcome.get("charts") == "none":
            results.empty += 1
        else:
            results.browser_ms.append(outcome["ms"])
            results.reply_ms.append((runs.last_finished_at - pressed) * 1000)
            sent = runs.first_sent_after(pressed)
            if sent is not None and sent <= runs.last_finished_at:
                results.request_ms.append((sent - pressed) * 1000)
        results.exceptions += outcome.get("exceptions", 0) > 0
    logged = [seconds for path, seconds in server.new_runs() if path == page_path]
    if logged:
        results.server_ms.append(sum(logged) * 1000)
        results.runs.append(len(logged))


def drive_explore(server: Server, page, runs: RunWatcher, years: list[int], count: int,
                  timeout_ms: float = 60_000) -> ChangeResults:
    """Change the Explore selection ``count`` times, alternating the year (years[1], years[2] ...) and
    the sex (Females, Males, Total ...), so every change asks for a combination not seen before
    (no cache hit). The page must show Explore with years[0] and sex T. Measures each change
    (browser: press -> run finished and the new map drawn)."""
    from core import vocabulary

    sexes = [vocabulary.SEXES[s] for s in ("F", "M", "T")]
    results = ChangeResults()
    server.new_runs()
    next_year, next_sex = 1, 0
    for index in range(count):
        mark(page)
        if index % 2 == 0:
            pressed = choose(page, "Year", str(years[next_year % len(years)]))
            next_year += 1
        else:
            pressed = click_segment(page, sexes[next_sex % len(sexes)])
            next_sex += 1
        _record(results, server, page, runs, pressed, "map", "explore", timeout_ms)
    return results


def drive_profile(server: Server, page, runs: RunWatcher, country_names: list[str], count: int,
                  timeout_ms: float = 60_000) -> ChangeResults:
    """Change the country ``count`` times on the Country profile (country_names[1], [2] ...; the page
    must show country_names[0]). Measures each change (browser: run finished and charts plotted)."""
    results = ChangeResults()
    server.new_runs()
    for index in range(count):
        mark(page)
        pressed = choose(page, "Country", country_names[(index + 1) % len(country_names)])
        _record(results, server, page, runs, pressed, "page", "country", timeout_ms)
    return results
