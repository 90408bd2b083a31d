"""The engine against pgmpy's exact inference on the real network.

pgmpy runs on the exported full-table network (exported once; pgmpy's
variable elimination prunes the barren, unobserved findings itself); the
engine runs on the noisy-MAX form. They are independent implementations.

Speed: pgmpy needs about a third of a second per evidence set (one query per
cause), so of the 500 random sets the engine's three paths are compared with
each other on all 500 and with pgmpy on 120 chosen to cover all 500: every
(node, state) pair and every count of abnormal findings that occurs in the
500 occurs in a checked set, and the rest of the 120 are the sets with the
most abnormal findings (where the accumulators do the work).
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from bayesdx.inference.export import to_pgmpy

from conftest import random_evidence

SETS = 500
CHECKED = 120


@pytest.fixture(scope="module")
def ve(net):
    from pgmpy.inference import VariableElimination

    return VariableElimination(to_pgmpy(net))


def _pgmpy(ve, net, evidence):
    return np.array([ve.query([c], evidence=evidence, show_progress=False).values[1]
                     for c in net.causes])


def _abnormal(net, ev) -> int:
    return sum(1 for n, s in ev.items() if n in net.findings and s != net.states[n][0])


def _features(net, ev) -> set:
    return {*ev.items(), ("abnormal findings", _abnormal(net, ev))}


def covering(net, evs: list[dict[str, str]], n: int) -> list[int]:
    """Indices of ``n`` sets: a greedy cover of every feature of ``evs``, then the heaviest others."""
    feats = [_features(net, ev) for ev in evs]
    todo = set().union(*feats)
    chosen: list[int] = []
    while todo:
        best = max(range(len(evs)), key=lambda i: (len(feats[i] & todo), -i))
        chosen.append(best)
        todo -= feats[best]
    assert len(chosen) <= n, f"{len(chosen)} sets are needed to cover every feature"
    rest = sorted(set(range(len(evs))) - set(chosen), key=lambda i: (-_abnormal(net, evs[i]), i))
    return sorted(chosen + rest[: n - len(chosen)])


@pytest.fixture(scope="module")
def random_sets(net):
    rng = random.Random(2026)
    return [random_evidence(net, rng, max_nodes=6, abnormal=0.5) for _ in range(SETS)]


def test_the_checked_sets_cover_every_feature_of_the_500(net, random_sets):
    idx = covering(net, random_sets, CHECKED)
    assert len(idx) == CHECKED == len(set(idx))
    everything = set().union(*(_features(net, ev) for ev in random_sets))
    assert set().union(*(_features(net, random_sets[i]) for i in idx)) == everything


@pytest.mark.slow
def test_engine_matches_pgmpy_on_random_evidence_sets(net, engine, ve, random_sets):
    # slow since the 42-cause network: pgmpy's variable elimination needs minutes on some of
    # these sets (observed blood-count findings with 20-42 cause parents). Run with
    # `pytest -m slow`; the default run keeps the narrow-finding pgmpy check below and the
    # engine's three paths against each other on all 500 sets.
    single = np.array([engine.posterior(ev).probs for ev in random_sets])
    idx = covering(net, random_sets, CHECKED)
    ref = np.array([_pgmpy(ve, net, random_sets[i]) for i in idx])
    assert np.abs(ref - single[idx]).max() <= 1e-9


def test_engine_paths_agree_on_500_random_sets(engine, random_sets):
    single = np.array([engine.posterior(ev).probs for ev in random_sets])
    for method in ("slots", "pattern"):  # the two batched paths, on all 500
        assert np.abs(single - engine.posterior_batch(random_sets, method=method).probs[0]).max() <= 1e-12


def test_batched_engine_matches_pgmpy_with_many_positive_findings(net, engine, ve):
    # pgmpy's variable elimination needs seconds to minutes once several abnormal
    # findings share many cause parents, so these sets take 8-10 abnormal findings
    # with <= 10 parents each (the random sets above include the 20-35-parent blood-count
    # findings; the engine itself has no such limit).
    rng = random.Random(11)
    narrow = [f for f in net.findings if len(net.parents[f]) <= 10 and f not in net.derived]
    evs = []
    for _ in range(20):
        chosen = rng.sample(narrow, rng.randint(8, 10))
        evs.append({f: rng.choice(net.states[f][1:]) for f in chosen})
    ref = np.array([_pgmpy(ve, net, ev) for ev in evs])
    for method in ("slots", "pattern"):
        assert np.abs(ref - engine.posterior_batch(evs, method=method).probs[0]).max() <= 1e-9


def test_log_evidence_matches_pgmpy(net, engine, ve):
    rng = random.Random(3)
    for _ in range(20):
        ev = random_evidence(net, rng, max_nodes=5, findings_only=True)
        if not ev:
            continue
        joint = ve.query(list(ev), joint=True, show_progress=False)
        p = joint.get_value(**ev)
        assert engine.log_evidence(ev) == pytest.approx(np.log(p), abs=1e-9)
