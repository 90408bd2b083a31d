"""The command line: exit codes, output formats, no tracebacks."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from bayesdx.cli.main import main

from conftest import REPO


@pytest.fixture()
def examples():
    return REPO / "examples"


def test_check_ok(capsys):
    assert main(["check"]) == 0
    assert capsys.readouterr().out.startswith("knowledge OK:")


def test_check_broken_knowledge_exit_3(tmp_path, capsys):
    shutil.copytree(REPO / "model", tmp_path / "model")
    shutil.copytree(REPO / "priors", tmp_path / "priors")
    p = tmp_path / "priors" / "causes.yaml"
    p.write_text(p.read_text().replace("causes:", "causes:\n  not_a_cause: {prior: 0.5}", 1))
    assert main(["--root", str(tmp_path), "check"]) == 3
    err = capsys.readouterr().err
    assert "priors/causes.yaml" in err and "not_a_cause" in err and "Traceback" not in err


def test_diagnose_json_is_the_contract(examples, capsys):
    assert main(["diagnose", str(examples / "clozapine.yaml"), "--json", "--draws", "50"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    d = json.loads(out[0])
    assert {"id", "causes", "evidence", "ignored"} <= set(d)
    assert d["id"] == "clozapine-example"
    c0 = d["causes"][0]
    assert c0["id"] == "drug_antipsychotic"
    assert {"id", "label", "prior", "posterior", "interval"} <= set(c0)
    lo, hi = c0["interval"]
    assert lo <= c0["posterior"] <= hi
    post = [c["posterior"] for c in d["causes"]]
    assert post == sorted(post, reverse=True)
    assert d["evidence"]["anc"] == "severe"
    assert "not a medical device" in d["disclaimer"]


def test_interval_error_target_sets_the_draws(examples, capsys):
    """--interval-error 0 takes every draw; a loose target stops at the first stage; the
    JSON and the table state the draws and the error; a bad value is a usage error."""
    runs = {}
    for pts in ("0", "50"):
        assert main(["diagnose", str(examples / "clozapine.yaml"), "--json", "--draws", "200",
                     "--interval-error", pts]) == 0
        runs[pts] = json.loads(capsys.readouterr().out)["inference"]["interval"]
    assert runs["0"]["draws"] == 200 and runs["0"]["tolerance"] == 0
    assert runs["50"]["draws"] == 40 and runs["50"]["tolerance"] == 0.5  # the first stage
    assert runs["50"]["mc_error"] <= 0.5
    assert main(["diagnose", str(examples / "clozapine.yaml"), "--draws", "200",
                 "--interval-error", "50"]) == 0
    assert "intervals from 40 of up to 200 parameter draws" in capsys.readouterr().out
    assert main(["diagnose", str(examples / "clozapine.yaml"), "--interval-error", "-1"]) == 2
    assert "percentage points from 0 to 50" in capsys.readouterr().err


def test_no_scores_gives_the_same_posteriors_without_the_scores(examples, capsys):
    """--no-scores leaves out the counterfactual scores only; ranking by one of them is refused."""
    case = str(examples / "clozapine.yaml")
    runs = {}
    for flag in ([], ["--no-scores"]):
        assert main(["diagnose", case, "--json", "--draws", "40", *flag]) == 0
        runs[bool(flag)] = json.loads(capsys.readouterr().out)
    with_, without = runs[False], runs[True]
    assert [c["posterior"] for c in with_["causes"]] == [c["posterior"] for c in without["causes"]]
    assert [c.get("interval") for c in with_["causes"]] == [c.get("interval") for c in without["causes"]]
    assert "p_needed" in str(with_["causes"][0]) and "p_needed" not in str(without["causes"][0])
    assert main(["diagnose", case, "--draws", "0", "--no-scores"]) == 0
    assert "needed" not in capsys.readouterr().out
    assert main(["diagnose", case, "--no-scores", "--rank-by", "sufficiency"]) == 2
    err = capsys.readouterr().err
    assert "--rank-by" in err and "drop --no-scores" in err and "Traceback" not in err


def test_diagnose_table_is_readable(examples, capsys):
    assert main(["diagnose", str(examples / "clozapine.yaml"), "--draws", "0", "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert "Drug: Antipsychotic" in out and "more (use --all)" in out
    assert "not a medical device" in out


@pytest.mark.parametrize("argv", [
    ["diagnose", "clozapine.yaml", "--draws", "50", "--rank-by", "sufficiency"],
    ["diagnose", "heavy_workup.yaml", "--draws", "0"],
    ["explain", "clozapine.yaml"],
])
def test_output_reads_in_percent_within_100_columns(examples, capsys, argv):
    """Percentages as in the app, readable states, no line over 100 columns (issue 13)."""
    argv = [argv[0], str(examples / argv[1]), *argv[2:]]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 100, out
    assert "%" in out and not re.search(r"(?<![\d.])0\.\d{3}(?![\d])", out), out  # no 0.982
    if argv[0] == "explain":
        assert "clozapine, in risk window" in out and "clozapine_window" not in out


def test_batch_scores_good_cases_and_reports_bad_ones(examples, capsys):
    code = main(["diagnose", str(examples / "batch.yaml"), "--json", "--draws", "0"])
    cap = capsys.readouterr()
    ids = [json.loads(line)["id"] for line in cap.out.strip().splitlines()]
    assert ids == ["duffy-null", "b12"]
    assert code == 2
    assert "misspelt-drug" in cap.err and "clozapine" in cap.err


def test_unreadable_case_prints_nothing_on_stdout(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("cbc: {anc: '1.1 kg'}\n")
    assert main(["diagnose", str(bad), "--json"]) == 2
    cap = capsys.readouterr()
    assert cap.out == ""
    assert "cbc.anc" in cap.err and "Traceback" not in cap.err


def test_missing_file_and_bad_arguments(tmp_path, capsys):
    assert main(["diagnose", str(tmp_path / "nope.yaml")]) == 2
    assert "nope.yaml" in capsys.readouterr().err
    assert main(["diagnose"]) == 2
    assert main(["no-such-command"]) == 2


def test_lenient_lists_unknown_drugs(tmp_path, capsys):
    case = tmp_path / "c.yaml"
    case.write_text("cbc: {anc: 0.3}\nmedications: [{name: zyxalin}]\n")
    assert main(["diagnose", str(case), "--json", "--draws", "0"]) == 2
    capsys.readouterr()
    assert main(["diagnose", str(case), "--json", "--draws", "0", "--lenient"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert any("zyxalin" in json.dumps(i) for i in d["ignored"])


def test_nodes_lists_ids_labels_and_states(capsys):
    from bayesdx.diagnosis import load_model

    net = load_model().net
    assert main(["nodes"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(net.context) + len(net.causes) + len(net.findings)
    assert main(["nodes", "--kind", "cause"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == len(net.causes) and all(line.startswith("cause") for line in out)
    assert main(["nodes", "anc"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert line.split()[:2] == ["finding", "anc"] and net.labels["anc"] in line
    assert line.endswith(", ".join(net.states["anc"]))


def test_nodes_unknown_node_or_kind_is_a_clear_error(capsys):
    assert main(["nodes", "ancc"]) == 2
    assert "did you mean anc" in capsys.readouterr().err
    assert main(["nodes", "--kind", "causes"]) == 2        # argparse lists the choices
    assert "context, cause, finding" in capsys.readouterr().err.replace("'", "")
    assert main(["nodes", "--kind", "cause", "anc"]) == 2
    assert "must be a cause node" in capsys.readouterr().err


def test_messages_point_to_commands_that_exist(capsys):
    """Every 'bayesdx <command>' a message suggests is a real subcommand."""
    import re
    from pathlib import Path

    import bayesdx
    from bayesdx.cli.main import build_parser

    parser = build_parser()
    commands = set(parser._subparsers._group_actions[0].choices)  # noqa: SLF001 - argparse has no API
    src = Path(bayesdx.__file__).parent
    named = {m for f in src.rglob("*.py") for m in re.findall(r"'bayesdx ([a-z-]+)", f.read_text())}
    assert named and named <= commands, named - commands
