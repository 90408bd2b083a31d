"""The Streamlit pieces of the page: evidence entry and the result panels.

Each function draws one piece; ``app.py`` arranges them. The numbers come
from :mod:`bayesdx.diagnose` and :mod:`bayesdx.explain` (through
:mod:`bayesdx.ui.state` for locking); this module only lays them out.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import streamlit as st

from ..diagnose import DISCLAIMER, Diagnosis, Model, diagnose_evidence
from ..errors import BayesdxError, ImpossibleEvidenceError
from ..explain import explain
from . import state
from .charts import (
    FAMILIES,
    chart_height,
    compare_chart,
    family_legend_html,
    ranking_chart,
    why_chart,
    why_rows,
)
from .scenario import (
    UNKNOWN,
    Derived,
    compare,
    conflict_text,
    evidence_diff,
    med_keys,
    pct,
)
from .spec import (
    TEST_GROUPS,
    FormSpec,
    NumericInput,
    TermInput,
    band_text,
    drug_text,
    human,
    state_text,
)

__all__ = [
    "CSS",
    "EVIDENCE_TABS",
    "PRIVACY",
    "any_values",
    "case_file_controls",
    "compute",
    "conflict_box",
    "evidence_list",
    "evidence_panel",
    "flashes",
    "node_label",
    "note",
    "problems_box",
    "ranking_panel",
    "share_controls",
    "tab_cbc",
    "tab_context",
    "tab_marrow",
    "tab_medication",
    "tab_smear",
    "tab_tests",
    "tab_vitamins",
    "top_summary",
    "whatif_panel",
    "why_panel",
]

K = state.K
W = state.W

CSS = """<style>
.block-container {padding-top: 1.4rem; padding-bottom: 1rem;}
.st-key-bdx-top p {font-size: 1.02rem;}
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

PRIVACY = ("Nothing you enter is stored or sent anywhere: it stays in this browser tab and the "
           "local app process. The address bar holds the findings (no names, no numbers) so a "
           "scenario can be shared; case files are saved only where you download them.")


# --------------------------------------------------------------------------- small helpers


def node_label(model: Model, node: str) -> str:
    """A node's label for messages."""
    return model.net.labels.get(node, node)


def _badge(node_state: str, baseline: bool, severe: bool) -> str:
    color = "green" if baseline else ("red" if severe else "orange")
    return f":{color}-badge[{state_text(node_state)}]"


def _field_errors(derived: Derived, fid: str) -> None:
    for msg in derived.field_errors.get(fid, []):
        st.markdown(f":red[**Not used:** {msg}]")


# --------------------------------------------------------------------------- evidence entry


def _numeric_row(model: Model, nin: NumericInput, values: dict[str, Any], derived: Derived,
                 placeholder: str) -> None:
    """One measure on one line: name, value, unit, the band the model uses; errors below."""
    c0, c1, c2, c3 = st.columns([1.75, 1.25, 1.05, 1.15], vertical_alignment="center")
    c0.markdown(f"**{nin.label}**", help=band_text(nin) or None)
    c1.text_input(nin.label, key=W(nin.fid), placeholder=placeholder, label_visibility="collapsed")
    c2.selectbox(f"{nin.label}: unit", nin.units, key=W(f"{nin.fid}@unit", nin.unit),
                 label_visibility="collapsed")
    typed = str(values.get(nin.fid) or "").strip()
    badge = ""
    if typed and nin.fid in derived.field_errors:
        badge = ":red-badge[:material/error: check the value]"
    elif typed:
        ignored = [i for i in derived.ignored if i.get("field") == nin.fid]
        shown = []
        for node in nin.nodes:
            s = derived.evidence.get(node)
            if s is not None:
                states = model.net.states[node]
                if len(nin.nodes) > 1 and s == states[0] and node != nin.nodes[0]:
                    continue  # e.g. "monocytosis absent" beside a normal/low AMC
                shown.append(_badge(s, s == states[0], s == states[-1] and len(states) > 2))
        badge = ":gray-badge[not used]" if ignored else " ".join(shown)
    c3.markdown(badge or "&nbsp;")
    if typed:
        _field_errors(derived, nin.fid)


