"""The Catalogue and My indicator set pages as a policy maker meets them, through app.py with AppTest.

Each test seeds the URL (as a copied link would) before the first run, then drives the page's own
widgets. The exports are taken from the download buttons exactly as the browser would receive them
(the bytes handed to Streamlit's media file manager) and opened: sheets, columns, values, and
formula neutralisation of a hostile attribution that an uploaded dataset could carry.
"""
from __future__ import annotations

import io
import json

import duckdb
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st_
from pypdf import PdfReader
from streamlit.testing.v1 import AppTest

from core import exports, vocabulary
from core.catalogue import load_default_catalogue
from tests.conftest import ROOT, open_app
from ui.indicator_set import format_set_param, parse_set_param

CATALOGUE = load_default_catalogue()


def markdown_texts(app: AppTest) -> list[str]:
    return [m.value for m in app.markdown]


def count_line(app: AppTest) -> str:
    return next(text for text in markdown_texts(app) if "indicators** match" in text)


def dataframe_with(app: AppTest, column: str) -> pd.DataFrame:
    return next(frame.value for frame in app.dataframe if column in frame.value.columns)


@pytest.fixture
def downloads(monkeypatch):
    """{file name: (bytes, url)} of every download button drawn, as the browser would fetch them."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    captured: dict[str, tuple[bytes, str]] = {}
    original = MediaFileManager.add

    def spy(self, path_or_data, mimetype, coordinates, file_name=None, is_for_static_download=False):
        url = original(self, path_or_data, mimetype, coordinates, file_name=file_name,
                       is_for_static_download=is_for_static_download)
        if file_name:
            captured[file_name] = (path_or_data, url)
        return url

    monkeypatch.setattr(MediaFileManager, "add", spy)
    return captured


# --- Catalogue: the framework table and the filters -----------------------------------------------

def test_framework_table_lists_every_indicator_of_the_right_by_attribute_and_type(app_database):
    app = open_app("pages/catalogue.py", right="work", country="DEU")
    assert app.title[0].value == "Catalogue"
    work = CATALOGUE.filter(right="work")
    assert count_line(app).startswith(f"**{len(work)} of {len(CATALOGUE)} indicators** match · 6 with values for both groups in Germany")
    texts = markdown_texts(app)
    for attribute in vocabulary.ATTRIBUTES["work"].values():
        assert f"**{attribute}**" in texts
    for type_name in ("Structural", "Process", "Outcome"):
        assert any(t.startswith(f"**{type_name} indicators**") for t in texts)
    labels = {button.key: button.label for button in app.button if button.key and button.key.startswith("framework_work_")}
    assert set(labels) == {f"framework_work_{i.code}" for i in work}
    assert labels["framework_work_work.employment_rate"] == "Employment rate of people aged 15-64 ★"  # a good practice bears on it
    check_data_availability_view(app)


def test_filters_combine_and_search_titles_and_definitions(app_database):
    app = open_app("pages/catalogue.py", right="work", country="DEU")
    app.multiselect(key="catalogue_types").set_value(["structural"]).run()
    structural = [i for i in CATALOGUE.filter(right="work") if i.type == "structural"]
    assert count_line(app).startswith(f"**{len(structural)} of 68 indicators**")
    app.multiselect(key="catalogue_groups").set_value(["irregular"]).run()
    app.text_input(key="catalogue_search").input("firewall").run()
    assert count_line(app).startswith("**1 of 68 indicators**")
    assert dataframe_with(app, "Groups compared")["Code"].tolist() == ["work.firewall_labour_inspection"]
    app.selectbox(key="catalogue_right").set_value("all").run()
    assert dataframe_with(app, "Groups compared")["Code"].tolist() == [
        "health.firewall_health_services", "education.firewall_schools", "work.firewall_labour_inspection",
        "justice.firewall_police_for_victims"]
    # a definition-only word: "reference week" is in the employment rate's definition, not its title
    app.multiselect(key="catalogue_types").set_value([]).run()
    app.multiselect(key="catalogue_groups").set_value([]).run()
    app.text_input(key="catalogue_search").input("survey reference week").run()
    assert dataframe_with(app, "Groups compared")["Code"].tolist() == ["work.employment_rate"]
    assert not app.exception
    app.text_input(key="catalogue_search").input("").run()
    app.selectbox(key="catalogue_right").set_value("health").run()
    app.multiselect(key="catalogue_levels").set_value(["local"]).run()
    app.multiselect(key="catalogue_producers").set_value(["civil_society"]).run()
    app.multiselect(key="catalogue_source_types").set_value(["expert_judgement"]).run()
    codes = dataframe_with(app, "Groups compared")["Code"].tolist()
    assert codes == ["health.firewall_health_services", "health.local_clinic_for_uninsured", "health.city_identity_card"]
    app.multiselect(key="catalogue_levels").set_value([]).run()
    app.multiselect(key="catalogue_producers").set_value([]).run()
    app.multiselect(key="catalogue_source_types").set_value([]).run()
    app.toggle(key="catalogue_with_data").set_value(True).run()
    listing = dataframe_with(app, "Groups compared")
    assert "health.bad_self_perceived_health" in listing["Code"].tolist()
    assert "health.firewall_health_services" not in listing["Code"].tolist()
    assert set(listing["Data for Germany"]) <= {"Migrants and their reference group", "One group only",
                                                "Whole population only (not disaggregated)"}


# --- Catalogue: the metadata sheet -------------------------------------------------------------------

def test_clicking_an_indicator_opens_its_metadata_sheet_with_germanys_values(app_database):
    app = open_app("pages/catalogue.py", right="work", country="DEU")
    app.button(key="framework_work_work.employment_rate").click().run()
    texts = markdown_texts(app)
    assert "#### Metadata sheet" in texts
    indicator = CATALOGUE.get("work.employment_rate")
    for field in ("Definition", "Rationale", "Method of computation", "Data collection and source", "Disaggregation",
                  "Periodicity", "Comments and limitations"):
        assert f"**{field}**" in texts
    assert " ".join(indicator.definition.split()) in texts
    facts = dataframe_with(app, "Field").set_index("Field")["Value"]
    assert facts["Polarity"] == "Higher is better" and facts["Datasets embedded"] == "LFSA_ERGAN"
    metrics = {metric.label: metric.value for metric in app.metric}
    assert (metrics["Nationals"], metrics["Non-nationals (all foreign citizens)"], metrics["Disadvantage"]) == (
        "80.0%", "66.0%", "+14.0 pp")
    both = dataframe_with(app, "Years with both groups").set_index("Code")
    assert len(both) == 35
    assert both.loc["DEU", "Years with both groups"] == "1995–2024" and both.loc["DEU", "Latest"] == 2024
    assert "**Places with values for both groups: 35**" in texts
    assert any(t.startswith("**Regularisation of migrants in an irregular situation**") for t in texts)
    # add it to the set from the sheet, then a second one
    app.button(key="catalogue_sheet_set_work.employment_rate").click().run()
    assert app.query_params["set"] == "work.employment_rate"
    assert app.button(key="catalogue_sheet_set_work.employment_rate").label == "Remove from my set"
    app.button(key="framework_work_work.firewall_labour_inspection").click().run()
    app.button(key="catalogue_sheet_set_work.firewall_labour_inspection").click().run()
    assert app.query_params["set"] == "work.employment_rate,work.firewall_labour_inspection"


def test_sheet_of_an_indicator_without_data_says_what_is_missing(app_database):
    app = open_app("pages/catalogue.py", right="health", country="DEU")
    app.button(key="framework_health_health.firewall_health_services").click().run()
    assert any("No harmonised data set exists" in w.value for w in app.warning)
    assert "**Places with values for both groups: 0**" in markdown_texts(app)
    assert any("Not in Explore" in c.value for c in app.caption)
    assert any(t.startswith("**Mobile community-health clinics open to the uninsured**") for t in markdown_texts(app))
    check_good_practices_tab(app)


def test_open_in_explore_sets_the_shared_selection_to_the_indicator(app_database):
    app = open_app("pages/catalogue.py", right="work", country="FRA")
    app.selectbox(key="catalogue_right").set_value("health").run()
    app.button(key="framework_health_health.bad_self_perceived_health").click().run()
    app.button(key="catalogue_sheet_explore_health.bad_self_perceived_health").click().run()
    assert not app.exception
    assert app.title[0].value == "Explore"
    # The link carries the codes. (AppTest drops the sidebar's widgets after the first run, so it cannot
    # show Explore's own heading for the new indicator; the browser does, checked with Playwright.)
    assert (app.query_params["right"], app.query_params["indicator"], app.query_params["country"]) == (
        "health", "health.bad_self_perceived_health", "FRA")


def test_add_every_indicator_a_filter_leaves(app_database):
    app = open_app("pages/catalogue.py", right="work", set="work.employment_rate")
    app.text_input(key="catalogue_search").input("firewall").run()
    app.button(key="catalogue_add_all").click().run()
    assert app.query_params["set"] == "work.employment_rate,work.firewall_labour_inspection"
    assert app.button(key="catalogue_add_all").label == "All are in my set"


# --- Catalogue: data availability and good practices ----------------------------------------------

def check_data_availability_view(app: AppTest) -> None:
    """The Data availability tab of the Catalogue opened on the right to decent work, for Germany."""
    summary = dataframe_with(app, "One group only").set_index("Code")
    assert summary.loc["work.employment_rate", "Both groups"] == 35
    assert summary.loc["work.unemployment_rate", "One group only"] == 3  # Bosnia and Herzegovina, Bulgaria, Romania
    firewall = summary.loc["work.firewall_labour_inspection"]
    assert firewall[["Both groups", "One group only", "Whole population only"]].sum() == 0
    assert firewall["No data"] == summary.loc["work.employment_rate", ["Both groups", "One group only",
                                                                      "Whole population only", "No data"]].sum()
    metrics = {metric.label: metric.value for metric in app.metric}
    nowhere = [i.code for i in CATALOGUE.filter(right="work") if summary.loc[i.code, ["Both groups", "One group only",
                                                                                      "Whole population only"]].sum() == 0]
    assert metrics["With no data anywhere"] == str(len(nowhere)) and len(nowhere) >= 5
    spec = json.loads(next(chart for chart in app.get("plotly_chart") if "Heatmap" in chart.proto.spec
                           or "heatmap" in chart.proto.spec).proto.spec)
    heatmap = spec["data"][0]
    row = heatmap["y"].index("Employment rate of people aged 15-64")
    column = heatmap["x"].index("DEU")
    assert heatmap["z"][row][column] == 0  # both groups
    assert "BIH" in heatmap["x"]
    unemployment = next(i for i, label in enumerate(heatmap["y"]) if label.startswith("Unemployment rate, migrants"))
    assert heatmap["z"][unemployment][heatmap["x"].index("BIH")] == 1  # one group only
    symbols = dataframe_with(app, "DEU")
    assert symbols.loc["Employment rate of people aged 15-64", "DEU"] == "●"


def check_good_practices_tab(app: AppTest) -> None:
    """The Good practices tab of the Catalogue opened on the right to health."""
    texts = markdown_texts(app)
    assert "**Mobile community-health clinics open to the uninsured**" in texts
    assert "**City identity cards for every resident**" in texts
    assert "**Regularisation of migrants in an irregular situation**" not in texts
    app.button(key="practice_geneva_community_health_clinics_health.local_clinic_for_uninsured").click().run()
    assert "#### Metadata sheet" in markdown_texts(app)


# --- My indicator set: the URL round trip --------------------------------------------------------------

@settings(max_examples=150, deadline=None)
@given(st_.lists(st_.sampled_from(sorted(CATALOGUE.indicators)), unique=True, max_size=12))
def test_a_set_written_to_the_url_is_read_back_exactly(codes):
    assert parse_set_param(format_set_param(codes), CATALOGUE.indicators) == (codes, [])


def test_parsing_drops_blanks_repeats_and_unknown_codes():
    assert parse_set_param(" work.employment_rate,,work.employment_rate, nope.code ,health.firewall_health_services",
                           CATALOGUE.indicators) == (["work.employment_rate", "health.firewall_health_services"], ["nope.code"])
    assert parse_set_param(None, CATALOGUE.indicators) == ([], [])


def test_a_set_in_a_link_is_restored_exactly_on_every_page(app_database):
    link = "health.firewall_health_services,work.employment_rate,context.migrant_share_of_population"
    app = open_app("pages/my-set.py", set=link, country="DEU")
    assert app.query_params["set"] == link
    titles = [t for t in markdown_texts(app) if t.startswith("**") and "  \n<small>" in t]
    assert [t.split("**")[1] for t in titles] == [CATALOGUE.get(c).title for c in link.split(",")]
    for page in ("pages/explore.py", "pages/catalogue.py", "pages/country.py", "pages/my-set.py"):
        app.switch_page(page).run()
        assert app.query_params["set"] == link, page
    assert [c.value for c in app.code] == [f"?set={link}"]


def test_unknown_codes_in_a_link_are_dropped_and_reported(app_database):
    app = open_app("pages/my-set.py", set="work.employment_rate,work.no_such_thing")
    assert app.query_params["set"] == "work.employment_rate"
    assert any("'work.no_such_thing'" in w.value for w in app.warning)
    app.button(key="set_open_work.employment_rate").click().run()
    assert "#### Metadata sheet" in markdown_texts(app)
    app.button(key="set_remove_work.employment_rate").click().run()
    assert "set" not in app.query_params
    assert any("Your set is empty." in i.value for i in app.info)


def test_remove_and_empty_the_set(app_database):
    app = open_app("pages/my-set.py", set="work.employment_rate,health.firewall_health_services")
    app.button(key="set_remove_work.employment_rate").click().run()
    assert app.query_params["set"] == "health.firewall_health_services"
    app.button(key="set_clear").click().run()
    assert "set" not in app.query_params
    assert any("Your set is empty." in i.value for i in app.info)


def test_add_to_my_set_from_explore_and_the_country_profile(app_database):
    app = open_app(right="work", indicator="work.unemployment_rate", country="DEU")
    app.button(key="explore_add_to_set").click().run()
    assert app.query_params["set"] == "work.unemployment_rate"
    assert app.button(key="explore_add_to_set").label == "Remove from my set"
    app.switch_page("pages/country.py").run()
    # the profile opens on the same indicator, already in the set: its button takes it out
    assert app.button(key="profile_add_to_set").label == "Remove from my set"
    app.selectbox(key="profile_indicator").set_value("work.employment_rate").run()
    assert app.button(key="profile_add_to_set").label == "Add to my set"
    app.button(key="profile_add_to_set").click().run()
    assert app.query_params["set"] == "work.unemployment_rate,work.employment_rate"
    assert not app.exception


# --- My indicator set: the exports, opened -------------------------------------------------------------

def _add_hostile_upload(path) -> str:
    """An uploaded dataset whose attribution is a spreadsheet formula, with Germany's figures for one indicator."""
    hostile = '=HYPERLINK("http://example.invalid","click")'
    connection = duckdb.connect(str(path))
    connection.execute("INSERT INTO datasets (name, kind, source, licence, producer_type) "
                       "VALUES ('CITY_SURVEY', 'uploaded', ?, '+licence', 'civil_society')", [hostile])
    for group, value in (("nationals", 2.0), ("non_nationals", 5.5)):
        connection.execute("INSERT INTO observations (indicator, dataset, geo, geo_level, period, sex, age, \"group\", unit, value, flags) "
                           "VALUES ('health.unmet_need_for_medical_care', 'CITY_SURVEY', 'DEU', 'national', 2023, 'T', 'Y_GE16', ?, "
                           "'percent', ?, '')", [group, value])
    connection.execute("UPDATE meta SET value = value || '-upload' WHERE key = 'embedded_fingerprint'")  # new data version
    connection.close()
    return hostile


