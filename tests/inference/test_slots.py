"""The slot engine (distinct patterns in one pass) against the other exact paths."""

from __future__ import annotations

import random

import numpy as np
import pytest

from bayesdx.inference import slots
from bayesdx.evaluation.cohort import observe, sample_cohort
from bayesdx.inference.engine import REPEATED
from bayesdx.inference.slots import run_slots

from conftest import brute_force, random_evidence


def _run(engine, evs, tables=None):
    T = tables or engine.net.tables()
    return run_slots(engine, [engine.validate(e) for e in evs], T)


@pytest.mark.parametrize("kernel, seed", [("auto", 5), ("numpy", 5), ("compiled", 15)])
def test_matches_brute_force_on_the_tiny_network(tiny_net, kernel, seed):
    """Every slot pass (the engine's choice, numpy, the compiled kernel) against brute force."""
    from bayesdx.inference.engine import Engine

    rng = random.Random(seed)
    evs = [random_evidence(tiny_net, rng) for _ in range(150)]
    probs, logz = _run(Engine(tiny_net, kernel=kernel), evs)
    for b, ev in enumerate(evs):
        ref, ref_z = brute_force(tiny_net, ev)
        assert np.abs(probs[0, b] - ref).max() < 1e-12
        assert abs(logz[0, b] - ref_z) < 1e-10


@pytest.fixture(scope="module")
def cohort(net):
    return sample_cohort(net, 300, seed=12)


@pytest.mark.parametrize("context", ["all", "same-schema", "random"])
def test_matches_per_pattern_plans_on_a_cohort(net, engine, cohort, context):
    evs = observe(net, cohort, seed=4, p_context=0.5 if context == "random" else 1.0)
    if context == "same-schema":  # e.g. a registry that records only age, sex and drugs
        keep = {"age_group", "sex"} | {x for x in net.context if x.startswith("exposure_")}
        evs = [{k: v for k, v in e.items() if k not in net.context or k in keep} for e in evs]
    probs, logz = _run(engine, evs)
    ref = engine.posterior_batch(evs, method="pattern")
    assert np.isfinite(probs).all()
    assert np.abs(probs - ref.probs).max() < 1e-12
    assert np.abs(logz - ref.log_evidence).max() < 1e-9


def test_small_chunks_give_the_same_answer(net, engine, cohort, monkeypatch):
    evs = observe(net, cohort, seed=9)[:80]
    whole, _ = _run(engine, evs)
    monkeypatch.setattr(slots, "CHUNK_ELEMENTS", 64)  # one case per chunk for most
    chunked, _ = _run(engine, evs)
    assert np.abs(whole - chunked).max() < 1e-14


def test_parameter_draws(net, engine, cohort):
    rng = np.random.default_rng(1)
    lo, hi = net.bounds
    T = net.tables(rng.uniform(lo, hi, size=(3, net.n_params)))
    evs = observe(net, cohort, seed=2)[:40]
    probs, _ = _run(engine, evs, T)
    ref = engine.posterior_batch(evs, T, method="pattern").probs
    assert probs.shape == (3, 40, len(net.causes))
    assert np.abs(probs - ref).max() < 1e-12


def test_impossible_case_is_nan_and_does_not_touch_the_others(tiny_net, tiny_engine, no_severe_anc):
    # no leak and no link can give anc 'severe': every case with it is impossible
    T = no_severe_anc
    rng = random.Random(8)
    evs = [random_evidence(tiny_net, rng) for _ in range(30)]
    evs = [e for e in evs if e.get("anc") != "severe"] + [{"anc": "severe", "plt": "low"}]
    probs, logz = _run(tiny_engine, evs, T)
    assert np.isnan(probs[0, -1]).all() and logz[0, -1] == -np.inf
    ref = tiny_engine.posterior_batch(evs[:-1], T, method="pattern").probs[0]
    assert np.abs(probs[0, :-1] - ref).max() < 1e-12


def test_auto_uses_both_paths_and_agrees(net, engine, cohort):
    evs = observe(net, cohort, seed=6)[:60]
    repeated = evs[:2] * REPEATED  # two patterns seen often enough to be planned per pattern
    mixed = repeated + evs
    auto = engine.posterior_batch(mixed).probs
    ref = engine.posterior_batch(mixed, method="pattern").probs
    assert np.abs(auto - ref).max() < 1e-12


def test_unknown_method_is_a_clear_error(engine):
    with pytest.raises(ValueError, match="method: must be one of auto, direct, pattern, slots, union; got 'fast'"):
        engine.posterior_batch([{}], method="fast")


