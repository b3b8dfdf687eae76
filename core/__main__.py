"""Command line for analysts' scripts and checks: ``python -m core COMMAND ... --db PATH``.

Commands:
  build      build (or update) the store with the embedded default
  catalogue  print the indicator catalogue (JSON list or CSV)
  gaps       print gaps for one indicator (JSON or CSV)
  capacity   print both groups' scores against the achievement possibilities frontier (JSON or CSV)
  read       read a file (CSV, TSV, TXT, Excel) and print the tidy observations, storing nothing
  load       read, validate and store a file as a named dataset (all rows or none); JSON report
  datasets   list the uploaded datasets with their provenance
  delete     delete an uploaded dataset

Bad arguments print one line on stderr and exit with status 2.
"""
from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

import pandas as pd


class ArgumentError(Exception):
    """A bad command-line argument (reported on one line, exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, status 2 (argparse's own convention)
        raise ArgumentError(message)


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, default=None, help="database file (default: $RIGHTSGAP_DB or .rightsgap/rightsgap.duckdb)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = _Parser(prog="python -m core", description="RightsGap: human rights indicators for migrants")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    build = commands.add_parser("build", help="build the store with the embedded default")
    _add_db(build)
    build.add_argument("--force", action="store_true", help="rebuild even when up to date")

    catalogue = commands.add_parser("catalogue", help="print the indicator catalogue")
    _add_db(catalogue)
    catalogue.add_argument("--format", choices=["json", "csv"], default="json")

    gaps = commands.add_parser("gaps", help="print gaps between migrants and their reference group")
    _add_db(gaps)
    gaps.add_argument("--indicator", required=True, help="catalogue code, e.g. work.employment_rate")
    gaps.add_argument("--geo", action="append", default=[], help="place: any common code or name; repeatable")
    gaps.add_argument("--year", default="latest", help="a year, or 'latest' (latest year both groups have)")
    gaps.add_argument("--sex", choices=["T", "F", "M"], default=None)
    gaps.add_argument("--age", default=None, help="age band code, e.g. Y15-64")
    gaps.add_argument("--group", default=None, help="migrant group, e.g. non_nationals, foreign_born")
    gaps.add_argument("--dataset", default=None, help="only this dataset")
    gaps.add_argument("--format", choices=["json", "csv"], default="json")

    capacity = commands.add_parser("capacity", help="print scores of both groups as %% of what the country's GDP per capita allows")
    _add_db(capacity)
    capacity.add_argument("--indicator", required=True, help="an outcome indicator's catalogue code, e.g. work.employment_rate")
    capacity.add_argument("--geo", action="append", default=[], help="place: any common code or name; repeatable")
    capacity.add_argument("--year", default="latest", help="a year, or 'latest' (latest year both groups have)")
    capacity.add_argument("--sex", choices=["T", "F", "M"], default=None, help="default: T, or F and M when the source has no total")
    capacity.add_argument("--age", default=None, help="age band code (default: the usual band of the source, e.g. Y15-64)")
    capacity.add_argument("--group", default=None, help="migrant group (default: non-nationals, else foreign-born, ...)")
    capacity.add_argument("--format", choices=["json", "csv"], default="json")
    read = commands.add_parser("read", help="read a file and print its tidy observations (nothing is stored)")
    _add_upload_options(read)
    read.add_argument("--format", choices=["json", "csv"], default="csv")
    read.add_argument("--db", type=Path, default=None, help="database with indicators defined at upload (optional)")

    load = commands.add_parser("load", help="read, validate and store a file as a dataset (all rows or none)")
    _add_upload_options(load)
    _add_db(load)
    load.add_argument("--dataset", default=None, help="dataset name (default: the file name without extension)")
    load.add_argument("--dry-run", action="store_true", help="validate only; store nothing")
    load.add_argument("--format", choices=["json"], default="json")
    load.add_argument("--title", default="", help="the dataset's title")
    load.add_argument("--producer", default="", help="who produced the figures (e.g. 'City of Vienna')")
    load.add_argument("--producer-type", choices=["official", "civil_society"], default="official")
    load.add_argument("--source", default="", help="attribution shown with every figure")
    load.add_argument("--licence", default="")
    load.add_argument("--url", default="")
    load.add_argument("--skip-rejected", action="store_true", help="store the usable rows although some rows were rejected")
    load.add_argument("--replace", action="store_true", help="replace an uploaded dataset of the same name")

    datasets = commands.add_parser("datasets", help="list uploaded datasets with their provenance")
    _add_db(datasets)
    datasets.add_argument("--format", choices=["json", "csv"], default="json")

    delete = commands.add_parser("delete", help="delete an uploaded dataset")
    delete.add_argument("name", help="the dataset's name (see 'datasets')")
    _add_db(delete)
    return parser


def _add_upload_options(parser: argparse.ArgumentParser) -> None:
    """Options of 'read' and 'load': the file, what its columns mean, and corrections of what was detected."""
    parser.add_argument("file", type=Path, help="CSV, TSV, TXT or Excel file")
    parser.add_argument("--column", action="append", default=[], metavar="ROLE=NAME",
                        help="the column playing a role: geo, period, value, group, sex, age, unit, flag, indicator, se, "
                             "ci_lower, ci_upper, population; repeatable")
    parser.add_argument("--group-label", action="append", default=[], metavar="LABEL=GROUP",
                        help="what a label of the group column means (e.g. 'Ausländer=non_nationals'; empty GROUP leaves those rows out)")
    parser.add_argument("--group-column", action="append", default=[], metavar="GROUP=NAME",
                        help="the value column of one group, in a table with one value column per group")
    parser.add_argument("--group-flag-column", action="append", default=[], metavar="GROUP=NAME",
                        help="the flag column of one group, in a table with one value column per group")
    parser.add_argument("--indicator", default=None, help="the catalogue indicator the values measure")
    parser.add_argument("--indicator-label", action="append", default=[], metavar="LABEL=CODE",
                        help="what a value of the indicator column means (empty CODE leaves those rows out)")
    parser.add_argument("--sex-label", action="append", default=[], metavar="LABEL=SEX", help="what a sex label means (T, F, M)")
    parser.add_argument("--place", action="append", default=[], metavar="TEXT=CODE",
                        help="the code of a place the reader does not know (empty CODE leaves those rows out)")
    parser.add_argument("--keep", action="append", default=[], metavar="COLUMN=VALUE",
                        help="keep only rows whose COLUMN is VALUE (repeatable; several values of one column add up)")
    parser.add_argument("--year", default=None, help="the year of every row, when the file has no year column")
    parser.add_argument("--age", default=None, help="the age band of every row, when the file has no age column "
                                                    "(e.g. Y15-64; default: all ages, TOTAL)")
    parser.add_argument("--local", action="store_true", help="the places are local units (your own codes)")
    parser.add_argument("--shares", action="store_true", help="values are 0-1 shares of a percentage indicator (x 100)")
    from core import readers

    parser.add_argument("--layout", choices=list(readers.LAYOUTS), default=None, help="override the detected layout")
    parser.add_argument("--encoding", type=_encoding, default=None,
                        help="override the detected encoding of a text file (utf-8, cp1252, latin-1, utf-16 or another "
                             "Python codec name)")
    parser.add_argument("--delimiter", type=_one_of("a delimiter", readers.DELIMITERS, DELIMITER_NAMES), default=None,
                        help="override the detected delimiter of a text file: , ; | or tab (names: comma, semicolon, pipe)")
    parser.add_argument("--decimal", type=_one_of("a decimal mark", readers.DECIMAL_MARKS, DECIMAL_NAMES), default=None,
                        help="override the detected decimal mark: . or , (names: point, comma)")
    parser.add_argument("--thousands", type=_one_of("a thousands separator", readers.THOUSANDS_SEPARATORS, THOUSANDS_NAMES),
                        default=None,
                        help="override the detected thousands separator: none, comma, point, space or apostrophe")
    parser.add_argument("--sheet", default=None, help="the sheet to read (Excel workbooks only)")
    parser.add_argument("--header-row", type=_line_number, default=None,
                        help="override the detected header row: its line (sheet row) number, 1 for the first")


#: Names an option's value may be given by instead of the character (a tab is awkward to type).
DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|", "bar": "|", "vertical bar": "|"}
DECIMAL_NAMES = {"point": ".", "dot": ".", "period": ".", "comma": ","}
THOUSANDS_NAMES = {"none": "", "comma": ",", "point": ".", "dot": ".", "period": ".", "space": " ", "apostrophe": "'"}


def _show(value: str) -> str:
    """A separator as an error line shows it: 'tab', 'none' and 'space' for the invisible ones."""
    return {"\t": "tab", "": "none", " ": "space"}.get(value, repr(value))


def _one_of(what: str, allowed: dict[str, str], names: dict[str, str]):
    """An argparse type= function accepting a key of ``allowed`` (or its name in ``names``, any case);
    anything else raises ArgumentTypeError naming the value and the allowed ones ('what' is, e.g.,
    'a delimiter')."""
    def convert(text: str) -> str:
        value = names.get(text.strip().lower(), text)
        if value not in allowed:
            raise argparse.ArgumentTypeError(f"{_shorten(text)!r} is not {what} the reader knows; use one of "
                                             f"{', '.join(_show(key) for key in allowed)}")
        return value
    return convert


def _encoding(text: str) -> str:
    """An argparse type= function: a Python text codec, as the key of readers.ENCODINGS when it is one
    of them ('UTF-8' -> 'utf-8', 'iso-8859-1' -> 'latin-1'); else ArgumentTypeError."""
    import codecs

    from core import readers

    try:
        b"a".decode(text, "ignore")  # LookupError for an unknown codec and for codecs that are not text (base64)
        name = codecs.lookup(text).name
    except (LookupError, ValueError, TypeError):
        raise argparse.ArgumentTypeError(f"{_shorten(text)!r} is not a text encoding; use one of "
                                         f"{', '.join(readers.ENCODINGS)} or another Python codec name") from None
    return next((key for key in readers.ENCODINGS if codecs.lookup(key).name == name), text)


def _line_number(text: str) -> int:
    """An argparse type= function: a 1-based line (sheet row) number; else ArgumentTypeError."""
    if not (text.strip().isascii() and text.strip().isdigit() and int(text) >= 1):
        raise argparse.ArgumentTypeError(f"{_shorten(text)!r} is not a line number; give the line of the column "
                                         "names, 1 for the first line")
    return int(text)


def _pairs(values: list[str], option: str) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        if "=" not in value:
            raise ArgumentError(f"{option} takes KEY=VALUE, not {value!r}")
        key, _, right = value.rpartition("=")
        pairs.append((key, right))
    return pairs


def _check_format_options(parser: argparse.ArgumentParser, arguments) -> None:
    """Options of 'read' and 'load' that contradict each other (parser.error: one line, status 2)."""
    if arguments.decimal is not None and arguments.decimal == arguments.thousands:
        parser.error(f"argument --decimal and --thousands: both are {_show(arguments.decimal)}; the decimal mark and "
                     "the thousands separator must differ")


def _format_overrides(arguments) -> dict:
    """The detected format's corrections given on the command line (keys of readers.FORMAT_OVERRIDES)."""
    return {key: getattr(arguments, key) for key in ("layout", "encoding", "delimiter", "decimal", "thousands", "sheet",
                                                      "header_row") if getattr(arguments, key) is not None}


