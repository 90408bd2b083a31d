"""Tests of bayesdx.case.common (reading numbers, messages), and what the test_case_* files share.

The other ``tests/case/test_case_*.py`` files import the ``kb`` fixture, the helpers
``ev`` / ``problems`` and the contract's example from here. Run against the
real knowledge files (``load_knowledge()``)."""

from __future__ import annotations

import pytest

from bayesdx.case import parse_case
from bayesdx.case.common import describe, fmt, word
from bayesdx.errors import nearest, suggest
from bayesdx.errors import CaseError
from bayesdx.knowledge.load import load_knowledge


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
               "macro_ovalocytes", "absent_neutrophils", "auer_rods",
               "microcytic_hypochromic"]  # the last: extension (issue 10, published-case terms)


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
    "exposure_other_agranulocytosis": "none",
    "exposure_antibiotic": "none", "exposure_antiviral": "none", "exposure_corticosteroid": "none",
}


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
                "hairy_cell_infiltration", "fibrosis", "absent_erythroid_precursors", "blasts_20",
                "lymphoma_infiltration"]  # blasts_20, lymphoma_infiltration: extensions (issue 10)


ALL_EXPOSURES = ["exposure_antipsychotic", "exposure_antithyroid", "exposure_anticonvulsant",
                 "exposure_antibiotic", "exposure_immunosuppressant", "exposure_chemotherapy",
                 "exposure_antiviral", "exposure_corticosteroid", "exposure_other_agranulocytosis"]


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
    assert 'b12: 100 or b12: "73.8 pmol/L"' in msg     # an example (the first band bound)
    assert "kg is a mass" in msg


# --------------------------------------------------------------------------- helpers


def test_words_are_normalised():
    assert word("  Co-Trimoxazole ") == "co_trimoxazole"
    assert word("TMP/SMX") == word("tmp + smx") == "tmp_smx"
    assert word("-x-") == "x"


def test_suggestions_and_descriptions():
    assert nearest("clozapin", ["clozapine", "clozapine", "loxapine", "zzz"]) == ["clozapine", "loxapine"]
    # the nearest name first, not the first in alphabetical order
    assert nearest("loxapin", ["clozapine", "loxapine"]) == ["loxapine", "clozapine"]
    assert nearest("abd", ["abc", "abe"]) == ["abc", "abe"]   # equally near: alphabetical
    assert suggest("clozapin", ["clozapine"]) == "a known name - did you mean clozapine?"
    assert suggest("q", ["a", "b"], "word") == "one of a, b"
    assert suggest("q", [f"n{i:02d}" for i in range(20)]).endswith("n14, ...")
    assert (describe({}), describe([]), describe(3), describe("3")) == ("a dict", "a list", "3", "'3'")
    assert (fmt(1.0), fmt(0.25), fmt(1500.0)) == ("1", "0.25", "1500")