def _numeric_section(model: Model, spec: FormSpec, section: str, values: dict[str, Any], derived: Derived,
                     examples: dict[str, str]) -> None:
    for nin in spec.section_numeric(section):
        _numeric_row(model, nin, values, derived, examples.get(nin.key, "number"))


def _term_grid(terms: list[TermInput], derived: Derived, unknown_word: str = "unknown") -> None:
    with st.container(horizontal=True, gap="medium", key=None):
        for t in terms:
            options = [t.words[0], t.words[1], UNKNOWN]
            st.segmented_control(
                t.label, options, key=W(t.fid, UNKNOWN), required=True,
                format_func=lambda o, u=unknown_word: u if o == UNKNOWN else o,
                help=None)
    for t in terms:
        _field_errors(derived, t.fid)


def _section_buttons(spec: FormSpec, section: str, normal_label: str) -> None:
    with st.container(horizontal=True):
        if spec.has_normal.get(section):
            st.button(normal_label, key=f"bdx.normal.{section}", on_click=state.cb_set_section,
                      args=(spec, section, 1), help="Every finding of this section absent")
        st.button("Reset section", key=f"bdx.reset.{section}", on_click=state.cb_set_section,
                  args=(spec, section, None), type="tertiary")


def tab_cbc(model: Model, spec: FormSpec, values: dict[str, Any], derived: Derived) -> None:
    st.caption("Type a number and pick its unit (or a band word such as *severe*); the band the "
               "model uses appears on the right. The **?** beside a name shows the cut-offs.")
    _numeric_section(model, spec, "cbc", values, derived,
                     {"wbc": "e.g. 3.2", "anc": "e.g. 0.8", "alc": "e.g. 1.5", "amc": "e.g. 0.4",
                      "hb": "e.g. 12.9", "plt": "e.g. 245", "mcv": "e.g. 88", "retic": "e.g. 50",
                      "eos": "e.g. 0.1"})
    if spec.section_numeric("baseline_cbc"):
        st.markdown("**Earlier count** (before the problem or the suspect drug)")
        _numeric_section(model, spec, "baseline_cbc", values, derived,
                         {"anc": "e.g. 3.8", "weeks_ago": "e.g. 12"})


def tab_smear(model: Model, spec: FormSpec, values: dict[str, Any], derived: Derived) -> None:
    _section_buttons(spec, "smear", "Normal smear")
    _term_grid(spec.section_terms("smear"), derived)


def tab_medication(model: Model, spec: FormSpec, values: dict[str, Any], derived: Derived) -> None:
    st.caption("Type a generic or brand name. When any drug is listed the list counts as complete: "
               "drug classes not listed are taken as not taken.")
    st.multiselect("Current and recent drugs", list(spec.drugs), key=W("meds", []),
                   format_func=lambda n: spec.drugs[n].display if n in spec.drugs else n,
                   placeholder="Start typing a drug name ...")
    meds = values.get("meds") or []
    if not meds:
        st.checkbox("Takes none of these drugs (medication history taken)", key=W("meds.none", False))
    classes = model.kb.drugs.classes
    for name in meds:
        info = spec.drugs.get(name)
        if info is None:
            continue
        keys = med_keys(name)
        with st.container(border=True):
            cls = classes.get(info.cls)
            head = f"**{drug_text(name)}**" + (f" · {drug_text(info.canonical)}" if info.canonical != name else "")
            if cls is None:
                st.markdown(f"{head} · :gray[no marrow effect modelled]")
                continue
            c0, c1, c2 = st.columns([2.2, 1.4, 1.4], vertical_alignment="bottom")
            exposure = derived.evidence.get(cls.node)
            badge = f" → {_badge(exposure, exposure == 'none', 'window' in exposure)}" if exposure else ""
            c0.markdown(f"{head} · {info.cls}{badge}",
                        help=f"Risk window {cls.window[0]:g}-{cls.window[1]:g} "
                             f"{'days after the last dose' if cls.timing == 'days_since_last_dose' else 'weeks after the start'}")
            if cls.timing == "days_since_last_dose":
                c1.text_input("Days since last dose", key=W(keys["days"]), placeholder="e.g. 11")
            else:
                c1.text_input("Weeks since start", key=W(keys["weeks"]), placeholder="e.g. 9")
            c2.text_input("Stopped (weeks ago)", key=W(keys["stopped"]), placeholder="still taking")
            for k in keys.values():
                _field_errors(derived, k)
    _field_errors(derived, "meds")
    for i in derived.ignored:
        if str(i.get("field", "")).startswith("medications"):
            st.caption(f"ℹ️ {i['reason']}")


