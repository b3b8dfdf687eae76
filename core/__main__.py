"""Command line for analysts' scripts and checks: ``python -m core COMMAND ... --db PATH``.

Commands:
  build      build (or update) the store with the embedded default
  catalogue  print the indicator catalogue (JSON list or CSV)
  gaps       print gaps for one indicator (JSON or CSV)
  capacity   print both groups' scores against the achievement possibilities frontier (JSON or CSV)

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

    capacity = commands.add_parser("capacity", help="print scores of both groups as % of what the country's GDP per capita allows")
    _add_db(capacity)
    capacity.add_argument("--indicator", required=True, help="an outcome indicator's catalogue code, e.g. work.employment_rate")
    capacity.add_argument("--geo", action="append", default=[], help="place: any common code or name; repeatable")
    capacity.add_argument("--year", default="latest", help="a year, or 'latest' (latest year both groups have)")
    capacity.add_argument("--sex", choices=["T", "F", "M"], default=None, help="default: T, or F and M when the source has no total")
    capacity.add_argument("--age", default=None, help="age band code (default: the usual band of the source, e.g. Y15-64)")
    capacity.add_argument("--group", default=None, help="migrant group (default: non-nationals, else foreign-born, ...)")
    capacity.add_argument("--format", choices=["json", "csv"], default="json")
    return parser


CAPACITY_OUTPUT_COLUMNS = [
    "indicator", "geo", "geo_name", "geo_level", "year", "sex", "age", "reference_group", "group", "reference_value", "value",
    "disadvantage", "gdp_per_capita_ppp", "frontier_value", "score_reference", "score_group", "capacity_gap",
    "frontier_countries", "frontier_support_countries", "score_note",
]


def _run_capacity(connection, arguments) -> pd.DataFrame:
    """Rows of `capacity`: one per place (and sex when the source has no total), CAPACITY_OUTPUT_COLUMNS."""
    from core import capacity, compare, geo, queries, vocabulary

    try:
        entry = queries.fetch_indicator(connection, arguments.indicator)
    except KeyError:
        raise ArgumentError(f"unknown indicator {arguments.indicator!r}; list them with 'python -m core catalogue'")
    if entry.get("type") != "outcome" or entry.get("context"):
        raise ArgumentError(f"{arguments.indicator} is a {entry.get('type')} indicator; the frontier scores outcome indicators "
                            "that compare migrants with their reference group")
    geos = []
    for text in arguments.geo:
        code = geo.resolve_geo_code(text)
        known = connection.execute("SELECT count(*) FROM observations WHERE geo = ?", [text]).fetchone()[0]
        if code is None and not known:
            raise ArgumentError(f"unknown place {text!r}; use an ISO code (DEU, DE), a name (Germany) or an aggregate (EU27_2020)")
        geos.append(code or text)
    year = arguments.year
    if year != "latest":
        if not year.isdigit():
            raise ArgumentError(f"--year must be a year (e.g. 2023) or 'latest', not {year!r}")
        year = int(year)
    if arguments.group and arguments.group not in vocabulary.POPULATION_GROUPS:
        raise ArgumentError(f"unknown group {arguments.group!r}; use one of {sorted(vocabulary.POPULATION_GROUPS)}")
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
    return scores.reindex(columns=CAPACITY_OUTPUT_COLUMNS)


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
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False)
        sys.stdout.write(buffer.getvalue())
    else:
        sys.stdout.write(frame.to_json(orient="records", force_ascii=False, double_precision=10) + "\n")


def run(argv: list[str]) -> int:
    """Run one command; returns the exit status (0 ok, 2 bad arguments or rejected input)."""
    from core import geo, queries, store, vocabulary

    arguments = build_parser().parse_args(argv)
    connection = store.open_database(arguments.db)
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
                raise ArgumentError(f"unknown indicator {arguments.indicator!r}; list them with 'python -m core catalogue'")
            geos = []
            for text in arguments.geo:
                code = geo.resolve_geo_code(text)
                known = connection.execute("SELECT count(*) FROM observations WHERE geo = ?", [text]).fetchone()[0]
                if code is None and not known:
                    raise ArgumentError(f"unknown place {text!r}; use an ISO code (DEU, DE), a name (Germany) or an aggregate (EU27_2020)")
                geos.append(code or text)
            year = arguments.year
            if year != "latest":
                if not year.isdigit():
                    raise ArgumentError(f"--year must be a year (e.g. 2023) or 'latest', not {year!r}")
                year = int(year)
            if arguments.group and arguments.group not in vocabulary.POPULATION_GROUPS:
                raise ArgumentError(f"unknown group {arguments.group!r}; use one of {sorted(vocabulary.POPULATION_GROUPS)}")
            gaps = queries.fetch_gaps(connection, arguments.indicator, geos=geos or None, year=year, sex=arguments.sex,
                                      group=arguments.group, age=arguments.age, dataset=arguments.dataset)
            if not gaps["difference_se"].notna().any():
                gaps = gaps.drop(columns=["difference_se", "difference_ci_lower", "difference_ci_upper",
                                          "ratio_ci_lower", "ratio_ci_upper"])
            _print_table(gaps, arguments.format)
            return 0
        if arguments.command == "capacity":
            _print_table(_run_capacity(connection, arguments), arguments.format)
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
    except (CatalogueError, duckdb.Error, OSError) as error:
        print(f"error: {str(error).splitlines()[0]}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
