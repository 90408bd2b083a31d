"""Tests of bayesdx.case (case files -> evidence) and bayesdx.units.

Run against the real knowledge files (``load_knowledge()``).
"""

from __future__ import annotations

import doctest
import json
import random
import re
from pathlib import Path

import pytest
import yaml

import bayesdx.case as case_module
import bayesdx.units as units_module
from bayesdx.case import ParsedCase, evidence_to_case, parse_case, read_cases
from bayesdx.errors import CaseError
from bayesdx.knowledge import load_knowledge
from bayesdx.units import UnitError, convert, read_value


@pytest.fixture(scope="module")
def kb():
    return load_knowledge()


def ev(data, kb, **kw):
    return parse_case(data, kb, **kw).evidence


def problems(data, kb, **kw) -> str:
    with pytest.raises(CaseError) as info:
        parse_case(data, kb, **kw)
    return str(info.value)


# --------------------------------------------------------------------------- the contract's example

EXAMPLE = """
id: example-1
age_years: 34
sex: female
ancestry: african
duration: chronic
cbc:
  wbc: 3.2
  anc: 1.1
  alc: 1.7
  amc: 0.4
  hb: 12.9
  plt: 245
  mcv: 88
  retic: 50
  eos: 0.1
baseline_cbc:
  anc: 3.8
  weeks_ago: 12
smear: [normal]
medications:
  - name: clozapine
    weeks: 9
  - name: methotrexate
    stopped_weeks_ago: 8
  - name: doxorubicin
    days_since_last_dose: 11
history:
  rheumatoid_arthritis: present
  splenomegaly: absent
tests:
  ana: positive
  hiv: negative
vitamins:
  b12: 150
  folate: "2.1 ng/mL"
  copper: 40
  ceruloplasmin: 12
  mma: elevated
  zinc: 180
marrow:
  cellularity: hypocellular
  findings: [dysplasia]
"""

SMEAR_TERMS = ["blasts", "hypersegmented_neutrophils", "dysplastic_neutrophils",
               "large_granular_lymphocytes", "hairy_cells", "atypical_lymphocytes",
               "macro_ovalocytes", "absent_neutrophils", "auer_rods"]

EXAMPLE_EVIDENCE = {
    "age_group": "young", "sex": "female", "ancestry": "african", "course": "chronic",
    "anc": "mild", "alc": "normal", "amc": "normal", "monocytosis": "absent", "hb": "normal",
    "plt": "normal", "mcv": "normal", "microcytosis": "absent", "retic": "normal",
    "eosinophilia": "absent", "baseline_anc": "normal",
    "b12_level": "low", "folate_level": "low", "copper_level": "low",
    "ceruloplasmin_level": "low", "mma": "elevated", "zinc_level": "high",
    **{f"smear_{t}": "absent" for t in SMEAR_TERMS},
    "hx_rheumatoid_arthritis": "present", "hx_splenomegaly": "absent",
    "test_ana": "positive", "test_hiv": "negative",
    "marrow_hypocellular": "present", "marrow_hypercellular": "absent", "marrow_dysplasia": "present",
    "exposure_antipsychotic": "clozapine_window",      # week 9 of [4, 18]
    "exposure_immunosuppressant": "stopped",           # stopped 8 > 6 weeks ago
    "exposure_chemotherapy": "on_window",              # day 11 of [5, 21]
    "exposure_antithyroid": "none", "exposure_anticonvulsant": "none",
    "exposure_antibiotic": "none", "exposure_antiviral": "none", "exposure_corticosteroid": "none",
}


def test_contract_example_parses_to_expected_evidence(kb):
    parsed = parse_case(yaml.safe_load(EXAMPLE), kb)
    assert parsed.id == "example-1"
    assert parsed.evidence == EXAMPLE_EVIDENCE
    fields = {i["field"] for i in parsed.ignored}
    assert fields == {"cbc.wbc", "baseline_cbc.weeks_ago"}
    assert all(i["reason"] for i in parsed.ignored)
    assert parsed.raw == yaml.safe_load(EXAMPLE)


