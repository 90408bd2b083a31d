"""Reliability tables: predicted against observed frequency, binned, with ECE.

Used by the validation sets (:mod:`bayesdx.evaluation.vignettes`) and the
synthetic-cohort check (:mod:`bayesdx.evaluation.cohort`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Calibration", "CalibrationBin", "calibration"]


@dataclass(frozen=True)
class CalibrationBin:
    """One probability bin ``[lo, hi)`` of a reliability table.

    ``z`` is ``(observed count - sum of forecasts) / sqrt(sum p (1 - p))``: about
    standard normal when the forecasts are calibrated and the outcomes independent.
    """

    lo: float
    hi: float
    n: int
    predicted: float
    observed: float
    z: float = float("nan")


@dataclass(frozen=True)
class Calibration:
    """Reliability table: predicted vs observed frequency per bin.

    ``ece`` is the expected calibration error, ``sum_b n_b / n * |observed_b -
    predicted_b|``; ``mce`` the largest gap over non-empty bins.
    """

    bins: tuple[CalibrationBin, ...]
    n: int
    ece: float
    mce: float

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (empty bins have ``null`` means)."""
        def num(x: float):
            return None if np.isnan(x) else round(float(x), 6)
        return {"n": self.n, "ece": num(self.ece), "mce": num(self.mce),
                "bins": [{"lo": b.lo, "hi": b.hi, "n": b.n, "predicted": num(b.predicted),
                          "observed": num(b.observed), "z": num(b.z)} for b in self.bins]}


def calibration(pred: Sequence[float] | np.ndarray, obs: Sequence[float] | np.ndarray,
                bins: int = 10) -> Calibration:
    """Bin forecasts ``pred`` (in [0, 1]) against outcomes ``obs`` (0/1) in equal-width bins.

    The last bin is closed (``p == 1`` falls in it).

    Examples
    --------
    >>> c = calibration([0.1, 0.12, 0.9], [0, 1, 1], bins=2)
    >>> [(b.n, round(b.observed, 2)) for b in c.bins]
    [(2, 0.5), (1, 1.0)]
    """
    p = np.asarray(pred, dtype=float).ravel()
    y = np.asarray(obs, dtype=float).ravel()
    if p.shape != y.shape:
        raise ValueError(f"calibration: pred and obs must have the same length; got "
                         f"{p.size} and {y.size}")
    idx = np.minimum((p * bins).astype(int), bins - 1) if p.size else p.astype(int)
    out, ece, mce = [], 0.0, 0.0
    for k in range(bins):
        sel = idx == k
        n = int(sel.sum())
        pm = float(p[sel].mean()) if n else float("nan")
        om = float(y[sel].mean()) if n else float("nan")
        var = float((p[sel] * (1 - p[sel])).sum())
        z = float((y[sel].sum() - p[sel].sum()) / np.sqrt(var)) if var > 0 else float("nan")
        if n:
            ece += n / p.size * abs(om - pm)
            mce = max(mce, abs(om - pm))
        out.append(CalibrationBin(round(k / bins, 10), round((k + 1) / bins, 10), n, pm, om, z))
    return Calibration(tuple(out), int(p.size), ece if p.size else float("nan"),
                       mce if p.size else float("nan"))
