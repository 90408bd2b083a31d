"""EM for the causes' relative risks: expected counts per context cell, lognormal MAP.

A cause ``c`` with context parents ``x = (x_1, ...)`` has the risk
``q(x) = min(cap, base * prod_i rr_i(x_i))`` in each cell, with ``base``
solved so that the population average ``sum_x w(x) q(x)`` (``w``: product of
the parents' marginals) equals ``causes.<c>.prior``
(:func:`~bayesdx.knowledge.baselines.solve_base`; a cause that states a
``base`` instead keeps it).

**What is held fixed and what moves.** The M-step moves the free relative
risks (range of positive width, value > 0; a zero is a gate and stays) and
holds the cause's ``prior`` (as fitted in the same iteration) and the context
marginals (as fitted in the same iteration); ``base`` follows from them. So
the fit changes how a cause's risk is *spread* over the context cells, never
its population share.

**Prior.** ``log rr ~ Normal(log value, sigma)``, so with no data the MAP (on
the log scale) is the value; ``sigma`` makes the central 90 % interval the
range (``(log high - log low) / 3.29``), or, when the range starts at 0, puts
``high`` at the upper 95 % point (``log(high / value) / 1.645``).

**E-step.** The complete-data log-likelihood of the risks is ``sum_x N1(x)
log q(x) + N0(x) log(1 - q(x))`` with ``N1(x) = sum_b P(c present, x | e_b,
label_b)``. The fit uses the cases that observe **all** of the cause's
context parents: their ``P(c present | e_b, label_b)`` is the engine's exact
posterior, counted in the case's observed cell. Cases with an unobserved
parent are left out of this count (a complete-case approximation: it loses
their information and assumes the parents are missing at random; the other
numbers still use those cases in full).

**M-step.** The MAP over the log relative risks by L-BFGS-B (exact objective;
``base`` re-solved at every evaluation). The 90 % credible range is the
Laplace interval on the log scale from the observed-data information of the
cause's risks alone (Fisher's identity, as in :mod:`bayesdx.evaluation.fit_ranges`;
not coupled with the other numbers).

Examples
--------
>>> mu, sigma = lognormal_prior(2.0, 1.0, 4.0)
>>> round(float(np.exp(mu)), 6), round(float(sigma), 4)
(2.0, 0.4214)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.optimize import minimize

from ..knowledge.baselines import solve_base
from ..knowledge.network import Network

__all__ = ["RRCause", "lognormal_prior", "rr_causes", "rr_cells", "rr_logprior", "rr_map", "rr_ranges",
           "rr_report", "rr_setup", "rr_step"]

Z95 = stats.norm.ppf(0.95)


@dataclass(frozen=True)
class RRCause:
    """A cause with free relative risks: its parents, each parent's rr indices (per state),
    the free ones (flat, in parent-then-state order), its prior (or base) index, its cap."""

    cause: str
    parents: tuple[str, ...]
    params: tuple[tuple[int, ...], ...]
    free: tuple[int, ...]
    prior: int
    base: bool
    cap: float


def lognormal_prior(value: float, low: float, high: float) -> tuple[float, float]:
    """``(mu, sigma)`` of ``log rr``: ``mu = log value``, the range as the 90 % interval."""
    if low > 0:
        sigma = (np.log(high) - np.log(low)) / (2 * Z95)
    else:
        sigma = np.log(high / value) / Z95
    return float(np.log(value)), float(max(sigma, 1e-3))


def rr_causes(net: Network) -> list[RRCause]:
    """Every cause with at least one free relative risk, in model order."""
    out = []
    for c in net.causes:
        par = net.parents[c]
        if not par:
            continue
        params = tuple(tuple(net.param_index(f"causes.{c}.rr.{p}.{s}") for s in net.states[p])
                       for p in par)
        free = tuple(i for row in params for i in row
                     if net.params[i].high > net.params[i].low and net.params[i].value > 0)
        if free:
            has_prior = f"causes.{c}.prior" in net._index
            idx = net.param_index(f"causes.{c}.{'prior' if has_prior else 'base'}")
            out.append(RRCause(c, par, params, free, idx, not has_prior,
                               float(net.kb.cause_cpts[c].cap)))
    return out


def _risk(rc: RRCause, theta: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``q(x)`` over the flattened cells (C order over the parents' states)."""
    rr = np.ones(())
    for row in rc.params:
        rr = np.multiply.outer(rr, theta[list(row)])
    rr = rr.reshape(1, -1)
    if rc.base:
        base = theta[rc.prior]
    else:
        base = solve_base(np.array([theta[rc.prior]]), rr, weight.reshape(1, -1), rc.cap)[0][0]
    return np.minimum(rc.cap, base * rr[0])


def rr_cells(net: Network, rc: RRCause, idxs) -> np.ndarray:
    """Each case's flattened cell (-1 when a parent is unobserved)."""
    cards = [net.card(p) for p in rc.parents]
    out = np.full(len(idxs), -1)
    for b, idx in enumerate(idxs):
        if all(p in idx for p in rc.parents):
            out[b] = int(np.ravel_multi_index([idx[p] for p in rc.parents], cards))
    return out


