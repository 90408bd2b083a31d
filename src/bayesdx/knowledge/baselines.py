"""The two normalisations that turn parameters into tables.

* :func:`with_baseline`: a finding's leak or link lists the probabilities of
  its abnormal states; the baseline state gets what remains.
* :func:`merge_states`: a derived finding's pmfs are its source's, with each
  run of states summed into one.
* :func:`solve_base`: a cause's prior is given for the reference population
  and its relative risks per context state; the baseline risk is the value
  that makes the population average (with every cell capped) equal the prior.

Both work on whole batches of parameter draws at once.
"""

from __future__ import annotations

import numpy as np

__all__ = ["derived_runs", "merge_states", "solve_base", "with_baseline"]


def derived_runs(findings: dict) -> dict[str, tuple[str, tuple[tuple[int, ...], ...]]]:
    """Derived finding -> (its source, the source's state indices behind each of its states)."""
    out = {}
    for f, spec in findings.items():
        if spec.derived_from is not None:
            src = spec.derived_from.finding
            pos = {st: i for i, st in enumerate(findings[src].states)}
            out[f] = (src, tuple(tuple(pos[st] for st in run)
                                 for run in spec.derived_from.states.values()))
    return out


def merge_states(eff: np.ndarray, runs) -> np.ndarray:
    """Sum each run of consecutive states of the last axis into one state (a new array).

    In a leaky noisy-MAX finding every mechanism's effect is read through the same
    order-keeping map, so the coarser finding is again a leaky noisy-MAX with
    these merged effects, exactly.

    >>> merge_states(np.array([0.5, 0.1, 0.3, 0.1]), [(0, 1), (2, 3)])
    array([0.6, 0.4])
    """
    starts = [run[0] for run in runs]
    return np.add.reduceat(eff, starts, axis=-1)


def with_baseline(eff: np.ndarray) -> np.ndarray:
    """Put the remaining mass on the baseline state (index 0) of the last axis, in place.

    Rows whose other states sum to more than 1 are renormalised.

    >>> with_baseline(np.array([[0.0, 0.25, 0.5], [0.0, 0.75, 0.5]]))
    array([[0.25, 0.25, 0.5 ],
           [0.  , 0.6 , 0.4 ]])
    """
    S = eff.shape[-1]
    rest = eff[..., 1].copy()
    for j in range(2, S):  # left to right, as numpy sums a short last axis (no reduce overhead)
        rest += eff[..., j]
    np.subtract(1.0, rest, out=rest)
    eff[..., 0] = np.clip(rest, 0.0, 1.0)
    s = eff[..., 0] + eff[..., 1]
    for j in range(2, S):
        s += eff[..., j]
    over = s > 1.0 + 1e-12
    if over.any():
        eff[over] /= s[over][:, None]
    return eff


def solve_base(prior: np.ndarray, rr: np.ndarray, weight: np.ndarray, cap: float):
    """Find ``base`` with ``sum(weight * min(cap, base * rr)) == prior`` per draw.

    Returns ``(base, ok)``; ``ok`` is False where the prior cannot be reached
    (``base`` is then the smallest value that caps every cell with ``rr > 0``).

    Without a binding cap, ``base = prior / sum(weight * rr)``. Otherwise the
    left side is piecewise linear and increasing in ``base``, with a kink where
    each cell reaches the cap (``base = cap / rr``): the rows that bind sort
    their kinks, find the segment holding ``prior`` and solve it exactly.

    >>> w = np.array([[0.5, 0.5]]); r = np.array([[1.0, 10.0]])
    >>> base, ok = solve_base(np.array([0.6]), r, w, 0.9)  # 0.5 * b + 0.5 * 0.9 = 0.6
    >>> round(float(base[0]), 12), bool(ok[0])
    (0.3, True)
    >>> solve_base(np.array([0.95]), r, w, 0.9)[1]
    array([False])
    """
    mean_rr = (weight * rr).sum(-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        base = np.where(mean_rr > 0, prior / mean_rr, 0.0)
    reach = (weight * (rr > 0)).sum(-1) * cap
    ok = prior <= reach + 1e-12
    binding = (base[:, None] * rr > cap).any(-1) & (mean_rr > 0)
    if not binding.any():
        return base, ok
    rows = np.flatnonzero(binding)
    r, w, p = rr[rows], weight[rows], prior[rows]
    pos = r > 0
    with np.errstate(divide="ignore"):
        kink = np.where(pos, cap / np.where(pos, r, 1.0), np.inf)
    flat = np.argsort(kink, axis=-1, kind="stable") + (np.arange(len(rows)) * r.shape[1])[:, None]
    kink = np.take(kink, flat)  # sorted rows (np.take on flat indices: fast, C-ordered)
    w_s = np.take(w, flat)
    wr_s = np.take(w * r, flat)
    capped = np.cumsum(w_s, -1) - w_s                      # weight of the cells before kink k
    linear = np.cumsum(wr_s[:, ::-1], -1)[:, ::-1]         # sum(w * rr) of kink k and after
    finite = np.isfinite(kink)
    with np.errstate(invalid="ignore"):
        at_kink = np.where(finite, cap * capped + np.where(finite, kink, 0.0) * linear, -np.inf)
    hit = at_kink >= p[:, None]
    k = hit.argmax(-1)                                     # first kink at or above the prior
    at = k + np.arange(len(rows)) * r.shape[1]
    c_k = np.take(capped, at)
    l_k = np.take(linear, at)
    with np.errstate(divide="ignore", invalid="ignore"):
        solved = (p - cap * c_k) / l_k
    # unreachable: every cell with rr > 0 at the cap (what the former bisection returned)
    rmin = r.min(-1, where=pos, initial=np.inf)
    top = np.maximum(np.where(np.isfinite(rmin), cap / np.where(np.isfinite(rmin), rmin, 1.0), 1.0),
                     base[rows])
    base = base.copy()
    base[rows] = np.where(hit.any(-1), solved, top)
    return base, ok
