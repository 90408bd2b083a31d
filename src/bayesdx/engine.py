"""Exact, structure-aware inference for the three-layer noisy-MAX network.

The network is context → causes → findings, each finding a leaky noisy-MAX of
its parents. Unobserved findings are barren and drop out. An observed finding
in its baseline state factorises into one factor per parent. An observed
finding in state ``k`` is the event "every parent's effect is ≤ k and at least
one (or the leak) is = k", which a two-state accumulator tracks exactly. The
engine orders the causes greedily to keep the set of open accumulators and
context variables (the *frontier*) small, and runs one einsum per cause
forward and backward (rescaled, so nothing underflows); a third einsum per
cause gives its exact posterior. All factors are non-negative: there is no
inclusion–exclusion and no cancellation.

Every query has one signature, :meth:`Engine.posterior`, and batches over
evidence sets and parameter draws. Plans are compiled per evidence *pattern*
(which nodes are observed, which findings are at baseline) and cached.

Examples
--------
>>> from bayesdx.network import Network
>>> eng = Engine(Network.from_knowledge())
>>> post = eng.posterior({"anc": "severe", "exposure_antipsychotic": "clozapine_window"})
>>> post.of("drug_antipsychotic") > post.prior_of("drug_antipsychotic")
True
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from .errors import CaseError, ImpossibleEvidenceError, Problem
from .network import Network, Tables
from .plan import Plan, compile_plan

__all__ = ["BatchPosterior", "Engine", "Posterior"]


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
    """Compiled exact engine over a :class:`~bayesdx.network.Network`.

    The engine validates evidence against the network when it is queried and
    caches one plan per evidence pattern.

    Parameters
    ----------
    network : Network
        The network specification.
    cache_size : int
        Number of compiled plans kept.
    """

    def __init__(self, network: Network, cache_size: int = 256):
        self.net = network
        self.causes = tuple(network.causes)
        self._cause_index = {c: i for i, c in enumerate(self.causes)}
        self._plans: OrderedDict = OrderedDict()
        self._cache_size = cache_size
        net = network
        self._finding_ctx_parents = {f: [p for p in net.parents[f] if p in net.kb.context]
                                     for f in net.findings}
        self._finding_cause_parents = {f: [p for p in net.parents[f] if p in net.kb.causes]
                                       for f in net.findings}
        self._ctx_children = {x: [c for c in net.children[x] if c in net.kb.context]
                              for x in net.context}
        self._ctx_cause_children = {x: [c for c in net.children[x] if c in net.kb.causes]
                                    for x in net.context}
        self._priors = np.array([network.cause_priors()[c] for c in self.causes])
        self._state_index = {n: {s: i for i, s in enumerate(st)} for n, st in net.states.items()}

    # ----------------------------------------------------------------- public API

    @property
    def priors(self) -> np.ndarray:
        """Prior of every cause (model order)."""
        return self._priors.copy()

    def validate(self, evidence: Mapping[str, str]) -> dict[str, int]:
        """Check node and state names; return ``node -> state index``.

        Raises
        ------
        CaseError
            Naming every unknown node or state, with the nearest valid names.
        """
        import difflib

        problems = []
        out = {}
        for node, state in evidence.items():
            if node in self._cause_index:
                problems.append(Problem("evidence", node, "must be a context node or finding, not a cause",
                                        repr(state), "enter the findings that point to it instead"))
                continue
            if node not in self._state_index:
                near = difflib.get_close_matches(node, list(self._state_index), n=3)
                problems.append(Problem("evidence", node, "must be a node of the network",
                                        repr(node), f"one of {', '.join(near)}" if near else
                                        "a name listed by 'bayesdx nodes'"))
                continue
            idx = self._state_index[node].get(state)
            if idx is None:
                problems.append(Problem("evidence", node, f"must be one of {', '.join(self.net.states[node])}",
                                        repr(state)))
                continue
            out[node] = idx
        if problems:
            raise CaseError(problems)
        return out

    def posterior(self, evidence: Mapping[str, str], tables: Tables | None = None) -> Posterior:
        """Exact posterior of every cause given ``evidence`` (node -> state).

        Raises
        ------
        CaseError
            For unknown nodes or states.
        ImpossibleEvidenceError
            When the evidence has probability zero; names a minimal conflicting set.
        """
        idx = self.validate(evidence)
        probs, logz = self._run([idx], tables)
        if not np.isfinite(logz[0, 0]):
            raise ImpossibleEvidenceError(self.conflict(evidence, tables))
        return Posterior(self.causes, probs[0, 0], self._priors, float(logz[0, 0]), dict(evidence))

    def posterior_batch(self, evidences: Sequence[Mapping[str, str]],
                        tables: Tables | None = None, *, group: bool = True) -> BatchPosterior:
        """Posteriors for many evidence sets (and, through ``tables``, many draws).

        Cases are grouped by evidence pattern and each group runs vectorised.
        Impossible evidence yields NaN rows with ``log_evidence == -inf``; use
        :meth:`posterior` for a single case to get the explanation.
        """
        idxs = [self.validate(e) for e in evidences]
        tables = tables or self.net.tables()
        D = tables.draws
        out = np.full((D, len(idxs), len(self.causes)), np.nan)
        logz = np.full((D, len(idxs)), -np.inf)
        if not group:
            p, lz = self._run(idxs, tables)
            return BatchPosterior(self.causes, p, lz)
        groups: dict = {}
        for i, ev in enumerate(idxs):
            groups.setdefault(self._pattern_key([ev]), []).append(i)
        for members in groups.values():
            p, lz = self._run([idxs[i] for i in members], tables)
            out[:, members] = p
            logz[:, members] = lz
        return BatchPosterior(self.causes, out, logz)

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

    def _pattern_key(self, idxs: list[dict[str, int]]):
        net = self.net
        observed_all = set.intersection(*[set(e) for e in idxs]) if idxs else set()
        observed_any = set().union(*[set(e) for e in idxs]) if idxs else set()
        fixed_ctx = frozenset(n for n in net.context if n in observed_all)
        free_ctx = frozenset(n for n in net.context if n not in observed_all)
        unary, acc = [], []
        for f in net.findings:
            if f not in observed_any:
                continue
            if f in observed_all and all(e[f] == 0 for e in idxs):
                unary.append(f)
            else:
                acc.append(f)
        return (fixed_ctx, free_ctx, tuple(unary), tuple(acc))

    def _plan(self, key) -> Plan:
        plan = self._plans.get(key)
        if plan is not None:
            self._plans.move_to_end(key)
            return plan
        plan = compile_plan(self.net, *key)
        self._plans[key] = plan
        if len(self._plans) > self._cache_size:
            self._plans.popitem(last=False)
        return plan

    # ----------------------------------------------------------------- run

    def _run(self, idxs: list[dict[str, int]], tables: Tables | None):
        """Posterior probs ``(D, B, C)`` and log-evidence ``(D, B)``."""
        net = self.net
        T = tables or net.tables()
        key = self._pattern_key(idxs)
        plan = self._plan(key)
        D, B = T.draws, len(idxs)
        C = len(self.causes)
        logz = np.zeros((D, B))

        def ev_index(node: str) -> np.ndarray:
            return np.array([e[node] for e in idxs])

        fixed_idx = {x: ev_index(x) for x in plan.fixed_ctx}
        b_ar = np.arange(B)

        def slice_fixed(arr: np.ndarray, parents: Sequence[str], keep: Sequence[str]) -> np.ndarray:
            """``arr`` (D, *parent cards, ...) -> (D, B, *kept parent cards, ...)."""
            arr = np.broadcast_to(arr[:, None], (arr.shape[0], B) + arr.shape[1:])
            # iterate parents; fixed ones are gathered per case
            axis = 2
            for p in parents:
                if p in fixed_idx:
                    idx = fixed_idx[p]
                    arr = np.moveaxis(arr, axis, 2)
                    arr = arr[:, b_ar, idx]  # (D, B, rest...)
                    # moving back not needed: later axes shift left by one
                else:
                    if axis != 2:
                        pass
                    axis += 1
            return arr

        # ---- unary factors from baseline findings: u[node] (D, B, card)
        unary: dict[str, np.ndarray] = {}

        def mul_unary(node: str, vec: np.ndarray):
            if node in unary:
                unary[node] = unary[node] * vec
            else:
                unary[node] = vec

        for f in plan.unary:
            leak0 = T.finding_leak[f][:, 0]  # (D,)
            logz += np.log(np.maximum(leak0, 0.0))[:, None]
            for p in net.parents[f]:
                e0 = T.link(f, p)[:, :, 0]  # (D, card_p)
                if p in plan.fixed_ctx:
                    val = e0[:, fixed_idx[p]]  # (D, B)
                    logz += np.log(val)
                else:
                    mul_unary(p, np.broadcast_to(e0[:, None, :], (D, B, e0.shape[-1])))

        # ---- fixed context: constants P(x_obs | parent)
        for x in plan.fixed_ctx:
            cpt = T.context_cpt[x]
            par = net.parents[x]
            if not par:
                val = cpt[:, fixed_idx[x]]  # (D, B)
                logz += np.log(val)
            else:
                p = par[0]
                if p in plan.fixed_ctx:
                    val = cpt[:, fixed_idx[p], fixed_idx[x]]
                    logz += np.log(val)
                else:
                    # unary on the free parent p: P(x_obs | p)
                    vec = np.moveaxis(cpt[:, :, :], 1, 2)[:, fixed_idx[x], :]  # (D, B, card_p)
                    mul_unary(p, vec)

        # ---- λ for free context vars observed in some cases
        lam: dict[str, np.ndarray] = {}
        for x in net.context:
            if x in plan.fixed_ctx:
                continue
            obs = [e.get(x) for e in idxs]
            if any(o is not None for o in obs):
                v = np.ones((B, net.card(x)))
                for b, o in enumerate(obs):
                    if o is not None:
                        v[b] = 0.0
                        v[b, o] = 1.0
                lam[x] = v[None]

        # ---- isolated free context vars (children before parents):
        #      sum_x P(x | parent) λ(x) u(x), folded into the parent when it is free
        def depth(x: str) -> int:
            d = 0
            while net.parents[x]:
                x = net.parents[x][0]
                d += 1
            return d

        for x in sorted(plan.isolated_ctx, key=depth, reverse=True):
            cpt = T.context_cpt[x]
            par = net.parents[x]
            w = lam.get(x, 1.0) * unary.get(x, 1.0)
            if par and par[0] not in plan.fixed_ctx:
                w = np.broadcast_to(w, (D, B, net.card(x))) if not isinstance(w, float) \
                    else np.ones((D, B, net.card(x)))
                mul_unary(par[0], np.einsum("dpk,dbk->dbp", cpt, w))
                continue
            if par:
                row = cpt[:, fixed_idx[par[0]]]  # (D, B, card)
            else:
                row = np.broadcast_to(cpt[:, None], (D, B, net.card(x)))
            logz += np.log((row * w).sum(-1))

        # ---- cause factors: (D, B, 2, *deps) with unary; folded context summed in
        cause_factor: dict[str, np.ndarray] = {}
        for c in self.causes:
            pc = T.cause_cpt[c]  # (D, *parent cards)
            par = net.parents[c]
            keep = [p for p in par if p not in plan.fixed_ctx]
            arr = slice_fixed(pc, par, keep)  # (D, B, *kept cards)
            f2 = np.stack([1.0 - arr, arr], axis=2)  # (D, B, 2, *kept)
            if c in unary:
                u = unary[c]  # (D, B, 2)
                f2 = f2 * u.reshape(u.shape + (1,) * len(keep))
            folds = plan.folds.get(c)
            if folds:
                names = {c: 0}
                lab = lambda n: names.setdefault(n, len(names))  # noqa: E731
                args = [f2, [Ellipsis, lab(c)] + [lab(p) for p in keep]]
                for x in folds:
                    fx, fl = self._ctx_factor(x, T, plan, fixed_idx, lam, unary, D, B)
                    args += [fx, [Ellipsis] + [lab(n) for n in fl]]
                out = [Ellipsis, lab(c)] + [lab(d) for d in plan.deps[c]]
                f2 = np.einsum(*args, out, optimize=False)
            cause_factor[c] = f2

        probs = np.full((D, B, C), np.nan)
        for c in plan.free_causes:
            f2 = cause_factor[c]
            z = f2.sum(axis=2)
            logz += np.log(z)
            with np.errstate(invalid="ignore", divide="ignore"):
                probs[:, :, self._cause_index[c]] = f2[:, :, 1] / z

        if plan.steps:
            self._dp(plan, T, idxs, cause_factor, unary, lam, fixed_idx, slice_fixed, probs, logz)
        bad = ~np.isfinite(logz)
        if bad.any():
            probs[bad] = np.nan
            logz[bad] = -np.inf
        return probs, logz

    def _ctx_factor(self, x, T, plan, fixed_idx, lam, unary, D, B):
        """``P(x | parent) λ(x) u(x)`` as (array (D, B, card_x[, card_parent]), labels)."""
        net = self.net
        cpt = T.context_cpt[x]  # (D, [card_p], card)
        par = net.parents[x]
        if par and par[0] in plan.fixed_ctx:
            arr, labels = cpt[:, fixed_idx[par[0]]], (x,)  # (D, B, card)
        elif par:
            arr = np.broadcast_to(np.moveaxis(cpt, -1, 1)[:, None],
                                  (D, B, net.card(x), net.card(par[0])))
            labels = (x, par[0])
        else:
            arr, labels = np.broadcast_to(cpt[:, None], (D, B, net.card(x))), (x,)
        for extra in (lam.get(x), unary.get(x)):
            if extra is not None:
                arr = arr * np.reshape(extra, extra.shape + (1,) * (arr.ndim - 3))
        return arr, labels

    def _stacked(self, T: Tables, f: str):
        """Effects of every parent of ``f`` stacked: (pmf, cdf) of shape (D, n, Kmax, S)."""
        cache = T.__dict__.setdefault("_stacked_cache", {})
        if f not in cache:
            parents = self.net.parents[f]
            D, S = T.finding_leak[f].shape
            kmax = max(self.net.card(p) for p in parents)
            eff = np.zeros((D, len(parents), kmax, S))
            for i, p in enumerate(parents):
                e = T.link(f, p)
                eff[:, i, :e.shape[1]] = e
            cache[f] = (eff, np.cumsum(eff, axis=-1), np.cumsum(T.finding_leak[f], axis=-1))
        return cache[f]

    def _acc_tables(self, plan: Plan, T: Tables, idxs, fixed_idx):
        """Per accumulator finding: init (D,B,2), final (1,B,2), transitions per parent.

        A transition ``t[a, x, a']`` moves the accumulator from ``a`` (observed
        state reached yet?) to ``a'`` given the parent's state ``x``: effect
        below the observed state keeps it, equal sets it, above kills the path.
        """
        net = self.net
        B = len(idxs)
        b_ar = np.arange(B)
        out = {}
        for f in plan.acc:
            k = np.array([e.get(f, -1) for e in idxs])  # -1: unobserved in that case
            obs = k >= 0
            kk = np.where(obs, k, 0)
            km1 = np.maximum(kk - 1, 0)
            eff, cdf, leak_cdf = self._stacked(T, f)
            leak = T.finding_leak[f]
            p_eq = leak[:, kk]  # (D, B)
            p_lt = np.where(kk > 0, leak_cdf[:, km1], 0.0)
            init = np.stack([np.where(obs, p_lt, 1.0), np.where(obs, p_eq, 0.0)], axis=-1)
            final = np.stack([np.where(obs, 0.0, 1.0), np.ones(B)], axis=-1)[None]
            # (D, n, K, B) -> (D, B, n, K)
            e_eq = np.moveaxis(eff[..., kk], -1, 1)
            e_le = np.moveaxis(cdf[..., kk], -1, 1)
            e_lt = np.where((kk > 0)[None, :, None, None], np.moveaxis(cdf[..., km1], -1, 1), 0.0)
            o = obs[None, :, None, None]
            t = np.zeros(e_eq.shape[:3] + (2, e_eq.shape[3], 2))  # (D, B, n, 2, K, 2)
            t[:, :, :, 0, :, 0] = np.where(o, e_lt, 1.0)
            t[:, :, :, 0, :, 1] = np.where(o, e_eq, 0.0)
            t[:, :, :, 1, :, 1] = np.where(o, e_le, 1.0)
            trans = {}
            for i, p in enumerate(net.parents[f]):
                K = net.card(p)
                if p in plan.fixed_ctx:
                    sel = t[:, b_ar, i, :, fixed_idx[p], :]  # (B, D, 2, 2): advanced axes first
                    sel = np.moveaxis(sel, 0, 1)
                    init = np.einsum("dba,dbac->dbc", np.broadcast_to(init, sel.shape[:3]), sel)
                elif p in plan.free_ctx or p in self._cause_index:
                    trans[p] = t[:, :, i, :, :K, :]
            out[f] = (init, final, trans)
        return out

    def _dp(self, plan, T, idxs, cause_factor, unary, lam, fixed_idx, slice_fixed, probs, logz):
        D, B = logz.shape
        acc_tab = self._acc_tables(plan, T, idxs, fixed_idx)
        E = Ellipsis
        tcache: dict = {}

        def tmat(f: str, item: str, mode: str) -> np.ndarray:
            key = (f, item, mode)
            if key not in tcache:
                init, final, trans = acc_tab[f]
                t = trans[item]  # (D, B, 2, K, 2)
                if mode == "mid":
                    v = t
                elif mode == "open":
                    v = np.einsum("...a,...akc->...kc", init, t)
                elif mode == "close":
                    v = np.einsum("...akc,...c->...ak", t, final)
                else:
                    v = np.einsum("...a,...akc,...c->...k", init, t, final)
                tcache[key] = v
            return tcache[key]

        owns = {}
        for st in plan.steps:
            owns[st.item] = (cause_factor[st.item] if st.kind == "cause" else
                             self._ctx_factor(st.item, T, plan, fixed_idx, lam, unary, D, B)[0])

        def rescale(arr: np.ndarray):
            s = arr.reshape(D, B, -1).max(axis=-1) if arr.ndim > 2 else arr
            safe = np.where(s > 0, s, 1.0)
            return arr / safe.reshape((D, B) + (1,) * (arr.ndim - 2)), s

        # forward
        ys = []
        frontier = np.ones((D, B))
        for st in plan.steps:
            _, la, lb, lo = st.prog["fwd"][0]
            y = np.einsum(frontier, [E, *la], owns[st.item], [E, *lb], [E, *lo])
            for _, f, mode, la, lb, lo in st.prog["fwd"][1:]:
                y = np.einsum(y, [E, *la], tmat(f, st.item, mode), [E, *lb], [E, *lo])
            ys.append(y)
            la, lo = st.prog["sum"]
            frontier, s = rescale(np.einsum(y, [E, *la], [E, *lo]))
            with np.errstate(divide="ignore"):
                logz += np.log(s)
        # backward, with the marginal of each cause
        beta = np.ones((D, B))
        for st, y in zip(reversed(plan.steps), reversed(ys)):
            if st.kind == "cause":
                la, lb, lo = st.prog["marg"]
                m = np.einsum(y, [E, *la], beta, [E, *lb], [E, *lo])
                with np.errstate(invalid="ignore", divide="ignore"):
                    probs[:, :, self._cause_index[st.item]] = m[..., 1] / m.sum(-1)
            g = beta
            for f, mode, la, lb, lo in st.prog["back"][:-1]:
                g = np.einsum(g, [E, *la], tmat(f, st.item, mode), [E, *lb], [E, *lo])
            _, la, lb, lo = st.prog["back"][-1]
            beta, _ = rescale(np.einsum(g, [E, *la], owns[st.item], [E, *lb], [E, *lo]))
