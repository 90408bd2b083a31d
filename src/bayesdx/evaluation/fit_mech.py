"""EM for the links and leaks of the leaky noisy-MAX findings: exact expected counts, MAP rows.

The model (as the engine and :mod:`bayesdx.counterfactual` read it, Díez's
canonical form): finding ``f`` with states ``0..S-1`` shows
``Y_f = max_m Y_m`` over independent *mechanisms* ``m``: the leak, with effect
distribution ``l(k)``, and one per parent ``i``, whose effect ``Y_i`` is drawn
from the link **row** of the parent's state, ``pi_i(k | x_i)`` (an absent
cause's row is ``Y_i = 0``). A row is a categorical over the finding's states:
its numbers in ``priors/`` are the shares of the abnormal states, the baseline
gets the rest. If the ``Y_m`` were seen, each row's fit would be a count of
``Y_m = k`` among the cases with ``x_m = a``.

**E-step.** For a case with evidence ``e`` (finding ``f`` observed at grade
``s``) the expected count of cell ``(m, a, k)`` is
``n(m, a, k) = P(x_m = a, Y_m = k | e)``. Given the parents ``x`` of ``f``,
with ``F_j`` the cdf of mechanism ``j``'s row,

* ``P(Y_m = k, Y_f = s | x) = pi_m(k) [prod_{j!=m} F_j(s) - prod_{j!=m} F_j(s-1)]`` for ``k < s``,
* ``P(Y_m = s, Y_f = s | x) = pi_m(s) prod_{j!=m} F_j(s)``, and 0 for ``k > s``.

Both are ratios against the cumulative factor ``P(Y_f <= t | x) = prod_j
F_j(t)``: with ``R_t(m, a) = P(e with f's factor replaced by "Y_f <= t", x_m =
a) / P(e)``,

* ``n(m, a, s) = pi_m(s|a) / F_m(s|a) * R_s(m, a)``,
* ``n(m, a, k) = pi_m(k|a) * [R_s(m, a) / F_m(s|a) - R_{s-1}(m, a) / F_m(s-1|a)]`` for ``k < s``

(``prod_{j!=m} F_j(t) = prod_j F_j(t) / F_m(t)``; ``F_m(t) >= pi_m(k) > 0``
whenever the cell can be non-zero). ``R_t`` for *every* mechanism of ``f``
comes from ONE engine evaluation: rewrite ``f``'s tables so that its factor
at the observed grade is ``prod_j F_j(t)`` (the leak's row becomes mass
``F_L(t)`` at ``s``, every parent row mass ``F_i(t|x_i)`` at the baseline: the
engine's ``prod G(s) - prod G(s-1)`` is then ``prod_j F_j(t) - 0``); its
log-evidence gives ``P(e_t) / P(e)`` (the leak's ``R_t``) and its posteriors
``P(x_m = a | e_t)`` for the cause parents (an observed context parent is an
indicator; an unobserved one gets a draw of its own with its other rows
zeroed). So a case needs two draws per abnormal finding (``t = s, s-1``) and
none for a normal one (``s = 0``: ``n(m, a, 0) = P(x_m = a | e)``). Every
rewrite is one *draw* of a batched table set; cases whose abnormal findings
fit under one set of draws (:data:`PACK`) share one engine call, with their
labels clamped as in the prior fit. Findings not observed in a case add
nothing (their mechanisms sum out), which keeps EM's fixed points and speeds
it up. The difference for ``k < s`` can lose digits when ``P(Y_f = s)`` is
tiny next to ``P(Y_f <= s)``; counts are clipped at 0. Tested against
enumeration of the latent-mechanism model to 1e-10
(``tests/evaluation/test_fit_mech.py``).

**M-step.** Each free number ``theta_k`` (``k >= 1``) of a row keeps the prior
of the cause priors' fit (:func:`~bayesdx.evaluation.fit.beta_prior`: mode =
value, 90 % interval as wide as its range); the row's prior is the product of
these Betas on the simplex ``sum_k theta_k <= 1``. With counts ``n_k`` the MAP
maximises ``sum_k n_k log theta_k + sum_{k>=1} (a_k-1) log theta_k + (b_k-1)
log(1-theta_k)``, ``theta_0 = 1 - C - sum_free theta_k`` (``C``: the row's
fixed numbers). Stationarity with multiplier ``lambda = n_0 / theta_0`` gives
each ``theta_k(lambda)`` as the root in ``[0, 1]`` of ``lambda t^2 - (A_k + B_k +
lambda) t + A_k = 0`` (``A_k = a_k - 1 + n_k``, ``B_k = b_k - 1``), decreasing in
``lambda``; ``lambda (1 - C - sum theta_k(lambda)) = n_0`` is then one monotone
equation (:func:`row_map`). For a two-state finding this is the Beta MAP
``(a-1+n_1)/(a+b-2+n_0+n_1)``; with no counts it is the values themselves.
The reported 90 % credible range of ``theta_k`` is the Beta ``(a_k + n_k, b_k +
N - n_k)`` posterior of the counts lumped into "state k" against "any other"
(it ignores the coupling through the row's sum).

Examples
--------
>>> round(float(row_map(np.array([30.0, 10.0]), np.array([3.0]), np.array([5.0]),
...                     np.array([True]), np.array([0.0]))[0]), 6)
0.26087
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from ..knowledge.network import Network, Tables

METHOD = "slots"
"""Engine method of the E-step's calls (cases of one call mostly differ in pattern)."""
PACK = 8
"""Most abnormal findings whose draws one engine call carries (cases packed under it)."""

