"""The Compare page's state, cached loaders and rendering (the page script stays a list of calls).

State (session keys, each mirrored in one URL parameter so that a link reopens the whole deck):
- ``cmp_places`` -> ``places=DEU,FRA,EU27_2020``: the places of the current view (2-4);
- ``cmp_scope`` -> ``scope=one``: one indicator (the sidebar's) instead of every indicator of the right;
- ``cmp_deck`` -> ``deck=work~all~2023~DEU,FRA!health~...``: the pinned views (core.compare.encode_deck);
- ``cmp_slide`` -> ``slide=2``: the pinned view shown (1-based);
- ``cmp_present`` -> ``present=1``: presentation mode.
The right, indicator and year of the current view are the shared sidebar's (``right``,
``indicator``, ``year`` in the URL); showing a pinned view sets them.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core import capacity, compare, compare_charts, report, vocabulary
from ui import data, state, treaty_view
from ui.layout import escape_markdown

PLACES, SCOPE, DECK, SLIDE, PRESENT = "cmp_places", "cmp_scope", "cmp_deck", "cmp_slide", "cmp_present"
URL_NAMES = {PLACES: "places", SCOPE: "scope", DECK: "deck", SLIDE: "slide", PRESENT: "present"}
PDF_KEY = "cmp_pdf"
PREFERRED_PARTNERS = ("FRA", "DEU", "ITA", "ESP", "SWE")

PRESENTATION_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stSidebarNav"],
header[data-testid="stHeader"], [data-testid="stToolbar"] { display: none !important; }
[data-testid="stMainBlockContainer"], .block-container { padding-top: 1.2rem !important; max-width: 100% !important; }
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li, [data-testid="stCaptionContainer"] { font-size: 1.3rem !important; }
h1 { font-size: 2.6rem !important; } h2, h3 { font-size: 2.0rem !important; }
[data-testid="stTable"] table, [data-testid="stTable"] th, [data-testid="stTable"] td { font-size: 1.15rem !important; }
</style>
"""


# ------------------------------------------------------------------------------------------ state


def _from_url(name: str) -> str | None:
    value = st.query_params.get(name)
    return value if value else None


def init_state(selection, places_available: list[str], rights_of: dict[str, list[str]] | None = None) -> list[str]:
    """Seed the page's session keys from the URL (first run of a session) or defaults.

    rights_of: {place: [rights with a comparison there]} (core.compare.fetch_comparable_places), so
    that the default places have data for the sidebar's right.
    Returns the problems found in the URL (e.g. a pinned view that does not parse, a place named
    twice), for the page to show.
    """
    problems: list[str] = []
    if PLACES not in st.session_state:
        named = [state.place_code(p.strip()) for p in (_from_url("places") or "").split(",") if p.strip()]  # 'fr', 'France' ...
        wanted = list(dict.fromkeys(named))  # each place once, in the link's order
        repeated = sorted({p for p in named if named.count(p) > 1})
        if repeated:
            problems.append(f"places named more than once, kept once: {', '.join(repeated)}")
        unknown = [p for p in wanted if p not in places_available]
        if unknown:
            problems.append(f"places not in the data left out: {', '.join(unknown)}")
        chosen = [p for p in wanted if p in places_available]
        if len(chosen) > compare.MAX_PLACES:
            problems.append(f"at most {compare.MAX_PLACES} places: {', '.join(chosen[compare.MAX_PLACES:])} left out")
            chosen = chosen[: compare.MAX_PLACES]
        if named and len(chosen) < compare.MIN_PLACES:
            problems.append(f"a comparison needs {compare.MIN_PLACES} to {compare.MAX_PLACES} places; the default places are shown")
        st.session_state[PLACES] = chosen if len(chosen) >= compare.MIN_PLACES else default_places(selection, places_available,
                                                                                                    rights_of)
    if SCOPE not in st.session_state:
        st.session_state[SCOPE] = "one" if _from_url("scope") == "one" else "all"
    if DECK not in st.session_state:
        views, deck_problems = compare.decode_deck(_from_url("deck"))
        problems += deck_problems
        st.session_state[DECK] = [view.encode() for view in views]
    if SLIDE not in st.session_state:
        slide = _from_url("slide") or "1"
        st.session_state[SLIDE] = int(slide) if slide.isdigit() else 1
    if PRESENT not in st.session_state:
        st.session_state[PRESENT] = _from_url("present") == "1"
    deck = st.session_state[DECK]
    st.session_state[SLIDE] = min(max(1, st.session_state[SLIDE]), max(1, len(deck)))
    return problems


