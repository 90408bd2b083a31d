"""Numbers for JSON output: finite floats rounded, anything else ``None``.

>>> json_number(0.1234567891234), json_number(float("nan")), json_number(None)
(0.123456789, None, None)
"""

from __future__ import annotations

import math

__all__ = ["json_number"]


def json_number(x, digits: int = 9):
    """``x`` rounded to ``digits`` when finite, else ``None`` (JSON has no NaN)."""
    if x is None:
        return None
    x = float(x)
    return round(x, digits) if math.isfinite(x) else None
