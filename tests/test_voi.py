"""Next best test (bayesdx.voi): exactness against brute force, invariants, ranking, CLI."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
from conftest import brute_force, random_evidence

from bayesdx import voi
from bayesdx.case import parse_case
from bayesdx.cli.main import main
from bayesdx.diagnosis import load_model
from bayesdx.evaluation.vignettes import load_vignettes
from bayesdx.errors import QueryError
from bayesdx.voi import binary_entropy, next_tests

HCL_CASE = {"id": "spleen", "age_years": 55, "sex": "male", "history": ["splenomegaly"],
            "medications": [], "cbc": {"anc": 0.9, "alc": 1.0, "amc": 0.02, "hb": 10.5, "plt": 80}}


@pytest.fixture(scope="module")
def model():
    return load_model()


def _reference(net, evidence, finding):
    """Predictive probabilities and outcome posteriors of ``finding`` by enumeration."""
    p_e, lz = brute_force(net, evidence)
    out = []
    for s in net.states[finding]:
        post, lz_s = brute_force(net, {**evidence, finding: s})
        out.append((s, float(np.exp(lz_s - lz)), post))
    return p_e, out


def _check_against_reference(net, nt, evidence):
    p_e, _ = brute_force(net, evidence)
    lead = int(np.argmax(p_e))
    h_e = binary_entropy(p_e).sum()
    assert nt.entropy == pytest.approx(h_e, abs=1e-10)
    for t in nt.items:
        _, ref = _reference(net, evidence, t.finding)
        assert sum(o.prob for o in t.outcomes) == pytest.approx(1.0, abs=1e-9)
        eer, change = h_e, 0.0
        for o, (s, p, post) in zip(t.outcomes, ref):
            assert o.state == s
            assert o.prob == pytest.approx(p, abs=1e-10)
            assert o.top_prob == pytest.approx(post.max(), abs=1e-10)
            eer -= p * binary_entropy(post).sum()
            change += p * abs(post[lead] - p_e[lead])
        assert t.expected_entropy_reduction == pytest.approx(eer, abs=1e-10)
        assert t.expected_top_change == pytest.approx(change, abs=1e-10)


# --------------------------------------------------------------------------- tiny network


@pytest.mark.parametrize("method", ["fast", "direct"])
@pytest.mark.parametrize("evidence", [{}, {"anc": "severe"}, {"plt": "low", "age_group": "child"},
                                      {"fever": "present", "hx_drug": "present", "anc": "mild"}])
def test_tiny_matches_brute_force(tiny_engine, tiny_net, evidence, method):
    nt = next_tests(tiny_engine, evidence, candidates=tiny_net.findings, method=method)
    assert {t.finding for t in nt.items} == set(tiny_net.findings) - set(evidence)
    _check_against_reference(tiny_net, nt, evidence)


def test_tiny_random_evidence_information_never_hurts(tiny_engine, tiny_net):
    rng = random.Random(7)
    for _ in range(25):
        ev = random_evidence(tiny_net, rng)
        nt = next_tests(tiny_engine, ev, candidates=tiny_net.findings)
        for t in nt.items:
            assert t.expected_entropy_reduction >= -1e-9
            assert t.expected_top_change >= 0
            assert sum(o.prob for o in t.outcomes) == pytest.approx(1.0, abs=1e-9)


def test_tiny_default_candidates_are_orderable_and_unobserved(tiny_engine):
    assert [t.finding for t in next_tests(tiny_engine, {"anc": "severe"}).items] == ["test_m"]
    nt = next_tests(tiny_engine, {"test_m": "positive"})
    assert nt.items == () and len(nt) == 0
    assert nt.lead == "marrow"
    t = next_tests(tiny_engine, {}).items[0]
    assert t.cost == 10 and t.value_per_cost == pytest.approx(t.expected_entropy_reduction / 10)


def test_subtraction_fallback_is_exact(tiny_engine, tiny_net, monkeypatch):
    """Forcing every binary outcome through the direct route changes nothing."""
    ev = {"anc": "mild", "age_group": "adult"}
    fast = next_tests(tiny_engine, ev, candidates=tiny_net.findings)
    monkeypatch.setattr(voi, "_DIRECT_BELOW", 1.1)
    direct = next_tests(tiny_engine, ev, candidates=tiny_net.findings)
    for a, b in zip(fast.items, direct.items):
        assert a.finding == b.finding
        assert a.expected_entropy_reduction == pytest.approx(b.expected_entropy_reduction,
                                                             abs=1e-12)
        for oa, ob in zip(a.outcomes, b.outcomes):
            assert oa.prob == pytest.approx(ob.prob, abs=1e-12)
            assert oa.top_prob == pytest.approx(ob.top_prob, abs=1e-12)


def test_errors(tiny_engine):
    with pytest.raises(QueryError, match="did you mean test_m"):
        next_tests(tiny_engine, {}, candidates=["test_mm"])
    with pytest.raises(QueryError, match="must be one of info, change, cost"):
        next_tests(tiny_engine, {}, by="price")
    with pytest.raises(QueryError, match="fast"):
        next_tests(tiny_engine, {}, method="slow")
    from bayesdx.errors import CaseError

    with pytest.raises(CaseError):
        next_tests(tiny_engine, {"anc": "very_severe"})


def test_sorting_and_serialisation(tiny_engine, tiny_net):
    nt = next_tests(tiny_engine, {"anc": "severe"}, candidates=tiny_net.findings)
    for by, attr in voi.SORT_KEYS.items():
        vals = [getattr(t, attr) for t in nt.sorted(by).items]
        assert vals == sorted(vals, reverse=True)
        assert nt.sorted(by).by == by
    assert nt.sorted("info") == nt  # deterministic, and re-sorting is stable
    assert next_tests(tiny_engine, {"anc": "severe"}, candidates=tiny_net.findings) == nt
    d = nt.to_dict(top=2)
    assert len(d["tests"]) == 2 and d["lead"]["id"] == nt.lead
    json.dumps(d, allow_nan=False)
    assert nt["plt"].finding == "plt"
    with pytest.raises(KeyError):
        nt["anc"]
    assert "Leading cause" in nt.format(2)


# --------------------------------------------------------------------------- real model


def test_real_fast_equals_direct(model):
    vs = {v.id: v for v in load_vignettes()}
    for vid in ("v001-clozapine-agranulocytosis",):
        ev = parse_case(vs[vid].case, model.kb).evidence
        assert "b12_level" not in ev  # a three-state candidate: the direct route of "fast"
        fast = next_tests(model.engine, ev)
        direct = next_tests(model.engine, ev, method="direct")
        assert [t.finding for t in fast.items] == [t.finding for t in direct.items]
        assert fast.lead == direct.lead and fast.entropy == pytest.approx(direct.entropy, abs=1e-12)
        for a, b in zip(fast.items, direct.items):
            assert sum(o.prob for o in b.outcomes) == pytest.approx(1.0, abs=1e-9)
            assert sum(o.prob for o in a.outcomes) == pytest.approx(1.0, abs=1e-9)
            assert a.expected_entropy_reduction == pytest.approx(b.expected_entropy_reduction,
                                                                 abs=1e-9)
            assert a.expected_top_change == pytest.approx(b.expected_top_change, abs=1e-9)
            for oa, ob in zip(a.outcomes, b.outcomes):
                assert (oa.state, oa.top_cause) == (ob.state, ob.top_cause)
                assert oa.prob == pytest.approx(ob.prob, abs=1e-9)


def test_real_vignettes_invariants(model):
    for v in load_vignettes()[::15]:
        ev = parse_case(v.case, model.kb).evidence
        nt = next_tests(model.engine, ev)
        orderable = {f for f, s in model.kb.findings.items() if s.orderable}
        assert {t.finding for t in nt.items} == orderable - set(ev)
        for t in nt.items:
            assert sum(o.prob for o in t.outcomes) == pytest.approx(1.0, abs=1e-9)
            assert t.expected_entropy_reduction >= -1e-9
            assert all(0 <= o.prob <= 1 for o in t.outcomes)


def test_decisive_test_ranks_first_for_pancytopenia_with_splenomegaly(model):
    ev = parse_case(HCL_CASE, model.kb).evidence
    nt = next_tests(model.engine, ev)
    top3 = [t.finding for t in nt.items[:3]]
    assert {"test_braf_v600e", "marrow_hairy_cell_infiltration"} & set(top3[:2])
    braf = nt["test_braf_v600e"]
    assert braf.outcomes[1].top_cause == "hairy_cell_leukemia" and braf.outcomes[1].top_prob > 0.9
    # the cheapest informative look is the smear
    assert nt.sorted("cost").items[0].finding == "smear_hairy_cells"
    # once BRAF is known it is no longer a candidate
    after = next_tests(model.engine, {**ev, "test_braf_v600e": "negative"})
    assert "test_braf_v600e" not in {t.finding for t in after.items}


# --------------------------------------------------------------------------- CLI


def test_cli_next_tests(tmp_path, capsys):
    import yaml

    f = tmp_path / "case.yaml"
    f.write_text(yaml.safe_dump({"cases": [HCL_CASE, {"id": "bad", "sex": "femal"}]}))
    assert main(["next-tests", str(f), "--top", "3"]) == 2  # the bad case; the good one printed
    out, err = capsys.readouterr()
    assert "Case: spleen" in out and "braf" in out.lower() and "femal" in err
    assert main(["next-tests", str(f), "--json", "--by", "cost", "--top", "2"]) == 2
    line = json.loads(capsys.readouterr().out.splitlines()[0])
    assert line["id"] == "spleen" and line["by"] == "cost" and len(line["tests"]) == 2
    assert line["tests"][0]["finding"] == "smear_hairy_cells" and "disclaimer" in line


def test_impossible_outcome_and_impossible_evidence(tiny_copy):
    from bayesdx.inference.engine import Engine
    from bayesdx.errors import ImpossibleEvidenceError
    from bayesdx.knowledge.load import load_knowledge
    from bayesdx.knowledge.network import Network

    f = tiny_copy / "priors" / "numbers.yaml"
    text = f.read_text()
    text = text.replace("base: {value: 0.05, range: [0.02, 0.1], source: E}",
                        "base: {value: 0, range: [0, 0], source: E}")
    text = text.replace("leak: {value: 0.02, range: [0.01, 0.05], source: E}",
                        "leak: {value: 0, range: [0, 0], source: E}")
    f.write_text(text)
    eng = Engine(Network(load_knowledge(tiny_copy)))
    for method in ("fast", "direct"):
        t = next_tests(eng, {"anc": "mild"}, method=method).items[0]
        assert t.finding == "test_m" and t.expected_entropy_reduction == pytest.approx(0, abs=1e-12)
        assert t.outcomes[0].prob == pytest.approx(1.0)
        assert t.outcomes[1] == ("positive", 0.0, None, None, None, None)
        with pytest.raises(ImpossibleEvidenceError, match="test_m=positive"):
            next_tests(eng, {"test_m": "positive"}, candidates=["plt"], method=method)


def test_each_result_names_the_cause_it_moves_most(model):
    # clozapine agranulocytosis in a man of African ancestry: a Duffy-null test does
    # not change the leading cause, but it settles the Duffy-null question
    ev = {"age_group": "young", "sex": "male", "ancestry": "african", "anc": "severe",
          "exposure_antipsychotic": "clozapine_window"}
    before = model.engine.posterior(ev)
    duffy = next_tests(model.engine, ev)["test_duffy_null"]
    for o in duffy.outcomes:
        assert o.top_cause == "drug_antipsychotic"
        assert o.mover == "duffy_null_neutropenia"
        after = model.engine.posterior({**ev, "test_duffy_null": o.state}).of(o.mover)
        assert o.mover_prob == pytest.approx(after, abs=1e-12)
        assert abs(after - before.of(o.mover)) > 0.02   # low floor since the phenotype is context (issue 10)
    d = duffy.to_dict()["outcomes"][0]
    assert d["moves_most"] == "duffy_null_neutropenia" and 0 <= d["moves_most_to"] <= 1
