"""The direct path (cases with their context recorded, no plan) against the plans.

``Engine.posterior_batch`` (``"auto"``, one draw, the compiled kernel) scores
every case whose context is all recorded by :mod:`bayesdx.inference.direct`;
the numbers must be the per-pattern plans' (compiled and numpy) to 1e-12, brute
force's on the tiny network and pgmpy's, with impossible cases, labels, cause
weights and several draws; cases it does not take run as before.
"""

from __future__ import annotations

import copy
import random

import numpy as np
import pytest

from bayesdx.evaluation.cohort import observe, sample_cohort
from bayesdx.inference import direct
from bayesdx.inference.engine import Engine

from conftest import brute_force, random_evidence


def _recorded(net, rng: random.Random, n_findings: int, abnormal: float = 0.5) -> dict:
    """Every context node recorded, and ``n_findings`` findings (a level or its verdict)."""
    ev = {x: rng.choice(net.states[x]) for x in net.context}
    pool = [f for f in net.findings if f not in net.derived]
    for f in rng.sample(pool, n_findings):
        ev[f] = rng.choice(net.states[f][1:]) if rng.random() < abnormal else net.states[f][0]
    return ev


def _same(a, b, tol=1e-12):
    """Same posteriors and log-evidence (NaN rows and -inf alike)."""
    ok = ~np.isnan(b.probs)
    assert np.array_equal(np.isnan(a.probs), ~ok) and ok.any()
    assert np.abs(a.probs[ok] - b.probs[ok]).max() <= tol
    fin = np.isfinite(b.log_evidence)
    assert np.array_equal(np.isfinite(a.log_evidence), fin)
    assert np.abs(a.log_evidence[fin] - b.log_evidence[fin]).max() <= tol * max(
        1.0, np.abs(b.log_evidence[fin]).max())


@pytest.fixture(scope="module")
def cohort(net):
    """Patients sampled from the model, context recorded, a quarter of the rest (as the
    benchmark's cohort), plus random full-context sets with many abnormal findings."""
    evs = observe(net, sample_cohort(net, 400, seed=4), seed=4)
    rng = random.Random(8)
    evs += [_recorded(net, rng, rng.randint(0, 40), abnormal=0.6) for _ in range(120)]
    return evs


def test_direct_gives_the_plans_numbers_on_a_cohort(net, cohort):
    eng = Engine(net)
    ev = [eng.validate(e) for e in cohort]
    probs, logz, done = direct.run_direct(eng, ev, net.tables())
    assert done[:400].all() and done.sum() >= 110  # a random set may need > MAX_SLOTS slots
    a = eng.posterior_batch(cohort)  # auto: the direct path
    assert np.array_equal(a.probs[:, done], probs[:, done], equal_nan=True)
    b = Engine(net, kernel="compiled").posterior_batch(cohort, method="pattern")
    _same(a, b)
    c = Engine(net, kernel="numpy").posterior_batch(cohort[::7], method="pattern")
    _same(eng.posterior_batch(cohort[::7]), c)
    slots = eng.posterior_batch(cohort, method="slots")
    _same(a, slots)


def test_heavy_cases_are_among_those_checked(net, cohort):
    """The cohort includes work-ups with many accumulators open at once (so the check
    above covers wide frontiers, not only light cases)."""
    eng = Engine(net)
    ev = [eng.validate(e) for e in cohort]
    abnormal = [sum(1 for k, v in e.items() if k in net.findings and v > 0) for e in ev]
    assert max(abnormal) >= 14
    _, _, narrow = direct.run_direct(eng, ev, net.tables(), max_slots=4)
    assert not narrow.all()  # some need more than 4 slots


def test_cases_it_does_not_take_run_as_before(net, cohort, monkeypatch):
    """More frontier bits than allowed: passed back, and the same numbers by the plans."""
    eng = Engine(net)
    probs, _, narrow = direct.run_direct(eng, [eng.validate(e) for e in cohort], net.tables(), max_slots=3)
    assert narrow.sum() > 100 and not narrow.all()
    assert np.isnan(probs[0, ~narrow]).all()
    monkeypatch.setattr(direct, "MAX_SLOTS", 3)
    _same(eng.posterior_batch(cohort[:80]),
          Engine(net, kernel="compiled").posterior_batch(cohort[:80], method="pattern"))
    monkeypatch.setattr(direct, "MAX_SLOTS", 20)
    monkeypatch.setattr(direct, "MAX_STORED", 64)  # the forward pass's store: bounded too
    _, _, small = direct.run_direct(eng, [eng.validate(e) for e in cohort[:80]], net.tables())
    assert small.any() and not small.all()
    _same(eng.posterior_batch(cohort[:80]),
          Engine(net, kernel="compiled").posterior_batch(cohort[:80], method="pattern"))


