"""The published-case extension findings (issue 10): EBV and CMV PCR, microcytic hypochromic
red cells on the smear, lymphoma infiltration of the marrow. Structure, numbers, sources."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bayesdx.knowledge.load import load_knowledge

ROOT = Path(__file__).resolve().parents[2]
NEW = {
    "test_ebv_pcr": ("tests", "findings_tests.yaml", {"ebv", "lymphoma", "hiv", "drug_immunosuppressant"}),
    "test_cmv_pcr": ("tests", "findings_tests.yaml", {"cmv", "hiv", "drug_immunosuppressant", "age_group"}),
    "smear_microcytic_hypochromic": ("smear", "findings_smear_marrow.yaml",
                                     {"iron_deficiency", "copper_deficiency", "rheumatoid_arthritis", "sle",
                                      "chronic_liver_disease"}),
    "marrow_lymphoma_infiltration": ("marrow", "findings_smear_marrow.yaml",
                                     {"lymphoma", "hairy_cell_leukemia", "lgl_leukemia"}),
}


@pytest.fixture(scope="module")
def kb():
    return load_knowledge()


def _numbers(node: str) -> dict:
    return yaml.safe_load((ROOT / "priors" / NEW[node][1]).read_text())["findings"][node]


def _params(spec: dict):
    yield spec["leak"]
    for link in spec["links"].values():
        if "value" in link:
            yield link
        else:
            yield from link.values()


@pytest.mark.parametrize("node", sorted(NEW))
def test_node_structure(kb, node):
    group, _, parents = NEW[node]
    spec = kb.findings[node]
    assert spec.group == group
    assert set(spec.parents) == parents
    assert spec.label and node not in spec.label and spec.short
    assert spec.orderable and spec.cost and spec.cost > 0


@pytest.mark.parametrize("node", sorted(NEW))
def test_numbers_have_sources_ranges_and_a_leak(node):
    refs = yaml.safe_load((ROOT / "priors" / "references.yaml").read_text())["references"]
    spec = _numbers(node)
    assert spec["leak"]["value"] > 0, "keep a leak: the finding occurs without a modelled cause"
    for p in _params(spec):
        assert p["range"][0] <= p["value"] <= p["range"][1]
        sources = p["source"] if isinstance(p["source"], list) else [p["source"]]
        for s in sources:
            assert s == "E" or s in refs, s
        if sources == ["E"]:
            assert p.get("note"), "an estimate says why in its note"


def test_case_mapping_terms(kb):
    secs = kb.mapping.sections
    assert secs["tests"].terms["ebv_pcr"] == "test_ebv_pcr"
    assert secs["tests"].terms["cmv_pcr"] == "test_cmv_pcr"
    assert secs["smear"].terms["microcytic_hypochromic"] == "smear_microcytic_hypochromic"
    assert secs["marrow_findings"].terms["lymphoma_infiltration"] == "marrow_lymphoma_infiltration"


def test_clinical_ordering_of_the_numbers():
    ebv = _numbers("test_ebv_pcr")["links"]
    # primary infection is the main source; lymphoma and immunosuppression are real but lesser ones
    assert ebv["ebv"]["value"] > ebv["hiv"]["value"] > _numbers("test_ebv_pcr")["leak"]["value"]
    assert ebv["ebv"]["value"] > ebv["lymphoma"]["value"] > _numbers("test_ebv_pcr")["leak"]["value"]
    cmv = _numbers("test_cmv_pcr")["links"]
    ages = cmv["age_group"]
    # healthy infants and young children shed CMV far more often than adults
    assert ages["infant"]["value"] > ages["young"]["value"] and ages["child"]["value"] > ages["older"]["value"]
    assert cmv["cmv"]["value"] > ages["infant"]["value"]
    micro = _numbers("smear_microcytic_hypochromic")["links"]
    assert max(micro, key=lambda k: micro[k]["value"]) == "iron_deficiency"
    lymph = _numbers("marrow_lymphoma_infiltration")["links"]
    assert max(lymph, key=lambda k: lymph[k]["value"]) == "lymphoma"


def test_b12_and_folate_do_not_make_small_pale_cells(kb):
    parents = set(kb.findings["smear_microcytic_hypochromic"].parents)
    assert not parents & {"b12_deficiency", "folate_deficiency", "alcohol"}
