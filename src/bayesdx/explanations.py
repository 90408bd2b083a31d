"""Which *set* of causes explains the whole picture? Exact k-best joint explanations.

An explanation is a full assignment of the causes: the set ``S`` of causes
present, every other cause absent. Its probability
``P(S present, rest absent | e)`` sums the context out exactly. The k most
probable explanations are found by best-first search over a partition of
the assignments:

* causes are taken in order of their posterior;
* a search node fixes the present set ``S`` among the first ``j`` causes (the
  others of those ``j`` absent) and leaves causes ``j..`` free; its bound is
  ``P(e, node's fixed causes)`` with the free causes summed out, which is at
  least the probability of any completion (admissible);
* a node's children are "the next present cause is ``r``" for every
  ``r >= j`` and the leaf "no further cause present", a partition of its
  completions.

Bounds are lazy: a child first gets a cheap admissible bound from the
posterior marginals (``P(e, r present) = P(r | e) P(e)`` for "the next present
cause is ``r``", ``P(e, i absent)`` for every cause ``i`` it fixes absent, and
its parent's bound); only nodes that reach the top of the queue get their
exact bound ``P(e, fixed causes)``, several in ONE call of the exact engine
(one draw each, the fixed causes' factors weighted by 0 or 1,
:attr:`Tables.cause_weight`). Leaves with at most one present cause are
known from ``P(only c | e)``. A leaf popped from the queue with its exact
value is at least every bound left, hence more probable than every
explanation not yet found: the list is exact. ``P(only c present | e)`` for
every cause, the posterior and ``P(e)`` come from one first call.

Examples
--------
>>> from bayesdx.diagnosis import load_model
>>> m = load_model()
>>> ex = joint_explanations(m.engine, {"anc": "severe",
...                                    "exposure_antipsychotic": "clozapine_window"}, k=3)
>>> ex.items[0].causes
('drug_antipsychotic',)
>>> abs(ex.items[0].prob - ex.only["drug_antipsychotic"]) < 1e-12
True
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import ImpossibleEvidenceError, Problem
from .knowledge.network import Tables
from .voi import QueryError
from .words import pct

__all__ = ["JointExplanation", "JointExplanations", "joint_explanations", "only_cause"]


@dataclass(frozen=True)
class JointExplanation:
    """One explanation: exactly ``causes`` present (model order), with its posterior."""

    causes: tuple[str, ...]
    prob: float

    def text(self, labels: Mapping[str, str] | None = None) -> str:
        """``"Clozapine alone 78%"`` style text."""
        labels = labels or {}
        names = [labels.get(c, c) for c in self.causes]
        what = ("no modelled cause" if not names else
                f"{names[0]} alone" if len(names) == 1 else " + ".join(names))
        return f"{what} {pct(self.prob)}"


@dataclass(frozen=True)
class JointExplanations:
    """The k most probable explanations, and ``P(only c present | e)`` per cause.

    ``complete`` is False only when the search stopped at ``max_expansions``
    before finding ``k`` explanations (the ones listed are still exact and
    the most probable).
    """

    items: tuple[JointExplanation, ...]
    only: Mapping[str, float]
    none: float
    evidence: Mapping[str, str] = field(default_factory=dict)
    expansions: int = 0
    complete: bool = True

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"explanations": [{"causes": list(e.causes), "prob": round(e.prob, 9)}
                                 for e in self.items],
                "only": {c: round(p, 9) for c, p in self.only.items()},
                "none": round(self.none, 9), "complete": self.complete}

    def format(self, labels: Mapping[str, str] | None = None) -> str:
        """Plain text, one explanation per line."""
        lines = ["Most probable explanations (exactly these causes present, all others absent):"]
        lines += [f"  {i}. {e.text(labels)}" for i, e in enumerate(self.items, 1)]
        covered = sum(e.prob for e in self.items)
        lines.append(f"  together {pct(covered)} of the probability")
        return "\n".join(lines)


def _fixed_tables(T: Tables, causes: tuple[str, ...], rows: list[dict[str, int]]) -> Tables:
    """One draw per row; in draw ``i`` the causes of ``rows[i]`` are fixed (1 present, 0 absent)."""
    n = len(rows)

    def rep(a: np.ndarray) -> np.ndarray:
        return np.broadcast_to(a[:1], (n,) + a.shape[1:])

    weight = {}
    for c in causes:
        w = np.ones((n, 2))
        for i, row in enumerate(rows):
            if c in row:
                w[i, 1 - row[c]] = 0.0
        weight[c] = w
    return Tables(n, {k: rep(a) for k, a in T.context_cpt.items()},
                  {k: rep(a) for k, a in T.cause_cpt.items()},
                  {k: rep(a) for k, a in T.finding_leak.items()},
                  {f: {p: rep(a) for p, a in d.items()} for f, d in T.finding_links.items()},
                  {k: rep(a) for k, a in T.cause_base.items()}, weight)


def _log_joint(engine, evidence, T: Tables, rows: list[dict[str, int]]) -> np.ndarray:
    """``log P(e, fixed causes of each row)`` (other causes summed out)."""
    bp = engine.posterior_batch([dict(evidence)], _fixed_tables(T, engine.causes, rows),
                                method="pattern")
    return bp.log_evidence[:, 0]


def _only_rows(causes) -> list[dict[str, int]]:
    """Rows: nothing fixed, no cause present, then each cause alone."""
    none = {c: 0 for c in causes}
    return [{}, none] + [{**none, c: 1} for c in causes]


def _only(engine, evidence, T: Tables, tables):
    """One engine call: posterior, ``log P(e)``, ``P(only c | e)`` and ``P(none | e)``."""
    causes = engine.causes
    bp = engine.posterior_batch([dict(evidence)], _fixed_tables(T, causes, _only_rows(causes)),
                                method="pattern")
    lz = bp.log_evidence[:, 0]
    if not np.isfinite(lz[0]):
        raise ImpossibleEvidenceError(engine.conflict(evidence, tables))
    rel = np.exp(lz - lz[0])
    only = {c: float(rel[2 + i]) for i, c in enumerate(causes)}
    return bp.probs[0, 0], float(lz[0]), only, float(rel[1])


def only_cause(engine, evidence: Mapping[str, str], tables: Tables | None = None
               ) -> tuple[dict[str, float], float]:
    """``P(c is the only cause present | e)`` for every cause, and ``P(no cause present | e)``."""
    _, _, only, none = _only(engine, evidence, tables or engine.net.tables(), tables)
    return only, none


#: exact bounds computed per engine call: the best nodes still on cheap bounds
REFINE_BATCH = 8


def joint_explanations(engine, evidence: Mapping[str, str], k: int = 5, *,
                       tables: Tables | None = None, max_expansions: int = 400
                       ) -> JointExplanations:
    """The ``k`` most probable sets of present causes, exactly (see the module docstring).

    Raises
    ------
    QueryError
        ``k`` below 1.
    ImpossibleEvidenceError
        The evidence has probability zero.
    """
    if k < 1:
        raise QueryError(Problem("explanations: k", "", "must be at least 1", repr(k), "5"))
    T = tables or engine.net.tables()
    causes = engine.causes
    post, lz_e, only, none = _only(engine, evidence, T, tables)
    order = [causes[i] for i in np.argsort(-post, kind="stable")]
    C = len(order)
    p_order = np.clip(post[[causes.index(c) for c in order]], 0.0, 1.0)
    with np.errstate(divide="ignore"):
        lp, lq = lz_e + np.log(p_order), lz_e + np.log(1.0 - p_order)
    # heap entries: (-log bound, tie, present tuple (search order), j, leaf, exact)
    heap: list = [(-lz_e, 0, (), 0, False, True)]
    tie = 1
    found: list[JointExplanation] = []
    expansions = 0

    def push(bound, present, j, leaf, exact):
        nonlocal tie
        if bound > -np.inf:
            heapq.heappush(heap, (-float(bound), tie, present, j, leaf, exact))
            tie += 1

    def row(present, j, leaf):
        upto = C if leaf else j
        return {c: int(c in present) for c in order[:upto]}

    while heap and len(found) < k:
        if not heap[0][5]:  # refine the best cheap bounds to exact ones, several per call
            batch = heapq.nsmallest(REFINE_BATCH, (h for h in heap if not h[5]))
            chosen = {h[1] for h in batch}
            heap[:] = [h for h in heap if h[1] not in chosen]
            heapq.heapify(heap)
            lz = _log_joint(engine, evidence, T, [row(*b[2:5]) for b in batch])
            for b, v in zip(batch, lz):
                push(v, *b[2:5], True)
            continue
        neg, _, present, j, leaf, _ = heapq.heappop(heap)
        if leaf:
            ids = tuple(c for c in causes if c in present)
            found.append(JointExplanation(ids, float(np.exp(-neg - lz_e))))
            continue
        if expansions >= max_expansions:
            break
        expansions += 1
        # children: "the next present cause is order[r]" (r >= j), and the leaf
        # "no further cause"; admissible cheap bounds from the posterior marginals
        bound, absent = -neg, np.inf
        for r in range(j, C):
            push(min(bound, lp[r], absent), present + (order[r],), r + 1, r + 1 == C, False)
            absent = min(absent, lq[r])
        if len(present) <= 1:  # known exactly from P(only c) / P(none)
            p = only[present[0]] if present else none
            with np.errstate(divide="ignore"):
                push(lz_e + np.log(p), present, C, True, True)
        else:
            push(min(bound, absent), present, C, True, False)
    return JointExplanations(tuple(found), only, none, dict(evidence), expansions,
                             len(found) >= k or not heap)
