"""The pages as a user meets them, run through app.py with Streamlit's AppTest on the real embedded data.

AppTest with st.navigation keeps the sidebar widgets only on the first run, so each test seeds the
selection through the URL (query parameters, as a copied link would) before its first run.
"""
from __future__ import annotations

import json

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests import conftest


def open_app(app_database, page: str | None = None, **query) -> AppTest:
    """app_database (the fixture) has set this test's own database; see tests.conftest.open_app."""
    return conftest.open_app(page, **query)


def figure(app: AppTest, index: int) -> dict:
    return json.loads(app.get("plotly_chart")[index].proto.spec)


def test_explore_shows_germany_2023_employment_gap_from_eurostat(app_database):
    app = open_app(app_database, right="work", indicator="work.employment_rate", year=2023, country="DEU")
    assert app.title[0].value == "Explore"
    assert app.subheader[0].value == "Employment rate of people aged 15-64"
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["Nationals"] == "79.7%"
    assert metrics["Non-nationals (all foreign citizens)"] == "65.8%"
    assert metrics["Disadvantage"] == "+13.9 pp"
    table = app.dataframe[0].value
    germany = table.loc[table["Code"] == "DEU"].iloc[0]
    assert germany["Difference (pp)"] == pytest.approx(-13.9)
    assert germany["Disadvantage (pp)"] == pytest.approx(13.9)
    assert germany["Source"] == "Source: Eurostat, dataset LFSA_ERGAN"
    # A national ranking holds no aggregate, and says how many countries it covers.
    assert not table["Level"].eq("regional").any()
    assert any(f"Ranking of {len(table)} countries" in m.value for m in app.markdown)


def test_explore_offers_the_table_shown_as_a_csv_download(app_database):
    # AppTest cannot read a download's bytes; the browser test downloads it and compares it with the table.
    app = open_app(app_database, right="work", indicator="work.unemployment_rate", year=2022, sex="F")
    table = app.dataframe[0].value
    assert set(table["Sex"]) == {"F"} and set(table["Year"]) == {2022}
    assert app.download_button[0].label == "Download this table (CSV)"
    assert app.download_button[0].proto.url.endswith(".csv")


def test_explore_map_is_an_offline_map_with_a_diverging_scale_centred_on_zero(app_database):
    app = open_app(app_database, right="work", indicator="work.employment_rate", year=2023)
    spec = figure(app, 0)
    assert spec["layout"]["map"]["style"] == "white-bg"
    disadvantage = next(t for t in spec["data"] if t.get("name") == "disadvantage")
    assert disadvantage["type"] == "choroplethmap"
    assert disadvantage["zmid"] == 0 and disadvantage["zmin"] == -disadvantage["zmax"]
    assert "DEU" in disadvantage["locations"]
    assert all(t["type"] in {"choroplethmap", "scattermap"} for t in spec["data"])  # no CDN-bound geo traces


def test_low_reliability_values_are_marked_on_map_and_ranking(app_database):
    app = open_app(app_database, right="work", indicator="work.unemployment_rate", year=2019)
    spec = figure(app, 0)
    assert any("low reliability" in (t.get("name") or "") for t in spec["data"])
    ranking = figure(app, 1)
    labels = [label for trace in ranking["data"] for label in (trace.get("y") or []) if isinstance(label, str)]
    assert any(label.endswith("(u)") for label in labels)


def test_global_level_shows_migrant_share_where_no_gap_exists(app_database):
    app = open_app(app_database, right="work", indicator="work.employment_rate", level="global")
    spec = figure(app, 0)
    context = next(t for t in spec["data"] if "share of population" in (t.get("name") or ""))
    assert "USA" in context["locations"] and "DEU" not in context["locations"]


def test_regional_level_shows_eu27_beside_its_members_not_ranked(app_database):
    app = open_app(app_database, right="health", indicator="health.bad_self_perceived_health", level="regional", year=2022)
    assert any("European Union - 27 countries" in m.value for m in app.markdown)
    table = app.dataframe[0].value
    assert "EU27_2020" in set(table["Code"])
    countries = table.loc[table["Level"] == "national"]
    assert any(f"Ranking of {len(countries)} countries" in m.value and "not ranked" in m.value for m in app.markdown)


def test_local_level_says_sub_national_data_come_from_uploads(app_database):
    app = open_app(app_database, level="local")
    assert any("upload" in info.value.lower() for info in app.info)


def test_unknown_values_in_a_link_fall_back_to_defaults(app_database):
    app = open_app(app_database, right="no-such-right", year="abc", sex="X", country="ZZZ")
    assert app.title[0].value == "Explore"
    assert app.subheader[0].value  # a default indicator is shown


