"""Tests chosen for the differential, cause work-ups, and the done-when checks on the model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bayesdx.case import parse_case
from bayesdx.cli.main import main
from bayesdx.counterfactual import counterfactual
from bayesdx.diagnosis import diagnose, load_model
from bayesdx.differential import cause_workup, differential_tests
from bayesdx.explanations import joint_explanations
from bayesdx.voi import QueryError, next_tests

CLOZAPINE_AFRICAN = {"id": "clz", "age_years": 34, "sex": "male", "ancestry": "african",
                     "duration": "acute",
                     "cbc": {"anc": 0.2, "alc": 1.4, "amc": 0.3, "hb": 14.1, "plt": 251,
                             "mcv": 90},
                     "medications": [{"name": "clozapine", "weeks": 9}],
                     "history": {"fever": "present", "sore_throat": "present"}}
CLEAR_B12 = {"id": "b12", "age_years": 59, "sex": "male", "ancestry": "african",
             "duration": "chronic",
             "cbc": {"anc": 0.8, "alc": 1.0, "amc": 0.2, "hb": 7.1, "plt": 64, "mcv": 116},
             "history": {"vegan_diet": "present", "neurological_symptoms": "present",
                         "alcohol_excess": "absent"},
             "smear": ["hypersegmented_neutrophils", "macro_ovalocytes"],
             "vitamins": {"b12": 110}}


@pytest.fixture(scope="module")
def model():
    return load_model()


def _ev(model, case):
    return parse_case(case, model.kb).evidence


def test_clozapine_in_african_patient_explained_by_the_drug(model):
    ev = _ev(model, CLOZAPINE_AFRICAN)
    cf = counterfactual(model.engine, ev)
    for by in ("sufficiency", "disablement", "needed"):
        ranked = [c for c, _ in cf.ranked(by)]
        assert ranked[0] == "drug_antipsychotic"
        if "duffy_null_neutropenia" in ranked:
            d = cf.of("duffy_null_neutropenia")
            assert d["p_needed"] < 0.05 * cf.of("drug_antipsychotic")["p_needed"]
    je = joint_explanations(model.engine, ev, k=3)
    assert je.items[0].causes == ("drug_antipsychotic",)


def test_clear_b12_top_test_bears_on_the_differential(model):
    ev = _ev(model, CLEAR_B12)
    dt = differential_tests(model.engine, ev)
    assert dt.pursued[0] == "b12_deficiency"
    top = dt.items[0][0]
    assert "duffy" not in top
    assert any(k in top for k in ("folate", "mma", "marrow", "copper")), top


def test_differential_matches_next_tests_when_pursuing_everything(model):
    ev = {"anc": "moderate", "mcv": "high"}
    everything = differential_tests(model.engine, ev, pursue=model.engine.causes)
    nt = next_tests(model.engine, ev)
    for f, _, _, bits, _ in everything.items[:10]:
        assert abs(bits - nt[f].expected_entropy_reduction) < 1e-9


def test_pursued_cause_changes_the_ranking(model):
    ev = _ev(model, CLEAR_B12)
    dt = differential_tests(model.engine, ev, pursue=["copper_deficiency"])
    assert dt.pursued == ("copper_deficiency",) and dt.chosen_by == "chosen"
    assert "copper" in dt.items[0][0] or "cerulo" in dt.items[0][0] or "vacuol" in dt.items[0][0]
    with pytest.raises(QueryError):
        differential_tests(model.engine, ev, pursue=["no_such_cause"])


def test_workup_weights_are_exact_likelihood_ratios(model):
    ev = {"anc": "severe", "exposure_antipsychotic": "clozapine_window", "hx_fever": "present"}
    w = cause_workup(model.engine, "drug_antipsychotic", ev)
    assert w.supporting and all(r.weight > 0 for r in w.supporting)
    assert all(r.weight < 0 for r in w.against)
    r = w.confirm[0]
    post = model.engine.posterior({**ev, r.node: r.state}).of("drug_antipsychotic")
    lo = np.log10(post / (1 - post)) - np.log10(w.posterior / (1 - w.posterior))
    assert abs(lo - r.weight) < 1e-8 and abs(post - r.posterior) < 1e-9
    assert all(x.weight < 0 for x in w.exclude)
    assert set(w.to_dict()) >= {"supporting", "against", "would_confirm", "would_exclude"}


def test_diagnosis_json_keeps_posterior_order_and_adds_scores(model):
    d = diagnose(CLOZAPINE_AFRICAN, draws=0)
    out = d.to_dict()
    posts = [c["posterior"] for c in out["causes"]]
    assert posts == sorted(posts, reverse=True)
    assert {"disablement", "sufficiency", "p_needed"} <= set(out["causes"][0])
    r = diagnose(CLOZAPINE_AFRICAN, draws=0, rank_by="sufficiency").to_dict()
    suf = [c["sufficiency"] for c in r["causes"]]
    assert suf == sorted(suf, reverse=True) and r["ranked_by"] == "sufficiency"
    with pytest.raises(QueryError):
        diagnose(CLOZAPINE_AFRICAN, draws=0, rank_by="bogus")


def test_cli(tmp_path, capsys):
    p = tmp_path / "case.json"
    p.write_text(json.dumps(CLOZAPINE_AFRICAN))
    assert main(["diagnose", str(p), "--draws", "0", "--rank-by", "needed"]) == 0
    assert "Ranked by needed" in capsys.readouterr().out
    assert main(["next-tests", str(p), "--pursue", "ebv", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["pursued"] == ["ebv"]
    assert main(["explain", str(p), "-k", "3"]) == 0
    out = capsys.readouterr().out
    assert "alone" in out and "would most confirm" in out
    assert main(["explain", str(p), "--cause", "nope"]) == 2


def _h(engine, ev, idx):
    from bayesdx.voi import binary_entropy

    return float(binary_entropy(engine.posterior(ev).probs[idx]).sum())


def _info(engine, ev, f, idx):
    """I(f; pursued | ev) directly from single posteriors."""
    net = engine.net
    lz = engine.log_evidence(ev)
    out = _h(engine, ev, idx)
    for s in net.states[f]:
        e2 = {**ev, f: s}
        p = float(np.exp(engine.log_evidence(e2) - lz))
        if p > 0:
            out -= p * _h(engine, e2, idx)
    return out


def test_two_step_lookahead_matches_direct_computation(tiny_engine):
    net = tiny_engine.net
    ev = {"anc": "mild"}
    cands = ["test_m", "plt", "fever"]
    dt = differential_tests(tiny_engine, ev, pursue=["marrow", "flu"], candidates=cands,
                            lookahead=True)
    idx = [tiny_engine.causes.index(c) for c in ("marrow", "flu")]
    lz = tiny_engine.log_evidence(ev)
    for f, _, _, bits, _ in dt.items:
        assert abs(bits - _info(tiny_engine, ev, f, idx)) < 1e-10
        want = bits
        for s, nxt in zip(net.states[f], dt.lookahead[f][1]):
            e2 = {**ev, f: s}
            p = float(np.exp(tiny_engine.log_evidence(e2) - lz))
            best = max(_info(tiny_engine, e2, g, idx) for g in cands if g != f)
            assert abs(_info(tiny_engine, e2, nxt, idx) - best) < 1e-10
            want += p * best
        assert abs(dt.lookahead[f][0] - want) < 1e-10
    assert "2-step" in dt.format(labels=net.labels)
