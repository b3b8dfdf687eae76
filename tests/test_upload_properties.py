"""Property tests: any bytes, random or a real file cut anywhere, end in a report, never an exception.

Every reader entry point an upload goes through is fed: format detection, the Python grid reader,
the World Bank reader, the whole UploadSession (staging, guesses, validation), and the SourceTable
readers. Hypothesis keeps each property to 100 examples so the file runs in seconds.
"""
from __future__ import annotations

from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import readers, store, upload

FILES = Path(__file__).resolve().parent / "files"
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SAMPLES = [
    (FILES / "title_and_notes.csv").read_bytes(),
    (FILES / "wide_years.csv").read_bytes(),
    (FILES / "encoding_utf16.csv").read_bytes(),
    (FILES / "excel_title_notes.xlsx").read_bytes(),
    (FILES / "heat_plus.csv").read_bytes(),
    (SHARED_DATA / "eurostat/tsv/hlth_ehis_ss1c_excerpt.tsv").read_bytes(),
    (SHARED_DATA / "worldbank/API_NY.GDP.PCAP.PP.KD_DS2_en_csv_v2_33608.csv").read_bytes()[:6000],
    (SHARED_DATA / "eurostat/sdmx-csv/lfsa_ergan.csv").read_bytes()[:8000],
]
NAMES = ["upload.csv", "upload.tsv", "upload.txt", "upload.xlsx"]
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def truncated(draw):
    """A real file cut at a random point, sometimes with random bytes spliced in."""
    content = draw(st.sampled_from(SAMPLES))
    cut = draw(st.integers(min_value=0, max_value=len(content)))
    tail = draw(st.binary(max_size=40)) if draw(st.booleans()) else b""
    return content[:cut] + tail


inputs = st.one_of(st.binary(max_size=600), truncated(),
                   st.text(alphabet=st.sampled_from(list(",;\t|\"\n\r :.-0123456789abcDEFNA\u00e9\u00fc")), max_size=300)
                   .map(lambda t: t.encode("utf-8")))


def assert_report(report: upload.Report) -> None:
    assert report.status in ("valid", "rejected")
    assert report.rows_read >= 0 and report.rows_usable >= 0 and report.rows_rejected >= 0
    assert report.rows_usable + report.rows_rejected + report.rows_left_out == report.rows_read or report.status == "rejected"
    if report.status == "rejected":
        assert report.problems, "a rejected file says why"
    for problem in report.problems:
        assert problem.message and (problem.row is None or problem.row >= 1)


@SETTINGS
@given(content=inputs, name=st.sampled_from(NAMES))
def test_any_bytes_give_a_detection_and_a_validation_report(content, name):
    connection = duckdb.connect(":memory:")
    try:
        connection.execute(store.SCHEMA)
        session = upload.UploadSession(connection, content, name)
        assert session.format.kind in ("text", "excel", "geojson", "unreadable")
        mapping = session.guess_mapping()
        mapping.indicator = "work.employment_rate"
        assert_report(session.validate(mapping))
    finally:
        connection.close()


@SETTINGS
@given(content=inputs)
def test_any_bytes_give_a_source_table_from_every_reader(content):
    for result in (readers.read_file_bytes(content, "upload.csv"),
                   readers.read_world_bank_csv(content.decode("utf-8", errors="replace"))):
        assert isinstance(result, readers.SourceTable)
        assert {"geo", "geo_level", "period", "value", "flags"} <= set(result.table.columns) or result.problems


@SETTINGS
@given(content=inputs, overrides=st.fixed_dictionaries({}, optional={
    "delimiter": st.sampled_from(list(readers.DELIMITERS)), "decimal": st.sampled_from(list(readers.DECIMAL_MARKS)),
    "thousands": st.sampled_from(list(readers.THOUSANDS_SEPARATORS)), "header_row": st.integers(1, 30),
    "header_rows": st.integers(1, 2), "encoding": st.sampled_from(list(readers.ENCODINGS)),
    "layout": st.sampled_from(list(readers.LAYOUTS))}))
def test_any_correction_of_the_format_ends_in_a_report(content, overrides):
    fmt, problems = readers.detect_format(content, "upload.csv", overrides)
    if fmt.kind in ("text", "excel") and fmt.columns:
        grid = readers.read_grid(content, fmt)
        assert list(grid.frame.columns[:-1]) == readers.grid_column_names(len(fmt.columns))
        assert all(problem.row >= 1 for problem in grid.problems)
    else:
        assert fmt.kind in ("unreadable", "geojson") or not fmt.columns
