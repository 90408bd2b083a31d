"""Bounded per-session work in the app (:mod:`bayesdx.ui.jobs`): heavy rankings run in the
session's own job, approximate beyond the app's budget, cancellable; light ones stay shared."""

from __future__ import annotations

from pathlib import Path

import pytest

from bayesdx.case import read_cases
from bayesdx.diagnosis import load_model
from bayesdx.ui import jobs

st_testing = pytest.importorskip("streamlit.testing.v1")

REPO = Path(__file__).resolve().parents[2]
HEAVY_CASE = REPO / "examples" / "heavy_workup.yaml"


@pytest.fixture(scope="module")
def model():
    return load_model()


@pytest.fixture(scope="module")
def heavy(model):
    return dict(read_cases(HEAVY_CASE, model.kb)[0].evidence)


def test_light_and_heavy_are_told_apart(model, heavy):
    assert jobs.is_light(model, {"anc": "severe", "hb": "low"})
    assert not jobs.is_light(model, heavy) and jobs.abnormal_count(model, heavy) >= 20


def test_a_job_is_reused_for_the_same_evidence_and_cancelled_by_new(model, heavy):
    store: dict = {}
    first = jobs.start(model, heavy, store)
    assert jobs.start(model, dict(reversed(list(heavy.items()))), store) is first  # same evidence
    other = dict(heavy, hx_fever="absent")
    second = jobs.start(model, other, store)
    assert second is not first and first.cancel.is_set()
    assert second.wait(120)
    d = second.outcome()
    assert not d.exact and d.inference["posterior_error"] < 0.05
    assert store["bdx.engine"] is not model.engine  # the session's own engine, not the shared one


def test_a_failed_job_gives_a_clear_error(model):
    job = jobs.Job("k", lambda cancel, progress: 1 / 0)
    assert job.wait(5)
    err = job.outcome()
    assert "ZeroDivisionError" in str(err)


def test_the_page_labels_an_approximate_ranking(model, heavy):
    at = st_testing.AppTest.from_file(str(REPO / "app.py"), default_timeout=180)
    at.query_params.update(heavy)
    at.run()
    assert not at.exception, at.exception
    warn = "\n".join(w.value for w in at.warning)
    assert "Approximate ranking" in warn and "percentage points" in warn
    info = "\n".join(i.value for i in at.info)
    assert "approximate" in info  # the open analysis tab declines, saying why
    assert [m for m in at.markdown if m.value.startswith("Most probable")]
