"""Approximate posteriors beyond the exact budget: a Rao-Blackwellised Gibbs sampler.

When the exact engine's estimated time is over the budget
(:mod:`bayesdx.inference.budget`), :func:`gibbs_posterior` gives every cause's
posterior *approximately*, with a stated Monte-Carlo standard error, in
bounded time and memory. It is never used silently: its result says
``method == "gibbs"`` and carries the error of every posterior.

The sampler runs many independent chains over the unobserved variables (the
causes and the context nodes not in the evidence) given the evidence. The
probability of an observed finding given all its parents is a cheap product
(leaky noisy-MAX): ``P(f <= k | parents) = leak(<= k) * prod_p P(effect_p <= k | x_p)``
and ``P(f = k) = P(f <= k) - P(f <= k - 1)``. Each chain keeps, per observed
finding, the log of both products (and a count of zero factors), so a
variable's full conditional costs one pass over its own observed children.

Estimates are *Rao-Blackwellised*: for each cause, the chain's conditional
probability of "present" given everything else (computed anyway to draw the
cause) is averaged, not the 0/1 draws. The standard error of a posterior is
the spread of the chains' means divided by the square root of the number of
chains (the chains are independent and start from independent draws of the
prior, so a chain stuck in one explanation shows up as spread, not as false
precision), with a floor of ``1 / (chains x kept sweeps)``: configurations no
chain visited carry posterior mass of about that order, which the spread
cannot see (measured: without the floor, causes with posteriors near 1e-5
had errors up to 600 times their spread).

Deterministic given the seed; the number of chains and sweeps is fixed before
any work from the budget (never from the clock), so the same
evidence, seed and budget give the same numbers on any machine.

Examples
--------
>>> from bayesdx.knowledge.network import Network
>>> from bayesdx.inference.engine import Engine
>>> net = Network.from_knowledge()
>>> ev = {"anc": "severe", "exposure_antipsychotic": "clozapine_window"}
>>> approx = gibbs_posterior(net, ev, chains=32, sweeps=150, seed=1)
>>> exact = Engine(net).posterior(ev)
>>> i = approx.causes.index("drug_antipsychotic")
>>> bool(abs(approx.probs[i] - exact.probs[i]) <= 4 * approx.se[i] + 1e-6)
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..errors import BayesdxError
from ..knowledge.network import Network, Tables

__all__ = ["CHAIN_BATCH", "CHAINS", "MAX_SWEEPS", "MIN_SWEEPS", "NS_PER_CALL", "NS_PER_CELL", "PENALTY",
           "Approximate", "Cancelled", "GibbsPlan", "SamplerError", "approximate", "gibbs_plan", "gibbs_posterior",
           "sweeps_for"]

PENALTY = -1000.0
"""Log-score of a state the evidence (or a prior) rules out, per violated factor, in
place of ``-inf``: a chain started in an impossible state is pulled towards possible
ones, and once there it never leaves (``exp(-1000)`` is 0 in floating point)."""

NS_PER_CELL = 30.0
"""Nanoseconds per chain and sweep per cell (a variable's state x one of its observed
children or prior factors) of the compiled kernel: measured 15 ns of CPU on the
development machine, doubled for a shared machine (load ~3); prices a run before it starts."""

NS_PER_CALL = 100.0
"""... plus this many nanoseconds per variable per chain and sweep (drawing, bookkeeping)."""

CHAINS = 64
"""Independent chains of :func:`approximate` (the standard error comes from their spread)."""

MIN_SWEEPS = 200
"""Fewest sweeps per chain :func:`approximate` runs, whatever the budget (~0.5 s on the
27-finding work-up): below this the burn-in is too short to trust."""

MAX_SWEEPS = 4000
"""Most sweeps per chain: beyond this the error shrinks too slowly to be worth the time."""


CHAIN_BATCH = 8
"""Chains per call of the compiled kernel: between calls the sampler checks for
cancellation and reports progress."""


class Cancelled(BayesdxError):
    """The computation was cancelled (a newer query of the same session replaced it)."""


class SamplerError(BayesdxError):
    """The sampler found no state consistent with the evidence in any chain."""

    exit_code = 2


@dataclass(frozen=True)
class Approximate:
    """Approximate posterior of every cause, with its Monte-Carlo standard error.

    Attributes
    ----------
    causes : tuple of str
        Cause ids, model order.
    probs, se : numpy.ndarray
        Posterior estimate and its standard error, per cause.
    chains, sweeps, burn_in : int
        Independent chains, sweeps per chain (all variables once), and sweeps
        discarded at the start of each chain.
    method : str
        ``"gibbs"``.
    """

    causes: tuple[str, ...]
    probs: np.ndarray
    se: np.ndarray
    chains: int
    sweeps: int
    burn_in: int
    seed: int = 0
    method: str = "gibbs"

    @property
    def max_se(self) -> float:
        """Largest standard error over the causes."""
        return float(self.se.max()) if self.se.size else 0.0


@dataclass
class _Var:
    name: str
    card: int
    col: int
    children: np.ndarray  # indices of observed findings this variable is a parent of
    logA: np.ndarray      # (card, n_children): log P(effect <= k), 0 where the factor is 0
    zA: np.ndarray        # (card, n_children): 1 where P(effect <= k) == 0
    logB: np.ndarray      # the same at k - 1
    zB: np.ndarray
    priors: list          # [(table moved so this variable is last, other columns)]


@dataclass
class GibbsPlan:
    """What the sampler needs for one evidence set (see :func:`gibbs_plan`)."""

    net: Network
    vars: list
    causes: tuple[str, ...]
    cause_cols: np.ndarray
    A0: np.ndarray   # (n_findings,) constant log-sums (leak, observed context parents)
    zA0: np.ndarray
    B0: np.ndarray
    zB0: np.ndarray
    cells: int       # sum over variables of card x observed children (work per chain-sweep)


def _log0(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(log p with 0 where p == 0, 1 where p == 0)``."""
    zero = p <= 0
    with np.errstate(divide="ignore"):
        return np.where(zero, 0.0, np.log(np.where(zero, 1.0, p))), zero.astype(np.int64)


