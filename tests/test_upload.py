"""Loading analysts' files into the store: every problem class reported with row, column and value;
all rows or none; provenance; rename and delete; two sessions at once; indicators defined at upload;
standard errors carried into the gaps; the command line."""
from __future__ import annotations

import hashlib
import json
import math
import threading
from pathlib import Path

import duckdb
import pytest

from core import queries, store, upload
from core.__main__ import main

FILES = Path(__file__).resolve().parent / "files"
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def root(private_store):
    """A private copy of the built store (embedded data), opened (tests.conftest.private_store)."""
    return private_store


def staged(root, name: str, content: bytes | None = None, indicator: str = "work.employment_rate", **changes):
    """(UploadSession on its own cursor, Mapping with the guesses, indicator and changes)."""
    content = content if content is not None else (FILES / name).read_bytes()
    session = upload.UploadSession(root.cursor(), content, name)
    mapping = session.guess_mapping()
    mapping.indicator = indicator
    for key, value in changes.items():
        setattr(mapping, key, value)
    return session, mapping


def version(root) -> int:
    rows = root.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchall()
    return int(rows[0][0]) if rows else 0


def snapshot(root) -> tuple:
    """Everything a load could change: datasets, custom indicators, observations (count and checksum)."""
    return (root.execute("SELECT * FROM datasets ORDER BY name").fetchall(),
            root.execute("SELECT * FROM custom_indicators ORDER BY code").fetchall(),
            root.execute("SELECT count(*), sum(hash(dataset, geo, period, \"group\", value)) FROM observations").fetchall(),
            version(root))


# ------------------------------------------------------------------------------ problem classes

@pytest.mark.parametrize("name, expected", [
    ("problem_unknown_country.csv", [(3, "geo", "Germny", "unknown country"), (4, "geo", "Atlantis", "unknown country")]),
    ("problem_year_out_of_range.csv", [(3, "year", "2202", "out of range"), (4, "year", "1850", "out of range"),
                                       (5, "year", "2022/23", "not a year")]),
    ("problem_value_not_a_number.csv", [(3, "value", "sixty-four", "not a number"), (4, "value", "7O.2", "not a number"),
                                        (5, "value", "inf", "not a number")]),
    ("problem_duplicate.csv", [(2, "value", "79.1", "rows 2 and 4 have the same"),  # 'Germany' = 'DE'
                               (4, "value", "79.3", "(79.1 in row 2, 79.3 in row 4); both are rejected")]),
    ("problem_percentage_range.csv", [(3, "value", "164.0", "between 0 and 100"), (4, "value", "-3", "between 0 and 100")]),
    ("problem_share_mixed.csv", [(3, "value", "0.795", "0-1 share among percentages (0.795 would be 79.5%)")]),
    ("problem_dimensions_mixed.csv", [(3, "group", "Foreign-born", "compared with no native_born"),
                                      (5, "group", "born abroad", "compared with no native_born")]),
])
def test_each_problem_class_is_reported_with_row_column_value_and_what_to_do(root, name, expected):
    session, mapping = staged(root, name)
    report = session.validate(mapping)
    assert report.status == "rejected"
    found = [(p.row, p.column, p.value) for p in report.problems]
    assert found == [(row, column, value) for row, column, value, _ in expected]
    for problem, (_, _, _, words) in zip(report.problems, expected):
        assert words in problem.message
    assert report.rows_read == sum(1 for _ in (FILES / name).read_text().splitlines()) - 1


def test_a_real_small_percentage_is_not_taken_for_a_share(root):
    # Malta's 0.4 (row 6) stands alone; the 0.795 among Germany's percentages (row 3) is the slip.
    session, mapping = staged(root, "problem_share_mixed.csv")
    report = session.validate(mapping)
    assert [p.row for p in report.problems if p.kind == "share_mixed"] == [3]
    assert report.rows_usable == 4


def test_shares_declared_as_such_are_scaled_to_percentages(root):
    content = b"geo,year,group,value\nDE,2022,nationals,0.791\nDE,2022,non_nationals,0.64\n"
    session, mapping = staged(root, "shares.csv", content, value_scale=100.0)
    report = session.validate(mapping)
    assert report.status == "valid"
    assert sorted(session.observations()["value"].round(6)) == [64.0, 79.1]


def test_a_group_label_nobody_knows_is_reported_until_the_user_says_what_it_means(root):
    content = "geo;year;origine;valeur\nFR;2022;Français;66,0\nFR;2022;Immigrés récents;55,0\n".encode()
    session, mapping = staged(root, "fr.csv", content)
    report = session.validate(mapping)
    assert [(p.row, p.column, p.value, p.kind) for p in report.problems] == [(3, "origine", "Immigrés récents", "group")]
    mapping.group_labels["Immigrés récents"] = "non_nationals"
    report = session.validate(mapping)
    assert report.status == "valid"
    assert dict(zip(session.observations()["group"], session.observations()["value"])) == {"nationals": 66.0, "non_nationals": 55.0}


