"""EM for the context tables: exact expected counts from the engine, Dirichlet MAP per row.

A context node ``x`` is a categorical, either on its own (``context.<x>.prior.<s>``)
or given its one context parent ``p`` (``context.<x>.given.<p state>.<s>``,
one **row** per parent state). Each row's numbers get a Dirichlet prior and
its MAP from the cohort's expected counts.

**Prior** (:func:`dirichlet_prior`). A row's values ``v_s`` (shares of the
row's total ``V``, normally 1) are the **mode** of a Dirichlet ``alpha_s = 1 +
k v_s / V``, as :func:`~bayesdx.evaluation.fit_ranges.beta_prior` makes each value
the mode of its Beta. A Dirichlet has one concentration ``k`` per row while
each entry has its own range, so each free entry's range gives its own ``k_s``
(the Beta ``(1 + k_s v, 1 + k_s (1 - v))`` whose central 90 % interval is as
wide as the range, exactly as for a cause prior) and the row takes their
geometric mean. Entries with a zero-width range stay fixed; the free ones
share what the fixed ones leave, ``room = V - sum_fixed v``, and the prior
over them is the Dirichlet restricted to that face.

**E-step** (:func:`context_counts`). The expected count of cell ``(x = s, p =
a)`` is ``sum_b P(x = s, p = a | e_b, label_b)``. A node observed in case ``b``
counts directly (its parent too, when observed). For an unobserved node (or
parent) the joint posterior is exact: one engine evaluation per state (per
pair of states of node and parent when both are unobserved) with that state
added to the case's evidence, labels clamped as elsewhere; the states' ``P(e,
x = s, label)`` normalised over the states is the posterior. A row is updated
only when at least one case observes its node (``n`` of the row); the
others stay where they are.

**M-step** (:func:`context_map`). With counts ``n_s`` the MAP on the face is
``theta_s = room (alpha_s - 1 + n_s) / sum_free (alpha_t - 1 + n_t)`` (the
fixed entries' counts do not move the free ones). With no counts it returns
the values.

**What is held fixed.** A cause with context parents keeps its ``prior`` (the
population share) when a context table moves: ``Network.tables`` re-solves
its ``base`` against the new context marginals (``solve_base``), so the
cause's risk in each context cell moves with the mix. This M-step maximises
the context tables' own factor of the complete-data log posterior and does
not follow that coupling (a block-coordinate step, not a strict EM step): the
fixed point is the same, and on a cohort sampled from the model it is
consistent, but the log posterior is not guaranteed to rise every iteration.

Examples
--------
>>> theta = context_map(np.array([30.0, 10.0]), np.array([3.0, 2.0]),
...                     np.array([True, True]), np.array([0.6, 0.4]))
>>> [round(float(x), 6) for x in theta]
[0.744186, 0.255814]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from ..knowledge.network import Network, Tables
from .fit_mech import pack
from .fit_ranges import beta_prior

PACK = 3
"""Most context nodes whose draws one engine call carries (cases packed under it)."""

__all__ = ["ContextRow", "context_counts", "context_logprior", "context_map", "context_rows",
           "dirichlet_prior"]


@dataclass(frozen=True)
class ContextRow:
    """One row of a context table: ``node``, its ``parent`` (None: a root) at state ``a``.

    ``params[s]`` is the parameter index of state ``s``; ``free`` marks the
    fitted ones (a range of positive width).
    """

    node: str
    parent: str | None
    a: int
    params: tuple[int, ...]
    free: tuple[bool, ...]


def context_rows(net: Network) -> list[ContextRow]:
    """Every context row with at least two free numbers (one alone cannot move), model order."""
    out = []
    for n in net.context:
        par = net.parents[n]
        if par:
            cands = [(par[0], a, [f"context.{n}.given.{ps}.{s}" for s in net.states[n]])
                     for a, ps in enumerate(net.states[par[0]])]
        else:
            cands = [(None, -1, [f"context.{n}.prior.{s}" for s in net.states[n]])]
        for p, a, paths in cands:
            ix = tuple(net.param_index(q) for q in paths)
            free = tuple(net.params[i].high > net.params[i].low for i in ix)
            if sum(free) >= 2:
                out.append(ContextRow(n, p, a, ix, free))
    return out


def dirichlet_prior(net: Network, row: ContextRow) -> np.ndarray:
    """The row's Dirichlet ``alpha`` ``(K,)``: mode at the values, spread from the ranges."""
    v = np.array([net.params[i].value for i in row.params])
    total = v.sum()
    ks = []
    for i, free in zip(row.params, row.free):
        if free:
            p = net.params[i]
            a, b = beta_prior(p.value / total, p.low / total, min(p.high / total, 1.0))
            ks.append(a + b - 2.0)
    k = float(np.exp(np.mean(np.log(ks))))
    return 1.0 + k * v / total


def context_map(counts: np.ndarray, alpha: np.ndarray, free: np.ndarray,
                values: np.ndarray) -> np.ndarray:
    """MAP of a row ``(K,)`` on the face where the fixed entries keep ``values``."""
    free = np.asarray(free, dtype=bool)
    out = np.asarray(values, dtype=float).copy()
    room = out[free].sum()
    w = alpha[free] - 1.0 + counts[free]
    if w.sum() > 0:
        out[free] = room * w / w.sum()
    return out


