"""Hostile input: random, truncated and malicious files, labels, names and arguments.

What a user would notice if these failed: a traceback instead of a message, a file that silently
loads nothing, a dataset name that deletes the store, a spreadsheet that runs a formula when the
export is opened, a page that shows (or runs) someone's <script>.

Every reader of core.readers, the upload session (core.upload), core.boundaries.read_uploaded_boundaries
and the command line get random bytes (hypothesis), truncated real files, huge fields, deep nesting,
and strings made of SQL fragments, HTML and script tags, formula prefixes, path separators and
100 000 characters. Each must end in a report (a table, or problems that say what is wrong) and
leave every table of the database as it was (row counts and a checksum of every row).
"""
from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import boundaries, readers, store, upload
from core.readers import SourceTable

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

SQL = "'; DROP TABLE observations; --"
SQL_2 = "x\"); DELETE FROM datasets; SELECT (\"1"
HTML = "<script>window.__pwned = 1</script><img src=x onerror=alert(1)>"
FORMULA = "=cmd|' /C calc'!A0"
FORMULAS = (FORMULA, "+1+1", "-2+3", "@SUM(1+1)")
PATH = "../../etc/passwd"
WINDOWS_PATH = "..\\..\\windows\\system32\\config"
LONG = "L" * 100_000
MARKDOWN = "[click](javascript:alert(1)) ![x](http://example.invalid/x.png)"
HOSTILE = (SQL, SQL_2, HTML, *FORMULAS, PATH, WINDOWS_PATH, LONG, MARKDOWN, "", " ", "\x00", "NULL", "None", "nan")

#: Real files of ../shared/data, truncated by the tests (first bytes only: the readers' detection
#: looks at the head and the tail, which truncation changes).
REAL_FILES = [
    "eurostat/sdmx-csv/lfsa_ergan.csv",
    "eurostat/sdmx-csv/hlth_silc_24_labels.csv",
    "eurostat/tsv/edat_lfs_9912.tsv",
    "eurostat/tsv/hlth_ehis_ss1c_excerpt.tsv",
    "worldbank/API_NY.GDP.PCAP.PP.KD_DS2_en_csv_v2_33608.csv",
    "undesa/stock_totals_2020.csv",
    "undesa/UN_MigrantStockTotal_2019.xlsx",
    "boundaries/nuts-2021/NUTS_RG_20M_2021_4326_LEVL_0.geojson",
]
HEADS = {name: (SHARED_DATA / name).read_bytes()[: 60_000 if name.endswith((".xlsx", ".geojson")) else 12_000]
         for name in REAL_FILES}

FAST = settings(max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=20, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


# ------------------------------------------------------------------------------------- fixtures

def fingerprint(connection) -> dict[str, tuple]:
    """{table: (rows, checksum of every row)} for every table of the store (names from the catalog)."""
    tables = [name for (name,) in connection.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' AND table_type = 'BASE TABLE' "
        "ORDER BY table_name").fetchall()]
    assert {"observations", "datasets"} <= set(tables)
    return {table: connection.execute(f'SELECT count(*), sum(hash(t)) FROM "{table}" t').fetchone() for table in tables}


@pytest.fixture
def connection(private_store):
    """The root connection of a private copy of the built store (tests.conftest.private_store)."""
    return private_store


@pytest.fixture(scope="module")
def module_connection(tmp_path_factory):
    """A store shared by the hypothesis tests of this module (each example checks it is unchanged)."""
    path = tmp_path_factory.mktemp("hostile") / "store.duckdb"
    store.build_store(path)
    root = store.open_database(path)
    yield root
    root.close()


def assert_reported(result: SourceTable) -> None:
    """A reader's result is a report: rows read, or problems saying why none were."""
    assert isinstance(result, SourceTable)
    assert isinstance(result.table, pd.DataFrame)
    assert len(result.table) > 0 or result.problems or result.rows_read == 0
    for problem in result.problems:
        assert isinstance(problem.message, str) and problem.message.strip()


