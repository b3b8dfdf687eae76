"""Reading what analysts bring: real Eurostat downloads from ../shared/data and the small files an
analyst makes by hand (semicolons, Windows-1252, 'NA' for Namibia), checked cell by cell."""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core import readers
from core.readers import SourceTable, decode_bytes, detect_layout, parse_cell, read_file_bytes, read_text

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
EUROSTAT = SHARED_DATA / "eurostat"


def read_shared(relative: str) -> SourceTable:
    path = SHARED_DATA / relative
    return read_file_bytes(path.read_bytes(), relative)


def cell(table: pd.DataFrame, **where) -> pd.Series:
    """The one row of ``table`` matching every column = value given."""
    mask = pd.Series(True, index=table.index)
    for column, value in where.items():
        mask &= table[column] == value
    rows = table.loc[mask]
    assert len(rows) == 1, f"{len(rows)} rows match {where}"
    return rows.iloc[0]


@pytest.fixture(scope="module")
def lfsa_ergan() -> SourceTable:
    return read_shared("eurostat/sdmx-csv/lfsa_ergan.csv")


@pytest.fixture(scope="module")
def hlth_silc_24() -> SourceTable:
    return read_shared("eurostat/sdmx-csv/hlth_silc_24_labels.csv")


@pytest.fixture(scope="module")
def edat_lfs_9912() -> SourceTable:
    return read_shared("eurostat/tsv/edat_lfs_9912.tsv")


@pytest.fixture(scope="module")
def ilc_lvho02() -> SourceTable:
    return read_shared("eurostat/tsv/ilc_lvho02.tsv")


# ------------------------------------------------------------------------------------ encodings

UNICODE_TEXT = "geo;year;value\nCôte d'Ivoire;2020;12.5\nTürkiye;2021;8.0\n"


def test_decode_plain_utf8():
    assert decode_bytes(UNICODE_TEXT.encode("utf-8")) == (UNICODE_TEXT, "utf-8")


def test_decode_utf8_with_byte_order_mark_drops_the_mark():
    text, encoding = decode_bytes(UNICODE_TEXT.encode("utf-8-sig"))
    assert text == UNICODE_TEXT
    assert not text.startswith("\ufeff")
    assert encoding == "utf-8-sig"


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_decode_utf16_with_byte_order_mark(codec):
    content = UNICODE_TEXT.encode(codec)
    if codec != "utf-16":  # explicit-endian codecs write no BOM; add the one Excel writes
        content = ("\ufeff" + UNICODE_TEXT).encode(codec)
    text, encoding = decode_bytes(content)
    assert text.lstrip("\ufeff") == UNICODE_TEXT
    assert encoding == "utf-16"


@pytest.mark.parametrize("text", [
    "country;year;group;value\nCôte d'Ivoire;2020;nationals;12.5\nTürkiye;2021;non_nationals;8.0\n",
    "geo,year,value\nCôte d'Ivoire,2020,1.5\n",
    "geo,year,value\nTürkiye,2020,1.5\nSão Tomé and Príncipe,2020,3\n",
])
def test_decode_windows_1252_keeps_accented_country_names(text):
    decoded, encoding = decode_bytes(text.encode("cp1252"))
    assert decoded == text
    assert encoding != "utf-8"


def test_a_windows_1252_semicolon_file_resolves_its_country_names():
    result = read_file_bytes(
        "country;year;group;value\nCôte d'Ivoire;2020;nationals;12.5\nTürkiye;2021;non_nationals;8.0\n".encode("cp1252"))
    assert result.problems == []
    assert list(result.table["geo"]) == ["CIV", "TUR"]
    assert list(result.table["geo_label"]) == ["Côte d'Ivoire", "Türkiye"]
    assert list(result.table["value"]) == [12.5, 8.0]


# ---------------------------------------------------------------------------------------- cells


