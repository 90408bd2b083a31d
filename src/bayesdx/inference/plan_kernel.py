"""The compiled interpreter of a flattened plan (:mod:`bayesdx.inference.program`).

One function, :func:`run_program`, compiled by numba (``cache=True``: the
machine code is kept on disk after the first compilation; ``nogil``: other
threads run meanwhile), executes a whole plan for a batch of cases and draws
in one call: every einsum of :mod:`bayesdx.inference.pattern` becomes one
*contraction* record (output zeroed, then ``C += A * B`` over a loop nest
whose strides were worked out in Python), every rescale one *rescale*
record, every cause marginal one *marginal* record. All arrays live in one
flat float64 workspace.

Record layouts in ``code`` (int64):

* ``0, offA, offB, offC, sizeC, nd, dims[nd], sa[nd], sb[nd], sc[nd]``:
  ``ws[offC : offC + sizeC] = 0``, then for every index of the loop nest
  ``ws[offC + i.sc] += ws[offA + i.sa] * ws[offB + i.sb]``;
* ``1, off, n, inner, add_log``: for each of the ``n`` cases (draw-major) divide
  its ``inner`` numbers by their maximum (when positive) and, when
  ``add_log``, add the log of that maximum to ``logz`` (``-inf`` for 0);
* ``3, offY, offM, offFlag, K, R, S, s, transpose``: when ``ws[offFlag] != 0``, apply
  the ``(2, K, 2)`` map at ``offM`` in place to slot ``s`` of ``Y`` (``(K, R, 2**S)``,
  slot ``s`` the axis of stride ``2**(S-1-s)``): forward
  ``y'[k, r, c] = sum_a y[k, r, a] m[a, k, c]``, transposed
  ``y'[k, r, a] = sum_c m[a, k, c] y[k, r, c]`` (the slot passes,
  :mod:`bayesdx.inference.slot_program`);
* ``2, off, n, cause``: ``probs[i, cause] = m1 / (m0 + m1)`` with ``m`` the
  ``(n, 2)`` array at ``off`` (NaN for 0 / 0, as numpy).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["LANES", "run_cases", "run_cases_lanes", "run_program", "run_program_lanes"]


@njit(cache=True, nogil=True)
def _slot_record(code, pc):  # pragma: no cover - compiled
    """Record 3's fields: offsets of ``Y`` and the map, ``K``, ``R``, and the slot's loop
    lengths (blocks above it, numbers below it, numbers per ``(k, r)``)."""
    S = code[pc + 6]
    s = code[pc + 7]
    return code[pc + 1], code[pc + 2], code[pc + 4], code[pc + 5], 1 << (S - 1 - s), 1 << s, 1 << S


@njit(cache=True, nogil=True, error_model="numpy")
def _slot_map(code, pc, ws):  # pragma: no cover - compiled (tested through the engine)
    """Record 3 (see the module docstring), in place."""
    if ws[code[pc + 3]] == 0.0:
        return
    offy, offm, K, R, lo_n, hi_n, blk = _slot_record(code, pc)
    for k in range(K):
        m00 = ws[offm + 2 * k]
        m01 = ws[offm + 2 * k + 1]
        m10 = ws[offm + 2 * K + 2 * k]
        m11 = ws[offm + 2 * K + 2 * k + 1]
        if code[pc + 8] != 0:
            m01, m10 = m10, m01
        for r in range(R):
            base = offy + (k * R + r) * blk
            for h in range(hi_n):
                b2 = base + h * 2 * lo_n
                for j in range(lo_n):
                    x0 = ws[b2 + j]
                    x1 = ws[b2 + lo_n + j]
                    ws[b2 + j] = x0 * m00 + x1 * m10
                    ws[b2 + lo_n + j] = x0 * m01 + x1 * m11


@njit(cache=True, nogil=True, error_model="numpy")
def run_program(code, ws, probs, logz):  # pragma: no cover - compiled (tested through the engine)
    idx = np.zeros(64, np.int64)
    pc = 0
    n_code = code.shape[0]
    while pc < n_code:
        op = code[pc]
        if op == 0:
            offa = code[pc + 1]
            offb = code[pc + 2]
            offc = code[pc + 3]
            size_c = code[pc + 4]
            nd = code[pc + 5]
            d0 = pc + 6
            a0 = d0 + nd
            b0 = a0 + nd
            c0 = b0 + nd
            pc = c0 + nd
            for i in range(size_c):
                ws[offc + i] = 0.0
            inner = code[d0 + nd - 1]
            ia = code[a0 + nd - 1]
            ib = code[b0 + nd - 1]
            ic = code[c0 + nd - 1]
            outer = 1
            for k in range(nd - 1):
                outer *= code[d0 + k]
                idx[k] = 0
            pa = offa
            pb = offb
            pcc = offc
            for _ in range(outer):
                if ic == 0:
                    acc = 0.0
                    for j in range(inner):
                        acc += ws[pa + j * ia] * ws[pb + j * ib]
                    ws[pcc] += acc
                elif ib == 0:
                    bv = ws[pb]
                    for j in range(inner):
                        ws[pcc + j * ic] += ws[pa + j * ia] * bv
                else:
                    for j in range(inner):
                        ws[pcc + j * ic] += ws[pa + j * ia] * ws[pb + j * ib]
                k = nd - 2
                while k >= 0:
                    idx[k] += 1
                    pa += code[a0 + k]
                    pb += code[b0 + k]
                    pcc += code[c0 + k]
                    if idx[k] < code[d0 + k]:
                        break
                    dk = code[d0 + k]
                    pa -= code[a0 + k] * dk
                    pb -= code[b0 + k] * dk
                    pcc -= code[c0 + k] * dk
                    idx[k] = 0
                    k -= 1
        elif op == 1:
            off = code[pc + 1]
            n = code[pc + 2]
            inner = code[pc + 3]
            add_log = code[pc + 4]
            pc += 5
            for i in range(n):
                base = off + i * inner
                s = ws[base]
                for j in range(1, inner):
                    if ws[base + j] > s:
                        s = ws[base + j]
                if s > 0.0:
                    for j in range(inner):
                        ws[base + j] /= s
                if add_log != 0:
                    if s > 0.0:
                        logz[i] += math.log(s)
                    else:
                        logz[i] = -np.inf
        elif op == 3:
            _slot_map(code, pc, ws)
            pc += 9
        else:
            off = code[pc + 1]
            n = code[pc + 2]
            cause = code[pc + 3]
            pc += 4
            for i in range(n):
                m0 = ws[off + 2 * i]
                m1 = ws[off + 2 * i + 1]
                probs[i, cause] = m1 / (m0 + m1)


@njit(cache=True, nogil=True, error_model="numpy")
def run_cases(code, size, src, src_off, dst_off, per, sd, sb, D, B, probs, logz,
              d_lo=0, d_hi=-1):  # pragma: no cover
    """Run a one-case program for every (draw, case) pair, draw-major (draws
    ``d_lo`` to ``d_hi``, default all: threads may take disjoint ranges).

    Input ``i`` of pair ``(d, b)`` is ``src[src_off[i] + d * sd[i] + b * sb[i]]``, ``per[i]``
    numbers long (a stride of 0: the same for every draw or case); it is copied to
    ``dst_off[i]`` of one small workspace, which is reused (it stays in cache).
    ``probs`` is ``(D * B, C)``, ``logz`` ``(D * B,)``.
    """
    ws = np.empty(size)
    n_in = src_off.shape[0]
    if d_hi < 0:
        d_hi = D
    for d in range(d_lo, d_hi):
        for b in range(B):
            n = d * B + b
            for i in range(n_in):
                s0 = src_off[i] + d * sd[i] + b * sb[i]
                t0 = dst_off[i]
                for j in range(per[i]):
                    ws[t0 + j] = src[s0 + j]
            run_program(code, ws, probs[n:n + 1], logz[n:n + 1])


LANES = 16
"""(draw, case) pairs one :func:`run_cases_lanes` pass runs side by side."""


@njit(cache=True, nogil=True, error_model="numpy")
def _slot_map_lanes(code, pc, ws, cf):  # pragma: no cover - compiled (tested through the engine)
    """Record 3 for every lane at once, in place (``cf``: ``(4, LANES)`` scratch).

    A lane whose flag is 0 holds the identity map there (the flag says so), so applying
    it changes nothing: ``x0 * 1 + x1 * 0`` is ``x0`` exactly for the frontier's finite,
    non-negative numbers. Each lane does :func:`_slot_map`'s arithmetic in its order."""
    on = False
    for w in range(LANES):
        if ws[code[pc + 3], w] != 0.0:
            on = True
    if not on:
        return
    offy, offm, K, R, lo_n, hi_n, blk = _slot_record(code, pc)
    tr = code[pc + 8] != 0
    for k in range(K):
        for w in range(LANES):
            cf[0, w] = ws[offm + 2 * k, w]
            cf[1, w] = ws[offm + 2 * k + 1, w]
            cf[2, w] = ws[offm + 2 * K + 2 * k, w]
            cf[3, w] = ws[offm + 2 * K + 2 * k + 1, w]
        if tr:
            for w in range(LANES):
                t = cf[1, w]
                cf[1, w] = cf[2, w]
                cf[2, w] = t
        for r in range(R):
            base = offy + (k * R + r) * blk
            for h in range(hi_n):
                b2 = base + h * 2 * lo_n
                for j in range(lo_n):
                    for w in range(LANES):
                        x0 = ws[b2 + j, w]
                        x1 = ws[b2 + lo_n + j, w]
                        ws[b2 + j, w] = x0 * cf[0, w] + x1 * cf[2, w]
                        ws[b2 + lo_n + j, w] = x0 * cf[1, w] + x1 * cf[3, w]


