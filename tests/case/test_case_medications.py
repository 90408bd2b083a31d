"""Tests of bayesdx.case.medications: drug names, classes and tiers, timing."""

from __future__ import annotations

import pytest
import yaml

from bayesdx.case import parse_case
from bayesdx.knowledge.load import load_knowledge

from test_case_common import ALL_EXPOSURES, ev, problems


@pytest.fixture(scope="module")
def kb():
    return load_knowledge()


# --------------------------------------------------------------------------- drug names and classes


CONTRACT_DRUGS = [
    "clozapine", "olanzapine", "risperidone", "chlorpromazine", "haloperidol", "quetiapine",
    "methimazole", "carbimazole", "propylthiouracil", "carbamazepine", "valproate", "phenytoin",
    "lamotrigine", "trimethoprim_sulfamethoxazole", "vancomycin", "ceftriaxone",
    "piperacillin_tazobactam", "penicillin", "cloxacillin", "linezolid", "dapsone",
    "azathioprine", "mercaptopurine", "methotrexate", "mycophenolate", "cyclophosphamide",
    "tacrolimus", "rituximab", "prednisone", "sulfasalazine", "leflunomide", "doxorubicin",
    "carboplatin", "paclitaxel", "capecitabine", "fluorouracil", "cisplatin", "zidovudine",
    "valganciclovir", "amoxicillin", "cefazolin", "nafcillin",
]


NO_EFFECT_DRUGS = ["propranolol", "amlodipine", "lorazepam", "metformin", "levothyroxine",
                   "omeprazole", "ondansetron", "atorvastatin", "lisinopril"]


@pytest.mark.parametrize("drug", CONTRACT_DRUGS + NO_EFFECT_DRUGS)
def test_contract_drugs_are_known(kb, drug):
    parsed = parse_case({"medications": [{"name": drug}]}, kb)
    assert all(state in kb.states(node) for node, state in parsed.evidence.items())


def test_every_drug_and_alias_in_the_data_file_resolves(kb):
    names = [*kb.drugs.drugs, *kb.drugs.aliases]
    for name in names:
        parse_case({"medications": [name]}, kb)
    for alias, target in kb.drugs.aliases.items():
        assert target in kb.drugs.drugs, alias


@pytest.mark.parametrize("drug,cls,tier", [
    ("cyclophosphamide", "chemotherapy", "on"), ("prednisone", "corticosteroid", "on"),
    ("sulfasalazine", "immunosuppressant", "low"), ("leflunomide", "immunosuppressant", "low"),
    ("tacrolimus", "immunosuppressant", "low"), ("rituximab", "immunosuppressant", "low"),
    ("azathioprine", "immunosuppressant", "high"), ("mercaptopurine", "immunosuppressant", "high"),
    ("methotrexate", "immunosuppressant", "high"), ("mycophenolate", "immunosuppressant", "high"),
    ("dapsone", "antibiotic", "on"), ("trimethoprim_sulfamethoxazole", "antibiotic", "on"),
    ("vancomycin", "antibiotic", "on"), ("linezolid", "antibiotic", "on"),
    ("ceftriaxone", "antibiotic", "on"), ("piperacillin_tazobactam", "antibiotic", "on"),
    ("penicillin", "antibiotic", "on"), ("cloxacillin", "antibiotic", "on"),
    ("amoxicillin", "antibiotic", "on"), ("cefazolin", "antibiotic", "on"),
    ("nafcillin", "antibiotic", "on"), ("clozapine", "antipsychotic", "clozapine"),
    ("haloperidol", "antipsychotic", "other"), ("carbamazepine", "anticonvulsant", "carbamazepine"),
    ("valproate", "anticonvulsant", "other"), ("methimazole", "antithyroid", "on"),
    ("zidovudine", "antiviral", "on"), ("valganciclovir", "antiviral", "on"),
    ("doxorubicin", "chemotherapy", "on"), ("cisplatin", "chemotherapy", "on"),
])
def test_drug_classes(kb, drug, cls, tier):
    spec = kb.drugs.drugs[drug]
    assert (spec.cls, spec.tier) == (cls, tier)
    node = kb.drugs.classes[cls].node
    assert ev({"medications": [drug]}, kb)[node] == f"{tier}_unknown"