def _weight(rc: RRCause, marg: dict) -> np.ndarray:
    w = np.ones(())
    for p in rc.parents:
        w = np.multiply.outer(w, marg[p][0])
    return w.ravel()


def _objective(rc, theta, weight, n1, n0, priors):
    def f(u):
        th = theta.copy()
        th[list(rc.free)] = np.exp(u)
        q = np.clip(_risk(rc, th, weight), 1e-300, 1 - 1e-15)
        ll = (n1 * np.log(q)).sum() + (n0 * np.log1p(-q)).sum()
        lp = -0.5 * sum(((x - m) / s) ** 2 for x, (m, s) in zip(u, priors))
        return -(ll + lp)
    return f


def rr_map(rc: RRCause, theta: np.ndarray, marg: dict, cells: np.ndarray, p: np.ndarray,
           priors) -> np.ndarray:
    """MAP of the free relative risks ``(len(free),)`` given each case's cell and posterior."""
    weight = _weight(rc, marg)
    use = cells >= 0
    n1 = np.bincount(cells[use], weights=p[use], minlength=weight.size)
    n0 = np.bincount(cells[use], weights=1 - p[use], minlength=weight.size)
    u0 = np.log(np.maximum(theta[list(rc.free)], 1e-12))
    if not use.any():
        return np.exp(u0)
    res = minimize(_objective(rc, theta, weight, n1, n0, priors), u0, method="L-BFGS-B",
                   bounds=[(m - 8 * s, m + 8 * s) for m, s in priors],
                   options={"ftol": 1e-13, "gtol": 1e-9})
    return np.exp(res.x)


def rr_ranges(rc: RRCause, theta: np.ndarray, marg: dict, cells: np.ndarray, p: np.ndarray,
              priors) -> list[tuple[float, float]]:
    """90 % range of each free rr: Laplace on ``log rr`` from the cases' scores at ``theta``."""
    weight = _weight(rc, marg)
    u = np.log(np.maximum(theta[list(rc.free)], 1e-12))
    h = 1e-5
    dq = []
    for k in range(len(u)):
        hi, lo = theta.copy(), theta.copy()
        hi[rc.free[k]] = np.exp(u[k] + h)
        lo[rc.free[k]] = np.exp(u[k] - h)
        dq.append((_risk(rc, hi, weight) - _risk(rc, lo, weight)) / (2 * h))
    dq = np.stack(dq, axis=1)  # (cells, K)
    q = np.clip(_risk(rc, theta, weight), 1e-12, 1 - 1e-12)
    use = cells >= 0
    c, pb = cells[use], p[use]
    S = ((pb / q[c] - (1 - pb) / (1 - q[c]))[:, None] * dq[c])
    H = S.T @ S + np.diag([1 / s ** 2 for _, s in priors])
    sd = np.sqrt(np.diag(np.linalg.pinv(H)))
    return [(float(np.exp(x - Z95 * s)), float(np.exp(x + Z95 * s))) for x, s in zip(u, sd)]


def rr_setup(engine, rcs, evidences):
    """Per cause: ``(RRCause, each case's cell, the lognormal priors, its posterior column)``."""
    net = engine.net
    idxs = [engine.validate(e) for e in evidences]
    return [(rc, rr_cells(net, rc, idxs),
             [lognormal_prior(net.params[i].value, net.params[i].low, net.params[i].high)
              for i in rc.free], engine.causes.index(rc.cause)) for rc in rcs]


def _usable(cells, p):
    ok = np.isfinite(p)
    return np.where(ok, cells, -1), np.nan_to_num(p)


def rr_step(net: Network, setup, new: np.ndarray, probs: np.ndarray) -> None:
    """M-step of every cause's free relative risks, in place, at the other new numbers."""
    if not setup:
        return
    marg = net._context_marginals(net.tables(new).context_cpt)
    for rc, cells, priors, col in setup:
        c, p = _usable(cells, probs[:, col])
        new[list(rc.free)] = rr_map(rc, new, marg, c, p, priors)


def rr_logprior(theta: np.ndarray, setup) -> float:
    """Log density (+ const) of the free relative risks' log under their normal priors."""
    return float(sum(-0.5 * ((np.log(max(theta[i], 1e-300)) - m) / s) ** 2
                     for rc, _, priors, _ in setup for i, (m, s) in zip(rc.free, priors)))


def rr_report(net: Network, setup, theta: np.ndarray, probs: np.ndarray | None):
    """Per free rr: ``(index, (low, high), n cases used, expected present, surprise)``."""
    out = []
    marg = net._context_marginals(net.tables(theta).context_cpt)
    for rc, cells, priors, col in setup:
        if probs is None:
            rng = [(float(np.exp(m - Z95 * s)), float(np.exp(m + Z95 * s))) for m, s in priors]
            n, e = 0, 0.0
        else:
            c, p = _usable(cells, probs[:, col])
            rng = rr_ranges(rc, theta, marg, c, p, priors)
            n, e = int((c >= 0).sum()), float(p[c >= 0].sum())
        for i, (m, s), r in zip(rc.free, priors, rng):
            z = (np.log(max(theta[i], 1e-300)) - m) / s
            tail = max(2 * stats.norm.sf(abs(z)), 1e-300)
            out.append((i, r, n, e, float(-np.log10(tail))))
    return out
