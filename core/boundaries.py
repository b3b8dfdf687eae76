"""Map boundaries: the embedded world countries, points for small states, and uploaded GeoJSON.

Pure Python (never imports streamlit), usable from a notebook.

* ``static/boundaries/world.geojson`` -- Natural Earth 1:50m admin-0 countries (public domain, via the
  npm package world-atlas@2.0.2), split at the 180th meridian, simplified; built by
  ``scripts/build_boundaries.py``. Feature ``id`` = ISO 3166-1 alpha-3 (``XKX`` for Kosovo),
  ``properties = {"iso_a3", "name"}``. Antarctica is left out.
* ``data/boundaries/world_points.csv`` -- one representative point per country of the 1:50m file
  (``iso_a3,name,longitude,latitude``), so that a country with data but no polygon in
  ``world.geojson`` can still be drawn, as a point. In the current build only Antarctica (left
  out on purpose) lacks a polygon; micro-states (Vatican, Monaco, San Marino, Liechtenstein...)
  keep a polygon of a few vertices, which is smaller than a pixel at world zoom.
* :func:`read_uploaded_boundaries` -- GeoJSON that an analyst uploads (e.g. NUTS regions), keyed by
  the unit codes it carries.

Polygons that cross the 180th meridian (Russia, Fiji, a Pacific upload) draw a stripe across the
whole map in plotly and pydeck unless they are split there: :func:`build_antimeridian_safe` does
that, for the build script and for uploads alike.
"""
from __future__ import annotations

import copy
import functools
import json
import math
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import antimeridian
import pandas as pd
import shapely
from shapely.geometry import LinearRing, MultiPolygon, Polygon

BOUNDARIES_DIR = Path(__file__).resolve().parent.parent / "data" / "boundaries"
#: Served to the browser by Streamlit's static file serving at WORLD_GEOJSON_URL, so maps reference it
#: by URL: the browser fetches it once from 127.0.0.1 and caches it, instead of receiving it inside
#: every figure.
WORLD_GEOJSON_PATH = Path(__file__).resolve().parent.parent / "static" / "boundaries" / "world.geojson"
WORLD_GEOJSON_URL = "/app/static/boundaries/world.geojson"
WORLD_POINTS_PATH = BOUNDARIES_DIR / "world_points.csv"

WORLD_SOURCE = (
    "Boundaries: Natural Earth 1:50m admin-0 countries (public domain), via world-atlas 2.0.2; "
    "simplified. Boundaries shown do not imply any opinion on the legal status of any territory."
)

#: Property names tried, in this order, when guessing which property holds the unit codes.
CODE_PROPERTY_CANDIDATES: tuple[str, ...] = ("NUTS_ID", "id", "code", "iso_a3")

_POLYGONAL = ("Polygon", "MultiPolygon")
_GEOMETRY_TYPES = (
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
    "GeometryCollection",
)
# depth of nested lists in "coordinates": Point [x, y] = 1 ... MultiPolygon = 4
_COORDINATE_DEPTH = {
    "Point": 1,
    "MultiPoint": 2,
    "LineString": 2,
    "MultiLineString": 3,
    "Polygon": 3,
    "MultiPolygon": 4,
}
_MAX_GEOMETRY_NESTING = 32  # GeometryCollection inside GeometryCollection ...


class BoundariesError(ValueError):
    """Boundaries cannot be read: the message names the file and says what is wrong."""


# --------------------------------------------------------------------------------------------
# The embedded world boundaries
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def load_world_boundaries() -> dict:
    """The world's country polygons as a GeoJSON FeatureCollection (cached; do not mutate).

    Shape: ``{"type": "FeatureCollection", "features": [{"type": "Feature", "id": "DEU",
    "properties": {"iso_a3": "DEU", "name": "Germany"}, "geometry": {"type": "Polygon" |
    "MultiPolygon", ...}}, ...]}``, longitudes within [-180, 180], already split at the 180th
    meridian. Use ``featureidkey="id"`` (plotly's default) with alpha-3 codes as locations. The
    same dict is returned on every call: ``copy.deepcopy`` it before changing anything.

    Raises:
        FileNotFoundError: ``static/boundaries/world.geojson`` is missing (run
            ``python scripts/build_boundaries.py``).
    """
    with WORLD_GEOJSON_PATH.open(encoding="utf-8") as handle:
        return json.load(handle)