def render_link_problems(problems: list[str]) -> None:
    """What init_state found in the link and did not use, one warning each (link text escaped: shown, never rendered)."""
    for problem in problems:
        st.warning(f"From the link: {escape_markdown(problem)}", icon=":material/warning:")


def default_places(selection, places_available: list[str], rights_of: dict[str, list[str]] | None = None) -> list[str]:
    """The sidebar's country, a neighbour to compare with, and EU27 when it has data for the sidebar's
    right (else a third country), so that no column of a first view is empty."""
    def has_data(place: str) -> bool:
        return place in places_available and (rights_of is None or selection.right in rights_of.get(place, []))

    first = selection.country if has_data(selection.country) else next(
        (p for p in PREFERRED_PARTNERS if has_data(p)), places_available[0])
    partners = [p for p in PREFERRED_PARTNERS if has_data(p) and p != first]
    places = [first] + partners[:1]
    if has_data("EU27_2020"):
        places.append("EU27_2020")
    elif len(partners) > 1:
        places.append(partners[1])
    return places


def write_url() -> None:
    """Mirror the page's state into the URL (leaving out defaults: scope all, slide 1, no deck)."""
    wanted = {
        "places": ",".join(st.session_state.get(PLACES, [])),
        "scope": "one" if st.session_state.get(SCOPE) == "one" else None,
        "deck": compare.encode_deck([compare.decode_view(v) for v in st.session_state.get(DECK, [])]) or None,
        "slide": str(st.session_state.get(SLIDE, 1)) if st.session_state.get(DECK) and st.session_state.get(SLIDE, 1) != 1 else None,
        "present": "1" if st.session_state.get(PRESENT) else None,
    }
    for name, value in wanted.items():
        if value:
            if st.query_params.get(name) != value:
                st.query_params[name] = value
        elif name in st.query_params:
            del st.query_params[name]


def current_view(selection) -> compare.View | None:
    """The view built from the sidebar (right, indicator, year) and the page's places and scope;
    None when the places are not 2-4 or the right has no data."""
    places = st.session_state.get(PLACES, [])
    if not compare.MIN_PLACES <= len(places) <= compare.MAX_PLACES or selection.year is None:
        return None
    indicator = selection.indicator if st.session_state.get(SCOPE) == "one" else None
    return compare.View(tuple(places), selection.right, indicator, int(selection.year))


def share_link() -> str:
    """The page's address with the query string that reopens this deck and view (relative link)."""
    parts = [f"{name}={value}" for name, value in st.query_params.to_dict().items()]
    return "/compare" + ("?" + "&".join(parts) if parts else "")


# ------------------------------------------------------------------------------------ callbacks


def pin_view(encoded: str) -> None:
    """Add a view to the deck (once) and make it the current slide."""
    deck = list(st.session_state.get(DECK, []))
    if encoded not in deck:
        deck.append(encoded)
    st.session_state[DECK] = deck
    st.session_state[SLIDE] = deck.index(encoded) + 1
    st.session_state.pop(PDF_KEY, None)


def remove_view(position: int) -> None:
    """Remove the pinned view at 1-based position."""
    deck = list(st.session_state.get(DECK, []))
    if 1 <= position <= len(deck):
        deck.pop(position - 1)
    st.session_state[DECK] = deck
    st.session_state[SLIDE] = min(st.session_state.get(SLIDE, 1), max(1, len(deck)))


def clear_deck() -> None:
    """Remove every pinned view."""
    st.session_state[DECK] = []
    st.session_state[SLIDE] = 1


