"""Run the app on a free localhost port and drive it in headless Chromium (tests, benchmarks).

Uses Debian's ``/usr/bin/chromium`` through Playwright's Python API (no
browser download). Nothing here is used by the app itself.

* :func:`serve_app` - a context manager: ``streamlit run app.py`` on
  127.0.0.1 and a free port (through :mod:`bayesdx.ui.serve`, as ``./dev app``
  runs it: the model is loaded while the server starts), yields the URL, stops the server afterwards;
* :func:`launch_chromium` - a headless Chromium with the flags below;
* :class:`AppPage` - helpers to enter evidence through the widgets and read
  the ranking (the same steps a clinician takes).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "FIRST_SHOWN", "FIRST_SHOWN_AT", "IDLE", "LATENCY_PROBE", "MARK", "OBSERVER", "RANKING_TEXT", "RAN_SINCE",
           "AppPage", "AppURL", "free_port", "launch_chromium", "process_cpu_seconds", "serve_app",
           "start_app", "wait_healthy"]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
REPO = Path(__file__).resolve().parents[2]


class AppURL(str):
    """The app's URL; ``.pid`` is the server process (for CPU accounting in benchmarks)."""

    pid: int = 0


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), 0.0 if unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def free_port() -> int:
    """A free TCP port on localhost."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(port: int, script: Path | None = None, out=subprocess.DEVNULL) -> subprocess.Popen:
    """``streamlit run`` of ``script`` (default app.py) on ``127.0.0.1:port``, localhost only,
    no usage statistics, in its own process group; through :mod:`bayesdx.ui.serve`, as
    ``./dev app`` runs it (the model is loaded and the first page warmed while the server starts)."""
    cmd = [sys.executable, "-m", "bayesdx.ui.serve", str(script or REPO / "app.py"),
           "--server.address", "127.0.0.1", "--server.port", str(port), "--server.headless", "true",
           "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
           "--server.runOnSave", "false"]
    return subprocess.Popen(cmd, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True)


def wait_healthy(proc: subprocess.Popen, url: str, timeout: float, pause: float = 0.3) -> None:
    """Return as soon as the app's health check answers (polled every ``pause`` seconds);
    raise if the process exits first or ``timeout`` seconds pass."""
    deadline = time.time() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited with code {proc.returncode} before it was ready")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if time.time() > deadline:
            raise TimeoutError(f"the app did not answer on {url} within {timeout:.0f} s")
        time.sleep(pause)


@contextlib.contextmanager
def serve_app(port: int | None = None, *, timeout: float = 90.0, log: Path | None = None,
              script: Path | None = None) -> Iterator[AppURL]:
    """Start the app (``script``, default app.py) on ``127.0.0.1:port`` (a free port by default).

    Yields its URL (an :class:`AppURL`, whose ``pid`` is the server process).
    """
    port = port or free_port()
    url = AppURL(f"http://127.0.0.1:{port}")
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(open(log, "wb")) if log else subprocess.DEVNULL
        proc = start_app(port, script, out)
        url.pid = proc.pid
        try:
            wait_healthy(proc, url, timeout, pause=0.3)
            yield url
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)


def launch_chromium(playwright, **kwargs):
    """Headless Debian Chromium (``/usr/bin/chromium``) via Playwright."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, **kwargs)


OBSERVER = """
window.__bdx = {sends: 0, runs: [], msgs: 0, finished: 0};
(() => {
  // the top-level field numbers of a protobuf message (and the value of varint fields)
  const fields = (u8) => {
    const out = {};
    let i = 0;
    const varint = () => { let x = 0, s = 0, b;
                           do { b = u8[i++]; x += (b & 0x7f) * 2 ** s; s += 7; } while (b & 0x80 && i < u8.length);
                           return x; };
    while (i < u8.length) {
      const key = varint(), f = Math.floor(key / 8), wt = key % 8;
      if (wt === 0) out[f] = varint();
      else if (wt === 2) { const n = varint(); out[f] = true; i += n; }
      else if (wt === 1) i += 8; else if (wt === 5) i += 4; else break;
    }
    return out;
  };
  const bytes = (d) => d instanceof ArrayBuffer ? new Uint8Array(d)
                       : ArrayBuffer.isView(d) ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength) : null;
  const B = window.__bdx;
  const Orig = window.WebSocket;
  function Counted(...args) {
    const ws = new Orig(...args);
    const send = ws.send.bind(ws);
    ws.send = (data) => {  // BackMsg field 11: rerun_script (a widget changed, a button, a tab)
      const u8 = bytes(data);
      if (u8 && fields(u8)[11]) B.sends += 1;
      return send(data);
    };
    ws.addEventListener('message', (e) => {
      B.msgs += 1;
      const u8 = bytes(e.data);
      if (!u8) return;
      const f = fields(u8);
      // ForwardMsg field 4: new_session (a script run starts); 6: script_finished (its status)
      if (f[4]) B.runs.push({after: B.sends, done: false, status: null});
      if (6 in f && B.runs.length) { const r = B.runs[B.runs.length - 1]; r.done = true; r.status = f[6]; B.finished += 1; }
    });
    return ws;
  }
  Counted.prototype = Orig.prototype;
  Object.setPrototypeOf(Counted, Orig);
  window.WebSocket = Counted;
})();
"""

