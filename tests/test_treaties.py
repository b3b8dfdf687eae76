"""Treaty ratifications (structural indicators) read from the real files in ../shared/data/treaties.

What a presenter would say aloud: 57 states were parties to the Migrant Workers Convention in
August 2022, Germany is not one of them, Moldova is a party to the ICESCR (1993) even though the
extract's 0/1 column says otherwise, 30 states had ratified ILO C189 by 5 October 2020.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from core import store, treaties
from core.catalogue import load_default_catalogue

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="module")
def status() -> pd.DataFrame:
    table, _ = treaties.build_treaty_status(SHARED_DATA)
    return table


def party(status: pd.DataFrame, instrument: str, geo: str) -> pd.Series:
    rows = status.loc[(status["instrument"] == instrument) & (status["geo"] == geo)]
    assert len(rows) == 1, f"{len(rows)} rows for {instrument} {geo}"
    return rows.iloc[0]


def test_counts_of_states_parties_as_published(status):
    counts = status.groupby("instrument")["state_party"].sum().to_dict()
    assert counts == {"ICMW": 57, "ICESCR": 171, "CRC": 192, "CEDAW": 187, "ICERD": 181, "ILO_C189": 30}
    assert status.groupby("instrument")["geo"].nunique().eq(193).all()


def test_germany_has_not_ratified_the_migrant_workers_convention_but_the_covenant_in_1973(status):
    icmw = party(status, "ICMW", "DEU")
    assert not icmw["state_party"] and pd.isna(icmw["year"]) and icmw["status"] == "no action"
    icescr = party(status, "ICESCR", "DEU")
    assert icescr["state_party"] and icescr["year"] == 1973
    c189 = party(status, "ILO_C189", "DEU")
    assert c189["state_party"] and c189["year"] == 2012 and c189["ratification_date"] == "2012-09-20"


def test_moldova_icescr_follows_the_status_not_the_contradicting_flag_and_says_so():
    text = (SHARED_DATA / treaties.INSTRUMENTS["ICESCR"].file).read_text(encoding="utf-8")
    table, problems = treaties.read_un_treaty_status(text, treaties.INSTRUMENTS["ICESCR"])
    moldova = table.loc[table["geo"] == "MDA"].iloc[0]
    assert moldova["state_party"] and moldova["year"] == 1993
    assert [(p.row, p.column) for p in problems] == [(113, "state party")]
    assert "Moldova" in problems[0].message


def test_obsolete_code_tp_is_timor_leste_and_na_is_namibia(status):
    assert party(status, "ICMW", "TLS")["year"] == 2004
    assert party(status, "CRC", "NAM")["year"] == 1990


def test_signatories_are_not_parties(status):
    icmw = status.loc[status["instrument"] == "ICMW"]
    signed = icmw.loc[icmw["signatory"]]
    assert len(signed) == 11
    assert not signed["state_party"].any()
    assert treaties.describe_commitment(False, None, True) == "signed only"


def test_ilo_list_completed_with_every_un_member(status):
    c189 = status.loc[status["instrument"] == "ILO_C189"]
    assert len(c189) == 193
    assert set(c189.loc[~c189["state_party"], "status"]) == {"not ratified"}
    assert party(status, "ILO_C189", "MEX")["year"] == 2020  # ratified 2020-07-03, before the as-of date
    assert not party(status, "ILO_C189", "FRA")["state_party"]


def test_an_ilo_ratification_after_the_as_of_date_is_left_out_and_reported():
    instrument = treaties.INSTRUMENTS["ILO_C189"]
    text = ("country_de,country_en,iso3,ratification_date,entry_into_force_date\n"
            "Norwegen,Norway,NOR,2021-01-01,2022-01-01\nItalien,Italy,ITA,2013-01-22,2014-01-22\n")
    members = pd.DataFrame({"geo": ["NOR", "ITA", "FRA"], "member": ["Norway", "Italy", "France"]})
    table, problems = treaties.read_ilo_ratifications(text, instrument, members)
    assert table.set_index("geo")["state_party"].to_dict() == {"FRA": False, "ITA": True, "NOR": False}
    assert [(p.row, p.column) for p in problems] == [(2, "ratification_date")]


def test_a_file_without_the_expected_columns_is_refused_naming_them():
    with pytest.raises(ValueError, match="status"):
        treaties.read_un_treaty_status("iso,name\nDE,Germany\n", treaties.INSTRUMENTS["CRC"])


def test_each_instrument_is_linked_to_its_catalogue_indicator_right_and_attribute():
    catalogue = load_default_catalogue()
    commitments = treaties.fetch_commitments(["DEU", "EU27_2020"], catalogue)
    germany = commitments.loc[commitments["geo"] == "DEU"].set_index("instrument")
    assert germany.loc["ICMW", ["right", "attribute"]].tolist() == ["work", "just_and_safe_working_conditions"]
    assert germany.loc["CRC", "right"] == "education"
    assert germany.loc["ICMW", "label"] == "no" and germany.loc["ICESCR", "label"] == "yes, 1973"
    assert germany.loc["ILO_C189", "as_of"] == "2020-10-05" and germany.loc["ICMW", "as_of"] == "2022-08"
    eu = commitments.loc[commitments["geo"] == "EU27_2020"]
    assert set(eu["label"]) == {"n/a (aggregate)"}


def test_embedded_status_file_matches_the_raw_files(status):
    embedded = treaties.load_treaty_status()
    key = ["instrument", "geo"]
    left = embedded.sort_values(key).reset_index(drop=True)
    right = status.sort_values(key).reset_index(drop=True)
    assert left[["instrument", "geo", "state_party", "year", "signatory", "status"]].equals(
        right[["instrument", "geo", "state_party", "year", "signatory", "status"]])


def test_store_holds_yes_no_observations_at_the_as_of_year(tmp_path):
    connection = store.open_database(tmp_path / "t.duckdb")
    try:
        store.ensure_embedded_data(connection)
        rows = connection.execute(
            "SELECT dataset, period, sum(value), count(*) FROM observations WHERE unit = 'yes_no' GROUP BY ALL ORDER BY dataset").fetchall()
        as_of = connection.execute("SELECT as_of FROM datasets WHERE name = 'ILO_C189'").fetchone()[0]
    finally:
        connection.close()
    assert rows == [("ILO_C189", 2020, 30.0, 193), ("UNTC_CEDAW", 2022, 187.0, 193), ("UNTC_CRC", 2022, 192.0, 193),
                    ("UNTC_ICERD", 2022, 181.0, 193), ("UNTC_ICESCR", 2022, 171.0, 193), ("UNTC_ICMW", 2022, 57.0, 193)]
    assert as_of == "2020-10-05"
