"""Pure helpers of benchmarks/issue12.py, issue12_cli.py and issue12_app.py (no timing here: the script prints figures)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import issue12  # noqa: E402
import issue12_cli  # noqa: E402
import issue12_app  # noqa: E402


@pytest.fixture(scope="module")
def model():
    from bayesdx.diagnosis import load_model

    return load_model()


def test_heaviest_orders_by_abnormal_findings_and_the_batch_reads_back(model, tmp_path):
    from bayesdx.case import parse_case, read_cases
    from bayesdx.evaluation.vignettes import load_vignettes
    from bayesdx.ui.jobs import abnormal_count

    vs = load_vignettes()[:15]
    chosen, counts = issue12_cli.heaviest(vs, model, 6)
    assert len(chosen) == 6 and len(counts) == 15
    want = sorted(vs, key=lambda v: (-abnormal_count(model, parse_case(v.case, model.kb).evidence), v.id))[:6]
    assert [v.id for v in chosen] == [v.id for v in want]
    assert [counts[v.id] for v in chosen] == sorted(counts.values(), reverse=True)[:6]
    path = issue12_cli.write_batch([v.case for v in chosen], tmp_path / "batch.yaml")
    back = read_cases(path, model.kb)
    assert [c.id for c in back] == [v.id for v in chosen]
    assert [c.evidence for c in back] == [parse_case(v.case, model.kb).evidence for v in chosen]


def test_inference_lines_join_the_wrapped_line():
    out = "Case: a\nInference: exact posterior; intervals from 1000\n  of 1000 draws\nEvidence: x\nInference: b\n"
    assert issue12_cli._inference_lines(out) == ["Inference: exact posterior; intervals from 1000 of 1000 draws",
                                             "Inference: b"]


def test_met_flags():
    assert issue12._met(1.5, 2.0) is True and issue12._met(2.5, 2.0) is False
    assert issue12._met(6000, 5000, at_least=True) is True and issue12._met(None, 1.0) is None
    assert issue12._all(True, None) is None and issue12._all(True, False) is False


def test_whisker_arrival_needs_every_whisker_at_the_new_posterior():
    def lab(i, p):
        return f"lo: 0.1; label: X; hi: 0.3; Posterior: {p}; 90% interval: 10% to 30%; Id: {i}"

    log = [{"t": 5.0, "labels": [lab("a", "20%")]},             # before the click
           {"t": 12.0, "labels": []},                            # bars redrawn, no whiskers yet
           {"t": 15.0, "labels": [lab("a", "20%"), lab("b", "9%")]},   # stale: b's old posterior
           {"t": 19.0, "labels": [lab("a", "20%"), lab("b", "8%")]}]
    assert issue12_app._arrival(log, 10.0, {"a": "20%", "b": "8%"}) == 19.0
    assert issue12_app._arrival(log, 10.0, {"a": "21%", "b": "8%"}) is None


def test_browser_rows_say_why_when_chromium_is_missing(monkeypatch):
    monkeypatch.setattr(issue12_app, "CHROMIUM", "/nonexistent/chromium")
    w, f = issue12_app.whiskers_after_click(None), issue12_app.first_ranking()
    assert w["skipped"].startswith("not measured: /nonexistent/chromium not found")
    for row in (issue12_app.whisker_row(w, 1.0), issue12_app.first_row(f, 1.5)):
        assert row["median"].startswith("not measured:") and row["met"] is None
