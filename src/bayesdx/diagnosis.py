"""Diagnose a case: case file -> evidence -> ranked posteriors with intervals.

:func:`diagnose` is the Python entry point of the case-file contract
(``shared/case-format.md``): it takes a case as a dict or a path and returns a
:class:`Diagnosis` whose :meth:`~Diagnosis.to_dict` is the JSON object of the
contract. :func:`load_model` builds (once per process and knowledge version)
the read-only :class:`Model` that the CLI and the app share.

Examples
--------
>>> d = diagnose({"age_years": 34, "cbc": {"anc": 0.2},
...               "medications": [{"name": "clozapine", "weeks": 9}]}, draws=0)
>>> d.causes[0].id
'drug_antipsychotic'
>>> sorted(d.to_dict())[:4]
['causes', 'disclaimer', 'evidence', 'id']
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from . import __version__
from .inference.approx import Approximate
from .inference.budget import Budget, BudgetError, Cost
from .inference.engine import Engine, Posterior
from .knowledge.load import Knowledge, default_root, knowledge_hash, load_knowledge
from .knowledge.network import Network
from .uncertainty import DEFAULT_DRAWS, TOLERANCE, Intervals, interval_estimate

__all__ = ["APPROX_SHARE", "DISCLAIMER", "MAX_DRAWS", "CauseResult", "Diagnosis", "Model",
           "approximate_posterior", "diagnose", "diagnose_evidence", "load_model"]

MAX_DRAWS = 100_000
"""Most Monte-Carlo draws of the priors a diagnosis may ask for."""

DISCLAIMER = ("bayesdx is a research and teaching tool, not a medical device; it must not "
              "be used to diagnose or treat patients.")


APPROX_SHARE = 0.25
"""Share of the time budget the approximate posterior may use (estimated before it runs):
the exact cost estimate (plan compilation) has already used some of it."""


@dataclass(frozen=True)
class Model:
    """The built model: knowledge, network, engine. Read-only; share it freely."""

    kb: Knowledge
    net: Network
    engine: Engine

    @property
    def priors(self) -> dict[str, float]:
        """Prior of every cause."""
        return dict(zip(self.engine.causes, self.engine.priors.tolist()))


@lru_cache(maxsize=4)
def _build(root: Path, digest: str) -> Model:
    kb = load_knowledge(root)
    net = Network(kb)
    return Model(kb, net, Engine(net))


def load_model(root: str | Path | None = None) -> Model:
    """The model for the knowledge files under ``root`` (cached per content hash)."""
    root = Path(root).resolve() if root is not None else default_root().resolve()
    return _build(root, knowledge_hash(root))


@dataclass(frozen=True)
class CauseResult:
    """One cause in a diagnosis."""

    id: str
    label: str
    family: str
    prior: float
    posterior: float
    interval: tuple[float, float] | None
    disablement: float | None = None
    sufficiency: float | None = None
    p_needed: float | None = None
    se: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The cause as in the JSON output of the contract, plus the counterfactual
        scores (``disablement``, ``sufficiency``, ``p_needed``; see
        :mod:`bayesdx.counterfactual`) when they were computed, and ``se``, the
        Monte-Carlo standard error of the posterior, when it is approximate."""
        d: dict[str, Any] = {"id": self.id, "label": self.label, "family": self.family,
                             "prior": round(self.prior, 6), "posterior": round(self.posterior, 6)}
        d["interval"] = ([round(self.interval[0], 6), round(self.interval[1], 6)]
                         if self.interval is not None else None)
        for k in ("disablement", "sufficiency", "p_needed", "se"):
            if getattr(self, k) is not None:
                d[k] = round(getattr(self, k), 6)
        return d


