"""Deeper analyses of one scenario: why a cause moved (and later: next test, sensitivity).

These cost more than the ranking (an explanation runs one query per
finding), so they run on a second engine with its own lock
(:func:`bayesdx.ui.state.get_analysis_engine`) and are cached by evidence:
they never make another session's ranking wait.
"""

from __future__ import annotations

import math

import streamlit as st

from ..diagnose import Diagnosis, Model
from ..explain import explain
from . import state
from .charts import chart_height, why_chart, why_rows
from .scenario import node_label, pct
from .spec import state_text

__all__ = ["why_panel"]


@st.cache_data(max_entries=256, show_spinner=False)
def _explain_cached(_model: Model, digest: str, cause: str, evidence: tuple[tuple[str, str], ...]):
    engine = state.get_analysis_engine()
    with state.analysis_lock():
        return explain(engine, cause, dict(evidence))


def _why_chosen() -> None:
    st.session_state["bdx.why_chosen"] = True


def why_panel(model: Model, d: Diagnosis) -> None:
    """Which findings pushed the selected cause up or down, by exact likelihood ratios."""
    ids = [c.id for c in d.causes]
    by_id = {c.id: c for c in d.causes}
    if not st.session_state.get("bdx.why_chosen") or st.session_state.get("bdx.why") not in ids:
        st.session_state["bdx.why"] = ids[0]  # follow the top cause until one is chosen
    cause = st.selectbox("Explain", ids, key="bdx.why", on_change=_why_chosen,
                         format_func=lambda c: f"{by_id[c].label} ({pct(by_id[c].posterior)})")
    if not d.evidence:
        st.info("Enter some findings: with no evidence every cause sits at its prior.")
        return
    ex = _explain_cached(model, model.kb.digest, cause, tuple(sorted(d.evidence.items())))
    odds = (lambda p: p / (1 - p) if p < 1 else math.inf)
    ratio = odds(ex.posterior) / odds(ex.prior) if 0 < ex.prior < 1 and ex.posterior < 1 else None
    st.markdown(f"**{ex.label}**: prior {pct(ex.prior)} → posterior **{pct(ex.posterior)}**"
                + (f" (odds ×{ratio:.3g})" if ratio else ""))
    strong = [c for c in ex.items if not (abs(c.weight) < 0.01)]
    weak = len(ex.items) - len(strong)
    if strong:
        rows = why_rows(strong, lambda c: f"{node_label(model, c.node)} = {state_text(c.state)}")
        spec, df = why_chart(rows)
        st.vega_lite_chart(df, spec, width="stretch", height=chart_height(spec, 100))
    st.caption("Each bar is the exact likelihood ratio of one finding given all the others "
               "(green raises, red lowers the odds of the cause; ×10 = weight of evidence +1)."
               + (f" {weak} findings change the odds by less than 2% and are not shown." if weak else ""))
