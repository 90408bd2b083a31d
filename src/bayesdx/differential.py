"""Tests chosen for the differential, and DXplain-style lists for one cause.

:func:`next_tests` in :mod:`bayesdx.voi` sums the entropy of all causes, which
rewards settling frequent causes that explain nothing. Here a test is scored
only by what it is expected to teach about the **pursued** causes (as GeNIe's
"pursued faults"): the ones the user names, or by default the *differential*,
the causes that may explain the findings, ranked by the exact
``P(present and needed | e)`` of :mod:`bayesdx.counterfactual` (those at
least :data:`DIFFERENTIAL_MIN`, at most :data:`DIFFERENTIAL_MAX`, the leading
one always). The score is the exact expected entropy reduction summed over the
pursued causes, ``sum_{c in P} I(test; c | e)`` in bits, cost shown beside.

:func:`cause_workup` gives, for one cause, the findings that support it and
argue against it (exact leave-one-out likelihood ratios,
:func:`bayesdx.explain.explain`), and the tests whose most telling result would
most confirm or most exclude it; every weight is ``log10`` of an exact
likelihood ratio (the factor on the cause's odds).

Examples
--------
>>> from bayesdx.diagnosis import load_model
>>> m = load_model()
>>> ev = {"anc": "severe", "exposure_antipsychotic": "clozapine_window", "hx_fever": "present"}
>>> dt = differential_tests(m.engine, ev)
>>> dt.pursued[0]
'drug_antipsychotic'
>>> w = cause_workup(m.engine, "drug_antipsychotic", ev)
>>> w.supporting[0].weight > 0
True
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import Problem
from .voi import QueryError, _candidates, _outcomes_fast, binary_entropy
from .words import pct, state_text

__all__ = ["DIFFERENTIAL_MAX", "DIFFERENTIAL_MIN", "CauseWorkup", "DifferentialTests",
           "TestResultWeight", "cause_workup", "differential_tests"]

DIFFERENTIAL_MIN = 0.02
"""A cause joins the default differential when ``P(present and needed | e)`` reaches this."""
DIFFERENTIAL_MAX = 5
"""... and at most this many causes are pursued by default."""


@dataclass(frozen=True)
class DifferentialTests:
    """Tests ranked by expected information about the pursued causes (bits), best first.

    ``items`` are ``(finding, label, cost, bits, bits per cost)``.
    """

    pursued: tuple[str, ...]
    chosen_by: str
    items: tuple[tuple[str, str, float, float, float], ...]
    lookahead: Mapping[str, tuple[float, tuple[str | None, ...]]] | None = None

    def to_dict(self, top: int | None = None) -> dict[str, Any]:
        """JSON-ready dict (``two_step_bits`` and ``then`` with a look-ahead)."""
        rows = self.items if top is None else self.items[:top]
        tests = []
        for f, lab, c, b, v in rows:
            t = {"finding": f, "label": lab, "cost": c, "bits": round(b, 9),
                 "bits_per_cost": round(v, 9)}
            if self.lookahead is not None:
                t["two_step_bits"] = round(self.lookahead[f][0], 9)
                t["then"] = list(self.lookahead[f][1])
            tests.append(t)
        return {"pursued": list(self.pursued), "pursued_by": self.chosen_by, "tests": tests}

    def format(self, top: int | None = 10, labels: Mapping[str, str] | None = None) -> str:
        """Plain-text table."""
        labels = labels or {}
        rows = self.items if top is None else self.items[:top]
        names = ", ".join(labels.get(c, c) for c in self.pursued)
        w = max([len(r[1]) for r in rows] + [4])
        la = self.lookahead
        out = [f"Pursued causes ({self.chosen_by}): {names}",
               f"  {'#':>2}  {'test':<{w}}  {'cost':>5}  {'bits':>6}  {'bits/cost':>9}"
               + ("  2-step bits  then (per result)" if la is not None else "")]
        for i, (f, lab, c, b, v) in enumerate(rows, 1):
            extra = ""
            if la is not None:
                then = ", ".join(labels.get(x, x) if x else "-" for x in la[f][1])
                extra = f"  {la[f][0]:11.3f}  {then}"
            out.append(f"  {i:>2}  {lab:<{w}}  {c:>5g}  {b:6.3f}  {v:9.4f}{extra}")
        return "\n".join(out)


@dataclass(frozen=True)
class TestResultWeight:
    """One item in a cause's lists: ``node = state`` and its exact weight on the cause.

    ``weight`` is ``log10`` of the likelihood ratio (``+1``: odds x10);
    ``prob`` is the chance of that result (1 for findings already known);
    ``posterior`` the cause's posterior with (known) or after (test) it.
    """

    __test__ = False

    node: str
    state: str
    label: str
    weight: float
    prob: float
    posterior: float


@dataclass(frozen=True)
class CauseWorkup:
    """DXplain-style lists for one cause."""

    cause: str
    posterior: float
    supporting: tuple[TestResultWeight, ...]
    against: tuple[TestResultWeight, ...]
    confirm: tuple[TestResultWeight, ...]
    exclude: tuple[TestResultWeight, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        def rows(items):
            return [{"node": r.node, "state": r.state, "label": r.label,
                     "weight": r.weight if math.isfinite(r.weight) else None,
                     "prob": round(r.prob, 9), "posterior": round(r.posterior, 9)} for r in items]

        return {"cause": self.cause, "posterior": round(self.posterior, 9),
                "supporting": rows(self.supporting), "against": rows(self.against),
                "would_confirm": rows(self.confirm), "would_exclude": rows(self.exclude)}

    def format(self, top: int = 6, label: str | None = None) -> str:
        """Plain text: four short lists."""
        out = [f"{label or self.cause}: posterior {pct(self.posterior)} "
               "(weight = log10 likelihood ratio; +1 multiplies the odds by 10)"]
        for title, items, with_p in (("Findings that support it", self.supporting, False),
                                     ("Findings that argue against it", self.against, False),
                                     ("Tests that would most confirm it", self.confirm, True),
                                     ("Tests that would most exclude it", self.exclude, True)):
            out.append(f"  {title}:")
            if not items:
                out.append("    (none)")
            for r in items[:top]:
                extra = (f"  (chance now {pct(r.prob)}; -> {pct(r.posterior)})" if with_p else "")
                out.append(f"    {r.weight:+7.2f}  {r.label}: {state_text(r.state)}{extra}")
        return "\n".join(out)


def _pursued(engine, ev, pursue):
    if pursue:
        bad = [c for c in pursue if c not in engine.causes]
        if bad:
            import difflib

            near = difflib.get_close_matches(bad[0], engine.causes, 3)
            raise QueryError(Problem("pursue", "", "must be cause ids", ", ".join(bad),
                                     ", ".join(near) or "an id listed by 'bayesdx diagnose'"))
        return tuple(dict.fromkeys(pursue)), "chosen"
    from .counterfactual import counterfactual

    ranked = counterfactual(engine, ev).ranked("needed")
    keep = [c for i, (c, p) in enumerate(ranked) if i == 0 or p >= DIFFERENTIAL_MIN]
    return tuple(keep[:DIFFERENTIAL_MAX]), "differential: P(present and needed)"


def _bits(engine, ev, cands, idx):
    """Expected entropy reduction over causes ``idx`` of every candidate, and the outcomes."""
    p_e, table = _outcomes_fast(engine, ev, cands)
    h_e = float(binary_entropy(p_e[idx]).sum())
    bits = [max(h_e - sum(p * float(binary_entropy(post[idx]).sum())
                          for p, post in outs if post is not None and p > 0), 0.0)
            for outs in table]
    return bits, table


def differential_tests(engine, evidence: Mapping[str, str], *,
                       pursue: Iterable[str] | None = None,
                       candidates: Iterable[str] | None = None,
                       lookahead: bool = False) -> DifferentialTests:
    """Rank the unobserved tests by exact expected information about the pursued causes.

    With ``lookahead`` every test ``A`` also gets its exact two-step value
    ``I(A; P) + sum_a P(a) max_B I(B; P | A = a)`` (the best second test
    chosen after seeing ``A``'s result) and that best second test per result:
    a test that only pays off through the next one shows up here. It costs
    one :func:`next_tests`-sized pass per result of every candidate.

    Raises
    ------
    QueryError
        Unknown pursued causes or candidates.
    ImpossibleEvidenceError
        The evidence has probability zero.
    """
    net = engine.net
    ev = dict(evidence)
    engine.validate(ev)
    pursued, how = _pursued(engine, ev, list(pursue or []))
    cands = _candidates(net, ev, candidates)
    if not cands:
        return DifferentialTests(pursued, how, ())
    idx = [engine.causes.index(c) for c in pursued]
    first, table = _bits(engine, ev, cands, idx)
    items = []
    for f, bits in zip(cands, first):
        spec = net.kb.findings[f]
        cost = 1.0 if spec.cost is None else float(spec.cost)
        items.append((f, net.labels[f], cost, bits, bits / cost if cost > 0 else math.inf))
    ahead = None
    if lookahead:
        ahead = {}
        for f, bits, outs in zip(cands, first, table):
            total, then = bits, []
            for s, (p, post) in zip(net.states[f], outs):
                rest = [c for c in cands if c != f]
                if post is None or p <= 0 or not rest:
                    then.append(None)
                    continue
                nxt, _ = _bits(engine, {**ev, f: s}, rest, idx)
                j = max(range(len(rest)), key=lambda k: (nxt[k], -k))
                total += p * nxt[j]
                then.append(rest[j])
            ahead[f] = (total, tuple(then))
    order = sorted(range(len(items)), key=lambda i: (-items[i][3], i))
    return DifferentialTests(pursued, how, tuple(items[i] for i in order), ahead)


def _weight(p_after: float, p_before: float) -> float:
    def logit(p):
        if p <= 0:
            return -math.inf
        if p >= 1:
            return math.inf
        return math.log10(p / (1 - p))

    a, b = logit(p_after), logit(p_before)
    if math.isinf(a) or math.isinf(b):
        return a if a != b else 0.0
    return a - b


def cause_workup(engine, cause: str, evidence: Mapping[str, str], *,
                 candidates: Iterable[str] | None = None, top: int = 8) -> CauseWorkup:
    """Supporting and opposing findings, and the most confirming and excluding tests.

    Raises
    ------
    CaseError
        Unknown cause, node or state.
    ImpossibleEvidenceError
        The evidence has probability zero.
    """
    from .explain import explain

    ex = explain(engine, cause, evidence)

    def known(items):
        return tuple(TestResultWeight(c.node, c.state, c.label, c.weight, 1.0, ex.posterior)
                     for c in items[:top])

    net = engine.net
    ev = dict(evidence)
    cands = _candidates(net, ev, candidates)
    i = engine.causes.index(cause)
    best_up, best_down = [], []
    if cands:
        p_e, table = _outcomes_fast(engine, ev, cands)
        for f, outs in zip(cands, table):
            res = [(_weight(float(post[i]), float(p_e[i])), s, p, float(post[i]))
                   for s, (p, post) in zip(net.states[f], outs) if post is not None and p > 0]
            if not res:
                continue
            up, down = max(res), min(res)
            lab = net.labels[f]
            if up[0] > 0:
                best_up.append(TestResultWeight(f, up[1], lab, up[0], up[2], up[3]))
            if down[0] < 0:
                best_down.append(TestResultWeight(f, down[1], lab, down[0], down[2], down[3]))
    best_up.sort(key=lambda r: -r.weight)
    best_down.sort(key=lambda r: r.weight)
    return CauseWorkup(cause, ex.posterior, known(ex.supporting), known(ex.against),
                       tuple(best_up[:top]), tuple(best_down[:top]))
