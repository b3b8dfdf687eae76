"""Structural indicators: the state's formal commitments (treaty ratifications), with their "as of" dates.

Six instruments bear on the rights of migrants that RightsGap covers:
- ICMW, the International Convention on the Protection of the Rights of All Migrant Workers and
  Members of Their Families (1990);
- ICESCR, the International Covenant on Economic, Social and Cultural Rights (1966);
- CRC, the Convention on the Rights of the Child (1989);
- CEDAW, the Convention on the Elimination of All Forms of Discrimination against Women (1979);
- ICERD, the International Convention on the Elimination of All Forms of Racial Discrimination (1965);
- ILO C189, the ILO Domestic Workers Convention, 2011 (No. 189).

Sources (../shared/data/treaties):
- ``hr_status_{icmw,icescr,crc,cedaw,icerd}.csv``: the status of the 193 UN member states as
  extracted from the United Nations Treaty Collection in August 2022 (columns iso2, member,
  "state party" 0/1, "year ratification or accession", signatory 0/1, "no action" 0/1, status,
  note). Shown "as of 2022-08".
- ``ilo_c189_ratifications_2020-10-05.csv``: the 30 states parties to C189 with the dates of
  ratification and entry into force, as of 5 October 2020 (from the Swiss official compilation of
  federal law). A UN member state not in the list is read as not a party on that date.

Which right and attribute each instrument bears on is read from the catalogue (the indicator's
right and attribute), never repeated here.

Two files in ``data/`` carry what the build script derives:
- ``data/observations/untc_*.csv`` and ``ilo_c189.csv``: yes (1) / no (0) observations at the
  "as of" year (core.importer reads the files with :func:`read_treaty_file`), so the store knows the
  structural indicators have data;
- ``data/treaties/ratifications.csv``: the details (year of ratification or accession, signature,
  status, "as of" date) read by :func:`load_treaty_status`.
"""
from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core import geo as geo_codes
from core.readers import Problem, SourceTable

TREATY_STATUS_FILE = Path(__file__).resolve().parent.parent / "data" / "treaties" / "ratifications.csv"

#: Obsolete ISO 3166-1 alpha-2 codes still found in treaty lists: TP was East Timor's code until
#: 2002 (now TL, alpha-3 TLS); ISO 3166-3 lists the withdrawn codes.
OBSOLETE_ALPHA2: dict[str, str] = {"TP": "TLS"}

UNTC_LICENCE = "Public record of the UN Secretary-General as depositary (facts of treaty status)"
ILO_LICENCE = "Public official record (facts of ratification)"


@dataclass(frozen=True)
class Instrument:
    """One treaty: code (ICMW ...), full name, short name, the catalogue indicator it fills,
    the dataset code of its embedded figures, the raw file (relative to ../shared/data),
    as_of (ISO date or month of the status), the year used as the observations' period, and the
    attribution text."""

    code: str
    name: str
    short_name: str
    indicator: str
    dataset: str
    file: str
    as_of: str
    as_of_year: int
    source: str
    licence: str


def _untc(code: str, name: str, short_name: str, indicator: str) -> Instrument:
    return Instrument(code, name, short_name, indicator, f"UNTC_{code}", f"treaties/hr_status_{code.lower()}.csv",
                      "2022-08", 2022, f"Source: United Nations Treaty Collection, status of {short_name} as of 2022-08",
                      UNTC_LICENCE)


