"""Fit the causes' priors and the findings' links and leaks to a labelled cohort: MAP-EM.

Each fitted number ``causes.<c>.prior`` (the cause's share of the population)
gets a Beta prior built from its entry in ``priors/``: the Beta whose **mode**
is the number's value and whose central 90 % interval is as wide as its range
(:func:`beta_prior`). With no data the MAP is therefore the value itself, so a
cohort of 0 cases changes nothing.

EM (:func:`fit_priors`):

* E-step: for every case the exact posterior of every cause given its
  evidence, with the label's causes clamped (present -> 1, absent -> 0) by the
  engine's labels (``Engine.posterior_batch(labels=...)``). The sum over cases is
  the expected number of patients with the cause.
* M-step: the Beta MAP ``(a - 1 + E) / (a + b - 2 + n)``.

The links and leaks of the noisy-MAX findings (every number with a range of
positive width) are fitted in the same EM: the E-step's engine call also
gives each case's expected mechanism counts, and each link/leak row gets its
MAP under its numbers' Beta priors (:mod:`bayesdx.evaluation.fit_mech`, where
the derivation is). The credible ranges come from the observed-data
information of all fitted numbers together (:mod:`bayesdx.evaluation.fit_ranges`).

The context tables (``context.<n>.prior.<s>``, ``context.<n>.given.<p>.<s>``)
are fitted in the same EM: each row gets a Dirichlet prior with its mode at
the values, an observed node counts directly, an unobserved one (or its
unobserved parent) by its exact posterior from the engine, one draw per
state, and each row gets its Dirichlet MAP (:mod:`bayesdx.evaluation.fit_context`,
where the construction and what is held fixed are written out). A row no
case observes stays as it is.

The prior of a cause with context parents is the marginal over the reference
population; the M-step treats the cohort as a sample of that population (its
context mix is not re-weighted). When a context table moves, every cause
keeps its ``prior`` and its relative risks; its ``base`` is re-solved against
the new context marginals (:func:`~bayesdx.knowledge.baselines.solve_base`),
so its risk in each context cell moves.

The relative risks (``causes.<c>.rr.<n>.<s>``) get a lognormal prior (median at
the value, the range as its 90 % interval) and their MAP from the expected
counts of the cause per context cell, holding the cause's ``prior`` and the
context marginals (both as fitted in the same iteration) and re-solving
``base`` (:mod:`bayesdx.evaluation.fit_rr`). Their counts come from the cases
that observe every context parent of the cause (a complete-case
approximation, named there). Numbers fixed by a zero-width range (a
reference relative risk of 1, a gate of 0) and the ``base`` of causes that
give one are not fitted; they stay as they are.

Examples
--------
>>> a, b = beta_prior(0.1, 0.05, 0.2)
>>> round(float((a - 1) / (a + b - 2)), 6)
0.1
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from ..knowledge.network import Network, Tables
from .fit_context import (context_counts, context_logprior, context_map, context_rows,
                          dirichlet_prior)
from .fit_mech import Row, mechanism_counts, row_map, rows_of
from .fit_ranges import beta_prior, information_ranges
from .fit_rr import rr_causes, rr_logprior, rr_report, rr_setup, rr_step

__all__ = ["CaseFailure", "FitResult", "FittedNumber", "LabelledCase", "beta_prior",
           "estep", "fit_priors", "log_likelihood"]

Z90 = 0.90


@dataclass(frozen=True)
class LabelledCase:
    """One case of the cohort: evidence plus the causes known present / absent."""

    id: str | None
    evidence: dict
    present: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()

    @classmethod
    def from_cohort(cls, causes, states, evidence, seen) -> list[LabelledCase]:
        """Labelled cases of a sampled cohort: cause ``j`` of case ``k`` labelled (present or
        absent, as sampled) where ``seen[k, j]``, unknown elsewhere.

        ``states`` maps each cause to its sampled 0/1 values (``Cohort.states``), and
        ``evidence`` is the observed evidence of each case (``observe``).
        """
        return [cls(str(k), ev,
                    present=tuple(c for j, c in enumerate(causes) if seen[k, j] and states[c][k]),
                    absent=tuple(c for j, c in enumerate(causes)
                                 if seen[k, j] and not states[c][k]))
                for k, ev in enumerate(evidence)]


@dataclass(frozen=True)
class CaseFailure:
    """A case left out of the fit, with why (``where`` names the file and row or case)."""

    where: str
    message: str


@dataclass(frozen=True)
class FittedNumber:
    """One fitted number: before, after, and its 90 % credible range."""

    path: str
    old: float
    old_low: float
    old_high: float
    new: float
    low: float
    high: float
    n: int
    expected: float
    surprise: float
    """-log10 of the prior's two-sided tail probability at the fitted value
    (how strongly the data contradict the number's range; 1.3 ~ p 0.05)."""

    @property
    def moved(self) -> float:
        """Change in log-odds (signed); for a relative risk, in log."""
        if ".rr." in self.path:
            return float(np.log(max(self.new, 1e-12)) - np.log(max(self.old, 1e-12)))
        old, new = np.clip([self.old, self.new], 1e-6, 1 - 1e-6)
        return float(np.log(new / (1 - new)) - np.log(old / (1 - old)))


@dataclass(frozen=True)
class FitResult:
    """The fit: new parameter vector, the fitted numbers, the trace, the held-out check."""

    theta: np.ndarray
    numbers: tuple[FittedNumber, ...]
    n_cases: int
    failures: tuple[CaseFailure, ...]
    iterations: int
    trace: tuple[float, ...]
    seconds_per_iteration: float
    heldout: tuple[int, float, float] | None = None
    """(cases, log-likelihood before, after) on the held-out split, per case."""

    def format(self, top: int = 10) -> str:
        """The report: largest moves, most contradicted numbers, held-out check."""
        lines = [f"fitted on {self.n_cases} cases ({len(self.failures)} left out); "
                 f"{self.iterations} EM iterations, {self.seconds_per_iteration:.2f} s each"]
        for f in self.failures:
            lines.append(f"  left out {f.where}: {f.message}")
        if self.heldout:
            k, before, after = self.heldout
            lines.append(f"held-out log-likelihood per case ({k} cases): {before:.4f} before, "
                         f"{after:.4f} after ({after - before:+.4f})")
        head = f"  {'number':<40} {'was':>8} {'range':>17} {'now':>8} {'90% credible':>17}"

        def row(x: FittedNumber) -> str:
            return (f"  {x.path:<40} {x.old:8.4f} {x.old_low:8.4f}-{x.old_high:<8.4f} "
                    f"{x.new:8.4f} {x.low:8.4f}-{x.high:<8.4f} surprise {x.surprise:.1f}")

        lines.append("largest moves (log-odds):")
        lines += [head] + [row(x) for x in sorted(self.numbers, key=lambda x: -abs(x.moved))[:top]]
        lines.append("most contradicted (prior range far from the fit):")
        lines += [head] + [row(x) for x in sorted(self.numbers, key=lambda x: -x.surprise)[:top]]
        lines.append("A research and teaching tool, not a medical device.")
        return "\n".join(lines)


def estep(engine, tables: Tables, cases: Sequence[LabelledCase]) -> tuple[np.ndarray, np.ndarray]:
    """Exact posteriors ``(B, C)`` and ``log P(evidence, label)`` ``(B,)`` of every case.

    One batched engine call; each case's label clamps its causes
    (``Engine.posterior_batch(labels=...)``).
    """
    labels = [{**{c: 1 for c in case.present}, **{c: 0 for c in case.absent}} for case in cases]
    if not cases:
        return np.zeros((0, len(engine.causes))), np.zeros(0)
    out = engine.posterior_batch([case.evidence for case in cases], tables, labels=labels)
    return out.probs[0], out.log_evidence[0]


def log_likelihood(engine, net: Network, theta: np.ndarray, cases: Sequence[LabelledCase]) -> float:
    """Mean ``log P(evidence, label)`` of ``cases`` under the numbers ``theta``."""
    if not cases:
        return float("nan")
    _, logz = estep(engine, net.tables(theta), cases)
    return float(np.mean(logz))


def _fitted_indices(net: Network) -> list[tuple[int, str]]:
    out = []
    for c in net.causes:
        path = f"causes.{c}.prior"
        if path in net._index:
            i = net.param_index(path)
            p = net.params[i]
            if p.high > p.low:
                out.append((i, c))
    return out


def _em(engine, net, theta, cases, fitted, ab, rows, rab, crows, calpha, rset, *, max_iter, tol):
    cidx = [engine.causes.index(c) for _, c in fitted]
    n = len(cases)
    evs = [case.evidence for case in cases]
    labels = [{**{c: 1 for c in case.present}, **{c: 0 for c in case.absent}} for case in cases]
    trace, times = [], []
    expected, counts, informed = np.zeros(len(fitted)), [], np.zeros(len(rows), dtype=int)
    ccounts, cinformed = [], np.zeros(len(crows), dtype=int)
    for _ in range(max_iter):
        t0 = time.perf_counter()
        T = net.tables(theta)
        if rows:
            counts, informed, probs, logz = mechanism_counts(engine, T, rows, evs, labels)
        else:
            probs, logz = estep(engine, T, cases)
        if crows:
            ccounts, cinformed = context_counts(engine, T, crows, evs, labels, logz)
        expected = probs[:, cidx].sum(axis=0)
        new = theta.copy()
        for j, (i, _) in enumerate(fitted):
            a, b = ab[j]
            new[i] = (a - 1 + expected[j]) / (a + b - 2 + n)
        for r, cnt, (a, b) in zip(rows, counts, rab):
            ix = np.array(r.params)
            fixed = np.where(ix >= 0, theta[ix], 0.0)
            out = row_map(cnt, a, b, np.array(r.free), fixed)
            new[ix[np.array(r.free)]] = out[np.array(r.free)]
        for r, cnt, al, m in zip(crows, ccounts, calpha, cinformed):
            if m:  # a row no case observes stays where it is
                ix = np.array(r.params)
                new[ix] = context_map(cnt, al, np.array(r.free), theta[ix])
        rr_step(net, rset, new, probs)  # at the new priors and context tables
        times.append(time.perf_counter() - t0)
        logprior = sum((a - 1) * np.log(theta[i]) + (b - 1) * np.log1p(-theta[i])
                       for (i, _), (a, b) in zip(fitted, ab))
        for r, (a, b) in zip(rows, rab):
            for k, (i, free) in enumerate(zip(r.params, r.free)):
                if free:
                    logprior += ((a[k] - 1) * np.log(max(theta[i], 1e-300))
                                 + (b[k] - 1) * np.log1p(-theta[i]))
        logprior += context_logprior(theta, crows, calpha) + rr_logprior(theta, rset)
        trace.append(float(logz.sum() + logprior))  # log posterior (+ const): EM raises it
        done = np.max(np.abs(new - theta) / np.maximum(1.0, np.abs(theta))) < tol  # rr: relative
        theta = new
        if done:
            break
    return theta, expected, counts, informed, (ccounts, cinformed), trace, times


def _row_priors(net: Network, rows: list[Row]):
    out = []
    for r in rows:
        ab = [beta_prior(net.params[i].value, net.params[i].low, net.params[i].high)
              if free else (1.0, 1.0) for i, free in zip(r.params, r.free)]
        out.append((np.array([x[0] for x in ab]), np.array([x[1] for x in ab])))
    return out


def _number(p, a, b, new, lo, hi, n, expected) -> FittedNumber:
    """A :class:`FittedNumber`; its surprise is the prior's tail beyond the fitted value.

    Two-sided for a prior with an inner mode; one-sided for a prior whose mode is
    an edge (a number set to 0 or 1), where only a move away from the edge
    contradicts it (a fit that stays at 0 is no surprise).

    >>> from types import SimpleNamespace
    >>> zero = SimpleNamespace(path="x", value=0.0, low=0.0, high=0.005)
    >>> _number(zero, 1.0, 400.0, 0.0, 0.0, 0.005, 10, 0.0).surprise
    0.0
    >>> _number(zero, 1.0, 400.0, 0.05, 0.0, 0.06, 10, 0.5).surprise > 5
    True
    """
    cdf = stats.beta.cdf(new, a, b)
    if a <= 1.0 < b:  # mode at 0
        tail = 1.0 - cdf
    elif b <= 1.0 < a:  # mode at 1
        tail = cdf
    else:
        tail = 2 * min(cdf, 1 - cdf)
    tail = min(max(tail, 1e-300), 1.0)
    return FittedNumber(p.path, p.value, p.low, p.high, float(new), float(lo), float(hi), int(n),
                        float(expected), float(-np.log10(tail)) + 0.0)  # + 0.0: no "-0.0"


def fit_priors(net: Network, cases: Sequence[LabelledCase], *, holdout: float = 0.2,
               seed: int = 0, max_iter: int = 50, tol: float = 1e-6, engine=None,
               links: bool = True, context: bool = True, rr: bool = True) -> FitResult:
    """MAP-EM fit of every cause's ``prior``, (``links``) every free link/leak number,
    (``context``) every free number of the context tables and (``rr``) every free
    relative risk.

    Cases whose evidence and label are impossible under the starting numbers
    (``P(e, label) = 0``) are left out with a :class:`CaseFailure`; the rest
    count. With ``holdout > 0`` (and at least 5 cases) a random share is kept
    out for a first fit, its log-likelihood is reported before and after, and
    the final fit then uses every case.
    """
    from ..inference.engine import Engine

    engine = engine or Engine(net)
    theta0 = net.theta0.copy()
    fitted = _fitted_indices(net)
    ab = [beta_prior(net.params[i].value, net.params[i].low, net.params[i].high) for i, _ in fitted]
    rows = rows_of(net) if links else []
    rab = _row_priors(net, rows)
    crows = context_rows(net) if context else []
    calpha = [dirichlet_prior(net, r) for r in crows]
    rrs = rr_causes(net) if rr else []
    failures = []
    known = set(engine.causes)
    good = []
    for case in cases:
        bad = sorted(set(case.present + case.absent) - known)
        if bad:
            failures.append(CaseFailure(case.id or "?", f"diagnosis: {', '.join(bad)} must be "
                                        "cause ids of the model; see 'bayesdx nodes' or priors/causes.yaml"))
        else:
            good.append(case)
    cases = good
    if cases:
        _, logz = estep(engine, net.tables(theta0), cases)
        keep = []
        for case, lz in zip(cases, logz):
            if np.isfinite(lz):
                keep.append(case)
            else:
                failures.append(CaseFailure(case.id or "?", "the label contradicts the evidence "
                                            "(P(evidence, label) = 0 under the priors); check the "
                                            "diagnosis: lists against the findings"))
        cases = keep
    n = len(cases)
    rset = rr_setup(engine, rrs, [c.evidence for c in cases])  # the EM's and the report's
    heldout = None
    start = theta0
    kw = dict(max_iter=max_iter, tol=tol)
    if holdout > 0 and n >= 5:
        order = np.random.default_rng(seed).permutation(n)
        k = max(1, int(round(holdout * n)))
        test = [cases[i] for i in order[:k]]
        train = [cases[i] for i in order[k:]]
        start = _em(engine, net, theta0, train, fitted, ab, rows, rab, crows, calpha,
                    rr_setup(engine, rrs, [c.evidence for c in train]), **kw)[0]
        heldout = (k, log_likelihood(engine, net, theta0, test),
                   log_likelihood(engine, net, start, test))
    if n:
        theta, expected, counts, informed, (ccounts, cinformed), trace, times = _em(
            engine, net, start, cases, fitted, ab, rows, rab, crows, calpha, rset, **kw)
    else:
        theta, expected, counts, informed, trace, times = theta0, np.zeros(len(fitted)), [], [], [], []
        ccounts, cinformed = [], []
    ranges, probs = {}, None
    if n:  # one more E-step at the fit, keeping every case's counts for the scores
        T = net.tables(theta)
        labels = [{**{c: 1 for c in case.present}, **{c: 0 for c in case.absent}} for case in cases]
        if rows:
            cells, _, probs, logz = mechanism_counts(engine, T, rows, [c.evidence for c in cases],
                                                     labels, per_case=True)
        else:
            cells, (probs, logz) = [], estep(engine, T, cases)
        ccells = context_counts(engine, T, crows, [c.evidence for c in cases], labels, logz,
                                per_case=True)[0] if crows else []
        ranges = information_ranges(theta, [(i, engine.causes.index(c), ab[j])
                                            for j, (i, c) in enumerate(fitted)],
                                    probs, rows, rab, cells, list(zip(crows, calpha, ccells)))
    numbers = []
    for j, (i, _) in enumerate(fitted):
        a, b = ab[j]
        lo, hi = ranges.get(i) or stats.beta.ppf([0.05, 0.95], a, b)
        numbers.append(_number(net.params[i], a, b, theta[i], lo, hi, n, expected[j]))
    for j, (r, (a, b)) in enumerate(zip(rows, rab)):
        cnt = counts[j] if n else np.zeros(net.card(r.finding))
        for k, (i, free) in enumerate(zip(r.params, r.free), start=1):
            if free:
                lo, hi = ranges.get(i) or stats.beta.ppf([0.05, 0.95], a[k - 1], b[k - 1])
                numbers.append(_number(net.params[i], a[k - 1], b[k - 1], theta[i], lo, hi,
                                       informed[j] if n else 0, cnt[k]))
    for j, (r, al) in enumerate(zip(crows, calpha)):  # a Dirichlet entry's marginal is a Beta
        cnt = ccounts[j] if n else np.zeros(len(r.params))
        for k, (i, free) in enumerate(zip(r.params, r.free)):
            if free:
                lo, hi = ranges.get(i) or stats.beta.ppf([0.05, 0.95], al[k], al.sum() - al[k])
                numbers.append(_number(net.params[i], al[k], al.sum() - al[k], theta[i], lo, hi,
                                       cinformed[j] if n else 0, cnt[k]))
    for i, (lo, hi), m, e, surprise in rr_report(net, rset, theta, probs):
        p = net.params[i]
        numbers.append(FittedNumber(p.path, p.value, p.low, p.high, float(theta[i]), lo, hi, m,
                                    e, surprise))
    return FitResult(theta, tuple(numbers), n, tuple(failures), len(trace), tuple(trace),
                     float(np.mean(times)) if times else 0.0, heldout)
