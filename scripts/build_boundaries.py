"""Build the embedded world boundaries: static/boundaries/world.geojson and data/boundaries/world_points.csv.

Run from the repository root:  python scripts/build_boundaries.py

Source
    Natural Earth 4.1.0 admin-0 countries at 1:50m, as TopoJSON from the npm package
    world-atlas@2.0.2 (file countries-50m.json, object "countries"), kept unmodified in
    ../shared/data/boundaries/world-atlas/. Each geometry has ``id`` = ISO 3166-1 numeric as a
    zero-padded string ("250") and ``properties.name``; a few (Kosovo, Somaliland, N. Cyprus,
    Indian Ocean Ter., Siachen Glacier) have no id.

Licence
    Natural Earth geometry: public domain (credited anyway: "Natural Earth"). world-atlas packaging:
    ISC licence, (c) Michael Bostock. The derived files carry no other terms.

Steps
    1. Decode the TopoJSON (quantized, delta-encoded arcs with a scale/translate transform) into
       GeoJSON features with the ``topojson`` package (``topojson.utils.serialize_as_geojson``).
    2. Code every feature: ISO numeric -> alpha-3 with pycountry; Kosovo (no id) -> XKX; the other
       features without an id are dropped (listed in the printed report). Features sharing a code
       (Australia + Ashmore and Cartier Is.) are merged into one MultiPolygon.
    3. Split polygons crossing the 180th meridian (Russia, Fiji; Antarctica goes round the pole)
       with the ``antimeridian`` package, via core.boundaries.build_antimeridian_safe, so flat maps
       draw no stripe across the world.
    4. world_points.csv: for EVERY coded country of the 1:50m file, shapely's
       representative_point() of its largest polygon, on the full-resolution geometry (before any
       simplification), so countries without a polygon in world.geojson can still be drawn.
    5. world.geojson: Antarctica (ATA) is dropped (it dominates a flat world map and has no
       migrant data). Islands smaller than MIN_ISLAND_AREA square degrees are dropped, never a
       country's largest polygon; the rest is simplified with shapely ``simplify(TOLERANCE,
       preserve_topology=True)`` and snapped to a 0.01-degree grid (``set_precision``, which keeps
       the polygons valid). A country that collapses on that grid keeps only its point (listed in
       the printed report). Features: ``id`` = alpha-3, ``properties = {iso_a3, name}`` (name:
       pycountry common_name, else name). The file must stay under MAX_BYTES.
"""
from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pycountry
import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from topojson.utils import serialize_as_geojson

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from core.boundaries import build_antimeridian_safe  # noqa: E402

SOURCE = REPO.parent / "shared" / "data" / "boundaries" / "world-atlas" / "countries-50m.json"
OUT_DIR = REPO / "data" / "boundaries"
OUT_GEOJSON = REPO / "static" / "boundaries" / "world.geojson"  # served to the browser as a static file
OUT_POINTS = OUT_DIR / "world_points.csv"

TOLERANCE = 0.05  # degrees, shapely simplify (Douglas-Peucker, topology preserved)
GRID = 0.01  # degrees: coordinates snapped to this grid, written with 2 decimals
MIN_ISLAND_AREA = 0.02  # square degrees (~250 km2 at the equator); a country's largest part stays
MAX_BYTES = 450_000
DROP_CODES = {"ATA": "Antarctica: dominates a flat world map, no migrant data"}
NAMED_CODES = {"Kosovo": "XKX"}  # features without an ISO numeric id that are kept


def country_name(alpha_3: str) -> str:
    """pycountry's common name (else its name); Kosovo is not in ISO 3166-1."""
    if alpha_3 == "XKX":
        return "Kosovo"
    country = pycountry.countries.get(alpha_3=alpha_3)
    return getattr(country, "common_name", None) or country.name


def code_for(feature: dict, raw: dict) -> str | None:
    numeric = raw.get("id")
    if isinstance(numeric, str) and numeric.strip():
        country = pycountry.countries.get(numeric=numeric.strip())
        return country.alpha_3 if country else None
    return NAMED_CODES.get((raw.get("properties") or {}).get("name"))


def polygons_of(geometry) -> list[Polygon]:
    if geometry.is_empty:
        return []
    if isinstance(geometry, Polygon):
        return [geometry]
    if isinstance(geometry, MultiPolygon):
        return list(geometry.geoms)
    return [g for part in getattr(geometry, "geoms", []) for g in polygons_of(part)]


def rounded(value):
    if isinstance(value, (list, tuple)):
        return [rounded(v) for v in value]
    return round(float(value), 2) + 0.0  # + 0.0 turns -0.0 into 0.0