@pytest.mark.parametrize("name", ["TMP-SMX", "co-trimoxazole", "Bactrim", "cotrimoxazole",
                                  "TMP/SMX", "Septra"])
def test_tmp_smx_spellings(kb, name):
    assert ev({"medications": [name]}, kb)["exposure_antibiotic"] == "on_unknown"


@pytest.mark.parametrize("name,node,state", [
    ("Clozaril", "exposure_antipsychotic", "clozapine_unknown"),
    ("Mycophenolate Mofetil", "exposure_immunosuppressant", "high_unknown"),
    ("quetiapine fumarate XR", "exposure_antipsychotic", "other_unknown"),
    ("Clozapine 100mg", "exposure_antipsychotic", "clozapine_unknown"),
    ("methotrexate 15 mg", "exposure_immunosuppressant", "high_unknown"),
    ("piperacillin-tazobactam", "exposure_antibiotic", "on_unknown"),
    ("5-FU", "exposure_chemotherapy", "on_unknown"),
    ("sodium valproate", "exposure_anticonvulsant", "other_unknown"),
])
def test_drug_name_normalisation(kb, name, node, state):
    assert ev({"medications": [name]}, kb)[node] == state


# --------------------------------------------------------------------------- the list is complete


def test_medication_list_is_complete(kb):
    assert ev({"medications": []}, kb) == {n: "none" for n in ALL_EXPOSURES}
    e = ev({"medications": [{"name": "clozapine", "weeks": 9}]}, kb)
    assert e["exposure_antipsychotic"] == "clozapine_window"
    assert all(e[n] == "none" for n in ALL_EXPOSURES if n != "exposure_antipsychotic")
    assert not any(n in ev({"sex": "male"}, kb) for n in ALL_EXPOSURES)  # no key: unknown


def test_no_effect_drugs_are_ignored_with_reason(kb):
    parsed = parse_case({"medications": ["propranolol", "omeprazole"]}, kb)
    assert parsed.evidence == {n: "none" for n in ALL_EXPOSURES}
    assert parsed.ignored == [
        {"field": "medications.propranolol", "reason": "propranolol: no marrow effect modelled"},
        {"field": "medications.omeprazole", "reason": "omeprazole: no marrow effect modelled"},
    ]
    parsed = parse_case({"medications": ["metamizole"]}, kb)   # modelled since issue 10
    assert parsed.ignored == [] and parsed.evidence["exposure_other_agranulocytosis"] == "on_unknown"
    parsed = parse_case({"medications": ["Inderal"]}, kb)
    assert parsed.ignored == [{"field": "medications.inderal",
                               "reason": "inderal (propranolol): no marrow effect modelled"}]


# --------------------------------------------------------------------------- timing


@pytest.mark.parametrize("item,state", [
    ({"name": "clozapine"}, "clozapine_unknown"),
    ({"name": "clozapine", "weeks": 2}, "clozapine_early"),
    ({"name": "clozapine", "weeks": 4}, "clozapine_window"),
    ({"name": "clozapine", "weeks": 18}, "clozapine_window"),
    ({"name": "clozapine", "weeks": 30}, "clozapine_late"),
    ({"name": "clozapine", "weeks": "2 months"}, "clozapine_window"),
    ({"name": "clozapine", "stopped_weeks_ago": 2}, "clozapine_window"),
    ({"name": "clozapine", "weeks": 100, "stopped_weeks_ago": 2}, "clozapine_late"),
    ({"name": "clozapine", "weeks": 3, "stopped_weeks_ago": 1}, "clozapine_early"),
    ({"name": "clozapine", "stopped_weeks_ago": 10}, "stopped"),
    ({"name": "clozapine", "days_since_last_dose": 60}, "stopped"),
    ({"name": "clozapine", "weeks": 9, "days_since_last_dose": 1}, "clozapine_window"),
    ({"name": "olanzapine", "weeks": 9}, "other_window"),
])
def test_antipsychotic_timing(kb, item, state):
    assert ev({"medications": [item]}, kb)["exposure_antipsychotic"] == state