@functools.lru_cache(maxsize=1)
def _world_points() -> pd.DataFrame:
    return pd.read_csv(
        WORLD_POINTS_PATH,
        dtype={"iso_a3": "string", "name": "string", "longitude": "float64", "latitude": "float64"},
        keep_default_na=False,
        encoding="utf-8",
    )


def load_world_points() -> pd.DataFrame:
    """One representative point per country, for countries drawn as a point instead of a polygon.

    Returns a new DataFrame (a copy of a cached one) with columns ``iso_a3`` (string, alpha-3,
    ``XKX`` for Kosovo), ``name`` (string), ``longitude`` and ``latitude`` (float, WGS84 degrees),
    one row per country of the Natural Earth 1:50m file, including those without a polygon in
    :func:`load_world_boundaries` (see :func:`list_countries_without_polygon`).

    Raises:
        FileNotFoundError: ``data/boundaries/world_points.csv`` is missing.
    """
    return _world_points().copy()


@functools.lru_cache(maxsize=1)
def _world_polygon_codes() -> frozenset[str]:
    return frozenset(str(f.get("id")) for f in load_world_boundaries()["features"])


def list_countries_without_polygon(codes: Iterable[str]) -> list[str]:
    """The codes among ``codes`` that have no polygon in the world boundaries.

    Args:
        codes: ISO 3166-1 alpha-3 codes (e.g. the countries that have data); case and surrounding
            blanks are ignored, empty or missing values skipped.

    Returns:
        The codes (upper case) without a polygon in :func:`load_world_boundaries`, each once, in
        the order first met. Draw these as points (:func:`load_world_points`), or, for a code that
        is not there either, list them under the map.

    Raises:
        FileNotFoundError: ``static/boundaries/world.geojson`` is missing.
    """
    have = _world_polygon_codes()
    missing: list[str] = []
    seen: set[str] = set()
    for code in codes:
        if code is None or (isinstance(code, float) and math.isnan(code)):
            continue
        text = str(code).strip().upper()
        if not text or text in seen:
            continue
        seen.add(text)
        if text not in have:
            missing.append(text)
    return missing


# --------------------------------------------------------------------------------------------
# The 180th meridian
# --------------------------------------------------------------------------------------------


def _ring_needs_fix(ring: list) -> bool:
    previous = None
    for point in ring:
        lon = float(point[0])
        if lon < -180.0 or lon > 180.0:
            return True
        if previous is not None and abs(lon - previous) > 180.0:
            return True
        previous = lon
    return False


def _unwrapped(ring: list) -> list[tuple[float, float]] | None:
    """The ring with its longitudes made continuous (jumps over 180 degrees undone), or None if
    the unwrapped ring does not close (it goes round a pole)."""
    out: list[tuple[float, float]] = []
    shift = 0.0
    previous = None
    for point in ring:
        lon, lat = float(point[0]), float(point[1])
        if previous is not None:
            step = lon - previous
            if step > 180.0:
                shift -= 360.0
            elif step < -180.0:
                shift += 360.0
        previous = lon
        out.append((lon + shift, lat))
    if len(out) < 4 or abs(out[0][0] - out[-1][0]) > 1e-9:
        return None
    return out


def _oriented(ring: list, counter_clockwise: bool) -> list:
    """The ring wound as asked, judging the winding on the unwrapped ring (a ring that crosses
    the 180th meridian is self-intersecting when read flat). Rings around a pole stay as given."""
    unwrapped = _unwrapped(ring)
    if unwrapped is None:
        return list(ring)
    if LinearRing(unwrapped).is_ccw != counter_clockwise:
        return list(reversed(ring))
    return list(ring)


def _goes_round_a_pole(ring: list) -> bool:
    """True if the ring's longitudes, made continuous, end 360 degrees from where they start."""
    shift = 0.0
    previous = None
    for point in ring:
        lon = float(point[0])
        if previous is not None:
            step = lon - previous
            if step > 180.0:
                shift -= 360.0
            elif step < -180.0:
                shift += 360.0
        previous = lon
    return shift != 0.0


