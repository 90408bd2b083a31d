"""The validation report: files, figures, plot, progress bar, errors."""

from __future__ import annotations

import csv
import io
import json
import sys

import pytest

from bayesdx.cli.main import main
from bayesdx.diagnosis import load_model
from bayesdx.evaluation.report import ReportError, write_report
from bayesdx.progress import progress_bar
from bayesdx.evaluation.vignettes import load_vignettes, score_vignettes

from conftest import few_vignettes


@pytest.fixture(scope="module")
def score():
    vs = [v for v in load_vignettes() if v.id[:4] in {"v014", "v025", "v037", "v049", "v054"}]
    return score_vignettes(vs, load_model())


def test_report_files_hold_the_figures(score, tmp_path):
    rep = write_report(score, tmp_path / "out")
    assert {p.name for p in rep.files} == {"summary.md", "cases.csv", "report.json",
                                            "calibration.png"}
    assert rep.plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    d = json.loads(rep.json.read_text())
    assert d["summary"]["n"] == 5 and d["summary"]["top1"] == pytest.approx(score.top1, abs=1e-6)
    assert d["summary"]["brier"] == pytest.approx(score.brier, abs=1e-6)
    assert d["calibration"]["n"] == 5 * len(load_model().net.causes)
    assert set(d["families"]) == {r.family for r in score.results}
    rows = list(csv.DictReader(rep.cases.open()))
    assert [r["id"] for r in rows] == [r.vignette.id for r in score.results]
    summary = rep.summary.read_text()
    assert "Brier score" in summary and "log loss" in summary and "target 1" in summary
    assert "calibration.png" in summary
    for miss in score.misses:  # every miss is listed with its top three
        assert miss.vignette.id in summary and miss.ranking[2] in summary


def test_report_without_matplotlib_still_writes_the_rest(score, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import fails
    rep = write_report(score, tmp_path)
    assert rep.plot is None and not (tmp_path / "calibration.png").exists()
    assert "matplotlib is not installed" in rep.summary.read_text()


def test_unwritable_report_folder_is_a_clear_error(score, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ReportError, match="must be a writable folder"):
        write_report(score, blocker / "sub")


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_only_on_a_terminal():
    quiet, loud = io.StringIO(), _Tty()
    assert list(progress_bar(range(4), label="x", stream=quiet)) == [0, 1, 2, 3]
    assert quiet.getvalue() == ""
    assert list(progress_bar(range(4), label="x", stream=loud)) == [0, 1, 2, 3]
    assert "4/4" in loud.getvalue() and loud.getvalue().endswith("\n")


def test_cli_validate_report(tmp_path, capsys):
    few = str(few_vignettes(tmp_path / "v"))
    assert main(["validate", "--set", "vignettes", "--vignettes", few, "--report", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("vignettes: ") and "report: " in out and "ECE" in out
    assert (tmp_path / "summary.md").exists() and (tmp_path / "calibration.png").exists()
    blocker = tmp_path / "summary.md"
    assert main(["validate", "--set", "vignettes", "--vignettes", few,
                 "--report", str(blocker / "x")]) == 2
    assert "must be a writable folder" in capsys.readouterr().err