def _read_upload_file(arguments) -> bytes:
    """The bytes of the file to read or load, once its format options were checked against the file.

    Raises ArgumentError (one line, before any database is opened) when the file cannot be read, an
    option does not apply to this kind of file (--sheet on a text file; --encoding or --delimiter on
    a workbook), the sheet does not exist (the line lists the sheets), or the header row lies beyond
    the table (or, in a Eurostat TSV file, is not line 1).
    """
    from core import readers

    try:
        content = arguments.file.read_bytes()
    except OSError as error:
        raise ArgumentError(f"cannot read {arguments.file}: {error.strerror or error}")
    name = arguments.file.name
    kind = readers.sniff_kind(content, name)
    if arguments.sheet is not None and kind != "excel":
        raise ArgumentError(f"--sheet {_shorten(arguments.sheet)!r}: {name} is not an Excel workbook; --sheet applies "
                            "to .xlsx, .xls and .ods files only")
    if kind == "excel":
        for option in ("encoding", "delimiter"):
            if getattr(arguments, option) is not None:
                raise ArgumentError(f"--{option} {_show(getattr(arguments, option))}: applies to text files (CSV, TSV, "
                                    f"TXT), not to the Excel workbook {name}")
    overrides = _format_overrides(arguments)
    if "sheet" not in overrides and "header_row" not in overrides:
        return content
    fmt, _ = readers.detect_format(content, name, overrides)
    if arguments.sheet is not None and fmt.kind == "unreadable":
        sheets = readers.detect_format(content, name, {k: v for k, v in overrides.items() if k != "sheet"})[0].sheets
        if sheets and arguments.sheet not in sheets:
            raise ArgumentError(f"--sheet {_shorten(arguments.sheet)!r}: {name} has no such sheet; its sheets are "
                                f"{', '.join(map(repr, sheets))}")
    wanted = arguments.header_row
    if wanted is not None and fmt.columns:
        if fmt.layout == "eurostat_tsv" and wanted != 1:
            raise ArgumentError(f"--header-row {wanted}: {name} is a Eurostat TSV file, whose header is line 1")
        if fmt.header_row < wanted:  # the reader found no row there and fell back to the first
            where = f"row {wanted} or below in sheet {fmt.sheet!r} of {name}" if fmt.kind == "excel" \
                else f"line {wanted} or below in {name} ({fmt.lines} lines)"
            raise ArgumentError(f"--header-row {wanted}: no header could be read at {where}; give the line of the "
                                "column names")
    return content