def test_abnormal_finding_with_only_observed_parents(tiny_copy):
    """A finding whose parents are all observed context nodes is a constant factor.

    The slot engine used to give it an empty span (``min()`` of no parent steps) and
    crash; it now multiplies its likelihood into the evidence and leaves the
    posteriors alone. Checked against brute force on the tiny network with a
    trait test whose only parent is the (observed) age group.
    """
    from bayesdx.inference.engine import Engine
    from bayesdx.knowledge.load import load_knowledge
    from bayesdx.knowledge.network import Network

    model = tiny_copy / "model" / "network.yaml"
    model.write_text(model.read_text().replace(
        "  test_m:", "  test_trait: {label: 'Inherited trait test', group: tests, states: [negative, positive], "
        "parents: [age_group]}\n  test_m:"))
    numbers = tiny_copy / "priors" / "numbers.yaml"
    numbers.write_text(numbers.read_text().replace(
        "  test_m:", "  test_trait:\n    leak: {value: 0.1, range: [0.05, 0.2], source: E}\n"
        "    links: {age_group: {child: {value: 0.6, range: [0.4, 0.8], source: E}}}\n  test_m:"))
    net = Network(load_knowledge(tiny_copy))
    engine = Engine(net)
    evs = [{"age_group": a, "test_trait": t, "anc": s, "hx_drug": "present"}
           for a in ("child", "adult") for t in ("negative", "positive")
           for s in ("normal", "mild", "severe")]
    evs += [{"age_group": "child", "test_trait": "positive"}, {"test_trait": "positive"}]
    probs, logz = _run(engine, evs)
    for b, ev in enumerate(evs):
        ref, ref_z = brute_force(net, ev)
        assert np.abs(probs[0, b] - ref).max() < 1e-12
        assert abs(logz[0, b] - ref_z) < 1e-10
    pattern = engine.posterior_batch(evs, method="pattern")
    assert np.abs(pattern.probs[0] - probs[0]).max() < 1e-12
    assert np.abs(pattern.log_evidence[0] - logz[0]).max() < 1e-10


# ---------------------------------------------------------------- the compiled slot pass
# (bayesdx.inference.slot_program: the same chunks run by the numba kernel)


@pytest.fixture(scope="module")
def kernels(net):
    from bayesdx.inference.engine import Engine

    return {k: Engine(net, kernel=k) for k in ("numpy", "compiled")}


@pytest.mark.parametrize("p_context", [1.0, 0.5])
def test_compiled_slots_match_numpy_slots_under_draws(net, kernels, cohort, p_context):
    """A sampled cohort with randomly missing context, 3 parameter draws: the kernel's
    slot pass against the numpy slot pass (the reference) and per-pattern plans."""
    rng = np.random.default_rng(3)
    lo, hi = net.bounds
    T = net.tables(rng.uniform(lo, hi, size=(3, net.n_params)))
    evs = observe(net, cohort, seed=21, p_context=p_context)[:120]
    fast, fast_z = _run(kernels["compiled"], evs, T)
    ref, ref_z = _run(kernels["numpy"], evs, T)
    assert np.isfinite(fast).all() and np.isfinite(ref).all()
    assert np.abs(fast - ref).max() < 1e-9
    assert np.abs(fast_z - ref_z).max() < 1e-9
    plans = kernels["numpy"].posterior_batch(evs, T, method="pattern")
    assert np.abs(fast - plans.probs).max() < 1e-9


def test_compiled_slots_impossible_case_is_nan_alone(tiny_net, no_severe_anc):
    from bayesdx.inference.engine import Engine

    eng = Engine(tiny_net, kernel="compiled")
    rng = random.Random(18)
    evs = [random_evidence(tiny_net, rng) for _ in range(30)]
    evs = [e for e in evs if e.get("anc") != "severe"]
    evs = evs[:10] + [{"anc": "severe", "plt": "low"}] + evs[10:]
    probs, logz = _run(eng, evs, no_severe_anc)
    assert np.isnan(probs[0, 10]).all() and logz[0, 10] == -np.inf
    keep = [i for i in range(len(evs)) if i != 10]
    ref = eng.posterior_batch([evs[i] for i in keep], no_severe_anc, method="pattern").probs[0]
    assert np.isfinite(probs[0, keep]).all()
    assert np.abs(probs[0, keep] - ref).max() < 1e-12
