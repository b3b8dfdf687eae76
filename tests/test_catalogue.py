"""The embedded indicator catalogue (data/catalogue.yaml) and the schema check that guards it.

The first half checks the real catalogue against the coverage rules a policy maker relies on
(every attribute of health, education and work has an indicator; structural, process and outcome
indicators exist for each; the indicators the importer fills with real data are there with the
right datasets). The second half breaks one real entry at a time and checks that loading fails
loudly, naming the entry and the field.
"""
from __future__ import annotations

import copy
from collections import Counter

import pytest
import yaml

from core import vocabulary
from core.catalogue import (
    DEFAULT_CATALOGUE_PATH,
    METADATA_SHEET_FIELDS,
    CatalogueError,
    load_catalogue,
    parse_catalogue,
)

CORE_RIGHTS = ("health", "education", "work")
CROSS_CUTTING_RIGHTS = ("non_discrimination", "justice", "participation", "standard_of_living")

#: Indicators the data importer fills with real figures: code -> datasets it expects.
REQUIRED_DATASETS: dict[str, list[str]] = {
    "work.employment_rate": ["LFSA_ERGAN"],
    "work.unemployment_rate": ["LFSA_URGAN", "LFS_BY_COUNTRY_OF_BIRTH"],
    "work.activity_rate": ["LFS_BY_COUNTRY_OF_BIRTH"],
    "work.part_time_share": ["LFS_BY_COUNTRY_OF_BIRTH"],
    "work.temporary_contract_share": ["LFS_BY_COUNTRY_OF_BIRTH"],
    "work.over_qualification_rate": ["LFS_BY_COUNTRY_OF_BIRTH"],
    "education.low_attainment_share": ["EDAT_LFS_9912"],
    "education.tertiary_attainment_share": ["EDAT_LFS_9912"],
    "health.bad_self_perceived_health": ["HLTH_SILC_24"],
    "standard_of_living.median_equivalised_net_income": ["ILC_DI15"],
    "context.migrant_share_of_population": ["UNDESA_MIGRANT_STOCK_2020"],
    "context.gdp_per_capita_ppp": ["WB_NY.GDP.PCAP.PP.KD"],
    "work.ratification_icmw": ["UNTC_ICMW"],
    "health.ratification_icescr": ["UNTC_ICESCR"],
    "education.ratification_crc": ["UNTC_CRC"],
    "non_discrimination.ratification_cedaw": ["UNTC_CEDAW"],
    "non_discrimination.ratification_icerd": ["UNTC_ICERD"],
    "work.ratification_ilo_c189": ["ILO_C189"],
}

#: Machine fields of the required indicators that the importer and the gap maths depend on:
#: code -> (right, attribute, type, unit, polarity, groups).
REQUIRED_FIELDS: dict[str, tuple] = {
    "work.employment_rate": ("work", "access_to_decent_and_productive_work", "outcome", "percent",
                             "higher_is_better", {"citizenship": ["non_nationals"]}),
    "work.unemployment_rate": ("work", "protection_from_forced_labour_and_unemployment", "outcome",
                               "percent", "lower_is_better",
                               {"citizenship": ["non_nationals"], "country_of_birth": ["foreign_born"]}),
    "work.activity_rate": ("work", "access_to_decent_and_productive_work", "outcome", "percent",
                           "higher_is_better", {"country_of_birth": ["foreign_born"]}),
    "work.part_time_share": ("work", "just_and_safe_working_conditions", "outcome", "percent",
                             "lower_is_better", {"country_of_birth": ["foreign_born"]}),
    "work.temporary_contract_share": ("work", "just_and_safe_working_conditions", "outcome", "percent",
                                      "lower_is_better", {"country_of_birth": ["foreign_born"]}),
    "work.over_qualification_rate": ("work", "access_to_decent_and_productive_work", "outcome",
                                     "percent", "lower_is_better", {"country_of_birth": ["foreign_born"]}),
    "education.low_attainment_share": ("education", "access_to_secondary_higher_and_adult_education",
                                       "outcome", "percent", "lower_is_better",
                                       {"country_of_birth": ["eu_born", "non_eu_born"]}),
    "education.tertiary_attainment_share": ("education", "access_to_secondary_higher_and_adult_education",
                                            "outcome", "percent", "higher_is_better",
                                            {"country_of_birth": ["eu_born", "non_eu_born"]}),
    "health.bad_self_perceived_health": ("health", "prevention_treatment_and_control_of_diseases",
                                         "outcome", "percent", "lower_is_better",
                                         {"citizenship": ["non_nationals", "eu_citizens", "non_eu_citizens"]}),
    "standard_of_living.median_equivalised_net_income": (
        "standard_of_living", "adequate_income_and_housing", "outcome", "EUR", "higher_is_better",
        {"citizenship": ["non_nationals", "eu_citizens", "non_eu_citizens"]}),
    "context.migrant_share_of_population": ("non_discrimination", "population_context", "outcome",
                                            "percent", "higher_is_better", {}),
    "context.gdp_per_capita_ppp": ("non_discrimination", "population_context", "outcome",
                                   "international_dollars", "higher_is_better", {}),
}

