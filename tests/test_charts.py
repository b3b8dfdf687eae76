"""The figure builders on real gaps: every figure passes plotly's full validation (the builders skip
it for speed, see core.charts._figure) and shows what the user reads off it."""
from __future__ import annotations

import json

import plotly.graph_objects as go
import pytest

from core import boundaries, charts, queries, store
from core.catalogue import load_default_catalogue


@pytest.fixture(scope="module")
def connection(built_database):
    connection = store.open_database(built_database)
    yield connection
    connection.close()


def gaps_for(connection, indicator: str, year: int, group: str = "non_nationals", sex: str = "T"):
    return queries.fetch_gaps(connection.cursor(), indicator, year=year, sex=sex, group=group,
                              catalogue=load_default_catalogue())


def validated(figure: go.Figure) -> dict:
    """The figure as the browser receives it, checked to be exactly what plotly's full validation
    makes of it (raises ValueError on an invalid property; a difference means the page would send
    something validation would have changed, such as a colour-scale name plotly.js does not know)."""
    sent = json.loads(figure.to_json())
    assert sent == json.loads(go.Figure(figure.to_dict()).to_json())
    return sent


def trace(spec: dict, name: str) -> dict:
    return next(t for t in spec["data"] if t.get("name") == name)


def test_europe_map_colours_each_country_by_its_disadvantage_and_fades_low_reliability(connection):
    gaps = gaps_for(connection, "work.unemployment_rate", 2019)
    national = gaps.loc[gaps["geo_level"] == "national"].set_index("geo")
    assert national["low_reliability"].any()  # the real 2019 data hold u-flagged values
    figure = charts.build_gap_map(gaps, boundaries.load_world_boundaries(), boundaries.load_world_points(), "percent",
                                  "Non-nationals", "Nationals", view="europe", highlight="DEU",
                                  geojson_url=boundaries.WORLD_GEOJSON_URL)
    spec = validated(figure)
    assert spec["layout"]["map"]["style"] == "white-bg"
    disadvantage = trace(spec, "disadvantage")
    shown = dict(zip(disadvantage["locations"], disadvantage["z"]))
    assert shown["DEU"] == pytest.approx(national.loc["DEU", "disadvantage"])
    assert disadvantage["zmin"] == -disadvantage["zmax"] and disadvantage["zmid"] == 0
    scale = disadvantage["colorscale"]  # red at the top (migrants worse off), blue at the bottom
    assert scale[-1][1] == "rgb(103,0,31)" and scale[0][1] == "rgb(5,48,97)"
    assert disadvantage["zmax"] == pytest.approx(national["disadvantage"].abs().max())
    opacity = dict(zip(disadvantage["locations"], disadvantage["marker"]["opacity"]))
    faded = [geo for geo in shown if national.loc[geo, "low_reliability"]]
    assert faded and all(opacity[geo] == 0.4 for geo in faded)
    assert all(opacity[geo] == 0.95 for geo in shown if geo not in faded)
    germany = disadvantage["text"][disadvantage["locations"].index("DEU")]
    assert "<b>Germany</b> (2019)" in germany and "Disadvantage: " in germany
    assert len(trace(spec, "low reliability (flag u), faded")["lon"]) == int(national["low_reliability"].sum())
    # Germany, the chosen country, is drawn last in the same layer with a black outline
    assert disadvantage["locations"][-1] == "DEU"
    assert disadvantage["marker"]["line"]["color"][-1] == "#000000" and disadvantage["marker"]["line"]["width"][-1] == 2.5
    assert set(disadvantage["marker"]["line"]["color"][:-1]) == {"#ffffff"}
    assert not any(t.get("name") == "chosen country" for t in spec["data"])
    assert "FRA" in trace(spec, "no data")["locations"]  # the grey background of the Europe view
    assert disadvantage["geojson"] == boundaries.WORLD_GEOJSON_URL  # referenced, not embedded
    # one spelling of the URL per layer: plotly.js would make the other layers wait for one fetch (5 s at most)
    layers = [t["geojson"] for t in spec["data"] if t["type"] == "choroplethmap"]
    assert len(set(layers)) == len(layers) and all(url.startswith(boundaries.WORLD_GEOJSON_URL) for url in layers)


