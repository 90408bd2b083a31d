"""The page a browser opens: Streamlit's own ``index.html``, with the first page already in it.

:func:`routes` gives the app's server (:mod:`bayesdx.ui.serve`, an ``st.App``)
one route of its own, ``/``, in front of Streamlit's static files. It sends
Streamlit's ``index.html`` in two parts:

1. at once, its head, with two additions: ``<link rel="modulepreload">`` for
   the element scripts the first page draws (:data:`FIRST_PAGE_CHUNKS` and
   what they import; Streamlit loads them lazily, only once the script run
   asks for them, which cost a first visit about 0.6 s after the page's data
   had arrived), and the first page's style
   (:data:`FIRST_PAINT_CSS`);
2. the first page drawn by the server for the link's query parameters (by
   what :func:`set_first_page` was given once the model is loaded, at most
   :data:`FIRST_PAINT_WAIT_S` later: :func:`bayesdx.ui.first_paint.first_paint_html`;
   for the empty page, at once, the one an earlier start kept: :func:`page_key`),
   then the rest of the page: Streamlit's scripts start as before, and its page
   replaces the drawn one.

The browser fetches Streamlit's scripts while the server finishes step 2.
Anything unexpected (a Host header outside ``server.allowedHosts``, a query
longer than :data:`MAX_QUERY`, a model that failed to load, an error while
drawing) leaves step 2 empty: the page is Streamlit's own, as without this
route. The response is never cached (``Cache-Control: no-cache``, as
Streamlit sends its page).

Examples
--------
>>> head, tail = template()
>>> "modulepreload" in head and "</head>" in head, tail.startswith('<div id="root">')
(True, True)
>>> [p.split(".")[0] for p in preloads() if p.startswith("Html.")]
['Html']
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qs

from .ranking import RANKING_CSS

__all__ = ["CACHE_PREFIX", "FIRST_PAGE_CHUNKS", "FIRST_PAINT_CSS", "FIRST_PAINT_ID", "FIRST_PAINT_JS",
           "FIRST_PAINT_WAIT_S", "LIVE_RANKING", "MAX_FIELDS", "MAX_QUERY", "STATIC", "kept_empty_page",
           "page_key", "preloads", "remember_empty_page", "render", "routes", "set_first_page", "template"]

_LOG = logging.getLogger(__name__)


def _static() -> Path:
    import streamlit

    return Path(streamlit.__file__).resolve().parent / "static"


STATIC = _static()
"""Streamlit's front end (``index.html`` and ``static/js/``)."""

FIRST_PAGE_CHUNKS = ("Html", "Button", "ButtonGroup", "Checkbox", "IFrame", "Selectbox", "TextArea", "TextInput",
                     "rehype-raw")
"""Streamlit's lazily loaded scripts that the first page draws (by the name before the
hash): HTML (the ranking, the style), buttons, segmented controls, the toggle,
the Tab helper's iframe, unit pickers, text fields and Markdown with HTML."""

MAX_QUERY = 8192
"""Longest query string (characters) drawn by the server; a longer link gets Streamlit's page only."""

MAX_FIELDS = 1000
"""Most query parameters drawn by the server (a link of the app holds a few dozen)."""

FIRST_PAINT_WAIT_S = 3.0
"""Longest the page waits for the model to load before it is sent without a first page (Streamlit
mounts its page only once the page has arrived: a longer wait would only hide its loading state)."""

FIRST_PAINT_ID = "bdx-first-paint"
"""The ``id`` of the server-drawn first page."""

LIVE_RANKING = ".st-key-bdx-ranking ol.bdx-rank"
"""CSS selector of the app's own ranking, once Streamlit has drawn it."""