#: The instruments, in the order pages show them (the migrant workers' convention first).
INSTRUMENTS: dict[str, Instrument] = {
    "ICMW": _untc("ICMW", "International Convention on the Protection of the Rights of All Migrant Workers and "
                          "Members of Their Families (1990)", "the Migrant Workers Convention (ICMW)", "work.ratification_icmw"),
    "ICESCR": _untc("ICESCR", "International Covenant on Economic, Social and Cultural Rights (1966)",
                    "the Covenant on Economic, Social and Cultural Rights (ICESCR)", "health.ratification_icescr"),
    "CRC": _untc("CRC", "Convention on the Rights of the Child (1989)", "the Convention on the Rights of the Child (CRC)",
                 "education.ratification_crc"),
    "CEDAW": _untc("CEDAW", "Convention on the Elimination of All Forms of Discrimination against Women (1979)",
                   "the Convention on Discrimination against Women (CEDAW)", "non_discrimination.ratification_cedaw"),
    "ICERD": _untc("ICERD", "International Convention on the Elimination of All Forms of Racial Discrimination (1965)",
                   "the Convention on Racial Discrimination (ICERD)", "non_discrimination.ratification_icerd"),
    "ILO_C189": Instrument("ILO_C189", "ILO Domestic Workers Convention, 2011 (No. 189)",
                           "the ILO Domestic Workers Convention (C189)", "work.ratification_ilo_c189", "ILO_C189",
                           "treaties/ilo_c189_ratifications_2020-10-05.csv", "2020-10-05", 2020,
                           "Source: International Labour Organization, states parties to Convention No. 189 as listed in "
                           "the Swiss official compilation of federal law, as of 2020-10-05", ILO_LICENCE),
}

#: Short labels for tables and legends.
LABELS: dict[str, str] = {
    "ICMW": "Migrant Workers Convention (ICMW, 1990)",
    "ICESCR": "Covenant on Economic, Social and Cultural Rights (ICESCR, 1966)",
    "CRC": "Convention on the Rights of the Child (CRC, 1989)",
    "CEDAW": "Convention on Discrimination against Women (CEDAW, 1979)",
    "ICERD": "Convention on Racial Discrimination (ICERD, 1965)",
    "ILO_C189": "ILO Domestic Workers Convention (C189, 2011)",
}

#: Columns of the treaty status table (load_treaty_status, read_*_status).
STATUS_COLUMNS: list[str] = [
    "instrument", "indicator", "dataset", "geo", "member", "state_party", "year", "signatory", "status",
    "ratification_date", "entry_into_force_date", "as_of", "source", "licence",
]


def instrument_of_indicator(indicator: str) -> Instrument | None:
    """The instrument whose ratification a catalogue indicator records (None for other indicators)."""
    return next((i for i in INSTRUMENTS.values() if i.indicator == indicator), None)


def _resolve_member(code: str, name: str) -> str | None:
    code = str(code).strip().upper()
    if code in OBSOLETE_ALPHA2:
        return OBSOLETE_ALPHA2[code]
    place = geo_codes.resolve_place(code) or geo_codes.resolve_place(name)
    return place.code if place is not None and place.level == "national" else None


def read_un_treaty_status(text: str, instrument: Instrument) -> tuple[pd.DataFrame, list[Problem]]:
    """Read a UN Treaty Collection status file (one row per UN member state).

    text: the CSV text with the header iso2, member, state party, year ratification or accession,
    signatory, no action, status, note.
    Returns (table with STATUS_COLUMNS, problems). state_party is True when the status says
    'state party' (the status text and the year agree; where the 0/1 column contradicts them, e.g.
    Moldova's ICESCR row in the 2022 extract, a problem notes it and the status wins); year is the
    year of ratification or accession (Int64, NA for non-parties); signatory is True for states that
    signed without ratifying. A row whose code resolves to no country is left out and reported;
    a state party without a year is kept (year NA) and reported.
    Raises ValueError when a column of the header is missing.
    """
    raw = pd.read_csv(io.StringIO(text.lstrip("\ufeff")), dtype=str, keep_default_na=False)
    required = ["iso2", "member", "state party", "year ratification or accession", "signatory", "status"]
    missing = [c for c in required if c not in raw.columns]
    if missing:
        raise ValueError(f"{instrument.file}: column(s) {missing} missing; expected the UN Treaty Collection status layout {required}")
    problems: list[Problem] = []
    rows = []
    for position, row in enumerate(raw.to_dict("records"), start=2):
        geo = _resolve_member(row["iso2"], row["member"])
        if geo is None:
            problems.append(Problem(position, "iso2", row["iso2"], f"{instrument.file}: not a known country code; row left out"))
            continue
        status = row["status"].strip().lower()
        party = status == "state party"
        if party != (row["state party"].strip() == "1"):
            problems.append(Problem(position, "state party", row["state party"],
                                    f"{instrument.file}: {row['member']}: the 0/1 column says {row['state party']} but the status is "
                                    f"{row['status']!r} (year {row['year ratification or accession'] or 'none'}); read from the status"))
        year_text = row["year ratification or accession"].strip()
        year = int(year_text) if year_text.isdigit() else None
        if party and year is None:
            problems.append(Problem(position, "year ratification or accession", year_text,
                                    f"{instrument.file}: {row['member']} is a state party without a year"))
        rows.append({"geo": geo, "member": row["member"], "state_party": party, "year": year if party else None,
                     "signatory": status == "signatory state", "status": status,
                     "ratification_date": None, "entry_into_force_date": None})
    return _finish(pd.DataFrame(rows), instrument), problems


