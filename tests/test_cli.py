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
