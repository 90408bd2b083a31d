"""Start the app with the model loaded and the first page warmed while the server starts.

``streamlit run app.py`` runs nothing of the app until a browser opens it, so
the first visitor waited for the imports, the knowledge, the compiled kernel
and the first chart (about 4 s). ``python -m bayesdx.ui.serve [options]``
(what ``./dev app`` runs) starts ``streamlit run app.py [options]`` in this
process and, beside it, a thread that does that work (:func:`warm`) as soon
as the server has started (before, it would only slow the server: one Python
thread runs at a time): it imports the app's pieces, builds the model through
the same cached :func:`bayesdx.ui.state.get_model` every session uses (one
model per process, ``st.cache_resource``) and runs the empty page's ranking
on the numpy reference path (:func:`bayesdx.ui.state.ranking_model`); once a
first page is drawn, the model's own thread loads the compiled kernel (numba)
and this one makes the analysis engine and imports Altair for the other
charts. A session that opens the page while this is still running waits for
the same cached model (never a second copy).
``bayesdx`` itself imports its flat API on first use, so the launcher starts
the server without importing numpy or the engine first.

Examples
--------
>>> streamlit_argv(["--server.port", "8502"])[:2] == ["streamlit", "run"]
True
>>> streamlit_argv(["other.py", "--server.port", "8502"])[2]
'other.py'
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from pathlib import Path

__all__ = ["AFTER_FIRST_PAGE_WAIT_S", "APP", "SERVER_WAIT_S", "WARM_THREAD", "main", "streamlit_argv", "warm"]

APP = Path(__file__).resolve().parents[3] / "app.py"
"""The app script of this checkout."""


class _QuietWarmThread(logging.Filter):
    """Drop Streamlit's "missing ScriptRunContext" warning for the warm-up thread only (it
    fills the caches outside any page run, on purpose)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str)
                    and record.msg.startswith("Thread '%s': missing ScriptRunContext")
                    and record.args and record.args[0] == WARM_THREAD)


_QUIET = _QuietWarmThread()  # one instance: adding it again is a no-op


WARM_THREAD = "bayesdx-start"
"""Name of the warm-up thread."""


SERVER_WAIT_S = 5.0
"""Longest the warm-up waits for the server to start before it begins anyway."""

AFTER_FIRST_PAGE_WAIT_S = 30.0
"""Longest the second part of the warm-up waits for a first page to be drawn."""


def _server_started() -> bool:
    from streamlit.runtime import Runtime
    from streamlit.runtime.runtime import RuntimeState

    return Runtime.exists() and Runtime.instance().state != RuntimeState.INITIAL


def warm(log=None, serving: bool = False) -> float:
    """Load and warm what the first page needs, then the rest; returns the seconds the
    first part took.

    ``serving`` (beside a starting server, as :func:`main` runs it): first wait
    until Streamlit's server has started (polled every 10 ms, at most
    :data:`SERVER_WAIT_S`), and warm what the first page does not need only once
    a first page is drawn (:data:`~bayesdx.ui.state.FIRST_RUN_DONE`, at most
    :data:`AFTER_FIRST_PAGE_WAIT_S`). Python runs one thread at a time, so
    warming while the server starts only delays the server; once it answers,
    the browser loads Streamlit's scripts (about a second, in its own process)
    while this thread warms. A knowledge error is left for the page to show (it
    reports it in full).
    """
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(_QUIET)
    if serving:
        deadline = time.perf_counter() + SERVER_WAIT_S
        while not _server_started() and time.perf_counter() < deadline:
            time.sleep(0.01)  # a condition polled, not a fixed delay
    t0 = time.perf_counter()
    from ..errors import KnowledgeError
    from . import analysis, charts, entry, explanation, page, results, state  # noqa: F401 - the app's pieces

    try:
        model = state.get_model()  # also warms the case reader
    except KnowledgeError:
        return time.perf_counter() - t0
    from ..diagnosis import diagnose_evidence
    from .spec import form_spec

    form_spec(model.kb)
    # the first page's ranking, on the numpy path: the compiled kernel is loaded once a first
    # page is drawn (state.ranking_model; the kernel's thread then warms an ANC's rankings too)
    diagnose_evidence(state.ranking_model(model), {}, draws=0, scores=False)
    took = time.perf_counter() - t0
    if log is not None:
        print(f"bayesdx: model loaded and first page warmed in {took:.1f} s", file=log, flush=True)
    # what the first page does not need, once it is drawn (one thread runs at a time: done
    # earlier, it would delay the first page): the analysis engine, and Altair, which the
    # other charts (why, tornado, A vs B) are built with (its import and schema ~0.5 s)
    if serving:
        state.FIRST_RUN_DONE.wait(AFTER_FIRST_PAGE_WAIT_S)
    state.get_analysis_engine()
    charts.why_chart([{"finding": "x", "weight": 1.0, "lr": "odds ×10", "direction": "raises",
                       "without": "1%", "exact": "10"}])
    return took


def streamlit_argv(argv: list[str]) -> list[str]:
    """``streamlit run SCRIPT options``: SCRIPT is the first argument if it names a .py file, else app.py."""
    if argv and argv[0].endswith(".py"):
        return ["streamlit", "run", *argv]
    return ["streamlit", "run", str(APP), *argv]


def main(argv: list[str] | None = None) -> int:
    """Run the app (``streamlit run``) with :func:`warm` started beside the server."""
    from streamlit.web import cli  # streamlit itself imported here, before the thread imports the app

    args = streamlit_argv(list(sys.argv[1:] if argv is None else argv))
    threading.Thread(target=warm, kwargs={"log": sys.stderr, "serving": True}, daemon=True,
                     name=WARM_THREAD).start()
    sys.argv = args
    try:
        cli.main(prog_name="streamlit")
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
