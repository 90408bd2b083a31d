"""Time to the app's first page with a ranking, in a real browser (a benchmark script, not a test).

Each run starts a fresh server (app.py through :mod:`bayesdx.ui.serve`, as
``./dev app`` does: the harness's ``start_app``) on a free localhost port, with
headless Chromium already open (and the tab already opened: a fresh context
for a first visit), then measures

* **server up**: from spawning the server to its health check answering;
* **start → first painted**: from spawning the server to the first page's
  ranking painted: the one the server draws into the page
  (:mod:`bayesdx.ui.first_paint`) while Streamlit's scripts load; painted means
  the page's first contentful paint (its body is empty before), or the frame
  after the ranking entered the page;
* **page → ranking**: from ``page.goto`` to the app's own ranking drawn by
  Streamlit (its HTML rows show their percentages), in a fresh browser page:
  when the page can be used;
* **start → ranking**: from spawning the server to the app's own ranking drawn;
* with ``--after-warm``, the page is opened only once the server's log says
  the first page is warmed (:mod:`bayesdx.ui.serve`), and **start → warmed**
  is that time;
* **second page**: a second page opened on the same server afterwards (the
  server warm; the browser's cache as the mode says: empty for a first visit);
* with ``--timeline``, the first page split in the browser, in seconds since
  the server was spawned: Streamlit's scripts loaded (DOMContentLoaded), its
  WebSocket open, the script run's first message, the ranking's data
  arrived (the first message that holds the ranking's HTML: the model was
  ready and the script ran up to the ranking), and, if the page loads Vega
  at all (the ranking is HTML; other charts are Vega-Lite), its chunk
  requested and loaded ("n/a" when not loaded before the ranking was drawn),
  and the ranking drawn (seen by a MutationObserver in the page);
* with ``--cold``, the empty page's first page kept by the last start
  (:func:`bayesdx.ui.index_page.page_key`) is removed before each start: the
  first start after a change of the code or the knowledge (without it, every
  start but the first serves the kept one);
* with ``--returning``, a **returning user's browser**: one Chromium profile
  kept on disk for every run (HTTP cache and compiled-script cache warm from
  a first visit, not timed), and every server started afresh on the same
  port (as ``./dev app`` always uses 8501); without it, every run opens a
  fresh browser page with an empty cache (a first visit).

Nothing waits a fixed time (the health check and the log are polled every
20 ms). Target (issue 12): first page with a ranking at most 1.5 s after start.
``benchmarks/issue12_app.py`` gives the table's row (launch -> ranking); this
script adds the split with ``--after-warm`` and the second page.

    .venv/bin/python benchmarks/app_first_page.py [--runs 5] [--json] [--timeline] [--returning]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "ui"))  # the browser harness

from playwright.sync_api import sync_playwright

from harness import (CHROMIUM, CHROMIUM_ARGS, FIRST_SHOWN, FIRST_SHOWN_AT, RANKING_TEXT, free_port,
                     launch_chromium, start_app, wait_healthy)

TARGET_S = 1.5

#: JavaScript (before the page's scripts): the WebSocket's open and each message, with times
TIMELINE = """
window.__tl = {ws: []};
(() => { const Orig = window.WebSocket;
  function W(...a) { const ws = new Orig(...a);
    ws.addEventListener('open', () => { window.__tl.open = performance.now(); });
    ws.addEventListener('message', (e) => { const t = performance.now();
      const ranking = e.data instanceof ArrayBuffer && new TextDecoder().decode(e.data).includes('data-posterior=');
      window.__tl.ws.push([t, e.data.byteLength || e.data.size || 0, ranking]); });
    return ws; }
  W.prototype = Orig.prototype; Object.setPrototypeOf(W, Orig); window.WebSocket = W; })();
new MutationObserver((rs, obs) => {
  if (window.__tl.drawn) return;
  const r = document.querySelector('.st-key-bdx-ranking ol.bdx-rank');
  if (r && r.textContent.includes('%')) { window.__tl.drawn = performance.now(); obs.disconnect(); }
}).observe(document, {subtree: true, childList: true, characterData: true});
"""
SPLIT = ("scripts_loaded", "websocket_open", "first_message", "ranking_data", "vega_requested", "vega_loaded",
         "ranking_drawn")


def _split(page, t0: float) -> dict:
    """The first page's timeline (seconds since ``t0``, the server's spawn; see the docstring)."""
    got = page.evaluate("""() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const vega = performance.getEntriesByType('resource').find((r) => /\/embed\.[^/]*\.js$/.test(r.name));
      const big = window.__tl.ws.find(([t, n, ranking]) => ranking);
      return {origin: performance.timeOrigin, scripts_loaded: nav.domContentLoadedEventEnd,
              websocket_open: window.__tl.open, first_message: (window.__tl.ws[0] || [null])[0],
              ranking_data: big ? big[0] : null, vega_requested: vega ? vega.startTime : null,
              vega_loaded: vega ? vega.responseEnd : null, ranking_drawn: window.__tl.drawn || null}; }""")
    base = got.pop("origin") / 1000 - t0
    return {k: (None if v is None else base + v / 1000) for k, v in got.items()}


def _warmed(log: Path, timeout: float = 120.0) -> float:
    """Wait until the server's log says the first page is warmed (bayesdx.ui.serve); its time."""
    deadline = time.perf_counter() + timeout
    while "first page warmed" not in log.read_text(errors="replace"):
        if time.perf_counter() > deadline:
            raise TimeoutError("the server never reported the first page warmed")
        time.sleep(0.02)  # polling a condition (the log line), not waiting a fixed time
    return time.perf_counter()