def simplified(polygons: list[Polygon]) -> list[Polygon]:
    """Drop small islands (never the largest part), simplify, snap to the grid; may be empty."""
    largest = max(polygons, key=lambda p: p.area)
    kept = [p for p in polygons if p is largest or p.area >= MIN_ISLAND_AREA]
    # the whole country at once, so that its parts cannot come to overlap one another
    small = shapely.simplify(MultiPolygon(kept), TOLERANCE, preserve_topology=True)
    small = shapely.set_precision(small, GRID)
    return [p for p in polygons_of(small) if p.area > 0]


def main() -> int:
    topology = json.loads(SOURCE.read_text(encoding="utf-8"))
    raw_features = topology["objects"]["countries"]["geometries"]
    decoded = serialize_as_geojson(topology, objectname="countries")["features"]
    assert len(decoded) == len(raw_features)

    # 1-2: decode and code
    by_code: dict[str, list[dict]] = {}
    dropped_no_code: list[str] = []
    for raw, feature in zip(raw_features, decoded):
        name = (raw.get("properties") or {}).get("name", "?")
        code = code_for(feature, raw)
        if code is None:
            dropped_no_code.append(f"{name} (id {raw.get('id')!r})")
            continue
        by_code.setdefault(code, []).append(
            {"type": "Feature", "properties": {"source_name": name}, "geometry": feature["geometry"]}
        )

    # 3: split at the 180th meridian, then merge features sharing a code
    full: dict[str, list[Polygon]] = {}
    merged_names: dict[str, list[str]] = {}
    invalid_fixed: list[str] = []
    for code, features in by_code.items():
        safe = build_antimeridian_safe({"type": "FeatureCollection", "features": features})
        parts: list[Polygon] = []
        for feature in safe["features"]:
            geometry = shape(feature["geometry"])
            if not geometry.is_valid:
                geometry = shapely.make_valid(geometry)
                invalid_fixed.append(code)
            parts.extend(polygons_of(geometry))
        full[code] = parts
        if len(features) > 1:
            merged_names[code] = [f["properties"]["source_name"] for f in features]

    # 4: representative points on the full-resolution geometry
    points = []
    for code in sorted(full):
        largest = max(full[code], key=lambda p: p.area)
        point = largest.representative_point()
        points.append((code, country_name(code), round(point.x, 4), round(point.y, 4)))

    # 5: simplified polygons
    out_features = []
    points_only: list[str] = []
    for code in sorted(full):
        if code in DROP_CODES:
            continue
        parts = simplified(full[code])
        if not parts:
            points_only.append(code)
            continue
        geometry = parts[0] if len(parts) == 1 else MultiPolygon(parts)
        geometry = shapely.orient_polygons(geometry)  # RFC 7946: exterior counter-clockwise
        geojson_geometry = mapping(geometry)
        out_features.append(
            {
                "type": "Feature",
                "id": code,
                "properties": {"iso_a3": code, "name": country_name(code)},
                "geometry": {
                    "type": geojson_geometry["type"],
                    "coordinates": rounded(geojson_geometry["coordinates"]),
                },
            }
        )

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    collection = {"type": "FeatureCollection", "features": out_features}
    text = json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
    OUT_GEOJSON.write_text(text + "\n", encoding="utf-8")
    with OUT_POINTS.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["iso_a3", "name", "longitude", "latitude"])
        writer.writerows(points)

    size = OUT_GEOJSON.stat().st_size
    print(f"source: {SOURCE.relative_to(REPO.parent)} ({len(raw_features)} geometries)")
    print(f"dropped, no ISO code: {', '.join(dropped_no_code) or 'none'}")
    for code, names in merged_names.items():
        print(f"merged into {code}: {', '.join(names)}")
    for code, why in DROP_CODES.items():
        print(f"left out of world.geojson: {code} ({why}); it keeps its point")
    if invalid_fixed:
        print(f"invalid geometry repaired with make_valid: {', '.join(sorted(set(invalid_fixed)))}")
    print(
        f"tolerance {TOLERANCE} deg, grid {GRID} deg, islands below {MIN_ISLAND_AREA} sq deg dropped"
    )
    print(f"points only (collapsed at this scale): {', '.join(points_only) or 'none'}")
    print(f"{OUT_GEOJSON.relative_to(REPO)}: {len(out_features)} features, {size:,} bytes")
    print(f"{OUT_POINTS.relative_to(REPO)}: {len(points)} points")
    if size >= MAX_BYTES:
        print(f"ERROR: {OUT_GEOJSON.name} is {size:,} bytes, over {MAX_BYTES:,}; raise TOLERANCE")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
