"""Good practices named by the framework, linked to rights, governance levels and indicators.

The practices live in ``data/good_practices.yaml`` (human-editable, the project's own words). They
are checked on load against the schema below and against the catalogue: an unknown right, level or
indicator code raises :class:`GoodPracticeError` naming the entry and the field.

Source of the facts: the OHCHR-KNOMAD expert meeting "Indicators on the Human Rights of Migrants"
(Geneva, 8-9 April 2014), as summarised in ../shared/reference/indicator-framework.md.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from core import vocabulary
from core.catalogue import Catalogue, load_default_catalogue, load_yaml

DEFAULT_GOOD_PRACTICES_PATH = Path(__file__).resolve().parent.parent / "data" / "good_practices.yaml"

KINDS: dict[str, str] = {"policy": "Policy", "data_source": "Data source"}


class GoodPracticeError(ValueError):
    """The good-practices file is missing, is not valid YAML, or an entry breaks the schema."""


class GoodPractice(BaseModel):
    """One good practice: what it is, where, which rights and levels, which indicators it bears on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str = Field(min_length=5)
    place: str = Field(min_length=2)
    kind: Literal["policy", "data_source"]
    rights: list[str] = Field(min_length=1)
    levels: list[str] = Field(min_length=1)
    summary: str = Field(min_length=40)
    indicators: list[str] = Field(min_length=1)
    source: str = Field(min_length=5)

    @field_validator("rights")
    @classmethod
    def _known_rights(cls, value: list[str]) -> list[str]:
        return vocabulary.check_known(value, vocabulary.RIGHTS, "right(s)")

    @field_validator("levels")
    @classmethod
    def _known_levels(cls, value: list[str]) -> list[str]:
        return vocabulary.check_known(value, vocabulary.GOVERNANCE_LEVELS, "governance level(s)")


def parse_good_practices(text: str, catalogue: Catalogue, source: str = "good practices") -> list[GoodPractice]:
    """Parse and check good-practices YAML text (a list under 'good_practices').

    Every indicator code must exist in ``catalogue``. Raises GoodPracticeError naming the entry
    (position and id) and the field when an entry breaks the schema, when the YAML is malformed,
    when two entries share an id, or when an indicator code is unknown.
    """
    try:
        document = load_yaml(text)
    except yaml.YAMLError as error:
        raise GoodPracticeError(f"{source}: not valid YAML: {error}") from None
    entries = document.get("good_practices") if isinstance(document, dict) else None
    if not isinstance(entries, list) or not entries:
        raise GoodPracticeError(f"{source}: expected a list of practices under 'good_practices'")
    practices: list[GoodPractice] = []
    seen: set[str] = set()
    for position, entry in enumerate(entries, start=1):
        name = entry.get("id", "?") if isinstance(entry, dict) else "?"
        try:
            practice = GoodPractice.model_validate(entry)
        except ValidationError as error:
            problems = "; ".join(
                f"field '{'.'.join(str(p) for p in e['loc']) or '(entry)'}': {e['msg']}" for e in error.errors()
            )
            raise GoodPracticeError(f"{source}: entry {position} ({name}): {problems}") from None
        unknown = [code for code in practice.indicators if code not in catalogue]
        if unknown:
            raise GoodPracticeError(f"{source}: entry {position} ({name}): field 'indicators': unknown indicator "
                                    f"code(s) {unknown}; use codes of data/catalogue.yaml")
        if practice.id in seen:
            raise GoodPracticeError(f"{source}: entry {position}: id {practice.id!r} appears twice")
        seen.add(practice.id)
        practices.append(practice)
    return practices


def load_good_practices(path: Path | str = DEFAULT_GOOD_PRACTICES_PATH, catalogue: Catalogue | None = None) -> list[GoodPractice]:
    """Read and check the good-practices file against the catalogue (default: the embedded one).

    Raises GoodPracticeError (see parse_good_practices), also when the file cannot be read.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise GoodPracticeError(f"{path}: cannot read the good practices: {error}") from None
    return parse_good_practices(text, catalogue or load_default_catalogue(), source=str(path))


@functools.lru_cache(maxsize=2)
def load_default_good_practices() -> tuple[GoodPractice, ...]:
    """The embedded good practices, read once per process."""
    return tuple(load_good_practices())


def select_good_practices(
    practices: list[GoodPractice] | tuple[GoodPractice, ...],
    indicators: list[str] | None = None,
    right: str | None = None,
    level: str | None = None,
) -> list[GoodPractice]:
    """The practices that bear on any of ``indicators`` (when given), serve ``right`` (when given) and
    work at ``level`` (when given), in file order."""
    chosen = []
    wanted = set(indicators) if indicators is not None else None
    for practice in practices:
        if wanted is not None and not wanted & set(practice.indicators):
            continue
        if right and right not in practice.rights:
            continue
        if level and level not in practice.levels:
            continue
        chosen.append(practice)
    return chosen
