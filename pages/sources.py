"""Sources and method: every data source with its licence and attribution, and the gap rules in plain words."""
import streamlit as st

from core import vocabulary
from ui import compare_view, data, state

state.require_router()  # a deep link on a fresh server goes through app.py first

version = data.data_version()
st.title("Sources and method")

st.markdown("### Data sources")
datasets = data.load_datasets(version)
shown = datasets.rename(columns={"name": "Dataset", "title": "What", "producer": "Producer", "producer_type": "Official or civil society",
                                 "source": "Attribution", "licence": "Licence", "as_of": "As of", "row_count": "Observations",
                                 "kind": "Kind", "url": "Link"})
st.dataframe(shown[["Dataset", "What", "Producer", "Official or civil society", "Kind", "Attribution", "Licence", "As of", "Observations", "Link"]],
             hide_index=True, width="stretch", key="sources_table",
             column_config={"Link": st.column_config.LinkColumn("Link", display_text="publisher page")})
st.markdown(
    """
- **Eurostat** figures: © European Union, reused under **CC BY 4.0**. Each figure shows "Source: Eurostat, dataset CODE".
- **UN DESA**: United Nations, Department of Economic and Social Affairs, Population Division, *International Migrant Stock 2020* — **CC BY 3.0 IGO**.
- **Boundaries**: Natural Earth 1:50m admin-0 countries (public domain), via the npm package world-atlas 2.0.2 (ISC), simplified and split at the 180th meridian by the project's `scripts/build_boundaries.py`. Maps are drawn with no outside requests.
- The figures are derived from the published files by `scripts/build_embedded_data.py` with the project's own readers; flags are kept letter by letter and missing values stay missing.
"""
)

st.markdown("### How a gap is computed")
st.markdown(
    """
- **Who is compared.** Migrants are compared with their *reference group* within one dimension only: non-nationals
  (and EU / non-EU citizens) with **nationals**; the foreign-born (and those born in another EU country / outside the EU)
  with the **native-born**. A citizenship group is never compared with a country-of-birth group.
- **Like with like.** Same indicator, source dataset, place, year, sex, age band and unit.
- **Which year.** A chosen year compares that year. "Latest" uses the latest year *both* groups have; if they share
  no year, there is no gap and the page says so.
- **No value, no gap.** A missing value, a confidential one (flag `c`) or a not-applicable one (`z`, or the legacy `-`)
  gives no gap; it is never read as 0. A real 0.0 is a value.
- **Low reliability.** A value flagged `u` gives a gap that carries the flag; charts fade it and mark it, and tooltips say why.
- **Measures**, with M the migrant group's value and N the reference group's:
  - *difference* `M − N`, in **percentage points (pp)** for rates in %;
  - *ratio* `M / N` (undefined when N = 0);
  - *relative gap* `100 × (M − N) / N`, in %;
  - *disadvantage*: the difference signed so that **positive always means migrants are worse off**
    (`M − N` when lower is better, e.g. unemployment; `N − M` when higher is better, e.g. employment).
  - where standard errors or confidence bounds are given: SE of the difference `√(se_M² + se_N²)`,
    95% interval `D ± 1.96·SE`; the ratio's interval is computed on the log scale (as in WHO's HEAT).
- **Aggregates** (EU27, euro area) are regional figures: they are shown beside their members, never ranked with them;
  each ranking says how many countries it covers.
- **Trend.** The change of the disadvantage between two years. A widening disadvantage is a **regression**
  (what treaty bodies call retrogression); changes under 0.2 pp a year are treated as stable, about the sampling
  error of year-on-year changes in Labour Force Survey rates for a mid-sized country.
"""
)

st.markdown("### Flags (Eurostat observation status)")
st.dataframe([{"Flag": letter, "Meaning": meaning} for letter, meaning in vocabulary.FLAGS.items()],
             hide_index=True, key="flags_table")

st.markdown("### The framework")
st.markdown(
    """
Indicators follow the UN human rights office's framework (OHCHR, *Human Rights Indicators: A Guide to Measurement
and Implementation*, 2012) as adapted for migrants by the OHCHR–KNOMAD expert meeting (Geneva, 2014) and KNOMAD
Working Paper 5 (2015): each right is split into **attributes**, each measured by **structural** (commitments),
**process** (efforts) and **outcome** (results) indicators, each with a **metadata sheet**.
"""
)

compare_view.render_capacity_method(version)  # capacity scores, progression, commitments (Compare page)
