"""The upload flow and the dataset manager: sessions over core.upload, and the widgets of each step.

One UploadSession per browser session, kept in st.session_state with its own DuckDB cursor: the
file is staged once in that cursor's TEMP tables and survives reruns, and two people uploading at
once never see each other's unfinished work. Validation reports are kept per mapping, so changing a
widget back and forth does not check the file again.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import threading

import pandas as pd
import streamlit as st

from core import boundaries, readers, store, upload, vocabulary
from core.catalogue import UNITS
from ui import data
from ui.layout import escape_markdown

_SESSION_KEY = "_upload_session"
NONE = "(none)"
LEAVE_OUT = "(leave out)"
NEW_INDICATOR = "__new__"
ROLE_HELP = {
    "geo": "The place: countries (any code or name, in any language), aggregates (EU27_2020, World Bank and UN regions) "
           "or your own local units.",
    "sex": "T, F, M or words such as Total, Frauen, Hommes.",
    "age": "Age band codes (Y15-64) or labels ('From 15 to 64 years'); none: all ages.",
    "unit": "Only to check: the unit stored is the indicator's.",
    "indicator": "A column naming the indicator of each row (else choose the indicator below).",
    "period": "Years (2023, or 2023-A1 as in SDMX). Leave empty and give the year below if the whole file is one year.",
    "value": "The figures. Missing: empty, ':', '..', '-', 'NA'. Flag letters after a number ('12.3 u') are kept.",
    "group": "Who the row describes: nationals, non-nationals, foreign-born ... (labels in any language are mapped below).",
    "flag": "Eurostat observation status letters (b, u, c ...) or their words ('low reliability').",
    "se": "Standard error of the value (same unit), as in WHO's HEAT Plus template.",
    "ci_lower": "Lower bound of the 95% confidence interval (HEAT Plus: ci_lb).",
    "ci_upper": "Upper bound of the 95% confidence interval (HEAT Plus: ci_ub).",
    "population": "Population the value describes (HEAT Plus: population).",
}


def upload_limit_mb() -> int:
    """The largest upload accepted, in MB (server.maxUploadSize in .streamlit/config.toml)."""
    return int(st.get_option("server.maxUploadSize"))


class _Held:
    """An UploadSession with its cursor, a lock (one rerun at a time) and its reports by mapping."""

    def __init__(self, token: str, session: upload.UploadSession):
        self.token = token
        self.session = session
        self.lock = threading.Lock()
        self.reports: dict[str, upload.Report] = {}
        self.distinct: dict[str, pd.DataFrame] = {}


def file_token(content: bytes, file_name: str, overrides: dict) -> str:
    """A short key for one file read with one set of format corrections (widget keys use it)."""
    digest = hashlib.sha256(content).hexdigest()
    return hashlib.sha256(f"{digest}|{file_name}|{json.dumps(overrides, sort_keys=True)}".encode()).hexdigest()[:12]


def session_for(content: bytes, file_name: str, overrides: dict) -> _Held:
    """This browser session's UploadSession for the file (made, and the file staged, when the file or
    the format corrections change; the previous one's TEMP tables are dropped with its cursor)."""
    token = file_token(content, file_name, overrides)
    held: _Held | None = st.session_state.get(_SESSION_KEY)
    if held is not None and held.token == token:
        return held
    if held is not None:
        _close(held)
    cursor = data.get_root_connection().cursor()
    session = upload.UploadSession(cursor, content, file_name, overrides, catalogue=data.load_catalogue())
    held = _Held(token, session)
    with held.lock:
        session.stage()
    st.session_state[_SESSION_KEY] = held
    return held


def forget_session() -> None:
    """Drop this browser session's upload (its TEMP tables go with its cursor)."""
    held = st.session_state.pop(_SESSION_KEY, None)
    if held is not None:
        _close(held)


def _close(held: _Held) -> None:
    with contextlib.suppress(Exception):  # a cursor already closed: nothing left to drop
        held.session.close()
        held.session.cursor.close()


def distinct(held: _Held, header: str) -> pd.DataFrame:
    """Distinct texts of a column (value, rows, first_row), kept for the session."""
    if header not in held.distinct:
        with held.lock:
            held.distinct[header] = held.session.distinct(header)
    return held.distinct[header]


