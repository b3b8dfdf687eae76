"""The project's controlled vocabulary, as defined in DESIGN.md.

Every value stored or shown (rights, indicator types, population groups, flags ...) comes from here,
so a typo in the catalogue or an upload is caught by validation instead of producing an empty page.
"""
from __future__ import annotations

RIGHTS: dict[str, str] = {
    "health": "Right to health",
    "education": "Right to education",
    "work": "Right to decent work",
    "non_discrimination": "Non-discrimination and equality",
    "justice": "Access to justice and remedies",
    "participation": "Information and participation",
    "standard_of_living": "Adequate standard of living",
}

#: Attributes of each right (OHCHR, Human Rights Indicators guide, HR/PUB/12/5, 2012, as adapted
#: for migrants by KNOMAD Working Paper 5, 2015).
ATTRIBUTES: dict[str, dict[str, str]] = {
    "health": {
        "accessibility_of_health_services": "Accessibility of health facilities, goods and services",
        "sexual_and_reproductive_health": "Sexual and reproductive health",
        "child_health": "Child health",
        "prevention_treatment_and_control_of_diseases": "Prevention, treatment and control of diseases",
        "occupational_and_environmental_health": "Occupational and environmental health",
    },
    "education": {
        "universal_primary_education": "Universal primary education",
        "access_to_secondary_higher_and_adult_education": "Access to secondary, higher and adult education",
        "curricula_and_educational_resources": "Curricula and educational resources",
        "educational_opportunity_freedom_and_remedies": "Educational opportunity, freedom and remedies",
    },
    "work": {
        "access_to_decent_and_productive_work": "Access to decent and productive work",
        "just_and_safe_working_conditions": "Just and safe working conditions",
        "trade_union_rights": "Trade union rights",
        "social_security": "Social security",
        "protection_from_forced_labour_and_unemployment": "Protection from forced labour and unemployment",
    },
    "non_discrimination": {
        "equality_and_non_discrimination": "Equality before the law and non-discrimination",
        "population_context": "Population context",
    },
    "justice": {
        "access_to_justice_and_remedies": "Access to justice and effective remedies",
    },
    "participation": {
        "information_and_participation": "Access to information and participation",
    },
    "standard_of_living": {
        "adequate_income_and_housing": "Adequate income and housing",
    },
}

INDICATOR_TYPES: dict[str, str] = {
    "structural": "Structural (commitments: laws, ratifications, policies)",
    "process": "Process (efforts: programmes, services, budgets, complaints handled)",
    "outcome": "Outcome (what people experience: rates, shares, levels)",
}

SOURCE_TYPES: dict[str, str] = {
    "events_based": "Events-based data",
    "socioeconomic_administrative": "Socio-economic and administrative statistics",
    "perception_survey": "Perception and opinion surveys",
    "expert_judgement": "Expert judgements",
}

GOVERNANCE_LEVELS: dict[str, str] = {
    "global": "Global",
    "regional": "Regional",
    "national": "National",
    "local": "Local",
}

POLARITIES: dict[str, str] = {
    "higher_is_better": "Higher is better",
    "lower_is_better": "Lower is better",
}

PRODUCERS: dict[str, str] = {"official": "Official statistics", "civil_society": "Civil society"}

#: Population groups by dimension. The first group of each dimension's list is its reference group.
DIMENSIONS: dict[str, list[str]] = {
    "citizenship": ["nationals", "non_nationals", "eu_citizens", "non_eu_citizens"],
    "country_of_birth": ["native_born", "foreign_born", "eu_born", "non_eu_born"],
    "legal_status": ["regular", "irregular", "refugees", "asylum_seekers"],
}
REFERENCE_GROUPS: dict[str, str] = {"citizenship": "nationals", "country_of_birth": "native_born"}

POPULATION_GROUPS: dict[str, str] = {
    "total": "Total population",
    "nationals": "Nationals",
    "non_nationals": "Non-nationals (all foreign citizens)",
    "eu_citizens": "Citizens of another EU country",
    "non_eu_citizens": "Citizens of a non-EU country",
    "native_born": "Native-born",
    "foreign_born": "Foreign-born",
    "eu_born": "Born in another EU country",
    "non_eu_born": "Born outside the EU",
    "regular": "Migrants in a regular situation",
    "irregular": "Migrants in an irregular situation",
    "refugees": "Refugees",
    "asylum_seekers": "Asylum seekers",
}

#: Eurostat observation status letters (Eurostat, "Codes and flags", kept letter by letter).
FLAGS: dict[str, str] = {
    "b": "break in time series",
    "c": "confidential",
    "d": "definition differs",
    "e": "estimated",
    "f": "forecast",
    "n": "not significant",
    "p": "provisional",
    "r": "revised",
    "s": "Eurostat estimate",
    "u": "low reliability",
    "z": "not applicable",
}
#: Flags whose observation gives no value (never a zero).
NO_VALUE_FLAGS = frozenset({"c", "z"})
LOW_RELIABILITY_FLAG = "u"

SEXES: dict[str, str] = {"T": "Total", "F": "Females", "M": "Males"}


def dimension_of(group: str) -> str | None:
    """Return the dimension ('citizenship', 'country_of_birth', 'legal_status') of a population group.

    Returns None for 'total' and for unknown groups.
    """
    for dimension, groups in DIMENSIONS.items():
        if group in groups:
            return dimension
    return None


def describe_flags(flags: str | None) -> str:
    """Spell out a string of Eurostat flag letters, e.g. 'bu' -> 'break in time series; low reliability'."""
    if not flags:
        return ""
    return "; ".join(FLAGS.get(letter, f"flag {letter!r}") for letter in flags)


def merge_flags(*flag_strings: str | None) -> str:
    """Union of flag letters, sorted and without repeats: merge_flags('bu', 'b') == 'bu'.

    Eurostat's legacy '-' (not applicable) is kept as it is: like 'z', it means no value.
    """
    letters = {letter for flags in flag_strings if flags for letter in str(flags) if letter.isalpha() or letter == "-"}
    return "".join(sorted(letters))


def describe_age(code: str | None) -> str:
    """Eurostat age codes in words: 'Y15-64' -> '15-64 years', 'Y_GE16' -> '16 years or over',
    'Y_LT25' -> 'under 25 years', 'TOTAL' -> 'all ages'; '' for None; other codes unchanged."""
    if not code:
        return ""
    if code.startswith("Y_GE"):
        return f"{code[4:]} years or over"
    if code.startswith("Y_LT"):
        return f"under {code[4:]} years"
    if code.startswith("Y") and "-" in code:
        return f"{code[1:]} years"
    return {"TOTAL": "all ages", "not_stated": "age band not stated by the source"}.get(code, code)


def check_known(values: list[str], allowed: dict, what: str) -> list[str]:
    """Return values unchanged when each is a key of ``allowed``; else raise ValueError naming the
    unknown ones and the accepted ones (used by the catalogue's and good practices' schema checks)."""
    unknown = [value for value in values if value not in allowed]
    if unknown:
        raise ValueError(f"unknown {what} {unknown}; use {sorted(allowed)}")
    return values
