"""Uploads: what the analyst's file holds, what each column means, what is wrong, and the load.

The flow, for one file on one DuckDB cursor (``UploadSession``):

1. **Detection** (core.readers.detect_format): kind (text / Excel / GeoJSON), layout, encoding,
   delimiter, decimal mark, thousands separator, header row(s), notes below the table, sheet. The
   user may correct any of them (``overrides``).
2. **Staging**: the table part of the file goes, every cell as text, into the TEMP table
   ``upload_grid`` of the session's own cursor. A large delimited file is read by DuckDB's CSV
   reader (the fast path); anything else (Excel, Eurostat TSV, files with blank lines or quoted line
   breaks) is read in Python and copied in.
3. **Mapping** (``Mapping``, with ``guess_mapping``): which column is the place, period, value,
   population group, sex, age, unit, flag, indicator, standard error, confidence bounds and
   population (the columns of WHO's HEAT Plus template); which columns are years (wide tables) or
   hold one population group each; which labels mean which group ('Nationaux', 'Ausländer',
   'Foreign country', NAT, FOR, NEU27_2020_FOR ...), sex, indicator or place; which catalogue
   indicator the values measure, or a new indicator defined on the spot.
4. **Validation** (``UploadSession.validate``): every distinct label is resolved once in Python
   (places in any language and code system, groups, sexes; a table of more than LOOKUP_SAMPLE_ROWS
   rows first takes its labels from a sample of rows, and staging finds any row whose label is not
   among them, which makes them be read from every row); numbers, years, duplicates, ranges are
   checked in SQL over all rows. The ``Report`` counts rows read, usable, rejected and left out,
   and lists each problem with its row, column, value and what to do.
5. **Load** (``UploadSession.load``): the usable rows, in one transaction, as a named dataset with
   its provenance (file name, SHA-256 of the bytes, time, rows, the detection and mapping used).
   A file with problems is rejected whole unless the user chooses to leave the rejected rows out;
   a failed load leaves every stored dataset as it was.

Nothing here imports streamlit; the pages reach it through ui.upload.
"""
from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

import duckdb
import pandas as pd

from core import queries, readers, store, vocabulary
from core.catalogue import UNITS, Catalogue, Indicator, load_default_catalogue
from core.readers import FileFormat, Problem

#: The roles a column can play, with the words shown to the user.
ROLES: dict[str, str] = {
    "geo": "Place",
    "period": "Period (year)",
    "value": "Value",
    "group": "Population group",
    "sex": "Sex",
    "age": "Age band",
    "unit": "Unit",
    "flag": "Flags",
    "indicator": "Indicator",
    "se": "Standard error",
    "ci_lower": "Lower 95% bound",
    "ci_upper": "Upper 95% bound",
    "population": "Population",
}
_ROLE_TEXT = {role: store.LONG_TEXT_COLUMNS[index] for index, role in enumerate(
    ("geo", "period", "value", "flag", "group", "sex", "age", "unit", "indicator", "se", "ci_lower", "ci_upper", "population"))}
#: A pseudo column: the titles above the year columns of a two-row header (UN DESA's
#: "International migrant stock at mid-year (both sexes)" over 1990 ... 2019), usable as a role.
COLUMN_TITLES = "(titles above the year columns)"
#: Place levels: 'auto' resolves countries and aggregates (and codes of uploaded boundaries as
#: local units); 'local' takes every place code as a local unit.
PLACE_LEVELS = {"auto": "Countries and aggregates (recognised automatically)", "local": "Local units (my own codes)"}
#: Rows below this many bytes are staged in Python; above, DuckDB's CSV reader is tried first.
FAST_PATH_BYTES = 1_000_000
MAX_PROBLEMS_LISTED = 1000
_HASHING = ThreadPoolExecutor(max_workers=2, thread_name_prefix="rightsgap-sha256")
GUESS_SAMPLE_ROWS = 50_000
#: Tables of more rows take their labels from about one row in LOOKUP_SAMPLE_EVERY first (checked
#: exactly at staging: a text outside the sample makes the lookups from every row).
LOOKUP_SAMPLE_ROWS = 200_000
LOOKUP_SAMPLE_EVERY = 20

_PROBLEM_TEXT = {
    "value": "value is not a number{format}; write a number such as 12.5 (flag letters may follow: '12.5 u'), "
             "or leave the cell empty, or ':' when there is no value",
    "place": "unknown country or area; use an ISO 3166 code (DEU, DE, 276), a name in English or in the local language, "
             "or give it a code (or leave it out) in the place table; for sub-national units, upload their boundaries first "
             "or choose 'local units'",
    "local_place": "unknown local unit: not among the codes of the boundaries you uploaded ({boundaries}); check the code "
                   "or leave the row out in the place table",
    "period": "period is not a year (YYYY); only annual data are supported",
    "year_range": "year {period} is out of range ({first}-{last}); check for a typo",
    "group": "unknown population group label; say which group it is (nationals, non-nationals, native-born, "
             "foreign-born ...) in the group table, or leave those rows out",
    "sex": "unknown sex; use T (total), F (females) or M (males), or say what the label means in the sex table",
    "indicator": "unknown indicator; say which catalogue indicator these rows measure in the indicator table, "
                 "or leave them out",
    "se": "standard error is not a number; leave it empty when unknown",
    "ci_lower": "lower confidence bound is not a number; leave it empty when unknown",
    "ci_upper": "upper confidence bound is not a number; leave it empty when unknown",
    "population": "population is not a number; leave it empty when unknown",
    "se_negative": "a standard error cannot be negative",
    "ci_order": "the lower confidence bound is above the upper bound; swap the two columns",
    "percent_range": "a percentage must be between 0 and 100; check the value, the unit or the indicator",
    "percent_range_scaled": "a percentage must be between 0 and 100, and 'values are 0-1 shares' (x 100) makes this one "
                            "{value:g}; untick it if the values already are percentages",
    "share_mixed": "looks like a 0-1 share among percentages ({value:g} would be {percent:g}%); write every value as a "
                   "percentage (0-100), or every value as a share and choose 'values are 0-1 shares'",
    "duplicate": "conflicting duplicate: {rows} have the same indicator, place, year, sex, age band and group but "
                 "{differ} ({values}); {rejected} rejected, since we cannot tell which is right: keep the correct row "
                 "and delete the {others}{hint}",
    "repeat": "row {row} repeats row {first} exactly (same place, year, group, value and flags); kept once",
    "no_rows": "{file} has a header line ({columns}) but no data rows; add the rows below the header "
               "(or check which row is the header)",
    "mixed_dimensions": "group {group} ({dimension}) is compared with no {reference} in this file, while the file has "
                        "{other}: a gap compares within one dimension; check the group labels (did '{label}' mean "
                        "foreign citizens or the foreign-born?)",
}


