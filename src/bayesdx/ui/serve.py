"""Start the app with the model loaded and the first page warmed while the server starts.

``streamlit run app.py`` runs nothing of the app until a browser opens it, so
the first visitor waited for the imports, the knowledge, the compiled kernel
and the first chart (about 4 s). ``python -m bayesdx.ui.serve [SCRIPT.py]
[options]`` (what ``./dev app`` runs) serves app.py as Streamlit's ASGI app
(``st.App``, :func:`build_app`) with Streamlit's config options
(:func:`parse_options`: the same ``--server.port 8502`` flags as ``streamlit
run``; the rest from ``.streamlit/config.toml`` beside the script) and two
additions:

* the page's own route (:mod:`bayesdx.ui.index_page`): Streamlit's page with
  the first page's scripts preloaded and the ranking drawn by the server
  (:mod:`bayesdx.ui.first_paint`), shown while Streamlit's scripts load;
* beside the server, a thread that warms the app (:func:`warm`) as soon as the
  server has started (before, it would only slow the server: one Python thread
  runs at a time): it imports the app's pieces, builds the model through the
  same cached :func:`bayesdx.ui.state.get_model` every session uses (one model
  per process, ``st.cache_resource``), runs the empty page's ranking on the
  numpy reference path (:func:`bayesdx.ui.state.ranking_model`) and hands the
  model to the page's route; once a first page is drawn, the model's own
  thread loads the compiled kernel (numba) and this one makes the analysis
  engine and imports Altair for the other charts. A session that opens the
  page while this is still running waits for the same cached model (never a
  second copy).

``bayesdx`` itself imports its flat API on first use, so the launcher starts
the server without importing numpy or the engine first. The empty page's
first page, drawn once the model is loaded, is kept for the next start
(:func:`bayesdx.ui.index_page.page_key`), which serves it before its own
model is loaded; without one, the heavy modules that need no Streamlit
runtime are imported before the server starts (:func:`preload`).

Examples
--------
>>> parse_options(["other.py", "--server.port", "8502"])
(PosixPath('other.py'), {'server.port': 8502})
"""

from __future__ import annotations

import functools
import logging
import sys
import threading
import time
from pathlib import Path
from typing import Any

__all__ = ["AFTER_FIRST_PAGE_WAIT_S", "APP", "PRELOAD", "SERVER_WAIT_S", "USAGE", "WARM_THREAD", "UsageError",
           "build_app", "main", "parse_options", "preload", "warm"]

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

    from .first_paint import first_paint_html
    from .index_page import kept_empty_page, remember_empty_page, set_first_page

    try:
        model = state.get_model()  # also warms the case reader
        from ..diagnosis import diagnose_evidence
        from .spec import form_spec

        form_spec(model.kb)
        # the first page's ranking, on the numpy path: the compiled kernel is loaded once a first
        # page is drawn (state.ranking_model; the kernel's thread then warms an ANC's rankings too)
        diagnose_evidence(state.ranking_model(model), {}, draws=0, scores=False)
    except KnowledgeError:
        set_first_page(None)  # no page waits for a model that is not coming
        return time.perf_counter() - t0  # the page reports it in full
    except BaseException:
        set_first_page(None)
        raise
    set_first_page(functools.partial(first_paint_html, model))  # the server may draw first pages now
    if not kept_empty_page():  # a kept page is this one (the same code and knowledge)
        remember_empty_page(first_paint_html(model, {}))  # for the next start
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


USAGE = """usage: python -m bayesdx.ui.serve [SCRIPT.py] [--section.option VALUE ...]

Run the bayesdx app (SCRIPT defaults to this checkout's app.py) with the model
loaded and the first page warmed at start. Options are Streamlit's config
options ('streamlit config show' lists them), e.g. --server.port 8502; the
rest comes from .streamlit/config.toml (localhost only, no usage statistics)."""


class UsageError(ValueError):
    """A command-line option the app cannot take (the message says which and how to fix it)."""


_TRUE, _FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}