def _polar_cap(ring: list) -> Polygon | MultiPolygon:
    """The area between a ring that goes round a pole and that pole (the pole of the ring's
    hemisphere), within [-180, 180]."""
    north = sum(float(p[1]) for p in ring) / len(ring) > 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return antimeridian.fix_polygon(
            Polygon(ring), force_north_pole=north, force_south_pole=not north, great_circle=False
        )


def _fix_polar_polygon(rings: list) -> list[Polygon]:
    """A polygon whose exterior goes round a pole (e.g. Antarctica in world-atlas: a ring just
    round the South Pole, the coast as a second ring): the area between its pole-circling rings
    (symmetric difference of their polar caps), minus its other holes."""
    area = None
    others = []
    for ring in rings:
        if _goes_round_a_pole(ring):
            cap = _polar_cap(ring)
            area = cap if area is None else area.symmetric_difference(cap)
        else:
            others.append(ring)
    for hole in others:
        for part in _fix_polygon_coordinates([_oriented(hole, counter_clockwise=True)]):
            area = area.difference(part)
    return [p for p in _polygons(area) if not p.is_empty and p.area > 0]


def _polygons(geometry) -> list[Polygon]:
    if isinstance(geometry, Polygon):
        return [geometry]
    return [p for part in getattr(geometry, "geoms", []) for p in _polygons(part)]


