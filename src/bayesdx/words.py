"""How numbers and states read to a person: one place for the CLI, the app and the summary.

>>> pct(0.9431), pct(0.0432), pct(0.00421), pct(0.00001)
('94%', '4.3%', '0.42%', '<0.01%')
>>> state_text("clozapine_window")
'clozapine, in risk window'
"""

from __future__ import annotations

import math
import re

__all__ = ["pct", "short_label", "state_text"]


def pct(p: float) -> str:
    """A probability as a short percentage (two significant digits, more near 100 %).

    >>> pct(1.0), pct(0.9981), pct(0.0), pct(float("nan"))
    ('100%', '99.8%', '0%', '-')
    """
    if not math.isfinite(p):
        return "-"
    x = 100 * p
    if x >= 99.5 and x < 100:
        return f"{x:.1f}%"
    if x >= 10:
        return f"{x:.0f}%"
    if x >= 1:
        return f"{x:.1f}%"
    if x >= 0.01:
        return f"{x:.2f}%"
    return "<0.01%" if x > 0 else "0%"


def state_text(state: str) -> str:
    """A node state as shown to the user.

    >>> state_text("very_low"), state_text("clozapine_window")
    ('very low', 'clozapine, in risk window')
    """
    for timing, text in (("_early", "before risk window"), ("_window", "in risk window"),
                         ("_late", "after risk window"), ("_unknown", "timing unknown")):
        if state.endswith(timing) and state != timing[1:]:
            return f"{state[: -len(timing)].replace('_', ' ')}, {text}"
    return state.replace("_", " ")


def short_label(label: str) -> str:
    """A label without its trailing parenthesis, for tight spaces (bars, tables).

    >>> short_label("Drug: Antipsychotic (clozapine and others)")
    'Drug: Antipsychotic'
    """
    return re.sub(r"\s*\([^)]*\)\s*$", "", label)
