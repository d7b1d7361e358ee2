"""The two fits behind the learned models: L2-regularised logistic regression (the refusal
model, evals/fit/refusal.py) and a pairwise ranking fit built on it (learned fusion,
evals/fit/fusion.py). Small and exact, so no library."""

from __future__ import annotations

import numpy as np


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float, steps: int = 50) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression by Newton's method on standardised features
    (the bias is not penalised). Returns (weights, bias)."""
    n, d = x.shape
    xb = np.hstack([x, np.ones((n, 1))])
    w = np.zeros(d + 1)
    penalty = np.diag([l2] * d + [0.0])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-xb @ w))
        grad = xb.T @ (p - y) + penalty @ w
        hess = xb.T @ (xb * (p * (1 - p))[:, None]) + penalty + 1e-9 * np.eye(d + 1)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    return w[:d], float(w[d])


def fit_pairwise(groups: list[tuple[np.ndarray, np.ndarray]], l2: float) -> np.ndarray:
    """Linear RankNet: logistic regression on the feature differences of (relevant, other)
    pairs of one query, standardised. ``groups``: per query, (features [candidates x
    features], relevance labels). Returns weights on raw features. Each difference goes in
    both ways (d: relevant first, -d: not), so the fitted bias is 0 and the loss is twice the
    pairs' (hence 2 * l2)."""
    diffs = []
    for x, y in groups:
        pos, neg = np.flatnonzero(y > 0), np.flatnonzero(y <= 0)
        diffs.extend(x[i] - x[neg] for i in pos)
    d = np.concatenate(diffs)
    scale = d.std(axis=0) + 1e-9
    z = d / scale
    labels = np.concatenate([np.ones(len(z)), np.zeros(len(z))])
    w, _ = fit_logistic(np.vstack([z, -z]), labels, 2 * l2)
    return w / scale