def context_logprior(theta: np.ndarray, rows: Sequence[ContextRow], alphas) -> float:
    """Log density (+ const) of the free entries under their rows' Dirichlets."""
    out = 0.0
    for r, al in zip(rows, alphas):
        for i, free, a in zip(r.params, r.free, al):
            if free and a != 1.0:
                out += (a - 1.0) * np.log(max(theta[i], 1e-300))
    return float(out)


def _needs(net: Network, nodes, idx) -> frozenset:
    """Nodes whose joint with their parent this case does not observe outright."""
    return frozenset(n for n in nodes if n not in idx
                     or (net.parents[n] and net.parents[n][0] not in idx))


def _draw_tables(net: Network, T: Tables, union) -> tuple[Tables, list]:
    """Draw 0: the tables; then one draw per ``(node, a, s)``: the node's table zero except
    parent state ``a`` (all for a root) and state ``s``, so ``P(e')`` = ``P(e, p = a, x = s)``."""
    mods = []
    for n in sorted(union, key=net.position.get):
        kp = net.card(net.parents[n][0]) if net.parents[n] else 1
        mods += [(n, a, s) for a in range(kp) for s in range(net.card(n))]
    D = 1 + len(mods)
    ctx = {k: (np.repeat(v, D, axis=0) if k in union else np.broadcast_to(v, (D,) + v.shape[1:]))
           for k, v in T.context_cpt.items()}
    for d, (n, a, s) in enumerate(mods, start=1):
        keep = ctx[n][d][..., s].copy() if not net.parents[n] else ctx[n][d][a, s]
        ctx[n][d] = 0.0
        if net.parents[n]:
            ctx[n][d][a, s] = keep
        else:
            ctx[n][d][s] = keep

    def rep(x):
        return np.broadcast_to(x, (D,) + x.shape[1:])

    return Tables(D, ctx, {k: rep(v) for k, v in T.cause_cpt.items()},
                  {k: rep(v) for k, v in T.finding_leak.items()},
                  {f: {p: rep(v) for p, v in d.items()} for f, d in T.finding_links.items()},
                  {k: rep(v) for k, v in T.cause_base.items()}), mods


def _packs(needs, most: int):
    """Cases sharing one engine call: same needs, packed greedily (:func:`fit_mech.pack`)."""
    by: dict = {}
    for b, nd in enumerate(needs):
        if nd:
            by.setdefault(nd, []).append(b)
    return pack(by, most)


def context_counts(engine, T: Tables, rows: Sequence[ContextRow], evidences: Sequence[dict],
                   labels: Sequence[dict], logz: np.ndarray, *, per_case: bool = False):
    """Expected counts ``(K,)`` per row (``(B, K)`` with ``per_case``) and cases observing it.

    ``logz`` is every case's ``log P(e, label)``; impossible cases add nothing.
    """
    net = engine.net
    B = len(evidences)
    idxs = [engine.validate(e) for e in evidences]
    # a node no case observes: its rows stay put, so its posteriors are not needed
    nodes = [n for n in dict.fromkeys(r.node for r in rows) if any(n in idx for idx in idxs)]
    ok = np.isfinite(logz)
    joint = {}  # node -> (B, Kp, Kn): posterior of (parent, node); Kp = 1 for a root
    for n in nodes:
        par = net.parents[n]
        joint[n] = np.zeros((B, net.card(par[0]) if par else 1, net.card(n)))
        for b, idx in enumerate(idxs):
            if ok[b] and n in idx and (not par or par[0] in idx):
                joint[n][b, idx[par[0]] if par else 0, idx[n]] = 1.0
    needs = [_needs(net, nodes, idx) if ok[b] else frozenset() for b, idx in enumerate(idxs)]
    for union, members in _packs(needs, PACK):
        DT, mods = _draw_tables(net, T, union)
        with np.errstate(divide="ignore"):
            lz = engine.posterior_batch([evidences[b] for b in members], DT,
                                        labels=[labels[b] for b in members]).log_evidence
        for n in union:
            ds = [d for d, m in enumerate(mods, start=1) if m[0] == n]
            w = lz[ds]  # (draws of n, members): log P(e, p = a, x = s)
            w = np.exp(w - logsumexp(w, axis=0, keepdims=True))
            kp, kn = joint[n].shape[1:]
            for m, b in enumerate(members):
                if n in needs[b]:
                    joint[n][b] = w[:, m].reshape(kp, kn)
    counts, informed = [], np.zeros(len(rows), dtype=int)
    for j, r in enumerate(rows):
        if r.node not in joint:
            counts.append(np.zeros((B, len(r.params)) if per_case else len(r.params)))
            continue
        cell = joint[r.node][:, max(r.a, 0), :]
        seen = np.array([r.node in idx and (r.parent is None or idx.get(r.parent, r.a) == r.a)
                         for idx in idxs], dtype=bool) & ok
        informed[j] = int(seen.sum())
        counts.append(cell.copy() if per_case else cell.sum(axis=0))
    return counts, informed
