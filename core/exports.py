"""Exports of a user's indicator set: CSV, Excel, JSON and a printable PDF report.

A :class:`SetReport` gathers what every format carries — the indicators with their metadata sheets,
the latest values and gap for the chosen country, where data for both groups exist, the sources
with their licences, and the good practices that bear on the set — and each ``export_*`` function
turns it into bytes ready for a download button.

Formula neutralisation: in CSV and Excel, every text cell that begins with ``=``, ``+``, ``-``,
``@`` (or a tab or carriage return) is prefixed with an apostrophe, so that a spreadsheet shows it
as text instead of running it (OWASP, "CSV Injection"). Numbers stay numbers. JSON, for machines,
keeps text as it is; the PDF shows text and runs nothing.
"""
from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import xlsxwriter
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from core import availability as availability_module
from core import charts, geo, queries, vocabulary
from core.catalogue import METADATA_SHEET_FIELDS, UNITS, Catalogue, Indicator
from core.good_practices import GoodPractice, select_good_practices
from core import gaps as gap_engine
from core.profile import PREFERRED_AGES, PREFERRED_GROUPS

#: Characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

#: Columns of the set table (the CSV file and the first Excel sheet), one row per indicator
#: (two, for F and M, when the source publishes no total for both sexes).
SET_TABLE_COLUMNS: list[str] = [
    "Code", "Indicator", "Right", "Attribute", "Type", "Unit", "Polarity",
    "Country", "Country code", "Migrant group", "Reference group", "Sex", "Age band", "Year",
    "Reference group value", "Migrant group value", "Difference", "Disadvantage", "Difference unit",
    "Whole population value", "Flags", "Flag meaning", "Places with data for both groups", "Source", "Note",
]

#: Human labels of the metadata-sheet fields, in the framework's order.
SHEET_FIELD_LABELS: dict[str, str] = {
    "title": "Title",
    "definition": "Definition",
    "rationale": "Rationale",
    "method_of_computation": "Method of computation",
    "data_collection_and_source": "Data collection and source",
    "disaggregation": "Disaggregation",
    "periodicity": "Periodicity",
    "comments_and_limitations": "Comments and limitations",
}

#: Where the PDF's Unicode font is looked for (Debian package fonts-dejavu-core); the environment
#: variable RIGHTSGAP_PDF_FONT_DIR, when set, is searched first.
FONT_DIRECTORIES = (Path("/usr/share/fonts/truetype/dejavu"),)
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}


class ExportError(RuntimeError):
    """An export cannot be produced (e.g. no Unicode font for the PDF); the message says what to do."""


@dataclass
class SetReport:
    """Everything an export of an indicator set carries.

    indicators: the set, in the user's order. country / country_name: the chosen place (ISO alpha-3
    and English name) or None. table: the set table (SET_TABLE_COLUMNS). availability: rows of
    core.availability.fetch_availability for the set's indicators (every place). sources: one row
    per dataset with columns name, source (attribution), licence, producer_type. practices: the
    good practices bearing on the set. generated_on: ISO date of the export.
    """

    indicators: list[Indicator]
    country: str | None
    country_name: str | None
    table: pd.DataFrame
    availability: pd.DataFrame
    sources: pd.DataFrame
    practices: list[GoodPractice] = field(default_factory=list)
    generated_on: str = field(default_factory=lambda: date.today().isoformat())

    @property
    def title(self) -> str:
        """'My indicator set — Germany' (or without a country)."""
        return "My indicator set" + (f" — {self.country_name}" if self.country_name else "")


# --- Building the report ---------------------------------------------------------------------------

describe_age = vocabulary.describe_age