def test_country_profile_lists_every_right_with_no_data_marked(app_database):
    app = open_app(app_database, page="pages/country.py", country="FRA")
    assert app.title[0].value == "Country profile: France"
    tables = [frame.value for frame in app.dataframe]
    everything = pd.concat(tables, ignore_index=True)
    employment = everything.loc[everything["Indicator"] == "Employment rate of people aged 15-64"].iloc[0]
    assert employment["Comparison"] == "Non-nationals (all foreign citizens) vs nationals"
    assert employment["Reference"].endswith("%") and employment["Disadvantage"].endswith("pp")
    assert (everything["Status"] == "no data").sum() > 20
    series = figure(app, 0)
    assert {trace["name"] for trace in series["data"]} >= {"Nationals", "Non-nationals (all foreign citizens)"}


def test_sources_page_lists_every_dataset_with_its_licence(app_database):
    app = open_app(app_database, page="pages/sources.py")
    table = app.dataframe[0].value
    assert {"LFSA_ERGAN", "EDAT_LFS_9912", "UNDESA_MIGRANT_STOCK_2020"} <= set(table["Dataset"])
    assert table.loc[table["Dataset"] == "UNDESA_MIGRANT_STOCK_2020", "Licence"].iloc[0] == "CC BY 3.0 IGO"
    assert any("percentage points" in m.value for m in app.markdown)


def test_values_of_a_link_that_are_not_among_the_choices_are_named_above_the_page(app_database):
    app = open_app(app_database, right="work", indicator="work.employment_rate", year=1850, sex="X", country="ZZZ")
    notice = next(w.value for w in app.warning if "not used from the link" in w.value)
    assert "year '1850'" in notice and "sex 'X'" in notice and "country 'ZZZ' (showing DEU)" in notice
    assert "indicator" not in notice  # valid values are not mentioned


def test_a_country_in_a_link_may_be_written_as_any_common_code_or_name(app_database):
    for written in ("fr", "FR", "France"):
        app = open_app(app_database, page="pages/country.py", country=written)
        assert app.title[0].value == "Country profile: France"
        assert not any("not used from the link" in w.value for w in app.warning)


def test_link_text_in_the_notice_is_shown_as_text_never_as_a_link(app_database):
    # A link's value is written back in the notice; markdown in it must not become a clickable
    # link to another host (found by a new user's trial: country=[Log in](http://evil.example)).
    app = open_app(app_database, country="[Log in](http://evil.example) **now**")  # the notice is drawn on the first run
    notice = next(w.value for w in app.warning if "not used from the link" in w.value)
    assert "\\[Log in\\](http\u2060://evil.example) \\*\\*now" in notice
    compare = open_app(app_database, page="pages/compare.py", places="FRA,[x](http://evil.example)", right="work")
    warning = next(w.value for w in compare.warning if "From the link" in w.value)
    assert "\\[x\\](http\u2060://evil.example)" in warning


def test_bare_web_addresses_in_link_values_are_not_turned_into_links(app_database):
    # A second user's trial: right=http://evil.example showed a live link (Streamlit's markdown links
    # bare addresses); a word joiner keeps it text.
    app = open_app(app_database, right="http://evil.example", country="www.evil.example")
    notice = next(w.value for w in app.warning if "not used from the link" in w.value)
    assert "'http\u2060://evil.example'" in notice and "'www\u2060.evil.example'" in notice
    assert "http://" not in notice and "www." not in notice


def test_places_of_a_compare_link_may_be_written_as_any_common_code_or_name(app_database):
    app = open_app(app_database, page="pages/compare.py", places="fr,Germany,it", right="work")
    assert app.session_state["cmp_places"] == ["FRA", "DEU", "ITA"]
    assert not any("left out" in w.value for w in app.warning)


def test_every_page_file_is_named_as_its_url_path():
    # On a fresh server Streamlit resolves a deep link against the pages/ folder's file names before
    # app.py's navigation has run; a file named otherwise than its URL path brings up a
    # "Page not found" dialog over the page (seen with pages/country_profile.py behind /country).
    # Explore, the default page, lives at the root URL; a hidden page answers its file's name, /explore.
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    calls = [node for node in ast.walk(ast.parse((root / "app.py").read_text(encoding="utf-8")))
             if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "Page"]

    def keyword(call, name):
        return next((ast.literal_eval(k.value) for k in call.keywords if k.arg == name), None)

    files = {ast.literal_eval(call.args[0]): keyword(call, "url_path") for call in calls if isinstance(call.args[0], ast.Constant)}
    defaults = [ast.literal_eval(call.args[0]) for call in calls if keyword(call, "default")]
    hidden = {keyword(call, "url_path") for call in calls if keyword(call, "visibility") == "hidden"}
    assert len(files) == 8 and defaults == ["pages/explore.py"] and files["pages/explore.py"] == ""
    assert "explore" in hidden
    assert {Path(path).stem: url for path, url in files.items() if Path(path).stem != url and path not in defaults} == {}
    assert sorted(p.name for p in (root / "pages").glob("*.py")) == sorted(Path(path).name for path in files)
