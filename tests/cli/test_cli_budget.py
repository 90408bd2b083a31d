"""``bayesdx diagnose --budget-seconds`` / ``--exact``: the approximate fallback in the CLI."""

from __future__ import annotations

import json

from bayesdx.cli.main import main

from conftest import REPO

HEAVY = str(REPO / "examples" / "heavy_workup.yaml")


def test_over_budget_table_says_approximate_with_errors(capsys):
    assert main(["diagnose", HEAVY, "--budget-seconds", "0.2", "--draws", "50"]) == 0
    out = capsys.readouterr().out
    assert "APPROXIMATE posterior" in out and "± s.e." in out and "--budget-seconds" in out
    assert "no interval" in out


def test_over_budget_json_carries_the_flags(capsys):
    assert main(["diagnose", HEAVY, "--json", "--budget-seconds", "0.2", "--draws", "0"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["inference"]["exact"] is False and d["inference"]["method"] == "gibbs"
    assert d["inference"]["posterior_error"] > 0 and all(c["se"] > 0 for c in d["causes"])


def test_exact_refuses_over_budget(capsys):
    assert main(["diagnose", HEAVY, "--exact", "--budget-seconds", "0.2", "--draws", "0"]) == 3
    err = capsys.readouterr().err
    assert "budget" in err and "--budget-seconds" in err


def test_budget_must_be_positive(capsys):
    for bad in ("-1", "0", "nan", "soon"):
        try:
            code = main(["diagnose", HEAVY, "--budget-seconds", bad])
        except SystemExit as exc:  # argparse usage error
            code = exc.code
        assert code == 2
        assert "positive number of seconds" in capsys.readouterr().err
