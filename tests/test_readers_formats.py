"""Every shape of file an analyst brings, read value by value: encodings, delimiters, number formats,
title and note rows, wide and group-column layouts, Excel sheets, place names in several languages
and code systems, aggregates, Namibia, sex codes, leading zeros, flags, HEAT Plus columns; and the
real downloads in ../shared/data (World Bank, UN DESA workbook, Eurostat SDMX-CSV and both TSV layouts).

The small files are in tests/files (see its README); each test asserts the values a user would see.
"""
from __future__ import annotations

import math
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from core import readers, store, upload

FILES = Path(__file__).resolve().parent / "files"
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
EUR_INDICATOR = "standard_of_living.median_equivalised_net_income"


def session(content: bytes, name: str, overrides: dict | None = None) -> upload.UploadSession:
    connection = duckdb.connect(":memory:")
    connection.execute(store.SCHEMA)
    return upload.UploadSession(connection, content, name, overrides)


def read(name: str, indicator: str = "work.employment_rate", overrides: dict | None = None, content: bytes | None = None,
         **changes) -> tuple[pd.DataFrame, upload.Report, upload.UploadSession]:
    """Read a file with the guessed mapping (indicator set, fields in ``changes`` replaced)."""
    content = content if content is not None else (FILES / name).read_bytes()
    current = session(content, name, overrides)
    mapping = current.guess_mapping()
    mapping.indicator = indicator
    for key, value in changes.items():
        setattr(mapping, key, value)
    report = current.validate(mapping)
    return current.observations(), report, current


def one(frame: pd.DataFrame, **where) -> pd.Series:
    mask = pd.Series(True, index=frame.index)
    for column, value in where.items():
        mask &= frame[column] == value
    rows = frame.loc[mask]
    assert len(rows) == 1, f"{len(rows)} rows match {where}"
    return rows.iloc[0]


# ----------------------------------------------------------------------------------- encodings

@pytest.mark.parametrize("name, encodings", [
    ("encoding_utf8.csv", {"utf-8"}),
    ("encoding_utf8_bom.csv", {"utf-8-sig"}),
    ("encoding_windows1252.csv", {"cp1252"}),
    ("encoding_latin1.csv", {"cp1252", "latin-1", "latin_1", "iso8859-1"}),  # identical bytes for these letters
    ("encoding_utf16.csv", {"utf-16"}),
])
def test_each_encoding_reads_the_accented_names_and_their_values(name, encodings):
    frame, report, current = read(name)
    assert current.format.encoding in encodings
    assert (current.format.delimiter, current.format.decimal) == (";", ",")
    assert report.status == "valid" and report.rows_usable == 6
    assert one(frame, geo="CIV", group="non_nationals").value == 55.0  # Côte d'Ivoire
    assert one(frame, geo="TUR", group="nationals").value == 48.2      # Türkiye
    assert one(frame, geo="AUT", group="non_nationals").value == 64.3  # Österreich (German name)


def test_a_byte_order_mark_never_sticks_to_the_first_column_name():
    _, _, current = read("encoding_utf8_bom.csv")
    assert current.format.columns[0] == "country"


# ---------------------------------------------------------------------------------- delimiters

@pytest.mark.parametrize("name, delimiter", [("delimiter_tab.tsv", "\t"), ("delimiter_pipe.txt", "|")])
def test_tab_and_vertical_bar_delimiters(name, delimiter):
    frame, report, current = read(name)
    assert current.format.delimiter == delimiter
    assert one(frame, geo="DEU", sex="F").value == 13.5
    assert one(frame, geo="FRA", sex="T").value == 9.0
    assert report.rows_usable == 3


# ------------------------------------------------------------------------------ number formats