def gibbs_plan(net: Network, evidence: Mapping[str, str], tables: Tables | None = None) -> GibbsPlan:
    """Reduce the network by ``evidence`` (node -> state) for :func:`gibbs_posterior`."""
    T = tables if tables is not None else net.tables()
    state = {n: net.states[n].index(s) for n, s in evidence.items()}
    free = [x for x in net.context if x not in state] + list(net.causes)
    col = {v: i for i, v in enumerate(free)}
    obs = [f for f in net.findings if f in state]
    n_f = len(obs)
    A0, zA0 = np.zeros(n_f), np.zeros(n_f, np.int64)
    B0, zB0 = np.zeros(n_f), np.zeros(n_f, np.int64)
    kids: dict[str, list] = {v: [] for v in free}  # v -> [(finding index, cdf at k, cdf at k-1)]
    for j, f in enumerate(obs):
        k = state[f]
        leak_cdf = np.cumsum(T.finding_leak[f][0])
        a, za = _log0(np.array([leak_cdf[k]]))
        A0[j], zA0[j] = a[0], za[0]
        if k == 0:
            zB0[j] = 1  # P(f <= -1) = 0: no second term
        else:
            b, zb = _log0(np.array([leak_cdf[k - 1]]))
            B0[j], zB0[j] = b[0], zb[0]
        for p in net.parents[f]:
            cdf = np.cumsum(T.link(f, p)[0], axis=-1)  # (card_p, S)
            ck, ckm1 = cdf[:, k], (cdf[:, k - 1] if k > 0 else np.ones(cdf.shape[0]))
            if p in state:
                a, za = _log0(ck[state[p]:state[p] + 1])
                A0[j] += a[0]
                zA0[j] += za[0]
                if k > 0:
                    b, zb = _log0(ckm1[state[p]:state[p] + 1])
                    B0[j] += b[0]
                    zB0[j] += zb[0]
            else:
                kids[p].append((j, ck, ckm1))
    # prior factors: (variables, log table); observed context sliced out
    factors = []
    for x in net.context:
        cpt = T.context_cpt[x][0]
        names = list(net.parents[x]) + [x]
        factors.append((names, cpt))
    for c in net.causes:
        p1 = T.cause_cpt[c][0]
        factors.append((list(net.parents[c]) + [c], np.stack([1.0 - p1, p1], axis=-1)))
    priors: dict[str, list] = {v: [] for v in free}
    for names, table in factors:
        idx = tuple(state[n] if n in state else slice(None) for n in names)
        table = table[idx]
        names = [n for n in names if n not in state]
        if not names:
            continue
        for v in names:
            ax = names.index(v)
            others = [n for n in names if n != v]
            moved = np.moveaxis(table, ax, -1)
            logt, zt = _log0(moved)
            priors[v].append((np.where(zt > 0, PENALTY, logt), np.array([col[o] for o in others],
                                                                         np.int64)))
    vars_ = []
    cells = 0
    for v in free:
        K = net.card(v)
        ch = kids[v]
        if ch:
            idx = np.array([j for j, _, _ in ch], np.int64)
            la, za = _log0(np.stack([a for _, a, _ in ch], axis=1))
            lb, zb = _log0(np.stack([b for _, _, b in ch], axis=1))
        else:
            idx = np.zeros(0, np.int64)
            la = lb = np.zeros((K, 0))
            za = zb = np.zeros((K, 0), np.int64)
        cells += K * (len(idx) + len(priors[v]))
        vars_.append(_Var(v, K, col[v], idx, la, za, lb, zb, priors[v]))
    causes = tuple(net.causes)
    return GibbsPlan(net, vars_, causes, np.array([col[c] for c in causes], np.int64),
                     A0, zA0, B0, zB0, cells)


