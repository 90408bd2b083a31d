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


def test_draw_tables_are_cached_per_draws_and_seed(tiny_net):
    from bayesdx.uncertainty import draw_tables

    a = draw_tables(tiny_net, 50, seed=0)
    assert draw_tables(tiny_net, 50, seed=0) is a
    assert draw_tables(tiny_net, 50, seed=1) is not a
    fresh = tiny_net.tables(sample_parameters(tiny_net, 50, seed=0))
    for c, arr in fresh.cause_cpt.items():
        assert (a.cause_cpt[c] == arr).all()


def test_chunked_draws_give_the_same_interval(tiny_engine, monkeypatch):
    import bayesdx.uncertainty as unc

    ev = {"anc": "severe", "fever": "present", "plt": "low"}
    assert unc._chunk(tiny_engine.net, ev, 400) == 400  # few abnormal findings: one engine call
    whole = credible_intervals(tiny_engine, ev, draws=400, seed=5)
    monkeypatch.setattr(unc, "CHUNK_CELLS", 2 ** 3 * 48)  # at most 48 draws per call for 3 abnormal findings
    assert unc._chunk(tiny_engine.net, ev, 400) == 48
    assert unc._bounds(400, 48)[:3] == [0, 44, 88]  # 9 chunks of 44 or 45 draws
    assert (credible_intervals(tiny_engine, ev, draws=400, seed=5) == whole).all()
