"""One-at-a-time sensitivity (bayesdx.sensitivity): exactness, zero swings, monotonicity, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import brute_force

from bayesdx.case import parse_case
from bayesdx.cli.main import main
from bayesdx.diagnosis import load_model
from bayesdx.sensitivity import sensitivity
from bayesdx.errors import QueryError

EV = {"plt": "low", "anc": "mild"}


@pytest.fixture(scope="module")
def tiny_sens(tiny_engine):
    return sensitivity(tiny_engine, "marrow", EV)


def test_matches_brute_force(tiny_net, tiny_sens):
    lo, hi = tiny_net.bounds
    for item in tiny_sens.items[:8]:
        i = tiny_net.param_index(item.path)
        for end, got in ((lo[i], item.posterior_low), (hi[i], item.posterior_high)):
            th = tiny_net.theta0.copy()
            th[i] = end
            ref, _ = brute_force(tiny_net, EV, tiny_net.tables(th))
            assert got == pytest.approx(ref[tiny_net.causes.index("marrow")], abs=1e-12)
    assert tiny_sens.posterior == pytest.approx(brute_force(tiny_net, EV)[0][1], abs=1e-12)


def test_ranked_by_swing_and_fixed_parameters_skipped(tiny_net, tiny_sens):
    swings = [i.swing for i in tiny_sens.items]
    assert swings == sorted(swings, reverse=True)
    assert all(i.swing == pytest.approx(abs(i.posterior_high - i.posterior_low)) for i in
               tiny_sens.items)
    paths = {i.path for i in tiny_sens.items}
    assert "causes.flu.rr.age_group.adult" not in paths  # range [1, 1]
    assert paths == {p.path for p in tiny_net.params if p.low != p.high}


def test_zero_swing_when_the_cause_does_not_depend_on_it(tiny_engine, tiny_sens):
    # unobserved findings are barren: exactly zero
    for path in ("findings.fever.leak.present", "findings.test_m.links.marrow.positive"):
        assert tiny_sens[path].swing == 0.0
    # recomputed by the engine, yet irrelevant given plt alone: flu reaches marrow only via anc
    alone = sensitivity(tiny_engine, "marrow", {"plt": "low"})
    for path in ("causes.flu.prior", "causes.flu.rr.age_group.child"):
        assert alone[path].swing < 1e-12
    assert tiny_sens["causes.flu.prior"].swing > 1e-4  # explaining away through anc


def test_monotone_parameters_bracket_the_posterior(tiny_sens):
    base = tiny_sens.posterior
    for path in ("causes.marrow.base", "findings.plt.links.marrow.low"):  # raise marrow
        it = tiny_sens[path]
        assert it.posterior_low < base < it.posterior_high
    it = tiny_sens["findings.plt.leak.low"]  # a larger leak explains the low platelets
    assert it.posterior_high < base < it.posterior_low


def test_deterministic_and_chunk_independent(tiny_engine, tiny_sens):
    again = sensitivity(tiny_engine, "marrow", EV)
    assert again == tiny_sens
    small = sensitivity(tiny_engine, "marrow", EV, chunk=3)
    for a, b in zip(small.items, tiny_sens.items):
        assert a.path == b.path
        assert a.posterior_low == pytest.approx(b.posterior_low, abs=1e-13)
        assert a.posterior_high == pytest.approx(b.posterior_high, abs=1e-13)


def test_prefix_filter_serialisation_and_errors(tiny_engine, tiny_sens):
    only = sensitivity(tiny_engine, "marrow", EV, params=["causes.marrow"])
    assert {i.path for i in only.items} == {"causes.marrow.base",
                                            "causes.marrow.rr.age_group.child"}
    bars = tiny_sens.tornado(3)
    assert len(bars) == 3 and bars[0]["parameter"] == tiny_sens.items[0].path
    json.dumps(tiny_sens.to_dict(top=5), allow_nan=False)
    assert "at high" in tiny_sens.format(5)
    with pytest.raises(QueryError, match="did you mean marrow"):
        sensitivity(tiny_engine, "marow", EV)


def test_real_model_prior_of_the_cause():
    m = load_model()
    ev = parse_case({"age_years": 34, "cbc": {"anc": 0.2},
                     "medications": [{"name": "clozapine", "weeks": 9}]}, m.kb).evidence
    s = sensitivity(m.engine, "drug_antipsychotic", ev,
                    params=["causes.drug_antipsychotic", "causes.sle", "findings.test_ana"])
    prior = s["causes.drug_antipsychotic.base"]  # its prior (exposure sets the rest)
    assert prior.posterior_low < s.posterior < prior.posterior_high
    assert s.items[0].swing >= s.items[-1].swing
    assert s["findings.test_ana.links.sle.positive"].swing == 0.0  # test_ana not observed


def test_cli(tmp_path, capsys):
    f = tmp_path / "case.yaml"
    f.write_text("age_years: 34\ncbc: {anc: 0.2}\nmedications: [{name: clozapine, weeks: 9}]\n")
    assert main(["sensitivity", str(f), "--cause", "drug_antipsychotic", "--params",
                 "causes.drug_antipsychotic", "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert "causes.drug_antipsychotic.base" in out and "at low" in out
    assert main(["sensitivity", str(f), "--cause", "drug_antipsychotic", "--params",
                 "causes.drug_antipsychotic", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["cause"] == "drug_antipsychotic" and d["parameters"][0]["swing"] > 0
    assert main(["sensitivity", str(f), "--cause", "clozapine"]) == 2
    assert "must be a cause id" in capsys.readouterr().err
    assert np.isfinite(d["posterior"])
