"""Compile an evidence pattern into an ordered plan of einsum steps.

A *pattern* says which context nodes are observed in every case of a batch
(fixed), which are not (free), which findings are observed at baseline in
every case (unary factors) and which need an accumulator. The plan orders the
causes greedily so that the frontier (open context variables and
accumulators) stays small, and precomputes the einsum sublists of every step.
"""

from __future__ import annotations

from dataclasses import dataclass

from .network import Network

__all__ = ["Plan", "Step", "compile_plan"]




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
    subs: tuple = ()
    back_subs: tuple = ()
    marg_subs: tuple = ()


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



def compile_plan(net: Network, fixed_ctx, free_ctx, unary, acc) -> Plan:
    """Order the causes and build the einsum steps for one evidence pattern."""
    acc_set = set(acc)
    # users of each free context var: causes, acc findings, free ctx children
    cause_items = [c for c in net.causes
                   if any(p in free_ctx for p in net.parents[c])
                   or any(f in acc_set for f in net.children[c])]
    free_causes = tuple(c for c in net.causes if c not in cause_items)
    needs_ctx = {c: [p for p in net.parents[c] if p in free_ctx] for c in cause_items}
    acc_of_cause = {c: [f for f in net.children[c] if f in acc_set] for c in cause_items}
    # context vars that must be in the frontier: parents of involved causes,
    # parents of acc findings, and their free ancestors
    ctx_needed: set[str] = set()
    for c in cause_items:
        ctx_needed.update(needs_ctx[c])
    for f in acc:
        ctx_needed.update(p for p in [p for p in net.parents[f] if p in net.kb.context] if p in free_ctx)
    stack = list(ctx_needed)
    while stack:
        x = stack.pop()
        for p in net.parents[x]:
            if p in free_ctx and p not in ctx_needed:
                ctx_needed.add(p)
                stack.append(p)
    # free ctx vars not needed by anything in the frontier are marginalised alone
    isolated = tuple(x for x in net.context if x in free_ctx and x not in ctx_needed)

    def ctx_users(x: str) -> set[str]:
        users = {c for c in cause_items if x in needs_ctx[c]}
        users |= {ch for ch in [ch for ch in net.children[x] if ch in net.kb.context] if ch in ctx_needed}
        return users

    acc_parents = {f: [p for p in net.parents[f]
                       if (p in cause_items) or (p in ctx_needed)] for f in acc}
    # every acc finding needs at least one item to open at; a finding whose
    # parents are all fixed/free-causes is impossible here by construction
    remaining_causes = list(cause_items)
    done: set[str] = set()
    open_ctx: list[str] = []
    open_acc: list[str] = []
    steps: list[Step] = []
    max_frontier = 1

    def frontier_size(ctx_list, acc_list):
        s = 1
        for x in ctx_list:
            s *= net.card(x)
        return s * (2 ** len(acc_list))

    def close_lists():
        ctx_closed = [x for x in open_ctx if not (ctx_users(x) - done)]
        acc_closed = [f for f in open_acc if not (set(acc_parents[f]) - done)]
        return ctx_closed, acc_closed

    def emit(item: str, kind: str):
        nonlocal max_frontier
        in_axes = tuple(open_ctx) + tuple(open_acc)
        trans = tuple((f, item) for f in acc if item in acc_parents[f])
        opens = tuple(f for f, _ in trans if f not in open_acc)
        for f in opens:
            open_acc.append(f)
        if kind == "ctx":
            own = (item,) + tuple(p for p in net.parents[item] if p in ctx_needed)
            open_ctx.append(item)
        else:
            own = (item,) + tuple(needs_ctx[item])
        done.add(item)
        ctx_closed, acc_closed = close_lists()
        for x in ctx_closed:
            open_ctx.remove(x)
        for f in acc_closed:
            open_acc.remove(f)
        out_axes = tuple(open_ctx) + tuple(open_acc)
        max_frontier = max(max_frontier, frontier_size(open_ctx, open_acc)
                           * (net.card(item) if kind == "ctx" else 1))
        steps.append(Step(item, kind, in_axes, out_axes, own, trans, opens,
                           tuple(acc_closed)))

    def open_ctx_var(x: str):
        if x in done:
            return
        for p in net.parents[x]:
            if p in ctx_needed:
                open_ctx_var(p)
        emit(x, "ctx")

    # context needed only by acc findings (no cause users) opens first
    for f in acc:
        pass
    order_pos = {c: i for i, c in enumerate(net.causes)}
    while remaining_causes:
        best, best_cost = None, None
        for c in remaining_causes:
            new_ctx = [x for x in needs_ctx[c] if x not in open_ctx]
            new_acc = [f for f in acc_of_cause[c] if f not in open_acc]
            # accumulators that would close after c
            closing = [f for f in open_acc + new_acc
                       if not (set(acc_parents[f]) - done - {c})]
            size = frontier_size(open_ctx + new_ctx, [f for f in open_acc + new_acc
                                                      if f not in closing])
            cost = (size, -len(closing), order_pos[c])
            if best_cost is None or cost < best_cost:
                best, best_cost = c, cost
        for x in needs_ctx[best]:
            open_ctx_var(x)
        emit(best, "cause")
        remaining_causes.remove(best)
    # context vars needed only by acc findings (e.g. ancestry -> duffy test)
    for x in net.context:
        if x in ctx_needed and x not in done:
            open_ctx_var(x)
    # finally anything still open (should be nothing)
    if open_ctx or open_acc:  # pragma: no cover - defensive
        raise RuntimeError(f"internal: frontier not closed {open_ctx} {open_acc}")
    plan = Plan(fixed_ctx, tuple(sorted(ctx_needed)), tuple(unary), tuple(acc), steps,
                 free_causes, isolated, max_frontier)
    _build_subscripts(plan)
    return plan

def _build_subscripts(plan: Plan) -> None:
    """Precompute einsum sublists for every step (forward, backward, marginal)."""
    for st in plan.steps:
        labels: dict[str, int] = {}

        def L(name: str) -> int:
            if name not in labels:
                labels[name] = len(labels)
            return labels[name]

        fr_in = [L(("in", a) if a in plan.acc else a) for a in st.in_axes]
        own = [L(a) for a in st.own_axes]
        ops: list = []
        ops.append(("frontier", fr_in))
        ops.append(("own", own))
        for f, _ in st.trans:
            a_in = L(("in", f))
            a_out = L(("out", f))
            ops.append(("trans", (f, a_in, L(st.item), a_out)))
            if f in st.opens:
                ops.append(("init", (f, a_in)))
            if f in st.closes:
                ops.append(("final", (f, a_out)))
        out = []
        for a in st.out_axes:
            if a in plan.acc:
                out.append(L(("out", a)) if any(f == a for f, _ in st.trans) else L(("in", a)))
            else:
                out.append(L(a))
        st.subs = (ops, out, L(st.item))
