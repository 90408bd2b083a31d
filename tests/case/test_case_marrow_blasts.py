"""Tests of the ``marrow.blasts_percent`` extension: one counted percentage sets both blast findings."""

from __future__ import annotations

import pytest

from bayesdx.knowledge.load import load_knowledge

from test_case_common import ev, problems


@pytest.fixture(scope="module")
def kb():
    return load_knowledge()


@pytest.mark.parametrize("pct,inc,b20", [(0, "absent", "absent"), (3, "absent", "absent"),
                                         (4.9, "absent", "absent"), (5, "present", "absent"),
                                         (12, "present", "absent"), (19.5, "present", "absent"),
                                         (20, "present", "present"), (35, "present", "present"),
                                         (100, "present", "present"), ("45 %", "present", "present")])
def test_percentage_sets_both_thresholds(kb, pct, inc, b20):
    assert ev({"marrow": {"blasts_percent": pct}}, kb) == {"marrow_increased_blasts": inc,
                                                           "marrow_blasts_20": b20}


def test_the_contract_term_alone_is_unchanged(kb):
    assert ev({"marrow": {"findings": {"increased_blasts": "present"}}}, kb) == {
        "marrow_increased_blasts": "present"}
    assert ev({"marrow": {"findings": ["increased_blasts"]}}, kb) == {"marrow_increased_blasts": "present"}


def test_agreeing_term_and_percentage(kb):
    got = ev({"marrow": {"blasts_percent": 45, "findings": {"increased_blasts": "present"}}}, kb)
    assert got == {"marrow_increased_blasts": "present", "marrow_blasts_20": "present"}


@pytest.mark.parametrize("bad", [-1, 100.5, 150, "lots", True, [35], {"value": 35}, float("nan"),
                                 float("inf")])
def test_bad_percentages_name_the_field_and_an_example(kb, bad):
    msg = problems({"marrow": {"blasts_percent": bad}}, kb)
    assert "marrow.blasts_percent: must be a percentage of marrow nucleated cells from 0 to 100" in msg
    assert "try marrow.blasts_percent: 35" in msg


@pytest.mark.parametrize("pct,term,state", [(3, "increased_blasts", "present"),
                                            (35, "increased_blasts", "absent"),
                                            (12, "blasts_20", "present"),
                                            (25, "blasts_20", "absent")])
def test_contradicting_term_and_percentage(kb, pct, term, state):
    msg = problems({"marrow": {"blasts_percent": pct, "findings": {term: state}}}, kb)
    assert "marrow.blasts_percent: must agree with marrow.findings." + term in msg
    assert "removing one of the two" in msg


def test_normal_marrow_contradicts_a_high_percentage(kb):
    msg = problems({"marrow": {"blasts_percent": 35, "findings": ["normal"]}}, kb)
    assert "marrow.blasts_percent: must agree with marrow.findings[0]" in msg


def test_leukaemic_range_without_increased_blasts_is_a_contradiction(kb):
    msg = problems({"marrow": {"findings": {"increased_blasts": "absent", "blasts_20": "present"}}}, kb)
    assert "marrow.findings.blasts_20: must agree with marrow.findings.increased_blasts" in msg
    assert "20 % or more are also at 5 % or more" in msg


def test_every_problem_at_once(kb):
    msg = problems({"marrow": {"blasts_percent": 150, "cellularity": "sparse"}}, kb)
    assert "blasts_percent" in msg and "cellularity" in msg
