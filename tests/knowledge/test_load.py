"""The loader: every kind of broken knowledge file is reported, all at once."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bayesdx.errors import KnowledgeError
from bayesdx.knowledge.load import load_knowledge
from conftest import edit_yaml, knowledge_problems


def _edit(root: Path, rel: str, fn):
    edit_yaml(root, rel, fn)


def _problems(root: Path) -> str:
    return knowledge_problems(root)


def test_tiny_knowledge_loads(tiny_kb):
    assert list(tiny_kb.causes) == ["flu", "marrow", "drug_x"]
    assert tiny_kb.states("flu") == ["absent", "present"]
    assert len(tiny_kb.digest) == 64


def test_unknown_key_is_named_with_allowed_keys(tiny_copy):
    _edit(tiny_copy, "priors/numbers.yaml",
          lambda d: d["causes"]["flu"]["prior"].update(valeu=0.3))
    msg = _problems(tiny_copy)
    assert "priors/numbers.yaml: causes.flu.prior.valeu" in msg
    assert "unknown key" in msg and "value" in msg


def test_probability_outside_unit_interval(tiny_copy):
    _edit(tiny_copy, "priors/numbers.yaml",
          lambda d: d["findings"]["plt"]["links"]["marrow"].update(value=1.4, range=[0.8, 1.5]))
    msg = _problems(tiny_copy)
    assert "findings.plt.links.marrow.value: must be a probability in [0, 1]; got 1.4" in msg


def test_range_must_contain_value(tiny_copy):
    _edit(tiny_copy, "priors/numbers.yaml",
          lambda d: d["findings"]["plt"]["leak"].update(range=[0.1, 0.2]))
    msg = _problems(tiny_copy)
    assert "findings.plt.leak.range: must contain the value" in msg


def test_unknown_node_state_and_parent(tiny_copy):
    def model(d):
        d["findings"]["plt"]["parents"] = ["marow"]
    def priors(d):
        d["causes"]["flu"]["rr"]["age_group"]["elderly"] = {"value": 2, "range": [1, 3], "source": "E"}
        d["findings"]["ghost"] = {"leak": {"value": 0.1, "range": [0, 1], "source": "E"}}
    _edit(tiny_copy, "model/network.yaml", model)
    _edit(tiny_copy, "priors/numbers.yaml", priors)
    msg = _problems(tiny_copy)
    assert "findings.plt.parents: must name causes or context nodes; got 'marow'; try a known name - did you mean marrow?" in msg
    assert "causes.flu.rr.age_group.elderly: must be a state of age_group" in msg
    assert "findings.ghost: must name a node in model/" in msg
    # all problems at once
    assert msg.count("\n  ") >= 3


def test_cycle_and_missing_parent(tiny_copy):
    def model(d):
        d["context"]["hx_drug"]["parents"] = ["exposure_x"]
    _edit(tiny_copy, "model/network.yaml", model)
    msg = _problems(tiny_copy)
    assert "must not form a cycle" in msg


def test_cause_without_finding(tiny_copy):
    def model(d):
        d["findings"]["test_m"]["parents"] = ["flu"]
        d["findings"]["plt"]["parents"] = ["flu"]
        d["findings"]["anc"]["parents"] = ["flu", "drug_x"]
    _edit(tiny_copy, "model/network.yaml", model)
    msg = _problems(tiny_copy)
    assert "causes.marrow: must be a parent of at least one finding" in msg


def test_unknown_source_and_bad_yaml(tiny_copy):
    _edit(tiny_copy, "priors/numbers.yaml",
          lambda d: d["findings"]["plt"]["leak"].update(source="R999"))
    (tiny_copy / "priors" / "broken.yaml").write_text("causes:\n  flu: [unclosed\n")
    msg = _problems(tiny_copy)
    assert "source: must be 'E' or a reference id" in msg and "R999" in msg
    assert "priors/broken.yaml: line" in msg and "must be valid YAML" in msg


def test_distribution_must_sum_to_one(tiny_copy):
    _edit(tiny_copy, "priors/numbers.yaml",
          lambda d: d["context"]["age_group"]["prior"]["child"].update(value=0.5, range=[0.4, 0.6]))
    assert "context.age_group.prior: must sum to 1" in _problems(tiny_copy)


def test_missing_numbers_for_a_parent(tiny_copy):
    _edit(tiny_copy, "priors/numbers.yaml", lambda d: d["findings"]["fever"]["links"].pop("drug_x"))
    assert "findings.fever.links: must give the effect of parent drug_x" in _problems(tiny_copy)


def test_unreachable_prior_is_reported(tiny_copy):
    from bayesdx.knowledge.network import Network

    _edit(tiny_copy, "priors/numbers.yaml",
          lambda d: d["causes"]["flu"]["rr"]["age_group"]["adult"].update(value=0, range=[0, 1]))
    _edit(tiny_copy, "priors/numbers.yaml",
          lambda d: d["causes"]["flu"].update(prior={"value": 0.5, "range": [0.4, 0.6], "source": "E"}))
    kb = load_knowledge(tiny_copy)
    with pytest.raises(KnowledgeError, match="causes.flu.prior: must be reachable"):
        Network(kb)


def test_yaml_load_is_safe_load():
    from bayesdx.knowledge.load import yaml_load

    text = "a: [1, 2.5, yes, null, '3']\nb: {c: 2020-01-01}\n"
    assert yaml_load(text) == yaml.safe_load(text)
    for bad in ("causes:\n  flu: [unclosed\n", "a: !!python/object:os.system x\n", "a: b: c\n"):
        with pytest.raises(yaml.YAMLError) as fast:
            yaml_load(bad)
        with pytest.raises(yaml.YAMLError) as slow:
            yaml.safe_load(bad)
        assert str(fast.value) == str(slow.value)
