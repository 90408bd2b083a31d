"""The compiled kernel of the direct path (:mod:`bayesdx.inference.direct`).

:func:`run_direct` scores a batch of cases whose context is recorded, each by
its own cause order, in one call (numba, ``cache=True``, ``nogil``). Per case it

0. checks how each unrecorded context node enters (:func:`~bayesdx.inference.direct_inputs.classify`): summing
   to one, as a constant, or summed into its one cause child; any other (shared
   by several causes, or by a cause and an observed finding) and the case is
   passed back;
1. finds the abnormal findings that need an accumulator (those with a cause
   among their parents; one observed at baseline factorises into its parents'
   weights, one whose parents are all context is a constant);
2. orders the causes that drive them greedily (fewest accumulators open during
   the step, then after it) and gives each accumulator a slot for the steps
   from its first to its last parent (interval colouring): ``S`` slots, a
   frontier of ``2**S`` numbers, slot ``s`` the bit ``1 << s``;
3. for each draw, builds every cause's two weights (prior given the recorded
   context, times the baseline findings' effects, times labels and
   ``cause_weight``), every accumulator's initial vector (leak and recorded
   context parents) and its 2x2 map for a present parent (an absent cause has
   no effect: checked when the tables are laid out);
4. runs the steps forward (open, store, step, close, rescale) and backward
   (transposed), giving each driving cause's marginal as a ratio of two inner
   products of the same forward and backward vectors (so the rescaling
   cancels); every other cause's marginal is its own weights' ratio.

Every number is the same non-negative accumulator algebra as the plans
(:mod:`bayesdx.inference.pattern`), in another order.

Status per case (``status``): :data:`OK`; :data:`PASS` (not handled here: some
context coupling several items unrecorded, more than 62 accumulators, or more than ``smax``
slots; the caller runs it another way); :data:`IMPOSSIBLE` (probability zero:
NaN posteriors, ``logz = -inf``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .direct_inputs import classify, weights

__all__ = ["IMPOSSIBLE", "OK", "PASS", "run_direct"]

OK, PASS, IMPOSSIBLE = 0, 1, 2


@njit(cache=True, nogil=True)
def _popcount(m):  # pragma: no cover - compiled
    n = 0
    while m:
        m &= m - 1
        n += 1
    return n


@njit(cache=True, nogil=True)
def _structure(cmask, nrem, rel, R, A, smax):  # pragma: no cover - compiled
    """Greedy cause order, and each accumulator's first/last step and slot.

    Returns ``(order, first, last, slot, S)``; ``S = -1`` when more than ``smax``
    slots would be needed."""
    order = np.empty(R, np.int64)
    done = np.zeros(R, np.bool_)
    first = np.full(A, -1, np.int64)
    last = np.full(A, -1, np.int64)
    open_m = np.int64(0)
    for t in range(R):
        best, bo, ba = -1, 1 << 30, 1 << 30
        for r in range(R):
            if done[r]:
                continue
            cm = cmask[rel[r]]
            during = open_m | cm
            closes = np.int64(0)
            for a in range(A):
                if (cm >> a) & 1 and nrem[a] == 1:
                    closes |= np.int64(1) << a
            occ = _popcount(during)
            after = _popcount(during & ~closes)
            if occ < bo or (occ == bo and after < ba):
                best, bo, ba = r, occ, after
        done[best] = True
        c = rel[best]
        order[t] = c
        cm = cmask[c]
        for a in range(A):
            if (cm >> a) & 1:
                if first[a] < 0:
                    first[a] = t
                nrem[a] -= 1
                if nrem[a] == 0:
                    last[a] = t
                    cm &= ~(np.int64(1) << a)
        open_m = (open_m | cmask[c]) & ~(cmask[c] & ~cm)
    slot = np.full(A, -1, np.int64)
    used = np.zeros(64, np.bool_)
    S = 0
    for t in range(R):
        for a in range(A):
            if first[a] == t:
                s = 0
                while used[s]:
                    s += 1
                used[s] = True
                slot[a] = s
                if s + 1 > S:
                    S = s + 1
        for a in range(A):
            if last[a] == t:
                used[slot[a]] = False
    if S > smax:
        S = -1
    return order, first, last, slot, S


@njit(cache=True, nogil=True)
def _map(y, size, b, lt, eq, le):  # pragma: no cover - compiled
    """Apply a present parent's accumulator map to slot bit ``b`` (forward)."""
    for x in range(size):
        if x & b == 0:
            y0 = y[x]
            y1 = y[x | b]
            y[x] = lt * y0
            y[x | b] = eq * y0 + le * y1


@njit(cache=True, nogil=True)
def _map_t(u, size, b, lt, eq, le):  # pragma: no cover - compiled
    """The same map transposed (backward)."""
    for x in range(size):
        if x & b == 0:
            u0 = u[x]
            u1 = u[x | b]
            u[x] = lt * u0 + eq * u1
            u[x | b] = le * u1