# ---------------------------------------------------------------------- readers under hypothesis

TEXTISH = st.lists(st.sampled_from(list("abcXYZ019.,;:\t\n\r\"' -_\\%éü€") + ["DEU", "2020", "geo", "value",
                                                                                   "TIME_PERIOD", "OBS_VALUE"]),
                   max_size=300).map("".join)


@FAST
@given(content=st.one_of(st.binary(max_size=3000), TEXTISH.map(lambda t: t.encode("utf-8")),
                         TEXTISH.map(lambda t: t.encode("utf-16")), TEXTISH.map(lambda t: t.encode("cp1252", "replace")),
                         st.sampled_from(REAL_FILES).flatmap(lambda name: st.integers(0, len(HEADS[name])).map(
                             lambda cut: HEADS[name][:cut]))))
def test_every_byte_reader_returns_a_report_for_random_and_truncated_bytes(content):
    assert_reported(readers.read_file_bytes(content, "random.csv"))
    fmt, problems = readers.detect_format(content, "random.csv")
    assert fmt.kind in ("text", "excel", "geojson", "unreadable")
    if fmt.kind == "unreadable":
        assert problems and all(p.message for p in problems)
    if fmt.kind in ("text", "excel") and fmt.columns:
        grid = readers.read_grid(content, fmt)
        assert list(grid.frame.columns[: len(fmt.columns)]) == readers.grid_column_names(len(fmt.columns))
    try:
        geojson, used = boundaries.read_uploaded_boundaries(content, "random.geojson")
    except boundaries.BoundariesError as error:
        assert "random.geojson" in str(error)
    else:
        assert geojson["type"] == "FeatureCollection" and all(f["id"] for f in geojson["features"])


@FAST
@given(text=st.one_of(TEXTISH, st.text(max_size=300)))
def test_every_text_reader_returns_a_report_for_random_text(text):
    for reader in (readers.read_text, readers.read_tidy_csv, readers.read_sdmx_csv, readers.read_eurostat_tsv,
                   readers.read_world_bank_csv):
        assert_reported(reader(text))


@SLOW
@given(content=st.one_of(st.binary(max_size=2000), TEXTISH.map(lambda t: t.encode("utf-8")),
                         st.sampled_from(REAL_FILES[:6]).flatmap(lambda name: st.integers(0, 4000).map(
                             lambda cut: HEADS[name][:cut]))))
def test_an_upload_of_random_or_truncated_bytes_ends_in_a_report_and_changes_nothing(module_connection, content):
    before = fingerprint(module_connection)
    cursor = module_connection.cursor()
    try:
        session = upload.UploadSession(cursor, content, "random.csv")
        mapping = session.guess_mapping()
        try:
            report = session.load(mapping, upload.DatasetInfo(name="random upload"))
        except upload.UploadError as error:
            assert str(error)
        else:
            assert report.status in ("loaded", "rejected")
            if report.status == "rejected":
                assert report.problems or report.rows_usable == 0
                assert fingerprint(module_connection) == before
            else:  # a random file that happens to be a valid table: remove it again
                assert report.rows_loaded == report.rows_usable > 0
                store.delete_dataset(module_connection, "random upload")
    finally:
        cursor.close()
    after = fingerprint(module_connection)
    assert after["observations"] == before["observations"] and after["datasets"] == before["datasets"]


# ------------------------------------------------------------------ huge fields and deep nesting

def test_huge_fields_are_reported_with_their_row_and_column():
    text = f"geo,year,value\nDEU,2020,{LONG}\nFRA,{LONG},3\nITA,2021,12.5\n"
    result = readers.read_tidy_csv(text)
    assert_reported(result)
    assert {problem.row for problem in result.problems} == {2, 3}  # each bad cell named by its line
    assert result.table["geo"].tolist() == ["ITA"]
    assert all(len(problem.message) < 2000 for problem in result.problems)  # the message does not echo 100 000 characters


