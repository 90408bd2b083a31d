"""What a query will cost before it runs, and the budget it must keep to.

The exact engine's work grows with the number of abnormal findings open at
once (each doubles the frontier). A compiled plan knows its frontier, so the
cost of a query is known *before* any array is allocated:

* ``states``: the largest frontier (open accumulators x open context values);
* ``bytes``: what the forward pass keeps (every step's array, for every draw
  and case at once) plus working room for the largest step;
* ``seconds``: element operations times :data:`NS_PER_OP` (numpy einsum) or, for
  the compiled kernel (the default), :data:`NS_PER_OP_COMPILED` plus
  :data:`US_PER_STEP` per step and run, measured on the development machine
  (2 shared cores).

:class:`Budget` bounds both. The engine runs the draws and cases of a query in
chunks that keep within the memory budget (exact, same numbers); a single
posterior whose estimated time exceeds the budget is refused with
:class:`BudgetError` *before* it runs, naming the cost and what to do, and the
credible intervals take as many draws as the time budget allows and state
their Monte-Carlo error (:mod:`bayesdx.uncertainty`).

Examples
--------
>>> b = Budget()
>>> b.memory_bytes == DEFAULT_MEMORY and b.seconds == DEFAULT_SECONDS
True
>>> Cost(states=4, ops=1e6, bytes=800, seconds=0.01).within(b)
True
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import BayesdxError, Problem

__all__ = ["DEFAULT_MEMORY", "DEFAULT_SECONDS", "NS_PER_OP", "NS_PER_OP_COMPILED", "OVERHEAD_BYTES",
           "US_PER_STEP", "Budget", "BudgetError", "Cost", "plan_cost"]

DEFAULT_MEMORY = 1 << 30
"""Bytes the engine may hold for one query's arrays (1 GiB); the process adds its own
~200 MB (Python, numpy, the model), so a query stays under ~1.3 GB resident."""

DEFAULT_SECONDS = 8.0
"""Estimated seconds one exact posterior may take; a credible interval gets the same again."""

NS_PER_OP = 10.0
"""Nanoseconds per element operation of the einsum kernel (measured: 4.2e8 operations in
3.9 s on the heaviest example, ``examples/heavy_workup.yaml``, load average 3; light steps
cost more per element, heavy ones less, so this errs on the slow side for heavy queries)."""

NS_PER_OP_COMPILED = 5.0
"""Nanoseconds per element operation of the compiled kernel (:mod:`bayesdx.inference.program`),
one core; with :data:`US_PER_STEP`, fitted on the 106 validation work-ups' plans, 100 draws
each (``benchmarks/kernel_cost.py``, 2026-12-06, load ~7 on 2 cores: 5.2 ns/op + 0.8 us/step;
the heaviest plans, 1.1-1.5e6 operations, ran at 2.7-4.9 ns/op). Numpy einsum took ~10
(:data:`NS_PER_OP`), so heavy intervals were cut to 560-700 of 1,000 draws needlessly."""

US_PER_STEP = 1.0
"""Microseconds per plan step and run of the compiled kernel (its records' fixed cost)."""

OVERHEAD_BYTES = 8 << 20
"""Fixed working memory of a query (tables reduced by the evidence, caches)."""


@dataclass(frozen=True)
class Budget:
    """Limits for one query.

    Attributes
    ----------
    memory_bytes : int
        Arrays held at once by the engine.
    seconds : float
        Estimated time of one posterior (and, separately, of its credible interval).
    """

    memory_bytes: int = DEFAULT_MEMORY
    seconds: float = DEFAULT_SECONDS


@dataclass(frozen=True)
class Cost:
    """Estimated cost of a query (see the module docstring)."""

    states: int
    ops: float
    bytes: int
    seconds: float

    def within(self, budget: Budget) -> bool:
        """True when both memory and time fit ``budget``."""
        return self.bytes <= budget.memory_bytes and self.seconds <= budget.seconds

    def describe(self) -> str:
        """One line: states, memory, time."""
        return (f"frontier {self.states:,} states, ~{self.bytes / 2**20:,.0f} MB, "
                f"~{self.seconds:,.1f} s")


class BudgetError(BayesdxError):
    """A query would exceed its budget; raised before any work is done (exit code 3)."""

    exit_code = 3

    def __init__(self, where: str, cost: Cost, budget: Budget):
        self.cost, self.budget = cost, budget
        self.problem = Problem(where, "", "the exact posterior must fit the budget of "
                               f"~{budget.seconds:g} s and {budget.memory_bytes / 2**30:g} GB",
                               cost.describe(),
                               "fewer abnormal findings at once, or a larger budget "
                               "(--budget-seconds)")
        super().__init__(str(self.problem))


def plan_cost(plan, draws: int = 1, cases: int = 1, compiled: bool = False) -> Cost:
    """Cost of running ``plan`` for ``draws`` x ``cases`` at once (``compiled``: by the
    compiled kernel, :data:`NS_PER_OP_COMPILED` and :data:`US_PER_STEP`; else by numpy,
    :data:`NS_PER_OP`). The time is one core's; memory is the numpy path's, an upper
    bound for the kernel's."""
    units = max(1, draws) * max(1, cases)
    per = 8 * (plan.stored + 3 * plan.largest) + 8 * 64 * len(plan.steps)
    states = max((plan.largest,), default=1)
    ops = float(plan.cost) * units
    if compiled:
        seconds = ops * NS_PER_OP_COMPILED * 1e-9 + units * len(plan.steps) * US_PER_STEP * 1e-6
    else:
        seconds = ops * NS_PER_OP * 1e-9
    return Cost(int(states), ops, int(per * units + OVERHEAD_BYTES), seconds)