def show_view(position: int) -> None:
    """Load a pinned view into the controls: the sidebar's right, indicator and year, the places, the scope."""
    deck = st.session_state.get(DECK, [])
    if not 1 <= position <= len(deck):
        return
    view = compare.decode_view(deck[position - 1])
    st.session_state["right"] = view.right
    if view.indicator:
        st.session_state["indicator"] = view.indicator
    st.session_state["year"] = view.year
    st.session_state[PLACES] = list(view.places)
    st.session_state[SCOPE] = "one" if view.indicator else "all"
    st.session_state[SLIDE] = position


def step(offset: int) -> None:
    """Next (+1) or previous (-1) pinned view, within the deck."""
    deck = st.session_state.get(DECK, [])
    st.session_state[SLIDE] = min(max(1, st.session_state.get(SLIDE, 1) + offset), max(1, len(deck)))


def set_presentation(on: bool) -> None:
    """Enter or leave presentation mode; leaving it loads the slide shown into the controls."""
    st.session_state[PRESENT] = on
    if not on and st.session_state.get(DECK):
        show_view(st.session_state.get(SLIDE, 1))


# ---------------------------------------------------------------------------------------- loaders


@st.cache_data(show_spinner=False)
def load_comparable_places(version: str) -> pd.DataFrame:
    """core.compare.fetch_comparable_places, cached per data version."""
    return compare.fetch_comparable_places(data.cursor(), data.load_catalogue())


@st.cache_data(show_spinner="Comparing…", max_entries=64)
def load_comparison(encoded_view: str, version: str) -> list[compare.IndicatorComparison]:
    """core.compare.fetch_comparison for one encoded view, cached per data version."""
    return compare.fetch_comparison(data.cursor(), compare.decode_view(encoded_view), data.load_catalogue())


@st.cache_data(show_spinner=False, max_entries=64)
def load_frontier(indicator: str, sex: str, age: str, version: str) -> capacity.Frontier | None:
    """The frontier of one indicator, sex and age band (None when it cannot be built)."""
    from core import queries

    entry = queries.fetch_indicator(data.cursor(), indicator, data.load_catalogue())
    observations = queries.fetch_observations(data.cursor(), indicator, sex=sex, age=age)
    try:
        return capacity.compute_frontiers(observations, capacity.fetch_gdp(data.cursor()), entry["polarity"], entry["unit"]).get((sex, age))
    except capacity.CapacityError:
        return None


@st.cache_data(show_spinner=False, max_entries=128)
def load_figures(encoded_view: str, number: int, version: str, large: bool) -> tuple:
    """The comparison and progression figures of the view's indicator at position ``number``
    (cached: stepping back and forth through a deck redraws nothing)."""
    comparison = load_comparison(encoded_view, version)[number]
    font = 20 if large else 14
    return (compare_charts.build_comparison_chart(comparison, font_size=font, row_height=62 if large else 46),
            compare_charts.build_progression_chart(comparison, compare.STABLE_THRESHOLD_PP_PER_YEAR, font_size=font - 1,
                                                   height=400 if large else 300))


def build_pdf(encoded_views: list[str], version: str) -> bytes:
    """The PDF of these views (core.report.build_comparison_pdf)."""
    datasets = data.load_datasets(version)
    sources = dict(zip(datasets["name"], datasets["source"]))
    sections = []
    for encoded in encoded_views:
        view = compare.decode_view(encoded)
        sections.append(report.ReportSection(view, load_comparison(encoded, version), treaty_view.load_commitments(view.places),
                                             sources))
    return report.build_comparison_pdf(sections, compare.STABLE_THRESHOLD_PP_PER_YEAR)


# -------------------------------------------------------------------------------------- rendering


def describe_view(encoded: str) -> str:
    """'Decent work · Employment rate … · 2023 · Germany, France, EU27' for the deck list."""
    view = compare.decode_view(encoded)
    catalogue = data.load_catalogue()
    what = catalogue.get(view.indicator).title if view.indicator and view.indicator in catalogue else "all indicators"
    places = ", ".join(compare_charts.short_place_name(p) for p in view.places)
    return f"{vocabulary.RIGHTS[view.right]} · {what} · up to {view.year} · {places}"


def _pace(row) -> str:
    if not isinstance(row.get("status"), str) or row.get("change_per_year") is None or pd.isna(row.get("change_per_year")):
        return ""
    unit = "pp" if row.get("measure") == "pp" else "pts"
    return f" ({row['change_per_year']:+.2f} {unit}/yr since {int(row['first_year'])})"


