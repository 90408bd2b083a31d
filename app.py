"""bayesdx app: enter what you know, watch the differential of leukopenia move.

Run with ``./dev app`` (``.venv/bin/streamlit run app.py``; localhost only, no
usage statistics, see .streamlit/config.toml). Widgets and layout only: the
numbers come from the bayesdx package (see src/bayesdx/ui/ for the pieces).

Research and teaching tool, not a medical device. Nothing entered is stored.
"""

from __future__ import annotations

import streamlit as st

from bayesdx.diagnosis import DISCLAIMER
from bayesdx.errors import KnowledgeError
from bayesdx.ui import analysis, entry, explanation, page, results, state
from bayesdx.ui.scenario import derive
from bayesdx.ui.link import values_to_params
from bayesdx.ui.share import case_yaml, evidence_to_query
from bayesdx.ui.spec import form_spec
from bayesdx.ui.values import values_to_case

st.set_page_config(page_title="bayesdx · causes of leukopenia", page_icon="🩸", layout="wide",
                   initial_sidebar_state="collapsed")
st.html(page.CSS)  # style only: no room taken; also loads the HTML element early (the ranking is one)

ANALYSES = {"Why?": analysis.why_panel, "Explanation": explanation.explanation_panel,
            "Next best test": analysis.next_tests_panel, "Sensitivity": analysis.sensitivity_panel}

try:
    model = state.get_model()
except KnowledgeError as exc:
    st.error("The knowledge files (model/, priors/) are invalid, so the model cannot be built. "
             "Fix these and reload the page:\n\n```\n" + str(exc) + "\n```")
    st.stop()

spec = form_spec(model.kb)
state.init_session(model)

values = entry.normalised(state.current_values(spec), spec)
direct = dict(st.session_state.get("bdx.direct") or {})
derived = derive(model, values, direct)
state.sync_url(derived.evidence, model.kb, values)

# ---------------------------------------------------------------- layout
# The skeleton is laid out first and filled in order of urgency: after a change
# the browser receives the ranking first, then the form, then the toolbar, then
# the ranking's credible intervals (when on) and the open analysis tab (the slow parts).
# Three columns, so that at 1366x768 the ranking, the Why of the chosen cause and the next
# best tests are read without scrolling: the form | the ranking | the analyses of the ranking.
head, tools = st.columns([1.2, 1.8], vertical_alignment="bottom")
flash = st.container(key="bdx-flash")  # always present, so the tabs below keep their place
left, mid, right = st.columns([1, 0.95, 1.05], gap="medium")

with mid:
    problems = st.container(key="bdx-problems")
    result = results.compute(model, derived.evidence)
    if not hasattr(result, "causes"):
        results.conflict_box(model, result)
    else:
        top = results.top_summary(model, result)
        results.safety_lines(model, result)
        add_intervals = results.ranking_panel(model, result, top)
if hasattr(result, "causes"):
    with right, st.container(key="bdx-analysis"):
        tabs = st.tabs([*ANALYSES, "A vs B", "Evidence used"], key="bdx.rtab", on_change="rerun")

with left, st.container(key="bdx-form"):  # hidden in print: printing gives the results, not a blank form
    entry.evidence_panel(model, spec, values, derived)

with problems:
    entry.problems_box(model, spec, derived)
with flash:
    page.flashes()
with head:
    page.note()
with tools, st.container(horizontal=True, horizontal_alignment="right"):
    st.button("Clear all evidence", key="bdx.clear", on_click=state.cb_clear, args=(model,),
              help="Every finding back to unknown", type="primary", icon=":material/clear_all:")
    pinned = "bdx.pin" in st.session_state
    st.button("Pin as A" if not pinned else "Re-pin A", key="bdx.pinbtn", on_click=state.cb_pin,
              args=(model,), help="Keep this scenario as A to compare with your changes (B)",
              icon=":material/push_pin:")
    if pinned:
        st.button("Back to A", key="bdx.restore", on_click=state.cb_restore, args=(model,),
                  icon=":material/undo:")
        st.button("Unpin", key="bdx.unpin", on_click=state.cb_unpin, type="tertiary", icon=":material/close:")
    page.case_file_controls(model, case_yaml(values_to_case(values, spec, direct), DISCLAIMER))
    page.share_controls({**evidence_to_query(derived.evidence, model.kb), **values_to_params(values, spec)})
    page.summary_controls(model, derived.evidence, page.entered_lines(derived.case))


# ---------------------------------------------------------------- slower panels, last
# The ranking's whiskers first (when switched on: bounded by a stated Monte-Carlo error,
# well under a second), then the open tab. Only the open tab is computed; the analyses
# run on their own engine and are cached.
if hasattr(result, "causes"):
    add_intervals()
    *analysis_tabs, whatif, used = tabs
    for tab, draw in zip(analysis_tabs, ANALYSES.values()):
        if tab.open:
            with tab:
                draw(model, result)
    if whatif.open:
        with whatif:
            results.whatif_panel(model, result)
    if used.open:
        with used:
            results.evidence_list(model, derived)

with st.expander("About this model"):
    st.markdown(f"**Reference population.** {model.kb.reference_population}")
    st.markdown(f"{len(model.net.causes)} causes, {len(model.net.findings)} findings, "
                f"{len(model.net.context)} context nodes; knowledge version `{model.kb.digest[:12]}`. "
                "Posteriors are exact (no sampling) unless the page says *Approximate ranking* (too many "
                "abnormal findings at once for the page's time budget: Gibbs sampling, with its error "
                "stated); the credible intervals draw the uncertain numbers of the model up to 1,000 times, "
                "until their ends are within about 2 percentage points. "
                "Share a scenario by copying the address bar; it holds the values you typed "
                "(`f.field=text`) and the evidence (`node=state`), no names.")

state.end_of_run()  # last: keeps the post-run garbage collection cheap
