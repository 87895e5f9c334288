"""The numbers beside the derivation of the mean-squared-error gradient, computed from the data rows.

Everything here is recomputed from the design matrix ``problem.X1`` and the target ``problem.y`` (the
same, possibly scaled, matrix the engine was built from), so that a page can set the textbook formula
next to what the engine produced:

    loss       J(w) = (1/n) ||X1 w - y||^2
    gradient   g = (2/n) X1^T (X1 w - y)             (the engine keeps X1^T X1 / n instead of X1)
    Hessian    H = (2/n) X1^T X1
    Taylor     J(w - lr g) = J(w) - lr ||g||^2 + (lr^2 / 2) g^T H g       (exact: J is quadratic)
    error      e_{t+1} = (I - lr H) e_t,  e_t = w_t - w*                  (plain GD at rate lr)

NumPy only. Non-finite params (the last State of a diverged run) give non-finite numbers, never a
warning or an exception.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from gdviz import analysis
from gdviz.engine import Problem, Trajectory
from gdviz.errors import InputError, check_float, check_int


class GradientNumbers(NamedTuple):
    """The gradient at one step of a run, computed twice.

    Attributes:
        step: the step (updates applied so far, 0-based).
        params: array of shape (n_params,), w at that step.
        residual: array of shape (n_samples,), ``X1 @ w - y``.
        column_sums: array of shape (n_params,), ``X1.T @ residual``: each column's residual-weighted sum.
        loss_formula: ``mean(residual ** 2)`` from the data rows.
        loss_engine: the run's loss at that step.
        grads_formula: array of shape (n_params,), ``(2/n) X1.T @ (X1 @ w - y)`` from the data rows.
        grads_engine: array of shape (n_params,), the run's gradient at that step.
        grads_difference: largest ``|grads_formula - grads_engine|`` over the params.
        finite: whether every number above is finite.
    """

    step: int
    params: np.ndarray
    residual: np.ndarray
    column_sums: np.ndarray
    loss_formula: float
    loss_engine: float
    grads_formula: np.ndarray
    grads_engine: np.ndarray
    grads_difference: float
    finite: bool


class StepNumbers(NamedTuple):
    """One plain gradient step ``w - lr g`` from the params of a step, and the theory of its size.

    Attributes:
        learning_rate: lr, the rate of the update that follows the step.
        grad_norm2: ``||g||^2``.
        curvature: ``g^T H g`` (the loss's curvature along g, times ``||g||^2``).
        loss_now: J(w), from the data rows.
        taylor: ``J(w) - lr ||g||^2``, the first-order prediction of the loss after the step.
        correction: ``(lr^2 / 2) g^T H g``, what the first-order view leaves out (exact for a quadratic).
        actual: ``J(w - lr g)``, computed on the data rows.
        decrease_below: ``2 ||g||^2 / g^T H g``: the step along g lowers the loss iff lr is below this.
        eigenvalues: array of shape (n_params,), the Hessian's eigenvalues, ascending.
        lambda_max: the largest eigenvalue.
        monotone_max: ``1 / lambda_max``, where oscillation starts.
        stable_max: ``2 / lambda_max``, where divergence starts.
        factors: array of shape (n_params,), ``1 - lr * eigenvalues``: what each step does to the error
            along each eigen-direction.
        error: array of shape (n_params,), ``e_t = w - w*``.
        next_error: array of shape (n_params,), ``(I - lr H) e_t``.
        sum_lambda_max: lambda_max of the summed (not averaged) loss, ``n * lambda_max``.
    """

    learning_rate: float
    grad_norm2: float
    curvature: float
    loss_now: float
    taylor: float
    correction: float
    actual: float
    decrease_below: float
    eigenvalues: np.ndarray
    lambda_max: float
    monotone_max: float
    stable_max: float
    factors: np.ndarray
    error: np.ndarray
    next_error: np.ndarray
    sum_lambda_max: float


def _mean_square(r: np.ndarray) -> float:
    """mean(r ** 2), overflowing only when the true value is beyond float64 (near a divergence)."""
    with np.errstate(all="ignore"):
        top = float(np.max(np.abs(r)))
        if not np.isfinite(top) or top == 0.0:
            return top
        return float(top * (top * np.mean((r / top) ** 2)))  # no intermediate overflow


def _mse(X1: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    with np.errstate(all="ignore"):
        return _mean_square(X1 @ w - y)


def _decrease_below(g2: float, curvature: float) -> float:
    if not (np.isfinite(g2) and np.isfinite(curvature)):
        return float("nan")
    return 2.0 * g2 / curvature if curvature > 0 else float("inf")  # no curvature along g: any rate lowers J


def gradient_numbers(problem: Problem, trajectory: Trajectory, step: int) -> GradientNumbers:
    """The gradient at ``step`` of ``trajectory`` from the data rows, beside the engine's own value.

    Args:
        problem: the Problem the run was made on (its ``X1`` is the scaled design matrix).
        trajectory: a collected run, its rows in step order: every step (``engine.collect``) or only some of
            them (a run stored thinned, ``gdviz.thinning``).
        step: the step to look at, in [0, last step], one the run stores.

    Raises:
        InputError: when ``step`` is not in the run, or the run does not store it.
    """
    last = int(trajectory.step[-1])
    step = check_int(step, "step", "gradient_numbers", low=0, high=last)
    row = int(np.searchsorted(trajectory.step, step))
    if int(trajectory.step[row]) != step:
        raise InputError(
            f"Step {step:,} is not stored in this run (a long run keeps only some steps); the nearest stored "
            f"steps are {int(trajectory.step[row - 1]):,} and {int(trajectory.step[row]):,}."
        )
    w = trajectory.params[row]
    X1, y, n = problem.X1, problem.y, problem.n_samples
    with np.errstate(all="ignore"):
        residual = X1 @ w - y
        column_sums = X1.T @ residual
        grads_formula = (2.0 / n) * column_sums
        grads_engine = trajectory.grads[row]
        diff = float(np.max(np.abs(grads_formula - grads_engine)))
        loss_formula = _mean_square(residual)
    loss_engine = float(trajectory.loss[row])
    parts = (w, grads_formula, grads_engine, [loss_formula, loss_engine])
    finite = all(bool(np.all(np.isfinite(p))) for p in parts)
    return GradientNumbers(
        step,
        w.copy(),
        residual,
        column_sums,
        loss_formula,
        loss_engine,
        grads_formula,
        grads_engine.copy(),
        diff,
        finite,
    )


def step_numbers(problem: Problem, params: np.ndarray, learning_rate: float) -> StepNumbers:
    """One plain step of rate ``learning_rate`` from ``params``: the Taylor view, the exact loss, the bound.

    Args:
        problem: the Problem (its ``X1`` and ``y`` are used for the losses).
        params: array of shape (n_params,); may be non-finite (every number is then non-finite too).
        learning_rate: the rate, in (0, inf).
    """
    lr = check_float(learning_rate, "learning_rate", "step_numbers", low=0)
    X1, y, n = problem.X1, problem.y, problem.n_samples
    w = np.asarray(params, dtype=float)
    s = analysis.spectrum(problem)
    H = (2.0 / n) * (X1.T @ X1)
    with np.errstate(all="ignore"):
        g = (2.0 / n) * (X1.T @ (X1 @ w - y))
        g2 = float(g @ g)
        curvature = float(g @ H @ g)
        loss_now = _mse(X1, y, w)
        error = w - problem.optimum
        out = StepNumbers(
            learning_rate=lr,
            grad_norm2=g2,
            curvature=curvature,
            loss_now=loss_now,
            taylor=loss_now - lr * g2,
            correction=0.5 * lr * lr * curvature,
            actual=_mse(X1, y, w - lr * g),
            decrease_below=_decrease_below(g2, curvature),
            eigenvalues=s.eigenvalues.copy(),
            lambda_max=s.lambda_max,
            monotone_max=1.0 / s.lambda_max,
            stable_max=2.0 / s.lambda_max,
            factors=1.0 - lr * s.eigenvalues,
            error=error,
            next_error=error - lr * (H @ error),
            sum_lambda_max=n * s.lambda_max,
        )
    return out


# ---------------------------------------------------------------------------------------------
# Every stored step at once: the numbers of the page's sections as columns, for the browser's player
# ---------------------------------------------------------------------------------------------


# Stored steps x data rows held at once by ``step_columns``: blocks of about 1 MiB of float64 stay in the CPU's
# cache (2,048 stored steps of California housing's 20,640 rows go through in blocks of 6 steps).
BLOCK = 1 << 17
# A mean square from this size up is summed as it is: no square in it has overflowed or lost its digits.
_TINY = 1e-280


def _mean_squares(R: np.ndarray) -> np.ndarray:
    """``_mean_square`` of every row of ``R``: array of shape (m,), non-finite exactly where it is.

    Summed directly where that is safe (a finite sum of squares well above float64's smallest numbers), else
    as ``_mean_square`` does: scaled by the row's largest |r| (near overflow: a divergence), or that largest
    |r| itself for a row that is zero or holds inf or NaN.
    """
    with np.errstate(all="ignore"):
        out = np.einsum("ij,ij->i", R, R) / R.shape[1]
        check = ~(np.isfinite(out) & (out >= _TINY))
        if check.any():
            rows = R[check]
            top = np.max(np.abs(rows), axis=1)
            ok = np.isfinite(top) & (top != 0.0)
            t = np.where(ok, top, 1.0)
            out[check] = np.where(ok, t * (t * np.mean((rows / t[:, None]) ** 2, axis=1)), top)
    return out


def _residuals(XT: np.ndarray, y: np.ndarray, W: np.ndarray) -> np.ndarray:
    """``X1 @ w - y`` for every row ``w`` of ``W`` (``XT`` is X1 transposed, contiguous): shape (m, n_samples).
    One column of X1 at a time (an elementwise pass each: no BLAS call per block)."""
    with np.errstate(all="ignore"):
        R = np.multiply.outer(W[:, 0], XT[0])
        for j in range(1, XT.shape[0]):
            R += np.multiply.outer(W[:, j], XT[j])
        R -= y
    return R


def step_columns(
    problem: Problem, trajectory: Trajectory, rates: np.ndarray, *, plain_gd: bool
) -> dict[str, np.ndarray]:
    """The per-step numbers of ``gradient_numbers`` and ``step_numbers`` at every row of ``trajectory``.

    The same formulas as those two functions, for blocks of stored steps at once (one pass over the data rows
    per block instead of several per step; the spectrum and H once). Numbers read from the run (``w``, ``ge``,
    ``le``, ``e``, ``re``, ``next_loss``) and the per-rate ones (``eta``, ``fac``, ``ratio``) are the same
    floats as theirs. Sums over the data rows add the same terms in another order (einsum here, a BLAS
    matrix-vector product there), so they and what is computed from them may differ by round-off: a few eps of
    the sum of the terms' sizes. Non-finite params (past a divergence) give inf or NaN where those functions
    do, the same ones, and no warning.

    Args:
        problem: the Problem the run was made on.
        trajectory: the rows to compute (e.g. ``gdviz.playback.player_rows`` of a run).
        rates: array of shape (n_states,), the rate of the update that follows each row's step, each in (0, inf).
        plain_gd: the run is plain GD, so its next step is the step the Taylor and error sections predict
            (``next_loss`` and ``re{k}`` are NaN otherwise, and where the next step is not stored).

    Returns:
        Column name -> array of shape (n_states,): ``step``; per param k ``w{k}``, ``gf{k}`` (formula),
        ``ge{k}`` (engine), ``cs{k}`` (column sums), ``fac{k}`` (1 - rate x eigenvalue k, ascending),
        ``e{k}`` (w - w*), ``ne{k}`` ((I - rate H) e), ``re{k}`` (the run's next error); ``gdiff``, ``lf``
        (loss from the rows), ``le`` (the run's loss), ``eta`` (the rate), ``g2``, ``taylor``, ``corr``,
        ``actual``, ``below``, ``ratio`` (rate / (2/lambda_max)) and ``next_loss`` (the run's next loss).

    Raises:
        InputError: when ``rates`` has another length than the run, or a rate is not in (0, inf).
    """
    m, p = trajectory.n_states, problem.n_params
    lr = np.asarray(rates, dtype=float).ravel()
    if lr.shape != (m,):
        raise InputError(f"step_columns needs one rate per row of the run ({m:,}); got {lr.size:,}.")
    bad = ~(np.isfinite(lr) & (lr > 0))
    if bad.any():
        check_float(float(lr[np.argmax(bad)]), "learning_rate", "step_columns", low=0)  # raises, in words
    X1, y, n = problem.X1, problem.y, problem.n_samples
    XT = np.ascontiguousarray(X1.T)
    W = np.asarray(trajectory.params, dtype=float)
    s = analysis.spectrum(problem)
    H = (2.0 / n) * (X1.T @ X1)
    steps = np.asarray(trajectory.step)
    cs, lf, actual = np.empty((m, p)), np.empty(m), np.empty(m)
    block = max(1, BLOCK // max(n, 1))
    with np.errstate(all="ignore"):
        for a in range(0, m, block):
            b = min(a + block, m)
            R = _residuals(XT, y, W[a:b])
            cs[a:b] = np.einsum("in,jn->ij", R, XT)
            lf[a:b] = _mean_squares(R)
            g = (2.0 / n) * cs[a:b]
            actual[a:b] = _mean_squares(_residuals(XT, y, W[a:b] - lr[a:b, None] * g))
        gf = (2.0 / n) * cs
        ge = np.asarray(trajectory.grads, dtype=float)
        g2 = np.einsum("ij,ij->i", gf, gf)
        curvature = np.einsum("ij,ij->i", gf @ H, gf)
        error = W - problem.optimum
        has_next = np.zeros(m, dtype=bool)
        if plain_gd:
            has_next[:-1] = steps[1:] == steps[:-1] + 1
        nxt = np.minimum(np.arange(m) + 1, m - 1)
        out: dict[str, np.ndarray] = {
            "step": steps,
            "gdiff": np.max(np.abs(gf - ge), axis=1),
            "lf": lf,
            "le": np.asarray(trajectory.loss, dtype=float).copy(),
            "eta": lr,
            "g2": g2,
            "taylor": lf - lr * g2,
            "corr": 0.5 * lr * lr * curvature,
            "actual": actual,
            "below": np.where(
                np.isfinite(g2) & np.isfinite(curvature),
                np.where(curvature > 0, 2.0 * g2 / curvature, np.inf),  # no curvature along g: any rate lowers J
                np.nan,
            ),
            "ratio": lr / (2.0 / s.lambda_max),
            "next_loss": np.where(has_next, np.asarray(trajectory.loss, dtype=float)[nxt], np.nan),
        }
        per = {
            "w": W,
            "gf": gf,
            "ge": ge,
            "cs": cs,
            "fac": 1.0 - lr[:, None] * s.eigenvalues,
            "e": error,
            "ne": error - lr[:, None] * (error @ H.T),
            "re": np.where(has_next[:, None], W[nxt] - problem.optimum, np.nan),
        }
    for name, values in per.items():
        for k in range(p):
            out[f"{name}{k}"] = np.ascontiguousarray(values[:, k])
    return out
