"""One case's numbers for the direct path's kernel (:mod:`bayesdx.inference.direct_kernel`).

Compiled by numba (``cache=True``, ``nogil``) and called by
:func:`~bayesdx.inference.direct_kernel.run_direct` per case and draw:

* :func:`classify`: how each context node enters: recorded, dropped (an
  unrecorded node with no child that matters sums to one), a constant (no cause
  child: its sum times its recorded children's factors) or summed into its one
  cause child; False when an unrecorded node couples several items;
* :func:`weights`: every cause's two weights (prior given the recorded context,
  summed over its unrecorded parents; times the baseline findings' effects),
  each accumulator's initial vector (leak and recorded context parents) and its
  maps for a present parent, and the log of the constants.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["CONST", "DROP", "FOLD", "REC", "classify", "weights"]

REC, DROP, CONST, FOLD = 0, 1, 2, 3


@njit(cache=True, nogil=True)
def _irrelevant(E, n, nX, k, xc_n, xf_n, xf, xk_n):  # pragma: no cover - compiled
    """Free context node ``k`` sums to one: no cause child, no observed finding child,
    no context child."""
    if E[n, k] >= 0 or xc_n[k] > 0 or xk_n[k] > 0:
        return False
    for i in range(xf_n[k]):
        if E[n, nX + xf[k, i]] >= 0:
            return False
    return True


@njit(cache=True, nogil=True)
def classify(E, n, nX, ctx_par, xc_n, xf_n, xf, xk_n, xk, kind):  # pragma: no cover - compiled
    """How each context node enters (``kind``): recorded, dropped (sums to one), a
    constant (no cause child: its sum times its recorded children's factors) or folded
    into its one cause child. False when some unrecorded node couples several items
    (the case then runs by the plans)."""
    for x in range(nX):
        kind[x] = REC
        if E[n, x] >= 0:
            continue
        if _irrelevant(E, n, nX, x, xc_n, xf_n, xf, xk_n):
            kind[x] = DROP
            continue
        for i in range(xf_n[x]):
            if E[n, nX + xf[x, i]] >= 0:
                return False
        for i in range(xk_n[x]):
            k = xk[x, i]
            if E[n, k] < 0 and not _irrelevant(E, n, nX, k, xc_n, xf_n, xf, xk_n):
                return False
        p = ctx_par[x]
        if p >= 0 and E[n, p] < 0:
            return False
        if xc_n[x] == 0:
            kind[x] = CONST
        elif xc_n[x] == 1:
            kind[x] = FOLD
        else:
            return False
    return True


@njit(cache=True, nogil=True)
def _ctx_weight(E, n, d, x, s, ctx_par, ctx_tab, xk_n, xk):  # pragma: no cover - compiled
    """``P(x = s | its recorded parent)`` times its recorded context children's factors."""
    p = ctx_par[x]
    v = ctx_tab[d, x, E[n, p] if p >= 0 else 0, s]
    for i in range(xk_n[x]):
        k = xk[x, i]
        if E[n, k] >= 0:
            v *= ctx_tab[d, k, s, E[n, k]]
    return v


@njit(cache=True, nogil=True)
def _cause_prior(E, n, d, c, ctx_par, ctx_tab, ctx_card, xk_n, xk, cause_np, cause_par, cause_stride,
                 cause_tab):  # pragma: no cover - compiled
    """Cause ``c``'s weights (absent, present) given its recorded context parents, summed
    over the states of the unrecorded ones (each folded into it: see :func:`classify`)."""
    flat = 0
    total = 1
    for j in range(cause_np[c]):
        q = cause_par[c, j]
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
def weights(E, n, d, nX, nF, ctx_par, ctx_tab, ctx_card, xk_n, xk, kind, cause_np, cause_par,
             cause_stride, cause_tab, cause_w, f_np, f_kind, f_idx, f_pmf, f_cdf, leak, leak_cdf,
             acc_of, init, tr, W):
    """One case's numbers under draw ``d``: cause weights ``W``, accumulators' initial
    vectors ``init`` and present-parent maps ``tr``; returns the log of the constants
    (``-inf`` when one is zero)."""  # pragma: no cover - compiled
    nC = W.shape[0]
    logc = 0.0
    for x in range(nX):
        p = ctx_par[x]
        if kind[x] == REC and (p < 0 or E[n, p] >= 0):  # (under a free parent: in its sum)
            v = ctx_tab[d, x, E[n, p] if p >= 0 else 0, E[n, x]]
        elif kind[x] == CONST:
            v = 0.0
            for s in range(ctx_card[x]):
                v += _ctx_weight(E, n, d, x, s, ctx_par, ctx_tab, xk_n, xk)
        else:
            continue
        if v <= 0.0:
            return -np.inf
        logc += math.log(v)
    for c in range(nC):
        w0, w1 = _cause_prior(E, n, d, c, ctx_par, ctx_tab, ctx_card, xk_n, xk, cause_np, cause_par,
                              cause_stride, cause_tab)
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
                if f_kind[f, j] == 0:
                    v *= f_pmf[d, f, j, E[n, q], 0]
                else:
                    W[q, 0] *= f_pmf[d, f, j, 0, 0]
                    W[q, 1] *= f_pmf[d, f, j, 1, 0]
            if v <= 0.0:
                return -np.inf
            logc += math.log(v)
            continue
        i0 = leak_cdf[d, f, k - 1]
        i1 = leak[d, f, k]
        for j in range(f_np[f]):
            if f_kind[f, j] == 0:
                x = E[n, f_idx[f, j]]
                i1 = i0 * f_pmf[d, f, j, x, k] + i1 * f_cdf[d, f, j, x, k]
                i0 = i0 * f_cdf[d, f, j, x, k - 1]
        a = acc_of[f]
        if a < 0:  # no cause among its parents: a constant
            if i1 <= 0.0:
                return -np.inf
            logc += math.log(i1)
            continue
        init[a, 0] = i0
        init[a, 1] = i1
        for j in range(f_np[f]):
            if f_kind[f, j] == 1:
                c = f_idx[f, j]
                tr[a, c, 0] = f_cdf[d, f, j, 1, k - 1]
                tr[a, c, 1] = f_pmf[d, f, j, 1, k]
                tr[a, c, 2] = f_cdf[d, f, j, 1, k]
    return logc
