"""Page furniture: the style sheet, the disclaimer, one-shot messages, the case-file and share popovers."""

from __future__ import annotations

import streamlit as st

from ..diagnosis import DISCLAIMER, Model
from . import state
from .ranking import RANKING_CSS

__all__ = ["CSS", "PRIVACY", "TITLE", "case_file_controls", "entered_lines", "flashes", "note", "share_controls",
           "summary_controls"]

CSS = """<style>""" + RANKING_CSS + """
.block-container {padding: 0.6rem 1.5rem 1rem 1.5rem; max-width: 100%;}
/* the analyses' tabs: six titles on one line in a third of a laptop screen */
.st-key-bdx-analysis [role="tablist"], .st-key-bdx-form [role="tablist"] {gap: 0.6rem;}
.st-key-bdx-analysis [data-testid="stTab"] p, .st-key-bdx-form [data-testid="stTab"] p {font-size: 0.8rem;}
.st-key-bdx-top p {font-size: 0.95rem !important; line-height: 1.45;}
[data-testid="stHeader"] {height: 0; min-height: 0;}
.bdx-title {font-size: 1.3rem; font-weight: 700; line-height: 1.5; margin: 0;}
/* the chart toolbar would cover the text above a chart; the numbers are in the tables */
[data-testid="stElementContainer"]:has([data-testid="stVegaLiteChart"]) [data-testid="stElementToolbar"] {
  display: none;}
@media print {  /* printing the page: the summary, not the form */
  .st-key-bdx-form, [data-testid="stHeader"], .stButton, [data-testid="stPopover"],
  [data-testid="stToolbar"], .st-key-bdx-direct {display: none !important;}
  [data-testid="stColumn"]:has(.st-key-bdx-form) {display: none !important;}
  [data-testid="stColumn"] {width: 100% !important; flex: 1 1 100% !important;}
}
/* three-state findings: compact, and coloured by the chosen state */
.stElementContainer[class*="st-key-w-"] [data-variant="segmented_control"] {
  min-height: 1.75rem; padding: 0 0.55rem;}
.stElementContainer[class*="st-key-w-"] [data-variant="segmented_control"] p {font-size: 0.8rem;}
.stElementContainer[class*="st-key-w-"] [data-testid="stWidgetLabel"] p {font-size: 0.85rem;}
.stElementContainer[class*="st-key-w-"] [data-variant="segmented_control"]:nth-child(1)[aria-checked="true"] {
  background: #fdecea; border-color: #c62828; color: #b71c1c;}
.stElementContainer[class*="st-key-w-"] [data-variant="segmented_control"]:nth-child(2)[aria-checked="true"] {
  background: #e8f5e9; border-color: #2e7d32; color: #1b5e20;}
.stElementContainer[class*="st-key-w-"] [data-variant="segmented_control"]:nth-child(3)[aria-checked="true"] {
  background: #f0f2f6; border-color: #9e9e9e; color: #555;}
</style>"""

TITLE = "bayesdx · causes of a low white-cell count"
"""The page's title line."""

PRIVACY = ("Nothing you enter is stored or sent anywhere: it stays in this browser tab and the "
           "local app process. The address bar holds the findings and the values you typed (no "
           "names) so that a link reopens the same form; case files are saved only where you download them.")


def note() -> None:
    """The title and the visible disclaimer (one line; the privacy note behind its ?)."""
    st.markdown(f'<p class="bdx-title">{TITLE}</p>', unsafe_allow_html=True)
    st.caption(f"**{DISCLAIMER}** Nothing you enter is stored or sent anywhere.", help=PRIVACY)


def flashes() -> None:
    """One-shot messages from callbacks (upload, link, pin): good news as a toast that does not push
    the page down; warnings and errors in place, until the next change."""
    for kind, text in st.session_state.pop("bdx.flash", []):
        if kind in ("success", "info"):
            st.toast(text, icon=":material/check_circle:" if kind == "success" else ":material/info:")
        else:
            getattr(st, kind)(text)


def case_file_controls(model: Model, yaml_text: str) -> None:
    """Save the scenario as a case file; open a case file (in a popover)."""
    with st.popover("Case file", icon=":material/description:"):
        st.download_button("Save case file (YAML)", yaml_text, file_name="bayesdx-case.yaml",
                           mime="application/x-yaml", key="bdx.download", on_click="ignore",
                           icon=":material/download:",
                           help="The scenario in the case-file format (shared/case-format.md)")
        key = f"bdx.upload.{st.session_state.get('bdx.upload', 0)}"
        st.file_uploader("Open a case file (YAML or JSON, one case)", type=["yaml", "yml", "json"], key=key,
                         on_change=state.cb_upload, args=(model, key))
        st.caption("Files are read in memory and not kept. Do not put names or other identifying "
                   "data in case files.")


def share_controls(query: dict[str, str]) -> None:
    """The link of this scenario, ready to copy."""
    from urllib.parse import urlencode

    with st.popover("Share", icon=":material/link:"):
        base = (getattr(st.context, "url", None) or "").split("?", 1)[0]
        link = (base or "") + ("?" + urlencode(query) if query else "")
        st.caption("This link reopens the form as you filled it in: the values you typed (f.field=text) "
                   "and the findings (node=state); no names. It is also in the address bar.")
        st.code(link or "(no findings yet)", language=None, wrap_lines=True)



def entered_lines(case) -> list[tuple[str, str]]:
    """What the person entered (the form's case), as (field, value) lines for the summary.

    >>> entered_lines({"cbc": {"anc": "0.1"}, "medications": [{"name": "clozapine", "weeks": 9}], "sex": "male"})
    [('cbc: anc', '0.1'), ('medication', 'clozapine, weeks 9'), ('sex', 'male')]
    """
    out: list[tuple[str, str]] = []
    for key, value in (case or {}).items():
        if key == "medications" and isinstance(value, list):
            for m in value:
                if isinstance(m, dict):
                    rest = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in m.items() if k != "name")
                    out.append(("medication", f"{m.get('name', '')}" + (f", {rest}" if rest else "")))
                else:
                    out.append(("medication", str(m)))
        elif isinstance(value, dict):
            out += [(f"{key.replace('_', ' ')}: {k.replace('_', ' ')}", str(v)) for k, v in value.items()]
        else:
            out.append((key.replace("_", " "), str(value)))
    return out


def summary_controls(model: Model, evidence: dict[str, str], entered: list[tuple[str, str]]) -> None:
    """One-page summary for the notes: printable HTML and PDF, made when the button is clicked."""
    from ..summary import build_summary, to_html, to_pdf
    from .analysis import DRAWS
    from .labels import finding_label

    engine = state.get_analysis_engine()
    evidence = dict(evidence)

    def summary():
        return build_summary(model, evidence, entered=entered, engine=engine, draws=DRAWS,
                             label=lambda n: finding_label(model, n))

    with st.popover("Summary", icon=":material/print:"):
        st.caption("A one-page summary for the notes: the evidence, the ranking with its 90% credible "
                   "intervals, why the top causes rank, the tests that would tell the most, the model "
                   "version and the disclaimer. Takes a few seconds (the intervals).")
        st.download_button("Printable page (HTML)", lambda: to_html(summary()), file_name="bayesdx-summary.html",
                           mime="text/html", key="bdx.sum_html", on_click="ignore", icon=":material/print:")
        st.download_button("PDF", lambda: to_pdf(summary()), file_name="bayesdx-summary.pdf",
                           mime="application/pdf", key="bdx.sum_pdf", on_click="ignore",
                           icon=":material/picture_as_pdf:")
