"""Synthetic cohort: the sampler draws from the model, and the engine is calibrated on it."""

from __future__ import annotations

import numpy as np
import pytest

from bayesdx.cli.main import main
from bayesdx.evaluation.cohort import (
    CohortError,
    check_cohort,
    observe,
    recalibration_slope,
    sample_cohort,
)
from bayesdx.diagnosis import Model, load_model
from bayesdx.uncertainty import sample_parameters


def test_sampler_matches_exact_marginals(tiny_net, tiny_engine):
    n = 200_000
    c = sample_cohort(tiny_net, n, seed=0)
    checks = [({"anc": "severe"}, (c.states["anc"] == 2)),
              ({"anc": "mild", "plt": "low"}, (c.states["anc"] == 1) & (c.states["plt"] == 1)),
              ({"fever": "present", "exposure_x": "on_window"},
               (c.states["fever"] == 1) & (c.states["exposure_x"] == 2)),
              ({"test_m": "positive", "age_group": "child"},
               (c.states["test_m"] == 1) & (c.states["age_group"] == 0))]
    for ev, hit in checks:
        exact = np.exp(tiny_engine.log_evidence(ev))
        se = np.sqrt(exact * (1 - exact) / n)
        assert abs(hit.mean() - exact) < 4.5 * se, ev
    for i, cause in enumerate(tiny_engine.causes):
        p = tiny_engine.priors[i]
        assert abs(c.states[cause].mean() - p) < 4.5 * np.sqrt(p * (1 - p) / n), cause


def test_sampling_and_observation_are_deterministic_and_honour_the_design(tiny_net):
    a, b = sample_cohort(tiny_net, 500, seed=3), sample_cohort(tiny_net, 500, seed=3)
    assert all((a.states[k] == b.states[k]).all() for k in a.states)
    assert any((a.states[k] != sample_cohort(tiny_net, 500, seed=4).states[k]).any()
               for k in a.states)
    evs = observe(tiny_net, a, seed=3, p_other=0.0)
    assert all(set(e) == {*tiny_net.context, "anc", "plt"} for e in evs)  # cbc always seen
    assert all(not set(e) & set(tiny_net.causes) for e in observe(tiny_net, a, p_other=1.0))
    partial = observe(tiny_net, a, seed=3, p_context=0.5, p_other=0.5)
    assert 0 < np.mean([len(e) for e in partial]) < len(tiny_net.context) + 4


def test_tiny_engine_is_calibrated_on_its_own_samples(tiny_kb, tiny_net, tiny_engine):
    r = check_cohort(Model(tiny_kb, tiny_net, tiny_engine), n=20_000, seed=1, p_context=0.6,
                     p_other=0.5)
    assert r.impossible == 0 and r.calibration.n == 20_000 * 3
    assert r.calibration.ece < 0.01 and r.max_z < 4.5 and r.skill > 0.05
    assert abs(r.slope_z) < 4.5


def test_recalibration_slope_detects_over_and_underconfidence():
    rng = np.random.default_rng(5)
    p = rng.uniform(0.02, 0.98, 30_000)
    y = (rng.random(p.size) < p).astype(float)
    logit = np.log(p / (1 - p))
    sharp = 1 / (1 + np.exp(-2 * logit))  # overconfident forecasts of the same outcomes
    flat = 1 / (1 + np.exp(-0.5 * logit))
    assert abs(recalibration_slope(p, y)[0] - 1) < 0.05
    assert recalibration_slope(sharp, y)[0] == pytest.approx(0.5, abs=0.05)
    assert recalibration_slope(flat, y)[0] == pytest.approx(2.0, abs=0.1)


@pytest.fixture(scope="module")
def model():
    return load_model()


def test_engine_is_calibrated_on_a_synthetic_cohort(model):
    """The inference guard: ECE < 0.02, every cause's count matches its posteriors, informative."""
    r = check_cohort(model, n=500, seed=0, p_context=0.9, p_other=0.15)
    assert r.impossible == 0
    assert r.calibration.ece < 0.02, r.calibration
    assert r.max_z < 5.0, r.causes[:3]  # about normal; 5 leaves room for 35 heavy-tailed z
    assert max(abs(b.z) for b in r.calibration.bins if b.n) < 5.0
    assert abs(r.slope_z) < 5.0 and abs(r.slope - 1) < 0.2
    assert r.skill > 0.3


def test_a_wrong_engine_is_caught(model):
    """Negative controls: the same patients scored with other numbers fail the guard."""
    net = model.net
    theta = sample_parameters(net, 1, seed=2)[0]  # every number redrawn within its range
    # power grows with sqrt(n): 600 patients gave z 4.5 for this redraw on the 42-cause network
    r = check_cohort(model, n=1500, seed=0, p_other=0.0, tables=net.tables(theta))
    assert r.max_z > 5.0
    sharp = net.theta0.copy()  # every sensitivity 20 % too high: overconfident
    for i, p in enumerate(net.params):
        if ".links." in p.path:
            sharp[i] = min(1.0, 1.2 * p.value)
    r = check_cohort(model, n=300, seed=0, p_other=0.0, tables=net.tables(sharp))
    assert r.slope_z < -5.0 and r.slope < 0.85


def test_bad_settings_are_clear_errors(tiny_net, capsys):
    with pytest.raises(CohortError, match="must be a positive number"):
        sample_cohort(tiny_net, 0)
    with pytest.raises(CohortError, match="p_other: must be a probability"):
        observe(tiny_net, sample_cohort(tiny_net, 3), p_other=1.5)
    assert main(["calibrate", "--n", "0"]) == 2
    assert "must be a positive number of patients" in capsys.readouterr().err


def test_cli_calibrate(tmp_path, capsys):
    png = tmp_path / "cal.png"
    argv = ["calibrate", "--n", "40", "--seed", "2", "--p-other", "0", "--plot", str(png)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "synthetic cohort: 40 patients (seed 2)" in out and "ECE" in out and "skill" in out
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert main(["calibrate", "--n", "40", "--p-other", "0", "--max-ece", "0"]) == 1