@pytest.mark.parametrize("item,state", [
    ({"name": "doxorubicin"}, "on_unknown"),
    ({"name": "doxorubicin", "days_since_last_dose": 2}, "on_early"),
    ({"name": "doxorubicin", "days_since_last_dose": 11}, "on_window"),
    ({"name": "doxorubicin", "days_since_last_dose": "2 weeks"}, "on_window"),
    ({"name": "doxorubicin", "days_since_last_dose": 30}, "on_late"),
    ({"name": "doxorubicin", "days_since_last_dose": 60}, "stopped"),
    ({"name": "doxorubicin", "stopped_weeks_ago": 2}, "on_window"),
    ({"name": "doxorubicin", "stopped_weeks_ago": 10}, "stopped"),
    ({"name": "doxorubicin", "weeks": 12}, "on_unknown"),
])
def test_chemotherapy_timing(kb, item, state):
    assert ev({"medications": [item]}, kb)["exposure_chemotherapy"] == state


def test_chemotherapy_weeks_since_start_is_listed_as_ignored(kb):
    parsed = parse_case({"medications": [{"name": "carboplatin", "weeks": 12}]}, kb)
    assert any(i["field"] == "medications[0].weeks" for i in parsed.ignored)


@pytest.mark.parametrize("cls", ["antipsychotic", "antithyroid", "anticonvulsant", "antibiotic",
                                 "immunosuppressant", "chemotherapy", "antiviral", "corticosteroid"])
def test_every_class_window_and_stop(kb, cls):
    spec = kb.drugs.classes[cls]
    drug = next(d for d, s in kb.drugs.drugs.items() if s.cls == cls)
    tier = kb.drugs.drugs[drug].tier
    clock = "days_since_last_dose" if spec.timing == "days_since_last_dose" else "weeks"
    lo, hi = spec.window
    e = ev({"medications": [{"name": drug, clock: (lo + hi) / 2}]}, kb)
    assert e[spec.node] == f"{tier}_window"
    e = ev({"medications": [{"name": drug, "stopped_weeks_ago": spec.stopped_effect_weeks + 1}]}, kb)
    assert e[spec.node] == "stopped"
    assert spec.precedence[-1] == "stopped"


def test_a_drug_may_keep_its_effect_longer_than_its_class(kb):
    # rituximab's late-onset neutropenia: 26 weeks, against 6 for the immunosuppressant class
    assert kb.drugs.classes["immunosuppressant"].stopped_effect_weeks == 6
    assert kb.drugs.drugs["rituximab"].stopped_effect_weeks == 26
    assert kb.drugs.drugs["azathioprine"].stopped_effect_weeks is None
    e = ev({"medications": [{"name": "rituximab", "stopped_weeks_ago": 14}]}, kb)
    assert e["exposure_immunosuppressant"] != "stopped"
    assert e["exposure_immunosuppressant"] == "low_window"
    e = ev({"medications": [{"name": "azathioprine", "stopped_weeks_ago": 14}]}, kb)
    assert e["exposure_immunosuppressant"] == "stopped"
    e = ev({"medications": [{"name": "MabThera", "weeks": 40, "stopped_weeks_ago": 14}]}, kb)
    assert e["exposure_immunosuppressant"] == "low_late"
    assert ev({"medications": [{"name": "rituximab", "stopped_weeks_ago": 27}]},
              kb)["exposure_immunosuppressant"] == "stopped"
    parsed = parse_case({"medications": [{"name": "rituximab", "days_since_last_dose": 100}]}, kb)
    assert parsed.evidence["exposure_immunosuppressant"] == "low_unknown"
    assert parsed.ignored[0]["field"] == "medications[0].days_since_last_dose"
    assert ev({"medications": [{"name": "rituximab", "days_since_last_dose": 190}]},
              kb)["exposure_immunosuppressant"] == "stopped"
    e = ev({"medications": [{"name": "rituximab", "stopped_weeks_ago": 14},
                            {"name": "azathioprine", "stopped_weeks_ago": 14}]}, kb)
    assert e["exposure_immunosuppressant"] == "low_window"


