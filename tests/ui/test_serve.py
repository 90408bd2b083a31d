"""bayesdx.ui.serve: the app's start-up warms the same cached model every session uses."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

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


def test_options_are_typed_as_streamlits_and_bad_ones_are_named():
    script, opts = serve.parse_options(["--server.port", "8502", "--server.headless=false",
                                        "--server.allowedHosts", "a", "--server.allowedHosts=b"])
    assert script == serve.APP
    assert opts == {"server.port": 8502, "server.headless": False, "server.allowedHosts": ["a", "b"]}
    assert serve.parse_options(["x.py"]) == (Path("x.py"), {})
    for argv, says in [(["--server.port", "eighty"], "--server.port: must be an integer; got 'eighty'"),
                       (["--server.prot", "1"], "--server.prot: must be one of Streamlit's config options"),
                       (["--server.headless", "perhaps"], "--server.headless: must be true or false"),
                       (["--server.port"], "--server.port: must have a value"),
                       (["port"], "'port': must be an option such as --server.port 8502")]:
        with pytest.raises(serve.UsageError, match=re.escape(says)):
            serve.parse_options(argv)


def test_main_says_what_is_wrong_and_exits_2(capsys):
    assert serve.main(["--server.port", "eighty"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("bayesdx app: --server.port: must be an integer") and "Traceback" not in err
    assert serve.main(["--help"]) == 0 and "usage: python -m bayesdx.ui.serve" in capsys.readouterr().out


def test_the_app_has_the_pages_own_route():
    app = serve.build_app()
    assert app.script_path == serve.APP
    assert [r.path for r in app._user_routes] == ["/"]


def test_the_preloaded_modules_need_no_streamlit_runtime():
    """They may be imported before the server starts: none may declare a Streamlit cache then."""
    import subprocess
    import sys

    code = ("import streamlit; from bayesdx.ui import serve; serve.preload(); "
            "import sys; print(all(m in sys.modules for m in serve.PRELOAD))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "True", out.stderr
    assert "No runtime found" not in out.stderr
