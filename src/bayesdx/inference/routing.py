"""How :meth:`~bayesdx.inference.engine.Engine.posterior_batch` shares work among its cases.

Every method is exact; they differ in how cases share work (see that method).
Under ``"auto"`` and ``"direct"``, identical evidence sets are computed once
(the answer of a case depends on its own evidence only), then

1. every case the direct path takes runs there (:mod:`bayesdx.inference.direct`:
   ``"direct"``, or ``"auto"`` with one draw and the compiled kernel);
2. of the others, a pattern runs by its own plan when it is frequent or heavy
   (:data:`REPEATED`, :data:`HEAVY`) and the rest share slot passes
   (:mod:`bayesdx.inference.slots`) when there are at least :data:`SLOTS_MIN`.
"""

from __future__ import annotations

import numpy as np

from .direct import run_direct
from .evidence import Pattern
from .slots import run_slots
from ..knowledge.network import Tables

__all__ = ["HEAVY", "REPEATED", "SLOTS_MIN", "run_batch"]

REPEATED = 128
"""In :meth:`Engine.posterior_batch` (``auto``), a pattern gets its own plan when its
cases x (1 + abnormal findings) reach this: compiling a plan costs about as much as
scoring 100 light cases by slots, and heavy cases gain more from their own order."""

SLOTS_MIN = 16
"""... and the other cases share slot passes when there are at least this many."""

HEAVY = 12
"""A case with at least this many abnormal findings always runs by its own plan: its
order is searched (:mod:`bayesdx.inference.order`) and its memory is bounded by the
budget, where a slot pass in model order could need far more."""


def run_batch(engine, idxs: list[dict[str, int]], T: Tables, method: str):
    """Posteriors ``(D, B, C)`` and log-evidence ``(D, B)`` of validated cases by ``method``."""
    if method == "union":
        return engine._run(idxs, T, batch=True)
    if method in ("auto", "direct"):
        first: dict = {}
        keys = [frozenset(e.items()) for e in idxs]
        for i, k in enumerate(keys):
            first.setdefault(k, i)
        if len(first) < len(idxs):  # the same evidence twice: computed once
            at = {k: j for j, k in enumerate(first)}
            probs, logz = _run(engine, [idxs[i] for i in first.values()], T, method)
            sel = [at[k] for k in keys]
            return probs[:, sel], logz[:, sel]
    return _run(engine, idxs, T, method)


def _run(engine, idxs, T: Tables, method: str):
    D = T.draws
    out = np.full((D, len(idxs), len(engine.causes)), np.nan)
    logz = np.full((D, len(idxs)), -np.inf)
    todo = range(len(idxs))
    if method == "direct" or (method == "auto" and D == 1 and engine.kernel != "numpy"):
        out, logz, done = run_direct(engine, idxs, T)
        todo = np.flatnonzero(~done).tolist()
        method = "auto"
    groups: dict[Pattern, list[int]] = {}
    for i in todo:
        groups.setdefault(Pattern.of(engine.net, [idxs[i]]), []).append(i)
    # a plan pays for its compilation when the pattern is frequent, sooner when
    # it is heavy (the slot pass's fixed cause order costs more there)
    own, shared = [], []
    for pattern, members in groups.items():
        weight = len(members) * (1 + len(pattern.acc))
        planned = method == "pattern" or (method == "auto" and (weight >= REPEATED
                                                                or len(pattern.acc) >= HEAVY))
        (own if planned else shared).append(members)
    if method == "auto" and sum(map(len, shared)) < SLOTS_MIN:
        own, shared = own + shared, []
    rows = [i for members in shared for i in members]
    if rows:
        out[:, rows], logz[:, rows] = run_slots(engine, [idxs[i] for i in rows], T)
    for members in own:
        out[:, members], logz[:, members] = engine._run([idxs[i] for i in members], T, batch=True)
    return out, logz
