"""Batches: many parsed cases scored as a stream, chunk by chunk.

:func:`score_cases` scores parsed cases (:func:`bayesdx.case.read_cases`, or
the lazy :func:`bayesdx.case.iter_cases`) in chunks that grow from
:data:`FIRST_CHUNK` to :data:`CHUNK` cases, each chunk one batched engine
call, and yields each case's :class:`~bayesdx.diagnosis.Diagnosis` (or its
exception) in order. :func:`diagnose_many` is its list for a case file.
One bad case never sinks the others.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from .diagnosis import (
    Diagnosis,
    Model,
    _approx_diagnosis,
    _check_budget,
    _check_counts,
    _diagnosis,
    _heavy,
    load_model,
)
from .inference.budget import Budget, BudgetError
from .inference.engine import Posterior
from .inference.program import THREADS
from .uncertainty import DEFAULT_DRAWS, TOLERANCE

__all__ = ["CASE_THREADS", "CHUNK", "FIRST_CHUNK", "diagnose_many", "score_cases"]

CHUNK = 2048
"""Most cases per batched engine call when scoring a batch (:func:`score_cases`).

Chunks start at :data:`FIRST_CHUNK` cases (the first results appear at once)
and double up to this size: on 8,192 distinct cases, chunks of 256 took about
1.7x the time of one call, chunks of 1,024 to 2,048 about 1.1-1.2x
(``benchmarks/stream_chunks.py``)."""
FIRST_CHUNK = 64
"""Cases in the first chunk of :func:`score_cases`."""
CASE_THREADS = THREADS
"""Cases of a chunk finished at once (their intervals and scores) when intervals are
asked for: two, the kernel's thread count (:data:`bayesdx.inference.program.THREADS`).
A heavy case whose estimated memory is over ``1 / CASE_THREADS`` of the budget's is
finished alone, so the cases at once stay within the memory budget together.
On the 40 vignettes with the most abnormal findings, CLI defaults (``benchmarks/issue12.py``'s
``cohort-cli`` row), four paired runs against one thread on a quiet machine: wall 8.98 ->
7.56 s (median), CPU +2 %, peak memory 388 -> 448 MB."""

def _score_chunk(model: Model, chunk: list, draws: int, seed: int, scores: bool = True,
                 rank_by: str = "posterior", budget: Budget | None = None,
                 approximate: bool = True, tolerance: float = TOLERANCE) -> list:
    """Diagnoses (or exceptions) for one chunk of parsed cases, in order.

    A case whose exact posterior is over the budget gets the labelled
    approximation (see :func:`diagnose_evidence`), or its
    :class:`~bayesdx.inference.budget.BudgetError` when ``approximate`` is false.
    """
    from .errors import BayesdxError

    eng = model.engine
    budget = budget or eng.budget
    out: list = []
    for pc in chunk:
        if not isinstance(pc, Exception):
            try:
                eng.validate(pc.evidence)
                _check_budget(eng, pc.evidence, budget)
            except BudgetError as exc:
                if approximate:
                    try:
                        pc = _approx_diagnosis(model, pc.evidence, exc.cost, budget, pc.id,
                                               pc.ignored, draws, seed)
                    except BayesdxError as exc2:
                        pc = exc2
                else:
                    pc = exc
            except BayesdxError as exc:
                pc = exc
        out.append(pc)
    todo = [i for i, pc in enumerate(out) if not isinstance(pc, (Exception, Diagnosis))]
    batch = None
    if todo:
        try:
            batch = eng.posterior_batch([out[i].evidence for i in todo])
        except Exception:  # noqa: BLE001 - e.g. memory: score the cases one by one instead
            batch = None

    def finish(j: int) -> Diagnosis | Exception:
        pc = out[todo[j]]
        try:
            if batch is not None and np.isfinite(batch.log_evidence[0, j]):
                post = Posterior(eng.causes, batch.probs[0, j], eng.priors,
                                 float(batch.log_evidence[0, j]), dict(pc.evidence))
            else:
                post = eng.posterior(pc.evidence)  # raises, naming the conflict
            return _diagnosis(model, post, pc.id, pc.ignored, draws, seed, scores, rank_by, budget,
                              tolerance)
        except Exception as exc:  # noqa: BLE001 - one case never sinks the others
            return exc

    # a case's intervals and scores are exact and independent of every other case's:
    # with intervals, CASE_THREADS cases are finished at once (the kernel and numpy
    # release the GIL); the same numbers, in the same order, as one at a time. A case
    # that may need more than its share of the memory budget is finished alone.
    n = min(CASE_THREADS, len(todo)) if draws else 1
    shared = [j for j in range(len(todo)) if n > 1 and not _alone(eng, out[todo[j]].evidence, budget, n)]
    if shared:
        with ThreadPoolExecutor(n, thread_name_prefix="bayesdx-cases") as pool:
            for j, d in zip(shared, pool.map(finish, shared)):
                out[todo[j]] = d
    for j in sorted(set(range(len(todo))) - set(shared)):
        out[todo[j]] = finish(j)
    return out


def _alone(eng, evidence, budget: Budget, n: int) -> bool:
    """Finish this case alone? When it is heavy (its cost is estimated:
    :func:`~bayesdx.diagnosis._check_budget`) and its estimated memory is over ``1 / n``
    of the budget's, so ``n`` cases at once stay within the budget.

    >>> from bayesdx.inference.budget import Budget
    >>> m = load_model()
    >>> _alone(m.engine, {"anc": "severe"}, Budget(1, 8), 2)  # light: never estimated
    False
    """
    return _heavy(eng, evidence) and eng.estimate(evidence).bytes * n > budget.memory_bytes


def score_cases(cases: Iterable, *, model: Model | None = None, draws: int = DEFAULT_DRAWS,
                seed: int = 0, scores: bool = True, rank_by: str = "posterior", chunk: int = CHUNK,
                first_chunk: int = FIRST_CHUNK, budget: Budget | None = None,
                approximate: bool = True,
                tolerance: float = TOLERANCE) -> Iterator[Diagnosis | Exception]:
    """Diagnose parsed cases (:func:`bayesdx.case.read_cases`) as a stream, chunk by chunk.

    Each chunk of cases is scored in one batched engine call
    (:meth:`~bayesdx.inference.engine.Engine.posterior_batch`), then yielded
    case by case in order; chunks grow from ``first_chunk`` to ``chunk``
    cases, so the first results appear at once, the batched engine keeps its
    speed and memory stays bounded. A case that cannot be read or scored is yielded as
    its exception (a :class:`~bayesdx.errors.CaseError`, an
    :class:`~bayesdx.errors.ImpossibleEvidenceError`, or an unexpected error):
    one bad case never sinks the others. ``scores``, ``rank_by``, ``budget``,
    ``approximate`` and ``tolerance`` are as in :func:`diagnose`.

    Examples
    --------
    >>> from bayesdx.case import parse_case
    >>> m = load_model()
    >>> cases = [parse_case({"cbc": {"anc": 0.3}}, m.kb), parse_case({}, m.kb)]
    >>> [type(d).__name__ for d in score_cases(cases, model=m, draws=0, first_chunk=1)]
    ['Diagnosis', 'Diagnosis']
    """
    _check_counts(draws, seed)
    if chunk < 1 or first_chunk < 1:
        raise ValueError(f"chunk and first_chunk must be >= 1; got {chunk}, {first_chunk}")
    model = model or load_model()
    pending: list = []
    size = min(first_chunk, chunk)
    for pc in cases:
        pending.append(pc)
        if len(pending) >= size:
            yield from _score_chunk(model, pending, draws, seed, scores, rank_by, budget, approximate,
                                    tolerance)
            pending = []
            size = min(2 * size, chunk)
    if pending:
        yield from _score_chunk(model, pending, draws, seed, scores, rank_by, budget, approximate,
                                tolerance)


def diagnose_many(path: str | Path, *, model: Model | None = None, lenient: bool = False,
                  draws: int = DEFAULT_DRAWS, seed: int = 0, scores: bool = True,
                  rank_by: str = "posterior", budget: Budget | None = None,
                  approximate: bool = True, tolerance: float = TOLERANCE) -> list[Diagnosis | Exception]:
    """Diagnose every case in a file; a bad case becomes its exception, the rest are scored.

    The list of :func:`score_cases` (chunks of up to :data:`CHUNK` cases, each
    one batched engine call); an impossible case is asked again on its own, which
    names its conflicting findings; a case over the budget gets the labelled
    approximation (or its :class:`~bayesdx.inference.budget.BudgetError` when
    ``approximate`` is false).
    """
    from .case import read_cases

    _check_counts(draws, seed)
    model = model or load_model()
    return list(score_cases(read_cases(path, model.kb, lenient=lenient), model=model,
                            draws=draws, seed=seed, scores=scores, rank_by=rank_by,
                            budget=budget, approximate=approximate, tolerance=tolerance))
