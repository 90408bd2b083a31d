"""Plans: every cause handled once, the frontier closed, orders deterministic and small."""

from __future__ import annotations

import pytest

from bayesdx.case import parse_case
from bayesdx.inference.plan import Pattern, compile_plan
from bayesdx.evaluation.vignettes import load_vignettes


@pytest.fixture(scope="module")
def keys(net, engine):
    from bayesdx.knowledge.load import load_knowledge

    kb = load_knowledge()
    return [Pattern.of(net, [engine.validate(parse_case(v.case, kb).evidence)])
            for v in load_vignettes()]


def test_every_cause_once_and_the_frontier_closes(net, keys):
    for key in keys:
        plan = compile_plan(net, key)
        stepped = [st.item for st in plan.steps if st.kind == "cause"]
        assert sorted(stepped + list(plan.free_causes)) == sorted(net.causes)
        assert len(set(stepped)) == len(stepped)
        if plan.steps:
            assert plan.steps[-1].out_axes == ()
        # every accumulator is opened and closed exactly once
        opened = [f for st in plan.steps for f in st.opens]
        closed = [f for st in plan.steps for f in st.closes]
        assert sorted(opened) == sorted(closed) == sorted(plan.acc)


def test_compiling_twice_gives_the_same_plan(net, keys):
    for key in keys[:20]:
        a, b = compile_plan(net, key), compile_plan(net, key)
        assert [st.item for st in a.steps] == [st.item for st in b.steps]
        assert a.cost == b.cost and a.max_frontier == b.max_frontier


def test_frontier_stays_far_below_the_joint(net, keys):
    # the joint of 35 binary causes alone has 2**35 states
    worst = max(compile_plan(net, key).max_frontier for key in keys)
    assert worst < 2 ** 20


def test_pattern_of_one_case_equals_the_general_rule(net, engine):
    import random

    from conftest import random_evidence

    rng = random.Random(7)
    for _ in range(300):
        e = engine.validate(random_evidence(net, rng, max_nodes=12))
        one = Pattern.of(net, [e])
        assert one == Pattern.of(net, [e, e])          # the general path
        assert set(one.unary) | set(one.acc) == {n for n in e if n in net.findings}
