"""The app's page pieces without Streamlit: form spec, scenario <-> case <-> evidence, URL, charts."""

from __future__ import annotations

import math

import pytest
import yaml

from bayesdx.case import parse_case
from bayesdx.diagnose import load_model
from bayesdx.errors import CaseError, ImpossibleEvidenceError
from bayesdx.ui.charts import compare_chart, ranking_chart, why_chart
from bayesdx.ui.scenario import compare, conflict_text, derive, evidence_diff, pct
from bayesdx.ui.share import (
    case_yaml,
    evidence_to_query,
    load_case_text,
    query_to_evidence,
    values_from_evidence,
)
from bayesdx.ui.spec import form_spec, human, state_text
from bayesdx.ui.values import case_to_values, default_values, values_to_case


@pytest.fixture(scope="module")
def model():
    return load_model()


@pytest.fixture(scope="module")
def spec(model):
    return form_spec(model.kb)


def test_the_form_covers_every_node_of_the_model(model, spec):
    covered = {"age_group", "sex", "ancestry", "course", *spec.exposure_nodes, *spec.cellularity_nodes}
    for nin in spec.numeric.values():
        covered |= set(nin.nodes)
    covered |= {t.node for t in spec.terms.values()}
    missing = [n for n in model.kb.nodes if n not in model.kb.causes and n not in covered]
    assert missing == []


def test_terms_have_three_states_in_the_contract_words(spec):
    assert spec.terms["smear.blasts"].words == ("present", "absent")
    assert spec.terms["tests.ana"].words == ("positive", "negative")
    assert spec.terms["history.alcohol_excess"].is_context
    assert not spec.terms["history.fever"].is_context


def test_labels_are_readable():
    assert human("lgl_infiltration") == "LGL infiltration"
    assert state_text("carbamazepine_late") == "carbamazepine, after risk window"
    assert state_text("very_low") == "very low"


def test_values_round_trip_through_a_case(model, spec):
    v = default_values(spec)
    v.update({"age_years": "0.75", "sex": "female", "cbc.anc": "900", "cbc.anc@unit": "/uL",
              "cbc.hb": "<10", "vitamins.b12": "111", "vitamins.b12@unit": "pmol/L",
              "vitamins.mma": "elevated", "smear.blasts": "absent", "tests.hiv": "negative",
              "history.fever": "present", "marrow.cellularity": "hypocellular",
              "marrow_findings.dysplasia": "present", "meds": ["doxorubicin", "tegretol"],
              "med.doxorubicin.days": "11", "med.tegretol.weeks": "3", "med.tegretol.stopped": "1"})
    case = values_to_case(v, spec)
    assert case["cbc"]["anc"] == "900 /uL" and case["cbc"]["hb"] == "<10"
    assert case["medications"][0] == {"name": "doxorubicin", "days_since_last_dose": 11}
    assert case["marrow"] == {"cellularity": "hypocellular", "findings": {"dysplasia": "present"}}
    ev = parse_case(case, model.kb).evidence
    back, direct, notes = case_to_values(case, spec)
    assert direct == {} and notes == []
    assert parse_case(values_to_case(back, spec), model.kb).evidence == ev
    assert back["cbc.anc"] == "900" and back["cbc.anc@unit"] == "/uL"


def test_no_medication_is_an_empty_complete_list(model, spec):
    v = default_values(spec)
    v["meds.none"] = True
    case = values_to_case(v, spec)
    assert case == {"medications": []}
    ev = derive(model, v).evidence
    assert set(ev) == set(spec.exposure_nodes) and set(ev.values()) == {"none"}
    back, _, _ = case_to_values(case, spec)
    assert back["meds.none"] is True and back["meds"] == []


def test_normal_smear_in_a_case_sets_every_term_absent(spec):
    values, _, _ = case_to_values({"smear": ["normal"], "marrow": {"findings": ["normal"]}}, spec)
    assert {values[t.fid] for t in spec.section_terms("smear")} == {"absent"}
    assert {values[t.fid] for t in spec.section_terms("marrow_findings")} == {"absent"}


def test_derive_reports_bad_fields_and_keeps_the_rest(model, spec):
    v = default_values(spec)
    v.update({"cbc.anc": "1,2", "cbc.plt": "30", "age_years": "two", "meds": ["clozapine"],
              "med.clozapine.weeks": "9", "med.clozapine.stopped": "20"})
    d = derive(model, v)
    assert set(d.field_errors) >= {"cbc.anc", "age_years", "med.clozapine.stopped"}
    assert d.evidence["plt"] == "very_low" and "anc" not in d.evidence
    assert d.evidence["exposure_antipsychotic"] == "clozapine_window"  # the drug still counts
    assert all("must" in msg for _, _, msg in d.problems)


