"""The command line as an analyst's script meets it: output on stdout, one-line errors, exit status 2."""
from __future__ import annotations

import io
import json
import subprocess
import sys

import pandas as pd

from tests.conftest import ROOT


def run_cli(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", *arguments], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_help_lists_every_command():
    result = run_cli("--help")
    assert result.returncode == 0, result.stderr
    for command in ("build", "catalogue", "gaps", "capacity"):
        assert command in result.stdout


def test_gaps_prints_germany_2023_as_csv(built_database):
    result = run_cli("gaps", "--db", str(built_database), "--indicator", "work.employment_rate", "--geo", "Germany",
                     "--year", "2023", "--sex", "T", "--format", "csv")
    assert result.returncode == 0, result.stderr
    row = pd.read_csv(io.StringIO(result.stdout)).iloc[0]
    assert (row["geo"], row["geo_level"], row["reference_value"], row["value"]) == ("DEU", "national", 79.7, 65.8)
    assert row["difference"] == -13.9 and row["disadvantage"] == 13.9


def test_bad_arguments_give_one_line_and_status_2(built_database, tmp_path):
    cases = [
        ("gaps", "--db", str(built_database), "--indicator", "no.such"),
        ("gaps", "--db", str(built_database), "--indicator", "work.employment_rate", "--geo", "Atlantis"),
        ("gaps", "--db", str(built_database), "--indicator", "work.employment_rate", "--year", "²"),
        ("gaps", "--db", str(built_database), "--indicator", "work.employment_rate", "--year", "1800"),
        ("gaps", "--db", str(built_database), "--indicator", "work.employment_rate", "--sex", "X"),
        ("gaps", "--db", str(tmp_path), "--indicator", "work.employment_rate"),  # a directory
        ("gaps", "--db", str(ROOT / "README.md"), "--indicator", "work.employment_rate"),  # not a database
    ]
    for arguments in cases:
        result = run_cli(*arguments)
        assert result.returncode == 2, (arguments, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr, result.stderr


def test_an_empty_result_says_so_on_stderr(built_database):
    result = run_cli("gaps", "--db", str(built_database), "--indicator", "work.employment_rate", "--geo", "NA", "--format", "json")
    assert result.returncode == 0
    assert json.loads(result.stdout) == []
    assert "no gap for this selection" in result.stderr


def test_catalogue_csv_has_no_python_syntax_in_cells(built_database):
    result = run_cli("catalogue", "--db", str(built_database), "--format", "csv")
    assert result.returncode == 0, result.stderr
    catalogue = pd.read_csv(io.StringIO(result.stdout))
    employment = catalogue.loc[catalogue["code"] == "work.employment_rate"].iloc[0]
    assert employment["datasets"] == "LFSA_ERGAN"
    assert json.loads(employment["groups"]) == {"citizenship": ["non_nationals"]}
    assert not catalogue["source_types"].str.contains(r"\[").any()


# ------------------------------------------------------------------ bad options of read and load, missing databases

FILES = ROOT / "tests" / "files"
CSV = str(FILES / "encoding_utf8.csv")  # ';' delimiter, decimal comma, header in line 1, 7 lines
WORKBOOK = str(FILES / "excel_title_notes.xlsx")  # sheets 'Notes' and 'Employment'


def run_cli_all(cases: list[tuple[str, ...]]) -> list[subprocess.CompletedProcess]:
    """run_cli for every case, a few at a time (each is a fresh Python process)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda arguments: run_cli(*arguments), cases))


def assert_one_line_error(result: subprocess.CompletedProcess, *words: str) -> None:
    """Exit status 2, nothing on stdout, and one line on stderr holding every word (no traceback)."""
    assert "Traceback" not in result.stderr, result.stderr[-800:]
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert result.stdout == ""
    for word in words:
        assert word in lines[0], (word, lines[0])


def uploaded_state(path) -> tuple:
    """What a user would see of a database: its datasets and observation count."""
    from core import store

    connection = store.open_database(path)
    try:
        datasets = connection.execute("SELECT name, kind, row_count FROM datasets ORDER BY name").fetchall()
        observations = connection.execute("SELECT count(*) FROM observations").fetchone()[0]
    finally:
        connection.close()
    return datasets, observations


def test_format_options_with_values_the_reader_does_not_know_are_refused(tmp_path):
    new_db = tmp_path / "new" / "x.duckdb"
    load = ("load", CSV, "--indicator", "work.employment_rate", "--db", str(new_db))
    read = ("read", CSV, "--indicator", "work.employment_rate")
    cases = [
        (load + ("--delimiter", ",,"), ["--delimiter", "',,'", "';'", "tab"]),
        (read + ("--delimiter", ",,"), ["--delimiter", "',,'", "';'", "tab"]),
        (load + ("--decimal", "x"), ["--decimal", "'x'", "','"]),
        (read + ("--decimal", "x"), ["--decimal", "'x'", "','"]),
        (load + ("--thousands", "q"), ["--thousands", "'q'", "space"]),
        (load + ("--encoding", "nope"), ["--encoding", "'nope'", "cp1252"]),
        (load + ("--encoding", "base64"), ["--encoding", "'base64'"]),  # a codec, but not of text
        (load + ("--layout", "weird"), ["--layout", "'weird'", "'tidy'"]),
        (load + ("--decimal", ",", "--thousands", ","), ["--decimal", "--thousands", "','"]),
    ]
    for (arguments, words), result in zip(cases, run_cli_all([arguments for arguments, _ in cases])):
        assert_one_line_error(result, *words)
    assert not new_db.parent.exists()  # nothing created


def test_format_options_by_name_are_read(tmp_path):
    result = run_cli("read", CSV, "--indicator", "work.employment_rate", "--delimiter", "semicolon", "--decimal", "comma",
                     "--thousands", "none", "--encoding", "UTF-8", "--header-row", "1", "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = pd.read_csv(io.StringIO(result.stdout))
    assert rows["geo"].tolist() == ["CIV", "CIV", "TUR", "TUR", "AUT", "AUT"] and rows["value"].iloc[0] == 61.5


def test_header_rows_and_sheets_that_do_not_fit_the_file_are_refused(tmp_path):
    new_db = tmp_path / "new" / "x.duckdb"
    load = ("load", "--indicator", "work.employment_rate", "--db", str(new_db))
    cases = [
        (load + (CSV, "--header-row", "0"), ["--header-row", "'0'"]),
        (load + (CSV, "--header-row=-3"), ["--header-row", "'-3'"]),
        (load + (CSV, "--header-row", "first"), ["--header-row", "'first'"]),
        (load + (CSV, "--header-row", "99"), ["--header-row 99", "encoding_utf8.csv", "7 lines"]),
        (load + (WORKBOOK, "--header-row", "99"), ["--header-row 99", "'Employment'", "excel_title_notes.xlsx"]),
        (load + (CSV, "--sheet", "Nope"), ["--sheet 'Nope'", "encoding_utf8.csv", "Excel"]),
        (load + (WORKBOOK, "--sheet", "Nope"), ["--sheet 'Nope'", "'Notes', 'Employment'"]),
        (load + (WORKBOOK, "--delimiter", ";"), ["--delimiter", "excel_title_notes.xlsx"]),
        (load + (WORKBOOK, "--encoding", "cp1252"), ["--encoding", "excel_title_notes.xlsx"]),
    ]
    for (arguments, words), result in zip(cases, run_cli_all([arguments for arguments, _ in cases])):
        assert_one_line_error(result, *words)
    assert not new_db.parent.exists()
    # the workbook's own sheet and header row are read
    result = run_cli("read", WORKBOOK, "--sheet", "Employment", "--header-row", "5", "--local", "--format", "csv",
                     "--indicator", "work.employment_rate", "--column", "geo=District")
    assert "sheet 'Employment'" in result.stderr and "header row 5" in result.stderr, result.stderr


def test_an_unknown_indicator_code_is_refused_and_nothing_is_stored(built_database, tmp_path):
    import shutil

    paths = [tmp_path / "copy.duckdb", tmp_path / "second-copy.duckdb"]  # one each: a database has one writer at a time
    for path in paths:
        shutil.copy(built_database, path)
    before = uploaded_state(paths[0])
    new_db = tmp_path / "new" / "x.duckdb"
    cases = [
        ("load", CSV, "--indicator", "work.no_such", "--db", str(paths[0])),
        ("load", CSV, "--indicator", "work.no_such", "--db", str(new_db)),
        ("read", CSV, "--indicator", "work.no_such"),
        ("load", CSV, "--indicator-label", "Rate=work.no_such", "--db", str(paths[1])),
    ]
    for result in run_cli_all(cases):
        assert_one_line_error(result, "unknown indicator 'work.no_such'", "python -m core catalogue")
    assert uploaded_state(paths[0]) == uploaded_state(paths[1]) == before
    assert not new_db.parent.exists()


def test_read_only_commands_refuse_a_missing_database_and_create_nothing(tmp_path):
    missing = tmp_path / "nonexistent" / "dir" / "x.duckdb"
    cases = [
        ("datasets", "--db", str(missing)),
        ("gaps", "--db", str(missing), "--indicator", "work.employment_rate"),
        ("capacity", "--db", str(missing), "--indicator", "work.employment_rate"),
        ("catalogue", "--db", str(missing)),
        ("delete", "city-survey", "--db", str(missing)),
        ("read", CSV, "--indicator", "work.employment_rate", "--db", str(missing)),
    ]
    for result in run_cli_all(cases):
        assert_one_line_error(result, f"no database at {missing}", "check the path")
    assert not (tmp_path / "nonexistent").exists()


def test_load_creates_a_missing_database_as_documented(tmp_path):
    path = tmp_path / "new" / "x.duckdb"
    result = run_cli("load", CSV, "--indicator", "work.employment_rate", "--dataset", "trial", "--db", str(path))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["rows_loaded"] == 6
    listed = run_cli("datasets", "--db", str(path))
    assert [(d["name"], d["observations"]) for d in json.loads(listed.stdout)] == [("trial", 6)]


def test_a_db_path_that_is_another_kind_of_file_is_refused_and_left_as_it_was(tmp_path):
    # A second user's trial: 'load data.csv --db data.csv' said "loaded" (DuckDB opened the CSV as a
    # throwaway in-memory store) and kept nothing.
    other = tmp_path / "v2.csv"
    other.write_bytes(b"geo,year,value\nDE,2022,79.1\n")
    before = other.read_bytes()
    for result in run_cli_all([("load", CSV, "--indicator", "work.employment_rate", "--dataset", "trial", "--db", str(other)),
                               ("datasets", "--db", str(other)), ("catalogue", "--db", str(other))]):
        assert_one_line_error(result, "is not a RightsGap database")
    assert other.read_bytes() == before


def test_a_huge_bad_value_is_shortened_in_the_report_lines(tmp_path):
    # A second user's trial: a 200,000-digit value was printed whole on stderr.
    path = tmp_path / "huge.csv"
    path.write_text("geo,year,group,value,age\nDEU,2023,nationals," + "9" * 5000 + ",Y15-64\nDEU,2023,non_nationals,66,Y15-64\n",
                    encoding="utf-8")
    result = run_cli("read", str(path), "--indicator", "work.employment_rate")
    lines = [line for line in result.stderr.splitlines() if line.strip().startswith("row 2")]
    assert lines and all(len(line) < 400 for line in lines), result.stderr[:500]
    assert "… (5000 characters)" in lines[0]
