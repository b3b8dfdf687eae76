"""An analyst uploads figures for an indicator the embedded data already hold: Explore shows one
source at a time (never two values for one country), the embedded source by default, the upload
when chosen (as the upload page's link does)."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import open_app
from tests.test_upload_page import load_into


def gap_table(app: AppTest):
    return next(d.value for d in app.dataframe if "Code" in d.value.columns)


def test_an_upload_of_an_embedded_indicator_is_a_second_source_shown_apart(app_database):
    # tests/files/group_columns.csv: Austria 77.5 vs 68.1 (u) and Belgium 68.0 vs 56.3 in 2023, no sex or age columns.
    load_into(app_database, "group_columns.csv", "work.employment_rate", "my_survey")
    query = {"right": "work", "indicator": "work.employment_rate", "group": "non_nationals", "year": 2023}

    embedded = open_app(**query)
    sidebar_choice = next(s for s in embedded.sidebar.selectbox if s.label == "Source dataset")
    assert sidebar_choice.value == "LFSA_ERGAN"  # the embedded source first
    assert "my_survey" in sidebar_choice.options[1]
    table = gap_table(embedded)
    assert table["Code"].is_unique and len(table) > 20  # one row per country, not one per source
    assert not table["Source"].str.contains("City of Example").any()  # no row from the upload

    uploaded = open_app(**query, dataset="my_survey")
    assert not any(s.label == "Source dataset" and s.value != "my_survey" for s in uploaded.sidebar.selectbox)
    table = gap_table(uploaded).set_index("Code")
    assert sorted(table.index) == ["AUT", "BEL"]  # Czechia's value is confidential (c): no gap
    assert table.loc["AUT", "Disadvantage (pp)"] == pytest.approx(9.4)
    assert table.loc["BEL", "Disadvantage (pp)"] == pytest.approx(11.7)
    assert set(table["Source"]) == {"Source: City of Example, labour survey"}
    assert any("source dataset: my\\_survey" in m.value or "source dataset: my_survey" in m.value for m in uploaded.markdown)


def test_with_a_single_source_no_dataset_choice_is_offered(app_database):
    app = open_app(right="work", indicator="work.employment_rate", year=2023)
    assert not any(s.label == "Source dataset" for s in app.sidebar.selectbox)
    assert "dataset" not in app.query_params


# The upload page's link to Explore on a session that already chose a source is a browser test
# (tests/e2e/test_upload_in_browser.py): AppTest does not rerun app.py's sidebar after its first run.


def test_the_country_profile_points_to_uploaded_figures_for_the_place(app_database):
    load_into(app_database, "group_columns.csv", "work.employment_rate", "my_survey")
    app = open_app(page="pages/country.py", country="AUT")
    assert any("Uploaded datasets also hold figures for Austria" in i.value for i in app.info)
    links = [link for link in app.get("page_link")]
    assert any("my_survey: Employment rate of people aged 15-64, 2023" in link.proto.label for link in links)
    france = open_app(page="pages/country.py", country="FRA")  # no upload for France: no note
    assert not any("Uploaded datasets" in i.value for i in france.info)


def test_a_link_naming_a_source_the_indicator_does_not_have_says_it_was_not_used(app_database):
    app = open_app(right="work", indicator="work.employment_rate", year=2023, dataset="nothing")
    assert any("source dataset 'nothing'" in w.value for w in app.warning)
    assert app.session_state["_selection"].dataset is None