def scores_table(comparison: compare.IndicatorComparison) -> pd.DataFrame:
    """The table under an indicator's charts: one row per place (and sex) with both values, the
    disadvantage, the progression and years to parity, both capacity scores and the capacity gap,
    as text so that missing values read '—'."""
    from core import charts

    rows = comparison.rows
    unit = comparison.unit
    multiple = len(comparison.breakdown["sexes"]) > 1
    reference = compare_charts.SHORT_GROUP_NAMES[comparison.breakdown["reference_group"]]
    group = compare_charts.SHORT_GROUP_NAMES[comparison.breakdown["group"]]

    def number(value, pattern: str) -> str:
        return pattern.format(value) if value is not None and not pd.isna(value) else "—"

    table = pd.DataFrame({
        "Place": [compare_charts.short_place_name(g) + (f" · {compare_charts.SEX_WORDS[s]}" if multiple else "")
                  for g, s in zip(rows["geo"], rows["sex"])],
        "Year": [number(y, "{:.0f}") for y in rows["year"]],
        reference: [charts.format_value(v, unit) for v in rows["reference_value"]],
        group: [charts.format_value(v, unit) for v in rows["value"]],
        "Disadvantage": [charts.format_difference(v, unit) for v in rows["disadvantage"]],
        "Progression": [(compare_charts.short_status(row) + _pace(row)) if pd.notna(row["value"]) else row["note"]
                        for _, row in rows.iterrows()],
        f"Score {reference.lower()}": [number(v, "{:.0f}") for v in rows["score_reference"]],
        f"Score {group.lower()}": [number(v, "{:.0f}") for v in rows["score_group"]],
        "Capacity gap": [number(v, "{:+.1f}") for v in rows["capacity_gap"]],
        "GDP per capita": [number(v, "{:,.0f} int.$").replace(",", " ") for v in rows["gdp_per_capita_ppp"]],
    })
    return table


def render_indicator(comparison: compare.IndicatorComparison, large: bool, key: str, version: str,
                     show_frontier: bool = False, figures: tuple | None = None) -> None:
    """One indicator: title, the comparison chart, the progression chart, the table, sources.
    figures: (comparison figure, progression figure) when already built (see load_figures)."""
    font = 20 if large else 14
    st.markdown(f"### {comparison.title}")
    reference = vocabulary.POPULATION_GROUPS[comparison.breakdown["reference_group"]]
    group = vocabulary.POPULATION_GROUPS[comparison.breakdown["group"]]
    sexes = comparison.breakdown["sexes"]
    st.caption(f"**{group}** compared with **{reference.lower()}** · "
               + ("women and men separately (the source has no total)" if len(sexes) > 1 else "both sexes")
               + " · the latest year both groups have, up to the year chosen · "
               + ("higher is better" if comparison.polarity == "higher_is_better" else "lower is better"))
    file_stem = f"rightsgap_{comparison.code}_{'_'.join(dict.fromkeys(comparison.rows['geo']))}"
    if figures is None:
        figures = (compare_charts.build_comparison_chart(comparison, font_size=font, row_height=62 if large else 46),
                   compare_charts.build_progression_chart(comparison, compare.STABLE_THRESHOLD_PP_PER_YEAR,
                                                          font_size=font - 1, height=400 if large else 300))
    st.plotly_chart(figures[0], key=f"{key}_values", config=compare_charts.png_config(file_stem))
    st.plotly_chart(figures[1], key=f"{key}_progression", config=compare_charts.png_config(file_stem + "_progression"))
    regressions = comparison.rows.loc[comparison.rows.get("regression", pd.Series(dtype=bool)).fillna(False).astype(bool)]
    if not regressions.empty:
        names = ", ".join(compare_charts.short_place_name(g) for g in dict.fromkeys(regressions["geo"]))
        st.error(f"Regression: the disadvantage of migrants widened in {names} (▲).", icon=":material/trending_up:")
    if large:  # an HTML table: its text grows with the presentation style (a data grid draws on a canvas)
        st.table(scores_table(comparison).set_index("Place"))
    else:
        st.dataframe(scores_table(comparison), hide_index=True, width="stretch", key=f"{key}_table",
                     column_config={"Capacity gap": st.column_config.TextColumn(
                         "Capacity gap", help="Score of the reference group minus the score of the migrant group, in points "
                                              "of the frontier at the country's GDP per capita (> 0: migrants further from "
                                              "what the country's income allows)."),
                                    "Progression": st.column_config.TextColumn(
                                        "Progression", help=f"Change of the disadvantage over the ten years up to the year "
                                                            f"shown; under {compare.STABLE_THRESHOLD_PP_PER_YEAR} pp a year: "
                                                            f"stable; ▲ regression: a widening disadvantage.")})
    notes = [f"{compare_charts.short_place_name(geo)}: {note}"
             for geo, note in zip(comparison.rows["geo"], comparison.rows["score_note"]) if isinstance(note, str) and note]
    notes = list(dict.fromkeys(notes))
    countries = comparison.frontier_countries
    if countries:
        st.caption(f"Scores: % of the achievement possibilities frontier at the country's GDP per capita (the best any of "
                   f"{countries} countries achieved for its population at that income, in any year); the frontier rests on "
                   f"{len(comparison.frontier_support)} of them ({', '.join(compare_charts.short_place_name(g) for g in comparison.frontier_support)})."
                   + (" Note — " + "; ".join(notes) + "." if notes else "")
                   + " GDP per capita: Source: World Bank, World Development Indicators (CC BY 4.0).")
    sources = data.load_datasets(version)
    attribution = " · ".join(sources.set_index("name")["source"].get(d, d) for d in comparison.datasets)
    if attribution:
        st.caption(attribution)
    if show_frontier and countries:
        with st.expander("The frontier behind the scores", expanded=False):
            frontier = load_frontier(comparison.code, comparison.breakdown["sexes"][0], comparison.breakdown["age"], version)
            if frontier is not None:
                rows = comparison.rows.loc[comparison.rows["sex"] == comparison.breakdown["sexes"][0]]
                st.plotly_chart(compare_charts.build_frontier_chart(frontier, rows, font_size=font - 1),
                                key=f"{key}_frontier", config=compare_charts.png_config(file_stem + "_frontier"))