def _check_indicators(arguments, connection=None) -> None:
    """Refuse an --indicator (or the CODE of an --indicator-label) that is neither in the catalogue
    nor defined at upload in the database (connection None: no database yet, the catalogue only).
    Raises ArgumentError naming the code."""
    from core import upload
    from core.catalogue import load_default_catalogue

    catalogue = load_default_catalogue()
    codes = [("--indicator", arguments.indicator)] + [("--indicator-label", code) for _, code in
                                                     _pairs(arguments.indicator_label, "--indicator-label") if code]
    for option, code in codes:
        if not code:
            continue
        known = code in catalogue if connection is None else upload.resolve_indicator(code, connection, catalogue) is not None
        if not known:
            raise ArgumentError(f"{option}: unknown indicator {_shorten(code)!r}; list the codes with 'python -m core "
                                "catalogue', or define a new indicator on the app's Upload page")


def _upload_session(connection, arguments, content: bytes):
    """An UploadSession for the file's bytes (see _read_upload_file) with the detected format corrected
    by the options, and its Mapping (guesses overridden by the options)."""
    from core import upload

    _check_indicators(arguments, connection)
    session = upload.UploadSession(connection.cursor(), content, arguments.file.name, _format_overrides(arguments))
    mapping = session.guess_mapping()
    for role, name in _pairs(arguments.column, "--column"):
        if role not in upload.ROLES:
            raise ArgumentError(f"unknown role {role!r}; use one of {', '.join(upload.ROLES)}")
        mapping.columns[role] = name
    if arguments.group_column:
        mapping.group_columns = dict(_pairs(arguments.group_column, "--group-column"))
        mapping.year_columns = []
        mapping.columns.pop("value", None)
    if arguments.group_flag_column:
        mapping.group_flag_columns = dict(_pairs(arguments.group_flag_column, "--group-flag-column"))
    if "group" in mapping.columns and not mapping.group_dimension:
        from core import readers

        mapping.group_dimension = readers.guess_group_dimension(mapping.columns["group"])
    mapping.group_labels.update(dict(_pairs(arguments.group_label, "--group-label")))
    mapping.sex_labels.update(dict(_pairs(arguments.sex_label, "--sex-label")))
    mapping.indicator_labels.update(dict(_pairs(arguments.indicator_label, "--indicator-label")))
    mapping.place_labels.update(dict(_pairs(arguments.place, "--place")))
    for column, value in _pairs(arguments.keep, "--keep"):
        mapping.filters.setdefault(column, [])
        if value not in mapping.filters[column]:
            mapping.filters[column].append(value)
    if arguments.indicator:
        mapping.indicator = arguments.indicator
    if arguments.year:
        mapping.fixed["period"] = arguments.year
    if arguments.age:
        mapping.fixed["age"] = arguments.age
    if arguments.local:
        mapping.place_level = "local"
    if arguments.shares:
        mapping.value_scale = 100.0
    return session, mapping