@pytest.mark.parametrize(("text", "value", "flags"), [
    ("12.3 b", 12.3, "b"),
    ("12.3", 12.3, ""),
    ("43.3 b ", 43.3, "b"),
    ("60.6 bu", 60.6, "bu"),
    ("0", 0.0, ""),
    ("0.0 u", 0.0, "u"),
    ("-1.5", -1.5, ""),
])
def test_parse_cell_numbers_and_flags(text, value, flags):
    assert parse_cell(text) == (value, flags)


@pytest.mark.parametrize(("text", "flags"), [(":", ""), (": ", ""), (": u", "u"), (": bu", "bu"), ("", "")])
def test_parse_cell_missing_stays_missing_with_its_flags(text, flags):
    value, parsed_flags = parse_cell(text)
    assert math.isnan(value)
    assert parsed_flags == flags


@pytest.mark.parametrize("text", ["abc", "12.3.4", "1 2", "12,3"])
def test_parse_cell_refuses_text_that_is_not_a_number(text):
    with pytest.raises(ValueError, match="not a number"):
        parse_cell(text)


# ---------------------------------------------------------------------------------------- layout


@pytest.mark.parametrize(("relative", "layout"), [
    ("eurostat/sdmx-csv/lfsa_ergan.csv", "sdmx_csv"),
    ("eurostat/sdmx-csv/lfsa_urgan.csv", "sdmx_csv"),
    ("eurostat/sdmx-csv/lfsa_ugan_labels.csv", "sdmx_csv"),
    ("eurostat/sdmx-csv/hlth_silc_24_labels.csv", "sdmx_csv"),
    ("eurostat/sdmx-csv/ilc_di15_labels.csv", "sdmx_csv"),
    ("eurostat/sdmx-csv/edat_lfs_9911_foreigners.csv", "sdmx_csv"),
    ("eurostat/sdmx-csv/lfsa_pganws_foreigners.csv", "sdmx_csv"),
    ("eurostat/tsv/edat_lfs_9912.tsv", "eurostat_tsv"),
    ("eurostat/tsv/ilc_lvho02.tsv", "eurostat_tsv"),
    ("eurostat/tsv/hlth_ehis_ss1c_excerpt.tsv", "eurostat_tsv"),
    ("eurostat-derived/lfs_by_country_of_birth.csv", "tidy"),
    ("undesa/stock_totals_2020.csv", "tidy"),
])
def test_detect_layout_of_each_real_file(relative, layout):
    text, _ = decode_bytes((SHARED_DATA / relative).read_bytes()[:50_000])
    assert detect_layout(text) == layout


# ------------------------------------------------------------------------------------- SDMX-CSV


def test_sdmx_codes_and_labels_germany_2023_employment_by_citizenship(lfsa_ergan):
    assert lfsa_ergan.detected["layout"] == "sdmx_csv"
    assert lfsa_ergan.detected["labels"] == "both"
    assert lfsa_ergan.detected["dataflow"] == "ESTAT:LFSA_ERGAN(1.0)"
    assert lfsa_ergan.problems == []
    table = lfsa_ergan.table
    nationals = cell(table, geo="DEU", period=2023, sex="T", citizen="NAT")
    foreigners = cell(table, geo="DEU", period=2023, sex="T", citizen="FOR")
    assert (nationals.value, foreigners.value) == (79.7, 65.8)
    assert nationals["flags"] == "" and foreigners["flags"] == ""
    assert nationals.geo_level == "national"
    assert nationals.unit == "PC" and nationals.age == "Y15-64"
    # the label columns are not read as dimensions
    assert "Geopolitical entity (reporting)" not in table.columns
    assert "Country of citizenship" not in table.columns


def test_sdmx_flags_are_kept_letter_by_letter(lfsa_ergan):
    bosnia = cell(lfsa_ergan.table, geo="BIH", period=2021, sex="T", citizen="FOR")
    assert bosnia.value == 60.6
    assert bosnia["flags"] == "bu"
    austria = cell(lfsa_ergan.table, geo="AUT", period=2004, sex="T", citizen="FOR")
    assert (austria.value, austria["flags"]) == (58.8, "b")
    assert len(lfsa_ergan.table) == lfsa_ergan.rows_read == 7983