@pytest.mark.parametrize("name, decimal, thousands, expected", [
    ("thousands_point_decimal_comma.csv", ",", ".", {"DEU": 1234.5, "FRA": 987.25, "ITA": 12345678.9, "ESP": 0.5}),
    ("thousands_comma_decimal_point.csv", ".", ",", {"DEU": 1234.5, "FRA": 987.25, "ITA": 12345678.9}),
    ("thousands_space.csv", ".", " ", {"DEU": 1234.0, "FRA": 56789.0, "ITA": 12345678.0}),
    ("thousands_apostrophe.csv", ".", "'", {"CHE": 1234.5, "LIE": 38000.0, "AUT": 999.5}),
])
def test_decimal_marks_and_thousands_separators(name, decimal, thousands, expected):
    frame, report, current = read(name, indicator=EUR_INDICATOR)
    assert (current.format.decimal, current.format.thousands) == (decimal, thousands)
    assert dict(zip(frame["geo"], frame["value"])) == pytest.approx(expected)
    assert report.status == "valid"


def test_a_corrected_decimal_mark_changes_the_values():
    # the same file read as if its commas were thousands separators: 987,25 is then not a number
    frame, report, _ = read("thousands_point_decimal_comma.csv", indicator=EUR_INDICATOR,
                            overrides={"decimal": ".", "thousands": ","})
    problems = {p.row: p for p in report.problems}
    assert problems[3].column == "value" and problems[3].value == "987,25"
    assert "decimal '.'" in problems[3].message


@pytest.mark.parametrize("cells, delimiter, expected", [
    (["1.234,5", "12,0"], ";", (",", ".")),
    (["1,234.5", "3.25"], ",", (".", ",")),
    (["12,5", "7,25"], ";", (",", "")),
    (["1,234", "12,345,678"], ",", (".", ",")),
    (["1.234.567", "12.345"], ";", (",", ".")),
    (["1 234", "56 789"], ";", (".", " ")),
    (["12.5", "7"], ",", (".", "")),
])
def test_detect_number_format(cells, delimiter, expected):
    assert readers.detect_number_format(cells, delimiter) == expected


# -------------------------------------------------------------------- title rows and notes below

def test_title_lines_above_the_header_and_footnotes_below_are_left_out():
    frame, report, current = read("title_and_notes.csv")
    fmt = current.format
    assert (fmt.encoding, fmt.header_row, fmt.last_row) == ("cp1252", 4, 8)
    assert fmt.columns == ["Land", "Jahr", "Staatsangehörigkeit", "Wert"]
    assert any("3 line(s) above the header" in note for note in fmt.notes)
    assert any("note line(s) below the table" in note for note in fmt.notes)
    assert report.rows_read == 4 and report.status == "valid"
    assert one(frame, geo="AUT", group="nationals").value == 76.4       # Österreicher
    assert one(frame, geo="AUT", group="non_nationals").value == 67.9   # Ausländer
    assert one(frame, geo="DEU", group="nationals").value == 80.7       # Deutsche (in a German file)


def test_an_excel_sheet_with_title_rows_notes_below_and_another_sheet_first():
    frame, report, current = read("excel_title_notes.xlsx", place_level="local")
    fmt = current.format
    assert fmt.kind == "excel" and fmt.sheets == ["Notes", "Employment"] and fmt.sheet == "Employment"
    assert (fmt.header_row, fmt.last_row) == (5, 9)
    assert report.status == "valid" and report.rows_usable == 4
    row = one(frame, geo="AT13", group="non_nationals")
    assert (row.geo_level, row.sex, row.value, row.period) == ("local", "T", 61.5, 2023)
    assert one(frame, geo="AT12", group="nationals", sex="F").value == 70.0  # Inländer


def test_find_header_skips_metadata_lines_and_sees_years_under_a_title():
    rows = [["Data Source", "World Development Indicators", ""], ["", "", ""], ["Last Updated Date", "2026-07-13", ""],
            ["Country Name", "Country Code", "2020"], ["Aruba", "ABW", "1.5"], ["Germany", "DEU", "2.5"]]
    assert readers.find_header(rows) == (3, 1)
    two = [["Title of the table", "", "", ""], ["Code", "Name", "Share (both sexes)", ""], ["", "", "1990", "2000"],
           ["276", "Germany", "7.5", "11.0"], ["040", "Austria", "10.3", "12.0"]]
    assert readers.find_header(two) == (1, 2)
    assert readers.header_names(two, 1, 2)[0] == ["Code", "Name", "Share (both sexes) | 1990", "Share (both sexes) | 2000"]


