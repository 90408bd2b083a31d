"""Cause orders for a plan: two quick ones, and a search for a cheaper one on heavy patterns.

:func:`greedy_order` (next cause: the smallest frontier after it) and
:func:`cluster_order` (causes sharing context together) are the quick orders
:func:`~bayesdx.inference.plan.compile_plan` simulates; it keeps the cheaper.
The greedy order is good for light patterns and poor for heavy ones: with 20 or
more abnormal findings open at once, it can cost ten times the best order found
by a short local search. :func:`improve_order` runs that search on a vectorised
cost model of the frontier (every variable, accumulator or shared context, is
open from the first to the last cause that uses it; the frontier has
``2 ** (accumulators) x (context values)`` states), many candidate orders at a
time, with a fixed seed and a fixed number of rounds, so the plan is deterministic. The plan compiler then rebuilds the steps for the best order
and keeps it only if its true cost is lower. Only the *order* changes: every
order gives the same exact posterior. The search runs only when it pays for
itself over the plan's expected use (:func:`search_pays`).

Examples
--------
>>> import numpy as np
>>> problem = OrderProblem(["a", "b", "c"], np.array([[1, 0, 1], [0, 1, 0]], bool),
...                        np.array([1.0, 1.0]), np.array([2, 2, 2]))
>>> float(problem.cost([[0, 1, 2]])[0]) > float(problem.cost([[0, 2, 1]])[0])
True
>>> improve_order(problem, ["a", "b", "c"], rounds=5)
['a', 'c', 'b']
"""

from __future__ import annotations

import numpy as np

__all__ = ["SEARCH_FROM", "SEARCH_GAIN", "SEARCH_GAIN_CONTEXT", "SEARCH_MS_PER_ROUND", "SEARCH_ROUNDS", "OrderProblem",
           "cluster_order", "greedy_order", "improve_order", "search_pays", "search_rounds"]

SEARCH_FROM = 2e5
"""A plan whose greedy order costs at least this many element operations is improved
by local search (the engine then spends about a millisecond; the search a few)."""

SEARCH_ROUNDS = (10, 200)
"""Rounds of the search (each scores :data:`_BATCH` candidate orders): the first figure at
:data:`SEARCH_FROM`, growing with the logarithm of the greedy cost up to the second."""

SEARCH_GAIN = 0.15
"""Share of a heavy plan's greedy cost the search typically saves when no free context
variable is open in the frontier (measured: median 12 %, 90th percentile 28 %, over the
84 searched heavy patterns of a 5,000-patient synthetic cohort with its context recorded,
``observe(net, sample_cohort(net, 5000, seed=1), seed=1)``)."""

SEARCH_GAIN_CONTEXT = 0.5
"""... and when free context variables are (measured: 10th percentile 48 %, median 67 %
over 66 heavy patterns of the same patients with only age, sex and drug exposures recorded)."""

SEARCH_MS_PER_ROUND = 0.4
"""Milliseconds one round of the search takes (measured on the same patterns, about 42
causes and 13 shared variables: 0.4-0.5 ms a round, one core)."""

_BATCH = 128


def search_rounds(cost: float) -> int:
    """Rounds of the search for a greedy order of ``cost`` operations (:data:`SEARCH_ROUNDS`)."""
    lo, hi = SEARCH_ROUNDS
    grow = max(0.0, np.log10(max(cost, 1.0) / SEARCH_FROM)) / 4
    return int(lo + (hi - lo) * min(1.0, grow))