def render_view(encoded: str, version: str, large: bool = False, key: str = "cmp") -> list[compare.IndicatorComparison]:
    """Everything a view shows: every indicator's charts and table, then the commitments."""
    view = compare.decode_view(encoded)
    comparisons = load_comparison(encoded, version)
    incomes = load_income_groups().set_index("geo")["income_group"]
    described = [f"{compare_charts.short_place_name(geo)}: {incomes[geo]}" for geo in view.places if incomes.get(geo)]
    if described:
        st.caption("World Bank income group — " + " · ".join(described) + ". Capacity scores use each country's GDP per "
                   "capita, PPP, of the year shown (Source: World Bank, World Development Indicators, CC BY 4.0).")
    if not comparisons:
        st.info("No indicator of this right compares migrants with their reference group for these places. "
                "Choose another right or other places.", icon=":material/info:")
    for number, comparison in enumerate(comparisons):
        render_indicator(comparison, large, key=f"{key}_{number}", version=version, show_frontier=view.indicator is not None,
                         figures=load_figures(encoded, number, version, large))
    st.markdown("### Commitments: treaties ratified")
    treaty_view.render_places_commitments(view.places, view.right, large, key=f"{key}_commitments")
    return comparisons


@st.cache_data(show_spinner=False)
def load_income_groups() -> pd.DataFrame:
    """core.capacity.load_income_groups (geo, name, region, income_group)."""
    return capacity.load_income_groups()


@st.cache_data(show_spinner=False)
def load_frontier_summary(version: str) -> pd.DataFrame:
    """core.capacity.summarise_frontiers, cached per data version."""
    return capacity.summarise_frontiers(data.cursor(), data.load_catalogue())


