"""Counterfactual scores against brute-force enumeration of the latent-mechanism model."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from bayesdx.counterfactual import counterfactual, counterfactual_batch
from bayesdx.errors import ImpossibleEvidenceError
from bayesdx.voi import QueryError

from conftest import hidden_states, random_evidence


def _mechanism(pmf: np.ndarray):
    """Comonotone noise of one mechanism: ``[(length, effect per parent state)]``.

    ``Y(x) = F^{-1}(U | x)`` with one uniform ``U`` shared by every world; the
    unit interval is cut at every cdf value of every parent state.
    """
    cdf = np.cumsum(pmf, axis=-1)
    cuts = np.unique(np.concatenate([[0.0, 1.0], np.clip(cdf.ravel(), 0, 1)]))
    out = []
    for lo, hi in zip(cuts[:-1], cuts[1:]):
        if hi - lo <= 0:
            continue
        u = (lo + hi) / 2
        out.append((hi - lo, [int(np.searchsorted(c, u, side="right")) for c in cdf]))
    return out


def brute_cf(net, evidence, T=None):
    """Posterior, disablement, sufficiency and P(present and needed) by enumeration.

    Every hidden context/cause assignment, and every joint value of the noise
    of every mechanism (links and leaks) of every observed finding; the
    counterfactual worlds reuse that noise with the intervened parent values.
    """
    T = T or net.tables()
    C = len(net.causes)
    obs = {f: net.states[f].index(s) for f, s in evidence.items() if f in net.findings}
    mechs = {f: [("leak", _mechanism(T.finding_leak[f][0][None]))] +
             [(p, _mechanism(T.link(f, p)[0])) for p in net.parents[f]] for f in obs}
    z = 0.0
    acc = {k: np.zeros(C) for k in ("post", "dis", "suf", "need")}
    for a, p in hidden_states(net, evidence, T):
        if p == 0:
            continue
        W = np.array([p])
        DIS = np.zeros((C, 1))
        SUF = np.zeros((C, 1))
        for f, s in obs.items():
            names = [m for m, _ in mechs[f]]
            combos = list(itertools.product(*[m for _, m in mechs[f]]))
            w = np.zeros(len(combos))
            dis = np.zeros((C, len(combos)))
            suf = np.zeros((C, len(combos)))
            for j, combo in enumerate(combos):
                y = {}
                w[j] = 1.0
                for name, (length, eff) in zip(names, combo):
                    w[j] *= length
                    y[name] = eff[0] if name == "leak" else eff[a[name]]
                if max(y.values()) != s:
                    w[j] = 0.0
                    continue
                if s == 0:
                    continue
                for i, c in enumerate(net.causes):
                    if c not in y:
                        continue
                    # do(c = absent): c's mechanism at the absent state, same noise
                    y_off = max([v for k, v in y.items() if k != c]
                                + [combo[names.index(c)][1][0]])
                    dis[i, j] = y_off < s
                    suf[i, j] = y[c] >= s  # every other mechanism switched off
            W = (W[:, None] * w[None, :]).ravel()
            DIS = (DIS[:, :, None] + dis[:, None, :]).reshape(C, -1)
            SUF = (SUF[:, :, None] + suf[:, None, :]).reshape(C, -1)
        z += W.sum()
        present = np.array([a[c] for c in net.causes], dtype=float)
        acc["post"] += present * W.sum()
        acc["dis"] += DIS @ W
        acc["suf"] += SUF @ W
        acc["need"] += (DIS > 0) @ W
    return {k: v / z for k, v in acc.items()}


CASES = [
    {"anc": "severe"},
    {"anc": "severe", "fever": "present", "age_group": "child"},
    {"anc": "mild", "fever": "present", "plt": "low"},
    {"anc": "severe", "plt": "low", "test_m": "positive", "exposure_x": "on_window"},
    {"fever": "present", "anc": "normal"},
    {"anc": "mild", "fever": "absent", "hx_drug": "present"},
]


def _check(tiny_engine, ev):
    got = counterfactual(tiny_engine, ev)
    ref = brute_cf(tiny_engine.net, ev)
    np.testing.assert_allclose(got.posterior, ref["post"], atol=1e-12, rtol=0)
    np.testing.assert_allclose(got.disablement, ref["dis"], atol=1e-12, rtol=0)
    np.testing.assert_allclose(got.sufficiency, ref["suf"], atol=1e-12, rtol=0)
    np.testing.assert_allclose(got.p_needed, ref["need"], atol=1e-12, rtol=0)
    return got, ref


@pytest.mark.parametrize("ev", CASES)
def test_scores_match_brute_force(tiny_engine, ev):
    got, ref = _check(tiny_engine, ev)
    assert (got.p_needed <= got.posterior + 1e-12).all()


def test_scores_match_brute_force_random(tiny_engine):
    rng = random.Random(11)
    for _ in range(25):
        ev = random_evidence(tiny_engine.net, rng, max_nodes=5, abnormal=0.7)
        try:
            _check(tiny_engine, ev)
        except ImpossibleEvidenceError:
            continue


def test_graded_finding_less_abnormal_counts(tiny_engine):
    """Severe ANC with flu and drug X both present: flu alone reaches mild only
    half the time; disabling drug X makes ANC less abnormal whenever flu is not severe."""
    got, ref = _check(tiny_engine, {"anc": "severe", "fever": "present",
                                    "exposure_x": "on_window"})
    i = got.causes.index("drug_x")
    assert got.disablement[i] > 0.5 and got.sufficiency[i] > 0.5


def test_no_abnormal_findings_gives_zero(tiny_engine):
    cf = counterfactual(tiny_engine, {"anc": "normal"})
    assert not cf.disablement.any() and not cf.sufficiency.any() and not cf.p_needed.any()


def test_batch_matches_single_and_draws(tiny_engine, tiny_net):
    evs = [CASES[1], CASES[3]]
    theta = np.stack([tiny_net.theta0, np.clip(tiny_net.theta0 * 1.1, 0, 1)])
    T = tiny_net.tables(theta)
    out = counterfactual_batch(tiny_engine, evs, T)
    assert out["disablement"].shape == (2, 2, 3)
    for b, ev in enumerate(evs):
        one = counterfactual(tiny_engine, ev)
        np.testing.assert_allclose(out["sufficiency"][0, b], one.sufficiency, atol=1e-13, rtol=0)
        T1 = tiny_net.tables(theta[1])
        ref = brute_cf(tiny_net, ev, T1)
        np.testing.assert_allclose(out["p_needed"][1, b], ref["need"], atol=1e-12, rtol=0)


def test_impossible_and_bad_key(tiny_engine, no_severe_anc):
    with pytest.raises(ImpossibleEvidenceError):
        counterfactual(tiny_engine, {"anc": "severe"}, no_severe_anc)
    out = counterfactual_batch(tiny_engine, [{"anc": "severe"}], no_severe_anc)
    assert np.isnan(out["posterior"]).all() and out["log_evidence"][0, 0] == -np.inf
    with pytest.raises(QueryError):
        counterfactual(tiny_engine, {"anc": "mild"}).ranked("bogus")


def _tables_with(tiny_net, theta_scale=(1.0,), **links):
    """Tiny tables (one draw per scale of theta) with some cause links replaced:
    ``finding__cause=[pmf of the present row]``."""
    import copy

    theta = np.stack([np.clip(tiny_net.theta0 * k, 0, 1) for k in theta_scale])
    T = copy.deepcopy(tiny_net.tables(theta if len(theta_scale) > 1 else None))
    for key, pmf in links.items():
        f, c = key.split("__")
        T.finding_links[f][c][:, 1] = pmf
    T.invalidate()
    return T


def _check_tables(engine, T, ev):
    """Every draw of ``counterfactual_batch`` against brute force on that draw's tables."""
    out = counterfactual_batch(engine, [ev], T)
    for d in range(T.draws):
        ref = brute_cf(engine.net, ev, T.draw_slice(d, d + 1))
        for k, r in (("posterior", "post"), ("disablement", "dis"),
                     ("sufficiency", "suf"), ("p_needed", "need")):
            np.testing.assert_allclose(out[k][d, 0], ref[r], atol=1e-12, rtol=0, err_msg=f"{k} draw {d}")
    return out


