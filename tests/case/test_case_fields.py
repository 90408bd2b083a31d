"""Tests of bayesdx.case.fields: demographics, numeric CBC / baseline / vitamin fields, bands."""

from __future__ import annotations

import pytest

from bayesdx.case import parse_case
from bayesdx.knowledge.load import load_knowledge

from test_case_common import ev, problems


@pytest.fixture(scope="module")
def kb():
    return load_knowledge()


# --------------------------------------------------------------------------- demographics


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


@pytest.mark.parametrize("age,group", [(0, "infant"), (0.99, "infant"), (1, "child"),
                                       (11.9, "child"), (12, "young"), (39, "young"),
                                       (40, "middle"), (59.5, "middle"), (60, "older"),
                                       (101, "older"), ("6 months", "infant")])
def test_age_groups(kb, age, group):
    assert ev({"age_years": age}, kb) == {"age_group": group}


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


@pytest.mark.parametrize("mma,state", [("elevated", "elevated"), ("normal", "normal"),
                                       (0.2, "normal"), ("550 nmol/L", "elevated")])
def test_mma(kb, mma, state):
    assert ev({"vitamins": {"mma": mma}}, kb) == {"mma": state}


@pytest.mark.parametrize("hb,sex,age,state", [
    ("129 g/L", "female", 34, "normal"), ("115 g/L", "female", 34, "low"),
    ("125 g/L", "male", 34, "low"), ("95 g/L", "male", 34, "very_low"), (12.5, None, None, "normal"),
    (12.5, "male", None, "low"), (11.5, "male", 6, "normal"), (10.2, "female", 0.5, "low"),
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
    (1.4999, "mild"), (0.0, "very_severe"), (0.2, "severe"), ("150 /uL", "very_severe"),
])
def test_count_units_and_anc_bands(kb, anc, state):
    assert ev({"cbc": {"anc": anc}}, kb) == {"anc": state}


@pytest.mark.parametrize("age,anc,state", [
    (0.5, 1.2, "normal"), (0.5, 0.9, "mild"), (0.5, 0.6, "moderate"), (0.5, 0.4, "severe"),
    ("9 months", 1.2, "normal"), (3, 1.2, "mild"), (70, 1.2, "mild"),
])
def test_infant_anc_threshold(kb, age, anc, state):
    assert ev({"age_years": age, "cbc": {"anc": anc}}, kb)["anc"] == state


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
        "monocytosis": "present", "b12_verdict": "low"}  # a verdict: any low band


@pytest.mark.parametrize("value,state", [("<100 pg/mL", "very_low"), (">2000", "normal"),
                                         ("<=99", "very_low"), ("≥350", "normal")])
def test_censored_values(kb, value, state):
    assert ev({"vitamins": {"b12": value}}, kb) == {"b12_level": state}


def test_censored_value_spanning_bands_is_an_error(kb):
    msg = problems({"vitamins": {"b12": "<300"}}, kb)
    assert "vitamins.b12" in msg and "low or borderline" in msg


# --------------------------------------------------------------------------- the differential


def test_anc_greater_than_wbc(kb):
    msg = problems({"cbc": {"wbc": 2.0, "anc": 3.0}}, kb)
    assert "cbc.anc: must not exceed the WBC" in msg
    msg = problems({"cbc": {"wbc": 2.0, "anc": 1.2, "alc": 1.3}}, kb)
    assert "differential" in msg
    # rounding of the contract's example (3.3 vs 3.2) is tolerated
    ev({"cbc": {"wbc": 3.2, "anc": 1.1, "alc": 1.7, "amc": 0.4, "eos": 0.1}}, kb)
    assert "baseline_cbc.anc" in problems({"baseline_cbc": {"wbc": 2.0, "anc": 3.0}}, kb)


def test_extension_history_term_opportunistic_infection(kb):
    assert ev({"history": {"opportunistic_infection": "present"}}, kb) == {
        "hx_opportunistic_infection": "present"}
    assert ev({"history": ["opportunistic_infection"]}, kb) == {"hx_opportunistic_infection": "present"}
    assert "history.opportunistic_infection" in problems({"history": {"opportunistic_infection": "yes"}}, kb)
