"""The fall-from-baseline finding (bayesdx.case.baseline): when it is read and when not."""

from __future__ import annotations

import pytest

from bayesdx.case import parse_case
from bayesdx.knowledge.load import load_knowledge


@pytest.fixture(scope="module")
def kb():
    return load_knowledge()


def _case(anc_now=1.1, anc_before=1.2, weeks_ago=20, meds=({"name": "clozapine", "weeks": 12},)):
    base = {"anc": anc_before}
    if weeks_ago is not None:
        base["weeks_ago"] = weeks_ago
    case = {"age_years": 30, "cbc": {"anc": anc_now}, "baseline_cbc": base}
    if meds is not None:
        case["medications"] = list(meds)
    return case


def _read(kb, case):
    parsed = parse_case(case, kb)
    return parsed.evidence.get("anc_fall"), {i["field"]: i["reason"] for i in parsed.ignored}


def test_unchanged_count_since_a_pre_drug_baseline_is_no_fall(kb):
    fall, ignored = _read(kb, _case())
    assert fall == "absent" and "baseline_cbc.weeks_ago" not in ignored


@pytest.mark.parametrize("case,why", [
    (_case(weeks_ago=8), "predates every listed drug"),                     # baseline after the start
    (_case(anc_now=0.3), "has fallen"),                                     # a fall: left to baseline_anc
    (_case(meds=({"name": "clozapine"},)), "predates every listed drug"),   # start not given
    (_case(meds=({"name": "prednisone", "weeks": 4},)), "neutropenia drug"),  # not a parent
    (_case(meds=()), "neutropenia drug"),                                   # no drugs
    (_case(meds=None), "neutropenia drug"),                                 # drugs unknown
    (_case(anc_now="mild"), "both given as numbers"),
])
def test_not_read(kb, case, why):
    fall, ignored = _read(kb, case)
    assert fall is None
    assert why in ignored["baseline_cbc.weeks_ago"]


def test_every_listed_drug_must_start_after_the_baseline(kb):
    meds = ({"name": "clozapine", "weeks": 12}, {"name": "carbamazepine", "weeks": 30})
    assert _read(kb, _case(weeks_ago=20, meds=meds))[0] is None
    assert _read(kb, _case(weeks_ago=30, meds=meds))[0] == "absent"


def test_without_weeks_ago_nothing_is_read_or_flagged(kb):
    fall, ignored = _read(kb, _case(weeks_ago=None))
    assert fall is None and "baseline_cbc.weeks_ago" not in ignored
