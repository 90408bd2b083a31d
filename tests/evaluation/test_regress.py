"""Golden posteriors: diffs, determinism, the committed pins, and a deliberate prior change."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import yaml

import bayesdx
from bayesdx.cli.main import main
from bayesdx.knowledge.load import default_root
from bayesdx.evaluation.regress import METHOD, diff_pins, golden_path, read_pins, write_pins
from bayesdx.evaluation.vignettes import load_vignettes

SUBSET = ("v037", "v038", "v039", "v045", "v046", "v047", "v060")


def copy_knowledge(dst: Path, subset=SUBSET) -> tuple[Path, Path]:
    """A temp root with model/, priors/ and a few vignettes; returns (root, vignettes)."""
    src = default_root()
    for folder in ("model", "priors"):
        shutil.copytree(src / folder, dst / folder)
    vdir = dst / "validation" / "vignettes"
    vdir.mkdir(parents=True)
    for v in load_vignettes():
        if v.id[:4] in subset:
            shutil.copy(v.path, vdir)
    return dst, vdir


def change_prior(root: Path, cause: str = "sle") -> tuple[float, float]:
    """Move one cause prior halfway to the top of its range; return (old, new)."""
    path = root / "priors" / "causes.yaml"
    data = yaml.safe_load(path.read_text())
    prior = data["causes"][cause]["prior"]
    old = prior["value"]
    prior["value"] = round((old + prior["range"][1]) / 2, 6)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return old, prior["value"]


def _doc(posteriors, **meta):
    return {"knowledge_hash": "h", "bayesdx": "0", **meta, "posteriors": posteriors}


def test_diff_respects_tolerance_and_orders_largest_first():
    old = _doc({"v1": {"a": 0.5, "b": 0.2, "c": 0.1}})
    new = _doc({"v1": {"a": 0.5000009, "b": 0.25, "c": 0.0}})
    d = diff_pins(old, new, tol=1e-6)
    assert [c.cause for c in d.changes] == ["c", "b"] and not d.ok
    assert diff_pins(old, new, tol=0.2).ok
    text = d.format()
    assert "regress FAILED: 2 posteriors moved" in text and "-0.100000" in text
    assert text.index(" c ") < text.index(" b ")


def test_diff_reports_added_and_removed_vignettes_causes_and_errors():
    old = _doc({"v1": {"a": 0.1, "gone": 0.2}, "v2": {"a": 0.3, "gone": 0.1}}, errors={"v3": "x"})
    new = _doc({"v1": {"a": 0.1, "new": 0.5}, "v4": {"a": 0.1, "new": 0.0}}, errors={"v3": "y"})
    d = diff_pins(old, new)
    assert d.added_cases == ("v4",) and d.removed_cases == ("v2",)
    assert d.added_causes == ("new",) and d.removed_causes == ("gone",)
    assert d.changes == () and d.errors == (("v3", "x", "y"),)
    assert "new vignettes (not pinned): v4" in d.format()


def test_pins_do_not_depend_on_dict_order(tmp_path):
    posts = {f"v{i}": {c: round(random.Random(i).random(), 6) for c in "abcde"} for i in range(5)}
    shuffled = {k: dict(reversed(list(v.items()))) for k, v in reversed(list(posts.items()))}
    a = write_pins(_doc(posts), tmp_path / "a.json").read_bytes()
    b = write_pins(_doc(shuffled), tmp_path / "b.json").read_bytes()
    assert a == b
    assert diff_pins(read_pins(tmp_path / "a.json"), _doc(shuffled), tol=0).ok


def test_committed_pins_cover_every_vignette_and_cause():
    doc = read_pins(golden_path())
    from bayesdx.diagnosis import load_model

    causes = set(load_model().net.causes)
    assert doc["method"] == METHOD and doc["bayesdx"] == bayesdx.__version__
    assert len(doc["knowledge_hash"]) == 64 and doc["decimals"] == 6
    assert set(doc["posteriors"]) | set(doc["errors"]) == {v.id for v in load_vignettes()}
    for case, posts in doc["posteriors"].items():
        assert set(posts) == causes, case
        assert all(round(p, 6) == p and 0 <= p <= 1 for p in posts.values())


def test_a_changed_prior_fails_regress_until_pinned(tmp_path, capsys):
    root, vdir = copy_knowledge(tmp_path)
    golden = tmp_path / "golden.json"
    base = ["--root", str(root), "regress", "--vignettes", str(vdir), "--golden", str(golden)]
    assert main(base + ["--update"]) == 0
    assert "pinned" in capsys.readouterr().out
    assert main(base) == 0
    assert "regress OK" in capsys.readouterr().out

    change_prior(root, "sle")
    assert main(base) == 1
    out = capsys.readouterr().out
    assert "regress FAILED" in out and "bayesdx regress --update" in out
    first = next(line for line in out.splitlines() if line.startswith("  v0"))
    assert " sle " in first  # the largest change is the changed cause itself
    assert main(base + ["--tol", "1"]) == 0  # a stated tolerance large enough passes
    capsys.readouterr()

    assert main(base + ["--update"]) == 0
    assert json.loads(golden.read_text())["posteriors"]
    assert main(base) == 0


def test_regress_errors_are_clear(tmp_path, capsys):
    assert main(["regress", "--golden", str(tmp_path / "none.json")]) == 2
    assert "must be a golden posteriors file" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text("{not json")
    assert main(["regress", "--golden", str(tmp_path / "bad.json")]) == 2
    assert "must be valid JSON" in capsys.readouterr().err
    assert main(["regress", "--tol", "-1"]) == 2
    assert "--tol: must be >= 0" in capsys.readouterr().err
