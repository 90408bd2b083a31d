"""bayesdx.ui.serve: the app's start-up warms the same cached model every session uses."""

from __future__ import annotations

import io

from bayesdx.inference.evidence import Pattern
from bayesdx.ui import serve, state


def test_warm_fills_the_caches_the_page_reads():
    log = io.StringIO()
    took = serve.warm(log=log)
    assert took > 0 and "first page warmed" in log.getvalue()
    model = state.get_model()
    assert state.get_model() is model  # one model per process (st.cache_resource)
    assert state.get_analysis_engine().net is model.net
    # the empty page's ranking was run (numpy until the kernel is loaded): its plan is cached
    assert Pattern.of(model.net, [{}]) in model.engine.plan_cache.plans or state.KERNEL_READY.is_set()


def test_streamlit_argv_runs_this_checkouts_app_by_default():
    assert serve.APP.name == "app.py" and serve.APP.is_file()
    assert serve.streamlit_argv(["--server.port", "1"]) == ["streamlit", "run", str(serve.APP),
                                                            "--server.port", "1"]
    assert serve.streamlit_argv(["x.py"]) == ["streamlit", "run", "x.py"]


def test_rankings_before_the_kernel_is_loaded_are_the_same_numbers():
    """Until numba is loaded the app ranks on the numpy reference path (state.ranking_model):
    the same posteriors as the app's own engine to rounding, on light evidence of every kind."""
    from bayesdx.diagnosis import diagnose_evidence

    model = state.get_model()
    start = state.ranking_model(model)
    if start is model:  # the kernel was loaded before this test: build the reference as the app does
        state.KERNEL_READY.clear()
        try:
            start = state.ranking_model(model)
        finally:
            state.KERNEL_READY.set()
    assert start.engine.kernel == "numpy" and model.engine.kernel == "auto"
    assert start.engine.plan_cache is model.engine.plan_cache and start.net is model.net
    states = model.net.states
    sets = [{}, *({"anc": s} for s in states["anc"]),
            {"anc": states["anc"][-1], "exposure_antipsychotic": states["exposure_antipsychotic"][-1]},
            {"anc": states["anc"][-1], "hb": states["hb"][0], "plt": states["plt"][0]}]
    for ev in sets:
        a = diagnose_evidence(start, ev, draws=0, scores=False)
        b = diagnose_evidence(model, ev, draws=0, scores=False)
        pa, pb = ({c.id: c.posterior for c in d.causes} for d in (a, b))
        assert max(abs(pa[k] - pb[k]) for k in pa) <= 1e-12, ev


def test_the_kernel_thread_loads_the_kernel_and_switches_the_ranking_to_it():
    model = state.get_model()
    state._warm_kernel(model, wait=0.0)  # as its thread does once a first page is drawn
    assert state.KERNEL_READY.is_set() and state.ranking_model(model) is model
    assert "numba" in __import__("sys").modules