def test_sdmx_labels_places_resolve_kosovo_turkiye_and_the_eu(hlth_silc_24):
    assert hlth_silc_24.detected["labels"] == "labels"
    assert hlth_silc_24.problems == []
    table = hlth_silc_24.table.loc[lambda t: t.lev_perc == "Bad or very bad"]
    kosovo = cell(table, geo_label="Kosovo*", period=2018, citizen="Reporting country")
    assert (kosovo.geo, kosovo.geo_level, kosovo.value) == ("XKX", "national", 11.3)
    turkiye = cell(table, geo_label="Türkiye", period=2015, citizen="Reporting country")
    assert (turkiye.geo, turkiye.value) == ("TUR", 12.3)
    eu = cell(table, geo_label="European Union - 27 countries (from 2020)", period=2015, citizen="Foreign country")
    assert (eu.geo, eu.geo_level) == ("EU27_2020", "regional")
    assert (eu.value, eu["flags"]) == (7.6, "e")
    eu_2023 = cell(table, geo="EU27_2020", period=2023, citizen="Reporting country")
    assert (eu_2023.value, eu_2023["flags"]) == (8.9, "")
    assert set(table.loc[table.geo_level == "unknown", "geo_label"]) == set()


def test_sdmx_labels_a_missing_value_with_a_flag_stays_missing(hlth_silc_24):
    albania = cell(hlth_silc_24.table, geo="ALB", period=2017, lev_perc="Bad or very bad",
                   citizen="EU27 countries (from 2020) except reporting country")
    assert math.isnan(albania.value)
    assert albania["flags"] == "u"


def test_sdmx_a_bad_value_is_reported_with_row_and_column():
    text = ("DATAFLOW,LAST UPDATE,freq,citizen,geo,TIME_PERIOD,OBS_VALUE,OBS_FLAG\n"
            "ESTAT:X(1.0),x,A,NAT,DE,2023,79.7,\n"
            "ESTAT:X(1.0),x,A,FOR,DE,2023,n.a.,\n"
            "ESTAT:X(1.0),x,A,FOR,FR,2023,,c\n")
    result = read_text(text)
    assert [p.as_dict()["row"] for p in result.problems] == [3]
    assert (result.problems[0].column, result.problems[0].value) == ("OBS_VALUE", "n.a.")
    assert list(result.table["geo"]) == ["DEU", "FRA"]
    assert math.isnan(result.table["value"].iat[1])
    assert result.table["flags"].iat[1] == "c"


def test_sdmx_rows_without_the_trailing_empty_flag_field_are_read():
    # some tools drop trailing empty fields: the flag column is absent from unflagged rows
    result = read_text("geo,TIME_PERIOD,OBS_VALUE,OBS_FLAG\nDE,2023,79.7\nFR,2023,70.1,b\n")
    assert result.problems == []
    assert list(result.table["geo"]) == ["DEU", "FRA"]
    assert list(result.table["value"]) == [79.7, 70.1]
    assert list(result.table["flags"]) == ["", "b"]


# ------------------------------------------------------------------------------------------ TSV


def test_tsv_current_layout_reads_values_and_flags(edat_lfs_9912):
    assert edat_lfs_9912.detected["layout"] == "eurostat_tsv"
    assert edat_lfs_9912.detected["time_header"] == "TIME_PERIOD"
    assert edat_lfs_9912.detected["dimensions"] == ["freq", "unit", "sex", "isced11", "c_birth", "age", "geo"]
    assert edat_lfs_9912.problems == []
    table = edat_lfs_9912.table
    key = dict(sex="F", isced11="ED0-2", c_birth="EU27_2020_FOR", age="Y15-24")
    # A,PC,F,ED0-2,EU27_2020_FOR,Y15-24,AT  34.4  28.6 ... 43.3 b (2021) ...
    assert cell(table, geo="AUT", period=2015, **key).value == 34.4
    austria_2021 = cell(table, geo="AUT", period=2021, **key)
    assert (austria_2021.value, austria_2021["flags"]) == (43.3, "b")
    bosnia_2021 = cell(table, geo="BIH", period=2021, **key)
    assert (bosnia_2021.value, bosnia_2021["flags"]) == (38.4, "u")
    bulgaria_2019 = cell(table, geo="BGR", period=2019, **key)
    assert math.isnan(bulgaria_2019.value) and bulgaria_2019["flags"] == "bu"
    assert austria_2021.source_row == 2
    # 5,994 series x 10 years
    assert len(table) == edat_lfs_9912.rows_read == 59_940


