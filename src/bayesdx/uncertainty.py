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
from dataclasses import dataclass

import numpy as np

from .knowledge.network import Network, Tables

__all__ = ["CHUNK_CELLS", "DEFAULT_DRAWS", "MIN_DRAWS", "STAGES", "TOLERANCE", "Z90", "Intervals",
           "credible_intervals", "draw_tables", "interval_estimate", "interval_stages", "sample_parameters"]

DEFAULT_DRAWS = 1000
"""Most parameter draws an interval takes (fewer once its ends are precise enough:
:data:`TOLERANCE`)."""

TOLERANCE = 0.02
"""Default Monte-Carlo error target of the interval ends, in probability units (2
percentage points). Draws are added in :data:`STAGES` until every end of every cause's
interval has a Monte-Carlo standard error of at most this much (or all the draws are
used). Measured on the 106 validation work-ups (2026-12-06): the median work-up stops at
500 of 1,000 draws, and the largest difference between its ends and the 1,000-draw ends
is 0.04 (median 0.006). ``0`` always uses every draw."""

STAGES = (0.125, 0.25, 0.375, 0.5, 0.75, 1.0)
"""Fractions of the requested draws at which the interval's Monte-Carlo error is checked."""
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
"""(The chunks apply to the numpy path, ``Engine(kernel="numpy")``; the compiled kernel
runs all draws in one call, one draw's frontier at a time.)"""

MIN_DRAWS = 40
"""Fewest draws worth an interval: with fewer, the 5th and 95th percentiles are the
extreme draws. When the time budget allows fewer, no interval is given (and a note says why)."""

_TABLES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # net -> {(draws, seed): Tables}
_TABLES_LOCK = threading.Lock()
_BUILD_LOCK = threading.Lock()  # one build of a (draws, seed) table set at a time
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
    with _BUILD_LOCK:  # threads that miss at once build once (and share its derived arrays)
        with _TABLES_LOCK:
            tables = kept.get(key)
        if tables is None:
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


@dataclass(frozen=True)
class Intervals:
    """Credible intervals with what they rest on.

    Attributes
    ----------
    bounds : numpy.ndarray or None
        ``(C, 2)`` interval of every cause; ``None`` when the budget allowed too few draws.
    draws, requested : int
        Draws used and the most asked for (fewer once the ends are within
        ``tolerance``, or when the time budget is short).
    mc_error : float or None
        Monte-Carlo standard error of the interval ends (largest over causes and
        ends, in probability units): half the spread between the order statistics
        one binomial standard deviation either side of each percentile's rank.
    note : str or None
        Why draws were cut or no interval was given.
    tolerance : float
        The error target the draws were added until (0: every draw).
    final : bool
        ``False`` for a stage on the way (:func:`interval_stages`): more draws follow.
    """

    bounds: np.ndarray | None
    draws: int
    requested: int
    mc_error: float | None
    note: str | None = None
    tolerance: float = 0.0
    final: bool = True


def _end_errors(sorted_probs: np.ndarray, qs) -> np.ndarray:
    """``(len(qs), C)`` distribution-free standard errors of the empirical quantiles ``qs``
    of every cause: half the spread of the order statistics one binomial standard
    deviation either side of the quantile's rank."""
    n = sorted_probs.shape[0]
    err = []
    for q in qs:
        half = np.sqrt(n * q * (1 - q))
        lo = int(np.clip(np.floor(n * q - half), 0, n - 1))
        hi = int(np.clip(np.ceil(n * q + half), 0, n - 1))
        err.append((sorted_probs[hi] - sorted_probs[lo]) / 2)
    return np.stack(err)


def _mc_error(sorted_probs: np.ndarray, qs) -> float:
    """:func:`_end_errors`, largest over causes and quantiles (0 when none is finite; see
    :class:`Intervals`)."""
    err = _end_errors(sorted_probs, qs)
    return float(np.nanmax(err)) if np.isfinite(err).any() else 0.0


def _stages(draws: int, cap: int) -> list[int]:
    """Draw counts at which the error is checked: :data:`STAGES` of ``draws``, at least
    :data:`MIN_DRAWS`, at most ``cap``.

    >>> _stages(1000, 1000)
    [125, 250, 375, 500, 750, 1000]
    >>> _stages(1000, 600)
    [125, 250, 375, 500, 600]
    >>> _stages(100, 100)
    [40, 50, 75, 100]
    """
    out: list[int] = []
    for f in STAGES:
        n = min(cap, max(min(MIN_DRAWS, draws), int(round(draws * f))))
        if not out or n > out[-1]:
            out.append(n)
    return out


def interval_estimate(engine, evidence: dict[str, str], *, draws: int = DEFAULT_DRAWS,
                      seed: int = 0, level: float = 0.90, budget=None,
                      tolerance: float = TOLERANCE) -> Intervals:
    """Credible intervals to a stated Monte-Carlo error, within the engine's time budget.

    The seed's draws are taken in order, in :data:`STAGES`, until the Monte-Carlo
    standard error of every interval end is at most ``tolerance`` (``0``: all
    ``draws``); each stage computes only its new draws, on the posterior's plan.
    The cost of one draw is estimated from the plan before anything runs
    (:meth:`~bayesdx.inference.engine.Engine.estimate`): no more draws are taken
    than ``budget.seconds`` allows. The result depends only on the evidence,
    ``draws``, ``seed`` and ``tolerance``, never on timing. It is the last of
    :func:`interval_stages` (which also shows the stages on the way).
    """
    for iv in interval_stages(engine, evidence, draws=draws, seed=seed, level=level, budget=budget,
                              tolerance=tolerance, partial=False):
        pass
    return iv


