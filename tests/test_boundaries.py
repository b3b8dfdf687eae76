"""World boundaries (data/boundaries, built by scripts/build_boundaries.py) and uploaded GeoJSON."""
from __future__ import annotations

import json
from pathlib import Path

import pycountry
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.boundaries import (
    BoundariesError,
    build_antimeridian_safe,
    list_countries_without_polygon,
    load_world_boundaries,
    load_world_points,
    read_uploaded_boundaries,
)

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
WORLD = REPO / "static" / "boundaries" / "world.geojson"
POINTS = REPO / "data" / "boundaries" / "world_points.csv"
NUTS2 = SHARED / "data" / "boundaries" / "nuts-2021" / "NUTS_RG_20M_2021_4326_LEVL_2.geojson"


def _rings(geometry: dict) -> list[list]:
    if geometry["type"] == "Polygon":
        return list(geometry["coordinates"])
    return [ring for polygon in geometry["coordinates"] for ring in polygon]


def _features_by_id() -> dict[str, dict]:
    return {f["id"]: f for f in load_world_boundaries()["features"]}


def test_world_geojson_exists_and_is_small():
    assert WORLD.is_file()
    assert WORLD.stat().st_size < 500_000


def test_world_is_a_feature_collection_keyed_by_alpha3():
    world = load_world_boundaries()
    assert world["type"] == "FeatureCollection"
    ids = [f["id"] for f in world["features"]]
    assert len(ids) == len(set(ids))
    for feature in world["features"]:
        code = feature["id"]
        assert code == "XKX" or pycountry.countries.get(alpha_3=code) is not None, code
        assert feature["properties"]["iso_a3"] == code
        assert feature["properties"]["name"]
        assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")


def test_world_has_the_big_and_the_awkward_countries():
    features = _features_by_id()
    for code in ("DEU", "FRA", "RUS", "FJI", "USA", "BRA", "NAM", "XKX"):
        assert code in features, code
    assert features["XKX"]["properties"]["name"] == "Kosovo"


def test_antarctica_is_left_out():
    assert "ATA" not in _features_by_id()


@pytest.mark.parametrize("code", ["RUS", "FJI"])
def test_no_stripe_across_the_world(code):
    geometry = _features_by_id()[code]["geometry"]
    lons = []
    for ring in _rings(geometry):
        for (x0, _), (x1, _) in zip(ring, ring[1:]):
            assert abs(x1 - x0) <= 180, f"{code}: edge {x0} -> {x1} crosses the whole map"
        lons.extend(x for x, _ in ring)
    assert -180 <= min(lons) and max(lons) <= 180
    # both sides of the 180th meridian are there: the country was split, not cut off
    assert min(lons) < -170 and max(lons) > 170


def test_no_edge_spans_half_the_world_anywhere():
    for feature in load_world_boundaries()["features"]:
        for ring in _rings(feature["geometry"]):
            for (x0, _), (x1, _) in zip(ring, ring[1:]):
                assert abs(x1 - x0) <= 180, feature["id"]


def test_world_points_cover_small_states():
    points = load_world_points()
    assert list(points.columns) == ["iso_a3", "name", "longitude", "latitude"]
    assert points["iso_a3"].is_unique
    by_code = points.set_index("iso_a3")
    for code in ("MLT", "LIE", "LUX", "AND", "MCO", "SMR", "SGP", "VAT"):
        assert code in by_code.index, code
    malta = by_code.loc["MLT"]
    assert abs(malta["longitude"] - 14.4) < 1 and abs(malta["latitude"] - 35.9) < 1
    for code, (lon, lat) in {
        "LIE": (9.55, 47.15),
        "LUX": (6.1, 49.8),
        "AND": (1.55, 42.55),
    }.items():
        assert abs(by_code.loc[code, "longitude"] - lon) < 1, code
        assert abs(by_code.loc[code, "latitude"] - lat) < 1, code
    assert by_code.loc["ATA", "latitude"] < -60  # Antarctica's point is in Antarctica


def test_every_polygon_country_has_a_point():
    points = set(load_world_points()["iso_a3"])
    assert set(_features_by_id()) <= points


def test_list_countries_without_polygon():
    assert list_countries_without_polygon(["DEU", " fra ", "ATA", "ZZZ", "ATA", "", None]) == [
        "ATA",
        "ZZZ",
    ]


def test_nuts2_upload_is_keyed_by_nuts_id():
    geojson, used = read_uploaded_boundaries(NUTS2.read_bytes(), NUTS2.name)
    assert used == "NUTS_ID"
    assert geojson["type"] == "FeatureCollection"
    assert len(geojson["features"]) == 333
    ids = {f["id"] for f in geojson["features"]}
    assert "DE21" in ids and len(ids) == 333
    assert all(f["id"] == f["properties"]["NUTS_ID"] for f in geojson["features"])


