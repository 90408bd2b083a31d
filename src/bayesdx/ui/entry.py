"""The evidence form (left): one tab per family of findings, and what could not be read.

Each field shows, beside it, the band the model uses or why it is not used.
Values live in session state (:mod:`bayesdx.ui.state`); the form only draws
them. No probabilities here.
"""

from __future__ import annotations

import re
from typing import Any

import streamlit as st

from ..diagnosis import Model
from . import state
from .labels import node_label
from .markup import md
from .scenario import Derived
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
from ..case.typed import normalise_number, read_typed
from .quick import cb_add_drug, paste_box, tab_value_to_value
from .values import UNKNOWN, med_keys

__all__ = [
    "EVIDENCE_TABS",
    "context_row",
    "form_words",
    "normalised",
    "evidence_panel",
    "problems_box",
    "tab_cbc",
    "tab_context",
    "tab_marrow",
    "tab_medication",
    "tab_smear",
    "tab_tests",
    "tab_vitamins",
]

W = state.W


def _badge(node_state: str, baseline: bool, severe: bool) -> str:
    color = "green" if baseline else ("red" if severe else "orange")
    return f":{color}-badge[{state_text(node_state)}]"


def form_words(msg: str) -> str:
    """A reader's message in the form's words: ``try hb: 10 or hb: "100 g/L"`` -> ``try 10 or 100 g/L``.

    >>> form_words('must be 1 to 25 g/dL; got 89; try checking the value and its unit, e.g. hb: 10 or hb: "100 g/L"')
    'must be 1 to 25 g/dL; got 89; try checking the value and its unit, e.g. 10 or 100 g/L'
    >>> form_words("must be a percentage from 0 to 100; got 150; try marrow.blasts_percent: 35")
    'must be a percentage from 0 to 100; got 150; try 35'
    >>> form_words("must list each drug once (also medications[0])")
    'must list each drug once (also listed above)'
    """
    path = r"\b[a-z_]+(?:\.[a-z_]+)*"  # a field, or a dotted field path
    msg = re.sub(path + r': "([^"]*)"', r"\1", msg)
    msg = re.sub(path + r": (?=[<>0-9])", "", msg)
    msg = re.sub(r"medications\[\d+\](\.\w+)?", "listed above", msg)
    return msg.replace("a string \"value unit\"", "a number with its unit")


def _field_errors(derived: Derived, fid: str) -> None:
    for msg in derived.field_errors.get(fid, []):
        st.markdown(f":red[**Not used:** {md(form_words(msg))}]")


def normalised(values: dict[str, Any], spec: FormSpec) -> dict[str, Any]:
    """The form values with decimal commas read as points (``0,2`` -> ``0.2``)."""
    out = dict(values)
    for fid in spec.numeric:
        if isinstance(out.get(fid), str) and "," in out[fid]:
            out[fid] = normalise_number(out[fid])
    return out


def _use_unit(fid: str, unit: str) -> None:
    state.set_field(f"{fid}@unit", unit)


# --------------------------------------------------------------------------- evidence entry


def _numeric_row(model: Model, nin: NumericInput, values: dict[str, Any], derived: Derived,
                 placeholder: str) -> None:
    """One measure on one line: name, value, unit, the band the model uses; errors below."""
    c0, c1, c2, c3 = st.columns([1.75, 1.25, 1.05, 1.15], vertical_alignment="center")
    c0.markdown(f"**{nin.label}**", help="  \n".join(band_text(nin).splitlines()) or None)  # one line per band
    c1.text_input(nin.label, key=W(nin.fid), placeholder=placeholder, label_visibility="collapsed")
    c2.selectbox(f"{nin.label}: unit", nin.units, key=W(f"{nin.fid}@unit", nin.unit),
                 label_visibility="collapsed")
    typed = str(values.get(nin.fid) or "").strip()
    badge = ""
    t = read_typed(model.kb, nin.section, nin.key, typed, values.get(f"{nin.fid}@unit") or nin.unit) \
        if typed and typed[:1] in "<>0123456789" else None
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
        if t is not None and t.shown and not ignored:
            badge = f":gray[{t.shown}] " + badge
    c3.markdown(badge or "&nbsp;")
    # everything below the row goes into one container that is always there: the rows keep their
    # places in the page, so a message appearing above never remounts (and unfocuses) the next field
    below = st.container(key=f"bdx-below-{nin.fid.replace('.', '-')}", gap=None)
    if typed:
        with below:
            _field_errors(derived, nin.fid)
            for i in derived.ignored:
                if i.get("field") == nin.fid:
                    st.caption(f"Not used: {form_words(str(i.get('reason', '')))}")
    if t is not None and t.alternatives and nin.fid in derived.field_errors:
        with below, st.container(horizontal=True):
            for u in t.alternatives:
                st.button(f"Read {typed} as {typed} {u}", key=f"bdx.unit.{nin.fid}.{u}", on_click=_use_unit,
                          args=(nin.fid, u), icon=":material/swap_horiz:")


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
    with st.container(key="bdx-cbc"):
        paste_box(model, spec)
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
    tab_value_to_value()