__all__ = ["Row", "mechanism_counts", "pack", "row_map", "rows_of"]


@dataclass(frozen=True)
class Row:
    """One link or leak row: ``finding``, ``parent`` (None: the leak), parent state ``a``.

    ``params[k-1]`` is the parameter index of state ``k`` (-1: none); ``free``
    marks the fitted ones (a parameter with a range of positive width).
    """

    finding: str
    parent: str | None
    a: int
    params: tuple[int, ...]
    free: tuple[bool, ...]

    def path(self, k: int, net: Network) -> str:
        """Parameter path of state ``k``."""
        return net.params[self.params[k - 1]].path


def rows_of(net: Network) -> list[Row]:
    """Every row with at least one free number, in model order."""
    out = []
    for f in net.findings:
        states = net.states[f]
        cands = [(None, 0, [f"findings.{f}.leak.{s}" for s in states[1:]])]
        for p in net.parents[f]:
            if p in net.causes:
                cands.append((p, 1, [f"findings.{f}.links.{p}.{s}" for s in states[1:]]))
            else:
                cands += [(p, a, [f"findings.{f}.links.{p}.{ps}.{s}" for s in states[1:]])
                          for a, ps in enumerate(net.states[p])]
        for p, a, paths in cands:
            ix = tuple(net._index.get(q, -1) for q in paths)
            free = tuple(i >= 0 and net.params[i].high > net.params[i].low for i in ix)
            if any(free):
                out.append(Row(f, p, a, ix, free))
    return out


def _row(T: Tables, r: Row, d: int = 0) -> np.ndarray:
    return T.finding_leak[r.finding][d] if r.parent is None else T.link(r.finding, r.parent)[d, r.a]


def _plan(net: Network, rows: list[Row], obs: dict[str, int]):
    """``(isolating draws, abnormal grades)`` of one evidence.

    A finding ``f`` observed at grade ``s >= 1`` needs the draws ``(f, t, None,
    s)``, ``t = s, s-1``: its factor becomes ``P(Y_f <= t | x)``. A row whose
    context parent is not observed needs ``(f, t, j, s)`` (``t = None`` for a
    normal finding: factor unchanged) isolating row ``j``'s parent state.
    """
    iso, grades = [], []
    for f in dict.fromkeys(r.finding for r in rows):
        s = obs.get(f)
        if s is None:
            continue
        levels = (s, s - 1) if s >= 1 else (None,)
        if s >= 1:
            grades.append((f, s))
        for j, r in enumerate(rows):
            if r.finding == f and r.parent is not None and r.parent not in net.causes \
                    and r.parent not in obs:
                iso += [(f, t, j, s) for t in levels]
    return tuple(iso), frozenset(grades)


