"""The compiled plan kernel (inference/program.py, plan_kernel.py) against the references.

The kernel runs the same plan as the numpy einsum path (``Engine(kernel="numpy")``);
it must give the same posteriors and log-evidence: against brute force on the tiny
network (< 1e-12), against the numpy path on the 42-cause network for hundreds of
random evidence sets, under parameter draws and in batches (< 1e-9), and it must
refuse impossible evidence with the same error and the same conflict.
"""

from __future__ import annotations

import copy
import random

import numpy as np
import pytest

from bayesdx.errors import ImpossibleEvidenceError
from bayesdx.inference.budget import BudgetError
from bayesdx.inference.engine import Engine
from bayesdx.inference.evidence import Pattern
from bayesdx.inference.light import LIGHT_SLOTS, light_cost
from bayesdx.inference.program import build_program, gather
from bayesdx.uncertainty import draw_tables

from conftest import brute_force, random_evidence


@pytest.fixture(scope="module")
def numpy_engine(net):
    return Engine(net, kernel="numpy")


@pytest.fixture(scope="module")
def compiled_engine(net):
    return Engine(net, kernel="compiled")


def _both(ref: Engine, new: Engine, ev, tables=None):
    """(reference posterior, compiled posterior), or the two conflicts when impossible."""
    try:
        a = ref.posterior(ev, tables=tables)
    except ImpossibleEvidenceError as exc:
        with pytest.raises(ImpossibleEvidenceError) as exc2:
            new.posterior(ev, tables=tables)
        assert exc2.value.conflict == exc.conflict
        assert str(exc2.value) == str(exc)
        return None
    return a, new.posterior(ev, tables=tables)


def test_default_engine_uses_the_kernel_except_for_one_off_batch_patterns(net):
    eng = Engine(net)
    assert eng.kernel == "auto"
    # more abnormal findings than the light program's slots: a single query runs its plan
    wide = sorted(net.findings, key=lambda f: -len(net.parents[f]))[:LIGHT_SLOTS + 1]
    ev = {f: net.states[f][1] for f in wide} | {"sex": net.states["sex"][0]}
    assert light_cost(eng, eng.validate(ev)) is None
    plan = eng.plan(Pattern.of(net, [eng.validate(ev)]))
    one = eng.posterior_batch([ev])  # one case of a batch: numpy, no program built
    assert not plan.__dict__.get("_programs")
    single = eng.posterior(ev)  # a single query: the kernel
    assert len(plan._programs) == 1
    assert np.abs(one.probs[0, 0] - single.probs).max() < 1e-12
    again = Engine(net).posterior(ev)  # a query's numbers do not depend on what ran before
    assert np.array_equal(again.probs, single.probs)


def test_tiny_network_matches_brute_force_and_numpy(tiny_net):
    ref, new = Engine(tiny_net, kernel="numpy"), Engine(tiny_net, kernel="compiled")
    rng = random.Random(1207)
    for _ in range(400):
        ev = random_evidence(tiny_net, rng)
        pair = _both(ref, new, ev)
        if pair is None:
            continue
        a, b = pair
        probs, logz = brute_force(tiny_net, ev)
        assert np.abs(b.probs - probs).max() < 1e-12
        assert abs(b.log_evidence - logz) < 1e-12
        assert np.abs(b.probs - a.probs).max() < 1e-12


def test_tiny_network_impossible_evidence(tiny_net, no_severe_anc):
    ref, new = Engine(tiny_net, kernel="numpy"), Engine(tiny_net, kernel="compiled")
    ev = {"anc": "severe", "fever": "present", "plt": "low"}
    assert _both(ref, new, ev, no_severe_anc) is None
    with pytest.raises(ImpossibleEvidenceError) as exc:
        new.posterior(ev, tables=no_severe_anc)
    assert exc.value.conflict == {"anc": "severe"}
    batch = new.posterior_batch([{"anc": "severe"}, {"anc": "mild"}], tables=no_severe_anc,
                                method="pattern")
    assert np.isnan(batch.probs[0, 0]).all() and np.isfinite(batch.probs[0, 1]).all()
    assert batch.log_evidence[0, 0] == -np.inf


