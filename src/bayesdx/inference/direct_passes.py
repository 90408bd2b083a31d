"""The forward and backward passes of the direct path's kernel, per case and draw.

Compiled by numba (``cache=True``, ``nogil``); called by
:func:`~bayesdx.inference.direct_kernel.run_direct` with a case's order, items,
bits and numbers (see that module). :func:`forward` stores each step's input
(``alpha``) and returns the log-evidence; :func:`backward` gives every driving
cause's marginal as ``w1 <beta, M1 alpha> / (w0 <beta, alpha> + w1 <beta, M1 alpha>)``,
in which the rescaling of either pass cancels. Both run over the open bits only
(:mod:`bayesdx.inference.direct_ops`).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .direct_inputs import FRONT, init_at
from .direct_ops import (acc_map, acc_map_t, close_acc, close_acc_t, close_ctx, close_ctx_t, digit,
                         open_ctx, open_ctx_t, step_next)

__all__ = ["backward", "forward"]


@njit(cache=True, nogil=True)
def _cause_table(front, d, c, W, E, n, kind, item_of, off, width, ctx_card, cause_np, cause_par,
                 cause_stride, cause_tab, fo, fm, fs, tw):  # pragma: no cover - compiled
    """Weights (absent, present) of a cause per joint state of its frontier parents' bits:
    ``tw[k]`` with ``k`` the concatenated digits; ``fo``, ``fm``, ``fs`` each frontier
    parent's offset, mask and place in ``k``. Returns the number of frontier parents (0,
    ``tw[0] = W[c]``, for a cause under none)."""
    if not front:
        tw[0, 0], tw[0, 1] = W[c, 0], W[c, 1]
        return 0
    flat = 0
    m = 0
    shift = 0
    for j in range(cause_np[c]):
        q = cause_par[c, j]
        if kind[q] == FRONT:
            i = item_of[q]
            fo[m] = off[i]
            fm[m] = (1 << width[i]) - 1
            fs[m] = shift
            shift += width[i]
            m += 1
        else:  # recorded (a folded parent is never under a cause with a frontier parent)
            flat += E[n, q] * cause_stride[c, j]
    for k in range(1 << shift):
        at = flat
        ok = True
        mm = 0
        for j in range(cause_np[c]):
            q = cause_par[c, j]
            if kind[q] == FRONT:
                s = (k >> fs[mm]) & fm[mm]
                mm += 1
                if s >= ctx_card[q]:
                    ok = False
                else:
                    at += s * cause_stride[c, j]
        p1 = cause_tab[d, c, at] if ok else 0.0
        tw[k, 0] = (1.0 - p1) * W[c, 0] if ok else 0.0
        tw[k, 1] = p1 * W[c, 1]
    return m


@njit(cache=True, nogil=True)
def _at(x, m, fo, fm, fs):  # pragma: no cover - compiled
    """Index into :func:`_cause_table`'s table at frontier index ``x``."""
    k = 0
    for j in range(m):
        k |= ((x >> fo[j]) & fm[j]) << fs[j]
    return k


@njit(cache=True, nogil=True)
def _init_dyn(y, d, n, f, k, E, kind, item_of, off, width, ctx_card, f_np, f_kind, f_idx, f_pmf, f_cdf,
              leak, leak_cdf, digits):  # pragma: no cover - compiled
    """An accumulator's initial vector at frontier index ``y`` (frontier context parents)."""
    for j in range(f_np[f]):
        if f_kind[f, j] == 0 and kind[f_idx[f, j]] == FRONT:
            q = f_idx[f, j]
            i = item_of[q]
            s = digit(y, off[i], width[i])
            if s >= ctx_card[q]:
                return 0.0, 0.0
            digits[j] = s
    return init_at(E, n, d, f, k, f_np, f_kind, f_idx, f_pmf, f_cdf, leak, leak_cdf, digits)


@njit(cache=True, nogil=True)
def _copy(dst, src, space):  # pragma: no cover - compiled
    """``dst[x] = src[x]`` over the submasks of ``space``."""
    x = 0
    while True:
        dst[x] = src[x]
        x = step_next(x, space)
        if x == 0:
            break


@njit(cache=True, nogil=True)
def _scale(v, space):  # pragma: no cover - compiled
    """Divide ``v`` over the submasks of ``space`` by its largest number there (when
    positive); return that number."""
    top = 0.0
    x = 0
    while True:
        if v[x] > top:
            top = v[x]
        x = step_next(x, space)
        if x == 0:
            break
    if top > 0.0:
        x = 0
        while True:
            v[x] /= top
            x = step_next(x, space)
            if x == 0:
                break
    return top


@njit(cache=True, nogil=True)
def _open_space(t, I, first, last, bits):  # pragma: no cover - compiled
    """Bits of the items open before step ``t``'s openings."""
    m = 0
    for i in range(I):
        if first[i] < t <= last[i]:
            m |= bits[i]
    return m


