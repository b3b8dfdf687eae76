"""Finding indicators in the catalogue: combinable filters and free-text search.

Filters combine with AND across criteria and OR within one criterion: rights=('health',),
types=('process', 'outcome') keeps the health indicators that are process or outcome indicators.
An empty criterion keeps everything.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from core.catalogue import Catalogue, Indicator

#: Words that mark an indicator as being about migrants in an irregular situation even when it
#: compares no group: laws and firewalls apply to everyone but matter most to them (the framework
#: reference: firewalls "matter most for irregular migrants, for whom outcome data rarely exist").
IRREGULAR_SITUATION_PATTERN = re.compile(r"irregular|undocumented|without (a |proof of )?residence|without papers|firewall")


def normalise_text(text: str) -> str:
    """Lower-case text without accents, for matching: 'Éducation  Côte' -> 'education cote'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(character for character in decomposed if not unicodedata.combining(character))
    return " ".join(plain.split())


def matches_text(indicator: Indicator, query: str) -> bool:
    """True when every word of ``query`` occurs in the indicator's title, definition or code
    (case- and accent-insensitive; an empty query matches everything)."""
    words = normalise_text(query).split()
    if not words:
        return True
    haystack = normalise_text(f"{indicator.title} {indicator.definition} {indicator.code.replace('_', ' ')}")
    return all(word in haystack for word in words)


def concerns_group(indicator: Indicator, group: str) -> bool:
    """True when the indicator compares ``group`` (its ``groups`` field), or, for 'irregular', when
    its title, definition or rationale is about migrants in an irregular situation (see
    IRREGULAR_SITUATION_PATTERN): firewalls, and entitlements whatever one's status."""
    if any(group in members for members in indicator.groups.values()):
        return True
    if group == "irregular":
        text = normalise_text(f"{indicator.title} {indicator.definition} {indicator.rationale}")
        return bool(IRREGULAR_SITUATION_PATTERN.search(text))
    return False


@dataclass(frozen=True)
class IndicatorFilter:
    """What a user asked for. Each tuple holds vocabulary codes; empty means 'any'.

    rights, attributes, types ('structural' | 'process' | 'outcome'), source_types, levels
    (governance levels), groups (population groups, see concerns_group), producers ('official' |
    'civil_society'), with_data (None: no condition; else the set of codes that have data for the
    chosen country — only these are kept), text (free-text search, see matches_text).
    """

    rights: tuple[str, ...] = ()
    attributes: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    source_types: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    producers: tuple[str, ...] = ()
    with_data: frozenset[str] | None = field(default=None)
    text: str = ""

    def keeps(self, indicator: Indicator) -> bool:
        """True when the indicator meets every criterion."""
        if self.rights and indicator.right not in self.rights:
            return False
        if self.attributes and indicator.attribute not in self.attributes:
            return False
        if self.types and indicator.type not in self.types:
            return False
        if self.source_types and not set(self.source_types) & set(indicator.source_types):
            return False
        if self.levels and not set(self.levels) & set(indicator.levels):
            return False
        if self.groups and not any(concerns_group(indicator, group) for group in self.groups):
            return False
        if self.producers and not set(self.producers) & set(indicator.producers):
            return False
        if self.with_data is not None and indicator.code not in self.with_data:
            return False
        return matches_text(indicator, self.text)


def filter_indicators(catalogue: Catalogue, criteria: IndicatorFilter) -> list[Indicator]:
    """The catalogue's indicators that meet ``criteria``, in catalogue order."""
    return [indicator for indicator in catalogue if criteria.keeps(indicator)]
