"""Is the stated Monte-Carlo error of the interval ends the right size?

For a set of work-ups, the interval ends from ``n`` draws (``n`` = 125, 250, 500;
the first ``n`` of a seed's draws, as ``uncertainty.interval_estimate``'s stages take
them) are compared, over many seeds, with the ends of a large reference run (its own
seed). For every cause and end: the root-mean-square error of the ends over the seeds,
against the mean *stated* standard error of two estimators:

* ``order``: half the spread of the order statistics one binomial standard deviation
  either side of the quantile's rank (what ``_mc_error`` states today);
* ``mj``: the Maritz-Jarrett estimator (the Beta-weighted standard deviation of the
  order statistics; Maritz & Jarrett 1978, as in ``scipy.stats.mstats.mjci``).

The stopping rule uses the largest stated error over causes and ends, so what matters
is (1) that the stated error is not below the real one where the real one is large,
and (2) how far above it sits (each factor of 2 costs 4x the draws). Printed: per
estimator and ``n``, the ratio stated / measured over cause-ends whose measured error
is at least 0.5 points (quantiles), and the largest measured error against the
largest stated one per case and seed (what the stopping rule compares).

    .venv/bin/python benchmarks/interval_error_calibration.py [--seeds 20] [--ref 8192]
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from scipy.stats import beta

from bayesdx.case import parse_case
from bayesdx.diagnosis import load_model
from bayesdx.evaluation.vignettes import load_vignettes
from bayesdx.uncertainty import _draw_posteriors, _end_errors, _mc_error, draw_tables

__all__ = ["main", "mj_error", "order_error"]

LEVEL_Q = (0.05, 0.95)


def order_error(sorted_probs: np.ndarray) -> np.ndarray:
    """``(2, C)`` stated errors of today's estimator (per end and cause)."""
    return _end_errors(sorted_probs, LEVEL_Q)


def mj_error(sorted_probs: np.ndarray) -> np.ndarray:
    """``(2, C)`` Maritz-Jarrett standard errors (scipy's ``mjci`` weights, vectorised)."""
    n = sorted_probs.shape[0]
    x = np.arange(1, n + 1) / n
    out = []
    for q in LEVEL_Q:
        m = int(q * n + 0.5)
        w = beta.cdf(x, m - 1, n - m) - beta.cdf(x - 1 / n, m - 1, n - m)
        c1 = w @ sorted_probs
        c2 = w @ sorted_probs ** 2
        out.append(np.sqrt(np.maximum(c2 - c1 ** 2, 0.0)))
    return np.stack(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--ref", type=int, default=8192)
    ap.add_argument("--cases", type=int, default=8)
    args = ap.parse_args(argv)
    m = load_model()
    eng = m.engine
    vs = sorted(load_vignettes(), key=lambda v: v.id)
    evs = []
    for v in vs:  # work-ups of moderate cost, spread over the set
        ev = parse_case(v.case, m.kb).evidence
        if eng.estimate(ev).seconds < 2e-3:
            evs.append((v.id, ev))
    step = max(1, len(evs) // args.cases)
    evs = evs[::step][:args.cases]
    ns = (125, 250, 500)
    ratios = {(k, n): [] for k in ("order", "mj") for n in ns}
    worst = {(k, n): [] for k in ("order", "mj") for n in ns}
    for vid, ev in evs:
        ref = np.nanquantile(_draw_posteriors(eng, ev, draw_tables(m.net, args.ref, 10_000)),
                             LEVEL_Q, axis=0)  # (2, C)
        ends = {n: [] for n in ns}
        stated = {(k, n): [] for k in ("order", "mj") for n in ns}
        for s in range(args.seeds):
            probs = _draw_posteriors(eng, ev, draw_tables(m.net, max(ns), 100 + s))
            for n in ns:
                p = np.sort(probs[:n], axis=0)
                ends[n].append(np.nanquantile(probs[:n], LEVEL_Q, axis=0))
                stated["order", n].append(order_error(p))
                stated["mj", n].append(mj_error(p))
                assert abs(np.nanmax(order_error(p)) - _mc_error(p, LEVEL_Q)) < 1e-15
        for n in ns:
            err = np.stack(ends[n]) - ref  # (seeds, 2, C)
            rmse = np.sqrt((err ** 2).mean(0))
            big = rmse >= 0.005
            for k in ("order", "mj"):
                st = np.stack(stated[k, n])
                ratios[k, n] += list((st.mean(0)[big] / rmse[big]).ravel())
                # the stopping rule: largest stated vs largest real error, seed by seed
                worst[k, n] += [(float(np.abs(e).max()), float(x.max())) for e, x in zip(err, st)]
        print(f"{vid}: done", file=sys.stderr, flush=True)
    print(f"{len(evs)} work-ups, {args.seeds} seeds, reference {args.ref} draws")
    print(f"{'estimator':<9} {'n':>4}  {'stated/measured: median':>24} {'p10':>6} {'min':>6}  "
          f"{'max|err| > max stated':>22}  {'> 2x stated':>11}")
    for (k, n), r in ratios.items():
        r = np.array(r)
        w = np.array(worst[k, n])
        print(f"{k:<9} {n:>4}  {np.median(r):24.2f} {np.quantile(r, 0.1):6.2f} {r.min():6.2f}  "
              f"{(w[:, 0] > w[:, 1]).mean():22.0%}  {(w[:, 0] > 2 * w[:, 1]).mean():11.0%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