RATIFICATIONS: dict[str, tuple[str, str]] = {
    "work.ratification_icmw": ("work", "just_and_safe_working_conditions"),
    "health.ratification_icescr": ("health", "accessibility_of_health_services"),
    "education.ratification_crc": ("education", "universal_primary_education"),
    "non_discrimination.ratification_cedaw": ("non_discrimination", "equality_and_non_discrimination"),
    "non_discrimination.ratification_icerd": ("non_discrimination", "equality_and_non_discrimination"),
    "work.ratification_ilo_c189": ("work", "just_and_safe_working_conditions"),
}


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


@pytest.fixture(scope="module")
def raw_entries() -> list[dict]:
    """The catalogue file as plain YAML data, for building broken variants of real entries."""
    return yaml.safe_load(DEFAULT_CATALOGUE_PATH.read_text(encoding="utf-8"))["indicators"]


def _entry(raw_entries: list[dict], code: str) -> dict:
    """A deep copy of the real entry with this code, safe to edit."""
    return copy.deepcopy(next(e for e in raw_entries if e["code"] == code))


def _as_yaml(*entries: dict) -> str:
    return yaml.safe_dump({"indicators": list(entries)}, sort_keys=False, allow_unicode=True)


# --- The real catalogue: size and coverage ------------------------------------------------------

def test_catalogue_has_at_least_48_indicators(catalogue):
    assert len(catalogue) >= 48


@pytest.mark.parametrize("right", CORE_RIGHTS)
def test_every_attribute_of_the_core_rights_has_an_indicator(catalogue, right):
    covered = {i.attribute for i in catalogue.filter(right=right)}
    missing = set(vocabulary.ATTRIBUTES[right]) - covered
    assert not missing, f"{right}: no indicator for {sorted(missing)}"


@pytest.mark.parametrize("right", CORE_RIGHTS)
def test_core_rights_have_structural_process_and_outcome_indicators(catalogue, right):
    types = Counter(i.type for i in catalogue.filter(right=right))
    assert set(types) == {"structural", "process", "outcome"}, f"{right}: {dict(types)}"


@pytest.mark.parametrize("right", CROSS_CUTTING_RIGHTS)
def test_cross_cutting_rights_have_at_least_two_indicators(catalogue, right):
    non_context = [i for i in catalogue.filter(right=right) if not i.context]
    assert len(non_context) >= 2


def test_required_indicators_exist_with_their_datasets(catalogue):
    missing = [code for code in REQUIRED_DATASETS if code not in catalogue]
    assert not missing
    wrong = {code: catalogue.get(code).datasets for code, datasets in REQUIRED_DATASETS.items()
             if catalogue.get(code).datasets != datasets}
    assert not wrong


@pytest.mark.parametrize("code", sorted(REQUIRED_FIELDS))
def test_required_indicators_have_the_fields_the_importer_expects(catalogue, code):
    indicator = catalogue.get(code)
    right, attribute, type_, unit, polarity, groups = REQUIRED_FIELDS[code]
    assert (indicator.right, indicator.attribute, indicator.type, indicator.unit, indicator.polarity) == (
        right, attribute, type_, unit, polarity)
    assert indicator.groups == groups


def test_context_indicators_are_marked_and_cover_the_world(catalogue):
    for code in ("context.migrant_share_of_population", "context.gdp_per_capita_ppp"):
        indicator = catalogue.get(code)
        assert indicator.context is True
        assert indicator.levels == ["global", "national"]
    assert all(i.code.startswith("context.") for i in catalogue if i.context)


@pytest.mark.parametrize("code", sorted(RATIFICATIONS))
def test_ratifications_are_structural_yes_no_indicators(catalogue, code):
    indicator = catalogue.get(code)
    assert (indicator.right, indicator.attribute) == RATIFICATIONS[code]
    assert (indicator.type, indicator.unit, indicator.polarity) == ("structural", "yes_no", "higher_is_better")
    assert indicator.source_types == ["socioeconomic_administrative"]
    assert indicator.levels == ["global", "national"]
    assert indicator.groups == {}


def test_ratification_dates_are_stated(catalogue):
    for code in RATIFICATIONS:
        expected = "5 October 2020" if code == "work.ratification_ilo_c189" else "August 2022"
        assert expected in catalogue.get(code).data_collection_and_source, code


def test_firewall_irregular_and_local_indicators_are_present(catalogue):
    firewalls = [i for i in catalogue if "firewall" in i.code]
    assert {i.right for i in firewalls} >= {"health", "education", "work", "justice"}
    assert all(i.type == "structural" for i in firewalls)
    irregular = [i for i in catalogue if "irregular" in i.groups.get("legal_status", [])]
    assert len(irregular) >= 3
    local_only = [i for i in catalogue if i.levels == ["local"]]
    assert {"health.local_clinic_for_uninsured", "health.city_identity_card"} <= {i.code for i in local_only}


