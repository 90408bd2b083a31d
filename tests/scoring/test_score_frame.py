"""bayesdx.score_frame: a DataFrame of patients -> every cause's posterior, or the row's error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scoring_data import BAD, cohort, model  # noqa: F401 - fixtures

import bayesdx
from bayesdx.case import parse_row
from bayesdx.diagnosis import load_model
from bayesdx.scoring.frame import ScoreError, output_columns, score_frame
from bayesdx.uncertainty import credible_intervals


def test_flat_api_and_columns(model, cohort):
    assert bayesdx.score_frame is score_frame
    out = bayesdx.score_frame(cohort)
    assert list(out.columns) == output_columns(model.engine.causes)
    assert out.index.equals(cohort.index) and len(out) == len(cohort)
    assert out["id"].tolist() == cohort["id"].tolist()


def test_good_rows_match_the_engine_and_bad_rows_name_their_field(model, cohort):
    out = score_frame(cohort)
    eng = model.engine
    bad = out["error"].notna()
    assert sorted(np.flatnonzero(bad)) == sorted(BAD)
    for i, column in BAD.items():
        assert column in out.loc[i, "error"], out.loc[i, "error"]
        assert out.loc[i, out.columns.str.startswith("posterior.")].isna().all()
    assert "sex: must be" in out.loc[17, "error"]  # every problem of the row, at once
    good = [i for i in range(len(cohort)) if i not in BAD]
    evs = [parse_row(cohort.iloc[i].to_dict(), model.kb).evidence for i in good]
    ref = eng.posterior_batch(evs)
    probs = out.loc[good, [f"posterior.{c}" for c in eng.causes]].to_numpy()
    assert np.array_equal(probs, ref.probs[0])  # the same batch: the same numbers
    assert np.array_equal(out.loc[good, "log_evidence"].to_numpy(), ref.log_evidence[0])
    for j, i in enumerate(good[:5]):  # and the one-case path, to rounding
        post = eng.posterior(evs[j])
        assert np.allclose(probs[j], post.probs, rtol=0, atol=1e-12)


def test_result_does_not_depend_on_how_the_rows_are_cut(cohort):
    whole = score_frame(cohort)
    parts = pd.concat([score_frame(cohort.iloc[i:i + 13]) for i in range(0, len(cohort), 13)])
    pd.testing.assert_frame_equal(whole[["id", "error", "ignored"]], parts[["id", "error", "ignored"]])
    a = whole.filter(like="posterior.").to_numpy()
    b = parts.filter(like="posterior.").to_numpy()
    assert np.array_equal(np.isnan(a), np.isnan(b))
    assert np.nanmax(np.abs(a - b)) <= 1e-12  # exact; only the summation order differs


def test_index_keep_ids_and_ignored(model):
    df = pd.DataFrame({"id": [7.0, None], "mrn": ["A-1", "A-2"], "cbc.anc": [0.4, 1.2],
                       "medications": ["metformin", None]}, index=[100, 200])
    out = score_frame(df, keep=["mrn"])
    assert list(out.index) == [100, 200]
    assert out["id"].tolist() == ["7", pd.NA]
    assert out["mrn"].tolist() == ["A-1", "A-2"]
    assert "no marrow effect" in out.loc[100, "ignored"] and pd.isna(out.loc[200, "ignored"])
    with pytest.raises(ScoreError, match="keep: must name columns"):
        score_frame(df, keep=["nope"])


def test_intervals_on_request(model):
    df = pd.DataFrame({"cbc.anc": [0.2, "x"], "med.clozapine.weeks": [9, None]})
    out = score_frame(df, intervals=True, draws=40, seed=3)
    eng = model.engine
    assert list(out.columns) == output_columns(eng.causes, intervals=True)
    iv = credible_intervals(eng, parse_row(df.iloc[0].to_dict(), model.kb).evidence,
                            draws=40, seed=3)
    assert np.array_equal(out.loc[0, [f"interval_low.{c}" for c in eng.causes]].to_numpy(float),
                          iv[:, 0])
    assert np.array_equal(out.loc[0, [f"interval_high.{c}" for c in eng.causes]].to_numpy(float),
                          iv[:, 1])
    assert out.loc[1, out.columns.str.startswith("interval_")].isna().all()


def test_impossible_row_is_an_error_naming_the_conflict(tiny_copy):
    f = tiny_copy / "priors" / "numbers.yaml"
    text = f.read_text()
    text = text.replace("base: {value: 0.05, range: [0.02, 0.1], source: E}",
                        "base: {value: 0, range: [0, 0], source: E}")
    text = text.replace("leak: {value: 0.02, range: [0.01, 0.05], source: E}",
                        "leak: {value: 0, range: [0, 0], source: E}")
    f.write_text(text)
    tiny = load_model(tiny_copy)
    df = pd.DataFrame({"evidence.test_m": ["positive", None, "negative"]})
    out = score_frame(df, model=tiny)
    assert "impossible combination" in out.loc[0, "error"] and "test_m=positive" in out.loc[0, "error"]
    assert out.loc[[1, 2], "error"].isna().all()
    assert np.isfinite(out.loc[[1, 2], "log_evidence"]).all()


def test_workers_with_other_knowledge_refuse_to_score(cohort):
    with pytest.raises(ScoreError, match="same model/ and priors/ on every worker"):
        score_frame(cohort.head(2), expect_hash="0" * 64)


def test_empty_frame(model):
    out = score_frame(pd.DataFrame({"cbc.anc": []}))
    assert len(out) == 0 and list(out.columns) == output_columns(model.engine.causes)