# ------------------------------------------------------------------------------------ layouts

def test_a_wide_table_one_column_per_year_with_flags_and_missing_markers():
    frame, report, current = read("wide_years.csv")
    assert current.format.layout == "wide" and current.format.year_columns == ["2019", "2020", "2021", "2022"]
    assert report.rows_read == 16 and report.rows_usable == 16 and report.missing_values == 3
    row = one(frame, geo="DEU", group="nationals", period=2020)
    assert (row.value, row["flags"]) == (79.6, "b")
    assert math.isnan(one(frame, geo="DEU", group="non_nationals", period=2022).value)   # ':'
    assert one(frame, geo="DEU", group="non_nationals", period=2021)["flags"] == "u"
    assert math.isnan(one(frame, geo="FRA", group="non_nationals", period=2020).value)   # '-'
    row = one(frame, geo="FRA", group="non_nationals", period=2022)
    assert (row.value, row["flags"]) == (56.2, "p")


def test_one_value_column_per_group_with_each_group_s_flag_column():
    frame, report, current = read("group_columns.csv")
    assert current.format.layout == "group_columns"
    guessed = current.guess_mapping()
    assert guessed.group_columns == {"nationals": "nationals", "non_nationals": "non_nationals"}
    assert guessed.group_flag_columns == {"nationals": "nationals_flag", "non_nationals": "non_nationals_flag"}
    assert report.rows_usable == 6
    row = one(frame, geo="AUT", group="non_nationals")
    assert (row.value, row["flags"]) == (68.1, "u")
    assert one(frame, geo="BEL", group="nationals")["flags"] == "b"
    row = one(frame, geo="CZE", group="non_nationals")
    assert math.isnan(row.value) and row["flags"] == "c"


# --------------------------------------------------------------------------------- places

def test_place_names_in_several_languages_and_code_systems():
    frame, report, _ = read("names_languages.csv", indicator=EUR_INDICATOR)
    assert report.status == "valid"
    assert dict(zip(frame["geo"], frame["value"])) == {
        "DEU": 1, "ESP": 2, "TUR": 3, "CZE": 4, "CIV": 5, "AUT": 6, "ITA": 7, "GRC": 8, "GBR": 9, "XKX": 10, "BEL": 11,
        "NLD": 12, "PRT": 13, "POL": 14}
    assert set(frame["geo_level"]) == {"national"}


def test_aggregates_are_recognised_as_aggregates_beside_countries():
    frame, report, _ = read("aggregates.csv")
    levels = dict(zip(frame["geo"], frame["geo_level"]))
    assert levels == {"EU27_2020": "regional", "EA20": "regional", "DEU": "national", "WLD": "global",
                      "Sub-Saharan Africa": "regional", "EUU": "regional", "High income": "regional"}
    assert report.status == "valid"


def test_na_is_namibia_in_the_place_column_and_missing_in_the_value_column():
    frame, report, _ = read("namibia.csv")
    assert one(frame, geo="NAM").value == 8.4
    assert math.isnan(one(frame, geo="ZAF").value)
    assert report.missing_values == 1 and report.rows_usable == 3


def test_sex_codes_stay_text_and_codes_with_leading_zeros_are_iso_numeric():
    frame, report, _ = read("sex_codes.csv")
    assert list(frame["sex"]) == ["T", "F", "M", "T", "F"]
    assert all(isinstance(sex, str) for sex in frame["sex"])
    assert list(frame["geo"]) == ["AUT", "AUT", "AUT", "AFG", "BEL"]  # 040, 004, 056
    assert one(frame, geo="AUT", sex="M").value == 74.2


def test_resolve_place_any_reads_translations_from_pycountry():
    codes = {text: readers.resolve_place_any(text).code for text in ("Allemagne", "Österreich", "Espagne", "Polska", "Türkei")}
    assert codes == {"Allemagne": "DEU", "Österreich": "AUT", "Espagne": "ESP", "Polska": "POL", "Türkei": "TUR"}
    assert readers.resolve_place_any("DE21") is None  # a NUTS region is not Germany


# ----------------------------------------------------------------------------------- flags

