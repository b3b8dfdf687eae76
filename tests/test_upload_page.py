"""The upload flow as an analyst meets it (Streamlit AppTest through app.py): choose a file, read the
report, correct, load; a rejected file names row and column and leaves the database unchanged; the
dataset manager renames and deletes. Each test has its own database file (conftest.app_database)."""
from __future__ import annotations

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT, open_app

CITY_SURVEY = ("place;year;citizenship;share_with_a_doctor\n"
               "Germany;2023;Nationaux;81,5\n"
               "Germany;2023;Ausländer;64,0\n"
               "France;2023;Nationaux;77,0\n"
               "France;2023;Ausländer;70,5\n").encode("utf-8")

#: Row 4 of this file has a value that is not a number, row 5 a place nobody knows.
BROKEN = ("geo,year,group,value\n"
          "DE,2022,nationals,79.1\n"
          "DE,2022,non_nationals,64.0\n"
          "FR,2022,nationals,sixty\n"
          "Atlantis,2022,non_nationals,58.2\n").encode("utf-8")


def open_upload_page(app_database) -> AppTest:
    """The Upload page on this test's own database (tests.conftest.open_app clears the caches first)."""
    return open_app(page="pages/upload.py")


def stored(path) -> tuple[list, list, int]:
    """(datasets rows, uploaded observations, total observations) read straight from the database file."""
    connection = duckdb.connect(str(path))  # the same configuration as the app's own connection, if still open
    try:
        datasets = connection.execute("SELECT name, kind FROM datasets ORDER BY name").fetchall()
        uploaded = connection.execute("SELECT dataset, geo, \"group\", value FROM observations WHERE dataset IN "
                                      "(SELECT name FROM datasets WHERE kind = 'uploaded') ORDER BY geo, \"group\"").fetchall()
        total = connection.execute("SELECT count(*) FROM observations").fetchall()[0][0]
        return datasets, uploaded, total
    finally:
        connection.close()


def close_app(app: AppTest) -> None:
    """Release the app's database file (its cached root connection) so the test can read it."""
    import streamlit as st

    st.cache_resource.clear()


def test_the_whole_upload_flow_loads_a_semicolon_decimal_comma_file_with_french_and_german_labels(app_database):
    app = open_upload_page(app_database)
    assert app.title[0].value == "Upload your data"
    app.file_uploader[0].set_value(("city.csv", CITY_SURVEY, "text/csv")).run()
    assert not app.exception, app.exception
    # detection: semicolon, decimal comma, shown and correctable
    assert widget(app, "selectbox", "fmt_delimiter_").value == ";"
    assert widget(app, "selectbox", "fmt_decimal_").value == ","
    # mapping guesses: place, year, group (labels in French and German), value
    roles = {w.key.split("_")[1]: w.value for w in app.selectbox if (w.key or "").startswith("role_")}
    assert roles["geo"] == "place" and roles["period"] == "year" and roles["group"] == "citizenship"
    assert roles["value"] == "share_with_a_doctor"
    # no indicator yet: nothing can be loaded
    load = next(b for b in app.button if b.label == "Load the dataset")
    assert load.disabled
    indicator = widget(app, "selectbox", "indicator_")
    indicator.set_value("health.unmet_need_for_medical_care").run()
    assert not app.exception, app.exception
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Rows read"] == "4" and metrics["Usable"] == "4" and metrics["Rejected"] == "0"
    widget(app, "text_input", "dataset_name_").set_value("city_survey_2023").run()
    next(b for b in app.button if b.label == "Load the dataset").click().run()
    assert not app.exception, app.exception
    assert any("Loaded 'city_survey_2023': 4 observations" in s.value for s in app.success)
    close_app(app)
    datasets, uploaded, _ = stored(app_database)
    assert ("city_survey_2023", "uploaded") in datasets
    assert [(geo, group, value) for _, geo, group, value in uploaded] == [
        ("DEU", "nationals", 81.5), ("DEU", "non_nationals", 64.0), ("FRA", "nationals", 77.0), ("FRA", "non_nationals", 70.5)]


