"""Place codes: countries to ISO 3166-1 alpha-3, aggregates kept as regional geos.

Country codes and names are resolved by libraries (pycountry for ISO codes and names,
country_converter for the many name spellings of statistical offices). This module only adds the
domain knowledge those libraries lack: Eurostat's own country codes (``EL`` Greece, ``UK`` United
Kingdom, ``XK`` Kosovo) and the aggregate codes and labels that sit in the same ``geo`` column as
countries in Eurostat and World Bank files.
"""
from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass

import pycountry

#: Kosovo has no ISO 3166-1 code; XK / XKX are the user-assigned codes used by the EU and the World Bank.
KOSOVO = "XKX"

#: Eurostat two-letter codes that differ from ISO 3166-1 alpha-2 (Eurostat, "Country codes" glossary).
EUROSTAT_COUNTRY_CODES: dict[str, str] = {"EL": "GRC", "UK": "GBR", "XK": KOSOVO}

#: Aggregates: code -> English name. Eurostat aggregate codes (EU, euro area, EFTA) and a few
#: World Bank / UN ones. Their governance level is 'regional' (or 'global' for the world).
AGGREGATES: dict[str, str] = {
    "EU27_2020": "European Union - 27 countries (from 2020)",
    "EU28": "European Union - 28 countries (2013-2020)",
    "EU27_2007": "European Union - 27 countries (2007-2013)",
    "EU25": "European Union - 25 countries (2004-2006)",
    "EU15": "European Union - 15 countries (1995-2004)",
    "EU": "European Union (changing composition)",
    "EA": "Euro area (changing composition)",
    "EA20": "Euro area - 20 countries (from 2023)",
    "EA19": "Euro area - 19 countries (2015-2022)",
    "EA18": "Euro area - 18 countries (2014)",
    "EA21": "Euro area - 21 countries (from 2026)",
    "EFTA": "European Free Trade Association",
    "WLD": "World",
}
GLOBAL_AGGREGATES = frozenset({"WLD"})

#: Eurostat aggregate labels (as they appear in label downloads) -> aggregate code.
_AGGREGATE_LABEL_PATTERNS: list[tuple[re.Pattern, str]] = [
    (re.compile(r"^european union\s*[-–]\s*27 countries \(from 2020\)$", re.I), "EU27_2020"),
    (re.compile(r"^european union\s*[-–]\s*28 countries", re.I), "EU28"),
    (re.compile(r"^european union\s*[-–]\s*27 countries \(2007-2013\)$", re.I), "EU27_2007"),
    (re.compile(r"^european union\s*[-–]\s*25 countries", re.I), "EU25"),
    (re.compile(r"^european union\s*[-–]\s*15 countries", re.I), "EU15"),
    (re.compile(r"^european union \(eu6", re.I), "EU"),
    (re.compile(r"^euro area\s*[-–]\s*21 countries", re.I), "EA21"),
    (re.compile(r"^euro area\s*[-–]\s*20 countries", re.I), "EA20"),
    (re.compile(r"^euro area\s*[-–]\s*19 countries", re.I), "EA19"),
    (re.compile(r"^euro area\s*[-–]\s*18 countries", re.I), "EA18"),
    (re.compile(r"^euro area \(ea11", re.I), "EA"),
    (re.compile(r"^(world|total world)$", re.I), "WLD"),
]

# country_converter logs a warning for every name it cannot match; we report those ourselves.
logging.getLogger("country_converter").setLevel(logging.ERROR)


@dataclass(frozen=True)
class Place:
    """A resolved place: code (ISO alpha-3, aggregate code), governance level and English name."""

    code: str
    level: str  # 'national', 'regional', 'global'
    name: str


@functools.lru_cache(maxsize=1)
def _converter():
    """country_converter's CountryConverter, fed its own table read with pandas 3 in mind.

    country_converter 1.3.2 reads its table with pandas' default NA handling, which under pandas 3
    turns empty ISO2 cells into NaN and breaks its regex compile; we read the same bundled table with
    every cell as text and hand it over as a DataFrame (the library's documented ``country_data``).
    """
    import importlib.resources

    import country_converter
    import pandas as pd

    table_path = importlib.resources.files("country_converter") / "country_data.tsv"
    table = pd.read_csv(table_path, sep="\t", dtype=str, keep_default_na=False)
    table = table.astype(object).where(table != "", None)
    table["regex"] = table["regex"].fillna("^$a")  # an empty pattern would match every name
    table["ISO2"] = table["ISO2"].fillna("^$a")
    return country_converter.CountryConverter(country_data=table)