def sweeps_for(plan: GibbsPlan, chains: int, seconds: float) -> int:
    """Sweeps that ``chains`` chains can run in ``seconds`` (estimated, see :data:`NS_PER_CELL`)."""
    per_sweep = chains * (plan.cells * NS_PER_CELL + len(plan.vars) * NS_PER_CALL) * 1e-9
    return int(seconds // max(per_sweep, 1e-12))


def approximate(net: Network, evidence: Mapping[str, str], seconds: float, *, seed: int = 0,
                tables: Tables | None = None, cancel=None, progress=None) -> Approximate:
    """:func:`gibbs_posterior` with :data:`CHAINS` chains and as many sweeps as ``seconds``
    allow (estimated before the run, so deterministic), within
    [:data:`MIN_SWEEPS`, :data:`MAX_SWEEPS`].

    >>> from bayesdx.knowledge.network import Network
    >>> a = approximate(Network.from_knowledge(), {"anc": "severe"}, 0.5)
    >>> a.method, a.chains, a.sweeps >= MIN_SWEEPS
    ('gibbs', 64, True)
    """
    plan = gibbs_plan(net, evidence, tables)
    sweeps = min(MAX_SWEEPS, max(MIN_SWEEPS, sweeps_for(plan, CHAINS, seconds)))
    return gibbs_posterior(net, evidence, chains=CHAINS, sweeps=sweeps, seed=seed, plan=plan,
                           cancel=cancel, progress=progress)


def _flatten(plan: GibbsPlan) -> tuple:
    """The plan as flat arrays for :func:`bayesdx.inference.gibbs_kernel.run_chains`."""
    n_v = len(plan.vars)
    card = np.array([v.card for v in plan.vars], np.int64)
    child_ptr = np.zeros(n_v + 1, np.int64)
    child_f, tab_off = [], []
    vals = {"la": [], "za": [], "lb": [], "zb": []}
    pos = 0
    for i, v in enumerate(plan.vars):
        for e, j in enumerate(v.children):
            child_f.append(j)
            tab_off.append(pos)
            vals["la"].append(v.logA[:, e])
            vals["za"].append(v.zA[:, e])
            vals["lb"].append(v.logB[:, e])
            vals["zb"].append(v.zB[:, e])
            pos += v.card
        child_ptr[i + 1] = len(child_f)
    cat = {k: (np.concatenate(a) if a else np.zeros(0)) for k, a in vals.items()}
    pf_ptr = np.zeros(n_v + 1, np.int64)
    f_off, f_stride, f_ptr, f_cols, f_strides, table = [], [], [0], [], [], []
    tpos = 0
    for i, v in enumerate(plan.vars):
        for t, others in v.priors:  # t: (*others' cards, card) with this variable last
            t = np.ascontiguousarray(t, dtype=np.float64)
            strides = [s // 8 for s in t.strides]
            f_off.append(tpos)
            f_stride.append(strides[-1])
            f_cols.extend(int(o) for o in others)
            f_strides.extend(strides[:-1])
            f_ptr.append(len(f_cols))
            table.append(t.ravel())
            tpos += t.size
        pf_ptr[i + 1] = len(f_off)
    slot = np.full(n_v, -1, np.int64)
    col_of = {v.col: i for i, v in enumerate(plan.vars)}
    for k, c in enumerate(plan.cause_cols):
        slot[col_of[int(c)]] = k
    ia = lambda a: np.asarray(a, np.int64)  # noqa: E731
    return (card, child_ptr, ia(child_f), ia(tab_off), cat["la"], ia(cat["za"]), cat["lb"],
            ia(cat["zb"]), pf_ptr, ia(f_off), ia(f_stride), ia(f_ptr), ia(f_cols), ia(f_strides),
            np.concatenate(table) if table else np.zeros(0), plan.A0, plan.zA0, plan.B0, plan.zB0,
            slot, len(plan.causes))


def gibbs_posterior(net: Network, evidence: Mapping[str, str], *, chains: int = 64,
                    sweeps: int = 400, burn_in: int | None = None, seed: int = 0,
                    plan: GibbsPlan | None = None, tables: Tables | None = None,
                    cancel=None, progress=None) -> Approximate:
    """Approximate posterior of every cause by Gibbs sampling (see the module docstring).

    Parameters
    ----------
    chains, sweeps : int
        Independent chains and sweeps per chain (at least 2 chains, 4 sweeps).
    burn_in : int, optional
        Sweeps discarded per chain (default: a quarter).
    seed : int
        Random seed; the result is a function of (evidence, chains, sweeps, seed).
    cancel : threading.Event, optional
        Checked between batches of :data:`CHAIN_BATCH` chains: when set, stop with
        :class:`Cancelled`.
    progress : callable, optional
        Called with the fraction of chains done after each batch.

    Raises
    ------
    SamplerError
        No chain reached a state the evidence allows.
    Cancelled
        ``cancel`` was set.
    """
    from .gibbs_kernel import run_chains

    plan = plan or gibbs_plan(net, evidence, tables)
    chains, sweeps = max(2, int(chains)), max(4, int(sweeps))
    burn_in = sweeps // 4 if burn_in is None else min(int(burn_in), sweeps - 1)
    flat = _flatten(plan)
    sums = np.zeros((chains, len(plan.causes)))
    ok = np.zeros(chains, bool)
    for first in range(0, chains, CHAIN_BATCH):  # batches: a chance to stop and to report
        if cancel is not None and cancel.is_set():
            raise Cancelled("the approximate posterior was cancelled")
        n = min(CHAIN_BATCH, chains - first)
        sums[first:first + n], ok[first:first + n] = run_chains(
            first, n, sweeps, burn_in, int(seed) % (2**32), PENALTY, *flat)
        if progress is not None:
            progress((first + n) / chains)
    if not ok.any():
        raise SamplerError("the approximate sampler found no state of the causes that explains "
                           "this evidence; check the findings for a contradiction")
    kept = sweeps - burn_in
    means = sums[ok] / kept
    n = int(ok.sum())
    probs = means.mean(axis=0)
    between = means.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else np.full(probs.shape, 0.5)
    # states no chain visited hold posterior mass of order 1 / (states drawn), and can move
    # any cause's posterior by at most that much: the floor of the stated error
    se = np.sqrt(between ** 2 + (1.0 / (n * kept)) ** 2)
    return Approximate(plan.causes, probs, se, n, sweeps, burn_in, seed=int(seed))