def interval_stages(engine, evidence: dict[str, str], *, draws: int = DEFAULT_DRAWS,
                    seed: int = 0, level: float = 0.90, budget=None,
                    tolerance: float = TOLERANCE, partial: bool = True):
    """The stages of :func:`interval_estimate`, as they are computed (a generator).

    Yields an :class:`Intervals` after each stage of draws that is not the last
    (``final=False``: the intervals of the draws so far, with their Monte-Carlo
    error), then the final one, which is exactly :func:`interval_estimate`'s
    (the same draws of the same seed, in the same order; ``partial=False``
    yields only it). For showing intervals at once and refining them in place.

    Examples
    --------
    >>> from bayesdx.knowledge.network import Network
    >>> from bayesdx.inference.engine import Engine
    >>> eng = Engine(Network.from_knowledge())
    >>> ev = {"anc": "severe", "exposure_antipsychotic": "clozapine_window"}
    >>> stages = list(interval_stages(eng, ev, draws=200, seed=3, tolerance=0))
    >>> [(s.draws, s.final) for s in stages]
    [(40, False), (50, False), (75, False), (100, False), (150, False), (200, True)]
    >>> bool((stages[-1].bounds == interval_estimate(eng, ev, draws=200, seed=3, tolerance=0).bounds).all())
    True
    """
    budget = budget or engine.budget
    per_draw = engine.estimate(evidence, 1).seconds
    cap = draws if per_draw * draws <= budget.seconds else int(budget.seconds // max(per_draw, 1e-12))
    cap = min(draws, cap)
    if cap < min(MIN_DRAWS, draws):
        note = (f"no interval: one parameter draw costs ~{per_draw:.2g} s here and the budget "
                f"is {budget.seconds:g} s (at least {MIN_DRAWS} draws are needed)")
        yield Intervals(None, 0, draws, None, note, tolerance)
        return
    tables = draw_tables(engine.net, draws, seed)
    q = (1 - level) / 2
    stages = _stages(draws, cap)
    parts, done, err = [], 0, None
    for n in stages:
        parts.append(_draw_posteriors(engine, evidence, tables.draw_slice(done, n)))
        done = n
        probs = np.concatenate(parts)  # contiguous (quantiles of a strided view can differ in the last bit)
        err = _mc_error(np.sort(probs, axis=0), (q, 1 - q))
        if err <= tolerance or n == stages[-1]:
            break
        if partial:
            yield Intervals(np.nanquantile(probs, [q, 1 - q], axis=0).T, done, draws, err,
                            f"{done} draws so far; more follow until every end's Monte-Carlo error "
                            f"is within {tolerance:g}", tolerance, final=False)
    bounds = np.nanquantile(probs, [q, 1 - q], axis=0).T
    if done == draws:
        note = None
    elif done == cap and err > tolerance:
        note = (f"{done} of {draws} draws (time budget {budget.seconds:g} s); "
                f"Monte-Carlo error of the ends ~{err:.3f}")
    else:
        note = (f"{done} of up to {draws} draws: every end's Monte-Carlo error is within "
                f"{tolerance:g}")
    yield Intervals(bounds, done, draws, err, note, tolerance)


def _draw_posteriors(engine, evidence, tables: Tables) -> np.ndarray:
    """``(n, C)`` exact posteriors under each of the ``n`` draws of ``tables``."""
    net = engine.net
    n = tables.draws
    # the compiled kernel keeps one draw's frontier at a time: one call (its draws can be
    # split between threads); the numpy path holds every draw's frontier at once: chunks
    # (run as a single query, so that every stage takes the same kernel)
    chunk = n if engine._use_kernel(n, False) else _chunk(net, evidence, n)
    bounds = _bounds(n, chunk)
    idx = [engine.validate(evidence)]
    if len(bounds) == 2:
        return engine._run(idx, tables)[0][:, 0, :]
    probs = np.empty((n, len(engine.causes)))
    for start, stop in zip(bounds, bounds[1:]):
        probs[start:stop] = engine._run(idx, tables.draw_slice(start, stop))[0][:, 0, :]
    return probs


def credible_intervals(engine, evidence: dict[str, str], *, draws: int = DEFAULT_DRAWS,
                       seed: int = 0, level: float = 0.90,
                       tolerance: float = TOLERANCE) -> np.ndarray:
    """``(C, 2)`` central credible interval of every cause's posterior.

    The interval reflects the uncertainty of the knowledge (the ranges in
    ``priors/``), not sampling error: the posterior is exact for every draw.
    The draws' tables are shared by calls with the same ``draws`` and
    ``seed`` (:func:`draw_tables`); evidence with many abnormal findings runs
    the draws in chunks (:data:`CHUNK_CELLS`), with the same result. Within
    the engine's time budget (:func:`interval_estimate`): NaN when not even
    :data:`MIN_DRAWS` draws fit. Draws are added until the ends are within
    ``tolerance`` (:data:`TOLERANCE`; ``0``: all ``draws``).
    """
    iv = interval_estimate(engine, evidence, draws=draws, seed=seed, level=level,
                           tolerance=tolerance)
    return iv.bounds if iv.bounds is not None else np.full((len(engine.causes), 2), np.nan)
