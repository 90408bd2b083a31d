"""Quick entry: a drug by the first letters of its name, a blood count pasted as printed.

Callbacks and small widgets used by :mod:`bayesdx.ui.entry`; the matching
and reading are the package's (:func:`bayesdx.case.medications.best_drug_match`,
:func:`bayesdx.case.typed.parse_cbc_text`).
"""

from __future__ import annotations

import streamlit as st

from ..case.medications import best_drug_match
from ..case.typed import parse_cbc_text
from ..diagnosis import Model
from . import state
from .spec import FormSpec, drug_text

__all__ = ["TAB_VALUES_JS", "cb_add_drug", "current_meds", "md_escape", "paste_box", "tab_value_to_value"]


def cb_add_drug(model: Model) -> None:
    """Add the one generic that best matches the typed text (Enter in the drug box)."""
    ss = st.session_state
    text = str(ss.get("bdx.add_drug") or "").strip()
    ss["bdx.drug_note"] = None
    if not text:
        return
    generic, others = best_drug_match(model.kb, text)
    if generic is None:
        ss["bdx.drug_note"] = (f":red[No drug in the list matches **{md_escape(text)}**.] Check the spelling or type "
                               "the generic name; drugs without a known effect on white cells are not listed.")
        return
    meds = list(current_meds())
    if generic not in meds:
        state.set_field("meds", [*meds, generic])
    ss["bdx.add_drug"] = ""
    also = f" Other matches: {', '.join(drug_text(o) for o in others)}." if others else ""
    ss["bdx.drug_note"] = f":green[Added **{drug_text(generic)}**.]{also}"


def current_meds() -> list[str]:
    ss = st.session_state
    return list(ss.get(state.K("meds"), ss.get(state.VALUES, {}).get("meds") or []))


def md_escape(text: str) -> str:
    """User text safe inside Markdown (no markup, no links)."""
    return "".join("\\" + c if c in "\\`*_{}[]()#+-.!|<>~:$" else c for c in text[:200])


def _cb_read_paste(model: Model) -> None:
    ss = st.session_state
    ss["bdx.pasted"] = parse_cbc_text(model.kb, str(ss.get("bdx.paste") or ""))


def _cb_apply_paste(spec: FormSpec) -> None:
    ss = st.session_state
    pasted = ss.pop("bdx.pasted", None)
    if pasted is None:
        return
    for key, text in pasted.values:
        fid = f"cbc.{key}"
        if fid in spec.numeric:
            state.set_field(fid, text)
            state.set_field(f"{fid}@unit", spec.numeric[fid].unit)
    ss["bdx.paste"] = ""
    state.flash("success", f"Applied {len(pasted.values)} values from the pasted blood count.")


def paste_box(model: Model, spec: FormSpec) -> None:
    """Paste a blood count as the laboratory prints it; see what was understood; apply it."""
    pasted = st.session_state.get("bdx.pasted")
    with st.expander("Paste a blood count", expanded=pasted is not None, icon=":material/content_paste:"):
        st.text_area("Blood count as printed", key="bdx.paste", height=68,
                     placeholder="e.g. WBC 2.4, ANC 0.2, ALC 1.6, Hb 12.1 g/dL, PLT 240")
        st.button("Read", key="bdx.paste_read", on_click=_cb_read_paste, args=(model,), icon=":material/search:")
        if pasted is None:
            return
        if pasted.values:
            used = dict(pasted.bands)
            st.markdown("**Understood:** " + "; ".join(
                f"{spec.numeric[f'cbc.{k}'].label} **{md_escape(v)}**" + (f" ({used[k]})" if k in used else "")
                for k, v in pasted.values if f"cbc.{k}" in spec.numeric))
        for p in pasted.problems:
            st.markdown(f":red[Not understood: {md_escape(p)}]")
        if pasted.values:
            st.button(f"Apply these {len(pasted.values)} values", key="bdx.paste_apply", type="primary",
                      on_click=_cb_apply_paste, args=(spec,), icon=":material/check:")




#: Keeps the unit boxes and the ? icons of the blood count out of the Tab order, so that Tab goes from one
#: value to the next (the units stay one click away). Static script, no user input; runs in the page.
TAB_VALUES_JS = """<script>
const doc = window.parent.document;
const skip = () => doc.querySelectorAll(
  '.st-key-bdx-cbc [data-testid="stSelectbox"] input, .st-key-bdx-cbc [data-testid="stSelectbox"] [tabindex],'
  + ' .st-key-bdx-cbc [data-testid="stTooltipIcon"] *, .st-key-bdx-cbc [data-testid="stTooltipHoverTarget"]')
  .forEach((e) => { if (e.getAttribute('tabindex') !== '-1') e.setAttribute('tabindex', '-1'); });
skip();
new MutationObserver(skip).observe(doc.body, {subtree: true, childList: true});
</script>"""


def tab_value_to_value() -> None:
    """Install :data:`TAB_VALUES_JS` (a static script in an invisible same-origin iframe, out of the Tab order)."""
    with st.container(key="bdx-tabjs", height=1, border=False):
        st.iframe(TAB_VALUES_JS, height=1, tab_index=-1)
