"""Next best test: the exact expected value of information of every orderable test.

For the current evidence ``e`` every unobserved finding ``f`` that a clinician
can order (``orderable: true`` in ``model/findings_*.yaml``: smear, marrow,
serologies, vitamin levels, genetic tests) is scored by what its result is
expected to teach about the causes:

* **expected entropy reduction** (bits): causes may co-occur, so the
  uncertainty is the *sum of the binary entropies* of the cause posteriors,
  ``H(e) = sum_c H2(P(c | e))``, and the score is
  ``H(e) - sum_s P(f=s | e) H(e + {f=s})`` (the sum over causes of the mutual
  information between ``f`` and each cause; never negative);
* **expected change of the leading cause**:
  ``sum_s P(f=s | e) |P(lead | e + {f=s}) - P(lead | e)|``;
* **value per cost**: the entropy reduction divided by the test's ``cost``
  from the knowledge files (missing: 1).

Everything is exact. ``P(f=s | e) = exp(logZ(e + {f=s}) - logZ(e))`` and the
posteriors given ``e + {f=s}`` come from the engine:

``method="direct"``
    every ``(f, s)`` evidence set in ONE :meth:`Engine.posterior_batch` call
    (the engine groups them by pattern; one compiled plan per candidate
    state). The reference.
``method="fast"`` (default)
    one ``posterior_batch`` call for ``e`` and ``e + {f=baseline}`` of every
    candidate: all candidates are entered at baseline and, in draw ``d`` of
    the table batch, every candidate but the ``d``-th gets the table
    ``P(baseline | parents) = 1``, which is the same as not observing it. A
    binary candidate's other outcome follows from the law of total
    probability, ``P(c | e, f=1) = (P(c | e) - P0 P(c | e, f=0)) / (1 - P0)``;
    findings with more states, and outcomes with ``P(f=1 | e) < 1e-4`` (where
    that subtraction would lose digits), go through the direct route. It
    agrees with ``"direct"`` to about 1e-10 and avoids compiling one plan per
    candidate state.

Examples
--------
>>> from bayesdx.case import parse_case
>>> from bayesdx.diagnosis import load_model
>>> m = load_model()
>>> case = {"age_years": 55, "sex": "male", "history": ["splenomegaly"], "medications": [],
...         "cbc": {"anc": 0.9, "alc": 1.0, "amc": 0.02, "hb": 10.5, "plt": 80}}
>>> nt = next_tests(m.engine, parse_case(case, m.kb).evidence)
>>> nt.items[0].finding in ("test_braf_v600e", "marrow_hairy_cell_infiltration")
True
>>> braf = nt["test_braf_v600e"]
>>> [(o.state, o.top_cause) for o in braf.outcomes]
[('negative', 'hypersplenism'), ('positive', 'hairy_cell_leukemia')]
>>> round(sum(o.prob for o in braf.outcomes), 12)
1.0
>>> nt.sorted("cost").items[0].finding      # cheap and informative: look at the smear
'smear_hairy_cells'
"""

from __future__ import annotations

import re
import textwrap

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from .errors import Problem, QueryError, check_option, suggest
from .jsonout import json_number
from .knowledge.network import Tables

__all__ = ["METHODS", "SORT_KEYS", "NextTests", "Outcome", "TestValue", "binary_entropy",
           "next_tests"]

#: ``--by`` choice -> attribute ranked (highest first)
SORT_KEYS = {"info": "expected_entropy_reduction", "change": "expected_top_change",
             "cost": "value_per_cost"}
#: how :func:`next_tests` computes (``direct``: one query per outcome, a cross-check)
METHODS = ("fast", "direct")
#: below this ``P(f=1 | e)`` a binary outcome is computed directly, not by subtraction
_DIRECT_BELOW = 1e-4


class Outcome(NamedTuple):
    """One possible result of a test.

    ``top_cause`` is the most probable cause after that result and ``top_prob``
    its posterior; ``mover`` is the cause whose posterior that result changes
    most (absolute change) and ``mover_prob`` its posterior after it. All are
    ``None`` for a result of probability zero.
    """

    state: str
    prob: float
    top_cause: str | None
    top_prob: float | None
    mover: str | None = None
    mover_prob: float | None = None


