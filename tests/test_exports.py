"""Exports of an indicator set (core.exports) on the real embedded data, each file opened and read back.

A policy maker takes the set away as CSV, Excel, JSON or a printed report: each must carry the
latest values and gaps for the chosen country (Germany, 2024: nationals 80.0 %, non-nationals
66.0 % employed), every field of each metadata sheet, and the sources; a spreadsheet must never
run a cell as a formula.
"""
from __future__ import annotations

import io
import json

import openpyxl
import pandas as pd
import pytest
from pypdf import PdfReader

from core import exports, store
from core.catalogue import METADATA_SHEET_FIELDS, load_default_catalogue
from core.good_practices import load_default_good_practices

SET = ["work.employment_rate", "work.part_time_share", "health.firewall_health_services",
       "context.migrant_share_of_population", "standard_of_living.median_equivalised_net_income"]


@pytest.fixture(scope="module")
def connection(tmp_path_factory):
    root = store.open_database(tmp_path_factory.mktemp("exports") / "rightsgap.duckdb")
    store.ensure_embedded_data(root)
    yield root
    root.close()


@pytest.fixture(scope="module")
def catalogue():
    return load_default_catalogue()


@pytest.fixture(scope="module")
def report(connection, catalogue):
    return exports.build_set_report(connection, SET, "DEU", catalogue, load_default_good_practices())


def test_the_set_table_has_germanys_latest_values_and_gaps(report):
    table = report.table
    assert list(table.columns) == exports.SET_TABLE_COLUMNS
    assert table["Code"].drop_duplicates().tolist() == SET  # the user's order
    employment = table.loc[table["Code"] == "work.employment_rate"].squeeze()
    assert (employment["Year"], employment["Reference group value"], employment["Migrant group value"]) == (2024, 80.0, 66.0)
    assert employment["Difference"] == pytest.approx(-14.0)
    assert employment["Disadvantage"] == pytest.approx(14.0)
    assert (employment["Migrant group"], employment["Reference group"]) == ("Non-nationals (all foreign citizens)", "Nationals")
    assert employment["Source"] == "Source: Eurostat, dataset LFSA_ERGAN"
    # part-time: the source has no total for both sexes, so one row per sex
    part_time = table.loc[table["Code"] == "work.part_time_share"]
    assert part_time["Sex"].tolist() == ["Females", "Males"]
    assert part_time["Flags"].tolist() == ["bp", "bp"]
    firewall = table.loc[table["Code"] == "health.firewall_health_services"].squeeze()
    assert pd.isna(firewall["Disadvantage"])
    assert firewall["Note"].startswith("no data for this place; known data gap: No harmonised data set exists")
    share = table.loc[table["Code"] == "context.migrant_share_of_population"].squeeze()
    assert share["Year"] == 2020 and share["Whole population value"] == pytest.approx(18.8, abs=0.05)


def test_without_a_country_the_table_lists_the_set_without_values(connection, catalogue):
    bare = exports.build_set_report(connection, SET[:2], None, catalogue)
    assert bare.table["Code"].tolist() == SET[:2]
    assert bare.table["Migrant group value"].isna().all()
    assert set(bare.table["Note"]) == {"no country chosen"}
    assert bare.table.loc[0, "Places with data for both groups"] == 35


def test_unknown_code_is_refused(connection, catalogue):
    with pytest.raises(KeyError, match="unknown indicator 'work.nothing'"):
        exports.build_set_report(connection, ["work.nothing"], "DEU", catalogue)


def test_csv_reads_back_with_accents_and_values(report):
    data = exports.export_csv(report)
    assert data.startswith(b"\xef\xbb\xbf")  # byte-order mark: spreadsheets read the accents right
    frame = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert list(frame.columns) == exports.SET_TABLE_COLUMNS
    employment = frame.loc[frame["Code"] == "work.employment_rate"].squeeze()
    assert (employment["Reference group value"], employment["Migrant group value"], employment["Disadvantage"]) == (80.0, 66.0, 14.0)
    assert employment["Country"] == "Germany"