#: A place cell of 100 000 characters, read by an upload's reader and by the command line, in a child
#: process stopped after 20 s. Place resolution used to hand any text to country_converter's ~250
#: regexes, which take super-linear time (10 000 characters: ~14 s; 100 000: hours); texts over 120
#: characters are no longer resolved, so this answers in about the time Python takes to start.
_LONG_PLACE_RUN = (
    "from core import readers\n"
    "readers.read_tidy_csv('geo,year,value\\n' + 'L' * 100000 + ',2021,1\\n')\n"
    "from core.__main__ import main\n"
    "main(['gaps', '--db', DB, '--indicator', 'work.employment_rate', '--geo=' + 'L' * 100000])\n"
)


def test_a_place_cell_of_a_hundred_thousand_characters_is_answered_within_seconds(cli_database):
    code = f"DB = {str(cli_database)!r}\n{_LONG_PLACE_RUN}"
    completed = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=20)
    assert completed.returncode == 0, completed.stderr[-500:]


def test_a_header_of_a_hundred_thousand_characters_is_read_or_reported():
    result = readers.read_file_bytes(f"{LONG},year,value\nDEU,2020,1\n".encode(), "long.csv")
    assert_reported(result)


@pytest.mark.parametrize("text", [
    "[" * 100_000 + "]" * 100_000,
    '{"type": "FeatureCollection", "features": [' + '{"a": ' * 50_000 + "1" + "}" * 50_000 + "]}",
    json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"id": "A"},
                "geometry": {"type": "Polygon", "coordinates": [[[[[[[0, 0]]]]]]]}}]}),
], ids=["nested lists", "nested objects", "nested coordinates"])
def test_deeply_nested_geojson_is_refused_with_a_message(text):
    with pytest.raises(boundaries.BoundariesError, match="nested.geojson"):
        boundaries.read_uploaded_boundaries(text.encode(), "nested.geojson")


def test_geometry_collections_nested_a_thousand_deep_are_refused():
    geometry = '{"type": "GeometryCollection", "geometries": [' * 1000 + '{"type": "Point", "coordinates": [0, 0]}' + "]}" * 1000
    text = '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"code": "A"}, "geometry": ' + geometry + "}]}"
    with pytest.raises(boundaries.BoundariesError, match="deep.geojson.*nested too deeply"):
        boundaries.read_uploaded_boundaries(text.encode(), "deep.geojson")


@pytest.mark.parametrize("code", HOSTILE[:8], ids=lambda c: repr(c[:12]))
def test_hostile_unit_codes_in_geojson_are_kept_as_plain_text(code):
    square = [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": code, "name": HTML}, "geometry": {"type": "Polygon", "coordinates": square}},
        {"type": "Feature", "properties": {"code": "B2", "name": "b"}, "geometry": {"type": "Polygon", "coordinates": square}}]}
    geojson, used = boundaries.read_uploaded_boundaries(json.dumps(collection).encode(), PATH)
    assert used == "code" and [f["id"] for f in geojson["features"]] == [code.strip(), "B2"]
    assert geojson["features"][0]["properties"]["name"] == HTML


# --------------------------------------------------------------------- injection through upload

def _hostile_csv() -> bytes:
    """A tidy file whose extra column names are SQL, HTML, a formula and a path, and whose place
    codes (local units) are hostile strings."""
    rows = [["geo", "year", "group", "sex", "value", SQL, HTML, FORMULA, PATH]]
    for geo in (SQL, HTML, FORMULA, PATH, MARKDOWN):
        rows.append([geo, "2021", "nationals", "T", "70.5", SQL, HTML, FORMULA, PATH])
        rows.append([geo, "2021", "non_nationals", "T", "61.25", SQL, HTML, FORMULA, PATH])
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _load_hostile_dataset(connection, name: str = SQL, **info) -> upload.Report:
    cursor = connection.cursor()
    session = upload.UploadSession(cursor, _hostile_csv(), f"{PATH}.csv")
    mapping = session.guess_mapping()
    mapping.indicator = "work.employment_rate"
    mapping.place_level = "local"
    dataset = upload.DatasetInfo(name=name, title=HTML, producer=FORMULA, source=f"{HTML} {MARKDOWN} {FORMULA}",
                                 licence=PATH, url="javascript:alert(1)", **info)
    return session.load(mapping, dataset)


