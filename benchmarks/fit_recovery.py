"""Recovery of deliberately changed numbers by ``bayesdx fit`` (MAP-EM), and its speed.

1. Changes ``--changed`` cause priors of the shipped model (alternately x and / ``--factor``, default 2,
   each kept inside (0, 1)) and ``--links`` link/leak numbers of the blood count (always
   observed; leaks, and links of causes with prior >= 0.02; each moved to the low or high
   end of its range, its row still summing to <= 1), ``--context`` context-table entries (each
   moved to an end of its range, the row's largest other free entry taking the difference:
   both count as changed), ``--rr`` relative risks (of causes with prior >= 0.01; each moved to
   an end of its range; the cause's prior is held, its base re-solved),
   samples ``--n`` patients from the changed model
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

    .venv/bin/python benchmarks/fit_recovery.py [--n 5000] [--changed 6] [--links 4] [--seed 0]
        [--iterations 50] [--holdout 0.2] [--context 2] [--rr 3] [--priors-only]
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


def _change_links(net, theta, rng, k):
    """Move ``k`` blood-count leak/link numbers to an end of their range (alternately high, low)."""
    from bayesdx.evaluation.fit_mech import rows_of

    priors = net.cause_priors()
    pool = [(r, i) for r in rows_of(net) if net.kb.findings[r.finding].group == "cbc"
            and (r.parent is None or priors.get(r.parent, 0) >= 0.02)
            for i, free in zip(r.params, r.free) if free]
    out = {}
    for n in rng.permutation(len(pool)):
        if len(out) == k:
            break
        r, i = pool[n]
        if any(i2 in out for i2 in r.params):
            continue  # one change per row
        p = net.params[i]
        new = p.high if len(out) % 2 == 0 else p.low
        rest = sum(theta[j] for j in r.params if j >= 0 and j != i)
        if rest + new > 1 or new == p.value:
            continue
        theta[i] = new
        out[i] = new
    return {net.params[i].path: v for i, v in out.items()}


def _change_context(net, theta, rng, k):
    """Move ``k`` context entries to an end of their range; the row's largest other free
    entry takes the difference (kept in [0, 1]). One change per row."""
    from bayesdx.evaluation.fit_context import context_rows

    rows = context_rows(net)
    out = {}
    for n in rng.permutation(len(rows)):
        if len(out) >= 2 * k:
            break
        r = rows[n]
        free = [i for i, f in zip(r.params, r.free) if f]
        i = free[rng.integers(len(free))]
        p = net.params[i]
        new = p.high if len(out) % 4 == 0 else p.low
        other = max((j for j in free if j != i), key=lambda j: theta[j])
        rest = theta[other] - (new - theta[i])
        if new == p.value or not 0 <= rest <= 1:
            continue
        theta[i], theta[other] = new, rest
        out[i], out[other] = new, rest
    return {net.params[i].path: v for i, v in out.items()}


def _change_rr(net, theta, rng, k):
    """Move ``k`` free relative risks (causes with prior >= 0.01) to an end of their range."""
    from bayesdx.evaluation.fit_rr import rr_causes

    priors = net.cause_priors()
    pool = [i for rc in rr_causes(net) if priors[rc.cause] >= 0.01 for i in rc.free]
    out = {}
    for n in rng.permutation(len(pool)):
        if len(out) == k:
            break
        p = net.params[pool[n]]
        new = p.high if len(out) % 2 == 0 else max(p.low, p.value / 4)
        if new == p.value:
            continue
        theta[pool[n]] = out[p.path] = new
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--changed", type=int, default=6)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--labelled", type=float, default=0.7, help="chance each cause is labelled")
    ap.add_argument("--factor", type=float, default=2.0, help="change: x factor and / factor")
    ap.add_argument("--iterations", type=int, default=50, help="most EM iterations")
    ap.add_argument("--links", type=int, default=4, help="link/leak numbers changed")
    ap.add_argument("--holdout", type=float, default=0.2)
    ap.add_argument("--context", type=int, default=2, help="context entries changed (x2)")
    ap.add_argument("--rr", type=int, default=3, help="relative risks changed")
    ap.add_argument("--priors-only", action="store_true", help="fit the cause priors only")
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
        truth[f"causes.{c}.prior"] = theta[i]
    truth.update(_change_links(net, theta, rng, args.links))
    truth.update(_change_context(net, theta, rng, args.context))
    truth.update(_change_rr(net, theta, rng, args.rr))
    cohort = sample_cohort(net, args.n, seed=args.seed, tables=net.tables(theta))
    evidence = observe(net, cohort, seed=args.seed)
    seen = rng.random((len(evidence), len(net.causes))) < args.labelled
    cases = LabelledCase.from_cohort(net.causes, cohort.states, evidence, seen)
    t0 = time.perf_counter()
    fit = fit_priors(net, cases, holdout=args.holdout, seed=args.seed, max_iter=args.iterations,
                     engine=Engine(net), links=not args.priors_only,
                     context=not args.priors_only, rr=not args.priors_only)
    wall = time.perf_counter() - t0
    print(fit.format(top=8))
    by = {x.path: x for x in fit.numbers}
    inside, shown = 0, 0
    print(f"\n{'changed number':<56} {'shipped':>8} {'true':>8} {'fitted':>8} {'90% credible':>19}")
    for c, true in truth.items():
        x = by.get(c)
        if x is None:
            continue
        ok = x.low <= true <= x.high
        inside += ok
        shown += 1
        print(f"{c:<56} {x.old:8.4f} {true:8.4f} {x.new:8.4f} {x.low:9.4f}-{x.high:<9.4f} "
              f"{'within' if ok else 'OUTSIDE'}")
    def kind(path):
        return ("relative risk" if ".rr." in path else "context" if path.startswith("context.")
                else "prior" if path.endswith(".prior") else "link/leak")

    for k in ("prior", "link/leak", "context", "relative risk"):
        ch = [c for c in truth if kind(c) == k and c in by]
        un = [x for c, x in by.items() if c not in truth and kind(c) == k]
        if ch or un:
            print(f"  {k:<14} changed {sum(by[c].low <= truth[c] <= by[c].high for c in ch)}/"
                  f"{len(ch)} within; unchanged {sum(x.low <= x.old <= x.high for x in un)}/"
                  f"{len(un)} keep their true value within")
    others = [x for c, x in by.items() if c not in truth]
    missed = [x.path for x in others if not x.low <= x.old <= x.high]
    print(f"\nn={args.n}: {inside}/{shown} changed numbers within their 90% credible range; "
          f"{len(others) - len(missed)}/{len(others)} unchanged numbers keep their true value "
          f"within it" + (f" (outside: {', '.join(missed[:12])}{' ...' if len(missed) > 12 else ''})"
                          if missed else ""))
    print(f"EM: {fit.iterations} iterations on all cases, {fit.seconds_per_iteration:.2f} s per "
          f"iteration ({args.n} cases); whole fit incl. the held-out fit {wall:.1f} s; "
          f"load average {load0:.1f} before, {os.getloadavg()[0]:.1f} after (2 cores)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