@dataclass(frozen=True)
class TestValue:
    """The expected value of ordering one test (see the module docstring)."""

    __test__ = False  # not a pytest class

    finding: str
    label: str
    group: str
    cost: float
    expected_entropy_reduction: float
    expected_top_change: float
    value_per_cost: float
    outcomes: tuple[Outcome, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (non-finite numbers become ``None``)."""
        num = json_number

        return {"finding": self.finding, "label": self.label, "group": self.group,
                "cost": num(self.cost),
                "expected_entropy_reduction": num(self.expected_entropy_reduction),
                "expected_top_change": num(self.expected_top_change),
                "value_per_cost": num(self.value_per_cost),
                "outcomes": [{"state": o.state, "prob": num(o.prob), "top_cause": o.top_cause,
                              "top_prob": num(o.top_prob), "moves_most": o.mover,
                              "moves_most_to": num(o.mover_prob)} for o in self.outcomes]}


@dataclass(frozen=True)
class NextTests:
    """Every candidate test for one evidence set, ranked by ``by``.

    Attributes
    ----------
    items : tuple of TestValue
        Ranked, best first (ties in model order).
    evidence : dict
        The evidence scored.
    entropy : float
        ``sum_c H2(P(c | e))`` in bits, the uncertainty a test can reduce.
    lead, lead_prob
        The leading cause and its posterior.
    by : str
        The ranking key, one of :data:`SORT_KEYS`.
    """

    items: tuple[TestValue, ...]
    evidence: Mapping[str, str] = field(default_factory=dict)
    entropy: float = 0.0
    lead: str = ""
    lead_prob: float = 0.0
    by: str = "info"
    order: tuple[str, ...] = field(default=(), repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, finding: str) -> TestValue:
        for t in self.items:
            if t.finding == finding:
                return t
        raise KeyError(f"next tests: {finding!r} must be a candidate; got none such; "
                       f"try one of {', '.join(t.finding for t in self.items[:5])}")

    def sorted(self, by: str) -> NextTests:
        """The same tests ranked by ``by`` (``info``, ``cost`` or ``change``)."""
        key = _sort_key(by)
        pos = {f: i for i, f in enumerate(self.order)}
        items = sorted(self.items, key=lambda t: (-_finite(getattr(t, key)), pos.get(t.finding, 0)))
        return NextTests(tuple(items), self.evidence, self.entropy, self.lead, self.lead_prob, by,
                         self.order)

    def top(self, n: int | None) -> tuple[TestValue, ...]:
        """The first ``n`` tests (all when ``n`` is None)."""
        return self.items if n is None else self.items[:max(n, 0)]

    def to_dict(self, top: int | None = None) -> dict[str, Any]:
        """JSON-ready dict of the ranking."""
        return {"evidence": dict(self.evidence), "entropy_bits": round(self.entropy, 9),
                "lead": {"id": self.lead, "posterior": round(self.lead_prob, 9)}, "by": self.by,
                "tests": [t.to_dict() for t in self.top(top)]}

    def format(self, top: int | None = None, labels: Mapping[str, str] | None = None) -> str:
        """A plain-text table, one test per line and its results below (within 100 columns)."""
        labels = labels or {}
        rows = self.top(top)
        w = min(max([len(labels.get(t.finding, t.label)) for t in rows] + [4]), 33)  # 67 + w <= 100
        lines = [*textwrap.wrap(f"Leading cause: {labels.get(self.lead, self.lead)} {100 * self.lead_prob:.1f}%; "
                                f"uncertainty {self.entropy:.2f} bits (sum over causes); ranked by {self.by}", 100),
                 (f"  {'#':>2}  {'test':<{w}}  {'group':<8} {'cost':>4}  {'info (bits)':>11}  "
                  f"{'lead moves (pts)':>16}  {'bits per cost':>13}")]
        for i, t in enumerate(rows, 1):
            name = labels.get(t.finding, t.label)
            if len(name) > w:  # a long name on a line of its own, never cut
                lines.append(f"  {i:>2}  {name}")
                name = ""
            lines.append(f"  {'' if not name else i:>2}  {name:<{w}}  {t.group:<8} {t.cost:>4g}  "
                         f"{t.expected_entropy_reduction:11.3f}  {100 * t.expected_top_change:16.1f}  "
                         f"{t.value_per_cost:13.4f}")
            outs = "; ".join(_outcome_text(o, labels) for o in t.outcomes)
            lines += textwrap.wrap(outs, 100, initial_indent="      if ", subsequent_indent="        ")
        if top is not None and len(self.items) > top:
            lines.append(f"  ... {len(self.items) - top} more (use --top)")
        return "\n".join(lines)


def _outcome_text(o: Outcome, labels: Mapping[str, str] | None = None) -> str:
    labels = labels or {}
    if not o.top_cause:
        return f"{o.state.replace('_', ' ')} (0%)"
    name = (lambda c: re.sub(r"\s*\([^)]*\)$", "", labels.get(c, c)))
    text = f"{o.state.replace('_', ' ')} ({100 * o.prob:.0f}%): {name(o.top_cause)} {100 * o.top_prob:.0f}%"
    if o.mover and o.mover != o.top_cause:
        text += f", {name(o.mover)} to {100 * o.mover_prob:.0f}%"
    return text


def binary_entropy(p: np.ndarray) -> np.ndarray:
    """``H2(p)`` in bits, elementwise (0 at 0 and 1).

    >>> binary_entropy(np.array([0.0, 0.5, 1.0])).tolist()
    [0.0, 1.0, 0.0]
    """
    p = np.clip(np.asarray(p, dtype=float), 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -(p * np.log2(p) + (1 - p) * np.log2(1 - p))
    return np.where((p > 0) & (p < 1), h, 0.0)


def _finite(x: float) -> float:
    return x if math.isfinite(x) else (math.inf if x > 0 else -math.inf)


def _sort_key(by: str) -> str:
    check_option("next tests: by", by, SORT_KEYS)
    return SORT_KEYS[by]


def _candidates(net, evidence: Mapping[str, str], candidates: Iterable[str] | None) -> list[str]:
    """Orderable (or the given) findings that are not observed, in model order.

    A level whose verdict is observed (``b12_verdict``) or a verdict whose level is
    (``b12_level``) is left out: the two read one measurement and are never
    observed together.
    """
    seen = set(evidence)
    for d, (src, _) in net.derived.items():
        if d in evidence or src in evidence:
            seen |= {d, src}
    if candidates is None:
        return [f for f in net.findings if net.kb.findings[f].orderable and f not in seen]
    wanted = list(candidates)
    for c in wanted:
        if c not in net.kb.findings:
            raise QueryError(Problem("next tests: candidates", "",
                                     "must be findings of the network", repr(c),
                                     suggest(str(c), net.findings, "finding",
                                             "a finding listed by 'bayesdx nodes --kind finding'")))
    chosen = set(wanted)
    return [f for f in net.findings if f in chosen and f not in seen]


def _masked_tables(T: Tables, cands: list[str]) -> Tables:
    """``len(cands) + 1`` draws; in draw ``d`` only ``cands[d]`` keeps its real table.

    A masked finding has ``P(baseline | any parents) = 1``: observing it at
    baseline multiplies the likelihood by one. The last draw masks all.
    """
    D = len(cands) + 1

    def rep(a: np.ndarray) -> np.ndarray:
        return np.repeat(a, D, axis=0)

    leaks = {f: rep(a) for f, a in T.finding_leak.items()}
    links = {f: {p: rep(a) for p, a in d.items()} for f, d in T.finding_links.items()}
    for i, f in enumerate(cands):
        mask = np.arange(D) != i
        for arr in (leaks[f], *links[f].values()):
            arr[mask] = 0.0
            arr[mask, ..., 0] = 1.0
    return Tables(D, {k: rep(a) for k, a in T.context_cpt.items()},
                  {k: rep(a) for k, a in T.cause_cpt.items()}, leaks, links,
                  {k: rep(a) for k, a in T.cause_base.items()})


def _outcomes_direct(engine, ev, sets):
    """``[(prob, posterior or None)]`` for each evidence set, with ``logZ(ev)`` and ``P(c|ev)``."""
    bp = engine.posterior_batch([ev, *sets])
    lz, probs = bp.log_evidence[0], bp.probs[0]
    if not np.isfinite(lz[0]):
        engine.posterior(ev)  # raises ImpossibleEvidenceError naming the conflict
    out = []
    for j in range(1, len(lz)):
        p = float(np.exp(lz[j] - lz[0])) if np.isfinite(lz[j]) else 0.0
        out.append((p, probs[j] if p > 0 else None))
    return probs[0], out


def _outcomes_fast(engine, ev, cands):
    """As :func:`_outcomes_direct` for every state of every candidate (see the module doc)."""
    net = engine.net
    e0 = {**ev, **{f: net.states[f][0] for f in cands}}
    bp = engine.posterior_batch([e0], tables=_masked_tables(net.tables(), cands))
    lz, probs = bp.log_evidence[:, 0], bp.probs[:, 0]
    if not np.isfinite(lz[-1]):
        engine.posterior(ev)
    p_e = probs[-1]
    res: dict[tuple[str, str], tuple[float, np.ndarray | None]] = {}
    direct = []
    for i, f in enumerate(cands):
        states = net.states[f]
        p0 = min(1.0, float(np.exp(lz[i] - lz[-1]))) if np.isfinite(lz[i]) else 0.0
        res[(f, states[0])] = (p0, probs[i] if p0 > 0 else None)
        p1 = 1.0 - p0
        if len(states) == 2 and p1 >= _DIRECT_BELOW:
            post0 = probs[i] if p0 > 0 else np.zeros_like(p_e)
            res[(f, states[1])] = (p1, np.clip((p_e - p0 * post0) / p1, 0.0, 1.0))
        else:
            direct += [(f, s) for s in states[1:]]
    if direct:
        _, outs = _outcomes_direct(engine, ev, [{**ev, f: s} for f, s in direct])
        res.update(zip(direct, outs))
    return p_e, [[res[(f, s)] for s in net.states[f]] for f in cands]


def next_tests(engine, evidence: Mapping[str, str], *, candidates: Iterable[str] | None = None,
               by: str = "info", method: str = "fast") -> NextTests:
    """Rank the unobserved orderable tests by their exact expected value of information.

    Parameters
    ----------
    engine : Engine
        The compiled engine (point estimate of the priors).
    evidence : mapping
        ``node -> state`` already known.
    candidates : iterable of str, optional
        Findings to score instead of every orderable one; observed ones are dropped.
    by : {"info", "cost", "change"}
        Ranking: expected entropy reduction, value per cost, or expected
        change of the leading cause's probability.
    method : {"fast", "direct"}
        See the module docstring; both are exact.

    Raises
    ------
    CaseError
        Unknown nodes or states in the evidence.
    QueryError
        Unknown candidates, ``by`` or ``method``.
    ImpossibleEvidenceError
        The evidence has probability zero.
    """
    key = _sort_key(by)
    check_option("next tests: method", method, METHODS)
    net = engine.net
    ev = dict(evidence)
    engine.validate(ev)
    cands = _candidates(net, ev, candidates)
    if not cands:
        p_e, table = engine.posterior(ev).probs, []
    elif method == "direct":
        sets = [{**ev, f: s} for f in cands for s in net.states[f]]
        p_e, flat = _outcomes_direct(engine, ev, sets)
        it = iter(flat)
        table = [[next(it) for _ in net.states[f]] for f in cands]
    else:
        p_e, table = _outcomes_fast(engine, ev, cands)
    causes = engine.causes
    lead = int(np.argmax(p_e))
    h_e = float(binary_entropy(p_e).sum())
    items = []
    for f, outs in zip(cands, table):
        spec = net.kb.findings[f]
        cost = 1.0 if spec.cost is None else float(spec.cost)
        eer, change, rows = h_e, 0.0, []
        for s, (p, post) in zip(net.states[f], outs):
            if post is None or p <= 0:
                rows.append(Outcome(s, 0.0, None, None))
                continue
            eer -= p * float(binary_entropy(post).sum())
            change += p * abs(float(post[lead]) - float(p_e[lead]))
            top = int(np.argmax(post))
            mover = int(np.argmax(np.abs(post - p_e)))
            rows.append(Outcome(s, p, causes[top], float(post[top]), causes[mover], float(post[mover])))
        vpc = eer / cost if cost > 0 else (math.inf if eer > 0 else 0.0)
        items.append(TestValue(f, net.labels[f], spec.group, cost, eer, change, vpc, tuple(rows)))
    order = sorted(range(len(items)), key=lambda i: (-_finite(getattr(items[i], key)), i))
    return NextTests(tuple(items[i] for i in order), ev, h_e, causes[lead], float(p_e[lead]), by,
                     tuple(cands))
