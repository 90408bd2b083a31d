"""Streamlit plumbing: the cached model, session state, callbacks.

The widgets are the scenario's memory: the form value of field ``fid`` lives
in ``st.session_state["w:" + fid]``. Everything that replaces the form
(clear, open a case file, a shared link, back to A) runs in a callback or
before the widgets are drawn, as Streamlit requires. Non-widget state:
``bdx.direct`` (evidence without a field), ``bdx.pin`` (scenario A),
``bdx.flash`` (one-shot messages).

Nothing is written to disk and nothing leaves the process: session state
lives in memory for the browser tab only.
"""

from __future__ import annotations

import dataclasses
import gc
import itertools
import threading
from typing import Any

import streamlit as st

from ..diagnosis import Model, diagnose_evidence, load_model
from ..inference.engine import Engine
from ..errors import BayesdxError, CaseError
from .markup import md
from .scenario import derive
from .share import evidence_to_query, load_case_text, open_link, values_from_evidence
from .link import values_to_params
from .spec import FormSpec, form_spec
from .values import UNKNOWN, case_to_values, default_values, med_keys

__all__ = ["APP_PLANS", "FIRST_RUN_DONE", "KERNEL_READY", "KERNEL_WAIT_S", "VALUES", "K", "W", "current_values",
           "end_of_run", "get_analysis_engine", "get_model", "init_session", "ranking_model", "set_field",
           "sync_url"]

APP_PLANS = 768
"""Compiled plans kept by the app's engines together (~0.2 MB each; one cache shared
by the ranking's engine, the analyses' engine and the sessions' engines): an
explanation needs one plan per finding, and compiling costs more than running."""

PREFIX = "w:"


def K(fid: str) -> str:
    """The session-state key of the widget of field ``fid``."""
    return PREFIX + fid


@st.cache_resource(show_spinner="Loading the model ...")
def get_model() -> Model:
    """The built model, once per process (read-only, shared by every session), with an
    engine of its own whose plan cache holds :data:`APP_PLANS` (shared by every engine of
    the app: :func:`get_analysis_engine`, :func:`bayesdx.ui.jobs.session_model`).

    The compiled kernel (numba) is loaded by a thread of its own once a first page
    is drawn (:func:`_warm_kernel`); until then light rankings run on the numpy
    reference path (:func:`ranking_model`)."""
    built = load_model()
    model = dataclasses.replace(built, engine=Engine(built.net, cache_size=APP_PLANS))
    from ..case import parse_case

    # warm up: the unit registry (the case reader)
    parse_case({"age_years": 30, "cbc": {"anc": "500 /uL"}, "vitamins": {"b12": "100 pmol/L"}}, model.kb)
    threading.Thread(target=_warm_kernel, args=(model,), daemon=True, name="bayesdx-warm").start()
    # Streamlit runs a full garbage collection after every script run
    # (runner.postScriptGC). With numpy, scipy, pint, altair and the model loaded
    # that took ~85 ms of CPU per rerun; freezing what exists now (modules, the
    # model: all long-lived) leaves only each run's own objects to scan.
    gc.collect()
    gc.freeze()
    return model


KERNEL_WAIT_S = 30.0
"""Longest the kernel's warm-up waits for a first page to be drawn (:func:`_warm_kernel`)."""

KERNEL_READY = threading.Event()
"""Set once the app's engine has loaded its compiled kernel (:func:`_warm_kernel`): from then
on :func:`ranking_model` is the app's model itself."""

_REFERENCE: dict[int, Model] = {}
_REFERENCE_LOCK = threading.Lock()


def ranking_model(model: Model) -> Model:
    """The model that ranks light evidence in this run.

    Once the compiled kernel is loaded (:data:`KERNEL_READY`), ``model`` itself.
    Before that, the same model with an engine on the numpy reference path
    (``Engine(kernel="numpy")``, the same plan cache): loading numba costs about
    0.6 s of CPU once per process (its import, its cached kernel and the
    ``scipy.linalg`` import of its BLAS check), while the numpy path ranks the
    empty page in ~20 ms, so the first page does not wait for numba. The engine
    cross-checks both paths (same numbers to ~1e-15; ``tests/ui/test_ui.py``
    compares them on the app's own rankings). Each engine's choice of path
    depends on the query only; which engine answers depends on whether the
    kernel is loaded yet.
    """
    if KERNEL_READY.is_set():
        return model
    with _REFERENCE_LOCK:
        ref = _REFERENCE.get(id(model))
        if ref is None or ref.net is not model.net:
            ref = dataclasses.replace(model, engine=Engine(model.net, kernel="numpy",
                                                           plan_cache=model.engine.plan_cache))
            _REFERENCE[id(model)] = ref
        return ref