def read_ilo_ratifications(text: str, instrument: Instrument, members: pd.DataFrame) -> tuple[pd.DataFrame, list[Problem]]:
    """Read the list of states parties to an ILO convention (country_de, country_en, iso3,
    ratification_date, entry_into_force_date) and complete it with every UN member state.

    members: the UN member states (columns geo, member), e.g. from read_un_treaty_status; a member
    not in the list is not a party on the as-of date (state_party False, status 'not ratified').
    Returns (table with STATUS_COLUMNS, problems). A listed state with a ratification date after
    the as-of date is reported and left out of the parties.
    """
    raw = pd.read_csv(io.StringIO(text.lstrip("\ufeff")), dtype=str, keep_default_na=False)
    required = ["country_en", "iso3", "ratification_date", "entry_into_force_date"]
    missing = [c for c in required if c not in raw.columns]
    if missing:
        raise ValueError(f"{instrument.file}: column(s) {missing} missing; expected {required}")
    problems: list[Problem] = []
    parties: dict[str, dict] = {}
    for position, row in enumerate(raw.to_dict("records"), start=2):
        geo = _resolve_member(row["iso3"], row["country_en"])
        date = pd.to_datetime(row["ratification_date"], errors="coerce", format="%Y-%m-%d")
        if geo is None:
            problems.append(Problem(position, "iso3", row["iso3"], f"{instrument.file}: not a known country code; row left out"))
            continue
        if pd.isna(date):
            problems.append(Problem(position, "ratification_date", row["ratification_date"],
                                    f"{instrument.file}: not a date (YYYY-MM-DD); row left out"))
            continue
        if row["ratification_date"] > instrument.as_of:
            problems.append(Problem(position, "ratification_date", row["ratification_date"],
                                    f"{instrument.file}: ratified after the as-of date {instrument.as_of}; left out"))
            continue
        parties[geo] = {"geo": geo, "member": row["country_en"], "state_party": True, "year": int(date.year),
                        "signatory": False, "status": "state party", "ratification_date": row["ratification_date"],
                        "entry_into_force_date": row["entry_into_force_date"] or None}
    rows = list(parties.values())
    for member in members.itertuples(index=False):
        if member.geo not in parties:
            rows.append({"geo": member.geo, "member": member.member, "state_party": False, "year": None,
                         "signatory": False, "status": "not ratified", "ratification_date": None, "entry_into_force_date": None})
    return _finish(pd.DataFrame(rows), instrument), problems


