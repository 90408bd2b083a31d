"""Deeper analyses of one scenario: why, credible intervals, next best test, sensitivity.

These cost more than the ranking (an explanation runs one query per finding,
the intervals up to 1,000 draws of the priors, the sensitivity two runs per number),
so they run on a second engine, which shares the ranking engine's compiled plans
(:func:`bayesdx.ui.state.get_analysis_engine`; the engines lock their own
caches, so sessions never wait for each other's queries), and are cached by
evidence; the intervals are streamed stage by stage (:func:`interval_stream`). Every number comes from
:mod:`bayesdx.explain`, :mod:`bayesdx.uncertainty`, :mod:`bayesdx.voi` and
:mod:`bayesdx.sensitivity`; this module only lays them out.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Iterator

import streamlit as st

from ..diagnosis import Diagnosis, Model
from ..errors import BayesdxError
from ..explain import explain
from ..sensitivity import sensitivity
from ..uncertainty import interval_stages
from ..voi import next_tests
from . import jobs, state
from .charts import chart_height, tornado_chart, why_chart, why_rows
from .labels import (
    cause_label,
    finding_label,
    node_label,
    param_text,
    reference_text,
    short_reference,
)
from .markup import md
from ..words import pct, state_text

__all__ = ["ANALYSIS_SECONDS", "DRAWS", "INTERVALS_KEPT", "NEXT_ROWS", "TORNADO_TOP", "WHY_BARS",
           "IntervalStage", "interval_details", "interval_stream", "next_tests_panel", "sensitivity_panel",
           "too_heavy", "why_panel", "why_sentence"]

DRAWS = 1000
"""Draws of the uncertain numbers of ``priors/`` behind each credible interval."""

TORNADO_TOP = 10
"""Numbers shown in the sensitivity tornado."""

WHY_BARS = 6
"""Findings drawn in the Why chart (the strongest; all are in its table), so that it fits a laptop screen."""

NEXT_ROWS = 6
"""Tests visible in the next-best-test table before it scrolls (all are in it)."""

ANALYSIS_SECONDS = 8.0
"""Estimated seconds an analysis of heavy evidence may take (see :func:`too_heavy`)."""

EvidenceKey = tuple[tuple[str, str], ...]


def _key(evidence) -> EvidenceKey:
    return tuple(sorted(evidence.items()))


# --------------------------------------------------------------------------- cached computations
# ``_model`` is not hashed (leading underscore); ``digest`` (the knowledge version) stands for it.


@st.cache_data(max_entries=256, show_spinner=False)
def _explain_cached(_model: Model, digest: str, cause: str, evidence: EvidenceKey):
    engine = state.get_analysis_engine()
    return explain(engine, cause, dict(evidence))


@st.cache_data(max_entries=128, show_spinner=False)
def _next_tests_cached(_model: Model, digest: str, evidence: EvidenceKey):
    engine = state.get_analysis_engine()
    return next_tests(engine, dict(evidence), by="info")


@st.cache_data(max_entries=128, show_spinner=False)
def _sensitivity_cached(_model: Model, digest: str, cause: str, evidence: EvidenceKey, top: int):
    engine = state.get_analysis_engine()
    s = sensitivity(engine, cause, dict(evidence))
    shown = [i for i in s.items if math.isfinite(i.swing) and i.swing > 0][:top]
    undefined = sum(1 for i in s.items if not math.isfinite(i.swing))
    return s.posterior, tuple(shown), len(s.items), undefined


INTERVALS_KEPT = 256
"""Final credible intervals kept (by knowledge version and evidence), shared by every session."""

IntervalStage = tuple[dict[str, tuple[float, float]], int, "float | None", bool]
"""``(intervals by cause, draws used, Monte-Carlo error of the ends, final?)``."""

_FINAL: OrderedDict = OrderedDict()  # (digest, evidence key) -> final IntervalStage
_FINAL_LOCK = threading.Lock()


def _stage(engine, iv) -> IntervalStage:
    b = iv.bounds
    if b is None:
        return {}, 0, None, iv.final
    return ({c: (float(b[i, 0]), float(b[i, 1])) for i, c in enumerate(engine.causes)
             if math.isfinite(b[i, 0]) and math.isfinite(b[i, 1])}, iv.draws, iv.mc_error, iv.final)


def interval_stream(model: Model, evidence) -> Iterator[IntervalStage]:
    """Every cause's 90% credible interval, stage by stage as the draws come in.

    Yields the intervals of the first :data:`~bayesdx.uncertainty.STAGES` of
    draws at once (``final`` False: their Monte-Carlo error is stated), then
    each later stage, then the final intervals (``final`` True), which are
    exactly :func:`bayesdx.uncertainty.interval_estimate`'s for the same seed
    (:func:`~bayesdx.uncertainty.interval_stages`: up to :data:`DRAWS` draws,
    added until the ends are within :data:`~bayesdx.uncertainty.TOLERANCE`).
    Final intervals are kept (:data:`INTERVALS_KEPT`): for evidence seen before
    only the final stage is yielded. A cause whose interval is undefined is left
    out; draws used 0: no interval for this evidence. Raises
    :class:`~bayesdx.errors.BayesdxError` when the model cannot give one.
    """
    key = (model.kb.digest, _key(evidence))
    with _FINAL_LOCK:
        got = _FINAL.get(key)
        if got is not None:
            _FINAL.move_to_end(key)
    if got is not None:
        yield got
        return
    engine = state.get_analysis_engine()
    for iv in interval_stages(engine, dict(evidence), draws=DRAWS, seed=0):
        got = _stage(engine, iv)
        if iv.final:
            with _FINAL_LOCK:
                _FINAL[key] = got
                while len(_FINAL) > INTERVALS_KEPT:
                    _FINAL.popitem(last=False)
        yield got


def interval_details(model: Model, evidence):
    """``(intervals, draws used, Monte-Carlo error of the ends)``, the final ones of
    :func:`interval_stream` (computed if not kept); ``None`` when the model cannot
    give an interval for this evidence."""
    try:
        *_, (iv, n, err, _final) = interval_stream(model, evidence)
    except BayesdxError:
        return None
    return None if not n else (iv, n, err)


# --------------------------------------------------------------------------- bounded work


def too_heavy(model: Model, d: Diagnosis) -> str | None:
    """Why the deeper analyses are not run for this ranking (``None``: they are).

    They run one exact query per finding (or per number): not for an
    approximate ranking, and not when the estimated cost of one query times
    the queries exceeds :data:`ANALYSIS_SECONDS`.
    """
    if not d.exact:
        return ("The deeper analyses need exact probabilities, and this ranking is approximate "
                "(too many abnormal findings at once for this page's time budget).")
    if jobs.is_light(model, d.evidence):
        return None
    per = jobs.session_model(model, st.session_state).engine.estimate(d.evidence).seconds
    total = per * (len(d.evidence) + 1)
    if total > ANALYSIS_SECONDS:
        return (f"The deeper analyses run one exact query per finding; with "
                f"{jobs.abnormal_count(model, d.evidence)} abnormal findings that would take about "
                f"{total:,.0f} s here. The command line runs them without this limit "
                "(`bayesdx explain`, `bayesdx next`, `bayesdx sensitivity`).")
    return None


def _declined(model: Model, d: Diagnosis) -> bool:
    why = too_heavy(model, d)
    if why:
        st.info(why, icon=":material/hourglass_disabled:")
    return bool(why)


# --------------------------------------------------------------------------- the chosen cause


def _chose(key: str) -> None:
    st.session_state["bdx.cause"] = st.session_state[key]
    st.session_state["bdx.cause_chosen"] = True


def _cause_select(d: Diagnosis, key: str, label: str) -> str:
    """A cause picker shared by the panels: the top cause until the user picks one."""
    ss = st.session_state
    ids = [c.id for c in d.causes]
    by_id = {c.id: c for c in d.causes}
    if not ss.get("bdx.cause_chosen") or ss.get("bdx.cause") not in ids:
        ss["bdx.cause"] = ids[0]
    ss[key] = ss["bdx.cause"]
    return st.selectbox(label, ids, key=key, on_change=_chose, args=(key,),
                        format_func=lambda c: f"{by_id[c].label} ({pct(by_id[c].posterior)})")


def _failed(what: str, exc: BayesdxError) -> None:
    st.warning(f"The {what} could not be computed for this evidence: {md(exc)}", icon="⚠️")


# --------------------------------------------------------------------------- why


def why_panel(model: Model, d: Diagnosis) -> None:
    """Which findings pushed the selected cause up or down, by exact likelihood ratios."""
    import pandas as pd  # on first use: the first page needs no pandas (~0.3 s)
    if _declined(model, d):
        return
    cause = _cause_select(d, "bdx.why", "Explain")
    if not d.evidence:
        st.info("Enter some findings: with no evidence every cause sits at its prior.")
        return
    try:
        ex = _explain_cached(model, model.kb.digest, cause, _key(d.evidence))
    except BayesdxError as exc:
        _failed("explanation", exc)
        return
    st.markdown(why_sentence(model, ex))
    strong = [c for c in ex.items if not (abs(c.weight) < 0.01)]
    weak = len(ex.items) - len(strong)
    shown = sorted(strong, key=lambda c: -abs(c.weight))[:WHY_BARS]
    more = len(strong) - len(shown)
    if shown:
        rows = why_rows(shown, lambda c: f"{node_label(model, c.node)}: {state_text(c.state)}")
        spec, df = why_chart(rows)
        st.vega_lite_chart(df, spec, width="stretch", height=chart_height(spec, 120))
    st.caption("Each bar: how much one finding multiplies the odds of this cause, all others known "
               "(green raises, red lowers)."
               + (f" {more} weaker findings are in the table below." if more else "")
               + (f" {weak} findings change the odds by less than 2% and are not shown." if weak else ""))
    with st.expander("The numbers behind this chart"):
        st.dataframe(pd.DataFrame([{"Finding": f"{node_label(model, c.node)}: {state_text(c.state)}",
                                    "Likelihood ratio": c.lr, "Weight (log10)": c.weight,
                                    f"{ex.label} without it %": 100 * c.without} for c in ex.items]),
                     hide_index=True, width="stretch",
                     column_config={"Likelihood ratio": st.column_config.NumberColumn(format="%.4g"),
                                    "Weight (log10)": st.column_config.NumberColumn(format="%+.2f"),
                                    f"{ex.label} without it %": st.column_config.NumberColumn(format="%.1f")})


def why_sentence(model: Model, ex) -> str:
    """The explanation in one sentence a clinician reads in one pass (Markdown)."""
    def names(items) -> str:
        return "; ".join(f"{_lower(node_label(model, c.node))}: {state_text(c.state)}" for c in items[:3])

    text = (f"**{cause_label(model, ex.cause)}** is **{pct(ex.posterior)}** likely given these findings, "
            f"{'up' if ex.posterior >= ex.prior else 'down'} from {pct(ex.prior)} before any.")
    if ex.supporting:
        text += f" Raised most by {names(ex.supporting)}."
    if ex.against:
        text += f" Lowered by {names(ex.against)}."
    return text


def _lower(text: str) -> str:
    first = text.split(" ", 1)[0]
    return text if first.isupper() or ":" in first else text[:1].lower() + text[1:]


# --------------------------------------------------------------------------- next best test

SORTS = {"information": "info", "information per cost": "cost", "moves the leading cause": "change"}


def _outcomes_text(model: Model, t) -> str:
    parts = []
    for o in t.outcomes:
        if o.top_cause is None or o.prob <= 0:
            continue
        text = f"{state_text(o.state)} ({pct(o.prob)}) → {cause_label(model, o.top_cause)} {pct(o.top_prob)}"
        if o.mover and o.mover != o.top_cause:
            text += f" (moves {cause_label(model, o.mover)} to {pct(o.mover_prob)})"
        parts.append(text)
    return " · ".join(parts)


def next_tests_panel(model: Model, d: Diagnosis) -> None:
    """The unobserved orderable tests ranked by exact expected information (and per cost)."""
    import pandas as pd  # on first use: the first page needs no pandas (~0.3 s)
    if _declined(model, d):
        return
    try:
        nt = _next_tests_cached(model, model.kb.digest, _key(d.evidence))
    except BayesdxError as exc:
        _failed("next best test", exc)
        return
    if not nt.items:
        st.info("Every orderable test already has a result: nothing left to suggest.")
        return
    by = st.segmented_control("Rank by", list(SORTS), key="bdx.nt_by", default="information", required=True)
    nt = nt.sorted(SORTS.get(by, "info"))
    st.markdown(f"Leading cause now: **{cause_label(model, nt.lead)}** {pct(nt.lead_prob)}. "
                f"{len(nt.items)} tests not yet entered, the best first (scroll the table for all).")
    top_bits = max([t.expected_entropy_reduction for t in nt.items if math.isfinite(t.expected_entropy_reduction)]
                   + [0.01])
    table = pd.DataFrame([{  # the columns read first come first (a third of a laptop screen shows three)
        "Test": finding_label(model, t.finding),
        "Information": t.expected_entropy_reduction,
        "Lead ± pts": 100 * t.expected_top_change,
        "Cost": t.cost,
        "Per cost": t.value_per_cost,
    } for t in nt.items]).fillna(0.0)
    st.dataframe(table, hide_index=True, width="stretch", height=min(35 * len(table), 35 * NEXT_ROWS) + 38,
                 column_config={
                     "Test": st.column_config.TextColumn(pinned=True, width="medium"),
                     "Information": st.column_config.ProgressColumn(
                         "Bits", format="%.3f", min_value=0.0, max_value=float(top_bits),
                         width="small",
                         help="Expected reduction of the uncertainty about which causes are present "
                              "(sum over causes, in bits), averaged over the possible results"),
                     "Cost": st.column_config.NumberColumn(format="%g", help="Relative cost (a smear = 1)"),
                     "Per cost": st.column_config.NumberColumn(format="%.3f", help="Bits per unit of cost"),
                     "Lead ± pts": st.column_config.NumberColumn(
                         format="%.1f", help="Expected change of the leading cause's probability, "
                                             "in percentage points"),
                 })
    st.caption("Bits: how much the result would, on average, reduce the uncertainty about which causes "
               "are present (its information; exact under the model). Cost is relative (a smear = 1). "
               "Information is not clinical urgency: ask what you would do with each result.")
    lines = [f"- **{finding_label(model, t.finding)}**: {_outcomes_text(model, t)}" for t in nt.items[:5]]
    with st.expander("What each result of the first five would do"):
        st.markdown("**Each result of the first five** (its probability now: then the leading cause)\n"
                    + "\n".join(lines))


# --------------------------------------------------------------------------- sensitivity


def sensitivity_panel(model: Model, d: Diagnosis) -> None:
    """Tornado: which numbers of ``priors/`` move the selected cause most for this evidence."""
    import pandas as pd  # on first use: the first page needs no pandas (~0.3 s)
    if _declined(model, d):
        return
    cause = _cause_select(d, "bdx.sens", "Sensitivity of")
    try:
        base, items, n_all, undefined = _sensitivity_cached(model, model.kb.digest, cause,
                                                            _key(d.evidence), TORNADO_TOP)
    except BayesdxError as exc:
        _failed("sensitivity", exc)
        return
    if not items:
        st.info("No number of the knowledge files moves this cause for this evidence.")
        return
    rows = [{"name": param_text(model, i.path), "source": "source: " + short_reference(model, i.sources),
             "path": i.path, "value": i.value, "low": i.low, "high": i.high,
             "at_low": i.posterior_low, "at_high": i.posterior_high,
             "reference": reference_text(model, i.sources)} for i in items]
    name = cause_label(model, cause)
    st.markdown(f"**{name}**: {pct(base)} with every number of the model at its value (black line). "
                "Each bar: that probability with one number at its low (blue) or its high (red); "
                "the values stand at the bar ends.")
    spec, df = tornado_chart(rows, base, f"Probability of {name}")
    st.vega_lite_chart(df, spec, width="stretch", height=chart_height(spec, 95))
    st.caption(f"The {len(items)} numbers (of {n_all} with a range) that move this cause most for this "
               "evidence, one at a time, every other number at its value. The table below gives each "
               "source in full (an estimate is expert judgement). "
               "A long bar resting on an estimate is where better data would matter most."
               + (f" {undefined} numbers make the evidence impossible at one end and are left out."
                  if undefined else ""))
    table = pd.DataFrame([{"Number": r["name"], "Value": r["value"], "Low": r["low"], "High": r["high"],
                           f"{cause_label(model, cause)} at low %": 100 * r["at_low"],
                           "at high %": 100 * r["at_high"], "Source": r["reference"], "Key in priors/": r["path"]}
                          for r in rows])
    with st.expander("The numbers, their ranges and sources"):
        st.dataframe(table, hide_index=True, width="stretch",
                     column_config={"Value": st.column_config.NumberColumn(format="%.4g"),
                                    "Low": st.column_config.NumberColumn(format="%.4g"),
                                    "High": st.column_config.NumberColumn(format="%.4g"),
                                    f"{cause_label(model, cause)} at low %": st.column_config.NumberColumn(
                                        format="%.1f"),
                                    "at high %": st.column_config.NumberColumn(format="%.1f")})