def _warm_kernel(model: Model, wait: float = KERNEL_WAIT_S) -> None:
    """Once a first page is drawn (:data:`FIRST_RUN_DONE`, at most ``wait`` seconds): load the
    compiled kernel and the light program (the empty page's and an ANC's rankings), set
    :data:`KERNEL_READY`, then load the compiled sampler (numba: ~1 s; compiled on first use
    ever). Python runs one thread at a time, so done earlier this would delay the first page."""
    FIRST_RUN_DONE.wait(wait)
    diagnose_evidence(model, {}, draws=0)
    for band in model.net.states.get("anc", ()):
        diagnose_evidence(model, {"anc": band}, draws=0, scores=False)
    KERNEL_READY.set()
    from ..inference.approx import gibbs_posterior

    gibbs_posterior(model.net, {"anc": model.net.states["anc"][-1]}, chains=2, sweeps=4)


FULL_GC_EVERY = 64
"""Runs between two full garbage collections (see :func:`end_of_run`)."""

_RUNS = itertools.count(1)

FIRST_RUN_DONE = threading.Event()
"""Set at the end of the first script run of the process (a page drawn): what the first page
does not need is warmed after it (:func:`bayesdx.ui.serve.warm`)."""


def end_of_run() -> None:
    """Call last in the script: keep Streamlit's post-run garbage collection cheap.

    Streamlit collects garbage after every script run (``runner.postScriptGC``),
    a full collection that scans every tracked object. The engines' plan caches
    grow with the evidence patterns seen (a few hundred plans, ~300,000 small
    objects), and scanning them took ~200 ms of CPU per run. So what exists at
    the end of a run is frozen (:func:`gc.freeze`: not scanned; reference
    counting still frees it), and every :data:`FULL_GC_EVERY` runs everything
    is unfrozen and collected once, which frees whatever has become cyclic
    garbage in the meantime. (The page is drawn by then; only the run's end
    waits.)
    """
    FIRST_RUN_DONE.set()
    if next(_RUNS) % FULL_GC_EVERY == 0:
        gc.unfreeze()
        gc.collect()
    gc.freeze()


@st.cache_resource(show_spinner=False)
def get_analysis_engine() -> Engine:
    """A second engine on the same network, for the slower analyses of :mod:`bayesdx.ui.analysis`.

    An explanation runs one query per finding (0.1-0.3 s for a full case),
    the credible intervals up to 1,000 draws, the sensitivity two runs per number.
    It shares the ranking engine's compiled plans (:data:`APP_PLANS`: room for
    both), so the plan of the evidence on screen, compiled for its ranking, is not
    compiled again for its intervals. Both engines are safe to query from every
    session's thread at once (they lock their own caches, never a whole query).
    """
    model = get_model()
    return Engine(model.net, plan_cache=model.engine.plan_cache)


# --------------------------------------------------------------------------- values

VALUES = "bdx.values"
"""Session-state key of the form values (field id -> value), the scenario's memory.

Only the open evidence tab draws its widgets; Streamlit forgets the state of
widgets it did not draw, so every value is also kept here."""


def W(fid: str, default: Any = "") -> str:
    """The key of the widget of field ``fid``, primed from the stored value; call it when drawing."""
    ss = st.session_state
    k = K(fid)
    if k not in ss:
        ss[k] = ss.get(VALUES, {}).get(fid, default)
    return k


def current_values(spec: FormSpec) -> dict[str, Any]:
    """The form values of this session (field id -> value), updated from the drawn widgets."""
    ss = st.session_state
    values = ss.setdefault(VALUES, default_values(spec))
    for fid, default in default_values(spec).items():
        values.setdefault(fid, default)
    for fid in list(values):
        if K(fid) in ss:
            values[fid] = ss[K(fid)]
    meds = values.get("meds") or []
    for key in [k for k in values if k.startswith("med.") and k.split(".")[1] not in meds]:
        del values[key]
    for name in meds:
        for key in med_keys(name).values():
            values[key] = ss[K(key)] if K(key) in ss else values.get(key, "")
    return dict(values)


def _set_values(values: dict[str, Any]) -> None:
    """Replace the form values (from a callback or before the widgets are drawn)."""
    ss = st.session_state
    for key in [k for k in ss if isinstance(k, str) and k.startswith(PREFIX)]:
        del ss[key]
    ss[VALUES] = dict(values)


def flash(kind: str, text: str) -> None:
    """A message shown once at the top of the next run."""
    st.session_state.setdefault("bdx.flash", []).append((kind, text))


def init_session(model: Model) -> None:
    """First run of a session: the form values, from the URL when it holds a scenario."""
    spec = form_spec(model.kb)
    ss = st.session_state
    if "bdx.init" not in ss:
        ss["bdx.init"] = True
        ss["bdx.direct"] = {}
        ss["bdx.upload"] = 0
        ss[VALUES] = default_values(spec)
        params = {k: st.query_params.get_all(k) for k in st.query_params}
        if not params:
            return
        opened = open_link(model, params)
        _set_values(opened.values)
        ss["bdx.direct"] = dict(opened.direct)
        for m in opened.warnings:  # they quote the link's own text: shown as typed, never rendered
            flash("warning", md(m))
        if opened.info:
            flash("info", opened.info)


