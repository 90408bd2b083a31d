"""The frontier operations of the direct path's kernel (:mod:`bayesdx.inference.direct_kernel`).

The frontier is a vector of ``2**S`` numbers; item ``i`` (an accumulator, one
bit, or an unrecorded context node, ``nb`` bits holding its state) owns the
bits ``off .. off + nb - 1`` while it is open. Every operation runs over the
indices whose bits are all open (``space``, the other items' bits; the submasks
of ``space``, enumerated in increasing order by ``x = (x - space) & space``),
so a step costs ``2**(bits open)``, not ``2**S``; forward, every other number is
zero. Each operation comes forward (``v``) and transposed (``beta``), compiled
by numba (``cache=True``, ``nogil``). States of a context node's bits at or
above its card hold zeros forward and are ignored backward.
"""

from __future__ import annotations

from numba import njit

__all__ = ["acc_map", "acc_map_t", "close_acc", "close_acc_t", "close_ctx", "close_ctx_t", "digit",
           "open_ctx", "open_ctx_t", "step_next"]


@njit(cache=True, nogil=True)
def step_next(x, space):  # pragma: no cover - compiled
    """The next submask of ``space`` after ``x`` (0 when ``x`` was the last)."""
    return (x - space) & space


@njit(cache=True, nogil=True)
def digit(y, off, nb):  # pragma: no cover - compiled
    """The state an item's bits hold in frontier index ``y``."""
    return (y >> off) & ((1 << nb) - 1)


@njit(cache=True, nogil=True)
def acc_map(v, space, b, lt, eq, le):  # pragma: no cover - compiled
    """A present parent's map on accumulator bit ``b`` (``space``: the other open bits):
    below ``k`` stays, ``= k`` sets, above kills."""
    x = 0
    while True:
        y0 = v[x]
        y1 = v[x | b]
        v[x] = lt * y0
        v[x | b] = eq * y0 + le * y1
        x = (x - space) & space
        if x == 0:
            break


@njit(cache=True, nogil=True)
def acc_map_t(u, space, b, lt, eq, le):  # pragma: no cover - compiled
    """:func:`acc_map` transposed."""
    x = 0
    while True:
        u0 = u[x]
        u1 = u[x | b]
        u[x] = lt * u0 + eq * u1
        u[x | b] = le * u1
        x = (x - space) & space
        if x == 0:
            break


@njit(cache=True, nogil=True)
def close_acc(v, space, b):  # pragma: no cover - compiled
    """Keep the paths on which the finding reached its state; free the bit."""
    x = 0
    while True:
        v[x] = v[x | b]
        v[x | b] = 0.0
        x = (x - space) & space
        if x == 0:
            break


@njit(cache=True, nogil=True)
def close_acc_t(u, space, b):  # pragma: no cover - compiled
    """:func:`close_acc` transposed."""
    x = 0
    while True:
        u[x | b] = u[x]
        u[x] = 0.0
        x = (x - space) & space
        if x == 0:
            break


@njit(cache=True, nogil=True)
def _weight(y, phi_row, s, d, x, p_off, p_nb, p_card, ctx_tab):  # pragma: no cover - compiled
    """A context node's factor for state ``s`` at frontier index ``y`` (times ``P(x = s |
    parent)`` read from the parent's bits when ``p_off >= 0``)."""
    f = phi_row[s]
    if p_off >= 0:
        ps = digit(y, p_off, p_nb)
        if ps >= p_card:
            return 0.0
        f *= ctx_tab[d, x, ps, s]
    return f


@njit(cache=True, nogil=True)
def open_ctx(v, space, off, nb, K, phi_row, d, x, p_off, p_nb, p_card, ctx_tab):  # pragma: no cover
    """Open a context node: spread each number over its ``K`` states, times their factors."""
    y = 0
    while True:
        base = v[y]
        for s in range(K - 1, -1, -1):  # (state 0 last: it overwrites ``base``'s place)
            v[y | (s << off)] = base * _weight(y, phi_row, s, d, x, p_off, p_nb, p_card, ctx_tab)
        y = (y - space) & space
        if y == 0:
            break


@njit(cache=True, nogil=True)
def open_ctx_t(u, space, off, nb, K, phi_row, d, x, p_off, p_nb, p_card, ctx_tab):  # pragma: no cover
    """:func:`open_ctx` transposed."""
    y = 0
    while True:
        acc = 0.0
        for s in range(K):
            acc += _weight(y, phi_row, s, d, x, p_off, p_nb, p_card, ctx_tab) * u[y | (s << off)]
        for s in range(1, 1 << nb):
            u[y | (s << off)] = 0.0
        u[y] = acc
        y = (y - space) & space
        if y == 0:
            break


@njit(cache=True, nogil=True)
def close_ctx(v, space, off, nb, K):  # pragma: no cover - compiled
    """Sum a context node out; free its bits."""
    y = 0
    while True:
        acc = 0.0
        for s in range(K):
            acc += v[y | (s << off)]
        for s in range(1, 1 << nb):
            v[y | (s << off)] = 0.0
        v[y] = acc
        y = (y - space) & space
        if y == 0:
            break


@njit(cache=True, nogil=True)
def close_ctx_t(u, space, off, nb, K):  # pragma: no cover - compiled
    """:func:`close_ctx` transposed."""
    y = 0
    while True:
        val = u[y]
        for s in range(1 << nb):
            u[y | (s << off)] = val if s < K else 0.0
        y = (y - space) & space
        if y == 0:
            break