def test_direct_evidence_never_overrides_a_field(model, spec):
    v = default_values(spec)
    v["cbc.anc"] = "0.2"
    d = derive(model, v, {"anc": "normal", "age_group": "older", "bogus": "x"})
    assert d.evidence["anc"] == "severe" and d.overridden == {"anc": "normal"}
    assert d.evidence["age_group"] == "older"
    assert "evidence.bogus" in d.field_errors and "bogus" not in d.evidence


@pytest.mark.parametrize("evidence", [
    {"anc": "severe", "exposure_antipsychotic": "clozapine_window", "age_group": "young"},
    {"mcv": "high", "microcytosis": "absent", "b12_level": "low", "sex": "male"},
    {"mcv": "high"},  # a band without its companion node stays direct
    {"marrow_hypocellular": "present", "marrow_hypercellular": "absent", "course": "chronic"},
    {},
])
def test_values_from_evidence_reproduce_the_evidence_exactly(model, evidence):
    values, direct = values_from_evidence(model, evidence)
    assert derive(model, values, direct).evidence == evidence


def test_query_parameters_are_validated(model):
    ev, msgs = query_to_evidence({"anc": ["severe"], "sle": "present", "ancc": "low", "hb": "vlow",
                                  "embed": "true"}, model)
    assert ev == {"anc": "severe"}
    text = " ".join(msgs)
    assert "'sle'" in text and "not a cause" in text
    assert "'ancc'" in text and "'hb'" in text
    assert evidence_to_query({"test_hiv": "negative", "sex": "male"}, model.kb) == \
        {"sex": "male", "test_hiv": "negative"}


def test_case_files_are_read_safely(model):
    case, notes = load_case_text("age_years: 40\ncbc: {anc: 0.4}\nmedications: [metformin]\n", model)
    assert case["cbc"]["anc"] == 0.4 and any("metformin" in n for n in notes)
    with pytest.raises(CaseError, match="must be valid YAML"):
        load_case_text("!!python/object/apply:os.system ['true']", model)
    with pytest.raises(CaseError, match="exactly one case"):
        load_case_text("cases: [{id: a}, {id: b}]", model)
    with pytest.raises(CaseError, match="did you mean clozapine"):
        load_case_text("medications: [clozapin]", model)
    text = case_yaml({"cbc": {"anc": 0.4}}, "not a medical device")
    assert text.startswith("# bayesdx case file") and yaml.safe_load(text) == {"cbc": {"anc": 0.4}}


def test_result_helpers(model):
    assert pct(0.9431) == "94%" and pct(0.0042) == "0.42%" and pct(float("nan")) == "-"
    rows = compare({"a": 0.1, "b": 0.5}, {"a": 0.3, "b": 0.2})
    assert rows[0]["id"] == "a" and math.isclose(rows[0]["delta"], 0.2)
    assert evidence_diff({"anc": "severe"}, {"anc": "normal", "sex": "male"}, model.kb) == \
        [("sex", None, "male"), ("anc", "severe", "normal")]
    err = ImpossibleEvidenceError({"anc": "normal", "smear_absent_neutrophils": "present"})
    assert conflict_text(err, model.net.labels) == \
        f"{model.net.labels['anc']} = normal; {model.net.labels['smear_absent_neutrophils']} = present"


def test_charts_keep_one_spec_per_shape():
    rows = [{"id": c, "label": c.upper(), "family": "drug", "prior": 0.01, "posterior": p}
            for c, p in (("a", 0.9), ("b", 0.2))]
    spec1, df1 = ranking_chart(rows)
    spec2, _ = ranking_chart(list(reversed(rows)))
    assert spec1 == spec2 and list(df1["rank"]) == [0, 1]  # only the data changes
    assert "data" not in spec1 and all("data" not in layer for layer in spec1["layer"])
    spec, df = why_chart([{"finding": "ANC = severe", "weight": 1.2, "lr": "LR 16", "direction": "raises",
                           "without": "3%", "exact": "16"}])
    assert spec["layer"][0]["mark"]["type"] == "bar" and len(df) == 1
    spec, df = compare_chart([{"label": "A", "family": "drug", "a": 0.9, "b": 0.95}])
    assert df["change"][0] == "+5.0 pts"
