"""The Gibbs approximation against the exact engine on every validation case.

For each validation vignette: the exact posterior of every cause, and the
approximate one (``bayesdx.inference.approx.gibbs_posterior``, 64 chains x 400
sweeps by default, seed = case number). Prints how many posteriors lie within
4 stated standard errors, the largest |error| / SE, and the worst cases.

    .venv/bin/python benchmarks/approx_check.py [--chains 64] [--sweeps 400]
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chains", type=int, default=64)
    ap.add_argument("--sweeps", type=int, default=400)
    args = ap.parse_args(argv)
    from bayesdx.case import parse_case
    from bayesdx.diagnosis import load_model
    from bayesdx.evaluation.vignettes import load_vignettes
    from bayesdx.inference.approx import gibbs_posterior

    model = load_model()
    net, eng = model.net, model.engine
    evs = [parse_case(v.case, model.kb).evidence for v in load_vignettes()]
    within = total = 0
    worst = []
    t0 = time.perf_counter()
    for i, ev in enumerate(evs):
        n_abn = sum(1 for f, s in ev.items() if f in net.findings and s != net.states[f][0])
        exact = eng.posterior(ev).probs
        a = gibbs_posterior(net, ev, chains=args.chains, sweeps=args.sweeps, seed=i)
        d = np.abs(a.probs - exact)
        within += int(np.sum(d <= 4 * a.se))
        total += d.size
        worst.append((float((d / a.se).max()), float(d.max()), a.max_se, n_abn, i))
    wall = time.perf_counter() - t0
    worst.sort()
    print(f"{len(evs)} validation cases, {total} posteriors: {within} within 4 SE "
          f"({within / total:.2%}); largest |error|/SE {worst[-1][0]:.1f}, largest |error| "
          f"{max(w[1] for w in worst):.4f}; {wall:.0f} s at load average {os.getloadavg()[0]:.1f}")
    for z, d, se, n_abn, i in worst[-5:]:
        print(f"  case {i:3d} ({n_abn:2d} abnormal): |error|/SE {z:4.1f}, |error| {d:.4f}, max SE {se:.4f}")
    print(json.dumps({"cases": len(evs), "posteriors": total, "within_4se": within,
                      "max_z": worst[-1][0], "chains": args.chains, "sweeps": args.sweeps}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