def test_a_file_with_sql_html_formula_and_path_strings_loads_as_plain_data(connection):
    before = fingerprint(connection)
    report = _load_hostile_dataset(connection)
    assert report.status == "loaded", report.problems[:3]
    assert report.rows_loaded == 10
    after = fingerprint(connection)
    assert after["observations"][0] == before["observations"][0] + 10
    assert after["datasets"][0] == before["datasets"][0] + 1
    stored = connection.execute("SELECT name, title, producer, licence FROM datasets WHERE kind = 'uploaded'").fetchall()
    assert stored == [(SQL, HTML, FORMULA, PATH)]
    places = {geo for (geo,) in connection.execute("SELECT DISTINCT geo FROM observations WHERE dataset = ?", [SQL]).fetchall()}
    assert places == {SQL, HTML, FORMULA, PATH, MARKDOWN}
    # The gap engine reads them back like any place: 61.25 - 70.5 = -9.25 pp, disadvantage 9.25.
    from core import queries

    gaps = queries.fetch_gaps(connection.cursor(), "work.employment_rate", geos=[SQL], year=2021, sex="T", group="non_nationals")
    assert gaps["disadvantage"].round(2).tolist() == [9.25]


def test_hostile_dataset_names_are_stored_verbatim_or_refused_with_a_message(connection):
    before = fingerprint(connection)
    with pytest.raises(upload.UploadError, match="too long"):
        _load_hostile_dataset(connection, name=LONG)
    with pytest.raises(upload.UploadError, match="name"):
        _load_hostile_dataset(connection, name="   ")
    assert fingerprint(connection) == before
    assert _load_hostile_dataset(connection, name=SQL_2).status == "loaded"
    store.rename_dataset(connection, SQL_2, HTML)
    with pytest.raises(ValueError):
        store.rename_dataset(connection, PATH, SQL)  # no such dataset: a message, nothing changed
    with pytest.raises(ValueError):
        store.delete_dataset(connection, SQL)
    assert store.delete_dataset(connection, HTML) == 10
    after = fingerprint(connection)
    assert after["observations"] == before["observations"] and after["datasets"] == before["datasets"]


@pytest.mark.parametrize("label", [SQL, HTML, FORMULA, PATH, LONG[:5000]], ids=["sql", "html", "formula", "path", "long"])
def test_hostile_group_labels_are_rejected_row_by_row_and_store_nothing(connection, label):
    before = fingerprint(connection)
    content = f"geo,year,group,value\nDEU,2021,nationals,70\nDEU,2021,\"{label.replace(chr(34), chr(34) * 2)}\",60\n".encode()
    session = upload.UploadSession(connection.cursor(), content, "groups.csv")
    mapping = session.guess_mapping()
    mapping.indicator = "work.employment_rate"
    mapping.group_labels = {k: v for k, v in mapping.group_labels.items() if k != label}
    report = session.load(mapping, upload.DatasetInfo(name="groups"))
    assert report.status == "rejected"
    problem = next(p for p in report.problems if p.row == 3)
    assert problem.column == "group" and problem.value == label.strip()
    assert fingerprint(connection) == before


def test_a_new_indicator_with_hostile_title_and_definition_is_stored_as_text(connection):
    cursor = connection.cursor()
    session = upload.UploadSession(cursor, b"geo,year,group,value\nDEU,2021,nationals,70\nDEU,2021,non_nationals,60\n", "new.csv")
    mapping = session.guess_mapping()
    mapping.new_indicator = {"title": f"{HTML} {SQL}", "definition": f"{FORMULA} {PATH} {SQL}", "unit": "percent", "polarity": "higher_is_better",
                             "right": "work", "attribute": "access_to_decent_and_productive_work", "type": "outcome"}
    report = session.load(mapping, upload.DatasetInfo(name="new indicator"))
    assert report.status == "loaded"
    definition = store.fetch_custom_indicators(connection)[0]
    assert definition["title"] == f"{HTML} {SQL}" and definition["definition"] == f"{FORMULA} {PATH} {SQL}"
    assert definition["code"].startswith("work.") and set(definition["code"]) <= set("abcdefghijklmnopqrstuvwxyz0123456789._")


