"""Which numbers of ``priors/`` move one cause's posterior most, for one case.

One-at-a-time sensitivity: for every parameter with a range (``low < high``)
the posterior of the cause is recomputed, exactly, with that parameter at its
``low`` and at its ``high`` while every other number stays at its ``value``.
The parameters are ranked by the **swing** ``|P(high) - P(low)|``; the result
draws as a tornado chart (:meth:`Sensitivity.tornado`).

All ``2P`` parameter vectors form one ``(2P, P)`` matrix: :meth:`Network.tables`
turns it into a batch of tables and :meth:`Engine.posterior_batch` runs the
case on all of them at once (in chunks of ``chunk`` rows, to bound memory).
The numbers of a finding that is not in the evidence cannot matter (an
unobserved finding is barren and drops out of the network), so they are not
recomputed: their swing is exactly 0. Parameters with ``low == high`` are
skipped.

Examples
--------
>>> from bayesdx.diagnosis import load_model
>>> m = load_model()
>>> ev = {"anc": "severe", "exposure_antipsychotic": "clozapine_window"}
>>> s = sensitivity(m.engine, "drug_antipsychotic", ev,
...                 params=["causes.drug_antipsychotic", "findings.anc", "findings.test_ana"])
>>> top = s.items[0]
>>> top.path, top.posterior_low < s.posterior < top.posterior_high
('causes.drug_antipsychotic.base', True)
>>> s["findings.test_ana.leak.positive"].swing     # test_ana is not observed
0.0
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import QueryError, check_cause
from .jsonout import json_number

__all__ = ["ParamSwing", "Sensitivity", "sensitivity"]


@dataclass(frozen=True)
class ParamSwing:
    """The cause's posterior with one parameter at its low and at its high.

    ``swing`` is ``|posterior_high - posterior_low|`` (NaN when the evidence
    is impossible at either end).
    """

    path: str
    value: float
    low: float
    high: float
    posterior_low: float
    posterior_high: float
    swing: float
    sources: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (NaN becomes ``None``)."""
        num = json_number

        return {"path": self.path, "value": self.value, "low": self.low, "high": self.high,
                "posterior_low": num(self.posterior_low),
                "posterior_high": num(self.posterior_high), "swing": num(self.swing),
                "sources": list(self.sources)}


@dataclass(frozen=True)
class Sensitivity:
    """One-at-a-time sensitivity of one cause's posterior for one evidence set.

    Attributes
    ----------
    cause, label : str
        The cause.
    posterior : float
        Its posterior with every number at its value (the tornado's axis).
    items : tuple of ParamSwing
        Every parameter with a range, largest swing first (ties in the order of
        the knowledge files; NaN swings last).
    evidence : dict
        The evidence used.
    """

    cause: str
    label: str
    posterior: float
    items: tuple[ParamSwing, ...]
    evidence: Mapping[str, str]

    def __getitem__(self, path: str) -> ParamSwing:
        for it in self.items:
            if it.path == path:
                return it
        raise KeyError(f"sensitivity: {path!r} must be a parameter path with a range; "
                       f"got none such; try one of {', '.join(i.path for i in self.items[:3])}")

    def top(self, n: int | None) -> tuple[ParamSwing, ...]:
        """The ``n`` largest swings (all when ``n`` is None)."""
        return self.items if n is None else self.items[:max(n, 0)]

    def tornado(self, n: int = 15) -> list[dict[str, Any]]:
        """Bars of a tornado chart, largest first: the posterior at each end around ``base``."""
        return [{"parameter": i.path, "base": self.posterior, "at_low": i.posterior_low,
                 "at_high": i.posterior_high, "low": i.low, "high": i.high, "value": i.value}
                for i in self.top(n)]

    def to_dict(self, top: int | None = None) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"cause": self.cause, "label": self.label, "posterior": round(self.posterior, 9),
                "evidence": dict(self.evidence),
                "parameters": [i.to_dict() for i in self.top(top)]}

    def format(self, top: int | None = 15) -> str:
        """A plain-text table of the largest swings (percentages; lines within 100 columns)."""
        rows = self.top(top)
        w = min(max([len(i.path) for i in rows] + [9]), 40)

        def pc(p: float) -> str:
            return f"{100 * p:.1f}%"

        lines = [f"{self.label}: {pc(self.posterior)} with every number at its value.",
                 "Each number in turn at the low / high end of its range (key in priors/):",
                 (f"  {'number':<{w}} {'value':>6} {'range':>11} {'at low':>7} {'at high':>7} {'swing':>6}"
                  "  source")]
        for i in rows:
            path = i.path
            if len(path) > w:  # the whole key on its own line: it is what to edit
                lines.append(f"  {path}")
                path = ""
            rng = f"{i.low:.3g}-{i.high:.3g}"
            lines.append(f"  {path:<{w}} {i.value:6.3g} {rng:>11} {pc(i.posterior_low):>7} "
                         f"{pc(i.posterior_high):>7} {100 * i.swing:5.1f}p  {', '.join(i.sources)}"[:100])
        if top is not None and len(self.items) > top:
            lines.append(f"  ... {len(self.items) - top} more (use --top)")
        return "\n".join(lines)


def _barren(path: str, evidence: Mapping[str, str]) -> bool:
    parts = path.split(".")
    return parts[0] == "findings" and parts[1] not in evidence


def sensitivity(engine, cause: str, evidence: Mapping[str, str], *,
                params: Iterable[str] | None = None, chunk: int = 256) -> Sensitivity:
    """Posterior of ``cause`` with each number at its low and high, ranked by swing.

    Parameters
    ----------
    engine : Engine
        The compiled engine.
    cause : str
        The cause id.
    evidence : mapping
        ``node -> state``.
    params : iterable of str, optional
        Only parameters whose path starts with one of these prefixes
        (e.g. ``"causes.sle"``, ``"findings.test_ana"``).
    chunk : int
        Parameter vectors per engine call (bounds memory; the result does not
        depend on it).

    Raises
    ------
    QueryError
        Unknown cause (the message lists the nearest ids).
    CaseError
        Unknown node or state in the evidence.
    ImpossibleEvidenceError
        The evidence has probability zero with every number at its value.
    """
    net = engine.net
    ci = check_cause(engine, cause, "sensitivity: cause")
    ev = dict(evidence)
    base = float(engine.posterior(ev).probs[ci])
    prefixes = tuple(params) if params is not None else ("",)
    chosen = [i for i, p in enumerate(net.params)
              if p.low != p.high and p.path.startswith(prefixes)]
    run = [i for i in chosen if not _barren(net.params[i].path, ev)]
    lo, hi = net.bounds
    P = len(run)
    theta = np.repeat(net.theta0[None, :], 2 * P, axis=0)
    theta[np.arange(P), run] = lo[run]
    theta[P + np.arange(P), run] = hi[run]
    post = np.empty(2 * P)
    step = max(int(chunk), 1)
    for start in range(0, 2 * P, step):
        rows = theta[start:start + step]
        post[start:start + len(rows)] = engine.posterior_batch(
            [ev], tables=net.tables(rows)).probs[:, 0, ci]
    at = {i: (post[k], post[P + k]) for k, i in enumerate(run)}
    items = []
    for i in chosen:
        p = net.params[i]
        a, b = at.get(i, (base, base))
        items.append(ParamSwing(p.path, p.value, p.low, p.high, float(a), float(b),
                                float(abs(b - a)), p.sources))
    items.sort(key=lambda s: -s.swing if math.isfinite(s.swing) else math.inf)
    return Sensitivity(cause, net.labels[cause], base, tuple(items), ev)
