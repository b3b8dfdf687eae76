"""The indicator catalogue: every indicator's metadata sheet and machine fields.

The catalogue lives in ``data/catalogue.yaml`` (human-editable). It is checked against the schema
below on load; a broken entry raises :class:`CatalogueError` naming the entry and the field.

Framework: OHCHR, *Human Rights Indicators: A Guide to Measurement and Implementation*
(HR/PUB/12/5, 2012) and KNOMAD Working Paper 5 (2015), *Human Rights Indicators for Migrants and
their Families*.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from core import vocabulary

DEFAULT_CATALOGUE_PATH = Path(__file__).resolve().parent.parent / "data" / "catalogue.yaml"

METADATA_SHEET_FIELDS: tuple[str, ...] = (
    "title",
    "definition",
    "rationale",
    "method_of_computation",
    "data_collection_and_source",
    "disaggregation",
    "periodicity",
    "comments_and_limitations",
)

UNITS: dict[str, str] = {
    "percent": "%",
    "EUR": "EUR",
    "international_dollars": "int. $ (PPP, 2021)",
    "yes_no": "yes/no",
    "year": "year",
    "number": "number",
    "per_100000": "per 100 000",
    "score": "score",
}


class CatalogueError(ValueError):
    """The catalogue file is missing, is not valid YAML, or an entry breaks the schema."""


class Indicator(BaseModel):
    """One indicator: its metadata sheet plus the fields the dashboard computes with."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[a-z_]+\.[a-z0-9_]+$")
    title: str = Field(min_length=5)
    right: str
    attribute: str
    type: Literal["structural", "process", "outcome"]
    unit: str
    polarity: Literal["higher_is_better", "lower_is_better"]
    source_types: list[str] = Field(min_length=1)
    levels: list[str] = Field(min_length=1)
    groups: dict[str, list[str]] = Field(default_factory=dict)
    datasets: list[str] = Field(default_factory=list)
    producers: list[Literal["official", "civil_society"]] = Field(default_factory=lambda: ["official"])
    context: bool = False
    data_gap_note: str = ""
    definition: str = Field(min_length=20)
    rationale: str = Field(min_length=20)
    method_of_computation: str = Field(min_length=10)
    data_collection_and_source: str = Field(min_length=10)
    disaggregation: str = Field(min_length=5)
    periodicity: str = Field(min_length=3)
    comments_and_limitations: str = Field(min_length=10)

    @field_validator("right")
    @classmethod
    def _known_right(cls, value: str) -> str:
        if value not in vocabulary.RIGHTS:
            raise ValueError(f"unknown right {value!r}; use one of {sorted(vocabulary.RIGHTS)}")
        return value

    @field_validator("unit")
    @classmethod
    def _known_unit(cls, value: str) -> str:
        if value not in UNITS:
            raise ValueError(f"unknown unit {value!r}; use one of {sorted(UNITS)}")
        return value

    @field_validator("source_types")
    @classmethod
    def _known_source_types(cls, value: list[str]) -> list[str]:
        return vocabulary.check_known(value, vocabulary.SOURCE_TYPES, "source type(s)")

    @field_validator("levels")
    @classmethod
    def _known_levels(cls, value: list[str]) -> list[str]:
        return vocabulary.check_known(value, vocabulary.GOVERNANCE_LEVELS, "governance level(s)")

    @field_validator("groups")
    @classmethod
    def _known_groups(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for dimension, groups in value.items():
            if dimension not in vocabulary.DIMENSIONS:
                raise ValueError(f"unknown dimension {dimension!r}; use {sorted(vocabulary.DIMENSIONS)}")
            wrong = [g for g in groups if g not in vocabulary.DIMENSIONS[dimension]]
            if wrong:
                raise ValueError(f"group(s) {wrong} do not belong to the {dimension} dimension")
        return value

    @model_validator(mode="after")
    def _attribute_belongs_to_right(self) -> "Indicator":
        if self.attribute not in vocabulary.ATTRIBUTES[self.right]:
            raise ValueError(
                f"attribute {self.attribute!r} is not an attribute of the right {self.right!r}; "
                f"use one of {sorted(vocabulary.ATTRIBUTES[self.right])}"
            )
        if not self.code.startswith(("context.", f"{self.right}.")):
            raise ValueError(f"code {self.code!r} must start with the right ({self.right}.) or 'context.'")
        return self

    @property
    def unit_symbol(self) -> str:
        """Short unit for axes and tables: '%', 'EUR', ..."""
        return UNITS[self.unit]

    @property
    def difference_unit(self) -> str:
        """Unit of a difference between two values: 'pp' for percentages, else the unit itself."""
        return "pp" if self.unit == "percent" else UNITS[self.unit]

    def metadata_sheet(self) -> dict[str, str]:
        """The eight metadata-sheet fields, in the framework's order: {field name: text}."""
        return {name: getattr(self, name) for name in METADATA_SHEET_FIELDS}


class Catalogue:
    """All indicators, keyed by code, in file order."""

    def __init__(self, indicators: list[Indicator]):
        self.indicators: dict[str, Indicator] = {i.code: i for i in indicators}

    def __iter__(self):
        return iter(self.indicators.values())

    def __len__(self) -> int:
        return len(self.indicators)

    def __contains__(self, code: str) -> bool:
        return code in self.indicators

    def get(self, code: str) -> Indicator:
        """Return the indicator with this code; raise KeyError naming the code when unknown."""
        try:
            return self.indicators[code]
        except KeyError:
            raise KeyError(f"unknown indicator {code!r}") from None

    def filter(self, **criteria) -> list[Indicator]:
        """Indicators whose field equals (or, for list fields, contains) every criterion given."""
        chosen = []
        for indicator in self:
            keep = True
            for field, wanted in criteria.items():
                if wanted is None:
                    continue
                have = getattr(indicator, field)
                keep = wanted in have if isinstance(have, list) else have == wanted
                if not keep:
                    break
            if keep:
                chosen.append(indicator)
        return chosen

    def to_records(self) -> list[dict]:
        """Plain dicts (JSON-ready), one per indicator, with every field of :class:`Indicator`."""
        return [i.model_dump() for i in self]


def load_yaml(text: str):
    """YAML text as Python data, with libyaml's C parser when PyYAML was built with it (about eight
    times faster on the catalogue: 20 ms rather than 155 ms at every start), else the pure-Python one;
    both are the safe loader (plain data only). Raises yaml.YAMLError on malformed text."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def parse_catalogue(text: str, source: str = "catalogue") -> Catalogue:
    """Parse and check catalogue YAML text (a list of indicator mappings).

    Raises CatalogueError naming the entry (position and code) and the field when an entry breaks
    the schema, when the YAML is malformed, or when two entries share a code.
    """
    try:
        entries = load_yaml(text)
    except yaml.YAMLError as error:
        raise CatalogueError(f"{source}: not valid YAML: {error}") from None
    if isinstance(entries, dict) and "indicators" in entries:
        entries = entries["indicators"]
    if not isinstance(entries, list) or not entries:
        raise CatalogueError(f"{source}: expected a list of indicators under 'indicators'")
    indicators: list[Indicator] = []
    seen: set[str] = set()
    for position, entry in enumerate(entries, start=1):
        code = entry.get("code", "?") if isinstance(entry, dict) else "?"
        try:
            indicator = Indicator.model_validate(entry)
        except ValidationError as error:
            problems = "; ".join(
                f"field '{'.'.join(str(p) for p in e['loc']) or '(entry)'}': {e['msg']}" for e in error.errors()
            )
            raise CatalogueError(f"{source}: entry {position} ({code}): {problems}") from None
        if indicator.code in seen:
            raise CatalogueError(f"{source}: entry {position}: code {indicator.code!r} appears twice")
        seen.add(indicator.code)
        indicators.append(indicator)
    return Catalogue(indicators)


def load_catalogue(path: Path | str = DEFAULT_CATALOGUE_PATH) -> Catalogue:
    """Read and check the catalogue file. Raises CatalogueError (see parse_catalogue)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise CatalogueError(f"{path}: cannot read the catalogue: {error}") from None
    return parse_catalogue(text, source=str(path))


@functools.lru_cache(maxsize=4)
def load_default_catalogue() -> Catalogue:
    """The embedded catalogue, read once per process."""
    return load_catalogue(DEFAULT_CATALOGUE_PATH)