def test_unrecorded_shared_context_is_a_frontier_node(net, cohort):
    """History shared by several causes or read by an observed finding, ancestry behind
    the Duffy phenotype, some context at random, or only age, sex and exposures recorded
    (a laboratory registry): the plans' numbers."""
    eng, ref = Engine(net), Engine(net, kernel="compiled")
    rng = random.Random(13)
    keep = {"age_group", "sex"} | {x for x in net.context if x.startswith("exposure_")}
    sets = {
        "random": [{k: v for k, v in e.items() if k not in net.context or rng.random() < 0.6}
                   for e in cohort[:200]],
        "registry": [{k: v for k, v in e.items() if k not in net.context or k in keep} for e in cohort[:200]],
        "shared": [{k: v for k, v in e.items() if k not in ("hx_alcohol_excess", "ancestry", "duffy_phenotype")}
                   for e in cohort[:100]],
    }
    for name, evs in sets.items():
        _, _, done = direct.run_direct(eng, [eng.validate(e) for e in evs], net.tables())
        assert done.mean() > 0.85, name
        _same(eng.posterior_batch(evs), ref.posterior_batch(evs, method="pattern"), tol=1e-11)


def test_unrecorded_context_touching_one_cause_or_none_is_summed_in(net, cohort):
    """An unrecorded exposure (one drug cause), the history behind a recorded exposure
    (no cause child: a constant), an unrecorded thyroid or kidney history whose findings
    are not observed (one cause, with a recorded context child) are summed into that
    cause exactly."""
    eng, ref = Engine(net), Engine(net, kernel="compiled")
    folded = {"hx_cancer_treatment", "exposure_antipsychotic", "exposure_antibiotic", "hx_hyperthyroidism",
              "test_anti_tpo", "hx_chronic_kidney_disease", "mma", "hx_consanguinity"}
    evs = [{k: v for k, v in e.items() if k not in folded} for e in cohort[:150]]
    _, _, done = direct.run_direct(eng, [eng.validate(e) for e in evs], net.tables())
    assert done.all()
    _same(eng.posterior_batch(evs), ref.posterior_batch(evs, method="pattern"))


def test_tiny_network_matches_brute_force(tiny_net):
    eng = Engine(tiny_net)
    rng = random.Random(21)
    evs = []
    for i in range(300):  # a third with the context recorded, the rest some of it
        ev = random_evidence(tiny_net, rng)
        ev.update({x: rng.choice(tiny_net.states[x]) for x in tiny_net.context
                   if i % 3 == 0 or (x not in ev and rng.random() < 0.6)})
        evs.append(ev)
    out = eng.posterior_batch(evs, method="direct")
    done = direct.run_direct(eng, [eng.validate(e) for e in evs], tiny_net.tables())[2]
    assert done[::3].all()
    assert done.all()  # age_group unrecorded: a frontier node (two causes and a finding read it)
    assert sum("age_group" not in e for e in evs) >= 40 and sum("hx_drug" not in e and "exposure_x" not in e for e in evs) >= 10
    for i, ev in enumerate(evs):
        probs, logz = brute_force(tiny_net, ev)
        if not np.isfinite(logz):
            assert np.isnan(out.probs[0, i]).all() and out.log_evidence[0, i] == -np.inf
            continue
        assert np.abs(out.probs[0, i] - probs).max() < 1e-12
        assert abs(out.log_evidence[0, i] - logz) < 1e-12


def test_impossible_case_among_possible_ones(tiny_net, no_severe_anc):
    eng = Engine(tiny_net)
    ctx = {x: tiny_net.states[x][0] for x in tiny_net.context}
    evs = [{**ctx, "fever": "present"}, {**ctx, "anc": "severe"}, {**ctx, "plt": "low"}]
    out = eng.posterior_batch(evs, no_severe_anc, method="direct")
    assert np.isnan(out.probs[0, 1]).all() and out.log_evidence[0, 1] == -np.inf
    for i in (0, 2):
        probs, logz = brute_force(tiny_net, evs[i], no_severe_anc)
        assert np.abs(out.probs[0, i] - probs).max() < 1e-12


