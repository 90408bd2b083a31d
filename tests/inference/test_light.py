"""The light program (one precompiled slot program per slot count) against the plans.

Single light queries of the default engine run by :mod:`bayesdx.inference.light`
without compiling a plan; the numbers must be the per-pattern plan's (compiled
kernel and numpy reference) to 1e-12, brute force's on the tiny network, and the
same impossible-evidence error.
"""

from __future__ import annotations

import copy
import random
import sys

import numpy as np
import pytest

from bayesdx.errors import ImpossibleEvidenceError
from bayesdx.inference import light
from bayesdx.inference.budget import Budget, BudgetError
from bayesdx.inference.engine import Engine

from conftest import REPO, brute_force, random_evidence


def _random_sets(net, n: int, seed: int):
    """``benchmarks/run.py``'s random sets (the peers' row): context nodes and findings,
    half the findings abnormal."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from run import random_sets

    return random_sets(net, n, seed)


def _usable(eng, ev) -> bool:
    try:
        return light.light_cost(eng, eng.validate(ev)) is not None
    except Exception:  # noqa: BLE001 - two readings of one level: the engine refuses
        return False


def test_light_program_gives_the_plans_numbers_on_random_sets(net):
    light_eng, plan_eng = Engine(net), Engine(net, kernel="compiled")
    ref = Engine(net, kernel="numpy")
    used = 0
    for ev in _random_sets(net, 300, seed=12):
        if not _usable(light_eng, ev):
            continue
        used += 1
        a, b = light_eng.posterior(ev), plan_eng.posterior(ev)
        assert np.abs(a.probs - b.probs).max() <= 1e-12
        assert abs(a.log_evidence - b.log_evidence) <= 1e-12 * max(1.0, abs(b.log_evidence))
        if used % 10 == 0:
            assert np.abs(a.probs - ref.posterior(ev).probs).max() <= 1e-12
    assert used >= 270  # nearly every light set ran by the light program
    assert not light_eng._plans  # ... and compiled no plan


def test_light_program_with_the_context_recorded(net):
    """Age, sex and every exposure observed (the app's light cases) and a blood count."""
    rng = random.Random(3)
    eng, plan_eng = Engine(net), Engine(net, kernel="compiled")
    ctx = [x for x in net.context if not net.parents[x]]
    for _ in range(40):
        ev = {x: rng.choice(net.states[x]) for x in ctx}
        for f in rng.sample(list(net.findings), 6):
            ev[f] = net.states[f][0] if rng.random() < 0.6 else rng.choice(net.states[f][1:])
        if not _usable(eng, ev):
            continue
        try:
            b = plan_eng.posterior(ev)
        except ImpossibleEvidenceError:
            with pytest.raises(ImpossibleEvidenceError):
                eng.posterior(ev)
            continue
        a = eng.posterior(ev)
        assert np.abs(a.probs - b.probs).max() <= 1e-12


def test_tiny_network_light_program_matches_brute_force(tiny_net):
    eng = Engine(tiny_net)
    rng = random.Random(77)
    used = 0
    for _ in range(300):
        ev = random_evidence(tiny_net, rng)
        probs, logz = brute_force(tiny_net, ev)
        if not np.isfinite(logz):
            continue
        used += _usable(eng, ev)
        post = eng.posterior(ev)
        assert np.abs(post.probs - probs).max() < 1e-12
        assert abs(post.log_evidence - logz) < 1e-12
    assert used >= 200


def test_cause_weights_in_the_tables_are_applied(net):
    """Tables that condition on a cause (joint explanations) give the plan's numbers."""
    T = copy.deepcopy(net.tables())
    T.cause_weight["drug_antipsychotic"] = np.array([[0.0, 1.0]])
    T.cause_weight["sle"] = np.array([[0.7, 0.3]])
    ev = {"anc": "severe", "exposure_antipsychotic": "clozapine_window", "test_ana": "negative"}
    ev = {k: v for k, v in ev.items() if v in net.states[k]}
    a = Engine(net).posterior(ev, tables=T)
    b = Engine(net, kernel="compiled").posterior(ev, tables=T)
    assert np.abs(a.probs - b.probs).max() <= 1e-12
    assert a.of("drug_antipsychotic") == pytest.approx(1.0)


def test_impossible_evidence_is_the_same_error(tiny_net, no_severe_anc):
    eng = Engine(tiny_net)
    ev = {"anc": "severe", "fever": "present", "plt": "low"}
    assert light.light_cost(eng, eng.validate(ev)) is not None
    with pytest.raises(ImpossibleEvidenceError) as exc:
        eng.posterior(ev, tables=no_severe_anc)
    assert exc.value.conflict == {"anc": "severe"}


def test_budget_is_kept_by_the_light_cost(net):
    eng = Engine(net)
    ev = {"anc": "severe"}
    cost = light.light_cost(eng, eng.validate(ev))
    assert cost is not None and cost.ops > 0
    with pytest.raises(BudgetError):
        eng.posterior(ev, budget=Budget(seconds=cost.seconds / 2))


def test_structure_is_pattern_independent_and_survives_the_plan_cache(net):
    """One program per slot count serves every pattern; clearing the plans keeps it."""
    eng = Engine(net)
    st = light.structure(eng)
    eng.posterior({"anc": "severe"})
    eng.posterior({"hb": "low", "sex": "female"})  # another pattern, one slot too
    assert set(st._layouts) == {1}
    eng._plans.clear()
    assert light.structure(eng) is st
    assert {st.steps[i].item for i in range(len(st.steps)) if st.steps[i].kind == "cause"} == set(net.causes)


def test_too_many_slots_run_by_the_plan(net):
    eng = Engine(net)
    wide = sorted(net.findings, key=lambda f: -len(net.parents[f]))[:light.LIGHT_SLOTS + 1]
    ev = {f: net.states[f][1] for f in wide}
    assert light.light_cost(eng, eng.validate(ev)) is None
    eng.posterior(ev)
    assert eng._plans  # the plan path
    assert light.light_cost(eng, eng.validate(ev), draws=2) is None


def test_light_program_matches_pgmpy(net):
    """pgmpy's variable elimination on the exported full tables (findings with at most 10
    parents: pgmpy needs minutes on the blood-count findings; the plans are checked
    against it on those in test_crosscheck.py, and the light program against the plans)."""
    from pgmpy.inference import VariableElimination

    from bayesdx.inference.export import to_pgmpy

    ve = VariableElimination(to_pgmpy(net))
    eng = Engine(net)
    rng = random.Random(5)
    narrow = [f for f in net.findings if len(net.parents[f]) <= 10 and f not in net.derived]
    checked = 0
    while checked < 12:
        ev = {x: rng.choice(net.states[x]) for x in rng.sample(list(net.context), rng.randint(0, 3))}
        for f in rng.sample(narrow, rng.randint(1, 4)):
            ev[f] = rng.choice(net.states[f][1:]) if rng.random() < 0.6 else net.states[f][0]
        if not _usable(eng, ev):
            continue
        try:
            post = eng.posterior(ev)
        except ImpossibleEvidenceError:
            continue
        ref = [ve.query([c], evidence=ev, show_progress=False).values[1] for c in net.causes]
        assert np.abs(post.probs - np.array(ref)).max() <= 1e-9
        checked += 1