def test_excel_has_the_set_one_sheet_per_indicator_and_the_sources(report, catalogue):
    workbook = openpyxl.load_workbook(io.BytesIO(exports.export_excel(report)))
    assert workbook.sheetnames == ["My set", "01 employment_rate", "02 part_time_share", "03 firewall_health_services",
                                   "04 migrant_share_of_population", "05 median_equivalised_net_incom", "Sources"]
    sheet = workbook["My set"]
    header = [cell.value for cell in sheet[1]]
    assert header == exports.SET_TABLE_COLUMNS
    first = dict(zip(header, [cell.value for cell in sheet[2]]))
    assert (first["Code"], first["Year"], first["Reference group value"], first["Migrant group value"]) == (
        "work.employment_rate", 2024, 80, 66)
    assert first["Disadvantage"] == pytest.approx(14.0)
    assert sheet.max_row == 1 + len(report.table)

    metadata = {row[0].value: row[1].value for row in workbook["01 employment_rate"].iter_rows(min_row=2)}
    indicator = catalogue.get("work.employment_rate")
    for field in METADATA_SHEET_FIELDS:
        label = exports.SHEET_FIELD_LABELS[field]
        assert metadata[label] == " ".join(getattr(indicator, field).split())
    for label in ("Code", "Right", "Attribute", "Type", "Unit", "Polarity", "Source types", "Governance levels",
                  "Population groups compared", "Official or civil-society data", "Datasets", "Known data gap"):
        assert metadata[label], label
    assert metadata["Latest values for Germany"].startswith("Germany, 2024, total, 15-64 years: nationals 80.0%, "
                                                            "non-nationals (all foreign citizens) 66.0%; disadvantage +14.0 pp")
    assert "Germany (DEU): 1995–2024" in metadata["Places and years with values for both groups"]
    assert metadata["Good practices"].startswith("Regularisation of migrants in an irregular situation")

    sources = [[cell.value for cell in row] for row in workbook["Sources"].iter_rows()]
    assert ["LFSA_ERGAN", "Source: Eurostat, dataset LFSA_ERGAN", "CC BY 4.0 (c) European Union"] in sources
    assert any(row[0] == "UNDESA_MIGRANT_STOCK_2020" and row[2] == "CC BY 3.0 IGO" for row in sources)


def test_json_carries_every_catalogue_field_and_the_years_with_both_groups(report, catalogue):
    document = json.loads(exports.export_json(report))
    assert document["country"] == {"code": "DEU", "name": "Germany"}
    assert [entry["code"] for entry in document["indicators"]] == SET
    employment = document["indicators"][0]
    assert set(catalogue.get("work.employment_rate").model_dump()) <= set(employment)
    assert employment["latest"][0]["Migrant group value"] == 66.0 and employment["latest"][0]["Year"] == 2024
    germany = next(p for p in employment["places_with_both_groups"] if p["geo"] == "DEU")
    assert germany["years"] == list(range(1995, 2025))
    assert document["indicators"][2]["latest"][0]["Disadvantage"] is None
    assert {p["id"] for p in document["good_practices"]} >= {"regularisation_of_migrants", "geneva_community_health_clinics"}


def test_pdf_report_prints_sheets_values_and_accents(connection, catalogue):
    codes = ["health.bad_self_perceived_health", "work.employment_rate", "health.firewall_health_services"]
    turkey = exports.build_set_report(connection, codes, "TUR", catalogue)
    reader = PdfReader(io.BytesIO(exports.export_pdf(turkey)))
    text = "\n".join(page.extract_text() for page in reader.pages)
    flat = " ".join(text.split())
    assert "RightsGap — My indicator set — Türkiye" in flat
    for code in codes:
        assert catalogue.get(code).title in flat
    health = turkey.table.loc[turkey.table["Code"] == "health.bad_self_perceived_health"].squeeze()
    assert health["Year"] == 2023
    assert f"{health['Reference group value']:.1f}%" in flat and f"{health['Migrant group value']:.1f}%" in flat
    assert f"{health['Disadvantage']:+.1f} pp" in flat
    # Türkiye publishes its employment rate for the whole population only: shown as such, without a gap
    employment = turkey.table.loc[turkey.table["Code"] == "work.employment_rate"].squeeze()
    assert pd.isna(employment["Disadvantage"]) and employment["Whole population value"] > 0
    assert "whole population only: not disaggregated" in flat
    for label in ("Definition", "Rationale", "Method of computation", "Data collection and source", "Disaggregation",
                  "Periodicity", "Comments and limitations", "Known data gap", "Sources and licences"):
        assert label in flat, label
    assert "Source: Eurostat, dataset LFSA_ERGAN — licence CC BY 4.0 (c) European Union" in flat
    assert len(reader.pages) >= 3


