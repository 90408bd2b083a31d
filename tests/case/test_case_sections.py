"""Tests of bayesdx.case.sections: smear, history, tests and marrow terms; absent vs unknown."""

from __future__ import annotations

import pytest
import yaml

from bayesdx.case import parse_case
from bayesdx.knowledge.load import load_knowledge

from test_case_common import HISTORY_TERMS, MARROW_TERMS, SMEAR_TERMS, TEST_TERMS, ev, problems


@pytest.fixture(scope="module")
def kb():
    return load_knowledge()


# --------------------------------------------------------------------------- vocabulary


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


# --------------------------------------------------------------------------- absent vs unknown


def test_unmentioned_is_unknown_and_absent_is_evidence(kb):
    e = ev({"history": {"splenomegaly": "absent"}}, kb)
    assert e == {"hx_splenomegaly": "absent"}
    assert "hx_fever" not in e
    assert ev({"tests": {"hiv": "negative"}}, kb) == {"test_hiv": "negative"}


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
