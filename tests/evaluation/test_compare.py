"""Comparing two versions of the knowledge: folders, git revisions, the report."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from test_regress import change_prior, copy_knowledge

from bayesdx.cli.main import main
from bayesdx.evaluation.compare import CompareError, Comparison, compare_roots, knowledge_side
from bayesdx.evaluation.vignettes import Score, Vignette, VignetteResult

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


@pytest.fixture()
def kb(tmp_path):
    """(original root, edited root, vignettes, (old, new) value of causes.sle.prior)."""
    old_root, vdir = copy_knowledge(tmp_path / "old")
    new_root = tmp_path / "new"
    shutil.copytree(old_root, new_root, ignore=shutil.ignore_patterns("validation"))
    return old_root, new_root, vdir, change_prior(new_root, "sle")


def test_a_changed_prior_shows_up_in_compare(kb):
    old_root, new_root, vdir, (old, new) = kb
    cmp = compare_roots(old_root, new_root, vdir)
    assert [(p.path, p.old, p.new) for p in cmp.params] == [("causes.sle.prior", old, new)]
    moved = cmp.moved
    assert moved and moved[0].movers[0][0] == "sle"  # the largest mover is the edited cause
    assert [c.largest for c in moved] == sorted((c.largest for c in moved), reverse=True)
    flips = {c.case for c in cmp.cases if c.top_changed}
    assert flips == {a.vignette.id for a, b in zip(cmp.old.results, cmp.new.results)
                     if a.ranking[0] != b.ranking[0]}
    text = cmp.format()
    assert "causes.sle.prior" in text and f"{old:g} -> {new:g}" in text
    for name in ("top1", "top3", "mrr", "brier", "log_loss"):
        assert f"  {name}" in text
    assert f"{cmp.new.brier - cmp.old.brier:+9.4f}" in text


def test_the_same_knowledge_moves_nothing(kb):
    old_root, _, vdir, _ = kb
    cmp = compare_roots(old_root, old_root, vdir)
    assert cmp.params == () and cmp.moved == []
    assert "vignettes moved: 0 of" in cmp.format()


def _result(vid, ranking, probs):
    v = Vignette(vid, "t", (), "a", (), (), {}, vid)
    return VignetteResult(v, tuple(ranking), tuple(probs), family="x")


def test_format_reports_top_cause_changes_and_rank_moves():
    from bayesdx.evaluation.compare import _case_change

    old = _result("v1", ["b", "a"], [0.6, 0.5])
    new = _result("v1", ["a", "b"], [0.7, 0.4])
    change = _case_change(old, new)
    assert change.top_changed and (change.old_rank, change.new_rank) == (2, 1)
    cmp = Comparison("o", "n", Score((old,)), Score((new,)), (), (change,))
    text = cmp.format()
    assert "top cause changed: 1" in text and "v1: b 0.600 -> a 0.700" in text
    assert "rank 2 -> 1" in text and "top 3: b, a -> a, b" in text


def test_priors_only_folder_uses_the_current_model(kb, tmp_path):
    _, new_root, _, _ = kb
    only = tmp_path / "only"
    shutil.copytree(new_root / "priors", only / "priors")
    with knowledge_side(str(only), new_root) as (root, label):
        assert (root / "model").is_dir() and (root / "priors").is_dir()
        assert "current model" in label
        assert (root / "priors" / "causes.yaml").read_text() == \
            (new_root / "priors" / "causes.yaml").read_text()
    assert not root.exists()  # the temporary root is removed


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org",
                    *args], check=True, capture_output=True)


@needs_git
def test_git_revisions_and_against_head(tmp_path, capsys):
    repo, vdir = copy_knowledge(tmp_path / "repo")
    _git(repo, "init", "-q")
    _git(repo, "add", "model", "priors")
    _git(repo, "commit", "-q", "-m", "base")
    old, new = change_prior(repo, "sle")
    with knowledge_side("HEAD", repo) as (root, label):
        assert label.startswith("git HEAD (")
        assert f"value: {old}" in (root / "priors" / "causes.yaml").read_text()
    assert main(["--root", str(repo), "compare", "--against", "HEAD", "--vignettes",
                 str(vdir)]) == 0
    out = capsys.readouterr().out
    assert "OLD = git HEAD" in out and "NEW = working tree" in out
    assert f"causes.sle.prior: {old:g} -> {new:g}" in out
    _git(repo, "commit", "-q", "-am", "raise sle")
    assert main(["--root", str(repo), "compare", "HEAD~1", "HEAD", "--vignettes", str(vdir)]) == 0
    assert f"causes.sle.prior: {old:g} -> {new:g}" in capsys.readouterr().out


def test_bad_sides_are_clear_errors(tmp_path, capsys):
    with (pytest.raises(CompareError, match="must be a folder holding priors/ or a git revision"),
          knowledge_side("no-such-rev-or-folder", tmp_path)):
        pass
    assert main(["compare", str(tmp_path)]) == 2
    assert "a folder without priors/" in capsys.readouterr().err
    assert main(["compare"]) == 2
    assert "OLD: must be given" in capsys.readouterr().err
    assert main(["compare", "HEAD", "HEAD", "--against", "HEAD"]) == 2
    assert "must not be combined" in capsys.readouterr().err
