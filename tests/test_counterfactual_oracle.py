"""The product-form counterfactual scores and the lazy k-best search against the
first exact implementations.

``tests/cf_reference.py`` keeps the first implementation (one rewrite per
(cause, abnormal finding) pair and kind, one per cause for "needed"); it was
tested against brute force itself and shares none of the product-form
algebra. Here both run on every validation vignette and published case
report of the real model, and on parameter draws of a few. The same for
``reference_explanations``, the first k-best search (the vignettes' part of
that is marked slow).
"""

from __future__ import annotations

import numpy as np
import pytest
from cf_reference import reference_explanations, reference_scores

from bayesdx.case import parse_case
from bayesdx.counterfactual import _scores
from bayesdx.diagnosis import load_model
from bayesdx.evaluation.vignettes import load_vignettes
from bayesdx.explanations import joint_explanations
from bayesdx.uncertainty import draw_tables

PUBLISHED = "validation/published"


@pytest.fixture(scope="module")
def model():
    return load_model()


def _cases(model, published: bool):
    vs = load_vignettes(PUBLISHED, published=True) if published else load_vignettes()
    return [(v.id, parse_case(v.case, model.kb, source=v.path).evidence) for v in vs]


def _compare(engine, ev, T):
    new = _scores(engine, ev, T)
    old = reference_scores(engine, ev, T)
    assert new[4] == old[4]
    np.testing.assert_allclose(new[5], old[5], atol=1e-12, rtol=0, err_msg="log evidence")
    worst = 0.0
    for name, a, b in zip(("posterior", "disablement", "sufficiency", "p_needed"), new, old):
        np.testing.assert_allclose(a, b, atol=1e-12, rtol=0, err_msg=name)
        worst = max(worst, float(np.max(np.abs(a - b), initial=0.0)))
    return worst


@pytest.mark.parametrize("published", [False, True], ids=["vignettes", "published"])
def test_every_validation_case_matches_the_first_implementation(model, published):
    cases = _cases(model, published)
    assert len(cases) >= (50 if published else 100)
    T = model.net.tables()
    n_abnormal = 0
    for cid, ev in cases:
        try:
            _compare(model.engine, ev, T)
        except AssertionError as exc:
            raise AssertionError(f"{cid}: {exc}") from None
        n_abnormal += any(f in model.net.findings and s != model.net.states[f][0]
                          for f, s in ev.items())
    assert n_abnormal >= 0.9 * len(cases)  # the comparison is not vacuous


def test_parameter_draws_match_the_first_implementation(model):
    T = draw_tables(model.net, 3, seed=11)
    for cid, ev in _cases(model, False)[::25]:
        try:
            _compare(model.engine, ev, T)
        except AssertionError as exc:
            raise AssertionError(f"{cid}: {exc}") from None


@pytest.mark.parametrize("published", [
    pytest.param(False, marks=pytest.mark.slow),  # ~30 s CPU: `pytest -m slow`
    True], ids=["vignettes", "published"])
def test_k_best_explanations_match_the_first_search(model, published):
    """Lazy bounds find the same explanations, in the same order, as the first
    search that computed every child's bound exactly."""
    for cid, ev in _cases(model, published):
        new = joint_explanations(model.engine, ev, k=4)
        old = reference_explanations(model.engine, ev, k=4)
        assert [e.causes for e in new.items] == [e.causes for e in old.items], cid
        np.testing.assert_allclose([e.prob for e in new.items], [e.prob for e in old.items],
                                   atol=1e-12, rtol=0, err_msg=cid)
        assert new.complete and old.complete, cid
        assert new.only == pytest.approx(old.only, abs=1e-12), cid
        assert new.none == pytest.approx(old.none, abs=1e-12), cid
