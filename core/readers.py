"""Readers of statistical file formats, returning one tidy table of observations.

Layouts understood here:
- Eurostat SDMX-CSV, with codes (``geo = DE``), labels (``geo = Germany``) or both side by side
  (SDMX-CSV 2.0 "codes and labels": each code column followed by its label column);
- Eurostat TSV, the bulk layout (first header cell ``dim1,dim2,geo\\time``, newest year first) and the
  current API layout (``...,geo\\TIME_PERIOD``), cells like ``12.3 b``, ``: u`` and ``:``;
- the tidy layout: one observation per row with columns such as geo, period/year, group, sex, age,
  value, flags.

Every reader returns a :class:`SourceTable`: the rows as read (``table``), what was detected
(``detected``) and the problems found, each with its row (1-based line of the file, header = 1),
column and value. Readers never raise on bad content: they report.

Flags follow Eurostat's observation status letters (see core.vocabulary.FLAGS); a confidential
observation (``CONF_STATUS = C``) gets the flag ``c``. A missing value (``:``, empty, ``..``, ``-``)
stays missing (NaN), never zero.
"""
from __future__ import annotations

import csv
import functools
import gettext
import hashlib
import io
import re
import sys
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pycountry

from core import geo as geo_codes
from core import vocabulary

#: Cells that mean "no value" in a value column (Eurostat ':', OECD/UN '..', R's NA, ...).
#: In a place column "NA" is Namibia: these markers apply to values only.
MISSING_MARKERS = frozenset({"", ":", "..", "...", "-", "–", "NaN", "nan", "NA", "n/a", "N/A", "null", "NULL", "x", "X"})
_CELL = re.compile(r"^\s*(?P<number>[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)?\s*(?P<marker>:|\.\.|-)?\s*(?P<flags>[a-zA-Z]*)\s*$")

#: SDMX-CSV structural columns that are not dimensions.
_SDMX_STRUCTURE_COLUMNS = {"STRUCTURE", "STRUCTURE_ID", "STRUCTURE_NAME", "ACTION", "DATAFLOW", "LAST UPDATE", "freq"}
_SDMX_ROLE_COLUMNS = {"TIME_PERIOD": "period", "OBS_VALUE": "value", "OBS_FLAG": "flags", "CONF_STATUS": "confidentiality"}

#: Population-group codes and labels, by the Eurostat dimension they come in (domain knowledge:
#: Eurostat code lists CITIZEN and C_BIRTH, with the English labels of its label downloads).
GROUP_LABELS: dict[str, dict[str, str]] = {
    "citizenship": {
        "NAT": "nationals",
        "reporting country": "nationals",
        "nationals": "nationals",
        "FOR": "non_nationals",
        "foreign country": "non_nationals",
        "foreigners": "non_nationals",
        "non_nationals": "non_nationals",
        "EU27_2020_FOR": "eu_citizens",
        "eu27 countries (from 2020) except reporting country": "eu_citizens",
        "eu_citizens": "eu_citizens",
        "NEU27_2020_FOR": "non_eu_citizens",
        "non-eu27 countries (from 2020) nor reporting country": "non_eu_citizens",
        "non_eu_citizens": "non_eu_citizens",
        "TOTAL": "total",
        "total": "total",
    },
    "country_of_birth": {
        "NAT": "native_born",
        "reporting country": "native_born",
        "native_born": "native_born",
        "FOR": "foreign_born",
        "foreign country": "foreign_born",
        "foreign_born": "foreign_born",
        "EU27_2020_FOR": "eu_born",
        "eu27 countries (from 2020) except reporting country": "eu_born",
        "eu_born": "eu_born",
        "NEU27_2020_FOR": "non_eu_born",
        "non-eu27 countries (from 2020) nor reporting country": "non_eu_born",
        "non_eu_born": "non_eu_born",
        "TOTAL": "total",
        "total": "total",
    },
}
#: Eurostat dimension column -> population-group dimension.
GROUP_DIMENSION_COLUMNS = {"citizen": "citizenship", "c_birth": "country_of_birth"}

_SEX_LABELS = {"t": "T", "total": "T", "f": "F", "females": "F", "female": "F", "women": "F",
               "m": "M", "males": "M", "male": "M", "men": "M"}
_UNIT_LABELS = {"pc": "percent", "percentage": "percent", "percent": "percent", "%": "percent",
                "eur": "EUR", "euro": "EUR", "ths_per": "thousand_persons", "thousand persons": "thousand_persons"}


@dataclass
class Problem:
    """One thing wrong with an input file: where (row: 1-based line or sheet row; column: the file's
    header), the value, what to do, and the kind of problem."""

    row: int | None
    column: str | None
    value: str | None
    message: str
    kind: str = "problem"

    def as_dict(self) -> dict:
        """{row, column, value, message, kind}, JSON-ready (kind: the problem class, e.g. 'value',
        'place', 'duplicate', 'mapping')."""
        return {"row": self.row, "column": self.column, "value": self.value, "message": self.message, "kind": self.kind}

    def describe(self, value_limit: int = 80) -> str:
        """One line: "row 4, column 'value', value 'sixty': <message>", the message alone for a
        problem of the whole file; a value longer than value_limit is cut ('…' and its length)."""
        value = "" if self.value is None else str(self.value)
        if len(value) > value_limit:
            value = value[:value_limit] + f"… ({len(value)} characters)"
        located = self.row is not None or self.column is not None
        parts = [f"row {self.row}" if self.row is not None else "", f"column '{self.column}'" if self.column else "",
                 f"value '{value}'" if value and located else ""]
        where = ", ".join(part for part in parts if part)
        return f"{where}: {self.message}" if where else self.message


@dataclass
class SourceTable:
    """What a reader produced.

    table: one row per observation with columns
        geo (str: ISO alpha-3, aggregate code, or the original text when unresolved),
        geo_level (str: national/regional/global, or 'unknown' when the place was not
        recognised — a sub-national unit or a misspelling, for the caller to decide), geo_label (str, as in the file),
        period (Int64, year), value (float, NaN when missing), flags (str of Eurostat letters),
        source_row (int, 1-based line in the file), and one column per other dimension of the file
        (e.g. sex, age, citizen, isced11, unit), holding codes when the file has codes, else labels.
    detected: what the reader found, e.g. {"layout": "sdmx_csv", "labels": "both", "encoding": ...}.
    problems: the problems found (rows with problems are left out of ``table``).
    rows_read: number of data rows (observations) in the file.
    """

    table: pd.DataFrame
    detected: dict = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    rows_read: int = 0


# --------------------------------------------------------------------------------------------- text


def decode_bytes(content: bytes) -> tuple[str, str]:
    """Decode file bytes to text; returns (text, encoding name).

    Byte-order marks are honoured (UTF-8, UTF-16 LE/BE); UTF-8 is tried next; otherwise
    charset-normalizer picks the encoding (Windows-1252, Latin-1, ...).
    Raises UnicodeDecodeError when no encoding fits (e.g. binary content).
    """
    if content.startswith(b"\xef\xbb\xbf"):
        return content[3:].decode("utf-8"), "utf-8-sig"
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return content.decode("utf-16"), "utf-16"
    if b"\x00" in content[:4096] and _looks_utf16(content):
        head = content[:4096]
        codec = "utf-16-be" if head[0::2].count(0) > head[1::2].count(0) else "utf-16-le"
        return content.decode(codec), codec
    try:
        return content.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    import charset_normalizer

    best = charset_normalizer.from_bytes(content).best()
    if best is not None and best.encoding.startswith(_MULTIBYTE_ENCODINGS) and _looks_single_byte_western(content):
        # A few accented names ("Côte d'Ivoire") are too little text for charset-normalizer, which
        # then reads byte + ASCII letter as one CJK character; real CJK text has runs of high bytes.
        return content.decode("cp1252"), "cp1252"
    western = _decode_or_none(content, "cp1252")
    if western is not None and (best is None or _latin_letter_share(western) >= _latin_letter_share(str(best))):
        # On short files charset-normalizer hesitates between the single-byte code pages (cp775,
        # cp1250 ...); Windows-1252 wins unless another reading gives more Latin letters
        # (Polish 'Łódź' in cp1250 reads as '£ódŸ' in cp1252: fewer letters).
        return western, "cp1252"
    if best is None:
        raise UnicodeDecodeError("unknown", content[:16], 0, 1, "no text encoding fits these bytes")
    return str(best), best.encoding


def _decode_or_none(content: bytes, encoding: str) -> str | None:
    try:
        return content.decode(encoding)
    except UnicodeDecodeError:
        return None


def _latin_letter_share(text: str) -> float:
    """Share of the non-ASCII characters that are Latin letters (U+00C0-U+024F): high for a right reading."""
    high = [ch for ch in text if ord(ch) > 127]
    if not high:
        return 1.0
    return sum(ch.isalpha() and 0xC0 <= ord(ch) <= 0x24F for ch in high) / len(high)


#: Multi-byte (CJK) encodings that charset-normalizer may pick for short Windows-1252 text.
_MULTIBYTE_ENCODINGS = ("big5", "gb", "hz", "johab", "shift_jis", "cp932", "cp949", "cp950", "euc_", "iso2022")


def _looks_single_byte_western(content: bytes) -> bool:
    """True when the bytes decode as Windows-1252 and no two non-ASCII bytes are adjacent."""
    try:
        content.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return re.search(rb"[\x80-\xff]{2}", content) is None


def parse_cell(cell: str) -> tuple[float, str]:
    """Split an Eurostat cell into (value, flags): '12.3 b' -> (12.3, 'b'); ': u' -> (nan, 'u'); ':' -> (nan, '').

    Raises ValueError when the cell is neither a number nor a missing marker with flags.
    """
    text = cell.strip()
    if text in MISSING_MARKERS:
        return np.nan, ""
    match = _CELL.match(text)
    if not match or (match.group("number") is None and match.group("marker") is None):
        raise ValueError(f"not a number: {cell!r}")
    number = match.group("number")
    flags = match.group("flags").lower()
    return (float(number) if number is not None else np.nan), flags


def normalise_age(value: str) -> str:
    """Eurostat age labels to codes: 'From 15 to 64 years' -> 'Y15-64', '16 years or over' -> 'Y_GE16',
    'Less than 25 years' -> 'Y_LT25'; codes (Y15-64) are returned unchanged."""
    text = str(value).strip()
    if match := re.fullmatch(r"from (\d+) to (\d+) years", text, re.I):
        return f"Y{match[1]}-{match[2]}"
    if match := re.fullmatch(r"(\d+) years or over", text, re.I):
        return f"Y_GE{match[1]}"
    if match := re.fullmatch(r"less than (\d+) years", text, re.I):
        return f"Y_LT{match[1]}"
    if text.lower() in {"total", "all ages"}:
        return "TOTAL"
    return text


