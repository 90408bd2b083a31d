"""Cold single queries on small random evidence sets: CPU and wall time per query.

Issue 12's peers row judges the engine *cold* (``benchmarks/run.py``'s
``engine_times``: the plan cache cleared, then one ``posterior``). This prints the
same measurement with CPU time (``time.process_time``) beside wall time, so runs on
a shared machine can be compared, and the one-time cost of the engine's first query
(which builds the light program, :mod:`bayesdx.inference.light`, where it exists).

Run it against two checkouts alternately, e.g.::

    PYTHONPATH=/work/main/src python benchmarks/cold_single.py
    PYTHONPATH=src python benchmarks/cold_single.py
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run  # noqa: E402  (benchmarks/run.py: random_sets)


def measure(model, evs, reps: int = 3) -> dict:
    """Median cold and warm CPU and wall milliseconds per query over ``reps`` passes."""
    e = model.engine
    t, p = time.perf_counter(), time.process_time()
    e.posterior(evs[0])  # the engine's first query: structures built once per network
    first = (time.perf_counter() - t, time.process_time() - p)
    cold_w, cold_c, warm_w, warm_c = [], [], [], []
    for _ in range(reps):
        for ev in evs:
            e._plans.clear()
            t, p = time.perf_counter(), time.process_time()
            e.posterior(ev)
            cold_w.append(time.perf_counter() - t)
            cold_c.append(time.process_time() - p)
            t, p = time.perf_counter(), time.process_time()
            e.posterior(ev)
            warm_w.append(time.perf_counter() - t)
            warm_c.append(time.process_time() - p)

    def ms(xs, q=None):
        return 1e3 * (statistics.median(xs) if q is None else sorted(xs)[int(q * (len(xs) - 1))])

    return {"sets": len(evs), "reps": reps, "first_query_ms": 1e3 * first[0], "first_query_cpu_ms": 1e3 * first[1],
            "cold_ms": ms(cold_w), "cold_cpu_ms": ms(cold_c), "cold_cpu_p90_ms": ms(cold_c, 0.9),
            "warm_ms": ms(warm_w), "warm_cpu_ms": ms(warm_c), "load_average": os.getloadavg()[0]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", type=int, default=40, help="random sets (run.py's seed 2026; the peers row uses 40)")
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args(argv)
    from bayesdx.diagnosis import load_model

    model = load_model()
    r = measure(model, run.random_sets(model.net, args.sets), args.reps)
    print(f"{r['sets']} random sets x {r['reps']}: cold {r['cold_ms']:.2f} ms (CPU {r['cold_cpu_ms']:.2f}, "
          f"p90 {r['cold_cpu_p90_ms']:.2f}), warm {r['warm_ms']:.2f} ms (CPU {r['warm_cpu_ms']:.2f}); "
          f"first query {r['first_query_ms']:.0f} ms; load {r['load_average']:.1f}")
    print(json.dumps(r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
