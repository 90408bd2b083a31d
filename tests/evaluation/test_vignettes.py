"""Vignettes load and parse; accuracy, Brier, log loss and calibration are computed as defined."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from bayesdx.cli.main import main
from bayesdx.diagnosis import load_model
from bayesdx.errors import CaseError
from bayesdx.evaluation.vignettes import (
    SCORE_DEFINITION,
    Score,
    Vignette,
    VignetteResult,
    calibration,
    load_vignettes,
    score_vignettes,
    vignette_dir,
)

from conftest import few_vignettes


def _vignette(cause="a", equivalent=(), also=(), vid="v1"):
    return Vignette(vid, "t", (), cause, tuple(equivalent), tuple(also), {}, f"{vid}.yaml")


@pytest.fixture(scope="module")
def score():
    return score_vignettes(load_vignettes(), load_model())


def test_vignettes_cover_every_cause_at_least_twice():
    vs = load_vignettes()
    causes = load_model().net.causes
    assert len(vs) >= 80
    counts = Counter(v.cause for v in vs)
    assert {c for c in causes if counts[c] < 2} == set()
    assert len({v.id for v in vs}) == len(vs)
    for v in vs:
        assert v.id == v.case.get("id") == vignette_dir().joinpath(v.id + ".yaml").stem
        assert set(v.targets) <= set(causes), v.id


def test_every_vignette_parses_and_scores(score):
    assert score.errors == []
    assert score.n == len(load_vignettes())
    assert score.top1 >= 0.7 and score.top3 >= 0.9
    assert 0 < score.brier < 0.05 and 0 < score.log_loss < 0.2
    assert abs(sum(f.n for f in score.by_family().values()) - score.n) == 0


def test_brier_and_log_loss_follow_the_stated_definition():
    v = _vignette("a", equivalent=["b"], also=["c"])
    r = VignetteResult(v, ("a", "d", "c", "b"), (0.8, 0.5, 0.4, 0.0))
    # targets: a, b, c -> 1; d -> 0
    assert v.targets == ("a", "b", "c")
    assert r.brier == pytest.approx(((0.2) ** 2 + 0.5 ** 2 + 0.6 ** 2 + 1.0) / 4)
    expected_ll = -(math.log(0.8) + math.log(0.5) + math.log(0.4) + math.log(1e-6)) / 4
    assert r.log_loss == pytest.approx(expected_ll)
    assert "also" in SCORE_DEFINITION and "1e-6" in SCORE_DEFINITION


def test_score_aggregates_and_skips_errors():
    good = VignetteResult(_vignette("a"), ("a", "b"), (0.9, 0.1), family="x")
    second = VignetteResult(_vignette("b", vid="v2"), ("a", "b"), (0.6, 0.3), family="y")
    bad = VignetteResult(_vignette("a", vid="v3"), (), (), "boom", family="x")
    s = Score((good, second, bad))
    assert s.top1 == pytest.approx(1 / 3) and s.top3 == pytest.approx(2 / 3)
    assert s.mrr == pytest.approx((1 + 0.5) / 3)
    assert s.brier == pytest.approx(np.mean([good.brier, second.brier]))
    assert bad.brier is None and s.errors == [bad]
    fam = s.by_family()
    assert list(fam) == ["x", "y"] and fam["x"].n == 2
    assert s.calibration().n == 4


def test_calibration_bins_ece_and_z():
    perfect = calibration([0.0, 0.0, 1.0, 1.0], [0, 0, 1, 1])
    assert perfect.ece == 0 and perfect.bins[-1].n == 2  # p == 1 falls in the last bin
    c = calibration([0.25, 0.25, 0.25, 0.25], [1, 1, 1, 1], bins=4)
    assert c.ece == pytest.approx(0.75) and c.mce == pytest.approx(0.75)
    assert c.bins[1].z == pytest.approx(3 / math.sqrt(4 * 0.25 * 0.75))
    assert math.isnan(c.bins[0].predicted) and c.to_dict()["bins"][0]["predicted"] is None
    with pytest.raises(ValueError, match="same length"):
        calibration([0.1], [0, 1])


def test_broken_vignette_is_reported_with_file_and_field(tmp_path):
    (tmp_path / "v1.yaml").write_text("id: v1\ntitle: t\ndescription: d\nexpected: {}\ncase: {}\n")
    (tmp_path / "v2.yaml").write_text("id: [unclosed\n")
    with pytest.raises(CaseError) as exc:
        load_vignettes(tmp_path)
    text = str(exc.value)
    assert "v1.yaml: expected.cause" in text and "v2.yaml" in text and "valid YAML" in text


def test_cli_validate_output_and_exit_codes(tmp_path, capsys):
    few = str(few_vignettes(tmp_path / "v"))
    assert main(["validate", "--set", "vignettes", "--vignettes", few]) == 0
    out = capsys.readouterr().out
    assert out.startswith("vignettes: 4 ") and "top-1:" in out and "report:" not in out
    assert main(["validate", "--set", "vignettes", "--vignettes", few, "--min-top1", "1.01"]) == 1
    assert "below target" in capsys.readouterr().err
