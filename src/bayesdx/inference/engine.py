"""Exact, structure-aware inference for the three-layer noisy-MAX network.

The network is context → causes → findings, each finding a leaky noisy-MAX of
its parents. Unobserved findings are barren and drop out. An observed finding
in its baseline state factorises into one factor per parent. An observed
finding in state ``k`` is the event "every parent's effect is ≤ k and at least
one (or the leak) is = k", which a two-state accumulator tracks exactly. The
engine orders the causes greedily to keep the set of open accumulators and
context variables (the *frontier*) small, and runs one pass per cause forward
and backward (rescaled, so nothing underflows), which gives every cause's exact
posterior. All factors are non-negative: no inclusion–exclusion, no cancellation.

Every query has one signature, :meth:`Engine.posterior`, and batches over
evidence sets and parameter draws. Plans are compiled per evidence *pattern*
(:class:`~bayesdx.inference.plan.Pattern`: which nodes are observed, which
findings are at baseline) and cached.

Thread safety: one engine may be queried from many threads at once. The plan
cache is the engine's only mutable state; a lock guards each lookup and each
insertion, never a compilation or a query, so threads wait for each other
only for a dictionary operation. (The derived caches of the numeric tables
have their own lock, :class:`~bayesdx.knowledge.network.Tables`.)

Examples
--------
>>> from bayesdx.knowledge.network import Network
>>> eng = Engine(Network.from_knowledge())
>>> post = eng.posterior({"anc": "severe", "exposure_antipsychotic": "clozapine_window"})
>>> post.of("drug_antipsychotic") > post.prior_of("drug_antipsychotic")
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import CaseError, ImpossibleEvidenceError, Problem, check_option, suggest
from .budget import NS_PER_OP, NS_PER_OP_COMPILED, Budget, BudgetError, Cost, plan_cost
from .factors import prepare
from .light import light_cost, light_posterior
from .pattern import add_constant_findings, run_frontier
from .program import run_frontier_compiled
from ..knowledge.network import Network, Tables
from .plan import Pattern, Plan
from .plan_cache import PlanCache
from .routing import HEAVY, REPEATED, SLOTS_MIN, run_batch

__all__ = ["COMPILE_PAIRS", "HEAVY", "KERNELS", "METHODS", "REPEATED", "SLOTS_MIN", "BatchPosterior", "Engine", "Posterior"]

METHODS = ("auto", "direct", "pattern", "slots", "union")
"""The ways :meth:`Engine.posterior_batch` can share work (all exact)."""

KERNELS = ("auto", "compiled", "numpy")
"""How :class:`Engine` runs a plan: one call of the numba kernel per batch
(:mod:`bayesdx.inference.program`), one numpy einsum per operation
(:mod:`bayesdx.inference.pattern`, the reference), or ``"auto"`` (default): the
kernel, except a pattern of a batch with fewer than :data:`COMPILE_PAIRS` (draw,
case) pairs, and a light single query by the light program without a plan
(:mod:`bayesdx.inference.light`). Same numbers to rounding."""

COMPILE_PAIRS = 8
"""In :meth:`Engine.posterior_batch` (``kernel="auto"``), a pattern runs by the compiled
kernel when it has at least this many (draw, case) pairs (see :meth:`Engine._use_kernel`)."""


@dataclass(frozen=True)
class Posterior:
    """Posterior probability of every cause for one evidence set.

    Attributes
    ----------
    causes : tuple of str
        Cause ids, in model order.
    probs : numpy.ndarray
        ``P(cause present | evidence)`` per cause.
    priors : numpy.ndarray
        ``P(cause present)`` in the reference population.
    log_evidence : float
        ``log P(evidence)`` under the model.
    evidence : dict
        The evidence used (node -> state).
    """

    causes: tuple[str, ...]
    probs: np.ndarray
    priors: np.ndarray
    log_evidence: float
    evidence: Mapping[str, str] = field(default_factory=dict)

    def of(self, cause: str) -> float:
        """Posterior of one cause."""
        return float(self.probs[self.causes.index(cause)])

    def prior_of(self, cause: str) -> float:
        """Prior of one cause."""
        return float(self.priors[self.causes.index(cause)])

    def ranked(self) -> list[tuple[str, float]]:
        """``(cause, posterior)`` pairs, highest first (ties in model order)."""
        order = np.argsort(-self.probs, kind="stable")
        return [(self.causes[i], float(self.probs[i])) for i in order]

    def as_dict(self) -> dict[str, float]:
        """Cause -> posterior."""
        return {c: float(p) for c, p in zip(self.causes, self.probs)}


@dataclass(frozen=True)
class BatchPosterior:
    """Posteriors for a batch: ``probs`` has shape ``(D, B, C)`` (draws, cases, causes)."""

    causes: tuple[str, ...]
    probs: np.ndarray
    log_evidence: np.ndarray


class Engine:
    """Compiled exact engine over a :class:`~bayesdx.knowledge.network.Network`.

    The engine validates evidence against the network when it is queried and
    caches one plan per evidence pattern. It is safe to query from several
    threads at once (see the module docstring).

    Parameters
    ----------
    network : Network
        The network specification.
    cache_size : int
        Number of compiled plans kept.
    budget : Budget, optional
        Memory and time limits of one query (:mod:`bayesdx.inference.budget`).
    kernel : {"auto", "compiled", "numpy"}
        How a plan is run (:data:`KERNELS`); ``"numpy"`` is the reference.
    plan_cache : PlanCache, optional
        Share another engine's plans (its ``plan_cache``; same network): none compiled twice.
    """

    def __init__(self, network: Network, cache_size: int = 256, budget: Budget | None = None,
                 kernel: str = "auto", plan_cache: PlanCache | None = None):
        check_option("Engine: kernel", kernel, KERNELS)
        self.kernel = kernel
        self.net = network
        self.budget = budget or Budget()
        self.causes = tuple(network.causes)
        self._cause_index = {c: i for i, c in enumerate(self.causes)}
        self._cache = PlanCache.of(network, cache_size, plan_cache)
        self._plans = self._cache.plans  # pattern (or (pattern, "greedy")) -> plan
        self._priors = np.array(list(map(network.cause_priors().__getitem__, self.causes)))
        self._state_index = {n: {s: i for i, s in enumerate(st)} for n, st in network.states.items()}

    # ----------------------------------------------------------------- public API

    plan_cache = property(lambda self: self._cache, doc="The compiled plans (shareable, see ``Engine``).")
    priors = property(lambda self: self._priors.copy(), doc="Prior of every cause (model order).")

    def validate(self, evidence: Mapping[str, str]) -> dict[str, int]:
        """Check node and state names; return ``node -> state index``.

        Raises
        ------
        CaseError
            Naming every unknown node or state, with the nearest valid names.
        """
        problems = []
        out = {}
        for node, state in evidence.items():
            if node in self._cause_index:
                problems.append(Problem("evidence", node, "must be a context node or finding, not a cause",
                                        repr(state), "enter the findings that point to it instead"))
                continue
            if node not in self._state_index:
                problems.append(Problem("evidence", node, "must be a node of the network", repr(node),
                                        suggest(node, self._state_index, "node",
                                                "a name listed by 'bayesdx nodes'")))
                continue
            idx = self._state_index[node].get(state)
            if idx is None:
                problems.append(Problem("evidence", node, f"must be one of {', '.join(self.net.states[node])}",
                                        repr(state)))
                continue
            out[node] = idx
        readings: dict[str, list[str]] = {}  # a level -> its observed readings (itself, its verdicts)
        for node, (src, _) in self.net.derived.items():
            readings.setdefault(src, [src] if src in out else []).extend([node] if node in out else [])
        for src, seen in readings.items():
            if len(seen) > 1:
                problems.append(Problem("evidence", seen[-1], f"must not be given together with "
                                        f"{', '.join(seen[:-1])} (they read the same level, {src})",
                                        ", ".join(f"{n}={evidence[n]!r}" for n in seen),
                                        f"keep one of {', '.join(seen)}"))
        if problems:
            raise CaseError(problems)
        return out

    def posterior(self, evidence: Mapping[str, str], tables: Tables | None = None,
                  budget: Budget | None = None) -> Posterior:
        """Exact posterior of every cause given ``evidence`` (node -> state).

        The query's cost is estimated first (:meth:`estimate`); memory is kept
        within ``budget`` (default: the engine's) by running draws in chunks. A light query
        (``kernel="auto"``, one draw) runs without a plan (:mod:`bayesdx.inference.light`).

        Raises
        ------
        CaseError
            For unknown nodes or states.
        ImpossibleEvidenceError
            When the evidence has probability zero; names a minimal conflicting set.
        BudgetError
            Before any work, when the estimated time exceeds the budget.
        """
        idx = self.validate(evidence)
        budget = budget or self.budget
        D = tables.draws if tables else 1
        light = light_cost(self, idx, D) if self.kernel == "auto" else None
        cost = light or plan_cost(self.plan(Pattern.of(self.net, [idx])), D,
                                  compiled=self._use_kernel(D, False))
        if not cost.within(budget):  # time or memory
            raise BudgetError("evidence", cost, budget)
        if light:  # few abnormal findings: the precompiled light program, no plan
            p, lz = light_posterior(self, idx, tables or self.net.tables())
        else:
            probs, logz = self._run([idx], tables)
            p, lz = probs[0, 0], float(logz[0, 0])
        if not np.isfinite(lz):
            raise ImpossibleEvidenceError(self.conflict(evidence, tables))
        return Posterior(self.causes, p, self._priors, lz, dict(evidence))

    def posterior_batch(self, evidences: Sequence[Mapping[str, str]],
                        tables: Tables | None = None, *, method: str = "auto",
                        labels: Sequence[Mapping[str, int]] | None = None) -> BatchPosterior:
        """Posteriors for many evidence sets (and, through ``tables``, many draws).

        Every method is exact; they differ in how cases share work:

        ``"pattern"``
            one compiled plan per evidence pattern, each pattern's cases
            vectorised (best when patterns repeat, or for many draws);
        ``"slots"``
            cases with different patterns share one pass
            (:mod:`bayesdx.inference.slots`; best for a cohort of distinct patients);
        ``"union"``
            one plan for the union pattern of all cases;
        ``"direct"``
            every case by its own cause order, in one compiled call with no plan
            (:mod:`bayesdx.inference.direct`; best for a cohort); the cases it
            passes back (more than :data:`~bayesdx.inference.direct.MAX_SLOTS`
            frontier bits open at once) as ``"auto"`` runs them;
        ``"auto"`` (default)
            identical evidence sets once (also under ``"direct"``); with one draw
            and the compiled kernel (``kernel`` not ``"numpy"``), ``"direct"``; of
            the rest, a pattern runs by its own plan when its cases x (1 +
            abnormal findings) reach :data:`REPEATED`; the others share slot
            passes when there are at least :data:`SLOTS_MIN` of them.

        ``labels`` (one mapping per case, cause -> 1 present / 0 absent) conditions
        each case on known causes: its posteriors are then given evidence and
        label, and ``log_evidence`` is ``log P(evidence, label)``.

        Impossible evidence yields NaN rows with ``log_evidence == -inf``; use
        :meth:`posterior` for a single case to get the explanation.
        """
        check_option("posterior_batch: method", method, METHODS)
        idxs = [self.validate(e) for e in evidences]
        for e, lab in zip(idxs, labels or ()):
            e.update({self.causes[self._cause_index[c]]: int(bool(k)) for c, k in lab.items()})
        probs, logz = run_batch(self, idxs, tables or self.net.tables(), method)
        return BatchPosterior(self.causes, probs, logz)

    def estimate(self, evidence: Mapping[str, str], draws: int = 1) -> Cost:
        """Estimated cost of :meth:`posterior` for ``evidence`` under ``draws`` parameter draws.

        Compiles (and caches) the plan; allocates nothing else.

        >>> from bayesdx.knowledge.network import Network
        >>> eng = Engine(Network.from_knowledge())
        >>> eng.estimate({"anc": "severe"}).within(eng.budget)
        True
        """
        return plan_cost(self.plan(Pattern.of(self.net, [self.validate(evidence)])), draws,
                         compiled=self._use_kernel(draws, False))

    def log_evidence(self, evidence: Mapping[str, str], tables: Tables | None = None) -> float:
        """``log P(evidence)`` (``-inf`` when impossible)."""
        _, lz = self._run([self.validate(evidence)], tables)
        return float(lz[0, 0])

    def conflict(self, evidence: Mapping[str, str], tables: Tables | None = None) -> dict[str, str]:
        """A minimal subset of ``evidence`` that has probability zero.

        Greedy deletion: drop each item in turn and keep it dropped while the
        rest stays impossible; what remains cannot lose any item.
        """
        items = list(evidence.items())
        keep = list(items)
        for item in items:
            trial = [kv for kv in keep if kv != item]
            if trial and not np.isfinite(self.log_evidence(dict(trial), tables)):
                keep = trial
        return dict(keep)

    # ----------------------------------------------------------------- compile

    def plan(self, pattern: Pattern, run_ns: float | None = None) -> Plan:
        """The compiled plan of an evidence pattern (cached, least recently used dropped).

        ``run_ns``: the plan's expected use, runs x nanoseconds per operation; ``None``
        (single posteriors, estimates, slot passes) searches a heavy pattern's order,
        else the search runs only when it pays (:mod:`bayesdx.inference.plan_cache`).
        Thread-safe; which plan a query gets depends on the query only.
        """
        return self._cache.get(pattern, run_ns)

    # ----------------------------------------------------------------- run

    def _run(self, idxs: list[dict[str, int]], tables: Tables | None, batch: bool = False):
        """Posterior probs ``(D, B, C)`` and log-evidence ``(D, B)`` (``batch``: see
        :meth:`_use_kernel`)."""
        T = tables or self.net.tables()
        kernel = self._use_kernel(T.draws * len(idxs), batch)
        run_ns = (T.draws * len(idxs) * (NS_PER_OP_COMPILED if kernel else NS_PER_OP)
                  if batch else None)
        plan = self.plan(Pattern.of(self.net, idxs), run_ns)
        D, B = T.draws, len(idxs)
        per = plan_cost(plan).bytes
        fit = max(1, self.budget.memory_bytes // per)  # (draw, case) pairs per chunk
        if D * B > fit:  # same numbers, run in pieces that keep within the memory budget
            probs = np.empty((D, B, len(self.causes)))
            logz = np.empty((D, B))
            nb = min(B, fit)
            nd = max(1, fit // nb)
            for b0 in range(0, B, nb):
                for d0 in range(0, D, nd):
                    part = T if (d0 == 0 and nd >= D) else T.draw_slice(d0, min(D, d0 + nd))
                    p, lz = self._run_plan(plan, idxs[b0:b0 + nb], part, kernel)
                    probs[d0:d0 + nd, b0:b0 + nb], logz[d0:d0 + nd, b0:b0 + nb] = p, lz
            return probs, logz
        return self._run_plan(plan, idxs, T, kernel)

    def _use_kernel(self, pairs: int, batch: bool) -> bool:
        """Run by the compiled kernel? Always for ``kernel="compiled"``; for ``"auto"``,
        except a pattern of a batch with fewer than :data:`COMPILE_PAIRS` (draw, case)
        pairs (building its program costs a few numpy runs, and in a cohort of distinct
        patients each pattern is seen once). The choice depends on the query only, never
        on what ran before, so a query gives the same numbers bit for bit every time."""
        if self.kernel != "auto":
            return self.kernel == "compiled"
        return not batch or pairs >= COMPILE_PAIRS

    def _run_plan(self, plan: Plan, idxs: list[dict[str, int]], T: Tables, kernel: bool):
        prep = prepare(self.net, plan, idxs, T)
        probs = np.full((T.draws, len(idxs), len(self.causes)), np.nan)
        logz = prep.logz
        prep.sum_out(plan.free_causes, self._cause_index, probs)
        add_constant_findings(self.net, plan, T, idxs, prep, logz)
        if plan.steps:
            run = run_frontier_compiled if kernel else run_frontier
            run(self.net, plan, T, idxs, prep, self._cause_index, probs, logz)
        bad = ~np.isfinite(logz)
        if bad.any():
            probs[bad] = np.nan
            logz[bad] = -np.inf
        return probs, logz
