"""Compile an evidence pattern into an ordered plan of einsum steps.

A *pattern* (:class:`~bayesdx.inference.evidence.Pattern`) says which context nodes are observed in every case of a batch
(fixed), which are not (free), which findings are observed at baseline in
every case (unary factors) and which need an accumulator. The plan orders the
causes greedily so that the frontier (open context variables and
accumulators) stays small, and precomputes the einsum sublists of every step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..knowledge.network import Network
from .evidence import Pattern
from .order import OrderProblem, cluster_order, greedy_order, improve_order, search_pays

__all__ = ["Pattern", "Plan", "Step", "compile_plan"]


@dataclass
class Step:
    item: str
    kind: str  # "cause" | "ctx"
    in_axes: tuple[str, ...]
    out_axes: tuple[str, ...]
    own_axes: tuple[str, ...]  # axes of the item's own factor (item first)
    trans: tuple[tuple[str, str], ...]  # (finding, parent) transitions applied here
    opens: tuple[str, ...]  # accumulators opened here
    closes: tuple[str, ...]  # accumulators closed here
    prog: dict = field(default_factory=dict)


@dataclass
class Plan:
    fixed_ctx: frozenset
    free_ctx: tuple[str, ...]
    unary: tuple[str, ...]
    acc: tuple[str, ...]
    steps: list[Step]
    free_causes: tuple[str, ...]
    isolated_ctx: tuple[str, ...]
    max_frontier: int
    folds: dict = field(default_factory=dict)   # cause -> free ctx vars summed into its factor
    deps: dict = field(default_factory=dict)    # cause -> free ctx vars its factor keeps (axes)
    cost: float = 0.0
    stored: int = 0     # numbers the forward pass keeps per draw and case (every step's Y)
    largest: int = 0    # numbers in the largest Y
    greedy_cost: float = 0.0  # cost of the better of the two quick orders (before any search)
    searched: bool = False    # the order search ran (:func:`~bayesdx.inference.order.search_pays`)


def compile_plan(net: Network, pattern: Pattern, run_ns: float | None = None) -> Plan:
    """Order the causes and build the einsum steps for one evidence pattern.

    Free context variables used by a single cause are summed into that
    cause's factor (exactly); the rest live in the frontier between their
    first and last user. Two cause orders are simulated (a greedy one and one
    that keeps causes sharing context variables together); the cheaper wins.
    A heavy pattern's order is then improved by a local search when the search
    pays for itself over the plan's expected use, ``run_ns`` (runs x nanoseconds
    per operation; ``None``: unknown, search from
    :data:`~bayesdx.inference.order.SEARCH_FROM` up; see
    :func:`~bayesdx.inference.order.search_pays`).
    """
    fixed_ctx, free_ctx, unary, acc = pattern.fixed_ctx, pattern.free_ctx, pattern.unary, pattern.acc
    ctx_set = set(net.context)
    acc_set = set(acc)
    free_ctx = set(free_ctx)
    deps = {c: [p for p in net.parents[c] if p in free_ctx] for c in net.causes}
    acc_ctx = {f: [p for p in net.parents[f] if p in free_ctx] for f in acc}
    # relevant free context: what causes / acc findings depend on, plus free ancestors
    relevant: set[str] = set()
    for c in net.causes:
        relevant.update(deps[c])
    for f in acc:
        relevant.update(acc_ctx[f])
    stack = list(relevant)
    while stack:
        x = stack.pop()
        for p in net.parents[x]:
            if p in free_ctx and p not in relevant:
                relevant.add(p)
                stack.append(p)
    # fold single-user context variables into their cause
    folds: dict[str, list[str]] = {c: [] for c in net.causes}
    folded: set[str] = set()
    changed = True
    while changed:
        changed = False
        for x in sorted(relevant - folded):
            if any(x in acc_ctx[f] for f in acc):
                continue
            if any(ch in relevant and ch not in folded for ch in net.children[x] if ch in ctx_set):
                continue
            users = [c for c in net.causes if x in deps[c]]
            if len(users) != 1:
                continue
            c = users[0]
            folds[c].append(x)
            folded.add(x)
            deps[c] = [d for d in deps[c] if d != x] + [p for p in net.parents[x]
                                                        if p in free_ctx and p not in deps[c]]
            changed = True
    ctx_needed = {x for x in relevant - folded
                  if any(x in deps[c] for c in net.causes) or any(x in acc_ctx[f] for f in acc)
                  or any(ch in relevant and ch not in folded for ch in net.children[x]
                         if ch in ctx_set)}
    isolated = tuple(x for x in net.context if x in free_ctx and x not in ctx_needed
                     and x not in folded)
    cause_items = [c for c in net.causes if deps[c] or any(f in acc_set for f in net.children[c])]
    free_causes = tuple(c for c in net.causes if c not in cause_items)
    acc_parents = {f: [p for p in net.parents[f] if p in cause_items or p in ctx_needed]
                   for f in acc}

    def ctx_users(x: str) -> set[str]:
        users = {c for c in cause_items if x in deps[c]}
        users |= {ch for ch in net.children[x] if ch in ctx_needed}
        return users

    users_of = {x: ctx_users(x) for x in ctx_needed}

    def simulate(order: list[str]):
        done: set[str] = set()
        open_ctx: list[str] = []
        open_acc: list[str] = []
        steps: list[Step] = []
        stats = {"max": 1, "cost": 0.0, "stored": 0, "largest": 1}

        def size(ctx_list, n_acc):
            s = 1
            for x in ctx_list:
                s *= net.card(x)
            return s * (2 ** n_acc)

        def emit(item: str, kind: str):
            in_axes = tuple(open_ctx) + tuple(open_acc)
            trans = tuple((f, item) for f in acc if item in acc_parents[f])
            opens = tuple(f for f, _ in trans if f not in open_acc)
            open_acc.extend(opens)
            if kind == "ctx":
                own = (item,) + tuple(p for p in net.parents[item] if p in ctx_needed)
                open_ctx.append(item)
            else:
                own = (item,) + tuple(deps[item])
            work = size(open_ctx, len(open_acc)) * net.card(item) * (1 + len(trans))
            done.add(item)
            ctx_closed = [x for x in open_ctx if not (users_of[x] - done)]
            acc_closed = [f for f in open_acc if not (set(acc_parents[f]) - done)]
            for x in ctx_closed:
                open_ctx.remove(x)
            for f in acc_closed:
                open_acc.remove(f)
            out_axes = tuple(open_ctx) + tuple(open_acc)
            stats["max"] = max(stats["max"], work)
            stats["cost"] += work
            ysize = work // ((1 + len(trans)) * (net.card(item) if kind == "ctx" else 1))
            stats["stored"] += ysize
            stats["largest"] = max(stats["largest"], ysize)
            steps.append(Step(item, kind, in_axes, out_axes, own, trans, opens, tuple(acc_closed)))

        def open_var(x: str):
            if x in done:
                return
            for p in net.parents[x]:
                if p in ctx_needed:
                    open_var(p)
            emit(x, "ctx")

        for c in order:
            for x in deps[c]:
                open_var(x)
            emit(c, "cause")
        for x in net.context:  # context needed only by acc findings
            if x in ctx_needed and x not in done:
                open_var(x)
        if open_ctx or open_acc:  # pragma: no cover - defensive
            raise RuntimeError(f"internal: frontier not closed {open_ctx} {open_acc}")
        return steps, stats["cost"], stats["max"], stats

    best = None
    for order in (greedy_order(net, cause_items, deps, acc_parents, users_of),
                  cluster_order(net, cause_items, deps)):
        steps, cost, mx, stats = simulate(order)
        if best is None or cost < best[1]:
            best = (steps, cost, mx, order, stats)
    greedy_cost = best[1]
    searched = search_pays(greedy_cost, run_ns, bool(ctx_needed))
    if searched:  # heavy pattern: a short local search pays for itself
        problem = _order_problem(net, cause_items, deps, acc_parents, users_of)
        order = improve_order(problem, best[3])
        steps, cost, mx, stats = simulate(order)
        if cost < best[1]:
            best = (steps, cost, mx, order, stats)
    steps, cost, mx, _, stats = best
    plan = Plan(frozenset(fixed_ctx), tuple(sorted(ctx_needed)), tuple(unary), tuple(acc), steps,
                free_causes, isolated, mx,
                {c: tuple(v) for c, v in folds.items() if v}, {c: tuple(v) for c, v in deps.items()},
                cost, stats["stored"], stats["largest"], greedy_cost, searched)
    _build_subscripts(plan)
    return plan


def _order_problem(net, cause_items, deps, acc_parents, users_of) -> OrderProblem:
    """The cost model of :mod:`bayesdx.inference.order` for this pattern."""
    import numpy as np

    col = {c: i for i, c in enumerate(cause_items)}
    memo: dict[str, set] = {}

    def causes_using(x: str) -> set:  # a context variable is open while any of these is pending
        if x not in memo:
            memo[x] = set()
            for u in users_of[x]:
                memo[x] |= {u} if u in col else causes_using(u)
        return memo[x]

    rows, weight = [], []
    work = np.array([2.0 * (1 + sum(c in ps for ps in acc_parents.values())) for c in cause_items])
    for f, ps in acc_parents.items():
        users = set()
        for p in ps:
            users |= {p} if p in col else causes_using(p)
        rows.append(users)
        weight.append(1.0)
    for x in users_of:
        users = causes_using(x)
        if len(users) == 1:  # open at one step only, whatever the order: a constant factor
            work[col[next(iter(users))]] *= net.card(x)
            continue
        rows.append(users)
        weight.append(float(np.log2(net.card(x))))
    uses = np.zeros((len(rows), len(cause_items)), bool)
    for v, users in enumerate(rows):
        uses[v, [col[u] for u in users]] = True
    return OrderProblem(cause_items, uses, np.array(weight), work)


def _labels(*axes_lists):
    """Map the names in several axis lists to small ints (first-seen order)."""
    table: dict = {}
    out = []
    for axes in axes_lists:
        out.append([table.setdefault(a, len(table)) for a in axes])
    return out


def _build_subscripts(plan: Plan) -> None:
    """Compile every step into a short program of two-operand einsums.

    Forward: ``Y = frontier x own`` adds the item's axis; each transition then
    opens, updates or closes one accumulator axis (a 2x2 map per item state);
    finally the item and the context variables that close here are summed
    out. The stored ``Y`` and the backward message give the item's marginal;
    the backward program applies the same operands in reverse.
    """
    axes: list = []  # frontier axes before the step
    free_ctx = set(plan.free_ctx)
    for st in plan.steps:
        item = st.item
        in_axes = list(axes)
        y = [item] + in_axes  # distinct names: y's labels are 0, 1, ... in order, item 0
        fwd = [("own", *_labels(in_axes, st.own_axes, y))]
        ys = [list(y)]
        modes = []
        opens_set, closes_set = set(st.opens), set(st.closes)
        for f, _ in st.trans:
            opens, closes = f in opens_set, f in closes_set
            n = len(y)
            la = list(range(n))
            if opens and closes:
                mode, lb, lo = "oc", [0], la
            elif opens:
                mode, lb, lo = "open", [0, n], la + [n]
                y = y + [f]
            else:
                i = y.index(f)
                if closes:
                    mode, lb, lo = "close", [i, 0], la[:i] + la[i + 1:]
                    y = y[:i] + y[i + 1:]
                else:
                    mode, lb, lo = "mid", [i, 0, n], la[:i] + [n] + la[i + 1:]
            fwd.append(("trans", f, mode, la, lb, lo))
            ys.append(y)
            modes.append((f, mode))
        out_set = set(st.out_axes)
        keep_item = st.kind == "ctx" and item in out_set
        out = [a for a in y if (a != item or keep_item) and (a not in free_ctx or a in out_set)]
        back = []
        g = list(out)
        for k in reversed(range(len(modes))):
            f, mode = modes[k]
            # g's labels are 0, 1, ... in order; the map's and g_prev's follow (first seen)
            table = {a: i for i, a in enumerate(g)}
            if mode in ("mid", "close"):
                fin = ("in", f)
                t_axes = [fin, item, f] if mode == "mid" else [fin, item]
                g_prev = [fin if a == f else a for a in ys[k] if a == f or a in table
                          or a == item]
            else:
                t_axes = [item, f] if mode == "open" else [item]
                g_prev = [a for a in ys[k] if a in table or a in t_axes]
            lt = [table.setdefault(a, len(table)) for a in t_axes]  # new names: next ints
            lg = [table.setdefault(a, len(table)) for a in g_prev]
            back.append((f, mode, list(range(len(g))), lt, lg))
            g = [f if a == fin else a for a in g_prev] if mode in ("mid", "close") else g_prev
        back.append(("own", *_labels(g, st.own_axes, in_axes)))
        st.prog = {"fwd": fwd, "back": back, "sum": _labels(y, out),
                   "marg": _labels(y, out, [item])}
        axes = out
