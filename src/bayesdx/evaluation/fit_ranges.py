"""Credible ranges of the fitted numbers from the observed-data information.

EM's expected counts treat the latent causes and mechanisms as if seen; a
Beta posterior built from them (the conjugate update) is too narrow when
much is latent, and it ignores that numbers trade off against each other
(an unlabelled flu and the leak both explain a mild ANC). Here the posterior
covariance of all fitted numbers together is the inverse of

``I = sum_b s_b s_b^T + diag(prior information)``

where ``s_b`` is case ``b``'s score at the fit: by Fisher's identity the
observed-data score is the conditional expectation of the complete-data one,

* a cause prior ``pi``: ``s_b = p_b / pi - (1 - p_b) / (1 - pi)``, ``p_b`` the
  case's posterior of the cause (label clamped);
* a link/leak number ``theta_k`` (``k >= 1``) of a row with baseline
  ``theta_0``: ``s_b = n_bk / theta_k - n_b0 / theta_0``, ``n_bk`` the case's
  expected mechanism count (:func:`~bayesdx.evaluation.fit_mech.mechanism_counts`);

``sum_b s_b s_b^T`` is the empirical (observed-data) information, and a
number's Beta prior adds ``(a-1)/x^2 + (b-1)/(1-x)^2``. Each number's range is
the 90 % interval of the Beta with the fitted value as mean and the
covariance's diagonal as variance (a Laplace approximation on (0, 1)).

Examples
--------
>>> lo, hi = beta_interval(0.2, 0.0004)
>>> bool(0.16 < lo < 0.17 and 0.23 < hi < 0.24)
True
"""

from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = ["beta_interval", "information_ranges"]


def beta_interval(mean: float, var: float) -> tuple[float, float]:
    """90 % interval of the Beta with this mean and variance (all of [0, 1] if none fits)."""
    if not 0 < mean < 1 or not np.isfinite(var) or var <= 0:
        return (float(mean), float(mean)) if var == 0 else (0.0, 1.0)
    kappa = mean * (1 - mean) / var - 1
    if kappa <= 0:
        return 0.0, 1.0
    lo, hi = stats.beta.ppf([0.05, 0.95], mean * kappa, (1 - mean) * kappa)
    return float(lo), float(hi)


def information_ranges(theta: np.ndarray, priors, prior_probs: np.ndarray, rows, rab,
                       cells) -> dict[int, tuple[float, float]]:
    """Parameter index -> 90 % credible range, from the cases' scores at ``theta``.

    ``priors``: ``[(index, cause column, (a, b))]``; ``prior_probs`` ``(B, C)``;
    ``rows``/``rab``/``cells``: the link/leak rows, their Beta priors and every
    case's expected counts ``(B, S)`` per row (empty when not fitted).
    """
    cols, info, index = [], [], []

    def prior_info(x, a, b):
        x = min(max(x, 1e-12), 1 - 1e-12)
        return (a - 1) / x ** 2 + (b - 1) / (1 - x) ** 2

    for i, c, (a, b) in priors:
        x = min(max(theta[i], 1e-12), 1 - 1e-12)
        p = np.nan_to_num(prior_probs[:, c])
        cols.append(p / x - (1 - p) / (1 - x))
        info.append(prior_info(theta[i], a, b))
        index.append(i)
    for r, (a, b), cell in zip(rows, rab, cells):
        ix = np.array(r.params)
        base = 1.0 - sum(theta[i] for i in ix if i >= 0)
        for k, (i, free) in enumerate(zip(r.params, r.free), start=1):
            if not free:
                continue
            x = theta[i]
            if x > 0 and base > 0:
                cols.append(cell[:, k] / x - cell[:, 0] / base)
            else:  # at an edge: the data say nothing this approximation can use
                cols.append(np.zeros(len(cell)))
            info.append(prior_info(x, a[k - 1], b[k - 1]))
            index.append(i)
    if not index:
        return {}
    S = np.stack(cols, axis=1)
    H = S.T @ S + np.diag(np.maximum(info, 1e-12))
    try:
        cov = np.linalg.inv(H)
    except np.linalg.LinAlgError:
        cov = np.linalg.pinv(H)
    return {i: beta_interval(float(theta[i]), float(cov[j, j])) for j, i in enumerate(index)}
