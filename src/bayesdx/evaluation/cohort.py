"""Synthetic cohort check: sample patients from the model, score them, measure calibration.

A correct exact engine, scoring patients drawn from its own model, is
calibrated: among all (patient, cause) forecasts near ``p`` a fraction ``p``
of the causes is present. :func:`check_cohort` tests exactly that, so it
guards the engine against inference bugs:

1. **forward sampling** (:func:`sample_cohort`): context (parents first) →
   causes (``P(cause | context)``) → findings, each a leaky noisy-MAX drawn as
   the maximum of the leak's draw and one effect draw per parent in its
   sampled state (an absent cause has no effect);
2. **observation** (:func:`observe`): the causes are hidden; every context
   node is observed with probability ``p_context`` (default all), the blood
   count (groups ``cbc`` and ``course``) always, and every other finding with
   probability ``p_other``;
3. **scoring** with :meth:`~bayesdx.inference.engine.Engine.posterior_batch` (cases
   grouped by evidence pattern) and a reliability table with its expected
   calibration error (:func:`~bayesdx.evaluation.vignettes.calibration`).

Pooled over every (patient, cause) the reliability table is dominated by the
many forecasts near zero, so the ECE is a coarse guard. Sharper ones:

* per cause, the sum of the posteriors must match the number of patients who
  have it (``z`` about standard normal: outcomes are independent Bernoulli
  draws given the evidence);
* the **calibration slope**, the slope of a logistic regression of the
  outcome on ``logit(p)``, must be 1 (below 1: overconfident, above:
  underconfident);
* the Brier skill score against the priors shows that the posteriors are
  informative, which calibration alone does not (an engine that ignored
  evidence would still be calibrated).

Examples
--------
>>> from bayesdx.diagnosis import load_model
>>> res = check_cohort(load_model(), n=60, seed=1)
>>> res.n, len(res.calibration.bins)
(60, 10)
>>> res.calibration.ece < 0.1
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..errors import Problem, UsageError
from ..knowledge.network import Network, Tables
from .vignettes import Calibration, calibration

__all__ = ["ALWAYS_OBSERVED_GROUPS", "CauseCheck", "Cohort", "CohortCheck", "CohortError",
           "check_cohort", "observe", "recalibration_slope", "sample_cohort"]

ALWAYS_OBSERVED_GROUPS = ("cbc", "course")


class CohortError(UsageError):
    """A cohort setting cannot be used."""


@dataclass(frozen=True)
class Cohort:
    """Sampled patients: ``states[node]`` is the state index of every patient, ``(n,)``."""

    n: int
    states: Mapping[str, np.ndarray]

    def truth(self, causes) -> np.ndarray:
        """Presence (0/1) of every cause, ``(n, len(causes))``."""
        return np.stack([self.states[c] for c in causes], axis=-1).astype(float)


@dataclass(frozen=True)
class CauseCheck:
    """One cause: patients who have it vs the sum of its posteriors."""

    cause: str
    observed: int
    expected: float
    z: float


@dataclass(frozen=True)
class CohortCheck:
    """Result of :func:`check_cohort`.

    ``causes`` holds one :class:`CauseCheck` per cause, largest ``|z|`` first.
    """

    n: int
    seed: int
    calibration: Calibration
    causes: tuple[CauseCheck, ...]
    brier: float
    brier_prior: float
    impossible: int
    patterns: int
    mean_observed: float
    slope: float = float("nan")
    slope_se: float = float("nan")

    @property
    def skill(self) -> float:
        """Brier skill score against the priors: ``1 - brier / brier_prior``."""
        return 1.0 - self.brier / self.brier_prior

    @property
    def slope_z(self) -> float:
        """``(slope - 1) / se``: about standard normal when calibrated."""
        return (self.slope - 1.0) / self.slope_se

    @property
    def max_z(self) -> float:
        """Largest ``|z|`` over causes (0 when no cause has variance)."""
        return max((abs(c.z) for c in self.causes if np.isfinite(c.z)), default=0.0)

    def format(self) -> str:
        """The reliability table and the figures, as ``bayesdx calibrate`` prints them."""
        cal = self.calibration
        out = [(f"synthetic cohort: {self.n} patients (seed {self.seed}), "
                f"{self.mean_observed:.1f} observed nodes each, {self.patterns} evidence "
                f"patterns, {self.impossible} impossible"),
               f"  {'bin':<9}{'forecasts':>10}{'predicted':>11}{'observed':>10}{'z':>7}"]
        out += [f"  {b.lo:.1f}-{b.hi:.1f}  {b.n:>10}{b.predicted:>11.4f}{b.observed:>10.4f}"
                f"{b.z:>7.2f}" for b in cal.bins if b.n]
        out.append(f"ECE {cal.ece:.4f} over {cal.n} forecasts (patient x cause); largest bin "
                   f"gap {cal.mce:.4f}")
        out.append(f"calibration slope {self.slope:.3f} ± {self.slope_se:.3f} (1 when "
                   f"calibrated; z {self.slope_z:+.2f})")
        out.append(f"Brier {self.brier:.5f} (priors alone {self.brier_prior:.5f}; skill "
                   f"{self.skill:.3f})")
        worst = ", ".join(f"{c.cause} z={c.z:+.2f} ({c.observed} vs {c.expected:.1f})"
                          for c in self.causes[:3])
        out.append(f"per cause, observed vs sum of posteriors: largest |z| {self.max_z:.2f}: "
                   f"{worst}")
        return "\n".join(out)


def _categorical(probs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One draw per row of ``probs`` ``(n, S)`` by inverse CDF."""
    u = rng.random(probs.shape[:-1] + (1,))
    return np.minimum((u > np.cumsum(probs, axis=-1)).sum(axis=-1), probs.shape[-1] - 1)