def _describe_detection(session, report) -> str:
    fmt = session.format
    lines = [f"{fmt.file_name}: {fmt.kind}, layout {fmt.layout}" + (f", sheet {fmt.sheet!r}" if fmt.sheet else "")
             + (f", encoding {fmt.encoding}" if fmt.encoding else "") + (f", delimiter {fmt.delimiter!r}" if fmt.delimiter else "")
             + f", decimal {fmt.decimal!r}" + (f", thousands {fmt.thousands!r}" if fmt.thousands else "")
             + f", header row {fmt.header_row}" + (f"-{fmt.header_row + 1}" if fmt.header_rows == 2 else "")]
    lines += [f"  {note}" for note in fmt.notes]
    lines.append(f"  rows read {report.rows_read}, usable {report.rows_usable}, rejected {report.rows_rejected}, "
                 f"left out {report.rows_left_out}" + (f" (of them {report.rows_repeated} exact repeats, kept once)"
                                                       if report.rows_repeated else "")
                 + f", missing values {report.missing_values}")
    for problem in report.problems[:20]:
        lines.append(f"  {problem.describe()}")
    for note in report.notes[:20]:
        lines.append(f"  note: {note.message}")
    for warning in report.warnings:
        lines.append(f"  warning: {warning}")
    if len(report.problems) > 20:
        lines.append(f"  ... {sum(report.problem_counts.values())} problem rows in all: {report.problem_counts}")
    return "\n".join(lines)


