"""Forward-backward over one compiled plan (every case of the batch shares it).

The frontier holds the open context variables and accumulators of
:class:`~bayesdx.inference.plan.Plan`; each step multiplies in one item's factor and
the accumulator transitions it drives, then sums the item out (rescaled, so
nothing underflows). The backward pass gives each cause's exact marginal.
"""

from __future__ import annotations

import numpy as np

from .factors import Prepared, acc_tables, ctx_factor
from ..knowledge.network import Network, Tables
from .plan import Plan

__all__ = ["add_constant_findings", "rescale", "run_frontier"]


def rescale(arr: np.ndarray, D: int, B: int):
    """Divide each case's array by its maximum; return ``(scaled, maxima)``."""
    s = arr.reshape(D, B, -1).max(axis=-1) if arr.ndim > 2 else arr
    safe = np.where(s > 0, s, 1.0)
    return arr / safe.reshape((D, B) + (1,) * (arr.ndim - 2)), s


def add_constant_findings(net: Network, plan: Plan, T: Tables, idxs, prep: Prepared,
                          logz: np.ndarray) -> None:
    """Add to ``logz`` the accumulated findings whose parents are all observed.

    Such a finding is a constant factor per case (no step carries it); it moves
    the evidence, never a posterior.
    """
    const = [f for f in plan.acc if all(p in prep.fixed_idx for p in net.parents[f])]
    if not const:
        return
    acc_tab = acc_tables(net, const, prep.fixed_idx, T, idxs)
    for f in const:
        init, final, _ = acc_tab[f]
        with np.errstate(divide="ignore"):
            logz += np.log((init * final).sum(-1))


def run_frontier(net: Network, plan: Plan, T: Tables, idxs, prep: Prepared,
                 cause_index: dict, probs: np.ndarray, logz: np.ndarray) -> None:
    """Fill ``probs[:, :, cause]`` for the plan's causes and add to ``logz`` in place."""
    D, B = logz.shape
    acc_tab = acc_tables(net, plan.acc, prep.fixed_idx, T, idxs)
    E = Ellipsis
    tcache: dict = {}

    def tmat(f: str, item: str, mode: str) -> np.ndarray:
        key = (f, item, mode)
        if key not in tcache:
            init, final, trans = acc_tab[f]
            t = trans[item]  # (D, B, 2, K, 2)
            if mode == "mid":
                v = t
            elif mode == "open":
                v = np.einsum("...a,...akc->...kc", init, t)
            elif mode == "close":
                v = np.einsum("...akc,...c->...ak", t, final)
            else:
                v = np.einsum("...a,...akc,...c->...k", init, t, final)
            tcache[key] = v
        return tcache[key]

    owns = {}
    for st in plan.steps:
        owns[st.item] = (prep.cause_factor[st.item] if st.kind == "cause" else
                         ctx_factor(net, st.item, T, plan, prep)[0])

    # forward
    ys = []
    frontier = np.ones((D, B))
    for st in plan.steps:
        _, la, lb, lo = st.prog["fwd"][0]
        y = np.einsum(frontier, [E, *la], owns[st.item], [E, *lb], [E, *lo])
        for _, f, mode, la, lb, lo in st.prog["fwd"][1:]:
            y = np.einsum(y, [E, *la], tmat(f, st.item, mode), [E, *lb], [E, *lo])
        ys.append(y)
        la, lo = st.prog["sum"]
        frontier, s = rescale(np.einsum(y, [E, *la], [E, *lo]), D, B)
        with np.errstate(divide="ignore"):
            logz += np.log(s)
    # backward, with the marginal of each cause
    beta = np.ones((D, B))
    for st, y in zip(reversed(plan.steps), reversed(ys)):
        if st.kind == "cause":
            la, lb, lo = st.prog["marg"]
            m = np.einsum(y, [E, *la], beta, [E, *lb], [E, *lo])
            with np.errstate(invalid="ignore", divide="ignore"):
                probs[:, :, cause_index[st.item]] = m[..., 1] / m.sum(-1)
        g = beta
        for f, mode, la, lb, lo in st.prog["back"][:-1]:
            g = np.einsum(g, [E, *la], tmat(f, st.item, mode), [E, *lb], [E, *lo])
        _, la, lb, lo = st.prog["back"][-1]
        beta, _ = rescale(np.einsum(g, [E, *la], owns[st.item], [E, *lb], [E, *lo]), D, B)
