"""bayesdx.ui.first_paint: the server's first page shows the ranking the app is about to draw."""

from __future__ import annotations

import pytest
from test_app import new_app
from test_ui import ranking_rows

from bayesdx.errors import ImpossibleEvidenceError
from bayesdx.ui import jobs, results, state
from bayesdx.ui.first_paint import first_paint_html
from bayesdx.ui.index_page import FIRST_PAINT_ID


def _live_ranking(query: dict) -> str:
    """The ranking's HTML as the app draws it on the first run of a session opened with ``query``."""
    at = new_app(query)
    assert not at.exception, at.exception
    html = [h.proto.body for h in at.get("html") if 'class="bdx-rank"' in h.proto.body]
    assert len(html) == 1
    return html[0]


def _params(query: dict) -> dict[str, list[str]]:
    return {k: [v] for k, v in query.items()}


@pytest.mark.parametrize("query", [
    {},  # the empty page
    {"anc": "severe", "hb": "low", "plt": "low"},  # evidence only (a link of another tool)
    {"f.cbc.anc": "0.1", "f.meds": "clozapine", "f.med.clozapine.weeks": "9", "f.age_years": "34"},  # the app's link
    {"f.cbc.anc": "0,4", "f.cbc.anc@unit": "10^9/L"},  # a decimal comma, read as the app reads it
])
def test_the_first_page_draws_the_same_ranking_as_the_app(query):
    """Same scenario, same numbers, same markup: the live ranking replaces it without a change."""
    html = first_paint_html(state.get_model(), _params(query))
    assert html is not None and html.startswith(f'<div id="{FIRST_PAINT_ID}"')
    live = _live_ranking(query)
    assert live in html, "the first page's ranking is the app's, character for character"
    assert ranking_rows(live)  # and it has rows


def test_the_first_page_has_the_disclaimer_and_says_the_form_is_loading():
    html = first_paint_html(state.get_model(), {})
    assert "research and teaching tool, not a medical device" in html
    assert "Loading the form" in html and 'aria-busy="true"' in html
    assert "Most probable: 1. <b>" in html


def test_heavy_or_impossible_evidence_gets_no_first_page(monkeypatch):
    model = state.get_model()
    states = model.net.states
    heavy = {n: states[n][-1] for n in list(model.net.findings)[:40]}
    assert not jobs.is_light(model, heavy)
    assert first_paint_html(model, _params(heavy)) is None  # the app ranks it in a job, with progress

    def impossible(*args, **kwargs):  # the model has no impossible pair today: the engine's answer
        raise ImpossibleEvidenceError({"anc": "normal", "smear_absent_neutrophils": "present"})

    monkeypatch.setattr(results, "diagnose_evidence", impossible)
    assert first_paint_html(model, {"anc": ["normal"]}) is None  # the app explains the conflict instead


@pytest.mark.parametrize("query", [
    {"<script>alert(1)</script>": "x"},
    {"anc": "<img src=x onerror=alert(1)>"},
    {"f.cbc.anc": "<b>1</b>", "f.sex": "\" onmouseover=\"x"},
    {"f." + "a" * 5000: "1"},
    {f"k{i}": "v" for i in range(2000)},
])
def test_a_hostile_link_is_never_echoed(query):
    html = first_paint_html(state.get_model(), _params(query))
    assert html is not None  # the link's bad parts are dropped: the empty page's ranking
    for bad in ("<script>alert", "onerror", "onmouseover", "<b>1</b>", "a" * 50):
        assert bad not in html
    assert html.count("<script>") == 1  # the page's own (static) script only