def _run_read(arguments, content: bytes) -> int:
    import duckdb

    from core import store

    connection = store.open_database(arguments.db) if arguments.db else duckdb.connect(":memory:")
    try:
        if not arguments.db:
            connection.execute(store.SCHEMA)
        session, mapping = _upload_session(connection, arguments, content)
        report = session.validate(mapping)
        print(_describe_detection(session, report), file=sys.stderr)
        frame = session.observations() if session.readable and report.rows_usable else pd.DataFrame(
            columns=["source_row", "indicator", "geo", "geo_level", "period", "sex", "age", "group", "unit", "value", "flags",
                     "se", "ci_lower", "ci_upper", "population"])
        _print_table(frame, arguments.format)
        return 0 if report.status == "valid" else 2
    finally:
        connection.close()


def _run_load(connection, arguments, content: bytes) -> int:
    from core import upload

    session, mapping = _upload_session(connection, arguments, content)
    name = arguments.dataset or arguments.file.stem
    if arguments.dry_run:
        report = session.validate(mapping)
        report.dataset = name
    else:
        info = upload.DatasetInfo(name=name, title=arguments.title, producer=arguments.producer,
                                  producer_type=arguments.producer_type, source=arguments.source, licence=arguments.licence,
                                  url=arguments.url)
        try:
            report = session.load(mapping, info, allow_rejected=arguments.skip_rejected, replace=arguments.replace)
        except upload.UploadError as error:
            raise ArgumentError(str(error))
    print(_describe_detection(session, report), file=sys.stderr)
    sys.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, default=str) + "\n")
    return 0 if report.status in ("loaded", "valid") else 2


CAPACITY_OUTPUT_COLUMNS = [
    "indicator", "geo", "geo_name", "geo_level", "year", "sex", "age", "reference_group", "group", "reference_value", "value",
    "disadvantage", "gdp_per_capita_ppp", "frontier_value", "score_reference", "score_group", "capacity_gap",
    "frontier_countries", "frontier_support_countries", "score_note",
]


