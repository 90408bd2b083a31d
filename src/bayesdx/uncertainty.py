"""Credible intervals from the uncertainty of the priors.

Every number in ``priors/`` has a plausible range. Each probability is drawn
from a Beta distribution whose mean is the value and whose central 90 % spans
(about) the range; each relative risk from a log-normal with median at the
value (a normal truncated at 0 when the range starts at 0). A fixed number
(``low == high``) is not drawn. Draws are deterministic given the seed.

Examples
--------
>>> from bayesdx.network import Network
>>> net = Network.from_knowledge()
>>> th = sample_parameters(net, 4, seed=1)
>>> th.shape == (4, net.n_params)
True
>>> bool((sample_parameters(net, 4, seed=1) == th).all())
True
"""

from __future__ import annotations

import numpy as np

from .network import Network

__all__ = ["DEFAULT_DRAWS", "Z90", "credible_intervals", "sample_parameters"]

DEFAULT_DRAWS = 1000
Z90 = 1.6448536269514722  # half-width of a central 90 % interval in standard deviations


def sample_parameters(net: Network, draws: int, seed: int = 0) -> np.ndarray:
    """Draw ``draws`` parameter vectors, shape ``(draws, n_params)``."""
    rng = np.random.default_rng(seed)
    value = net.theta0
    lo, hi = net.bounds
    kinds = np.array([p.kind for p in net.params])
    out = np.broadcast_to(value, (draws, value.size)).copy()
    fixed = (hi - lo) <= 0

    prob = (kinds == "prob") & ~fixed & (value > 0) & (value < 1)
    if prob.any():
        m = value[prob]
        sd = (hi[prob] - lo[prob]) / (2 * Z90)
        var = np.minimum(sd**2, m * (1 - m) * 0.95)
        k = m * (1 - m) / var - 1
        a, b = m * k, (1 - m) * k
        out[:, prob] = rng.beta(a, b, size=(draws, prob.sum()))
    edge = (kinds == "prob") & ~fixed & ~prob  # value 0 or 1 with a range: uniform in the range
    if edge.any():
        out[:, edge] = rng.uniform(lo[edge], hi[edge], size=(draws, edge.sum()))

    rr = (kinds == "rr") & ~fixed
    logn = rr & (lo > 0) & (value > 0)
    if logn.any():
        sig = (np.log(hi[logn]) - np.log(lo[logn])) / (2 * Z90)
        out[:, logn] = value[logn] * np.exp(rng.normal(0, 1, size=(draws, logn.sum())) * sig)
    trunc = rr & ~logn
    if trunc.any():
        sig = (hi[trunc] - lo[trunc]) / (2 * Z90)
        out[:, trunc] = np.clip(value[trunc] + rng.normal(0, 1, size=(draws, trunc.sum())) * sig,
                                0.0, None)
    return out


def credible_intervals(engine, evidence: dict[str, str], *, draws: int = DEFAULT_DRAWS,
                       seed: int = 0, level: float = 0.90) -> np.ndarray:
    """``(C, 2)`` central credible interval of every cause's posterior.

    The interval reflects the uncertainty of the knowledge (the ranges in
    ``priors/``), not sampling error: the posterior is exact for every draw.
    """
    net = engine.net
    theta = sample_parameters(net, draws, seed)
    tables = net.tables(theta)
    probs = engine.posterior_batch([evidence], tables=tables).probs[:, 0, :]
    q = (1 - level) / 2
    return np.nanquantile(probs, [q, 1 - q], axis=0).T