def test_every_drug_override_of_the_stop_period(kb):
    overrides = {d: s for d, s in kb.drugs.drugs.items() if s.stopped_effect_weeks is not None}
    assert "rituximab" in overrides
    for drug, spec in overrides.items():
        cls = kb.drugs.classes[spec.cls]
        at = ev({"medications": [{"name": drug, "stopped_weeks_ago": spec.stopped_effect_weeks}]}, kb)
        after = ev({"medications": [{"name": drug, "stopped_weeks_ago": spec.stopped_effect_weeks + 1}]}, kb)
        assert at[cls.node] != "stopped", drug
        assert after[cls.node] == "stopped", drug


def test_precedence_within_a_class(kb):
    e = ev({"medications": [{"name": "sulfasalazine", "weeks": 5}, {"name": "azathioprine", "weeks": 100}]}, kb)
    assert e["exposure_immunosuppressant"] == "high_late"
    e = ev({"medications": [{"name": "olanzapine", "weeks": 9}, {"name": "clozapine", "weeks": 100}]}, kb)
    assert e["exposure_antipsychotic"] == "clozapine_late"
    e = ev({"medications": [{"name": "vancomycin", "stopped_weeks_ago": 20},
                            {"name": "ceftriaxone", "weeks": 3}]}, kb)
    assert e["exposure_antibiotic"] == "on_window"
    e = ev({"medications": [{"name": "ceftriaxone", "weeks": 1}, {"name": "dapsone"}]}, kb)
    assert e["exposure_antibiotic"] == "on_unknown"


def test_medication_shorthands_and_dose(kb):
    e1 = ev({"medications": ["clozapine"]}, kb)
    e2 = ev(yaml.safe_load("medications:\n  - clozapine: {weeks: 9}\n"), kb)
    assert e1["exposure_antipsychotic"] == "clozapine_unknown"
    assert e2["exposure_antipsychotic"] == "clozapine_window"
    parsed = parse_case({"medications": [{"name": "methimazole", "weeks": 5, "dose": "30 mg"}]}, kb)
    assert parsed.evidence["exposure_antithyroid"] == "on_window"
    assert parsed.ignored == [{"field": "medications.methimazole.dose", "reason": "the dose is not modelled"}]


# --------------------------------------------------------------------------- errors and lenient mode


def test_medication_consistency_errors(kb):
    assert "stopped_weeks_ago" in problems(
        {"medications": [{"name": "clozapine", "weeks": 3, "stopped_weeks_ago": 5}]}, kb)
    assert "must list each drug once" in problems({"medications": ["bactrim", "TMP-SMX"]}, kb)
    assert "patient's age" in problems({"age_years": 2, "medications": [{"name": "valproate", "weeks": 300}]}, kb)
    assert "medications[0].nme" in problems({"medications": [{"nme": "clozapine", "name": "clozapine"}]}, kb)
    assert "days_since_last_dose" in problems(
        {"medications": [{"name": "doxorubicin", "stopped_weeks_ago": 8, "days_since_last_dose": 3}]}, kb)


def test_misspelt_drug_fails_with_suggestion(kb):
    msg = problems({"medications": [{"name": "clozapin", "weeks": 9}]}, kb)
    assert "medications[0].name" in msg
    assert "did you mean clozapine" in msg
    assert "--lenient" in msg


def test_lenient_lists_unknown_drugs(kb):
    parsed = parse_case({"medications": [{"name": "clozapin"}, {"name": "carbamazepine", "weeks": 3}]},
                        kb, lenient=True)
    assert parsed.evidence == {"exposure_anticonvulsant": "carbamazepine_window"}
    fields = [i["field"] for i in parsed.ignored]
    assert fields == ["medications.clozapin", "medications"]
    assert "did you mean clozapine" in parsed.ignored[0]["reason"]
    # lenient does not hide other problems
    assert "cbc.anc" in problems({"cbc": {"anc": "x"}, "medications": ["foo"]}, kb, lenient=True)