def normalise_unit(value: str) -> str:
    """Eurostat unit codes/labels to catalogue units: PC/Percentage -> 'percent', EUR/Euro -> 'EUR'."""
    return _UNIT_LABELS.get(str(value).strip().lower(), str(value).strip())


def normalise_group(value: str, dimension: str) -> str | None:
    """A population-group code or label (NAT, 'Reporting country', 'Foreign country', FOR,
    EU27_2020_FOR ...) to the vocabulary group of that dimension; None when unknown or obsolete
    (e.g. the EU28 variants, superseded by EU27_2020)."""
    labels = GROUP_LABELS.get(dimension, {})
    text = str(value).strip()
    return labels.get(text) or labels.get(text.lower())


# ------------------------------------------------------------------------------- places and labels

#: World Bank aggregate codes (regions, income groups, lending groups) with their names, from the
#: World Bank's country metadata (the rows of Metadata_Country_*.csv with no region). They sit in
#: the same "Country Code" column as the ISO alpha-3 codes of countries.
WORLD_BANK_AGGREGATES: dict[str, str] = {
    "AFE": "Africa Eastern and Southern", "AFW": "Africa Western and Central", "ARB": "Arab World",
    "CEB": "Central Europe and the Baltics", "CSS": "Caribbean small states",
    "EAP": "East Asia & Pacific (excluding high income)", "EAR": "Early-demographic dividend",
    "EAS": "East Asia & Pacific", "ECA": "Europe & Central Asia (excluding high income)",
    "ECS": "Europe & Central Asia", "EMU": "Euro area", "EUU": "European Union", "HIC": "High income",
    "HPC": "Heavily indebted poor countries (HIPC)", "IBD": "IBRD only", "IBT": "IDA & IBRD total",
    "IDA": "IDA total", "IDB": "IDA blend", "IDX": "IDA only",
    "LAC": "Latin America & Caribbean (excluding high income)", "LCN": "Latin America & Caribbean",
    "LDC": "Least developed countries: UN classification", "LIC": "Low income", "LMC": "Lower middle income",
    "LMY": "Low & middle income", "LTE": "Late-demographic dividend",
    "MEA": "Middle East, North Africa, Afghanistan & Pakistan", "MIC": "Middle income",
    "MNA": "Middle East, North Africa, Afghanistan & Pakistan (excluding high income)", "NAC": "North America",
    "OED": "OECD members", "OSS": "Other small states", "PRE": "Pre-demographic dividend",
    "PSS": "Pacific island small states", "PST": "Post-demographic dividend", "SAS": "South Asia",
    "SSA": "Sub-Saharan Africa (excluding high income)", "SSF": "Sub-Saharan Africa", "SST": "Small states",
    "TEA": "East Asia & Pacific (IDA & IBRD)", "TEC": "Europe & Central Asia (IDA & IBRD)",
    "TLA": "Latin America & Caribbean (IDA & IBRD)",
    "TMN": "Middle East, North Africa, Afghanistan & Pakistan (IDA & IBRD)", "TSA": "South Asia (IDA & IBRD)",
    "TSS": "Sub-Saharan Africa (IDA & IBRD)", "UMC": "Upper middle income", "WLD": "World",
    "INX": "Not classified",
}

#: UN M49 codes of geographic regions (UN Statistics Division, "Standard country or area codes for
#: statistical use", ST/ESA/STAT/SER.M/49/Rev.4). UN DESA also uses codes from 900 up for its
#: development and income groups; those are recognised by range.
UN_M49_REGIONS: dict[str, str] = {
    "001": "World", "002": "Africa", "015": "Northern Africa", "202": "Sub-Saharan Africa",
    "014": "Eastern Africa", "017": "Middle Africa", "018": "Southern Africa", "011": "Western Africa",
    "019": "Americas", "419": "Latin America and the Caribbean", "029": "Caribbean", "013": "Central America",
    "005": "South America", "021": "Northern America", "003": "North America", "142": "Asia",
    "143": "Central Asia", "030": "Eastern Asia", "035": "South-eastern Asia", "034": "Southern Asia",
    "145": "Western Asia", "150": "Europe", "151": "Eastern Europe", "154": "Northern Europe",
    "039": "Southern Europe", "155": "Western Europe", "009": "Oceania", "053": "Australia and New Zealand",
    "054": "Melanesia", "057": "Micronesia", "061": "Polynesia",
}
_M49_WORLD = {"001", "900"}

#: Words that mark a place label as a group of countries once it is known not to be a country
#: ("Sub-Saharan Africa", "High-income countries", "UN development groups", "Euro area").
_AGGREGATE_WORDS = re.compile(
    r"\b(world|regions?|countries|income|developed|africa|asia|europe|americas?|caribbean|oceania|melanesia|"
    r"micronesia|polynesia|area|union|total|states|ida|ibrd|oecd|members|excluding|dividend|sub-saharan|"
    r"groups?|classified|economies)\b", re.I)