def pack(sets: dict, most: int) -> list[tuple[set, list]]:
    """Greedy packing of ``{frozenset: [case, ...]}``: the largest sets first, each
    joining the first pack whose union stays within ``most`` items (or the largest
    set alone). Returns ``[(union, cases)]``.

    >>> packs = pack({frozenset("ab"): [0], frozenset("b"): [1], frozenset("cd"): [2]}, 3)
    >>> [(sorted(union), cases) for union, cases in packs]
    [(['a', 'b'], [0, 1]), (['c', 'd'], [2])]
    """
    packs: list[tuple[set, list]] = []
    for g in sorted(sets, key=lambda g: (-len(g), sorted(g))):
        for union, members in packs:
            if len(union | g) <= max(most, len(union)):
                union |= g
                members += sets[g]
                break
        else:
            packs.append((set(g), list(sets[g])))
    return packs


def _groups(plans, most: int = PACK):
    """Cases sharing one engine call: same isolating draws, abnormal grades packed
    greedily (:func:`pack`)."""
    by: dict = {}
    for b, (iso, grades) in enumerate(plans):
        by.setdefault(iso, {}).setdefault(grades, []).append(b)
    for iso, sets in by.items():
        for union, members in pack(sets, most):
            mods = [(f, t, None, s) for f, s in sorted(union) for t in (s, s - 1)] + list(iso)
            yield tuple(mods), members


def _tables(T: Tables, rows: list[Row], mods) -> Tables:
    """``1 + len(mods)`` draws: the tables, then one per rewrite."""
    D = 1 + len(mods)
    touched = {m[0] for m in mods}

    def rep(a, copy):
        return np.repeat(a, D, axis=0) if copy else np.broadcast_to(a, (D,) + a.shape[1:])

    leaks = {f: rep(a, f in touched) for f, a in T.finding_leak.items()}
    links = {f: {p: rep(a, f in touched) for p, a in d.items()} for f, d in T.finding_links.items()}
    for d, (f, t, j, s) in enumerate(mods, start=1):
        if t is not None:  # P(Y_f <= t | x): the leak's cdf at the observed grade s, the rest at 0
            leak = leaks[f][d]
            mass = leak[:t + 1].sum()
            leak[:] = 0.0
            leak[s] = mass
            for arr in links[f].values():
                cdf = arr[d, :, :t + 1].sum(-1)
                arr[d] = 0.0
                arr[d, :, 0] = cdf
        if j is not None:
            keep = links[f][rows[j].parent][d, rows[j].a].copy()
            links[f][rows[j].parent][d] = 0.0
            links[f][rows[j].parent][d, rows[j].a] = keep
    return Tables(D, {k: rep(a, False) for k, a in T.context_cpt.items()},
                  {k: rep(a, False) for k, a in T.cause_cpt.items()}, leaks, links,
                  {k: rep(a, False) for k, a in T.cause_base.items()})


