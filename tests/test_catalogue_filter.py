"""Finding indicators in the real catalogue (core.catalogue_filter): combined filters and free-text search."""
from __future__ import annotations

import pytest

from core.catalogue import load_default_catalogue
from core.catalogue_filter import IndicatorFilter, concerns_group, filter_indicators, matches_text, normalise_text


@pytest.fixture(scope="module")
def catalogue():
    return load_default_catalogue()


def _codes(catalogue, **criteria) -> list[str]:
    return [i.code for i in filter_indicators(catalogue, IndicatorFilter(**criteria))]


def test_no_criterion_keeps_the_whole_catalogue_in_order(catalogue):
    assert _codes(catalogue) == [i.code for i in catalogue]


def test_search_finds_the_firewalls_in_titles_and_definitions(catalogue):
    assert _codes(catalogue, text="firewall") == [
        "health.firewall_health_services", "education.firewall_schools", "work.firewall_labour_inspection",
        "justice.firewall_police_for_victims"]


def test_search_ignores_case_and_accents_and_needs_every_word(catalogue):
    assert _codes(catalogue, text="VACCINÁTION") == ["health.child_vaccination_coverage"]
    assert _codes(catalogue, text="employment rate 15") == ["work.employment_rate"]
    assert _codes(catalogue, text="vaccination firewall") == []
    assert normalise_text("  Éducation   Côte ") == "education cote"


def test_criteria_combine_with_and_across_and_or_within(catalogue):
    health_structural_expert = _codes(catalogue, rights=("health",), types=("structural",), source_types=("expert_judgement",))
    assert "health.firewall_health_services" in health_structural_expert
    assert "health.ratification_icescr" not in health_structural_expert  # statistics, not expert judgement
    both_types = _codes(catalogue, rights=("work",), types=("process", "outcome"))
    assert set(both_types) == set(_codes(catalogue, rights=("work",), types=("process",))) | set(
        _codes(catalogue, rights=("work",), types=("outcome",)))
    assert not set(both_types) & set(_codes(catalogue, types=("structural",)))


def test_local_level_and_civil_society_filters(catalogue):
    local = _codes(catalogue, levels=("local",))
    assert {"health.local_clinic_for_uninsured", "health.city_identity_card"} <= set(local)
    assert "work.employment_rate" not in local
    civil_only = _codes(catalogue, producers=("civil_society",))
    assert "non_discrimination.anti_discrimination_policy_score" in civil_only
    assert "work.employment_rate" not in civil_only


def test_irregular_migrants_include_the_laws_written_for_them(catalogue):
    irregular = _codes(catalogue, groups=("irregular",))
    assert {"work.regularisations_granted", "education.school_enrolment_undocumented_children",
            "health.firewall_health_services", "justice.firewall_police_for_victims",
            "health.care_entitlement_irregular_migrants", "education.firewall_schools"} <= set(irregular)
    assert "work.employment_rate" not in irregular
    assert not concerns_group(catalogue.get("health.firewall_health_services"), "foreign_born")
    assert concerns_group(catalogue.get("work.unemployment_rate"), "foreign_born")


def test_has_data_keeps_only_the_codes_given(catalogue):
    kept = _codes(catalogue, rights=("work",), with_data=frozenset({"work.employment_rate", "health.bad_self_perceived_health"}))
    assert kept == ["work.employment_rate"]
    assert _codes(catalogue, with_data=frozenset()) == []


def test_the_code_is_searchable_too(catalogue):
    indicator = catalogue.get("work.ratification_ilo_c189")
    assert matches_text(indicator, "ilo c189")
    assert matches_text(indicator, "")
