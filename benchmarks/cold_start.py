"""Cold start of ``bayesdx diagnose`` and the time of 1,000-draw credible intervals.

Prints figures; it is not a timed test. The machine may be shared, so every
figure is a median (and max) over several runs, with the load average.

    .venv/bin/python benchmarks/cold_start.py            # both
    .venv/bin/python benchmarks/cold_start.py --cold 7   # cold starts only (7 runs each)
    .venv/bin/python benchmarks/cold_start.py --ci       # credible intervals only
    .venv/bin/python benchmarks/cold_start.py --ci --no-cache   # ... each call drawing its own tables

Cold start: ``bayesdx diagnose examples/clozapine.yaml`` as a fresh process,
with ``--draws 0`` (import, model build, one posterior) and with the default
1,000 draws (the command as a user runs it). Wall time and the process's CPU
time (user + sys: what it costs, whatever else the machine is doing).

Credible intervals: ``credible_intervals(engine, evidence, draws=1000, seed=0)``
on each of the validation vignettes (model already built); median and max over
the vignettes, and the split between parameter sampling, ``Network.tables``
and the engine (all draws in one call, on every sixth vignette).

To measure another version, e.g. the commit before a change::

    mkdir /tmp/old && git archive REV src model priors | tar -x -C /tmp/old
    PYTHONPATH=/tmp/old/src .venv/bin/python benchmarks/cold_start.py
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin" / "bayesdx"


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def cold(runs: int) -> None:
    case = str(ROOT / "examples" / "clozapine.yaml")
    for label, extra in (("--draws 0", ["--draws", "0"]), ("default (1000 draws)", [])):
        subprocess.run([str(BIN), "diagnose", case, *extra], capture_output=True, check=True)  # warm the OS cache
        times, cpu = [], []
        for _ in range(runs):
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            subprocess.run([str(BIN), "diagnose", case, *extra], capture_output=True, check=True)
            times.append(time.perf_counter() - t)
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
        print(f"cold start, diagnose {label:22s} wall median {statistics.median(times):.3f} s  "
              f"min {min(times):.3f}  max {max(times):.3f}; CPU (user+sys) median "
              f"{statistics.median(cpu):.3f} s  (n={runs}; {load()})")


def intervals(repeat: int, cache: bool = True) -> None:
    import bayesdx.uncertainty as unc
    from bayesdx.case import parse_case
    from bayesdx.diagnosis import load_model
    from bayesdx.uncertainty import credible_intervals, sample_parameters
    from bayesdx.evaluation.vignettes import load_vignettes

    model = load_model()
    vs = load_vignettes()
    evs = [parse_case(v.case, model.kb).evidence for v in vs]
    ids = [v.id for v in vs]
    credible_intervals(model.engine, dict(evs[0]), draws=1000, seed=0)  # warm-up
    per_case = []
    for ev in evs:
        best = []
        for _ in range(repeat):
            if not cache and hasattr(unc, "_TABLES"):
                unc._TABLES.clear()  # every call draws and builds its tables again
            t = time.perf_counter()
            credible_intervals(model.engine, dict(ev), draws=1000, seed=0)
            best.append(time.perf_counter() - t)
        per_case.append(statistics.median(best))
    print(f"credible_intervals, 1000 draws, {len(evs)} vignettes"
          f"{'' if cache else ' (tables not shared between calls)'}: median "
          f"{statistics.median(per_case):.3f} s  max {max(per_case):.3f} s  "
          f"(median of {repeat} per vignette; {load()})")
    slow = sorted(zip(per_case, ids), reverse=True)
    print(f"  over 1 s: {sum(t > 1 for t in per_case)}; slowest: "
          + ", ".join(f"{i} {t:.1f} s" for t, i in slow[:4]))

    net, eng = model.net, model.engine
    parts = {"sample_parameters": [], "Network.tables": [], "engine (one call)": []}
    for ev in evs[:: max(1, len(evs) // 15)]:
        t0 = time.perf_counter()
        th = sample_parameters(net, 1000, 0)
        t1 = time.perf_counter()
        tab = net.tables(th)
        t2 = time.perf_counter()
        eng.posterior_batch([dict(ev)], tables=tab)
        t3 = time.perf_counter()
        for k, dt in zip(parts, (t1 - t0, t2 - t1, t3 - t2)):
            parts[k].append(dt)
    print("  split (median): " + ", ".join(f"{k} {statistics.median(v):.3f} s"
                                          for k, v in parts.items()))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cold", type=int, default=None, metavar="N", help="cold-start runs (default 5)")
    ap.add_argument("--ci", action="store_true", help="credible intervals only")
    ap.add_argument("--repeat", type=int, default=3, help="runs per vignette (default 3)")
    ap.add_argument("--no-cache", action="store_true", help="draw and build the tables in every "
                    "call (the cost of a first call)")
    a = ap.parse_args()
    both = a.cold is None and not a.ci
    if both or a.cold:
        cold(a.cold or 5)
    if both or a.ci:
        intervals(a.repeat, cache=not a.no_cache)
    return 0


if __name__ == "__main__":
    sys.exit(main())
