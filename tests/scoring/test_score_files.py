"""bayesdx score: CSV and Parquet cohorts with bad rows, chunks, worker processes, the CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from scoring_data import BAD, cohort, model  # noqa: F401 - fixtures

from bayesdx.cli.main import main
from bayesdx.diagnosis import DISCLAIMER
from bayesdx.scoring.files import NA_WORDS, iter_chunks, score_file
from bayesdx.scoring.frame import ScoreError, output_columns, score_frame


def _read(path):
    return pd.read_parquet(path) if str(path).endswith(".parquet") else pd.read_csv(
        path, dtype={"id": str, "error": str, "ignored": str})


@pytest.mark.parametrize("src_kind,out_kind", [("csv", "parquet"), ("parquet", "csv"),
                                               ("parquet", "parquet")])
def test_csv_and_parquet_with_bad_rows(model, cohort, tmp_path, src_kind, out_kind):
    src, out = tmp_path / f"cohort.{src_kind}", tmp_path / f"scores.{out_kind}"
    (cohort.to_csv(src, index=False) if src_kind == "csv" else cohort.to_parquet(src))
    s = score_file(src, out, jobs=1, chunk_rows=7, progress=False)
    assert (s.rows, s.errors, s.scored) == (len(cohort), len(BAD), len(cohort) - len(BAD))
    assert not (tmp_path / f"scores.{out_kind}.partial").exists()
    got = _read(out)
    assert list(got.columns) == ["row", *output_columns(model.engine.causes)]
    assert got["row"].tolist() == list(range(len(cohort)))
    assert got["id"].tolist() == cohort["id"].tolist()
    for i, text in BAD.items():
        assert text in got.loc[i, "error"]
    assert got["error"].notna().sum() == len(BAD)
    ref = score_frame(cohort)  # in one piece: equal to rounding (exact; sums in another order)
    cols = [f"posterior.{c}" for c in model.engine.causes]
    a, b = got[cols].to_numpy(float), ref[cols].to_numpy(float)
    assert np.array_equal(np.isnan(a), np.isnan(b)) and np.nanmax(np.abs(a - b)) <= 1e-12
    assert s.first_errors[0][0] == min(BAD)


def test_parquet_output_says_what_it_is(cohort, tmp_path):
    src, out = tmp_path / "c.parquet", tmp_path / "s.parquet"
    cohort.head(3).to_parquet(src)
    score_file(src, out, jobs=1, progress=False)
    meta = pq.read_schema(out).metadata
    assert meta[b"bayesdx.disclaimer"].decode() == DISCLAIMER
    assert len(meta[b"bayesdx.knowledge"]) == 64


def test_parquet_list_columns_and_csv_words(model, tmp_path):
    """Parquet lists (terms; drugs as structs); CSV: 'NA' is empty, 'none' means no drugs."""
    df = pd.DataFrame({"id": ["a", "b"],
                       "smear": [["hypersegmented_neutrophils"], None],
                       "medications": [[{"name": "methotrexate", "weeks": 30.0}], []],
                       "cbc.anc": [0.8, 0.8]})
    df.to_parquet(tmp_path / "l.parquet")
    got = _read(score_file(tmp_path / "l.parquet", tmp_path / "l.csv", jobs=1,
                           progress=False).out)
    assert got["error"].isna().all()
    ref = score_frame(pd.DataFrame({"smear": ["hypersegmented_neutrophils", None],
                                    "med.methotrexate.weeks": [30, None],
                                    "medications": [None, "none"], "cbc.anc": [0.8, 0.8]}))
    assert np.allclose(got.filter(like="posterior.").to_numpy(float),
                       ref.filter(like="posterior.").to_numpy(float), rtol=0, atol=1e-12)
    (tmp_path / "w.csv").write_text("id,cbc.anc,medications,tests.hiv\n007,NA,none,\n")
    row = next(iter_chunks(tmp_path / "w.csv")).to_dict("records")[0]
    assert row["id"] == "007" and pd.isna(row["cbc.anc"]) and row["medications"] == "none"
    assert pd.isna(row["tests.hiv"])


def test_no_empty_cell_word_is_a_word_of_the_model(model):
    """A state such as Duffy-'null' must never be read as an empty cell."""
    from bayesdx.case.common import word

    kb = model.kb
    states = {word(s) for n in kb.nodes for s in kb.states(n)}
    terms = {word(t) for sec in kb.mapping.sections.values() for t in (*sec.terms, *sec.values)}
    assert not {word(w) for w in NA_WORDS if w} & (states | terms | {"none"})


def test_worker_processes_give_the_same_table(cohort, tmp_path):
    src = tmp_path / "c.parquet"
    cohort.to_parquet(src)
    one = score_file(src, tmp_path / "one.parquet", jobs=1, chunk_rows=20, progress=False)
    two = score_file(src, tmp_path / "two.parquet", jobs=2, chunk_rows=20, progress=False)
    assert two.jobs == 2 and (one.rows, one.errors) == (two.rows, two.errors)
    pd.testing.assert_frame_equal(_read(one.out), _read(two.out))  # same chunks: identical


def test_bad_settings_and_files_are_clear_errors(tmp_path):
    (tmp_path / "c.csv").write_text("cbc.anc\n0.4\n")
    cases = [
        (dict(src=tmp_path / "c.txt", out=tmp_path / "o.parquet"), "COHORT: must be a .csv or .parquet"),
        (dict(src=tmp_path / "c.csv", out=tmp_path / "o.json"), "-o: must be a .csv or .parquet"),
        (dict(src=tmp_path / "nope.csv", out=tmp_path / "o.csv"), "must be an existing file"),
        (dict(src=tmp_path / "c.csv", out=tmp_path / "o.csv", jobs=0), "--jobs: must be a positive"),
        (dict(src=tmp_path / "c.csv", out=tmp_path / "o.csv", keep=["mrn"]), "keep: must name"),
    ]
    for kw, text in cases:
        with pytest.raises(ScoreError, match=text):
            score_file(progress=False, **{"jobs": 1, **kw})
    assert not (tmp_path / "o.csv").exists() and not (tmp_path / "o.csv.partial").exists()
    (tmp_path / "broken.parquet").write_text("not parquet")
    with pytest.raises(ScoreError, match="must be a readable PARQUET table"):
        score_file(tmp_path / "broken.parquet", tmp_path / "o.csv", jobs=1, progress=False)


def test_empty_cohort_gives_an_empty_table(model, tmp_path):
    (tmp_path / "e.csv").write_text("id,cbc.anc\n")
    for out in ("e.csv", "e.parquet"):
        s = score_file(tmp_path / "e.csv", tmp_path / out, jobs=1, progress=False)
        assert s.rows == 0 and len(_read(tmp_path / out)) == 0


def test_cli(cohort, tmp_path, capsys):
    src, out = tmp_path / "c.csv", tmp_path / "s.parquet"
    cohort.to_csv(src, index=False)
    assert main(["score", str(src), "-o", str(out), "--jobs", "1"]) == 2  # some rows are bad
    err = capsys.readouterr().err
    assert f"scored {len(cohort) - len(BAD)} of {len(cohort)} rows" in err
    assert "row 5: cbc.anc: must be" in err and DISCLAIMER in err
    good = tmp_path / "good.csv"
    cohort.drop(index=list(BAD)).to_csv(good, index=False)
    assert main(["score", str(good), "-o", str(tmp_path / "g.csv"), "--quiet", "--jobs", "1",
                 "--intervals", "--draws", "20"]) == 0
    assert capsys.readouterr().err == ""
    assert "interval_low.sle" in pd.read_csv(tmp_path / "g.csv").columns
    assert main(["score", str(src), "-o", str(tmp_path / "x.txt")]) == 2
    assert "-o: must be a .csv or .parquet file" in capsys.readouterr().err