def test_a_rejected_file_names_row_and_column_and_leaves_the_database_unchanged(app_database):
    before = stored(app_database)
    app = open_upload_page(app_database)
    app.file_uploader[0].set_value(("broken.csv", BROKEN, "text/csv")).run()
    indicator = widget(app, "selectbox", "indicator_")
    indicator.set_value("work.employment_rate").run()
    assert not app.exception, app.exception
    problems = next(d.value for d in app.dataframe if "What is wrong and what to do" in d.value.columns)
    by_row = {int(r["Row"]): r for r in problems.to_dict("records")}
    assert by_row[4]["Column"] == "value" and by_row[4]["Value"] == "sixty"
    assert "not a number" in by_row[4]["What is wrong and what to do"]
    assert by_row[5]["Column"] == "geo" and by_row[5]["Value"] == "Atlantis"
    assert "unknown country" in by_row[5]["What is wrong and what to do"]
    full = next(m.value for m in app.markdown if m.value.startswith("- row 4"))  # the whole text, not cut by a cell
    assert full.startswith("- row 4, column 'value', value 'sixty': ") and by_row[4]["What is wrong and what to do"] in full
    assert "- row 5, column 'geo', value 'Atlantis': " in full
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Rows read"] == "4" and metrics["Rejected"] == "2" and metrics["Usable"] == "2"
    load = next(b for b in app.button if b.label == "Load the dataset")
    assert load.disabled  # rejected: nothing can be stored unless the user leaves the bad rows out
    close_app(app)
    assert stored(app_database) == before


def widget(app: AppTest, kind: str, prefix: str):
    """The page's widget of this kind whose key starts with prefix (keys end with the file's token)."""
    return next(w for w in getattr(app, kind) if (w.key or "").startswith(prefix))


def load_into(path, file_name: str, indicator: str, name: str, **changes) -> None:
    """Load one of tests/files into the database file as an uploaded dataset (core only)."""
    from core import store, upload

    files = ROOT / "tests" / "files"
    connection = store.open_database(path)
    try:
        codes = store.fetch_boundary_codes(connection)
        session = upload.UploadSession(connection.cursor(), (files / file_name).read_bytes(), file_name)
        mapping = session.guess_mapping(set().union(*codes.values()) if codes else None)
        mapping.indicator = indicator
        for key, value in changes.items():
            setattr(mapping, key, value)
        report = session.load(mapping, upload.DatasetInfo(name=name, producer="City of Example", producer_type="civil_society",
                                                          source="Source: City of Example, labour survey"), boundary_codes=codes)
        assert report.status == "loaded", report.problems[:3]
    finally:
        connection.close()


def store_nuts_boundaries(path) -> None:
    from core import boundaries, store

    content = (ROOT.parent / "shared" / "data" / "boundaries" / "nuts-2021" / "NUTS_RG_20M_2021_4326_LEVL_2.geojson").read_bytes()
    geojson, used = boundaries.read_uploaded_boundaries(content, "NUTS_RG_20M_2021_4326_LEVL_2.geojson")
    connection = store.open_database(path)
    try:
        assert store.save_boundaries(connection, "nuts2", "NUTS_RG_20M_2021_4326_LEVL_2.geojson", "x", used, geojson) == 333
    finally:
        connection.close()


def test_explore_at_the_local_level_maps_and_ranks_uploaded_units(app_database):
    store_nuts_boundaries(app_database)
    load_into(app_database, "local_nuts2.csv", "work.employment_rate", "regions_2022")
    app = open_app(right="work", indicator="work.employment_rate", level="local", year="2022")
    assert app.subheader[0].value == "Employment rate of people aged 15-64"
    table = next(d.value for d in app.dataframe if "Code" in d.value.columns)
    by_code = table.set_index("Code")
    assert sorted(by_code.index) == ["AT13", "DE21", "DE30", "FR10"]
    assert by_code.loc["DE30", "Place"] == "Berlin"  # the name comes from the uploaded boundaries
    assert by_code.loc["DE30", "Disadvantage (pp)"] == pytest.approx(17.3)
    assert list(table["Code"])[0] == "DE30"  # ranked by disadvantage: Berlin's 17.3 pp first
    assert any("Ranking of 4 local units" in m.value for m in app.markdown)
    assert any("Boundaries: 'nuts2' (uploaded)" in c.value for c in app.caption)
    assert any("(uploaded; civil society)" in c.value for c in app.caption)
    assert len(app.get("plotly_chart")) == 2  # the map and the ranking