#: JavaScript: the page shows a finished run (no run under way, no stale element)
IDLE = """() => { const a = document.querySelector('[data-testid="stApp"]');
  return !!a && a.getAttribute('data-test-script-state') === 'notRunning'
         && document.querySelectorAll('[data-stale="true"]').length === 0; }"""

#: JavaScript: how many rerun requests the page has sent (call before an action)
MARK = "() => window.__bdx ? window.__bdx.sends : 0"

#: JavaScript (argument: a :data:`MARK`): the newest script run started after a request sent
#: after the mark, it has finished (not cut short for another rerun) and the page shows it
RAN_SINCE = """(mark) => { const B = window.__bdx; if (!B) return false;
  const r = B.runs[B.runs.length - 1];
  return !!r && r.after > mark && r.done && r.status !== 2 && (""" + IDLE + """)(); }"""

#: JavaScript: the text of the ranking (its HTML list: names, percentages, and in words the prior and the
#: interval), which changes when the ranking is redrawn
RANKING_TEXT = """() => { const s = document.querySelector('.st-key-bdx-ranking ol.bdx-rank');
                          return s ? s.textContent : ''; }"""


#: JavaScript (before the page's scripts): when the server-drawn first page's ranking was painted.
#: ``__fp`` is when its rows entered the page; ``__fpPaint`` the first contentful paint, if it came
#: at or after that (nothing is drawn before it: the page's body is empty until then), else the
#: frame after it (a requestAnimationFrame callback, then a task: the frame has been painted).
FIRST_SHOWN = """
window.__fcp = null;
new PerformanceObserver((l) => { for (const e of l.getEntries())
  if (e.name === 'first-contentful-paint') window.__fcp = e.startTime; }).observe({type: 'paint', buffered: true});
new MutationObserver((rs, obs) => {
  const r = document.querySelector('#bdx-first-paint ol.bdx-rank');
  if (!r || !r.textContent.includes('%')) return;
  window.__fp = performance.now(); obs.disconnect();
  requestAnimationFrame(() => setTimeout(() => { window.__fpFrame = performance.now(); }));
}).observe(document, {subtree: true, childList: true, characterData: true});
"""
#: JavaScript: the epoch time (s) the first page's ranking was painted, or null
FIRST_SHOWN_AT = """() => { if (!window.__fp) return null;
  const t = (window.__fcp !== null && window.__fcp >= window.__fp) ? window.__fcp : window.__fpFrame;
  return t ? (performance.timeOrigin + t) / 1000 : null; }"""

#: JavaScript: time from a click (or Enter) to the first change of the ranking chart's text
LATENCY_PROBE = """
(() => {
  if (window.__lat) return;
  const SEL = '.st-key-bdx-ranking';
  const text = () => { const s = document.querySelector(SEL + ' ol.bdx-rank');
                       return s ? s.textContent : ''; };
  const L = window.__lat = {t0: null, t1: null, before: null, samples: []};
  const start = (e) => { L.t0 = e.timeStamp || performance.now(); L.t1 = null; L.before = text(); };
  document.addEventListener('pointerdown', start, true);
  document.addEventListener('keydown', (e) => { if (e.key === 'Enter') start(e); }, true);
  const inRanking = (n) => { const el = n && (n.nodeType === 1 ? n : n.parentElement);
                             return !!(el && el.closest && el.closest(SEL)); };
  new MutationObserver((records) => {
    if (L.t0 === null || L.t1 !== null) return;
    if (!records.some((r) => inRanking(r.target))) return;   // cheap: only the ranking matters
    const now = text();
    if (now && now !== L.before) { L.t1 = performance.now(); L.samples.push(L.t1 - L.t0); }
  }).observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
})();
"""


