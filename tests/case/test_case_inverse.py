"""Tests of bayesdx.case.inverse: evidence_to_case (export), the inverse of parse_case."""

from __future__ import annotations

import json
import random

import pytest
import yaml

from bayesdx.case import evidence_to_case, parse_case
from bayesdx.errors import CaseError
from bayesdx.knowledge.load import load_knowledge

from test_case_common import ALL_EXPOSURES, EXAMPLE_EVIDENCE


@pytest.fixture(scope="module")
def kb():
    return load_knowledge()


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
        if (evidence.get("marrow_increased_blasts"), evidence.get("marrow_blasts_20")) == ("absent", "present"):
            del evidence["marrow_blasts_20"]  # blasts >= 20 % but < 5 %: rejected as a contradiction
        case = evidence_to_case(evidence, kb)
        # a root context node whose every child is observed context changes nothing and is
        # moved to `ignored` by the reader (hyperthyroidism next to a known antithyroid state)
        kids = {n: [c for g in (kb.context, kb.causes, kb.findings) for c, s in g.items()
                    if n in s.parents] for n in kb.context}
        inert = {n for n in evidence if n in kb.context and not kb.context[n].parents and kids[n]
                 and all(k in kb.context and k in evidence for k in kids[n])}
        want = {n: s for n, s in evidence.items() if n not in inert}
        assert parse_case(case, kb).evidence == want, case


def test_evidence_to_case_rejects_unknown_names(kb):
    with pytest.raises(CaseError) as info:
        evidence_to_case({"ancc": "low", "hb": "lo"}, kb)
    text = str(info.value)
    assert "did you mean anc" in text and "did you mean low" in text
