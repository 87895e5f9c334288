"""Oracles written out for the page tests: the design matrix, the loss, the gradient and momentum by hand
(never through gdviz), shared by the Playground, Regimes and math page tests."""

from __future__ import annotations

import numpy as np


def design(x: np.ndarray) -> np.ndarray:
    return np.column_stack([np.ones(len(x)), np.ravel(x)])


def loss_of(X1: np.ndarray, y: np.ndarray, w) -> float:
    """mean((X1 w - y)^2), computed so that it only overflows when the true value exceeds float64."""
    r = X1 @ np.asarray(w, dtype=float) - y
    s = np.max(np.abs(r))
    if not np.isfinite(s):
        return float("inf")
    if s == 0:
        return 0.0
    return float((s * np.sqrt(np.mean((r / s) ** 2))) ** 2)


def grad_of(X1: np.ndarray, y: np.ndarray, w) -> np.ndarray:
    return 2.0 / len(y) * X1.T @ (X1 @ np.asarray(w, dtype=float) - y)


def heavy_ball(X1, y, lr, beta, steps, w0=(0.0, 0.0)) -> np.ndarray:
    """Momentum written out: m_t = g_t + beta m_{t-1}, w_{t+1} = w_t - lr m_t. Rows 0..steps."""
    w, m = np.array(w0, dtype=float), np.zeros(2)
    out = [w]
    for _ in range(steps):
        m = grad_of(X1, y, w) + beta * m
        w = w - lr * m
        out.append(w)
    return np.array(out)
