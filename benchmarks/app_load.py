"""Load test of the app: many concurrent browser sessions (a bounded script, localhost only).

Starts the app on a free 127.0.0.1 port and opens N browser contexts (separate
sessions, separate cookies) in one headless Chromium (/usr/bin/chromium). Each
session opens its own scenario from a link - a signature of five tests set
positive/negative from the session number - and then makes M evidence changes
through the widgets (smear findings clicked present and back to unknown, in a
session-specific order), all sessions at once. After every change it checks:

* the evidence in the session's address bar is exactly the session's own
  (its signature plus its own toggles): no session sees another's evidence;
* the top cause shown is the one the package computes for that evidence;
* no JavaScript error, no app exception, no timeout.

It prints the number of changes, errors, isolation failures and the
click-to-redraw latency (median, p95) measured in each page.

    .venv/bin/python benchmarks/app_load.py [--sessions 20] [--changes 50]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "ui"))  # the browser harness

from playwright.async_api import async_playwright

from bayesdx.diagnosis import diagnose_evidence, load_model
from harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    IDLE,
    LATENCY_PROBE,
    MARK,
    OBSERVER,
    RAN_SINCE,
    process_cpu_seconds,
    serve_app,
)

SIGNATURE_TESTS = [("HIV", "test_hiv"), ("HBsAg", "test_hbsag"), ("Anti-HCV", "test_anti_hcv"),
                   ("ANA", "test_ana"), ("Rheumatoid factor", "test_rf")]
SMEAR = [("Blasts", "smear_blasts"), ("Hypersegmented neutrophils", "smear_hypersegmented_neutrophils"),
         ("Dysplastic neutrophils", "smear_dysplastic_neutrophils"),
         ("Large granular lymphocytes", "smear_large_granular_lymphocytes"),
         ("Hairy cells", "smear_hairy_cells"), ("Atypical lymphocytes", "smear_atypical_lymphocytes"),
         ("Macro ovalocytes", "smear_macro_ovalocytes"), ("Auer rods", "smear_auer_rods")]
TIMEOUT_MS = 180_000
POLL_MS = 100  # how often each page is asked whether it is done (cheap for the browser)


def percentile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    k = (len(xs) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


class Expected:
    """The top cause the package gives for an evidence set (memoised)."""

    def __init__(self):
        self.model = load_model()
        self.memo: dict[tuple, str] = {}

    def top(self, evidence: dict[str, str]) -> str:
        key = tuple(sorted(evidence.items()))
        if key not in self.memo:
            self.memo[key] = diagnose_evidence(self.model, evidence, draws=0).causes[0].label
        return self.memo[key]


async def wait_run(page, mark: int) -> None:
    """Wait for a run that started after a rerun request sent after ``mark`` (harness.RAN_SINCE)."""
    await page.wait_for_function(RAN_SINCE, arg=mark, polling=POLL_MS, timeout=TIMEOUT_MS)


async def mark(page) -> int:
    await page.wait_for_function(IDLE, polling=POLL_MS, timeout=TIMEOUT_MS)
    return int(await page.evaluate(MARK))


SAME_EVIDENCE = """(want) => {
  const got = Object.fromEntries(new URLSearchParams(window.location.search));
  const a = Object.keys(got).sort(), b = Object.keys(want).sort();
  return a.length === b.length && a.every((k, j) => k === b[j] && got[k] === want[k]);
}"""


def url_evidence(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


async def session(i: int, browser, url: str, changes: int, expected: Expected, stats: dict) -> None:
    rng = random.Random(i)
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.on("pageerror", lambda e: stats["js_errors"].append(f"session {i}: {e}"))
    await page.add_init_script(OBSERVER)
    evidence = {node: ("positive" if (i >> k) & 1 else "negative")
                for k, (_, node) in enumerate(SIGNATURE_TESTS)}
    evidence["anc"] = ["mild", "moderate", "severe"][i % 3]
    signature = list(evidence)
    query = "&".join(f"{k}={v}" for k, v in evidence.items())
    try:
        await page.goto(f"{url}/?{query}")
        await wait_run(page, 0)
        m = await mark(page)
        await page.get_by_role("tab", name="Smear").first.click()
        await wait_run(page, m)
        await page.evaluate(LATENCY_PROBE)
        order = list(SMEAR)
        rng.shuffle(order)
        for step in range(changes):
            label, node = order[(step // 2) % len(order)]
            option = "present" if step % 2 == 0 else "unknown"
            if option == "present":
                evidence[node] = "present"
            else:
                evidence.pop(node, None)
            m = await mark(page)
            group = page.get_by_role("radiogroup", name=label, exact=True).first
            await group.get_by_role("radio", name=option, exact=True).click()
            await wait_run(page, m)
            # the address bar must reach exactly this session's evidence ...
            with contextlib.suppress(Exception):  # a mismatch is reported below
                await page.wait_for_function(SAME_EVIDENCE, arg=evidence, polling=POLL_MS, timeout=TIMEOUT_MS)
            await page.wait_for_function(IDLE, polling=POLL_MS, timeout=TIMEOUT_MS)
            stats["changes"] += 1
            got = url_evidence(page.url)
            if got != evidence:
                # ... and must never show another session's signature
                own = {k: evidence[k] for k in signature}
                seen = {k: got.get(k) for k in signature}
                kind = "isolation" if seen != own else "stale"
                stats[kind].append(f"session {i} step {step}: address bar {got} != own {evidence}")
            top = await page.locator(".st-key-bdx-top").inner_text()
            want = expected.top(evidence)
            if f"1. {want}" not in top:
                stats["wrong_top"].append(f"session {i} step {step}: shows {top[:80]!r}, expected {want!r}")
            if await page.locator('[data-testid="stException"]').count():
                stats["app_errors"].append(f"session {i} step {step}: an exception is shown")
            lat = await page.evaluate("() => window.__lat.t1 === null ? null : window.__lat.t1 - window.__lat.t0")
            if lat is None:
                stats["no_change"] += 1
            else:
                stats["latency"].append(float(lat))
    except Exception as exc:  # noqa: BLE001 - counted and reported
        stats["failures"].append(f"session {i}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    finally:
        await context.close()


async def run(sessions: int, changes: int) -> dict:
    expected = Expected()
    stats = {"changes": 0, "no_change": 0, "latency": [], "js_errors": [], "app_errors": [],
             "isolation": [], "stale": [], "wrong_top": [], "failures": []}
    with serve_app() as url:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            t0 = time.perf_counter()
            cpu0 = process_cpu_seconds(url.pid)
            await asyncio.gather(*(session(i, browser, url, changes, expected, stats) for i in range(sessions)))
            wall = time.perf_counter() - t0
            server_cpu = process_cpu_seconds(url.pid) - cpu0
            await browser.close()
    lat = stats["latency"]
    errors = (len(stats["js_errors"]) + len(stats["app_errors"]) + len(stats["failures"])
              + len(stats["wrong_top"]) + len(stats["stale"]))
    return {
        "sessions": sessions, "changes_per_session": changes, "changes_done": stats["changes"],
        "errors": errors, "isolation_failures": len(stats["isolation"]),
        "js_errors": stats["js_errors"][:5], "app_errors": stats["app_errors"][:5],
        "failures": stats["failures"][:5], "wrong_top": stats["wrong_top"][:5],
        "isolation": stats["isolation"][:5], "stale": stats["stale"][:5],
        "no_visible_change": stats["no_change"],
        "latency_median_ms": statistics.median(lat) if lat else None,
        "latency_p95_ms": percentile(lat, 0.95) if lat else None,
        "latency_max_ms": max(lat) if lat else None,
        "wall_s": wall, "changes_per_s": stats["changes"] / wall if wall else None,
        "server_cpu_s": server_cpu,
        "server_cpu_ms_per_change": 1000 * server_cpu / stats["changes"] if stats["changes"] else None,
        "cpus": os.cpu_count(),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=20, help="concurrent browser sessions (>= 1)")
    ap.add_argument("--changes", type=int, default=50, help="evidence changes per session")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} not found: apt-get install -y chromium chromium-driver", file=sys.stderr)
        return 2
    res = asyncio.run(run(max(args.sessions, 1), max(args.changes, 1)))
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        print(f"app load: {res['sessions']} concurrent sessions x {res['changes_per_session']} evidence changes "
              f"= {res['changes_done']} changes in {res['wall_s']:.0f} s ({res['changes_per_s']:.1f}/s)")
        print(f"  server CPU {res['server_cpu_s']:.0f} s = {res['server_cpu_ms_per_change']:.0f} ms per change "
              f"(the rest of the {res['cpus']} CPUs: the {res['sessions']} browser pages)")
        print(f"  errors {res['errors']}   sessions seeing other evidence {res['isolation_failures']}   "
              f"changes without a visible redraw {res['no_visible_change']}")
        if res["latency_p95_ms"] is not None:
            print(f"  click-to-redraw: median {res['latency_median_ms']:.0f} ms   "
                  f"p95 {res['latency_p95_ms']:.0f} ms   max {res['latency_max_ms']:.0f} ms")
        for key in ("failures", "js_errors", "app_errors", "wrong_top", "stale", "isolation"):
            for line in res[key]:
                print(f"  {key}: {line}")
    ok = res["errors"] == 0 and res["isolation_failures"] == 0 and res["changes_done"] == \
        res["sessions"] * res["changes_per_session"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