def test_full_network_random_evidence_matches_numpy(net, numpy_engine, compiled_engine):
    rng = random.Random(4242)
    compared = 0
    for i in range(400):
        ev = random_evidence(net, rng, max_nodes=30, abnormal=0.3 + 0.4 * (i % 2))
        try:
            pair = _both(numpy_engine, compiled_engine, ev)
        except BudgetError:
            continue
        if pair is None:
            continue
        a, b = pair
        assert np.abs(a.probs - b.probs).max() <= 1e-9, ev
        assert abs(a.log_evidence - b.log_evidence) <= 1e-9 * max(1.0, abs(a.log_evidence))
        compared += 1
    assert compared >= 300


def _without_top_state(net, finding: str):
    """Default tables in which ``finding``'s last state has probability zero."""
    T = copy.deepcopy(net.tables())
    leak = T.finding_leak[finding]
    leak[:, 0] += leak[:, -1]
    leak[:, -1] = 0.0
    for row in T.finding_links[finding].values():
        row[:, :, 0] += row[:, :, -1]
        row[:, :, -1] = 0.0
    T.invalidate()
    return T


def test_full_network_impossible_evidence_same_error(net, numpy_engine, compiled_engine):
    finding = "anc"
    T = _without_top_state(net, finding)
    top = net.states[finding][-1]
    rng = random.Random(77)
    raised = 0
    for _ in range(30):
        ev = random_evidence(net, rng, max_nodes=12)
        ev[finding] = top
        try:
            pair = _both(numpy_engine, compiled_engine, ev, T)
        except BudgetError:
            continue
        raised += pair is None
    assert raised >= 25


def test_draws_and_batches_match_numpy(net, numpy_engine, compiled_engine):
    """Many draws (intervals) and many cases of one pattern in one kernel call."""
    T = draw_tables(net, 64, seed=3)
    rng = random.Random(9)
    base = random_evidence(net, rng, max_nodes=14, findings_only=True, abnormal=0.7)
    cases = []
    for _ in range(12):  # one pattern: same nodes, same findings abnormal, other states
        cases.append({n: s if s == net.states[n][0] else rng.choice(net.states[n][1:])
                      for n, s in base.items()})
    a = numpy_engine.posterior_batch(cases, tables=T, method="pattern")
    b = compiled_engine.posterior_batch(cases, tables=T, method="pattern")
    assert a.probs.shape == (64, 12, len(net.causes))
    assert np.nanmax(np.abs(a.probs - b.probs)) <= 1e-9
    np.testing.assert_allclose(b.log_evidence, a.log_evidence, rtol=1e-12, atol=1e-9)
    for ev in rng.sample(cases, 3):  # the mixed-pattern batch, through every method
        mixed = [ev, random_evidence(net, rng, max_nodes=10), {}]
        for method in ("auto", "pattern", "union"):
            x = numpy_engine.posterior_batch(mixed, method=method)
            y = compiled_engine.posterior_batch(mixed, method=method)
            assert np.nanmax(np.abs(x.probs - y.probs)) <= 1e-9


@pytest.mark.parametrize("threads", [2, 3])
def test_draws_split_between_threads_give_the_same_numbers(net, compiled_engine, monkeypatch,
                                                           threads):
    """Draws run in threads (disjoint draw ranges) give one thread's numbers bit for bit,
    impossible draws included."""
    from bayesdx.inference import program

    T = draw_tables(net, 37, seed=5)
    rng = random.Random(4)
    evs = [random_evidence(net, rng, max_nodes=14, findings_only=True, abnormal=0.7)
           for _ in range(3)]
    monkeypatch.setattr(program, "THREADS", 1)
    one = [compiled_engine.posterior_batch([ev, ev], tables=T, method="pattern") for ev in evs]
    monkeypatch.setattr(program, "THREADS", threads)
    monkeypatch.setattr(program, "PARALLEL_OPS", 0.0)
    assert program.threads_for(37, 1.0) == threads and program.threads_for(1, 1e12) == 1
    many = [compiled_engine.posterior_batch([ev, ev], tables=T, method="pattern") for ev in evs]
    for a, b in zip(one, many):
        np.testing.assert_array_equal(a.probs, b.probs)
        np.testing.assert_array_equal(a.log_evidence, b.log_evidence)