def boundary_codes(version: str) -> dict[str, set[str]]:
    """{boundaries name: unit codes} of the uploaded boundaries."""
    return _boundary_codes(version)


@st.cache_data(show_spinner=False)
def _boundary_codes(version: str) -> dict[str, set[str]]:
    return store.fetch_boundary_codes(data.cursor())


def validate(held: _Held, mapping: upload.Mapping, version: str) -> upload.Report:
    """The validation report for a mapping (kept per mapping and data version)."""
    key = json.dumps(mapping.as_dict(), sort_keys=True, default=str) + "|" + version
    if key not in held.reports:
        with held.lock:
            held.reports[key] = held.session.validate(mapping, boundary_codes(version))
        if len(held.reports) > 16:
            held.reports.pop(next(iter(held.reports)))
    return held.reports[key]


def load(held: _Held, mapping: upload.Mapping, info: upload.DatasetInfo, allow_rejected: bool, replace: bool,
         version: str) -> upload.Report:
    """Store the file as a dataset (core.upload.UploadSession.load). Raises upload.UploadError."""
    with held.lock:
        report = held.session.load(mapping, info, allow_rejected=allow_rejected, replace=replace,
                                   boundary_codes=boundary_codes(version))
    held.reports.clear()
    data.forget_data_version()
    return report


def is_boundaries(content: bytes, file_name: str) -> bool:
    """True for a GeoJSON file (boundaries of local units), False for a data file."""
    return readers.sniff_kind(content, file_name) == "geojson"


def rename_dataset(old: str, new: str) -> None:
    """Rename an uploaded dataset (core.store.rename_dataset). Raises ValueError or store.UploadConflictError."""
    store.rename_dataset(data.cursor(), old, new)
    data.forget_data_version()


def delete_dataset(name: str) -> int:
    """Delete an uploaded dataset and its observations (core.store.delete_dataset). Raises ValueError."""
    removed = store.delete_dataset(data.cursor(), name)
    data.forget_data_version()
    return removed


def rename_boundaries(old: str, new: str) -> None:
    """Rename stored boundaries. Raises ValueError."""
    store.rename_boundaries(data.cursor(), old, new)
    data.forget_data_version()


def delete_boundaries(name: str) -> None:
    """Delete stored boundaries. Raises ValueError."""
    store.delete_boundaries(data.cursor(), name)
    data.forget_data_version()


#: What a failed request raises (shown to the user as a message, never a traceback).
REQUEST_ERRORS = (ValueError, store.LoadError)


# ------------------------------------------------------------------------------------ rendering


