"""The local (sub-national) level: uploaded boundaries matched with uploaded data keyed by the same codes.

Pure Python (no streamlit). The boundaries are those an analyst uploaded (core.boundaries.
read_uploaded_boundaries, stored by core.store.save_boundaries); the data are observations with
geo_level 'local' whose geo is a unit code (e.g. NUTS 'DE21', or the city's own district codes).
"""
from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from core import charts

#: Feature properties that hold a unit's name, tried in this order (NUTS files: NAME_LATN).
NAME_PROPERTIES: tuple[str, ...] = ("NAME_LATN", "NUTS_NAME", "name", "NAME", "Name", "label", "LABEL")


def choose_boundaries(codes: set[str], boundary_codes: dict[str, set[str]]) -> str | None:
    """The stored boundaries set that covers most of the codes (ties: the first name); None when
    no set holds any of them. codes: local unit codes with data; boundary_codes: {name: codes}."""
    best, best_count = None, 0
    for name in sorted(boundary_codes):
        count = len(codes & boundary_codes[name])
        if count > best_count:
            best, best_count = name, count
    return best


def unit_names(geojson: dict) -> dict[str, str]:
    """{unit code: name} from the features' properties (NAME_PROPERTIES); the code where none."""
    names = {}
    for feature in geojson.get("features", []):
        properties = feature.get("properties") or {}
        names[feature["id"]] = next((str(properties[k]) for k in NAME_PROPERTIES if properties.get(k)), feature["id"])
    return names


def _coordinates(geometry: dict):
    kind = geometry.get("type")
    coordinates = geometry.get("coordinates", [])
    if kind == "Polygon":
        for ring in coordinates:
            yield from ring
    elif kind == "MultiPolygon":
        for polygon in coordinates:
            for ring in polygon:
                yield from ring
    elif kind == "GeometryCollection":
        for part in geometry.get("geometries", []):
            yield from _coordinates(part)


def compute_map_view(geojson: dict, codes: set[str] | None = None, width_px: int = 760, height_px: int = 520) -> dict:
    """Centre and zoom (MapLibre) that frame the features of these codes (all features when None).

    Returns {"center": {"lat", "lon"}, "zoom"}: the bounding box of the features' coordinates, with a
    10% margin; zoom = log2 of how many times the box fits in the world at zoom 0 (512 px wide in
    MapLibre) at this size.
    Falls back to Europe (lat 53, lon 14, zoom 2.2) when no feature matches.
    """
    lons, lats = [], []
    for feature in geojson.get("features", []):
        if codes is not None and feature.get("id") not in codes:
            continue
        for lon, lat, *_ in _coordinates(feature.get("geometry") or {}):
            lons.append(lon)
            lats.append(lat)
    if not lons:
        return {"center": {"lat": 53.0, "lon": 14.0}, "zoom": 2.2}
    lon_min, lon_max, lat_min, lat_max = min(lons), max(lons), min(lats), max(lats)
    span_lon = max((lon_max - lon_min) * 1.1, 0.05)
    y_min, y_max = _mercator(lat_min), _mercator(lat_max)
    span_y = max((y_max - y_min) * 1.1, 0.0005)
    zoom_lon = math.log2(width_px / 512 * 360 / span_lon)
    zoom_lat = math.log2(height_px / 512 * 2 * math.pi / span_y)
    centre_lat = math.degrees(math.atan(math.sinh((y_min + y_max) / 2)))
    return {"center": {"lat": centre_lat, "lon": (lon_min + lon_max) / 2}, "zoom": max(0.0, min(zoom_lon, zoom_lat) - 0.2)}


def _mercator(lat: float) -> float:
    lat = max(min(lat, 85.0), -85.0)
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def name_local_units(gaps: pd.DataFrame, geojson: dict | None) -> pd.DataFrame:
    """gaps (core.gaps.compute_gaps rows, geo_name column) with geo_name taken from the boundaries'
    feature names where the code has one."""
    if gaps.empty or not geojson:
        return gaps
    names = unit_names(geojson)
    gaps = gaps.copy()
    gaps["geo_name"] = [names.get(code, name) for code, name in zip(gaps["geo"], gaps["geo_name"])]
    return gaps


def build_local_gap_map(gaps: pd.DataFrame, geojson: dict, unit: str, group_label: str, reference_label: str,
                        height: int = 520) -> go.Figure:
    """The local-level map: core.charts.build_gap_map over the uploaded boundaries, framed on the
    units with data (compute_map_view), with the neighbouring units of the same boundaries in light
    grey for orientation (only those near the units with data, to keep the payload small).
    Offline: MapLibre with a blank style, no tiles, no text."""
    points = pd.DataFrame(columns=["iso_a3", "name", "longitude", "latitude"])
    codes = set(gaps["geo"]) if not gaps.empty else set()
    figure = charts.build_gap_map(gaps, geojson, points, unit, group_label, reference_label, view="world", height=height)
    view = compute_map_view(geojson, codes or None, height_px=height)
    neighbours = _features_near(geojson, codes)
    if neighbours["features"]:
        background = go.Choroplethmap(
            geojson=neighbours, locations=[f["id"] for f in neighbours["features"]], z=[0] * len(neighbours["features"]),
            colorscale=[[0, "#eeeeee"], [1, "#eeeeee"]], showscale=False, marker_line_color="#ffffff", marker_line_width=0.6,
            customdata=[[n] for n in unit_names(neighbours).values()], hovertemplate="%{customdata[0]}: no data<extra></extra>",
            name="no data")
        figure = go.Figure(data=[background, *figure.data], layout=figure.layout)
    figure.update_layout(map=dict(center=view["center"], zoom=view["zoom"]))
    return figure


def _bounds(feature: dict) -> tuple[float, float, float, float] | None:
    coordinates = list(_coordinates(feature.get("geometry") or {}))
    if not coordinates:
        return None
    lons = [c[0] for c in coordinates]
    lats = [c[1] for c in coordinates]
    return min(lons), min(lats), max(lons), max(lats)


def _features_near(geojson: dict, codes: set[str], margin: float = 0.6) -> dict:
    """Features (other than ``codes``) whose box meets the box of ``codes`` widened by ``margin`` of its size."""
    boxes = {f["id"]: _bounds(f) for f in geojson.get("features", [])}
    chosen = [b for code, b in boxes.items() if code in codes and b]
    if not chosen:
        return {"type": "FeatureCollection", "features": []}
    lon_min, lat_min = min(b[0] for b in chosen), min(b[1] for b in chosen)
    lon_max, lat_max = max(b[2] for b in chosen), max(b[3] for b in chosen)
    dx, dy = (lon_max - lon_min) * margin + 0.5, (lat_max - lat_min) * margin + 0.5
    near = [f for f in geojson["features"] if f["id"] not in codes and boxes[f["id"]]
            and boxes[f["id"]][0] <= lon_max + dx and boxes[f["id"]][2] >= lon_min - dx
            and boxes[f["id"]][1] <= lat_max + dy and boxes[f["id"]][3] >= lat_min - dy]
    return {"type": "FeatureCollection", "features": near}
