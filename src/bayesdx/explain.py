"""Why is a cause likely? Exact per-finding contributions.

For a cause ``c`` and evidence ``e``, the contribution of one item ``e_i`` is
its likelihood ratio given the rest of the evidence,

    LR_i = P(e_i | c, e_rest) / P(e_i | not c, e_rest)
         = odds(c | e) / odds(c | e_rest),

the factor by which knowing ``e_i`` multiplies the odds of ``c`` when
everything else is already known. It is exact (no approximation), symmetric
in the items, and > 1 for supporting and < 1 for opposing findings.
``log10(LR)`` is reported as the *weight of evidence* (a weight of +1 multiplies
the odds tenfold).

Examples
--------
>>> from bayesdx.diagnosis import load_model
>>> m = load_model()
>>> ex = explain(m.engine, "drug_antipsychotic",
...              {"anc": "severe", "exposure_antipsychotic": "clozapine_window"})
>>> ex.supporting[0].node in ("anc", "exposure_antipsychotic")
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np

__all__ = ["Contribution", "Explanation", "explain"]


@dataclass(frozen=True)
class Contribution:
    """One evidence item's effect on a cause.

    Attributes
    ----------
    node, state : str
        The evidence item.
    label : str
        Human-readable node label.
    lr : float
        Likelihood ratio given the rest of the evidence (``inf`` if the cause is
        impossible without it; ``0`` if the item rules the cause out).
    weight : float
        ``log10(lr)``: +1 multiplies the odds of the cause tenfold.
    without : float
        The cause's posterior if this item were unknown.
    """

    node: str
    state: str
    label: str
    lr: float
    weight: float
    without: float


@dataclass(frozen=True)
class Explanation:
    """Contributions of every evidence item to one cause, strongest first."""

    cause: str
    label: str
    prior: float
    posterior: float
    items: tuple[Contribution, ...]

    @property
    def supporting(self) -> tuple[Contribution, ...]:
        """Items that raise the cause (LR > 1), strongest first."""
        return tuple(i for i in self.items if i.weight > 0)

    @property
    def against(self) -> tuple[Contribution, ...]:
        """Items that lower the cause (LR < 1), strongest first."""
        return tuple(i for i in self.items if i.weight < 0)


def _odds(p: float) -> float:
    if p >= 1.0:
        return math.inf
    return p / (1.0 - p)


def explain(engine, cause: str, evidence: Mapping[str, str], *, tables=None) -> Explanation:
    """Exact leave-one-out likelihood ratios of every evidence item for ``cause``.

    Raises
    ------
    QueryError
        For an unknown cause.
    CaseError
        For an unknown node or state.
    ImpossibleEvidenceError
        When the evidence is impossible.
    """
    from .errors import check_cause

    check_cause(engine, cause, "explain: cause")
    evidence = dict(evidence)
    full = engine.posterior(evidence, tables)
    i = engine.causes.index(cause)
    p = float(full.probs[i])
    items = list(evidence.items())
    rest = [{k: v for k, v in items if k != node} for node, _ in items]
    out = []
    if items:
        batch = engine.posterior_batch(rest, tables=tables)
        without = batch.probs[0, :, i]
        o_full = _odds(p)
        for (node, state), q in zip(items, without):
            q = float(q)
            o_rest = _odds(q)
            if o_rest == 0.0:
                lr = math.inf if o_full > 0 else 1.0
            elif math.isinf(o_rest):
                lr = 1.0 if math.isinf(o_full) else 0.0
            else:
                lr = o_full / o_rest
            weight = math.log10(lr) if 0 < lr < math.inf else (math.inf if lr > 0 else -math.inf)
            out.append(Contribution(node, state, engine.net.labels.get(node, node), lr, weight, q))
    out.sort(key=lambda c: -abs(c.weight) if np.isfinite(c.weight) else -1e9)
    return Explanation(cause, engine.net.labels[cause], float(full.priors[i]), p, tuple(out))