@njit(cache=True, nogil=True, error_model="numpy")
def run_program_lanes(code, ws, nw, probs, logz):  # pragma: no cover - compiled
    """:func:`run_program` for ``nw`` pairs at once: ``ws`` is ``(size, LANES)``, lane ``w``
    the workspace of pair ``w``; ``probs`` ``(nw, C)``, ``logz`` ``(nw,)``.

    Every lane does exactly the arithmetic of :func:`run_program`, in the same order
    (the lane loop is innermost, so it vectorises): the numbers are the same bit for
    bit; slot maps (record 3): :func:`_slot_map_lanes`)."""
    idx = np.zeros(64, np.int64)
    acc = np.zeros(LANES)
    cf = np.zeros((4, LANES))
    pc = 0
    n_code = code.shape[0]
    while pc < n_code:
        op = code[pc]
        if op == 0:
            offa = code[pc + 1]
            offb = code[pc + 2]
            offc = code[pc + 3]
            size_c = code[pc + 4]
            nd = code[pc + 5]
            d0 = pc + 6
            a0 = d0 + nd
            b0 = a0 + nd
            c0 = b0 + nd
            pc = c0 + nd
            for i in range(size_c):
                for w in range(LANES):
                    ws[offc + i, w] = 0.0
            inner = code[d0 + nd - 1]
            ia = code[a0 + nd - 1]
            ib = code[b0 + nd - 1]
            ic = code[c0 + nd - 1]
            outer = 1
            for k in range(nd - 1):
                outer *= code[d0 + k]
                idx[k] = 0
            pa = offa
            pb = offb
            pcc = offc
            for _ in range(outer):
                if ic == 0:
                    for w in range(LANES):
                        acc[w] = 0.0
                    for j in range(inner):
                        ra = pa + j * ia
                        rb = pb + j * ib
                        for w in range(LANES):
                            acc[w] += ws[ra, w] * ws[rb, w]
                    for w in range(LANES):
                        ws[pcc, w] += acc[w]
                else:
                    for j in range(inner):
                        ra = pa + j * ia
                        rb = pb + j * ib
                        rc = pcc + j * ic
                        for w in range(LANES):
                            ws[rc, w] += ws[ra, w] * ws[rb, w]
                k = nd - 2
                while k >= 0:
                    idx[k] += 1
                    pa += code[a0 + k]
                    pb += code[b0 + k]
                    pcc += code[c0 + k]
                    if idx[k] < code[d0 + k]:
                        break
                    dk = code[d0 + k]
                    pa -= code[a0 + k] * dk
                    pb -= code[b0 + k] * dk
                    pcc -= code[c0 + k] * dk
                    idx[k] = 0
                    k -= 1
        elif op == 1:
            off = code[pc + 1]
            n = code[pc + 2]
            inner = code[pc + 3]
            add_log = code[pc + 4]
            pc += 5
            for i in range(n):
                base = off + i * inner
                for w in range(LANES):
                    acc[w] = ws[base, w]
                for j in range(1, inner):
                    for w in range(LANES):
                        v = ws[base + j, w]
                        if v > acc[w]:
                            acc[w] = v
                for j in range(inner):
                    for w in range(LANES):
                        if acc[w] > 0.0:
                            ws[base + j, w] /= acc[w]
                if add_log != 0:
                    for w in range(nw):
                        if acc[w] > 0.0:
                            logz[w] += math.log(acc[w])
                        else:
                            logz[w] = -np.inf
        elif op == 3:
            _slot_map_lanes(code, pc, ws, cf)
            pc += 9
        else:  # 2
            off = code[pc + 1]
            n = code[pc + 2]
            cause = code[pc + 3]
            pc += 4
            for w in range(nw):
                m0 = ws[off, w]
                m1 = ws[off + 1, w]
                probs[w, cause] = m1 / (m0 + m1)


@njit(cache=True, nogil=True, error_model="numpy")
def run_cases_lanes(code, size, src, src_off, dst_off, per, sd, sb, D, B, probs, logz,
                    d_lo=0, d_hi=-1):  # pragma: no cover - compiled
    """:func:`run_cases` with :data:`LANES` consecutive (draw, case) pairs side by side
    (:func:`run_program_lanes`); the same numbers, bit for bit."""
    W = LANES
    ws = np.zeros((size, W))  # lanes past the last pair compute on zeros
    n_in = src_off.shape[0]
    if d_hi < 0:
        d_hi = D
    lo = d_lo * B
    hi = d_hi * B
    for n0 in range(lo, hi, W):
        nw = min(W, hi - n0)
        for w in range(nw):
            d = (n0 + w) // B
            b = (n0 + w) - d * B
            for i in range(n_in):
                s0 = src_off[i] + d * sd[i] + b * sb[i]
                t0 = dst_off[i]
                for j in range(per[i]):
                    ws[t0 + j, w] = src[s0 + j]
        run_program_lanes(code, ws, nw, probs[n0:n0 + nw], logz[n0:n0 + nw])