def test_unknown_places_can_be_given_a_code_or_left_out(root):
    session, mapping = staged(root, "problem_unknown_country.csv", place_labels={"Germny": "DEU", "Atlantis": ""})
    report = session.validate(mapping)
    assert report.status == "valid" and report.rows_left_out == 1
    assert list(session.observations()["geo"]) == ["DEU", "DEU"]


def test_a_file_that_is_not_a_table_ends_in_a_report(root):
    session = upload.UploadSession(root.cursor(), b"\x00\x01\x02\xff\xfe\x00binary", "photo.jpg")
    report = session.validate(upload.Mapping(indicator="work.employment_rate"))
    assert report.status == "rejected" and report.problems
    assert "photo.jpg" in report.problems[0].message


# ------------------------------------------------------------------------- load: all rows or none

def test_a_load_stores_every_row_with_its_provenance(root):
    content = (FILES / "title_and_notes.csv").read_bytes()
    session, mapping = staged(root, "title_and_notes.csv", content)
    before = version(root)
    report = session.load(mapping, upload.DatasetInfo(name="austria_mz", title="Mikrozensus", producer="Statistik Austria",
                                                      producer_type="official", licence="CC BY 4.0"))
    assert (report.status, report.rows_loaded) == ("loaded", 4)
    row = root.execute("SELECT kind, title, producer, producer_type, file_name, sha256, row_count, detection, mapping, "
                       "loaded_at FROM datasets WHERE name = 'austria_mz'").fetchall()[0]
    assert row[:7] == ("uploaded", "Mikrozensus", "Statistik Austria", "official", "title_and_notes.csv",
                       hashlib.sha256(content).hexdigest(), 4)
    detection, used = json.loads(row[7]), json.loads(row[8])
    assert (detection["encoding"], detection["header_row"], detection["delimiter"]) == ("cp1252", 4, ";")
    assert used["indicator"] == "work.employment_rate" and used["group_labels"]["Ausländer"] == "non_nationals"
    assert row[9] is not None
    stored = dict(root.execute("SELECT geo || ' ' || \"group\", value FROM observations WHERE dataset = 'austria_mz'").fetchall())
    assert stored == {"AUT nationals": 76.4, "AUT non_nationals": 67.9, "DEU nationals": 80.7, "DEU non_nationals": 68.8}
    assert version(root) == before + 1
    gaps = queries.fetch_gaps(root.cursor(), "work.employment_rate", geos=["AUT"], year=2022, dataset="austria_mz")
    assert gaps.squeeze()["disadvantage"] == pytest.approx(8.5)


def test_a_rejected_file_stores_nothing(root):
    before = snapshot(root)
    session, mapping = staged(root, "problem_value_not_a_number.csv")
    report = session.load(mapping, upload.DatasetInfo(name="broken"))
    assert report.status == "rejected" and report.rows_loaded == 0
    assert snapshot(root) == before


def test_the_usable_rows_can_be_loaded_when_the_user_leaves_the_rejected_rows_out(root):
    session, mapping = staged(root, "problem_value_not_a_number.csv")
    report = session.load(mapping, upload.DatasetInfo(name="partly"), allow_rejected=True)
    assert (report.status, report.rows_loaded, report.rows_rejected) == ("loaded", 1, 3)
    assert root.execute("SELECT geo, value FROM observations WHERE dataset = 'partly'").fetchall() == [("DEU", 79.1)]


def test_a_load_that_fails_inside_its_transaction_leaves_every_dataset_as_it_was(root):
    # 84 000 observations; the database is then given too little memory to write them, so the
    # transaction fails after it has begun inserting: it is rolled back, nothing of it stays.
    lines = ["geo,year,sex,group,value"] + [f"{code},{year},{sex},{group},{(year % 50) + 20}.5"
                                             for code in sorted(c.alpha_3 for c in __import__("pycountry").countries)[:200]
                                             for year in range(1990, 2025) for sex in "TFM"
                                             for group in ("nationals", "non_nationals", "native_born", "foreign_born")]
    session, mapping = staged(root, "large.csv", ("\n".join(lines) + "\n").encode())
    report = session.validate(mapping)
    assert report.status == "valid" and report.rows_usable == 84_000
    before = snapshot(root)
    root.execute("SET memory_limit = '2MB'")
    try:
        with pytest.raises(store.LoadError, match="nothing was stored"):
            store.commit_staged_upload(session.cursor, {"name": "large", "source": "Source: test", "licence": ""})
    finally:
        root.execute("RESET memory_limit")
    assert snapshot(root) == before  # no observation, no datasets row, the same data version
    assert store.commit_staged_upload(session.cursor, {"name": "large", "source": "Source: test", "licence": ""}) == 84_000