def test_tsv_old_layout_with_newest_year_first(ilc_lvho02):
    assert ilc_lvho02.detected["time_header"] == "time"
    assert ilc_lvho02.detected["periods"] == "2003-2020"
    assert ilc_lvho02.problems == []
    table = ilc_lvho02.table
    key = dict(incgrp="A_MD60", hhtyp="A1", tenure="OWN", geo="AUT")
    # A_MD60,A1,OWN,AT  : (2020)  5.4 (2019)  5.1  4.9  5.3  5.5  5.1  5.2  4.8  3.9 (2011) ... 5.1 b (2008)
    assert math.isnan(cell(table, period=2020, **key).value)
    assert cell(table, period=2019, **key).value == 5.4
    assert cell(table, period=2011, **key).value == 3.9
    assert (cell(table, period=2008, **key).value, cell(table, period=2008, **key)["flags"]) == (5.1, "b")
    belgium = cell(table, incgrp="A_MD60", hhtyp="A1", tenure="OWN", geo="BEL", period=2003)
    assert belgium.value == 6.2


def test_tsv_excerpt_missing_with_low_reliability_flag():
    result = read_shared("eurostat/tsv/hlth_ehis_ss1c_excerpt.tsv")
    assert result.problems == []
    table = result.table
    assert len(table) == 8  # 4 series x 2 years
    bulgaria = cell(table, geo="BGR", period=2019)
    assert math.isnan(bulgaria.value) and bulgaria["flags"] == "u"
    austria_2014 = cell(table, geo="AUT", period=2014)
    assert math.isnan(austria_2014.value) and austria_2014["flags"] == ""
    assert cell(table, geo="AUT", period=2019).value == 44.2
    assert set(table["citizen"]) == {"EU27_2020_FOR"}


def test_tsv_a_bad_cell_is_reported_with_its_row_and_period():
    text = ("unit,citizen,geo\\TIME_PERIOD\t2022 \t2023 \n"
            "PC,NAT,DE\t79.1 \t79.7 \n"
            "PC,FOR,DE\t64.9 \tabc \n")
    result = read_text(text)
    assert [(p.row, p.column, p.value) for p in result.problems] == [(3, "2023", "abc")]
    assert len(result.table) == 3
    assert cell(result.table, citizen="FOR", period=2022).value == 64.9


# ----------------------------------------------------------------------------------------- tidy


def test_tidy_csv_with_semicolons():
    text = "geo;year;group;sex;value;flags\nDE;2023;nationals;T;79.7;\nDE;2023;non_nationals;F;65.8;u\nEL;2023;nationals;T;61.0;b\n"
    result = read_text(text)
    assert result.detected["layout"] == "tidy"
    assert result.detected["delimiter"] == ";"
    assert result.problems == []
    table = result.table
    assert list(table["geo"]) == ["DEU", "DEU", "GRC"]
    assert list(table["value"]) == [79.7, 65.8, 61.0]
    assert list(table["flags"]) == ["", "u", "b"]
    assert list(table["group"]) == ["nationals", "non_nationals", "nationals"]
    assert list(table["period"]) == [2023, 2023, 2023]
    assert list(table["sex"]) == ["T", "F", "T"]  # codes, not booleans


def test_tidy_na_is_namibia_in_the_place_column_and_missing_in_the_value_column():
    text = "country,year,value\nNA,2020,NA\nNA,2021,7.5\nDE,2020,NA\n"
    result = read_text(text)
    assert result.problems == []
    table = result.table
    assert list(table["geo"]) == ["NAM", "NAM", "DEU"]
    assert list(table["geo_level"]) == ["national"] * 3
    assert math.isnan(table["value"].iat[0]) and math.isnan(table["value"].iat[2])
    assert table["value"].iat[1] == 7.5