FIRST_PAINT_CSS = RANKING_CSS + f"""
#{FIRST_PAINT_ID} {{position: fixed; inset: 0; z-index: 999990; overflow: auto; background: #fff;
  color: #31333f; font-family: "Source Sans", sans-serif; font-size: 1rem; line-height: 1.6;
  padding: 0.6rem 1.5rem 1rem 1.5rem; box-sizing: border-box;
  animation: bdx-fp-expire 0s linear 60s forwards;}}
@keyframes bdx-fp-expire {{to {{visibility: hidden;}}}}
#{FIRST_PAINT_ID} p {{margin: 0;}}
#{FIRST_PAINT_ID} .bdx-title {{font-size: 1rem; font-weight: 700; line-height: 1.6;}}
.bdx-fp-head {{display: grid; grid-template-columns: 1.2fr 1.8fr; column-gap: 1rem; min-height: 5.2rem;}}
.bdx-fp-caption, .bdx-fp-busy, .bdx-fp-note {{font-size: 0.875rem; color: rgba(49, 51, 63, 0.6);}}
.bdx-fp-cols {{display: grid; grid-template-columns: 1fr 0.95fr 1.05fr; column-gap: 2rem;}}
.bdx-fp-cols > div {{display: flex; flex-direction: column; gap: 1rem; min-width: 0;}}
.bdx-fp-top {{font-size: 0.95rem; line-height: 1.45;}}
.bdx-fp-badge {{background: rgba(255, 43, 43, 0.1); color: #bd4043; border-radius: 0.5rem;
  padding: 0.1rem 0.4rem; font-size: 0.875rem; white-space: nowrap;}}
.bdx-fp-slot {{height: 2.5rem; border-radius: 0.5rem; background: #f0f2f6;}}
.bdx-fp-toggle {{height: 1.25rem;}}
.bdx-fp-space {{background: none;}}  /* where the ranking's controls will be: room kept, nothing drawn */
@media (min-width: 1760px) {{.bdx-fp-toggle {{display: none;}}}}  /* the toggle fits beside them */
"""
"""The first page's style: the ranking's and a layout like the app's columns. It covers
the page (Streamlit's page loads beneath it) until :data:`FIRST_PAINT_JS` removes it; if
that never happens, it hides itself after a minute."""

FIRST_PAINT_JS = f"""<script>(() => {{
  const fp = document.getElementById("{FIRST_PAINT_ID}");
  if (!fp) return;
  const app = '[data-testid="stApp"]';
  const done = () => document.querySelector("{LIVE_RANKING}") || document.querySelector(
    app + ':is([data-test-script-state="notRunning"], [data-test-script-state="compilationError"], '
    + '[data-test-connection-state="DISCONNECTED_FOREVER"])');
  const obs = new MutationObserver(() => {{ if (done()) {{ fp.remove(); obs.disconnect(); }} }});
  obs.observe(document.documentElement, {{subtree: true, childList: true, attributes: true,
    attributeFilter: ["data-test-script-state", "data-test-connection-state"]}});
}})();</script>"""
"""Removes the first page, once and for all, as soon as the app has drawn its own ranking,
or its first run has ended without one (say, with an error: it must be seen), or it has
lost its connection (Streamlit says so). Static: nothing in it comes from the request."""


CACHE_PREFIX = "bayesdx-first-page-"
"""Name of the empty page's first page kept beside the package's compiled files (see :func:`page_key`)."""

_IMPORT = re.compile(r'(?:from|import)\s*"\./([A-Za-z0-9_.-]+\.js)"')
_READY = threading.Event()
_DRAW: list[Callable[[Mapping[str, list[str]]], str | None] | None] = []
_KEY: list[str] = []  # this start's page_key()
_EMPTY: list[str] = []  # the empty page's first page, kept by an earlier start with that key


def page_key() -> str:
    """SHA-256 of everything the empty page's first page is made from: every module of the
    package (the engine, the labels, the markup) and the knowledge files (where, and their bytes).

    The app's start draws the empty page's first page once it has loaded the model and keeps it
    in ``ui/__pycache__`` under this key (:func:`remember_empty_page`); the next start serves it
    at once, before the model is loaded. It holds no input: the prior ranking of the knowledge.
    """
    import hashlib

    import bayesdx
    from ..knowledge.files import default_root, knowledge_hash

    h = hashlib.sha256()
    pkg = Path(bayesdx.__file__).resolve().parent
    for p in sorted(pkg.rglob("*.py")):
        h.update(str(p.relative_to(pkg)).encode() + b"\0" + p.read_bytes() + b"\0")
    root = default_root().resolve()
    h.update(str(root).encode() + b"\0" + knowledge_hash(root).encode())
    return h.hexdigest()


def _cache_file(key: str) -> Path:
    return Path(__file__).resolve().parent / "__pycache__" / f"{CACHE_PREFIX}{key[:32]}.html"


def _read_cached_empty_page() -> None:
    """The empty page's first page kept by an earlier start with the same :func:`page_key`, if any."""
    try:
        _KEY[:] = [page_key()]
        html = _cache_file(_KEY[0]).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return
    if html.startswith(f'<div id="{FIRST_PAINT_ID}"'):
        _EMPTY[:] = [html]


def kept_empty_page() -> bool:
    """Whether this start serves the empty page's first page kept by an earlier one (read by
    :func:`routes`)."""
    return bool(_EMPTY)