@dataclass(frozen=True)
class Diagnosis:
    """Ranked posteriors of every cause for one case.

    ``causes`` is sorted by posterior, highest first, unless ``rank_by`` names a
    counterfactual score (``sufficiency``, ``disablement`` or ``needed``).
    """

    id: str | None
    causes: tuple[CauseResult, ...]
    evidence: Mapping[str, str]
    ignored: tuple[Mapping[str, str], ...]
    log_evidence: float
    posterior: Posterior = field(repr=False, compare=False)
    intervals: Intervals | None = field(default=None, repr=False, compare=False)
    rank_by: str = "posterior"
    approx: Approximate | None = field(default=None, repr=False, compare=False)
    exact_cost: Cost | None = field(default=None, repr=False, compare=False)

    @property
    def exact(self) -> bool:
        """False when the posteriors are a labelled approximation (see :attr:`inference`)."""
        return self.approx is None

    @property
    def inference(self) -> dict[str, Any]:
        """How the numbers were computed: ``method``, ``exact``, the posterior's error
        (0: exact; else the largest Monte-Carlo standard error over the causes, each
        cause's own under ``se``) and, for the intervals, draws used and asked for,
        their Monte-Carlo error and a note when the time budget cut them.
        An approximate result also says why (``note``: the exact cost over the
        budget) and how it was sampled (``sampler``)."""
        iv = self.intervals
        a = self.approx
        if a is None:
            out: dict[str, Any] = {"method": "exact", "exact": True, "posterior_error": 0.0}
        else:
            out = {"method": a.method, "exact": False, "posterior_error": round(a.max_se, 6),
                   "sampler": {"chains": a.chains, "sweeps": a.sweeps, "burn_in": a.burn_in,
                               "seed": a.seed},
                   "exact_cost": self.exact_cost.describe() if self.exact_cost else None,
                   "note": "approximate: the exact posterior is over the time budget; Gibbs "
                           "sampling, each cause's posterior with its Monte-Carlo standard error "
                           "(se)"}
        if iv is not None:
            out["interval"] = {"draws": iv.draws, "requested": iv.requested,
                               "mc_error": None if iv.mc_error is None else round(iv.mc_error, 6),
                               "tolerance": iv.tolerance, "note": iv.note}
        return out

    def top(self, n: int = 3) -> list[str]:
        """Ids of the ``n`` most probable causes."""
        return [c.id for c in self.causes[:n]]

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of the case-file contract (plus a disclaimer and the model version)."""
        out = {
            "id": self.id,
            "causes": [c.to_dict() for c in self.causes],
            "evidence": dict(self.evidence),
            "ignored": [dict(i) for i in self.ignored],
            "inference": self.inference,
            "disclaimer": DISCLAIMER,
            "model": {"bayesdx": __version__},
        }
        if self.rank_by != "posterior":
            out["ranked_by"] = self.rank_by
        return out


def diagnose_evidence(model: Model, evidence: Mapping[str, str], *, case_id: str | None = None,
                      ignored=(), draws: int = DEFAULT_DRAWS, seed: int = 0,
                      scores: bool = True, rank_by: str = "posterior",
                      budget: Budget | None = None, approximate: bool = True,
                      cancel=None, progress=None, tolerance: float = TOLERANCE) -> Diagnosis:
    """Diagnose from evidence already on the network (node -> state).

    When the exact posterior is estimated over the time budget (default: the
    engine's), the result is the labelled approximation of
    :func:`approximate_posterior` (``approximate=False``: raise
    :class:`~bayesdx.inference.budget.BudgetError` instead); ``cancel`` and
    ``progress`` go to the sampler (:func:`bayesdx.inference.approx.gibbs_posterior`);
    ``tolerance`` is the intervals' Monte-Carlo error target
    (:func:`bayesdx.uncertainty.interval_estimate`).
    An approximate diagnosis has no counterfactual scores and no intervals (both
    need exact posteriors) and is ranked by posterior.
    """
    budget = budget or model.engine.budget
    try:
        post = model.engine.posterior(evidence, budget=budget)
    except BudgetError as exc:
        if not approximate:
            raise
        return _approx_diagnosis(model, evidence, exc.cost, budget, case_id, ignored, draws, seed,
                                 cancel, progress)
    return _diagnosis(model, post, case_id, ignored, draws, seed, scores, rank_by, budget,
                      tolerance)


def approximate_posterior(model: Model, evidence: Mapping[str, str], budget: Budget | None = None,
                          seed: int = 0, cancel=None, progress=None) -> tuple[Posterior, Approximate]:
    """The Gibbs approximation (:mod:`bayesdx.inference.approx`) within :data:`APPROX_SHARE` of
    ``budget``'s seconds, as a :class:`Posterior` (``log_evidence`` NaN: not estimated) and
    the sampler's result."""
    from .inference.approx import approximate

    budget = budget or model.engine.budget
    eng = model.engine
    eng.validate(evidence)
    a = approximate(model.net, evidence, budget.seconds * APPROX_SHARE, seed=seed, cancel=cancel,
                    progress=progress)
    return Posterior(eng.causes, a.probs, eng.priors, float("nan"), dict(evidence)), a


def _approx_diagnosis(model, evidence, cost, budget, case_id, ignored, draws, seed,
                      cancel=None, progress=None) -> Diagnosis:
    post, a = approximate_posterior(model, evidence, budget, seed, cancel, progress)
    ivs = None
    if draws:
        ivs = Intervals(None, 0, draws, None, "no interval: the posterior is approximate "
                        "(credible intervals need an exact posterior for every parameter draw)")
    net = model.net
    rows = tuple(CauseResult(c, net.labels[c], net.family[c], float(post.priors[i]),
                             float(post.probs[i]), None, se=float(a.se[i]))
                 for i in np.argsort(-post.probs, kind="stable") for c in (post.causes[i],))
    return Diagnosis(case_id, rows, dict(post.evidence), tuple(ignored), post.log_evidence, post,
                     ivs, "posterior", a, cost)


def _diagnosis(model: Model, post, case_id, ignored, draws: int, seed: int,
               scores: bool = True, rank_by: str = "posterior",
               budget: Budget | None = None, tolerance: float = TOLERANCE) -> Diagnosis:
    from .counterfactual import RANKINGS, counterfactual

    evidence = post.evidence
    if rank_by not in RANKINGS:
        from .errors import Problem
        from .voi import QueryError

        raise QueryError(Problem("rank by", "", f"must be one of {', '.join(RANKINGS)}",
                                 repr(rank_by), "posterior"))
    want_cf = scores or rank_by != "posterior"

    def intervals():
        return (interval_estimate(model.engine, dict(evidence), draws=draws, seed=seed,
                                  budget=budget, tolerance=tolerance) if draws else None)

    # independent exact computations: with both, the intervals' draws run in a second
    # thread meanwhile (the kernel releases the GIL); the same numbers either way
    with ThreadPoolExecutor(1, thread_name_prefix="bayesdx-intervals") as pool:
        job = pool.submit(intervals) if want_cf and draws else None
        cf = counterfactual(model.engine, evidence) if want_cf else None
        ivs = job.result() if job is not None else intervals()
    intervals = ivs.bounds if ivs is not None else None
    net = model.net
    rows = []
    if cf is not None and rank_by != "posterior":
        order = [post.causes.index(c) for c, _ in cf.ranked(rank_by)]
    else:
        order = np.argsort(-post.probs, kind="stable")
    for i in order:
        c = post.causes[i]
        iv = (float(intervals[i, 0]), float(intervals[i, 1])) if intervals is not None else None
        extra = ((float(cf.disablement[i]), float(cf.sufficiency[i]), float(cf.p_needed[i]))
                 if cf is not None else ())
        rows.append(CauseResult(c, net.labels[c], net.family[c], float(post.priors[i]),
                                float(post.probs[i]), iv, *extra))
    return Diagnosis(case_id, tuple(rows), dict(evidence), tuple(ignored), post.log_evidence, post,
                     ivs, rank_by)


def diagnose(case: Mapping[str, Any] | str | Path, *, model: Model | None = None,
             lenient: bool = False, draws: int = DEFAULT_DRAWS, seed: int = 0,
             scores: bool = True, rank_by: str = "posterior", budget: Budget | None = None,
             approximate: bool = True, tolerance: float = TOLERANCE) -> Diagnosis:
    """Diagnose one case given as a dict (contract format) or a path to a case file.

    Parameters
    ----------
    case : dict or path
        One case. A file holding a list of cases is an error here; use
        :func:`diagnose_many`.
    lenient : bool
        List unknown drug names under ``ignored`` instead of failing.
    draws : int
        Most Monte-Carlo draws of the priors for the credible ``interval`` (0: none).
    tolerance : float
        Draws are added until every interval end's Monte-Carlo error is within this
        (probability units; default 0.02; 0: all ``draws``).
    scores : bool
        Also compute every cause's exact counterfactual scores
        (:func:`bayesdx.counterfactual.counterfactual`).
    rank_by : {"posterior", "sufficiency", "disablement", "needed"}
        Order of ``causes`` (the contract's default: posterior).
    budget : Budget, optional
        Time and memory budget (default: the engine's, 8 s and 1 GiB).
    approximate : bool
        Beyond the budget, give a labelled approximation (default) rather than
        raising :class:`~bayesdx.inference.budget.BudgetError`.

    Raises
    ------
    CaseError
        The case cannot be read (the message names the field and the fix).
    ImpossibleEvidenceError
        The evidence has probability zero.
    """
    from .case import parse_case, read_cases
    from .errors import CaseError, Problem

    _check_counts(draws, seed)
    model = model or load_model()
    if isinstance(case, (str, Path)):
        parsed = read_cases(case, model.kb, lenient=lenient)
        if len(parsed) != 1:
            raise CaseError([Problem(str(case), "cases", "must hold exactly one case here",
                                     f"{len(parsed)} cases", "use diagnose_many for a batch")])
        if isinstance(parsed[0], Exception):
            raise parsed[0]
        pc = parsed[0]
    else:
        pc = parse_case(dict(case), model.kb, lenient=lenient)
    return diagnose_evidence(model, pc.evidence, case_id=pc.id, ignored=pc.ignored,
                             draws=draws, seed=seed, scores=scores, rank_by=rank_by,
                             budget=budget, approximate=approximate, tolerance=tolerance)


def _check_budget(eng: Engine, evidence: Mapping[str, str], budget: Budget) -> None:
    """Raise :class:`~bayesdx.inference.budget.BudgetError` for a heavy case over the budget
    (light cases are not estimated: they cost milliseconds and share slot passes)."""
    if _heavy(eng, evidence):
        cost = eng.estimate(evidence)
        if not cost.within(budget):
            raise BudgetError("evidence", cost, budget)


def _heavy(eng: Engine, evidence: Mapping[str, str]) -> bool:
    """At least :data:`~bayesdx.inference.engine.HEAVY` abnormal findings (the cases whose
    cost is estimated before they run)."""
    from .inference.engine import HEAVY

    net = eng.net
    findings = set(net.findings)
    return sum(1 for f, s in evidence.items() if f in findings and s != net.states[f][0]) >= HEAVY


def _check_counts(draws: int, seed: int) -> None:
    from .errors import Problem, UsageError

    for name, value, example in (("draws", draws, DEFAULT_DRAWS), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise UsageError(Problem("diagnose", name, "must be a whole number >= 0", repr(value),
                                     f"{name}={example}"))
    if draws > MAX_DRAWS:
        raise UsageError(Problem("diagnose", "draws", f"must be at most {MAX_DRAWS:,}", repr(draws),
                                 f"draws={DEFAULT_DRAWS} (the interval's percentiles are stable by then)"))