class AppPage:
    """The app in one browser page, driven like a user would.

    Every action that reruns the app goes through :meth:`rerun`, which waits
    for a script run that *started after* the action's rerun request and has
    finished (seen in the websocket traffic: Streamlit's ``new_session`` and
    ``script_finished`` messages, see :data:`OBSERVER`), and for the page to
    show it. Nothing waits a fixed time; assertions wait for the text they
    expect (:meth:`expect_text`, :meth:`expect_top`).
    """

    TOP = ".st-key-bdx-top"

    def __init__(self, page, url: str, *, timeout: float = 60_000):
        self.page = page
        self.url = url
        self.timeout = timeout
        page.set_default_timeout(timeout)
        page.add_init_script(OBSERVER)

    def counters(self) -> tuple[int, int]:
        """(finished script runs seen, messages received from the server)."""
        r = self.page.evaluate("() => window.__bdx ? [window.__bdx.finished, window.__bdx.msgs] : [0, 0]")
        return int(r[0]), int(r[1])

    def open(self, query: str = "") -> AppPage:
        """Load the app and wait until its first run has finished and the ranking is drawn."""
        self.page.goto(self.url + ("/?" + query if query else "/"))
        self.page.wait_for_function(RAN_SINCE, arg=0, polling=20)  # the page's first request
        self.page.locator(self.TOP).wait_for()
        return self

    def wait_idle(self) -> None:
        """Wait until no script run is under way and no element is stale."""
        self.page.wait_for_function(IDLE, polling=20)

    def rerun(self, action) -> None:
        """Do ``action()`` (which must rerun the app) and wait for the run it caused to finish.

        The run counts only if it started after a rerun request sent after the
        action began, so the previous action's run (or the gap before the new
        one starts) is never taken for it.
        """
        self.wait_idle()
        mark = int(self.page.evaluate(MARK))
        action()
        self.page.wait_for_function(RAN_SINCE, arg=mark, polling=20)

    def tab(self, name: str) -> None:
        """Open a tab by its title (the app reruns on a tab change) and wait for the run."""
        tab = self.page.get_by_role("tab", name=name).first
        if tab.get_attribute("aria-selected") == "true":
            return  # already open: a click would not rerun
        self.rerun(tab.click)

    def expect_text(self, text: str) -> None:
        """Wait until the page shows ``text`` (fails after the timeout)."""
        from playwright.sync_api import expect

        expect(self.page.locator("body")).to_contain_text(text, timeout=self.timeout)

    def expect_top(self, label: str) -> None:
        """Wait until the 'Most probable' line names ``label`` first."""
        from playwright.sync_api import expect

        expect(self.page.locator(self.TOP)).to_contain_text(f"Most probable: 1. {label}", timeout=self.timeout)

    def fill(self, label: str, text: str) -> None:
        """Type into a text input (by its label), commit with Enter, wait for the run."""
        box = self.page.get_by_label(label, exact=True).first
        box.fill(text)
        self.rerun(lambda: box.press("Enter"))

    def choose(self, label: str, option: str) -> None:
        """Click an option of a three-state finding (by the finding's label), wait for the run."""
        group = self.page.get_by_role("radiogroup", name=label, exact=True).first
        self.rerun(lambda: group.get_by_role("radio", name=option, exact=True).click())

    def select(self, label: str, option: str) -> None:
        """Pick an option of a select box (by its label), wait for the run."""
        self.page.get_by_label(label, exact=True).first.click()
        self.rerun(lambda: self.page.get_by_role("option", name=option, exact=True).first.click())

    def add_drug(self, name: str) -> None:
        """Type a drug name (or its first letters) into the drug box and press Enter, wait for the run."""
        self.fill("Add a drug", name)

    def click(self, name: str) -> None:
        """Click a button by its text, wait for the run."""
        self.rerun(lambda: self.page.get_by_role("button", name=name).first.click())

    def install_latency_probe(self) -> None:
        """Start timing click/Enter -> redrawn ranking (see :data:`LATENCY_PROBE`)."""
        self.page.evaluate(LATENCY_PROBE)

    def timed(self, action, timeout: float = 60_000) -> float | None:
        """Run ``action()`` and return ms from the click/Enter to the redrawn ranking.

        None when the run finished without a visible change of the ranking.
        """
        self.rerun(action)
        try:
            self.page.wait_for_function("() => window.__lat.t1 !== null", timeout=2_000)
        except Exception:  # noqa: BLE001 - no visible change
            return None
        return float(self.page.evaluate("() => window.__lat.t1 - window.__lat.t0"))

    def top_text(self) -> str:
        """The 'Most probable' line."""
        return self.page.locator(self.TOP).inner_text()

    def ranking_rows(self) -> list[dict]:
        """The ranking as drawn, row by row: the cause's name (``shown``: not cut off), its
        percentage, and in pixels from the track's start the bar's end, the prior tick and the
        whisker's ends (None when no whisker is drawn)."""
        return self.page.evaluate("""() => [...document.querySelectorAll('.st-key-bdx-ranking ol.bdx-rank li')]
          .map((li) => { const x0 = li.querySelector('.bdx-track').getBoundingClientRect().left;
            const box = (sel) => { const e = li.querySelector(sel); return e && e.getBoundingClientRect(); };
            const lab = li.querySelector('.bdx-lab'), ci = box('.bdx-ci'), prior = box('.bdx-prior');
            return {name: lab.textContent, shown: lab.scrollHeight <= lab.clientHeight + 1,
                    pct: li.querySelector('.bdx-pct').textContent, bar: Math.round(box('.bdx-bar').right - x0),
                    prior: prior ? Math.round(prior.left + prior.width / 2 - x0) : null,
                    whisker: ci ? [Math.round(ci.left - x0), Math.round(ci.right - x0)] : null}; })""")

    def ranking_text(self) -> str:
        """The text of the ranking chart (labels and percentages)."""
        return self.page.evaluate(RANKING_TEXT)