def render_detection(held: _Held, overrides: dict, key: str) -> dict:
    """Step 1: what was detected, each item correctable. Returns the overrides the user set."""
    fmt = held.session.format
    st.markdown("#### 1. What we found")
    if not held.session.readable and not held.session.content.strip():
        return dict(overrides)  # an empty file: nothing detected, nothing to correct (the page says why)
    if held.session.readable:  # an unreadable file has no encoding or delimiter to describe
        st.caption(escape_markdown(detection_summary(fmt)))
    wanted = dict(overrides)
    columns = st.columns([2, 1.3, 1.3, 1.3] if fmt.kind == "excel" else [2, 1.3, 1.3, 1.3, 1.3])
    layouts = list(readers.LAYOUTS)
    wanted["layout"] = columns[0].selectbox("Layout", layouts, index=layouts.index(fmt.layout) if fmt.layout in layouts else 0,
                                            format_func=readers.LAYOUTS.get, key=f"fmt_layout_{key}")
    if fmt.kind == "excel":
        wanted["sheet"] = columns[1].selectbox("Sheet", fmt.sheets, index=fmt.sheets.index(fmt.sheet) if fmt.sheet in fmt.sheets else 0,
                                               key=f"fmt_sheet_{key}")
        offset = 2
    else:
        encodings = list(readers.ENCODINGS)
        current = fmt.encoding if fmt.encoding in encodings else None
        if current is None and fmt.encoding:
            encodings.append(fmt.encoding)
            current = fmt.encoding
        wanted["encoding"] = columns[1].selectbox("Encoding", encodings, index=encodings.index(current or "utf-8"),
                                                  format_func=lambda e: readers.ENCODINGS.get(e, e), key=f"fmt_encoding_{key}")
        delimiters = list(readers.DELIMITERS)
        wanted["delimiter"] = columns[2].selectbox("Delimiter", delimiters,
                                                   index=delimiters.index(fmt.delimiter) if fmt.delimiter in delimiters else 0,
                                                   format_func=readers.DELIMITERS.get, key=f"fmt_delimiter_{key}")
        offset = 3
    decimals = list(readers.DECIMAL_MARKS)
    wanted["decimal"] = columns[offset].selectbox("Decimal mark", decimals, index=decimals.index(fmt.decimal),
                                                  format_func=readers.DECIMAL_MARKS.get, key=f"fmt_decimal_{key}")
    separators = list(readers.THOUSANDS_SEPARATORS)
    wanted["thousands"] = columns[offset + 1].selectbox("Thousands separator", separators,
                                                        index=separators.index(fmt.thousands) if fmt.thousands in separators else 0,
                                                        format_func=readers.THOUSANDS_SEPARATORS.get, key=f"fmt_thousands_{key}")
    if fmt.layout != "eurostat_tsv":
        left, right, _ = st.columns([1, 1, 3])
        wanted["header_row"] = int(left.number_input("Header row", min_value=1, value=int(fmt.header_row), step=1,
                                                     key=f"fmt_header_{key}", help="The row with the column names (1 = first row)."))
        wanted["header_rows"] = 2 if right.checkbox("Two header rows", value=fmt.header_rows == 2, key=f"fmt_header2_{key}",
                                                    help="Years in a second row under titles spanning them (as in UN DESA's tables).") else 1
    changed = {k: v for k, v in wanted.items() if getattr(fmt, k, None) != v}
    return {**overrides, **changed}


def detection_summary(fmt: readers.FileFormat) -> str:
    """'Text file (UTF-8), comma delimiter, header in line 1. Numbers with decimal comma.' (the
    detection notes, capitalised; 'Nothing unusual.' when there are none)."""
    notes = " · ".join(n for n in fmt.notes if not n.startswith("encoding")) or "nothing unusual"
    return f"{upload_kind(fmt)}. {notes[:1].upper()}{notes[1:]}."


def upload_kind(fmt: readers.FileFormat) -> str:
    """'Excel workbook, sheet Table 3' / 'Text file (UTF-8), delimiter ;' in words."""
    if fmt.kind == "excel":
        return f"Excel workbook, sheet '{fmt.sheet}', header in row {fmt.header_row}"
    return (f"Text file ({readers.ENCODINGS.get(fmt.encoding, fmt.encoding)}), "
            f"{readers.DELIMITERS.get(fmt.delimiter, fmt.delimiter)} delimiter, header in line {fmt.header_row}")


def render_preview(held: _Held) -> None:
    """The first rows as read, with the file's row numbers."""
    with held.lock:
        preview = held.session.preview(12)
    st.dataframe(preview, hide_index=True, width="stretch", key="upload_preview", height=240)