def mechanism_counts(engine, T: Tables, rows: list[Row], evidences: Sequence[dict],
                     labels: Sequence[dict], *, per_case: bool = False):
    """Expected counts ``(rows, S)`` summed over cases, cases per row, posteriors, log P(e, label).

    Returns ``(counts, informed, probs (B, C), logz (B,))``; ``counts[j]`` has the
    length of row ``j``'s finding's states; ``informed[j]`` is the number of
    cases that observe row ``j``'s finding. Impossible cases (``logz = -inf``)
    add nothing. With ``per_case``, ``counts[j]`` is ``(B, S)``: every case's own.
    """
    net = engine.net
    B = len(evidences)
    counts = [np.zeros(net.card(r.finding)) for r in rows]
    cells = [np.zeros((B, net.card(r.finding))) for r in rows] if per_case else None
    informed = np.zeros(len(rows), dtype=int)
    probs = np.full((B, len(engine.causes)), np.nan)
    logz = np.full(B, -np.inf)
    idxs = [engine.validate(e) for e in evidences]
    cix = {c: i for i, c in enumerate(engine.causes)}
    for mods, members in _groups([_plan(net, rows, idx) for idx in idxs]):
        with np.errstate(divide="ignore"):  # a draw may make a case impossible: log 0
            out = engine.posterior_batch([evidences[b] for b in members], _tables(T, rows, mods),
                                         labels=[labels[b] for b in members], method=METHOD)
        lz, pr = out.log_evidence, np.nan_to_num(out.probs)  # (D, m), (D, m, C)
        probs[members], logz[members] = out.probs[0], lz[0]
        ok = np.isfinite(lz[0])
        with np.errstate(invalid="ignore", over="ignore"):
            rel = np.where(np.isfinite(lz) & ok, np.exp(lz - lz[0]), 0.0)  # P(e') / P(e)
        draw = {m: d for d, m in enumerate(mods, start=1)}

        def state(node):  # per case: observed state index, -1 if unobserved
            return np.array([idxs[b].get(node, -1) for b in members])

        def joint(j, r, t, s):  # P(e with Y_f <= t, x_m = a) / P(e), per case
            d = draw.get((r.finding, t, None, s), 0)
            if r.parent is None:
                return rel[d]
            if r.parent in net.causes:
                return rel[d] * pr[d, :, cix[r.parent]]
            seen = state(r.parent)
            iso = draw.get((r.finding, t, j, s))
            return np.where(seen >= 0, rel[d] * (seen == r.a), 0.0 if iso is None else rel[iso])

        for j, r in enumerate(rows):
            grade = state(r.finding)
            pmf = _row(T, r)
            cdf = np.cumsum(pmf)
            for s in np.unique(grade[(grade >= 0) & ok]):
                at = (grade == s) & ok
                informed[j] += int(at.sum())
                cell = np.zeros((int(at.sum()), len(pmf)))
                if s == 0:
                    cell[:, 0] = joint(j, r, None, 0)[at]
                else:
                    top = joint(j, r, s, s)[at] / cdf[s] if cdf[s] > 0 else 0.0
                    low = joint(j, r, s - 1, s)[at] / cdf[s - 1] if cdf[s - 1] > 0 else 0.0
                    cell[:, s] = pmf[s] * top
                    cell[:, :s] = np.clip(pmf[:s] * np.reshape(top - low, (-1, 1)), 0.0, None)
                counts[j] += cell.sum(axis=0)
                if per_case:
                    cells[j][np.asarray(members)[at]] = cell
    return (cells if per_case else counts), informed, probs, logz


def _theta(lam, A, B):
    if lam == 0:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(A + B > 0, A / (A + B), 0.0)
    q = A + B + lam
    return 2 * A / (q + np.sqrt(np.maximum(q * q - 4 * lam * A, 0.0)))


def row_map(n: np.ndarray, a: np.ndarray, b: np.ndarray, free: np.ndarray,
            fixed: np.ndarray) -> np.ndarray:
    """MAP of a row's abnormal shares ``(S-1,)`` given counts ``n`` ``(S,)``.

    ``a``, ``b`` are the free numbers' Beta priors (ignored where ``free`` is
    False); ``fixed`` gives the other numbers' values. See the module docstring.
    """
    out = np.where(free, 0.0, fixed)
    C = float(out.sum())
    room = 1.0 - C
    A = (a - 1 + n[1:])[free]
    Bb = (b - 1)[free]
    n0 = float(n[0])
    if room <= 0:
        return out
    t0 = _theta(0.0, A, Bb)
    if n0 == 0 and t0.sum() <= room:
        out[free] = t0
        return out

    def g(lam):  # increasing; with n_0 = 0 the sum constraint binds: theta_0 = 0
        return (lam * (room - _theta(lam, A, Bb).sum()) - n0 if n0 > 0
                else room - _theta(lam, A, Bb).sum())

    hi = (n0 + A.sum()) / room + 1.0
    while g(hi) < 0:
        hi *= 2
    lam = brentq(g, 0.0, hi, xtol=1e-14, rtol=1e-15, maxiter=500)
    out[free] = _theta(lam, A, Bb)
    return out