# anc observed at its top grade (severe) and at its middle grade (mild), with
# links that surely reach that grade when present (so P(Y_D < s | present) = 0 and
# the pair falls back to its own rewrite), or nearly surely (ratio above RATIO_MAX)
FALLBACK = [
    ({"anc__drug_x": [0.0, 0.0, 1.0]}, {"anc": "severe", "exposure_x": "on_window"}),
    ({"anc__drug_x": [0.0, 0.0, 1.0]}, {"anc": "severe", "fever": "present", "plt": "low"}),
    ({"anc__marrow": [0.0, 1.0, 0.0]}, {"anc": "mild", "plt": "low", "age_group": "adult"}),
    ({"anc__marrow": [0.0, 1.0, 0.0]}, {"anc": "mild", "plt": "low", "fever": "present"}),
    ({"anc__flu": [1e-7, 0.6, 0.4 - 1e-7]}, {"anc": "mild", "fever": "present"}),
    ({"fever__flu": [0.0, 1.0], "anc__flu": [0.0, 0.0, 1.0]},
     {"anc": "severe", "fever": "present", "age_group": "child"}),
]


@pytest.mark.parametrize("links,ev", FALLBACK)
def test_fallback_pairs_match_brute_force(tiny_engine, tiny_net, links, ev):
    from bayesdx.counterfactual import _reach

    T = _tables_with(tiny_net, **links)
    idx = tiny_engine.validate(ev)
    abnormal = {f: k for f, k in idx.items() if f in tiny_net.findings and k > 0}
    assert _reach(tiny_net, abnormal, T)[1], "the case must exercise the fallback"
    _check_tables(tiny_engine, T, ev)


