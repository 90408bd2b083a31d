"""Derived findings: a laboratory's verdict read as a run of its level's bands, exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bayesdx.errors import CaseError
from bayesdx.inference.engine import Engine
from bayesdx.knowledge.load import load_knowledge
from bayesdx.knowledge.network import Network
from bayesdx.uncertainty import sample_parameters

from conftest import brute_force, edit_yaml, knowledge_problems

VERDICT = {"label": "Neutrophil count reported only as low or normal", "group": "cbc",
           "states": ["normal", "low"],
           "derived_from": {"finding": "anc", "states": {"normal": ["normal"], "low": ["mild", "severe"]}}}


def _edit(root: Path, fn, rel: str = "model/network.yaml"):
    edit_yaml(root, rel, fn)


_problems = knowledge_problems


@pytest.fixture()
def verdict_net(tiny_copy):
    _edit(tiny_copy, lambda d: d["findings"].update(anc_verdict=dict(VERDICT)))
    return Network(load_knowledge(tiny_copy))


def test_a_derived_finding_has_its_sources_parents_and_merged_tables(verdict_net):
    net = verdict_net
    assert net.parents["anc_verdict"] == net.parents["anc"]
    assert net.derived == {"anc_verdict": ("anc", ((0,), (1, 2)))}
    assert not any(p.path.startswith("findings.anc_verdict") for p in net.params)
    theta = sample_parameters(net, 5, seed=3)
    for T in (net.tables(), net.tables(theta)):
        src, der = T.finding_leak["anc"], T.finding_leak["anc_verdict"]
        assert np.allclose(der, np.stack([src[..., 0], src[..., 1:].sum(-1)], -1), atol=0, rtol=1e-15)
        for p in net.parents["anc"]:
            a, b = T.link("anc", p), T.link("anc_verdict", p)
            assert np.array_equal(b[..., 0], a[..., 0]) and np.allclose(b[..., 1], a[..., 1:].sum(-1))


@pytest.mark.parametrize("kernel", ["numpy", "compiled"])
def test_a_verdict_is_the_union_of_its_bands(verdict_net, kernel):
    """P(cause | anc in {mild, severe}, e) from the two band posteriors, by brute force."""
    net = verdict_net
    engine = Engine(net, kernel=kernel)
    for rest in ({}, {"fever": "present"}, {"plt": "low", "age_group": "child"}):
        parts = [brute_force(net, {**rest, "anc": s}) for s in ("mild", "severe")]
        w = np.exp([lz for _, lz in parts])
        want = (parts[0][0] * w[0] + parts[1][0] * w[1]) / w.sum()
        post = engine.posterior({**rest, "anc_verdict": "low"})
        assert np.allclose(post.probs, want, atol=1e-12, rtol=0)
        assert abs(post.log_evidence - np.log(w.sum())) < 1e-12
        batch = engine.posterior_batch([{**rest, "anc_verdict": "low"}, {**rest, "anc": "mild"}],
                                       method="slots")
        assert np.allclose(batch.probs[0, 0], want, atol=1e-12, rtol=0)


def test_a_level_and_its_verdict_together_are_refused(verdict_net):
    with pytest.raises(CaseError) as exc:
        Engine(verdict_net).validate({"anc": "mild", "anc_verdict": "low"})
    assert "anc_verdict: must not be given together with anc (they read the same level, anc)" in str(exc.value)


def test_two_readings_of_one_level_are_refused(tiny_copy):
    second = {**VERDICT, "label": "Neutrophil count reported only as very low or not",
              "derived_from": {"finding": "anc", "states": {"normal": ["normal", "mild"], "low": ["severe"]}}}
    yaml_edit = lambda d: d["findings"].update(anc_verdict=dict(VERDICT), anc_severe=second)  # noqa: E731
    _edit(tiny_copy, yaml_edit)
    net = Network(load_knowledge(tiny_copy))
    with pytest.raises(CaseError) as exc:
        Engine(net).validate({"anc_verdict": "low", "anc_severe": "normal"})
    assert "must not be given together with anc_verdict (they read the same level, anc)" in str(exc.value)
    Engine(net).validate({"anc_severe": "low", "fever": "present"})  # one reading is fine


def test_bad_derived_findings_are_named(tiny_copy):
    def model(d):
        d["findings"]["v_parents"] = {**VERDICT, "label": "A", "parents": ["flu"]}
        d["findings"]["v_runs"] = {**VERDICT, "label": "B", "derived_from": {
            "finding": "anc", "states": {"normal": ["normal", "severe"], "low": ["mild"]}}}
        d["findings"]["v_ghost"] = {**VERDICT, "label": "C", "derived_from": {
            "finding": "anx", "states": {"normal": ["normal"], "low": ["mild", "severe"]}}}
        d["findings"]["v_chain"] = {**VERDICT, "label": "D", "states": ["normal", "low"], "derived_from": {
            "finding": "v_parents", "states": {"normal": ["normal"], "low": ["low"]}}}

    def priors(d):
        d["findings"]["v_runs"] = {"leak": {"value": 0.1, "range": [0, 1], "source": "E"}}

    _edit(tiny_copy, model)
    _edit(tiny_copy, priors, "priors/numbers.yaml")
    msg = _problems(tiny_copy)
    assert "findings.v_parents.parents: must be left out for a derived finding" in msg
    assert "findings.v_runs.derived_from.states: must split the states of anc into consecutive runs" in msg
    assert "findings.v_ghost.derived_from.finding: must name a finding; got 'anx'" in msg
    assert "did you mean anc" in msg
    assert "findings.v_chain.derived_from.finding: must name a finding that is not itself derived" in msg
    assert "findings.v_runs: must not have numbers of its own" in msg


def test_a_plain_finding_still_needs_parents(tiny_copy):
    _edit(tiny_copy, lambda d: d["findings"]["plt"].update(parents=[]))
    assert "findings.plt.parents: must list at least one cause or context node" in _problems(tiny_copy)