VIEWPORT = {"width": 1440, "height": 900}


def _new_page(browser):
    """A page of ``browser`` (a new context: empty cache) or of a persistent context (its profile)."""
    return browser.new_page(viewport=VIEWPORT) if hasattr(browser, "new_context") else browser.new_page()


KEPT = Path(__file__).resolve().parents[1] / "src" / "bayesdx" / "ui" / "__pycache__"
"""Where a start keeps the empty page's first page for the next (bayesdx.ui.index_page.page_key)."""


def one_run(browser, after_warm: bool, timeline: bool = False, port: int | None = None,
            cold: bool = False) -> dict:
    """One fresh server (on ``port``, default a free one), timed to its first page with a ranking.
    ``browser`` is anything with ``new_page`` (a browser: a fresh context, an empty cache, each
    page; a persistent context: the same profile and cache for every page)."""
    log = Path(tempfile.mkstemp(prefix="bdx-first-page-", suffix=".log")[1])
    if cold:  # the first start after a change of the code or the knowledge: nothing kept
        for kept in KEPT.glob("bayesdx-first-page-*.html"):
            kept.unlink()
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    # the tab is opened first (a user's browser is open before the app starts; opening a fresh
    # context costs headless Chromium ~0.3 s, which is not the app's)
    page = _new_page(browser)
    page.set_default_timeout(120_000)
    page.add_init_script(FIRST_SHOWN)
    if timeline:
        page.add_init_script(TIMELINE)
    t0 = time.perf_counter()
    epoch0 = time.time()
    with open(log, "wb") as out:
        proc = start_app(port, out=out)  # python -m bayesdx.ui.serve app.py, as ./dev app
    try:
        wait_healthy(proc, url, 120, pause=0.02)
        t1 = time.perf_counter()
        tw = _warmed(log) if after_warm else None
        t2 = time.perf_counter()
        page.goto(url + "/", wait_until="commit")
        page.wait_for_function(f"() => ({RANKING_TEXT})().includes('%')", polling="raf")
        t3 = time.perf_counter()
        split = _split(page, epoch0) if timeline else {}
        page.wait_for_function("() => !window.__fp || window.__fpFrame")  # its frame, if it was drawn
        fp = page.evaluate(FIRST_SHOWN_AT)
        page.close()
        again = _new_page(browser)
        t4 = time.perf_counter()
        again.goto(url + "/", wait_until="commit")
        again.wait_for_function(f"() => ({RANKING_TEXT})().includes('%')", polling="raf")
        t5 = time.perf_counter()
        again.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
        log.unlink()
    out = {"server_up_s": t1 - t0, "start_to_first_painted_s": None if fp is None else fp - epoch0,
           "page_to_ranking_s": t3 - t2, "start_to_ranking_s": t3 - t0, "second_page_s": t5 - t4}
    if tw is not None:
        out["start_to_warmed_s"] = tw - t0
    out.update({f"at_{k}_s": v for k, v in split.items()})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="fresh servers to time")
    ap.add_argument("--after-warm", action="store_true",
                    help="open the page once the server reports the first page warmed")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--timeline", action="store_true",
                    help="split the first page in the browser (seconds since the server's spawn)")
    ap.add_argument("--cold", action="store_true",
                    help="remove the first page kept by the last start before each run (the first start "
                         "after a change of the code or the knowledge)")
    ap.add_argument("--returning", action="store_true",
                    help="a returning user's browser: one profile (HTTP cache warm from an untimed first "
                         "visit), every server started afresh on the same port")
    args = ap.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} not found: apt-get install -y chromium chromium-driver", file=sys.stderr)
        return 2
    with sync_playwright() as p, tempfile.TemporaryDirectory(prefix="bdx-profile-") as profile:
        if args.returning:  # one profile on disk; the first visit (untimed) fills its caches
            browser = p.chromium.launch_persistent_context(profile, executable_path=CHROMIUM,
                                                           args=CHROMIUM_ARGS, headless=True,
                                                           viewport=VIEWPORT)
            port = free_port()
            one_run(browser, False, False, port)
        else:
            browser, port = launch_chromium(p), None
        runs = [one_run(browser, args.after_warm, args.timeline, port, args.cold) for _ in range(args.runs)]
        browser.close()
    split = tuple(f"at_{k}_s" for k in SPLIT) if args.timeline else ()
    keys = ("server_up_s", *(("start_to_warmed_s",) if args.after_warm else ()), *split,
            "start_to_first_painted_s", "page_to_ranking_s", "start_to_ranking_s", "second_page_s")
    def med(k):
        xs = [r[k] for r in runs if r.get(k) is not None]
        return statistics.median(xs) if xs else None

    res = {"browser": "returning (same profile, cache warm)" if args.returning else "first visit (empty cache)",
           "kept_first_page": "removed before each start" if args.cold else "kept by the last start",
           "runs": runs, **{f"median_{k}": med(k) for k in keys}, "target_s": TARGET_S,
           "load_average": os.getloadavg()}
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        print(f"app first page over {len(runs)} fresh servers, {res['browser']}, empty page's first page "
              f"{res['kept_first_page']} (median, min-max):")
        for k in keys:
            xs = [r[k] for r in runs if r.get(k) is not None]
            name = k[:-2].replace("_", " ")
            print(f"  {name:18s} {statistics.median(xs):5.2f} s  ({min(xs):.2f}-{max(xs):.2f})" if xs
                  else f"  {name:18s}   n/a")
        print(f"  target: first page with a ranking <= {TARGET_S} s after start")
    return 0


if __name__ == "__main__":
    sys.exit(main())
