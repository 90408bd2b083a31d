"""Graded bands added in issue 10 round 3: each cut falls where case_mapping.yaml says,
values on the cut go to the milder band, and the verdict words still read."""
from __future__ import annotations

import pytest

from bayesdx.knowledge.load import load_knowledge

from test_case_common import ev


@pytest.fixture(scope="module")
def kb():
    return load_knowledge()


@pytest.mark.parametrize("field, value, node, state", [
    ("cbc", {"plt": 19}, "plt", "profound"),
    ("cbc", {"plt": 20}, "plt", "very_low"),
    ("cbc", {"plt": 49}, "plt", "very_low"),
    ("cbc", {"anc": 2.0, "alc": 0.15}, "alc", "profound"),
    ("cbc", {"anc": 2.0, "alc": 0.2}, "alc", "very_low"),
    ("cbc", {"hb": 6.5}, "hb", "profound"),
    ("cbc", {"hb": 7.0}, "hb", "very_low"),
    ("vitamins", {"folate": 1.5}, "folate_level", "very_low"),
    ("vitamins", {"folate": 2.5}, "folate_level", "low"),
    ("vitamins", {"ceruloplasmin": 6}, "ceruloplasmin_level", "very_low"),
    ("vitamins", {"ceruloplasmin": 15}, "ceruloplasmin_level", "low"),
    ("vitamins", {"zinc": 320}, "zinc_level", "very_high"),
    ("vitamins", {"zinc": 150}, "zinc_level", "high"),
])
def test_new_bands(kb, field, value, node, state):
    assert ev({field: value}, kb)[node] == state


def test_child_lymphocyte_cut(kb):
    assert ev({"age_years": 6, "cbc": {"anc": 2.0, "alc": 0.25}}, kb)["alc"] == "profound"
    assert ev({"age_years": 30, "cbc": {"anc": 2.0, "alc": 0.25}}, kb)["alc"] == "very_low"


@pytest.mark.parametrize("field, value, node, state", [
    # a laboratory's verdict says "one of the abnormal bands", not the mildest one
    ("vitamins", {"folate": "low"}, "folate_verdict", "low"),
    ("vitamins", {"ceruloplasmin": "low"}, "ceruloplasmin_verdict", "low"),
    ("vitamins", {"zinc": "high"}, "zinc_verdict", "high"),
    ("vitamins", {"b12": "normal"}, "b12_verdict", "normal"),
    # a band's own name still names that band
    ("vitamins", {"b12": "borderline"}, "b12_level", "borderline"),
    ("vitamins", {"copper": "very_low"}, "copper_level", "very_low"),
    ("cbc", {"plt": "profound"}, "plt", "profound"),
])
def test_verdict_words(kb, field, value, node, state):
    assert ev({field: value}, kb)[node] == state