def render_mapping(held: _Held, guessed: upload.Mapping, catalogue, key: str, version: str) -> upload.Mapping:
    """Step 2: what the columns mean (guesses filled in) and which labels mean which group.
    Returns the Mapping the widgets describe."""
    fmt = held.session.format
    st.markdown("#### 2. What the columns mean")
    mapping = upload.Mapping.from_dict(guessed.as_dict())
    options = [NONE, *[c for c in fmt.columns if c not in fmt.year_columns or fmt.layout not in ("wide", "world_bank", "eurostat_tsv")]]
    if any(fmt.column_titles):
        options.append(upload.COLUMN_TITLES)
    roles = list(upload.ROLES)
    wide = fmt.layout in ("wide", "world_bank", "eurostat_tsv")
    by_group = fmt.layout == "group_columns"
    shown = [r for r in roles if not (r == "value" and (wide or by_group)) and not (r == "period" and wide)]
    columns = st.columns(4)
    chosen: dict[str, str] = {}
    for index, role in enumerate(shown):
        default = guessed.columns.get(role, NONE)
        value = columns[index % 4].selectbox(upload.ROLES[role], options, index=options.index(default) if default in options else 0,
                                             key=f"role_{role}_{key}", help=ROLE_HELP.get(role))
        if value != NONE:
            chosen[role] = value
    mapping.columns = chosen
    if wide:
        years = st.multiselect("Year columns", fmt.year_columns, default=guessed.year_columns or fmt.year_columns,
                               key=f"years_{key}", help="Each of these columns holds the values of one year.")
        mapping.year_columns = years
    if by_group:
        mapping.group_columns = _group_columns_editor(fmt, guessed, key)
        mapping.columns.pop("value", None)
    if "period" not in mapping.columns and not wide:
        year = st.text_input("Year of every row (the file has no year column)", value=guessed.fixed.get("period", ""),
                             key=f"fixed_year_{key}")
        if year.strip():
            mapping.fixed["period"] = year.strip()
    if "age" not in mapping.columns:
        age = st.text_input("Age band of every row (the file has no age column)", value=guessed.fixed.get("age", ""),
                            key=f"fixed_age_{key}", placeholder="empty: all ages (TOTAL); or a band such as Y15-64",
                            help="Eurostat's age codes: Y15-64 for 15 to 64 years, Y_GE65 for 65 and over ... Figures "
                                 "are compared with other figures of the same age band.")
        if age.strip():
            mapping.fixed["age"] = age.strip()
    left, right = st.columns(2)
    level = left.radio("Places are", list(upload.PLACE_LEVELS), index=list(upload.PLACE_LEVELS).index(guessed.place_level),
                       format_func=upload.PLACE_LEVELS.get, key=f"place_level_{key}", horizontal=True,
                       help="Local units need their boundaries (a GeoJSON keyed by the same codes) for the map.")
    mapping.place_level = level
    scale = right.checkbox("Values are 0-1 shares (multiply by 100)", value=guessed.value_scale == 100, key=f"scale_{key}")
    mapping.value_scale = 100.0 if scale else 1.0
    # labels
    if "group" in mapping.columns:
        mapping.group_dimension, mapping.group_labels = _group_labels_editor(held, mapping.columns["group"], guessed, key)
    if "sex" in mapping.columns:
        mapping.sex_labels = _sex_labels_editor(held, mapping.columns["sex"], guessed, key)
    mapping.filters = _filters_editor(held, mapping, guessed, key)
    # indicator
    mapping.indicator, mapping.new_indicator, mapping.indicator_labels = _indicator_picker(held, mapping, guessed, catalogue, key)
    return mapping


def _group_columns_editor(fmt, guessed: upload.Mapping, key: str) -> dict[str, str]:
    st.caption("One value column per population group: say which group each column holds.")
    groups = [g for g in vocabulary.POPULATION_GROUPS if g != "total"]
    rows = [{"Column": c, "Group": next((g for g, col in guessed.group_columns.items() if col == c), LEAVE_OUT)}
            for c in fmt.columns if c in fmt.group_columns or c in guessed.group_columns.values()]
    edited = st.data_editor(pd.DataFrame(rows, columns=["Column", "Group"]), hide_index=True, key=f"group_columns_{key}",
                            column_config={"Column": st.column_config.TextColumn(disabled=True),
                                           "Group": st.column_config.SelectboxColumn(options=[LEAVE_OUT, *groups], required=True)})
    return {row["Group"]: row["Column"] for row in edited.to_dict("records") if row["Group"] and row["Group"] != LEAVE_OUT}


