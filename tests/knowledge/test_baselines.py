"""The baseline solve is exact (against bisection) and baselines renormalise only overfull rows."""

from __future__ import annotations

import numpy as np
import pytest

from bayesdx.knowledge.baselines import solve_base, with_baseline


def _bisect(prior, rr, weight, cap, iters=200):
    """Reference: plain bisection of sum(weight * min(cap, base * rr)) == prior, row by row."""
    out = []
    for p, r, w in zip(prior, rr, weight):
        lo, hi = 0.0, cap / r[r > 0].min()
        for _ in range(iters):
            mid = (lo + hi) / 2
            if (w * np.minimum(cap, mid * r)).sum() < p:
                lo = mid
            else:
                hi = mid
        out.append(hi)
    return np.array(out)


def test_solve_base_matches_bisection_and_meets_the_prior():
    rng = np.random.default_rng(0)
    D, K, cap = 400, 12, 0.9
    rr = rng.lognormal(0, 1.5, size=(D, K)) * (rng.random((D, K)) > 0.2)  # some gates closed
    rr[:, 0] = np.maximum(rr[:, 0], 0.1)
    weight = rng.dirichlet(np.ones(K), size=D)
    reach = (weight * (rr > 0)).sum(-1) * cap
    prior = reach * rng.uniform(0.05, 0.999, size=D)
    base, ok = solve_base(prior, rr, weight, cap)
    assert ok.all()
    achieved = (weight * np.minimum(cap, base[:, None] * rr)).sum(-1)
    assert np.allclose(achieved, prior, rtol=1e-12, atol=0)
    binding = (prior / (weight * rr).sum(-1))[:, None] * rr > cap
    assert binding.any(-1).sum() > D // 4  # the test exercises the capped segments
    assert np.allclose(base, _bisect(prior, rr, weight, cap), rtol=1e-10, atol=0)


def test_solve_base_unreachable_and_ties():
    w = np.array([[0.25, 0.25, 0.5], [0.5, 0.5, 0.0]])
    r = np.array([[2.0, 2.0, 0.0], [1.0, 1.0, 3.0]])
    base, ok = solve_base(np.array([0.6, 0.9]), r, w, 0.8)  # row 0 reaches at most 0.4
    assert ok.tolist() == [False, False]
    # as the former bisection: its upper bound, max(cap / min rr, prior / mean rr); all open cells capped
    assert base[0] == pytest.approx(max(0.8 / 2.0, 0.6 / 1.0))
    assert (np.minimum(0.8, base[0] * r[0]) == [0.8, 0.8, 0.0]).all()
    base, ok = solve_base(np.array([0.3, 0.7]), r, w, 0.8)
    assert ok.all()
    assert np.allclose((w * np.minimum(0.8, base[:, None] * r)).sum(-1), [0.3, 0.7])


def test_with_baseline_renormalises_only_overfull_rows():
    eff = np.array([[[0.0, 0.1, 0.2], [0.0, 0.7, 0.6]]])
    out = with_baseline(eff.copy())
    assert np.allclose(out.sum(-1), 1.0)
    assert out[0, 0].tolist() == pytest.approx([0.7, 0.1, 0.2])
    assert out[0, 1].tolist() == pytest.approx([0.0, 0.7 / 1.3, 0.6 / 1.3])
