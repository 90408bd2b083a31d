"""Context tables in the MAP-EM fit (bayesdx.evaluation.fit_context)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from scipy import stats

from bayesdx.cli.main import main
from bayesdx.evaluation.cohort import observe, sample_cohort
from bayesdx.evaluation.fit import LabelledCase, estep, fit_priors
from bayesdx.evaluation.fit_context import (context_counts, context_map, context_rows,
                                            dirichlet_prior)
from bayesdx.evaluation.fit_io import write_fitted
from bayesdx.knowledge.load import load_knowledge
from bayesdx.knowledge.network import Network
from conftest import TINY, finding_table, hidden_states, labelled_cohort, random_evidence


def brute_context(net, T, rows, evidence, label):
    """``P(x = s, parent = a | e, label)`` per row, by enumerating the joint."""
    ev = dict(evidence, **{c: net.states[c][k] for c, k in label.items()})
    ftabs = {f: finding_table(net, T, f) for f in net.findings if f in evidence}
    num = [np.zeros(len(r.params)) for r in rows]
    z = 0.0
    for a, p in hidden_states(net, ev, T):
        for f, tab in ftabs.items():
            p *= tab[tuple(a[q] for q in net.parents[f]) + (net.states[f].index(evidence[f]),)]
        z += p
        for j, r in enumerate(rows):
            if r.parent is None or a[r.parent] == r.a:
                num[j][a[r.node]] += p
    return [x / z for x in num]


def test_counts_match_enumeration(tiny_net, tiny_engine):
    """Observed, unobserved, and chained (node and parent both unobserved) context nodes."""
    net, T = tiny_net, tiny_net.tables()
    rows = context_rows(net)
    assert {(r.node, r.parent) for r in rows} == {("age_group", None), ("hx_drug", None),
                                                   ("exposure_x", "hx_drug")}
    rng = random.Random(3)
    sets = [({"anc": "severe"}, {}), ({"anc": "mild", "fever": "present"}, {"flu": 1}),
            ({"exposure_x": "on_window", "anc": "severe"}, {"drug_x": 1}),
            ({"hx_drug": "present", "anc": "severe"}, {}), ({"age_group": "child"}, {"marrow": 0})]
    for _ in range(20):
        ev = {k: v for k, v in random_evidence(net, rng).items() if k not in net.causes}
        sets.append((ev, {c: rng.randint(0, 1) for c in net.causes if rng.random() < 0.3}))
    # every node observed somewhere, or its posteriors are (rightly) skipped
    sets.append(({"age_group": "adult", "hx_drug": "absent", "exposure_x": "none"}, {}))
    evs, labs = [e for e, _ in sets], [lab for _, lab in sets]
    cases = [LabelledCase(str(i), e, tuple(c for c, k in lab.items() if k),
                          tuple(c for c, k in lab.items() if not k)) for i, (e, lab) in enumerate(sets)]
    _, logz = estep(tiny_engine, T, cases)
    ok = np.isfinite(logz)
    assert ok.sum() >= 20
    got, informed = context_counts(tiny_engine, T, rows, evs, labs, logz, per_case=True)
    for b, (ev, lab) in enumerate(sets):
        if not ok[b]:
            continue
        want = brute_context(net, T, rows, ev, lab)
        for j in range(len(rows)):
            np.testing.assert_allclose(got[j][b], want[j], rtol=1e-9, atol=1e-12)
    assert informed[0] == sum(ok[b] and "age_group" in e for b, (e, _) in enumerate(sets))


def test_dirichlet_prior_has_its_mode_at_the_values(tiny_net):
    for r in context_rows(tiny_net):
        alpha = dirichlet_prior(tiny_net, r)
        values = np.array([tiny_net.params[i].value for i in r.params])
        mode = context_map(np.zeros(len(alpha)), alpha, np.array(r.free), values)
        np.testing.assert_allclose(mode, values, rtol=1e-12)
        assert (alpha >= 1).all()
    # age_group's entries have ranges of width 0.2 about 0.3 / 0.7: a Beta of about 30 counts
    assert 15 < dirichlet_prior(tiny_net, context_rows(tiny_net)[0]).sum() < 60


def test_fixed_entries_keep_their_values():
    out = context_map(np.array([5.0, 50.0, 5.0]), np.array([2.0, 2.0, 2.0]),
                      np.array([True, False, True]), np.array([0.3, 0.4, 0.3]))
    assert out[1] == 0.4 and out.sum() == pytest.approx(1.0) and out[0] == pytest.approx(0.3)


def test_tiny_recovery_of_a_changed_context_table(tmp_path, tiny_net, tiny_engine):
    """A root's share and a chained row moved to their ranges' ends (context seen in 70 % of
    cases): the fit moves them into their credible ranges; the other context numbers stay."""
    net = tiny_net
    truth = {"context.age_group.prior.child": 0.4, "context.age_group.prior.adult": 0.6,
             "context.exposure_x.given.present.on_window": 0.5,
             "context.exposure_x.given.present.on_late": 0.1}
    cases = labelled_cohort(net, truth, 1200, 5, p_other=0.6, p_context=0.7)
    fit = fit_priors(net, cases, holdout=0, engine=tiny_engine, max_iter=40, links=False)
    by = {x.path: x for x in fit.numbers if x.path.startswith("context.")}
    for path, true in truth.items():
        x = by[path]
        assert abs(x.new - true) < abs(x.old - true) / 2, (path, x)
        assert x.low <= true <= x.high, (path, x)
    others = [x for p, x in by.items() if p not in truth]
    inside = sum(x.low <= x.old <= x.high for x in others)
    assert inside >= len(others) - 2, [x for x in others if not x.low <= x.old <= x.high]
    assert all(x.old_low <= x.new <= x.old_high for x in others)
    row = [by[f"context.exposure_x.given.present.{s}"].new for s in net.states["exposure_x"]]
    assert sum(row) == pytest.approx(1.0)
    changed = write_fitted(TINY, tmp_path / "new", net, fit)  # inline layout, nested rows
    assert set(truth) <= set(changed)
    new = Network(load_knowledge(tmp_path / "new"))
    for path in truth:
        q, x = new.params[new.param_index(path)], by[path]
        assert q.value == pytest.approx(x.new, rel=1e-3)
        assert f"updated from cohort: n={x.n}, fitted " in q.note and "90% credible" in q.note
        assert q.low <= q.value <= q.high
    assert main(["--root", str(tmp_path / "new"), "check"]) == 0


def test_a_row_no_case_observes_stays(tiny_net, tiny_engine):
    cases = [LabelledCase(str(i), {"anc": "severe", "age_group": "child"}) for i in range(8)]
    fit = fit_priors(tiny_net, cases, holdout=0, engine=tiny_engine, max_iter=5, links=False)
    by = {x.path: x for x in fit.numbers}
    assert by["context.age_group.prior.child"].new > 0.3  # 8 of 8 children
    for x in fit.numbers:
        if x.path.startswith(("context.hx_drug", "context.exposure_x")):
            assert x.new == x.old and x.n == 0


def test_block_layout_of_the_shipped_priors(tmp_path):
    """The shipped context.yaml and causes.yaml (block rows) take the fitted numbers and pass
    check."""
    net = Network.from_knowledge()
    evs = observe(net, sample_cohort(net, 10, seed=2), seed=2)  # every context node recorded
    cases = [LabelledCase(str(i), {**ev, "age_group": "older" if i < 8 else "young",
                                   "ancestry": "african", "duffy_phenotype": "null"})
             for i, ev in enumerate(evs)]
    fit = fit_priors(net, cases, holdout=0, max_iter=2, links=False)
    changed = write_fitted(net.kb.root, tmp_path / "new", net, fit)
    assert "context.age_group.prior.older" in changed
    assert "context.duffy_phenotype.given.african.null" in changed
    # the causes' relative risks learn from cases that record all of a cause's context
    assert any(".rr.age_group." in p for p in changed)
    new = Network(load_knowledge(tmp_path / "new"))
    q = new.params[new.param_index("context.age_group.prior.older")]
    assert q.value > 0.31 and "updated from cohort: n=10," in q.note
    assert main(["--root", str(tmp_path / "new"), "check"]) == 0


def test_surprise_uses_the_rows_marginal_beta(tiny_net):
    r = context_rows(tiny_net)[0]
    alpha = dirichlet_prior(tiny_net, r)
    lo, hi = stats.beta.ppf([0.05, 0.95], alpha[0], alpha.sum() - alpha[0])
    assert lo < tiny_net.params[r.params[0]].value < hi