def _group_labels_editor(held: _Held, column: str, guessed: upload.Mapping, key: str) -> tuple[str, dict[str, str]]:
    labels = distinct(held, column)
    values = [v for v in labels["value"] if v != ""][:200]
    dimension = guessed.group_dimension or readers.guess_group_dimension(column, values)
    dimensions = ["citizenship", "country_of_birth"]
    dimension = st.radio("The groups are by", dimensions, index=dimensions.index(dimension) if dimension in dimensions else 0,
                         format_func=lambda d: {"citizenship": "citizenship (nationals / non-nationals)",
                                                "country_of_birth": "country of birth (native-born / foreign-born)"}[d],
                         key=f"group_dimension_{key}", horizontal=True,
                         help="How labels such as NAT, FOR or 'Foreign country' are read.")
    rows = []
    for value in values:
        guess = guessed.group_labels.get(value) if value in guessed.group_labels else readers.guess_group(value, dimension)
        rows.append({"Label in the file": value, "Rows": int(labels.loc[labels["value"] == value, "rows"].iloc[0]),
                     "Population group": guess if guess else (LEAVE_OUT if value in guessed.group_labels else None)})
    options = [LEAVE_OUT, *vocabulary.POPULATION_GROUPS]
    st.caption("Which labels mean which population group (guessed; correct them where needed). Labels left blank are reported.")
    edited = st.data_editor(pd.DataFrame(rows, columns=["Label in the file", "Rows", "Population group"]), hide_index=True,
                            key=f"group_labels_{key}_{dimension}", width="stretch",
                            column_config={"Label in the file": st.column_config.TextColumn(disabled=True),
                                           "Rows": st.column_config.NumberColumn(disabled=True),
                                           "Population group": st.column_config.SelectboxColumn(options=options)})
    result = {}
    for row in edited.to_dict("records"):
        group = row["Population group"]
        if isinstance(group, str) and group:
            result[row["Label in the file"]] = "" if group == LEAVE_OUT else group
    return dimension, result


def _sex_labels_editor(held: _Held, column: str, guessed: upload.Mapping, key: str) -> dict[str, str]:
    labels = [v for v in distinct(held, column)["value"] if v != ""][:50]
    unknown = [v for v in labels if not readers.normalise_sex(v)]
    if not unknown:
        return dict(guessed.sex_labels)
    st.caption("Sex labels we do not know: say what they mean.")
    edited = st.data_editor(pd.DataFrame({"Label in the file": unknown, "Sex": [None] * len(unknown)}), hide_index=True,
                            key=f"sex_labels_{key}",
                            column_config={"Label in the file": st.column_config.TextColumn(disabled=True),
                                           "Sex": st.column_config.SelectboxColumn(options=[LEAVE_OUT, "T", "F", "M"])})
    result = dict(guessed.sex_labels)
    for row in edited.to_dict("records"):
        if isinstance(row["Sex"], str) and row["Sex"]:
            result[row["Label in the file"]] = "" if row["Sex"] == LEAVE_OUT else row["Sex"]
    return result


def _filters_editor(held: _Held, mapping: upload.Mapping, guessed: upload.Mapping, key: str) -> dict[str, list[str]]:
    """Keep only some rows: for columns that play no role and hold a few different values."""
    fmt = held.session.format
    used = set(mapping.columns.values()) | set(mapping.year_columns) | set(mapping.group_columns.values())
    candidates = []
    for name in fmt.columns:
        if name in used or name in fmt.year_columns or name in readers._SDMX_STRUCTURE_COLUMNS:
            continue
        if fmt.layout == "sdmx_csv" and readers._looks_like_label_header(name):
            continue
        values = distinct(held, name)
        if 1 < len(values) <= 60:
            candidates.append((name, [v for v in values["value"]]))
    filters: dict[str, list[str]] = {}
    if not candidates:
        return filters
    with st.expander(f"Keep only some rows ({len(candidates)} column(s) with several values)", expanded=bool(guessed.filters)):
        st.caption("A column that plays no role but holds several values (a level of education, an income group ...) "
                   "makes the same observation appear several times: keep the value you want.")
        columns = st.columns(min(3, len(candidates)))
        for index, (name, values) in enumerate(candidates):
            chosen = columns[index % len(columns)].multiselect(name, values, default=[v for v in guessed.filters.get(name, []) if v in values],
                                                               key=f"filter_{key}_{index}", placeholder="all rows")
            if chosen:
                filters[name] = chosen
    return filters


