"""The CLI under hostile input: clear errors, exit codes, one bad case never sinks a batch (issue 15)."""

from __future__ import annotations

import json

import pytest

from bayesdx.cli.main import main


@pytest.mark.parametrize("args", [["--draws", "-1"], ["--seed", "-1"], ["--top", "-3"],
                                  ["--draws", "many"]])
def test_negative_counts_are_usage_errors(tmp_path, capsys, args):
    f = tmp_path / "c.yaml"
    f.write_text("cbc: {anc: 0.5}\n")
    assert main(["diagnose", str(f), *args]) == 2
    err = capsys.readouterr().err
    assert "must be a whole number >= 0" in err and args[0] in err and "internal error" not in err


def test_too_many_draws_is_a_usage_error(tmp_path, capsys):
    f = tmp_path / "c.yaml"
    f.write_text("cbc: {anc: 0.5}\n")
    assert main(["diagnose", str(f), "--draws", "10000000"]) == 2
    assert "draws: must be at most 100,000" in capsys.readouterr().err


def test_a_batch_streams_every_good_case_and_names_the_bad_ones(tmp_path, capsys):
    f = tmp_path / "batch.yaml"
    f.write_text("cases:\n"
                 "  - {id: a, cbc: {anc: 0.3}}\n"
                 "  - {id: b, cbc: {anc: " + "1" * 400 + "}}\n"
                 "  - {id: c, cbc: {anc: 0x10}}\n"
                 "  - {id: d, medications: [{name: clozapine, dose: [1]}]}\n"
                 "  - {cbc: {anc: 1.2}}\n")
    assert main(["diagnose", str(f), "--json", "--draws", "0"]) == 2
    out, err = capsys.readouterr()
    assert [json.loads(line)["id"] for line in out.splitlines()] == ["a", None]
    for label in ("cases[1] (id 'b')", "cases[2] (id 'c')", "cases[3] (id 'd')"):
        assert f"{f}: {label}" in err
    assert "internal error" not in err


def test_an_unexpected_error_in_one_case_does_not_stop_the_batch(tmp_path, capsys, monkeypatch):
    import bayesdx.batch as batch

    real = batch._diagnosis

    def flaky(model, post, case_id, *a, **k):
        if case_id == "boom":
            raise OverflowError("simulated bug")
        return real(model, post, case_id, *a, **k)

    monkeypatch.setattr(batch, "_diagnosis", flaky)
    f = tmp_path / "batch.yaml"
    f.write_text("cases:\n  - {id: a}\n  - {id: boom}\n  - {id: c}\n")
    assert main(["diagnose", str(f), "--json", "--draws", "0"]) == 70
    out, err = capsys.readouterr()
    assert [json.loads(line)["id"] for line in out.splitlines()] == ["a", "c"]
    assert "cases[1] (id 'boom'): internal error: OverflowError: simulated bug" in err


def test_score_cases_streams_in_growing_chunks(monkeypatch):
    """Results come out chunk by chunk (first after ``first_chunk`` cases), in order."""
    from bayesdx.case import parse_case
    from bayesdx.batch import score_cases
    from bayesdx.diagnosis import load_model

    model = load_model()
    calls: list[int] = []
    real = model.engine.posterior_batch

    def spy(evidences, *a, **k):
        calls.append(len(evidences))
        return real(evidences, *a, **k)

    monkeypatch.setattr(model.engine, "posterior_batch", spy)
    cases = [parse_case({"id": str(i), "cbc": {"anc": 0.1 + 0.01 * i}}, model.kb) for i in range(20)]
    stream = score_cases(iter(cases), model=model, draws=0, scores=False, chunk=8, first_chunk=2)
    first = next(stream)
    assert first.id == "0" and calls == [2]
    rest = list(stream)
    assert [d.id for d in rest] == [str(i) for i in range(1, 20)]
    assert calls == [2, 4, 8, 6]