def tab_smear(model: Model, spec: FormSpec, values: dict[str, Any], derived: Derived) -> None:
    _section_buttons(spec, "smear", "Normal smear")
    _term_grid(spec.section_terms("smear"), derived)


def tab_medication(model: Model, spec: FormSpec, values: dict[str, Any], derived: Derived) -> None:
    st.caption("Type a generic or brand name (or its first letters) and press Enter: the best match is "
               "added as its generic name. When any drug is listed the list counts as complete: drug "
               "classes not listed are taken as not taken.")
    st.text_input("Add a drug", key="bdx.add_drug", on_change=cb_add_drug, args=(model,),
                  placeholder="e.g. cloza, Tegretol, metamizole ... then Enter")
    note = st.session_state.get("bdx.drug_note")
    if note:
        st.markdown(note)
    meds = values.get("meds") or []
    generics = [n for n, d in spec.drugs.items() if d.canonical == n]
    st.multiselect("Current and recent drugs", list(dict.fromkeys([*generics, *meds])), key=W("meds", []),
                   format_func=lambda n: spec.drugs[n].display if n in spec.drugs else n,
                   placeholder="none listed", help="Remove a drug with its ×; add one in the box above.")
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
            st.caption(f"ℹ️ {md(i['reason'])}")


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
    cuts = spec.kb.mapping.marrow_blasts_percent
    st.text_input("Blasts (% of marrow cells)", key=W("marrow.blasts_percent", ""), placeholder="e.g. 35",
                  help="The blast count of the aspirate. "
                       + "; ".join(f"from {v:g} %: {node_label(model, n).lower()}" for n, v in cuts.items())
                       + ". Leave empty when not counted.")
    _field_errors(derived, "marrow.blasts_percent")
    _section_buttons(spec, "marrow_findings", "No abnormal findings")
    _term_grid(spec.section_terms("marrow_findings"), derived)


def context_row(model: Model, spec: FormSpec, values: dict[str, Any], derived: Derived) -> None:
    """Age, sex, ancestry and duration: above the tabs, always visible (they change everything)."""
    with st.container(key="bdx-context"):
        # two by two: each box keeps room for its longest option in a third of a laptop screen
        c1, c2 = st.columns(2)
        c3, c4 = st.columns(2)
        c1.text_input("Age (years)", key=W("age_years"), placeholder="e.g. 34 or 9 months")
        fmt = {"sex": "Sex", "ancestry": "Ancestry", "duration": "Duration"}
        for col, key in ((c2, "sex"), (c3, "ancestry"), (c4, "duration")):
            opts = [UNKNOWN, *[o for o in spec.categorical.get(key, ()) if o != UNKNOWN]]
            col.selectbox(fmt[key], opts, key=W(key, UNKNOWN), format_func=lambda s: s.replace("_", " "))
        for fid in ("age_years", "sex", "ancestry", "duration"):
            _field_errors(derived, fid)


def tab_context(model: Model, spec: FormSpec, values: dict[str, Any], derived: Derived) -> None:
    st.markdown("**Known conditions and exposures**")
    _term_grid(spec.section_terms("history", context=True), derived)
    st.markdown("**Symptoms and signs**")
    _term_grid(spec.section_terms("history", context=False), derived)


EVIDENCE_TABS = (("Blood count", tab_cbc), ("Smear", tab_smear), ("Medication", tab_medication),
                 ("Tests", tab_tests), ("Vitamins", tab_vitamins), ("Marrow", tab_marrow),
                 ("History", tab_context))


def evidence_panel(model: Model, spec: FormSpec, values: dict[str, Any], derived: Derived) -> None:
    """The evidence form: one tab per family of findings; only the open tab is drawn.

    (Fewer elements per rerun keep the click-to-redraw time low; the values of
    the other tabs live in :data:`bayesdx.ui.state.VALUES`. Tab titles must not
    change between reruns: a new title resets the open tab.)
    """
    context_row(model, spec, values, derived)
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


def problems_box(model: Model, spec: FormSpec, derived: Derived) -> None:
    """Inputs that could not be read (each also shown beside its field)."""
    if not derived.problems:
        return
    lines = []
    for fid, _path, msg in derived.problems:
        lines.append(f"- **{_field_label(model, spec, fid)}**: {md(form_words(msg))}")
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
            "marrow.blasts_percent": "Marrow blasts (%)",
            "cbc": "Blood count", "baseline_cbc": "Earlier count"}.get(fid, human(fid.replace(".", "_")))