def _indicator_picker(held: _Held, mapping: upload.Mapping, guessed: upload.Mapping, catalogue, key: str):
    """The indicator the values measure: a catalogue indicator, or one defined here."""
    st.markdown("**Which indicator do the values measure?**")
    codes = [i.code for i in catalogue]
    options = [NEW_INDICATOR, *codes]
    default = guessed.indicator if guessed.indicator in codes else None
    code = st.selectbox("Catalogue indicator", options, index=options.index(default) if default else None,
                        format_func=lambda c: "➕ Define a new indicator" if c == NEW_INDICATOR else f"{catalogue.get(c).title} ({c})",
                        key=f"indicator_{key}", placeholder="Choose the indicator of the catalogue …")
    labels = dict(guessed.indicator_labels)
    if "indicator" in mapping.columns:
        values = [v for v in distinct(held, mapping.columns["indicator"])["value"] if v != ""][:50]
        if len(values) > 1:
            st.caption("The indicator column holds several indicators: say which catalogue indicator each one is.")
            edited = st.data_editor(pd.DataFrame({"Value in the file": values, "Indicator": [labels.get(v) for v in values]}),
                                    hide_index=True, key=f"indicator_labels_{key}", width="stretch",
                                    column_config={"Value in the file": st.column_config.TextColumn(disabled=True),
                                                   "Indicator": st.column_config.SelectboxColumn(options=[LEAVE_OUT, *codes])})
            labels = {row["Value in the file"]: ("" if row["Indicator"] == LEAVE_OUT else row["Indicator"])
                      for row in edited.to_dict("records") if isinstance(row["Indicator"], str) and row["Indicator"]}
    if code != NEW_INDICATOR:
        return code, None, labels
    with st.container(border=True):
        st.caption("A new indicator, with the fields of its metadata sheet. It is stored with the dataset and appears on every page.")
        first = st.columns([3, 1, 1])
        title = first[0].text_input("Title", key=f"new_title_{key}", placeholder="e.g. Share of migrants with a regular GP")
        unit = first[1].selectbox("Unit", list(UNITS), format_func=lambda u: f"{u} ({UNITS[u]})", key=f"new_unit_{key}")
        polarity = first[2].selectbox("Polarity", list(vocabulary.POLARITIES), format_func=vocabulary.POLARITIES.get,
                                      key=f"new_polarity_{key}")
        second = st.columns(4)
        right = second[0].selectbox("Right", list(vocabulary.RIGHTS), format_func=vocabulary.RIGHTS.get, key=f"new_right_{key}")
        attribute = second[1].selectbox("Attribute", list(vocabulary.ATTRIBUTES[right]), format_func=vocabulary.ATTRIBUTES[right].get,
                                        key=f"new_attribute_{key}_{right}")
        kind = second[2].selectbox("Type", list(vocabulary.INDICATOR_TYPES), index=2, format_func=str.capitalize, key=f"new_type_{key}")
        source_type = second[3].selectbox("Source type", list(vocabulary.SOURCE_TYPES), format_func=vocabulary.SOURCE_TYPES.get,
                                          key=f"new_source_type_{key}")
        producer = st.radio("Source", list(vocabulary.PRODUCERS), format_func=vocabulary.PRODUCERS.get, horizontal=True,
                            key=f"new_producer_{key}")
        definition = st.text_area("Definition (optional)", key=f"new_definition_{key}", height=80)
    fields = {"title": title, "unit": unit, "polarity": polarity, "right": right, "attribute": attribute, "type": kind,
              "source_type": source_type, "producer_type": producer, "definition": definition.strip() or None}
    try:
        indicator = upload.build_custom_indicator(fields, catalogue)
    except upload.UploadError as error:
        st.warning(escape_markdown(str(error)), icon=":material/edit:")
        return None, None, labels
    return indicator.code, indicator.model_dump(), labels


def render_place_fixes(report: upload.Report, mapping: upload.Mapping, key: str) -> dict[str, str]:
    """Unknown places from the report: type a code (or leave blank to leave the rows out)."""
    unknown = sorted({p.value for p in report.problems if p.kind == "place" and p.value})
    if not unknown:
        return {}
    st.caption(f"{len(unknown)} place(s) we do not recognise: give an ISO code (or a code of your boundaries), "
               "or tick 'leave out'.")
    frame = pd.DataFrame({"Place in the file": unknown, "Code": [mapping.place_labels.get(u, "") or "" for u in unknown],
                          "Leave out": [u in mapping.place_labels and not mapping.place_labels[u] for u in unknown]})
    edited = st.data_editor(frame, hide_index=True, key=f"places_{key}", width="stretch",
                            column_config={"Place in the file": st.column_config.TextColumn(disabled=True)})
    fixes = {}
    for row in edited.to_dict("records"):
        if row["Leave out"]:
            fixes[row["Place in the file"]] = ""
        elif isinstance(row["Code"], str) and row["Code"].strip():
            fixes[row["Place in the file"]] = row["Code"].strip()
    return fixes


