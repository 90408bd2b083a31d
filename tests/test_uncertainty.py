"""Credible intervals: deterministic, contain the point estimate, respect fixed numbers."""

from __future__ import annotations

import numpy as np

from bayesdx.uncertainty import credible_intervals, draw_tables, sample_parameters


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


def test_threads_that_miss_the_draws_at_once_share_one_table_set(tiny_net):
    """Cases finished in two threads (bayesdx.batch) ask for the same draws at once: one
    build, one table set (and its derived arrays), not one per thread."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda _: draw_tables(tiny_net, 333, 41), range(8)))
    assert all(t is got[0] for t in got)


def test_chunked_draws_give_the_same_interval(tiny_engine, monkeypatch):
    import bayesdx.uncertainty as unc

    ev = {"anc": "severe", "fever": "present", "plt": "low"}
    assert unc._chunk(tiny_engine.net, ev, 400) == 400  # few abnormal findings: one engine call
    whole = credible_intervals(tiny_engine, ev, draws=400, seed=5)
    monkeypatch.setattr(unc, "CHUNK_CELLS", 2 ** 3 * 48)  # at most 48 draws per call for 3 abnormal findings
    assert unc._chunk(tiny_engine.net, ev, 400) == 48
    assert unc._bounds(400, 48)[:3] == [0, 44, 88]  # 9 chunks of 44 or 45 draws
    assert (credible_intervals(tiny_engine, ev, draws=400, seed=5) == whole).all()


def _direct(engine, ev, draws, seed, n, q=(1 - 0.90) / 2):
    """Interval ends from the first ``n`` of the seed's draws, computed directly."""
    from bayesdx.uncertainty import draw_tables

    T = draw_tables(engine.net, draws, seed).draw_slice(0, n)
    p = np.ascontiguousarray(engine._run([engine.validate(ev)], T)[0][:, 0, :])  # one call
    return np.nanquantile(p, [q, 1 - q], axis=0).T, p


def test_tolerance_zero_uses_every_draw(tiny_engine):
    from bayesdx.uncertainty import interval_estimate

    ev = {"anc": "severe", "fever": "present"}
    iv = interval_estimate(tiny_engine, ev, draws=400, seed=2, tolerance=0)
    assert iv.draws == 400 and iv.note is None and iv.tolerance == 0
    ref, _ = _direct(tiny_engine, ev, 400, 2, 400)
    np.testing.assert_array_equal(iv.bounds, ref)


def test_draws_stop_at_the_first_stage_within_the_tolerance(tiny_engine):
    from bayesdx.uncertainty import _mc_error, _stages, interval_estimate

    ev = {"anc": "severe", "fever": "present", "plt": "low"}
    full = interval_estimate(tiny_engine, ev, draws=800, seed=1, tolerance=0)
    stages = _stages(800, 800)
    errs = []
    for n in stages:
        _, p = _direct(tiny_engine, ev, 800, 1, n)
        errs.append(_mc_error(np.sort(p, axis=0), (0.05, 0.95)))
    assert full.mc_error == errs[-1]
    # a target between the errors of two stages stops at the first stage below it
    k = next(i for i in range(1, len(stages)) if errs[i] < max(errs[:i]))
    tol = (errs[k] + min(errs[:k])) / 2 if errs[k] < min(errs[:k]) else errs[k]
    first = next(i for i, e in enumerate(errs) if e <= tol)
    iv = interval_estimate(tiny_engine, ev, draws=800, seed=1, tolerance=tol)
    assert iv.draws == stages[first] < 800 and iv.mc_error == errs[first] <= tol
    assert "within" in iv.note and iv.requested == 800
    ref, _ = _direct(tiny_engine, ev, 800, 1, stages[first])
    np.testing.assert_array_equal(iv.bounds, ref)
    again = interval_estimate(tiny_engine, ev, draws=800, seed=1, tolerance=tol)
    np.testing.assert_array_equal(iv.bounds, again.bounds)
    loose = interval_estimate(tiny_engine, ev, draws=800, seed=1, tolerance=1.0)
    assert loose.draws == stages[0] == 100



def test_interval_stages_end_in_interval_estimate_and_show_each_stage(tiny_engine):
    from bayesdx.uncertainty import _stages, interval_estimate, interval_stages

    ev = {"anc": "severe", "fever": "present", "plt": "low"}
    for tol in (0.0, 0.02):
        stages = list(interval_stages(tiny_engine, ev, draws=800, seed=1, tolerance=tol))
        final = interval_estimate(tiny_engine, ev, draws=800, seed=1, tolerance=tol)
        assert [s.final for s in stages] == [False] * (len(stages) - 1) + [True]
        assert [s.draws for s in stages] == _stages(800, 800)[:len(stages)]
        np.testing.assert_array_equal(stages[-1].bounds, final.bounds)
        assert (stages[-1].draws, stages[-1].mc_error, stages[-1].note) == (final.draws, final.mc_error, final.note)
        for s in stages[:-1]:  # each stage on the way: the seed's first draws, their error above the target
            ref, p = _direct(tiny_engine, ev, 800, 1, s.draws)
            np.testing.assert_array_equal(s.bounds, ref)
            assert s.mc_error > tol and "so far" in s.note
        only = list(interval_stages(tiny_engine, ev, draws=800, seed=1, tolerance=tol, partial=False))
        assert len(only) == 1 and only[0].final