def fold_text(text: str) -> str:
    """Comparison form of a label: case-folded, accents removed, spaces collapsed ('Ausländer' -> 'auslander')."""
    decomposed = unicodedata.normalize("NFKD", str(text).casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", stripped).strip()


@functools.lru_cache(maxsize=1)
def _translated_country_names() -> dict[str, str]:
    """{folded country name in any language pycountry translates: ISO alpha-3}.

    pycountry ships the Debian iso-codes translations as gettext catalogues (domain 'iso3166-1',
    about 160 languages); each country's name, official name and common name is looked up in each.
    A name that means different countries in different languages is left out (ambiguous).
    """
    index: dict[str, set[str]] = {}
    locales = Path(pycountry.LOCALES_DIR)
    for language in sorted(p.name for p in locales.iterdir() if p.is_dir()):
        try:
            translation = gettext.translation("iso3166-1", str(locales), languages=[language])
        except OSError:
            continue
        for country in pycountry.countries:
            for attribute in ("name", "official_name", "common_name"):
                english = getattr(country, attribute, None)
                if english:
                    index.setdefault(fold_text(translation.gettext(english)), set()).add(country.alpha_3)
    return {name: codes.pop() for name, codes in index.items() if len(codes) == 1}


@functools.lru_cache(maxsize=50_000)
def resolve_place_any(text: str) -> geo_codes.Place | None:
    """Resolve a place the way analysts write it, in any common form or language.

    Tries, in order: core.geo.resolve_place (ISO alpha-2/alpha-3/numeric codes, Eurostat codes
    EL/UK/XK, English names and variants, Eurostat aggregates); World Bank aggregate codes
    (EUU, HIC, ...: level 'regional', WLD 'global'); UN M49 region codes (002 Africa, 150 Europe,
    900 and up for UN DESA's groups: 'regional', 001/900 'global'); country names in the ~160
    languages of pycountry's gettext translations ('Deutschland', 'Allemagne', 'Österreich');
    finally a label that names a group of countries ('Sub-Saharan Africa', 'High-income countries')
    becomes a 'regional' place keyed by the label itself.
    Returns None for anything else (a misspelling, or a sub-national unit code such as 'DE21').
    """
    if text is None:
        return None
    raw = str(text).strip()
    if not raw or len(raw) > MAX_PLACE_LENGTH:
        return None  # no country or aggregate name is this long; country_converter's regexes would crawl
    place = geo_codes.resolve_place(raw)
    if place is not None:
        return place
    upper = raw.upper()
    if upper in WORLD_BANK_AGGREGATES:
        return geo_codes.Place(upper, "global" if upper == "WLD" else "regional", WORLD_BANK_AGGREGATES[upper])
    if raw.isascii() and raw.isdigit():
        code = raw.zfill(3)
        if code in _M49_WORLD:
            return geo_codes.resolve_place("WLD")
        if code in UN_M49_REGIONS or int(raw) >= 900:
            return geo_codes.Place(code, "regional", UN_M49_REGIONS.get(code, f"UN M49 area {code}"))
        return None
    folded = fold_text(raw)
    alpha3 = _translated_country_names().get(folded)
    if alpha3 is None:
        cleaned = _FOOTNOTE.sub("", folded).strip()  # footnote markers: "France (1)", "Kosovo*"
        alpha3 = _translated_country_names().get(cleaned) if cleaned != folded else None
        if alpha3 is None and cleaned != folded:
            place = geo_codes.resolve_place(_FOOTNOTE.sub("", raw).strip())
            if place is not None:
                return place
    if alpha3 is not None:
        return geo_codes.resolve_place(alpha3)
    if _AGGREGATE_WORDS.search(raw) and not re.search(r"\d", raw):
        return geo_codes.Place(raw, "regional", raw)
    return None


_FOOTNOTE = re.compile(r"\s*(\(\d{1,2}\)|\*+)$")


#: Longer place texts are not places (the longest UN name is ~60 characters).
MAX_PLACE_LENGTH = 120


def resolve_places(values) -> dict[str, geo_codes.Place | None]:
    """Resolve every distinct value of a place column, reading each in the light of the whole column
    (see core.geo.resolve_column: in a column of ISO alpha-3 codes a two-letter "NA" is R's missing
    code, not Namibia); other values as resolve_place_any. Returns {value (stripped): Place or None}."""
    distinct = {str(v).strip() for v in values if v is not None}
    column = geo_codes.resolve_column({v for v in distinct if len(v) <= MAX_PLACE_LENGTH})
    column.update({v: None for v in distinct if len(v) > MAX_PLACE_LENGTH})
    return {value: (column[value] if column[value] is not None or _is_missing_code(value, column) or len(value) > MAX_PLACE_LENGTH
                    else resolve_place_any(value)) for value in distinct}


def _is_missing_code(value: str, column: dict) -> bool:
    """True when core.geo.resolve_column left a value unresolved on purpose (NA in an alpha-3 column)."""
    return len(value) == 2 and value.isalpha() and geo_codes.resolve_place(value) is not None


#: Sex labels in the languages of European statistical offices (folded; see fold_text).
_SEX_WORDS: dict[str, str] = {
    "t": "T", "total": "T", "both sexes": "T", "both": "T", "all": "T", "persons": "T", "insgesamt": "T",
    "zusammen": "T", "gesamt": "T", "ensemble": "T", "les deux sexes": "T", "totale": "T", "ambos sexos": "T",
    "totaal": "T", "razem": "T", "celkem": "T", "yhteensa": "T", "i alt": "T", "totalt": "T",
    "f": "F", "females": "F", "female": "F", "women": "F", "woman": "F", "girls": "F", "frauen": "F",
    "weiblich": "F", "femmes": "F", "femme": "F", "feminin": "F", "mujeres": "F", "mujer": "F",
    "femmine": "F", "donne": "F", "vrouwen": "F", "kobiety": "F", "zeny": "F", "naiset": "F", "kvinder": "F",
    "kvinnor": "F", "kvinner": "F", "mulheres": "F", "w": "F",
    "m": "M", "males": "M", "male": "M", "men": "M", "man": "M", "boys": "M", "manner": "M", "mannlich": "M",
    "hommes": "M", "homme": "M", "masculin": "M", "hombres": "M", "hombre": "M", "maschi": "M", "uomini": "M",
    "mannen": "M", "mezczyzni": "M", "muzi": "M", "miehet": "M", "maend": "M", "man (sv)": "M", "homens": "M",
}


def normalise_sex(value: str) -> str | None:
    """A sex code or label to 'T', 'F' or 'M'; None when unknown.

    Codes (T/F/M, kept as text, never booleans), English labels ('Total', 'Females', 'Males') and
    their usual forms in European languages ('Frauen', 'Hommes', 'Ambos sexos'); a longer label with
    the sex in parentheses, as in UN DESA's column titles ('... at mid-year (both sexes)'), gives that sex.
    """
    text = str(value).strip()
    code = _SEX_LABELS.get(text.lower()) or _SEX_WORDS.get(fold_text(text))
    if code:
        return code
    inner = re.search(r"\(([^()]*)\)\s*$", text)
    if inner:
        return _SEX_WORDS.get(fold_text(inner[1]))
    return None


#: Population-group labels beyond Eurostat's codes and English labels: the words national
#: statistical offices use (folded). Keys name the group for each dimension.
_GROUP_WORDS: dict[str, dict[str, str]] = {
    "citizenship": {
        "nationaux": "nationals", "national": "nationals", "citizens": "nationals", "own citizens": "nationals",
        "inlander": "nationals", "deutsche": "nationals", "staatsangehorige": "nationals", "nacionales": "nationals",
        "cittadini italiani": "nationals", "italiani": "nationals", "francais": "nationals", "espanoles": "nationals",
        "osterreicher": "nationals", "osterreichische staatsangehorige": "nationals", "schweizer": "nationals",
        "nationalen": "nationals", "reporting country": "nationals", "nat": "nationals",
        "auslander": "non_nationals", "auslanderinnen": "non_nationals", "auslanderinnen und auslander": "non_nationals",
        "nichtdeutsche": "non_nationals", "etrangers": "non_nationals", "etranger": "non_nationals",
        "extranjeros": "non_nationals", "stranieri": "non_nationals", "buitenlanders": "non_nationals",
        "foreigners": "non_nationals", "foreign citizens": "non_nationals", "foreign nationals": "non_nationals",
        "non-nationals": "non_nationals", "non nationals": "non_nationals", "non-citizens": "non_nationals",
        "non-nationaux": "non_nationals", "non nationaux": "non_nationals", "migrants": "non_nationals",
        "foreign country": "non_nationals", "for": "non_nationals", "foreign": "non_nationals",
        "eu citizens": "eu_citizens", "eu nationals": "eu_citizens", "unionsburger": "eu_citizens",
        "eu-auslander": "eu_citizens", "citoyens de l'ue": "eu_citizens", "eu27_2020_for": "eu_citizens",
        "non-eu citizens": "non_eu_citizens", "non eu citizens": "non_eu_citizens",
        "third-country nationals": "non_eu_citizens", "third country nationals": "non_eu_citizens",
        "drittstaatsangehorige": "non_eu_citizens", "ressortissants de pays tiers": "non_eu_citizens",
        "neu27_2020_for": "non_eu_citizens", "total": "total", "insgesamt": "total", "ensemble": "total",
        "totale": "total", "all": "total", "zusammen": "total",
    },
    "country_of_birth": {
        "native-born": "native_born", "native born": "native_born", "natives": "native_born", "native": "native_born",
        "born in the reporting country": "native_born", "born in the country": "native_born",
        "reporting country": "native_born", "nat": "native_born", "im inland geboren": "native_born",
        "nes en france": "native_born", "non-immigres": "native_born",
        "foreign-born": "foreign_born", "foreign born": "foreign_born", "born abroad": "foreign_born",
        "immigrants": "foreign_born", "immigres": "foreign_born", "im ausland geboren": "foreign_born",
        "nes a l'etranger": "foreign_born", "nacidos en el extranjero": "foreign_born", "nati all'estero": "foreign_born",
        "foreign country": "foreign_born", "for": "foreign_born",
        "born in another eu country": "eu_born", "eu-born": "eu_born", "eu27_2020_for": "eu_born",
        "born outside the eu": "non_eu_born", "non-eu-born": "non_eu_born", "non-eu born": "non_eu_born",
        "neu27_2020_for": "non_eu_born", "total": "total", "insgesamt": "total", "ensemble": "total",
    },
}

#: Column names (folded) that say a group column is about country of birth, not citizenship.
_BIRTH_COLUMN = re.compile(r"(c_birth|birth|born|geburt|naissance|nacimiento|nascita|immigr)", re.I)


def guess_group_dimension(column_name: str, labels: list[str] = ()) -> str:
    """'country_of_birth' when the column or its labels speak of birth (c_birth, 'Country of birth',
    'foreign-born'), else 'citizenship'."""
    if _BIRTH_COLUMN.search(fold_text(column_name or "")):
        return "country_of_birth"
    folded = [fold_text(label) for label in labels]
    birth = sum(1 for f in folded if f in _GROUP_WORDS["country_of_birth"] and f not in _GROUP_WORDS["citizenship"])
    citizenship = sum(1 for f in folded if f in _GROUP_WORDS["citizenship"] and f not in _GROUP_WORDS["country_of_birth"])
    return "country_of_birth" if birth > citizenship else "citizenship"


def guess_group(label: str, dimension: str) -> str | None:
    """A population-group label in the user's language to the vocabulary group of that dimension:
    Eurostat codes and labels (NAT, FOR, NEU27_2020_FOR, 'Reporting country', 'Foreign country'),
    the vocabulary's own names, and words such as 'Nationaux', 'Ausländer', 'Étrangers', 'Foreign-born'.
    A label only the other dimension knows ('foreign-born' in a citizenship column) gets that
    dimension's group (the upload then reports the groups as mixed). None when unknown or obsolete
    (the EU28 variants)."""
    folded = fold_text(label)
    words = _group_dictionary(dimension)
    if folded in words:
        return words[folded]
    for other in GROUP_DIMENSIONS:
        if other != dimension and folded in _group_dictionary(other):
            return _group_dictionary(other)[folded]
    return None


GROUP_DIMENSIONS = ("citizenship", "country_of_birth")


@functools.lru_cache(maxsize=4)
def _group_dictionary(dimension: str) -> dict[str, str]:
    """{folded label: group} of one dimension: Eurostat codes and labels, the vocabulary's names, the words above."""
    words = {fold_text(label): group for label, group in GROUP_LABELS.get(dimension, {}).items()}
    words.update({fold_text(group): group for group in vocabulary.DIMENSIONS.get(dimension, [])})
    words.update(_GROUP_WORDS.get(dimension, {}))
    words.setdefault("total", "total")
    return words


# -------------------------------------------------------------------------------------- detection


def detect_layout(text: str) -> str:
    """Guess the layout from the first line: 'eurostat_tsv', 'sdmx_csv' or 'tidy'."""
    first_line = text.lstrip("\ufeff").split("\n", 1)[0]
    first_cell = first_line.split("\t", 1)[0]
    if "\\" in first_cell and "\t" in first_line:
        return "eurostat_tsv"
    header = {cell.strip().strip('"') for cell in re.split(r"[,;\t]", first_line)}
    if {"OBS_VALUE", "TIME_PERIOD"} <= header:
        return "sdmx_csv"
    return "tidy"


def read_text(text: str, file_name: str = "input", encoding: str = "utf-8",
              columns: dict[str, str] | None = None) -> SourceTable:
    """Read decoded text in whichever of the layouts it is (see detect_layout).

    columns: for the tidy layout, {role: column name} overriding the guesses, with roles
    'geo', 'period', 'value', 'flags' (other names are kept as dimension columns).
    """
    layout = "tidy" if columns else detect_layout(text)
    if layout == "eurostat_tsv":
        result = read_eurostat_tsv(text)
    elif layout == "sdmx_csv":
        result = read_sdmx_csv(text)
    else:
        result = read_tidy_csv(text, columns=columns)
    result.detected = {"file": file_name, "encoding": encoding, **result.detected}
    return result


def read_file_bytes(content: bytes, file_name: str = "input", columns: dict[str, str] | None = None) -> SourceTable:
    """Decode and read file bytes. Bytes that are not text give an empty table and one problem."""
    try:
        text, encoding = decode_bytes(content)
    except UnicodeDecodeError as error:
        problem = Problem(None, None, None, f"{file_name}: not a text file ({error.reason}); upload a CSV, TSV or Excel file")
        return SourceTable(_empty_table(), {"file": file_name}, [problem], 0)
    return read_text(text, file_name, encoding, columns=columns)


# ------------------------------------------------------------------------------ format detection

#: Layouts an upload can have, with the words shown to the user.
LAYOUTS: dict[str, str] = {
    "tidy": "Tidy: one observation per row",
    "wide": "Wide: one column per year",
    "group_columns": "One value column per population group",
    "eurostat_tsv": "Eurostat TSV (dimension codes in the first column, one column per period)",
    "sdmx_csv": "Eurostat SDMX-CSV (codes, labels, or both)",
    "world_bank": "World Bank download (metadata lines above the header, one column per year)",
}
ENCODINGS: dict[str, str] = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with byte-order mark", "cp1252": "Windows-1252",
                             "latin-1": "Latin-1 (ISO-8859-1)", "utf-16": "UTF-16"}
DELIMITERS: dict[str, str] = {",": "comma ,", ";": "semicolon ;", "\t": "tab", "|": "vertical bar |"}
DECIMAL_MARKS: dict[str, str] = {".": "point (12.5)", ",": "comma (12,5)"}
THOUSANDS_SEPARATORS: dict[str, str] = {"": "none", ",": "comma (1,234)", ".": "point (1.234)", " ": "space (1 234)",
                                        "'": "apostrophe (1'234)"}
#: What a user may correct in a detected format.
FORMAT_OVERRIDES = ("layout", "encoding", "delimiter", "decimal", "thousands", "header_row", "header_rows", "last_row", "sheet")

_EXCEL_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")
#: Python's csv module refuses a cell over 131,072 characters by default (and a detection sample
#: would end there, dropping the rows after it): allow any cell an accepted file can hold.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