# ----------------------------------------------------------------------- injection through exports

def test_exports_of_hostile_places_and_sources_neutralise_formulas_and_run_nothing(connection):
    from core import exports
    from core.catalogue import load_default_catalogue

    assert _load_hostile_dataset(connection).status == "loaded"
    report = exports.build_set_report(connection.cursor(), ["work.employment_rate", "work.unemployment_rate"], FORMULA,
                                      load_default_catalogue())
    assert report.table.loc[0, "Country code"] == FORMULA and report.table.loc[0, "Source"].startswith(HTML)

    cells = [cell for row in csv.reader(io.StringIO(exports.export_csv(report).decode("utf-8-sig"))) for cell in row]
    assert f"'{FORMULA}" in cells
    for cell in cells:
        if cell.startswith(exports.FORMULA_PREFIXES):
            float(cell)  # only numbers (e.g. -9.25) may start with '-' or '+'

    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(exports.export_excel(report)))
    texts = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"formula in {sheet.title}!{cell.coordinate}: {cell.value!r}"
                if isinstance(cell.value, str):
                    texts.append(cell.value)
    assert f"'{FORMULA}" in texts and not any(t.startswith(("=", "@")) for t in texts)

    exported = json.loads(exports.export_json(report))
    assert FORMULA in json.dumps(exported, ensure_ascii=False)  # machines get the text as it is

    pdf = exports.export_pdf(report)
    assert pdf.startswith(b"%PDF") and b"/JavaScript" not in pdf and b"/JS " not in pdf and b"/Launch" not in pdf