def test_every_source_type_and_producer_is_used(catalogue):
    assert {s for i in catalogue for s in i.source_types} == set(vocabulary.SOURCE_TYPES)
    assert catalogue.filter(producers="civil_society")
    assert [i for i in catalogue if i.producers == ["civil_society"]]


def test_every_level_of_governance_is_used(catalogue):
    assert {level for i in catalogue for level in i.levels} == set(vocabulary.GOVERNANCE_LEVELS)


# --- The real catalogue: metadata sheets and data gaps -------------------------------------------

def test_every_metadata_sheet_field_is_written(catalogue):
    empty = [(i.code, field) for i in catalogue for field, text in i.metadata_sheet().items()
             if not text.strip()]
    assert not empty
    assert set(catalogue.get("work.employment_rate").metadata_sheet()) == set(METADATA_SHEET_FIELDS)


def test_indicators_without_data_explain_the_gap_and_those_with_data_do_not(catalogue):
    no_note = [i.code for i in catalogue if not i.datasets and not i.data_gap_note.strip()]
    stray_note = [i.code for i in catalogue if i.datasets and i.data_gap_note.strip()]
    assert not no_note, f"no data and no data_gap_note: {no_note}"
    assert not stray_note, f"data embedded but a data_gap_note given: {stray_note}"


def test_comparisons_stay_within_one_dimension_and_leave_out_the_reference_group(catalogue):
    for indicator in catalogue:
        for dimension, groups in indicator.groups.items():
            reference = vocabulary.REFERENCE_GROUPS.get(dimension)
            assert reference not in groups, indicator.code
            assert groups, f"{indicator.code}: empty group list for {dimension}"


def test_structural_yes_no_indicators_compare_no_groups(catalogue):
    for indicator in catalogue.filter(type="structural", unit="yes_no"):
        assert indicator.groups == {}, indicator.code


# --- The schema check fails loudly on broken entries --------------------------------------------

def test_a_real_entry_round_trips_through_yaml(raw_entries):
    parsed = parse_catalogue(_as_yaml(_entry(raw_entries, "work.employment_rate")))
    assert list(parsed.indicators) == ["work.employment_rate"]


def test_unknown_right_names_the_entry_and_the_field(raw_entries):
    entry = _entry(raw_entries, "work.employment_rate")
    entry["right"] = "wrok"
    with pytest.raises(CatalogueError) as error:
        parse_catalogue(_as_yaml(entry))
    message = str(error.value)
    assert "work.employment_rate" in message
    assert "'right'" in message and "wrok" in message


def test_attribute_of_another_right_names_the_entry_and_the_attribute(raw_entries):
    entry = _entry(raw_entries, "work.employment_rate")
    entry["attribute"] = "child_health"
    with pytest.raises(CatalogueError) as error:
        parse_catalogue(_as_yaml(entry))
    message = str(error.value)
    assert "work.employment_rate" in message
    assert "attribute" in message and "child_health" in message


def test_missing_definition_names_the_entry_and_the_field(raw_entries):
    entry = _entry(raw_entries, "health.bad_self_perceived_health")
    del entry["definition"]
    with pytest.raises(CatalogueError) as error:
        parse_catalogue(_as_yaml(entry))
    message = str(error.value)
    assert "health.bad_self_perceived_health" in message
    assert "definition" in message


def test_group_of_another_dimension_names_the_entry_and_the_field(raw_entries):
    entry = _entry(raw_entries, "work.employment_rate")
    entry["groups"] = {"citizenship": ["foreign_born"]}
    with pytest.raises(CatalogueError) as error:
        parse_catalogue(_as_yaml(entry))
    message = str(error.value)
    assert "work.employment_rate" in message
    assert "groups" in message and "foreign_born" in message


def test_duplicated_code_names_the_code(raw_entries):
    first = _entry(raw_entries, "work.employment_rate")
    second = _entry(raw_entries, "work.employment_rate")
    second["title"] = "Employment rate, a second copy"
    with pytest.raises(CatalogueError) as error:
        parse_catalogue(_as_yaml(first, second))
    message = str(error.value)
    assert "work.employment_rate" in message
    assert "code" in message and "twice" in message


def test_malformed_yaml_is_reported_as_such(raw_entries):
    text = _as_yaml(_entry(raw_entries, "work.employment_rate"))
    broken = text.replace("right: work", "right: [work", 1)
    assert broken != text
    with pytest.raises(CatalogueError, match="not valid YAML"):
        parse_catalogue(broken)


def test_missing_catalogue_file_is_reported(tmp_path):
    with pytest.raises(CatalogueError, match="cannot read"):
        load_catalogue(tmp_path / "nowhere.yaml")