def render_report(report: upload.Report, file_name: str = "") -> None:
    """Step 3: counts, and every problem with its row, column, value and what to do (the table's
    caption and the downloadable CSV name the file)."""
    st.markdown("#### 3. Validation report")
    if any(p.kind == "no_rows" for p in report.problems):
        st.error(escape_markdown("; ".join(p.message for p in report.problems if p.kind == "no_rows") + "."), icon=":material/error:")
        return
    if not report.rows_read and any(p.kind == "mapping" for p in report.problems):
        st.info("Before the rows can be checked: " + "; ".join(p.message for p in report.problems if p.kind == "mapping") + ".",
                icon=":material/edit:")
        return
    cells = st.columns(5)
    cells[0].metric("Rows read", f"{report.rows_read:,}")
    cells[1].metric("Usable", f"{report.rows_usable:,}")
    cells[2].metric("Rejected", f"{report.rows_rejected:,}")
    cells[3].metric("Left out on purpose", f"{report.rows_left_out:,}",
                    help="By a filter, a label you mapped to 'leave out', or an exact repeat of an earlier row (kept once).")
    cells[4].metric("Missing values", f"{report.missing_values:,}", help="Stored as missing, never as 0.")
    summary = report.summary or {}
    if summary.get("indicators"):
        st.caption(escape_markdown(  # the ages are the file's own text
            f"Usable rows: {summary['places']} place(s) ({', '.join(summary['geo_levels'])}), "
            f"{summary['first_year']}-{summary['last_year']}, groups {', '.join(summary['groups'])}, "
            f"sex {', '.join(summary['sexes'])}, age {', '.join(summary['ages'])}."))
    if report.notes:
        shown = "; ".join(n.message for n in report.notes[:5])
        more = f" (and {report.rows_repeated - 5:,} more)" if report.rows_repeated > 5 else ""
        st.info(escape_markdown(f"{report.rows_repeated:,} exact repeat(s) kept once: {shown}{more}."), icon=":material/info:")
    for warning in report.warnings:  # nothing wrong with any row, but worth a look before loading
        st.warning(escape_markdown(warning), icon=":material/warning:")
    if report.status == "valid":
        st.success("No problems: every row can be loaded." if not report.rows_repeated else
                   "No problems: every observation can be loaded (exact repeats once).", icon=":material/check_circle:")
        return
    kinds = ", ".join(f"{PROBLEM_KINDS.get(k, k)}: {n:,} row(s)" for k, n in report.problem_counts.items())
    st.error(f"{report.rows_rejected:,} row(s) rejected{' (' + kinds + ')' if kinds else ''}. "
             "Nothing is stored until they are fixed (or you choose to leave the rejected rows out).", icon=":material/error:")
    listed = "" if len(report.problems) >= sum(report.problem_counts.values()) else f" (the first {len(report.problems):,})"
    st.caption(escape_markdown(f"Problems in {file_name or 'the file'}{listed}, by row as numbered in the file:"))
    frame = report.problems_frame()
    st.dataframe(frame, hide_index=True, width="stretch", key="upload_problems",
                 column_config={"What is wrong and what to do": st.column_config.TextColumn(width="large")})
    with st.expander("The first problems in full (a table cell cuts long text)", expanded=len(report.problems) <= 3):
        st.markdown("\n".join("- " + escape_markdown(p.describe(60)) for p in report.problems[:10]))  # file text, never rendered
    stem = (file_name.rsplit(".", 1)[0] if file_name else "") or "rightsgap"
    st.download_button(f"Download the problems of {file_name or 'the file'} (CSV)",
                       report.problems_frame(file_name or "").to_csv(index=False).encode("utf-8"),
                       file_name=f"{stem}_problems.csv", mime="text/csv", key="download_problems", icon=":material/download:")


