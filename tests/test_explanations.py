"""Joint explanations against brute-force enumeration on the tiny network."""

from __future__ import annotations

import random

import numpy as np
import pytest
from conftest import hidden_states, random_evidence

from bayesdx.errors import ImpossibleEvidenceError
from bayesdx.explanations import joint_explanations, only_cause
from bayesdx.inference.export import finding_table
from bayesdx.voi import QueryError


def brute_sets(net, evidence):
    """``{frozenset of present causes: P(exactly those | e)}`` by enumerating the joint."""
    T = net.tables()
    ftabs = {f: finding_table(net, T, f) for f in net.findings if f in evidence}
    out: dict = {}
    for a, p in hidden_states(net, evidence, T):
        for f, tab in ftabs.items():
            p *= tab[tuple(a[q] for q in net.parents[f]) + (net.states[f].index(evidence[f]),)]
        key = frozenset(c for c in net.causes if a[c])
        out[key] = out.get(key, 0.0) + p
    z = sum(out.values())
    return {k: v / z for k, v in out.items()}


def _check(engine, ev, k):
    ref = brute_sets(engine.net, ev)
    got = joint_explanations(engine, ev, k=k)
    want = sorted(ref.values(), reverse=True)[:k]
    assert len(got.items) == min(k, len(ref))
    np.testing.assert_allclose([e.prob for e in got.items], want, atol=1e-12, rtol=0)
    for e in got.items:
        assert abs(ref[frozenset(e.causes)] - e.prob) < 1e-12
    for c, p in got.only.items():
        assert abs(ref.get(frozenset([c]), 0.0) - p) < 1e-12
    assert abs(ref.get(frozenset(), 0.0) - got.none) < 1e-12
    return got


@pytest.mark.parametrize("ev", [
    {"anc": "severe"},
    {"anc": "severe", "fever": "present", "plt": "low"},
    {"anc": "mild", "exposure_x": "on_window", "test_m": "positive"},
    {},
])
def test_k_best_match_brute_force(tiny_engine, ev):
    got = _check(tiny_engine, ev, 8)  # all 8 sets of the tiny net, in order
    assert abs(sum(e.prob for e in got.items) - 1) < 1e-12


def test_random_evidence(tiny_engine):
    rng = random.Random(5)
    for _ in range(20):
        ev = random_evidence(tiny_engine.net, rng, max_nodes=5)
        try:
            _check(tiny_engine, ev, rng.randint(1, 4))
        except ImpossibleEvidenceError:
            continue


def test_only_and_errors(tiny_engine, no_severe_anc):
    only, none = only_cause(tiny_engine, {"anc": "mild", "plt": "low"})
    assert only["marrow"] > only["drug_x"] and 0 <= none < 1
    with pytest.raises(QueryError):
        joint_explanations(tiny_engine, {}, k=0)
    with pytest.raises(ImpossibleEvidenceError):
        joint_explanations(tiny_engine, {"anc": "severe"}, tables=no_severe_anc)


def test_text():
    from bayesdx.explanations import JointExplanation
    assert JointExplanation(("a",), 0.5).text({"a": "Clozapine"}) == "Clozapine alone 50%"
    assert JointExplanation(("a", "b"), 0.1).text() == "a + b 10%"
    assert JointExplanation((), 0.1).text().startswith("no modelled cause")


def test_cause_weight_same_in_every_engine_method(tiny_engine):
    """Tables.cause_weight conditions on causes in the slot pass as in per-pattern plans."""
    from bayesdx.explanations import _fixed_tables

    T = _fixed_tables(tiny_engine.net.tables(), tiny_engine.causes,
                      [{}, {"flu": 1}, {"flu": 0, "drug_x": 1}])
    evs = [{"anc": "severe", "fever": "present"}, {"anc": "mild"}, {"plt": "low"}] * 8
    a = tiny_engine.posterior_batch(evs, T, method="slots")
    b = tiny_engine.posterior_batch(evs, T, method="pattern")
    np.testing.assert_allclose(a.log_evidence, b.log_evidence, atol=1e-12, rtol=0)
    ref = brute_sets(tiny_engine.net, evs[0])
    p_flu = sum(v for s, v in ref.items() if "flu" in s)
    assert abs(np.exp(b.log_evidence[1, 0] - b.log_evidence[0, 0]) - p_flu) < 1e-12