def test_explore_at_the_local_level_without_uploads_keeps_the_plain_message(app_database):
    app = open_app(level="local")
    assert any("come from files you upload" in i.value for i in app.info)
    assert not app.get("plotly_chart")


def test_the_dataset_manager_lists_renames_and_deletes_an_upload(app_database):
    load_into(app_database, "wide_years.csv", "work.employment_rate", "wide_survey")
    app = open_app(page="pages/datasets.py")
    listed = app.dataframe[0].value
    row = listed.set_index("Dataset").loc["wide_survey"]
    assert (row["Official or civil society"], row["Observations"], row["Years"]) == ("Civil society", 16, "2019-2022")
    widget(app, "text_input", "rename_").set_value("wide_2019_2022").run()
    next(b for b in app.button if b.label == "Rename").click().run()
    assert not app.exception, app.exception
    assert list(app.dataframe[0].value["Dataset"]) == ["wide_2019_2022"]
    widget(app, "checkbox", "delete_sure_").check().run()
    next(b for b in app.button if b.label == "Delete").click().run()
    assert not app.exception, app.exception
    assert any("No uploaded dataset yet" in i.value for i in app.info)
    close_app(app)
    assert stored(app_database)[1] == []


def test_an_uploaded_dataset_appears_on_the_sources_page_marked_as_uploaded(app_database):
    load_into(app_database, "group_columns.csv", "work.employment_rate", "city_groups")
    app = open_app(page="pages/sources.py")
    table = app.dataframe[0].value.set_index("Dataset")
    assert table.loc["city_groups", "Kind"] == "uploaded"
    assert table.loc["city_groups", "Official or civil society"] == "civil_society"


def test_boundaries_of_local_units_are_uploaded_and_stored(app_database):
    content = (ROOT.parent / "shared" / "data" / "boundaries" / "nuts-2021" / "NUTS_RG_20M_2021_4326_LEVL_2.geojson").read_bytes()
    app = open_upload_page(app_database)
    app.file_uploader[0].set_value(("NUTS_RG_20M_2021_4326_LEVL_2.geojson", content, "application/geo+json")).run()
    assert not app.exception, app.exception
    assert any("333 units, keyed by the property 'NUTS_ID'" in s.value for s in app.success)
    app.text_input(key="boundaries_name").set_value("nuts2_2021").run()
    next(b for b in app.button if b.label == "Store the boundaries").click().run()
    assert not app.exception, app.exception
    assert any("Stored 333 units as 'nuts2_2021'" in s.value for s in app.success)
    close_app(app)
    connection = duckdb.connect(str(app_database))
    try:
        stored_codes = connection.execute("SELECT name, feature_count, code_property FROM boundaries").fetchall()
    finally:
        connection.close()
    assert stored_codes == [("nuts2_2021", 333, "NUTS_ID")]


# ------------------------------------------------------------------ a new user's trial of the upload page

TRIAL = ROOT / "tests" / "files"


def upload_trial_file(app_database, name: str, indicator: str | None = "work.employment_rate") -> AppTest:
    app = open_upload_page(app_database)
    app.file_uploader[0].set_value((name, (TRIAL / name).read_bytes(), "text/csv")).run()
    assert not app.exception, app.exception
    if indicator:
        widget(app, "selectbox", "indicator_").set_value(indicator).run()
        assert not app.exception, app.exception
    return app


def test_every_rejected_duplicate_row_is_listed_under_the_file_s_name_and_an_exact_repeat_is_kept_once(app_database):
    app = upload_trial_file(app_database, "trial_duplicates_exact_and_conflicting.csv")
    metrics = {m.label: m.value for m in app.metric}
    assert (metrics["Rows read"], metrics["Usable"], metrics["Rejected"], metrics["Left out on purpose"]) == ("4", "1", "2", "1")
    assert any(e.value.startswith("2 row(s) rejected (conflicting duplicate (every row of it): 2 row(s))") for e in app.error)
    problems = next(d.value for d in app.dataframe if "What is wrong and what to do" in d.value.columns)
    assert list(problems["Row"]) == [4, 5]
    assert all("55.5 in row 4, 60.0 in row 5" in m for m in problems["What is wrong and what to do"])
    assert any("Problems in trial_duplicates_exact_and_conflicting.csv" in c.value for c in app.caption)
    assert any("row 3 repeats row 2 exactly" in i.value and "kept once" in i.value for i in app.info)
    assert any(c.value.startswith("Fix the problems above") for c in app.caption)


