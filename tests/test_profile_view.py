"""The Country profile's tables (ui.profile_view): one per right, every indicator's row as the page
shows it, checked on the embedded data (France and Germany)."""
from __future__ import annotations

import pandas as pd
import pytest

from core import queries, vocabulary
from core.catalogue import load_default_catalogue
from core.profile import build_country_profile
from ui import profile_view


@pytest.fixture(scope="module")
def profiles(built_database):
    from core import store

    connection = store.open_database(built_database, read_only=True)
    catalogue = load_default_catalogue()
    try:
        return {geo: build_country_profile(queries.fetch_latest_by_country(connection.cursor(), geo), catalogue)
                for geo in ("FRA", "DEU")}
    finally:
        connection.close()


def tables_of(profile: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The page's tables (Arrow) as DataFrames, as the browser and AppTest read them."""
    tables = profile_view.build_profile_tables(profile)
    assert all(table.schema == profile_view.TABLE_SCHEMA for table in tables.values())
    return {right: table.to_pandas() for right, table in tables.items()}


def test_one_table_per_right_holds_every_row_of_the_profile_in_attribute_order(profiles):
    profile = profiles["FRA"]
    tables = tables_of(profile)
    assert set(tables) == set(profile["right"])
    assert sum(len(table) for table in tables.values()) == len(profile)
    for right, table in tables.items():
        assert table.columns.tolist() == profile_view.TABLE_COLUMNS
        names = list(vocabulary.ATTRIBUTES[right].values())
        positions = [names.index(name) for name in table["Attribute"]]
        assert positions == sorted(positions), right  # grouped by attribute, in the framework's order
        expected_titles = [title for name in names
                           for title in profile.loc[(profile["right"] == right)
                                                    & (profile["attribute"].map(vocabulary.ATTRIBUTES[right]) == name), "title"]]
        assert table["Indicator"].tolist() == expected_titles  # the catalogue's order within an attribute


def test_france_employment_row_reads_as_the_user_sees_it(profiles):
    profile = profiles["FRA"]
    table = tables_of(profile)["work"]
    row = table.loc[table["Indicator"] == "Employment rate of people aged 15-64"].iloc[0]
    source = profile.loc[profile["indicator"] == "work.employment_rate"].iloc[0]
    assert row["Attribute"] == "Access to decent and productive work" and row["Type"] == "Outcome"
    assert row["Comparison"] == "Non-nationals (all foreign citizens) vs nationals"
    assert row["Year"] == str(int(source["year"]))
    assert row["Reference"] == f"{source['reference_value']:.1f}%" and row["Migrants"] == f"{source['value']:.1f}%"
    assert row["Disadvantage"] == f"{source['disadvantage']:+.1f} pp"
    assert list(row["Trend"]) == source["trend"] and len(row["Trend"]) > 5


def test_no_data_structural_and_sex_rows_are_labelled(profiles):
    table = pd.concat(tables_of(profiles["DEU"]).values(), ignore_index=True)
    missing = table.loc[table["Status"] == "no data"]
    assert len(missing) > 20 and (missing[["Year", "Reference", "Migrants", "Disadvantage"]] == "—").all().all()
    treaty = table.loc[table["Indicator"].str.startswith("State party to the ILO Domestic Workers")].iloc[0]
    assert treaty["Type"] == "Structural" and treaty["Status"] == "yes (2020)" and treaty["Comparison"] == "—"
    by_sex = table.loc[table["Comparison"].str.startswith(("Females: ", "Males: "))]
    assert len(by_sex) >= 2  # sources without a total: one row per sex, said first in Comparison (seen when the cell is cut)
    assert set(by_sex["Comparison"].str.split(": ").str[0]) == {"Females", "Males"}


def test_status_text():
    assert profile_view.describe_status(False, None, None, "percent", None, "", "") == "no data"
    assert profile_view.describe_status(True, None, 1.0, "yes_no", 2020, "context (no comparison)", "") == "yes (2020)"
    assert profile_view.describe_status(True, "non_nationals", 5.0, "percent", None,
                                        "no year with values for both groups", "") == "no year with values for both groups"
    assert profile_view.describe_status(True, "foreign_born", 5.0, "percent", 2020, "", "bu") == "flags bu"
    assert profile_view.describe_status(True, "foreign_born", 5.0, "percent", 2020, "", float("nan")) == ""


def test_summary_counts_indicators_once_whatever_the_sexes(profiles):
    profile = profiles["DEU"]
    summary = profile_view.summarise_profile(profile)
    assert summary["indicators"] == len(list(load_default_catalogue()))
    gaps = profile.loc[profile["disadvantage"].notna()]
    assert summary["with_gap"] == gaps["indicator"].nunique() > 0
    assert summary["worse_off"] == gaps.loc[gaps["disadvantage"] > 0, "indicator"].nunique()
    with_data, total = summary["by_right"]["work"]
    assert total == (profile["right"] == "work").groupby(profile["indicator"]).any().sum()
    assert 0 < with_data < total
    charted = summary["charted"]
    assert [choice["indicator"] for choice in charted] == list(dict.fromkeys(
        profile.loc[profile["has_data"] & profile["group"].notna(), "indicator"]))  # one per indicator, profile order
    employment = next(choice for choice in charted if choice["indicator"] == "work.employment_rate")
    assert employment == {"indicator": "work.employment_rate", "group": "non_nationals", "reference_group": "nationals",
                          "sex": "T", "age": "Y15-64"}


def test_commitment_rows_of_every_member_state_are_those_of_fetch_commitments():
    from core import treaties

    catalogue = load_default_catalogue()
    status = treaties.load_treaty_status()
    summary = treaties.summarise_instruments(status).set_index("instrument")
    rows = profile_view.build_commitment_rows(status, catalogue)
    assert len(rows) == status["geo"].nunique() == 193
    every = treaties.fetch_commitments(sorted(rows), catalogue, status)
    for geo, part in every.groupby("geo"):
        expected = [{"Instrument": r.label_short, "Status": r.label, "As of": r.as_of,
                     "States parties": f"{summary.loc[r.instrument, 'parties']} of {summary.loc[r.instrument, 'states']}",
                     "Bears on": f"{vocabulary.RIGHTS.get(r.right, '')} — "
                                 f"{vocabulary.ATTRIBUTES.get(r.right, {}).get(r.attribute, '')}", "right": r.right}
                    for r in part.itertuples(index=False)]
        assert rows[geo] == expected, geo
    germany = profile_view.commitments_table(rows["DEU"], "work").to_pandas().set_index("Instrument")
    assert germany.loc["Covenant on Economic, Social and Cultural Rights (ICESCR, 1966)", "Status"] == "yes, 1973"
    assert germany.loc["Migrant Workers Convention (ICMW, 1990)", "States parties"] == "57 of 193"
    first = germany.index[: sum(row["right"] == "work" for row in rows["DEU"])]
    assert all(row["right"] == "work" for row in rows["DEU"] if row["Instrument"] in first)  # this right's instruments first