def tab_tests(model: Model, spec: FormSpec, values: dict[str, Any], derived: Derived) -> None:
    terms = {t.term: t for t in spec.section_terms("tests")}
    used: set[str] = set()
    for title, names in TEST_GROUPS.items():
        group = [terms[n] for n in names if n in terms]
        used |= {t.term for t in group}
        if group:
            st.markdown(f"**{title}**")
            _term_grid(group, derived, "not done")
    rest = [t for n, t in terms.items() if n not in used]
    if rest:
        st.markdown("**Other tests**")
        _term_grid(rest, derived, "not done")


def tab_vitamins(model: Model, spec: FormSpec, values: dict[str, Any], derived: Derived) -> None:
    st.caption("Pick the unit your laboratory reports; molar units are converted.")
    _numeric_section(model, spec, "vitamins", values, derived,
                     {"b12": "e.g. 150", "folate": "e.g. 2.1", "copper": "e.g. 40",
                      "ceruloplasmin": "e.g. 12", "mma": "e.g. 0.5 or elevated", "zinc": "e.g. 180"})


def tab_marrow(model: Model, spec: FormSpec, values: dict[str, Any], derived: Derived) -> None:
    st.selectbox("Cellularity", [UNKNOWN, *spec.cellularity], key=W("marrow.cellularity", UNKNOWN),
                 format_func=lambda s: "unknown / not done" if s == UNKNOWN else s)
    _field_errors(derived, "marrow.cellularity")
    _section_buttons(spec, "marrow_findings", "No abnormal findings")
    _term_grid(spec.section_terms("marrow_findings"), derived)


def tab_context(model: Model, spec: FormSpec, values: dict[str, Any], derived: Derived) -> None:
    c1, c2, c3, c4 = st.columns(4)
    c1.text_input("Age (years)", key=W("age_years"), placeholder="e.g. 34 or 9 months")
    age_group = derived.evidence.get("age_group")
    if age_group and str(values.get("age_years") or "").strip():
        c1.caption(f"age group: {age_group}")
    fmt = {"sex": "Sex", "ancestry": "Ancestry", "duration": "Duration"}
    for col, key in ((c2, "sex"), (c3, "ancestry"), (c4, "duration")):
        opts = [UNKNOWN, *[o for o in spec.categorical.get(key, ()) if o != UNKNOWN]]
        col.selectbox(fmt[key], opts, key=W(key, UNKNOWN), format_func=lambda s: s.replace("_", " "))
    for fid in ("age_years", "sex", "ancestry", "duration"):
        _field_errors(derived, fid)
    st.markdown("**Known conditions and exposures**")
    _term_grid(spec.section_terms("history", context=True), derived)
    st.markdown("**Symptoms and signs**")
    _term_grid(spec.section_terms("history", context=False), derived)