@dataclass
class Mapping:
    """What each column means, and how labels translate. JSON-ready (as_dict / from_dict).

    columns: {role: header name} (roles: keys of ROLES; COLUMN_TITLES may stand for a column);
    year_columns: headers of a wide table, one year each; group_columns: {group: header} of a table
    with one value column per group; group_flag_columns: {group: header of its flag column};
    group_dimension: 'citizenship' or 'country_of_birth' (how NAT/FOR/'Foreign country' read);
    group_labels / sex_labels / indicator_labels: {label in the file: group / T,F,M / indicator code,
    or '' to leave those rows out}; place_labels: {place text: geo code, or '' to leave out};
    indicator: the indicator of every row when there is no indicator column (catalogue code, or the
    code of new_indicator); new_indicator: fields of an indicator defined at upload (title, unit,
    polarity, right, attribute, type, source_type, producer_type, definition ...);
    filters: {header: [accepted texts]}; fixed: {role: text} for roles with no column (period,
    sex, age); place_level: 'auto' or 'local'; value_scale: 1, or 100 when values are 0-1 shares of
    a percentage indicator.
    """

    columns: dict[str, str] = field(default_factory=dict)
    year_columns: list[str] = field(default_factory=list)
    group_columns: dict[str, str] = field(default_factory=dict)
    group_flag_columns: dict[str, str] = field(default_factory=dict)
    group_dimension: str | None = None
    group_labels: dict[str, str] = field(default_factory=dict)
    sex_labels: dict[str, str] = field(default_factory=dict)
    indicator_labels: dict[str, str] = field(default_factory=dict)
    place_labels: dict[str, str] = field(default_factory=dict)
    indicator: str | None = None
    new_indicator: dict | None = None
    filters: dict[str, list[str]] = field(default_factory=dict)
    fixed: dict[str, str] = field(default_factory=dict)
    place_level: str = "auto"
    value_scale: float = 1.0

    def as_dict(self) -> dict:
        """JSON-ready dict of every field."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "Mapping":
        """The inverse of as_dict (unknown keys ignored)."""
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in (values or {}).items() if k in known})


@dataclass
class DatasetInfo:
    """Provenance the user gives a dataset: name (unique), title, producer, producer_type
    ('official' | 'civil_society'), source (attribution shown with every figure), licence, url, as_of."""

    name: str
    title: str = ""
    producer: str = ""
    producer_type: str = "official"
    source: str = ""
    licence: str = ""
    url: str = ""
    as_of: str = ""


@dataclass
class Report:
    """What validation (or a load) found.

    status: 'valid' (ready to load), 'rejected' (problems; nothing stored) or 'loaded';
    rows_read: observations in the file (cells of a wide table); rows_usable; rows_rejected (with a
    problem); rows_left_out (by a filter, a label mapped to 'leave out', or an exact repeat of an
    earlier row); rows_repeated (of rows_left_out: exact repeats, kept once); rows_loaded (stored);
    missing_values (usable rows with no value, stored as missing); problems: the first
    MAX_PROBLEMS_LISTED problems by row; problem_counts: {kind: rows} (every row listed under a kind
    counts once there); notes: things done to rows that are no problem (exact repeats kept once:
    kind 'repeat', at most MAX_PROBLEMS_LISTED); summary: what the usable
    rows hold (indicators, groups, sexes, ages, geo_levels, places, first_year, last_year);
    detected: the FileFormat as a dict; mapping: the Mapping as a dict; dataset: the name loaded;
    warnings: what the user should look at before loading although nothing is wrong with any row
    (values that look like 0-1 shares of a percentage indicator, no age band where the indicator's
    other figures have one, a migrant group without its reference group): text, see
    UploadSession.warnings_of.
    """

    status: str
    rows_read: int = 0
    rows_usable: int = 0
    rows_rejected: int = 0
    rows_left_out: int = 0
    rows_repeated: int = 0
    rows_loaded: int = 0
    missing_values: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_counts: dict[str, int] = field(default_factory=dict)
    notes: list[Problem] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    detected: dict = field(default_factory=dict)
    mapping: dict = field(default_factory=dict)
    dataset: str | None = None
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        """JSON-ready: {status, dataset, rows_read, rows_loaded, rows_usable, rows_rejected,
        rows_left_out, rows_repeated, missing_values, detected, mapping, summary, problem_counts,
        problems: [{row, column, value, message, kind}], notes: [same keys], warnings: [text]}."""
        return {"status": self.status, "dataset": self.dataset, "rows_read": self.rows_read, "rows_loaded": self.rows_loaded,
                "rows_usable": self.rows_usable, "rows_rejected": self.rows_rejected, "rows_left_out": self.rows_left_out,
                "rows_repeated": self.rows_repeated, "missing_values": self.missing_values, "detected": self.detected, "mapping": self.mapping,
                "summary": self.summary, "problem_counts": self.problem_counts,
                "problems": [p.as_dict() for p in self.problems], "notes": [n.as_dict() for n in self.notes],
                "warnings": list(self.warnings)}

    def problems_frame(self, file_name: str | None = None) -> pd.DataFrame:
        """The problems as a table: Row, Column, Value, What is wrong and what to do (with a first
        column File when file_name is given, as in the downloadable CSV)."""
        frame = pd.DataFrame([{"Row": p.row, "Column": p.column, "Value": p.value, "What is wrong and what to do": p.message}
                              for p in self.problems],
                             columns=["Row", "Column", "Value", "What is wrong and what to do"]).astype({"Row": "Int64"})
        if file_name is not None:
            frame.insert(0, "File", file_name)
        return frame


class UploadError(ValueError):
    """A request the upload cannot carry out (bad dataset name, unknown indicator ...): the message says what to do."""


# -------------------------------------------------------------------------------------- guessing


def _role_of(name: str) -> str | None:
    folded = readers.fold_text(name)
    for role, words in readers._ROLE_WORDS.items():
        if folded in words:
            return role
    return None


_SDMX_ROLES = {"geo": "geo", "TIME_PERIOD": "period", "OBS_VALUE": "value", "OBS_FLAG": "flag", "citizen": "group",
               "c_birth": "group", "sex": "sex", "age": "age", "unit": "unit"}
_WORLD_BANK_ROLES = {"Country Code": "geo", "Indicator Code": "indicator"}
_HEAT_PLUS_PREFERENCE = ("iso3", "setting")


def guess_roles(fmt: FileFormat, distinct) -> dict[str, str]:
    """Guess {role: header} from the header names (in several languages; Eurostat SDMX names;
    World Bank names; HEAT Plus names) and, for the place and value, from the cells.

    distinct: a function header -> DataFrame(value, rows) of the column's distinct texts.
    """
    columns = [c for c in fmt.columns if c not in fmt.year_columns or fmt.layout not in ("wide", "world_bank", "eurostat_tsv")]
    roles: dict[str, str] = {}
    if fmt.layout == "sdmx_csv":
        for name in columns:
            role = _SDMX_ROLES.get(name)
            if role and role not in roles:
                roles[role] = name
        return roles
    if fmt.layout == "world_bank":
        return {role: name for name, role in _WORLD_BANK_ROLES.items() if name in columns}
    if fmt.layout == "eurostat_tsv":
        for name in columns:
            role = _SDMX_ROLES.get(name)
            if role and role not in roles and role not in ("period", "value", "flag"):
                roles[role] = name
        return roles
    for preferred in _HEAT_PLUS_PREFERENCE:  # HEAT Plus has both: the ISO code is the better key
        match = next((c for c in columns if readers.fold_text(c) == preferred), None)
        if match:
            roles["geo"] = match
            break
    for name in columns:
        role = _role_of(name)
        if role and role not in roles and name not in roles.values():
            if role == "value" and fmt.layout == "group_columns":
                continue
            roles[role] = name
    if "geo" not in roles:
        roles.update(_guess_place_column(columns, roles, distinct))
    if fmt.layout == "tidy" and "value" not in roles:
        numeric = [c for c in columns if c not in roles.values() and _share_numeric(distinct(c)) >= 0.9]
        if numeric:
            roles["value"] = numeric[-1]
    if fmt.layout == "tidy" and "period" not in roles:
        years = [c for c in columns if c not in roles.values() and _share_years(distinct(c)) >= 0.95]
        if years:
            roles["period"] = years[0]
    if fmt.layout in ("wide",) and COLUMN_TITLES not in roles.values() and any(fmt.column_titles):
        titles = {t for t, c in zip(fmt.column_titles, fmt.columns) if c in fmt.year_columns and t}
        if titles and all(readers.normalise_sex(t) for t in titles) and "sex" not in roles:
            roles["sex"] = COLUMN_TITLES
    return roles


def _share_numeric(values: pd.DataFrame) -> float:
    cells = [v for v in values["value"] if v]
    return sum(readers._is_numberish(v) for v in cells) / len(cells) if cells else 0.0


def _share_years(values: pd.DataFrame) -> float:
    cells = [v for v in values["value"] if v]
    return sum(readers.parse_year(v) is not None for v in cells) / len(cells) if cells else 0.0


def _guess_place_column(columns: list[str], taken: dict[str, str], distinct) -> dict[str, str]:
    """The column whose distinct texts resolve best to places; a code column wins a tie."""
    best, best_score = None, 0.0
    for name in columns:
        if name in taken.values():
            continue
        values = [v for v in distinct(name)["value"].head(300) if v]
        if not values or all(readers._is_numberish(v) and not v.isdigit() for v in values):
            continue
        resolved = readers.resolve_places(values)
        score = sum(resolved[v] is not None for v in values) / len(values)
        if score > best_score + 0.02 or (abs(score - best_score) <= 0.02 and best and _is_code_column(values)):
            best, best_score = name, score
    return {"geo": best} if best and best_score >= 0.5 else {}


def _is_code_column(values: list[str]) -> bool:
    return sum(len(v) <= 4 for v in values) >= 0.8 * len(values)


def guess_mapping(fmt: FileFormat, distinct, catalogue: Catalogue | None = None, boundary_codes: set[str] | None = None) -> Mapping:
    """Fill a Mapping with good guesses for this file.

    distinct: header -> DataFrame(value, rows) of the column's distinct texts (see
    UploadSession.distinct). boundary_codes: codes of uploaded boundaries (a place column whose
    codes are mostly among them is read as local units).
    """
    catalogue = catalogue or load_default_catalogue()
    roles = guess_roles(fmt, distinct)
    mapping = Mapping(columns=roles)
    if fmt.layout in ("wide", "world_bank", "eurostat_tsv"):
        mapping.year_columns = list(fmt.year_columns)
    if fmt.layout == "group_columns":
        for name in fmt.group_columns:
            dimension = readers.guess_group_dimension(name, fmt.group_columns)
            group = readers.guess_group(name, dimension)
            if group and group not in mapping.group_columns:
                mapping.group_columns[group] = name
                mapping.group_dimension = dimension
                flag = next((c for c in fmt.columns if readers.fold_text(c) in {f"{readers.fold_text(name)}{s}" for s in
                             ("_flag", " flag", "_flags", " flags", "_status")} | {f"flag_{readers.fold_text(name)}"}), None)
                if flag:
                    mapping.group_flag_columns[group] = flag
    if "group" in roles:
        labels = _distinct_labels(roles["group"], fmt, distinct)
        mapping.group_dimension = readers.guess_group_dimension(roles["group"], labels)
        for label in labels:
            group = readers.guess_group(label, mapping.group_dimension)
            if group:
                mapping.group_labels[label] = group
            elif _OBSOLETE_GROUP.search(label):
                mapping.group_labels[label] = ""  # EU28 variants: superseded by EU27_2020, left out (shown to the user)
    if "sex" in roles:
        labels = _distinct_labels(roles["sex"], fmt, distinct)
        mapping.sex_labels = {label: readers.normalise_sex(label) for label in labels if readers.normalise_sex(label)}
    if "indicator" in roles:
        labels = _distinct_labels(roles["indicator"], fmt, distinct)
        mapping.indicator_labels = {label: label for label in labels if label in catalogue}
    if "geo" in roles and boundary_codes:
        values = [v for v in distinct(roles["geo"])["value"] if v]
        if values and sum(v in boundary_codes for v in values) >= 0.8 * len(values):
            mapping.place_level = "local"
    if "unit" in roles and fmt.layout in ("sdmx_csv", "eurostat_tsv"):
        units = [u for u in _distinct_labels(roles["unit"], fmt, distinct) if u]
        if len(units) > 1:
            percent = [u for u in units if readers.normalise_unit(u) == "percent"]
            mapping.filters[roles["unit"]] = percent[:1] or units[:1]
    return mapping


#: Eurostat group codes and labels of former EU compositions (EU28, EU27_2007, EU25, EU15), superseded
#: by EU27_2020: guessed as 'leave out'.
_OBSOLETE_GROUP = re.compile(r"EU28|EU27_2007|EU25|EU15|\(2013-2020\)|\(2007-2013\)", re.I)


def _distinct_labels(column: str, fmt: FileFormat, distinct) -> list[str]:
    if column == COLUMN_TITLES:
        return sorted({t for t, c in zip(fmt.column_titles, fmt.columns) if c in fmt.year_columns and t})
    return [v for v in distinct(column)["value"].tolist() if v != ""]


# ------------------------------------------------------------------------------------ indicators


def build_custom_indicator(fields: dict, catalogue: Catalogue | None = None, taken: set[str] = frozenset()) -> Indicator:
    """An indicator defined at upload, checked like a catalogue entry.

    fields: title, unit (a key of core.catalogue.UNITS), polarity, right, attribute, type
    (structural/process/outcome), source_type (or source_types), producer_type ('official' |
    'civil_society'), and optionally code, definition, levels, and the other metadata-sheet fields
    (filled with 'Defined by the analyst at upload: ...' when not given).
    Returns the Indicator (its code '<right>.<words of the title>' unless given, made unique).
    Raises UploadError naming the field when a field is missing or not in the vocabulary.
    """
    catalogue = catalogue or load_default_catalogue()
    fields = dict(fields or {})
    title = str(fields.get("title", "")).strip()
    if len(title) < 5:
        raise UploadError("give the new indicator a title of at least 5 characters")
    right = fields.get("right")
    if right not in vocabulary.RIGHTS:
        raise UploadError(f"choose the right the indicator belongs to: one of {', '.join(vocabulary.RIGHTS)}")
    code = fields.get("code") or f"{right}.{re.sub(r'[^a-z0-9]+', '_', readers.fold_text(title)).strip('_')[:48] or 'indicator'}"
    base, number = code, 2
    while code in catalogue or code in taken:
        code, number = f"{base}_{number}", number + 1
    source_types = fields.get("source_types") or [fields.get("source_type") or "socioeconomic_administrative"]
    producer = fields.get("producer_type") or "official"
    note = f"Defined by the analyst at upload: {title}."
    entry = {
        "code": code, "title": title, "right": right, "attribute": fields.get("attribute"), "type": fields.get("type", "outcome"),
        "unit": fields.get("unit"), "polarity": fields.get("polarity"), "source_types": source_types,
        "levels": fields.get("levels") or ["national", "local"], "groups": {}, "datasets": [], "producers": [producer],
        "definition": fields.get("definition") or note + " " + "(No further definition was given.)",
        "rationale": fields.get("rationale") or note + " (The rationale was not given.)",
        "method_of_computation": fields.get("method_of_computation") or "As computed by the data producer.",
        "data_collection_and_source": fields.get("data_collection_and_source") or "The uploaded file; see its dataset's provenance.",
        "disaggregation": fields.get("disaggregation") or "As in the uploaded file.",
        "periodicity": fields.get("periodicity") or "As in the uploaded file.",
        "comments_and_limitations": fields.get("comments_and_limitations") or "Uploaded by an analyst; not reviewed by RightsGap.",
    }
    try:
        return Indicator.model_validate(entry)
    except Exception as error:  # pydantic ValidationError: name the fields
        details = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in getattr(error, "errors", lambda: [])())
        raise UploadError(f"the new indicator is not complete: {details or error}") from None


def resolve_indicator(code: str | None, connection, catalogue: Catalogue) -> dict | None:
    """The definition (dict) of a catalogue or custom indicator, or None when unknown."""
    if not code:
        return None
    if code in catalogue:
        return catalogue.get(code).model_dump()
    rows = connection.execute("SELECT definition FROM custom_indicators WHERE code = ?", [code]).fetchall()
    return json.loads(rows[0][0]) if rows else None


# --------------------------------------------------------------------------------------- session


class UploadSession:
    """One uploaded file, staged on one cursor (TEMP tables: invisible to other cursors).

    content: the file's bytes; file_name: its name; overrides: corrections of the detected format
    (keys of core.readers.FORMAT_OVERRIDES); cursor: a cursor of the store (or of an in-memory
    database, to read without storing). Detection runs at once; the table is staged on first use.
    """

    def __init__(self, cursor: duckdb.DuckDBPyConnection, content: bytes, file_name: str = "upload.csv",
                 overrides: dict | None = None, catalogue: Catalogue | None = None):
        self.cursor = cursor
        self.content = content
        self.file_name = file_name
        # The SHA-256 of a large file is computed beside the staging (hashlib releases the GIL).
        self._sha256 = _HASHING.submit(lambda: hashlib.sha256(content).hexdigest())
        self.catalogue = catalogue or load_default_catalogue()
        self.format, self.format_problems = readers.detect_format(content, file_name, overrides)
        self.grid_problems: list[Problem] = []
        self.staged_rows: int | None = None
        self.staging = None
        self._distinct: dict[str, pd.DataFrame] = {}
        self._validated: tuple[str, Report] | None = None  # (mapping key, report) of the rows staged now

    @property
    def sha256(self) -> str:
        """SHA-256 of the file's bytes (hex), for the provenance."""
        return self._sha256.result()

    # -- staging ---------------------------------------------------------------------------------

    @property
    def readable(self) -> bool:
        """True when the file is a table this session can stage (not GeoJSON, not unreadable)."""
        return self.format.kind in ("text", "excel") and bool(self.format.columns)

    def stage(self) -> int:
        """Put the table part of the file into upload_grid (once); returns the rows staged."""
        if self.staged_rows is not None:
            return self.staged_rows
        if not self.readable:
            self.staged_rows = 0
            return 0
        fmt = self.format
        if fmt.kind == "text" and fmt.layout != "eurostat_tsv" and len(self.content) >= FAST_PATH_BYTES:
            staged = self._stage_with_duckdb()
            if staged is not None:
                self.staged_rows, self.staging = staged, "duckdb"
                return staged
        grid = readers.read_grid(self.content, fmt)
        self.grid_problems = grid.problems
        self.staged_rows = store.stage_grid_from_frame(self.cursor, grid.frame)
        self.staging = "python"
        return self.staged_rows

    def _stage_with_duckdb(self) -> int | None:
        """The fast path: DuckDB reads the text; None when its rows would not match the file's lines
        (blank lines, line breaks inside quotes, rows with extra fields), so Python reads it instead."""
        fmt = self.format
        body_first = fmt.header_row + fmt.header_rows
        data, skip = self.content, 0
        if fmt.encoding in ("utf-8", "ascii", "utf-8-sig"):
            skip = 3 if data.startswith(b"\xef\xbb\xbf") else 0  # the byte-order mark, left out when written
        else:
            try:
                data = self.content.decode(fmt.encoding).lstrip("\ufeff").encode("utf-8")
            except (UnicodeDecodeError, LookupError, TypeError):
                return None
        # the line count of detection (of the decoded text: the same in UTF-8), else counted here
        total_lines = fmt.lines if fmt.lines is not None else data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
        last = fmt.last_row or total_lines
        expected = last - body_first + 1
        handle, path = tempfile.mkstemp(suffix=".csv", prefix="rightsgap_upload_")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(memoryview(data)[skip:])  # (a view: slicing the bytes would copy them)
            try:
                rows = store.stage_grid_from_csv(self.cursor, path, fmt.delimiter or ",", body_first - 1, len(fmt.columns), body_first)
            except duckdb.Error:
                return None
        finally:
            _HASHING.submit(_remove_quietly, path)  # freeing a large file's blocks takes a few ms: beside the next steps
        # rows up to the last line of the table (source_row counts from body_first): without notes
        # below the table that is every row, up to the line count, and needs no query
        limit = min(rows, expected) if fmt.last_row is None else \
            self.cursor.execute("SELECT count(*) FROM upload_grid WHERE source_row <= $last", {"last": last}).fetchall()[0][0]
        if limit != expected or rows < expected:
            return None
        return rows

    def column_of(self, header: str) -> str:
        """The grid column (c0, c1 ...) of a header name. Raises UploadError naming the columns when unknown."""
        try:
            return f"c{self.format.columns.index(header)}"
        except ValueError:
            raise UploadError(f"no column named {header!r}; the columns are {self.format.columns}") from None

    def distinct(self, header: str) -> pd.DataFrame:
        """Distinct texts of one column with their row counts: DataFrame(value, rows, first_row)."""
        if header == COLUMN_TITLES:
            titles = sorted({t for t, c in zip(self.format.column_titles, self.format.columns) if c in self.format.year_columns and t})
            return pd.DataFrame({"value": titles, "rows": [0] * len(titles), "first_row": [0] * len(titles)})
        if header not in self._distinct:
            self.stage()
            self._distinct[header] = store.fetch_distinct_cells(self.cursor, self.column_of(header), self.format.last_row)
        return self._distinct[header]

    def preview(self, rows: int = 15) -> pd.DataFrame:
        """The first rows of the table as read (header names as columns, plus Row)."""
        self.stage()
        frame = store.fetch_grid_rows(self.cursor, rows)
        renamed = {f"c{i}": name for i, name in enumerate(self.format.columns)}
        frame = frame.rename(columns=renamed).rename(columns={"source_row": "Row"})
        return frame[["Row", *[c for c in frame.columns if c != "Row"]]]

    def sample_distinct(self, header: str) -> pd.DataFrame:
        """Like distinct, over the first GUESS_SAMPLE_ROWS rows only (enough for guesses; fast on large files)."""
        if header == COLUMN_TITLES or (self.staged_rows or 0) <= GUESS_SAMPLE_ROWS:
            return self.distinct(header)
        key = f"sample:{header}"
        if key not in self._distinct:
            self._distinct[key] = store.fetch_distinct_cells(self.cursor, self.column_of(header), self.format.last_row,
                                                             sample_rows=GUESS_SAMPLE_ROWS,
                                                             first_row=self.format.header_row + self.format.header_rows)
        return self._distinct[key]

    def guess_mapping(self, boundary_codes: set[str] | None = None) -> Mapping:
        """Good guesses for the mapping (see guess_mapping), from the first GUESS_SAMPLE_ROWS rows;
        labels beyond them are guessed the same way during validation."""
        if not self.readable:
            return Mapping()
        self.stage()
        return guess_mapping(self.format, self.sample_distinct, self.catalogue, boundary_codes)

    # -- validation --------------------------------------------------------------------------------

    def validate(self, mapping: Mapping, boundary_codes: dict[str, set[str]] | None = None) -> Report:
        """Check every row against the mapping; stage the typed observations (upload_staged).

        boundary_codes: {boundaries name: codes} of the uploaded boundaries (local units).
        Returns a Report with status 'valid' or 'rejected' (never raises on bad content).
        """
        self._validated = None
        report = Report(status="rejected", detected=self.format.as_dict(), mapping=mapping.as_dict())
        problems: list[Problem] = list(self.format_problems)
        if not self.readable:
            if self.format.kind == "geojson":
                problems.append(Problem(None, None, None, "this is a GeoJSON file: load it as boundaries, not as data", "mapping"))
            report.problems = problems or [Problem(None, None, None, "no table found in the file", "mapping")]
            return report
        self.stage()
        problems.extend(self.grid_problems)
        if not self.staged_rows and not self.grid_problems:
            report.problems = problems + [self._no_rows_problem()]
            report.problem_counts = {"no_rows": 1}
            return report
        mapping_problems, parts, filters = self._plan(mapping)
        problems.extend(mapping_problems)
        if any(p.kind == "mapping" for p in mapping_problems):
            report.problems = problems
            report.problem_counts = {"mapping": sum(p.kind == "mapping" for p in problems)}
            return report
        plan = store.LongPlan(parts, filters, self.format.last_row)
        self._parts = parts
        # A large table's labels are first read from a sample of its rows; staging then finds any row
        # whose text is not among them, and only then are the lookups made from every row (exact
        # either way; the sample saves reading every text column again when each label recurs).
        sample = LOOKUP_SAMPLE_EVERY if (self.staged_rows or 0) > LOOKUP_SAMPLE_ROWS else None
        lookup_notes = self._register_lookups(mapping, boundary_codes or {}, plan, sample)
        pattern = readers.number_pattern(self.format.decimal, self.format.thousands)
        thousands = {"": "$^", " ": "[ \u00a0\u202f]"}.get(self.format.thousands, re.escape(self.format.thousands))
        counts = store.stage_observations(self.cursor, plan, pattern, self.format.decimal, thousands,
                                          sorted(readers.MISSING_MARKERS), value_scale=float(mapping.value_scale or 1.0),
                                          complete_lookups=sample is None)
        if counts.get("unlisted"):
            lookup_notes = self._register_lookups(mapping, boundary_codes or {}, plan)
            counts = store.stage_observations(self.cursor, plan, pattern, self.format.decimal, thousands,
                                              sorted(readers.MISSING_MARKERS), value_scale=float(mapping.value_scale or 1.0))
        summary = self._summary(every_row_usable=counts["clean"] == counts["kept"] and not counts["rejected"])
        if self._check_dimensions(mapping, summary, problems):
            summary = self._summary()
        rows, problem_counts = store.fetch_staged_problems(self.cursor, plan, MAX_PROBLEMS_LISTED)
        described = self._describe(rows, mapping, lookup_notes)
        problems.extend(p for p in described if p.kind != "repeat")
        problems.sort(key=lambda p: (p.row is not None, p.row or 0))
        report.notes = [p for p in described if p.kind == "repeat"]
        report.rows_repeated = problem_counts.pop("repeat", 0)
        final = store.count_staged(self.cursor)
        report.problems = problems[:MAX_PROBLEMS_LISTED]
        report.problem_counts = problem_counts
        if self.grid_problems:
            report.problem_counts["unreadable_row"] = len(self.grid_problems)
        report.summary = summary
        report.rows_read = counts["cells"] + len(self.grid_problems)
        report.rows_usable = final["usable"]
        report.rows_left_out = counts["cells"] - counts["kept"] + counts["left_out"] + report.rows_repeated
        report.rows_rejected = report.rows_read - report.rows_usable - report.rows_left_out
        report.missing_values = final["missing_values"]
        report.status = "valid" if report.rows_rejected == 0 and report.rows_usable > 0 and not problems else "rejected"
        if report.rows_usable == 0 and not problems:
            report.problems = [self._no_rows_problem()] if not report.rows_read else \
                [Problem(None, None, None, "no usable rows: every row was left out by the filters or labels", "mapping")]
        if report.rows_usable:
            report.warnings = self.warnings_of(mapping, summary, final)
        self._validated = (json.dumps([mapping.as_dict(), sorted((k, sorted(v)) for k, v in (boundary_codes or {}).items())],
                                      sort_keys=True, default=str), report)
        return report

    def warnings_of(self, mapping: Mapping, summary: dict, counts: dict) -> list[str]:
        """What the user should look at before loading, though no row is wrong (Report.warnings):

        - every usable value of a percentage indicator lies between 0 and 1: perhaps 0-1 shares
          (0.661 for 66.1%), to be loaded with 'values are 0-1 shares';
        - no age column and no age band given for every row, while the indicator's figures already
          stored all have age bands (Y15-64 ...): the rows are stored for all ages (TOTAL), which
          Explore shows apart from those bands;
        - a migrant group without its reference group (non-nationals without nationals): the
          dataset gives no gap, as gaps pair the two groups within one dataset.
        summary: _summary's dict; counts: store.count_staged's dict (smallest_value, largest_value).
        """
        warnings: list[str] = []
        definitions = {code: self._indicator_definition(code, mapping) or {} for code in summary.get("indicators", [])}
        smallest, largest = counts.get("smallest_value"), counts.get("largest_value")
        if (definitions and all(d.get("unit") == "percent" for d in definitions.values()) and float(mapping.value_scale or 1) == 1
                and smallest is not None and 0 <= smallest and largest <= 1 and counts.get("usable", 0) >= 2):
            warnings.append(f"Every value lies between 0 and 1 ({smallest:g} to {largest:g}) although the indicator is a "
                            f"percentage: if they are 0-1 shares ({largest:g} meaning {largest * 100:g}%), choose 'values are "
                            "0-1 shares'; if they really are percentages under 1%, load them as they are.")
        if "age" not in mapping.columns and not mapping.fixed.get("age") and summary.get("ages") == ["TOTAL"]:
            for code in summary.get("indicators", []):
                ages = queries.fetch_indicator_options(self.cursor, code)["ages"]
                stored = [age for age in ages if age != "TOTAL"]
                if stored and "TOTAL" not in ages:
                    warnings.append(f"The file has no age column, so its rows are stored for all ages (TOTAL), while the "
                                    f"other figures of '{definitions[code].get('title', code)}' are for age bands "
                                    f"({', '.join(stored[:4])}); Explore shows "
                                    "them apart. If the file's figures are for one age band, give it as the age band of "
                                    "every row (for example Y15-64).")
        groups = set(summary.get("groups", []))
        for group in sorted(groups):
            reference = vocabulary.REFERENCE_GROUPS.get(vocabulary.dimension_of(group))
            if reference and group != reference and reference not in groups:
                warnings.append(f"The file holds {group} but not {reference}: no gap can be computed from this dataset "
                                "(gaps compare the two groups within one dataset); add the reference group's rows to "
                                "see its gaps.")
        return warnings

    def _no_rows_problem(self) -> Problem:
        """The file has a header but no data rows (kind 'no_rows')."""
        return Problem(None, None, None, _PROBLEM_TEXT["no_rows"].format(
            file=self.file_name, columns=", ".join(self.format.columns[:6]) + (" ..." if len(self.format.columns) > 6 else "")),
            "no_rows")

    def _summary(self, every_row_usable: bool = False) -> dict:
        """What the usable staged rows hold, as values: {indicators, groups, sexes, ages, geo_levels
        (sorted lists), places (count), first_year, last_year}.

        every_row_usable: every staged row is clean and none was rejected across rows; then every
        resolved entry of the lookups (made from the texts of those very rows) occurs in a usable row,
        and the summary comes from the lookups without reading the rows again."""
        values = self._values
        if every_row_usable:
            years = [year for (year,) in values["lookup_period"].values() if year is not None]
            keys = {"ind": values["lookup_indicator"], "grp": values["lookup_group"], "sex": values["lookup_sex"],
                    "age": values["lookup_age"], "place": values["lookup_place"],
                    "first_year": min(years, default=None), "last_year": max(years, default=None)}
        else:
            keys = store.fetch_staged_key_summary(self.cursor)
        return {"indicators": sorted({values["lookup_indicator"][k][0] for k in keys["ind"]}),
                "groups": sorted({values["lookup_group"][k][0] for k in keys["grp"]}),
                "sexes": sorted({values["lookup_sex"][k][0] for k in keys["sex"]}),
                "ages": sorted({values["lookup_age"][k][0] for k in keys["age"]}),
                "geo_levels": sorted({values["lookup_place"][k][1] for k in keys["place"]}),
                "places": len(keys["place"]), "first_year": keys["first_year"], "last_year": keys["last_year"]}

    def _plan(self, mapping: Mapping) -> tuple[list[Problem], list[dict], list[tuple[str, list[str]]]]:
        """The long-table parts and filters for a mapping, with problems in the mapping itself."""
        problems: list[Problem] = []
        fmt = self.format

        def source(header: str | None):
            if not header:
                return None
            if header == COLUMN_TITLES:
                return "titles"
            return ("column", self.column_of(header))

        for role, header in mapping.columns.items():
            if role not in ROLES:
                problems.append(Problem(None, header, role, f"unknown role {role!r}; use one of {', '.join(ROLES)}", "mapping"))
            elif header != COLUMN_TITLES and header not in fmt.columns:
                problems.append(Problem(fmt.header_row, header, None, f"no column named {header!r} (for the {ROLES[role].lower()}); "
                                        f"the columns are {fmt.columns}", "mapping"))
        for name in list(mapping.year_columns) + list(mapping.group_columns.values()) + list(mapping.group_flag_columns.values()) \
                + list(mapping.filters):
            if name not in fmt.columns:
                problems.append(Problem(fmt.header_row, name, None, f"no column named {name!r}; the columns are {fmt.columns}", "mapping"))
        for group in list(mapping.group_columns) + list(mapping.group_flag_columns):
            if group not in vocabulary.POPULATION_GROUPS:
                problems.append(Problem(None, None, group, f"unknown population group {group!r}; use one of "
                                        f"{', '.join(vocabulary.POPULATION_GROUPS)}", "mapping"))
        if "geo" not in mapping.columns:
            problems.append(Problem(None, None, None, "say which column holds the place (country, aggregate or local unit)", "mapping"))
        wide = bool(mapping.year_columns)
        by_group = bool(mapping.group_columns)
        if wide and by_group:
            problems.append(Problem(None, None, None, "choose either year columns or one value column per group, not both", "mapping"))
        if not wide and not by_group and "value" not in mapping.columns:
            problems.append(Problem(None, None, None, "say which column holds the values (or which columns are years, "
                                    "or which column holds each group's values)", "mapping"))
        if not wide and "period" not in mapping.columns and not mapping.fixed.get("period"):
            problems.append(Problem(None, None, None, "say which column holds the year, or give the year of every row", "mapping"))
        if mapping.fixed.get("period") and readers.parse_year(mapping.fixed["period"]) is None:
            problems.append(Problem(None, None, mapping.fixed["period"], "the year given for every row is not a year (YYYY)", "mapping"))
        if "indicator" not in mapping.columns and not mapping.indicator:
            problems.append(Problem(None, None, None, "say which indicator the values measure (a catalogue indicator, "
                                    "or define a new one)", "mapping"))
        if mapping.place_level not in PLACE_LEVELS:
            problems.append(Problem(None, None, mapping.place_level, f"place level must be one of {list(PLACE_LEVELS)}", "mapping"))
        if any(p.kind == "mapping" for p in problems):
            return problems, [], []
        base = {}
        for role, header in mapping.columns.items():
            if role == "value" and (wide or by_group):
                continue
            if role == "period" and wide:
                continue
            base[_ROLE_TEXT[role]] = source(header)
        for role in ("period", "sex", "age"):
            if role not in mapping.columns and mapping.fixed.get(role):
                base[_ROLE_TEXT[role]] = ("literal", str(mapping.fixed[role]))
        parts: list[dict] = []
        if wide:
            titles = dict(zip(fmt.columns, fmt.column_titles or [""] * len(fmt.columns)))
            for header in mapping.year_columns:
                year = readers.header_year(header)
                part = {**base, "value_column": header, "value_text": ("column", self.column_of(header)),
                        "period_text": ("literal", str(year) if year else header)}
                for column, value in list(part.items()):
                    if value == "titles":
                        part[column] = ("literal", titles.get(header, ""))
                parts.append(part)
        elif by_group:
            for group, header in mapping.group_columns.items():
                part = {**base, "value_column": header, "value_text": ("column", self.column_of(header)),
                        "group_text": ("literal", group)}
                if group in mapping.group_flag_columns:
                    part["flag_text"] = ("column", self.column_of(mapping.group_flag_columns[group]))
                parts.append(part)
        else:
            parts.append({**base, "value_column": mapping.columns["value"]})
        for part in parts:
            for column, value in list(part.items()):
                if value == "titles":
                    part[column] = None
        filters = [(self.column_of(header), list(accepted)) for header, accepted in mapping.filters.items() if accepted]
        return problems, parts, filters

    def _register_lookups(self, mapping: Mapping, boundary_codes: dict[str, set[str]], plan: store.LongPlan,
                          sample_every: int | None = None) -> dict:
        """Resolve each distinct cell text once (places, groups, sexes, ages, indicators, flags,
        periods) and register the lookup tables (text -> key, status, value). Keeps
        self._values = {lookup name: {key: resolved values}}. Returns notes used to word the problems.
        sample_every: the texts of about one row in sample_every only (see LongPlan.distinct)."""
        texts = plan.distinct(self.cursor, ["geo_text", "group_text", "sex_text", "age_text", "indicator_text", "flag_text",
                                            "period_text"], sample_every)
        self._values = {}
        notes: dict = {}
        # places
        all_codes = set().union(*boundary_codes.values()) if boundary_codes else set()
        stripped = {t: t.strip() for t in texts["geo_text"]}
        resolved = readers.resolve_places([s for s in stripped.values() if s]) if mapping.place_level == "auto" else {}
        entries = []
        for raw, text in stripped.items():
            if text in mapping.place_labels or raw in mapping.place_labels:
                wanted = (mapping.place_labels.get(text, mapping.place_labels.get(raw)) or "").strip()
                if not wanted:
                    entries.append((raw, "left_out", None))
                    continue
                place = readers.resolve_place_any(wanted)
                if place:
                    entries.append((raw, "ok", (place.code, place.level)))
                else:
                    known = mapping.place_level == "local" or wanted in all_codes
                    entries.append((raw, "ok" if known else "unknown", (wanted, "local") if known else None))
            elif not text:
                entries.append((raw, "unknown", None))
            elif mapping.place_level == "local":
                known = not all_codes or text in all_codes
                entries.append((raw, "ok" if known else "unknown", (text, "local") if known else None))
            elif resolved.get(text) is not None:
                entries.append((raw, "ok", (resolved[text].code, resolved[text].level)))
            elif text in all_codes:
                entries.append((raw, "ok", (text, "local")))
            else:
                entries.append((raw, "unknown", None))
        self._register("lookup_place", entries)
        notes["boundaries"] = ", ".join(sorted(boundary_codes)) if boundary_codes else ""
        notes["local"] = mapping.place_level == "local" and bool(all_codes)
        # population groups
        dimension = mapping.group_dimension or readers.guess_group_dimension(mapping.columns.get("group", ""))
        group_role = "group" in mapping.columns or bool(mapping.group_columns)
        entries = []
        for raw in texts["group_text"]:
            text = raw.strip()
            if not group_role:
                entries.append((raw, "ok", ("total",)))
            elif text in mapping.group_labels or raw in mapping.group_labels:
                group = mapping.group_labels.get(text, mapping.group_labels.get(raw))
                if not group:
                    entries.append((raw, "left_out", None))
                else:
                    entries.append((raw, "ok", (group,)) if group in vocabulary.POPULATION_GROUPS else (raw, "unknown", None))
            else:
                group = readers.guess_group(text, dimension) if text else None
                entries.append((raw, "ok", (group,)) if group else (raw, "unknown", None))
        self._register("lookup_group", entries)
        # sex (no column, or an empty cell: the sex given for every row, else total)
        entries = []
        for raw in texts["sex_text"]:
            text = raw.strip()
            if text in mapping.sex_labels or raw in mapping.sex_labels:
                sex = mapping.sex_labels.get(text, mapping.sex_labels.get(raw))
                if not sex:
                    entries.append((raw, "left_out", None))
                else:
                    entries.append((raw, "ok", (sex,)) if sex in vocabulary.SEXES else (raw, "unknown", None))
            elif not text:
                entries.append((raw, "ok", (mapping.fixed.get("sex") or "T",)))
            else:
                sex = readers.normalise_sex(text)
                entries.append((raw, "ok", (sex,)) if sex else (raw, "unknown", None))
        self._register("lookup_sex", entries)
        # age
        self._register("lookup_age", [(raw, "ok", (readers.normalise_age(raw.strip()) if raw.strip() else
                                                   (mapping.fixed.get("age") or "TOTAL"),)) for raw in texts["age_text"]])
        # indicators (and their units)
        entries = []
        indicator_texts = texts["indicator_text"]
        for raw in indicator_texts:
            text = raw.strip()
            if "indicator" in mapping.columns and text:
                code = mapping.indicator_labels.get(text, text if (text in self.catalogue or text == mapping.indicator) else None)
                if code is None and len(indicator_texts) == 1 and mapping.indicator:
                    code = mapping.indicator  # one indicator in the file (e.g. a World Bank series code): the one chosen
                if code == "":
                    entries.append((raw, "left_out", None))
                    continue
            else:
                code = mapping.indicator
            definition = self._indicator_definition(code, mapping)
            entries.append((raw, "ok", (code, definition["unit"])) if definition else (raw, "unknown", None))
        self._register("lookup_indicator", entries)
        # flags, periods (few distinct texts: parsed once each)
        self._register("lookup_flag", [(raw, "ok", (_flag_letters(raw.strip()),)) for raw in texts["flag_text"]])
        self._register("lookup_period", [(raw, "ok", (readers.parse_year(raw.strip()),)) for raw in texts["period_text"]])
        return notes

    def _register(self, name: str, entries: list[tuple]) -> None:
        """Register one lookup from (raw text, status, resolved values or None); equal resolved
        values share one key."""
        columns = store.LOOKUP_TABLES[name]
        keys: dict[tuple, int] = {}
        rows = []
        for raw, status, values in entries:
            if values is None:
                rows.append((raw, None, status, *([None] * (len(columns) - 3))))
                continue
            key = keys.setdefault(tuple(values), len(keys))
            rows.append((raw, key, status, *values))
        self._values[name] = {key: values for values, key in keys.items()}
        store.register_lookup(self.cursor, name, rows)

    def _indicator_definition(self, code: str | None, mapping: Mapping) -> dict | None:
        if not code:
            return None
        if mapping.new_indicator and code == mapping.indicator:
            return dict(mapping.new_indicator, code=code)
        return resolve_indicator(code, self.cursor, self.catalogue)

    def _check_dimensions(self, mapping: Mapping, summary: dict, problems: list[Problem]) -> bool:
        """Groups from two dimensions mixed: a migrant group whose reference group is missing while
        another dimension's reference group is present (e.g. nationals with foreign-born). Its rows
        are rejected and the first 50 reported. Returns True when there were such groups."""
        groups = set(summary["groups"])
        present = {vocabulary.dimension_of(g) for g in groups} - {None}
        orphans = [g for g in sorted(groups) if vocabulary.dimension_of(g) in vocabulary.REFERENCE_GROUPS
                   and vocabulary.REFERENCE_GROUPS[vocabulary.dimension_of(g)] not in groups
                   and any(vocabulary.REFERENCE_GROUPS.get(d) in groups for d in present if d != vocabulary.dimension_of(g))]
        if not orphans:
            return False
        keys = [key for key, (group,) in self._values["lookup_group"].items() if group in orphans]
        rows = store.reject_staged_groups(self.cursor, keys)
        texts = self._cell_texts(rows)
        group_column = mapping.columns.get("group")
        for row in rows.itertuples(index=False):
            group = self._values["lookup_group"][row.grp][0]
            dimension = vocabulary.dimension_of(group)
            other = sorted(g for g in groups if vocabulary.dimension_of(g) not in (dimension, None))
            label = texts.get((row.source_row, row.part), {}).get("group_text") or group
            problems.append(Problem(int(row.source_row), group_column or self._parts[row.part]["value_column"], label,
                                    _PROBLEM_TEXT["mixed_dimensions"].format(
                                        group=group, dimension=dimension.replace("_", " "),
                                        reference=vocabulary.REFERENCE_GROUPS[dimension], other=", ".join(other),
                                        label=label), "mixed_dimensions"))
        return True

    def _cell_texts(self, rows: pd.DataFrame) -> dict:
        """{(source_row, part): {role text column: cell text}} for a few staged rows."""
        if rows.empty:
            return {}
        frame = self.cursor.execute("SELECT * FROM upload_grid WHERE list_contains($rows, source_row)",
                                    {"rows": [int(r) for r in rows["source_row"].unique()]}).df().set_index("source_row")
        result = {}
        for source_row, part in zip(rows["source_row"], rows["part"]):
            spec = self._parts[int(part)]
            cells = {}
            for column in store.LONG_TEXT_COLUMNS:
                source = spec.get(column)
                if source is None:
                    cells[column] = None
                elif source[0] == "literal":
                    cells[column] = source[1]
                else:
                    cells[column] = frame.at[source_row, source[1]] if source_row in frame.index else None
            result[(source_row, part)] = cells
        return result

    def _describe(self, rows: pd.DataFrame, mapping: Mapping, notes: dict) -> list[Problem]:
        """Problems (row, column, value, what to do) from the staged error rows."""
        fmt = self.format
        number_format = "" if fmt.decimal == "." and not fmt.thousands else \
            f" in this file's format (decimal {fmt.decimal!r}{', thousands ' + repr(fmt.thousands) if fmt.thousands else ''})"
        column_of_role = dict(mapping.columns)
        duplicate_hint = self._duplicate_hint(mapping)
        conflicts = self._conflicting_rows(rows)
        problems = []
        seen: set[tuple] = set()
        for row in rows.itertuples(index=False):
            kind = row.kind
            if kind == "mixed_dimensions":
                continue  # worded by _check_dimensions
            value_column = self._parts[int(row.part)]["value_column"]
            if kind in ("place", "group", "sex", "indicator", "period", "year_range") and not mapping.year_columns \
                    or kind in ("place", "group", "sex", "indicator"):
                if (row.source_row, kind) in seen:
                    continue  # one problem per row for what the whole row shares (a wide row has many cells)
                seen.add((row.source_row, kind))
            if kind in ("value", "percent_range", "share_mixed", "duplicate", "repeat"):
                column, value = value_column, row.value_text
            elif kind in ("period", "year_range"):
                column = column_of_role.get("period", value_column if mapping.year_columns else None)
                value = row.period_text
            elif kind in ("se", "ci_lower", "ci_upper", "population"):
                column, value = column_of_role.get(kind), getattr(row, f"{kind}_text")
            elif kind == "se_negative":
                column, value = column_of_role.get("se"), row.se_text
            elif kind == "ci_order":
                column, value = column_of_role.get("ci_lower"), f"{row.ci_lower_text} > {row.ci_upper_text}"
            elif kind == "place":
                column, value = column_of_role.get("geo"), row.geo_text
            else:
                role = {"group": "group", "sex": "sex", "indicator": "indicator"}[kind]
                column = column_of_role.get(role, value_column)
                value = getattr(row, f"{role}_text")
            if kind == "place" and notes.get("local"):
                message = _PROBLEM_TEXT["local_place"].format(boundaries=notes["boundaries"])
            elif kind == "year_range":
                from datetime import date

                message = _PROBLEM_TEXT["year_range"].format(period=row.period, first=store.FIRST_YEAR, last=date.today().year + 1)
            elif kind == "share_mixed":
                message = _PROBLEM_TEXT["share_mixed"].format(value=row.value, percent=row.value * 100)
            elif kind == "duplicate":
                message = self._conflict_message(conflicts.get((int(row.source_row), int(row.part)), []), duplicate_hint)
            elif kind == "repeat":
                message = _PROBLEM_TEXT["repeat"].format(row=int(row.source_row), first=int(row.duplicate_of))
            elif kind == "value":
                message = _PROBLEM_TEXT["value"].format(format=number_format)
            elif kind == "percent_range" and float(mapping.value_scale or 1) != 1 and not pd.isna(row.value):
                message = _PROBLEM_TEXT["percent_range_scaled"].format(value=row.value)
            elif kind == "indicator" and not row.indicator_text:
                message = "no indicator for these rows: choose the indicator the values measure"
            else:
                message = _PROBLEM_TEXT[kind]
            problems.append(Problem(int(row.source_row), column, None if pd.isna(value) else str(value), message, kind))
        return problems

    def _conflicting_rows(self, rows: pd.DataFrame) -> dict[tuple[int, int], list[tuple[str, str, float]]]:
        """{(row, part) of a listed conflicting duplicate: [(where, cell text, value) of every row of
        its observation, in file order]}; where is 'row 4' (or 'row 4 (2019)' when a row holds
        several observations)."""
        listed = [(int(r.source_row), int(r.part)) for r in rows.itertuples(index=False) if r.kind == "duplicate"]
        members = store.fetch_duplicate_members(self.cursor, listed)
        if members.empty:
            return {}
        others = members[["other_row", "other_part"]].drop_duplicates().rename(columns={"other_row": "source_row",
                                                                                      "other_part": "part"})
        texts = self._cell_texts(others)
        several = len(self._parts) > 1
        result: dict[tuple[int, int], list] = {}
        for m in members.itertuples(index=False):
            where = f"row {int(m.other_row)}" + (f" ({self._parts[int(m.other_part)]['value_column']})" if several else "")
            text = texts.get((m.other_row, m.other_part), {}).get("value_text")
            result.setdefault((int(m.source_row), int(m.part)), []).append(
                (where, text if isinstance(text, str) and text.strip() else "empty", m.other_value))
        return result

    @staticmethod
    def _conflict_message(members: list[tuple[str, str, float]], hint: str) -> str:
        """The message of one conflicting duplicate, naming every row and value of the observation."""
        if len(members) < 2:  # not expected: a conflict has two rows at least
            return _PROBLEM_TEXT["duplicate"].format(rows="rows", differ="different values", values="see the file",
                                                     rejected="they are", others="others", hint=hint)
        wheres = [w for w, _, _ in members]
        listed = ", ".join(w.removeprefix("row ") for w in wheres[:-1]) + " and " + wheres[-1].removeprefix("row ")
        numbers = {None if pd.isna(v) else float(v) for _, _, v in members}
        return _PROBLEM_TEXT["duplicate"].format(
            rows=f"rows {listed}",
            differ="the same value with different flags or uncertainty figures" if len(numbers) == 1 else "different values",
            values=", ".join(f"{text} in {where}" for where, text, _ in members),
            rejected="both are" if len(members) == 2 else f"all {len(members)} are",
            others="other" if len(members) == 2 else "others", hint=hint)

    def _duplicate_hint(self, mapping: Mapping) -> str:
        """Why observations may look duplicated: an unmapped column with several values (the usual
        cause, e.g. in Eurostat files). When its values look like population groups, sexes or age
        bands and that role has no column yet: '; the column 'groupe' has several values (nationaux,
        étrangers ...) that look like population groups: map it as the population group column';
        otherwise '; the column 'lev_perc' has several values (Bad, Good ...): keep one of them with a
        filter'. '' when no column explains it."""
        used = set(mapping.columns.values()) | set(mapping.year_columns) | set(mapping.group_columns.values()) \
            | set(mapping.group_flag_columns.values()) | set(mapping.filters)
        candidates = []
        for header in self.format.columns:
            if header in used or header in self.format.year_columns:
                continue
            if self.format.layout == "sdmx_csv" and (header in readers._SDMX_STRUCTURE_COLUMNS or readers._looks_like_label_header(header)):
                continue
            values = self.distinct(header)
            if 1 < len(values) <= 30 and readers.fold_text(header) not in {"notes", "note", "footnote", "flag", "flags", "type of data (a)"}:
                candidates.append((header, [str(v) for v in values["value"] if str(v).strip()]))
        for header, values in candidates:
            role = _role_of_values(values)
            if role and role not in mapping.columns and not (role == "group" and mapping.group_columns):
                shown = ", ".join(values[:4])
                return (f"; the column {header!r} has several values ({shown} ...) that look like {_ROLE_PLURALS[role]}: "
                        f"map it as the {ROLES[role].lower()} column (or keep one of its values with a filter)")
        if candidates:
            header, values = candidates[0]
            return f"; the column {header!r} has several values ({', '.join(values[:4])} ...): keep one of them with a filter"
        return ""

    # -- load --------------------------------------------------------------------------------------

    def load(self, mapping: Mapping, dataset: DatasetInfo, allow_rejected: bool = False, replace: bool = False,
             boundary_codes: dict[str, set[str]] | None = None) -> Report:
        """Validate, then store the usable rows as one dataset in one transaction.

        allow_rejected: store the usable rows although some rows were rejected (they are listed in
        the report and left out). replace: replace an uploaded dataset of the same name.
        Returns the Report with status 'loaded' (rows_loaded set) or 'rejected' (nothing stored).
        Raises UploadError for a bad dataset name or new indicator (nothing stored).
        """
        name = (dataset.name or "").strip()
        if not name:
            raise UploadError("give the dataset a name")
        if len(name) > 80:
            raise UploadError("the dataset name is too long (80 characters at most)")
        if dataset.producer_type not in vocabulary.PRODUCERS:
            raise UploadError(f"say whether the source is official or civil society ({', '.join(vocabulary.PRODUCERS)})")
        custom = None
        if mapping.new_indicator:
            taken = {code for (code,) in self.cursor.execute("SELECT code FROM custom_indicators").fetchall()}
            indicator = build_custom_indicator(mapping.new_indicator, self.catalogue, taken)
            mapping = Mapping.from_dict({**mapping.as_dict(), "indicator": indicator.code,
                                         "new_indicator": indicator.model_dump()})
            custom = {"code": indicator.code, "definition": json.dumps(indicator.model_dump(), ensure_ascii=False)}
        key = json.dumps([mapping.as_dict(), sorted((k, sorted(v)) for k, v in (boundary_codes or {}).items())],
                         sort_keys=True, default=str)
        if self._validated is not None and self._validated[0] == key:
            report = copy.copy(self._validated[1])  # the staged rows of the last validation are this mapping's
        else:
            report = self.validate(mapping, boundary_codes)
        report.dataset = name
        blocking = [p for p in report.problems if p.kind == "mapping"]
        if report.rows_usable == 0 or blocking or (report.status != "valid" and not allow_rejected):
            report.status = "rejected"
            return report
        row = {"name": name, "title": dataset.title or name, "producer": dataset.producer, "producer_type": dataset.producer_type,
               "source": dataset.source or f"Source: {dataset.producer or 'uploaded file'} ({self.file_name})",
               "licence": dataset.licence, "url": dataset.url, "as_of": dataset.as_of, "file_name": self.file_name,
               "sha256": self.sha256, "detection": store.to_json_text(self.format.as_dict()),
               "mapping": store.to_json_text(mapping.as_dict())}
        try:
            report.rows_loaded = store.commit_staged_upload(self.cursor, row, custom, replace=replace)
        except ValueError as error:
            raise UploadError(str(error)) from None
        report.status = "loaded"
        report.mapping = mapping.as_dict()
        self._validated = None
        return report

    def observations(self, limit: int | None = None) -> pd.DataFrame:
        """The usable observations of the last validation (see store.fetch_staged_observations)."""
        return store.fetch_staged_observations(self.cursor, limit)

    def close(self) -> None:
        """Drop the staging tables of this session."""
        store.drop_staging(self.cursor)


