"""Relative risks in the MAP-EM fit (bayesdx.evaluation.fit_rr)."""

from __future__ import annotations

import numpy as np
import pytest

from bayesdx.cli.main import main
from bayesdx.evaluation.fit import fit_priors
from bayesdx.evaluation.fit_io import write_fitted
from bayesdx.evaluation.fit_rr import lognormal_prior, rr_causes
from bayesdx.knowledge.load import load_knowledge
from bayesdx.knowledge.network import Network
from conftest import TINY, labelled_cohort


def test_lognormal_prior_from_the_range():
    mu, s = lognormal_prior(5.0, 3.0, 10.0)
    assert np.exp(mu) == pytest.approx(5.0)
    assert np.exp(mu + 1.6448536 * s) / np.exp(mu - 1.6448536 * s) == pytest.approx(10 / 3)
    mu, s = lognormal_prior(0.005, 0.0, 0.02)  # a range from 0: high at the 95 % point
    assert np.exp(mu + 1.6448536 * s) == pytest.approx(0.02)


def test_free_relative_risks_of_the_tiny_model(tiny_net):
    rcs = {rc.cause: rc for rc in rr_causes(tiny_net)}
    assert set(rcs) == {"flu", "marrow", "drug_x"}
    path = [tiny_net.params[i].path for i in rcs["drug_x"].free]
    assert "causes.drug_x.rr.exposure_x.none" not in path  # a gate (0, zero width) stays
    assert "causes.drug_x.rr.exposure_x.on_window" not in path  # the reference (1, zero width)
    assert rcs["marrow"].base and not rcs["flu"].base


@pytest.fixture(scope="module")
def rr_fit(tiny_net, tiny_engine):
    net = tiny_net
    truth = {"causes.flu.rr.age_group.child": 1.6}
    cases = labelled_cohort(net, truth, 1500, 8, p_other=0.6)
    return truth, fit_priors(net, cases, holdout=0, engine=tiny_engine, max_iter=40, links=False)


def test_tiny_recovery_of_a_changed_relative_risk(rr_fit):
    """flu's risk in children moved below its range: the fit finds it; the others stay."""
    truth, fit = rr_fit
    by = {x.path: x for x in fit.numbers if ".rr." in x.path}
    for path, true in truth.items():
        x = by[path]
        assert x.low <= true <= x.high and not x.low <= x.old <= x.high, (path, x)
        assert abs(np.log(x.new / true)) < abs(np.log(x.old / true)) / 2, (path, x)
        assert x.moved < 0
    others = [x for p, x in by.items() if p not in truth]
    assert len(others) == 5
    assert sum(x.low <= x.old <= x.high for x in others) >= len(others) - 1, others


def test_prior_held_and_base_re_solved(rr_fit, tiny_net):
    """The cause keeps its (fitted) prior: the population average of its risk equals it."""
    _, fit = rr_fit
    T = tiny_net.tables(fit.theta)
    age = T.context_cpt["age_group"][0]
    flu = T.cause_cpt["flu"][0]
    assert float(age @ flu) == pytest.approx(fit.theta[tiny_net.param_index("causes.flu.prior")],
                                             rel=1e-10)
    rr = fit.theta[tiny_net.param_index("causes.flu.rr.age_group.child")]
    assert flu[0] / flu[1] == pytest.approx(rr, rel=1e-10)  # no cap binds here


def test_written_relative_risk_passes_check(rr_fit, tiny_net, tmp_path):
    _, fit = rr_fit
    changed = write_fitted(TINY, tmp_path / "new", tiny_net, fit)
    assert "causes.flu.rr.age_group.child" in changed
    new = Network(load_knowledge(tmp_path / "new"))
    x = {y.path: y for y in fit.numbers}["causes.flu.rr.age_group.child"]
    q = new.params[new.param_index(x.path)]
    assert q.value == pytest.approx(x.new, rel=1e-3) and q.low <= q.value <= q.high
    assert f"updated from cohort: n={x.n}, fitted " in q.note and "90% credible" in q.note
    assert main(["--root", str(tmp_path / "new"), "check"]) == 0


def test_zero_cases_keep_every_relative_risk(tiny_net, tiny_engine):
    fit = fit_priors(tiny_net, [], engine=tiny_engine)
    rr = [x for x in fit.numbers if ".rr." in x.path]
    assert len(rr) == 6 and all(x.new == x.old and x.n == 0 for x in rr)
    assert np.array_equal(fit.theta, tiny_net.theta0)
