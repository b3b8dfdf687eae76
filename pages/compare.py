"""Compare: two to four places side by side, progression, capacity and commitments; pinned views and presentation mode."""
import streamlit as st

from core import compare
from ui import compare_view, data, layout, state, treaty_view

selection = state.current_selection()
version = data.data_version()
places_table = compare_view.load_comparable_places(version)
names = dict(zip(places_table["geo"], places_table["geo_name"]))
problems = compare_view.init_state(selection, places_table["geo"].tolist(),
                                  dict(zip(places_table["geo"], places_table["rights"])))
deck = st.session_state[compare_view.DECK]

# ------------------------------------------------------------------------------ presentation mode
if st.session_state[compare_view.PRESENT]:
    st.markdown(compare_view.PRESENTATION_CSS, unsafe_allow_html=True)
    compare_view.render_link_problems(problems)  # a presenter must see that the link's views or places were not all used
    current = compare_view.current_view(selection)
    slides = deck or ([current.encode()] if current else [])
    if not slides:
        layout.empty_state("Nothing to present: choose two to four places, or pin views first.")
        st.button("Leave presentation mode", key="cmp_exit", on_click=compare_view.set_presentation, args=(False,))
        compare_view.write_url()
        st.stop()
    position = min(st.session_state[compare_view.SLIDE], len(slides))
    previous, counter, following, leave = st.columns([1, 3, 1, 1.2], vertical_alignment="center")
    previous.button("◀ Previous", key="cmp_previous", on_click=compare_view.step, args=(-1,), disabled=position <= 1,
                    width="stretch")
    counter.markdown(f"**View {position} of {len(slides)}** — {compare_view.describe_view(slides[position - 1])}")
    following.button("Next ▶", key="cmp_next", on_click=compare_view.step, args=(1,), disabled=position >= len(slides),
                     width="stretch")
    leave.button("Leave presentation", key="cmp_exit", on_click=compare_view.set_presentation, args=(False,), width="stretch")
    compare_view.render_view(slides[position - 1], version, large=True, key="slide")
    compare_view.write_url()
    st.stop()

# ------------------------------------------------------------------------------------ normal mode
st.title("Compare")
st.caption("Two to four places side by side for the right chosen in the sidebar: both groups' values and the gap, "
           "how the gap moved over the last ten years, each place judged against what its income allows, and the "
           "treaties it has ratified. The sidebar's right, indicator and year apply here; the comparison group, sex and "
           "age band are chosen for each indicator so that every place is compared alike.")
compare_view.render_link_problems(problems)

left, middle = st.columns([3, 1.4], vertical_alignment="bottom")
left.multiselect("Places (2 to 4)", places_table["geo"].tolist(), key=compare_view.PLACES, max_selections=compare.MAX_PLACES,
                 format_func=lambda code: names.get(code, code),
                 help="Countries, or a country and a regional aggregate such as EU27 (listed first). Places without data "
                      "for an indicator say so.")
middle.segmented_control("Indicators", ["all", "one"], key=compare_view.SCOPE, required=True,
                         format_func=lambda s: "All of the right" if s == "all" else "The sidebar's",
                         help="Every indicator of the right with data, or only the indicator chosen in the sidebar.")

view = compare_view.current_view(selection)
if view is None:
    layout.empty_state("Choose two to four places to compare." if selection.year is not None
                       else "This right has no indicator comparing migrants with their reference group yet.",
                       "Aggregates such as EU27 are listed first.")
    compare_view.write_url()
    st.stop()
encoded = view.encode()

pin, present, pdf_one, pdf_deck = st.columns(4, vertical_alignment="center")
pin.button("Pin this view", key="cmp_pin", on_click=compare_view.pin_view, args=(encoded,), icon=":material/push_pin:",
           disabled=encoded in deck, width="stretch", help="Add this view to the deck the presenter steps through.")
present.button("Presentation mode", key="cmp_present_on", on_click=compare_view.set_presentation, args=(True,),
               icon=":material/slideshow:", width="stretch",
               help="Hides the sidebar and controls, enlarges text and charts, one pinned view at a time.")
if pdf_one.button("PDF of this comparison", key="cmp_pdf_one", icon=":material/picture_as_pdf:", width="stretch"):
    with st.spinner("Drawing the PDF…"):
        st.session_state[compare_view.PDF_KEY] = {"views": [encoded], "bytes": compare_view.build_pdf([encoded], version)}
if pdf_deck.button(f"PDF of the deck ({len(deck)})", key="cmp_pdf_deck", icon=":material/picture_as_pdf:", disabled=not deck,
                   width="stretch"):
    with st.spinner("Drawing the PDF…"):
        st.session_state[compare_view.PDF_KEY] = {"views": list(deck), "bytes": compare_view.build_pdf(list(deck), version)}
prepared = st.session_state.get(compare_view.PDF_KEY)
if prepared and (prepared["views"] == [encoded] or prepared["views"] == deck):
    st.download_button(f"Download the PDF ({len(prepared['views'])} view{'s' if len(prepared['views']) > 1 else ''})",
                       prepared["bytes"], file_name="rightsgap_comparison.pdf", mime="application/pdf", key="cmp_pdf_download",
                       icon=":material/download:", type="primary")

if deck:
    with st.expander(f"Pinned views ({len(deck)}) — the link in the address bar reopens them all", expanded=True):
        for number, pinned in enumerate(deck, start=1):
            text, show, remove = st.columns([8, 1, 1], vertical_alignment="center")
            marker = "▶ " if number == st.session_state[compare_view.SLIDE] and pinned == encoded else ""
            text.markdown(f"{marker}**{number}.** {compare_view.describe_view(pinned)}")
            show.button("Show", key=f"cmp_show_{number}", on_click=compare_view.show_view, args=(number,), width="stretch")
            remove.button("Remove", key=f"cmp_remove_{number}", on_click=compare_view.remove_view, args=(number,), width="stretch")
        st.button("Clear the deck", key="cmp_clear", on_click=compare_view.clear_deck)

compare_view.write_url()
st.caption("Link to this deck and view (the address bar holds the same):")
st.code(compare_view.share_link(), language=None, wrap_lines=True)

st.markdown(f"**Progression**: the change of the disadvantage between the first and the last year of the ten years up to "
            f"the year shown. Under **{compare.STABLE_THRESHOLD_PP_PER_YEAR} pp a year** it is *stable* (about the sampling "
            f"error of year-on-year changes in Labour Force Survey rates for a mid-sized country); a widening disadvantage "
            f"is a **regression ▲** (red). At the current pace, *parity* is when a closing gap would reach zero.")
compare_view.render_view(encoded, version, key="cmp")

st.markdown("### Commitments worldwide")
treaty_view.render_world_map(list(view.places), key="cmp_treaty_map")
