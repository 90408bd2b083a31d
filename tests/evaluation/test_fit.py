"""MAP-EM fit of the causes' priors (bayesdx.evaluation.fit, fit_io, bayesdx fit)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from bayesdx.cli.main import main
from conftest import brute_force, labelled_cohort
from bayesdx.evaluation.fit import LabelledCase, beta_prior, estep, fit_priors
from bayesdx.evaluation.fit_io import read_cohort, write_fitted
from bayesdx.inference.engine import Engine
from bayesdx.knowledge.load import default_root, load_knowledge
from bayesdx.knowledge.network import Network


@pytest.fixture(scope="module")
def net():
    return Network.from_knowledge()


@pytest.fixture(scope="module")
def engine(net):
    return Engine(net)


@pytest.mark.parametrize("v,lo,hi", [(0.3, 0.2, 0.4), (0.00777, 0.003, 0.012), (0.5, 0.0, 1.0)])
def test_beta_prior_mode_is_value_and_interval_matches_range(v, lo, hi):
    a, b = beta_prior(v, lo, hi)
    assert (a - 1) / (a + b - 2) == pytest.approx(v, rel=1e-9)
    width = np.diff(stats.beta.ppf([0.05, 0.95], a, b))[0]
    assert width == pytest.approx(hi - lo, rel=1e-4) or hi - lo > 0.9


def test_estep_clamps_labels_exactly(net, engine):
    ev = {"anc": "severe"}
    c = net.causes[0]
    probs, logz = estep(engine, net.tables(), [LabelledCase("a", ev, present=(c,)),
                                               LabelledCase("b", ev, absent=(c,)),
                                               LabelledCase("c", ev)])
    assert probs[0, 0] == pytest.approx(1.0) and probs[1, 0] == pytest.approx(0.0)
    # P(e, c) + P(e, not c) = P(e): the clamped joints add up to the unclamped evidence
    assert np.logaddexp(logz[0], logz[1]) == pytest.approx(logz[2], rel=1e-10)
    p = engine.posterior(ev).of(c)
    assert np.exp(logz[0] - logz[2]) == pytest.approx(p, rel=1e-8)


def test_labels_same_by_every_engine_path(tiny_engine, tiny_net):
    """Labelled posteriors: slot passes, per-pattern plans and one union plan agree."""
    evs = [{"anc": "severe"}, {"anc": "mild", "fever": "present"}, {"plt": "low"}] * 6
    labels = [{"flu": 1}, {"marrow": 0}, {}] * 6
    runs = [tiny_engine.posterior_batch(evs, labels=labels, method=m)
            for m in ("slots", "pattern", "union")]
    for r in runs[1:]:
        np.testing.assert_allclose(r.probs, runs[0].probs, rtol=1e-10)
        np.testing.assert_allclose(r.log_evidence, runs[0].log_evidence, rtol=1e-10)
    for b in range(3):  # and brute-force enumeration of the joint, the label as evidence
        ev = dict(evs[b], **{c: tiny_net.states[c][k] for c, k in labels[b].items()})
        probs, logz = brute_force(tiny_net, ev)
        np.testing.assert_allclose(runs[0].probs[0, b], probs, rtol=1e-9, atol=1e-12)
        assert runs[0].log_evidence[0, b] == pytest.approx(logz, rel=1e-9)
    assert runs[0].probs[0, 0, tiny_net.causes.index("flu")] == pytest.approx(1.0)
    assert runs[0].probs[0, 1, tiny_net.causes.index("marrow")] == pytest.approx(0.0)


def test_zero_cases_leave_every_number(net, engine):
    fit = fit_priors(net, [], engine=engine)
    assert np.array_equal(fit.theta, net.theta0)
    assert fit.n_cases == 0 and fit.iterations == 0
    assert all(x.new == x.old for x in fit.numbers)


def test_bad_labels_are_per_case_errors_and_the_rest_count(net, engine):
    c = "aplastic_anemia"
    good = [LabelledCase(f"g{i}", {"anc": "severe"}, present=(c,)) for i in range(5)]
    # a drug cause gated by its exposure being 'none' cannot be present: P(e, label) = 0
    drug = next(x for x in net.causes if x.startswith("drug_"))
    gate = net.parents[drug][0]
    none = net.states[gate][0]
    bad = [LabelledCase("unknown", {"anc": "severe"}, present=("no_such_cause",)),
           LabelledCase("impossible", {gate: none}, present=(drug,))]
    assert not np.isfinite(estep(engine, net.tables(), bad[1:])[1][0])
    fit = fit_priors(net, good + bad, holdout=0, engine=engine, max_iter=5)
    assert fit.n_cases == 5
    where = {f.where: f.message for f in fit.failures}
    assert "no_such_cause" in where["unknown"] and "contradicts" in where["impossible"]
    moved = {x.path: x for x in fit.numbers}[f"causes.{c}.prior"]
    assert moved.new > moved.old  # 5 of 5 cases with aplastic anaemia pull its prior up


def test_synthetic_recovery(net, engine):
    """Three priors moved to an end of their range: the fit finds them, the others stay."""
    changed = {}
    for c, end in (("aplastic_anemia", 1), ("mds", 0), ("hypersplenism", 1)):
        i = net.param_index(f"causes.{c}.prior")
        changed[c] = (net.params[i].low, net.params[i].high)[end]
    # labels missing at random, as EM assumes (present-only labels would not be)
    cases = labelled_cohort(net, {f"causes.{c}.prior": v for c, v in changed.items()}, 1000, 3)
    fit = fit_priors(net, cases, holdout=0.2, engine=engine, max_iter=15, links=False,
                     context=False, rr=False)
    by = {x.path.split(".")[1]: x for x in fit.numbers}
    assert all(x.path.endswith(".prior") for x in fit.numbers)
    for c, true in changed.items():
        x = by[c]
        assert abs(x.new - true) < abs(x.old - true), (c, true, x)  # every one moves towards it
    # Not asserted (measured, see the report of issue 14): at n=1000 only 1 of the 3 truths
    # lay inside its 90 % range (rare causes: ~8 cases where 12 were expected; the truths sit
    # at the ends of strong priors). Coverage needs the 5,000-patient benchmark.


def test_write_and_check(tmp_path, net, engine):
    c = "aplastic_anemia"
    cases = [LabelledCase(str(i), {"anc": "severe"}, present=(c,) if i < 4 else ())
             for i in range(10)]
    fit = fit_priors(net, cases, holdout=0, engine=engine, max_iter=3)
    changed = write_fitted(default_root(), tmp_path / "new", net, fit)
    assert f"causes.{c}.prior" in changed
    assert any(x.startswith("findings.anc.leak.") for x in changed)  # block layout, per state
    assert any(x.startswith("findings.anc.links.") for x in changed)
    kb = load_knowledge(tmp_path / "new")
    new = Network(kb)
    p = new.params[new.param_index(f"causes.{c}.prior")]
    assert "updated from cohort: n=10" in p.note and p.sources == net.params[
        net.param_index(f"causes.{c}.prior")].sources
    assert p.low <= p.value <= p.high
    for path in changed:  # every written number: the fitted value, its source, the note
        q, x = new.params[new.param_index(path)], {y.path: y for y in fit.numbers}[path]
        assert q.value == pytest.approx(x.new, rel=1e-3) and "updated from cohort" in q.note
        assert q.sources == net.params[net.param_index(path)].sources
    untouched = [i for i, q in enumerate(net.params) if q.path not in changed]
    assert np.array_equal(new.theta0[untouched], net.theta0[untouched])
    assert main(["--root", str(tmp_path / "new"), "check"]) == 0


def test_cli_fit_from_table(tmp_path, capsys):
    csv = tmp_path / "cohort.csv"
    csv.write_text("id,cbc.anc,diagnosis.present,diagnosis.absent\n"
                   "a,0.3,aplastic_anemia,\n"
                   "b,0.4,mds;aplastic_anemia,\n"
                   "c,0.4,aplastic_anmia,\n"
                   "d,1.2,,mds\n")
    cases, failures = read_cohort(csv, load_knowledge())
    assert [c.id for c in cases] == ["a", "b", "d"] and cases[1].present == ("mds", "aplastic_anemia")
    assert "row 4" in failures[0].where and "aplastic_anmia" in failures[0].message
    assert main(["fit", str(csv), "-o", str(tmp_path / "out"), "--holdout", "0"]) == 0
    out = capsys.readouterr().out
    assert "fitted on 3 cases (1 left out)" in out and "aplastic_anmia" in out
    assert (tmp_path / "out" / "fit-report.txt").is_file()
    assert main(["fit", str(csv), "-o", str(tmp_path / "out")]) == 2  # will not overwrite


def test_tiny_recovery_of_a_link_and_a_leak(tmp_path, tiny_net, tiny_engine):
    """A changed link and a changed leak move into their credible ranges; the rest stay."""
    from conftest import TINY

    net = tiny_net
    truth = {"findings.anc.links.flu.severe": 0.19, "findings.plt.leak.low": 0.095}
    cases = labelled_cohort(net, truth, 3000, 1, p_other=0.6)
    fit = fit_priors(net, cases, holdout=0, engine=tiny_engine, max_iter=60)
    by = {x.path: x for x in fit.numbers}
    for path, true in truth.items():
        x = by[path]
        assert x.low <= true <= x.high and not x.low <= x.old <= x.high, (path, x)
        assert abs(x.new - true) < abs(x.old - true) / 3, (path, x)
    others = [x for p, x in by.items() if p not in truth and not p.startswith("context.")]
    inside = sum(x.low <= x.old <= x.high for x in others)
    # 90 % ranges: about 1.5 of the 15 miss by chance. Measured 12/15 with this seed, 14/15
    # with seed 2; the conjugate (complete-data) ranges of the first version gave 11/15
    assert inside >= len(others) - 3, [x for x in others if not x.low <= x.old <= x.high]
    ctx = [x for p, x in by.items() if p.startswith("context.")]  # unchanged too: 14/16 measured
    assert len(ctx) == 16 and sum(x.low <= x.old <= x.high for x in ctx) >= len(ctx) - 3
    assert all(x.old_low <= x.new <= x.old_high for x in others)  # none leaves its range
    assert fit.trace == tuple(sorted(fit.trace)) or np.all(np.diff(fit.trace) > -1e-6)
    changed = write_fitted(TINY, tmp_path / "new", net, fit)  # the tiny knowledge's inline layout
    assert set(truth) <= set(changed)
    new = Network(load_knowledge(tmp_path / "new"))
    for path in changed:
        q = new.params[new.param_index(path)]
        assert q.value == pytest.approx(by[path].new, rel=1e-3) and f"n={by[path].n}," in q.note
    assert main(["--root", str(tmp_path / "new"), "check"]) == 0


def test_tiny_zero_cases_change_nothing(tmp_path, tiny_net, tiny_engine):
    fit = fit_priors(tiny_net, [], engine=tiny_engine)
    assert np.array_equal(fit.theta, tiny_net.theta0)
    assert any(x.path.startswith("findings.") for x in fit.numbers)
    assert all(x.new == x.old and x.n == 0 for x in fit.numbers)
