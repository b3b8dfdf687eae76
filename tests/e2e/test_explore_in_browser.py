"""What a user sees in a real browser: pages open, maps draw offline, selections change the view,
and a copied link reopens the same view."""
from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import choose_option, click_segment, map_colours, red_and_blue_pixels, wait_for_app


def test_explore_draws_a_coloured_map_and_ranking_with_no_outside_request(page, server, guard):
    page.goto(server + "/?right=work&indicator=work.employment_rate&year=2023")
    wait_for_app(page)
    assert page.get_by_role("heading", name="Explore").is_visible()
    assert page.get_by_text("Germany", exact=True).first.is_visible()
    # Diverging fills: several distinct saturated colours, not one flat colour.
    assert len(map_colours(page)) >= 2
    # In 2023 non-nationals' employment rate is below nationals' in Germany, France, Sweden and most of
    # Western Europe: red (migrants worse off) must outweigh blue.
    reddish, bluish = red_and_blue_pixels(page)
    assert reddish > 2 * bluish, (reddish, bluish)
    assert page.get_by_text(re.compile(r"Ranking of \d+ countries by disadvantage")).count() == 1
    assert guard.requests, "the page made no request at all: the guard is not recording"


def test_changing_indicator_sex_and_level_changes_the_map(page, server):
    page.goto(server + "/?right=work&indicator=work.employment_rate&year=2023")
    wait_for_app(page)
    first_map = page.locator("[data-testid='stPlotlyChart']").first.screenshot()
    choose_option(page, "Indicator", "Unemployment rate, migrants compared with nationals and native-born")
    assert page.get_by_role("heading", name="Unemployment rate, migrants compared with nationals and native-born").is_visible()
    click_segment(page, "Females")
    assert "sex=F" in page.url
    click_segment(page, "Global")
    assert "level=global" in page.url
    assert page.get_by_text("International Migrant Stock 2020", exact=False).first.is_visible()
    second_map = page.locator("[data-testid='stPlotlyChart']").first.screenshot()
    assert first_map != second_map
    assert len(map_colours(page)) >= 2


def test_a_copied_link_reopens_the_same_view_in_a_new_browser(page, server, browser):
    page.goto(server + "/")
    wait_for_app(page)
    choose_option(page, "Right", "Right to education")
    choose_option(page, "Year", "2019")
    click_segment(page, "Males")
    link = page.url
    assert "right=education" in link and "year=2019" in link and "sex=M" in link
    heading = page.locator("h3").first.inner_text()
    description = page.get_by_text(re.compile(r"compared with .* · 2019 · Males")).first.inner_text()
    other = browser.new_context(viewport={"width": 1440, "height": 1000})
    try:
        second = other.new_page()
        second.goto(link)
        wait_for_app(second)
        assert second.locator("h3").first.inner_text() == heading
        assert second.get_by_text(re.compile(r"compared with .* · 2019 · Males")).first.inner_text() == description
    finally:
        other.close()


def test_country_profile_and_sources_open(page, server):
    page.goto(server + "/country?country=FRA")
    page.get_by_role("heading", name="Country profile: France").wait_for(timeout=60_000)  # via app.py on a fresh server
    wait_for_app(page)
    assert page.locator("[data-testid='stExpander']").count() >= 3
    page.goto(server + "/sources")
    wait_for_app(page)
    assert page.get_by_role("heading", name="How a gap is computed").is_visible()
    assert page.get_by_text("CC BY 4.0", exact=False).first.is_visible()


def test_the_csv_download_holds_exactly_the_rows_shown(page, server):
    import io

    import pandas as pd

    page.goto(server + "/?indicator=work.unemployment_rate&year=2022&sex=F")
    wait_for_app(page)
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download this table (CSV)").click()
    downloaded = pd.read_csv(io.BytesIO(open(download_info.value.path(), "rb").read()))
    assert set(downloaded["Sex"]) == {"F"} and set(downloaded["Year"]) == {2022}
    assert downloaded["Disadvantage (pp)"].is_monotonic_decreasing
    greece = downloaded.loc[downloaded["Code"] == "GRC"].iloc[0]
    assert greece["Source"] == "Source: Eurostat, dataset LFSA_URGAN"
    # The rows are the ranking's countries, as many as the page says.
    assert page.get_by_text(f"Ranking of {len(downloaded)} countries", exact=False).count() == 1


def test_selection_is_shared_across_pages_through_the_sidebar(page, server):
    page.goto(server + "/?right=education")
    wait_for_app(page)
    choose_option(page, "Country", "France")
    page.get_by_role("link", name="Country profile").click()
    wait_for_app(page)
    assert page.get_by_role("heading", name="Country profile: France").is_visible()
    assert "country=FRA" in page.url and "right=education" in page.url
    page.get_by_role("link", name="Explore").click()
    wait_for_app(page)
    assert "country=FRA" in page.url
    assert page.get_by_text(re.compile(r"^France$")).first.is_visible()


def test_a_typed_explore_link_opens_explore_without_a_page_not_found_dialog(page, server):
    # Explore is the default page, at the root URL; /explore (the file's name, as a presenter may type
    # it) is answered by a hidden page that opens Explore with the link's parameters.
    page.goto(server + "/?right=work")  # the server has run the app's navigation already
    wait_for_app(page)
    page.goto(server + "/explore?right=education&indicator=education.tertiary_attainment_share")
    page.get_by_role("heading", name="Explore").wait_for(timeout=60_000)
    wait_for_app(page)
    assert page.get_by_text("Page not found").count() == 0
    assert page.get_by_role("dialog").count() == 0
    assert "right=education" in page.url and "indicator=education.tertiary_attainment_share" in page.url
    page.goto(server + "/explore?right=education&year=1800")  # a value not among the choices is still named
    page.get_by_text("not used from the link", exact=False).first.wait_for(timeout=60_000)
    assert page.get_by_text("year '1800'", exact=False).count() >= 1


@pytest.mark.parametrize("link, heading, kept", [
    ("/sources?right=education", "Sources and method", "right=education"),
    ("/country?country=FRA&right=work", "Country profile: France", "country=FRA"),
])
def test_a_deep_link_as_the_first_visit_to_a_fresh_server_opens_that_page(browser, tmp_path, link, heading, kept):
    # Until some session has run app.py, Streamlit treats pages/ as stand-alone pages; the link must
    # still open the page inside the app, with its parameters, and with no "Page not found" dialog
    # (a page file whose name differs from its URL path brought one up over the page).
    from tests.e2e.conftest import start_server

    running = start_server(tmp_path / "fresh.duckdb", tmp_path)
    base = running.base
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    try:
        page = context.new_page()
        page.goto(base + link)
        page.get_by_role("heading", name=heading).wait_for(timeout=60_000)  # after the trip through app.py
        wait_for_app(page)
        assert page.locator("[data-testid='stException']").count() == 0
        assert page.get_by_text("Page not found").count() == 0
        assert page.get_by_role("dialog").count() == 0
        assert kept in page.url and link.split("?")[0] in page.url
        assert page.get_by_role("link", name="Explore").is_visible()  # the app's own navigation, not the pages/ folder's
    finally:
        context.close()
        running.stop()