def test_the_comparison_pdf_prints_a_hostile_attribution_as_text_and_runs_nothing(connection):
    import pypdf

    from core import compare, report, treaties
    from core.queries import fetch_datasets

    cursor = connection.cursor()
    session = upload.UploadSession(cursor, b"geo,year,group,sex,age,value\nBRA,2021,nationals,T,Y15-64,70.5\n"
                                           b"BRA,2021,non_nationals,T,Y15-64,61.25\n", f"{PATH}.csv")
    mapping = session.guess_mapping()
    mapping.indicator = "work.employment_rate"
    attribution = f"{HTML} {FORMULA} {SQL}"
    assert session.load(mapping, upload.DatasetInfo(name=SQL_2, source=attribution)).status == "loaded"
    view = compare.View(("BRA", "DEU"), "work", "work.employment_rate", 2021)
    datasets = fetch_datasets(connection)
    section = report.ReportSection(view, compare.fetch_comparison(connection.cursor(), view),
                                   treaties.fetch_commitments(list(view.places)), dict(zip(datasets["name"], datasets["source"])))
    pdf = report.build_comparison_pdf([section], compare.STABLE_THRESHOLD_PP_PER_YEAR)
    assert pdf.startswith(b"%PDF") and b"/JavaScript" not in pdf and b"/JS " not in pdf and b"/Launch" not in pdf
    text = " ".join(" ".join((page.extract_text() or "").split()) for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "Brazil" in text
    assert "window.__pwned" in text and "cmd|' /C calc'" in text and "DROP TABLE observations" in text  # the attribution, as text


# -------------------------------------------------------------------------- the pages (AppTest)

PAGES = ["pages/explore.py", "pages/country.py", "pages/catalogue.py", "pages/my-set.py",
         "pages/sources.py", "pages/compare.py"]


def test_every_page_survives_hostile_url_parameters_and_a_hostile_dataset(built_database, tmp_path, monkeypatch):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_resource.clear()  # this test's own database: no connection or data cached from another test
    st.cache_data.clear()

    path = tmp_path / "pages.duckdb"
    shutil.copy(built_database, path)
    root = store.open_database(path)
    try:
        assert _load_hostile_dataset(root).status == "loaded"
        before = fingerprint(root)
    finally:
        root.close()
    monkeypatch.setenv("RIGHTSGAP_DB", str(path))
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for key, value in {"right": SQL, "indicator": HTML, "group": FORMULA, "year": "2020; DROP TABLE observations",
                       "sex": PATH, "age": LONG[:2000], "level": MARKDOWN, "country": SQL, "set": f"{HTML},{SQL}",
                       "pins": SQL, "places": HTML, "q": SQL}.items():
        app.query_params[key] = value
    app.run()
    assert not app.exception, app.exception
    shown = []
    for page in PAGES:
        if not (ROOT / page).exists():
            continue
        app.switch_page(page).run()
        assert not app.exception, f"{page}: {app.exception}"
        shown.append(page)
    assert "pages/explore.py" in shown and "pages/sources.py" in shown
    app.switch_page("pages/sources.py").run()
    sources = next(frame.value for frame in app.dataframe if "Attribution" in frame.value.columns)
    uploaded = sources.loc[sources.astype(str).apply(lambda column: column.str.contains("DROP TABLE", regex=False)).any(axis=1)]
    assert len(uploaded) == 1  # the dataset named with SQL is listed, as text
    root = store.open_database(path)
    try:
        after = fingerprint(root)
    finally:
        root.close()
    assert after["observations"] == before["observations"] and after["datasets"] == before["datasets"]


# ------------------------------------------------------------------------------ the command line

def _run_cli(capsys, argv: list[str]) -> tuple[int, str, str]:
    from core.__main__ import main

    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def cli_database(built_database, tmp_path) -> Path:
    path = tmp_path / "cli.duckdb"
    shutil.copy(built_database, path)
    return path


@pytest.mark.parametrize("option", ["--geo", "--indicator", "--group", "--year", "--sex", "--dataset"])
def test_the_cli_refuses_hostile_arguments_with_status_2_and_one_line(capsys, cli_database, option):
    root = store.open_database(cli_database)
    before = fingerprint(root)
    root.close()
    for value in (SQL, HTML, FORMULA, "-2+3", PATH, WINDOWS_PATH, LONG if option != "--geo" else LONG[:60], "a\nb", "\u2028"):
        argv = ["gaps", "--db", str(cli_database), "--indicator", "work.employment_rate", f"{option}={value}"]
        status, out, err = _run_cli(capsys, argv)
        if option == "--dataset":  # a dataset filter is a value, not a name to resolve: no rows, no error
            assert status == 0 and json.loads(out) == [], value[:20]
            continue
        assert status == 2, (option, value[:20], err[:200])
        assert out == "" and len(err.strip().splitlines()) == 1 and err.startswith("error: "), err[:300]
        assert len(err) < 400 + (len(value) if option != "--geo" else 0)
    root = store.open_database(cli_database)
    assert fingerprint(root) == before
    root.close()


def test_python_m_core_gaps_with_an_sql_indicator_exits_2_with_one_line(cli_database):
    completed = subprocess.run([sys.executable, "-m", "core", "gaps", "--db", str(cli_database), "--indicator", SQL,
                                "--geo", HTML], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 2
    assert completed.stdout == "" and len(completed.stderr.strip().splitlines()) == 1
    assert "unknown indicator" in completed.stderr
    root = store.open_database(cli_database)
    assert root.execute("SELECT count(*) FROM observations").fetchone()[0] > 0
    root.close()


@settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(min_size=1, max_size=60))
def test_the_cli_answers_any_place_text_with_gaps_or_one_line(capsys, cli_database, text):
    status, out, err = _run_cli(capsys, ["gaps", "--db", str(cli_database), "--indicator", "work.employment_rate",
                                         "--year", "2023", f"--geo={text}"])
    assert status in (0, 2)
    if status == 2:
        assert out == "" and len(err.strip().splitlines()) == 1
    else:
        assert isinstance(json.loads(out), list)