@pytest.mark.parametrize("draws,cases", [(37, 2), (16, 1), (5, 3), (1, 1)])
def test_pairs_side_by_side_give_one_at_a_time_numbers(net, tiny_net, compiled_engine, monkeypatch,
                                                       draws, cases):
    """The lanes kernel (LANES pairs side by side) gives the one-pair kernel's numbers bit
    for bit: full blocks and a partial last block, impossible draws included, plans and
    slot passes (per-case maps), and on the tiny network brute force to 1e-12."""
    from bayesdx.inference import program

    monkeypatch.setattr(program, "THREADS", 1)
    T = draw_tables(net, draws, seed=6)
    rng = random.Random(draws)
    evs = [random_evidence(net, rng, max_nodes=14, findings_only=True, abnormal=0.7)
           for _ in range(4)] + [{"anc": "severe", "hb": net.states["hb"][-1], "plt": "low"}]

    def same_both_ways(batch, method):
        monkeypatch.setattr(program, "LANES_ON", False)
        one = compiled_engine.posterior_batch(batch, tables=T, method=method)
        monkeypatch.setattr(program, "LANES_ON", True)
        side = compiled_engine.posterior_batch(batch, tables=T, method=method)
        np.testing.assert_array_equal(one.probs, side.probs)
        np.testing.assert_array_equal(one.log_evidence, side.log_evidence)

    for ev in evs:
        same_both_ways([ev] * cases, "pattern")
    same_both_ways([evs[i % len(evs)] for i in range(cases * 3)] + [{}], "slots")  # maps per case
    tiny = Engine(tiny_net, kernel="compiled")
    Tt = draw_tables(tiny_net, 20, seed=1)
    ev = {"anc": "severe", "plt": "low", "fever": "present"}
    got = tiny.posterior_batch([ev, ev], tables=Tt, method="pattern")
    for d in (0, 7, 19):
        ref, _ = brute_force(tiny_net, ev, Tt.draw_slice(d, d + 1))
        assert np.abs(got.probs[d, 1] - ref).max() < 1e-12


def test_one_program_per_plan_serves_draws_and_cases(net, compiled_engine):
    ev = {"anc": "severe", "hb": net.states["hb"][1], "sex": net.states["sex"][0]}
    compiled_engine.posterior(ev)
    plan = compiled_engine.plan(Pattern.of(net, [compiled_engine.validate(ev)]))
    assert len(plan._programs) == 1
    (key, prog), = plan._programs.items()
    assert all(s[:2] == (1, 1) for s in key) and prog.code.dtype == np.int64
    compiled_engine.posterior(ev)
    compiled_engine.posterior_batch([ev, ev], tables=draw_tables(net, 16, 0), method="pattern")
    assert len(plan._programs) == 1  # one program for one case; draws and cases loop over it


def test_program_layout(tiny_net):
    """Inputs first, then the persistent part and the scratch slots; every record in range."""
    eng = Engine(tiny_net)
    idx = eng.validate({"anc": "severe", "plt": "low", "fever": "present"})
    plan = eng.plan(Pattern.of(tiny_net, [idx]))
    from bayesdx.inference.factors import prepare

    T = tiny_net.tables()
    prep = prepare(tiny_net, plan, [idx], T)
    arrays = gather(tiny_net, plan, T, [idx], prep)
    prog = build_program(tiny_net, plan, [a.shape for a in arrays], 1, 1, eng._cause_index)
    assert prog.in_offsets[0] == 0 and prog.n_inputs == sum(a.size for a in arrays)
    assert prog.size >= prog.n_inputs
    assert set(np.unique(prog.code[:1])) <= {0, 1, 2}