def _number(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


LATEST_COLUMNS: list[str] = [
    "indicator", "group", "reference_group", "sex", "age", "year", "reference_value", "value", "disadvantage",
    "flags", "dataset", "has_data", "note",
]


def compute_latest_values(observations: pd.DataFrame, indicators: list[Indicator]) -> pd.DataFrame:
    """The latest values and gap of each indicator for one place, by the Country profile's choice rules.

    observations: every observation of the place (core.queries.fetch_latest_by_country).
    The main comparison is chosen as in core.profile.build_country_profile (non-nationals vs
    nationals first, else foreign-born vs native-born, ...; sex T when the source has it, else one
    row for F and one for M; the preferred age band), and compared in the latest year both groups
    have (core.gaps.compute_gaps with year='latest') — without the profile's year-by-year trend,
    which a set export does not need. Indicators comparing no group (context figures, structural
    yes/no) give their latest value alone.

    Returns one row per indicator (two for F and M where needed) with LATEST_COLUMNS: year (int or
    None), reference_value, value, disadvantage (> 0: migrants worse off; None without a gap),
    has_data (bool: any usable value), note (why there is no gap).
    """
    rows: list[dict] = []
    usable_mask = gap_engine.is_usable(observations["value"], observations["flags"]) if not observations.empty else None
    usable_all = observations.loc[usable_mask] if usable_mask is not None else observations
    for indicator in indicators:
        base = {column: None for column in LATEST_COLUMNS} | {"indicator": indicator.code, "flags": "", "has_data": False, "note": ""}
        usable = usable_all.loc[usable_all["indicator"] == indicator.code] if not usable_all.empty else usable_all
        if usable.empty:
            base["note"] = "no data for this place"
            rows.append(base)
            continue
        totals = usable.loc[usable["group"] == "total"]
        if not totals.empty and (set(usable["group"]) == {"total"} or indicator.context):
            latest = totals.sort_values("period").iloc[-1]
            rows.append(base | {"year": int(latest["period"]), "value": float(latest["value"]), "flags": latest["flags"] or "",
                                "dataset": latest["dataset"], "has_data": True,
                                "note": ("applies to everyone: no group comparison" if not indicator.groups
                                         else "whole population only: not disaggregated")})
            continue
        compared = [g for g in usable["group"].unique() if vocabulary.dimension_of(g) in vocabulary.REFERENCE_GROUPS
                    and g not in vocabulary.REFERENCE_GROUPS.values()]
        group = next((g for g in PREFERRED_GROUPS if g in compared), compared[0] if compared else None)
        if group is None:
            rows.append(base | {"has_data": True, "note": "values for one group only: no comparison possible"})
            continue
        reference = vocabulary.REFERENCE_GROUPS[vocabulary.dimension_of(group)]
        age = next((a for a in PREFERRED_AGES if a in set(usable["age"])), usable["age"].iloc[0])
        sexes = ["T"] if "T" in set(usable["sex"]) else sorted(set(usable["sex"]))
        for sex in sexes:
            subset = usable.loc[(usable["sex"] == sex) & (usable["age"] == age) & usable["group"].isin([group, reference])]
            gaps = gap_engine.compute_gaps(subset, indicator.polarity, year="latest", groups=[group])
            row = base | {"group": group, "reference_group": reference, "sex": sex, "age": age, "has_data": True}
            if gaps.empty:
                rows.append(row | {"note": "no year with values for both groups"})
                continue
            latest = gaps.sort_values("year").iloc[-1]
            rows.append(row | {"year": int(latest["year"]), "reference_value": float(latest["reference_value"]),
                               "value": float(latest["value"]), "disadvantage": float(latest["disadvantage"]),
                               "flags": latest["flags"] or "", "dataset": latest["dataset"]})
    return pd.DataFrame(rows, columns=LATEST_COLUMNS)


def build_set_table(
    indicators: list[Indicator],
    latest: pd.DataFrame | None,
    country: str | None,
    availability: pd.DataFrame,
    sources: pd.DataFrame,
) -> pd.DataFrame:
    """The set table: for each indicator, its identity and, for the chosen country, the latest values and gap.

    latest: compute_latest_values's rows for the country (LATEST_COLUMNS), or None when no
    country is chosen. availability: fetch_availability rows (for the count of places with
    both groups). sources: datasets with columns name and source (attribution).
    Values: the latest year both groups have (see core.profile); Difference = migrant − reference
    value (pp for %), Disadvantage > 0 when migrants are worse off. Whole population value: for
    indicators without a group comparison (context figures). Returns SET_TABLE_COLUMNS.
    """
    attribution = dict(zip(sources["name"], sources["source"])) if not sources.empty else {}
    both = (availability.loc[availability["status"] == "both_groups"].groupby("indicator").size().to_dict()
            if not availability.empty else {})
    country_name = geo.name_of(country) if country else ""
    rows: list[dict] = []
    for indicator in indicators:
        base = {
            "Code": indicator.code, "Indicator": indicator.title, "Right": vocabulary.RIGHTS[indicator.right],
            "Attribute": vocabulary.ATTRIBUTES[indicator.right][indicator.attribute],
            "Type": indicator.type.capitalize(), "Unit": indicator.unit_symbol,
            "Polarity": vocabulary.POLARITIES[indicator.polarity], "Country": country_name, "Country code": country or "",
            "Migrant group": "", "Reference group": "", "Sex": "", "Age band": "", "Year": None,
            "Reference group value": None, "Migrant group value": None, "Difference": None, "Disadvantage": None,
            "Difference unit": indicator.difference_unit, "Whole population value": None, "Flags": "",
            "Flag meaning": "", "Places with data for both groups": int(both.get(indicator.code, 0)), "Source": "",
            "Note": "" if country else "no country chosen",
        }
        part = latest.loc[latest["indicator"] == indicator.code] if latest is not None else pd.DataFrame()
        if part.empty:
            rows.append(base)
            continue
        for row in part.itertuples(index=False):
            flags = row.flags if isinstance(row.flags, str) else ""
            dataset = row.dataset if isinstance(row.dataset, str) else ""
            note = row.note or ""
            if not row.has_data and indicator.data_gap_note.strip():
                note += "; known data gap: " + " ".join(indicator.data_gap_note.split())
            entry = {**base, "Flags": flags, "Flag meaning": vocabulary.describe_flags(flags),
                     "Source": attribution.get(dataset, dataset), "Note": note}
            if row.year is not None and not pd.isna(row.year):
                entry["Year"] = int(row.year)
            if isinstance(row.group, str):
                reference, value = _number(row.reference_value), _number(row.value)
                entry.update({
                    "Migrant group": vocabulary.POPULATION_GROUPS[row.group],
                    "Reference group": vocabulary.POPULATION_GROUPS.get(row.reference_group, row.reference_group or ""),
                    "Sex": vocabulary.SEXES.get(row.sex, row.sex or ""), "Age band": describe_age(row.age),
                    "Reference group value": reference, "Migrant group value": value,
                    "Difference": round(value - reference, 6) if value is not None and reference is not None else None,
                    "Disadvantage": _number(row.disadvantage),
                })
            else:
                entry["Whole population value"] = _number(row.value)
            rows.append(entry)
    table = pd.DataFrame(rows, columns=SET_TABLE_COLUMNS)
    table["Year"] = table["Year"].astype("Int64")
    return table


def build_set_report(
    connection: duckdb.DuckDBPyConnection,
    codes: list[str],
    country: str | None,
    catalogue: Catalogue,
    practices: list[GoodPractice] | tuple[GoodPractice, ...] = (),
) -> SetReport:
    """Gather a SetReport from the store for the indicator codes given (in that order) and a country.

    Raises KeyError naming the code when a code is not in the catalogue.
    """
    indicators = [catalogue.get(code) for code in codes]
    availability = availability_module.fetch_availability(connection, [i.code for i in indicators])
    latest = compute_latest_values(queries.fetch_latest_by_country(connection, country), indicators) if country else None
    datasets = queries.fetch_datasets(connection)
    sources = datasets[["name", "source", "licence", "producer_type"]].copy() if not datasets.empty else \
        pd.DataFrame(columns=["name", "source", "licence", "producer_type"])
    table = build_set_table(indicators, latest, country, availability, sources)
    used = set(table["Source"]) | {s for i in indicators for d in i.datasets for s in sources.loc[sources["name"] == d, "source"]}
    sources = sources.loc[sources["source"].isin(used)].reset_index(drop=True)
    return SetReport(indicators=indicators, country=country, country_name=geo.name_of(country) if country else None,
                     table=table, availability=availability, sources=sources,
                     practices=select_good_practices(practices, indicators=[i.code for i in indicators]))


def describe_both_groups(availability: pd.DataFrame, code: str, limit: int | None = None) -> str:
    """Where and when one indicator has values for both groups: 'Austria (AUT): 1995–2024; ...'.

    Places in alphabetical order of their names; ``limit`` cuts the list and says how many more.
    'No place has values for both groups.' when none does.
    """
    rows = availability.loc[(availability["indicator"] == code) & (availability["status"] == "both_groups")]
    if rows.empty:
        return "No place has values for both groups."
    items = sorted((geo.name_of(row.geo), row.geo, availability_module.format_year_ranges(row.years_both_groups))
                   for row in rows.itertuples(index=False))
    shown = items if limit is None else items[:limit]
    text = "; ".join(f"{name} ({code_}): {years}" for name, code_, years in shown)
    if limit is not None and len(items) > limit:
        text += f"; and {len(items) - limit} more"
    return f"{len(items)} places. {text}."


def describe_latest(table: pd.DataFrame, code: str, country_name: str | None) -> str:
    """The latest values and gap of one indicator for the chosen country, in words, from the set table."""
    if not country_name:
        return "No country chosen."
    rows = table.loc[table["Code"] == code].to_dict("records")
    lines = []
    for row in rows:
        unit = row["Unit"]
        if row["Migrant group"] and pd.isna(row["Year"]):
            lines.append(f"{country_name}: {row['Migrant group'].lower()} vs {row['Reference group'].lower()}: "
                         f"{row['Note'] or 'no gap'}.")
        elif row["Migrant group"]:
            lines.append(
                f"{country_name}, {row['Year']}, {row['Sex'].lower()}, {row['Age band']}: "
                f"{row['Reference group'].lower()} {_format(row['Reference group value'], unit)}, "
                f"{row['Migrant group'].lower()} {_format(row['Migrant group value'], unit)}; "
                f"disadvantage {_format_difference(row['Disadvantage'], unit)} (positive: migrants worse off)"
                + (f"; flags {row['Flags']} ({row['Flag meaning']})" if row["Flags"] else "")
                + (f". {row['Source']}" if row["Source"] else "")
            )
        elif _number(row["Whole population value"]) is not None:
            lines.append(f"{country_name}, {row['Year']}: {_format(row['Whole population value'], unit)} "
                         f"({row['Note']}). {row['Source']}")
        else:
            lines.append(f"{country_name}: {row['Note'] or 'no gap'}.")
    return "\n".join(lines) if lines else f"{country_name}: no data."


_UNIT_CODES = {symbol: code for code, symbol in UNITS.items()}  # '%' -> 'percent', 'yes/no' -> 'yes_no' ...


def format_value(value, unit: str) -> str:
    """A value for reading: 'yes' / 'no' for yes/no indicators (1 / 0), else core.charts.format_value
    ('65.8%', '21 345 EUR', '—' when missing). unit: a catalogue unit code."""
    number = _number(value)
    if unit == "yes_no" and number is not None:
        return "yes" if number >= 0.5 else "no"
    return charts.format_value(number, unit)


def _format(value, unit_symbol: str) -> str:
    return format_value(value, _UNIT_CODES.get(unit_symbol, unit_symbol))


def _format_difference(value, unit_symbol: str) -> str:
    return charts.format_difference(_number(value), _UNIT_CODES.get(unit_symbol, unit_symbol))


def build_metadata_records(report: SetReport, indicator: Indicator) -> list[tuple[str, str]]:
    """One indicator's metadata sheet as (field, text) pairs: every catalogue field, then its data.

    Order: code, the eight metadata-sheet fields' identity fields (right, attribute, type, unit,
    polarity, source types, levels, groups compared, producers, datasets), the eight fields of the
    framework (title ... comments and limitations), the known data gap, the latest values for the
    chosen country, where and when both groups have values, and the good practices bearing on it.
    """
    groups = "; ".join(
        f"{dimension.replace('_', ' ')}: " + ", ".join(vocabulary.POPULATION_GROUPS[g] for g in members)
        + f" (compared with {vocabulary.POPULATION_GROUPS.get(vocabulary.REFERENCE_GROUPS.get(dimension, ''), 'no reference group').lower()})"
        for dimension, members in indicator.groups.items()
    ) or "none (no comparison of groups)"
    attribution = dict(zip(report.sources["name"], report.sources["source"])) if not report.sources.empty else {}
    records: list[tuple[str, str]] = [
        ("Code", indicator.code),
        ("Right", vocabulary.RIGHTS[indicator.right]),
        ("Attribute", vocabulary.ATTRIBUTES[indicator.right][indicator.attribute]),
        ("Type", vocabulary.INDICATOR_TYPES[indicator.type]),
        ("Unit", indicator.unit_symbol),
        ("Polarity", vocabulary.POLARITIES[indicator.polarity]),
        ("Source types", ", ".join(vocabulary.SOURCE_TYPES[s] for s in indicator.source_types)),
        ("Governance levels", ", ".join(vocabulary.GOVERNANCE_LEVELS[level] for level in indicator.levels)),
        ("Population groups compared", groups),
        ("Official or civil-society data", ", ".join(vocabulary.PRODUCERS[p] for p in indicator.producers)),
        ("Datasets", "; ".join(attribution.get(d, d) for d in indicator.datasets) or "none embedded"),
    ]
    records += [(SHEET_FIELD_LABELS[name], " ".join(getattr(indicator, name).split())) for name in METADATA_SHEET_FIELDS]
    records.append(("Known data gap", " ".join(indicator.data_gap_note.split()) or "none"))
    records.append((f"Latest values for {report.country_name}" if report.country_name else "Latest values",
                    describe_latest(report.table, indicator.code, report.country_name)))
    records.append(("Places and years with values for both groups", describe_both_groups(report.availability, indicator.code)))
    practices = select_good_practices(report.practices, indicators=[indicator.code])
    records.append(("Good practices", "\n".join(f"{p.title} ({p.place}): {' '.join(p.summary.split())}" for p in practices)
                    or "none recorded"))
    return records


# --- Neutralisation ----------------------------------------------------------------------------------

def neutralise_cell(value):
    """Prefix text beginning with = + - @ (or tab / carriage return) with an apostrophe; return anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell and column name neutralised (see neutralise_cell)."""
    result = frame.copy()
    for column in result.columns:
        if result[column].dtype == object or pd.api.types.is_string_dtype(result[column]):
            result[column] = result[column].map(neutralise_cell)
    result.columns = [neutralise_cell(str(c)) for c in result.columns]
    return result


# --- CSV, Excel, JSON ----------------------------------------------------------------------------------

def export_csv(report: SetReport) -> bytes:
    """The set table as CSV: UTF-8 with a byte-order mark (so spreadsheets read accents), comma-separated,
    one header row with SET_TABLE_COLUMNS, missing values as empty cells, text cells neutralised."""
    return neutralise_frame(report.table).to_csv(index=False).encode("utf-8-sig")


def _sheet_names(indicators: list[Indicator]) -> list[str]:
    """Excel sheet names (at most 31 characters, unique): '01 employment_rate'."""
    names = []
    for position, indicator in enumerate(indicators, start=1):
        short = indicator.code.split(".", 1)[1]
        names.append(f"{position:02d} {short}"[:31])
    return names


def export_excel(report: SetReport) -> bytes:
    """An Excel workbook (XlsxWriter): sheet 'My set' (the set table, SET_TABLE_COLUMNS, header in row 1),
    one sheet per indicator named '01 <code without right>' holding its metadata sheet as two columns
    Field / Value (build_metadata_records), and a sheet 'Sources' (generation date, country, datasets
    with their attribution and licence). Text cells are neutralised and written as text, never as formulas."""
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, {"in_memory": True, "strings_to_formulas": False,
                                            "strings_to_urls": False, "nan_inf_to_errors": False})
    header = workbook.add_format({"bold": True, "bg_color": "#e8edf2", "text_wrap": True, "valign": "top", "border": 1})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    bold_wrap = workbook.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    title = workbook.add_format({"bold": True, "font_size": 13})

    def write(sheet, row: int, column: int, value, cell_format=None) -> None:
        if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
            sheet.write_blank(row, column, None, cell_format)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            sheet.write_number(row, column, float(value), cell_format)
        else:
            sheet.write_string(row, column, str(neutralise_cell(str(value))), cell_format)

    sheet = workbook.add_worksheet("My set")
    table = report.table
    for column, name in enumerate(table.columns):
        write(sheet, 0, column, name, header)
    for row_number, row in enumerate(table.itertuples(index=False), start=1):
        for column, value in enumerate(row):
            write(sheet, row_number, column, value.item() if hasattr(value, "item") else value)
    widths = {"Indicator": 48, "Attribute": 30, "Source": 40, "Note": 40, "Flag meaning": 24, "Right": 22, "Code": 34}
    for column, name in enumerate(table.columns):
        sheet.set_column(column, column, widths.get(name, 14))
    sheet.freeze_panes(1, 2)
    if len(table):
        sheet.autofilter(0, 0, len(table), len(table.columns) - 1)

    for name, indicator in zip(_sheet_names(report.indicators), report.indicators):
        sheet = workbook.add_worksheet(name)
        sheet.set_column(0, 0, 30)
        sheet.set_column(1, 1, 110)
        write(sheet, 0, 0, "Field", header)
        write(sheet, 0, 1, "Value", header)
        for row_number, (field_name, text) in enumerate(build_metadata_records(report, indicator), start=1):
            write(sheet, row_number, 0, field_name, bold_wrap)
            write(sheet, row_number, 1, text, wrap)

    sheet = workbook.add_worksheet("Sources")
    sheet.set_column(0, 0, 30)
    sheet.set_column(1, 1, 70)
    sheet.set_column(2, 2, 34)
    write(sheet, 0, 0, f"RightsGap — {report.title}", title)
    write(sheet, 1, 0, "Generated on")
    write(sheet, 1, 1, report.generated_on)
    write(sheet, 2, 0, "Country")
    write(sheet, 2, 1, f"{report.country_name} ({report.country})" if report.country else "none chosen")
    write(sheet, 3, 0, "Reading the gap")
    write(sheet, 3, 1, "Disadvantage > 0: migrants worse off than their reference group (nationals or native-born). "
                       "Differences of rates are in percentage points (pp).", wrap)
    for column, name in enumerate(("Dataset", "Attribution", "Licence")):
        write(sheet, 5, column, name, header)
    for row_number, row in enumerate(report.sources.itertuples(index=False), start=6):
        write(sheet, row_number, 0, row.name)
        write(sheet, row_number, 1, row.source, wrap)
        write(sheet, row_number, 2, row.licence, wrap)
    workbook.close()
    return output.getvalue()


