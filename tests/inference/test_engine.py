"""The engine against brute-force enumeration (tiny network) and pgmpy (real network)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from bayesdx.inference.engine import Engine, Posterior
from bayesdx.errors import CaseError, ImpossibleEvidenceError

from conftest import brute_force, random_evidence


def test_empty_evidence_gives_the_priors(tiny_engine, tiny_net):
    post = tiny_engine.posterior({})
    assert np.allclose(post.probs, [tiny_net.cause_priors()[c] for c in tiny_net.causes])
    assert abs(post.log_evidence) < 1e-12


def test_hand_computed_posterior(tiny_engine):
    # adult (flu prior solved from 0.3 overall), platelets low only:
    # P(plt low | marrow) = 1 - 0.95*0.1 = 0.905; P(plt low | no marrow) = 0.05.
    # marrow prior in adults = 0.05 -> posterior = .05*.905 / (.05*.905 + .95*.05)
    post = tiny_engine.posterior({"age_group": "adult", "plt": "low"})
    expected = 0.05 * 0.905 / (0.05 * 0.905 + 0.95 * 0.05)
    assert post.of("marrow") == pytest.approx(expected, abs=1e-12)
    # flu is unaffected by platelets
    assert post.of("flu") == pytest.approx(post.prior_of("flu") * 0 + tiny_engine.posterior(
        {"age_group": "adult"}).of("flu"), abs=1e-12)


def test_matches_brute_force_on_random_evidence(tiny_engine, tiny_net):
    rng = random.Random(7)
    worst = 0.0
    for _ in range(400):
        ev = random_evidence(tiny_net, rng)
        probs, logz = brute_force(tiny_net, ev)
        post = tiny_engine.posterior(ev)
        worst = max(worst, np.abs(post.probs - probs).max(), abs(post.log_evidence - logz))
    assert worst < 1e-12


def test_batch_mixes_patterns_and_matches_single_queries(tiny_engine, tiny_net):
    rng = random.Random(3)
    evs = [random_evidence(tiny_net, rng) for _ in range(60)]
    for method in ("auto", "pattern", "slots", "union"):
        batch = tiny_engine.posterior_batch(evs, method=method)
        single = np.array([tiny_engine.posterior(e).probs for e in evs])
        assert np.abs(batch.probs[0] - single).max() < 1e-12


def test_parameter_draws_batch(tiny_net, tiny_engine):
    rng = np.random.default_rng(0)
    lo, hi = tiny_net.bounds
    theta = rng.uniform(lo, hi, size=(5, tiny_net.n_params))
    T = tiny_net.tables(theta)
    ev = {"anc": "severe", "fever": "present"}
    batch = tiny_engine.posterior_batch([ev], tables=T)
    for d in range(5):
        probs, _ = brute_force(tiny_net, ev, tiny_net.tables(theta[d]))
        assert np.abs(batch.probs[d, 0] - probs).max() < 1e-12


def test_unknown_node_and_state_are_clear_errors(tiny_engine):
    with pytest.raises(CaseError) as exc:
        tiny_engine.posterior({"ancc": "severe", "plt": "very_low"})
    msg = str(exc.value)
    assert "ancc" in msg and "anc" in msg and "plt" in msg and "normal, low" in msg


def test_cause_as_evidence_is_rejected(tiny_engine):
    with pytest.raises(CaseError, match="not a cause"):
        tiny_engine.posterior({"flu": "present"})


def test_impossible_evidence_names_the_conflict(tiny_engine, no_severe_anc):
    # With the leak and every link of anc 'severe' set to zero, anc=severe is impossible.
    T = no_severe_anc
    with pytest.raises(ImpossibleEvidenceError) as exc:
        tiny_engine.posterior({"anc": "severe", "fever": "present", "plt": "low"}, tables=T)
    assert exc.value.conflict == {"anc": "severe"}
    assert "anc=severe" in str(exc.value)
    batch = tiny_engine.posterior_batch([{"anc": "severe"}, {"anc": "mild"}], tables=T)
    assert np.isnan(batch.probs[0, 0]).all() and np.isfinite(batch.probs[0, 1]).all()


def test_posterior_object_is_frozen_and_ranked(tiny_engine):
    post = tiny_engine.posterior({"anc": "severe"})
    assert isinstance(post, Posterior)
    with pytest.raises(Exception):
        post.probs = None  # type: ignore[misc]
    ranked = post.ranked()
    assert [p for _, p in ranked] == sorted((p for _, p in ranked), reverse=True)


def test_engines_share_a_plan_cache_without_changing_a_number(net):
    from bayesdx.inference.engine import Engine
    from bayesdx.inference.plan import Pattern

    first = Engine(net, cache_size=8)
    second = Engine(net, plan_cache=first.plan_cache)
    ev = {"anc": "severe", "exposure_antipsychotic": "clozapine_window", "smear_lgl": "present"}
    ev = {k: v for k, v in ev.items() if k in net.states}
    p1 = first.posterior(ev).probs
    pattern = Pattern.of(net, [first.validate(ev)])
    assert second.plan(pattern) is first.plan(pattern)  # compiled once, used by both
    np.testing.assert_array_equal(second.posterior(ev).probs, p1)
    np.testing.assert_array_equal(Engine(net).posterior(ev).probs, p1)
    other = type(net).from_knowledge(net.kb)
    with pytest.raises(ValueError, match="plan_cache: must belong to the same network"):
        Engine(other, plan_cache=first.plan_cache)
