"""One engine shared by many threads gives the same numbers as one thread.

The engine's plan cache and the tables' derived arrays are its only mutable
state (each behind its own lock). Eight threads each score 200 different
cases on one fresh engine with a small plan cache (so plans are compiled,
evicted and recompiled while other threads read the cache), through the
single-case and the batched paths; every number must equal the serial run's,
bit for bit.
"""

from __future__ import annotations

import random
import sys
import threading

import numpy as np
import pytest

from bayesdx.errors import ImpossibleEvidenceError
from bayesdx.inference.engine import Engine
from bayesdx.knowledge.network import Network

from conftest import random_evidence

THREADS = 8
CASES = 200


def _score(engine: Engine, evs: list[dict[str, str]], t: int) -> list:
    out = []
    for i, ev in enumerate(evs):
        if (i + t) % 10 == 0:  # now and then a small batch through the slot passes
            out.append(engine.posterior_batch([ev, {}], method="slots").probs[0, 0])
            continue
        try:
            out.append(engine.posterior(ev).probs)
        except ImpossibleEvidenceError:
            out.append(None)
    return out


def test_eight_threads_on_one_engine_match_a_serial_run(net):
    rng = random.Random(915)
    # 1,600 different cases on 80 evidence patterns (same nodes, same findings abnormal,
    # other states): threads share plans, and a 32-plan cache keeps evicting them
    bases = [random_evidence(net, rng, max_nodes=8, abnormal=0.6) for _ in range(80)]
    distinct: dict = {}
    stale = 0  # draws in a row that gave no new case: the patterns are used up, add one
    while len(distinct) < THREADS * CASES:
        if stale >= 200:
            bases.append(random_evidence(net, rng, max_nodes=8, abnormal=0.6))
            stale = 0
        base = rng.choice(bases)
        ev = {n: s if n in net.findings and s == net.states[n][0] else
              rng.choice(net.states[n][1:] if n in net.findings else net.states[n])
              for n, s in base.items()}
        key = tuple(sorted(ev.items()))
        stale = stale + 1 if key in distinct else 0
        distinct.setdefault(key, ev)
    cases = list(distinct.values())
    work = [cases[t * CASES:(t + 1) * CASES] for t in range(THREADS)]

    serial_engine = Engine(Network.from_knowledge(net.kb), cache_size=32)
    serial = [_score(serial_engine, evs, t) for t, evs in enumerate(work)]

    shared = Engine(Network.from_knowledge(net.kb), cache_size=32)  # fresh caches, many evictions
    results: list = [None] * THREADS
    errors: list[BaseException] = []
    barrier = threading.Barrier(THREADS)

    def run(t: int) -> None:
        try:
            barrier.wait()
            results[t] = _score(shared, work[t], t)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)  # switch threads often: interleave the cache operations
    try:
        threads = [threading.Thread(target=run, args=(t,)) for t in range(THREADS)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    finally:
        sys.setswitchinterval(old)
    assert not errors, errors
    n = 0
    for t in range(THREADS):
        for a, b in zip(serial[t], results[t]):
            if a is None:
                assert b is None
                continue
            np.testing.assert_array_equal(a, b)
            n += 1
    assert n > 0.9 * THREADS * CASES
    assert len(shared._plans) <= 32


@pytest.mark.parametrize("threads", [8])
def test_plan_cache_lookups_under_contention(net, threads):
    """Many threads asking for the same few patterns get one cached plan each."""
    # (kernel="compiled": the default runs these light queries without a plan)
    eng = Engine(Network.from_knowledge(net.kb), cache_size=4, kernel="compiled")
    evs = [{"anc": "severe"}, {"hb": "low"}, {"plt": "low"}, {"anc": "mild", "sex": "female"}]
    seen: list = []

    def run() -> None:
        for _ in range(10):
            for ev in evs:
                eng.posterior(ev)
        seen.append(len(eng._plans))

    ths = [threading.Thread(target=run) for _ in range(threads)]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    assert seen == [4] * threads
