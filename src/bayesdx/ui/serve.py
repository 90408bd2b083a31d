"""Start the app with the model loaded and the first page warmed while the server starts.

``streamlit run app.py`` runs nothing of the app until a browser opens it, so
the first visitor waited for the imports, the knowledge, the compiled kernel
and the first chart (about 4 s). ``python -m bayesdx.ui.serve [options]``
(what ``./dev app`` runs) starts ``streamlit run app.py [options]`` in this
process and, beside it, a thread that does that work at once
(:func:`warm`): it imports the app's pieces, builds the model through the
same cached :func:`bayesdx.ui.state.get_model` every session uses (one model
per process, ``st.cache_resource``), runs the rankings of the empty page and
of an ANC alone (their plans stay in the engine's cache), makes the analysis
engine and builds the ranking chart's spec. A session that opens
the page while this is still running waits for the same cached model (never
a second copy).

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

__all__ = ["APP", "WARM_THREAD", "main", "streamlit_argv", "warm"]

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


def warm(log=None) -> float:
    """Load and warm what the first page needs; returns the seconds it took.

    A knowledge error is left for the page to show (it reports it in full).
    """
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(_QUIET)
    t0 = time.perf_counter()
    from ..errors import KnowledgeError
    from . import analysis, charts, entry, explanation, page, results, state  # noqa: F401 - the app's pieces

    try:
        model = state.get_model()  # also warms the empty evidence's plan and the case reader
    except KnowledgeError:
        return time.perf_counter() - t0
    from ..diagnosis import diagnose_evidence
    from .spec import form_spec

    form_spec(model.kb)
    diagnose_evidence(model, {}, draws=0, scores=False)  # the first page's ranking
    for band in model.net.states.get("anc", ()):  # and the first thing entered: an ANC, alone
        diagnose_evidence(model, {"anc": band}, draws=0, scores=False)
    state.get_analysis_engine()
    charts._ranking_spec(10)  # the ranking chart's spec (Altair validates it once; cached)
    took = time.perf_counter() - t0
    if log is not None:
        print(f"bayesdx: model loaded and first page warmed in {took:.1f} s", file=log, flush=True)
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
    threading.Thread(target=warm, kwargs={"log": sys.stderr}, daemon=True, name=WARM_THREAD).start()
    sys.argv = args
    try:
        cli.main(prog_name="streamlit")
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