_HEAD_LINES = 200
#: Characters (bytes of an ASCII file) read for the header and the delimiter; a larger ASCII file is
#: not decoded whole for detection.
_LARGE_TEXT = 2_000_000
_TAIL_LINES = 60
_YEAR_HEADER = re.compile(r"\s*(\d{4})(?:\.0+)?(?:\s*\[YR\d{4}\])?\s*")
_NUMBERISH = re.compile(r"[-+]?[\d.,'\u00a0\u202f ]*\d[\d.,'\u00a0\u202f ]*\s*%?\s*[a-zA-Z]{0,3}")


@dataclass
class FileFormat:
    """How a file is laid out: what detect_format found, or what the user corrected.

    kind: 'text', 'excel', 'geojson' or 'unreadable'; layout: a key of LAYOUTS; encoding: a Python
    codec name (text files); delimiter: one of DELIMITERS; decimal and thousands: the number format
    (see DECIMAL_MARKS, THOUSANDS_SEPARATORS); header_row: 1-based line (or sheet row) of the header;
    header_rows: 1, or 2 when a second header row sits below (years under a title spanning them);
    last_row: 1-based last row of the table (notes below it are left out), None for the end of the
    file; sheet / sheets: the sheet read and all sheets (Excel); sdmx_labels: 'codes', 'labels' or
    'both' (SDMX-CSV); columns: the header names (unique, blanks named 'column N');
    column_titles: for a two-row header, the title above each column ('' where none);
    year_columns: header names that are years; group_columns: header names that are population
    groups (one value column per group); notes: what was found, in words; lines: the number of
    lines of a text file (newlines, plus one when the last line has none), None for a workbook.
    """

    file_name: str = "input"
    kind: str = "text"
    layout: str = "tidy"
    encoding: str | None = None
    delimiter: str | None = None
    decimal: str = "."
    thousands: str = ""
    header_row: int = 1
    header_rows: int = 1
    last_row: int | None = None
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    sdmx_labels: str | None = None
    columns: list[str] = field(default_factory=list)
    column_titles: list[str] = field(default_factory=list)
    year_columns: list[str] = field(default_factory=list)
    group_columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    lines: int | None = None

    def as_dict(self) -> dict:
        """JSON-ready dict of every field."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "FileFormat":
        """The inverse of as_dict (unknown keys ignored)."""
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in values.items() if k in known})


def header_year(name: str) -> int | None:
    """The year a column header stands for: '2019', '2019 [YR2019]' (World Bank DataBank), '1990.0',
    or the last part of a two-row header 'Title | 2019'; None when it is not a year in 1900-2100."""
    text = str(name).rsplit(" | ", 1)[-1]
    match = _YEAR_HEADER.fullmatch(text)
    if match and 1900 <= int(match[1]) <= 2100:
        return int(match[1])
    return None


def _is_numberish(cell: str) -> bool:
    return bool(cell) and (cell in MISSING_MARKERS - {""} or bool(_NUMBERISH.fullmatch(cell))) and cell not in {"x", "X", "NA"}


def _non_empty(row: list[str]) -> list[int]:
    return [i for i, cell in enumerate(row) if cell]


def _is_data_row(row: list[str], header_width: int = 0) -> bool:
    filled = _non_empty(row)
    if len(filled) < 2 or not any(_is_numberish(row[i]) for i in filled):
        return False
    return len(filled) >= 3 or header_width <= 3


def _is_continuation(row: list[str]) -> bool:
    """A second header row: empty first cell, and only years or text (no plain numbers)."""
    filled = _non_empty(row)
    if len(filled) < 2 or row[0]:
        return False
    return all(header_year(row[i]) is not None or not _is_numberish(row[i]) for i in filled)


def find_header(rows: list[list[str]]) -> tuple[int, int]:
    """(index of the header row in rows, number of header rows: 1 or 2).

    The header is the first row with at least two filled cells spanning at least half the table's
    width, not made of plain numbers, not narrower than most rows below it, and followed by data
    rows; title rows above it (one long cell, or a 'Data Source, ...' line) and blank rows are skipped. A row right below it with an empty
    first cell and only years or text is a second header row (years under a spanning title).
    Returns (0, 1) when nothing looks like a header.
    """
    width = max((_non_empty(r)[-1] + 1 for r in rows if any(r)), default=0)
    for index, row in enumerate(rows):
        filled = _non_empty(row)
        if len(filled) < 2 or filled[-1] + 1 < 0.5 * width:
            continue
        if all(_is_numberish(row[i]) and header_year(row[i]) is None for i in filled):
            continue
        after = index + 1
        continuation = after < len(rows) and _is_continuation(rows[after])
        if continuation:
            after += 1
        following = [r for r in rows[after:after + 6] if any(r)]
        if not following:
            if after >= len(rows) and index == next((i for i, r in enumerate(rows) if any(r)), 0):
                return index, 1 + continuation
            continue
        span = max(filled[-1], max(_non_empty(rows[index + 1]), default=-1) if continuation else -1) + 1
        if sum(_non_empty(r)[-1] + 1 > span for r in following) > len(following) / 2:
            continue  # the rows below are wider: this is a title or metadata line, not the header
        data_rows = sum(_is_data_row(r, len(filled)) for r in following)
        if data_rows >= max(1, 0.6 * len(following)):
            return index, 1 + continuation
    return next((i for i, r in enumerate(rows) if any(r)), 0), 1


def find_last_data_row(rows: list[list[str]], header_width: int) -> int | None:
    """Index of the last row that looks like data (rows below it are notes or blank); None if none."""
    for index in range(len(rows) - 1, -1, -1):
        if _is_data_row(rows[index], header_width):
            return index
    return None


def detect_number_format(cells: list[str], delimiter: str | None = None) -> tuple[str, str]:
    """(decimal mark, thousands separator) of number cells such as '1.234,5', '12,5', '1 234', '1,234.5'.

    Rules: when a cell has both ',' and '.', the last one is the decimal mark; digits grouped by
    spaces or apostrophes mean that separator; commas alone are thousands separators only when every
    such cell is grouped by threes (1,234,567) and the delimiter is not ';' (semicolon files come from
    decimal-comma locales); dots alone are thousands separators only when grouped by threes with at
    least one cell having two of them (1.234.567). Default: ('.', '').
    """
    numbers = []
    for cell in cells:
        text = re.sub(r"\s*%?\s*[a-zA-Z]{0,3}$", "", str(cell).strip())
        if text and re.fullmatch(r"[-+]?[\d.,'\u00a0\u202f ]*\d[\d.,'\u00a0\u202f ]*", text):
            numbers.append(text.lstrip("+-"))
    if not numbers:
        return ".", ""
    thousands = ""
    for separator in (" ", "\u00a0", "\u202f", "'"):
        if any(re.fullmatch(rf"\d{{1,3}}(?:{re.escape(separator)}\d{{3}})+(?:[.,]\d+)?", n) for n in numbers):
            thousands = " " if separator in (" ", "\u00a0", "\u202f") else "'"
            break
    both = [n for n in numbers if "," in n and "." in n]
    if both:
        decimal = "," if sum(n.rfind(",") > n.rfind(".") for n in both) > len(both) / 2 else "."
        return decimal, thousands or ("." if decimal == "," else ",")
    commas = [n for n in numbers if "," in n]
    dots = [n for n in numbers if "." in n]
    if commas:
        grouped = all(re.fullmatch(r"\d{1,3}(?:,\d{3})+", n) for n in commas)
        if grouped and delimiter != ";" and not dots:
            return ".", thousands or ","
        return ",", thousands
    if dots:
        grouped = all(re.fullmatch(r"\d{1,3}(?:\.\d{3})+", n) for n in dots)
        if grouped and any(n.count(".") >= 2 for n in dots):
            return ",", "."
    return ".", thousands


def sniff_delimiter(lines: list[str]) -> str:
    """The delimiter (',', ';', tab or '|') that splits the most lines into the same number (> 1) of
    fields; title lines above the header do not disturb it. Default ','."""
    best, best_score = ",", 0
    sample = [line for line in lines if line.strip()][:_HEAD_LINES]
    for delimiter in (",", ";", "\t", "|"):
        try:
            counts = [len(row) for row in csv.reader(sample, delimiter=delimiter)]
        except csv.Error:
            continue
        counts = [c for c in counts if c > 1]
        if not counts:
            continue
        mode = max(set(counts), key=counts.count)
        score = counts.count(mode) * (1 + min(mode, 50) / 100)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _unique_names(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    result = []
    for position, name in enumerate(names, start=1):
        name = re.sub(r"\s+", " ", str(name)).strip() or f"column {position}"
        if name in seen:
            seen[name] += 1
            name = f"{name} ({seen[name]})"
        else:
            seen[name] = 1
        result.append(name)
    return result


def header_names(rows: list[list[str]], header_index: int, header_rows: int) -> tuple[list[str], list[str]]:
    """(column names, titles above the columns) from one or two header rows.

    With two rows the upper titles are carried right over blank cells (a title spanning the year
    columns), and a column's name is 'title | lower' when both exist (e.g.
    'International migrant stock at mid-year (both sexes) | 1990'), else whichever exists.
    """
    width = max((len(r) for r in rows), default=0)
    upper = (rows[header_index] + [""] * width)[:width]
    if header_rows == 2 and header_index + 1 >= len(rows):
        header_rows = 1  # nothing below the header: one header row it is
    if header_rows == 1:
        last = max(_non_empty(upper), default=-1)
        widest = max((max(_non_empty(r), default=-1) for r in rows[header_index + 1:]), default=-1)
        keep = max(last, widest) + 1
        return _unique_names(upper[:keep]), [""] * keep
    lower = (rows[header_index + 1] + [""] * width)[:width]
    carried, current = [], ""
    for index in range(width):
        if upper[index]:
            current = upper[index]
        elif not lower[index]:
            current = ""
        carried.append(current)
    titles = [carried[i] if lower[i] else "" for i in range(width)]
    names = [f"{titles[i]} | {lower[i]}" if titles[i] and lower[i] else (upper[i] or lower[i]) for i in range(width)]
    keep = max((i for i, n in enumerate(names) if n), default=-1) + 1
    widest = max((max(_non_empty(r), default=-1) for r in rows[header_index + 2:]), default=-1)
    keep = max(keep, widest + 1)
    return _unique_names(names[:keep]), titles[:keep] + [""] * max(0, keep - width)


def sniff_kind(content: bytes, file_name: str = "") -> str:
    """'excel' (xlsx/xls/ods by their magic bytes), 'geojson' (.geojson/.json or a JSON object), or 'text'."""
    if content.startswith(_EXCEL_MAGIC):
        return "excel"
    name = file_name.lower()
    head = content[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if name.endswith((".geojson", ".json")) or (head.startswith(b"{") and b"Feature" in content[:100_000]):
        return "geojson"
    return "text"


def excel_cell_text(value) -> str:
    """A spreadsheet cell as text: whole numbers without '.0' (1990.0 -> '1990', 40.0 -> '40'),
    other numbers in their shortest exact form, booleans as TRUE/FALSE, dates in ISO form, blanks ''."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if np.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value).strip()


