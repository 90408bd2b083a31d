"""The approximate (Gibbs) posterior beyond the exact budget, checked against exact answers.

Every check compares the sampler with an exact method on the same evidence:
brute-force enumeration of the joint on the tiny network, and the exact engine
on mid-size validation work-ups and on the 27-finding work-up of issue 15.
The stated standard error must cover the actual error: |approx - exact| <= 4 SE
for at least 95 % of the causes.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from bayesdx.case import parse_case, read_cases
from bayesdx.diagnosis import diagnose_evidence, load_model
from bayesdx.evaluation.vignettes import load_vignettes
from bayesdx.inference.approx import MIN_SWEEPS, approximate, gibbs_plan, gibbs_posterior, sweeps_for
from bayesdx.inference.budget import Budget, BudgetError

from conftest import REPO, brute_force, random_evidence


def _covered(approx, exact) -> float:
    """Share of causes whose error is within 4 stated standard errors."""
    return float(np.mean(np.abs(approx.probs - exact) <= 4 * approx.se))


def test_tiny_network_matches_brute_force(tiny_net):
    rng = random.Random(5)
    shares = []
    for k in range(12):
        ev = random_evidence(tiny_net, rng, max_nodes=4, abnormal=0.7)
        exact, _ = brute_force(tiny_net, ev)
        a = gibbs_posterior(tiny_net, ev, chains=32, sweeps=300, seed=k)
        shares.append(_covered(a, exact))
        assert np.abs(a.probs - exact).max() < 0.05
    assert np.mean(shares) >= 0.95


def test_mid_size_work_ups_match_the_exact_engine():
    model = load_model()
    net = model.net
    evs = [parse_case(v.case, model.kb).evidence for v in load_vignettes()]
    n_abn = [sum(1 for f, s in ev.items() if f in net.findings and s != net.states[f][0])
             for ev in evs]
    heaviest = sorted(range(len(evs)), key=lambda i: -n_abn[i])[:10]  # 9-13 abnormal findings
    covered, total, worst = 0, 0, 0.0
    for i in heaviest:
        exact = model.engine.posterior(evs[i]).probs
        a = gibbs_posterior(net, evs[i], chains=64, sweeps=300, seed=i)
        covered += int(np.sum(np.abs(a.probs - exact) <= 4 * a.se))
        total += len(exact)
        worst = max(worst, float(np.abs(a.probs - exact).max()))
    assert covered / total >= 0.95
    assert worst < 0.03


HEAVY = {"anc": "severe", "alc": "low", "hb": "very_low", "plt": "very_low", "retic": "low",
         "smear_blasts": "present", "smear_macro_ovalocytes": "present", "hx_fever": "present",
         "hx_splenomegaly": "present", "marrow_dysplasia": "present",
         "marrow_megaloblastic": "present", "b12_level": "low", "mma": "elevated"}


def test_heavy_evidence_within_stated_error(net, engine):
    exact = engine.posterior(HEAVY).probs  # 13 abnormal findings: seconds, by the searched order
    a = approximate(net, HEAVY, 0.5, seed=3)
    assert a.sweeps >= MIN_SWEEPS
    assert _covered(a, exact) >= 0.95
    assert np.abs(a.probs - exact).max() < 0.02


def test_27_finding_work_up_is_approximated_not_refused():
    model = load_model()
    ev = read_cases(REPO / "examples" / "heavy_workup.yaml", model.kb)[0].evidence
    d = diagnose_evidence(model, ev, draws=0, budget=Budget(seconds=0.5))
    assert not d.exact and d.inference["posterior_error"] < 0.05
    assert d.causes[0].posterior > 0.5  # a ranking, with a leading explanation


def test_deterministic_by_seed(net):
    ev = {"anc": "severe", "hb": "low", "plt": "low", "hx_fever": "present"}
    a = gibbs_posterior(net, ev, chains=8, sweeps=40, seed=7)
    b = gibbs_posterior(net, ev, chains=8, sweeps=40, seed=7)
    c = gibbs_posterior(net, ev, chains=8, sweeps=40, seed=8)
    assert np.array_equal(a.probs, b.probs) and np.array_equal(a.se, b.se)
    assert not np.array_equal(a.probs, c.probs)


def test_sweeps_come_from_the_budget_not_the_clock(net):
    plan = gibbs_plan(net, {"anc": "severe", "hb": "low"})
    assert sweeps_for(plan, 64, 2.0) == pytest.approx(2 * sweeps_for(plan, 64, 1.0), abs=1)
    assert approximate(net, {"anc": "mild"}, 1e-6).sweeps == MIN_SWEEPS


def test_diagnosis_beyond_the_budget_is_labelled_approximate():
    model = load_model()
    ev = {"anc": "severe", "alc": "low", "hb": "very_low", "plt": "very_low",
          "smear_blasts": "present", "hx_fever": "present", "marrow_dysplasia": "present"}
    tight = Budget(seconds=1e-9)
    d = diagnose_evidence(model, ev, draws=100, budget=tight)
    inf = d.to_dict()["inference"]
    assert not d.exact and inf["exact"] is False and inf["method"] == "gibbs"
    assert 0 < inf["posterior_error"] < 0.05 and "budget" in inf["note"]
    assert inf["sampler"]["chains"] > 1 and inf["exact_cost"]
    assert all("se" in c and c["se"] > 0 for c in d.to_dict()["causes"])
    assert inf["interval"]["draws"] == 0 and "approximate" in inf["interval"]["note"]
    exact = diagnose_evidence(model, ev, draws=0)
    assert exact.exact and "se" not in exact.to_dict()["causes"][0]
    by_id = {c.id: c.posterior for c in exact.causes}
    assert all(abs(c.posterior - by_id[c.id]) <= 4 * c.se + 1e-3 for c in d.causes)
    with pytest.raises(BudgetError):
        diagnose_evidence(model, ev, draws=0, budget=tight, approximate=False)


def test_chains_split_into_batches_give_the_same_numbers(net, monkeypatch):
    from bayesdx.inference import approx as approx_mod

    ev = {"anc": "severe", "hb": "low", "plt": "low"}
    whole = gibbs_posterior(net, ev, chains=12, sweeps=30, seed=2)
    monkeypatch.setattr(approx_mod, "CHAIN_BATCH", 5)
    seen = []
    parts = gibbs_posterior(net, ev, chains=12, sweeps=30, seed=2, progress=seen.append)
    assert np.array_equal(whole.probs, parts.probs) and seen == [5 / 12, 10 / 12, 1.0]


def test_cancel_stops_the_sampler(net):
    import threading

    from bayesdx.inference.approx import Cancelled

    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        gibbs_posterior(net, {"anc": "severe"}, chains=16, sweeps=30, cancel=stop)


def test_a_batch_approximates_only_its_heavy_case(tmp_path):
    import yaml

    from bayesdx.batch import diagnose_many

    heavy = yaml.safe_load((REPO / "examples" / "heavy_workup.yaml").read_text())
    light = {"id": "light", "cbc": {"anc": 0.2}, "medications": [{"name": "clozapine", "weeks": 9}]}
    path = tmp_path / "batch.yaml"
    path.write_text(yaml.safe_dump({"cases": [light, heavy]}))
    out = diagnose_many(path, draws=0, budget=Budget(seconds=0.5))
    assert [d.exact for d in out] == [True, False]
    assert out[1].inference["method"] == "gibbs" and out[0].inference["method"] == "exact"
    refused = diagnose_many(path, draws=0, budget=Budget(seconds=0.5), approximate=False)
    assert refused[0].exact and isinstance(refused[1], BudgetError)