def search_pays(cost: float, run_ns: float | None = None, context: bool = False) -> bool:
    """Is the search worth its time for a greedy order of ``cost`` operations?

    ``run_ns``: nanoseconds per operation summed over the runs the plan is expected
    to serve (runs x ns per operation); ``None`` (unknown: a cached plan may serve
    thousands of draws) searches every order from :data:`SEARCH_FROM` up. Otherwise
    the search runs when its expected saving (:data:`SEARCH_GAIN` of the cost, or
    :data:`SEARCH_GAIN_CONTEXT` when free ``context`` variables are in the frontier)
    is at least its own time (:func:`search_rounds` x :data:`SEARCH_MS_PER_ROUND`):
    a heavy pattern seen once in a cohort, one draw, is not searched.

    >>> search_pays(1e6), search_pays(1e6, run_ns=10.0), search_pays(1e6, run_ns=1e4)
    (True, False, True)
    >>> search_pays(1e7, run_ns=10.0), search_pays(1e7, run_ns=10.0, context=True)
    (False, True)
    >>> search_pays(1e5)
    False
    """
    if cost < SEARCH_FROM:
        return False
    if run_ns is None:
        return True
    gain = SEARCH_GAIN_CONTEXT if context else SEARCH_GAIN
    return gain * cost * run_ns * 1e-9 >= search_rounds(cost) * SEARCH_MS_PER_ROUND * 1e-3


class OrderProblem:
    """What the cost of a cause order depends on.

    Parameters
    ----------
    items : list of str
        Causes to order.
    uses : numpy.ndarray
        ``(V, n)`` bool: variable ``v`` (an accumulator or a shared context
        variable) is used by item ``i``.
    weight : numpy.ndarray
        ``(V,)``: log2 of the number of states of each variable.
    work : numpy.ndarray
        ``(n,)``: operations per frontier state when item ``i`` is processed.
    """

    def __init__(self, items, uses, weight, work):
        self.items = list(items)
        self.uses = np.asarray(uses, bool)
        self.weight = np.asarray(weight, float)
        self.work = np.asarray(work, float)
        # each used variable's items, padded (with the first item) to one length: a
        # variable's first and last position is a min / max over a few columns
        used = np.flatnonzero(self.uses.any(axis=1))
        users = [np.flatnonzero(self.uses[v]) for v in used]
        width = max((len(u) for u in users), default=1)
        self._users = np.array([np.resize(u, width) for u in users], dtype=np.int64).reshape(
            len(users), width)
        # variables of equal weight (cardinality) are counted together, in integers, so
        # orders with the same open sets get bit-identical costs (ties stay ties)
        self._classes = [(float(w), np.flatnonzero(self.weight[used] == w))
                         for w in np.unique(self.weight[used])]

    def cost(self, orders) -> np.ndarray:
        """Modelled cost of each order (rows of item indices), shape ``(M,)``."""
        orders = np.asarray(orders)
        M, n = orders.shape
        pos = np.empty_like(orders)
        pos[np.arange(M)[:, None], orders] = np.arange(n)[None, :]
        logsize = np.zeros((M, n))
        if self._users.size:
            at = pos[:, self._users]                                   # (M, V, width)
            first, last = at.min(-1), at.max(-1)                       # (M, V)
            rows = (np.arange(M) * (n + 1))[:, None]
            for w, vs in self._classes:  # open count per step by a difference array
                delta = np.bincount((rows + first[:, vs]).ravel(), minlength=M * (n + 1))
                delta -= np.bincount((rows + last[:, vs] + 1).ravel(), minlength=M * (n + 1))
                logsize += w * np.cumsum(delta.reshape(M, n + 1), axis=1)[:, :n]
        return (np.exp2(logsize) * self.work[orders]).sum(-1)