def _finish(frame: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    frame = frame.assign(instrument=instrument.code, indicator=instrument.indicator, dataset=instrument.dataset,
                         as_of=instrument.as_of, source=instrument.source, licence=instrument.licence)
    frame["year"] = pd.array(frame["year"], dtype="Int64")
    frame["state_party"] = frame["state_party"].astype(bool)
    frame["signatory"] = frame["signatory"].astype(bool)
    return frame[STATUS_COLUMNS].sort_values("geo").reset_index(drop=True)


def read_treaty_file(path: Path) -> SourceTable:
    """Read one instrument's file (named as in INSTRUMENTS) as a reader result for core.importer.

    The table has one row per UN member state: geo (ISO alpha-3), geo_level 'national', geo_label
    (the member's name in the file), period (the as-of year), value (1.0 state party, 0.0 not),
    flags '', source_row, and the details year, signatory, status. For the ILO list the UN member
    states are taken from the ICESCR status file in the same folder.
    Notes that do not stop the import (e.g. a 0/1 column contradicting the status) are in
    detected['notes']; rows that could not be read are in problems.
    Raises ValueError when the file is not one of the instruments' files.
    """
    path = Path(path)
    instrument = next((i for i in INSTRUMENTS.values() if Path(i.file).name == path.name), None)
    if instrument is None:
        raise ValueError(f"{path.name}: not a treaty file RightsGap knows; expected one of "
                         f"{[Path(i.file).name for i in INSTRUMENTS.values()]}")
    if instrument.code == "ILO_C189":
        members, _ = read_un_treaty_status((path.parent / Path(INSTRUMENTS["ICESCR"].file).name).read_text(encoding="utf-8"),
                                           INSTRUMENTS["ICESCR"])
        table, problems = read_ilo_ratifications(path.read_text(encoding="utf-8"), instrument, members[["geo", "member"]])
    else:
        table, problems = read_un_treaty_status(path.read_text(encoding="utf-8"), instrument)
    notes = [f"row {p.row}, column {p.column!r}: {p.message.removeprefix(instrument.file + ': ')}"
             for p in problems if p.column == "state party"]
    hard = [p for p in problems if p.column != "state party"]
    frame = pd.DataFrame({
        "geo": table["geo"], "geo_level": "national", "geo_label": table["member"],
        "period": pd.array([instrument.as_of_year] * len(table), dtype="Int64"),
        "value": table["state_party"].astype(float), "flags": "", "source_row": pd.array(range(2, len(table) + 2), dtype="Int64"),
        "year": table["year"], "signatory": table["signatory"], "status": table["status"],
    })
    detected = {"layout": "treaty_status", "instrument": instrument.code, "as_of": instrument.as_of, "notes": notes}
    return SourceTable(frame, detected, hard, len(table))


def build_treaty_status(shared_data: Path) -> tuple[pd.DataFrame, list[str]]:
    """Read every instrument's file from ../shared/data; returns (table with STATUS_COLUMNS, notes).

    The ILO list is completed with the UN member states of the ICESCR status file.
    Raises ValueError when a file lacks the expected columns; OSError when a file is missing.
    """
    tables: list[pd.DataFrame] = []
    notes: list[str] = []
    members = None
    for instrument in INSTRUMENTS.values():
        if instrument.code == "ILO_C189":
            continue
        text = (shared_data / instrument.file).read_text(encoding="utf-8")
        table, problems = read_un_treaty_status(text, instrument)
        notes += [f"row {p.row}, column {p.column!r}: {p.message}" for p in problems]
        tables.append(table)
        if instrument.code == "ICESCR":
            members = table[["geo", "member"]]
    ilo = INSTRUMENTS["ILO_C189"]
    table, problems = read_ilo_ratifications((shared_data / ilo.file).read_text(encoding="utf-8"), ilo, members)
    notes += [f"row {p.row}, column {p.column!r}: {p.message}" for p in problems]
    tables.append(table)
    return pd.concat(tables, ignore_index=True), notes


def read_treaty_status_csv(path: Path | str) -> pd.DataFrame:
    """Read data/treaties/ratifications.csv (as written by scripts/build_embedded_data.py): STATUS_COLUMNS.

    Raises FileNotFoundError naming the file and the script that writes it when it is missing.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: treaty status missing; run scripts/build_embedded_data.py")
    frame = pd.read_csv(path, dtype={"geo": str, "status": str, "ratification_date": str, "entry_into_force_date": str,
                                     "as_of": str}, keep_default_na=False, na_values={"year": [""]})
    frame["year"] = pd.array(frame["year"], dtype="Int64")
    for column in ("state_party", "signatory"):
        frame[column] = frame[column].astype(str).str.lower().isin({"true", "1"})
    for column in ("ratification_date", "entry_into_force_date"):
        frame[column] = frame[column].replace("", None)
    return frame[STATUS_COLUMNS]


@functools.lru_cache(maxsize=2)
def load_treaty_status(path: Path | str = TREATY_STATUS_FILE) -> pd.DataFrame:
    """The embedded treaty status (read once per process): STATUS_COLUMNS, one row per instrument and
    UN member state: instrument (ICMW ...), indicator (catalogue code), dataset, geo (ISO alpha-3),
    member (name in the source), state_party (bool), year (Int64: ratification or accession),
    signatory (bool: signed, not ratified), status ('state party', 'signatory state', 'no action',
    'not ratified'), ratification_date / entry_into_force_date (ISO text, ILO only), as_of, source, licence.
    """
    return read_treaty_status_csv(path)


def fetch_commitments(geos: list[str], catalogue=None, status: pd.DataFrame | None = None) -> pd.DataFrame:
    """The commitments of some places, one row per instrument and place (instrument order).

    Returns columns instrument, name, label_short (for tables), short_name, indicator, right, attribute (from the catalogue),
    geo, state_party (bool | None when the place is not a UN member state or is an aggregate),
    year (Int64), signatory (bool), status, as_of, label (e.g. 'yes, 2005', 'signed only', 'no',
    'n/a (aggregate)'), source.
    """
    from core.catalogue import load_default_catalogue

    catalogue = catalogue or load_default_catalogue()
    status = load_treaty_status() if status is None else status
    indexed = status.set_index(["instrument", "geo"])
    rows = []
    for instrument in INSTRUMENTS.values():
        entry = catalogue.get(instrument.indicator) if instrument.indicator in catalogue else None
        for geo in geos:
            key = (instrument.code, geo)
            base = {"instrument": instrument.code, "name": instrument.name, "label_short": LABELS[instrument.code],
                    "short_name": instrument.short_name,
                    "indicator": instrument.indicator, "right": entry.right if entry else None,
                    "attribute": entry.attribute if entry else None, "geo": geo, "as_of": instrument.as_of,
                    "source": instrument.source}
            if key in indexed.index:
                found = indexed.loc[key]
                rows.append({**base, "state_party": bool(found["state_party"]), "year": found["year"],
                             "signatory": bool(found["signatory"]), "status": found["status"],
                             "label": describe_commitment(bool(found["state_party"]), found["year"], bool(found["signatory"]))})
            else:
                place = geo_codes.resolve_place(geo)
                aggregate = place is not None and place.level != "national"
                rows.append({**base, "state_party": None, "year": pd.NA, "signatory": False,
                             "status": "aggregate" if aggregate else "not listed",
                             "label": "n/a (aggregate)" if aggregate else "not listed (not a UN member state)"})
    frame = pd.DataFrame(rows)
    frame["year"] = pd.array(frame["year"], dtype="Int64")
    return frame


def describe_commitment(state_party: bool, year, signatory: bool) -> str:
    """'yes, 2005' for a party (or 'yes' without a year), 'signed only' for a signatory, else 'no'."""
    if state_party:
        return f"yes, {int(year)}" if year is not None and not pd.isna(year) else "yes"
    return "signed only" if signatory else "no"


def summarise_instruments(status: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per instrument: instrument, name, indicator, as_of, parties (count), signatories
    (signed only), states (count of UN member states listed)."""
    status = load_treaty_status() if status is None else status
    rows = []
    for instrument in INSTRUMENTS.values():
        part = status.loc[status["instrument"] == instrument.code]
        rows.append({"instrument": instrument.code, "name": instrument.name, "indicator": instrument.indicator,
                     "as_of": instrument.as_of, "parties": int(part["state_party"].sum()),
                     "signatories": int(part["signatory"].sum()), "states": len(part)})
    return pd.DataFrame(rows)
