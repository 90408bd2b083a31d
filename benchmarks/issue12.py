"""Every figure of issue 12's table, with its goal and whether it is met: a table and JSON.

``./dev bench`` (``benchmarks/run.py``) prints this table at its end (``--no-app``
skips the browser rows there); it also runs alone, and slow rows can be left out:

    .venv/bin/python benchmarks/issue12.py [--interval-step 4] [--json PATH]
        [--no-app] [--no-cli] [--no-peers] [--skip ROW[,ROW...]]
        [--peer-sets 40] [--whisker-clicks 6]

Rows (``--skip`` names): ``posterior``, ``interval``, ``batch``, ``heavy-cli``,
``batch-cli``, ``cohort-cli``, ``peers``, ``app-whiskers``, ``app-first``.
Measured wall clock (``time.perf_counter``) and, where it means something, CPU
(``time.process_time``, or the child's user + sys), one process, plans warm
unless said otherwise:

* ``posterior``: every cause on the complete work-ups (the validation cases):
  median and p95 of the best of three warm runs per case;
* ``interval``: a credible interval with the defaults (``uncertainty.interval_estimate``:
  up to 1,000 draws, added until the ends are within 2 points) on every
  ``--interval-step``-th case (default every case): median and max, with the draws used;
* ``app-whiskers``: in the app (headless Chromium), click -> the interval
  whiskers of the new evidence drawn, intervals switched on, on a light case and
  on a complete work-up: the first whiskers (streamed, the first stage of draws;
  the row's figure) and the final ones (in its note; ``issue12_app.py`` says how
  the page knows);
* ``batch-cli``: ``bayesdx diagnose examples/batch.yaml`` (3 cases, one misspelt
  on purpose: exit 2 expected) in a fresh process: wall, CPU, peak RSS;
* ``cohort-cli``: ``bayesdx diagnose`` (CLI defaults: intervals of up to 1,000 draws) on one
  batch file of the 40 validation vignettes with the most abnormal findings,
  written to a temporary directory;
* ``app-first``: from launching ``streamlit run app.py`` to a ranking in the
  browser, and from the browser's first request to it;
* ``batch``: 5,000 synthetic patients sampled from the model, every pattern
  distinct (``benchmarks/run.py``'s ``cohort``, plans compiled inside the timing);
* ``heavy-cli``: the 27-finding work-up (``examples/heavy_workup.yaml``), ``bayesdx
  diagnose`` in a fresh process (default draws), its peak RSS and how it was answered;
* ``peers``: random evidence sets of <= 6 nodes, pgmpy and pyAgrum against the
  engine: the speed-up factor (peer median / engine median), cold and warm
  (the goal is judged on cold: a new pattern, as the peers see every set).

The browser rows say ``not measured: <why>`` when Chromium or Playwright is
missing. The load average is printed with the figures: on a shared machine,
wall times are several times the CPU times.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

__all__ = ["GOALS", "ROWS", "interval_times", "measure", "peer_rows", "peers", "posterior_times", "print_table",
           "table_rows"]

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import issue12_app  # noqa: E402 - the browser rows (benchmarks/issue12_app.py)
from issue12_cli import batch_example_cli, cohort40_cli, heavy_cli  # noqa: E402 - the fresh-process rows

GOALS = {"posterior_median_ms": 2.0, "posterior_p95_ms": 5.0, "interval_median_s": 0.2,
         "interval_max_s": 1.0, "app_whiskers_s": 1.0, "batch_cli_s": 2.0, "batch_cli_mb": 300.0,
         "cohort_cli_s": 10.0, "app_first_s": 1.5, "batch_cases_per_s": 5000.0, "heavy_cli_s": 10.0,
         "heavy_cli_mb": 1536.0, "peer_speedup": 5.0}
"""Issue 12's goals (the 27-finding work-up's: an earlier issue's; the peers': speed-up factor)."""


def posterior_times(model, evs) -> tuple[np.ndarray, np.ndarray]:
    """Best-of-three warm wall and CPU seconds per case."""
    eng = model.engine
    for ev in evs:
        eng.posterior(ev)
    wall, cpu = [], []
    for ev in evs:
        w, c = [], []
        for _ in range(3):
            t, p = time.perf_counter(), time.process_time()
            eng.posterior(ev)
            w.append(time.perf_counter() - t)
            c.append(time.process_time() - p)
        wall.append(min(w))
        cpu.append(min(c))
    return np.array(wall), np.array(cpu)


def interval_times(model, evs) -> tuple[np.ndarray, list, list, np.ndarray]:
    """Wall seconds, Monte-Carlo errors, draws used and CPU seconds of each case's interval
    (the defaults: up to 1,000 draws, added until the ends are within 2 points)."""
    from bayesdx.uncertainty import draw_tables, interval_estimate

    draw_tables(model.net, 1000, 0)
    interval_estimate(model.engine, evs[0], draws=1000, seed=0)  # the kernel loaded (or compiled) once
    ts, errs, draws, cpu = [], [], [], []
    for ev in evs:
        t, c = time.perf_counter(), time.process_time()
        iv = interval_estimate(model.engine, ev, draws=1000, seed=0)
        ts.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        errs.append(iv.mc_error)
        draws.append(iv.draws)
    return np.array(ts), errs, draws, np.array(cpu)


def peers(model, n_sets: int = 40, res: dict | None = None) -> dict:
    """Random small evidence sets (<= 6 nodes): the engine against pgmpy and pyAgrum.

    ``res``: reuse ``benchmarks/run.py``'s figures (its ``engine_random``,
    ``pgmpy`` and ``pyagrum`` entries) instead of measuring again. The speed-up
    is the peer's median over the engine's on the sets the peer could do, cold
    (a new pattern: the plan compiled, as the peers see every set) and warm.
    """
    import run

    if res is None:
        sub = run.random_sets(model.net, n_sets)
        c_all, w_all = run.engine_times(model, sub)
        res = {"engine_random": {"cold_median_ms": run._median_ms(c_all), "warm_median_ms": run._median_ms(w_all)}}

        def speedups(peer_ms, ids):
            return {"speedup_vs_engine_cold": peer_ms / run._median_ms([c_all[i] for i in ids]),
                    "speedup_vs_engine_warm": peer_ms / run._median_ms([w_all[i] for i in ids])}

        pg, worst, failed, ok = run.pgmpy_times(model, sub)
        res["pgmpy"] = {"sets": len(sub), "cases": len(ok), "failed": failed, "median_ms": run._median_ms(pg),
                        "max_abs_diff": worst, **(speedups(run._median_ms(pg), ok) if ok else {})}
        with tempfile.TemporaryDirectory() as tmp:
            ag = run.pyagrum_times(model, sub, Path(tmp))
        if ag.get("pruned_median_ms"):
            ag.update(speedups(ag["pruned_median_ms"], ag["pruned_case_ids"]))
        res["pyagrum"] = ag
    pg, ag = res["pgmpy"], res["pyagrum"]
    return {"sets": pg.get("sets", n_sets), **{f"engine_{k}": v for k, v in res["engine_random"].items()},
            "pgmpy_ms": pg.get("median_ms"), "pgmpy_cases": pg.get("cases"),
            "pgmpy_speedup_cold": pg.get("speedup_vs_engine_cold"),
            "pgmpy_speedup_warm": pg.get("speedup_vs_engine_warm"),
            "pyagrum_ms": ag.get("pruned_median_ms"), "pyagrum_cases": ag.get("pruned_cases"),
            "pyagrum_speedup_cold": ag.get("speedup_vs_engine_cold"),
            "pyagrum_speedup_warm": ag.get("speedup_vs_engine_warm"),
            "pyagrum_error": ag.get("error")}


ROWS = ("posterior", "interval", "batch", "heavy-cli", "batch-cli", "cohort-cli", "peers",
        "app-whiskers", "app-first")
"""Every row of the table, in order (``--skip`` takes these names)."""


def measure(model, evs, interval_step: int = 1, batch: dict | None = None, *, skip=(),
            peer_res: dict | None = None, peer_sets: int = 40, whisker_clicks: int = 6) -> dict:
    """Every figure of the table but those in ``skip`` (names from :data:`ROWS`).

    ``batch``: reuse ``run.batch_throughput``'s result; ``peer_res``: reuse
    ``run.py``'s peer figures (see :func:`peers`).
    """
    from run import batch_throughput

    r: dict = {"cases": len(evs), "load_average_start": os.getloadavg(), "cpus": os.cpu_count(),
               "goals": GOALS, "skipped": sorted(set(skip))}
    if "posterior" not in skip:
        wall, cpu = posterior_times(model, evs)
        r.update({"posterior_median_ms": 1e3 * float(np.median(wall)),
                  "posterior_p95_ms": 1e3 * float(np.percentile(wall, 95)),
                  "posterior_cpu_median_ms": 1e3 * float(np.median(cpu)),
                  "posterior_cpu_p95_ms": 1e3 * float(np.percentile(cpu, 95))})
    if "interval" not in skip:
        iv, errs, used, cpu = interval_times(model, evs[::interval_step])
        r.update({"interval_cases": len(iv), "interval_step": interval_step,
                  "interval_median_s": float(np.median(iv)),
                  "interval_max_s": float(iv.max()), "interval_mc_error_max": max(e or 0 for e in errs),
                  "interval_cpu_median_s": float(np.median(cpu)), "interval_cpu_max_s": float(cpu.max()),
                  "interval_draws_median": float(np.median(used)), "interval_draws_min": int(min(used)),
                  "interval_mc_error_median": float(np.median([e or 0 for e in errs]))})
    if "batch" not in skip:
        if batch is None:
            batch = batch_throughput(model, evs)
        n, secs = batch["cohort"]
        r["batch_cases_per_s"] = n / secs
    if "heavy-cli" not in skip:
        r["heavy"] = heavy_cli()
    if "batch-cli" not in skip:
        r["batch_cli"] = batch_example_cli()
    if "cohort-cli" not in skip:
        r["cohort_cli"] = cohort40_cli(model)
    if "peers" not in skip:
        r["peers"] = peers(model, peer_sets, peer_res)
    for row, key, fn in (("app-whiskers", "app_whiskers", lambda: issue12_app.whiskers_after_click(model, whisker_clicks)),
                         ("app-first", "app_first", issue12_app.first_ranking)):
        if row not in skip:
            try:
                r[key] = fn()
            except Exception as exc:  # noqa: BLE001 - the app or the browser failed: say so, keep the table
                r[key] = {"skipped": f"not measured: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"}
    r["load_average"] = os.getloadavg()[0]
    r["rows"] = table_rows(r)
    return r


def _met(value, goal, *, at_least: bool = False) -> bool | None:
    if value is None or goal is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return bool(value >= goal if at_least else value <= goal)


def _all(*flags) -> bool | None:
    return None if any(f is None for f in flags) else all(flags)


def _cli_row(name: str, c: dict, goal_s: float, goal_mb: float | None, note: str = "") -> dict:
    fig = f"{c['s']:.1f} s (CPU {c['cpu_s']:.1f}), {c['mb']:,.0f} MB peak"
    met = _all(_met(c["s"], goal_s), _met(c["mb"], goal_mb) if goal_mb else True)
    goal = f"≤ {goal_s:g} s" + (f", ≤ {goal_mb:,.0f} MB" if goal_mb else "")
    return {"workload": name, "median": fig, "slowest": f"exit {c['exit']}", "goal": goal, "met": met,
            "note": note}


def table_rows(r: dict) -> list[dict]:
    """The table: one dict a workload (figure, slowest, goal, met: True/False/None = not measured)."""
    g, rows = GOALS, []
    if "posterior_median_ms" in r:
        rows.append({"workload": f"posterior of every cause, {r['cases']} complete work-ups",
                     "median": f"{r['posterior_median_ms']:.1f} ms (CPU {r['posterior_cpu_median_ms']:.1f})",
                     "slowest": f"p95 {r['posterior_p95_ms']:.1f} ms (CPU {r['posterior_cpu_p95_ms']:.1f})",
                     "goal": "median ≤ 2 ms, p95 ≤ 5 ms",
                     "met": _all(_met(r["posterior_median_ms"], g["posterior_median_ms"]),
                                 _met(r["posterior_p95_ms"], g["posterior_p95_ms"]))})
    if "interval_median_s" in r:
        every = "every case" if r["interval_step"] == 1 else f"every {r['interval_step']}th case"
        rows.append({"workload": f"credible interval (up to 1,000 draws, ends within 2 points; median "
                                 f"{r['interval_draws_median']:.0f} draws, largest error "
                                 f"{100 * r['interval_mc_error_max']:.1f} points), {every}",
                     "median": f"{r['interval_median_s']:.2f} s (CPU {r['interval_cpu_median_s']:.2f})",
                     "slowest": f"max {r['interval_max_s']:.2f} s (CPU {r['interval_cpu_max_s']:.2f})",
                     "goal": "median ≤ 0.2 s, every case ≤ 1 s",
                     "met": _all(_met(r["interval_median_s"], g["interval_median_s"]),
                                 _met(r["interval_max_s"], g["interval_max_s"]))})
    if "app_whiskers" in r:
        rows.append(issue12_app.whisker_row(r["app_whiskers"], g["app_whiskers_s"]))
    if "batch_cli" in r:
        rows.append(_cli_row("bayesdx diagnose examples/batch.yaml (3 cases)", r["batch_cli"],
                             g["batch_cli_s"], g["batch_cli_mb"], "exit 2 expected: one case misspelt on purpose"))
    if "cohort_cli" in r:
        c = r["cohort_cli"]
        rows.append(_cli_row(f"bayesdx diagnose, {c['cases']} complete work-ups (default intervals)", c,
                             g["cohort_cli_s"], None,
                             f"the {c['cases']} vignettes with the most abnormal findings "
                             f"({c['abnormal_min']}-{c['abnormal_max']}, median {c['abnormal_median']:g}); "
                             f"{c['cases_answered']} answered, {c['approximate']} approximate"))
    if "app_first" in r:
        rows.append(issue12_app.first_row(r["app_first"], g["app_first_s"]))
    if "batch_cases_per_s" in r:
        rows.append({"workload": "batch, every pattern distinct (cases/s)", "median": f"{r['batch_cases_per_s']:,.0f}",
                     "slowest": "-", "goal": "≥ 5,000",
                     "met": _met(r["batch_cases_per_s"], g["batch_cases_per_s"], at_least=True)})
    if "heavy" in r:
        rows.append(_cli_row("27-finding work-up, bayesdx diagnose", r["heavy"], g["heavy_cli_s"],
                             g["heavy_cli_mb"], r["heavy"]["inference"]))
    if "peers" in r:
        rows.extend(peer_rows(r["peers"], g["peer_speedup"]))
    return rows


def peer_rows(p: dict, goal: float) -> list[dict]:
    """Random small sets: one row per peer, the speed-up (peer ms / engine ms) cold and warm."""
    out = []
    for name, key in (("pgmpy VE", "pgmpy"), ("pyAgrum LazyPropagation", "pyagrum")):
        ms, cold, warm = p.get(f"{key}_ms"), p.get(f"{key}_speedup_cold"), p.get(f"{key}_speedup_warm")
        wl = f"random sets (≤ 6 nodes), engine vs {name}"
        if not ms or cold is None:
            why = p.get(f"{key}_error") or f"{name} answered none of the {p['sets']} sets"
            out.append({"workload": wl, "median": f"not measured: {why}", "slowest": "-",
                        "goal": f"≥ {goal:g}×", "met": None})
            continue
        out.append({"workload": wl, "median": f"{cold:.1f}× cold / {warm:.1f}× warm",
                    "slowest": f"{name} {ms:.1f} ms", "goal": f"≥ {goal:g}× (cold)", "met": _met(cold, goal, at_least=True),
                    "note": f"engine {p['engine_cold_median_ms']:.2f} / {p['engine_warm_median_ms']:.2f} ms "
                            f"(cold / warm) median over {p['sets']} sets; {name} did {p[f'{key}_cases']}"})
    return out


def print_table(r: dict) -> None:
    la = r.get("load_average_start", (r.get("load_average", 0),))
    print(f"issue 12 figures: {r['cases']} complete work-ups; load average {la[0]:.1f} at the start, "
          f"{r['load_average']:.1f} at the end, on {r['cpus']} CPUs (wall times; CPU in brackets)")
    rows = r["rows"]
    flag = {True: "met", False: "NOT MET", None: "-"}
    w = [max(len(x[k]) for x in rows) for k in ("workload", "median", "slowest", "goal")]
    print(f"  {'workload':<{w[0]}}  {'figure':<{w[1]}}  {'slowest':<{w[2]}}  {'goal':<{w[3]}}  met")
    for x in rows:
        print(f"  {x['workload']:<{w[0]}}  {x['median']:<{w[1]}}  {x['slowest']:<{w[2]}}  {x['goal']:<{w[3]}}  "
              f"{flag[x['met']]}")
    for x in rows:
        if x.get("note"):
            print(f"  {x['workload']}: {x['note']}")
    if r["skipped"]:
        print(f"  not run (--skip): {', '.join(r['skipped'])}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--interval-step", type=int, default=1, help="every n-th case gets an interval "
                    "(default 1: every case)")
    ap.add_argument("--skip", action="append", default=[], metavar="ROW",
                    help=f"rows not to run (repeat or comma-separate): {', '.join(ROWS)}")
    ap.add_argument("--no-app", action="store_true", help="skip the browser rows (app-whiskers, app-first)")
    ap.add_argument("--no-cli", action="store_true", help="skip the fresh-process rows (*-cli)")
    ap.add_argument("--no-peers", action="store_true", help="skip pgmpy and pyAgrum")
    ap.add_argument("--peer-sets", type=int, default=40, help="random evidence sets for the peers")
    ap.add_argument("--whisker-clicks", type=int, default=6, help="evidence changes timed in the app")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    skip = {x.strip() for s in args.skip for x in s.split(",") if x.strip()}
    if bad := skip - set(ROWS):
        ap.error(f"--skip: unknown row {', '.join(sorted(bad))}; rows are {', '.join(ROWS)}")
    skip |= {"app-whiskers", "app-first"} if args.no_app else set()
    skip |= {"heavy-cli", "batch-cli", "cohort-cli"} if args.no_cli else set()
    skip |= {"peers"} if args.no_peers else set()
    from bayesdx.case import parse_case
    from bayesdx.diagnosis import load_model
    from bayesdx.evaluation.vignettes import load_vignettes

    model = load_model()
    evs = [parse_case(v.case, model.kb).evidence for v in load_vignettes()]
    r = measure(model, evs, args.interval_step, skip=skip, peer_sets=args.peer_sets,
                whisker_clicks=args.whisker_clicks)
    print_table(r)
    print(json.dumps(r))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(r, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
