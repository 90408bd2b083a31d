"""Expected mechanism counts and row MAPs of the link/leak fit (bayesdx.evaluation.fit_mech)."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
from scipy.optimize import minimize

from bayesdx.evaluation.fit import beta_prior
from bayesdx.evaluation.fit_mech import mechanism_counts, row_map, rows_of
from conftest import hidden_states, random_evidence


def brute_counts(net, T, rows, evidence, label):
    """``P(x_m = a, Y_m = k | e, label)`` by enumerating contexts, causes and every mechanism."""
    ev = dict(evidence, **{c: net.states[c][k] for c, k in label.items()})
    obs = {f: net.states[f].index(s) for f, s in evidence.items() if f in net.findings}
    num = [np.zeros(net.card(r.finding)) for r in rows]
    z = 0.0
    for a, p in hidden_states(net, ev, T):
        per_f = {}
        for f, s in obs.items():
            mechs = [(None, 0, T.finding_leak[f][0])] + [
                (q, a[q], T.link(f, q)[0, a[q]]) for q in net.parents[f]]
            cells = [np.zeros(net.card(f)) for _ in mechs]
            tot = 0.0
            for ys in itertools.product(range(net.card(f)), repeat=len(mechs)):
                if max(ys) != s:
                    continue
                w = np.prod([m[2][y] for m, y in zip(mechs, ys)])
                tot += w
                for i, y in enumerate(ys):
                    cells[i][y] += w
            per_f[f] = (mechs, cells, tot)
        like = p * np.prod([v[2] for v in per_f.values()])
        z += like
        if like == 0:
            continue
        for j, r in enumerate(rows):
            if r.finding not in per_f:
                continue
            mechs, cells, tot = per_f[r.finding]
            i = [m[0] for m in mechs].index(r.parent)
            if mechs[i][1] == r.a:
                num[j] += like / tot * cells[i]
    return [x / z for x in num]


def _evidence_sets(net):
    rng = random.Random(7)
    sets = [({"anc": "severe"}, {}), ({"anc": "mild", "fever": "present"}, {"flu": 1}),
            ({"anc": "severe", "plt": "low", "age_group": "child"}, {"marrow": 0}),
            ({"fever": "present", "anc": "normal"}, {}),  # fever's age_group link, age unseen
            ({"anc": "severe", "exposure_x": "on_window", "test_m": "negative"}, {"drug_x": 1})]
    for _ in range(25):
        ev = random_evidence(net, rng)
        lab = {c: rng.randint(0, 1) for c in net.causes if c not in ev and rng.random() < 0.3}
        sets.append(({k: v for k, v in ev.items() if k not in net.causes}, lab))
    return sets


def test_counts_match_enumeration_of_the_mechanisms(tiny_net, tiny_engine):
    T = tiny_net.tables()
    rows = rows_of(tiny_net)
    assert {(r.finding, r.parent) for r in rows} >= {("anc", None), ("anc", "flu"),
                                                      ("fever", "age_group"), ("plt", "marrow")}
    sets = _evidence_sets(tiny_net)
    got, informed, probs, logz = mechanism_counts(tiny_engine, T, rows, [e for e, _ in sets],
                                                  [lab for _, lab in sets])
    want = [np.zeros(tiny_net.card(r.finding)) for r in rows]
    checked = 0
    for ev, lab in sets:
        bc = brute_counts(tiny_net, T, rows, ev, lab)
        for j in range(len(rows)):
            want[j] += bc[j]
        # one case at a time too, so that grouping cannot hide an error
        one = mechanism_counts(tiny_engine, T, rows, [ev], [lab])[0]
        for j in range(len(rows)):
            np.testing.assert_allclose(one[j], bc[j], rtol=0, atol=1e-10)
            checked += bc[j].size
    for j in range(len(rows)):
        np.testing.assert_allclose(got[j], want[j], rtol=0, atol=1e-10)
    assert checked > 300 and np.isfinite(logz).all()
    cells = mechanism_counts(tiny_engine, T, rows, [e for e, _ in sets], [lab for _, lab in sets],
                             per_case=True)[0]  # every case's own counts, for the scores
    for j in range(len(rows)):
        np.testing.assert_allclose(cells[j].sum(axis=0), got[j], rtol=0, atol=1e-10)
    ev0, lab0 = sets[1]
    for j, bc in enumerate(brute_counts(tiny_net, T, rows, ev0, lab0)):
        np.testing.assert_allclose(cells[j][1], bc, rtol=0, atol=1e-10)
    for j, r in enumerate(rows):  # a row's counts add up to P(x_m = a | e) over the cases
        assert informed[j] == sum(r.finding in ev for ev, _ in sets)


def test_counts_with_draws_of_other_numbers(tiny_net, tiny_engine):
    """Counts under changed numbers (the EM's later iterations) match enumeration too."""
    theta = tiny_net.theta0.copy()
    for path, v in (("findings.anc.links.flu.severe", 0.18), ("findings.anc.leak.mild", 0.09),
                    ("findings.fever.links.age_group.child.present", 0.28)):
        theta[tiny_net.param_index(path)] = v
    T = tiny_net.tables(theta)
    rows = rows_of(tiny_net)
    ev, lab = {"anc": "severe", "fever": "present"}, {"drug_x": 0}
    got = mechanism_counts(tiny_engine, T, rows, [ev], [lab])[0]
    for j, bc in enumerate(brute_counts(tiny_net, T, rows, ev, lab)):
        np.testing.assert_allclose(got[j], bc, rtol=0, atol=1e-10)


def test_impossible_case_adds_nothing(tiny_net, tiny_engine):
    T = tiny_net.tables()
    rows = rows_of(tiny_net)
    ev = {"exposure_x": "none", "anc": "severe"}
    counts, informed, _, logz = mechanism_counts(tiny_engine, T, rows, [ev], [{"drug_x": 1}])
    assert logz[0] == -np.inf and all(c.sum() == 0 for c in counts) and informed.sum() == 0


def _numeric_map(n, a, b, free, fixed):
    """The MAP by a general constrained optimiser (SLSQP), for comparison."""
    k = np.flatnonzero(free)
    room = 1 - fixed.sum()

    def nlp(x):
        t0 = max(room - x.sum(), 1e-300)
        return -((n[0] * np.log(t0) if n[0] else 0.0)
                 + sum((n[1 + i] + a[i] - 1) * np.log(t) + (b[i] - 1) * np.log1p(-t)
                       for i, t in zip(k, x)))

    x0 = np.full(len(k), room / (len(k) + 2))
    res = minimize(nlp, x0, method="SLSQP", bounds=[(1e-12, 1 - 1e-12)] * len(k),
                   constraints=[{"type": "ineq", "fun": lambda x: room - x.sum()}],
                   options={"ftol": 1e-15, "maxiter": 1000})
    return res.x


@pytest.mark.parametrize("n,vals,ranges,free", [
    ([30, 10], [0.2], [(0.1, 0.3)], [True]),
    ([50, 3, 20, 1], [0.1, 0.3, 0.05], [(0.05, 0.2), (0.2, 0.4), (0.01, 0.1)], [True] * 3),
    ([0, 40, 40], [0.4, 0.5], [(0.3, 0.5), (0.4, 0.6)], [True, True]),
    ([10, 5, 5], [0.2, 0.1], [(0.1, 0.3), (0.1, 0.1)], [True, False]),
])
def test_row_map_is_the_map(n, vals, ranges, free):
    n, vals, free = np.array(n, float), np.array(vals), np.array(free)
    ab = [beta_prior(v, lo, hi) for v, (lo, hi) in zip(vals, ranges)]
    a, b = np.array([x[0] for x in ab]), np.array([x[1] for x in ab])
    got = row_map(n, a, b, free, vals)
    assert got.sum() <= 1 + 1e-12 and (got >= 0).all()
    np.testing.assert_allclose(got[free], _numeric_map(n, a, b, free, np.where(free, 0, vals))
                               , atol=2e-6)
    np.testing.assert_allclose(got[~free], vals[~free])


def test_row_map_without_counts_keeps_the_values():
    vals = np.array([0.6, 0.1])
    ab = [beta_prior(0.6, 0.4, 0.8), beta_prior(0.1, 0.05, 0.2)]
    got = row_map(np.zeros(3), np.array([x[0] for x in ab]), np.array([x[1] for x in ab]),
                  np.array([True, True]), vals)
    np.testing.assert_allclose(got, vals, rtol=1e-12)


def test_two_state_row_is_the_beta_map():
    a, b = beta_prior(0.3, 0.2, 0.4)
    got = row_map(np.array([17.0, 9.0]), np.array([a]), np.array([b]), np.array([True]),
                  np.array([0.3]))
    assert got[0] == pytest.approx((a - 1 + 9) / (a + b - 2 + 26), rel=1e-12)