def test_pdf_without_a_unicode_font_says_what_to_install(report, monkeypatch, tmp_path):
    monkeypatch.setattr(exports, "FONT_DIRECTORIES", (tmp_path,))
    monkeypatch.delenv("RIGHTSGAP_PDF_FONT_DIR", raising=False)
    with pytest.raises(exports.ExportError, match="fonts-dejavu-core"):
        exports.export_pdf(report)


# --- Formula neutralisation ---------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["=1+1", "+41 22 000", "-2+3", "@SUM(A1)", "\t=cmd", "\r=cmd"])
def test_cells_that_a_spreadsheet_would_run_get_an_apostrophe(text):
    assert exports.neutralise_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["Germany", "Côte d'Ivoire", "", -13.9, 0.0, None, 2024])
def test_other_cells_stay_as_they_are(value):
    assert exports.neutralise_cell(value) == value


def test_a_hostile_attribution_is_neutralised_in_csv_and_excel(tmp_path, catalogue):
    """An uploaded dataset whose attribution is a formula: the exports show it as text."""
    root = store.open_database(tmp_path / "hostile.duckdb")
    store.ensure_embedded_data(root)
    hostile = '=HYPERLINK("http://example.invalid","click")'
    root.execute("INSERT INTO datasets (name, kind, source, licence, producer_type) VALUES ('CITY', 'uploaded', ?, '@licence', 'civil_society')",
                 [hostile])
    for group, value in (("nationals", 2.0), ("non_nationals", 5.5)):
        root.execute("INSERT INTO observations (indicator, dataset, geo, geo_level, period, sex, age, \"group\", unit, value, flags) "
                     "VALUES ('health.unmet_need_for_medical_care', 'CITY', 'DEU', 'national', 2023, 'T', 'Y_GE16', ?, 'percent', ?, '')",
                     [group, value])
    report = exports.build_set_report(root, ["health.unmet_need_for_medical_care"], "DEU", catalogue)
    root.close()
    assert report.table.loc[0, "Source"] == hostile
    assert report.table.loc[0, "Disadvantage"] == pytest.approx(3.5)

    frame = pd.read_csv(io.BytesIO(exports.export_csv(report)), encoding="utf-8-sig")
    assert frame.loc[0, "Source"] == "'" + hostile
    assert frame.loc[0, "Difference"] == pytest.approx(3.5)

    workbook = openpyxl.load_workbook(io.BytesIO(exports.export_excel(report)))
    first = dict(zip([c.value for c in workbook["My set"][1]], [c.value for c in workbook["My set"][2]]))
    assert first["Source"] == "'" + hostile
    assert workbook["My set"]["X2"].data_type == "s"  # text, not a formula
    sources = [[cell.value for cell in row] for row in workbook["Sources"].iter_rows()]
    assert ["CITY", "'" + hostile, "'@licence"] in sources
    formulas = [cell.coordinate for sheet in workbook for row in sheet.iter_rows() for cell in row if cell.data_type == "f"]
    assert formulas == []


def test_yes_no_indicators_read_yes_or_no(connection, catalogue):
    """Germany has ratified the ICESCR but not the migrant workers' convention (ICMW), as of August 2022."""
    report = exports.build_set_report(connection, ["health.ratification_icescr", "work.ratification_icmw"], "DEU", catalogue)
    table = report.table.set_index("Code")
    assert table.loc["health.ratification_icescr", "Whole population value"] == 1
    assert table.loc["work.ratification_icmw", "Whole population value"] == 0
    assert table.loc["work.ratification_icmw", "Note"] == "applies to everyone: no group comparison"
    assert exports.describe_latest(report.table, "work.ratification_icmw", "Germany").startswith("Germany, 2022: no (applies to everyone")
    assert exports.describe_latest(report.table, "health.ratification_icescr", "Germany").startswith("Germany, 2022: yes")  # the status date
    assert exports.format_value(0.0, "yes_no") == "no" and exports.format_value(None, "yes_no") == "—"
    flat = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(exports.export_pdf(report))).pages).split())
    assert "0.00" not in flat