def test_a_name_that_exists_is_refused_unless_replaced(root):
    session, mapping = staged(root, "wide_years.csv")
    session.load(mapping, upload.DatasetInfo(name="wide"))
    again, mapping = staged(root, "group_columns.csv")
    with pytest.raises(store.UploadConflictError):
        again.load(mapping, upload.DatasetInfo(name="wide"))
    with pytest.raises(upload.UploadError):
        again.load(mapping, upload.DatasetInfo(name="LFSA_ERGAN"), replace=True)  # embedded data are not replaced
    report = again.load(mapping, upload.DatasetInfo(name="wide"), replace=True)
    assert report.rows_loaded == 6
    assert root.execute("SELECT count(*), count(DISTINCT geo) FROM observations WHERE dataset = 'wide'").fetchall() == [(6, 3)]


# ---------------------------------------------------------------------- dataset manager actions

def test_rename_and_delete_a_dataset(root):
    session, mapping = staged(root, "wide_years.csv")
    session.load(mapping, upload.DatasetInfo(name="wide"))
    start = version(root)
    store.rename_dataset(root, "wide", "wide_2023")
    assert root.execute("SELECT count(*) FROM observations WHERE dataset = 'wide_2023'").fetchall()[0][0] == 16
    assert root.execute("SELECT count(*) FROM datasets WHERE name = 'wide'").fetchall()[0][0] == 0
    with pytest.raises(ValueError):
        store.rename_dataset(root, "wide_2023", "LFSA_ERGAN")
    with pytest.raises(ValueError):
        store.delete_dataset(root, "LFSA_ERGAN")
    assert store.delete_dataset(root, "wide_2023") == 16
    assert root.execute("SELECT count(*) FROM observations WHERE dataset = 'wide_2023'").fetchall()[0][0] == 0
    assert version(root) == start + 2


def test_uploads_survive_a_restart(built_database, tmp_path):
    import shutil

    path = tmp_path / "restart.duckdb"
    shutil.copy(built_database, path)
    connection = store.open_database(path)
    session, mapping = staged(connection, "group_columns.csv")
    session.load(mapping, upload.DatasetInfo(name="kept", producer_type="civil_society"))
    connection.close()
    reopened = store.open_database(path)
    try:
        store.ensure_embedded_data(reopened)
        datasets = store.fetch_uploaded_datasets(reopened)
        assert list(datasets["name"]) == ["kept"] and list(datasets["producer_type"]) == ["civil_society"]
        assert int(datasets["observations"].iloc[0]) == 6
    finally:
        reopened.close()


# ------------------------------------------------------------------------ two sessions at once