def test_flags_in_cells_in_a_flag_column_and_in_words():
    frame, report, _ = read("flags.csv")
    assert (one(frame, geo="DEU", group="nationals").value, one(frame, geo="DEU", group="nationals")["flags"]) == (80.0, "b")
    row = one(frame, geo="DEU", group="non_nationals")
    assert math.isnan(row.value) and row["flags"] == "u"
    assert one(frame, geo="FRA", group="nationals")["flags"] == "p"
    row = one(frame, geo="FRA", group="non_nationals")
    assert math.isnan(row.value) and row["flags"] == "c"
    assert one(frame, geo="ITA", group="nationals")["flags"] == "u"  # 'low reliability'
    assert report.status == "valid"


# -------------------------------------------------------------------------------- HEAT Plus

def test_heat_plus_columns_standard_error_bounds_and_population():
    frame, report, current = read("heat_plus.csv", indicator="health.unmet_need_for_medical_care")
    guessed = current.guess_mapping()
    assert {k: guessed.columns[k] for k in ("geo", "period", "group", "value", "se", "ci_lower", "ci_upper", "population")} == {
        "geo": "iso3", "period": "date", "group": "subgroup", "value": "estimate", "se": "se", "ci_lower": "ci_lb",
        "ci_upper": "ci_ub", "population": "population"}
    assert report.status == "valid"
    row = one(frame, geo="DEU", group="non_nationals")
    assert (row.value, row.se, row.ci_lower, row.ci_upper, row.population) == (4.3, 0.6, 3.12, 5.48, 12_100_000)
    row = one(frame, geo="ESP", group="nationals")
    assert row.se == 0.1 and math.isnan(row.ci_lower)


# ----------------------------------------------------------------------- real files in ../shared/data

def test_world_bank_download_with_its_metadata_lines():
    text = (SHARED_DATA / "worldbank/API_NY.GDP.PCAP.PP.KD_DS2_en_csv_v2_33608.csv").read_text(encoding="utf-8-sig")
    result = readers.read_world_bank_csv(text)
    table = result.table
    assert result.detected["header_row"] == 5 and result.rows_read == 265 * 66
    germany = one(table, geo="DEU", period=2023)
    assert germany.value == pytest.approx(63140.19491)
    assert (germany.geo_label, germany.indicator_code) == ("Germany", "NY.GDP.PCAP.PP.KD")
    assert math.isnan(one(table, geo="DEU", period=1960).value)
    assert one(table, geo="EUU", period=2023).geo_level == "regional"
    assert one(table, geo="WLD", period=2023).geo_level == "global"
    assert one(table, geo="XKX", period=2023).geo_level == "national"
    assert set(table.loc[table["geo_level"] == "unknown", "geo"]) == {"CHI"}


def test_world_bank_download_through_the_upload_pipeline():
    content = (SHARED_DATA / "worldbank/API_NY.GDP.PCAP.PP.KD_DS2_en_csv_v2_33608.csv").read_bytes()
    frame, report, current = read("API.csv", indicator="context.gdp_per_capita_ppp", content=content, place_labels={"CHI": ""})
    assert current.format.layout == "world_bank" and current.format.header_row == 5
    assert report.status == "valid" and report.rows_left_out == 66  # the Channel Islands' 66 years, left out on request
    assert one(frame, geo="DEU", period=2023).value == pytest.approx(63140.19491)