def test_each_export_of_the_set_opens_with_the_values_and_neutralised_formulas(app_database, downloads):
    hostile = _add_hostile_upload(app_database)
    codes = ["work.employment_rate", "health.unmet_need_for_medical_care", "health.firewall_health_services"]
    app = open_app("pages/my-set.py", set=",".join(codes), country="DEU")
    buttons = {button.label: button.proto.url for button in app.download_button}
    assert set(buttons) == {"CSV", "Excel", "JSON", "PDF report"}
    files = {name.rsplit(".", 1)[1]: data for name, (data, url) in downloads.items()
             if name.startswith("rightsgap_set_DEU_") and url in buttons.values()}
    assert set(files) == {"csv", "xlsx", "json", "pdf"}

    csv = pd.read_csv(io.BytesIO(files["csv"]), encoding="utf-8-sig")
    assert list(csv.columns) == exports.SET_TABLE_COLUMNS
    assert csv["Code"].tolist() == codes
    employment = csv.iloc[0]
    assert (employment["Year"], employment["Reference group value"], employment["Migrant group value"],
            employment["Disadvantage"]) == (2024, 80.0, 66.0, 14.0)
    unmet = csv.iloc[1]
    assert unmet["Source"] == "'" + hostile  # neutralised: a spreadsheet shows it, does not run it
    assert unmet["Disadvantage"] == pytest.approx(3.5)

    workbook = openpyxl.load_workbook(io.BytesIO(files["xlsx"]))
    assert workbook.sheetnames == ["My set", "01 employment_rate", "02 unmet_need_for_medical_care",
                                   "03 firewall_health_services", "Sources"]
    header = [cell.value for cell in workbook["My set"][1]]
    assert header == exports.SET_TABLE_COLUMNS
    rows = [dict(zip(header, [cell.value for cell in row])) for row in workbook["My set"].iter_rows(min_row=2)]
    assert (rows[0]["Migrant group value"], rows[0]["Reference group value"]) == (66, 80)
    assert rows[1]["Source"] == "'" + hostile
    sheet = {row[0].value: row[1].value for row in workbook["03 firewall_health_services"].iter_rows(min_row=2)}
    assert sheet["Definition"] == " ".join(CATALOGUE.get("health.firewall_health_services").definition.split())
    assert sheet["Known data gap"].startswith("No harmonised data set exists")
    sources = [[cell.value for cell in row] for row in workbook["Sources"].iter_rows()]
    assert ["CITY_SURVEY", "'" + hostile, "'+licence"] in sources
    assert not [c for s in workbook for r in s.iter_rows() for c in r if c.data_type == "f"]

    document = json.loads(files["json"])
    assert [entry["code"] for entry in document["indicators"]] == codes
    assert document["indicators"][1]["latest"][0]["Source"] == hostile  # JSON is for machines: kept as it is
    assert document["country"] == {"code": "DEU", "name": "Germany"}

    text = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(files["pdf"])).pages).split())
    assert "RightsGap — My indicator set — Germany" in text
    assert "80.0%" in text and "66.0%" in text and "+14.0 pp" in text
    assert CATALOGUE.get("health.firewall_health_services").title in text

    # without the country: the metadata sheets only
    app.toggle(key="set_with_country").set_value(False).run()
    csv_name = next(name for name in downloads if name.startswith("rightsgap_set_all_") and name.endswith(".csv"))
    csv = pd.read_csv(io.BytesIO(downloads[csv_name][0]), encoding="utf-8-sig")
    assert csv.loc[0, "Note"] == "no country chosen" and pd.isna(csv.loc[0, "Migrant group value"])
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["Indicators in the set"] == "3" and metrics["With a gap"] == "—"
