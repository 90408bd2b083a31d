"""The Explanation tab through AppTest: rank-by switch, joint explanations, lists, apply + undo."""

from __future__ import annotations

from pathlib import Path

import pytest

from bayesdx.counterfactual import counterfactual
from bayesdx.diagnosis import load_model
from bayesdx.explanations import joint_explanations
from bayesdx.ui.explanation import DEFAULT_RANK, RANKS
from bayesdx.ui.labels import cause_label

st_testing = pytest.importorskip("streamlit.testing.v1")
AppTest = st_testing.AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")
CASE = {"anc": "severe", "exposure_antipsychotic": "clozapine_window", "age_group": "young",
        "ancestry": "african", "hx_fever": "present"}


@pytest.fixture(scope="module")
def model():
    return load_model()


def open_tab(query):
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params.update(query)
    at.run()
    at.session_state["bdx.rtab"] = "Explanation"
    at.run()
    assert not at.exception, at.exception
    return at


def evidence(at):
    """The evidence in the address bar (the form's own fields, ``f.<field>``, left out)."""
    return {k: (v[-1] if isinstance(v, list) else v) for k, v in at.query_params.items()
            if not k.startswith("f.")}


def test_rank_switch_joint_explanations_and_lists(model):
    at = open_tab(CASE)
    ev = evidence(at)
    cf = counterfactual(model.engine, ev)
    switch = at.segmented_control(key="bdx.rank_by")
    assert switch.value == DEFAULT_RANK
    assert any(RANKS[DEFAULT_RANK][1] in c.value for c in at.caption)
    table = at.dataframe[0].value
    want = [cause_label(model, c) for c, _ in cf.ranked(RANKS[DEFAULT_RANK][0])[:10]]
    assert list(table["Cause"]) == want
    switch.set_value("sufficiency").run()
    assert any(RANKS["sufficiency"][1] in c.value for c in at.caption)
    table = at.dataframe[0].value
    assert list(table["Cause"]) == [cause_label(model, c) for c, _ in cf.ranked("sufficiency")[:10]]
    je = joint_explanations(model.engine, ev, k=5)
    text = next(m.value for m in at.markdown if m.value.startswith("**Most probable explanations"))
    assert je.items[0].text({c: cause_label(model, c) for c in model.net.causes}) in text
    md = "\n".join(m.value for m in at.markdown)
    for title in ("Findings that support it", "Findings that argue against it",
                  "Tests that would most confirm it", "Tests that would most exclude it",
                  "Tests for the differential"):
        assert title in md


def test_assume_a_result_applies_it_and_undo_takes_it_back(model):
    at = open_tab(CASE)
    before = evidence(at)
    buttons = [b for b in at.button if b.key and b.key.startswith("bdx.apply.")]
    assert buttons
    b = buttons[0]
    node, value = b.key.split(".")[-2:]
    b.click().run()
    assert not at.exception, at.exception
    after = evidence(at)
    assert after.get(node) == value and node not in before
    at.button(key="bdx.undo").click().run()
    assert evidence(at) == before
    assert not [x for x in at.button if x.key == "bdx.undo"]