def read_excel_rows(content: bytes, sheet: str | None = None) -> tuple[list[list[str]], str, list[str]]:
    """(rows of text cells from row 1 and column A, sheet read, every sheet name) of an Excel workbook
    (.xlsx, .xls, .ods) read with python-calamine. sheet None: the first sheet with a table (a header
    followed by data rows), else the first sheet. Raises ValueError naming the sheet when it is missing,
    and calamine's own errors (CalamineError and subclasses) for broken workbooks."""
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
    names = list(workbook.sheet_names)
    if not names:
        raise ValueError("the workbook has no sheets")
    if sheet is not None and sheet not in names:
        raise ValueError(f"no sheet named {sheet!r}; the sheets are {names}")

    def rows_of(name: str) -> list[list[str]]:
        raw = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
        return [[excel_cell_text(v) for v in row] for row in raw]

    if sheet is not None:
        return rows_of(sheet), sheet, names
    first = None
    for name in names:
        rows = rows_of(name)
        first = first or (rows, name)
        index, count = find_header(rows[:_HEAD_LINES])
        following = rows[index + count:index + count + 20]
        if sum(_is_data_row(r) for r in following) >= 3:
            return rows, name, names
    return first[0], first[1], names


class UnreadableLine(ValueError):
    """A record of delimited text that Python's csv module refuses (a cell beyond its field size limit)."""

    def __init__(self, line: int, reason: str):
        super().__init__(f"line {line}: {reason}")
        self.line, self.reason = line, reason


def _csv_rows(text: str, delimiter: str, whole: bool = False) -> list[tuple[int, list[str]]]:
    """(first line number, cells stripped) of every record of delimited text, blank records left out.

    whole=False (a sample for detection, which may end inside a record): reading stops quietly at a
    record that cannot be read. whole=True (the whole table): such a record raises UnreadableLine
    with its line number, so that no row after it is lost without a word.
    """
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    records = []
    line = 0
    try:
        for cells in reader:
            start = line + 1
            line = reader.line_num
            if any(c.strip() for c in cells):
                records.append((start, [c.strip() for c in cells]))
    except csv.Error as error:
        if whole:
            raise UnreadableLine(line + 1, str(error)) from None
    return records


def detect_format(content: bytes, file_name: str = "input", overrides: dict | None = None) -> tuple[FileFormat, list[Problem]]:
    """Detect how a file is laid out; overrides (keys of FORMAT_OVERRIDES) replace what was detected.

    Returns (FileFormat, problems). Never raises on bad content: a file that cannot be read gives
    kind 'unreadable' and one problem saying why and what to do.
    """
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None and k in FORMAT_OVERRIDES}
    fmt = FileFormat(file_name=file_name)
    fmt.kind = sniff_kind(content, file_name)
    if fmt.kind == "geojson":
        fmt.layout = "boundaries"
        fmt.notes.append("GeoJSON: boundaries of sub-national units (or your own areas), keyed by their codes")
        return fmt, []
    if not re.search(rb"\S", content[:65536]) and not content.strip():
        fmt.kind = "unreadable"
        return fmt, [Problem(None, None, None, f"{file_name}: the file is empty; upload a CSV, TSV, TXT or Excel file")]
    if fmt.kind == "text" and b"\x00" in content[:65536] and "encoding" not in overrides and not _looks_utf16(content):
        fmt.kind = "unreadable"
        return fmt, [Problem(None, None, None, f"{file_name}: not a text file (it holds binary bytes); upload a CSV, TSV, TXT "
                             "or Excel file")]
    try:
        if fmt.kind == "excel":
            rows, fmt.sheet, fmt.sheets = read_excel_rows(content, overrides.get("sheet"))
            numbered = list(enumerate(rows, start=1))
            total = len(rows)
            fmt.notes.append(f"Excel workbook: {len(fmt.sheets)} sheet(s); reading '{fmt.sheet}'")
            return _detect_table(fmt, numbered, total, overrides, content=None)
        if len(content) > _LARGE_TEXT and not overrides.get("encoding") and content.isascii():
            # ASCII is UTF-8: only the head and the tail are decoded (a large file's bytes are not
            # copied into one more string; isascii checks every byte in a few milliseconds)
            text, fmt.encoding = None, "utf-8"
        else:
            text, fmt.encoding = _decode_with(content, overrides.get("encoding"))
    except UnicodeDecodeError as error:
        fmt.kind = "unreadable"
        return fmt, [Problem(None, None, None, f"{file_name}: not a text file in {overrides.get('encoding') or 'any known encoding'} "
                             f"({error.reason}); upload a CSV, TSV, TXT or Excel file, or choose another encoding")]
    except Exception as error:  # noqa: BLE001 - calamine raises its own error types for broken workbooks
        fmt.kind = "unreadable"
        return fmt, [Problem(None, None, None, f"{file_name}: the workbook cannot be read ({type(error).__name__}: "
                             f"{str(error)[:200]}); save it again as .xlsx or export it as CSV")]
    if fmt.encoding not in ("utf-8", "ascii"):
        fmt.notes.append(f"encoding {ENCODINGS.get(fmt.encoding, fmt.encoding)}")
    if text is None:  # a large ASCII file: the head, the tail and the line count from the bytes
        head_text = content[:_LARGE_TEXT].decode("ascii")
        newlines = content.count(b"\n")
        tail_text = content[-20_000:].decode("ascii")
        ends_with_newline = content.endswith(b"\n")
    else:
        text = text.lstrip("\ufeff")
        head_text = text[:_LARGE_TEXT]
        newlines = text.count("\n")
        tail_text = text[-20_000:]
        ends_with_newline = text.endswith("\n")
    fmt.lines = newlines + (0 if ends_with_newline else 1)
    # the first lines (splitting the whole head of a large file into lines took 4 ms)
    lines = head_text[:100_000].splitlines()[:_HEAD_LINES + 1]
    lines = lines[:_HEAD_LINES] if len(lines) > _HEAD_LINES else head_text.splitlines()[:_HEAD_LINES]
    first = next((line for line in lines if line.strip()), "")
    if "\\" in first.split("\t", 1)[0] and "\t" in first and overrides.get("layout", "eurostat_tsv") == "eurostat_tsv":
        return _detect_eurostat_tsv(fmt, text if text is not None else head_text, overrides)
    fmt.delimiter = overrides.get("delimiter") or sniff_delimiter(lines)
    head = "\n".join(lines)
    numbered = _csv_rows(head, fmt.delimiter)
    first_tail_line = newlines - tail_text.count("\n") + 1  # one pass over a large file, not two
    if len(tail_text) < len(text if text is not None else content):  # the tail starts inside a line: drop that part
        cut = tail_text.find("\n") + 1
        tail_text, first_tail_line = tail_text[cut:], first_tail_line + 1
    tail = [(first_tail_line + n - 1, cells) for n, cells in _csv_rows(tail_text, fmt.delimiter)]
    return _detect_table(fmt, numbered, fmt.lines, overrides, tail=tail)