def load_hint(report: upload.Report) -> str:
    """Why the Load button is disabled, in words: the real reason (no data rows, a column meaning
    missing, every row rejected, every row left out, or rejected rows not yet left out)."""
    mapping = [p.message for p in report.problems if p.kind == "mapping"]
    if any(p.kind == "no_rows" for p in report.problems):
        return "Nothing to load: the file has a header but no data rows."
    if not report.rows_read and report.problems and all(p.row is None and p.column is None for p in report.problems) \
            and not mapping:
        return "Nothing to load: the file could not be read (see the message above)."
    if mapping and not report.rows_read:
        return "Nothing to load yet: " + "; ".join(mapping) + "."
    if report.rows_usable:
        return "Fix the problems above (or tick 'leave the rejected rows out') to load."
    if report.rows_rejected:
        return (f"Nothing can be loaded: every row has a problem ({report.rows_rejected:,} rejected, see the report above). "
                "Fix the file and upload it again, or say what the unknown labels and places mean in the tables above.")
    return "Nothing to load: every row was left out by the filters or the labels mapped to 'leave out'; change them above."


PROBLEM_KINDS = {
    "value": "value not a number", "place": "unknown country or area", "period": "period not a year",
    "year_range": "year out of range", "group": "unknown group label", "sex": "unknown sex", "indicator": "unknown indicator",
    "duplicate": "conflicting duplicate (every row of it)", "no_rows": "no data rows", "percent_range": "percentage outside 0-100", "share_mixed": "0-1 share among percentages",
    "mixed_dimensions": "groups from two dimensions mixed", "se": "standard error not a number",
    "ci_lower": "lower bound not a number", "ci_upper": "upper bound not a number", "population": "population not a number",
    "se_negative": "negative standard error", "ci_order": "bounds in the wrong order", "unreadable_row": "row not readable",
    "mapping": "column meaning missing",
}


def render_boundaries_upload(content: bytes, file_name: str, version: str) -> None:
    """A GeoJSON of local units: read it, show what it holds, store it under a name."""
    st.markdown("#### Boundaries of local units")
    try:
        geojson, used = boundaries.read_uploaded_boundaries(content, file_name)
    except boundaries.BoundariesError as error:
        st.error(escape_markdown(str(error)), icon=":material/error:")
        return
    codes = [f["id"] for f in geojson["features"]]
    names = [next((f["properties"].get(k) for k in ("NAME_LATN", "name", "NAME", "NUTS_NAME") if f["properties"].get(k)), "")
             for f in geojson["features"]]
    st.success(f"{len(codes)} units, keyed by the property '{escape_markdown(used)}' (e.g. {escape_markdown(', '.join(codes[:5]))}).",
               icon=":material/check_circle:")
    st.dataframe(pd.DataFrame({"Code": codes, "Name": names}).head(200), hide_index=True, key="boundaries_preview", height=220)
    name = st.text_input("Name of these boundaries", value=file_name.rsplit(".", 1)[0], key="boundaries_name")
    replace = st.checkbox("Replace boundaries of the same name", key="boundaries_replace")
    if st.button("Store the boundaries", type="primary", key="boundaries_store", icon=":material/save:"):
        try:
            count = store.save_boundaries(data.cursor(), name, file_name, hashlib.sha256(content).hexdigest(), used, geojson,
                                          replace=replace)
        except REQUEST_ERRORS as error:
            st.error(escape_markdown(str(error)), icon=":material/error:")
            return
        data.forget_data_version()
        st.success(f"Stored {count} units as '{escape_markdown(name)}'. Now upload a data file keyed by these codes (choose 'Local units').",
                   icon=":material/check_circle:")


# ------------------------------------------------------------------------------ dataset manager


@st.cache_data(show_spinner=False)
def load_uploaded_datasets(version: str) -> pd.DataFrame:
    """core.store.fetch_uploaded_datasets, cached per data version."""
    return store.fetch_uploaded_datasets(data.cursor())


@st.cache_data(show_spinner=False)
def load_dataset_sample(name: str, version: str) -> pd.DataFrame:
    """The first observations of one dataset."""
    return store.fetch_dataset_sample(data.cursor(), name)


@st.cache_data(show_spinner=False)
def load_boundaries_list(version: str) -> pd.DataFrame:
    """Stored boundaries (name, file, code property, units, loaded at)."""
    return store.fetch_boundaries_list(data.cursor())
