"""Browser fixtures: one `streamlit run app.py` server per test session on a free loopback port, with
its own database file, and Debian's chromium driven by Playwright (``playwright install`` cannot
download browsers on machines without internet, so the system chromium is used).

Every page opened through the ``page`` fixture records the hosts it contacts; a test fails when any
request leaves 127.0.0.1, naming the host (the offline guarantee). Each test saves a screenshot in
docs/screenshots/ (or $RIGHTSGAP_SCREENSHOTS).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = Path(os.environ.get("RIGHTSGAP_SCREENSHOTS", ROOT / "docs" / "screenshots"))
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


def pytest_collection_modifyitems(config, items):
    """Mark everything under tests/e2e as e2e; skip (with the reason) when chromium is missing, except in CI."""
    for item in items:
        if "/e2e/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.e2e)
            if CHROMIUM is None and not os.environ.get("CI"):
                item.add_marker(pytest.mark.skip(reason="Debian chromium is not installed (apt-get install chromium); "
                                                        "browser tests skipped knowingly. CI installs it and never skips."))


def start_server(database: Path, workdir: Path):
    """`streamlit run app.py` headless on a free loopback port with its own database file: the same
    server the benchmarks measure (benchmarks.harness.start_server; its log is in ``workdir``).
    Returns a harness.Server (``.base`` is the URL); call ``.stop()`` when done."""
    from benchmarks import harness

    return harness.start_server(database, workdir, timeout=90)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """Base URL of a running app with its own, freshly built database."""
    if CHROMIUM is None:
        pytest.fail("chromium is required for browser tests in CI (apt-get install chromium)")
    folder = tmp_path_factory.mktemp("server")
    running = start_server(folder / "rightsgap.duckdb", folder)
    yield running.base
    running.stop()


@pytest.fixture(scope="session")
def browser():
    """Debian chromium, headless, launched by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"])
        yield launched
        launched.close()


class OfflineGuard:
    """Records every request a page makes; ``outside`` lists the ones that left the machine."""

    def __init__(self):
        self.requests: list[str] = []

    def record(self, request) -> None:
        self.requests.append(request.url)

    @property
    def outside(self) -> list[str]:
        return [url for url in self.requests
                if urlparse(url).scheme in {"http", "https", "ws", "wss"} and urlparse(url).hostname not in LOCAL_HOSTS]


@pytest.fixture
def guard():
    return OfflineGuard()


@pytest.fixture
def page(browser, guard, request):
    """A fresh browser context and page (1440x1000); fails the test if any request leaves 127.0.0.1;
    saves a screenshot named after the test."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    context.route("**/*", lambda route: route.abort() if urlparse(route.request.url).hostname not in LOCAL_HOSTS
                  and urlparse(route.request.url).scheme in {"http", "https"} else route.continue_())
    new_page = context.new_page()
    new_page.on("request", guard.record)
    yield new_page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        new_page.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"), full_page=False)
    finally:
        context.close()
    assert not guard.outside, f"requests left the machine: {sorted({urlparse(u).hostname for u in guard.outside})}"


def wait_for_app(page, timeout: float = 60_000) -> None:
    """Wait until the Streamlit script has finished running and the charts had a moment to draw."""
    page.wait_for_selector("[data-testid='stApp']", timeout=timeout)
    page.wait_for_function(
        "() => { const app = document.querySelector(\"[data-testid='stApp']\");"
        " return app && app.getAttribute('data-test-script-state') === 'notRunning'; }", timeout=timeout)
    page.wait_for_timeout(600)


def choose_option(page, label: str, option: str) -> None:
    """Open the selectbox whose label is `label` and pick the option whose text is `option`."""
    box = page.locator("[data-testid='stSelectbox']").filter(has=page.get_by_text(label, exact=True)).first
    box.click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_for_app(page)


def map_colours(page, index: int = 0) -> set[tuple[int, int, int]]:
    """Distinct saturated colours in the index-th map (MapLibre canvas), to tell a drawn map from a blank one."""
    import io

    from PIL import Image

    canvas = page.locator("[data-testid='stPlotlyChart'] .maplibregl-canvas, [data-testid='stPlotlyChart'] canvas").nth(index)
    canvas.wait_for(state="visible", timeout=30_000)
    page.wait_for_timeout(1500)
    image = Image.open(io.BytesIO(canvas.screenshot())).convert("RGB").quantize(colors=64).convert("RGB")
    colours = set()
    for count, (red, green, blue) in image.getcolors(1_000_000):
        saturated = max(red, green, blue) - min(red, green, blue) > 40
        if saturated and count > 30:
            colours.add((red // 16, green // 16, blue // 16))
    return colours


def red_and_blue_pixels(page, index: int = 0) -> tuple[int, int]:
    """(reddish, bluish) saturated pixels of the index-th map: on the disadvantage maps red means
    migrants worse off and blue better off, so the balance tells whether the scale runs the right way."""
    import io

    from PIL import Image

    canvas = page.locator("[data-testid='stPlotlyChart'] .maplibregl-canvas, [data-testid='stPlotlyChart'] canvas").nth(index)
    canvas.wait_for(state="visible", timeout=30_000)
    page.wait_for_timeout(1500)
    image = Image.open(io.BytesIO(canvas.screenshot())).convert("RGB")
    reddish = bluish = 0
    for count, (red, green, blue) in image.getcolors(10_000_000):
        if max(red, green, blue) - min(red, green, blue) > 40:
            if red > blue + 30:
                reddish += count
            elif blue > red + 30:
                bluish += count
    return reddish, bluish


def click_segment(page, option: str) -> None:
    """Click one option of a segmented control (Sex, Governance level ...) and wait for the rerun."""
    import re

    page.locator("[data-testid='stButtonGroup'] button").filter(has_text=re.compile(f"^{re.escape(option)}$")).first.click()
    wait_for_app(page)
