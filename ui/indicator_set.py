"""My indicator set: the indicators a user picks, kept in the URL so that a copied link gives the same set.

The set lives in the query parameter ``set`` as comma-separated catalogue codes
(``?set=work.employment_rate,health.firewall_health_services``). At the start of a session the
parameter is read and checked against the catalogue (unknown codes are dropped and reported, repeats
are removed, the order is kept); afterwards the session holds the set and writes it back into the
URL on every run (app.py calls :func:`sync_with_url`), because switching pages clears parameters
the app does not write itself.

Any page can offer :func:`render_toggle_button` to add or remove one indicator.
"""
from __future__ import annotations

from collections.abc import Iterable

import streamlit as st

from ui import data

#: The query parameter holding the set.
SET_PARAM = "set"
_STATE_KEY = "_indicator_set"
_IGNORED_KEY = "_indicator_set_ignored"


def parse_set_param(text: str | None, known_codes: Iterable[str]) -> tuple[list[str], list[str]]:
    """Split the URL's set parameter into (valid codes, ignored codes).

    'a,b,,a, zzz' with known codes {a, b} -> (['a', 'b'], ['zzz']): blanks and spaces are dropped,
    a repeated code is kept once (first position), codes not in ``known_codes`` are returned apart
    so the page can say they were ignored.
    """
    known = set(known_codes)
    valid: list[str] = []
    ignored: list[str] = []
    for part in (text or "").split(","):
        code = part.strip()
        if not code:
            continue
        if code not in known:
            if code not in ignored:
                ignored.append(code)
        elif code not in valid:
            valid.append(code)
    return valid, ignored


def format_set_param(codes: Iterable[str]) -> str:
    """The set as the URL holds it: codes joined by commas, in order ('' for an empty set)."""
    return ",".join(codes)


def _write_url(codes: list[str]) -> None:
    text = format_set_param(codes)
    if text:
        if st.query_params.get(SET_PARAM) != text:
            st.query_params[SET_PARAM] = text
    elif SET_PARAM in st.query_params:
        del st.query_params[SET_PARAM]


def sync_with_url() -> None:
    """Read the set from the URL once per session, then keep the URL in step with it (call on every run)."""
    if _STATE_KEY not in st.session_state:
        codes, ignored = parse_set_param(st.query_params.get(SET_PARAM), data.load_catalogue().indicators)
        st.session_state[_STATE_KEY] = codes
        st.session_state[_IGNORED_KEY] = ignored
    _write_url(st.session_state[_STATE_KEY])


def current_set() -> list[str]:
    """The codes of the set, in the order they were added."""
    if _STATE_KEY not in st.session_state:
        sync_with_url()
    return list(st.session_state[_STATE_KEY])


def ignored_codes() -> list[str]:
    """Codes that the link held but the catalogue does not know (dropped from the set)."""
    return list(st.session_state.get(_IGNORED_KEY, []))


def add(code: str) -> None:
    """Add an indicator at the end of the set (nothing happens when it is already there).

    Raises KeyError naming the code when it is not in the catalogue.
    """
    data.load_catalogue().get(code)
    codes = current_set()
    if code not in codes:
        codes.append(code)
    st.session_state[_STATE_KEY] = codes
    _write_url(codes)


def add_many(codes: Iterable[str]) -> None:
    """Add several indicators at the end of the set, in the order given (see add)."""
    for code in codes:
        add(code)


def remove(code: str) -> None:
    """Remove an indicator from the set (nothing happens when it is not there)."""
    codes = [c for c in current_set() if c != code]
    st.session_state[_STATE_KEY] = codes
    _write_url(codes)


def clear() -> None:
    """Empty the set."""
    st.session_state[_STATE_KEY] = []
    st.session_state[_IGNORED_KEY] = []
    _write_url([])


def _toggle(code: str) -> None:
    if code in current_set():
        remove(code)
    else:
        add(code)


def render_toggle_button(code: str, key: str, container=None) -> None:
    """A small button that adds the indicator to the set, or removes it when it is already there."""
    target = container or st
    in_set = code in current_set()
    target.button("Remove from my set" if in_set else "Add to my set", key=key, on_click=_toggle, args=(code,),
                  icon=":material/playlist_remove:" if in_set else ":material/playlist_add:",
                  help=("This indicator is in your set (see the page 'My indicator set'). Click to take it out."
                        if in_set else "Add this indicator to your set; export the set from the page 'My indicator set'. "
                                       "The set is kept in the link, so a copied link gives a colleague the same set."))
