"""Cases whose context is all recorded, scored in bulk without a plan (the direct path).

A cohort of distinct patients compiles a plan per evidence pattern, or shares
slot passes in one cause order; both spend most of their time in Python per
case (orders, subscripts, maps). When every context node of a case is
recorded, its causes are independent a priori and each abnormal finding
couples only the causes that drive it, so the case needs nothing but the
tables and its own evidence:

* the tables are laid out once per table set as padded arrays
  (:func:`layout`, kept with the tables);
* the evidence of the whole batch becomes one integer matrix
  (:func:`evidence_matrix`);
* one call of :func:`~bayesdx.inference.direct_kernel.run_direct` orders each
  case's causes, gives its accumulators slots and runs its forward and
  backward passes (see that module).

An unrecorded context node that touches at most one cause (an exposure, the
history behind a recorded exposure) is summed in exactly by the kernel. Cases
it does not take (unrecorded context shared by several causes, or by a cause
and an observed finding; more than :data:`MAX_SLOTS` accumulators open at
once) come back marked, and the engine runs them as before. The arithmetic is the same non-negative accumulator
algebra as the plans; ``tests/inference/test_direct.py`` checks it against
them, the numpy path, brute force on the tiny network and pgmpy.

Examples
--------
>>> from bayesdx.knowledge.network import Network
>>> from bayesdx.inference.engine import Engine
>>> eng = Engine(Network.from_knowledge())
>>> ctx = {x: eng.net.states[x][0] for x in eng.net.context}  # every context node recorded
>>> evs = [{**ctx, "anc": "severe"}, {"anc": "severe"}]
>>> probs, logz, done = run_direct(eng, [eng.validate(e) for e in evs], eng.net.tables())
>>> done.tolist()  # the second leaves its context unrecorded
[True, False]
>>> ref = eng.posterior_batch(evs[:1], method="pattern").probs[0, 0]
>>> bool(abs(probs[0, 0] - ref).max() < 1e-12)
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..knowledge.network import Network, Tables
from .direct_kernel import PASS, run_direct as _kernel

__all__ = ["MAX_SLOTS", "Layout", "evidence_matrix", "layout", "run_direct"]

MAX_SLOTS = 16
"""A case runs here when at most this many accumulators are open at once in its
greedy order: its forward pass keeps ``(driving causes) x 2**slots`` numbers
(at 16, ~20 MB); heavier cases run by their own plan, whose memory the engine's
budget bounds."""


@dataclass(frozen=True)
class Layout:
    """The tables as the kernel reads them (padded arrays; see :func:`layout`)."""

    usable: bool
    nX: int
    nF: int
    columns: dict
    arrays: tuple
    finding_arrays: tuple


def _ctx_arrays(net: Network, T: Tables, ctx: list[str]):
    D = T.draws
    pc = max([net.card(net.parents[x][0]) for x in ctx if net.parents[x]] + [1])
    kc = max(net.card(x) for x in ctx)
    xi = {x: i for i, x in enumerate(ctx)}
    par = np.array([xi[net.parents[x][0]] if net.parents[x] else -1 for x in ctx], np.int64)
    tab = np.zeros((D, len(ctx), pc, kc))
    for i, x in enumerate(ctx):
        cpt = T.context_cpt[x]
        if net.parents[x]:
            tab[:, i, :cpt.shape[1], :cpt.shape[2]] = cpt
        else:
            tab[:, i, 0, :cpt.shape[1]] = cpt
    return par, tab


def _children(net: Network, ctx: list[str], xi: dict, fi: dict):
    """Per context node: its card, its number of cause children, its finding children and
    its context children (padded index arrays)."""
    kids = [net.children[x] for x in ctx]
    fs = [[fi[k] for k in ch if k in fi] for ch in kids]
    ks = [[xi[k] for k in ch if k in xi] for ch in kids]

    def pad(rows):
        out = np.zeros((len(rows), max([len(r) for r in rows] + [1])), np.int64)
        for i, r in enumerate(rows):
            out[i, :len(r)] = r
        return np.array([len(r) for r in rows], np.int64), out

    n_causes = np.array([sum(1 for k in ch if k in net.kb.causes) for ch in kids], np.int64)
    card = np.array([net.card(x) for x in ctx], np.int64)
    return (card, n_causes, *pad(fs), *pad(ks))


def _cause_arrays(net: Network, T: Tables, xi: dict, causes: list[str]):
    D, C = T.draws, len(causes)
    npar = max(len(net.parents[c]) for c in causes)
    flat = max(int(np.prod([net.card(p) for p in net.parents[c]])) for c in causes)
    n = np.zeros(C, np.int64)
    par = np.zeros((C, max(npar, 1)), np.int64)
    stride = np.zeros((C, max(npar, 1)), np.int64)
    tab = np.zeros((D, C, flat))
    for i, c in enumerate(causes):
        ps = net.parents[c]
        cards = [net.card(p) for p in ps]
        n[i] = len(ps)
        for j, p in enumerate(ps):
            par[i, j] = xi[p]
            stride[i, j] = int(np.prod(cards[j + 1:]))
        tab[:, i, :int(np.prod(cards))] = T.cause_cpt[c].reshape(D, -1)
    return n, par, stride, tab


def _cause_weights(T: Tables, causes) -> np.ndarray:
    """``T.cause_weight`` as ``(D, C, 2)`` (read per call: analyses set it on copies of
    tables whose derived cache they keep)."""
    w = np.ones((T.draws, len(causes), 2))
    for i, c in enumerate(causes):
        if c in T.cause_weight:
            w[:, i] = T.cause_weight[c]
    return w


def _finding_arrays(net: Network, T: Tables, xi: dict, ci: dict, findings: list[str]):
    D, F = T.draws, len(findings)
    pm = max(len(net.parents[f]) for f in findings)
    kp = max(net.card(p) for f in findings for p in net.parents[f])
    kf = max(net.card(f) for f in findings)
    n = np.zeros(F, np.int64)
    kind = np.zeros((F, pm), np.int64)
    idx = np.zeros((F, pm), np.int64)
    pmf = np.zeros((D, F, pm, kp, kf))
    leak = np.zeros((D, F, kf))
    usable = True
    for i, f in enumerate(findings):
        ps = net.parents[f]
        n[i] = len(ps)
        lk = T.finding_leak[f]
        leak[:, i, :lk.shape[1]] = lk
        for j, p in enumerate(ps):
            e = T.link(f, p)
            pmf[:, i, j, :e.shape[1], :e.shape[2]] = e
            if p in ci:
                kind[i, j], idx[i, j] = 1, ci[p]
                usable &= bool((e[:, 0, 0] == 1.0).all())  # an absent cause has no effect
            else:
                idx[i, j] = xi[p]
    return usable, n, kind, idx, pmf, np.cumsum(pmf, axis=-1), leak, np.cumsum(leak, axis=-1)


def layout(net: Network, T: Tables) -> Layout:
    """The kernel's view of ``T`` (built once per tables, kept in their derived cache).

    ``usable`` is False when some cause, absent, has an effect on a finding (the
    kernel's maps assume it has none); the engine then never takes this path.
    """

    def build():
        ctx, causes, findings = list(net.context), list(net.causes), list(net.findings)
        xi = {x: i for i, x in enumerate(ctx)}
        ci = {c: i for i, c in enumerate(causes)}
        cpar, ctab = _ctx_arrays(net, T, ctx)
        kids = _children(net, ctx, xi, {f: i for i, f in enumerate(findings)})
        usable, *farr = _finding_arrays(net, T, xi, ci, findings)
        cols = {n: j for j, n in enumerate(ctx + findings + causes)}
        arrays = (cpar, ctab, *kids, *_cause_arrays(net, T, xi, causes))
        return Layout(usable, len(ctx), len(findings), cols, arrays, tuple(farr))

    return T.derived(("direct_layout",), build)


def evidence_matrix(columns: dict, idxs: list[dict[str, int]]) -> np.ndarray:
    """Validated evidence (``node -> state index``) as an ``(N, nodes)`` int matrix
    (``-1``: not observed), columns as in ``columns``."""
    E = np.full((len(idxs), len(columns)), -1, np.int64)
    lens = np.fromiter(map(len, idxs), np.int64, len(idxs))
    rows = np.repeat(np.arange(len(idxs)), lens)
    cols = np.fromiter((columns[k] for e in idxs for k in e), np.int64, int(lens.sum()))
    vals = np.fromiter((v for e in idxs for v in e.values()), np.int64, int(lens.sum()))
    E[rows, cols] = vals
    return E


def run_direct(engine, idxs: list[dict[str, int]], T: Tables, max_slots: int = MAX_SLOTS):
    """Posteriors ``(D, B, C)``, log-evidence ``(D, B)`` and which cases were handled ``(B,)``.

    Rows of cases not handled (``False``) are NaN / ``-inf``; impossible cases are
    handled (NaN / ``-inf``, as every batch method gives them).
    """
    lay = layout(engine.net, T)
    D, B, C = T.draws, len(idxs), len(engine.causes)
    probs = np.full((D, B, C), np.nan)
    logz = np.full((D, B), -np.inf)
    if not lay.usable or not B:
        return probs, logz, np.zeros(B, bool)
    E = evidence_matrix(lay.columns, idxs)
    status = np.empty(B, np.int8)
    _kernel(E, lay.nX, lay.nF, *lay.arrays, _cause_weights(T, engine.causes), *lay.finding_arrays,
            max_slots, probs, logz, status)
    return probs, logz, status != PASS
