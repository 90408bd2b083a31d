"""The figures of issue 12's table, with their goals: a table and JSON.

``./dev bench`` (``benchmarks/run.py``) prints this table at its end; it also
runs alone (no peers, a few minutes on a shared machine):

    .venv/bin/python benchmarks/issue12.py [--interval-step 4] [--json PATH]

Measured, wall clock (``time.perf_counter``) and CPU (``time.process_time``),
one process, plans warm unless said otherwise:

* posterior of every cause on the complete work-ups (the validation cases):
  median and p95 of the best of three warm runs per case;
* a 1,000-draw credible interval (``uncertainty.interval_estimate``) on every
  ``--interval-step``-th case: median and max;
* batch, every pattern distinct: 5,000 synthetic patients sampled from the model
  (``benchmarks/run.py``'s ``cohort``, plans compiled inside the timing);
* the 27-finding work-up (``examples/heavy_workup.yaml``): ``bayesdx diagnose``
  in a fresh process (default draws) and its peak RSS, and how it was answered.

The load average is printed with the figures: on a shared machine, wall times
are several times the CPU times.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

GOALS = {"posterior_median_ms": 2.0, "posterior_p95_ms": 5.0, "interval_median_s": 0.2,
         "interval_max_s": 1.0, "batch_cases_per_s": 5000.0, "heavy_cli_s": 10.0,
         "heavy_cli_mb": 1536.0}


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


def interval_times(model, evs) -> tuple[np.ndarray, list]:
    from bayesdx.uncertainty import draw_tables, interval_estimate

    draw_tables(model.net, 1000, 0)
    ts, errs = [], []
    for ev in evs:
        t = time.perf_counter()
        iv = interval_estimate(model.engine, ev, draws=1000, seed=0)
        ts.append(time.perf_counter() - t)
        errs.append(iv.mc_error)
    return np.array(ts), errs


def heavy_cli() -> dict:
    exe = Path(sys.executable).with_name("bayesdx")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    proc = subprocess.run([str(exe), "diagnose", str(ROOT / "examples" / "heavy_workup.yaml")],
                          capture_output=True, text=True)
    wall = time.perf_counter() - t
    peak = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("Inference:")), proc.stderr)
    return {"s": wall, "mb": peak, "exit": proc.returncode, "inference": line[:160]}


def measure(model, evs, interval_step: int = 4, batch: dict | None = None) -> dict:
    """Every figure of the table (``batch``: reuse ``run.batch_throughput``'s result)."""
    from run import batch_throughput

    wall, cpu = posterior_times(model, evs)
    iv, errs = interval_times(model, evs[::interval_step])
    if batch is None:
        batch = batch_throughput(model, evs)
    n, secs = batch["cohort"]
    return {
        "cases": len(evs), "load_average": os.getloadavg()[0], "cpus": os.cpu_count(),
        "posterior_median_ms": 1e3 * float(np.median(wall)),
        "posterior_p95_ms": 1e3 * float(np.percentile(wall, 95)),
        "posterior_cpu_median_ms": 1e3 * float(np.median(cpu)),
        "posterior_cpu_p95_ms": 1e3 * float(np.percentile(cpu, 95)),
        "interval_cases": len(iv), "interval_median_s": float(np.median(iv)),
        "interval_max_s": float(iv.max()), "interval_mc_error_max": max(e or 0 for e in errs),
        "batch_cases_per_s": n / secs, "heavy": heavy_cli(), "goals": GOALS,
    }


def print_table(r: dict) -> None:
    h = r["heavy"]
    rows = [
        ("posterior of every cause, complete work-ups",
         f"{r['posterior_median_ms']:.1f} ms (CPU {r['posterior_cpu_median_ms']:.1f})",
         f"p95 {r['posterior_p95_ms']:.1f} ms (CPU {r['posterior_cpu_p95_ms']:.1f})", "≤ 2 ms, p95 ≤ 5 ms"),
        ("1,000-draw credible interval", f"{r['interval_median_s']:.2f} s",
         f"max {r['interval_max_s']:.1f} s", "≤ 0.2 s, every case ≤ 1 s"),
        ("batch, every pattern distinct (cases/s)", f"{r['batch_cases_per_s']:,.0f}", "-", "≥ 5,000"),
        ("27-finding work-up, bayesdx diagnose", f"{h['s']:.1f} s", f"{h['mb']:,.0f} MB peak",
         "≤ 10 s, ≤ 1.5 GB"),
    ]
    print(f"issue 12 figures: {r['cases']} complete work-ups; load average {r['load_average']:.1f} "
          f"on {r['cpus']} CPUs (wall times; CPU in brackets)")
    w = max(len(x[0]) for x in rows)
    print(f"  {'workload':<{w}}  {'median':>22}  {'slowest':>24}  goal")
    for a, b, c, d in rows:
        print(f"  {a:<{w}}  {b:>22}  {c:>24}  {d}")
    print(f"  27-finding work-up: {h['inference']}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--interval-step", type=int, default=4, help="every n-th case gets an interval")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    from bayesdx.case import parse_case
    from bayesdx.diagnosis import load_model
    from bayesdx.evaluation.vignettes import load_vignettes

    model = load_model()
    evs = [parse_case(v.case, model.kb).evidence for v in load_vignettes()]
    r = measure(model, evs, args.interval_step)
    print_table(r)
    print(json.dumps(r))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(r, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