def improve_order(problem: OrderProblem, order: list, *, rounds: int | None = None,
                  seed: int = 0) -> list:
    """Best order found from ``order`` by batched random moves (deterministic given ``seed``).

    Each round scores :data:`_BATCH` neighbours of the current order (one to
    three "move a cause elsewhere" steps each) and moves to the cheapest if it
    is cheaper. ``rounds`` defaults from :data:`SEARCH_ROUNDS` and the cost.
    """
    index = {c: i for i, c in enumerate(problem.items)}
    cur = np.array([index[c] for c in order])
    n = len(cur)
    if n < 3:
        return list(order)
    cur_cost = float(problem.cost(cur[None])[0])
    if rounds is None:
        rounds = search_rounds(cur_cost)
    rng = np.random.default_rng(seed)
    for _ in range(rounds):
        moves = rng.integers(n, size=(_BATCH, 3, 2)).tolist()
        base = cur.tolist()
        rows = []
        for m in range(_BATCH):
            row = list(base)
            for i, j in moves[m][:1 + m % 3]:
                row.insert(j, row.pop(i))
            rows.append(row)
        cands = np.array(rows)
        costs = problem.cost(cands)
        k = int(np.argmin(costs))
        if costs[k] < cur_cost:
            cur, cur_cost = cands[k], float(costs[k])
    return [problem.items[i] for i in cur]


def greedy_order(net, cause_items, deps, acc_parents, users_of) -> list[str]:
    """Next cause = the one leaving the smallest frontier (ties: closes most).

    Open variables are tracked with counts of their users not yet done, and the
    frontier's size as one product, so a candidate is scored from its own
    variables only: a context variable it uses opens (if others still need it) or
    closes (if it is the last user); an accumulator it drives opens or closes
    the same way; every other open variable stays open.
    """
    remaining = list(cause_items)
    pos = {c: i for i, c in enumerate(net.causes)}
    acc_of = {c: [f for f, ps in acc_parents.items() if c in ps] for c in cause_items}
    ctx_left = {x: len(u) for x, u in users_of.items()}  # users not yet done
    acc_left = {f: len(set(ps)) for f, ps in acc_parents.items()}
    deps_of = {c: tuple(dict.fromkeys(deps[c])) for c in cause_items}
    card = {x: net.card(x) for x in users_of}
    open_ctx: set[str] = set()
    open_acc: set[str] = set()
    size = 1  # product of the open context variables' cardinalities
    order = []
    while remaining:
        best, best_cost = None, None
        n_open = len(open_acc)
        for c in remaining:
            s = size
            for x in deps_of[c]:
                if x in open_ctx:
                    if ctx_left[x] == 1:
                        s //= card[x]
                elif ctx_left[x] > 1:
                    s *= card[x]
            opens = closes = 0
            for f in acc_of[c]:
                if acc_left[f] == 1:
                    closes += 1
                    opens += f not in open_acc
                elif f not in open_acc:
                    opens += 1
            n_after = n_open + opens - closes
            cost = (s << n_after, -closes, pos[c])
            if best_cost is None or cost < best_cost:
                best, best_cost = c, cost
        order.append(best)
        remaining.remove(best)
        for x in deps_of[best]:
            ctx_left[x] -= 1
            if x in open_ctx:
                if not ctx_left[x]:
                    open_ctx.discard(x)
                    size //= card[x]
            elif ctx_left[x]:
                open_ctx.add(x)
                size *= card[x]
        for f in acc_of[best]:
            acc_left[f] -= 1
            if acc_left[f]:
                open_acc.add(f)
            else:
                open_acc.discard(f)
    return order


def cluster_order(net, cause_items, deps) -> list[str]:
    """Causes that share context variables are processed together (BFS per cluster)."""
    pos = {c: i for i, c in enumerate(net.causes)}
    by_ctx: dict[str, list[str]] = {}
    for c in cause_items:
        for x in deps[c]:
            by_ctx.setdefault(x, []).append(c)
    # widely shared variables (age, sex, ancestry) do not define clusters
    hubs = {x for x, cs in by_ctx.items() if len(cs) > 4}
    seen: set[str] = set()
    order = []
    for start in sorted(cause_items, key=lambda c: (-len(deps[c]), pos[c])):
        if start in seen:
            continue
        queue = [start]
        seen.add(start)
        while queue:
            c = queue.pop(0)
            order.append(c)
            nbrs = {n for x in deps[c] if x not in hubs for n in by_ctx[x]} - seen
            for n in sorted(nbrs, key=lambda k: pos[k]):
                seen.add(n)
                queue.append(n)
    return order