def test_labels_cause_weights_and_draws(net, cohort):
    eng, ref = Engine(net), Engine(net, kernel="compiled")
    some = cohort[:40]
    labels = [{net.causes[i % len(net.causes)]: i % 2} for i in range(len(some))]
    _same(eng.posterior_batch(some, labels=labels),
          ref.posterior_batch(some, labels=labels, method="pattern"))
    T = copy.deepcopy(net.tables())
    T.cause_weight["sle"] = np.array([[0.7, 0.3]])
    T.cause_weight["aplastic_anemia"] = np.array([[0.0, 1.0]])  # conditioned on, as joint explanations do
    a = eng.posterior_batch(some, T)
    _same(a, ref.posterior_batch(some, T, method="pattern"))
    assert np.allclose(a.probs[0, :, eng.causes.index("aplastic_anemia")], 1.0)
    rng = np.random.default_rng(3)
    lo, hi = net.bounds
    theta = net.theta0 + (hi - lo) * rng.uniform(-0.05, 0.05, (4, net.theta0.size))
    T4 = net.tables(np.clip(theta, lo, hi))
    _same(eng.posterior_batch(some, T4, method="direct"), ref.posterior_batch(some, T4, method="pattern"),
          tol=1e-11)


def test_tables_where_an_absent_cause_has_an_effect_are_not_taken(net, cohort):
    T = copy.deepcopy(net.tables())
    cause = next(p for p in net.parents["anc"] if p in net.causes)
    T.finding_links["anc"][cause][:, 0, :2] = [0.9, 0.1]
    T.invalidate()
    assert not direct.layout(net, T).usable
    eng = Engine(net)
    _same(eng.posterior_batch(cohort[:30], T),
          Engine(net, kernel="compiled").posterior_batch(cohort[:30], T, method="pattern"))


def test_evidence_matrix_reads_every_node():
    cols = {"a": 0, "b": 1, "c": 2}
    E = direct.evidence_matrix(cols, [{"a": 1, "c": 0}, {}, {"b": 2}])
    assert E.tolist() == [[1, -1, 0], [-1, -1, -1], [-1, 2, -1]]


def test_direct_matches_pgmpy(net):
    """pgmpy's variable elimination on the exported tables, every context node recorded
    (findings with at most 10 parents, as in test_light.py)."""
    from pgmpy.inference import VariableElimination

    from bayesdx.inference.export import to_pgmpy

    ve = VariableElimination(to_pgmpy(net))
    eng = Engine(net)
    rng = random.Random(9)
    narrow = [f for f in net.findings if len(net.parents[f]) <= 10 and f not in net.derived]
    checked = 0
    while checked < 6:
        ev = {x: rng.choice(net.states[x]) for x in net.context}
        for f in rng.sample(narrow, rng.randint(1, 4)):
            ev[f] = rng.choice(net.states[f][1:]) if rng.random() < 0.6 else net.states[f][0]
        out = eng.posterior_batch([ev], method="direct")
        assert direct.run_direct(eng, [eng.validate(ev)], net.tables())[2].all()
        if not np.isfinite(out.log_evidence[0, 0]):
            continue
        ref = [ve.query([c], evidence=ev, show_progress=False).values[1] for c in net.causes]
        assert np.abs(out.probs[0, 0] - np.array(ref)).max() <= 1e-9
        checked += 1


def test_identical_cases_are_computed_once(net, cohort, monkeypatch):
    from bayesdx.inference import routing

    seen = []

    def counting(engine, idxs, T, max_slots=None):
        seen.append(len(idxs))
        return direct.run_direct(engine, idxs, T, max_slots)

    monkeypatch.setattr(routing, "run_direct", counting)
    evs = [cohort[0], cohort[1], cohort[0], cohort[2], cohort[1]]
    out = Engine(net).posterior_batch(evs)
    assert seen == [3]
    assert np.array_equal(out.probs[0, 0], out.probs[0, 2]) and np.array_equal(out.probs[0, 1], out.probs[0, 4])
    _same(out, Engine(net, kernel="compiled").posterior_batch(evs, method="pattern"))


def test_a_cache_built_from_other_sources_is_dropped(tmp_path):
    """numba does not notice a change in a callee's file: the kernel's cache is checked
    against the digest of its four files."""
    (tmp_path / "direct_kernel.run_direct-1.py311.nbi").write_text("old")
    (tmp_path / "direct_passes.forward-2.py311.1.nbc").write_text("old")
    (tmp_path / "plan_kernel.run_program-3.py311.nbi").write_text("other kernel")
    assert direct.check_cache(tmp_path, "abc")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bayesdx-direct-kernel.sha256",
                                                          "plan_kernel.run_program-3.py311.nbi"]
    (tmp_path / "direct_kernel.run_direct-1.py311.nbi").write_text("new")
    assert not direct.check_cache(tmp_path, "abc")  # same sources: kept
    assert (tmp_path / "direct_kernel.run_direct-1.py311.nbi").exists()
    assert direct.check_cache(tmp_path, "def") and not (tmp_path / "direct_kernel.run_direct-1.py311.nbi").exists()
