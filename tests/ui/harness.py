"""Run the app on a free localhost port and drive it in headless Chromium (tests, benchmarks).

Uses Debian's ``/usr/bin/chromium`` through Playwright's Python API (no
browser download). Nothing here is used by the app itself.

* :func:`serve_app` - a context manager: ``streamlit run app.py`` on
  127.0.0.1 and a free port, yields the URL, stops the server afterwards;
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

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "IDLE", "LATENCY_PROBE", "OBSERVER", "RANKING_TEXT", "AppPage", "AppURL", "free_port", "launch_chromium", "process_cpu_seconds", "serve_app"]

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


@contextlib.contextmanager
def serve_app(port: int | None = None, *, timeout: float = 90.0, log: Path | None = None,
              script: Path | None = None) -> Iterator[AppURL]:
    """Start the app (``script``, default app.py) on ``127.0.0.1:port`` (a free port by default).

    Yields its URL (an :class:`AppURL`, whose ``pid`` is the server process).
    """
    port = port or free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", str(script or REPO / "app.py"),
           "--server.address", "127.0.0.1", "--server.port", str(port), "--server.headless", "true",
           "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
           "--server.runOnSave", "false"]
    url = AppURL(f"http://127.0.0.1:{port}")
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(open(log, "wb")) if log else subprocess.DEVNULL
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True)
        url.pid = proc.pid
        try:
            deadline = time.time() + timeout
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"the app exited with code {proc.returncode} before it was ready")
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if time.time() > deadline:
                    raise TimeoutError(f"the app did not answer on {url} within {timeout:.0f} s")
                time.sleep(0.3)
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
window.__bdx = {runs: 0, finished: 0, msgs: 0, lastMsg: 0};
new MutationObserver((muts) => {
  for (const m of muts) {
    if (m.target.getAttribute && m.target.getAttribute('data-test-script-state') === 'notRunning') {
      window.__bdx.runs += 1; window.__bdx.finished = performance.now();
    }
  }
}).observe(document, {attributes: true, subtree: true, attributeFilter: ['data-test-script-state']});
(() => {  // count messages from the server: every script run sends some
  const Orig = window.WebSocket;
  function Counted(...args) {
    const ws = new Orig(...args);
    ws.addEventListener('message', () => { window.__bdx.msgs += 1; window.__bdx.lastMsg = performance.now(); });
    return ws;
  }
  Counted.prototype = Orig.prototype;
  Object.setPrototypeOf(Counted, Orig);
  window.WebSocket = Counted;
})();
"""

IDLE = """() => { const a = document.querySelector('[data-testid="stApp"]');
  return a && a.getAttribute('data-test-script-state') === 'notRunning'
         && document.querySelectorAll('[data-stale="true"]').length === 0
         && performance.now() - window.__bdx.lastMsg > 80; }"""

#: JavaScript: the text of the ranking chart (its SVG), which changes when the ranking is redrawn
RANKING_TEXT = """() => { const s = document.querySelector('.st-key-bdx-ranking [data-testid="stVegaLiteChart"] svg.marks');
                          return s ? s.textContent : ''; }"""


#: JavaScript: time from a click (or Enter) to the first change of the ranking chart's text
LATENCY_PROBE = """
(() => {
  if (window.__lat) return;
  const SEL = '.st-key-bdx-ranking';
  const text = () => { const s = document.querySelector(SEL + ' [data-testid="stVegaLiteChart"] svg.marks');
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

    Every action that reruns the app waits until the run has finished
    (``data-test-script-state`` back to ``notRunning``).
    """

    TOP = ".st-key-bdx-top"

    def __init__(self, page, url: str, *, timeout: float = 30_000):
        self.page = page
        self.url = url
        self.timeout = timeout
        page.set_default_timeout(timeout)
        page.add_init_script(OBSERVER)

    def counters(self) -> tuple[int, int]:
        """(finished script runs seen, messages received from the server)."""
        r = self.page.evaluate("() => window.__bdx ? [window.__bdx.runs, window.__bdx.msgs] : [0, 0]")
        return int(r[0]), int(r[1])

    def open(self, query: str = "") -> AppPage:
        """Load the app and wait until the first run has finished and the ranking is drawn."""
        self.page.goto(self.url + ("/?" + query if query else "/"))
        self.page.wait_for_function("() => window.__bdx && window.__bdx.msgs > 0")
        self.wait_idle()
        self.page.locator(self.TOP).wait_for()
        return self

    def wait_idle(self) -> None:
        """Wait until no script run is under way and the server has been quiet for a moment."""
        self.page.wait_for_function(IDLE, polling=20)

    def rerun(self, action) -> None:
        """Do ``action()`` (which must rerun the app) and wait for the run to finish."""
        r0, m0 = self.counters()
        action()
        try:  # a finished run flips data-test-script-state back to notRunning ...
            self.page.wait_for_function(f"() => window.__bdx.runs > {r0}", polling=10, timeout=5_000)
        except Exception:  # noqa: BLE001 - ... unless the run was too quick for the DOM to show it
            self.page.wait_for_function(f"() => window.__bdx.msgs > {m0}", polling=10)
        self.wait_idle()

    def tab(self, name: str) -> None:
        """Open an evidence tab by its title (no rerun)."""
        self.page.get_by_role("tab", name=name).first.click()

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

    def ranking_text(self) -> str:
        """The text of the ranking chart (labels and percentages)."""
        return self.page.evaluate(RANKING_TEXT)
