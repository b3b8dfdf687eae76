"""The good practices (data/good_practices.yaml): the real file, its links to the catalogue, and loud failures.

The practices are the ones the 2014 OHCHR-KNOMAD meeting named (see the framework reference); each
must name its right(s), its level(s) and catalogue indicators that exist. A broken entry must fail
on load, naming the entry and the field.
"""
from __future__ import annotations

import copy

import pytest
import yaml

from core import vocabulary
from core.catalogue import load_default_catalogue
from core.good_practices import (
    DEFAULT_GOOD_PRACTICES_PATH,
    GoodPracticeError,
    load_good_practices,
    parse_good_practices,
    select_good_practices,
)


@pytest.fixture(scope="module")
def catalogue():
    return load_default_catalogue()


@pytest.fixture(scope="module")
def practices(catalogue):
    return load_good_practices(catalogue=catalogue)


@pytest.fixture(scope="module")
def raw_entries() -> list[dict]:
    return yaml.safe_load(DEFAULT_GOOD_PRACTICES_PATH.read_text(encoding="utf-8"))["good_practices"]


def _as_yaml(entries) -> str:
    return yaml.safe_dump({"good_practices": entries}, sort_keys=False, allow_unicode=True)


def test_the_practices_named_in_2014_are_all_there(practices):
    by_id = {p.id: p for p in practices}
    assert set(by_id) >= {"geneva_community_health_clinics", "city_identity_cards", "portugal_registry_of_undocumented_migrants",
                          "regularisation_of_migrants", "labour_rights_information_for_migrants", "child_labour_prevention",
                          "med_hims_household_surveys"}
    geneva = by_id["geneva_community_health_clinics"]
    assert (geneva.rights, geneva.levels) == (["health"], ["local"])
    assert "1997" in geneva.place
    assert (by_id["city_identity_cards"].rights, by_id["city_identity_cards"].levels) == (["health", "education", "work"], ["local"])
    assert by_id["portugal_registry_of_undocumented_migrants"].levels == ["national"]
    assert by_id["regularisation_of_migrants"].rights == ["work"]
    assert by_id["med_hims_household_surveys"].kind == "data_source"


def test_each_practice_bears_on_indicators_of_its_rights(practices, catalogue):
    for practice in practices:
        rights_of_indicators = {catalogue.get(code).right for code in practice.indicators}
        assert rights_of_indicators & set(practice.rights), practice.id


def test_practices_are_found_beside_their_indicators(practices):
    assert [p.id for p in select_good_practices(practices, indicators=["health.local_clinic_for_uninsured"])] == [
        "geneva_community_health_clinics"]
    employment = {p.id for p in select_good_practices(practices, indicators=["work.employment_rate"])}
    assert employment == {"regularisation_of_migrants", "med_hims_household_surveys"}
    local_health = [p.id for p in select_good_practices(practices, right="health", level="local")]
    assert local_health == ["geneva_community_health_clinics", "city_identity_cards"]
    assert select_good_practices(practices, indicators=[]) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda e: e.update(rights=["housing"]), "field 'rights'"),
        (lambda e: e.update(levels=["municipal"]), "field 'levels'"),
        (lambda e: e.update(indicators=["health.no_such_indicator"]), "unknown indicator code(s) ['health.no_such_indicator']"),
        (lambda e: e.pop("summary"), "field 'summary'"),
        (lambda e: e.update(kind="campaign"), "field 'kind'"),
        (lambda e: e.update(colour="green"), "field 'colour'"),
    ],
)
def test_a_broken_entry_fails_naming_the_entry_and_the_field(raw_entries, catalogue, change, expected):
    entries = copy.deepcopy(raw_entries)
    change(entries[1])
    with pytest.raises(GoodPracticeError) as error:
        parse_good_practices(_as_yaml(entries), catalogue, source="good_practices.yaml")
    message = str(error.value)
    assert message.startswith("good_practices.yaml: entry 2 (city_identity_cards)")
    assert expected in message


def test_a_repeated_id_and_bad_yaml_fail(raw_entries, catalogue):
    entries = copy.deepcopy(raw_entries) + [copy.deepcopy(raw_entries[0])]
    with pytest.raises(GoodPracticeError, match="appears twice"):
        parse_good_practices(_as_yaml(entries), catalogue)
    with pytest.raises(GoodPracticeError, match="not valid YAML"):
        parse_good_practices("good_practices: [unclosed", catalogue)
    with pytest.raises(GoodPracticeError, match="expected a list"):
        parse_good_practices("good_practices: {}", catalogue)


def test_a_missing_file_fails_with_its_path(tmp_path, catalogue):
    with pytest.raises(GoodPracticeError, match="cannot read"):
        load_good_practices(tmp_path / "missing.yaml", catalogue)


def test_rights_and_levels_use_the_vocabulary(practices):
    assert {r for p in practices for r in p.rights} <= set(vocabulary.RIGHTS)
    assert {level for p in practices for level in p.levels} == {"regional", "national", "local"}
