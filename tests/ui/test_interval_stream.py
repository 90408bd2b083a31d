"""The app's streamed credible intervals: the first stage at once, the final ones exactly the package's."""

from __future__ import annotations

import numpy as np
import pytest

from bayesdx.diagnosis import load_model
from bayesdx.ui import analysis, state
from bayesdx.uncertainty import interval_estimate

HEAVY = {"age_group": "young", "sex": "male", "anc": "severe", "alc": "normal", "hb": "normal", "plt": "normal",
         "exposure_antipsychotic": "clozapine_window", "smear_lgl": "absent", "hx_fever": "present"}


@pytest.fixture(scope="module")
def model():
    return state.get_model()


def test_the_stream_refines_in_place_to_interval_estimate(model):
    ev = {k: v for k, v in HEAVY.items() if k in model.net.states}
    analysis._FINAL.clear()
    stages = list(analysis.interval_stream(model, ev))
    assert len(stages) >= 2 and [s[3] for s in stages] == [False] * (len(stages) - 1) + [True]
    ref = interval_estimate(load_model().engine, ev, draws=analysis.DRAWS, seed=0)  # another engine, same numbers
    iv, n, err, _ = stages[-1]
    assert (n, err) == (ref.draws, ref.mc_error)
    idx = {c: i for i, c in enumerate(model.engine.causes)}
    got = np.array([iv[c] for c in model.engine.causes])
    np.testing.assert_array_equal(got, ref.bounds[[idx[c] for c in model.engine.causes]])
    first = stages[0]
    assert first[1] < n and first[2] > ref.tolerance and set(first[0]) == set(iv)
    # kept: the same evidence again gives the final intervals only, at once
    assert list(analysis.interval_stream(model, ev)) == [stages[-1]]
    assert analysis.interval_details(model, ev) == stages[-1][:3]


def test_the_app_engines_share_one_plan_cache(model):
    from bayesdx.ui import jobs

    cache = model.engine.plan_cache
    assert state.get_analysis_engine().plan_cache is cache and cache.size == state.APP_PLANS
    assert jobs.session_model(model, {}).engine.plan_cache is cache
