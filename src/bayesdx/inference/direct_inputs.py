"""One case's numbers for the direct path's kernel (:mod:`bayesdx.inference.direct_kernel`).

Compiled by numba (``cache=True``, ``nogil``) and called by
:func:`~bayesdx.inference.direct_kernel.run_direct` per case and draw:

* :func:`classify`: how each context node enters: recorded; dropped (an
  unrecorded node with no child that matters sums to one); a constant (no cause
  child: its sum times its recorded children's factors); summed into its one
  cause child; or, when it couples several items (causes, observed findings,
  another unrecorded node), a *frontier* node: a digit of the frontier from its
  first to its last user;
* :func:`weights`: every cause's two weights (prior given the recorded context,
  summed over its folded parents; times the baseline findings' effects, labels
  and ``cause_weight``; the prior of a cause under a frontier node is applied per
  frontier state by the kernel), each frontier node's factor per state ``phi``
  (its recorded parent, recorded context children and observed findings that
  read it alone), each accumulator's initial vector (leak and recorded context
  parents) and its maps for a present parent, and the log of the constants.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["CONST", "DROP", "FOLD", "FRONT", "REC", "classify", "init_at", "weights"]

REC, DROP, CONST, FOLD, FRONT = 0, 1, 2, 3, 4


@njit(cache=True, nogil=True)
def _irrelevant(E, n, nX, k, xc_n, xf_n, xf, xk_n):  # pragma: no cover - compiled
    """Unrecorded context node ``k`` sums to one: no cause child, no observed finding
    child, no context child."""
    if E[n, k] >= 0 or xc_n[k] > 0 or xk_n[k] > 0:
        return False
    for i in range(xf_n[k]):
        if E[n, nX + xf[k, i]] >= 0:
            return False
    return True


@njit(cache=True, nogil=True)
def classify(E, n, nX, ctx_par, xc_n, xf_n, xf, xk_n, xk, kind, cause_np, cause_par):  # pragma: no cover
    """Fill ``kind``: how each context node enters (see the module docstring).

    An unrecorded node is a constant or folded into its cause when nothing else reads
    it: no observed finding child, every context child recorded or dropped, its parent
    recorded, at most one cause child, and that cause under no frontier node.
    Otherwise it is a frontier node (so is then its unrecorded parent, and every
    unrecorded child that matters: neither is simple)."""
    for x in range(nX):
        kind[x] = REC
        if E[n, x] >= 0:
            continue
        if _irrelevant(E, n, nX, x, xc_n, xf_n, xf, xk_n):
            kind[x] = DROP
            continue
        simple = xc_n[x] <= 1
        for i in range(xf_n[x]):
            if E[n, nX + xf[x, i]] >= 0:
                simple = False
        for i in range(xk_n[x]):
            k = xk[x, i]
            if E[n, k] < 0 and not _irrelevant(E, n, nX, k, xc_n, xf_n, xf, xk_n):
                simple = False
        p = ctx_par[x]
        if p >= 0 and E[n, p] < 0:
            simple = False
        if not simple:
            kind[x] = FRONT
        elif xc_n[x] == 0:
            kind[x] = CONST
        else:
            kind[x] = FOLD
    for c in range(cause_np.shape[0]):  # a cause under a frontier node: its folded parents too
        front = False
        for j in range(cause_np[c]):
            front |= kind[cause_par[c, j]] == FRONT
        if front:
            for j in range(cause_np[c]):
                if kind[cause_par[c, j]] == FOLD:
                    kind[cause_par[c, j]] = FRONT


@njit(cache=True, nogil=True)
def _ctx_weight(E, n, d, x, s, ctx_par, ctx_tab, xk_n, xk):  # pragma: no cover - compiled
    """``P(x = s | its recorded parent)`` times its recorded context children's factors
    (under an unrecorded parent, ``P(x = s | parent)`` is applied per frontier state)."""
    p = ctx_par[x]
    v = 1.0
    if p < 0:
        v = ctx_tab[d, x, 0, s]
    elif E[n, p] >= 0:
        v = ctx_tab[d, x, E[n, p], s]
    for i in range(xk_n[x]):
        k = xk[x, i]
        if E[n, k] >= 0:
            v *= ctx_tab[d, k, s, E[n, k]]
    return v


@njit(cache=True, nogil=True)
def _cause_prior(E, n, d, c, kind, ctx_par, ctx_tab, ctx_card, xk_n, xk, cause_np, cause_par,
                 cause_stride, cause_tab):  # pragma: no cover - compiled
    """Cause ``c``'s weights (absent, present) given its recorded context parents, summed
    over the states of its folded ones; ``(1, 1)`` under a frontier node (its prior is
    then applied per frontier state)."""
    flat = 0
    total = 1
    for j in range(cause_np[c]):
        q = cause_par[c, j]
        if kind[q] == FRONT:
            return 1.0, 1.0
        if E[n, q] >= 0:
            flat += E[n, q] * cause_stride[c, j]
        else:
            total *= ctx_card[q]
    if total == 1:
        p1 = cause_tab[d, c, flat]
        return 1.0 - p1, p1
    w0 = 0.0
    w1 = 0.0
    for code in range(total):  # every joint state of the unrecorded parents
        rest = code
        at = flat
        prob = 1.0
        for j in range(cause_np[c]):
            q = cause_par[c, j]
            if E[n, q] < 0:
                s = rest % ctx_card[q]
                rest //= ctx_card[q]
                at += s * cause_stride[c, j]
                prob *= _ctx_weight(E, n, d, q, s, ctx_par, ctx_tab, xk_n, xk)
        p1 = cause_tab[d, c, at]
        w0 += prob * (1.0 - p1)
        w1 += prob * p1
    return w0, w1


@njit(cache=True, nogil=True)
def init_at(E, n, d, f, k, f_np, f_kind, f_idx, f_pmf, f_cdf, leak, leak_cdf, digits):  # pragma: no cover
    """An abnormal finding's accumulator before its causes: its leak, then every context
    parent (recorded: its state; a frontier node: ``digits[j]``). Returns ``(i0, i1)``."""
    i0 = leak_cdf[d, f, k - 1]
    i1 = leak[d, f, k]
    for j in range(f_np[f]):
        if f_kind[f, j] == 0:
            x = E[n, f_idx[f, j]]
            if x < 0:
                x = digits[j]
            i1 = i0 * f_pmf[d, f, j, x, k] + i1 * f_cdf[d, f, j, x, k]
            i0 = i0 * f_cdf[d, f, j, x, k - 1]
    return i0, i1


@njit(cache=True, nogil=True)
def weights(E, n, d, nX, nF, ctx_par, ctx_tab, ctx_card, xk_n, xk, kind, cause_np, cause_par,
            cause_stride, cause_tab, cause_w, f_np, f_kind, f_idx, f_pmf, f_cdf, leak, leak_cdf,
            acc_of, init, tr, W, item_of, phi, digits):  # pragma: no cover - compiled
    """One case's numbers under draw ``d`` (see the module docstring): ``W``, ``phi``
    (``(items, 16)``, rows of frontier nodes), ``init`` (accumulators without a frontier
    parent) and ``tr``; returns the log of the constants (``-inf`` when one is zero)."""
    nC = W.shape[0]
    logc = 0.0
    for x in range(nX):
        p = ctx_par[x]
        if kind[x] == REC and (p < 0 or E[n, p] >= 0):  # (under an unrecorded parent: in its sum)
            v = ctx_tab[d, x, E[n, p] if p >= 0 else 0, E[n, x]]
        elif kind[x] == CONST:
            v = 0.0
            for s in range(ctx_card[x]):
                v += _ctx_weight(E, n, d, x, s, ctx_par, ctx_tab, xk_n, xk)
        else:
            if kind[x] == FRONT:
                g = item_of[x]
                for s in range(ctx_card[x]):
                    phi[g, s] = _ctx_weight(E, n, d, x, s, ctx_par, ctx_tab, xk_n, xk)
            continue
        if v <= 0.0:
            return -np.inf
        logc += math.log(v)
    for c in range(nC):
        w0, w1 = _cause_prior(E, n, d, c, kind, ctx_par, ctx_tab, ctx_card, xk_n, xk, cause_np,
                              cause_par, cause_stride, cause_tab)
        W[c, 0] = w0 * cause_w[d, c, 0]
        W[c, 1] = w1 * cause_w[d, c, 1]
        lab = E[n, nX + nF + c]
        if lab == 0:
            W[c, 1] = 0.0
        elif lab == 1:
            W[c, 0] = 0.0
    for f in range(nF):
        k = E[n, nX + f]
        if k < 0:
            continue
        if k == 0:
            v = leak[d, f, 0]
            for j in range(f_np[f]):
                q = f_idx[f, j]
                if f_kind[f, j] == 1:
                    W[q, 0] *= f_pmf[d, f, j, 0, 0]
                    W[q, 1] *= f_pmf[d, f, j, 1, 0]
                elif E[n, q] >= 0:
                    v *= f_pmf[d, f, j, E[n, q], 0]
                else:  # a frontier node: its factor per state
                    for s in range(ctx_card[q]):
                        phi[item_of[q], s] *= f_pmf[d, f, j, s, 0]
            if v <= 0.0:
                return -np.inf
            logc += math.log(v)
            continue
        a = acc_of[f]
        if a >= 0:
            for j in range(f_np[f]):
                if f_kind[f, j] == 1:
                    c = f_idx[f, j]
                    tr[a, c, 0] = f_cdf[d, f, j, 1, k - 1]
                    tr[a, c, 1] = f_pmf[d, f, j, 1, k]
                    tr[a, c, 2] = f_cdf[d, f, j, 1, k]
        front = -1  # a frontier context parent (at most one when no cause reads it: checked)
        for j in range(f_np[f]):
            if f_kind[f, j] == 0 and E[n, f_idx[f, j]] < 0:
                front = j
        if front >= 0 and a >= 0:
            continue  # its initial vector is worked out per frontier state
        if front < 0:
            i0, i1 = init_at(E, n, d, f, k, f_np, f_kind, f_idx, f_pmf, f_cdf, leak, leak_cdf, digits)
            if a >= 0:
                init[a, 0] = i0
                init[a, 1] = i1
                continue
            if i1 <= 0.0:
                return -np.inf
            logc += math.log(i1)
            continue
        q = f_idx[f, front]  # no cause parent, one frontier parent: a factor per its state
        for s in range(ctx_card[q]):
            digits[front] = s
            phi[item_of[q], s] *= init_at(E, n, d, f, k, f_np, f_kind, f_idx, f_pmf, f_cdf, leak,
                                          leak_cdf, digits)[1]
    return logc