def recalibration_slope(p: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Slope and its standard error of ``logit P(y) = a + b logit(p)`` (Newton's method).

    ``p`` is clipped to ``[1e-5, 1 - 1e-5]`` so that a few forecasts of exactly
    0 or 1 cannot dominate the fit; NaN when Newton's method does not converge.

    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(0.01, 0.99, 20000)
    >>> b, se = recalibration_slope(p, (rng.random(20000) < p).astype(float))
    >>> abs(b - 1) < 4 * se
    True
    """
    q = np.clip(np.asarray(p, dtype=float).ravel(), 1e-5, 1 - 1e-5)  # bound the leverage
    y = np.asarray(y, dtype=float).ravel()
    X = np.stack([np.ones_like(q), np.log(q / (1 - q))], axis=1)
    beta = np.array([0.0, 1.0])
    for _ in range(50):
        m = 1.0 / (1.0 + np.exp(-np.clip(X @ beta, -40, 40)))
        hess = X.T @ (X * (m * (1 - m))[:, None])
        try:
            cov = np.linalg.inv(hess)
        except np.linalg.LinAlgError:
            return float("nan"), float("nan")
        step = cov @ (X.T @ (y - m))
        beta = beta + step
        if np.abs(step).max() < 1e-10:
            return float(beta[1]), float(np.sqrt(cov[1, 1]))
    return float("nan"), float("nan")


def _context_order(net: Network) -> list[str]:
    order: list[str] = []

    def visit(x: str) -> None:
        if x not in order:
            for p in net.parents[x]:
                visit(p)
            order.append(x)

    for x in net.context:
        visit(x)
    return order


def sample_cohort(net: Network, n: int, seed: int = 0, tables: Tables | None = None) -> Cohort:
    """Draw ``n`` patients from the model by forward sampling (point estimate of the numbers).

    >>> from bayesdx.knowledge.network import Network
    >>> c = sample_cohort(Network.from_knowledge(), 5, seed=0)
    >>> c.states["anc"].shape
    (5,)
    """
    if n < 1:
        raise CohortError(Problem("calibrate", "--n", "must be a positive number of patients",
                                  str(n), "--n 2000"))
    T = tables or net.tables()
    rng = np.random.default_rng(seed)
    s: dict[str, np.ndarray] = {}
    for x in _context_order(net):
        cpt = T.context_cpt[x][0]
        par = net.parents[x]
        s[x] = _categorical(cpt[s[par[0]]] if par else np.broadcast_to(cpt, (n, cpt.size)), rng)
    for c in net.causes:
        p = T.cause_cpt[c][0][tuple(s[q] for q in net.parents[c])]
        s[c] = (rng.random(n) < p).astype(np.int64)
    for f in net.findings:
        if f in net.derived:  # a coarser reading of its source (sampled below, in model order)
            continue
        leak = T.finding_leak[f][0]
        state = _categorical(np.broadcast_to(leak, (n, leak.size)), rng)
        for q in net.parents[f]:
            state = np.maximum(state, _categorical(T.link(f, q)[0][s[q]], rng))
        s[f] = state
    for f, (src, runs) in net.derived.items():
        s[f] = np.repeat(np.arange(len(runs)), [len(r) for r in runs])[s[src]]
    return Cohort(n, s)


def observe(net: Network, cohort: Cohort, seed: int = 0, *, p_context: float = 1.0,
            p_other: float = 0.25) -> list[dict[str, str]]:
    """Evidence of every patient: causes hidden, a realistic subset of the rest observed."""
    for name, val in (("p_context", p_context), ("p_other", p_other)):
        if not 0.0 <= val <= 1.0:
            raise CohortError(Problem("calibrate", name, "must be a probability in [0, 1]",
                                      str(val), "0.25"))
    rng = np.random.default_rng([seed, 1])
    groups = {f: net.kb.findings[f].group for f in net.findings}
    nodes = [*net.context, *(f for f in net.findings if f not in net.derived)]  # a level, not its verdict
    always = np.array([groups.get(x) in ALWAYS_OBSERVED_GROUPS for x in nodes])
    rate = np.array([p_context if x in net.kb.context else p_other for x in nodes])
    seen = always[None, :] | (rng.random((cohort.n, len(nodes))) < rate[None, :])
    names = [net.states[x] for x in nodes]
    cols = [cohort.states[x] for x in nodes]
    return [{x: names[j][cols[j][i]] for j, x in enumerate(nodes) if seen[i, j]}
            for i in range(cohort.n)]


def check_cohort(model, n: int = 2000, seed: int = 0, *, bins: int = 10, p_context: float = 1.0,
                 p_other: float = 0.25, tables: Tables | None = None,
                 progress: bool = False) -> CohortCheck:
    """Sample ``n`` patients from ``model``, score them with its engine, measure calibration.

    ``tables`` (optional) are the numbers the *engine* scores with; the
    patients are always drawn from the model's point estimate. Passing other
    tables simulates a wrong engine, which must show up as miscalibration.
    """
    from ..progress import progress_bar

    net, eng = model.net, model.engine
    cohort = sample_cohort(net, n, seed)
    evs = observe(net, cohort, seed, p_context=p_context, p_other=p_other)
    chunks = [evs[i:i + 250] for i in range(0, n, 250)]
    parts = [eng.posterior_batch(ch, tables).probs[0] for ch in
             (progress_bar(chunks, label="patients (x250)") if progress else chunks)]
    probs = np.concatenate(parts, axis=0)
    truth = cohort.truth(eng.causes)
    ok = np.isfinite(probs).all(axis=1)
    p, y = probs[ok], truth[ok]
    prior = np.broadcast_to(eng.priors, y.shape)
    slope, slope_se = recalibration_slope(p, y)
    var = (p * (1 - p)).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(var > 0, (y.sum(axis=0) - p.sum(axis=0)) / np.sqrt(var), np.nan)
    per_cause = sorted((CauseCheck(c, int(y[:, i].sum()), float(p[:, i].sum()), float(z[i]))
                        for i, c in enumerate(eng.causes)),
                       key=lambda c: -abs(c.z) if np.isfinite(c.z) else 0.0)
    patterns = len({(frozenset(e), frozenset(k for k, v in e.items()
                                             if k in net.kb.findings and v != net.states[k][0]))
                    for e in evs})
    return CohortCheck(
        n=n, seed=seed, calibration=calibration(p, y, bins), causes=tuple(per_cause),
        brier=float(np.mean((p - y) ** 2)), brier_prior=float(np.mean((prior - y) ** 2)),
        impossible=int((~ok).sum()), patterns=patterns,
        mean_observed=float(np.mean([len(e) for e in evs])), slope=slope, slope_se=slope_se)
