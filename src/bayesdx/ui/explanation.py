"""The "Explanation" tab: rank by cause or by reason, joint explanations, a cause's lists.

* **Rank by**: the posterior answers "does the patient have it?"; the
  counterfactual scores of :mod:`bayesdx.counterfactual` answer "is it why the
  findings are abnormal?". One sentence says what each ranking means.
* **Most probable explanations**: the k most probable sets of causes present
  (:mod:`bayesdx.explanations`).
* For the chosen cause, DXplain-style lists (:mod:`bayesdx.differential`):
  findings for and against it, the tests that would most confirm or exclude
  it; and the tests chosen for the differential. Clicking a test's result
  **applies** it (as directly set evidence); one click undoes it.

Everything runs on the analysis engine and is cached by evidence.
"""

from __future__ import annotations

import streamlit as st

from ..counterfactual import counterfactual
from ..diagnosis import Diagnosis, Model
from ..differential import cause_workup, differential_tests
from ..errors import BayesdxError
from ..explanations import joint_explanations
from . import state
from .analysis import _cause_select, _key
from .labels import cause_label, finding_label
from ..words import pct, state_text

__all__ = ["DEFAULT_RANK", "RANKS", "cb_apply", "cb_undo", "cf_key", "explanation_panel"]

RANKS = {
    "probability": ("posterior", "The probability that the cause is present given the findings: "
                    "does the patient have it (whether or not it explains anything)?"),
    "present and needed": ("needed", "The probability that the cause is present **and** needed: "
                           "without it at least one abnormal finding would be less abnormal."),
    "sufficiency": ("sufficiency", "The expected number of abnormal findings the cause would "
                    "still produce at their grade on its own, every other cause switched off."),
    "disablement": ("disablement", "The expected number of abnormal findings that would be less "
                    "abnormal if the cause were switched off, all else held fixed."),
}
DEFAULT_RANK = "present and needed"
"""The app's default, measured with ``bayesdx validate`` (docs/counterfactual.md): "present
and needed" ranks the expected cause first in 104 of 106 vignettes (probability: 102) and
in 45 of 52 published cases (probability: 45), with a higher MRR on both sets (0.991 vs
0.981; 0.901 vs 0.900). It is never worse, so it is the default."""

APPLIED = "bdx.applied"
"""Session-state key: the stack of nodes set by clicking a test result (for undo)."""


@st.cache_data(max_entries=128, show_spinner=False)
def _scores_cached(_model: Model, digest: str, evidence):
    engine = state.get_analysis_engine()
    return counterfactual(engine, dict(evidence))


@st.cache_data(max_entries=128, show_spinner=False)
def _joint_cached(_model: Model, digest: str, evidence):
    engine = state.get_analysis_engine()
    return joint_explanations(engine, dict(evidence), k=5)


@st.cache_data(max_entries=128, show_spinner=False)
def _workup_cached(_model: Model, digest: str, cause: str, evidence):
    engine = state.get_analysis_engine()
    return cause_workup(engine, cause, dict(evidence), top=5)


@st.cache_data(max_entries=128, show_spinner=False)
def _difftests_cached(_model: Model, digest: str, evidence):
    engine = state.get_analysis_engine()
    return differential_tests(engine, dict(evidence))


def cf_key(rank: str) -> str:
    """The attribute of :class:`~bayesdx.counterfactual.CounterfactualScores` behind a ranking."""
    from ..counterfactual import RANKINGS

    return RANKINGS[rank]


def cb_apply(node: str, value: str) -> None:
    """Assume a test result: set it as direct evidence and remember it for undo."""
    ss = st.session_state
    ss.setdefault("bdx.direct", {})[node] = value
    stack = ss.setdefault(APPLIED, [])
    if node in stack:
        stack.remove(node)
    stack.append(node)


def cb_undo() -> None:
    """Take back the last assumed test result."""
    stack = st.session_state.get(APPLIED) or []
    if stack:
        st.session_state.get("bdx.direct", {}).pop(stack.pop(), None)