def sync_url(evidence: dict[str, str], kb, values: dict[str, Any] | None = None) -> None:
    """Keep the address bar equal to the evidence (``node=state``) and the fields as entered (``f.``)."""
    want = evidence_to_query(evidence, kb)
    if values is not None:
        want.update(values_to_params(values, form_spec(kb)))
    have = {k: st.query_params.get(k) for k in st.query_params}
    if have != want:
        st.query_params.from_dict(want)


# --------------------------------------------------------------------------- callbacks


def cb_clear(model: Model) -> None:
    """Clear every finding (one click)."""
    _set_values(default_values(form_spec(model.kb)))
    st.session_state["bdx.direct"] = {}
    st.session_state["bdx.upload"] = st.session_state.get("bdx.upload", 0) + 1


def set_field(fid: str, value: Any) -> None:
    """Set one form value (from a callback)."""
    st.session_state.setdefault(VALUES, {})[fid] = value
    st.session_state[K(fid)] = value


_set_field = set_field


def cb_set_section(spec: FormSpec, section: str, which: int | None) -> None:
    """Set every term of a section to present/absent word ``which`` (0, 1) or unknown (None)."""
    for t in spec.section_terms(section):
        _set_field(t.fid, UNKNOWN if which is None else t.words[which])


def cb_direct_pills() -> None:
    """Keep only the directly set findings still selected in the pills."""
    keep = set(st.session_state.get("bdx.direct_pills") or [])
    direct = st.session_state.get("bdx.direct", {})
    for node in [n for n in direct if n not in keep]:
        del direct[node]


def cb_remove_direct(node: str) -> None:
    """Drop one directly set finding."""
    st.session_state.get("bdx.direct", {}).pop(node, None)


def cb_clear_node(model: Model, node: str) -> None:
    """Remove a node from the evidence, whichever field sets it."""
    spec = form_spec(model.kb)
    defaults = default_values(spec)
    cb_remove_direct(node)
    for fid, nodes in spec.field_nodes().items():
        if node in nodes:
            if fid == "meds":
                _set_field("meds", [])
                _set_field("meds.none", False)
            else:
                _set_field(fid, defaults[fid])


def cb_pin(model: Model) -> None:
    """Pin the current scenario as A."""
    spec = form_spec(model.kb)
    values = current_values(spec)
    direct = dict(st.session_state.get("bdx.direct", {}))
    d = derive(model, values, direct)
    from . import jobs

    try:
        if jobs.is_light(model, d.evidence):
            dx = diagnose_evidence(ranking_model(model), d.evidence, draws=0, scores=False,
                                   budget=jobs.APP_BUDGET)
        else:  # the session's job (usually finished: the ranking on screen)
            job = jobs.start(model, d.evidence, st.session_state)
            job.wait(60.0)
            dx = job.outcome()
            if isinstance(dx, BayesdxError):
                raise dx
    except BayesdxError as exc:
        flash("error", f"Scenario A could not be pinned: {md(exc)}")
        return
    st.session_state["bdx.pin"] = {"values": values, "direct": direct, "evidence": dict(d.evidence),
                                   "post": {c.id: c.posterior for c in dx.causes}}


def cb_unpin() -> None:
    """Forget scenario A."""
    st.session_state.pop("bdx.pin", None)


def cb_restore(model: Model) -> None:
    """Put scenario A back into the form."""
    pin = st.session_state.get("bdx.pin")
    if pin:
        _set_values(dict(pin["values"]))
        st.session_state["bdx.direct"] = dict(pin["direct"])


def cb_upload(model: Model, key: str) -> None:
    """Open an uploaded case file (YAML or JSON, validated with parse_case)."""
    up = st.session_state.get(key)
    if up is None:
        return
    name = getattr(up, "name", "case file")
    try:
        try:
            text = up.getvalue().decode("utf-8")
        except UnicodeDecodeError:
            raise CaseError([]) from None
        case, notes = load_case_text(text, model, name)
    except CaseError as exc:
        if not exc.problems:
            flash("error", f"**{md(name)}** could not be opened: it must be a UTF-8 text file "
                           "(YAML or JSON); try saving it again as plain text.")
        else:
            lines = "\n".join(f"- {md(p)}" for p in exc.problems)
            flash("error", f"**{md(name)}** could not be opened; fix these and upload it again:\n{lines}")
        return
    spec = form_spec(model.kb)
    values, direct, more = case_to_values(case, spec)
    _set_values(values)
    st.session_state["bdx.direct"] = direct
    d = derive(model, values, direct)
    msg = f"Opened **{md(name)}**: {len(d.evidence)} findings."
    if notes or more:
        msg += "\n" + "\n".join(f"- {md(n)}" for n in [*notes, *more])
    flash("success", msg)