def test_small_states_are_also_drawn_as_points(connection):
    gaps = gaps_for(connection, "work.employment_rate", 2023)
    world = boundaries.load_world_boundaries()
    small = charts.small_polygon_codes(world)
    expected = set(gaps["geo"]) & small
    assert expected  # Luxembourg or Malta have data
    spec = validated(charts.build_gap_map(gaps, world, boundaries.load_world_points(), "percent", "a", "b"))
    points = trace(spec, "small states (points)")
    assert len(points["lon"]) == len(expected)
    national = gaps.set_index("geo")
    assert sorted(points["marker"]["color"]) == pytest.approx(sorted(national.loc[sorted(expected), "disadvantage"]))


def test_world_map_shades_context_where_no_gap_exists(connection):
    gaps = gaps_for(connection, "work.employment_rate", 2023)
    shares = queries.fetch_observations(connection.cursor(), "context.migrant_share_of_population", groups=["total"],
                                        sex="T", period=2020)
    context = queries.add_place_names(shares[["geo", "value"]])
    spec = validated(charts.build_gap_map(gaps, boundaries.load_world_boundaries(), boundaries.load_world_points(),
                                          "percent", "a", "b", view="world", context=context, context_label="Share"))
    shaded = trace(spec, "Share")
    assert "USA" in shaded["locations"] and "DEU" not in shaded["locations"]
    assert shaded["customdata"][shaded["locations"].index("USA")] == ["United States"]


def test_dumbbell_ranks_countries_by_disadvantage_with_aggregates_apart(connection):
    gaps = gaps_for(connection, "health.bad_self_perceived_health", 2022)
    assert (gaps["geo_level"] == "regional").any()
    spec = validated(charts.build_dumbbell(gaps, "percent", "Non-nationals", "Nationals", highlight="FRA"))
    markers = trace(spec, "Non-nationals")
    aggregates = int((gaps["geo_level"] == "regional").sum())
    labels = markers["y"]
    assert all(label.startswith("▸ ") for label in labels[:aggregates])
    countries = gaps.loc[gaps["geo_level"] == "national"].sort_values("disadvantage")
    assert [label.removeprefix("▶ ").removesuffix(" (u)") for label in labels[aggregates:]] == countries["geo_name"].tolist()
    assert "▶ France" in " ".join(labels)
    assert markers["x"][labels.index(next(l for l in labels if "France" in l))] == pytest.approx(
        countries.set_index("geo").loc["FRA", "value"])
    assert spec["layout"]["shapes"][0]["y0"] == aggregates - 0.5  # the dotted line between aggregates and countries


def test_empty_gaps_give_an_empty_ranking():
    import pandas as pd

    assert charts.build_dumbbell(pd.DataFrame(), "percent", "a", "b").data == ()


def test_time_series_shows_both_groups_year_by_year_with_gaps_in_the_years_left_open(connection):
    from core import gaps as gap_engine

    observations = queries.fetch_observations(connection.cursor(), "work.employment_rate", geos=["DEU"], sex="T",
                                              age="Y15-64", groups=["nationals", "non_nationals"])
    series = gap_engine.compute_gap_series(observations, "higher_is_better")
    series = series.loc[series["year"] != 2015]  # a year without data inside the range
    spec = validated(charts.build_time_series(series, "percent", "Non-nationals", "Nationals", title="Germany"))
    nationals, non_nationals = trace(spec, "Nationals"), trace(spec, "Non-nationals")
    assert nationals["x"] == list(range(int(series["year"].min()), int(series["year"].max()) + 1))
    position = nationals["x"].index(2015)
    assert nationals["y"][position] is None and non_nationals["y"][position] is None  # the line breaks there
    latest = series.loc[series["year"] == 2023].iloc[0]
    assert non_nationals["y"][nationals["x"].index(2023)] == pytest.approx(latest["value"])
    assert non_nationals["customdata"][nationals["x"].index(2023)][0] == pytest.approx(latest["disadvantage"])
    assert spec["layout"]["title"]["text"] == "Germany"
