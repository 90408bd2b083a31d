"""The differential (right): the ranking, impossible evidence, A vs B, the evidence used.

The numbers come from :func:`bayesdx.diagnose.diagnose_evidence` on the shared
engine (under :func:`bayesdx.ui.state.engine_lock`); this module lays them out.
"""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from ..diagnose import Diagnosis, Model, diagnose_evidence
from ..errors import BayesdxError, ImpossibleEvidenceError
from . import state
from .charts import (
    FAMILIES,
    chart_height,
    compare_chart,
    family_legend_html,
    ranking_chart,
)
from .scenario import Derived, compare, conflict_text, evidence_diff, node_label, pct
from .spec import state_text

__all__ = ["compute", "conflict_box", "evidence_list", "ranking_panel", "top_summary", "whatif_panel"]


def compute(model: Model, evidence: dict[str, str]) -> Diagnosis | ImpossibleEvidenceError | BayesdxError:
    """The ranking for the evidence, or the error that explains why there is none."""
    try:
        with state.engine_lock():
            d = diagnose_evidence(model, evidence, draws=0)
    except (ImpossibleEvidenceError, BayesdxError) as exc:
        return exc
    if not all(math.isfinite(c.posterior) for c in d.causes):
        return BayesdxError("the model returned no finite probability for this evidence; "
                            "remove the last finding you entered")
    return d


def conflict_box(model: Model, err: BayesdxError) -> None:
    """Impossible evidence: name the conflicting findings and offer to clear each one."""
    if isinstance(err, ImpossibleEvidenceError):
        st.error("**These findings cannot all be true under the model:** "
                 f"{conflict_text(err, model.net.labels)}.  \nChange or clear one of them; "
                 "no ranking is shown for impossible evidence.", icon="⛔")
        with st.container(horizontal=True):
            for node in err.conflict:
                st.button(f"Clear {node_label(model, node)}", key=f"bdx.clr.{node}",
                          on_click=state.cb_clear_node, args=(model, node))
    else:
        st.error(f"No ranking for this evidence: {err}", icon="⛔")


def top_summary(model: Model, d: Diagnosis, n: int = 3) -> None:
    """The top causes in one line, readable at a glance."""
    parts = [f"{i + 1}. **{c.label}** {pct(c.posterior)}" for i, c in enumerate(d.causes[:n])]
    with st.container(key="bdx-top"):
        st.markdown("Most probable: " + " &nbsp;·&nbsp; ".join(parts))


def ranking_panel(model: Model, d: Diagnosis) -> None:
    """Controls (families, how many, order) and the ranking chart.

    The chart is drawn before its controls (into a slot above it), so that it
    is among the first elements the browser receives after a change.
    """
    ss = st.session_state
    controls = st.container()
    legend = st.empty()
    slot = st.container(key="bdx-ranking")
    fams = ss.get("bdx.families", list(FAMILIES))
    show = ss.get("bdx.show") or "top 10"
    order = ss.get("bdx.order") or "by probability"
    rows = [{"id": c.id, "label": c.label, "family": c.family, "prior": c.prior, "posterior": c.posterior}
            for c in d.causes if c.family in (fams or [])]
    limit = {"top 10": 10, "top 20": 20}.get(show)
    shown = rows[:limit] if limit else rows
    with slot:
        if shown:
            spec, df = ranking_chart(shown, by_family=order == "by family")
            st.vega_lite_chart(df, spec, width="stretch", height=chart_height(spec, 60))
        else:
            st.info("No cause in the selected families; pick a family above.")
    hidden = len(d.causes) - len(shown)
    st.caption("Bar: probability that the cause is present given the evidence; black tick: its prior "
               "in the reference population. Causes can co-exist, so the bars need not add up to 100%."
               + (f" {hidden} more causes not shown." if hidden else ""))
    legend.markdown(family_legend_html(), unsafe_allow_html=True)
    with controls:
        st.pills("Families", list(FAMILIES), selection_mode="multi", key="bdx.families",
                 default=list(FAMILIES), label_visibility="collapsed",
                 help="Show only the causes of these families")
        with st.container(horizontal=True, vertical_alignment="center"):
            st.segmented_control("Show", ["top 10", "top 20", "all"], key="bdx.show", default="top 10",
                                 required=True, label_visibility="collapsed")
            st.segmented_control("Order", ["by probability", "by family"], key="bdx.order",
                                 default="by probability", required=True, label_visibility="collapsed")


def whatif_panel(model: Model, d: Diagnosis) -> None:
    """Scenario A (pinned) against the current scenario B."""
    pin = st.session_state.get("bdx.pin")
    if not pin:
        st.info("Pin the current scenario as **A** (button above), then change findings: "
                "A and B appear side by side with the change of every cause.")
        return
    b = {c.id: c.posterior for c in d.causes}
    rows = compare(pin["post"], b)
    labels = {c.id: c.label for c in d.causes}
    fam = {c.id: c.family for c in d.causes}
    diff = evidence_diff(pin["evidence"], d.evidence, model.kb)
    if diff:
        lines = []
        for node, a_s, b_s in diff:
            a_t = state_text(a_s) if a_s else "unknown"
            b_t = state_text(b_s) if b_s else "unknown"
            lines.append(f"{node_label(model, node)}: {a_t} → **{b_t}**")
        st.markdown("**Changed since A:** " + "; ".join(lines))
    else:
        st.markdown("**B is the same as A.** Change a finding to see its effect.")
    top = sorted(rows, key=lambda r: -max(r["a"], r["b"]))[:12]
    chart_rows = [{"label": labels[r["id"]], "family": fam[r["id"]], "a": r["a"], "b": r["b"]} for r in top]
    spec, df = compare_chart(chart_rows)
    st.vega_lite_chart(df, spec, width="stretch", height=chart_height(spec, 70))
    table = pd.DataFrame([{"Cause": labels[r["id"]], "A %": 100 * r["a"], "B %": 100 * r["b"],
                           "Change (points)": 100 * r["delta"]} for r in rows])
    st.dataframe(table, hide_index=True, width="stretch", height=280,
                 column_config={"A %": st.column_config.NumberColumn(format="%.2f"),
                                "B %": st.column_config.NumberColumn(format="%.2f"),
                                "Change (points)": st.column_config.NumberColumn(format="%+.2f")})


def evidence_list(model: Model, derived: Derived) -> None:
    """The evidence the model uses, as node = state (what the URL holds)."""
    if not derived.evidence:
        st.caption("No evidence yet.")
        return
    st.dataframe(pd.DataFrame([{"Finding": node_label(model, n), "State": state_text(s), "Node": n,
                                "Value": s} for n, s in derived.evidence.items()]),
                 hide_index=True, width="stretch", height=min(36 * len(derived.evidence) + 38, 420))
    for i in derived.ignored:
        st.caption(f"Not used: {i['field']}: {i['reason']}")