GRADED = [
    {"anc": "severe", "plt": "low"},                       # top grade
    {"anc": "mild", "plt": "low", "test_m": "positive"},   # middle grade
    {"anc": "mild", "fever": "present", "age_group": "adult"},
    {"anc": "severe", "fever": "present", "exposure_x": "on_window", "age_group": "child"},
    {"anc": "severe", "fever": "present", "plt": "low", "hx_drug": "present"},
]


@pytest.mark.parametrize("ev", GRADED)
def test_graded_findings_with_parameter_draws(tiny_engine, tiny_net, ev):
    """Tables with several draws (as the intervals use), each draw against brute force."""
    T = _tables_with(tiny_net, (1.0, 0.85, 1.15))
    assert T.draws == 3
    _check_tables(tiny_engine, T, ev)


def test_both_routes_for_p_needed(tiny_engine, tiny_net):
    """A cause with two reachable abnormal findings gets p_needed from its prior odds
    when its parents are observed, else from its own rewrite; both match brute force."""
    from bayesdx.counterfactual import _kids, _odds_route, _reach

    T = tiny_net.tables()
    for ev, want in (({"anc": "severe", "plt": "low", "age_group": "adult"}, True),
                     ({"anc": "mild", "plt": "low", "age_group": "child"}, True),
                     ({"anc": "severe", "plt": "low"}, False)):
        idx = tiny_engine.validate(ev)
        abnormal = {f: k for f, k in idx.items() if k > 0 and f in tiny_net.findings}
        assert _kids(abnormal, _reach(tiny_net, abnormal, T)[0])["marrow"] == 2
        assert (_odds_route(tiny_net, idx, T, "marrow") is not None) == want
        _check(tiny_engine, ev)


def test_odds_route_with_a_prior_that_ignores_its_unobserved_parent(tiny_engine, tiny_net):
    """Marrow's prior made the same for every age group: the odds route applies
    with age unobserved, and still matches brute force."""
    import copy

    from bayesdx.counterfactual import _odds_route

    T = copy.deepcopy(tiny_net.tables())
    T.cause_cpt["marrow"][:] = 0.3
    T.invalidate()
    ev = {"anc": "mild", "plt": "low", "test_m": "positive"}
    assert _odds_route(tiny_net, tiny_engine.validate(ev), T, "marrow") is not None
    assert _odds_route(tiny_net, tiny_engine.validate(ev), tiny_net.tables(), "marrow") is None
    _check_tables(tiny_engine, T, ev)