def _json_value(value):
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def export_json(report: SetReport) -> bytes:
    """The set for machines, UTF-8 JSON:
    {"generated_on": "YYYY-MM-DD", "country": {"code", "name"} | null,
     "indicators": [{every catalogue field (Indicator.model_dump()),
                     "latest": [set-table rows of this indicator, {column: value}],
                     "places_with_both_groups": [{"geo", "name", "years": [int]}]}],
     "good_practices": [GoodPractice.model_dump()], "sources": [{"name", "source", "licence", "producer_type"}]}.
    Text is not neutralised (JSON is not a spreadsheet)."""
    entries = []
    for indicator in report.indicators:
        rows = report.table.loc[report.table["Code"] == indicator.code]
        both = report.availability.loc[(report.availability["indicator"] == indicator.code)
                                       & (report.availability["status"] == "both_groups")]
        entries.append({
            **indicator.model_dump(),
            "latest": [{k: _json_value(v) for k, v in row.items()} for row in rows.to_dict("records")],
            "places_with_both_groups": [{"geo": r.geo, "name": geo.name_of(r.geo), "years": list(r.years_both_groups)}
                                        for r in both.itertuples(index=False)],
        })
    document = {
        "generated_on": report.generated_on,
        "country": {"code": report.country, "name": report.country_name} if report.country else None,
        "indicators": entries,
        "good_practices": [p.model_dump() for p in report.practices],
        "sources": [{k: _json_value(v) for k, v in row.items()} for row in report.sources.to_dict("records")],
    }
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


