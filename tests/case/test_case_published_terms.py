"""Tests of the published-case extension terms (issue 10): ``tests.ebv_pcr``, ``tests.cmv_pcr``,
``smear.microcytic_hypochromic`` and ``marrow.findings.lymphoma_infiltration``."""

from __future__ import annotations

import pytest

from bayesdx.knowledge.load import load_knowledge

from test_case_common import ev, problems


@pytest.fixture(scope="module")
def kb():
    return load_knowledge()


@pytest.mark.parametrize("term,node", [("ebv_pcr", "test_ebv_pcr"), ("cmv_pcr", "test_cmv_pcr")])
@pytest.mark.parametrize("word", ["positive", "negative"])
def test_pcr_tests_are_read_in_both_forms(kb, term, node, word):
    assert ev({"tests": {term: word}}, kb) == {node: word}
    if word == "positive":
        assert ev({"tests": [term]}, kb) == {node: "positive"}


def test_the_smear_term_is_read(kb):
    assert ev({"smear": ["microcytic_hypochromic"]}, kb) == {"smear_microcytic_hypochromic": "present"}
    assert ev({"smear": {"microcytic_hypochromic": "absent"}}, kb) == {"smear_microcytic_hypochromic": "absent"}


def test_the_marrow_term_is_read(kb):
    got = ev({"marrow": {"findings": {"lymphoma_infiltration": "present", "fibrosis": "present"}}}, kb)
    assert got == {"marrow_lymphoma_infiltration": "present", "marrow_fibrosis": "present"}


def test_normal_sets_the_new_terms_absent(kb):
    smear = ev({"smear": ["normal"]}, kb)
    assert smear["smear_microcytic_hypochromic"] == "absent"
    marrow = ev({"marrow": {"findings": ["normal"]}}, kb)
    assert marrow["marrow_lymphoma_infiltration"] == "absent"


def test_normal_beside_a_present_new_term_is_a_contradiction(kb):
    msg = problems({"smear": ["normal", "microcytic_hypochromic"]}, kb)
    assert "smear[1]: must not be present when smear is normal (a contradiction)" in msg
    msg = problems({"marrow": {"findings": {"normal": "present", "lymphoma_infiltration": "present"}}}, kb)
    assert "marrow.findings.lymphoma_infiltration: must not be present when marrow.findings is normal" in msg


@pytest.mark.parametrize("section,term,bad,words", [
    ("tests", "ebv_pcr", "present", "positive, negative"),
    ("tests", "cmv_pcr", "detected", "positive, negative"),
    ("smear", "microcytic_hypochromic", "positive", "present, absent"),
])
def test_bad_values_name_the_field_and_the_words(kb, section, term, bad, words):
    msg = problems({section: {term: bad}}, kb)
    assert f"{section}.{term}: must be one of {words}" in msg


def test_a_boolean_gets_the_yaml_hint(kb):
    msg = problems({"tests": {"cmv_pcr": True}}, kb)
    assert "tests.cmv_pcr: must be one of positive, negative" in msg
    assert "YAML reads yes/no/true/false as booleans" in msg


def test_bad_marrow_value(kb):
    msg = problems({"marrow": {"findings": {"lymphoma_infiltration": "yes please"}}}, kb)
    assert "marrow.findings.lymphoma_infiltration: must be one of present, absent" in msg


@pytest.mark.parametrize("section,typo,want", [("tests", "ebv_pcrr", "ebv_pcr"),
                                               ("tests", "cmv_prc", "cmv_pcr"),
                                               ("smear", "microcytic", "microcytic_hypochromic")])
def test_misspelt_terms_are_errors_with_suggestions(kb, section, typo, want):
    msg = problems({section: {typo: "positive" if section == "tests" else "present"}}, kb)
    assert f"{section}.{typo}: must be a known {section} term" in msg
    assert want in msg


def test_every_problem_at_once(kb):
    msg = problems({"tests": {"ebv_pcr": "maybe", "cmv_pcr": "maybe"},
                    "smear": {"microcytic_hypochromic": 1}}, kb)
    assert "tests.ebv_pcr" in msg and "tests.cmv_pcr" in msg and "smear.microcytic_hypochromic" in msg


def test_ferritin_in_micrograms_per_litre(kb):
    # the published iron-deficiency case gives ferritin as 1 ug/L (= 1 ng/mL)
    assert ev({"vitamins": {"ferritin": "1 ug/L"}}, kb) == {"ferritin_level": "very_low"}
