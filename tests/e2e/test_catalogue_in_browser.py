"""The Catalogue and My indicator set in a real browser: what AppTest cannot show.

AppTest drops the sidebar after its first run and cannot fetch a download, so these check in
chromium that 'Open in Explore' really shows the indicator, that the set survives page switches in
the URL, and that the Excel export the browser saves opens with the set and its metadata sheets.
"""
from __future__ import annotations

import io
from urllib.parse import parse_qs, urlparse

import openpyxl

from tests.e2e.conftest import wait_for_app


def test_a_sheet_opens_beside_the_framework_and_leads_to_explore(page, server):
    page.goto(server + "/?right=work")  # the first visit registers the pages
    wait_for_app(page)
    page.goto(server + "/catalogue?right=work&country=FRA")
    wait_for_app(page)
    page.locator("[data-testid='stMain'] [data-testid='stSelectbox']").first.click()  # the page's Right, not the sidebar's
    page.get_by_role("option", name="Right to health", exact=True).click()
    wait_for_app(page)
    page.get_by_role("button", name="People who rate their own health as bad or very bad").first.click()
    wait_for_app(page)
    drawer = page.get_by_role("dialog")
    assert drawer.get_by_text("Metadata sheet").is_visible()
    assert drawer.get_by_text("France", exact=False).first.is_visible()
    drawer.get_by_role("button", name="Open in Explore").click()
    wait_for_app(page)
    headings = page.locator("[data-testid='stHeading']").all_inner_texts()
    assert headings[0].startswith("Explore")
    assert headings[1] == "People who rate their own health as bad or very bad, migrants compared with nationals"
    assert parse_qs(urlparse(page.url).query)["right"] == ["health"]


def test_the_set_stays_in_the_url_and_its_excel_export_opens(page, server):
    link = "work.employment_rate,health.firewall_health_services"
    page.goto(server + "/?right=work")
    wait_for_app(page)
    page.goto(server + f"/my-set?set={link}&country=DEU")
    wait_for_app(page)
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Excel").click()
    workbook = openpyxl.load_workbook(io.BytesIO(open(download_info.value.path(), "rb").read()))
    assert workbook.sheetnames == ["My set", "01 employment_rate", "02 firewall_health_services", "Sources"]
    header = [cell.value for cell in workbook["My set"][1]]
    first = dict(zip(header, [cell.value for cell in workbook["My set"][2]]))
    assert (first["Country"], first["Reference group value"], first["Migrant group value"]) == ("Germany", 80, 66)
    page.get_by_role("link", name="Explore").first.click()
    wait_for_app(page)
    assert parse_qs(urlparse(page.url).query)["set"] == [link]
    page.get_by_role("link", name="My indicator set").first.click()
    wait_for_app(page)
    assert page.get_by_text("Health services kept separate from immigration enforcement (firewall)").first.is_visible()