def render_capacity_method(version: str) -> None:
    """The Sources and method page's section on capacity scores, progression and commitments:
    the method, its sources, and its limits measured on the data (how few countries each frontier
    rests on)."""
    st.markdown("### Capacity: each state judged against its own resources")
    st.markdown(
        """
The Compare page scores migrants and their reference group against **what the country's income allows**, as the
Protocol of San Salvador's progress indicators ask ("each country moves at its own pace") and as the **SERF Index**
(Randolph, Fukuda-Parr and Lawson-Remer, *Journal of Human Rights* 9(3), 2010) and the **Human Rights Measurement
Initiative** (HRMI) do for economic and social rights.

- **Achievement scale.** Higher is better: an indicator where lower is better is inverted first (an unemployment rate
  of 7% becomes 93% not unemployed).
- **Achievement possibilities frontier.** For each outcome indicator, sex and age band: the best value any country
  achieved *for its whole population or its reference group* (nationals, native-born) at each level of GDP per capita,
  PPP (constant 2021 international $, World Bank), over every year in the store — the least **increasing, concave**
  curve in the logarithm of GDP per capita lying on or above all those points (the upper convex hull, computed with
  qhull through scipy). Values flagged `u` (low reliability) and regional aggregates do not shape it; migrant groups
  are scored against it but do not shape it either (a small group can reach values no state reaches for its
  population).
- **Score** = the group's achievement as a **percentage of the frontier at its country's GDP per capita** in the same
  year (0-100; a value above the frontier — a migrant group, or an aggregate such as EU27 — is capped at 100 and said so).
  A country on the frontier scores 100.
- **Capacity gap** = score of the reference group − score of the migrant group, in points (> 0: migrants further from
  what the country's income allows). It is shown beside the plain gap, not instead of it.
- **Command line:** `python -m core capacity --indicator CODE [--geo G] [--year Y] --format json`.
"""
    )
    summary = load_frontier_summary(version)
    if not summary.empty:
        st.markdown("**Limits — how few countries each frontier rests on** (measured on the data in the store):")
        shown = pd.DataFrame({
            "Indicator": summary["title"], "Sex": summary["sex"], "Age band": summary["age"],
            "Countries (points)": [f"{c} ({p})" for c, p in zip(summary["countries"], summary["points"])],
            "Frontier rests on": [f"{n}: " + ", ".join(names) for n, names in zip(summary["support"], summary["countries_on_frontier"])],
            "GDP per capita covered (int.$)": [f"{low:,.0f} – {high:,.0f}".replace(",", " ") for low, high in
                                               zip(summary["gdp_min"], summary["gdp_max"])],
        })
        st.dataframe(shown, hide_index=True, width="stretch", key="capacity_limits",
                     column_config={"Indicator": st.column_config.TextColumn("Indicator", width="large"),
                                    "Frontier rests on": st.column_config.TextColumn("Frontier rests on", width="large")})
    st.markdown(
        """
- The frontier says what **European** countries achieved at their income (the Eurostat data cover about 36
  countries, from about 11 000 to 140 000 international $): it says nothing of what is feasible at lower incomes, and
  below the poorest point it is undefined (no score).
- It rests on a handful of countries at its vertices; one unusual year can lift it, and it moves when data are added.
- GDP per capita says nothing about how income is shared, nor about migrants' own resources; amounts in EUR are
  nominal; purchasing power parities are revised with each comparison round.

### Progression and years to parity
The disadvantage in the first and the last year of the ten years up to the year shown: **closing**, **widening** or
**stable** (under 0.2 pp a year), and **reversed** when it changed sign; a widening disadvantage is a **regression**.
At the current pace, the years to parity are the last disadvantage divided by the yearly pace, where the gap is
closing; when the gap changed sign within the window, the year it crossed zero is interpolated. For amounts (EUR) the
same rules apply to the disadvantage as a percentage of the reference group's value.

### Commitments (structural indicators)
Ratification of the Migrant Workers Convention (ICMW), the ICESCR, the CRC, CEDAW and ICERD from the **United Nations
Treaty Collection** (status of the 193 UN member states as extracted in **August 2022**), and of the **ILO Domestic
Workers Convention (C189)** from the list of its 30 states parties **as of 5 October 2020**. Each is linked in the
catalogue to the right and attribute it bears on. Ratification says nothing of how a treaty is applied, and
reservations (which can narrow duties towards non-nationals) are not captured. Where the extract's 0/1 column
contradicts the status and year (Moldova, ICESCR), the status is kept.
"""
    )