def remember_empty_page(html: str | None) -> None:
    """Keep the empty page's first page for the next start (see :func:`page_key`); older ones
    are removed. Nothing is kept if the folder is not writable."""
    if not html or not _KEY:
        return
    target = _cache_file(_KEY[0])
    try:
        target.parent.mkdir(exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(html, encoding="utf-8")
        tmp.replace(target)  # atomic: a start reading it sees all of it or none
        for old in target.parent.glob(f"{CACHE_PREFIX}*.html"):
            if old != target:
                old.unlink(missing_ok=True)
    except OSError:
        _LOG.info("bayesdx: the first page is not kept for the next start (%s is not writable)", target.parent)


def set_first_page(draw: Callable[[Mapping[str, list[str]]], str | None] | None) -> None:
    """Hand over what draws the first page for a link's query parameters (``name -> values``;
    returns HTML, or ``None`` for no first page), once the model is loaded (as
    :func:`bayesdx.ui.serve.warm` does: :func:`bayesdx.ui.first_paint.first_paint_html` for the
    app's model); ``None`` when it failed to load. Pages waiting for it go on."""
    _DRAW[:] = [draw]
    _READY.set()


@lru_cache(maxsize=1)
def preloads() -> tuple[str, ...]:
    """File names (in ``static/js``) of :data:`FIRST_PAGE_CHUNKS` and every script they import,
    less those Streamlit's page already loads; a name not found (another Streamlit) is skipped."""
    js = STATIC / "static" / "js"
    files = {p.name for p in js.glob("*.js")}
    index = (STATIC / "index.html").read_text(encoding="utf-8")
    have = set(re.findall(r'static/js/([A-Za-z0-9_.-]+\.js)', index))
    todo = [f for name in FIRST_PAGE_CHUNKS for f in sorted(files)
            if re.fullmatch(re.escape(name) + r"\.[A-Za-z0-9_-]+\.js", f)]
    seen: list[str] = []
    while todo:
        f = todo.pop(0)
        if f in seen or f in have or f not in files:
            continue
        seen.append(f)
        todo += _IMPORT.findall((js / f).read_text(encoding="utf-8"))
    return tuple(seen)


@lru_cache(maxsize=1)
def template() -> tuple[str, str]:
    """Streamlit's ``index.html`` as (up to its ``<div id="root">``, the rest), with the
    preloads and the first page's style in the head."""
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    links = "".join(f'<link rel="modulepreload" crossorigin href="./static/js/{f}">' for f in preloads())
    head, sep, body = page.partition("</head>")
    if not sep or '<div id="root">' not in body:
        raise ValueError(f"{STATIC / 'index.html'}: must have </head> and <div id=\"root\">; "
                         "got another layout (a Streamlit version this route does not know)")
    before, root, after = body.partition('<div id="root">')
    return head + links + f"<style>{FIRST_PAINT_CSS}</style>" + sep + before, root + after


def render(query: str, host: str | None) -> str:
    """The first page for a request (its raw query string and Host header), or "" (see the module)."""
    try:
        from streamlit.web.server.starlette.starlette_websocket import is_host_allowed
    except ImportError:  # another Streamlit: draw nothing rather than guess
        return ""
    if len(query) > MAX_QUERY or not is_host_allowed(host):
        return ""
    if not query and _EMPTY and not _READY.is_set():  # kept by an earlier start: the same page
        return _EMPTY[0]
    if not _READY.wait(FIRST_PAINT_WAIT_S):
        return ""
    draw = _DRAW[0] if _DRAW else None
    if draw is None:
        return ""
    try:
        params = parse_qs(query, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError:  # more parameters than any link of the app holds
        return ""
    try:
        return draw(params) or ""
    except Exception:  # noqa: BLE001 - the page must load whatever the link holds: Streamlit's page then
        _LOG.warning("bayesdx: no first page drawn for this link", exc_info=True)
        return ""


async def _index(request):
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import StreamingResponse

    head, tail = template()

    async def parts():
        yield head
        yield await run_in_threadpool(render, request.url.query, request.headers.get("host"))
        yield tail

    return StreamingResponse(parts(), media_type="text/html", headers={"Cache-Control": "no-cache"})


def routes() -> list:
    """The route of the app's page (``/``), for ``st.App(routes=...)``."""
    from starlette.routing import Route

    try:
        template()
    except (OSError, ValueError) as exc:  # another Streamlit: its own page, unchanged
        _LOG.warning("bayesdx: the app's page is Streamlit's own (no first page drawn): %s", exc)
        return []
    _read_cached_empty_page()
    return [Route("/", _index, methods=["GET", "HEAD"])]
