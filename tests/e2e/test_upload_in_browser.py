"""An analyst's upload in a real browser: a file of an indicator the embedded data already hold is
loaded through the page, and the page's link opens Explore on the analyst's own figures."""
from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import start_server, wait_for_app
from tests.test_upload_page import load_into

EMPLOYMENT = ("country,year,group,value\n"
              "France,2023,nationals,70.1\n"
              "France,2023,non_nationals,55.5\n"
              "Germany,2023,nationals,81.0\n"
              "Germany,2023,non_nationals,67.2\n").encode("utf-8")


@pytest.fixture
def upload_server(tmp_path):
    """A server on a database holding the embedded data and an earlier upload of the employment rate
    (so the Explore sidebar already offers a choice of source dataset)."""
    from core import store

    database = tmp_path / "rightsgap.duckdb"
    store.build_store(database)
    load_into(database, "group_columns.csv", "work.employment_rate", "earlier_survey")
    running = start_server(database, tmp_path)
    yield running.base
    running.stop()


def test_an_upload_then_its_link_opens_explore_on_the_uploaded_figures(upload_server, page, guard):
    page.goto(upload_server + "/?right=work&indicator=work.employment_rate&group=non_nationals&year=2023")
    wait_for_app(page)
    assert page.get_by_text(re.compile(r"source dataset: LFSA_ERGAN")).first.is_visible()  # the embedded source first
    page.get_by_role("link", name="Upload").first.click()  # same session, through the navigation
    wait_for_app(page)
    with page.expect_file_chooser() as chooser:
        page.locator("[data-testid='stFileUploaderDropzone']").first.click()
    chooser.value.set_files([{"name": "employment_2023.csv", "mimeType": "text/csv", "buffer": EMPLOYMENT}])
    wait_for_app(page)
    page.wait_for_timeout(1000)
    wait_for_app(page)
    type_and_choose(page, "Catalogue indicator", "work.employment_rate")
    page.get_by_role("button", name="Load the dataset").click()
    wait_for_app(page)
    assert page.get_by_text(re.compile(r"Loaded 'employment_2023': 4 observations")).first.is_visible()
    page.get_by_role("link", name="See its gaps on Explore").click()
    wait_for_app(page)
    page.wait_for_timeout(500)
    wait_for_app(page)
    assert page.get_by_role("heading", name="Explore").is_visible()
    assert page.get_by_text(re.compile(r"source dataset: employment_2023")).first.is_visible()
    assert "dataset=employment_2023" in page.url
    body = page.locator("[data-testid='stMain']").inner_text()
    assert "Ranking of 2 countries" in body  # France and Germany, from the file: not the 30-odd embedded ones
    assert not guard.outside


def type_and_choose(page, label: str, text: str) -> None:
    """Type into the selectbox labelled ``label`` (its options are filtered as one types) and pick the
    first option left."""
    box = page.locator("[data-testid='stSelectbox']").filter(has=page.get_by_text(label, exact=True)).first
    box.click()
    page.keyboard.type(text)
    option = page.get_by_role("option").first
    assert text in option.inner_text()
    option.click()
    wait_for_app(page)