# --- PDF -------------------------------------------------------------------------------------------------

def find_unicode_font() -> dict[str, Path]:
    """Paths of a regular and a bold TrueType font covering accented Latin text: {'' : regular, 'B': bold}.

    Looks in $RIGHTSGAP_PDF_FONT_DIR, then FONT_DIRECTORIES, for FONT_FILES (DejaVu Sans).
    Raises ExportError saying what to install when none is found.
    """
    directories = ([Path(os.environ["RIGHTSGAP_PDF_FONT_DIR"])] if os.environ.get("RIGHTSGAP_PDF_FONT_DIR") else []) \
        + list(FONT_DIRECTORIES)
    for directory in directories:
        paths = {style: directory / name for style, name in FONT_FILES.items()}
        if all(path.is_file() for path in paths.values()):
            return paths
    raise ExportError("The PDF report needs the DejaVu Sans font, which was not found in "
                      f"{', '.join(str(d) for d in directories)}. Install the Debian package fonts-dejavu-core "
                      "(apt-get install fonts-dejavu-core) or set RIGHTSGAP_PDF_FONT_DIR to a folder holding "
                      "DejaVuSans.ttf and DejaVuSans-Bold.ttf.")


class _ReportPDF(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("DejaVu", size=7)
        self.set_text_color(110, 110, 110)
        self.cell(0, 5, f"{self.footer_text} · page {self.page_no()}/{{nb}}", align="C")
        self.set_text_color(0, 0, 0)


def export_pdf(report: SetReport) -> bytes:
    """A printable A4 report (fpdf2, DejaVu Sans): a summary table of the set with the latest values and
    gaps for the chosen country, then one section per indicator with its full metadata sheet
    (build_metadata_records), and the sources with their licences.

    Raises ExportError when no Unicode font is available (see find_unicode_font).
    """
    fonts = find_unicode_font()
    pdf = _ReportPDF(orientation="P", unit="mm", format="A4")
    pdf.footer_text = f"RightsGap · {report.title} · {report.generated_on}"
    pdf.set_title(f"RightsGap — {report.title}")
    pdf.set_author("RightsGap")
    for style, path in fonts.items():
        pdf.add_font("DejaVu", style, str(path))
    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.set_margins(15, 15, 15)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    def heading(text: str, size: float) -> None:
        pdf.set_font("DejaVu", "B", size)
        pdf.multi_cell(width, size * 0.5, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1.5)

    def paragraph(text: str, size: float = 9) -> None:
        pdf.set_font("DejaVu", "", size)
        pdf.multi_cell(width, size * 0.48, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    heading(f"RightsGap — {report.title}", 16)
    paragraph(f"Human rights indicators for migrants. Generated on {report.generated_on}. "
              + (f"Latest values for {report.country_name} ({report.country}): the latest year in which both groups "
                 "have a value. " if report.country else "No country chosen. ")
              + "Disadvantage > 0 means migrants are worse off than their reference group (nationals or the "
                "native-born); differences of rates are in percentage points (pp).")
    pdf.ln(3)
    heading("The set", 12)
    pdf.set_font("DejaVu", "", 7.5)
    with pdf.table(col_widths=(50, 16, 36, 10, 21, 21, 26), text_align=("LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
                   line_height=3.6, headings_style=FontFace(emphasis="BOLD", fill_color=(232, 237, 242)),
                   first_row_as_headings=True) as pdf_table:
        header_row = pdf_table.row()
        for text in ("Indicator", "Type", "Comparison", "Year", "Reference group", "Migrant group", "Disadvantage"):
            header_row.cell(text)
        for values in report.table.to_dict("records"):
            comparison = (f"{values['Migrant group']} vs {values['Reference group'].lower()}"
                          + (f" ({values['Sex'].lower()})" if values["Sex"] and values["Sex"] != "Total" else "")
                          if values["Migrant group"] else values["Note"].split(";")[0])
            cells = (values["Indicator"], values["Type"], comparison or "",
                     "" if pd.isna(values["Year"]) else str(values["Year"]),
                     _format(values["Reference group value"], values["Unit"]) if values["Migrant group"] else "",
                     _format(values["Migrant group value"] if values["Migrant group"] else values["Whole population value"], values["Unit"]),
                     _format_difference(values["Disadvantage"], values["Unit"]) if values["Migrant group"] else "")
            table_row = pdf_table.row()
            for text in cells:
                table_row.cell(str(text))

    identity_fields = 11  # Code ... Datasets: short values, printed as a two-column table
    pdf.add_page()
    for position, indicator in enumerate(report.indicators):
        if position and pdf.get_y() > pdf.h - 90:  # start a new page rather than a lone heading at the bottom
            pdf.add_page()
        elif position:
            pdf.ln(4)
            pdf.set_draw_color(150, 150, 150)
            pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
            pdf.set_draw_color(0, 0, 0)
            pdf.ln(4)
        heading(indicator.title, 13)
        records = build_metadata_records(report, indicator)
        pdf.set_font("DejaVu", "", 8)
        with pdf.table(col_widths=(45, 135), line_height=3.8, first_row_as_headings=False, text_align=("LEFT", "LEFT"),
                       borders_layout="HORIZONTAL_LINES") as pdf_table:
            for field_name, text in records[:identity_fields]:
                table_row = pdf_table.row()
                table_row.cell(field_name, style=FontFace(emphasis="BOLD"))
                table_row.cell(text)
        pdf.ln(3)
        for field_name, text in records[identity_fields:]:
            if field_name == "Title":
                continue
            if pdf.get_y() > pdf.h - 30:  # keep a field's label with its first lines
                pdf.add_page()
            pdf.set_font("DejaVu", "B", 8.5)
            pdf.multi_cell(width, 4.2, field_name, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            paragraph(text, 8.5)
            pdf.ln(1.2)

    pdf.add_page()
    heading("Sources and licences", 12)
    for row in report.sources.itertuples(index=False):
        paragraph(f"{row.source} — licence {row.licence}")
    if report.sources.empty:
        paragraph("No embedded figures are used by this set.")
    paragraph("Indicators follow the OHCHR framework (Human Rights Indicators: A Guide to Measurement and "
              "Implementation, 2012) as adapted for migrants by the OHCHR–KNOMAD expert meeting (Geneva, 2014) "
              "and KNOMAD Working Paper 5 (2015).")
    return bytes(pdf.output())