def _country(alpha3: str) -> Place:
    if alpha3 == KOSOVO:
        return Place(KOSOVO, "national", "Kosovo")
    record = pycountry.countries.get(alpha_3=alpha3)
    name = getattr(record, "common_name", None) or record.name
    return Place(alpha3, "national", name)


@functools.lru_cache(maxsize=20_000)
def resolve_place(text: str) -> Place | None:
    """Resolve a country code or name, or an aggregate code or label, to a Place.

    Accepts ISO 3166-1 alpha-2, alpha-3 and numeric codes (``"040"``, ``"40"``), Eurostat codes
    (``EL``, ``UK``, ``XK``), English, official and common names and the usual variants ("Türkiye",
    "Czechia", "Côte d'Ivoire", "Germany (until 1990 former territory of the FRG)", "Kosovo*"), and
    aggregate codes/labels ("EU27_2020", "European Union - 27 countries (from 2020)").
    ``"NA"`` is Namibia. Returns None when the text is not a known place.
    """
    if text is None:
        return None
    raw = str(text).strip()
    if not raw:
        return None
    upper = raw.upper()
    if upper in AGGREGATES:
        return Place(upper, "global" if upper in GLOBAL_AGGREGATES else "regional", AGGREGATES[upper])
    for pattern, code in _AGGREGATE_LABEL_PATTERNS:
        if pattern.search(raw):
            return Place(code, "global" if code in GLOBAL_AGGREGATES else "regional", AGGREGATES[code])
    if upper in EUROSTAT_COUNTRY_CODES:
        return _country(EUROSTAT_COUNTRY_CODES[upper])
    if upper in {"XKX", "KOSOVO", "KOSOVO*"} or raw.lower().startswith("kosovo"):
        return _country(KOSOVO)
    if raw.isascii() and raw.isdigit():
        record = pycountry.countries.get(numeric=raw.zfill(3))
        return _country(record.alpha_3) if record else None
    if len(raw) in (2, 3) and raw.isalpha():
        record = (
            pycountry.countries.get(alpha_2=upper) if len(raw) == 2 else pycountry.countries.get(alpha_3=upper)
        )
        return _country(record.alpha_3) if record else None
    try:
        record = pycountry.countries.lookup(raw)
        return _country(record.alpha_3)
    except LookupError:
        pass
    # Strip Eurostat footnote markers and historical qualifiers, then ask country_converter.
    cleaned = re.sub(r"\*+$", "", raw).strip()
    cleaned = re.sub(r"\s*\((until|from) .*\)$", "", cleaned).strip()
    alpha3 = _converter().convert(cleaned, to="ISO3", not_found=None)
    if isinstance(alpha3, str) and alpha3 and pycountry.countries.get(alpha_3=alpha3):
        return _country(alpha3)
    return None


def resolve_column(values) -> dict[str, Place | None]:
    """Resolve every distinct value of a place column, reading each in the light of the whole column.

    In a column of ISO alpha-3 codes (at least 80% of at least five distinct values are three
    letters), a two-letter value such as "NA" is not Namibia but a missing code (UN DESA files write
    R's NA for places without an ISO code, e.g. the Channel Islands): it resolves to None. Elsewhere
    "NA" is Namibia, as ISO alpha-2 says.
    Returns {value: Place or None}.
    """
    distinct = {str(v).strip() for v in values}
    codes = [v for v in distinct if v]
    alpha3_column = len(codes) >= 5 and sum(len(v) == 3 and v.isalpha() for v in codes) >= 0.8 * len(codes)
    resolved: dict[str, Place | None] = {}
    for value in distinct:
        if alpha3_column and len(value) == 2 and value.isalpha():
            resolved[value] = None
        else:
            resolved[value] = resolve_place(value)
    return resolved


def resolve_geo_code(text: str) -> str | None:
    """The geo code (ISO alpha-3 or aggregate code) for any common spelling, or None."""
    place = resolve_place(text)
    return place.code if place else None


def name_of(code: str) -> str:
    """English name of a geo code; the code itself when unknown (e.g. an analyst's local unit code)."""
    place = resolve_place(code)
    return place.name if place and place.code == code else code


def is_aggregate(code: str) -> bool:
    """True for regional and global aggregates (EU27_2020, EA20, WLD ...), which never enter national rankings."""
    return code in AGGREGATES
