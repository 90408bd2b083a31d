"""Explanations: exact leave-one-out likelihood ratios."""

from __future__ import annotations

import math

import pytest

from bayesdx.errors import CaseError, QueryError
from bayesdx.explain import explain


def test_lr_is_ratio_of_odds_with_and_without(tiny_engine):
    ev = {"anc": "severe", "fever": "present", "plt": "low"}
    ex = explain(tiny_engine, "marrow", ev)
    p = tiny_engine.posterior(ev).of("marrow")
    for item in ex.items:
        rest = {k: v for k, v in ev.items() if k != item.node}
        q = tiny_engine.posterior(rest).of("marrow")
        assert item.lr == pytest.approx((p / (1 - p)) / (q / (1 - q)), rel=1e-9)
        assert item.without == pytest.approx(q, abs=1e-12)
    # low platelets support marrow failure; fever (explained by flu) does not
    assert ex.supporting[0].node == "plt"
    assert all(i.weight < 0 for i in ex.against)
    assert [abs(i.weight) for i in ex.items] == sorted((abs(i.weight) for i in ex.items), reverse=True)


def test_gate_gives_infinite_or_zero_weight(tiny_engine):
    ex = explain(tiny_engine, "drug_x", {"exposure_x": "none", "anc": "severe"})
    gate = next(i for i in ex.items if i.node == "exposure_x")
    assert gate.lr == 0.0 and gate.weight == -math.inf
    assert ex.posterior == 0.0


def test_unknown_cause(tiny_engine):
    with pytest.raises(QueryError, match="must be a cause id"):
        explain(tiny_engine, "flue", {})