def test_when_every_row_is_rejected_the_load_area_says_so(app_database):
    app = upload_trial_file(app_database, "trial_unknown_places.csv")
    assert next(b for b in app.button if b.label == "Load the dataset").disabled
    captions = [c.value for c in app.caption]
    assert any(c.startswith("Nothing can be loaded: every row has a problem (4 rejected") for c in captions)
    assert not any("say what the columns mean" in c for c in captions)


def test_a_header_only_file_says_it_has_no_data_rows(app_database):
    app = upload_trial_file(app_database, "trial_header_only.csv", indicator=None)
    assert any("trial_header_only.csv has a header line" in e.value and "no data rows" in e.value for e in app.error)
    assert not any("left out by the filters" in i.value for i in app.info)
    assert any(c.value == "Nothing to load: the file has a header but no data rows." for c in app.caption)


def test_an_empty_file_shows_no_detection_summary(app_database):
    app = open_upload_page(app_database)
    app.file_uploader[0].set_value(("empty.csv", b"", "text/csv")).run()
    assert not app.exception, app.exception
    assert any("the file is empty" in e.value for e in app.error)
    assert not any("None" in c.value or "Text file" in c.value for c in app.caption)


def test_the_detection_summary_is_capitalised(app_database):
    app = open_upload_page(app_database)
    app.file_uploader[0].set_value(("good.csv", b"geo,year,group,value\nDE,2022,nationals,79.1\n", "text/csv")).run()
    assert any(c.value == "Text file (UTF-8), comma , delimiter, header in line 1. Nothing unusual." for c in app.caption)


def test_the_page_points_out_a_file_without_ages_and_takes_the_age_band_of_every_row(app_database):
    app = open_upload_page(app_database)
    app.file_uploader[0].set_value(("no_age.csv", b"country,year,group,value\nDE,2022,non_nationals,64.0\n"
                                                  b"DE,2022,nationals,78.9\n", "text/csv")).run()
    widget(app, "selectbox", "indicator_").set_value("work.employment_rate").run()
    assert not app.exception, app.exception
    assert any("no age column" in w.value and "Y15-64" in w.value for w in app.warning)
    assert any(s.value.startswith("No problems") for s in app.success)  # a warning, not a rejection
    widget(app, "text_input", "fixed_age_").set_value("Y15-64").run()
    assert not any("no age column" in w.value for w in app.warning)
    assert any("age Y15-64" in c.value for c in app.caption)  # the summary of the usable rows
    close_app(app)


def test_an_uploaded_age_label_with_a_link_is_shown_as_text_on_explore_and_upload(app_database):
    # A second user's trial: an age column holding [click](http://evil.example) became a link in
    # Explore's line under the title and in the upload summary.
    from core import store, upload

    content = (b"geo,year,group,value,age\nDE,2021,nationals,79.1,[click](http://evil.example)\n"
               b"DE,2021,non_nationals,64.0,[click](http://evil.example)\n")
    connection = store.open_database(app_database)
    try:
        session = upload.UploadSession(connection.cursor(), content, "evilage.csv")
        mapping = session.guess_mapping()
        mapping.indicator = "work.employment_rate"
        report = session.load(mapping, upload.DatasetInfo(name="evilage"))
        assert report.status == "loaded", report.problems[:3]
    finally:
        connection.close()
    app = open_app(right="work", indicator="work.employment_rate", dataset="evilage", year=2021)
    line = next(m.value for m in app.markdown if "compared with" in m.value and "2021" in m.value)
    assert "\\[click\\](http\u2060://evil.example)" in line and "[click](http://" not in line
    page = open_upload_page(app_database)
    page.file_uploader[0].set_value(("evilage.csv", content, "text/csv")).run()
    widget(page, "selectbox", "indicator_").set_value("work.employment_rate").run()
    summary = next(c.value for c in page.caption if c.value.startswith("Usable rows"))
    assert "\\[click\\](http\u2060://evil.example)" in summary
    close_app(page)