def _apply_buttons(model: Model, rows, key: str) -> None:
    for r in rows:
        c1, c2 = st.columns([3, 1.2], vertical_alignment="center")
        c1.markdown(f"{r.weight:+.2f} · **{finding_label(model, r.node)}** = "
                    f"{state_text(r.state)} (chance now {pct(r.prob)}; → {pct(r.posterior)})")
        c2.button(f"Assume {state_text(r.state)}", key=f"bdx.apply.{key}.{r.node}.{r.state}",
                  on_click=cb_apply, args=(r.node, r.state), type="tertiary",
                  help="Add this result to the evidence (one click undoes it)")


def explanation_panel(model: Model, d: Diagnosis) -> None:
    """Rank-by switch, joint explanations, the chosen cause's lists, tests for the differential."""
    import pandas as pd  # on first use: the first page needs no pandas (~0.3 s)
    stack = st.session_state.get(APPLIED) or []
    if stack:
        node = stack[-1]
        st.button(f"Undo: {finding_label(model, node)} = "
                  f"{state_text(d.evidence.get(node, '?'))}", key="bdx.undo",
                  on_click=cb_undo, icon=":material/undo:")
    ev = _key(d.evidence)
    try:
        cf = _scores_cached(model, model.kb.digest, ev)
        je = _joint_cached(model, model.kb.digest, ev)
    except BayesdxError as exc:
        st.warning(f"The explanation could not be computed for this evidence: {exc}", icon="⚠️")
        return
    by = st.segmented_control("Rank causes by", list(RANKS), key="bdx.rank_by",
                              default=DEFAULT_RANK, required=True) or DEFAULT_RANK
    key, sentence = RANKS[by]
    st.caption(sentence)
    beside = {"posterior": "Probability", "p_needed": "Present and needed"}
    rows = [{"Cause": cause_label(model, c), "Score": v,
             **{name: cf.of(c)[k] for k, name in beside.items() if k != cf_key(key)}}
            for c, v in cf.ranked(key)[:10]]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="bdx.rank_table",
                 column_config={"Score": st.column_config.NumberColumn(by, format="%.3f"),
                                **{name: st.column_config.NumberColumn(format="%.3f")
                                   for name in beside.values()}})
    short = {c: cause_label(model, c) for c in model.net.causes}
    lines = [f"{i}. {e.text(short)}" for i, e in enumerate(je.items, 1)]
    st.markdown("**Most probable explanations** (exactly these causes present, all others "
                "absent):\n" + "\n".join(lines))
    cause = _cause_select(d, "bdx.wk", "Work up")
    try:
        w = _workup_cached(model, model.kb.digest, cause, ev)
        dt = _difftests_cached(model, model.kb.digest, ev)
    except BayesdxError as exc:
        st.warning(f"The work-up could not be computed for this evidence: {exc}", icon="⚠️")
        return
    for title, items in (("Findings that support it", w.supporting),
                         ("Findings that argue against it", w.against)):
        text = "; ".join(f"{finding_label(model, r.node)} = {state_text(r.state)} "
                         f"({r.weight:+.2f})" for r in items if abs(r.weight) >= 0.01) or "none"
        st.markdown(f"**{title}:** {text}")
    st.markdown("**Tests that would most confirm it:**")
    _apply_buttons(model, w.confirm[:4], "confirm")
    st.markdown("**Tests that would most exclude it:**")
    _apply_buttons(model, w.exclude[:4], "exclude")
    names = ", ".join(cause_label(model, c) for c in dt.pursued)
    st.markdown(f"**Tests for the differential** ({names}): "
                + "; ".join(f"{finding_label(model, f)} {b:.3f} bits, cost {c:g}"
                            for f, _, c, b, _ in dt.items[:5]))
    st.caption("Weights are log10 likelihood ratios on the cause's odds (+1 = ×10), exact under "
               "the model. 'Assume' adds that result to the evidence; Undo takes it back.")
