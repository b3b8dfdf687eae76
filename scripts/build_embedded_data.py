"""Rebuild data/observations/ from the raw published files in ../shared/data.

Usage (from the project root): python scripts/build_embedded_data.py [--shared ../shared/data]

Each file is read by the project's own readers (core.readers: Eurostat SDMX-CSV with codes or
labels, Eurostat TSV, tidy CSV), translated to the project's vocabulary by core.importer
(EMBEDDED_SPECS says which rows of which file make which catalogue indicator), and written as one
tidy CSV per source dataset with the source attribution and licence on every row. Flags are kept
letter by letter; missing values stay empty (never 0). Repeatable: same inputs, same outputs.

Beside the observations it writes the details the store's yes/no rows cannot hold:
data/treaties/ratifications.csv (core.treaties: year of ratification, signature, status, as-of
date) and data/context/income_groups.csv (core.capacity: the World Bank's income groups).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core import capacity, treaties  # noqa: E402
from core.importer import build_embedded_observations  # noqa: E402

WORLD_BANK_COUNTRY_METADATA = "worldbank/Metadata_Country_API_NY.GDP.PCAP.PP.KD_DS2_en_csv_v2_33608.csv"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "observations")
    args = parser.parse_args()
    datasets, notes = build_embedded_observations(args.shared)
    args.out.mkdir(parents=True, exist_ok=True)
    for code, observations in sorted(datasets.items()):
        observations = observations.sort_values(["indicator", "geo", "period", "sex", "age", "group"])
        target = args.out / f"{code.lower()}.csv"
        observations.to_csv(target, index=False, float_format="%.10g")
        print(f"{target.relative_to(ROOT)}: {len(observations)} observations")
    status, _ = treaties.build_treaty_status(args.shared)  # its notes are the importer's, printed below
    treaty_file = args.out.parent / "treaties" / "ratifications.csv"
    treaty_file.parent.mkdir(parents=True, exist_ok=True)
    status.to_csv(treaty_file, index=False)
    print(f"{treaty_file.relative_to(ROOT)}: {len(status)} states x instruments")
    income = capacity.read_income_groups((args.shared / WORLD_BANK_COUNTRY_METADATA).read_text(encoding="utf-8-sig"))
    income_file = args.out.parent / "context" / "income_groups.csv"
    income_file.parent.mkdir(parents=True, exist_ok=True)
    income.to_csv(income_file, index=False)
    print(f"{income_file.relative_to(ROOT)}: {len(income)} economies")
    for note in notes:
        print(f"note: {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
