"""The engine against pgmpy's exact inference on the real network.

pgmpy runs on the exported full-table network, pruned to the observed findings
(unobserved findings are barren, so pruning is exact); the engine runs on the
noisy-MAX form. They are independent implementations.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from bayesdx.inference.export import to_pgmpy

from conftest import random_evidence


def _pgmpy(net, evidence):
    from pgmpy.inference import VariableElimination

    model = to_pgmpy(net, findings=[f for f in evidence if f in net.findings])
    ve = VariableElimination(model)
    return np.array([ve.query([c], evidence=evidence, show_progress=False).values[1]
                     for c in net.causes])


def test_engine_matches_pgmpy_on_500_random_evidence_sets(net, engine):
    rng = random.Random(2026)
    evs = [random_evidence(net, rng, max_nodes=6, abnormal=0.5) for _ in range(500)]
    ref = np.array([_pgmpy(net, ev) for ev in evs])
    single = np.array([engine.posterior(ev).probs for ev in evs])
    assert np.abs(ref - single).max() <= 1e-9
    for method in ("slots", "pattern"):  # the two batched paths
        assert np.abs(ref - engine.posterior_batch(evs, method=method).probs[0]).max() <= 1e-9


def test_batched_engine_matches_pgmpy_with_many_positive_findings(net, engine):
    # pgmpy's variable elimination needs seconds to minutes once several abnormal
    # findings share many cause parents, so these sets take 8-10 abnormal findings
    # with <= 10 parents each (the 500 sets above include the 20-35-parent blood-count
    # findings; the engine itself has no such limit).
    rng = random.Random(11)
    narrow = [f for f in net.findings if len(net.parents[f]) <= 10]
    evs = []
    for _ in range(20):
        chosen = rng.sample(narrow, rng.randint(8, 10))
        evs.append({f: rng.choice(net.states[f][1:]) for f in chosen})
    ref = np.array([_pgmpy(net, ev) for ev in evs])
    for method in ("slots", "pattern"):
        assert np.abs(ref - engine.posterior_batch(evs, method=method).probs[0]).max() <= 1e-9


def test_log_evidence_matches_pgmpy(net, engine):
    from pgmpy.inference import VariableElimination

    rng = random.Random(3)
    for _ in range(20):
        ev = random_evidence(net, rng, max_nodes=5, findings_only=True)
        if not ev:
            continue
        model = to_pgmpy(net, findings=list(ev))
        joint = VariableElimination(model).query(list(ev), joint=True, show_progress=False)
        p = joint.get_value(**ev)
        assert engine.log_evidence(ev) == pytest.approx(np.log(p), abs=1e-9)
