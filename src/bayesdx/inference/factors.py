"""Evidence-reduced factors shared by the inference back-ends.

Given a compiled :class:`~bayesdx.inference.plan.Plan`, a batch of cases and the numeric
tables, :func:`prepare` builds everything that does not need the frontier:

* constants (``log P`` of observed context, baseline findings whose parents
  are all observed) summed into ``logz``;
* unary factors on free parents from findings observed in their baseline
  state (per case: a case that did not observe the finding gets 1);
* one factor per cause, ``(D, B, 2, *deps)``, with the context variables used
  by that cause alone summed in exactly.

:func:`acc_tables` gives each abnormal finding's two-state accumulator
(initial vector, final vector, and one transition per free parent), the
exact, non-negative form of a leaky noisy-MAX observation.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..knowledge.network import Network, Tables
from .plan import Plan

__all__ = ["Prepared", "acc_tables", "ctx_factor", "prepare"]


@dataclass
class Prepared:
    """Factors of one batch under one plan (arrays are ``(D, B, ...)``)."""

    D: int
    B: int
    logz: np.ndarray
    fixed_idx: dict
    unary: dict
    lam: dict
    cause_factor: dict

    def sum_out(self, causes, cause_index: dict, probs: np.ndarray) -> None:
        """Causes outside the frontier: their posterior from their own factor, their
        normaliser into ``logz`` (both in place)."""
        for c in causes:
            f2 = self.cause_factor[c]
            z = f2.sum(axis=2)
            with np.errstate(divide="ignore"):
                self.logz += np.log(z)
            with np.errstate(invalid="ignore", divide="ignore"):
                probs[:, :, cause_index[c]] = f2[:, :, 1] / z


def _depth(net: Network, x: str) -> int:
    d = 0
    while net.parents[x]:
        x = net.parents[x][0]
        d += 1
    return d


def _slice_fixed(arr: np.ndarray, parents: Sequence[str], fixed_idx: dict, B: int) -> np.ndarray:
    """``arr`` (D, *parent cards, ...) -> (D, B, *free parent cards, ...)."""
    if B == 1:  # one case: plain indexing (a view)
        at = tuple(int(fixed_idx[p][0]) if p in fixed_idx else slice(None) for p in parents)
        return arr[(slice(None),) + at][:, None]
    arr = np.broadcast_to(arr[:, None], (arr.shape[0], B) + arr.shape[1:])
    b_ar = np.arange(B)
    axis = 2
    for p in parents:
        if p in fixed_idx:
            arr = np.moveaxis(arr, axis, 2)[:, b_ar, fixed_idx[p]]  # later axes shift left
        else:
            axis += 1
    return arr


_UNARY_LOCK = threading.Lock()
_UNARY_KEPT = 512  # (unary, fixed) pairs per tables


def _unary_sums(net: Network, plan: Plan, T: Tables):
    """Baseline findings seen by every case, summed once per pattern and tables.

    Returns ``(const, prod, logs)``: the leaks' log-probabilities ``(D,)``, per free
    parent the product of the findings' baseline effects ``(D, card)`` (in the
    order :func:`prepare` multiplies them), per fixed parent the sum of their logs
    ``(D, card)``. Kept in the tables' derived cache (bounded), so
    :meth:`~bayesdx.knowledge.network.Tables.invalidate` drops it.
    """
    store = T.derived(("unary_sums",), dict)
    key = (plan.unary, plan.fixed_ctx)
    with _UNARY_LOCK:
        hit = store.get(key)
    if hit is not None:
        return hit
    const = np.zeros(T.draws)
    prod: dict[str, np.ndarray] = {}
    logs: dict[str, np.ndarray] = {}
    with np.errstate(divide="ignore"):
        for f in plan.unary:
            const = const + np.log(np.maximum(T.finding_leak[f][:, 0], 0.0))
            for p in net.parents[f]:
                e0 = T.link(f, p)[:, :, 0]  # (D, card_p)
                if p in plan.fixed_ctx:
                    logs[p] = logs[p] + np.log(e0) if p in logs else np.log(e0)
                else:
                    prod[p] = prod[p] * e0 if p in prod else e0
    with _UNARY_LOCK:
        hit = store.setdefault(key, (const, prod, logs))
        while len(store) > _UNARY_KEPT:
            store.pop(next(iter(store)))
    return hit


def _cause_pairs(net: Network, T: Tables) -> dict[str, np.ndarray]:
    """Every cause's table as ``(D, 2, *parent cards)``: P(absent), P(present) (read-only,
    kept with the tables)."""

    def build():
        out = {}
        for c in net.causes:
            cpt = T.cause_cpt[c]
            a = np.stack([1.0 - cpt, cpt], axis=1)
            a.setflags(write=False)
            out[c] = a
        return out

    return T.derived(("cause_pairs",), build)


def _labeler(first: str):
    """A function giving each name a small int label (``first`` gets 0)."""
    names = {first: 0}
    return lambda n: names.setdefault(n, len(names))


def prepare(net: Network, plan: Plan, idxs: list[dict[str, int]], T: Tables) -> Prepared:
    """Reduce the tables by the evidence of ``idxs`` under ``plan``.

    ``plan.unary`` findings contribute where a case observed them in their
    baseline state (index 0) and nothing where it did not observe them.
    """
    D, B = T.draws, len(idxs)
    logz = np.zeros((D, B))
    fixed_idx = {x: np.array([e[x] for e in idxs]) for x in plan.fixed_ctx}
    unary: dict[str, np.ndarray] = {}

    def mul_unary(node: str, vec: np.ndarray):
        unary[node] = unary[node] * vec if node in unary else vec

    if all(e.get(f, -1) == 0 for e in idxs for f in plan.unary):  # the usual case: one sum per parent
        const, prod, logs = _unary_sums(net, plan, T)
        logz += const[:, None]
        for p, lg in logs.items():
            logz += lg[:, fixed_idx[p]]
        for p, vec in prod.items():
            unary[p] = np.broadcast_to(vec[:, None, :], (D, B, vec.shape[-1]))
    else:
        for f in plan.unary:
            seen = np.array([e.get(f, -1) == 0 for e in idxs])
            leak0 = T.finding_leak[f][:, 0]  # (D,)
            logz += np.where(seen[None], np.log(np.maximum(leak0, 0.0))[:, None], 0.0)
            for p in net.parents[f]:
                e0 = T.link(f, p)[:, :, 0]  # (D, card_p)
                if p in plan.fixed_ctx:
                    with np.errstate(divide="ignore"):
                        logz += np.where(seen[None], np.log(e0[:, fixed_idx[p]]), 0.0)
                else:
                    vec = np.broadcast_to(e0[:, None, :], (D, B, e0.shape[-1]))
                    if not seen.all():
                        vec = np.where(seen[None, :, None], vec, 1.0)
                    mul_unary(p, vec)

    # fixed context: constants P(x_obs | parent), or a unary on a free parent
    with np.errstate(divide="ignore"):
        for x in plan.fixed_ctx:
            cpt = T.context_cpt[x]
            par = net.parents[x]
            if not par:
                logz += np.log(cpt[:, fixed_idx[x]])
            elif par[0] in plan.fixed_ctx:
                logz += np.log(cpt[:, fixed_idx[par[0]], fixed_idx[x]])
            else:
                mul_unary(par[0], np.moveaxis(cpt, 1, 2)[:, fixed_idx[x], :])

    # λ for free context variables observed in some cases
    lam: dict[str, np.ndarray] = {}
    for x in net.context:
        if x in plan.fixed_ctx:
            continue
        obs = [e.get(x) for e in idxs]
        if any(o is not None for o in obs):
            v = np.ones((B, net.card(x)))
            for b, o in enumerate(obs):
                if o is not None:
                    v[b] = 0.0
                    v[b, o] = 1.0
            lam[x] = v[None]

    # isolated free context (children before parents), folded into a free parent
    for x in sorted(plan.isolated_ctx, key=lambda n: _depth(net, n), reverse=True):
        cpt = T.context_cpt[x]
        par = net.parents[x]
        w = lam.get(x, 1.0) * unary.get(x, 1.0)
        if par and par[0] not in plan.fixed_ctx:
            w = np.broadcast_to(w, (D, B, net.card(x))) if not isinstance(w, float) \
                else np.ones((D, B, net.card(x)))
            mul_unary(par[0], np.einsum("dpk,dbk->dbp", cpt, w))
            continue
        if par:
            row = cpt[:, fixed_idx[par[0]]]  # (D, B, card)
        else:
            row = np.broadcast_to(cpt[:, None], (D, B, net.card(x)))
        with np.errstate(divide="ignore"):
            logz += np.log((row * w).sum(-1))

    prep = Prepared(D, B, logz, fixed_idx, unary, lam, {})
    pairs = _cause_pairs(net, T) if B == 1 else None
    labelled = set().union(*idxs).intersection(net.causes)  # labels on causes (rare)
    for c in net.causes:
        par = net.parents[c]
        keep = [p for p in par if p not in plan.fixed_ctx]
        if pairs is not None:  # one case: a view of the stacked table (no arrays built)
            at = tuple(int(fixed_idx[p][0]) if p in fixed_idx else slice(None) for p in par)
            f2 = pairs[c][(slice(None), slice(None)) + at][:, None]  # (D, 1, 2, *kept)
        else:
            arr = _slice_fixed(T.cause_cpt[c], par, fixed_idx, B)  # (D, B, *kept cards)
            f2 = np.stack([1.0 - arr, arr], axis=2)  # (D, B, 2, *kept)
        clamp = [e.get(c) for e in idxs] if c in labelled else ()  # a label on the cause
        if any(k is not None for k in clamp):  # (Engine.posterior_batch labels=)
            m = np.ones((B, 2))
            for b, k in enumerate(clamp):
                if k is not None:
                    m[b, 1 - k] = 0.0
            f2 = f2 * m.reshape((1, B, 2) + (1,) * len(keep))
        w = T.cause_weight.get(c)
        if w is not None:  # a likelihood on the cause itself (conditioning)
            f2 = f2 * w.reshape((w.shape[0], 1, 2) + (1,) * len(keep))
        if c in unary:
            u = unary[c]
            f2 = f2 * u.reshape(u.shape + (1,) * len(keep))
        folds = plan.folds.get(c)
        if folds:
            lab = _labeler(c)
            args = [f2, [Ellipsis, lab(c)] + [lab(p) for p in keep]]
            for x in folds:
                fx, fl = ctx_factor(net, x, T, plan, prep)
                args += [fx, [Ellipsis] + [lab(n) for n in fl]]
            out = [Ellipsis, lab(c)] + [lab(d) for d in plan.deps[c]]
            f2 = np.einsum(*args, out, optimize=False)
        prep.cause_factor[c] = f2
    return prep


def ctx_factor(net: Network, x: str, T: Tables, plan: Plan, prep: Prepared):
    """``P(x | parent) λ(x) u(x)`` as (array (D, B, card_x[, card_parent]), labels)."""
    D, B = prep.D, prep.B
    cpt = T.context_cpt[x]  # (D, [card_p], card)
    par = net.parents[x]
    fixed = bool(par) and par[0] in plan.fixed_ctx
    if B == 1:  # one case: the same view every time, kept with the tables
        at = int(prep.fixed_idx[par[0]][0]) if fixed else -1
        arr, labels = T.derived(("ctx1", x, at), lambda: _ctx_base(net, x, cpt, fixed, prep, 1))
    else:
        arr, labels = _ctx_base(net, x, cpt, fixed, prep, B)
    for extra in (prep.lam.get(x), prep.unary.get(x)):
        if extra is not None:
            arr = arr * np.reshape(extra, extra.shape + (1,) * (arr.ndim - 3))
    return arr, labels


def _ctx_base(net: Network, x: str, cpt: np.ndarray, fixed: bool, prep: Prepared, B: int):
    """``P(x | parent)`` as ``(D, B, card_x[, card_parent])`` (a view), and its labels."""
    D = cpt.shape[0]
    par = net.parents[x]
    if fixed:
        return cpt[:, prep.fixed_idx[par[0]]], (x,)  # (D, B, card)
    if par:
        return (np.broadcast_to(np.moveaxis(cpt, -1, 1)[:, None], (D, B, net.card(x), net.card(par[0]))),
                (x, par[0]))
    return np.broadcast_to(cpt[:, None], (D, B, net.card(x))), (x,)


def _stacked(net: Network, T: Tables, f: str):
    """Effects of every parent of ``f`` stacked: (pmf, cdf) of shape (D, n, Kmax, S)."""

    def build():
        parents = net.parents[f]
        D, S = T.finding_leak[f].shape
        kmax = max(net.card(p) for p in parents)
        eff = np.zeros((D, len(parents), kmax, S))
        for i, p in enumerate(parents):
            e = T.link(f, p)
            eff[:, i, :e.shape[1]] = e
        return eff, np.cumsum(eff, axis=-1), np.cumsum(T.finding_leak[f], axis=-1)

    return T.derived(("stacked", f), build)


def _acc_base(net: Network, T: Tables, f: str, k: np.ndarray):
    """``(init, final, t)`` of finding ``f`` for observed states ``k`` (-1: unobserved)."""
    B = k.shape[0]
    obs = k >= 0
    kk = np.where(obs, k, 0)
    km1 = np.maximum(kk - 1, 0)
    eff, cdf, leak_cdf = _stacked(net, T, f)
    leak = T.finding_leak[f]
    p_eq = leak[:, kk]  # (D, B)
    p_lt = np.where(kk > 0, leak_cdf[:, km1], 0.0)
    init = np.stack([np.where(obs, p_lt, 1.0), np.where(obs, p_eq, 0.0)], axis=-1)
    final = np.stack([np.where(obs, 0.0, 1.0), np.ones(B)], axis=-1)[None]
    # (D, n, K, B) -> (D, B, n, K)
    e_eq = np.moveaxis(eff[..., kk], -1, 1)
    e_le = np.moveaxis(cdf[..., kk], -1, 1)
    e_lt = np.where((kk > 0)[None, :, None, None], np.moveaxis(cdf[..., km1], -1, 1), 0.0)
    o = obs[None, :, None, None]
    t = np.zeros(e_eq.shape[:3] + (2, e_eq.shape[3], 2))  # (D, B, n, 2, K, 2)
    t[:, :, :, 0, :, 0] = np.where(o, e_lt, 1.0)
    t[:, :, :, 0, :, 1] = np.where(o, e_eq, 0.0)
    t[:, :, :, 1, :, 1] = np.where(o, e_le, 1.0)
    return init, final, t


def acc_tables(net: Network, findings: Sequence[str], fixed_idx: dict, T: Tables,
               idxs: list[dict[str, int]], stacked: dict | None = None) -> dict:
    """Per finding: init (D,B,2), final (1,B,2), transitions per free parent.

    A transition ``t[a, x, a']`` moves the accumulator from ``a`` (observed
    state reached yet?) to ``a'`` given the parent's state ``x``: effect
    below the observed state keeps it, equal sets it, above kills the path.
    Observed (fixed) context parents are applied to ``init``. A case that did
    not observe the finding gets a neutral accumulator. The transitions are
    views of one array per finding, ``(D, B, parents, 2, Kmax, 2)``, put in
    ``stacked`` when given. For one case they are cached on the tables per
    finding and state (treat them as read-only).
    """
    B = len(idxs)
    b_ar = np.arange(B)
    out = {}
    for f in findings:
        k = np.array([e.get(f, -1) for e in idxs])  # -1: unobserved in that case
        if B == 1:
            init, final, t = T.derived(("acc", f, int(k[0])), lambda: _acc_base(net, T, f, k))
        else:
            init, final, t = _acc_base(net, T, f, k)
        if stacked is not None:
            stacked[f] = t
        trans = {}
        for i, p in enumerate(net.parents[f]):
            K = net.card(p)
            if p in fixed_idx:
                sel = np.moveaxis(t[:, b_ar, i, :, fixed_idx[p], :], 0, 1)  # (D, B, 2, 2)
                init = np.einsum("dba,dbac->dbc", np.broadcast_to(init, sel.shape[:3]), sel)
            else:
                trans[p] = t[:, :, i, :, :K, :]
        out[f] = (init, final, trans)
    return out