EVIDENCE_TABS = (("Blood count", tab_cbc), ("Smear", tab_smear), ("Medication", tab_medication),
                 ("Tests", tab_tests), ("Vitamins", tab_vitamins), ("Marrow", tab_marrow),
                 ("Context & history", tab_context))


def evidence_panel(model: Model, spec: FormSpec, values: dict[str, Any], derived: Derived) -> None:
    """The evidence form: one tab per family of findings; only the open tab is drawn.

    (Fewer elements per rerun keep the click-to-redraw time low; the values of
    the other tabs live in :data:`bayesdx.ui.state.VALUES`. Tab titles must not
    change between reruns: a new title resets the open tab.)
    """
    tabs = st.tabs([name for name, _ in EVIDENCE_TABS], key="bdx.etab", on_change="rerun")
    for tab, (_, draw) in zip(tabs, EVIDENCE_TABS):
        if tab.open:
            with tab:
                draw(model, spec, values, derived)
    direct = st.session_state.get("bdx.direct") or {}
    if direct:
        with st.container(border=True, key="bdx-direct"):
            options = list(direct)
            st.session_state["bdx.direct_pills"] = options  # every item shown as selected
            st.pills("**Other evidence** (from a link or a case file; no field of the form holds it). "
                     "Click an item to remove it.", options, selection_mode="multi", key="bdx.direct_pills",
                     format_func=lambda n: _direct_text(model, n, direct.get(n, ""), derived),
                     on_change=state.cb_direct_pills)
            for node in options:
                _field_errors(derived, f"evidence.{node}")


def _direct_text(model: Model, node: str, s: str, derived: Derived) -> str:
    text = f"{node_label(model, node)}: {state_text(s)}"
    return text + " (overridden by a field)" if node in derived.overridden else text


# --------------------------------------------------------------------------- results


def problems_box(model: Model, spec: FormSpec, derived: Derived) -> None:
    """Inputs that could not be read (each also shown beside its field)."""
    if not derived.problems:
        return
    lines = []
    for fid, _path, msg in derived.problems:
        lines.append(f"- **{_field_label(model, spec, fid)}**: {msg}")
    st.warning("Some inputs could not be used and are left out of the ranking until fixed:\n"
               + "\n".join(lines), icon="⚠️")


def _field_label(model: Model, spec: FormSpec, fid: str) -> str:
    if fid in spec.numeric:
        n = spec.numeric[fid]
        return n.label
    if fid in spec.terms:
        return spec.terms[fid].label
    if fid.startswith("med."):
        _, name, short = fid.split(".", 2)
        what = {"weeks": "weeks since start", "stopped": "stopped (weeks ago)",
                "days": "days since last dose"}.get(short, short)
        return f"{drug_text(name)}: {what}"
    if fid.startswith("evidence."):
        return node_label(model, fid.split(".", 1)[1])
    return {"age_years": "Age", "meds": "Medication", "marrow.cellularity": "Marrow cellularity",
            "cbc": "Blood count", "baseline_cbc": "Earlier count"}.get(fid, human(fid.replace(".", "_")))


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


@st.cache_data(max_entries=256, show_spinner=False)
def _explain_cached(_model: Model, digest: str, cause: str, evidence: tuple[tuple[str, str], ...]):
    engine = state.get_explain_engine()
    with state.explain_lock():
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


def note() -> None:
    """The visible disclaimer and privacy note."""
    st.caption(f"**{DISCLAIMER}** {PRIVACY}")


def flashes() -> None:
    """One-shot messages from callbacks (upload, link, pin)."""
    for kind, text in st.session_state.pop("bdx.flash", []):
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
        st.caption("This link opens the same findings (node=state pairs; no numbers, no names). "
                   "It is also in the address bar.")
        st.code(link or "(no findings yet)", language=None, wrap_lines=True)


def any_values(values: dict[str, Any]) -> bool:
    """True when the form holds anything."""
    return any(v not in ("", UNKNOWN, [], False, None) for k, v in values.items()
               if not k.endswith("@unit"))