def _fix_polygon_coordinates(rings: list) -> list[Polygon]:
    if not any(_ring_needs_fix(ring) for ring in rings):
        return [Polygon(rings[0], rings[1:])]
    if _goes_round_a_pole(rings[0]):
        return _fix_polar_polygon(rings)
    exterior = _oriented(rings[0], counter_clockwise=True)
    holes = [_oriented(ring, counter_clockwise=False) for ring in rings[1:]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # great_circle=False: the crossing latitude on the straight edge that flat maps draw
        fixed = antimeridian.fix_polygon(
            Polygon(exterior, holes), fix_winding=True, great_circle=False
        )
    if isinstance(fixed, MultiPolygon):
        return list(fixed.geoms)
    return [fixed]


def _fix_geometry(geometry: dict) -> dict:
    kind = geometry.get("type")
    if kind == "GeometryCollection":
        out = dict(geometry)
        out["geometries"] = [_fix_geometry(g) for g in geometry.get("geometries") or []]
        return out
    if kind not in _POLYGONAL:
        return geometry
    polygons = [geometry["coordinates"]] if kind == "Polygon" else list(geometry["coordinates"])
    polygons = [rings for rings in polygons if rings]
    if not any(_ring_needs_fix(ring) for rings in polygons for ring in rings):
        return geometry
    parts: list[Polygon] = []
    for rings in polygons:
        parts.extend(_fix_polygon_coordinates(rings))
    out = dict(geometry)
    if len(parts) == 1:
        out.update(shapely.geometry.mapping(parts[0]))
    else:
        out.update(shapely.geometry.mapping(MultiPolygon(parts)))
    out["coordinates"] = _as_lists(out["coordinates"])
    return out


def _as_lists(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_as_lists(v) for v in value]
    return value


def build_antimeridian_safe(geojson: dict) -> dict:
    """A copy of ``geojson`` with every polygon that crosses the 180th meridian split there.

    A ring crosses when two consecutive longitudes are more than 180 degrees apart (179.9 ->
    -179.9), or when a longitude lies outside [-180, 180] (data in 0..360). Such a polygon is
    wound counter-clockwise (judged on its unwrapped ring) and split with the ``antimeridian``
    package into parts whose longitudes stay within [-180, 180], so that flat maps (plotly,
    pydeck) draw no stripe across the world. Geometries that do not cross are returned unchanged;
    points and lines are left as they are.

    Args:
        geojson: a GeoJSON FeatureCollection, Feature or geometry (dict). Not modified.

    Returns:
        A new dict of the same kind; a split Polygon becomes a MultiPolygon.

    Raises:
        ValueError: a crossing polygon that the ``antimeridian`` package cannot rebuild (invalid
            input); KeyError / TypeError for malformed GeoJSON (callers taking untrusted input
            validate it first, as :func:`read_uploaded_boundaries` does).
    """
    kind = geojson.get("type")
    if kind == "FeatureCollection":
        out = dict(geojson)
        out["features"] = [build_antimeridian_safe(f) for f in geojson.get("features") or []]
        return out
    if kind == "Feature":
        out = dict(geojson)
        if geojson.get("geometry") is not None:
            out["geometry"] = _fix_geometry(copy.deepcopy(geojson["geometry"]))
        return out
    return _fix_geometry(copy.deepcopy(geojson))


# --------------------------------------------------------------------------------------------
# Uploaded boundaries
# --------------------------------------------------------------------------------------------


def _check_coordinates(value: Any, depth: int) -> bool:
    """True if ``value`` is nested lists ``depth`` deep ending in 2 or 3 finite numbers.
    Iterative, so hostile nesting cannot exhaust the stack."""
    stack = [(value, depth)]
    while stack:
        item, level = stack.pop()
        if not isinstance(item, list):
            return False
        if level == 1:
            if len(item) < 2 or len(item) > 4:
                return False
            for number in item:
                if isinstance(number, bool) or not isinstance(number, (int, float)):
                    return False
                if not math.isfinite(number):
                    return False
        else:
            stack.extend((child, level - 1) for child in item)
    return True


def _geometry_problem(geometry: Any, nesting: int = 0) -> str | None:
    """What is wrong with a GeoJSON geometry, or None if it is usable."""
    if not isinstance(geometry, dict):
        return "has a geometry that is not a JSON object"
    kind = geometry.get("type")
    if kind not in _GEOMETRY_TYPES:
        return f"has an unknown geometry type {str(kind)[:40]!r}"
    if kind == "GeometryCollection":
        if nesting >= _MAX_GEOMETRY_NESTING:
            return "has geometry collections nested too deeply"
        members = geometry.get("geometries")
        if not isinstance(members, list):
            return "has a GeometryCollection without a 'geometries' list"
        for member in members:
            problem = _geometry_problem(member, nesting + 1)
            if problem:
                return problem
        return None
    coordinates = geometry.get("coordinates")
    if not _check_coordinates(coordinates, _COORDINATE_DEPTH[kind]):
        return f"has a {kind} whose coordinates are not lists of [longitude, latitude] numbers"
    if kind in _POLYGONAL:
        polygons = [coordinates] if kind == "Polygon" else coordinates
        for rings in polygons:
            for ring in rings:
                if len(ring) < 4:
                    return f"has a {kind} ring with fewer than 4 positions"
    return None


def _code_text(value: Any, strings_only: bool) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        return text or None
    if strings_only:
        return None
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return str(int(value))
    return None


def _codes_for(features: list[dict], name: str, strings_only: bool) -> list[str] | None:
    """The code of each feature from property ``name`` (or the feature's own ``id`` for "id"),
    or None if some feature lacks it or the codes are not unique."""
    codes: list[str] = []
    for feature in features:
        properties = feature.get("properties") or {}
        value = properties.get(name)
        if value is None and name == "id":
            value = feature.get("id")
        code = _code_text(value, strings_only)
        if code is None:
            return None
        codes.append(code)
    if len(set(codes)) != len(codes):
        return None
    return codes


def _guess_code_property(features: list[dict]) -> tuple[str, list[str]] | None:
    first = features[0].get("properties") or {}
    keys = list(first)
    for candidate in CODE_PROPERTY_CANDIDATES:
        names = [candidate] + [k for k in keys if k.lower() == candidate.lower() and k != candidate]
        for name in names:
            codes = _codes_for(features, name, strings_only=False)
            if codes is not None:
                return name, codes
    for name in keys:
        codes = _codes_for(features, name, strings_only=True)
        if codes is not None:
            return name, codes
    return None


def read_uploaded_boundaries(
    content: bytes, file_name: str, code_property: str | None = None
) -> tuple[dict, str]:
    """Parse uploaded boundaries (a GeoJSON FeatureCollection) and key each feature by its code.

    Args:
        content: the uploaded file's bytes (UTF-8/16/32 JSON, a byte-order mark is fine).
        file_name: the file's name, used in error messages only.
        code_property: the property holding the unit codes. None to guess: ``NUTS_ID``, ``id``
            (the property, or else the feature's own ``id``), ``code``, ``iso_a3`` (each also in
            other letter case), then the first property whose values are non-empty strings,
            unique across the features.

    Returns:
        ``(geojson, property_used)``: a new FeatureCollection ``{"type": "FeatureCollection",
        "features": [{"type": "Feature", "id": code, "properties": {...}, "geometry": {...}}]}``
        in the upload's order, each feature's top-level ``id`` set to its code (a string),
        polygons crossing the 180th meridian split (:func:`build_antimeridian_safe`); and the
        name of the property the codes came from.

    Raises:
        BoundariesError: naming ``file_name`` and the problem: not JSON (or nested too deeply),
            not a FeatureCollection, no features, a feature that is not an object or has no or a
            malformed geometry (with its index, counting from 0), or no property with a unique
            code for every feature (or ``code_property`` missing, empty or repeated).
    """
    name = str(file_name)
    try:
        return _read_uploaded_boundaries(content, name, code_property)
    except BoundariesError:
        raise
    except RecursionError:
        raise BoundariesError(f"{name}: the JSON is nested too deeply to be GeoJSON.") from None
    except MemoryError:
        raise BoundariesError(f"{name}: the file is too large to read.") from None
    except Exception as error:  # noqa: BLE001 - shapely/antimeridian on odd input: report, not crash
        raise BoundariesError(
            f"{name}: the boundaries could not be read ({type(error).__name__}: {error})."
        ) from error


def _read_uploaded_boundaries(
    content: bytes, name: str, code_property: str | None
) -> tuple[dict, str]:
    if not isinstance(content, (bytes, bytearray)):
        raise BoundariesError(f"{name}: expected the file's bytes, got {type(content).__name__}.")
    try:
        data = json.loads(bytes(content))
    except RecursionError:
        raise BoundariesError(f"{name}: the JSON is nested too deeply to be GeoJSON.") from None
    except (ValueError, UnicodeDecodeError) as error:  # JSONDecodeError is a ValueError
        raise BoundariesError(f"{name}: not a JSON file ({error}).") from None

    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        found = data.get("type") if isinstance(data, dict) else type(data).__name__
        raise BoundariesError(
            f"{name}: not a GeoJSON FeatureCollection (found {str(found)[:40]!r}); export the "
            "boundaries as GeoJSON with one feature per unit."
        )
    features = data.get("features")
    if not isinstance(features, list):
        raise BoundariesError(f"{name}: the FeatureCollection has no 'features' list.")
    if not features:
        raise BoundariesError(f"{name}: the FeatureCollection has no features.")
    for index, feature in enumerate(features):
        if not isinstance(feature, dict):
            raise BoundariesError(
                f"{name}: feature {index} (counting from 0) is not a JSON object."
            )
        properties = feature.get("properties")
        if properties is not None and not isinstance(properties, dict):
            raise BoundariesError(
                f"{name}: feature {index} (counting from 0) has 'properties' that is not an object."
            )
        geometry = feature.get("geometry")
        if geometry is None:
            raise BoundariesError(
                f"{name}: feature {index} (counting from 0) has no geometry; every unit needs "
                "a polygon."
            )
        problem = _geometry_problem(geometry)
        if problem:
            raise BoundariesError(f"{name}: feature {index} (counting from 0) {problem}.")

    if code_property is not None:
        codes = _codes_for(features, code_property, strings_only=False)
        if codes is None:
            raise BoundariesError(
                f"{name}: property {code_property!r} is missing, empty or repeated in some "
                "features; it must hold a unique code for every feature."
            )
        used = code_property
    else:
        guessed = _guess_code_property(features)
        if guessed is None:
            first = list((features[0].get("properties") or {}))[:12]
            raise BoundariesError(
                f"{name}: no property holds a unique code for every feature (tried "
                f"{', '.join(CODE_PROPERTY_CANDIDATES)} and every text property; the first "
                f"feature has {first or 'no properties'}). Choose the code property by hand."
            )
        used, codes = guessed

    keyed = []
    for feature, code in zip(features, codes):
        out = {
            "type": "Feature",
            "id": code,
            "properties": dict(feature.get("properties") or {}),
            "geometry": feature["geometry"],
        }
        keyed.append(out)
    collection = {"type": "FeatureCollection", "features": keyed}
    return build_antimeridian_safe(collection), used
