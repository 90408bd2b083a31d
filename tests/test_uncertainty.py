"""Credible intervals: deterministic, contain the point estimate, respect fixed numbers."""

from __future__ import annotations

import numpy as np

from bayesdx.uncertainty import credible_intervals, sample_parameters


def test_draws_are_deterministic_and_within_support(tiny_net):
    a = sample_parameters(tiny_net, 200, seed=3)
    b = sample_parameters(tiny_net, 200, seed=3)
    assert (a == b).all()
    assert not (a == sample_parameters(tiny_net, 200, seed=4)).all()
    kinds = np.array([p.kind for p in tiny_net.params])
    assert (a[:, kinds == "prob"] >= 0).all() and (a[:, kinds == "prob"] <= 1).all()
    assert (a[:, kinds == "rr"] >= 0).all()


def test_fixed_numbers_are_not_drawn(tiny_net):
    a = sample_parameters(tiny_net, 50, seed=0)
    i = tiny_net.param_index("causes.drug_x.rr.exposure_x.none")  # range [0, 0]: a hard gate
    assert (a[:, i] == 0).all()


def test_draw_means_track_values(tiny_net):
    a = sample_parameters(tiny_net, 4000, seed=1)
    i = tiny_net.param_index("findings.plt.links.marrow.low")
    assert abs(a[:, i].mean() - 0.9) < 0.01


def test_interval_brackets_point_estimate(tiny_engine):
    ev = {"anc": "severe", "fever": "present"}
    iv = credible_intervals(tiny_engine, ev, draws=400, seed=0)
    point = tiny_engine.posterior(ev).probs
    assert iv.shape == (3, 2)
    assert (iv[:, 0] <= point + 1e-9).all() and (point <= iv[:, 1] + 1e-9).all()
    assert (iv[:, 1] - iv[:, 0] > 0).all()
    again = credible_intervals(tiny_engine, ev, draws=400, seed=0)
    assert (iv == again).all()