@njit(cache=True, nogil=True)
def forward(d, n, R, A, I, order, first, last, off, width, bits, item_x, item_of, p_off, dyn, acc_f,
             umask, has_front, kind, E, nX, ctx_par, ctx_tab, ctx_card, phi, init, tr, W, cause_np,
             cause_par, cause_stride, cause_tab, f_np, f_kind, f_idx, f_pmf, f_cdf, leak, leak_cdf,
             digits, fo, fm, fs, tw, v, y, alpha, aoff, logc):  # pragma: no cover - compiled
    """The forward pass (storing each step's input in ``alpha``, packed from ``aoff[t]`` in the
    order of its open bits' submasks); returns ``logc`` plus the
    log of the evidence's remaining factor (``-inf`` when zero). Leaves ``v`` zero."""
    v[0] = 1.0
    for t in range(R):
        c = order[t]
        cur = _open_space(t, I, first, last, bits)
        for i in range(A, I):
            if first[i] == t:
                x = item_x[i]
                p = ctx_par[x]
                pi = item_of[p] if p_off[i] >= 0 else 0
                open_ctx(v, cur, off[i], width[i], ctx_card[x], phi[i], d, x, p_off[i], width[pi],
                         ctx_card[p] if p >= 0 else 1, ctx_tab)
                cur |= bits[i]
        for a in range(A):
            if first[a] != t:
                continue
            b = bits[a]
            f = acc_f[a]
            i0, i1 = init[a, 0], init[a, 1]
            x = 0
            while True:
                if dyn[a]:  # (else init[a], read before the loop)
                    i0, i1 = _init_dyn(x, d, n, f, E[n, nX + f], E, kind, item_of, off, width, ctx_card,
                                       f_np, f_kind, f_idx, f_pmf, f_cdf, leak, leak_cdf, digits)
                y0 = v[x]
                v[x] = y0 * i0
                v[x | b] = y0 * i1
                x = step_next(x, cur)
                if x == 0:
                    break
            cur |= b
        j = aoff[t]
        x = 0
        while True:
            alpha[j] = v[x]
            j += 1
            x = step_next(x, cur)
            if x == 0:
                break
        _copy(y, v, cur)
        for a in range(A):
            if (umask[c] >> a) & 1:
                acc_map(y, cur & ~bits[a], bits[a], tr[a, c, 0], tr[a, c, 1], tr[a, c, 2])
        m = _cause_table(has_front[c], d, c, W, E, n, kind, item_of, off, width, ctx_card, cause_np,
                         cause_par, cause_stride, cause_tab, fo, fm, fs, tw)
        x = 0
        while True:
            k = _at(x, m, fo, fm, fs)
            v[x] = tw[k, 0] * v[x] + tw[k, 1] * y[x]
            x = step_next(x, cur)
            if x == 0:
                break
        for a in range(A):
            if last[a] == t:
                cur &= ~bits[a]
                close_acc(v, cur, bits[a])
        for i in range(A, I):
            if last[i] == t:
                cur &= ~bits[i]
                close_ctx(v, cur, off[i], width[i], ctx_card[item_x[i]])
        top = _scale(v, cur)
        if not top > 0.0:
            v[:] = 0.0
            return -np.inf
        logc += math.log(top)
    z = v[0]
    v[0] = 0.0
    if not z > 0.0:
        return -np.inf
    return logc + math.log(z)


@njit(cache=True, nogil=True)
def backward(d, n, R, A, I, order, first, last, off, width, bits, item_x, item_of, p_off, dyn, acc_f,
              umask, has_front, kind, E, nX, ctx_par, ctx_tab, ctx_card, phi, init, tr, W, cause_np,
              cause_par, cause_stride, cause_tab, f_np, f_kind, f_idx, f_pmf, f_cdf, leak, leak_cdf,
              digits, fo, fm, fs, tw, y, alpha, aoff, beta, probs):  # pragma: no cover - compiled
    """The backward pass: every driving cause's marginal into ``probs[d, n]``."""
    beta[0] = 1.0
    for t in range(R - 1, -1, -1):
        c = order[t]
        cur = _open_space(t + 1, I, first, last, bits)  # open after step t's closings
        for i in range(A, I):
            if last[i] == t:
                close_ctx_t(beta, cur, off[i], width[i], ctx_card[item_x[i]])
                cur |= bits[i]
        for a in range(A):
            if last[a] == t:
                close_acc_t(beta, cur, bits[a])
                cur |= bits[a]
        _copy(y, beta, cur)
        for a in range(A):
            if (umask[c] >> a) & 1:
                acc_map_t(y, cur & ~bits[a], bits[a], tr[a, c, 0], tr[a, c, 1], tr[a, c, 2])
        m = _cause_table(has_front[c], d, c, W, E, n, kind, item_of, off, width, ctx_card, cause_np,
                         cause_par, cause_stride, cause_tab, fo, fm, fs, tw)
        s0 = 0.0
        s1 = 0.0
        j = aoff[t]  # the same submasks in the same order as stored
        x = 0
        while True:
            k = _at(x, m, fo, fm, fs)
            s0 += tw[k, 0] * beta[x] * alpha[j]
            s1 += tw[k, 1] * y[x] * alpha[j]
            j += 1
            beta[x] = tw[k, 0] * beta[x] + tw[k, 1] * y[x]
            x = step_next(x, cur)
            if x == 0:
                break
        probs[d, n, c] = s1 / (s0 + s1)
        for a in range(A - 1, -1, -1):
            if first[a] != t:
                continue
            b = bits[a]
            cur &= ~b
            f = acc_f[a]
            i0, i1 = init[a, 0], init[a, 1]
            x = 0
            while True:
                if dyn[a]:  # (else init[a], read before the loop)
                    i0, i1 = _init_dyn(x, d, n, f, E[n, nX + f], E, kind, item_of, off, width, ctx_card,
                                       f_np, f_kind, f_idx, f_pmf, f_cdf, leak, leak_cdf, digits)
                beta[x] = i0 * beta[x] + i1 * beta[x | b]
                beta[x | b] = 0.0
                x = step_next(x, cur)
                if x == 0:
                    break
        for i in range(I - 1, A - 1, -1):
            if first[i] == t:
                cur &= ~bits[i]
                x = item_x[i]
                p = ctx_par[x]
                pi = item_of[p] if p_off[i] >= 0 else 0
                open_ctx_t(beta, cur, off[i], width[i], ctx_card[x], phi[i], d, x, p_off[i], width[pi],
                           ctx_card[p] if p >= 0 else 1, ctx_tab)
        _scale(beta, cur)
    beta[0] = 0.0
