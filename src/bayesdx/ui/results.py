"""The differential (right): the ranking, impossible evidence, A vs B, the evidence used.

The numbers come from :func:`bayesdx.diagnosis.diagnose_evidence`: light evidence on
the shared engine (safe to query from every session's thread at once; the engine locks
its own caches), heavy evidence in the session's own job (:mod:`bayesdx.ui.jobs`); this
module lays them out.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import streamlit as st

from ..diagnosis import Diagnosis, Model, diagnose_evidence
from ..errors import BayesdxError, ImpossibleEvidenceError
from . import analysis, jobs, state
from .charts import chart_height, compare_chart, family_legend_html
from .ranking import FAMILIES, ranking_html
from ..alerts import check_alerts
from ..uncertainty import TOLERANCE
from .labels import cause_label, node_label, reference_text
from .markup import md
from ..words import pct, state_text
from .scenario import Derived, compare, conflict_text, evidence_diff

__all__ = ["POLL_S", "SHOW", "approx_text", "compute", "conflict_box", "evidence_list", "rank_light",
           "ranking_caption", "ranking_panel", "ranking_rows", "safety_lines", "top_summary", "whatif_panel"]


POLL_S = 0.1
"""Seconds between two looks at a running heavy ranking (progress redrawn)."""


def compute(model: Model, evidence: dict[str, str]) -> Diagnosis | ImpossibleEvidenceError | BayesdxError:
    """The ranking for the evidence, or the error that explains why there is none.

    Light evidence runs on the shared engine (its lock held for milliseconds; on the numpy
    reference path until the compiled kernel is loaded, :func:`~bayesdx.ui.state.ranking_model`);
    heavy evidence runs in this session's own job (:mod:`bayesdx.ui.jobs`) under
    the app's budget, exact or a labelled approximation, with a progress bar
    while it runs and without making any other session wait.
    """
    if jobs.is_light(model, evidence):
        return rank_light(model, evidence)
    job = jobs.start(model, evidence, st.session_state)
    if not job.wait(POLL_S):
        n = jobs.abnormal_count(model, evidence)
        with st.empty():
            while not job.wait(POLL_S):  # a click in this session reruns from here
                st.progress(job.progress, text=f"Computing the ranking for {n} abnormal "
                            "findings (exact when it fits the time budget, else approximate) ...")
    d = job.outcome()
    return d if isinstance(d, BayesdxError) else _finite(d)


def rank_light(model: Model, evidence: dict[str, str]) -> Diagnosis | BayesdxError:
    """The ranking of light evidence (:func:`bayesdx.ui.jobs.is_light`) on the shared engine, or
    the error that explains why there is none: what the page draws, and what the server draws
    before it (:mod:`bayesdx.ui.first_paint`)."""
    try:
        d = diagnose_evidence(state.ranking_model(model), evidence, draws=0, scores=False,
                              budget=jobs.APP_BUDGET)
    except BayesdxError as exc:  # ImpossibleEvidenceError among them
        return exc
    return _finite(d)


def _finite(d: Diagnosis) -> Diagnosis | BayesdxError:
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


def top_summary(model: Model, d: Diagnosis, n: int = 3) -> Callable[..., None]:
    """The top causes in one line, readable at a glance; returns a function that redraws the
    line with each cause's 90% credible interval in words (``96%, 80-99%``) once they are known
    (``refining=True``: a stage on the way, said so)."""
    slot = st.container(key="bdx-top").empty()

    def draw(iv: dict[str, tuple[float, float]] | None = None, refining: bool = False) -> None:
        parts = []
        for i, c in enumerate(d.causes[:n]):
            rng = f", {pct(iv[c.id][0])}–{pct(iv[c.id][1])}" if iv and c.id in iv else ""
            parts.append(f"{i + 1}. **{cause_label(model, c.id)}** {pct(c.posterior)}{rng}")
        slot.markdown("Most probable: " + " &nbsp;·&nbsp; ".join(parts)
                      + (" &nbsp;*(intervals refining …)*" if iv and refining else ""))

    draw(None)
    if not d.exact:
        st.warning(approx_text(d), icon=":material/casino:")
    return draw


def safety_lines(model: Model, d: Diagnosis) -> None:
    """Contradictory entries and the "do not miss" causes (from :mod:`bayesdx.alerts`)."""
    a = check_alerts(model.kb, d.evidence, {c.id: c.posterior for c in d.causes})
    for bad in a.inconsistent:
        st.warning(f"**Check these entries:** {bad.message}.", icon=":material/report:")
    if a.do_not_miss:
        with st.container(key="bdx-dnm"):
            st.markdown("**Do not miss** " + " ".join(
                f":red-badge[{x.label} {pct(x.probability)}]" for x in a.do_not_miss),
                help="\n\n".join(f"**{x.text}** Threshold source: {reference_text(model, x.sources)}."
                                   for x in a.do_not_miss))


def approx_text(d: Diagnosis) -> str:
    """What an approximate ranking is, in words (shown above it)."""
    inf = d.inference
    return (f"**Approximate ranking.** With {len(d.evidence)} findings the exact computation "
            f"({inf.get('exact_cost') or 'over budget'}) would take longer than this page may "
            "spend, so these probabilities come from Gibbs sampling "
            f"({inf['sampler']['chains']} chains x {inf['sampler']['sweeps']} sweeps). Each is within "
            f"about ±{100 * 2 * inf['posterior_error']:.1f} percentage points (two Monte-Carlo "
            "standard errors) of the exact value. No credible intervals or deeper analyses for an "
            "approximate ranking; `bayesdx diagnose` with a larger `--budget-seconds` gives the "
            "exact one.")


CI_HELP = ("The whisker on each bar is a 90% credible interval: the 5th to 95th percentile of the "
           "cause's probability over draws of the uncertain numbers of the model (each prior, "
           "sensitivity and leak drawn within its published range), added until every end is "
           "within about 2 percentage points (at most 1,000 draws). It shows how much the answer "
           "depends on uncertain knowledge, not how sure the diagnosis is. The first whiskers show "
           "at once, after the ranking, and are refined in place (the bar below the chart says so) "
           "until their ends are within about 2 points.")


SHOW = {"top 10": 10, "top 20": 20, "all": None}
"""How many causes the ranking shows (the first is the page's default)."""


def ranking_rows(model: Model, d: Diagnosis, families=FAMILIES) -> list[dict]:
    """The ranking's rows (:func:`bayesdx.ui.ranking.ranking_html`) for the causes of ``families``."""
    # the short label (no parenthesis) leaves the bars their width in a third of a laptop screen
    return [{"id": c.id, "label": cause_label(model, c.id), "family": c.family, "prior": c.prior,
             "posterior": c.posterior} for c in d.causes if c.family in (families or [])]


def ranking_caption(hidden: int, ci: str = "") -> str:
    """The line under the ranking: what bar and tick mean, the whiskers' note ``ci``, causes not shown."""
    return ("Bar: probability that the cause is present given the evidence; black tick: its prior "
            "in the reference population." + ci + " Causes can co-exist, so the bars need not add "
            "up to 100%." + (f" {hidden} more causes not shown." if hidden else ""))


def ranking_panel(model: Model, d: Diagnosis, top: Callable[..., None] | None = None) -> Callable[[], None]:
    """Controls (families, how many, order, intervals) and the ranking chart.

    The chart is HTML (:func:`bayesdx.ui.ranking.ranking_html`: no Vega to load or
    compile before the first paint), drawn before its controls (into a slot above
    it), so that it is among the first elements the browser receives after a change.

    Returns a function that adds the 90% credible intervals when they are
    switched on: call it last, once the rest of the page is drawn (they take
    about a second for new evidence; cached by evidence). The chart is redrawn
    in place with the whiskers added; bars, names and percentages stay the same.
    """
    ss = st.session_state
    controls = st.container()
    legend = st.empty()
    slot = st.container(key="bdx-ranking")
    with slot:
        chart = st.empty()
    note = st.empty()
    fams = ss.get("bdx.families", list(FAMILIES))
    show = ss.get("bdx.show") or next(iter(SHOW))
    order = ss.get("bdx.order") or "by probability"
    with_ci = bool(ss.get("bdx.ci"))
    rows = ranking_rows(model, d, fams)
    limit = SHOW.get(show)
    shown = rows[:limit] if limit else rows

    def draw(iv: dict[str, tuple[float, float]] | None) -> None:
        if not shown:
            chart.info("No cause in the selected families; pick a family above.")
            return
        data = [{**r, "lo": iv[r["id"]][0], "hi": iv[r["id"]][1]} if iv and r["id"] in iv else r
                for r in shown]
        chart.html(ranking_html(data, by_family=order == "by family"))

    def caption(ci: str) -> None:
        note.caption(ranking_caption(len(d.causes) - len(shown), ci))

    draw(None)
    caption("")
    legend.html(family_legend_html())
    with controls, st.container(horizontal=True, vertical_alignment="center", gap="small"):
        st.segmented_control("Show", list(SHOW), key="bdx.show", default=next(iter(SHOW)),
                             required=True, label_visibility="collapsed")
        filtered = len(fams or []) != len(FAMILIES) or order != "by probability"
        with st.popover("Families, order" + (" (set)" if filtered else ""), icon=":material/filter_list:"):
            st.segmented_control("Order", ["by probability", "by family"], key="bdx.order",
                                 default="by probability", required=True)
            st.pills("Families", list(FAMILIES), selection_mode="multi", key="bdx.families",
                     default=list(FAMILIES), help="Show only the causes of these families")
        st.toggle("90% credible intervals", key="bdx.ci", help=CI_HELP)

    def add_intervals() -> None:
        if not (with_ci and shown):
            caption("")
            return
        if not d.exact:
            caption(" No credible intervals for an approximate ranking.")
            return
        # streamed: the first stage's whiskers at once, labelled as refining, then redrawn in
        # place with the final ones (those of interval_estimate for seed 0); the progress bar
        # follows every stage (a chart redrawn at each would cost the browser more than it shows)
        note.progress(0.0, text="Computing the 90% credible intervals (draws of the model's "
                                "uncertain numbers) ...")
        try:
            for k, (iv, n, err, final) in enumerate(analysis.interval_stream(model, d.evidence)):
                if not n:
                    break
                if k == 0 or final:
                    draw(iv)
                    if top:
                        top(iv, refining=not final)
                if not final:
                    note.progress(min(1.0, n / analysis.DRAWS), text=(
                        f"Refining the 90% credible intervals: {n:,} draws so far, Monte-Carlo error "
                        f"of the ends ~{100 * (err or 0):.1f} points (target "
                        f"{100 * TOLERANCE:g}; at most {analysis.DRAWS:,} draws) ..."))
        except BayesdxError:
            n = 0
        if not n:
            caption(" The credible intervals could not be computed for this evidence.")
        else:
            caption(f" Whisker: 90% credible interval (5th-95th percentile over {n:,} draws of the "
                    "uncertain numbers of the model within their ranges; Monte-Carlo error of "
                    f"the ends ~{100 * (err or 0):.1f} points).")

    return add_intervals


def whatif_panel(model: Model, d: Diagnosis) -> None:
    """Scenario A (pinned) against the current scenario B."""
    import pandas as pd  # on first use: the first page needs no pandas (~0.3 s)
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
    import pandas as pd  # on first use: the first page needs no pandas (~0.3 s)
    if not derived.evidence:
        st.caption("No evidence yet.")
        return
    st.dataframe(pd.DataFrame([{"Finding": node_label(model, n), "Counted as": state_text(s)}
                               for n, s in derived.evidence.items()]),
                 hide_index=True, width="stretch", height=min(36 * len(derived.evidence) + 38, 420),
                 column_config={"Finding": st.column_config.TextColumn(width="large"),
                                "Counted as": st.column_config.TextColumn(width="medium")})
    for i in derived.ignored:
        st.caption(f"Not used: {md(i['field'])}: {md(i['reason'])}")
