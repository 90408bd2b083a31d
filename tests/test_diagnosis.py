"""The Python API of the contract: diagnose(case) -> result with to_dict()."""

from __future__ import annotations

import pytest

from bayesdx.diagnosis import DISCLAIMER, Diagnosis, diagnose, load_model
from bayesdx.errors import CaseError

from conftest import REPO


def test_empty_case_gives_the_prior():
    d = diagnose({}, draws=0)
    m = load_model()
    for c in d.causes:
        assert c.posterior == pytest.approx(m.priors[c.id], abs=1e-12)
    assert d.evidence == {}


def test_dict_and_path_give_the_same_answer():
    a = diagnose(REPO / "examples" / "clozapine.yaml", draws=0)
    import yaml

    b = diagnose(yaml.safe_load((REPO / "examples" / "clozapine.yaml").read_text()), draws=0)
    assert a.to_dict() == b.to_dict()
    assert isinstance(a, Diagnosis) and a.top(1) == ["drug_antipsychotic"]


def test_intervals_are_deterministic_and_bracket():
    a = diagnose(REPO / "examples" / "clozapine.yaml", draws=200, seed=1)
    b = diagnose(REPO / "examples" / "clozapine.yaml", draws=200, seed=1)
    assert a.to_dict() == b.to_dict()
    for c in a.causes:
        assert c.interval[0] <= c.posterior + 1e-9 and c.posterior <= c.interval[1] + 1e-9


def test_result_is_frozen_and_says_what_it_is():
    d = diagnose({"cbc": {"anc": 1.2}}, draws=0)
    with pytest.raises(AttributeError):
        d.id = "x"  # type: ignore[misc]
    assert d.to_dict()["disclaimer"] == DISCLAIMER


def test_absent_findings_move_the_posterior():
    base = {"age_years": 60, "sex": "male", "cbc": {"anc": 1.0, "hb": 9.5, "plt": 80, "amc": 0.05}}
    with_spleen = diagnose({**base, "history": {"splenomegaly": "present"}}, draws=0)
    without = diagnose({**base, "history": {"splenomegaly": "absent"}}, draws=0)
    unknown = diagnose(base, draws=0)
    p = {n: {c.id: c.posterior for c in d.causes} for n, d in
         (("with", with_spleen), ("without", without), ("unknown", unknown))}
    for cause in ("hypersplenism", "hairy_cell_leukemia"):
        assert p["with"][cause] > p["unknown"][cause] > p["without"][cause]


def test_bad_case_is_a_case_error():
    with pytest.raises(CaseError) as exc:
        diagnose({"cbc": {"anc": -1}}, draws=0)
    assert "cbc.anc" in str(exc.value)


def test_a_batch_file_gives_what_each_case_gives_alone(tmp_path):
    import yaml

    from bayesdx.batch import diagnose_many

    cases = yaml.safe_load((REPO / "examples" / "batch.yaml").read_text())["cases"]
    many = diagnose_many(REPO / "examples" / "batch.yaml", draws=50, seed=3)
    assert [type(d).__name__ for d in many] == ["Diagnosis", "CaseError", "Diagnosis"]
    for case, got in zip(cases, many):
        if isinstance(got, Diagnosis):
            alone = diagnose(case, draws=50, seed=3)
            assert got.to_dict() == alone.to_dict()


def test_cases_finished_in_two_threads_give_the_one_thread_results(monkeypatch):
    import bayesdx.batch as batch
    from bayesdx.case import parse_case

    m = load_model()
    raw = [{"cbc": {"anc": 0.3, "hb": 7.9, "plt": 40}},
           {"age_years": 40, "medications": [{"name": "clozapine", "weeks": 6}], "cbc": {"anc": 0.4}},
           {"cbc": {"anc": 1.1}, "tests": {"duffy_null": "positive"}},
           {"cbc": {"anc": 0.9, "mcv": 121}, "vitamins": {"b12": "95 pmol/L"}}]
    cases = [parse_case(r, m.kb) for r in raw]
    cases.insert(2, CaseError([]))  # an unreadable case among readable ones (as read_cases yields it)

    def run(threads):
        monkeypatch.setattr(batch, "CASE_THREADS", threads)
        return list(batch.score_cases(cases, model=m, draws=40, seed=5, first_chunk=8))

    one, two = run(1), run(2)
    assert [type(d).__name__ for d in two] == ["Diagnosis"] * 2 + ["CaseError"] + ["Diagnosis"] * 2
    for a, b in zip(one, two):
        if isinstance(a, Diagnosis):
            assert a.intervals is not None
            assert a.to_dict() == b.to_dict()


def test_a_case_that_may_need_over_half_the_memory_budget_is_finished_alone(monkeypatch):
    """Two cases at once stay within the memory budget: a heavy case whose estimate is
    over half of it runs alone (the others still two at a time); the same numbers."""
    import bayesdx.batch as batch
    from bayesdx.case import parse_case
    from bayesdx.diagnosis import _heavy
    from bayesdx.evaluation.vignettes import load_vignettes
    from bayesdx.inference.budget import Budget

    m = load_model()
    heavy = next(pc for v in load_vignettes() for pc in [parse_case(v.case, m.kb)]
                 if _heavy(m.engine, pc.evidence))
    need = m.engine.estimate(heavy.evidence).bytes
    tight, roomy = Budget(int(need * 1.5), 60), Budget(need * 2, 60)
    assert batch._alone(m.engine, heavy.evidence, tight, 2)
    assert not batch._alone(m.engine, heavy.evidence, roomy, 2)
    light = [parse_case({"cbc": {"anc": a}}, m.kb) for a in (0.3, 0.9)]
    cases = [light[0], heavy, light[1]]
    mapped = []

    class Recording(batch.ThreadPoolExecutor):
        def map(self, fn, items):
            items = list(items)
            mapped.extend(items)
            return super().map(fn, items)

    monkeypatch.setattr(batch, "ThreadPoolExecutor", Recording)
    two = list(batch.score_cases(cases, model=m, draws=40, seed=2, budget=tight, scores=False))
    assert mapped == [0, 2]  # the heavy case (index 1) was finished alone
    monkeypatch.setattr(batch, "CASE_THREADS", 1)
    one = list(batch.score_cases(cases, model=m, draws=40, seed=2, budget=tight, scores=False))
    assert [d.to_dict() for d in two] == [d.to_dict() for d in one]
