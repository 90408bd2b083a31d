"""What a query will cost before it runs, and the budget it must keep to.

The exact engine's work grows with the number of abnormal findings open at
once (each doubles the frontier). A compiled plan knows its frontier, so the
cost of a query is known *before* any array is allocated:

* ``states``: the largest frontier (open accumulators x open context values);
* ``bytes``: what the forward pass keeps (every step's array, for every draw
  and case at once) plus working room for the largest step;
* ``seconds``: element operations times :data:`NS_PER_OP`, measured on the
  development machine (2 shared cores, numpy einsum).

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

__all__ = ["DEFAULT_MEMORY", "DEFAULT_SECONDS", "NS_PER_OP", "OVERHEAD_BYTES", "Budget",
           "BudgetError", "Cost", "plan_cost"]

DEFAULT_MEMORY = 1 << 30
"""Bytes the engine may hold for one query's arrays (1 GiB); the process adds its own
~200 MB (Python, numpy, the model), so a query stays under ~1.3 GB resident."""

DEFAULT_SECONDS = 8.0
"""Estimated seconds one exact posterior may take; a credible interval gets the same again."""

NS_PER_OP = 10.0
"""Nanoseconds per element operation of the einsum kernel (measured: 4.2e8 operations in
3.9 s on the heaviest example, ``examples/heavy_workup.yaml``, load average 3; light steps
cost more per element, heavy ones less, so this errs on the slow side for heavy queries)."""

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


def plan_cost(plan, draws: int = 1, cases: int = 1) -> Cost:
    """Cost of running ``plan`` for ``draws`` x ``cases`` at once."""
    units = max(1, draws) * max(1, cases)
    per = 8 * (plan.stored + 3 * plan.largest) + 8 * 64 * len(plan.steps)
    states = max((plan.largest,), default=1)
    ops = float(plan.cost) * units
    return Cost(int(states), ops, int(per * units + OVERHEAD_BYTES), ops * NS_PER_OP * 1e-9)