def test_two_sessions_staging_at_once_never_see_each_other_s_unfinished_work(root):
    a, mapping_a = staged(root, "wide_years.csv")
    b, mapping_b = staged(root, "problem_unknown_country.csv")
    report_a, report_b = a.validate(mapping_a), b.validate(mapping_b)
    assert (report_a.rows_read, report_b.rows_read) == (16, 3)  # same TEMP table names, each its own rows
    assert a.cursor.execute("SELECT count(*) FROM upload_staged").fetchall()[0][0] == 16
    assert b.cursor.execute("SELECT count(*) FROM upload_staged").fetchall()[0][0] == 3
    with pytest.raises(duckdb.CatalogException):
        root.cursor().execute("SELECT count(*) FROM upload_staged")  # a third session sees no staging at all
    assert root.execute("SELECT count(*) FROM observations WHERE dataset LIKE 'session%'").fetchall()[0][0] == 0
    results = {}

    def load(name, session, mapping):
        results[name] = session.load(mapping, upload.DatasetInfo(name=name), allow_rejected=True)

    threads = [threading.Thread(target=load, args=("session_a", a, mapping_a)),
               threading.Thread(target=load, args=("session_b", b, mapping_b))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (results["session_a"].rows_loaded, results["session_b"].rows_loaded) == (16, 1)
    counts = dict(root.execute("SELECT dataset, count(*) FROM observations WHERE dataset LIKE 'session%' GROUP BY ALL").fetchall())
    assert counts == {"session_a": 16, "session_b": 1}


def test_an_open_load_transaction_is_invisible_to_other_sessions(root):
    session, mapping = staged(root, "wide_years.csv")
    session.validate(mapping)
    other = root.cursor()
    session.cursor.execute("BEGIN TRANSACTION")
    session.cursor.execute("INSERT INTO observations SELECT 'work.employment_rate', 'half_done', 'DEU', 'national', 2020, "
                           "'T', 'TOTAL', 'nationals', 'percent', 1, '', NULL, NULL, NULL, NULL")
    assert other.execute("SELECT count(*) FROM observations WHERE dataset = 'half_done'").fetchall()[0][0] == 0
    session.cursor.execute("ROLLBACK")
    assert other.execute("SELECT count(*) FROM observations WHERE dataset = 'half_done'").fetchall()[0][0] == 0


# --------------------------------------------------------------- indicators defined at upload

def test_an_indicator_defined_at_upload_is_stored_and_gives_gaps(root):
    content = ("district;year;group;share\n01;2023;nationals;12,5\n01;2023;non_nationals;31,0\n"
               "02;2023;nationals;10,0\n02;2023;non_nationals;22,0\n").encode()
    new = {"title": "Households without a regular GP", "unit": "percent", "polarity": "lower_is_better", "right": "health",
           "attribute": "accessibility_of_health_services", "type": "outcome", "source_type": "perception_survey",
           "producer_type": "civil_society"}
    session, mapping = staged(root, "gp.csv", content, indicator=None, new_indicator=new, place_level="local")
    report = session.load(mapping, upload.DatasetInfo(name="gp_survey", producer="Migrant health NGO", producer_type="civil_society"))
    assert report.status == "loaded" and report.rows_loaded == 4
    code = report.mapping["indicator"]
    assert code == "health.households_without_a_regular_gp"
    definition = queries.fetch_indicator(root, code)
    assert (definition["polarity"], definition["unit"], definition["producers"]) == ("lower_is_better", "percent", ["civil_society"])
    gaps = queries.fetch_gaps(root.cursor(), code, year=2023).set_index("geo")
    assert gaps.loc["01", "disadvantage"] == pytest.approx(18.5) and gaps.loc["02", "geo_level"] == "local"
    store.delete_dataset(root, "gp_survey")
    assert root.execute("SELECT count(*) FROM custom_indicators").fetchall()[0][0] == 0  # nothing else uses it


def test_a_new_indicator_must_be_complete(root):
    with pytest.raises(upload.UploadError, match="right"):
        upload.build_custom_indicator({"title": "Something measured", "unit": "percent", "polarity": "higher_is_better"})
    with pytest.raises(upload.UploadError, match="attribute"):
        upload.build_custom_indicator({"title": "Something measured", "unit": "percent", "polarity": "higher_is_better",
                                       "right": "work", "attribute": "child_health"})


# ---------------------------------------------------------------- uncertainty into the gaps

def test_standard_errors_from_a_heat_plus_file_give_confidence_intervals_of_the_gap(root, capsys, tmp_path):
    session, mapping = staged(root, "heat_plus.csv", indicator="health.unmet_need_for_medical_care")
    assert session.load(mapping, upload.DatasetInfo(name="heat")).rows_loaded == 4
    gaps = queries.fetch_gaps(root.cursor(), "health.unmet_need_for_medical_care", dataset="heat").set_index("geo")
    germany = gaps.loc["DEU"]
    assert germany["difference"] == pytest.approx(2.2)
    assert germany["difference_se"] == pytest.approx(math.sqrt(0.3 ** 2 + 0.6 ** 2))
    assert germany["difference_ci_lower"] == pytest.approx(2.2 - 1.959964 * math.sqrt(0.45), abs=1e-4)
    log_se = math.sqrt((0.6 / 4.3) ** 2 + (0.3 / 2.1) ** 2)
    assert germany["ratio_ci_upper"] == pytest.approx(4.3 / 2.1 * math.exp(1.959964 * log_se), rel=1e-4)


# ------------------------------------------------------------------------------ command line

def test_cli_read_prints_tidy_observations_and_the_detection(capsys):
    status = main(["read", str(FILES / "title_and_notes.csv"), "--indicator", "work.employment_rate", "--format", "json"])
    output = capsys.readouterr()
    rows = json.loads(output.out)
    assert status == 0
    assert {(r["geo"], r["group"], r["value"]) for r in rows} == {("AUT", "nationals", 76.4), ("AUT", "non_nationals", 67.9),
                                                                  ("DEU", "nationals", 80.7), ("DEU", "non_nationals", 68.8)}
    assert {"indicator", "geo", "geo_level", "period", "sex", "age", "group", "unit", "value", "flags"} <= set(rows[0])
    assert "header row 4" in output.err and "encoding cp1252" in output.err


def test_cli_read_takes_columns_group_labels_and_group_columns(capsys):
    status = main(["read", str(FILES / "group_columns.csv"), "--indicator", "work.employment_rate", "--group-column",
                   "nationals=nationals", "--group-column", "non_nationals=non_nationals", "--format", "json"])
    rows = json.loads(capsys.readouterr().out)
    assert status == 0
    assert {(r["geo"], r["group"], r["value"]) for r in rows if r["value"] is not None} == {
        ("AUT", "nationals", 77.5), ("AUT", "non_nationals", 68.1), ("BEL", "nationals", 68.0), ("BEL", "non_nationals", 56.3),
        ("CZE", "nationals", 75.9)}
    status = main(["read", str(FILES / "problem_dimensions_mixed.csv"), "--indicator", "work.employment_rate",
                   "--group-label", "Foreign-born=non_nationals", "--group-label", "born abroad=non_nationals",
                   "--column", "geo=geo", "--format", "json"])
    rows = json.loads(capsys.readouterr().out)
    assert status == 0 and {r["group"] for r in rows} == {"nationals", "non_nationals"}
    status = main(["read", str(FILES / "problem_dimensions_mixed.csv"), "--indicator", "work.employment_rate"])
    assert status == 2 and "compared with no native_born" in capsys.readouterr().err


def test_cli_load_reports_json_and_stores_all_or_nothing(built_database, tmp_path, capsys):
    import shutil

    path = tmp_path / "cli.duckdb"
    shutil.copy(built_database, path)
    status = main(["load", str(FILES / "problem_year_out_of_range.csv"), "--indicator", "work.employment_rate", "--db", str(path)])
    report = json.loads(capsys.readouterr().out)
    assert status == 2 and report["status"] == "rejected" and report["rows_loaded"] == 0
    assert [(p["row"], p["column"], p["value"]) for p in report["problems"]] == [(3, "year", "2202"), (4, "year", "1850"),
                                                                                 (5, "year", "2022/23")]
    status = main(["load", str(FILES / "wide_years.csv"), "--indicator", "work.employment_rate", "--dataset", "wide",
                   "--producer-type", "civil_society", "--db", str(path)])
    report = json.loads(capsys.readouterr().out)
    assert status == 0 and (report["status"], report["dataset"], report["rows_read"], report["rows_loaded"]) == ("loaded", "wide", 16, 16)
    assert report["detected"]["layout"] == "wide"
    assert main(["datasets", "--db", str(path)]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(d["name"], d["producer_type"], d["observations"]) for d in listed] == [("wide", "civil_society", 16)]
    assert main(["gaps", "--indicator", "work.employment_rate", "--dataset", "wide", "--geo", "DEU", "--db", str(path)]) == 0
    gaps = json.loads(capsys.readouterr().out)
    assert [(g["year"], g["reference_value"], g["value"]) for g in gaps] == [(2021, 80.0, 65.3)]  # 2022: non-nationals ':'
    assert main(["delete", "wide", "--db", str(path)]) == 0
    capsys.readouterr()
    assert main(["delete", "wide", "--db", str(path)]) == 2
    assert "no dataset named 'wide'" in capsys.readouterr().err


def test_cli_gaps_of_an_uploaded_dataset_add_the_uncertainty_columns(built_database, tmp_path, capsys):
    import shutil

    path = tmp_path / "heat.duckdb"
    shutil.copy(built_database, path)
    assert main(["load", str(FILES / "heat_plus.csv"), "--indicator", "health.unmet_need_for_medical_care", "--dataset", "heat",
                 "--db", str(path)]) == 0
    capsys.readouterr()
    assert main(["gaps", "--indicator", "health.unmet_need_for_medical_care", "--dataset", "heat", "--db", str(path)]) == 0
    rows = {row["geo"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["DEU"]["difference_se"] == pytest.approx(0.6708, abs=1e-4)
    assert {"difference_ci_lower", "difference_ci_upper", "ratio_ci_lower", "ratio_ci_upper"} <= set(rows["ESP"])


# ---------------------------------------------------------------- a new user's trial (duplicates, empty files, languages)

def test_an_exact_repeat_is_kept_once_and_a_conflict_rejects_every_row_it_names(root):
    # France 2023 nationals 70.1 twice (rows 2, 3: exact); non_nationals 55.5 and 60.0 (rows 4, 5: conflict)
    session, mapping = staged(root, "trial_duplicates_exact_and_conflicting.csv")
    report = session.validate(mapping)
    assert (report.rows_read, report.rows_usable, report.rows_rejected, report.rows_left_out, report.rows_repeated) == (4, 1, 2, 1, 1)
    assert report.problem_counts == {"duplicate": 2}
    assert [(p.row, p.value, p.kind) for p in report.problems] == [(4, "55.5", "duplicate"), (5, "60.0", "duplicate")]
    for problem in report.problems:
        assert "rows 4 and 5" in problem.message and "55.5 in row 4, 60.0 in row 5" in problem.message
        assert "keep the correct row and delete the other" in problem.message
    assert [(n.row, n.message) for n in report.notes] == [
        (3, "row 3 repeats row 2 exactly (same place, year, group, value and flags); kept once")]
    # all rows or none: the conflict blocks the load; leaving the rejected rows out stores row 2 once
    before = snapshot(root)
    assert session.load(mapping, upload.DatasetInfo(name="trial_dups")).status == "rejected"
    assert snapshot(root) == before
    loaded = session.load(mapping, upload.DatasetInfo(name="trial_dups"), allow_rejected=True)
    assert loaded.rows_loaded == 1
    assert root.execute("SELECT geo, \"group\", value FROM observations WHERE dataset = 'trial_dups'").fetchall() == [
        ("FRA", "nationals", 70.1)]


def test_a_file_of_exact_repeats_only_loads_each_observation_once(root):
    content = b"geo,year,group,value\nDE,2022,nationals,79.1\nDE,2022,nationals,79.1\nDE,2022,non_nationals,64.0\n"
    session, mapping = staged(root, "repeats.csv", content)
    report = session.load(mapping, upload.DatasetInfo(name="repeats"))
    assert report.status == "loaded" and report.rows_loaded == 2 and report.problems == []
    assert report.as_dict()["notes"][0]["message"].startswith("row 3 repeats row 2 exactly")


def test_the_same_value_with_different_flags_is_a_conflict(root):
    content = b"geo,year,group,value\nDE,2022,nationals,79.1\nDE,2022,nationals,79.1 b\nDE,2022,non_nationals,64.0\n"
    session, mapping = staged(root, "flags_differ.csv", content)
    report = session.validate(mapping)
    assert [(p.row, p.kind) for p in report.problems] == [(2, "duplicate"), (3, "duplicate")]
    assert "the same value with different flags" in report.problems[0].message
    assert "79.1 in row 2, 79.1 b in row 3" in report.problems[0].message


def test_a_file_with_a_header_and_no_rows_says_so(root):
    session, mapping = staged(root, "trial_header_only.csv")
    report = session.validate(mapping)
    assert report.status == "rejected" and report.rows_read == 0
    assert [p.kind for p in report.problems] == ["no_rows"]
    assert report.problems[0].message.startswith("trial_header_only.csv has a header line (country, year, group, value) "
                                                 "but no data rows")


def test_french_headers_are_guessed_and_the_group_column_is_read(root):
    session, mapping = staged(root, "trial_french_headers_latin1.csv")
    assert mapping.columns == {"geo": "pays", "period": "année", "group": "groupe", "value": "valeur"}
    report = session.validate(mapping)
    assert report.status == "valid" and report.rows_usable == 5
    frame = session.observations()
    assert dict(zip(zip(frame["geo"], frame["group"]), frame["value"])) == {
        ("FRA", "nationals"): 70.1, ("FRA", "non_nationals"): 55.5, ("DEU", "nationals"): 81.0,
        ("DEU", "non_nationals"): 67.2, ("CIV", "nationals"): 60.5}


@pytest.mark.parametrize("header, role", [("gruppe", "group"), ("grupo", "group"), ("gruppo", "group"), ("geschlecht", "sex"),
                                          ("sexo", "sex"), ("sesso", "sex"), ("âge", "age"), ("Alter", "age"), ("edad", "age"),
                                          ("età", "age"), ("idade", "age"), ("Land", "geo"), ("país", "geo"),
                                          ("paese", "geo"), ("Jahr", "period"), ("año", "period"), ("anno", "period"),
                                          ("ano", "period"), ("Wert", "value"), ("valor", "value"), ("valore", "value")])
def test_header_words_in_five_languages_are_guessed(header, role):
    assert upload._role_of(header) == role


def test_duplicates_explained_by_a_group_like_column_advise_mapping_it_as_the_group(root):
    session, mapping = staged(root, "trial_french_headers_latin1.csv")
    mapping.columns.pop("group")  # as if the header were not guessed
    report = session.validate(mapping)
    assert report.problem_counts == {"duplicate": 4}
    assert "the column 'groupe' has several values (nationaux, étrangers ...) that look like population groups: " \
           "map it as the population group column" in report.problems[0].message


def test_cli_prints_only_the_message_of_a_problem_of_the_whole_file(capsys, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert main(["read", str(empty), "--indicator", "work.employment_rate"]) == 2
    err = capsys.readouterr().err
    assert "  empty.csv: the file is empty" in err and "row None" not in err and "column None" not in err
    assert main(["read", str(FILES / "trial_duplicates_exact_and_conflicting.csv"), "--indicator", "work.employment_rate"]) == 2
    err = capsys.readouterr().err
    assert "  row 5, column 'value', value '60.0': conflicting duplicate: rows 4 and 5" in err
    assert "note: row 3 repeats row 2 exactly" in err


def test_the_downloadable_problems_name_the_file(root):
    session, mapping = staged(root, "trial_unknown_places.csv")
    frame = session.validate(mapping).problems_frame("trial_unknown_places.csv")
    assert list(frame.columns) == ["File", "Row", "Column", "Value", "What is wrong and what to do"]
    assert set(frame["File"]) == {"trial_unknown_places.csv"} and list(frame["Value"]) == ["Frnace", "Frnace", "Atlantis", "Atlantis"]


# ------------------------------------------------------------------------------ long cells

def _file_with_a_long_note(note_length: int, line_break_in_quotes: bool) -> bytes:
    """Six observations (Germany and Austria, 2021-2023 ... ) with a note column; row 3 holds a long
    note. With line_break_in_quotes the first note holds a quoted line break, so the file's records
    no longer match its lines and the Python reader reads it (not DuckDB's)."""
    first_note = '"two\nlines"' if line_break_in_quotes else "short"
    rows = ["geo,year,group,value,note", f"DEU,2023,nationals,79.8,{first_note}",
            f"DEU,2023,non_nationals,66.1,{'A' * note_length}", "AUT,2023,nationals,77.5,ok",
            "AUT,2023,non_nationals,68.1,ok", "BEL,2023,nationals,68.0,ok", "BEL,2023,non_nationals,56.3,ok"]
    return ("\n".join(rows) + "\n").encode()


@pytest.mark.parametrize("line_break_in_quotes", [False, True])
def test_a_cell_longer_than_python_s_csv_limit_loses_no_row(root, line_break_in_quotes):
    # A new user's trial: a 200,000-character note in the third row of six gave 'rows read 1' and a
    # valid report (Python's csv module stops at 131,072 characters a cell and the rest was dropped).
    content = _file_with_a_long_note(200_000, line_break_in_quotes)
    session, mapping = staged(root, "long_note.csv", content)
    report = session.validate(mapping)
    assert report.rows_read == 6 and report.rows_rejected == 0, [p.as_dict() for p in report.problems[:3]]
    values = sorted(zip(*(session.observations()[c] for c in ("geo", "group", "value"))))
    assert values == [("AUT", "nationals", 77.5), ("AUT", "non_nationals", 68.1), ("BEL", "nationals", 68.0),
                      ("BEL", "non_nationals", 56.3), ("DEU", "nationals", 79.8), ("DEU", "non_nationals", 66.1)]


def test_a_line_the_reader_cannot_read_rejects_the_file_and_names_the_line(root):
    # Should Python's csv module still fail on a record (here: its cell limit lowered on purpose), the
    # whole file is refused with the line named, never read up to that line and loaded as valid.
    import csv

    before = snapshot(root)
    limit = csv.field_size_limit(1000)
    try:
        session, mapping = staged(root, "long_note.csv", _file_with_a_long_note(5000, line_break_in_quotes=True))
        report = session.load(mapping, upload.DatasetInfo(name="long_note"))
    finally:
        csv.field_size_limit(limit)
    assert report.status == "rejected" and report.rows_loaded == 0
    assert any(p.row == 4 and "cannot be read from line 4" in p.message for p in report.problems), \
        [p.as_dict() for p in report.problems]
    assert snapshot(root) == before


# -------------------------------------------------------------- large tables (labels from a sample)

def _large_table(rows_per_place: int = 360) -> tuple[bytes, int, int]:
    """A tidy CSV over 1 MB (read by DuckDB) in which every label recurs, except two rows: Germany
    written once as 'Deutschland' (no 'DEU' anywhere) and one place 'Atlantis'. Returns (bytes,
    line of 'Deutschland', line of 'Atlantis')."""
    places = ["AUT", "BEL", "BGR", "CYP", "CZE", "DNK", "EST", "FIN", "FRA", "GRC", "HRV", "HUN", "IRL", "ITA",
              "LTU", "LUX", "LVA", "MLT", "NLD", "POL", "PRT", "ROU", "SVK", "SVN", "ESP", "SWE", "NOR", "CHE"]
    lines = ["indicator,geo,year,sex,age,group,value,flags,note"]
    for p, place in enumerate(places):
        for i in range(rows_per_place):  # 30 years x 2 age bands x 3 sexes x 2 groups
            year, age = 1990 + i // 12, ["Y15-64", "Y20-64"][i // 6 % 2]
            sex, group = ["T", "F", "M"][i // 2 % 3], ["nationals", "non_nationals"][i % 2]
            lines.append(f"work.employment_rate,{place},{year},{sex},{age},{group},{50 + (p * 7 + i) % 40}.5,,"
                         "a note that makes the file large enough to be read by DuckDB")
    german, atlantis = len(lines) + 1, len(lines) + 2
    lines += ["work.employment_rate,Deutschland,2001,T,Y15-64,nationals,80.1,,x",
              "work.employment_rate,Atlantis,2001,T,Y15-64,nationals,12.5,,x"]
    return ("\n".join(lines) + "\n").encode(), german, atlantis


def test_labels_read_from_a_sample_of_a_large_table_give_the_report_of_every_row(root, monkeypatch):
    # Tables of more than LOOKUP_SAMPLE_ROWS rows take their labels from a sample of rows first;
    # a label outside the sample (here two, on one row each) must make no difference to the report.
    content, german, atlantis = _large_table()
    assert len(content) > upload.FAST_PATH_BYTES

    def report_and_rows(sample_rows: int):
        monkeypatch.setattr(upload, "LOOKUP_SAMPLE_ROWS", sample_rows)
        session, mapping = staged(root, "large.csv", content)
        report = session.validate(mapping)
        return session, report, session.observations()

    sampled_session, sampled, sampled_rows = report_and_rows(1000)
    assert sampled_session.staged_rows > 1000 and sampled_session.staging == "duckdb"
    _, every_row, every_rows = report_and_rows(10**9)
    assert sampled.as_dict() == every_row.as_dict()
    assert sampled_rows.equals(every_rows)
    assert [(p.row, p.column, p.value) for p in sampled.problems] == [(atlantis, "geo", "Atlantis")]
    assert sampled_rows.loc[sampled_rows["source_row"] == german, "geo"].tolist() == ["DEU"]
    assert sampled.rows_usable == sampled.rows_read - 1 == 28 * 360 + 1


def test_a_large_table_whose_labels_all_recur_is_summarised_from_its_labels(root, monkeypatch):
    content, _, _ = _large_table()
    content = b"\n".join(line for line in content.split(b"\n") if b"Deutschland" not in line and b"Atlantis" not in line)
    monkeypatch.setattr(upload, "LOOKUP_SAMPLE_ROWS", 1000)
    session, mapping = staged(root, "large.csv", content)
    report = session.validate(mapping)
    assert report.status == "valid" and report.rows_usable == 28 * 360
    assert report.summary == {"indicators": ["work.employment_rate"], "groups": ["nationals", "non_nationals"],
                              "sexes": ["F", "M", "T"], "ages": ["Y15-64", "Y20-64"], "geo_levels": ["national"],
                              "places": 28, "first_year": 1990, "last_year": 2019}


# ------------------------------------------------------------------------------ warnings (nothing wrong with a row)

def test_values_between_0_and_1_for_a_percentage_indicator_are_pointed_out(root):
    # A new user's trial: 0.661, 0.798 ... loaded as 0.66% with no word (only mixed scales were caught).
    content = b"geo,year,group,value,age\nDEU,2023,non_nationals,0.661,Y15-64\nDEU,2023,nationals,0.798,Y15-64\n" \
              b"ITA,2023,non_nationals,0.612,Y15-64\nITA,2023,nationals,0.617,Y15-64\n"
    session, mapping = staged(root, "shares.csv", content)
    report = session.validate(mapping)
    assert report.status == "valid" and len(report.warnings) == 1
    assert "between 0 and 1 (0.612 to 0.798)" in report.warnings[0] and "0.798 meaning 79.8%" in report.warnings[0]
    mapping.value_scale = 100.0  # the user says they are shares
    report = session.validate(mapping)
    assert report.warnings == [] and sorted(session.observations()["value"]) == pytest.approx([61.2, 61.7, 66.1, 79.8])


def test_a_file_without_ages_for_an_indicator_given_by_age_band_is_pointed_out(root):
    content = b"country,year,group,value\nDE,2022,non_nationals,64.0\nDE,2022,nationals,78.9\n"
    session, mapping = staged(root, "no_age.csv", content)
    report = session.validate(mapping)
    assert report.status == "valid"
    [warning] = report.warnings
    assert "no age column" in warning and "'Employment rate of people aged 15-64'" in warning and "Y15-64" in warning
    mapping.fixed["age"] = "Y15-64"  # the age band of every row
    report = session.validate(mapping)
    assert report.warnings == [] and set(session.observations()["age"]) == {"Y15-64"}


def test_a_migrant_group_without_its_reference_group_is_pointed_out(root):
    content = b"geo,year,group,value,age\nDEU,2023,non_nationals,66,Y15-64\nFRA,2023,non_nationals,58,Y15-64\n"
    session, mapping = staged(root, "one_group.csv", content)
    report = session.validate(mapping)
    assert report.status == "valid"
    assert report.warnings == ["The file holds non_nationals but not nationals: no gap can be computed from this dataset "
                               "(gaps compare the two groups within one dataset); add the reference group's rows to see its gaps."]
    assert report.as_dict()["warnings"] == report.warnings


def test_the_command_line_prints_the_warnings_and_takes_an_age_for_every_row(built_database, tmp_path):
    import shutil

    database = tmp_path / "store.duckdb"
    shutil.copy(built_database, database)  # the embedded figures give the indicator's age bands
    path = tmp_path / "no_age.csv"
    path.write_text("country,year,group,value\nDE,2022,non_nationals,64.0\nDE,2022,nationals,78.9\n", encoding="utf-8")
    import subprocess
    import sys

    command = [sys.executable, "-m", "core", "load", str(path), "--indicator", "work.employment_rate", "--dry-run",
               "--format", "json", "--db", str(database)]
    plain = subprocess.run(command, capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
    assert plain.returncode == 0 and "warning: The file has no age column" in plain.stderr
    aged = subprocess.run(command + ["--age", "Y15-64"], capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
    assert aged.returncode == 0 and "warning:" not in aged.stderr
    assert json.loads(aged.stdout)["warnings"] == [] and json.loads(aged.stdout)["mapping"]["fixed"]["age"] == "Y15-64"
    assert json.loads(plain.stdout)["warnings"][0].startswith("The file has no age column")


def test_percentages_loaded_as_shares_say_the_x_100_is_the_cause(root):
    # A second user's trial: with 'values are 0-1 shares', 70.7 was rejected as 'outside 0-100' with no word of the x 100.
    content = b"geo,year,group,value,age\nDEU,2023,non_nationals,70.7,Y15-64\nDEU,2023,nationals,80.1,Y15-64\n"
    session, mapping = staged(root, "percent.csv", content, value_scale=100.0)
    report = session.validate(mapping)
    assert report.status == "rejected"
    [first, _] = report.problems
    assert first.row == 2 and first.value == "70.7"
    assert "'values are 0-1 shares' (x 100) makes this one 7070; untick it" in first.message
