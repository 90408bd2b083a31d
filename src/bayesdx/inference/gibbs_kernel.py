"""The compiled inner loop of the Gibbs sampler (:mod:`bayesdx.inference.approx`).

One function, :func:`run_chains`, compiled by numba (``nogil``: other threads
run meanwhile): chains ``first .. first + chains - 1`` run their sweeps in
turn, each on its own seeded random stream (so results are reproducible and do
not depend on how the chains are split between calls), and
returns per chain the sum over kept sweeps of each cause's conditional
probability of being present (Rao-Blackwellised), plus whether the chain ended
in a state the evidence allows. The arrays are built by
``approx._flatten``; see :mod:`bayesdx.inference.approx` for the model.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["run_chains"]


@njit(cache=True, nogil=True)
def _ll(sa, za, sb, zb, penalty):
    """log(P(f <= k) - P(f <= k - 1)) from the log-sums and zero counts."""
    if za > 0:
        return penalty
    if zb > 0:
        return sa
    d = sb - sa
    if d >= 0.0:
        return penalty
    return sa + math.log1p(-math.exp(d))


@njit(cache=True, nogil=True)
def run_chains(first, chains, sweeps, burn_in, seed, penalty, card, child_ptr, child_f, tab_off,
               la, za, lb, zb, pf_ptr, f_off, f_stride, f_ptr, f_cols, f_strides, table,
               A0, zA0, B0, zB0, slot, n_causes):
    n_v = card.shape[0]
    n_f = A0.shape[0]
    kmax = 1
    for v in range(n_v):
        kmax = max(kmax, card[v])
    cmax = 1
    for v in range(n_v):
        cmax = max(cmax, child_ptr[v + 1] - child_ptr[v])
    sums = np.zeros((chains, n_causes))
    ok = np.zeros(chains, np.bool_)
    X = np.zeros(n_v, np.int64)
    SA = np.empty(n_f)
    SB = np.empty(n_f)
    ZA = np.empty(n_f, np.int64)
    ZB = np.empty(n_f, np.int64)
    LL = np.empty(n_f)
    score = np.empty(kmax)
    prob = np.empty(kmax)
    cand = np.empty((kmax, cmax))
    for ch in range(chains):
        # each chain has its own stream (seed, chain number): any split of the chains
        # into calls gives the same numbers
        np.random.seed((seed * 1000003 + first + ch) % 4294967296)
        # start: uniform, then one sweep from the prior factors alone
        for v in range(n_v):
            X[v] = np.random.randint(0, card[v])
        for v in range(n_v):
            for s in range(card[v]):
                score[s] = 0.0
            _prior(v, X, card, pf_ptr, f_off, f_stride, f_ptr, f_cols, f_strides, table, score)
            X[v] = _pick(score, prob, card[v])
        for j in range(n_f):
            SA[j] = A0[j]
            SB[j] = B0[j]
            ZA[j] = zA0[j]
            ZB[j] = zB0[j]
        for v in range(n_v):
            for e in range(child_ptr[v], child_ptr[v + 1]):
                j = child_f[e]
                t = tab_off[e] + X[v]
                SA[j] += la[t]
                ZA[j] += za[t]
                SB[j] += lb[t]
                ZB[j] += zb[t]
        for j in range(n_f):
            LL[j] = _ll(SA[j], ZA[j], SB[j], ZB[j], penalty)
        for sweep in range(sweeps):
            for v in range(n_v):
                K = card[v]
                x0 = X[v]
                for s in range(K):
                    score[s] = 0.0
                _prior(v, X, card, pf_ptr, f_off, f_stride, f_ptr, f_cols, f_strides, table, score)
                c0 = child_ptr[v]
                for e in range(c0, child_ptr[v + 1]):
                    j = child_f[e]
                    t0 = tab_off[e] + x0
                    bA = SA[j] - la[t0]
                    bzA = ZA[j] - za[t0]
                    bB = SB[j] - lb[t0]
                    bzB = ZB[j] - zb[t0]
                    for s in range(K):
                        if s == x0:
                            val = LL[j]
                        else:
                            t = tab_off[e] + s
                            val = _ll(bA + la[t], bzA + za[t], bB + lb[t], bzB + zb[t], penalty)
                        cand[s, e - c0] = val
                        score[s] += val
                new = _pick(score, prob, K)
                if sweep >= burn_in and slot[v] >= 0:
                    sums[ch, slot[v]] += prob[1]
                if new != x0:
                    for e in range(c0, child_ptr[v + 1]):
                        j = child_f[e]
                        t0 = tab_off[e] + x0
                        t = tab_off[e] + new
                        SA[j] += la[t] - la[t0]
                        ZA[j] += za[t] - za[t0]
                        SB[j] += lb[t] - lb[t0]
                        ZB[j] += zb[t] - zb[t0]
                        LL[j] = cand[new, e - c0]
                    X[v] = new
        good = True
        for j in range(n_f):
            if LL[j] <= penalty:
                good = False
        for v in range(n_v):
            for s in range(card[v]):
                score[s] = 0.0
            _prior(v, X, card, pf_ptr, f_off, f_stride, f_ptr, f_cols, f_strides, table, score)
            if score[X[v]] <= penalty:
                good = False
        ok[ch] = good
    return sums, ok


@njit(cache=True, nogil=True)
def _prior(v, X, card, pf_ptr, f_off, f_stride, f_ptr, f_cols, f_strides, table, score):
    for q in range(pf_ptr[v], pf_ptr[v + 1]):
        idx = f_off[q]
        for r in range(f_ptr[q], f_ptr[q + 1]):
            idx += X[f_cols[r]] * f_strides[r]
        st = f_stride[q]
        for s in range(card[v]):
            score[s] += table[idx + s * st]


@njit(cache=True, nogil=True)
def _pick(score, prob, K):
    m = score[0]
    for s in range(1, K):
        if score[s] > m:
            m = score[s]
    tot = 0.0
    for s in range(K):
        prob[s] = math.exp(score[s] - m)
        tot += prob[s]
    for s in range(K):
        prob[s] /= tot
    u = np.random.random()
    acc = 0.0
    for s in range(K - 1):
        acc += prob[s]
        if u < acc:
            return s
    return K - 1
