"""Credible intervals from the uncertainty of the priors.

Every number in ``priors/`` has a plausible range. Each probability is drawn
from a Beta distribution whose mean is the value and whose central 90 % spans
(about) the range; each relative risk from a log-normal with median at the
value (a normal truncated at 0 when the range starts at 0). A fixed number
(``low == high``) is not drawn. Draws are deterministic given the seed.

Examples
--------
>>> from bayesdx.knowledge.network import Network
>>> net = Network.from_knowledge()
>>> th = sample_parameters(net, 4, seed=1)
>>> th.shape == (4, net.n_params)
True
>>> bool((sample_parameters(net, 4, seed=1) == th).all())
True
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict

import numpy as np

from .knowledge.network import Network, Tables

__all__ = ["CHUNK_CELLS", "DEFAULT_DRAWS", "Z90", "credible_intervals", "draw_tables",
           "sample_parameters"]

DEFAULT_DRAWS = 1000
Z90 = 1.6448536269514722  # half-width of a central 90 % interval in standard deviations

CHUNK_CELLS = 2 ** 18
"""Draws per engine call times ``2 ** (abnormal findings)`` stays within this
(but at least :data:`MIN_CHUNK` draws per call).

Each abnormal finding doubles the engine's frontier (an accumulator), and the
engine holds the frontier of every draw of a call at once: for the vignettes
with 11 to 13 abnormal findings, 1,000 draws in one call take about 2 GB and
up to twice as long as the same draws in chunks. Every draw's posterior is
exact and computed independently of the others, so chunking does not change
the result (the tests compare chunked and whole runs bit for bit)."""

MIN_CHUNK = 8

_TABLES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # net -> {(draws, seed): Tables}
_TABLES_LOCK = threading.Lock()
_TABLES_KEPT = 2  # (draws, seed) pairs kept per network: 30-70 MB each for 1,000 draws


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


def draw_tables(net: Network, draws: int, seed: int = 0) -> Tables:
    """``net.tables(sample_parameters(net, draws, seed))``, cached per network.

    The draws depend only on the network, ``draws`` and ``seed``, so every
    credible interval with the same seed shares them (and the engine's caches
    on them); the last two ``(draws, seed)`` pairs of each network are kept.
    Treat the result as read-only.
    """
    key = (int(draws), int(seed))
    with _TABLES_LOCK:
        kept = _TABLES.setdefault(net, OrderedDict())
        tables = kept.get(key)
        if tables is not None:
            kept.move_to_end(key)
            return tables
    tables = net.tables(sample_parameters(net, draws, seed))
    with _TABLES_LOCK:
        kept[key] = tables
        while len(kept) > _TABLES_KEPT:
            kept.popitem(last=False)
    return tables


def _chunk(net: Network, evidence: dict[str, str], draws: int) -> int:
    """Largest number of draws per engine call for this evidence (see :data:`CHUNK_CELLS`)."""
    findings = set(net.findings)
    abnormal = sum(1 for f, s in evidence.items()
                   if f in findings and s in net.states[f] and s != net.states[f][0])
    return max(MIN_CHUNK, min(draws, CHUNK_CELLS >> min(abnormal, 30)))


def _bounds(draws: int, chunk: int) -> list[int]:
    """Split ``range(draws)`` into chunks of at most ``chunk`` draws, sizes within one.

    >>> _bounds(1000, 300)
    [0, 250, 500, 750, 1000]
    """
    n = -(-draws // chunk) if draws else 1
    return [(i * draws) // n for i in range(n + 1)]


def credible_intervals(engine, evidence: dict[str, str], *, draws: int = DEFAULT_DRAWS,
                       seed: int = 0, level: float = 0.90) -> np.ndarray:
    """``(C, 2)`` central credible interval of every cause's posterior.

    The interval reflects the uncertainty of the knowledge (the ranges in
    ``priors/``), not sampling error: the posterior is exact for every draw.
    The draws' tables are shared by calls with the same ``draws`` and
    ``seed`` (:func:`draw_tables`); evidence with many abnormal findings runs
    the draws in chunks (:data:`CHUNK_CELLS`), with the same result.
    """
    net = engine.net
    tables = draw_tables(net, draws, seed)
    bounds = _bounds(draws, _chunk(net, evidence, draws))
    if len(bounds) == 2:
        probs = engine.posterior_batch([evidence], tables=tables).probs[:, 0, :]
    else:
        probs = np.empty((draws, len(engine.causes)))
        for start, stop in zip(bounds, bounds[1:]):
            probs[start:stop] = engine.posterior_batch(
                [evidence], tables=tables.draw_slice(start, stop)).probs[:, 0, :]
    q = (1 - level) / 2
    return np.nanquantile(probs, [q, 1 - q], axis=0).T