def _typed(name: str, text: str, option) -> Any:
    kind = option.type
    if kind is bool:
        if text.lower() in _TRUE | _FALSE:
            return text.lower() in _TRUE
        raise UsageError(f"--{name}: must be true or false; got {text!r}")
    if kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            raise UsageError(f"--{name}: must be {'an integer' if kind is int else 'a number'}; "
                             f"got {text!r}") from None
    return text


def parse_options(argv: list[str]) -> tuple[Path, dict[str, Any]]:
    """(script, Streamlit config options) from the command line, values typed as Streamlit's.

    >>> parse_options(["--server.port", "8502", "--server.headless=true"])[1]
    {'server.port': 8502, 'server.headless': True}
    >>> parse_options(["--server.port", "x"])
    Traceback (most recent call last):
    ...
    bayesdx.ui.serve.UsageError: --server.port: must be an integer; got 'x'
    """
    from streamlit import config

    args = list(argv)
    script = Path(args.pop(0)) if args and args[0].endswith(".py") else APP
    out: dict[str, Any] = {}
    while args:
        arg = args.pop(0)
        if not arg.startswith("--"):
            raise UsageError(f"{arg!r}: must be an option such as --server.port 8502; "
                             "try 'python -m bayesdx.ui.serve --help'")
        name, eq, text = arg[2:].partition("=")
        option = config._config_options_template.get(name)
        if option is None:
            raise UsageError(f"--{name}: must be one of Streamlit's config options; try "
                             "'streamlit config show' for the list")
        if not eq:
            if not args:
                raise UsageError(f"--{name}: must have a value; try --{name} VALUE")
            text = args.pop(0)
        value = _typed(name, text, option)
        if isinstance(option.default_val, list):  # a list option: the flag may be repeated
            value = [*out.get(name, []), value]
        out[name] = value
    return script, out


PRELOAD = ("bayesdx.diagnosis", "bayesdx.alerts", "bayesdx.ui.share", "bayesdx.ui.ranking")
"""Modules imported before the server starts when no first page is kept (:func:`preload`)."""


def preload() -> None:
    """Import the first page's heavy modules that need no Streamlit runtime (numpy, the engine,
    the knowledge, the case reader: ~0.27 s of the ~0.32 s of imports of :func:`warm`).

    :func:`main` calls it before the server starts when no first page was kept by an earlier
    start (:func:`bayesdx.ui.index_page.kept_empty_page`): the server answers ~0.3 s later, but
    the first page is drawn ~0.2 s sooner (paired first visits), since imported while the
    browser loads Streamlit's scripts they took about twice as long (one Python thread runs at
    a time, and the same process serves those scripts). With a kept page the server answers
    first: that page needs no model."""
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)


def build_app(script: Path = APP):
    """The app's ASGI application: Streamlit's, running ``script``, with the page's own route
    (:func:`bayesdx.ui.index_page.routes`: the first page drawn by the server)."""
    import streamlit as st

    from . import index_page

    return st.App(str(script), routes=index_page.routes())


def main(argv: list[str] | None = None) -> int:
    """Run the app (``st.App(...).run``) with :func:`warm` started beside the server."""
    args = list(sys.argv[1:] if argv is None else argv)
    if {"-h", "--help"} & set(args):
        print(USAGE)
        return 0
    try:
        script, options = parse_options(args)
        app = build_app(script)
    except UsageError as exc:
        print(f"bayesdx app: {exc}", file=sys.stderr)
        return 2
    from .index_page import kept_empty_page

    if not kept_empty_page():
        preload()
    threading.Thread(target=warm, kwargs={"log": sys.stderr, "serving": True}, daemon=True,
                     name=WARM_THREAD).start()
    sys.argv = [str(script)]  # Streamlit reads its config beside the script (as 'streamlit run' does)
    from streamlit.errors import StreamlitAPIException

    try:
        app.run(config=options)
    except StreamlitAPIException as exc:  # e.g. a secret option given on the command line
        print(f"bayesdx app: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
