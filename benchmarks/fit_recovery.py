"""Recovery of deliberately changed cause priors by ``bayesdx fit`` (MAP-EM), and its speed.

1. Changes ``--changed`` cause priors of the shipped model (alternately x and / ``--factor``, default 2,
   each kept inside (0, 1)), samples ``--n`` patients from the changed model
   (:func:`bayesdx.evaluation.cohort.sample_cohort`, then
   :func:`~bayesdx.evaluation.cohort.observe`: context and blood count always, each
   other finding with probability 0.25).
2. Labels each cause of each patient (present or absent) with probability
   ``--labelled`` (0.7), independently of its value (missing at random, as EM
   assumes); the other causes are unknown and EM averages over them.
3. Fits the shipped priors to the cohort (:func:`bayesdx.evaluation.fit.fit_priors`,
   20 % held out) and prints: how many changed numbers lie within their 90 %
   credible range; how many unchanged numbers have their true value outside it;
   the held-out log-likelihood before/after; EM iterations and seconds per
   iteration; and the 1-minute load average before and after (the machine is
   shared).

    .venv/bin/python benchmarks/fit_recovery.py [--n 5000] [--changed 6] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from bayesdx.evaluation.cohort import observe, sample_cohort
from bayesdx.evaluation.fit import LabelledCase, fit_priors
from bayesdx.inference.engine import Engine
from bayesdx.knowledge.network import Network


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--changed", type=int, default=6)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--labelled", type=float, default=0.7, help="chance each cause is labelled")
    ap.add_argument("--factor", type=float, default=2.0, help="change: x factor and / factor")
    ap.add_argument("--iterations", type=int, default=50, help="most EM iterations")
    args = ap.parse_args()
    load0 = os.getloadavg()[0]
    net = Network.from_knowledge()
    rng = np.random.default_rng(args.seed)
    priors = [c for c in net.causes if f"causes.{c}.prior" in net._index]
    pick = rng.choice(len(priors), size=args.changed, replace=False)
    theta = net.theta0.copy()
    truth = {}
    for j, k in enumerate(pick):
        c = priors[k]
        i = net.param_index(f"causes.{c}.prior")
        theta[i] = min(0.5, theta[i] * args.factor) if j % 2 == 0 else theta[i] / args.factor
        truth[c] = theta[i]
    cohort = sample_cohort(net, args.n, seed=args.seed, tables=net.tables(theta))
    evidence = observe(net, cohort, seed=args.seed)
    seen = rng.random((len(evidence), len(net.causes))) < args.labelled
    cases = [LabelledCase(str(k), ev,
                          present=tuple(c for j, c in enumerate(net.causes)
                                        if seen[k, j] and cohort.states[c][k]),
                          absent=tuple(c for j, c in enumerate(net.causes)
                                       if seen[k, j] and not cohort.states[c][k]))
             for k, ev in enumerate(evidence)]
    t0 = time.perf_counter()
    fit = fit_priors(net, cases, holdout=0.2, seed=args.seed, max_iter=args.iterations,
                     engine=Engine(net))
    wall = time.perf_counter() - t0
    print(fit.format(top=8))
    by = {x.path.split(".")[1]: x for x in fit.numbers}
    inside = 0
    print(f"\n{'changed cause':<28} {'shipped':>8} {'true':>8} {'fitted':>8} {'90% credible':>19}")
    for c, true in truth.items():
        x = by[c]
        ok = x.low <= true <= x.high
        inside += ok
        print(f"{c:<28} {x.old:8.4f} {true:8.4f} {x.new:8.4f} {x.low:9.4f}-{x.high:<9.4f} "
              f"{'within' if ok else 'OUTSIDE'}")
    others = [x for c, x in by.items() if c not in truth]
    missed = [x.path for x in others if not x.low <= x.old <= x.high]
    print(f"\nn={args.n}: {inside}/{len(truth)} changed numbers within their 90% credible range; "
          f"{len(others) - len(missed)}/{len(others)} unchanged numbers keep their true value "
          f"within it{(' (outside: ' + ', '.join(missed) + ')') if missed else ''}")
    print(f"EM: {fit.iterations} iterations on all cases, {fit.seconds_per_iteration:.2f} s per "
          f"iteration ({args.n} cases); whole fit incl. the held-out fit {wall:.1f} s; "
          f"load average {load0:.1f} before, {os.getloadavg()[0]:.1f} after (2 cores)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
