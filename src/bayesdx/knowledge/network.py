"""The network: node structure plus numeric tables built from the knowledge files.

:class:`Network` is the engine-independent specification: every node, its
states and parents, and every number as a parameter (value, low, high,
source). :meth:`Network.tables` turns a parameter vector (or a batch of them,
for Monte-Carlo uncertainty) into numeric conditional probability tables:

* context node ``x``: ``P(x | parent)`` with shape ``(D, [parent card], card)``;
* cause ``c``: ``P(c present | parents)`` with shape ``(D, *parent cards)``;
* finding ``f``: a leaky noisy-MAX: ``leak`` ``(D, S)`` (what the leak alone
  produces) and one ``link`` per parent ``(D, parent card, S)`` (an absent cause has no effect).

Examples
--------
>>> net = Network.from_knowledge()
>>> t = net.tables()
>>> t.finding_leak["anc"].shape[-1] == len(net.states["anc"])
True
>>> bool(abs(t.link("anc", net.parents["anc"][0])[0, 0].sum() - 1) < 1e-12)
True
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .baselines import derived_runs, merge_states, solve_base, with_baseline
from ..errors import KnowledgeError, Problem, suggest
from .load import Knowledge, load_knowledge
from .schema import Param
from .tables import DERIVED_LOCK, Tables

__all__ = ["DERIVED_LOCK", "Network", "ParamInfo", "Tables"]


@dataclass(frozen=True)
class ParamInfo:
    """One number of the knowledge files, addressable by ``path``.

    ``kind`` is ``"prob"`` (a probability) or ``"rr"`` (a relative risk).
    """

    path: str
    value: float
    low: float
    high: float
    kind: str
    sources: tuple[str, ...]
    note: str | None = None

    @property
    def estimate(self) -> bool:
        """True when the number is a judgement (source ``E``) only."""
        return self.sources == ("E",)


class Network:
    """Structure and parameters of the diagnostic network.

    Build it with :meth:`from_knowledge`. The object is read-only after
    construction; numeric tables come from :meth:`tables`.
    """

    def __init__(self, kb: Knowledge):
        self.kb = kb
        self.context: list[str] = list(kb.context)
        self.causes: list[str] = list(kb.causes)
        self.findings: list[str] = list(kb.findings)
        self.states: dict[str, tuple[str, ...]] = {n: tuple(kb.states(n)) for n in kb.nodes}
        self.parents: dict[str, tuple[str, ...]] = {}
        for n, s in kb.context.items():
            self.parents[n] = tuple(s.parents)
        for n, s in kb.causes.items():
            self.parents[n] = tuple(s.parents)
        for n, s in kb.findings.items():
            self.parents[n] = tuple(s.parents)
        self.labels = {n: spec.label for n, spec in
                       [*kb.context.items(), *kb.causes.items(), *kb.findings.items()]}
        self.family = {c: kb.causes[c].family for c in self.causes}
        self.derived = derived_runs(kb.findings)  # derived finding -> (source, runs)
        self.params: list[ParamInfo] = []
        self._index: dict[str, int] = {}
        self._collect()
        self._point = self.tables()  # validates that priors are reachable

    # ----------------------------------------------------------------- construction

    @classmethod
    def from_knowledge(cls, kb: Knowledge | None = None) -> Network:
        """Build the network from (by default) the repository's knowledge files."""
        return cls(kb if kb is not None else load_knowledge())

    def card(self, node: str) -> int:
        """Number of states of ``node``."""
        return len(self.states[node])

    @cached_property
    def position(self) -> dict[str, int]:
        """Every node's position in model order (context, causes, findings)."""
        return {n: i for i, n in enumerate([*self.context, *self.causes, *self.findings])}

    @cached_property
    def children(self) -> dict[str, tuple[str, ...]]:
        """Children of every node."""
        out: dict[str, list[str]] = {n: [] for n in self.states}
        for n, ps in self.parents.items():
            for p in ps:
                out[p].append(n)
        return {n: tuple(v) for n, v in out.items()}

    def _add(self, path: str, p: Param, kind: str) -> int:
        idx = len(self.params)
        self.params.append(ParamInfo(path, float(p.value), float(p.range[0]), float(p.range[1]),
                                     kind, tuple(p.source_list), p.note))
        self._index[path] = idx
        return idx

    def _collect(self) -> None:
        kb = self.kb
        for n in self.context:
            cp = kb.context_priors[n]
            if cp.prior is not None:
                for s, p in cp.prior.items():
                    self._add(f"context.{n}.prior.{s}", p, "prob")
            else:
                for ps, row in (cp.given or {}).items():
                    for s, p in row.items():
                        self._add(f"context.{n}.given.{ps}.{s}", p, "prob")
        for c in self.causes:
            cc = kb.cause_cpts[c]
            if cc.prior is not None:
                self._add(f"causes.{c}.prior", cc.prior, "prob")
            else:
                self._add(f"causes.{c}.base", cc.base, "prob")
            for par, table in cc.rr.items():
                for s, p in table.items():
                    self._add(f"causes.{c}.rr.{par}.{s}", p, "rr")
        for f in self.findings:
            if f in self.derived:
                continue  # no numbers of its own (tables() merges its source's)
            fc = kb.finding_cpts[f]
            self._effect(f"findings.{f}.leak", fc.leak, f)
            for par, eff in fc.links.items():
                if par in kb.causes:
                    self._effect(f"findings.{f}.links.{par}", eff, f)
                else:
                    for ps, sub in eff.items():
                        self._effect(f"findings.{f}.links.{par}.{ps}", sub, f)

    def _effect(self, path: str, eff, finding: str) -> None:
        states = self.states[finding]
        if isinstance(eff, Param):
            self._add(f"{path}.{states[1]}", eff, "prob")
        else:
            for s, p in eff.items():
                self._add(f"{path}.{s}", p, "prob")

    # ----------------------------------------------------------------- parameters

    @property
    def n_params(self) -> int:
        """Number of parameters."""
        return len(self.params)

    def param_index(self, path: str) -> int:
        """Position of the parameter at ``path`` in the parameter vector."""
        try:
            return self._index[path]
        except KeyError:
            raise KeyError(f"parameter {path!r}: must be a parameter path; try "
                           f"{suggest(path, self._index, 'parameter path')}") from None

    @cached_property
    def theta0(self) -> np.ndarray:
        """The point estimate of every parameter."""
        return np.array([p.value for p in self.params])

    @cached_property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Low and high of every parameter."""
        return (np.array([p.low for p in self.params]), np.array([p.high for p in self.params]))

    # ----------------------------------------------------------------- tables

    @cached_property
    def _recipe(self) -> dict:
        """Where each table entry comes from in the parameter vector (built once).

        Index ``n_params`` stands for a zero (an entry without a parameter,
        such as a baseline state or the row of an absent cause). Findings'
        leaks and links are grouped by their number of states, so that all of
        them get their baseline in a few whole-array operations.
        """
        ix = self._index
        zero = self.n_params

        def at(path: str) -> int:
            return ix.get(path, zero)

        ctx = {}
        for n in self.context:
            par = self.parents[n]
            if not par:
                ctx[n] = np.array([ix[f"context.{n}.prior.{s}"] for s in self.states[n]])
            else:
                ctx[n] = np.array([[ix[f"context.{n}.given.{ps}.{s}"] for s in self.states[n]]
                                   for ps in self.states[par[0]]])
        rr = {c: [np.array([ix[f"causes.{c}.rr.{p}.{s}"] for s in self.states[p]])
                  for p in self.parents[c]] for c in self.causes}
        groups: dict[int, list] = {}  # S -> [(finding, parent or None, rows)]
        for f in self.findings:
            if f in self.derived:
                continue
            states = self.states[f]
            S = len(states)
            rows = [[zero] + [at(f"findings.{f}.leak.{s}") for s in states[1:]]]
            groups.setdefault(S, []).append((f, None, rows))
            for p in self.parents[f]:
                if p in self.kb.causes:
                    rows = [[zero] * S, [zero] + [at(f"findings.{f}.links.{p}.{s}") for s in states[1:]]]
                else:
                    rows = [[zero] + [at(f"findings.{f}.links.{p}.{ps}.{s}") for s in states[1:]]
                            for ps in self.states[p]]
                groups[S].append((f, p, rows))
        finding_groups = []
        for S, items in groups.items():
            index = np.array([r for _, _, rows in items for r in rows])  # (rows, S)
            spans, start = [], 0
            for f, p, rows in items:
                spans.append((f, p, start, start + len(rows)))
                start += len(rows)
            finding_groups.append((index, spans))
        return {"ctx": ctx, "rr": rr, "findings": finding_groups}

    def tables(self, theta: np.ndarray | None = None) -> Tables:
        """Numeric CPTs for one parameter vector ``(P,)`` or a batch ``(D, P)``.

        The point estimate's tables are cached; pass ``theta`` for draws.
        """
        if theta is None and getattr(self, "_point", None) is not None:
            return self._point
        th = self.theta0 if theta is None else np.asarray(theta, dtype=float)
        if th.ndim == 1:
            th = th[None, :]
        D = th.shape[0]
        ix = self._index
        recipe = self._recipe
        thz = np.concatenate([th, np.zeros((D, 1))], axis=1)  # column n_params: a zero

        def g(path: str) -> np.ndarray:
            return th[:, ix[path]]

        ctx: dict[str, np.ndarray] = {}
        for n in self.context:
            t = np.clip(np.take(thz, recipe["ctx"][n], axis=1), 0.0, None)
            ctx[n] = t / t.sum(axis=-1, keepdims=True)

        marg = self._context_marginals(ctx)

        causes: dict[str, np.ndarray] = {}
        bases: dict[str, np.ndarray] = {}
        problems: list[Problem] = []
        for c in self.causes:
            par = self.parents[c]
            cc = self.kb.cause_cpts[c]
            rr = np.ones((D,) + tuple(self.card(p) for p in par))
            for i, (p, idx) in enumerate(zip(par, recipe["rr"][c])):
                shape = [D] + [1] * len(par)
                shape[1 + i] = self.card(p)
                rr = rr * np.take(thz, idx, axis=1).reshape(shape)
            cap = cc.cap
            if cc.base is not None:
                base = g(f"causes.{c}.base")
            else:
                prior = g(f"causes.{c}.prior")
                weight = np.ones((D,) + tuple(self.card(p) for p in par))
                for i, p in enumerate(par):
                    shape = [D] + [1] * len(par)
                    shape[1 + i] = self.card(p)
                    weight = weight * marg[p].reshape(shape)
                base, ok = solve_base(prior, rr.reshape(D, -1), weight.reshape(D, -1), cap)
                if theta is None and not ok.all():
                    reach = float((weight.reshape(D, -1) * (rr.reshape(D, -1) > 0)).sum(-1)[0] * cap)
                    problems.append(Problem(
                        "priors/", f"causes.{c}.prior",
                        f"must be reachable with the relative risks (at most {reach:.4g} with cap {cap})",
                        f"{float(prior[0]):.4g}", "lower the prior or relax the gates"))
            bases[c] = base
            causes[c] = np.minimum(cap, base.reshape((D,) + (1,) * len(par)) * rr)
        if problems:
            raise KnowledgeError(problems)

        leaks: dict[str, np.ndarray] = {}
        links: dict[str, dict[str, np.ndarray]] = {f: {} for f in self.findings}
        for index, spans in recipe["findings"]:
            eff = with_baseline(np.take(thz, index, axis=1))  # (D, rows, S), a fresh array
            for f, p, a, b in spans:
                if p is None:
                    leaks[f] = np.ascontiguousarray(eff[:, a])
                else:
                    links[f][p] = np.ascontiguousarray(eff[:, a:b])
        for f, (src, runs) in self.derived.items():
            leaks[f] = merge_states(leaks[src], runs)
            links[f] = {p: merge_states(a, runs) for p, a in links[src].items()}
        return Tables(D, ctx, causes, leaks, links, bases)

    def _context_marginals(self, ctx: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Marginal distribution of every context node, ``(D, card)``."""
        out: dict[str, np.ndarray] = {}

        def get(n: str) -> np.ndarray:
            if n in out:
                return out[n]
            par = self.parents[n]
            if not par:
                out[n] = ctx[n]
            else:
                pm = get(par[0])
                out[n] = np.einsum("dp,dpk->dk", pm, ctx[n])
            return out[n]

        for n in self.context:
            get(n)
        return out

    def cause_priors(self) -> dict[str, float]:
        """Prior probability of every cause in the reference population."""
        marg = self._context_marginals(self._point.context_cpt)
        out = {}
        for c in self.causes:
            t = self._point.cause_cpt[c][0]
            for p in self.parents[c]:
                t = np.tensordot(marg[p][0], t, axes=([0], [0]))
            out[c] = float(t)
        return out
