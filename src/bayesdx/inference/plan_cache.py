"""The engine's plan cache: one compiled plan per evidence pattern and expected use.

A plan's cause order is searched (:func:`~bayesdx.inference.order.improve_order`)
only when the search pays for itself over the runs the plan will serve
(:func:`~bayesdx.inference.order.search_pays`). A query that states its use (a
pattern's cases in :meth:`~bayesdx.inference.engine.Engine.posterior_batch`, runs x
nanoseconds per operation) gets the greedy plan of a heavy pattern unless the
search pays; that plan is cached apart from the searched one (key ``(pattern,
"greedy")``), so which plan a query gets depends on the query only, never on
what is cached. A light pattern, never searched, has one plan under the pattern.

Thread safety: the lock covers each lookup and each insertion, never a
compilation; two threads that miss the same key at once may both compile it (the
same plan: compilation is deterministic) and the first stored wins.

Examples
--------
>>> from bayesdx.knowledge.network import Network
>>> from bayesdx.inference.plan import Pattern
>>> net = Network.from_knowledge()
>>> cache = PlanCache(net, size=8)
>>> pattern = Pattern.of(net, [{"anc": 2}])
>>> cache.get(pattern) is cache.get(pattern, run_ns=10.0), len(cache.plans)
(True, 1)
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from ..knowledge.network import Network
from .order import search_pays
from .plan import Pattern, Plan, compile_plan

__all__ = ["PlanCache"]


class PlanCache:
    """Compiled plans, least recently used dropped beyond ``size``.

    Attributes
    ----------
    plans : collections.OrderedDict
        Key (a :class:`~bayesdx.inference.plan.Pattern`, or ``(pattern, "greedy")``)
        -> :class:`~bayesdx.inference.plan.Plan`.
    lock : threading.Lock
        Guards ``plans``.
    """

    def __init__(self, net: Network, size: int):
        self.net, self.size = net, size
        self.plans: OrderedDict[Pattern | tuple, Plan] = OrderedDict()
        self.lock = threading.Lock()

    @classmethod
    def of(cls, net: Network, size: int, shared: PlanCache | None = None) -> PlanCache:
        """``shared`` (another engine's cache, to share its plans: immutable once compiled,
        so sharing changes no number), checked to be ``net``'s; else a new cache of ``size``."""
        if shared is None:
            return cls(net, size)
        if shared.net is not net:
            raise ValueError("Engine: plan_cache: must belong to the same network; got another "
                             "network's cache; try Engine(net) or that network's engine.plan_cache")
        return shared

    def get(self, pattern: Pattern, run_ns: float | None = None) -> Plan:
        """The plan of ``pattern`` for a use of ``run_ns`` (see the module docstring)."""
        if run_ns is None:
            return self._cached(pattern, lambda: compile_plan(self.net, pattern))
        full = self._cached(pattern, None)
        if full is not None and not full.searched:  # light: the greedy plan is the plan
            return full
        quick = self._cached((pattern, "greedy"),
                             lambda: compile_plan(self.net, pattern, run_ns=0.0))
        if search_pays(quick.greedy_cost, run_ns, bool(quick.free_ctx)):
            return self.get(pattern)
        return quick

    def _cached(self, key, compile):
        """The plan cached under ``key``, else ``compile()`` stored there (``None``: just look).
        A greedy plan that no search would change is stored as the pattern's plan."""
        with self.lock:
            plan = self.plans.get(key)
            if plan is not None:
                self.plans.move_to_end(key)
                return plan
        if compile is None:
            return None
        plan = compile()
        if isinstance(key, tuple) and not search_pays(plan.greedy_cost):
            key = key[0]
        with self.lock:
            plan = self.plans.setdefault(key, plan)
            self.plans.move_to_end(key)
            while len(self.plans) > self.size:
                self.plans.popitem(last=False)
        return plan
