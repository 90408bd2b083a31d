"""The compiled kernel of the direct path (:mod:`bayesdx.inference.direct`).

:func:`run_direct` scores a batch of cases, each by its own cause order, in one
call (numba, ``cache=True``, ``nogil``). Per case it

1. works out how each unrecorded context node enters
   (:func:`~bayesdx.inference.direct_inputs.classify`): summing to one, as a
   constant, summed into its one cause child, or as a *frontier node*;
2. lists the *items* of the frontier: an accumulator for every abnormal finding
   with a cause among its parents (one bit: "has some parent reached the
   observed state yet?"), and every frontier node (the bits of its state). Each
   item has *users*, the causes whose step needs it: an accumulator's cause
   parents; a frontier node's cause children, the cause parents of the
   accumulators that read it, and its frontier children's users;
3. orders the causes with users greedily (fewest item bits open during the step,
   then after it) and places each item's bits from its first to its last user
   (first fit): ``S`` bits, a frontier of ``2**S`` numbers (:func:`_structure`);
4. for each draw, builds the cause weights, the frontier nodes' factors per
   state, the accumulators' initial vectors and maps
   (:func:`~bayesdx.inference.direct_inputs.weights`; an absent cause has no
   effect: checked when the tables are laid out);
5. runs the steps forward (open context, open accumulators, store, step, close,
   rescale) and backward (the same operations transposed,
   :mod:`bayesdx.inference.direct_ops`); a cause's marginal is a ratio of two
   inner products of the same forward and backward vectors, so the rescaling
   cancels. Every other cause's marginal is its own weights' ratio.

Every number is the same non-negative algebra as the plans
(:mod:`bayesdx.inference.pattern`), in another order.

Status per case (``status``): :data:`OK`; :data:`PASS` (not handled here: more
than 62 items, more than ``smax`` bits, an abnormal finding whose only unknown
parents are two frontier nodes, or a frontier node no cause needs; the caller
runs it another way); :data:`IMPOSSIBLE` (probability zero: NaN posteriors,
``logz = -inf``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .direct_inputs import FRONT, classify, weights
from .direct_passes import backward, forward

__all__ = ["IMPOSSIBLE", "OK", "PASS", "run_direct"]

OK, PASS, IMPOSSIBLE = 0, 1, 2
_BIT = np.int64(1)


@njit(cache=True, nogil=True)
def _bits(card):  # pragma: no cover - compiled
    nb = 1
    while (1 << nb) < card:
        nb += 1
    return nb


@njit(cache=True, nogil=True)
def _items(E, n, nX, nF, kind, ctx_par, ctx_card, cause_np, cause_par, f_np, f_kind, f_idx, acc_of,
           acc_f, item_of, item_x, width, umask):  # pragma: no cover - compiled
    """Number the items (accumulators, then frontier nodes) and their users (``umask``
    per cause); returns ``(A, I)``, ``I = -1`` when the case is passed back."""
    nC = umask.shape[0]
    A = 0
    for f in range(nF):
        acc_of[f] = -1
        if E[n, nX + f] <= 0:
            continue
        causes = 0
        fronts = 0
        for j in range(f_np[f]):
            if f_kind[f, j] == 1:
                causes += 1
            elif kind[f_idx[f, j]] == FRONT:
                fronts += 1
        if causes == 0:
            if fronts > 1:
                return A, -1
            continue
        if A == 62:
            return A, -1
        acc_of[f] = A
        acc_f[A] = f
        width[A] = 1
        A += 1
    I = A
    for x in range(nX):
        item_of[x] = -1
        if kind[x] == FRONT:
            if I == 62:
                return A, -1
            item_of[x] = I
            item_x[I] = x
            width[I] = _bits(ctx_card[x])
            I += 1
    umask[:] = 0
    for a in range(A):
        f = acc_f[a]
        for j in range(f_np[f]):
            if f_kind[f, j] != 1:
                continue
            c = f_idx[f, j]
            umask[c] |= _BIT << a
            for i in range(f_np[f]):
                if f_kind[f, i] == 0 and kind[f_idx[f, i]] == FRONT:
                    umask[c] |= _BIT << item_of[f_idx[f, i]]
    for c in range(nC):
        for j in range(cause_np[c]):
            q = cause_par[c, j]
            if kind[q] == FRONT:
                umask[c] |= _BIT << item_of[q]
    for x in range(nX - 1, -1, -1):  # a frontier parent is open while its child is
        p = ctx_par[x]
        if kind[x] == FRONT and p >= 0 and kind[p] == FRONT:
            bx = _BIT << item_of[x]
            bp = _BIT << item_of[p]
            for c in range(nC):
                if umask[c] & bx:
                    umask[c] |= bp
    for i in range(A, I):
        used = False
        for c in range(nC):
            if (umask[c] >> i) & 1:
                used = True
        if not used:
            return A, -1
    return A, I


@njit(cache=True, nogil=True)
def _open_width(m, width, I):  # pragma: no cover - compiled
    w = 0
    for i in range(I):
        if (m >> i) & 1:
            w += width[i]
    return w


@njit(cache=True, nogil=True)
def _structure(umask, width, rel, R, I, smax):  # pragma: no cover - compiled
    """Greedy cause order; each item's first and last step and bit offset.

    Returns ``(order, first, last, off, S)``; ``S = -1`` when more than ``smax`` bits
    would be open at once."""
    nrem = np.zeros(I, np.int64)
    for r in range(R):
        for i in range(I):
            if (umask[rel[r]] >> i) & 1:
                nrem[i] += 1
    order = np.empty(R, np.int64)
    done = np.zeros(R, np.bool_)
    first = np.full(I, -1, np.int64)
    last = np.full(I, -1, np.int64)
    open_m = np.int64(0)
    for t in range(R):
        best, bo, ba = -1, 1 << 30, 1 << 30
        for r in range(R):
            if done[r]:
                continue
            cm = umask[rel[r]]
            during = open_m | cm
            closes = np.int64(0)
            for i in range(I):
                if (cm >> i) & 1 and nrem[i] == 1:
                    closes |= _BIT << i
            occ = _open_width(during, width, I)
            after = _open_width(during & ~closes, width, I)
            if occ < bo or (occ == bo and after < ba):
                best, bo, ba = r, occ, after
        done[best] = True
        c = rel[best]
        order[t] = c
        cm = umask[c]
        closed = np.int64(0)
        for i in range(I):
            if (cm >> i) & 1:
                if first[i] < 0:
                    first[i] = t
                nrem[i] -= 1
                if nrem[i] == 0:
                    last[i] = t
                    closed |= _BIT << i
        open_m = (open_m | cm) & ~closed
    off = np.full(I, -1, np.int64)
    used = np.zeros(width[:I].sum() + 1, np.bool_)  # (every item's bits side by side at most)
    S = 0
    for t in range(R):
        for i in range(I):
            if first[i] == t:
                o = 0
                while True:
                    free = True
                    for k in range(width[i]):
                        if used[o + k]:
                            free = False
                    if free:
                        break
                    o += 1
                for k in range(width[i]):
                    used[o + k] = True
                off[i] = o
                if o + width[i] > S:
                    S = o + width[i]
        for i in range(I):
            if last[i] == t:
                for k in range(width[i]):
                    used[off[i] + k] = False
    if S > smax:
        S = -1
    return order, first, last, off, S


@njit(cache=True, nogil=True, error_model="numpy")
def run_direct(E, nX, nF, ctx_par, ctx_tab, ctx_card, xc_n, xf_n, xf, xk_n, xk, cause_np, cause_par,
               cause_stride, cause_tab, cause_w, f_np, f_kind, f_idx, f_pmf, f_cdf, leak, leak_cdf,
               smax, max_stored, probs, logz, status):  # pragma: no cover - compiled
    """Score every case of ``E`` (``(N, nX + nF + nC)`` state indices, -1 unobserved: context,
    findings, cause labels), writing ``probs`` ``(D, N, nC)``, ``logz`` ``(D, N)`` and
    ``status`` ``(N,)`` (see the module docstring). A case is passed back when it needs more
    than ``smax`` bits at once or its forward pass would store more than ``max_stored``
    numbers; rows of cases not handled (:data:`PASS`) are left as they were."""
    D = probs.shape[0]
    N = E.shape[0]
    nC = probs.shape[2]
    acc_of = np.full(nF, -1, np.int64)
    acc_f = np.empty(64, np.int64)
    item_of = np.empty(nX, np.int64)
    item_x = np.empty(64, np.int64)
    width = np.empty(64, np.int64)
    umask = np.zeros(nC, np.int64)
    kind = np.empty(nX, np.int64)
    W = np.empty((nC, 2))
    phi = np.ones((64, 16))
    digits = np.zeros(f_idx.shape[1], np.int64)
    has_front = np.zeros(nC, np.bool_)
    fo = np.zeros(8, np.int64)
    fm = np.zeros(8, np.int64)
    fs = np.zeros(8, np.int64)
    tw = np.empty((1 << 16, 2))
    for n in range(N):
        status[n] = OK
        classify(E, n, nX, ctx_par, xc_n, xf_n, xf, xk_n, xk, kind, cause_np, cause_par)
        A, I = _items(E, n, nX, nF, kind, ctx_par, ctx_card, cause_np, cause_par, f_np, f_kind, f_idx,
                      acc_of, acc_f, item_of, item_x, width, umask)
        if I < 0:
            status[n] = PASS
            continue
        rel = np.empty(nC, np.int64)
        R = 0
        for c in range(nC):
            has_front[c] = False
            for j in range(cause_np[c]):
                has_front[c] |= kind[cause_par[c, j]] == FRONT
            if umask[c] != 0:
                rel[R] = c
                R += 1
        order, first, last, off, S = _structure(umask, width, rel, R, I, smax)
        if S < 0:
            status[n] = PASS
            continue
        dyn = np.zeros(A, np.bool_)
        for a in range(A):
            f = acc_f[a]
            for j in range(f_np[f]):
                dyn[a] |= f_kind[f, j] == 0 and kind[f_idx[f, j]] == FRONT
        p_off = np.full(I, -1, np.int64)  # a frontier node's frontier parent's bits
        for i in range(A, I):
            p = ctx_par[item_x[i]]
            if p >= 0 and kind[p] == FRONT:
                p_off[i] = off[item_of[p]]
        size = 1 << S
        bits = np.zeros(I, np.int64)  # each item's bits
        for i in range(I):
            bits[i] = ((1 << width[i]) - 1) << off[i]
        aoff = np.zeros(R + 1, np.int64)  # each step's input, packed: its open bits only
        for t in range(R):
            during = 0
            for i in range(I):
                if first[i] <= t <= last[i]:
                    during += width[i]
            aoff[t + 1] = aoff[t] + (1 << during)
        if aoff[R] > max_stored:
            status[n] = PASS
            continue
        init = np.empty((A, 2))
        tr = np.empty((A, nC, 3))
        alpha = np.empty(aoff[R])
        v = np.zeros(size)
        y = np.empty(size)
        beta = np.zeros(size)
        for d in range(D):
            phi[:I] = 1.0
            logc = weights(E, n, d, nX, nF, ctx_par, ctx_tab, ctx_card, xk_n, xk, kind, cause_np,
                           cause_par, cause_stride, cause_tab, cause_w, f_np, f_kind, f_idx, f_pmf,
                           f_cdf, leak, leak_cdf, acc_of, init, tr, W, item_of, phi, digits)
            for c in range(nC):
                if umask[c] == 0 and logc > -np.inf:
                    z = W[c, 0] + W[c, 1]
                    if z <= 0.0:
                        logc = -np.inf
                    else:
                        probs[d, n, c] = W[c, 1] / z
                        logc += math.log(z)
            if R > 0 and logc > -np.inf:
                logc = forward(d, n, R, A, I, order, first, last, off, width, bits, item_x, item_of,
                                p_off, dyn, acc_f, umask, has_front, kind, E, nX, ctx_par, ctx_tab,
                                ctx_card, phi, init, tr, W, cause_np, cause_par, cause_stride, cause_tab,
                                f_np, f_kind, f_idx, f_pmf, f_cdf, leak, leak_cdf, digits, fo, fm, fs,
                                tw, v, y, alpha, aoff, logc)
            if logc == -np.inf:
                status[n] = IMPOSSIBLE
                logz[d, n] = -np.inf
                probs[d, n, :] = np.nan
                continue
            logz[d, n] = logc
            if R > 0:
                backward(d, n, R, A, I, order, first, last, off, width, bits, item_x, item_of, p_off,
                          dyn, acc_f, umask, has_front, kind, E, nX, ctx_par, ctx_tab, ctx_card, phi,
                          init, tr, W, cause_np, cause_par, cause_stride, cause_tab, f_np, f_kind, f_idx,
                          f_pmf, f_cdf, leak, leak_cdf, digits, fo, fm, fs, tw, y, alpha, aoff, beta, probs)
