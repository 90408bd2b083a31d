"""The leukaemic-range blast finding (issue 10): structure, numbers and their sources."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bayesdx.errors import KnowledgeError
from bayesdx.knowledge.load import load_knowledge

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def kb():
    return load_knowledge()


def _links(node: str) -> dict:
    data = yaml.safe_load((ROOT / "priors" / "findings_smear_marrow.yaml").read_text())
    return data["findings"][node]


def test_node_and_parents(kb):
    spec = kb.findings["marrow_blasts_20"]
    assert kb.states("marrow_blasts_20") == ["absent", "present"]
    assert set(spec.parents) == {"acute_leukemia", "mds"}
    assert spec.label and "marrow_blasts_20" not in spec.label


def test_the_contract_node_is_kept(kb):
    assert set(kb.findings["marrow_increased_blasts"].parents) == {"acute_leukemia", "mds", "b12_deficiency"}
    assert kb.mapping.sections["marrow_findings"].terms["increased_blasts"] == "marrow_increased_blasts"


def test_thresholds_follow_who(kb):
    assert kb.mapping.marrow_blasts_percent == {"marrow_increased_blasts": 5, "marrow_blasts_20": 20}


def test_numbers_are_sourced_and_clinically_ordered():
    spec = _links("marrow_blasts_20")
    refs = yaml.safe_load((ROOT / "priors" / "references.yaml").read_text())
    assert "R139" in str(refs)
    al, mds = spec["links"]["acute_leukemia"], spec["links"]["mds"]
    for p in (spec["leak"], al, mds):
        assert p["source"] and p["range"][0] <= p["value"] <= p["range"][1]
    assert "R139" in al["source"] and "R139" in mds["source"]
    assert al["value"] >= 0.8 > 0.1 >= mds["value"] > spec["leak"]["value"]


def test_check_names_a_bad_threshold(tmp_path):
    import shutil
    for sub in ("model", "priors"):
        shutil.copytree(ROOT / sub, tmp_path / sub)
    path = tmp_path / "model" / "case_mapping.yaml"
    text = path.read_text().replace("    marrow_blasts_20: 20\n", "    marrow_blasts_20: 120\n")
    path.write_text(text)
    with pytest.raises(KnowledgeError) as exc:
        load_knowledge(tmp_path)
    msg = str(exc.value)
    assert "marrow_blasts_percent.marrow_blasts_20" in msg and "120" in msg
