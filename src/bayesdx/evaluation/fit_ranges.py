"""Priors and credible ranges of the fitted numbers.

:func:`beta_prior` turns a number's value and range into its Beta prior (the
mode at the value). The credible ranges come from the observed-data information:

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
number's Beta prior adds ``(a-1)/x^2 + (b-1)/(1-x)^2``. A context row
(:mod:`bayesdx.evaluation.fit_context`) is parameterised by its free entries
but one, the *reference* (its largest), which takes what the others leave:
``s_b = n_bk / theta_k - n_bref / theta_ref``, and its Dirichlet adds
``(alpha_k-1)/theta_k^2`` on the diagonal and ``(alpha_ref-1)/theta_ref^2`` to
every pair of the row's entries; the reference's variance is that of minus
the others' sum. Each number's range is
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
from scipy.optimize import brentq

__all__ = ["beta_interval", "beta_prior", "information_ranges"]


def beta_interval(mean: float, var: float) -> tuple[float, float]:
    """90 % interval of the Beta with this mean and variance (all of [0, 1] if none fits)."""
    if not 0 < mean < 1 or not np.isfinite(var) or var <= 0:
        return (float(mean), float(mean)) if var == 0 else (0.0, 1.0)
    kappa = mean * (1 - mean) / var - 1
    if kappa <= 0:
        return 0.0, 1.0
    lo, hi = stats.beta.ppf([0.05, 0.95], mean * kappa, (1 - mean) * kappa)
    return float(lo), float(hi)


def beta_prior(value: float, low: float, high: float) -> tuple[float, float]:
    """Beta ``(a, b)`` with mode ``value`` and a central 90 % interval as wide as ``high - low``.

    ``a = 1 + k value``, ``b = 1 + k (1 - value)``; ``k`` is solved for the width
    (a nearly flat Beta, k = e^-10, when the range is wider than that Beta's interval).

    >>> a, b = beta_prior(0.02, 0.01, 0.04)
    >>> lo, hi = stats.beta.ppf([0.05, 0.95], a, b)
    >>> round(float(hi - lo), 4)
    0.03
    """
    width = high - low

    def gap(logk: float) -> float:
        k = np.exp(logk)
        lo, hi = stats.beta.ppf([0.05, 0.95], 1 + k * value, 1 + k * (1 - value))
        return (hi - lo) - width

    if gap(-10.0) <= 0:  # a range as wide as the nearly flat Beta's interval
        k = np.exp(-10.0)
    elif gap(25.0) >= 0:
        k = np.exp(25.0)
    else:
        k = np.exp(brentq(gap, -10.0, 25.0, xtol=1e-10))
    return 1.0 + k * value, 1.0 + k * (1.0 - value)


def information_ranges(theta: np.ndarray, priors, prior_probs: np.ndarray, rows, rab,
                       cells, context=()) -> dict[int, tuple[float, float]]:
    """Parameter index -> 90 % credible range, from the cases' scores at ``theta``.

    ``priors``: ``[(index, cause column, (a, b))]``; ``prior_probs`` ``(B, C)``;
    ``rows``/``rab``/``cells``: the link/leak rows, their Beta priors and every
    case's expected counts ``(B, S)`` per row (empty when not fitted);
    ``context``: ``[(row, alpha, cells (B, K))]`` for the context rows.
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
    blocks = []  # (reference index, positions of the others, their prior-coupling)
    for r, alpha, cell in context:
        free = [k for k, f in enumerate(r.free) if f]
        ref = max(free, key=lambda k: theta[r.params[k]])
        xr = max(theta[r.params[ref]], 1e-12)
        start = len(index)
        for k in free:
            if k == ref:
                continue
            x = theta[r.params[k]]
            cols.append(cell[:, k] / x - cell[:, ref] / xr if x > 0 else np.zeros(len(cell)))
            info.append((alpha[k] - 1) / max(x, 1e-12) ** 2)
            index.append(r.params[k])
        blocks.append((r.params[ref], list(range(start, len(index))), (alpha[ref] - 1) / xr ** 2))
    if not index:
        return {}
    S = np.stack(cols, axis=1)
    H = S.T @ S + np.diag(np.maximum(info, 1e-12))
    for _, pos, w in blocks:
        H[np.ix_(pos, pos)] += w
    try:
        cov = np.linalg.inv(H)
    except np.linalg.LinAlgError:
        cov = np.linalg.pinv(H)
    out = {i: beta_interval(float(theta[i]), float(cov[j, j])) for j, i in enumerate(index)}
    for i, pos, _ in blocks:
        out[i] = beta_interval(float(theta[i]), float(cov[np.ix_(pos, pos)].sum()))
    return out