def test_contract_example_in_shared_doc_still_matches(kb):
    doc = Path(__file__).resolve().parents[1].parent / "shared" / "case-format.md"
    if not doc.exists():
        pytest.skip("shared/case-format.md not beside the checkout")
    block = re.search(r"```yaml\n(.*?)```", doc.read_text(encoding="utf-8"), re.S).group(1)
    assert parse_case(yaml.safe_load(block), kb).evidence == EXAMPLE_EVIDENCE


def test_empty_case_gives_no_evidence(kb):
    assert parse_case({}, kb) == ParsedCase(id=None, evidence={}, ignored=[], raw={})


def test_every_evidence_node_and_state_exists(kb):
    for node, state in parse_case(yaml.safe_load(EXAMPLE), kb).evidence.items():
        assert state in kb.states(node), node


# --------------------------------------------------------------------------- public API


def test_all_is_the_public_api():
    assert sorted(case_module.__all__) == ["ParsedCase", "evidence_to_case", "parse_case", "read_cases"]
    for name in case_module.__all__:
        assert getattr(case_module, name).__doc__
    assert sorted(units_module.__all__) == ["Reading", "UnitError", "convert", "parse_unit",
                                            "read_value", "registry"]
    for name in units_module.__all__:
        assert getattr(units_module, name).__doc__