def test_upload_with_a_named_code_property():
    geojson, used = read_uploaded_boundaries(NUTS2.read_bytes(), NUTS2.name, "NAME_LATN")
    assert used == "NAME_LATN"
    with pytest.raises(BoundariesError, match="CNTR_CODE"):
        read_uploaded_boundaries(NUTS2.read_bytes(), NUTS2.name, "CNTR_CODE")  # not unique


def _square(x: float, y: float) -> dict:
    return {"type": "Polygon", "coordinates": [[[x, y], [x + 1, y], [x + 1, y + 1], [x, y + 1], [x, y]]]}


def test_upload_not_json():
    with pytest.raises(BoundariesError, match="regions.geojson"):
        read_uploaded_boundaries(b"not json", "regions.geojson")


def test_upload_not_a_feature_collection():
    with pytest.raises(BoundariesError, match="FeatureCollection"):
        read_uploaded_boundaries(b'{"type":"Feature"}', "one.geojson")


def test_upload_feature_without_geometry():
    features = [
        {"type": "Feature", "properties": {"code": "A"}, "geometry": _square(0, 0)},
        {"type": "Feature", "properties": {"code": "B"}, "geometry": _square(2, 0)},
        {"type": "Feature", "properties": {"code": "C"}, "geometry": None},
    ]
    content = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    with pytest.raises(BoundariesError, match="feature 2") as caught:
        read_uploaded_boundaries(content, "units.geojson")
    assert "units.geojson" in str(caught.value)


def test_upload_without_unique_codes():
    features = [
        {"type": "Feature", "properties": {"kind": "x"}, "geometry": _square(0, 0)},
        {"type": "Feature", "properties": {"kind": "x"}, "geometry": _square(2, 0)},
    ]
    content = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    with pytest.raises(BoundariesError, match="unique"):
        read_uploaded_boundaries(content, "units.geojson")


def test_upload_deeply_nested_json():
    content = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(BoundariesError, match="deep.json"):
        read_uploaded_boundaries(content, "deep.json")


def test_upload_crossing_the_antimeridian_is_split():
    ring = [[179.0, -16.0], [-179.0, -16.0], [-179.0, -18.0], [179.0, -18.0], [179.0, -16.0]]
    features = [
        {"type": "Feature", "properties": {"code": "P1"}, "geometry": {"type": "Polygon", "coordinates": [ring]}},
        {"type": "Feature", "properties": {"code": "P2"}, "geometry": _square(10, 10)},
    ]
    content = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    geojson, used = read_uploaded_boundaries(content, "pacific.geojson")
    assert used == "code"
    split = geojson["features"][0]
    assert split["id"] == "P1"
    assert split["geometry"]["type"] == "MultiPolygon"
    for ring in _rings(split["geometry"]):
        for (x0, _), (x1, _) in zip(ring, ring[1:]):
            assert abs(x1 - x0) <= 180
    assert geojson["features"][1]["geometry"] == _square(10, 10)


def test_build_antimeridian_safe_leaves_input_alone():
    ring = [[170.0, 60.0], [-170.0, 60.0], [-170.0, 70.0], [170.0, 70.0], [170.0, 60.0]]
    original = {"type": "Polygon", "coordinates": [ring]}
    before = json.dumps(original)
    fixed = build_antimeridian_safe(original)
    assert json.dumps(original) == before
    assert fixed["type"] == "MultiPolygon" and len(fixed["coordinates"]) == 2


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2_000))
def test_upload_random_bytes_never_crash(content):
    try:
        geojson, used = read_uploaded_boundaries(content, "random.bin")
    except BoundariesError:
        return
    assert isinstance(geojson, dict) and isinstance(used, str)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(
        st.sampled_from(["type", "features", "geometry", "coordinates", "properties", "id", "code"]),
        children,
        max_size=5,
    ),
    max_leaves=40,
)
_geometry_types = st.sampled_from(
    ["Polygon", "MultiPolygon", "Point", "LineString", "GeometryCollection", "Nonsense"]
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "type": st.just("Feature"),
                "properties": st.none() | st.dictionaries(st.sampled_from(["id", "code", "name"]), _json_values, max_size=3),
                "geometry": st.none()
                | st.fixed_dictionaries({"type": _geometry_types, "coordinates": _json_values}),
            }
        ),
        max_size=4,
    )
)
def test_upload_odd_feature_collections_never_crash(features):
    content = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    try:
        geojson, used = read_uploaded_boundaries(content, "odd.geojson")
    except BoundariesError as error:
        assert "odd.geojson" in str(error)
        return
    assert len(geojson["features"]) == len(features)