@njit(cache=True, nogil=True, error_model="numpy")
def run_direct(E, nX, nF, ctx_par, ctx_tab, ctx_card, xc_n, xf_n, xf, xk_n, xk, cause_np, cause_par,
               cause_stride, cause_tab, cause_w, f_np, f_kind, f_idx, f_pmf, f_cdf, leak, leak_cdf,
               smax, probs, logz, status):
    """Score every case of ``E`` (``(N, nX + nF + nC)`` state indices, -1 unobserved: context,
    findings, cause labels), writing ``probs`` ``(D, N, nC)``, ``logz`` ``(D, N)`` and
    ``status`` ``(N,)`` (see the module docstring). Rows of cases not handled (:data:`PASS`)
    are left as they were."""  # pragma: no cover - compiled
    D = probs.shape[0]
    N = E.shape[0]
    nC = probs.shape[2]
    acc_of = np.full(nF, -1, np.int64)
    acc_f = np.empty(64, np.int64)
    W = np.empty((nC, 2))
    kind = np.empty(nX, np.int64)
    for n in range(N):
        status[n] = OK
        if not classify(E, n, nX, ctx_par, xc_n, xf_n, xf, xk_n, xk, kind):
            status[n] = PASS
            continue
        A = 0
        for f in range(nF):
            acc_of[f] = -1
            if E[n, nX + f] > 0:
                for j in range(f_np[f]):
                    if f_kind[f, j] == 1 and acc_of[f] < 0:
                        if A == 62:
                            status[n] = PASS
                        else:
                            acc_of[f] = A
                            acc_f[A] = f
                            A += 1
        if status[n] == PASS:
            continue
        cmask = np.zeros(nC, np.int64)
        nrem = np.zeros(A, np.int64)
        for a in range(A):
            f = acc_f[a]
            for j in range(f_np[f]):
                if f_kind[f, j] == 1:
                    cmask[f_idx[f, j]] |= np.int64(1) << a
                    nrem[a] += 1
        rel = np.empty(nC, np.int64)
        R = 0
        for c in range(nC):
            if cmask[c] != 0:
                rel[R] = c
                R += 1
        order, first, last, slot, S = _structure(cmask, nrem, rel, R, A, smax)
        if S < 0:
            status[n] = PASS
            continue
        size = 1 << S
        init = np.empty((A, 2))
        tr = np.empty((A, nC, 3))
        alpha = np.empty((R, size))
        v = np.empty(size)
        y = np.empty(size)
        beta = np.empty(size)
        for d in range(D):
            logc = weights(E, n, d, nX, nF, ctx_par, ctx_tab, ctx_card, xk_n, xk, kind, cause_np,
                            cause_par, cause_stride, cause_tab, cause_w, f_np, f_kind, f_idx, f_pmf,
                            f_cdf, leak, leak_cdf, acc_of, init, tr, W)
            for c in range(nC):
                if cmask[c] == 0 and logc > -np.inf:
                    z = W[c, 0] + W[c, 1]
                    if z <= 0.0:
                        logc = -np.inf
                    else:
                        probs[d, n, c] = W[c, 1] / z
                        logc += math.log(z)
            if R > 0 and logc > -np.inf:
                v[:] = 0.0
                v[0] = 1.0
                for t in range(R):
                    c = order[t]
                    for a in range(A):
                        if first[a] == t:
                            b = 1 << slot[a]
                            for x in range(size):
                                if x & b == 0:
                                    y0 = v[x]
                                    v[x] = y0 * init[a, 0]
                                    v[x | b] = y0 * init[a, 1]
                    alpha[t, :] = v
                    y[:] = v
                    for a in range(A):
                        if (cmask[c] >> a) & 1:
                            _map(y, size, 1 << slot[a], tr[a, c, 0], tr[a, c, 1], tr[a, c, 2])
                    w0, w1 = W[c, 0], W[c, 1]
                    top = 0.0
                    for x in range(size):
                        v[x] = w0 * v[x] + w1 * y[x]
                    for a in range(A):
                        if last[a] == t:
                            b = 1 << slot[a]
                            for x in range(size):
                                if x & b == 0:
                                    v[x] = v[x | b]
                                    v[x | b] = 0.0
                    for x in range(size):
                        if v[x] > top:
                            top = v[x]
                    if not top > 0.0:
                        logc = -np.inf
                        break
                    for x in range(size):
                        v[x] /= top
                    logc += math.log(top)
                if logc > -np.inf and v[0] > 0.0:
                    logc += math.log(v[0])
                else:
                    logc = -np.inf
            if logc == -np.inf:
                status[n] = IMPOSSIBLE
                logz[d, n] = -np.inf
                probs[d, n, :] = np.nan
                continue
            logz[d, n] = logc
            if R == 0:
                continue
            beta[:] = 0.0
            beta[0] = 1.0
            for t in range(R - 1, -1, -1):
                c = order[t]
                for a in range(A):
                    if last[a] == t:
                        b = 1 << slot[a]
                        for x in range(size):
                            if x & b == 0:
                                beta[x | b] = beta[x]
                                beta[x] = 0.0
                y[:] = beta
                for a in range(A):
                    if (cmask[c] >> a) & 1:
                        _map_t(y, size, 1 << slot[a], tr[a, c, 0], tr[a, c, 1], tr[a, c, 2])
                w0, w1 = W[c, 0], W[c, 1]
                s0 = 0.0
                s1 = 0.0
                for x in range(size):
                    s0 += beta[x] * alpha[t, x]
                    s1 += y[x] * alpha[t, x]
                p0 = w0 * s0
                p1 = w1 * s1
                probs[d, n, c] = p1 / (p0 + p1)
                top = 0.0
                for x in range(size):
                    beta[x] = w0 * beta[x] + w1 * y[x]
                for a in range(A):
                    if first[a] == t:
                        b = 1 << slot[a]
                        for x in range(size):
                            if x & b == 0:
                                beta[x] = init[a, 0] * beta[x] + init[a, 1] * beta[x | b]
                                beta[x | b] = 0.0
                for x in range(size):
                    if beta[x] > top:
                        top = beta[x]
                if top > 0.0:
                    for x in range(size):
                        beta[x] /= top
