"""bayesdx.ui.serve: the app's start-up warms the same cached model every session uses."""

from __future__ import annotations

import io

from bayesdx.ui import charts, serve, state


def test_warm_fills_the_caches_the_page_reads():
    log = io.StringIO()
    took = serve.warm(log=log)
    assert took > 0 and "first page warmed" in log.getvalue()
    model = state.get_model()
    assert state.get_model() is model  # one model per process (st.cache_resource)
    assert state.get_analysis_engine().net is model.net
    assert charts._ranking_spec.cache_info().currsize >= 1


def test_streamlit_argv_runs_this_checkouts_app_by_default():
    assert serve.APP.name == "app.py" and serve.APP.is_file()
    assert serve.streamlit_argv(["--server.port", "1"]) == ["streamlit", "run", str(serve.APP),
                                                            "--server.port", "1"]
    assert serve.streamlit_argv(["x.py"]) == ["streamlit", "run", "x.py"]