def _looks_utf16(content: bytes) -> bool:
    """UTF-16 text: a byte-order mark, or (without one) a zero byte in every other position."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    head = content[:4096]
    return len(head) >= 4 and (head[1::2].count(0) >= 0.9 * len(head[1::2]) or head[0::2].count(0) >= 0.9 * len(head[0::2]))


def _decode_with(content: bytes, encoding: str | None) -> tuple[str, str]:
    if encoding:
        if encoding == "utf-16" and not content.startswith((b"\xff\xfe", b"\xfe\xff")):
            return content.decode("utf-16-le"), encoding
        return content.decode(encoding), encoding
    return decode_bytes(content)


def _detect_eurostat_tsv(fmt: FileFormat, text: str, overrides: dict) -> tuple[FileFormat, list[Problem]]:
    header = text.split("\n", 1)[0].rstrip("\r").split("\t")
    dimension_part, _, time_name = header[0].partition("\\")
    dimensions = [d.strip() for d in dimension_part.split(",")]
    periods = [cell.strip() for cell in header[1:]]
    fmt.layout, fmt.delimiter, fmt.header_row, fmt.header_rows = "eurostat_tsv", "\t", 1, 1
    fmt.columns = _unique_names(dimensions + periods)
    fmt.column_titles = [""] * len(fmt.columns)
    fmt.year_columns = fmt.columns[len(dimensions):]
    fmt.notes.append(f"Eurostat TSV: dimensions {', '.join(dimensions)}; {len(periods)} periods ({time_name.strip() or 'time'})")
    sample = [cell for line in text.split("\n", 60)[1:60] for cell in line.split("\t")[1:]]
    fmt.decimal, fmt.thousands = overrides.get("decimal", "."), overrides.get("thousands", "")
    if "decimal" not in overrides and detect_number_format(sample, "\t")[0] == ",":
        fmt.decimal = ","
    return fmt, []


def _detect_table(fmt: FileFormat, numbered: list[tuple[int, list[str]]], total: int, overrides: dict,
                  content=None, tail: list[tuple[int, list[str]]] | None = None) -> tuple[FileFormat, list[Problem]]:
    """Header, footer, layout, years, groups and number format of a grid given as (row number, cells)."""
    problems: list[Problem] = []
    rows = [cells for _, cells in numbered]
    width = max((len(r) for r in rows), default=0)
    rows = [r + [""] * (width - len(r)) for r in rows]
    if not any(any(r) for r in rows):
        fmt.kind = "unreadable"
        return fmt, [Problem(None, None, None, f"{fmt.file_name}: no table found (every cell is empty)")]
    if "header_row" in overrides:
        wanted = int(overrides["header_row"])
        index = next((i for i, (n, _) in enumerate(numbered) if n >= wanted), 0)
        count = int(overrides.get("header_rows", 1))
    else:
        index, count = find_header(rows[:_HEAD_LINES])
        if "header_rows" in overrides:
            count = int(overrides["header_rows"])
    count = max(1, min(2, count)) if index + 1 < len(rows) else 1
    fmt.header_row, fmt.header_rows = numbered[index][0], count
    if fmt.header_row > 1:
        fmt.notes.append(f"{fmt.header_row - 1} line(s) above the header left out (title, source, metadata or blank lines)")
    fmt.columns, fmt.column_titles = header_names(rows, index, count)
    header_width = len(_non_empty(rows[index]))
    # the last data row: from the tail of a text file, or from all rows of a sheet
    tail_rows = tail if tail is not None else numbered
    tail_cells = [cells + [""] * (width - len(cells)) for _, cells in tail_rows]
    body_start_row = numbered[index][0] + count - 1
    last_index = find_last_data_row(tail_cells, header_width)
    if "last_row" in overrides:
        fmt.last_row = int(overrides["last_row"])
    elif last_index is not None and tail_rows[last_index][0] > body_start_row:
        last_row = tail_rows[last_index][0]
        below = [n for n, cells in tail_rows if n > last_row and any(cells)]
        fmt.last_row = last_row if below else None
        if below:
            fmt.notes.append(f"{len(below)} note line(s) below the table left out (rows {below[0]}-{below[-1]})")
    body = [cells for n, cells in zip((n for n, _ in numbered), rows) if n > body_start_row and (fmt.last_row is None or n <= fmt.last_row)]
    # layout
    names = set(fmt.columns)
    fmt.year_columns = [c for c in fmt.columns if header_year(c) is not None]
    fmt.group_columns = _group_value_columns(fmt.columns, body)
    if {"OBS_VALUE", "TIME_PERIOD"} <= names:
        layout = "sdmx_csv"
        fmt.sdmx_labels = _sdmx_label_mode(fmt.columns, body)
        fmt.notes.append("Eurostat SDMX-CSV with " + {"both": "codes and labels side by side", "labels": "labels",
                                                      "codes": "codes"}[fmt.sdmx_labels])
    elif fmt.columns[:4] == ["Country Name", "Country Code", "Indicator Name", "Indicator Code"]:
        layout = "world_bank"
        fmt.notes.append("World Bank download: one column per year")
    elif len(fmt.year_columns) >= 2 or (fmt.year_columns and not _has_period_column(fmt.columns)):
        layout = "wide"
        fmt.notes.append(f"wide table: {len(fmt.year_columns)} year columns "
                         f"({header_year(fmt.year_columns[0])}-{header_year(fmt.year_columns[-1])})")
    elif len(fmt.group_columns) >= 2:
        layout = "group_columns"
        fmt.notes.append(f"one value column per population group: {', '.join(fmt.group_columns)}")
    else:
        layout = "tidy"
    fmt.layout = overrides.get("layout", layout)
    if fmt.layout not in LAYOUTS:
        problems.append(Problem(None, None, fmt.layout, f"unknown layout {fmt.layout!r}; choose one of {sorted(LAYOUTS)}"))
        fmt.layout = layout
    # number format, from the cells that hold numbers
    sample = _value_cells(fmt, body)
    decimal, thousands = detect_number_format(sample, fmt.delimiter)
    fmt.decimal = overrides.get("decimal", decimal)
    fmt.thousands = overrides.get("thousands", thousands)
    if fmt.decimal == fmt.thousands:
        problems.append(Problem(None, None, fmt.decimal, "the decimal mark and the thousands separator must differ"))
        fmt.thousands = ""
    if fmt.decimal != "." or fmt.thousands:
        fmt.notes.append(f"numbers with decimal {DECIMAL_MARKS[fmt.decimal].split()[0]}"
                         + (f" and thousands separator {THOUSANDS_SEPARATORS[fmt.thousands].split()[0]}" if fmt.thousands else ""))
    return fmt, problems


def _has_period_column(columns: list[str]) -> bool:
    return any(fold_text(c) in _ROLE_WORDS["period"] for c in columns)


def _group_value_columns(columns: list[str], body: list[list[str]]) -> list[str]:
    """Headers that name population groups and hold numbers ('nationals', 'Ausländer', 'FOR')."""
    found = []
    for position, name in enumerate(columns):
        dimension = guess_group_dimension(name, [name])
        group = guess_group(name, dimension) or guess_group(name, "country_of_birth")
        if group and group != "total":
            cells = [r[position] for r in body[:50] if position < len(r) and r[position]]
            if cells and sum(_is_numberish(c) for c in cells) >= 0.8 * len(cells):
                found.append(name)
    return found


def _sdmx_label_mode(columns: list[str], body: list[list[str]]) -> str:
    if any(_looks_like_label_header(c) for c in columns if c not in _SDMX_STRUCTURE_COLUMNS | set(_SDMX_ROLE_COLUMNS)):
        return "both"
    if "geo" in columns:
        position = columns.index("geo")
        cells = [r[position] for r in body[:200] if position < len(r) and r[position]]
        if cells and sum(len(c) for c in cells) / len(cells) > 3.5:
            return "labels"
    return "codes"


def _value_cells(fmt: FileFormat, body: list[list[str]]) -> list[str]:
    positions = [fmt.columns.index(c) for c in fmt.year_columns + fmt.group_columns]
    if not positions:
        for position, name in enumerate(fmt.columns):
            if fold_text(name) in _ROLE_WORDS["value"] | _ROLE_WORDS["se"] | _ROLE_WORDS["ci_lower"] | _ROLE_WORDS["ci_upper"] | _ROLE_WORDS["population"]:
                positions.append(position)
    if not positions:
        positions = list(range(len(fmt.columns)))
    return [row[p] for row in body[:_HEAD_LINES] for p in positions if p < len(row) and row[p]]


#: Column names (folded, see fold_text) that suggest each role, in the languages analysts use,
#: including the columns of WHO's HEAT Plus upload template (setting, date, subgroup, estimate,
#: se, ci_lb, ci_ub, population, flag, iso3, indicator_abbr).
_ROLE_WORDS: dict[str, set[str]] = {
    "geo": {"geo", "iso3", "iso_a3", "iso3_code", "alpha3", "alpha_3", "iso", "country code", "country_code", "countrycode",
            "country", "country name", "country or area", "countries", "area", "place", "location", "region", "setting",
            "geo code", "geo_code", "land", "pays", "pais", "paese", "staat", "code", "nuts_id", "nuts", "nuts code",
            "unit", "reference area", "ref_area", "geopolitical entity (reporting)", "territory", "gebiet", "region code",
            "major area, region, country or area of destination", "municipality", "district", "commune", "gemeinde",
            # French, German, Spanish, Italian, Portuguese
            "pays de residence", "laender", "lander", "staaten", "country/pays", "territoire", "paises", "territorio",
            "paesi", "nazione", "comune", "municipio", "concelho", "regione", "region de residence"},
    "period": {"period", "year", "time", "time_period", "date", "jahr", "annee", "ano", "anno", "jaar", "rok", "year of survey",
               "reference year", "survey year", "periode", "zeit",
               "annees", "an", "jahre", "berichtsjahr", "anio", "anos", "periodo", "anni", "ano de referencia"},
    "value": {"value", "obs_value", "estimate", "rate", "share", "percent", "percentage", "%", "wert", "valeur", "valor",
              "valore", "waarde", "anteil", "taux", "tasa", "tasso", "amount", "figure", "observation value", "indicator value",
              "valeurs", "werte", "wert in %", "prozent", "quote", "pourcentage", "porcentaje", "valores",
              "percentuale", "quota", "valori", "taxa", "percentagem", "porcentagem"},
    "group": {"group", "population group", "citizen", "citizenship", "c_birth", "country of birth", "country of citizenship",
              "nationality", "subgroup", "migrant status", "migration status", "staatsangehorigkeit", "nationalite",
              "nacionalidad", "cittadinanza", "origin", "origine", "herkunft", "origen", "status", "migration background",
              "migrationshintergrund", "birth",
              "groupe", "groupe de population", "nationalite", "citoyennete", "origine migratoire", "statut migratoire",
              "gruppe", "bevolkerungsgruppe", "personengruppe", "staatsburgerschaft", "nationalitat", "migrationsstatus",
              "grupo", "grupo de poblacion", "ciudadania", "nacionalidad", "estatus migratorio",
              "gruppo", "gruppo di popolazione", "nazionalita", "origine", "status migratorio",
              "grupo populacional", "grupo de populacao", "nacionalidade", "cidadania", "naturalidade", "origem"},
    "sex": {"sex", "gender", "geschlecht", "sexe", "sexo", "sesso", "geslacht", "plec", "genre", "genero", "genere"},
    "age": {"age", "age group", "age class", "age band", "alter", "altersgruppe", "age_group", "edad", "eta", "leeftijd", "wiek",
            "tranche d'age", "classe d'age", "groupe d'age", "altersklasse", "grupo de edad", "tramo de edad",
            "grupo etario", "fascia di eta", "classe di eta", "idade", "faixa etaria", "grupo de idade"},
    "unit": {"unit", "unit of measure", "einheit", "unite", "unidad", "unita", "measure unit", "indicator_scale",
             "unite de mesure", "masseinheit", "unidad de medida", "unita di misura", "unidade", "unidade de medida"},
    "flag": {"flag", "flags", "obs_flag", "obs_status", "observation status", "status flag", "quality flag"},
    "indicator": {"indicator", "indicator code", "indicator_abbr", "indicator abbreviation", "variable", "measure", "indic",
                  "indicator_name", "series", "series code", "kennzahl", "indicateur", "indicador", "indikator",
                  "indicatore", "merkmal"},
    "se": {"se", "standard error", "standard_error", "std_error", "stderr", "std err", "s.e.", "erreur standard",
           "erreur type", "standardfehler", "error estandar", "error tipico", "errore standard", "erro padrao"},
    "ci_lower": {"ci_lb", "ci_lower", "lower", "lower bound", "lower_bound", "lower ci", "lcl", "lower_95", "ci lower", "lb", "low"},
    "ci_upper": {"ci_ub", "ci_upper", "upper", "upper bound", "upper_bound", "upper ci", "ucl", "upper_95", "ci upper", "ub", "high"},
    "population": {"population", "pop", "population size", "weighted population", "n", "sample size", "count",
                   "effectif", "bevolkerung", "einwohner", "poblacion", "popolazione", "populacao"},
}


# ------------------------------------------------------------------------------------------ grids

@dataclass
class Grid:
    """The table part of a file, every cell as text.

    columns: header names (FileFormat.columns); frame: one row per data row of the file with
    columns c0 .. c{n-1} (str, '' when empty; positional names, so header text never becomes an
    identifier) and source_row (int, 1-based line or sheet row); problems: rows that cannot be
    read (more cells than the header has), each with its row.
    """

    columns: list[str]
    frame: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)


def grid_column_names(count: int) -> list[str]:
    """The positional column names of a grid: c0, c1, ..."""
    return [f"c{i}" for i in range(count)]


def read_grid(content: bytes, fmt: FileFormat) -> Grid:
    """Read the table of a file (text, Excel or Eurostat TSV) laid out as ``fmt`` says, in Python.

    Rows above the header and below fmt.last_row are left out, blank rows are skipped, short rows
    are padded with ''. A row with more filled cells than the header has is reported (with its row
    number) and left out. Raises nothing for bad content: problems are returned in the Grid.
    """
    width = len(fmt.columns)
    problems: list[Problem] = []
    if fmt.kind == "excel":
        rows, _, _ = read_excel_rows(content, fmt.sheet)
        numbered = list(enumerate(rows, start=1))
    else:
        text, _ = _decode_with(content, fmt.encoding)
        text = text.lstrip("\ufeff")
        if fmt.layout == "eurostat_tsv":
            return _read_eurostat_tsv_grid(text, fmt)
        try:
            numbered = _csv_rows(text, fmt.delimiter or ",", whole=True)
        except UnreadableLine as error:  # every row is needed: the load is refused, nothing is half-read
            numbered = []
            problems.append(Problem(error.line, None, None, f"the file cannot be read from line {error.line} on "
                                                            f"({error.reason}); check the quotes on that line, or save the "
                                                            "file again as CSV"))
    first_body = fmt.header_row + fmt.header_rows
    records, rows_out = [], []
    for number, cells in numbered:
        if number < first_body or (fmt.last_row is not None and number > fmt.last_row):
            continue
        if not any(cells):
            continue
        if len(cells) > width and any(cells[width:]):
            problems.append(Problem(number, None, fmt.delimiter.join(cells[width:width + 3]) if fmt.delimiter else str(cells[width]),
                                    f"the row has {len(_non_empty(cells))} filled cells but the header has {width} columns; "
                                    "check the delimiter and the quotes, or choose another header row"))
            continue
        rows_out.append((cells + [""] * width)[:width])
        records.append(number)
    frame = pd.DataFrame(rows_out, columns=grid_column_names(width), dtype=str) if rows_out else \
        pd.DataFrame({name: pd.Series(dtype=str) for name in grid_column_names(width)})
    frame["source_row"] = np.array(records, dtype=np.int64)
    return Grid(list(fmt.columns), frame, problems)


def _read_eurostat_tsv_grid(text: str, fmt: FileFormat) -> Grid:
    lines = text.splitlines()
    dimensions = len(fmt.columns) - len(fmt.year_columns)
    width = len(fmt.columns)
    problems, rows_out, records = [], [], []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = line.split("\t")
        keys = [k.strip() for k in cells[0].split(",")]
        values = [c.strip() for c in cells[1:]]
        if len(keys) != dimensions:
            problems.append(Problem(number, lines[0].split("\t", 1)[0], cells[0],
                                    f"expected {dimensions} comma-separated codes; check the row"))
            continue
        if len(values) > width - dimensions and any(values[width - dimensions:]):
            problems.append(Problem(number, None, "\t".join(values[width - dimensions:])[:40], "more cells than periods in the header"))
            continue
        rows_out.append((keys + values + [""] * width)[:width])
        records.append(number)
    frame = pd.DataFrame(rows_out, columns=grid_column_names(width), dtype=str) if rows_out else \
        pd.DataFrame({name: pd.Series(dtype=str) for name in grid_column_names(width)})
    frame["source_row"] = np.array(records, dtype=np.int64)
    return Grid(list(fmt.columns), frame, problems)


def number_pattern(decimal: str = ".", thousands: str = "") -> str:
    """The regular expression (Python re and RE2 alike) of a value cell in a file's number format.

    Groups: 1 the number (with its thousands separators and decimal mark), 2 a missing marker
    (':', '..', '-'), 3 flag letters ('12,3 b', ': u'). A '%' after the number is allowed.
    """
    d = re.escape(decimal)
    if thousands:
        t = "[ \u00a0\u202f]" if thousands == " " else re.escape(thousands)
        integer = rf"(?:\d{{1,3}}(?:{t}\d{{3}})+|\d+)"
    else:
        integer = r"\d+"
    number = rf"[-+]?(?:{integer}(?:{d}\d*)?|{d}\d+)(?:[eE][-+]?\d+)?"
    return rf"^\s*({number})?\s*%?\s*(:|\.\.|-)?\s*([A-Za-z]*)\s*$"


def parse_numbers(cells: pd.Series, decimal: str = ".", thousands: str = "") -> tuple[np.ndarray, pd.Series, np.ndarray]:
    """Numbers from text cells in a file's number format, Eurostat flags split off.

    Returns (values: float array, NaN where missing; flags: str Series of lower-case letters;
    bad: bool array, True where the cell is neither a number, nor a missing marker (MISSING_MARKERS,
    ': u'), nor a number followed by flags). Each distinct cell text is parsed once.
    """
    text = cells.fillna("").astype(str).str.strip()
    pattern = re.compile(number_pattern(decimal, thousands))
    parsed: dict[str, tuple[float, str, bool]] = {}
    for cell in pd.unique(text):
        if cell in MISSING_MARKERS:
            parsed[cell] = (np.nan, "", False)
            continue
        match = pattern.match(cell)
        if not match or (match[1] is None and match[2] is None) or (match[1] is not None and match[2] is not None):
            parsed[cell] = (np.nan, "", True)
            continue
        number = np.nan
        if match[1] is not None:
            digits = match[1].replace(thousands, "") if thousands and thousands != " " else re.sub(r"[ \u00a0\u202f]", "", match[1])
            number = float(digits.replace(decimal, ".")) if decimal != "." else float(digits)
        parsed[cell] = (number, match[3].lower(), False)
    values = text.map({k: v[0] for k, v in parsed.items()}).to_numpy(dtype=float, na_value=np.nan)
    flags = text.map({k: v[1] for k, v in parsed.items()}).astype(str)
    bad = text.map({k: v[2] for k, v in parsed.items()}).to_numpy(dtype=bool)
    return values, flags, bad


def read_wide_grid(grid: Grid, fmt: FileFormat, geo_column: str, keep_columns: list[str] = ()) -> SourceTable:
    """A wide grid (one column per year) as a tidy SourceTable: one row per place and year column.

    geo_column: the header of the place column; keep_columns: other headers kept as dimension
    columns (named as in the file). Values are parsed in fmt's number format; cells with flags
    ('12.3 b') keep them; bad cells are reported with their row and year column and left out.
    """
    if geo_column not in grid.columns:
        return SourceTable(_empty_table(), fmt.as_dict(), [Problem(fmt.header_row, geo_column, None,
                           f"no column named {geo_column!r}; the columns are {grid.columns[:12]}")], 0)
    position = {name: f"c{i}" for i, name in enumerate(grid.columns)}
    frame = grid.frame
    parts = []
    for year_column in fmt.year_columns:
        part = pd.DataFrame({"geo": frame[position[geo_column]], "period_text": str(header_year(year_column)),
                             "cell": frame[position[year_column]], "column": year_column, "source_row": frame["source_row"]})
        for name in keep_columns:
            part[name] = frame[position[name]]
        parts.append(part)
    if not parts:
        return SourceTable(_empty_table(), fmt.as_dict(), [Problem(fmt.header_row, None, None, "no year columns found")], 0)
    long = pd.concat(parts, ignore_index=True)
    values, flags, bad = parse_numbers(long["cell"], fmt.decimal, fmt.thousands)
    problems = list(grid.problems)
    for index in np.flatnonzero(bad):
        problems.append(Problem(int(long["source_row"].iat[index]), long["column"].iat[index], long["cell"].iat[index],
                                "value is not a number; use a number, optionally followed by flag letters, or leave the cell empty"))
    long["value"] = values
    long["flags"] = flags.map(vocabulary.merge_flags)
    long = long.loc[~bad].drop(columns=["cell", "column"])
    rows_read = len(values)
    long = long.sort_values(["source_row", "period_text"], kind="stable")
    table = _finish_table(long, geo_column="geo", problems=problems, period_column="year columns")
    return SourceTable(table, fmt.as_dict(), problems, rows_read)


def read_world_bank_csv(text: str) -> SourceTable:
    """Read a World Bank download (World Development Indicators 'API_...csv'): metadata lines above
    the header, then 'Country Name, Country Code, Indicator Name, Indicator Code, 1960, ..., 2025'.

    Returns a SourceTable with one row per country (or aggregate) and year, value NaN where the
    cell is empty, columns geo (ISO alpha-3; World Bank aggregate codes such as EUU, HIC kept, level
    'regional'; WLD 'global'), geo_level, geo_label (the World Bank's country name), period (Int64),
    value (float, in the indicator's unit), flags (''), source_row (1-based line of the file),
    indicator_code and indicator_name (as in the file). Kosovo (XKX) is national; the Channel Islands
    (CHI, no ISO code) stay 'unknown'. detected = {"layout": "world_bank", "header_row": 5, ...}.
    """
    content = text.encode("utf-8")
    fmt, problems = detect_format(content, "world_bank.csv", {"encoding": "utf-8"})
    if fmt.kind == "unreadable" or "Country Code" not in fmt.columns:
        message = "not a World Bank download: no 'Country Code' column found"
        return SourceTable(_empty_table(), fmt.as_dict(), problems or [Problem(None, None, None, message)], 0)
    fmt.layout = "world_bank"
    grid = read_grid(content, fmt)
    keep = [c for c in ("Indicator Code", "Indicator Name") if c in fmt.columns]
    result = read_wide_grid(grid, fmt, geo_column="Country Code", keep_columns=keep)
    table = result.table.rename(columns={"Indicator Code": "indicator_code", "Indicator Name": "indicator_name"})
    if not table.empty:
        names = dict(zip(grid.frame["source_row"], grid.frame[f"c{fmt.columns.index('Country Name')}"]))
        table["geo_label"] = table["source_row"].map(names)
    result.table = table
    result.detected = {"layout": "world_bank", "header_row": fmt.header_row, "years": f"{header_year(fmt.year_columns[0])}-"
                       f"{header_year(fmt.year_columns[-1])}" if fmt.year_columns else "", "notes": fmt.notes}
    return result


# ---------------------------------------------------------------------------------------- layouts


def read_eurostat_tsv(text: str) -> SourceTable:
    """Read Eurostat's TSV layout (bulk ``geo\\time`` or API ``geo\\TIME_PERIOD``).

    The first header cell lists the dimension codes separated by commas, the last one followed by
    a backslash and the time dimension; the other header cells are periods (in any order).
    """
    lines = [line for line in text.lstrip("\ufeff").splitlines() if line.strip()]
    if not lines:
        return SourceTable(_empty_table(), {"layout": "eurostat_tsv"}, [Problem(None, None, None, "the file is empty")], 0)
    header = lines[0].split("\t")
    dimension_part, _, time_name = header[0].partition("\\")
    dimensions = [d.strip() for d in dimension_part.split(",")]
    periods = [cell.strip() for cell in header[1:]]
    problems: list[Problem] = []
    records: list[tuple] = []
    for line_number, line in enumerate(lines[1:], start=2):
        cells = line.split("\t")
        keys = [k.strip() for k in cells[0].split(",")]
        if len(keys) != len(dimensions):
            problems.append(Problem(line_number, header[0], cells[0],
                                    f"expected {len(dimensions)} comma-separated codes ({','.join(dimensions)}); check the row"))
            continue
        for column_index, cell in enumerate(cells[1:], start=1):
            if column_index > len(periods):
                problems.append(Problem(line_number, None, cell, "more cells than periods in the header"))
                break
            try:
                value, flags = parse_cell(cell)
            except ValueError:
                problems.append(Problem(line_number, periods[column_index - 1], cell.strip(),
                                        "value is not a number; use a number, optionally followed by flag letters (e.g. '12.3 b'), or ':' for missing"))
                continue
            records.append((*keys, periods[column_index - 1], value, flags, line_number))
    frame = pd.DataFrame.from_records(records, columns=[*dimensions, "period_text", "value", "flags", "source_row"])
    rows_read = len(frame) + sum(1 for p in problems if p.column in periods)
    table = _finish_table(frame, geo_column="geo", problems=problems)
    detected = {"layout": "eurostat_tsv", "time_header": time_name.strip(), "dimensions": dimensions,
                "periods": f"{min(periods, default='')}-{max(periods, default='')}"}
    return SourceTable(table, detected, problems, rows_read)


def read_sdmx_csv(text: str) -> SourceTable:
    """Read Eurostat SDMX-CSV (1.0 or 2.0) with codes, labels, or codes and labels side by side."""
    try:
        raw = pd.read_csv(io.StringIO(text.lstrip("\ufeff")), dtype=str, keep_default_na=False, sep=None, engine="python")
        raw = raw.fillna("")  # cells of short rows (trailing empty fields left out) come back as NaN
    except (pd.errors.ParserError, csv.Error, ValueError) as error:
        return SourceTable(_empty_table(), {"layout": "sdmx_csv"}, [Problem(None, None, None, f"cannot parse the CSV: {error}")], 0)
    columns = list(raw.columns)
    # In the "codes and labels" layout a label column follows each code column; its header is a
    # human label (contains a space or an upper-case word that is not an SDMX role).
    code_columns: list[str] = []
    label_of: dict[str, str] = {}
    for index, column in enumerate(columns):
        if column in _SDMX_STRUCTURE_COLUMNS or column in _SDMX_ROLE_COLUMNS:
            code_columns.append(column)
            continue
        if code_columns and _looks_like_label_header(column) and index > 0 and columns[index - 1] not in label_of.values():
            label_of[columns[index - 1]] = column
            continue
        code_columns.append(column)
    labels_mode = "both" if label_of else ("labels" if _cells_look_like_labels(raw) else "codes")
    if "geo" not in raw.columns or "TIME_PERIOD" not in raw.columns or "OBS_VALUE" not in raw.columns:
        missing = [c for c in ("geo", "TIME_PERIOD", "OBS_VALUE") if c not in raw.columns]
        return SourceTable(_empty_table(), {"layout": "sdmx_csv"},
                           [Problem(1, None, None, f"SDMX-CSV without the column(s) {missing}")], len(raw))
    dimensions = [c for c in code_columns if c not in _SDMX_STRUCTURE_COLUMNS and c not in _SDMX_ROLE_COLUMNS]
    frame = raw[dimensions].copy()
    frame["period_text"] = raw["TIME_PERIOD"]
    frame["source_row"] = np.arange(2, len(raw) + 2)
    flags = raw["OBS_FLAG"].str.lower() if "OBS_FLAG" in raw.columns else pd.Series("", index=raw.index)
    if "CONF_STATUS" in raw.columns:
        confidential = raw["CONF_STATUS"].str.upper().isin({"C", "CONFIDENTIAL"})
        flags = flags.where(~confidential, flags + "c")
    values, bad = _parse_numbers(raw["OBS_VALUE"])
    problems = [Problem(int(frame["source_row"].iat[i]), "OBS_VALUE", raw["OBS_VALUE"].iat[i],
                        "value is not a number; leave it empty for a missing value") for i in np.flatnonzero(bad)]
    frame["value"] = values
    frame["flags"] = flags.map(lambda f: vocabulary.merge_flags(f))
    frame = frame.loc[~bad]
    table = _finish_table(frame, geo_column="geo", problems=problems, period_column="TIME_PERIOD")
    detected = {"layout": "sdmx_csv", "labels": labels_mode, "dimensions": dimensions}
    if "STRUCTURE_ID" in raw.columns and len(raw):
        detected["dataflow"] = raw["STRUCTURE_ID"].iat[0]
    elif "DATAFLOW" in raw.columns and len(raw):
        detected["dataflow"] = raw["DATAFLOW"].iat[0]
    return SourceTable(table, detected, problems, len(raw))


_TIDY_ALIASES = {
    "geo": ("geo", "country", "country_code", "iso3", "iso_a3", "alpha3", "location", "place", "region", "area"),
    "period_text": ("period", "year", "time", "time_period", "date"),
    "value": ("value", "obs_value", "estimate", "rate", "share"),
    "flags": ("flags", "flag", "obs_flag", "status"),
}


def read_tidy_csv(text: str, columns: dict[str, str] | None = None) -> SourceTable:
    """Read a tidy long table (one observation per row) with a comma, semicolon or tab delimiter.

    Columns are recognised by name (geo/country/iso3, period/year, value, flag(s)); every other
    column is kept as a dimension (e.g. group, sex, age, indicator, unit, c_birth).
    """
    stripped = text.lstrip("\ufeff")
    try:
        dialect = csv.Sniffer().sniff(stripped[:20_000], delimiters=",;\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    try:
        raw = pd.read_csv(io.StringIO(stripped), dtype=str, keep_default_na=False, sep=delimiter)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as error:
        return SourceTable(_empty_table(), {"layout": "tidy", "delimiter": delimiter},
                           [Problem(None, None, None, f"cannot parse the table: {error}")], 0)
    rename: dict[str, str] = {}
    for role, name in (columns or {}).items():
        if name not in raw.columns:
            return SourceTable(_empty_table(), {"layout": "tidy", "delimiter": delimiter},
                               [Problem(1, name, None, f"no column named {name!r} (for the {role}); the columns are {list(raw.columns)}")], len(raw))
        rename[name] = "period_text" if role == "period" else role
    lower = {c.strip().lower(): c for c in raw.columns}
    for role, aliases in _TIDY_ALIASES.items():
        if role in rename.values():
            continue
        for alias in aliases:
            if alias in lower and lower[alias] not in rename:
                rename[lower[alias]] = role
                break
    frame = raw.rename(columns=rename)
    missing = [role for role in ("geo", "period_text", "value") if role not in frame.columns]
    if missing:
        names = {"geo": "place (geo/country)", "period_text": "period (year)", "value": "value"}
        return SourceTable(_empty_table(), {"layout": "tidy", "delimiter": delimiter},
                           [Problem(1, None, None, f"no column for the {names[m]}; name it or map it") for m in missing], len(raw))
    frame["source_row"] = np.arange(2, len(raw) + 2)
    values, bad = _parse_numbers(frame["value"])
    problems = [Problem(int(frame["source_row"].iat[i]), rename_back(rename, "value"), frame["value"].iat[i],
                        "value is not a number; leave it empty for a missing value") for i in np.flatnonzero(bad)]
    frame["value"] = values
    frame["flags"] = frame["flags"].map(vocabulary.merge_flags) if "flags" in frame.columns else ""
    frame = frame.loc[~bad]
    table = _finish_table(frame, geo_column="geo", problems=problems, period_column=rename_back(rename, "period_text"))
    return SourceTable(table, {"layout": "tidy", "delimiter": delimiter, "columns": rename}, problems, len(raw))


def rename_back(rename: dict[str, str], role: str) -> str:
    """The original column name that was given a role (for problem reports)."""
    return next((original for original, new in rename.items() if new == role), role)


# ---------------------------------------------------------------------------------------- helpers


def _empty_table() -> pd.DataFrame:
    return pd.DataFrame({"geo": pd.Series(dtype=str), "geo_level": pd.Series(dtype=str),
                         "geo_label": pd.Series(dtype=str), "period": pd.Series(dtype="Int64"),
                         "value": pd.Series(dtype=float), "flags": pd.Series(dtype=str),
                         "source_row": pd.Series(dtype="Int64")})


def _looks_like_label_header(column: str) -> bool:
    return " " in column or (column[:1].isupper() and not column.isupper() and "_" not in column)


def _cells_look_like_labels(raw: pd.DataFrame) -> bool:
    geo = raw["geo"] if "geo" in raw.columns else pd.Series(dtype=str)
    sample = geo.head(200)
    return bool(len(sample)) and float(sample.str.len().mean()) > 3.5


def _parse_numbers(cells: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Numbers from text cells: (values with NaN for missing markers, mask of cells that are not numbers)."""
    text = cells.astype(str).str.strip()
    missing = text.isin(MISSING_MARKERS)
    numbers = pd.to_numeric(text.where(~missing), errors="coerce")
    bad = numbers.isna() & ~missing
    return numbers.to_numpy(dtype=float, na_value=np.nan), bad.to_numpy()


def _finish_table(frame: pd.DataFrame, geo_column: str, problems: list[Problem],
                  period_column: str = "period") -> pd.DataFrame:
    """Resolve geo codes (adding geo_level, geo_label) and periods; report rows that fail
    (period_column: the file's name for the period column, used in the problem reports).

    Vectorised: each distinct place and period text is resolved once, then mapped onto the rows.
    """
    if frame.empty:
        return _empty_table()
    labels = frame[geo_column].astype(str).str.strip()
    places = resolve_places(pd.unique(labels))
    frame = frame.assign(
        geo_label=labels,
        geo=labels.map({t: (p.code if p else t) for t, p in places.items()}),
        geo_level=labels.map({t: (p.level if p else "unknown") for t, p in places.items()}),
    )
    period_text = frame.pop("period_text").astype(str).str.strip()
    period_of = {text: parse_year(text) for text in pd.unique(period_text)}
    period = period_text.map(period_of).astype("Int64")
    bad_period = period.isna()
    for index in np.flatnonzero(bad_period.to_numpy()):
        problems.append(Problem(int(frame["source_row"].iat[index]), period_column, period_text.iat[index],
                                "period is not a year (YYYY); only annual data are supported"))
    frame["period"] = period
    frame = frame.loc[~bad_period.to_numpy()]
    return frame.reset_index(drop=True)


def parse_year(text: str) -> int | None:
    """'2023', '2023-A1', '2023-00', '2023.0' (a year from a spreadsheet number) -> 2023; None otherwise."""
    match = _YEAR.fullmatch(str(text).strip())
    return int(match[1]) if match else None


_YEAR = re.compile(r"(\d{4})(?:-A1|-00|\.0+)?")
