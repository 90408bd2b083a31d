"""Calibrate the compiled kernel's cost model (``bayesdx.inference.budget``).

For every validation work-up, runs its plan under ``--draws`` parameter draws
by the compiled kernel (best CPU time of two warm runs, one thread) and fits
``seconds per draw = ops x NS_PER_OP_COMPILED + steps x US_PER_STEP`` (non-negative
least squares on relative error). Prints the fit, the constants in use, and how
the measured time compares with the model in use (ratio measured / model:
above 1 means the model is optimistic, so intervals could overrun the budget;
below 1 that they are cut more than needed), with the load average.

    taskset -c 0 .venv/bin/python benchmarks/kernel_cost.py [--draws 100]
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=100)
    args = ap.parse_args(argv)
    from scipy.optimize import nnls

    from bayesdx.case import parse_case
    from bayesdx.diagnosis import load_model
    from bayesdx.evaluation.vignettes import load_vignettes
    from bayesdx.inference import budget, program
    from bayesdx.inference.plan import Pattern
    from bayesdx.uncertainty import draw_tables

    program.THREADS = 1  # one core's time, as the model states it
    model = load_model()
    eng = model.engine
    evs = [parse_case(v.case, model.kb).evidence for v in load_vignettes()]
    T = draw_tables(model.net, max(1000, args.draws), 0).draw_slice(0, args.draws)
    load0 = os.getloadavg()[0]
    X, Y = [], []
    for ev in evs:
        plan = eng.plan(Pattern.of(eng.net, [eng.validate(ev)]))
        eng.posterior_batch([ev], tables=T)
        best = float("inf")
        for _ in range(2):
            c = time.process_time()
            eng.posterior_batch([ev], tables=T)
            best = min(best, time.process_time() - c)
        X.append((plan.cost, len(plan.steps)))
        Y.append(best / args.draws)
    X, Y = np.array(X, float), np.array(Y)
    coef, _ = nnls(X / Y[:, None], np.ones(len(Y)))
    model_s = X[:, 0] * budget.NS_PER_OP_COMPILED * 1e-9 + X[:, 1] * budget.US_PER_STEP * 1e-6
    ratio = Y / model_s
    heavy = X[:, 0] >= 3e5
    out = {"cases": len(Y), "draws": args.draws, "fit_ns_per_op": coef[0] * 1e9,
           "fit_us_per_step": coef[1] * 1e6, "in_use_ns_per_op": budget.NS_PER_OP_COMPILED,
           "in_use_us_per_step": budget.US_PER_STEP,
           "ratio_median": float(np.median(ratio)), "ratio_max": float(ratio.max()),
           "ratio_heavy_median": float(np.median(ratio[heavy])) if heavy.any() else None,
           "ratio_heavy_max": float(ratio[heavy].max()) if heavy.any() else None,
           "heavy_cases": int(heavy.sum()), "load_before": load0, "load_after": os.getloadavg()[0]}
    print(f"kernel cost, {len(Y)} work-ups x {args.draws} draws, one thread; load "
          f"{load0:.1f} -> {out['load_after']:.1f}")
    print(f"  fit: {out['fit_ns_per_op']:.2f} ns/op + {out['fit_us_per_step']:.2f} us/step; in use: "
          f"{budget.NS_PER_OP_COMPILED} ns/op + {budget.US_PER_STEP} us/step")
    print(f"  measured / model: median {out['ratio_median']:.2f}, max {out['ratio_max']:.2f}; "
          f"plans >= 3e5 ops ({out['heavy_cases']}): median {out['ratio_heavy_median']:.2f}, "
          f"max {out['ratio_heavy_max']:.2f}")
    for i in np.argsort(-X[:, 0])[:5]:
        print(f"  {X[i, 0]:.3g} ops, {X[i, 1]:.0f} steps: {Y[i] * 1e3:.2f} ms/draw "
              f"(model {model_s[i] * 1e3:.2f})")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