def _shorten(text: str, limit: int = 60) -> str:
    """Echo user text in an error line without flooding the terminal."""
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} characters)"


def _check_place_year_group(connection, arguments) -> tuple[list[str], int | str]:
    """Resolve --geo (any common code or name), --year (a year or 'latest') and --group.

    Returns (geo codes, year as int or 'latest'); raises ArgumentError naming the bad value.
    """
    from core import geo, vocabulary

    geos = []
    for text in arguments.geo:
        code = geo.resolve_geo_code(text) if len(text) <= 200 else None
        known = connection.execute("SELECT count(*) FROM observations WHERE geo = ?", [text]).fetchone()[0]
        if code is None and not known:
            raise ArgumentError(f"unknown place {_shorten(text)!r}; use an ISO code (DEU, DE), a name (Germany) "
                                "or an aggregate (EU27_2020)")
        geos.append(code or text)
    year = arguments.year
    if year != "latest":
        if not (year.isascii() and year.isdigit() and 1900 <= int(year) <= 2100):
            raise ArgumentError(f"--year must be a year between 1900 and 2100 (e.g. 2023) or 'latest', not {_shorten(year)!r}")
        year = int(year)
    if arguments.group and arguments.group not in vocabulary.POPULATION_GROUPS:
        raise ArgumentError(f"unknown group {_shorten(arguments.group)!r}; use one of {sorted(vocabulary.POPULATION_GROUPS)}")
    return geos, year


def _run_capacity(connection, arguments) -> pd.DataFrame:
    """Rows of `capacity`: one per place (and sex when the source has no total), CAPACITY_OUTPUT_COLUMNS."""
    from core import capacity, compare, geo, queries, vocabulary

    try:
        entry = queries.fetch_indicator(connection, arguments.indicator)
    except KeyError:
        raise ArgumentError(f"unknown indicator {_shorten(arguments.indicator)!r}; list them with 'python -m core catalogue'")
    if entry.get("type") != "outcome" or entry.get("context"):
        raise ArgumentError(f"{arguments.indicator} is a {entry.get('type')} indicator; the frontier scores outcome indicators "
                            "that compare migrants with their reference group")
    geos, year = _check_place_year_group(connection, arguments)
    observations = queries.fetch_observations(connection, arguments.indicator)
    places = geos or sorted(observations["geo"].unique())
    breakdown = compare.choose_breakdown(observations, places) if not observations.empty else None
    if breakdown is None:
        raise ArgumentError(f"{arguments.indicator} has no values comparing a migrant group with its reference group")
    group = arguments.group or breakdown["group"]
    sexes = [arguments.sex] if arguments.sex else breakdown["sexes"]
    age = arguments.age or breakdown["age"]
    parts = []
    for sex in sexes:
        try:
            parts.append(capacity.fetch_capacity_scores(connection, arguments.indicator, geos=geos or None, year=year, sex=sex,
                                                        age=age, group=group))
        except capacity.CapacityError as error:
            raise ArgumentError(str(error))
    scores = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=CAPACITY_OUTPUT_COLUMNS)
    scores = scores.reindex(columns=CAPACITY_OUTPUT_COLUMNS)
    for column in ("frontier_countries", "frontier_support_countries"):
        scores[column] = scores[column].round().astype("Int64")
    return scores


def _catalogue_records(connection) -> list[dict]:
    from core import queries
    from core.catalogue import load_default_catalogue

    summary = queries.fetch_data_summary(connection)
    with_data = set(summary.loc[summary["values"] > 0, "indicator"])
    records = []
    for record in load_default_catalogue().to_records():
        record["has_data"] = record["code"] in with_data
        records.append(record)
    return records


def _print_table(records: list[dict] | pd.DataFrame, output_format: str) -> None:
    frame = records if isinstance(records, pd.DataFrame) else pd.DataFrame(records)
    if output_format == "csv":
        # Lists as 'a; b', mappings as JSON: no Python syntax in spreadsheet cells.
        frame = frame.apply(lambda column: column.map(
            lambda value: "; ".join(map(str, value)) if isinstance(value, (list, tuple))
            else json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else value))
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False)
        sys.stdout.write(buffer.getvalue())
    else:
        sys.stdout.write(frame.to_json(orient="records", force_ascii=False, double_precision=10) + "\n")


