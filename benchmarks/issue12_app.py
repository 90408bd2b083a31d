"""Issue 12's two app rows, measured in Debian's headless Chromium (used by ``issue12.py``).

* :func:`whiskers_after_click` - the time from an evidence change (a click on
  a finding's option) until the ranking chart shows the 90% credible-interval
  whiskers *for the new evidence*, with the interval toggle on, twice: the
  **first whiskers** (the app streams them: the first stage of draws at once,
  labelled as refining) and the **final whiskers** (those of
  ``interval_estimate`` for seed 0, where the refinement stops). In the page, a
  MutationObserver logs every change of the ranking's whiskers (its HTML rows,
  :mod:`bayesdx.ui.ranking`: each row with a whisker names its cause's id, its
  percentage and, in its tooltip, its ``90% interval``) with its time. After the click's script run has
  finished, the new evidence is read from the address bar (the app writes it
  there), its posterior and final intervals computed here; the first whisker
  drawing after the click whose every whisker carries the new evidence's
  posterior (to the percentage shown) is the first arrival, the first whose
  every whisker also shows the final interval is the final arrival. No fixed
  delays: every wait is on a condition.
* :func:`first_ranking` - from launching ``streamlit run app.py`` (a fresh
  server) until a browser, which asks for the page as soon as the server
  answers its health check, shows a ranking (the ranking's rows carry
  their percentages); also from the browser's first request to the ranking,
  and the same for a second session on the now warm server.

Each evidence change is new to the server (a finding set, then set to its
other answer, on to the next finding), so no interval comes from the cache.
"""

from __future__ import annotations

import os
import re
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "ui"))  # the browser harness

from harness import (CHROMIUM, FIRST_SHOWN, FIRST_SHOWN_AT, RANKING_TEXT, AppPage, free_port,  # noqa: E402
                     launch_chromium, process_cpu_seconds, serve_app, start_app, wait_healthy)

__all__ = ["first_ranking", "first_row", "whisker_row", "whiskers_after_click"]

#: JavaScript: log (time, labels) of the ranking's whiskers whenever they change: for each row with a
#: whisker drawn (bayesdx.ui.ranking), "Id: ...; Posterior: ...; 90% interval: ..." as its HTML says
WHISKER_LOG = """
(() => {
  if (window.__wh) return;
  const SEL = '.st-key-bdx-ranking ol.bdx-rank li';
  const W = window.__wh = {log: [], last: ''};
  const snap = () => [...document.querySelectorAll(SEL)].filter((li) => li.querySelector('.bdx-ci')).map((li) => {
    const iv = /90% interval: ([^;]+)/.exec(li.title || '');
    return `Id: ${li.dataset.id}; Posterior: ${li.querySelector('.bdx-pct').textContent}; 90% interval: ${iv ? iv[1] : ''}`; });
  const look = () => { const s = snap(); const key = s.join('|');
                       if (key !== W.last) { W.last = key; W.log.push({t: performance.now(), labels: s}); } };
  new MutationObserver(look).observe(document.body, {subtree: true, childList: true, attributes: true});
  document.addEventListener('pointerdown', (e) => { W.t0 = e.timeStamp || performance.now(); }, true);
  look();
})();
"""
_ID = re.compile(r"Id: ([^;]+)")
_POST = re.compile(r"Posterior: ([^;]+)")
_IV = re.compile(r"90% interval: ([^;]+)")

#: (tab, finding label, abnormal answer, normal answer): each set abnormal, then normal
FINDINGS = [
    ("Smear", "Hairy cells", "present", "absent"), ("Smear", "Large granular lymphocytes", "present", "absent"),
    ("Tests", "ANA", "positive", "negative"), ("History", "Splenomegaly", "present", "absent"),
    ("Smear", "Atypical lymphocytes", "present", "absent"), ("Tests", "HIV", "positive", "negative"),
    ("Marrow", "Dysplasia", "present", "absent"), ("History", "Fever", "present", "absent"),
    ("Tests", "EBV VCA IgM", "positive", "negative"), ("Smear", "Hypersegmented neutrophils", "present", "absent"),
]
UNKNOWN = ("unknown", "not done")
CLOZAPINE = {"age_group": "young", "sex": "male", "anc": "severe", "alc": "normal", "hb": "normal",
             "plt": "normal", "exposure_antipsychotic": "clozapine_window"}


