"""The differential (right): the ranking, impossible evidence, A vs B, the evidence used.

The numbers come from :func:`bayesdx.diagnosis.diagnose_evidence` on the shared
engine (safe to query from every session's thread at once; the engine locks
its own caches); this module lays them out.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pandas as pd
import streamlit as st

from ..diagnosis import Diagnosis, Model, diagnose_evidence
from ..errors import BayesdxError, ImpossibleEvidenceError
from . import analysis, state
from .charts import (
    FAMILIES,
    chart_height,
    compare_chart,
    family_legend_html,
    ranking_chart,
)
from .labels import node_label
from .markup import md
from .scenario import Derived, compare, conflict_text, evidence_diff, pct
from .spec import state_text

__all__ = ["compute", "conflict_box", "evidence_list", "ranking_panel", "top_summary", "whatif_panel"]


def compute(model: Model, evidence: dict[str, str]) -> Diagnosis | ImpossibleEvidenceError | BayesdxError:
    """The ranking for the evidence, or the error that explains why there is none."""
    try:
        d = diagnose_evidence(model, evidence, draws=0, scores=False)
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
        st.error(f"No ranking for this evidence: {md(err)}", icon="⛔")


def top_summary(model: Model, d: Diagnosis, n: int = 3) -> None:
    """The top causes in one line, readable at a glance."""
    parts = [f"{i + 1}. **{c.label}** {pct(c.posterior)}" for i, c in enumerate(d.causes[:n])]
    with st.container(key="bdx-top"):
        st.markdown("Most probable: " + " &nbsp;·&nbsp; ".join(parts))


CI_HELP = ("The whisker on each bar is a 90% credible interval: the 5th to 95th percentile of the "
           "cause's probability over 1,000 draws of the uncertain numbers of the model (each prior, "
           "sensitivity and leak drawn within its published range). It shows how much the answer "
           "depends on uncertain knowledge, not how sure the diagnosis is. Takes about a second "
           "for each new set of findings, after the ranking is shown.")


def ranking_panel(model: Model, d: Diagnosis) -> Callable[[], None]:
    """Controls (families, how many, order, intervals) and the ranking chart.

    The chart is drawn before its controls (into a slot above it), so that it
    is among the first elements the browser receives after a change.

    Returns a function that adds the 90% credible intervals when they are
    switched on: call it last, once the rest of the page is drawn (they take
    about a second for new evidence; cached by evidence). The chart is redrawn
    with the same spec, so the browser only swaps the data.
    """
    ss = st.session_state
    controls = st.container()
    legend = st.empty()
    slot = st.container(key="bdx-ranking")
    with slot:
        chart = st.empty()
    note = st.empty()
    fams = ss.get("bdx.families", list(FAMILIES))
    show = ss.get("bdx.show") or "top 10"
    order = ss.get("bdx.order") or "by probability"
    with_ci = bool(ss.get("bdx.ci"))
    rows = [{"id": c.id, "label": c.label, "family": c.family, "prior": c.prior, "posterior": c.posterior}
            for c in d.causes if c.family in (fams or [])]
    limit = {"top 10": 10, "top 20": 20}.get(show)
    shown = rows[:limit] if limit else rows

    def draw(iv: dict[str, tuple[float, float]] | None) -> None:
        if not shown:
            chart.info("No cause in the selected families; pick a family above.")
            return
        data = [{**r, "lo": iv[r["id"]][0], "hi": iv[r["id"]][1]} if iv and r["id"] in iv else r
                for r in shown]
        spec, df = ranking_chart(data, by_family=order == "by family")
        chart.vega_lite_chart(df, spec, width="stretch", height=chart_height(spec, 60))

    def caption(ci: str) -> None:
        hidden = len(d.causes) - len(shown)
        note.caption("Bar: probability that the cause is present given the evidence; black tick: its prior "
                     "in the reference population." + ci + " Causes can co-exist, so the bars need not add "
                     "up to 100%." + (f" {hidden} more causes not shown." if hidden else ""))

    draw(None)
    caption(" Computing the 90% credible intervals ..." if with_ci else "")
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
            st.toggle("90% credible intervals", key="bdx.ci", help=CI_HELP)

    def add_intervals() -> None:
        if not (with_ci and shown):
            caption("")
            return
        iv = analysis.intervals(model, d.evidence)
        if iv is None:
            caption(" The credible intervals could not be computed for this evidence.")
        else:
            draw(iv)
            caption(" Whisker: 90% credible interval (5th-95th percentile over 1,000 draws of the "
                    "uncertain numbers of the model within their ranges).")

    return add_intervals


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
        st.caption(f"Not used: {md(i['field'])}: {md(i['reason'])}")