def test_un_desa_workbook_title_rows_two_header_rows_and_sexes_from_the_titles():
    content = (SHARED_DATA / "undesa/UN_MigrantStockTotal_2019.xlsx").read_bytes()
    frame, report, current = read("UN_MigrantStockTotal_2019.xlsx", indicator="context.migrant_share_of_population",
                                  content=content, overrides={"sheet": "Table 3"},
                                  columns={"geo": "Code", "sex": upload.COLUMN_TITLES}, place_labels={"830": ""})
    fmt = current.format
    assert (fmt.sheet, fmt.header_row, fmt.header_rows) == ("Table 3", 15, 2)
    assert len(fmt.year_columns) == 21  # 7 years x (both sexes, male, female)
    # The workbook lists Oceania twice with code 909 (rows 36 and 212) with the same figures: an exact
    # repeat, kept once, each cell of row 212 noted (no problem, nothing rejected).
    assert report.status == "valid" and report.problem_counts == {} and report.rows_repeated == 21
    assert {(n.row, n.kind) for n in report.notes} == {(212, "repeat")}
    assert "row 212 repeats row 36 exactly" in report.notes[0].message
    assert len(frame[frame["geo"] == "909"]) == 21
    assert one(frame, geo="DEU", period=2019, sex="T").value == pytest.approx(15.723911208783786)
    assert one(frame, geo="NAM", period=1990, sex="T").value == pytest.approx(8.419329962558578)
    world = one(frame, geo="WLD", period=1990, sex="M")
    assert (world.geo_level, world.value) == ("global", pytest.approx(2.896856512852457))
    assert one(frame, geo="954", period=2019, sex="T").geo_level == "regional"  # Micronesia, the region
    assert one(frame, geo="FSM", period=2019, sex="T").geo_level == "national"  # Micronesia, the country


def test_eurostat_sdmx_csv_with_codes_and_labels_side_by_side():
    content = (SHARED_DATA / "eurostat/sdmx-csv/lfsa_ergan.csv").read_bytes()
    frame, report, current = read("lfsa_ergan.csv", content=content)
    assert current.format.layout == "sdmx_csv" and current.format.sdmx_labels == "both"
    assert report.status == "valid" and report.rows_read == 7983
    germany = frame.loc[(frame["geo"] == "DEU") & (frame["period"] == 2023) & (frame["sex"] == "T")]
    assert dict(zip(germany["group"], germany["value"])) == {"nationals": 79.7, "non_nationals": 65.8, "total": 77.2}


def test_eurostat_sdmx_csv_with_labels_and_a_filter_on_the_level():
    content = (SHARED_DATA / "eurostat/sdmx-csv/hlth_silc_24_labels.csv").read_bytes()
    frame, report, current = read("hlth_silc_24_labels.csv", indicator="health.bad_self_perceived_health", content=content,
                                  filters={"lev_perc": ["Bad or very bad"]})
    assert current.format.sdmx_labels == "labels"
    assert report.status == "valid"
    guessed = current.guess_mapping()
    assert guessed.group_labels["Reporting country"] == "nationals"
    assert guessed.group_labels["Foreign country"] == "non_nationals"
    assert guessed.group_labels["EU28 countries (2013-2020) except reporting country"] == ""  # superseded: left out
    albania = one(frame, geo="ALB", period=2017, group="eu_citizens")
    assert math.isnan(albania.value) and albania["flags"] == "u"
    assert set(frame["age"]) == {"Y_GE16"}


def test_eurostat_tsv_current_api_layout():
    content = (SHARED_DATA / "eurostat/tsv/edat_lfs_9912.tsv").read_bytes()
    frame, report, current = read("edat_lfs_9912.tsv", indicator="education.low_attainment_share", content=content,
                                  filters={"isced11": ["ED0-2"]})
    assert current.format.layout == "eurostat_tsv"
    assert report.status == "valid" and report.rows_usable == 19980
    row = one(frame, geo="AUT", period=2021, sex="F", age="Y15-24", group="eu_born")
    assert (row.value, row["flags"]) == (43.3, "b")
    row = one(frame, geo="BIH", period=2022, sex="F", age="Y15-24", group="eu_born")
    assert math.isnan(row.value) and row["flags"] == "u"  # ': u'


def test_eurostat_tsv_old_bulk_layout_newest_year_first():
    content = (SHARED_DATA / "eurostat/tsv/ilc_lvho02.tsv").read_bytes()
    frame, report, current = read("ilc_lvho02.tsv", indicator="context.migrant_share_of_population", content=content,
                                  filters={"incgrp": ["A_MD60"], "hhtyp": ["A1"], "tenure": ["OWN"]})
    assert current.format.layout == "eurostat_tsv" and current.format.year_columns[0] == "2020"
    assert report.status == "valid"
    assert one(frame, geo="AUT", period=2019).value == 5.4
    assert one(frame, geo="BEL", period=2019)["flags"] == "b"
    assert math.isnan(one(frame, geo="AUT", period=2020).value)