def test_tidy_bad_values_are_reported_with_row_and_column_and_left_out():
    text = "geo,year,value\nDEU,2020,1.5\nFRA,2020,abc\nITA,2020,2.5\nESP,2020,?\n"
    result = read_text(text)
    assert [(p.row, p.column, p.value) for p in result.problems] == [(3, "value", "abc"), (5, "value", "?")]
    assert list(result.table["geo"]) == ["DEU", "ITA"]
    assert list(result.table["source_row"]) == [2, 4]
    assert result.rows_read == 4


def test_tidy_period_that_is_not_a_year_is_reported_in_the_files_own_column():
    text = "country;year;value\nDEU;2020;1.5\nDEU;2020Q1;3\nFRA;2021-A1;2\n"
    result = read_text(text)
    assert [(p.row, p.column, p.value) for p in result.problems] == [(3, "year", "2020Q1")]
    assert "not a year" in result.problems[0].message
    assert list(result.table["period"]) == [2020, 2021]


def test_tidy_columns_can_be_mapped_by_the_user():
    text = "alpha3,year,fb,fb_share\nDEU,2020,15762457,18.8\nNAM,2020,107561,4.2\n"
    result = read_text(text, columns={"geo": "alpha3", "period": "year", "value": "fb_share"})
    assert result.problems == []
    assert list(result.table["geo"]) == ["DEU", "NAM"]
    assert list(result.table["value"]) == [18.8, 4.2]


def test_undesa_alpha3_column_namibia_is_nam_and_na_is_a_missing_code_not_namibia():
    content = (SHARED_DATA / "undesa/stock_totals_2020.csv").read_bytes()
    result = read_file_bytes(content, columns={"geo": "alpha3", "period": "year", "value": "fb_share"})
    table = result.table
    namibia_1990 = cell(table, geo="NAM", period=1990)
    assert namibia_1990.value == pytest.approx(8.419365216948298)
    assert namibia_1990.geo_level == "national"
    # R's NA in the alpha3 column (places without an ISO code): 7 rows, kept unresolved, never Namibia
    unresolved = table.loc[table.geo_label == "NA"]
    assert len(unresolved) == 7
    assert set(unresolved.geo_level) == {"unknown"}
    assert len(table.loc[table.geo == "NAM"]) == 7  # Namibia's own seven years, 1990-2020


def test_an_unknown_place_is_kept_as_written_and_marked_unknown():
    result = read_text("geo,year,value\nDE21,2020,1.5\nT,2020,2\n")
    assert list(result.table["geo"]) == ["DE21", "T"]
    assert list(result.table["geo_level"]) == ["unknown", "unknown"]


# ------------------------------------------------------------------------------------- robustness


def test_bytes_that_are_not_text_give_a_problem_not_an_exception():
    result = read_file_bytes(b"\xff\xfe\x00", "broken.csv")
    assert result.table.empty
    assert len(result.problems) == 1 and "not a text file" in result.problems[0].message


_HEADERS = st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"geo,year,value\n", b"geo;year;value\n",
                            b"unit,geo\\TIME_PERIOD\t2020 \t2021 \n", b"geo,TIME_PERIOD,OBS_VALUE,OBS_FLAG\n"])
_CELLS = st.text(alphabet=st.sampled_from(list("DEFRNA0123456789.,;:\t\n\" -bu\\")), max_size=120).map(str.encode)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(header=_HEADERS, body=st.binary(max_size=300) | _CELLS)
@example(header=b"geo,year,value\n", body=b"\x00\n\xb9")  # '¹' in the place column: a digit, but not an ASCII one
def test_any_bytes_give_a_source_table_never_an_exception(header, body):
    result = read_file_bytes(header + body, "fuzz.csv")
    assert isinstance(result, SourceTable)
    assert isinstance(result.table, pd.DataFrame)
    assert {"geo", "period", "value", "flags"} <= set(result.table.columns) or result.table.empty
    assert all(isinstance(p, readers.Problem) for p in result.problems)
