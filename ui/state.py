"""The shared selection: sidebar widgets rendered by app.py on every page, kept in the URL.

Each widget has a key that is also its query parameter, holding codes (``?right=work&
indicator=work.employment_rate&year=2023``), so a copied link reopens the same view. Values survive
page switches because the widgets live in the app's frame, not in a page. (Streamlit's own
``bind="query-params"`` writes the displayed labels into the URL; we keep codes, which are short
and stable, by seeding the widgets from the URL and writing it back after each run.)
"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from core import geo, vocabulary
from ui import data, layout

#: Query-parameter names (= widget keys) of the shared selection.
KEYS = ("right", "indicator", "group", "dataset", "year", "sex", "age", "level", "country")
#: The selectors' labels (also naming a link's value that could not be used).
LABELS = {"right": "Right", "indicator": "Indicator", "group": "Comparison", "dataset": "Source dataset", "year": "Year",
          "sex": "Sex", "age": "Age band", "level": "Governance level", "country": "Country"}
PREFERRED_AGES = ("Y15-64", "Y25-64", "Y_GE16", "Y_GE18", "TOTAL", "not_stated")
DEFAULT_COUNTRY = "DEU"


@dataclass(frozen=True)
class Selection:
    """What the user chose. indicator/group/year/sex/age are None when the right has no data.

    dataset: the source dataset, when several hold the chosen indicator and comparison (an upload
    of the same indicator as an embedded source); None when there is only one.
    """

    right: str
    indicator: str | None
    group: str | None
    year: int | None
    sex: str | None
    age: str | None
    level: str
    country: str | None
    dataset: str | None = None

    @property
    def reference_group(self) -> str | None:
        """The group the migrant group is compared with (nationals or native-born)."""
        return vocabulary.REFERENCE_GROUPS.get(vocabulary.dimension_of(self.group)) if self.group else None


describe_age = vocabulary.describe_age


def lower_first(text: str) -> str:
    """'Born in another EU country' -> 'born in another EU country' (acronyms kept)."""
    return text[:1].lower() + text[1:]


def describe_group_pair(group: str) -> str:
    """'non_nationals' -> 'Non-nationals (all foreign citizens) vs nationals'."""
    reference = vocabulary.REFERENCE_GROUPS.get(vocabulary.dimension_of(group), "")
    return f"{vocabulary.POPULATION_GROUPS[group]} vs {lower_first(vocabulary.POPULATION_GROUPS.get(reference, reference))}"


@st.cache_data(show_spinner=False, max_entries=8)
def indicators_with_data(version: str) -> dict[str, list[str]]:
    """{right: [indicator codes with data, catalogue order]} for non-context indicators with gaps possible
    (cached per data version)."""
    summary = data.load_data_summary(version)
    comparable = summary["groups"].map(lambda groups: any(vocabulary.dimension_of(g) in vocabulary.REFERENCE_GROUPS for g in groups))
    with_data = set(summary.loc[(summary["values"] > 0) & comparable, "indicator"])  # not yes/no ratifications (no groups)
    by_right: dict[str, list[str]] = {}
    for indicator in data.load_catalogue():
        if indicator.code in with_data and not indicator.context:
            by_right.setdefault(indicator.right, []).append(indicator.code)
    return by_right


def _seed_from_url(key: str, options: list, parse=str) -> None:
    """Before a widget is drawn: take its value from the URL when the session has none yet, or when
    the URL now holds something else than what the app last wrote there (a link such as
    st.page_link(..., query_params=...) or an edited address: the URL wins).

    A value that is not among the options is ignored (the widget falls back to its default).
    """
    if key not in st.query_params:
        return
    written = st.session_state.get("_url_written", {})
    if key in st.session_state and key in written and st.query_params[key] == written[key]:
        return  # the URL holds what this app wrote: the widget's own value stands
    # Otherwise the value came from a link (the app writes nothing for a default value, so a value it
    # did not write is new even when the session already has one).
    raw = st.query_params[key]
    try:
        value = parse(raw)
    except (TypeError, ValueError):
        value = None
    if value in options:
        st.session_state[key] = value
    else:
        st.session_state.setdefault(_IGNORED, {})[key] = raw


_IGNORED = "_link_values_ignored"  # {key: text} of this run: values from the link that are not among the choices
_LAST_NOTICE = "_link_notice_of_this_run"  # the notice about them, as shown
_CARRIED_NOTICE = "_link_notice_carried"  # a notice to show again after open_explore's switch


def place_code(text: str) -> str:
    """A place in a link, in any common form ('fr', 'FR', 'France', 'FRA', 'EU27_2020'): its code in
    the store (ISO alpha-3 for a country); the text itself when it names no known place."""
    return geo.resolve_geo_code(text) or text


def _report_ignored_link_values(selection: "Selection") -> None:
    """Say above the page which values of the link were not used, and what is shown instead (a
    presenter opening a mistyped link should not mistake the default view for the one asked for)."""
    st.session_state.pop(_LAST_NOTICE, None)  # only this run's notice is carried by open_explore
    ignored = st.session_state.pop(_IGNORED, {})
    carried = st.session_state.pop(_CARRIED_NOTICE, None)  # shown by the run that opened /explore (open_explore)
    if carried:
        st.warning(carried, icon=":material/link_off:")
    if not ignored:
        return
    shown = []
    for key, text in ignored.items():
        instead = getattr(selection, key, None)
        shown.append(f"{LABELS[key].lower()} '{layout.escape_markdown(text[:40])}'"  # link text: shown, never rendered
                     + (f" (showing {layout.escape_markdown(instead)})" if instead is not None else ""))
    notice = "Not among the choices, so not used from the link: " + "; ".join(shown) + "."
    st.session_state[_LAST_NOTICE] = notice
    st.warning(notice, icon=":material/link_off:")


def _write_url(values: dict, defaults: dict) -> None:
    """Write the selection into the URL (codes, not labels), leaving out values equal to their default."""
    wanted = {key: str(value) for key, value in values.items() if value is not None and value != defaults.get(key)}
    st.session_state["_url_written"] = wanted
    for key in KEYS:
        if key in wanted:
            if st.query_params.get(key) != wanted[key]:
                st.query_params[key] = wanted[key]
        elif key in st.query_params:
            del st.query_params[key]


def _keep_valid(key: str, options: list) -> None:
    """Drop a remembered value that the new options no longer contain (e.g. after changing the right)."""
    if key in st.session_state and st.session_state[key] not in options:
        del st.session_state[key]


def _select(key: str, options: list, default, parse=str, **kwargs):
    _seed_from_url(key, options, parse)
    _keep_valid(key, options)
    if key not in st.session_state and default in options:
        st.session_state[key] = default
    return st.selectbox(LABELS[key], options, key=key, **kwargs)


def render_selectors(container=None) -> Selection:
    """Draw the shared selectors (in the sidebar by default), keep them in the URL, return the Selection.

    URL parameters (codes): right, indicator, group, year, sex, age, level, country.
    """
    container = container or st.sidebar
    try:
        version = data.data_version()
    except data.DatabaseUnavailable as error:
        st.error(str(error), icon=":material/database:")
        st.stop()
    catalogue = data.load_catalogue()
    by_right = indicators_with_data(version)
    rights = [r for r in vocabulary.RIGHTS if r in by_right] or list(vocabulary.RIGHTS)
    defaults: dict = {"right": "work" if "work" in rights else rights[0], "level": "national"}
    with container:
        right = _select("right", rights, defaults["right"], format_func=vocabulary.RIGHTS.get,
                        help="The right whose indicators you want to see. Only rights with data are listed; "
                             "the Catalogue lists every indicator, with or without data.")
        codes = by_right.get(right, [])
        defaults["indicator"] = codes[0] if codes else None
        indicator = _select("indicator", codes, defaults["indicator"],
                            format_func=lambda c: catalogue.get(c).title) if codes else None
        group = year = sex = age = dataset = None
        if indicator:
            options = data.load_indicator_options(indicator, version)
            groups = [g for g in options["groups"] if g not in vocabulary.REFERENCE_GROUPS.values() and g != "total"
                      and vocabulary.dimension_of(g) in vocabulary.REFERENCE_GROUPS]
            groups.sort(key=lambda g: (vocabulary.dimension_of(g) != "citizenship", list(vocabulary.POPULATION_GROUPS).index(g)))
            defaults["group"] = groups[0] if groups else None
            group = _select("group", groups, defaults["group"], format_func=describe_group_pair,
                            help="Which migrant group, compared with its reference group. Citizenship groups are "
                                 "compared with nationals, country-of-birth groups with the native-born; never across.") if groups else None
            if group:  # years, sexes and ages where this comparison has data: no empty choice is offered
                options = data.load_indicator_options(indicator, version, group)
            dataset = _select_dataset(options["datasets"], version, defaults)
            if dataset:  # years, sexes and ages of that source
                options = data.load_indicator_options(indicator, version, group, dataset)
            years = [int(y) for y in options["years"]]
            defaults["year"] = options["best_year"]
            year = _select("year", years, defaults["year"], parse=int,
                           help="Default: the latest year with the widest coverage of countries.") if years else None
            sexes = options["sexes"]
            defaults["sex"] = "T" if "T" in sexes else (sexes[0] if sexes else None)
            _seed_from_url("sex", sexes)
            _keep_valid("sex", sexes)
            if "sex" not in st.session_state and defaults["sex"]:
                st.session_state["sex"] = defaults["sex"]
            sex = st.segmented_control(LABELS["sex"], sexes, format_func=vocabulary.SEXES.get, key="sex", required=True) if sexes else None
            ages = options["ages"]
            defaults["age"] = next((a for a in PREFERRED_AGES if a in ages), ages[0] if ages else None)
            age = _select("age", ages, defaults["age"], format_func=describe_age) if ages else None
        levels = list(vocabulary.GOVERNANCE_LEVELS)
        _seed_from_url("level", levels)
        if "level" not in st.session_state:
            st.session_state["level"] = defaults["level"]
        level = st.segmented_control(LABELS["level"], levels, format_func=vocabulary.GOVERNANCE_LEVELS.get, key="level",
                                     required=True)
        places = data.load_places(version)
        countries = places.loc[places["geo_level"] == "national"].sort_values("geo_name")
        country_codes = countries["geo"].tolist()
        names = dict(zip(countries["geo"], countries["geo_name"]))
        defaults["country"] = DEFAULT_COUNTRY if DEFAULT_COUNTRY in country_codes else (country_codes[0] if country_codes else None)
        country = _select("country", country_codes, defaults["country"], parse=place_code,
                          format_func=lambda c: names.get(c, geo.name_of(c)),
                          help="Highlighted at the national level and shown on the Country profile.") if country_codes else None
    selection = Selection(right=right, indicator=indicator, group=group, year=int(year) if year is not None else None,
                          sex=sex, age=age, level=level or "national", country=country, dataset=dataset)
    _write_url({key: getattr(selection, key) for key in KEYS}, defaults)
    _report_ignored_link_values(selection)
    return selection


def _select_dataset(datasets: list[str], version: str, defaults: dict) -> str | None:
    """A 'Source dataset' choice when several datasets hold the indicator and comparison (e.g. an
    analyst uploaded newer figures of an embedded indicator): the gaps of one source at a time,
    never two values for one place. Default: the embedded source. Returns None when there is one."""
    if len(datasets) < 2:
        _seed_from_url("dataset", datasets)  # a link naming another source is reported as not used
        st.session_state.pop("dataset", None)
        return None
    described = data.load_datasets(version).set_index("name")
    kinds, producers = described["kind"].to_dict(), described["producer"].to_dict()
    ordered = sorted(datasets, key=lambda name: (kinds.get(name) != "embedded", name))
    defaults["dataset"] = ordered[0]

    def label(name: str) -> str:
        kind = "uploaded" if kinds.get(name) == "uploaded" else "embedded"
        producer = producers.get(name)
        return f"{name} ({kind}{', ' + producer if isinstance(producer, str) and producer else ''})"

    return _select("dataset", ordered, defaults["dataset"], format_func=label,
                   help="Several datasets hold this indicator. Gaps are shown for one source at a time, so that no "
                        "place has two values.")


#: Query parameter carrying the page to open once the router has run (see require_router).
ROUTE_PARAMETER = "open"


def require_router() -> None:
    """Make sure the page runs inside app.py's navigation; call first on every page.

    On a fresh server, until some session has run app.py, Streamlit treats the pages/ folder as
    stand-alone pages: a first visitor arriving by a deep link (/compare?places=...) would get the
    page without the router, its selectors or its state. Such a run is sent through app.py, with
    the page to open and every parameter of the link kept; app.py then switches to that page.
    """
    if "_selection" in st.session_state:
        return
    from urllib.parse import urlparse

    path = urlparse(st.context.url or "").path.strip("/").split("/")[-1]
    parameters = {key: st.query_params.get_all(key) for key in st.query_params}
    parameters[ROUTE_PARAMETER] = [path]
    st.switch_page("app.py", query_params={k: v[-1] for k, v in parameters.items()})


def open_requested_page(pages: list) -> None:
    """In app.py, after st.navigation: open the page a deep link asked for (see require_router)."""
    wanted = st.query_params.get(ROUTE_PARAMETER)
    if not wanted:
        return
    del st.query_params[ROUTE_PARAMETER]
    target = next((p for p in pages if p.url_path == wanted), None)
    if target is not None:
        st.switch_page(target, query_params={key: st.query_params.get(key) for key in st.query_params})


def open_explore() -> None:
    """The hidden page behind /explore: Explore lives at the app's root URL (the default page has no
    path of its own), so a typed or pasted /explore?... link opens it there, with the link's parameters,
    rather than Streamlit's "Page not found" dialog."""
    notice = st.session_state.pop(_LAST_NOTICE, None)
    if notice:  # the switch drops this run's page: the next run shows the notice about the link's values
        st.session_state[_CARRIED_NOTICE] = notice
    st.switch_page("pages/explore.py", query_params={key: st.query_params.get(key) for key in st.query_params})


def current_selection() -> Selection:
    """The Selection stored by app.py for this run (pages call this; app.py renders the widgets)."""
    require_router()
    return st.session_state["_selection"]
