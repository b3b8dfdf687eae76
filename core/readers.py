"""Readers of statistical file formats, returning one tidy table of observations.

Layouts understood here:
- Eurostat SDMX-CSV, with codes (``geo = DE``), labels (``geo = Germany``) or both side by side
  (SDMX-CSV 2.0 "codes and labels": each code column followed by its label column);
- Eurostat TSV, the bulk layout (first header cell ``dim1,dim2,geo\\time``, newest year first) and the
  current API layout (``...,geo\\TIME_PERIOD``), cells like ``12.3 b``, ``: u`` and ``:``;
- the tidy layout: one observation per row with columns such as geo, period/year, group, sex, age,
  value, flags.

Every reader returns a :class:`SourceTable`: the rows as read (``table``), what was detected
(``detected``) and the problems found, each with its row (1-based line of the file, header = 1),
column and value. Readers never raise on bad content: they report.

Flags follow Eurostat's observation status letters (see core.vocabulary.FLAGS); a confidential
observation (``CONF_STATUS = C``) gets the flag ``c``. A missing value (``:``, empty, ``..``, ``-``)
stays missing (NaN), never zero.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core import geo as geo_codes
from core import vocabulary

#: Cells that mean "no value" in a value column (Eurostat ':', OECD/UN '..', R's NA, ...).
#: In a place column "NA" is Namibia: these markers apply to values only.
MISSING_MARKERS = frozenset({"", ":", "..", "...", "-", "–", "NaN", "nan", "NA", "n/a", "N/A", "null", "NULL", "x", "X"})
_CELL = re.compile(r"^\s*(?P<number>[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)?\s*(?P<marker>:|\.\.|-)?\s*(?P<flags>[a-zA-Z]*)\s*$")

#: SDMX-CSV structural columns that are not dimensions.
_SDMX_STRUCTURE_COLUMNS = {"STRUCTURE", "STRUCTURE_ID", "STRUCTURE_NAME", "ACTION", "DATAFLOW", "LAST UPDATE", "freq"}
_SDMX_ROLE_COLUMNS = {"TIME_PERIOD": "period", "OBS_VALUE": "value", "OBS_FLAG": "flags", "CONF_STATUS": "confidentiality"}

#: Population-group codes and labels, by the Eurostat dimension they come in (domain knowledge:
#: Eurostat code lists CITIZEN and C_BIRTH, with the English labels of its label downloads).
GROUP_LABELS: dict[str, dict[str, str]] = {
    "citizenship": {
        "NAT": "nationals",
        "reporting country": "nationals",
        "nationals": "nationals",
        "FOR": "non_nationals",
        "foreign country": "non_nationals",
        "foreigners": "non_nationals",
        "non_nationals": "non_nationals",
        "EU27_2020_FOR": "eu_citizens",
        "eu27 countries (from 2020) except reporting country": "eu_citizens",
        "eu_citizens": "eu_citizens",
        "NEU27_2020_FOR": "non_eu_citizens",
        "non-eu27 countries (from 2020) nor reporting country": "non_eu_citizens",
        "non_eu_citizens": "non_eu_citizens",
        "TOTAL": "total",
        "total": "total",
    },
    "country_of_birth": {
        "NAT": "native_born",
        "reporting country": "native_born",
        "native_born": "native_born",
        "FOR": "foreign_born",
        "foreign country": "foreign_born",
        "foreign_born": "foreign_born",
        "EU27_2020_FOR": "eu_born",
        "eu27 countries (from 2020) except reporting country": "eu_born",
        "eu_born": "eu_born",
        "NEU27_2020_FOR": "non_eu_born",
        "non-eu27 countries (from 2020) nor reporting country": "non_eu_born",
        "non_eu_born": "non_eu_born",
        "TOTAL": "total",
        "total": "total",
    },
}
#: Eurostat dimension column -> population-group dimension.
GROUP_DIMENSION_COLUMNS = {"citizen": "citizenship", "c_birth": "country_of_birth"}

_SEX_LABELS = {"t": "T", "total": "T", "f": "F", "females": "F", "female": "F", "women": "F",
               "m": "M", "males": "M", "male": "M", "men": "M"}
_UNIT_LABELS = {"pc": "percent", "percentage": "percent", "percent": "percent", "%": "percent",
                "eur": "EUR", "euro": "EUR", "ths_per": "thousand_persons", "thousand persons": "thousand_persons"}


@dataclass
class Problem:
    """One thing wrong with an input file: where (row, column), the value, and what to do."""

    row: int | None
    column: str | None
    value: str | None
    message: str

    def as_dict(self) -> dict:
        """{row, column, value, message}, JSON-ready."""
        return {"row": self.row, "column": self.column, "value": self.value, "message": self.message}


@dataclass
class SourceTable:
    """What a reader produced.

    table: one row per observation with columns
        geo (str: ISO alpha-3, aggregate code, or the original text when unresolved),
        geo_level (str: national/regional/global, or 'unknown' when the place was not
        recognised — a sub-national unit or a misspelling, for the caller to decide), geo_label (str, as in the file),
        period (Int64, year), value (float, NaN when missing), flags (str of Eurostat letters),
        source_row (int, 1-based line in the file), and one column per other dimension of the file
        (e.g. sex, age, citizen, isced11, unit), holding codes when the file has codes, else labels.
    detected: what the reader found, e.g. {"layout": "sdmx_csv", "labels": "both", "encoding": ...}.
    problems: the problems found (rows with problems are left out of ``table``).
    rows_read: number of data rows (observations) in the file.
    """

    table: pd.DataFrame
    detected: dict = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    rows_read: int = 0


# --------------------------------------------------------------------------------------------- text


def decode_bytes(content: bytes) -> tuple[str, str]:
    """Decode file bytes to text; returns (text, encoding name).

    Byte-order marks are honoured (UTF-8, UTF-16 LE/BE); UTF-8 is tried next; otherwise
    charset-normalizer picks the encoding (Windows-1252, Latin-1, ...).
    Raises UnicodeDecodeError when no encoding fits (e.g. binary content).
    """
    if content.startswith(b"\xef\xbb\xbf"):
        return content[3:].decode("utf-8"), "utf-8-sig"
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return content.decode("utf-16"), "utf-16"
    try:
        return content.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    import charset_normalizer

    best = charset_normalizer.from_bytes(content).best()
    if best is not None and best.encoding.startswith(_MULTIBYTE_ENCODINGS) and _looks_single_byte_western(content):
        # A few accented names ("Côte d'Ivoire") are too little text for charset-normalizer, which
        # then reads byte + ASCII letter as one CJK character; real CJK text has runs of high bytes.
        return content.decode("cp1252"), "cp1252"
    if best is None:
        raise UnicodeDecodeError("unknown", content[:16], 0, 1, "no text encoding fits these bytes")
    return str(best), best.encoding


#: Multi-byte (CJK) encodings that charset-normalizer may pick for short Windows-1252 text.
_MULTIBYTE_ENCODINGS = ("big5", "gb", "hz", "johab", "shift_jis", "cp932", "cp949", "cp950", "euc_", "iso2022")


def _looks_single_byte_western(content: bytes) -> bool:
    """True when the bytes decode as Windows-1252 and no two non-ASCII bytes are adjacent."""
    try:
        content.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return re.search(rb"[\x80-\xff]{2}", content) is None


def parse_cell(cell: str) -> tuple[float, str]:
    """Split an Eurostat cell into (value, flags): '12.3 b' -> (12.3, 'b'); ': u' -> (nan, 'u'); ':' -> (nan, '').

    Raises ValueError when the cell is neither a number nor a missing marker with flags.
    """
    text = cell.strip()
    if text in MISSING_MARKERS:
        return np.nan, ""
    match = _CELL.match(text)
    if not match or (match.group("number") is None and match.group("marker") is None):
        raise ValueError(f"not a number: {cell!r}")
    number = match.group("number")
    flags = match.group("flags").lower()
    return (float(number) if number is not None else np.nan), flags


def normalise_sex(value: str) -> str | None:
    """'Total'/'T' -> 'T', 'Females'/'F' -> 'F', 'Males'/'M' -> 'M'; None when unknown."""
    return _SEX_LABELS.get(str(value).strip().lower())


def normalise_age(value: str) -> str:
    """Eurostat age labels to codes: 'From 15 to 64 years' -> 'Y15-64', '16 years or over' -> 'Y_GE16',
    'Less than 25 years' -> 'Y_LT25'; codes (Y15-64) are returned unchanged."""
    text = str(value).strip()
    if match := re.fullmatch(r"from (\d+) to (\d+) years", text, re.I):
        return f"Y{match[1]}-{match[2]}"
    if match := re.fullmatch(r"(\d+) years or over", text, re.I):
        return f"Y_GE{match[1]}"
    if match := re.fullmatch(r"less than (\d+) years", text, re.I):
        return f"Y_LT{match[1]}"
    if text.lower() in {"total", "all ages"}:
        return "TOTAL"
    return text


def normalise_unit(value: str) -> str:
    """Eurostat unit codes/labels to catalogue units: PC/Percentage -> 'percent', EUR/Euro -> 'EUR'."""
    return _UNIT_LABELS.get(str(value).strip().lower(), str(value).strip())


def normalise_group(value: str, dimension: str) -> str | None:
    """A population-group code or label (NAT, 'Reporting country', 'Foreign country', FOR,
    EU27_2020_FOR ...) to the vocabulary group of that dimension; None when unknown or obsolete
    (e.g. the EU28 variants, superseded by EU27_2020)."""
    labels = GROUP_LABELS.get(dimension, {})
    text = str(value).strip()
    return labels.get(text) or labels.get(text.lower())


# -------------------------------------------------------------------------------------- detection


def detect_layout(text: str) -> str:
    """Guess the layout from the first line: 'eurostat_tsv', 'sdmx_csv' or 'tidy'."""
    first_line = text.lstrip("\ufeff").split("\n", 1)[0]
    first_cell = first_line.split("\t", 1)[0]
    if "\\" in first_cell and "\t" in first_line:
        return "eurostat_tsv"
    header = {cell.strip().strip('"') for cell in re.split(r"[,;\t]", first_line)}
    if {"OBS_VALUE", "TIME_PERIOD"} <= header:
        return "sdmx_csv"
    return "tidy"


def read_text(text: str, file_name: str = "input", encoding: str = "utf-8",
              columns: dict[str, str] | None = None) -> SourceTable:
    """Read decoded text in whichever of the layouts it is (see detect_layout).

    columns: for the tidy layout, {role: column name} overriding the guesses, with roles
    'geo', 'period', 'value', 'flags' (other names are kept as dimension columns).
    """
    layout = "tidy" if columns else detect_layout(text)
    if layout == "eurostat_tsv":
        result = read_eurostat_tsv(text)
    elif layout == "sdmx_csv":
        result = read_sdmx_csv(text)
    else:
        result = read_tidy_csv(text, columns=columns)
    result.detected = {"file": file_name, "encoding": encoding, **result.detected}
    return result


def read_file_bytes(content: bytes, file_name: str = "input", columns: dict[str, str] | None = None) -> SourceTable:
    """Decode and read file bytes. Bytes that are not text give an empty table and one problem."""
    try:
        text, encoding = decode_bytes(content)
    except UnicodeDecodeError as error:
        problem = Problem(None, None, None, f"{file_name}: not a text file ({error.reason}); upload a CSV, TSV or Excel file")
        return SourceTable(_empty_table(), {"file": file_name}, [problem], 0)
    return read_text(text, file_name, encoding, columns=columns)


# ---------------------------------------------------------------------------------------- layouts


def read_eurostat_tsv(text: str) -> SourceTable:
    """Read Eurostat's TSV layout (bulk ``geo\\time`` or API ``geo\\TIME_PERIOD``).

    The first header cell lists the dimension codes separated by commas, the last one followed by
    a backslash and the time dimension; the other header cells are periods (in any order).
    """
    lines = [line for line in text.lstrip("\ufeff").splitlines() if line.strip()]
    if not lines:
        return SourceTable(_empty_table(), {"layout": "eurostat_tsv"}, [Problem(None, None, None, "the file is empty")], 0)
    header = lines[0].split("\t")
    dimension_part, _, time_name = header[0].partition("\\")
    dimensions = [d.strip() for d in dimension_part.split(",")]
    periods = [cell.strip() for cell in header[1:]]
    problems: list[Problem] = []
    records: list[tuple] = []
    for line_number, line in enumerate(lines[1:], start=2):
        cells = line.split("\t")
        keys = [k.strip() for k in cells[0].split(",")]
        if len(keys) != len(dimensions):
            problems.append(Problem(line_number, header[0], cells[0],
                                    f"expected {len(dimensions)} comma-separated codes ({','.join(dimensions)}); check the row"))
            continue
        for column_index, cell in enumerate(cells[1:], start=1):
            if column_index > len(periods):
                problems.append(Problem(line_number, None, cell, "more cells than periods in the header"))
                break
            try:
                value, flags = parse_cell(cell)
            except ValueError:
                problems.append(Problem(line_number, periods[column_index - 1], cell.strip(),
                                        "value is not a number; use a number, optionally followed by flag letters (e.g. '12.3 b'), or ':' for missing"))
                continue
            records.append((*keys, periods[column_index - 1], value, flags, line_number))
    frame = pd.DataFrame.from_records(records, columns=[*dimensions, "period_text", "value", "flags", "source_row"])
    rows_read = len(frame) + sum(1 for p in problems if p.column in periods)
    table = _finish_table(frame, geo_column="geo", problems=problems)
    detected = {"layout": "eurostat_tsv", "time_header": time_name.strip(), "dimensions": dimensions,
                "periods": f"{min(periods, default='')}-{max(periods, default='')}"}
    return SourceTable(table, detected, problems, rows_read)


def read_sdmx_csv(text: str) -> SourceTable:
    """Read Eurostat SDMX-CSV (1.0 or 2.0) with codes, labels, or codes and labels side by side."""
    try:
        raw = pd.read_csv(io.StringIO(text.lstrip("\ufeff")), dtype=str, keep_default_na=False, sep=None, engine="python")
        raw = raw.fillna("")  # cells of short rows (trailing empty fields left out) come back as NaN
    except (pd.errors.ParserError, csv.Error, ValueError) as error:
        return SourceTable(_empty_table(), {"layout": "sdmx_csv"}, [Problem(None, None, None, f"cannot parse the CSV: {error}")], 0)
    columns = list(raw.columns)
    # In the "codes and labels" layout a label column follows each code column; its header is a
    # human label (contains a space or an upper-case word that is not an SDMX role).
    code_columns: list[str] = []
    label_of: dict[str, str] = {}
    for index, column in enumerate(columns):
        if column in _SDMX_STRUCTURE_COLUMNS or column in _SDMX_ROLE_COLUMNS:
            code_columns.append(column)
            continue
        if code_columns and _looks_like_label_header(column) and index > 0 and columns[index - 1] not in label_of.values():
            label_of[columns[index - 1]] = column
            continue
        code_columns.append(column)
    labels_mode = "both" if label_of else ("labels" if _cells_look_like_labels(raw) else "codes")
    if "geo" not in raw.columns or "TIME_PERIOD" not in raw.columns or "OBS_VALUE" not in raw.columns:
        missing = [c for c in ("geo", "TIME_PERIOD", "OBS_VALUE") if c not in raw.columns]
        return SourceTable(_empty_table(), {"layout": "sdmx_csv"},
                           [Problem(1, None, None, f"SDMX-CSV without the column(s) {missing}")], len(raw))
    dimensions = [c for c in code_columns if c not in _SDMX_STRUCTURE_COLUMNS and c not in _SDMX_ROLE_COLUMNS]
    frame = raw[dimensions].copy()
    frame["period_text"] = raw["TIME_PERIOD"]
    frame["source_row"] = np.arange(2, len(raw) + 2)
    flags = raw["OBS_FLAG"].str.lower() if "OBS_FLAG" in raw.columns else pd.Series("", index=raw.index)
    if "CONF_STATUS" in raw.columns:
        confidential = raw["CONF_STATUS"].str.upper().isin({"C", "CONFIDENTIAL"})
        flags = flags.where(~confidential, flags + "c")
    values, bad = _parse_numbers(raw["OBS_VALUE"])
    problems = [Problem(int(frame["source_row"].iat[i]), "OBS_VALUE", raw["OBS_VALUE"].iat[i],
                        "value is not a number; leave it empty for a missing value") for i in np.flatnonzero(bad)]
    frame["value"] = values
    frame["flags"] = flags.map(lambda f: vocabulary.merge_flags(f))
    frame = frame.loc[~bad]
    table = _finish_table(frame, geo_column="geo", problems=problems, period_column="TIME_PERIOD")
    detected = {"layout": "sdmx_csv", "labels": labels_mode, "dimensions": dimensions}
    if "STRUCTURE_ID" in raw.columns and len(raw):
        detected["dataflow"] = raw["STRUCTURE_ID"].iat[0]
    elif "DATAFLOW" in raw.columns and len(raw):
        detected["dataflow"] = raw["DATAFLOW"].iat[0]
    return SourceTable(table, detected, problems, len(raw))


_TIDY_ALIASES = {
    "geo": ("geo", "country", "country_code", "iso3", "iso_a3", "alpha3", "location", "place", "region", "area"),
    "period_text": ("period", "year", "time", "time_period", "date"),
    "value": ("value", "obs_value", "estimate", "rate", "share"),
    "flags": ("flags", "flag", "obs_flag", "status"),
}


def read_tidy_csv(text: str, columns: dict[str, str] | None = None) -> SourceTable:
    """Read a tidy long table (one observation per row) with a comma, semicolon or tab delimiter.

    Columns are recognised by name (geo/country/iso3, period/year, value, flag(s)); every other
    column is kept as a dimension (e.g. group, sex, age, indicator, unit, c_birth).
    """
    stripped = text.lstrip("\ufeff")
    try:
        dialect = csv.Sniffer().sniff(stripped[:20_000], delimiters=",;\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    try:
        raw = pd.read_csv(io.StringIO(stripped), dtype=str, keep_default_na=False, sep=delimiter)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as error:
        return SourceTable(_empty_table(), {"layout": "tidy", "delimiter": delimiter},
                           [Problem(None, None, None, f"cannot parse the table: {error}")], 0)
    rename: dict[str, str] = {}
    for role, name in (columns or {}).items():
        if name not in raw.columns:
            return SourceTable(_empty_table(), {"layout": "tidy", "delimiter": delimiter},
                               [Problem(1, name, None, f"no column named {name!r} (for the {role}); the columns are {list(raw.columns)}")], len(raw))
        rename[name] = "period_text" if role == "period" else role
    lower = {c.strip().lower(): c for c in raw.columns}
    for role, aliases in _TIDY_ALIASES.items():
        if role in rename.values():
            continue
        for alias in aliases:
            if alias in lower and lower[alias] not in rename:
                rename[lower[alias]] = role
                break
    frame = raw.rename(columns=rename)
    missing = [role for role in ("geo", "period_text", "value") if role not in frame.columns]
    if missing:
        names = {"geo": "place (geo/country)", "period_text": "period (year)", "value": "value"}
        return SourceTable(_empty_table(), {"layout": "tidy", "delimiter": delimiter},
                           [Problem(1, None, None, f"no column for the {names[m]}; name it or map it") for m in missing], len(raw))
    frame["source_row"] = np.arange(2, len(raw) + 2)
    values, bad = _parse_numbers(frame["value"])
    problems = [Problem(int(frame["source_row"].iat[i]), rename_back(rename, "value"), frame["value"].iat[i],
                        "value is not a number; leave it empty for a missing value") for i in np.flatnonzero(bad)]
    frame["value"] = values
    frame["flags"] = frame["flags"].map(vocabulary.merge_flags) if "flags" in frame.columns else ""
    frame = frame.loc[~bad]
    table = _finish_table(frame, geo_column="geo", problems=problems, period_column=rename_back(rename, "period_text"))
    return SourceTable(table, {"layout": "tidy", "delimiter": delimiter, "columns": rename}, problems, len(raw))


def rename_back(rename: dict[str, str], role: str) -> str:
    """The original column name that was given a role (for problem reports)."""
    return next((original for original, new in rename.items() if new == role), role)


# ---------------------------------------------------------------------------------------- helpers


def _empty_table() -> pd.DataFrame:
    return pd.DataFrame({"geo": pd.Series(dtype=str), "geo_level": pd.Series(dtype=str),
                         "geo_label": pd.Series(dtype=str), "period": pd.Series(dtype="Int64"),
                         "value": pd.Series(dtype=float), "flags": pd.Series(dtype=str),
                         "source_row": pd.Series(dtype="Int64")})


def _looks_like_label_header(column: str) -> bool:
    return " " in column or (column[:1].isupper() and not column.isupper() and "_" not in column)


def _cells_look_like_labels(raw: pd.DataFrame) -> bool:
    geo = raw["geo"] if "geo" in raw.columns else pd.Series(dtype=str)
    sample = geo.head(200)
    return bool(len(sample)) and float(sample.str.len().mean()) > 3.5


def _parse_numbers(cells: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Numbers from text cells: (values with NaN for missing markers, mask of cells that are not numbers)."""
    text = cells.astype(str).str.strip()
    missing = text.isin(MISSING_MARKERS)
    numbers = pd.to_numeric(text.where(~missing), errors="coerce")
    bad = numbers.isna() & ~missing
    return numbers.to_numpy(dtype=float, na_value=np.nan), bad.to_numpy()


def _finish_table(frame: pd.DataFrame, geo_column: str, problems: list[Problem],
                  period_column: str = "period") -> pd.DataFrame:
    """Resolve geo codes (adding geo_level, geo_label) and periods; report rows that fail
    (period_column: the file's name for the period column, used in the problem reports)."""
    if frame.empty:
        return _empty_table()
    labels = frame[geo_column].astype(str).str.strip()
    places = geo_codes.resolve_column(pd.unique(labels))
    frame = frame.assign(
        geo_label=labels,
        geo=labels.map(lambda t: places[t].code if places[t] else t),
        geo_level=labels.map(lambda t: places[t].level if places[t] else "unknown"),
    )
    period_text = frame.pop("period_text").astype(str).str.strip()
    period = pd.to_numeric(period_text.str.extract(r"^(\d{4})(?:-A1|-00)?$")[0], errors="coerce").astype("Int64")
    bad_period = period.isna()
    for index in np.flatnonzero(bad_period.to_numpy()):
        problems.append(Problem(int(frame["source_row"].iat[index]), period_column, period_text.iat[index],
                                "period is not a year (YYYY); only annual data are supported"))
    frame["period"] = period
    frame = frame.loc[~bad_period.to_numpy()]
    return frame.reset_index(drop=True)