def _remove_quietly(path: str) -> None:
    """Delete a temporary file (already gone: nothing to do)."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


_ROLE_PLURALS = {"group": "population groups", "sex": "sexes", "age": "age bands"}
_AGE_TEXT = re.compile(r"^(y[_ ]?)?(ge|lt|gt)?\d{1,3}( ?(-|–|to|bis|a|à|al|e|y) ?\d{1,3})?( ?\+)?( ?(years?|ans|jahre|anos|años|anni))?"
                       r"( ?(and|or|et|und|y|e|o|ou) ?(over|more|older|plus|mehr|plus|mas|más|piu|più|mais))?$|^total$|^y_(ge|lt)\d+$",
                       re.I)


def _role_of_values(values: list[str]) -> str | None:
    """'group', 'sex' or 'age' when most of a column's distinct texts read as population groups
    (in any language core.readers knows), sexes or age bands ('15-24', 'Y25-54', '65+'); else None."""
    values = [v.strip() for v in values if v.strip()]
    if not values:
        return None
    dimension = readers.guess_group_dimension("", values)
    tests = (("group", lambda v: readers.guess_group(v, dimension) not in (None, "total")),
             ("sex", lambda v: readers.normalise_sex(v) in ("F", "M")),
             ("age", lambda v: bool(_AGE_TEXT.match(readers.normalise_age(v))) and not v.isdigit() or v.upper().startswith("Y")))
    for role, test in tests:
        if sum(bool(test(v)) for v in values) >= max(2, 0.5 * len(values)):
            return role
    return None


_FLAG_WORDS = {readers.fold_text(meaning): letter for letter, meaning in vocabulary.FLAGS.items()}


def _flag_letters(text: str) -> str:
    """Flag letters from a flag cell: 'bu' -> 'bu', 'low reliability' -> 'u', 'b, u' -> 'bu'."""
    if not text:
        return ""
    folded = readers.fold_text(text)
    if folded in _FLAG_WORDS:
        return _FLAG_WORDS[folded]
    parts = [p.strip() for p in re.split(r"[;,]", folded) if p.strip()]
    if parts and all(p in _FLAG_WORDS for p in parts):
        return vocabulary.merge_flags(*(_FLAG_WORDS[p] for p in parts))
    return vocabulary.merge_flags(re.sub(r"[^a-z]", "", folded)) if len(folded) <= 6 else ""


def read_observations(content: bytes, file_name: str, mapping: Mapping | None = None, overrides: dict | None = None,
                      catalogue: Catalogue | None = None) -> tuple[pd.DataFrame, Report, FileFormat]:
    """Read a file into tidy observations without storing anything (an in-memory database).

    mapping: None to use the guesses. Returns (observations with source_row, indicator, geo,
    geo_level, period, sex, age, group, unit, value, flags, se, ci_lower, ci_upper, population;
    the validation Report; the FileFormat).
    """
    connection = duckdb.connect(":memory:")
    try:
        connection.execute(store.SCHEMA)
        session = UploadSession(connection, content, file_name, overrides, catalogue)
        mapping = mapping or session.guess_mapping()
        report = session.validate(mapping)
        frame = session.observations() if session.readable and report.rows_usable else pd.DataFrame()
        return frame, report, session.format
    finally:
        connection.close()