#: Commands that use an existing database and never create one ('read' only when given --db).
READ_ONLY_COMMANDS = ("catalogue", "gaps", "capacity", "datasets", "delete", "read")


def run(argv: list[str]) -> int:
    """Run one command; returns the exit status (0 ok, 2 bad arguments or rejected input)."""
    from core import geo, queries, store, vocabulary

    import duckdb

    parser = build_parser()
    arguments = parser.parse_args(argv)
    content = None
    if arguments.command in ("read", "load"):
        _check_format_options(parser, arguments)
        content = _read_upload_file(arguments)
    path = arguments.db  # a path the user gave; the default store (.rightsgap/) is built when missing, as the app does
    if path is not None and not path.exists():
        if arguments.command in READ_ONLY_COMMANDS:
            advice = ("load a file first" if arguments.command in ("datasets", "delete", "read")
                      else f"build it first (python -m core build --db {path})")
            raise ArgumentError(f"no database at {path}; {advice} or check the path")
        if arguments.command == "load":
            _check_indicators(arguments)  # before the new database is made
    if arguments.command == "read":
        return _run_read(arguments, content)
    try:
        connection = store.open_database(arguments.db)
    except (duckdb.Error, OSError) as error:
        reason = str(error).splitlines()[0]
        advice = ("another program holds it (the app?): give this command its own --db PATH"
                  if "lock" in reason.lower() else "give --db a writable file path")
        raise ArgumentError(f"cannot open the database {arguments.db or store.default_db_path()}: {_shorten(reason, 160)}; {advice}")
    try:
        store.ensure_embedded_data(connection)
        if arguments.command == "build":
            store.ensure_embedded_data(connection, force=arguments.force)
            count = connection.execute("SELECT count(*) FROM observations").fetchone()[0]
            print(f"{arguments.db or store.default_db_path()}: {count} observations")
            return 0
        if arguments.command == "catalogue":
            _print_table(_catalogue_records(connection), arguments.format)
            return 0
        if arguments.command == "gaps":
            try:
                queries.fetch_indicator(connection, arguments.indicator)
            except KeyError:
                raise ArgumentError(f"unknown indicator {_shorten(arguments.indicator)!r}; list them with 'python -m core catalogue'")
            geos, year = _check_place_year_group(connection, arguments)
            gaps = queries.fetch_gaps(connection, arguments.indicator, geos=geos or None, year=year, sex=arguments.sex,
                                      group=arguments.group, age=arguments.age, dataset=arguments.dataset)
            if not gaps["difference_se"].notna().any():
                gaps = gaps.drop(columns=["difference_se", "difference_ci_lower", "difference_ci_upper",
                                          "ratio_ci_lower", "ratio_ci_upper"])
            if gaps.empty:
                print("note: no gap for this selection (no place has values for both groups; try another year, sex, "
                      "age band or group)", file=sys.stderr)
            _print_table(gaps, arguments.format)
            return 0
        if arguments.command == "capacity":
            _print_table(_run_capacity(connection, arguments), arguments.format)
            return 0
        if arguments.command == "load":
            return _run_load(connection, arguments, content)
        if arguments.command == "datasets":
            frame = store.fetch_uploaded_datasets(connection)
            frame["loaded_at"] = frame["loaded_at"].astype(str)
            _print_table(frame, arguments.format)
            return 0
        if arguments.command == "delete":
            try:
                deleted = store.delete_dataset(connection, arguments.name)
            except ValueError as error:
                raise ArgumentError(str(error))
            print(f"deleted {arguments.name!r}: {deleted} observations")
            return 0
    finally:
        connection.close()
    return 2


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the command, turning argument errors into one line on stderr and status 2."""
    import duckdb

    from core.catalogue import CatalogueError

    try:
        return run(sys.argv[1:] if argv is None else argv)
    except ArgumentError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (CatalogueError, duckdb.Error, OSError, RuntimeError) as error:
        print(f"error: {str(error).splitlines()[0]}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