@pytest.mark.parametrize("module", [case_module, units_module])
def test_doctests(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_parsed_case_is_frozen(kb):
    parsed = parse_case({"sex": "male"}, kb)
    with pytest.raises(AttributeError):
        parsed.id = "x"  # type: ignore[misc]


# --------------------------------------------------------------------------- vocabulary

HISTORY_TERMS = [
    "alcohol_excess", "radiation_exposure", "bariatric_surgery", "malabsorption", "zinc_supplements",
    "vegan_diet", "injection_drug_use", "high_risk_sexual_exposure", "rheumatoid_arthritis",
    "sle_known", "cirrhosis", "chronic_kidney_disease", "dialysis", "splenomegaly",
    "lymphadenopathy", "recurrent_infections", "mouth_ulcers", "fever", "sore_throat", "rash",
    "joint_pain", "family_history_low_wbc", "onset_in_infancy", "hyperthyroidism",
    "cancer_treatment", "prior_chemotherapy", "exposure_to_young_children",
    "neurological_symptoms", "bone_pain", "hepatomegaly", "poor_diet", "consanguinity",
    "recent_hepatitis", "sjogren_syndrome", "portal_hypertension", "high_ldh",
]
TEST_TERMS = [
    "ana", "anti_dsdna", "anti_smith", "anti_ro", "rf", "anti_ccp", "low_complement",
    "direct_coombs", "hiv", "hbsag", "anti_hcv", "hcv_rna", "ebv_vca_igm", "heterophile",
    "parvovirus_b19_igm", "parvovirus_b19_pcr", "anti_neutrophil_antibodies", "duffy_null",
    "lgl_clonality", "braf_v600e", "elane_mutation", "pnh_clone", "low_cd4",
    "intrinsic_factor_antibodies", "abnormal_karyotype", "myeloid_gene_panel", "stat3_mutation",
    "hax1_mutation", "tpmt_nudt15_deficiency",
]
MARROW_TERMS = ["dysplasia", "increased_blasts", "megaloblastic", "maturation_arrest",
                "ring_sideroblasts", "vacuolated_precursors", "lgl_infiltration",
                "hairy_cell_infiltration", "fibrosis", "absent_erythroid_precursors"]
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


@pytest.mark.parametrize("term", SMEAR_TERMS)
def test_smear_terms_list_and_mapping(kb, term):
    assert ev({"smear": [term]}, kb) == {f"smear_{term}": "present"}
    assert ev({"smear": {term: "absent"}}, kb) == {f"smear_{term}": "absent"}
    assert ev({"smear": {term: "present"}}, kb) == {f"smear_{term}": "present"}


@pytest.mark.parametrize("term", HISTORY_TERMS)
def test_history_terms(kb, term):
    assert ev({"history": {term: "present"}}, kb) == {f"hx_{term}": "present"}
    assert ev({"history": {term: "absent"}}, kb) == {f"hx_{term}": "absent"}
    assert ev({"history": [term]}, kb) == {f"hx_{term}": "present"}


@pytest.mark.parametrize("term", TEST_TERMS)
def test_test_terms(kb, term):
    assert ev({"tests": {term: "positive"}}, kb) == {f"test_{term}": "positive"}
    assert ev({"tests": {term: "negative"}}, kb) == {f"test_{term}": "negative"}
    assert ev({"tests": [term]}, kb) == {f"test_{term}": "positive"}


@pytest.mark.parametrize("term", MARROW_TERMS)
def test_marrow_terms(kb, term):
    assert ev({"marrow": {"findings": [term]}}, kb) == {f"marrow_{term}": "present"}
    assert ev({"marrow": {"findings": {term: "absent"}}}, kb) == {f"marrow_{term}": "absent"}


@pytest.mark.parametrize("word,hypo,hyper", [("hypocellular", "present", "absent"),
                                             ("normocellular", "absent", "absent"),
                                             ("hypercellular", "absent", "present")])
def test_marrow_cellularity(kb, word, hypo, hyper):
    assert ev({"marrow": {"cellularity": word}}, kb) == {
        "marrow_hypocellular": hypo, "marrow_hypercellular": hyper}


@pytest.mark.parametrize("field,node,words", [
    ("sex", "sex", ["female", "male"]),
    ("ancestry", "ancestry", ["african", "european", "east_asian", "south_asian", "hispanic",
                              "middle_eastern", "other"]),
    ("duration", "course", ["acute", "chronic", "cyclic"]),
])
def test_categorical_fields(kb, field, node, words):
    for w in words:
        assert ev({field: w}, kb) == {node: w}
    if field != "sex":
        assert ev({field: "unknown"}, kb) == {}


@pytest.mark.parametrize("mma,state", [("elevated", "elevated"), ("normal", "normal"),
                                       (0.2, "normal"), ("550 nmol/L", "elevated")])
def test_mma(kb, mma, state):
    assert ev({"vitamins": {"mma": mma}}, kb) == {"mma": state}


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


# --------------------------------------------------------------------------- units and bands


@pytest.mark.parametrize("value,state", [
    (150, "low"), ("111 pmol/L", "low"), ("200 pmol/L", "borderline"), ("300 pmol/L", "normal"),
    ("250 pg/mL", "borderline"), ("0.4 ng/mL", "normal"), (350, "normal"), (199.9, "low"),
])
def test_b12_units(kb, value, state):
    assert ev({"vitamins": {"b12": value}}, kb) == {"b12_level": state}


@pytest.mark.parametrize("value,state", [
    ("6 nmol/L", "low"), ("10 nmol/L", "normal"), ("2.1 ng/mL", "low"), (3, "normal"),
    ("2 ug/L", "low"),
])
def test_folate_units(kb, value, state):
    assert ev({"vitamins": {"folate": value}}, kb) == {"folate_level": state}


@pytest.mark.parametrize("value,state", [
    ("10 umol/L", "low"), ("12 umol/L", "normal"), (40, "low"), ("0.9 mg/L", "normal"),
    ("11 µmol/L", "low"), ("11 μmol/L", "low"), ("60 mcg/dL", "low"),
])
def test_copper_units(kb, value, state):
    assert ev({"vitamins": {"copper": value}}, kb) == {"copper_level": state}


def test_zinc_and_ceruloplasmin_units(kb):
    assert ev({"vitamins": {"zinc": "25 umol/L"}}, kb) == {"zinc_level": "high"}
    assert ev({"vitamins": {"zinc": "15 umol/L"}}, kb) == {"zinc_level": "normal"}
    assert ev({"vitamins": {"ceruloplasmin": "0.12 g/L"}}, kb) == {"ceruloplasmin_level": "low"}
    assert ev({"vitamins": {"ceruloplasmin": 25}}, kb) == {"ceruloplasmin_level": "normal"}


@pytest.mark.parametrize("hb,sex,age,state", [
    ("129 g/L", "female", 34, "normal"), ("115 g/L", "female", 34, "low"),
    ("125 g/L", "male", 34, "low"), ("95 g/L", "male", 34, "very_low"), (12.5, None, None, "normal"),
    (12.5, "male", None, "low"), (11.5, "male", 6, "normal"), (10.5, "female", 0.5, "low"),
])
def test_hb_units_and_bands(kb, hb, sex, age, state):
    case = {"cbc": {"hb": hb}}
    if sex:
        case["sex"] = sex
    if age is not None:
        case["age_years"] = age
    assert ev(case, kb)["hb"] == state


@pytest.mark.parametrize("anc,state", [
    ("1100 /uL", "mild"), ("1.1 x10^9/L", "mild"), ("1.1 ×10⁹/L", "mild"), ("1.1 10^3/uL", "mild"),
    ("1100/mm3", "mild"), ("1100 cells/uL", "mild"), ("1.1 K/uL", "mild"), ("1.1 G/L", "mild"),
    ("450 /uL", "severe"), (0.5, "moderate"), (1.5, "normal"), ("1500 /uL", "normal"),
    (1.4999, "mild"), (0.0, "severe"),
])
def test_count_units_and_anc_bands(kb, anc, state):
    assert ev({"cbc": {"anc": anc}}, kb) == {"anc": state}


@pytest.mark.parametrize("age,anc,state", [
    (0.5, 1.2, "normal"), (0.5, 0.9, "mild"), (0.5, 0.6, "moderate"), (0.5, 0.4, "severe"),
    ("9 months", 1.2, "normal"), (3, 1.2, "mild"), (70, 1.2, "mild"),
])
def test_infant_anc_threshold(kb, age, anc, state):
    assert ev({"age_years": age, "cbc": {"anc": anc}}, kb)["anc"] == state


@pytest.mark.parametrize("age,group", [(0, "infant"), (0.99, "infant"), (1, "child"),
                                       (11.9, "child"), (12, "young"), (39, "young"),
                                       (40, "middle"), (59.5, "middle"), (60, "older"),
                                       (101, "older"), ("6 months", "infant")])
def test_age_groups(kb, age, group):
    assert ev({"age_years": age}, kb) == {"age_group": group}


def test_other_cbc_bands(kb):
    e = ev({"cbc": {"alc": 0.8, "amc": 0.1, "plt": "45 10^3/uL", "mcv": 79, "retic": 8,
                    "eos": 0.7}}, kb)
    assert e == {"alc": "low", "amc": "low", "monocytosis": "absent", "plt": "very_low",
                 "mcv": "normal", "microcytosis": "present", "retic": "very_low",
                 "eosinophilia": "present"}
    e = ev({"cbc": {"alc": 0.3, "amc": 1.4, "plt": 120, "mcv": 118, "retic": 20}}, kb)
    assert e == {"alc": "very_low", "amc": "normal", "monocytosis": "present", "plt": "low",
                 "mcv": "very_high", "microcytosis": "absent", "retic": "low"}
    assert ev({"cbc": {"mcv": 104}}, kb)["mcv"] == "high"
    assert ev({"cbc": {"mcv": 80}}, kb)["microcytosis"] == "absent"


def test_wbc_used_only_without_differential(kb):
    assert ev({"cbc": {"wbc": 3.2}}, kb) == {"wbc": "low"}
    assert ev({"cbc": {"wbc": 1.5}}, kb) == {"wbc": "very_low"}
    assert ev({"cbc": {"wbc": "4500 /uL"}}, kb) == {"wbc": "normal"}
    assert ev({"age_years": 0.5, "cbc": {"wbc": 5.0}}, kb)["wbc"] == "low"
    for diff in ({"anc": 1.0}, {"alc": 1.0}):
        parsed = parse_case({"cbc": {"wbc": 3.2, **diff}}, kb)
        assert "wbc" not in parsed.evidence
        assert [i["field"] for i in parsed.ignored] == ["cbc.wbc"]
        assert "ANC or ALC" in parsed.ignored[0]["reason"]


def test_baseline_cbc(kb):
    parsed = parse_case({"baseline_cbc": {"anc": 1.2, "hb": 13, "plt": 200, "weeks_ago": "3 months"}}, kb)
    assert parsed.evidence == {"baseline_anc": "low"}
    assert {i["field"] for i in parsed.ignored} == {"baseline_cbc.hb", "baseline_cbc.plt",
                                                    "baseline_cbc.weeks_ago"}
    assert ev({"age_years": 0.5, "baseline_cbc": {"anc": 1.2}}, kb) == {
        "age_group": "infant", "baseline_anc": "normal"}
    assert ev({"baseline_cbc": {"anc": "3800 /uL"}}, kb) == {"baseline_anc": "normal"}
    assert "baseline_cbc.hb" in problems({"baseline_cbc": {"hb": "150 kg"}}, kb)


def test_words_instead_of_numbers(kb):
    assert ev({"cbc": {"anc": "Moderate", "mcv": "high", "amc": "high"}, "vitamins": {"b12": "low"}}, kb) == {
        "anc": "moderate", "mcv": "high", "microcytosis": "absent", "amc": "normal",
        "monocytosis": "present", "b12_level": "low"}


@pytest.mark.parametrize("value,state", [("<100 pg/mL", "low"), (">2000", "normal"),
                                         ("<=199", "low"), ("≥350", "normal")])
def test_censored_values(kb, value, state):
    assert ev({"vitamins": {"b12": value}}, kb) == {"b12_level": state}


def test_censored_value_spanning_bands_is_an_error(kb):
    msg = problems({"vitamins": {"b12": "<300"}}, kb)
    assert "vitamins.b12" in msg and "low or borderline" in msg


def test_mapping_units_all_convert_with_pint(kb):
    m = kb.mapping
    for group in ("cbc", "baseline_cbc", "vitamins"):
        for name, nf in getattr(m, group).items():
            for unit in nf.also_units:
                convert(1.0, unit, nf.unit, molar_mass=nf.molar_mass)
            lo, hi = nf.plausible
            assert lo < hi, name


def test_units_module_directly():
    assert read_value("129 g/L", "g/dL").value == 12.9
    assert read_value("111 pmol/L", "pg/mL", molar_mass="1355.37 g/mol").value == pytest.approx(150.45, abs=0.01)
    assert convert(1500, "/uL", "10^9/L") == 1.5
    for bad, kind in [("150 kg", "dimension"), ("abc", "syntax"), ("nan", "nonfinite"),
                      ("inf pg/mL", "nonfinite"), ("3 bogons", "unit"), ("1,5", "syntax")]:
        with pytest.raises(UnitError) as info:
            read_value(bad, "pg/mL")
        assert info.value.kind == kind, bad
    for bad in (float("nan"), float("inf"), True, None, [1]):
        with pytest.raises(UnitError):
            read_value(bad, "pg/mL")


# --------------------------------------------------------------------------- bad values


@pytest.mark.parametrize("case,path", [
    ({"cbc": {"anc": "150 kg"}}, "cbc.anc"),
    ({"vitamins": {"b12": "150 kg"}}, "vitamins.b12"),
    ({"cbc": {"plt": -3}}, "cbc.plt"),
    ({"cbc": {"anc": float("nan")}}, "cbc.anc"),
    ({"cbc": {"anc": float("inf")}}, "cbc.anc"),
    ({"cbc": {"anc": "NaN"}}, "cbc.anc"),
    ({"cbc": {"hb": "inf g/dL"}}, "cbc.hb"),
    ({"cbc": {"hb": 129}}, "cbc.hb"),
    ({"cbc": {"anc": True}}, "cbc.anc"),
    ({"cbc": {"retic": "2 %"}}, "cbc.retic"),
    ({"age_years": 130}, "age_years"),
    ({"age_years": -1}, "age_years"),
    ({"age_years": "34 kg"}, "age_years"),
    ({"vitamins": {"copper": "1,5"}}, "vitamins.copper"),
])
def test_bad_values_name_field_units_and_example(kb, case, path):
    msg = problems(case, kb)
    assert f"<case>: {path}:" in msg
    assert "try" in msg and ("e.g." in msg or ": " in msg.split("try", 1)[1])


def test_wrong_dimension_message(kb):
    msg = problems({"vitamins": {"b12": "150 kg"}}, kb)
    assert "pg/mL" in msg and "pmol/L" in msg           # accepted units
    assert 'b12: 200 or b12: "148 pmol/L"' in msg      # an example
    assert "kg is a mass" in msg


def test_anc_greater_than_wbc(kb):
    msg = problems({"cbc": {"wbc": 2.0, "anc": 3.0}}, kb)
    assert "cbc.anc: must not exceed the WBC" in msg
    msg = problems({"cbc": {"wbc": 2.0, "anc": 1.2, "alc": 1.3}}, kb)
    assert "differential" in msg
    # rounding of the contract's example (3.3 vs 3.2) is tolerated
    ev({"cbc": {"wbc": 3.2, "anc": 1.1, "alc": 1.7, "amc": 0.4, "eos": 0.1}}, kb)
    assert "baseline_cbc.anc" in problems({"baseline_cbc": {"wbc": 2.0, "anc": 3.0}}, kb)


@pytest.mark.parametrize("data", [
    None, [], "x", 3, {"cbc": []}, {"cbc": {"anc": {}}}, {"medications": "clozapine"},
    {"medications": [3]}, {"medications": [{"weeks": 3}]}, {"smear": 5}, {"history": [{"a": 1}]},
    {"evidence": []}, {"marrow": "x"}, {1: 2}, {"sex": 1}, {"tests": {"ana": 1}},
    {"medications": [{"name": "clozapine", "weeks": "soon"}]}, {"id": {"a": 1}},
    {"marrow": {"cellularity": ["x"]}}, {"evidence": {"anc": 1}},
    {"medications": [{"name": "clozapine", "weeks": "<3"}]},
])
def test_garbage_is_a_case_error_never_a_traceback(kb, data):
    with pytest.raises(CaseError):
        parse_case(data, kb)


# --------------------------------------------------------------------------- absent vs unknown


def test_unmentioned_is_unknown_and_absent_is_evidence(kb):
    e = ev({"history": {"splenomegaly": "absent"}}, kb)
    assert e == {"hx_splenomegaly": "absent"}
    assert "hx_fever" not in e
    assert ev({"tests": {"hiv": "negative"}}, kb) == {"test_hiv": "negative"}


def test_null_values_are_unknown(kb):
    assert ev({"cbc": {"anc": None}, "history": {"fever": None}, "sex": None, "smear": None,
               "medications": None, "vitamins": None, "marrow": {"findings": None}}, kb) == {}


def test_normal_sets_every_term_absent(kb):
    assert ev({"smear": ["normal"]}, kb) == {f"smear_{t}": "absent" for t in SMEAR_TERMS}
    assert ev({"smear": "normal"}, kb) == {f"smear_{t}": "absent" for t in SMEAR_TERMS}
    assert ev({"smear": {"normal": "present"}}, kb) == {f"smear_{t}": "absent" for t in SMEAR_TERMS}
    assert ev({"marrow": {"findings": ["normal"]}}, kb) == {f"marrow_{t}": "absent" for t in MARROW_TERMS}
    # an explicit absent term beside normal is consistent
    assert ev({"smear": {"normal": "present", "blasts": "absent"}}, kb)["smear_blasts"] == "absent"


def test_normal_with_a_present_term_is_a_contradiction(kb):
    msg = problems({"smear": ["normal", "blasts"]}, kb)
    assert "smear[1]" in msg and "contradiction" in msg
    msg = problems({"marrow": {"findings": {"normal": "present", "fibrosis": "present"}}}, kb)
    assert "marrow.findings.fibrosis" in msg


def test_normal_absent_is_ignored(kb):
    parsed = parse_case({"smear": {"normal": "absent", "blasts": "present"}}, kb)
    assert parsed.evidence == {"smear_blasts": "present"}
    assert parsed.ignored[0]["field"] == "smear.normal"


def test_yaml_booleans_get_a_hint(kb):
    msg = problems(yaml.safe_load("history:\n  splenomegaly: yes\n"), kb)
    assert "history.splenomegaly" in msg and "booleans" in msg


# --------------------------------------------------------------------------- medications

ALL_EXPOSURES = ["exposure_antipsychotic", "exposure_antithyroid", "exposure_anticonvulsant",
                 "exposure_antibiotic", "exposure_immunosuppressant", "exposure_chemotherapy",
                 "exposure_antiviral", "exposure_corticosteroid"]


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
    parsed = parse_case({"medications": ["metamizole"]}, kb)
    assert "agranulocytosis" in parsed.ignored[0]["reason"]
    parsed = parse_case({"medications": ["Inderal"]}, kb)
    assert parsed.ignored == [{"field": "medications.inderal",
                               "reason": "inderal (propranolol): no marrow effect modelled"}]


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


# --------------------------------------------------------------------------- error messages


def test_all_problems_reported_at_once(kb):
    with pytest.raises(CaseError) as info:
        parse_case({"id": "bad", "sex": "femal", "smear": ["blast"], "tests": {"hiv": "pos"},
                    "agee": 3, "cbc": {"ancc": 1}}, kb, source="cases.yaml")
    err = info.value
    assert err.case_id == "bad"
    paths = [p.path for p in err.problems]
    assert paths == ["agee", "sex", "cbc.ancc", "smear[0]", "tests.hiv"]
    assert all(p.file == "cases.yaml" for p in err.problems)
    text = str(err)
    assert text.startswith("case 'bad': 5 problems:")
    assert "did you mean age_years" in text
    assert "did you mean blasts" in text
    assert "did you mean anc" in text
    assert "did you mean female" in text


def test_unknown_terms_suggest(kb):
    assert "did you mean fever" in problems({"history": {"fevr": "present"}}, kb)
    assert "did you mean increased_blasts" in problems({"marrow": {"findings": ["increased_blast"]}}, kb)
    assert "did you mean cellularity" in problems({"marrow": {"celularity": "hypocellular"}}, kb)
    assert "did you mean anti_dsdna" in problems({"tests": {"anti_dsdn": "positive"}}, kb)
    assert "did you mean folate" in problems({"vitamins": {"folat": 3}}, kb)
    assert "did you mean weeks" in problems({"medications": [{"name": "clozapine", "week": 3}]}, kb)
    assert "hypocellular" in problems({"marrow": {"cellularity": "empty"}}, kb)


def test_case_insensitive_words(kb):
    assert ev({"sex": "Female", "tests": {"ana": "Positive"}, "smear": ["Blasts"]}, kb) == {
        "sex": "female", "test_ana": "positive", "smear_blasts": "present"}


# --------------------------------------------------------------------------- evidence extension


def test_evidence_extension(kb):
    assert ev({"evidence": {"age_group": "older", "hiv": "present"}}, kb) == {
        "age_group": "older", "hiv": "present"}
    assert ev({"cbc": {"anc": 0.3}, "evidence": {"anc": "severe"}}, kb) == {"anc": "severe"}
    msg = problems({"evidence": {"ancc": "low", "hb": "lo"}}, kb)
    assert "evidence.ancc" in msg and "did you mean anc" in msg
    assert "evidence.hb" in msg and "did you mean low" in msg


def test_evidence_conflicting_with_a_field_is_an_error(kb):
    msg = problems({"cbc": {"anc": 0.3}, "evidence": {"anc": "mild"}}, kb)
    assert "evidence.anc: must agree with cbc.anc (anc=severe); got anc=mild" in msg
    msg = problems({"medications": [], "evidence": {"exposure_chemotherapy": "on_unknown"}}, kb)
    assert "evidence.exposure_chemotherapy" in msg and "medications" in msg


# --------------------------------------------------------------------------- files


def test_batch_file_with_one_bad_case(kb, tmp_path):
    f = tmp_path / "batch.yaml"
    f.write_text("cases:\n"
                 "  - {id: a, sex: female}\n"
                 "  - {id: b, medications: [{name: clozapin}]}\n"
                 "  - {id: c, cbc: {anc: '450 /uL'}}\n", encoding="utf-8")
    out = read_cases(f, kb)
    assert [type(x).__name__ for x in out] == ["ParsedCase", "CaseError", "ParsedCase"]
    assert out[0].evidence == {"sex": "female"}
    assert out[1].case_id == "b"
    assert out[1].problems[0].path == "cases[1].medications[0].name"
    assert out[1].problems[0].file == str(f)
    assert out[2].evidence == {"anc": "severe"}
    lenient = read_cases(f, kb, lenient=True)
    assert all(isinstance(x, ParsedCase) for x in lenient)


def test_single_case_json_and_yaml(kb, tmp_path):
    j = tmp_path / "case.json"
    j.write_text(json.dumps(yaml.safe_load(EXAMPLE)), encoding="utf-8")
    (parsed,) = read_cases(j, kb)
    assert parsed.evidence == EXAMPLE_EVIDENCE
    y = tmp_path / "case.yaml"
    y.write_text(EXAMPLE, encoding="utf-8")
    assert read_cases(str(y), kb)[0].evidence == EXAMPLE_EVIDENCE
    bare = tmp_path / "list.yaml"
    bare.write_text("- {sex: male}\n- {sex: female}\n", encoding="utf-8")
    assert [c.evidence for c in read_cases(bare, kb)] == [{"sex": "male"}, {"sex": "female"}]
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    assert read_cases(empty, kb)[0].evidence == {}


def test_json_nan_is_rejected(kb, tmp_path):
    j = tmp_path / "nan.json"
    j.write_text('{"cbc": {"anc": NaN}}', encoding="utf-8")
    (err,) = read_cases(j, kb)
    assert isinstance(err, CaseError) and err.problems[0].path == "cbc.anc"


@pytest.mark.parametrize("name,text,where", [
    ("missing.yaml", None, ""),
    ("bad.yaml", "cases: [\n  {id: a\n", "line"),
    ("bad.json", '{"id": ', "line"),
    ("notlist.yaml", "cases: {id: a}\n", "cases"),
    ("extra.yaml", "cases: []\nid: x\n", "id"),
])
def test_unreadable_files_raise_case_error(kb, tmp_path, name, text, where):
    f = tmp_path / name
    if text is not None:
        f.write_text(text, encoding="utf-8")
    with pytest.raises(CaseError) as info:
        read_cases(f, kb)
    p = info.value.problems[0]
    assert p.file == str(f)
    assert p.path.startswith(where)


# --------------------------------------------------------------------------- export


def test_evidence_to_case_round_trip_of_example(kb):
    case = evidence_to_case(EXAMPLE_EVIDENCE, kb)
    assert case["sex"] == "female" and case["duration"] == "chronic"
    assert case["cbc"]["anc"] == "mild"
    assert case["history"] == {"rheumatoid_arthritis": "present", "splenomegaly": "absent"}
    assert case["marrow"] == {"cellularity": "hypocellular", "findings": {"dysplasia": "present"}}
    assert case["evidence"]["age_group"] == "young"
    assert parse_case(case, kb).evidence == EXAMPLE_EVIDENCE
    yaml.safe_dump(case)  # plain data
    json.dumps(case)


def test_evidence_to_case_natural_fields(kb):
    assert evidence_to_case({n: "none" for n in ALL_EXPOSURES}, kb) == {"medications": []}
    case = evidence_to_case({"wbc": "low", "anc": "mild"}, kb)
    assert case == {"cbc": {"anc": "mild"}, "evidence": {"wbc": "low"}}
    assert parse_case(case, kb).evidence == {"wbc": "low", "anc": "mild"}
    assert evidence_to_case({"mcv": "high"}, kb) == {"evidence": {"mcv": "high"}}
    assert evidence_to_case({}, kb) == {}


def test_evidence_to_case_round_trip_random(kb):
    rng = random.Random(7)
    nodes = kb.nodes
    for _ in range(300):
        chosen = rng.sample(nodes, rng.randint(0, min(25, len(nodes))))
        evidence = {n: rng.choice(kb.states(n)) for n in chosen}
        case = evidence_to_case(evidence, kb)
        assert parse_case(case, kb).evidence == evidence, case


def test_evidence_to_case_rejects_unknown_names(kb):
    with pytest.raises(CaseError) as info:
        evidence_to_case({"ancc": "low", "hb": "lo"}, kb)
    text = str(info.value)
    assert "did you mean anc" in text and "did you mean low" in text
