"""Turn what a reader read into stored observations, and build the embedded default from ../shared/data.

The stored observation layout (OBSERVATION_COLUMNS), one row per observation:
    indicator (catalogue code), dataset (source dataset code or uploaded dataset name),
    geo (ISO 3166-1 alpha-3, aggregate code, or a local unit code), geo_level
    (global/regional/national/local), period (int, year), sex (T/F/M), age (Eurostat age code such as
    'Y15-64', 'Y_GE16', or 'TOTAL'), group (population-group vocabulary), unit (catalogue unit),
    value (float; NaN when missing, never 0 for missing), flags (Eurostat letters), se, ci_lower,
    ci_upper (float, same unit as value; NaN when not given), population (float, NaN when not
    given), source (attribution text), licence.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from core import capacity, readers, treaties

OBSERVATION_COLUMNS: list[str] = [
    "indicator", "dataset", "geo", "geo_level", "period", "sex", "age", "group", "unit", "value", "flags",
    "se", "ci_lower", "ci_upper", "population", "source", "licence",
]

EUROSTAT_LICENCE = "CC BY 4.0 (c) European Union"
UNDESA_SOURCE = ("United Nations, Department of Economic and Social Affairs, Population Division, "
                 "International Migrant Stock 2020")


def eurostat_source(code: str) -> str:
    """The attribution Eurostat asks for: 'Source: Eurostat, dataset CODE'."""
    return f"Source: Eurostat, dataset {code}"


@dataclass(frozen=True)
class EmbeddedSpec:
    """How one file of ../shared/data becomes observations of one catalogue indicator.

    file: path relative to ../shared/data; dataset: source dataset code; indicator: catalogue code;
    keep: {column: accepted values} selecting the rows (codes or labels as in the file);
    group_column: the column holding population groups, with its dimension; unit: catalogue unit;
    columns: reader column overrides for tidy files ({role: column}); fixed: constant dimension
    values for columns the file lacks (e.g. {'age': 'TOTAL'}); reader: a reader taking the file's
    path and returning a SourceTable, for layouts read_file_bytes does not detect (World Bank
    downloads, treaty status lists); geo_aliases: {place code or label in the file: project geo code}
    for places the geo resolver does not know (e.g. the World Bank's EUU for EU27_2020);
    drop_missing: leave out rows without a value (for wide files where most cells are empty);
    keep_aggregates: False to leave out regional and global aggregates not named in geo_aliases
    (the World Bank's income and lending groups are not places a user compares).
    """

    file: str
    dataset: str
    indicator: str
    unit: str
    source: str
    licence: str
    keep: dict[str, tuple[str, ...]] = field(default_factory=dict)
    group_column: str | None = None
    dimension: str | None = None
    columns: dict[str, str] | None = None
    fixed: dict[str, str] = field(default_factory=dict)
    reader: Callable[[Path], readers.SourceTable] | None = None
    geo_aliases: dict[str, str] = field(default_factory=dict)
    drop_missing: bool = False
    keep_aggregates: bool = True


def _eurostat(file, dataset, indicator, unit, keep, group_column="citizen", dimension="citizenship", **extra):
    return EmbeddedSpec(file, dataset, indicator, unit, eurostat_source(dataset), EUROSTAT_LICENCE,
                        keep=keep, group_column=group_column, dimension=dimension, **extra)


WORLD_BANK_GDP_FILE = "worldbank/API_NY.GDP.PCAP.PP.KD_DS2_en_csv_v2_33608.csv"
WORLD_BANK_SOURCE = "Source: World Bank, World Development Indicators, series NY.GDP.PCAP.PP.KD"


def read_world_bank_file(path: Path) -> readers.SourceTable:
    """A World Bank download read by core.readers.read_world_bank_csv (text decoded by decode_bytes)."""
    text, _ = readers.decode_bytes(Path(path).read_bytes())
    return readers.read_world_bank_csv(text)


_COB = "eurostat-derived/lfs_by_country_of_birth.csv"
_COB_KEEP = {"c_birth": ("NAT", "FOR")}
_COB_NOTE = {"age": "not_stated"}

EMBEDDED_SPECS: list[EmbeddedSpec] = [
    _eurostat("eurostat/sdmx-csv/lfsa_ergan.csv", "LFSA_ERGAN", "work.employment_rate", "percent", {}),
    _eurostat("eurostat/sdmx-csv/lfsa_urgan.csv", "LFSA_URGAN", "work.unemployment_rate", "percent", {}),
    _eurostat(_COB, "LFS_BY_COUNTRY_OF_BIRTH", "work.unemployment_rate", "percent",
              {"indicator": ("unemp",), **_COB_KEEP}, "c_birth", "country_of_birth", fixed=_COB_NOTE),
    _eurostat(_COB, "LFS_BY_COUNTRY_OF_BIRTH", "work.activity_rate", "percent",
              {"indicator": ("lfp",), **_COB_KEEP}, "c_birth", "country_of_birth", fixed=_COB_NOTE),
    _eurostat(_COB, "LFS_BY_COUNTRY_OF_BIRTH", "work.part_time_share", "percent",
              {"indicator": ("pt",), **_COB_KEEP}, "c_birth", "country_of_birth", fixed=_COB_NOTE),
    _eurostat(_COB, "LFS_BY_COUNTRY_OF_BIRTH", "work.temporary_contract_share", "percent",
              {"indicator": ("temp",), **_COB_KEEP}, "c_birth", "country_of_birth", fixed=_COB_NOTE),
    _eurostat(_COB, "LFS_BY_COUNTRY_OF_BIRTH", "work.over_qualification_rate", "percent",
              {"indicator": ("overq",), **_COB_KEEP}, "c_birth", "country_of_birth", fixed=_COB_NOTE),
    _eurostat("eurostat/tsv/edat_lfs_9912.tsv", "EDAT_LFS_9912", "education.low_attainment_share", "percent",
              {"isced11": ("ED0-2",)}, "c_birth", "country_of_birth"),
    _eurostat("eurostat/tsv/edat_lfs_9912.tsv", "EDAT_LFS_9912", "education.tertiary_attainment_share", "percent",
              {"isced11": ("ED5-8",)}, "c_birth", "country_of_birth"),
    _eurostat("eurostat/sdmx-csv/hlth_silc_24_labels.csv", "HLTH_SILC_24", "health.bad_self_perceived_health",
              "percent", {"lev_perc": ("Bad or very bad",)}),
    _eurostat("eurostat/sdmx-csv/ilc_di15_labels.csv", "ILC_DI15", "standard_of_living.median_equivalised_net_income",
              "EUR", {"indic_il": ("Median equivalised net income",)}),
    EmbeddedSpec("undesa/stock_totals_2020.csv", "UNDESA_MIGRANT_STOCK_2020", "context.migrant_share_of_population",
                 "percent", f"Source: {UNDESA_SOURCE}", "CC BY 3.0 IGO",
                 columns={"geo": "alpha3", "period": "year", "value": "fb_share"},
                 fixed={"group": "total", "sex": "T", "age": "TOTAL"}),
    EmbeddedSpec(WORLD_BANK_GDP_FILE, capacity.GDP_DATASET, capacity.GDP_INDICATOR, "international_dollars",
                 WORLD_BANK_SOURCE, "CC BY 4.0", fixed={"group": "total", "sex": "T", "age": "TOTAL"},
                 reader=read_world_bank_file, geo_aliases=capacity.WORLD_BANK_AGGREGATES, drop_missing=True,
                 keep_aggregates=False),
    *[EmbeddedSpec(instrument.file, instrument.dataset, instrument.indicator, "yes_no", instrument.source,
                   instrument.licence, fixed={"group": "total", "sex": "T", "age": "TOTAL"}, reader=treaties.read_treaty_file)
      for instrument in treaties.INSTRUMENTS.values()],
]


def build_observations(table: pd.DataFrame, spec: EmbeddedSpec) -> tuple[pd.DataFrame, list[str]]:
    """Select and translate a reader's table into stored observations for one indicator.

    table: a SourceTable.table (see core.readers). Returns (observations with OBSERVATION_COLUMNS,
    notes on rows left out, e.g. unmapped group labels such as the EU28 variants).
    """
    notes: list[str] = []
    frame = table
    for column, accepted in spec.keep.items():
        frame = frame.loc[frame[column].isin(accepted)]
    out = pd.DataFrame(index=frame.index)
    out["indicator"] = spec.indicator
    out["dataset"] = spec.dataset
    out["geo"] = frame["geo"]
    out["geo_level"] = frame["geo_level"]
    out["period"] = frame["period"].astype(int)
    out["sex"] = frame["sex"].map(readers.normalise_sex) if "sex" in frame.columns else spec.fixed.get("sex", "T")
    out["age"] = frame["age"].map(readers.normalise_age) if "age" in frame.columns else spec.fixed.get("age", "TOTAL")
    if spec.group_column:
        labels = frame[spec.group_column]
        mapping = {label: readers.normalise_group(label, spec.dimension) for label in labels.unique()}
        unmapped = sorted(label for label, group in mapping.items() if group is None)
        if unmapped:
            notes.append(f"{spec.dataset}: rows with {spec.group_column} = {unmapped} left out (no population group)")
        out["group"] = labels.map(mapping)
    else:
        out["group"] = spec.fixed.get("group", "total")
    out["unit"] = spec.unit
    out["value"] = frame["value"].astype(float)
    out["flags"] = frame["flags"].fillna("")
    for column in ("se", "ci_lower", "ci_upper", "population"):
        out[column] = np.nan
    out["source"] = spec.source
    out["licence"] = spec.licence
    aliased_any = pd.Series(False, index=out.index)
    for label, code in spec.geo_aliases.items():
        aliased = frame["geo"].astype(str) == label
        if "geo_label" in frame.columns:
            aliased |= frame["geo_label"].astype(str).str.strip() == label
        if aliased.any():
            from core.geo import resolve_place

            place = resolve_place(code)
            out.loc[aliased.to_numpy(), "geo"] = code
            out.loc[aliased.to_numpy(), "geo_level"] = place.level if place else "regional"
            aliased_any |= aliased.to_numpy()
    if not spec.keep_aggregates:
        aggregates = out["geo_level"].isin(["regional", "global"]) & ~aliased_any
        if aggregates.any():
            notes.append(f"{spec.dataset}: {out.loc[aggregates, 'geo'].nunique()} aggregates left out "
                         f"(kept: {sorted(set(spec.geo_aliases.values()))})")
        out = out.loc[~aggregates]
    if spec.drop_missing:
        out = out.loc[out["value"].notna()]
    unknown_geo = out["geo_level"] == "unknown"
    if unknown_geo.any():
        notes.append(f"{spec.dataset}: places not recognised, left out: {sorted(out.loc[unknown_geo, 'geo'].unique())}")
    out = out.loc[out["group"].notna() & out["sex"].notna() & ~unknown_geo]
    return out[OBSERVATION_COLUMNS].reset_index(drop=True), notes


def build_embedded_observations(shared_data: Path) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """Read every file named in EMBEDDED_SPECS with the project's readers.

    shared_data: the ../shared/data folder. Returns ({dataset code: observations}, notes).
    Raises ValueError when a reader reports problems in a file (the embedded data must be clean).
    """
    tables: dict[tuple, readers.SourceTable] = {}
    per_dataset: dict[str, list[pd.DataFrame]] = {}
    notes: list[str] = []
    for spec in EMBEDDED_SPECS:
        key = (spec.file, tuple(sorted((spec.columns or {}).items())))
        if key not in tables:
            if spec.reader is not None:
                tables[key] = spec.reader(shared_data / spec.file)
            else:
                content = (shared_data / spec.file).read_bytes()
                tables[key] = readers.read_file_bytes(content, spec.file, columns=spec.columns)
            notes.extend(f"{spec.file}: {note}" for note in tables[key].detected.get("notes", []))
        result = tables[key]
        hard = [p for p in result.problems if p.column != (spec.columns or {}).get("value")]
        if hard:
            raise ValueError(f"{spec.file}: {len(hard)} problem(s), first: {hard[0]}")
        if result.problems:
            notes.append(f"{spec.file}: {len(result.problems)} value cell(s) not numbers (e.g. 'NA'), kept as missing")
        observations, spec_notes = build_observations(result.table, spec)
        notes.extend(spec_notes)
        per_dataset.setdefault(spec.dataset, []).append(observations)
    return {code: pd.concat(parts, ignore_index=True) for code, parts in per_dataset.items()}, notes
