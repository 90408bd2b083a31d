"""Bounded work: cost estimates, memory chunking, the time budget, searched orders."""

from __future__ import annotations

import numpy as np
import pytest

from bayesdx.inference.budget import Budget, BudgetError
from bayesdx.inference.engine import Engine
from bayesdx.uncertainty import draw_tables, interval_estimate

HEAVY = {"anc": "severe", "alc": "low", "hb": "very_low", "plt": "very_low", "retic": "low",
         "smear_blasts": "present", "smear_macro_ovalocytes": "present", "hx_fever": "present",
         "hx_splenomegaly": "present", "marrow_dysplasia": "present",
         "marrow_megaloblastic": "present", "b12_level": "low", "mma": "elevated"}


def test_estimate_grows_with_abnormal_findings(engine):
    light = engine.estimate({"anc": "severe"})
    heavy = engine.estimate(HEAVY)
    assert heavy.states > light.states and heavy.bytes > light.bytes
    assert engine.estimate(HEAVY, draws=10).ops == pytest.approx(10 * heavy.ops)


def test_memory_budget_runs_in_chunks_with_the_same_numbers(net, engine):
    tables = draw_tables(net, 12, seed=3)
    whole = engine.posterior_batch([HEAVY, {"anc": "mild"}], tables=tables, method="pattern")
    tight = Engine(net, budget=Budget(memory_bytes=1))  # one (draw, case) at a time
    parts = tight.posterior_batch([HEAVY, {"anc": "mild"}], tables=tables, method="pattern")
    assert np.abs(whole.probs - parts.probs).max() < 1e-12
    assert np.abs(whole.log_evidence - parts.log_evidence).max() < 1e-9


def test_time_budget_refuses_before_running(net):
    eng = Engine(net, budget=Budget(seconds=1e-9))
    with pytest.raises(BudgetError) as err:
        eng.posterior(HEAVY)
    assert "budget" in str(err.value) and "try" in str(err.value)


def test_intervals_cut_to_the_budget_state_their_error(net, engine):
    per = engine.estimate(HEAVY).seconds
    iv = interval_estimate(engine, HEAVY, draws=400, budget=Budget(seconds=per * 100))
    assert 40 <= iv.draws < 400 and iv.note and iv.mc_error > 0
    again = interval_estimate(engine, HEAVY, draws=400, budget=Budget(seconds=per * 100))
    assert np.array_equal(iv.bounds, again.bounds)  # deterministic by seed
    none = interval_estimate(engine, HEAVY, draws=400, budget=Budget(seconds=per))
    assert none.bounds is None and none.draws == 0 and "budget" in none.note


def test_searched_order_gives_the_same_posterior(net, monkeypatch):
    from bayesdx.inference import plan as plan_mod

    searched = Engine(net).posterior(HEAVY)
    monkeypatch.setattr(plan_mod, "search_pays", lambda *a, **k: False)  # greedy order only
    greedy = Engine(net).posterior(HEAVY)
    assert np.abs(searched.probs - greedy.probs).max() < 1e-12
    assert searched.log_evidence == pytest.approx(greedy.log_evidence, abs=1e-9)


def test_one_off_heavy_pattern_in_a_batch_skips_the_search(net):
    from bayesdx.inference.plan import Pattern

    case = dict(list(HEAVY.items())[:7])  # greedy order ~4e6 operations: search ~5x cheaper
    eng = Engine(net)
    pattern = Pattern.of(net, [eng.validate(case)])
    batch = eng.posterior_batch([case, {"anc": "mild"}], method="pattern")  # one draw each
    quick = eng._plans[(pattern, "greedy")]
    assert not quick.searched and quick.cost == quick.greedy_cost
    assert pattern not in eng._plans  # the searched plan was not compiled
    single = eng.posterior(case)
    full = eng._plans[pattern]
    assert full.searched and full.cost < quick.cost
    assert np.abs(batch.probs[0, 0] - single.probs).max() < 1e-12
    assert batch.log_evidence[0, 0] == pytest.approx(single.log_evidence, abs=1e-9)
    # the choice depends on the query only: the same batch on a fresh engine, bit for bit
    again = Engine(net).posterior_batch([case, {"anc": "mild"}], method="pattern")
    assert np.array_equal(batch.probs, again.probs, equal_nan=True)
    # many draws of the same pattern pay for the search: the searched plan serves them
    assert eng.plan(pattern, run_ns=200 * 5.0) is full
    assert eng.plan(pattern, run_ns=1 * 10.0) is quick


def test_light_pattern_has_one_plan_whoever_asks(net):
    from bayesdx.inference.plan import Pattern

    eng = Engine(net)
    case = {"anc": "severe", "hb": "low"}
    eng.posterior_batch([case] * 3, method="pattern")
    eng.posterior(case)
    pattern = Pattern.of(net, [eng.validate(case)])
    assert list(eng._plans) == [pattern] and not eng._plans[pattern].searched


def test_interval_stages_stop_at_the_budget(engine):
    """The budget caps the draws (an estimate from the plan, never a clock), also when the
    error target is not met: the same draws every time, and the note says why."""
    per = engine.estimate(HEAVY).seconds
    tight = Budget(seconds=per * 90.5)
    iv = interval_estimate(engine, HEAVY, draws=400, budget=tight, tolerance=0)
    assert iv.draws == 90 and "time budget" in iv.note and iv.mc_error > 0
    again = interval_estimate(engine, HEAVY, draws=400, budget=tight, tolerance=0)
    assert np.array_equal(iv.bounds, again.bounds)