def _unavailable() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} not found (apt-get install chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright not installed (pip install -e '.[dev]')"
    return None


def workup_case(model, budget_s: float = 0.5):
    """The vignette with the most abnormal findings whose exact ranking the app gives at once
    (estimated cost ≤ ``budget_s``): (id, evidence, abnormal findings)."""
    from bayesdx.case import parse_case
    from bayesdx.evaluation.vignettes import load_vignettes
    from bayesdx.ui.jobs import abnormal_count

    best = None
    for v in load_vignettes():
        ev = dict(parse_case(v.case, model.kb).evidence)
        n = abnormal_count(model, ev)
        if (best is None or n > best[2]) and model.engine.estimate(ev).seconds <= budget_s:
            best = (v.id, ev, n)
    return best


def _expected(model, url: str) -> tuple[dict[str, str], dict[str, str]]:
    """Cause id -> the percentage the chart shows, and -> its final interval as the chart's
    tooltip says it (``interval_estimate``, seed 0, as the app), for the evidence in the
    page's address."""
    from bayesdx.diagnosis import diagnose_evidence
    from bayesdx.ui.analysis import DRAWS
    from bayesdx.uncertainty import interval_estimate
    from bayesdx.words import pct

    ev = {k: v for k, v in parse_qsl(urlsplit(url).query) if k in model.net.states}
    d = diagnose_evidence(model, ev, draws=0, scores=False)
    b = interval_estimate(model.engine, ev, draws=DRAWS, seed=0).bounds
    return ({c.id: pct(c.posterior) for c in d.causes},
            {c: f"{pct(b[i, 0])} to {pct(b[i, 1])}" for i, c in enumerate(model.engine.causes)})


def _arrival(log: list[dict], t0: float, expected: dict[str, str], final: dict[str, str] | None = None
             ) -> float | None:
    """Time of the first whisker drawing after ``t0`` whose every whisker shows ``expected``
    (and, given ``final``, the final interval)."""
    for e in log:
        if e["t"] < t0 or not e["labels"]:
            continue
        ok = True
        for x in e["labels"]:
            i, p, v = _ID.search(x), _POST.search(x), _IV.search(x)
            cid = i.group(1).strip() if i else None
            ok = (cid is not None and p is not None and expected.get(cid) == p.group(1).strip()
                  and (final is None or (v is not None and final.get(cid) == v.group(1).strip())))
            if not ok:
                break
        if ok:
            return e["t"]
    return None


def _timed_clicks(model, app: AppPage, clicks: int, timeout_s: float = 180.0) -> list[dict]:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page, out, used = app.page, [], set()
    while len(out) < clicks:
        f = next((f for f in FINDINGS if f[1] not in used), None)
        if f is None:
            break
        tab, label, abnormal, normal = f
        used.add(label)
        app.tab(tab)
        group = page.get_by_role("radiogroup", name=label, exact=True).first
        if not any(group.get_by_role("radio", name=u, exact=True).count()
                   and group.get_by_role("radio", name=u, exact=True).is_checked() for u in UNKNOWN):
            continue  # already answered in this case: not a new finding
        for opt in (abnormal, normal):
            before = page.url
            cpu0 = process_cpu_seconds(app.url.pid)
            app.rerun(lambda o=opt: group.get_by_role("radio", name=o, exact=True).click())
            if page.url == before:
                out.append({"finding": f"{label}={opt}", "s": None, "why": "the evidence did not change"})
                continue
            if "No credible intervals for an approximate ranking" in page.inner_text("body"):
                out.append({"finding": f"{label}={opt}", "s": None, "why": "approximate ranking: no whiskers"})
                continue
            exp, final = _expected(model, page.url)
            t0 = page.evaluate("() => window.__wh.t0")
            try:
                page.wait_for_function(  # the whiskers of the new evidence, however long the run's tail
                    """([t0, exp]) => window.__wh.log.some((e) => e.t >= t0 && e.labels.length && e.labels.every((x) => {
                         const i = /Id: ([^;]+)/.exec(x), p = /Posterior: ([^;]+)/.exec(x);
                         return i && p && exp[i[1].trim()] === p[1].trim(); }))""",
                    arg=[t0, exp], polling=20, timeout=timeout_s * 1000)
            except PlaywrightTimeout:
                out.append({"finding": f"{label}={opt}", "s": None, "late": True,
                            "why": f"no whiskers for the new evidence within {timeout_s:.0f} s"})
                continue
            log = page.evaluate("() => window.__wh.log")  # the run has finished: the final whiskers are in
            t1, t2 = _arrival(log, t0, exp), _arrival(log, t0, exp, final)
            out.append({"finding": f"{label}={opt}", "s": (t1 - t0) / 1000,
                        "final_s": None if t2 is None else (t2 - t0) / 1000,
                        "server_cpu_s": process_cpu_seconds(app.url.pid) - cpu0})
    return out


def whiskers_after_click(model, clicks: int = 6) -> dict:
    """Click -> whiskers of the new evidence, on a light case and on a complete work-up."""
    if why := _unavailable():
        return {"skipped": f"not measured: {why}"}
    from playwright.sync_api import sync_playwright

    from bayesdx.ui.share import evidence_to_query

    wid, wev, wn = workup_case(model)
    scenarios = [("clozapine case", CLOZAPINE), (f"work-up {wid} ({wn} abnormal findings)", wev)]
    res: dict = {"clicks_per_scenario": clicks, "scenarios": {}}
    with serve_app() as url, sync_playwright() as p:
        browser = launch_chromium(p)
        for name, ev in scenarios:
            ctx = browser.new_context(viewport={"width": 1440, "height": 900})
            app = AppPage(ctx.new_page(), url, timeout=180_000)
            app.open(urlencode(evidence_to_query(ev, model.kb)))
            app.page.evaluate(WHISKER_LOG)
            app.rerun(lambda a=app: a.page.get_by_text("90% credible intervals").click())
            app.expect_text("Whisker: 90% credible interval")
            res["scenarios"][name] = _timed_clicks(model, app, clicks)
            ctx.close()
        browser.close()
    times = [c["s"] for s in res["scenarios"].values() for c in s if c["s"] is not None]
    finals = [c["final_s"] for s in res["scenarios"].values() for c in s if c.get("final_s") is not None]
    res.update({"measured": len(times), "median_s": statistics.median(times) if times else None,
                "max_s": max(times) if times else None, "min_s": min(times) if times else None,
                "final_measured": len(finals),
                "final_median_s": statistics.median(finals) if finals else None,
                "final_max_s": max(finals) if finals else None,
                "load_average": os.getloadavg()[0]})
    return res


def whisker_row(w: dict, goal: float) -> dict:
    """The table row (see ``issue12.table_rows``)."""
    row = {"workload": "whiskers in the app after a click (click -> first whiskers of the new evidence, "
                       "streamed; final whiskers in the note)",
           "goal": f"≤ {goal:g} s", "slowest": "-", "met": None}
    late = sum(c.get("late", False) for cs in w.get("scenarios", {}).values() for c in cs)
    if "skipped" in w or not w.get("measured"):
        return {**row, "median": w.get("skipped", "not measured: no click gave a new ranking with whiskers"),
                "met": False if late else None}
    def fmt(c):
        if c["s"] is None:
            return "-"
        return f"{c['s']:.2f}/{c['final_s']:.2f}" if c.get("final_s") is not None else f"{c['s']:.2f}/?"

    per = "; ".join(f"{name}: " + ", ".join(fmt(c) for c in cs) + " s" for name, cs in w["scenarios"].items())
    final = (f"final whiskers (interval_estimate's, seed 0) median {w['final_median_s']:.2f} s, max "
             f"{w['final_max_s']:.2f} s over {w['final_measured']} clicks"
             if w.get("final_measured") else "final whiskers not seen")
    cpu = statistics.median(c["server_cpu_s"] for cs in w["scenarios"].values() for c in cs if c["s"] is not None)
    return {**row, "median": f"{w['median_s']:.2f} s", "slowest": f"max {w['max_s']:.1f} s",
            "met": w["max_s"] <= goal and not late,
            "note": (f"{w['measured']} clicks (met only if every first drawing is within the goal; {late} "
                     f"without whiskers in time); {final}; server CPU a click, median {cpu:.2f} s; "
                     f"seconds per click, first/final: {per}")}


# --------------------------------------------------------------------------- first page


def _first_once(browser) -> dict:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    page = ctx.new_page()
    page.set_default_timeout(120_000)
    page.add_init_script(FIRST_SHOWN)  # when the server-drawn first page's ranking is painted
    # the ranking's bars carry their percentages: resolves to the page's clock at that moment
    first = f"() => ({RANKING_TEXT})().includes('%') && performance.now()"
    launch = time.time()
    proc = start_app(port)
    try:  # the health check every 20 ms: the browser asks as soon as the server answers
        wait_healthy(proc, url, 120, pause=0.02)
        up = time.time()
        page.goto(url + "/", wait_until="commit")
        now = page.wait_for_function(first, polling="raf").json_value()
        origin = page.evaluate("() => performance.timeOrigin")  # navigation start (epoch ms)
        live = (origin + now) / 1000
        page.wait_for_function("() => !window.__fp || window.__fpFrame")
        painted = page.evaluate(FIRST_SHOWN_AT)
        shown = min(live, painted or live)
        cpu = process_cpu_seconds(proc.pid)
        page2 = ctx.browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
        page2.goto(url + "/", wait_until="commit")
        warm = page2.wait_for_function(first, polling="raf").json_value() / 1000
        page2.context.close()
    finally:
        ctx.close()
        os.killpg(proc.pid, 15)
        proc.wait(timeout=15)
    return {"start_to_ranking_s": shown - launch, "server_up_s": up - launch,
            "start_to_live_ranking_s": live - launch, "drawn_by_server": painted is not None and painted < live,
            "request_to_ranking_s": shown - origin / 1000, "server_cpu_s": cpu,
            "second_session_request_to_ranking_s": warm}


def first_ranking(runs: int = 2) -> dict:
    """From ``streamlit run app.py`` to a ranking in the browser (``runs`` fresh servers)."""
    if why := _unavailable():
        return {"skipped": f"not measured: {why}"}
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)  # started before the clock: the browser is not the app
        out = [_first_once(browser) for _ in range(runs)]
        browser.close()
    keys = [k for k in out[0] if k != "drawn_by_server"]
    return {"runs": out, **{k: statistics.median(r[k] for r in out) for k in keys},
            "drawn_by_server": sum(r["drawn_by_server"] for r in out),
            "load_average": os.getloadavg()[0]}


def first_row(f: dict, goal: float) -> dict:
    """The table row (see ``issue12.table_rows``)."""
    row = {"workload": "app: first page with a ranking after start (launch -> ranking painted)",
           "goal": f"≤ {goal:g} s"}
    if "skipped" in f:
        return {**row, "median": f["skipped"], "slowest": "-", "met": None}
    return {**row, "median": f"{f['start_to_ranking_s']:.2f} s", "slowest": f"max {max(r['start_to_ranking_s'] for r in f['runs']):.2f} s",
            "met": f["start_to_ranking_s"] <= goal,
            "note": (f"median of {len(f['runs'])} fresh servers, first visits (empty browser cache); the first "
                     f"ranking is the one the server draws into the page in {f['drawn_by_server']} of them; "
                     f"the app's own ranking (the page usable) {f['start_to_live_ranking_s']:.2f} s; "
                     f"server up (health) {f['server_up_s']:.2f} s, "
                     f"first request -> ranking {f['request_to_ranking_s']:.2f} s, server CPU {f['server_cpu_s']:.2f} s; "
                     f"a second session on the warm server {f['second_session_request_to_ranking_s']:.2f} s")}
