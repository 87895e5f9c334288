"""The theory of gradient descent on least squares, computed on the user's own data.

For plain GD at a constant rate ``lr`` the error ``w_t - w*`` evolves as ``(I - lr H)^t (w_0 - w*)``.
In the Hessian's eigenbasis each direction i is multiplied by ``q_i = 1 - lr * lambda_i`` per step:
|q_i| < 1 shrinks it, q_i < 0 flips its sign every step (oscillation), |q_i| > 1 grows it (divergence).
With ``r = lr * lambda_max``: r >= 2 diverges, 1 < r < 2 oscillates, 0.2 <= r <= 1 is good, r < 0.2 is
slow (at least 5x slower than r = 1, the fastest rate that does not oscillate).

Heavy-ball momentum at its optimal settings (``optimal_momentum``) shrinks the error by
(sqrt(kappa) - 1) / (sqrt(kappa) + 1) per step, against GD's (kappa - 1) / (kappa + 1) at its best rate.
Three reference methods take no fixed-rate first-order step: Newton (one step on least squares), steepest
descent with exact line search and Barzilai-Borwein; their paths are Trajectories with the engine's
conventions (step 0 is the start, the same tol rule gives CONVERGED).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from gdviz import contours
from gdviz.engine import (
    Problem,
    Runner,
    State,
    Status,
    Trajectory,
    check_params,
    lockstep,
    row_dot,
    row_matmul,
)
from gdviz.errors import InputError, check_float, check_int


class Regime(enum.StrEnum):
    """The four behaviours of gradient descent at a constant rate."""

    SLOW = "slow"
    GOOD = "good"
    OSCILLATING = "oscillating"
    DIVERGENT = "divergent"


# r = lr * lambda_max at the regime boundaries.
SLOW_BELOW = 0.2
OSCILLATE_ABOVE = 1.0
DIVERGE_FROM = 2.0


class Spectrum(NamedTuple):
    """Eigen-decomposition of the Hessian ``(2/n) X1.T @ X1``.

    Attributes:
        eigenvalues: array of shape (n_params,), ascending, >= 0.
        eigenvectors: array of shape (n_params, n_params); column i goes with eigenvalues[i].
        lambda_min: smallest eigenvalue (0 when the Hessian is singular).
        lambda_max: largest eigenvalue.
        condition_number: lambda_max / lambda_min (inf when singular).
    """

    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    lambda_min: float
    lambda_max: float
    condition_number: float


class Thresholds(NamedTuple):
    """Learning-rate thresholds of plain GD on this problem.

    Attributes:
        monotone_max: 1 / lambda_max; above it the steepest direction overshoots (oscillation).
        stable_max: 2 / lambda_max; from it on the steepest direction grows (divergence).
        optimal: 2 / (lambda_min + lambda_max); the fastest constant rate overall.
    """

    monotone_max: float
    stable_max: float
    optimal: float


def spectrum(problem: Problem) -> Spectrum:
    """Eigenvalues and eigenvectors of the Hessian, with lambda_min, lambda_max and the condition number."""
    vals, vecs = np.linalg.eigh(problem.hessian())
    lam_max = float(vals[-1])
    # Round-off can leave a zero eigenvalue slightly negative or tiny; call it zero.
    floor = max(lam_max, 0.0) * vals.size * np.finfo(float).eps
    vals = np.where(vals <= floor, 0.0, vals)
    lam_min = float(vals[0])
    cond = lam_max / lam_min if lam_min > 0 else float("inf")
    return Spectrum(vals, vecs, lam_min, lam_max, cond)


def thresholds(problem: Problem) -> Thresholds:
    """The rates 1/lambda_max, 2/lambda_max and 2/(lambda_min + lambda_max) of this problem."""
    s = spectrum(problem)
    return Thresholds(1.0 / s.lambda_max, 2.0 / s.lambda_max, 2.0 / (s.lambda_min + s.lambda_max))


def regime_of_ratio(r: float) -> Regime:
    """The regime for ``r = learning_rate * lambda_max``."""
    if r >= DIVERGE_FROM:
        return Regime.DIVERGENT
    if r > OSCILLATE_ABOVE:
        return Regime.OSCILLATING
    if r >= SLOW_BELOW:
        return Regime.GOOD
    return Regime.SLOW


def predict_regime(problem: Problem, learning_rate: float) -> Regime:
    """The theory's regime for plain GD at a constant ``learning_rate`` on ``problem``."""
    lr = check_float(learning_rate, "learning_rate", "predict_regime", low=0)
    return regime_of_ratio(lr * spectrum(problem).lambda_max)


def regime_rates(problem: Problem) -> dict[str, float]:
    """One representative constant rate per regime, from this problem's spectrum.

    slow: r = 0.05; good: r = 0.5; fastest: 2/(lambda_min+lambda_max); oscillating: r = 1.6;
    divergent: r = 2.1 (with r = rate * lambda_max).
    """
    s = spectrum(problem)
    lam = s.lambda_max
    return {
        "slow": 0.05 / lam,
        "good": 0.5 / lam,
        "fastest": 2.0 / (s.lambda_min + lam),
        "oscillating": 1.6 / lam,
        "divergent": 2.1 / lam,
    }


def observed_regime(problem: Problem, trajectory: Trajectory) -> Regime:
    """Read the regime off a run, from what its iterates did.

    How it decides:
      1. DIVERGENT if the run ended DIVERGED (non-finite values), or its loss ended above where it started.
      2. Otherwise it looks at the updates ``u_t = w_t - w_{t-1}`` of consecutive steps, projected on the
         stiffest Hessian direction that the run actually moved along (the largest eigenvalue whose
         projection carries at least 1e-6 of the largest projection). The median ratio ``rho`` of
         consecutive projections, over the first 50 pairs above round-off, is the per-step factor the
         run applied along that direction: rho <= -1 or rho >= 1 is DIVERGENT (it grows), rho < 0 is
         OSCILLATING (the path flips across the valley every step), rho > 0.8 is SLOW (that direction
         loses less than 20% per step), else GOOD.
    For constant-rate GD ``rho = 1 - lr * lambda_max`` exactly, so this agrees with ``predict_regime``
    except within round-off of a boundary. With fewer than two usable updates it falls back on the
    prediction for the last learning rate used, or GOOD when nothing moved.
    """
    if trajectory.status is Status.DIVERGED:
        return Regime.DIVERGENT
    loss = trajectory.loss
    if loss.size > 1 and loss[-1] > loss[0] * (1 + 1e-9) + 1e-12:  # grew, beyond round-off at the floor
        return Regime.DIVERGENT
    s = spectrum(problem)
    consecutive = np.diff(trajectory.step) == 1
    updates = np.diff(trajectory.params, axis=0)[consecutive]
    proj = updates @ s.eigenvectors  # (n_updates, n_params), columns by ascending eigenvalue
    rho = None
    if proj.size:
        overall = np.max(np.abs(proj))
        for i in range(proj.shape[1] - 1, -1, -1):
            col = proj[:, i]
            if s.eigenvalues[i] <= 0 or overall == 0 or np.max(np.abs(col)) < 1e-6 * overall:
                continue
            usable = np.abs(col) > 1e-9 * np.max(np.abs(col))
            pairs = np.flatnonzero(usable[1:] & usable[:-1])[:50]
            if pairs.size:
                rho = float(np.median(col[pairs + 1] / col[pairs]))
            break
    if rho is None:
        last_rate = trajectory.learning_rate[-1]
        return predict_regime(problem, last_rate) if np.isfinite(last_rate) and last_rate > 0 else Regime.GOOD
    if rho <= -1.0 or rho >= 1.0:
        return Regime.DIVERGENT
    if rho < 0.0:
        return Regime.OSCILLATING
    if rho > 1.0 - SLOW_BELOW:
        return Regime.SLOW
    return Regime.GOOD


# ---------------------------------------------------------------------------------------------
# Closed form for constant-rate GD
# ---------------------------------------------------------------------------------------------


def _modes(problem: Problem, learning_rate, init_params):
    s = spectrum(problem)
    w0 = check_params(init_params, problem, "init_params")
    c = s.eigenvectors.T @ (w0 - problem.optimum)  # start error in the eigenbasis
    lr = np.asarray(learning_rate, dtype=float)
    q = 1.0 - lr[..., None] * s.eigenvalues  # (..., n_params)
    return s, c, q


def closed_form(
    problem: Problem, learning_rate: float, steps: Sequence[int] | np.ndarray, *, init_params=None
) -> np.ndarray:
    """Params of constant-rate GD at any steps at once: ``w_t = w* + (I - lr H)^t (w_0 - w*)``.

    Args:
        learning_rate: the constant rate.
        steps: ints >= 0 (0-based count of updates applied).
        init_params: array of shape (n_params,); zeros by default.

    Returns:
        Array of shape (len(steps), n_params). A divergent rate overflows to inf, without warnings.
    """
    lr = check_float(learning_rate, "learning_rate", "closed_form", low=0)
    t = np.asarray(steps, dtype=float).reshape(-1)
    if np.any(t < 0) or not np.all(np.isfinite(t)):
        raise InputError("The 'steps' parameter of closed_form must hold ints >= 0.")
    s, c, q = _modes(problem, lr, init_params)
    with np.errstate(all="ignore"):
        return problem.optimum + (np.power(q, t[:, None]) * c) @ s.eigenvectors.T


def predicted_loss(problem: Problem, learning_rate: float, steps, *, init_params=None) -> np.ndarray:
    """The loss of constant-rate GD at ``steps`` from the closed form: ``J* + sum_i (lambda_i/2) (q_i^t c_i)^2``."""
    lr = check_float(learning_rate, "learning_rate", "predicted_loss", low=0)
    t = np.asarray(steps, dtype=float).reshape(-1)
    s, c, q = _modes(problem, lr, init_params)
    with np.errstate(all="ignore"):
        e = np.power(q, t[:, None]) * c
        return problem.optimum_loss + 0.5 * (e * e) @ s.eigenvalues


def predicted_steps(
    problem: Problem, learning_rate: float | np.ndarray, *, tol: float = 1e-6, init_params=None
) -> float | np.ndarray:
    """Steps constant-rate GD needs until ``||w_t - w_{t-1}|| < tol``, from the closed form.

    The update at step t (t >= 1) has ``||u_t||^2 = sum_i (lr lambda_i c_i)^2 q_i^(2(t-1))``, with c the
    start error in the eigenbasis; the smallest such t is found by doubling then bisection.

    Returns:
        A float (or an array of floats for an array of rates): the step count, or inf when the run never
        meets the rule (a divergent rate, or ``tol == 0``).
    """
    tol = check_float(tol, "tol", "predicted_steps", low=0, low_open=False)
    lrs = np.asarray(learning_rate, dtype=float)
    if np.any(~np.isfinite(lrs)) or np.any(lrs <= 0):
        raise InputError(
            f"The 'learning_rate' parameter of predicted_steps must be floats in the range (0, inf). Got "
            f"{learning_rate!r} instead."
        )
    flat = lrs.reshape(-1)
    s, c, q = _modes(problem, flat, init_params)  # q: (R, p)
    with np.errstate(all="ignore"):
        a = (flat[:, None] * s.eigenvalues * c) ** 2  # squared update components at t = 1
        rho = q * q
        live = a > 0
        grows = np.any(live & (rho > 1.0), axis=1)
        stuck = np.sum(np.where(live & (rho == 1.0), a, 0.0), axis=1)  # never decays
        never = grows | (stuck >= tol * tol) | (tol == 0)

        def norm2(t):  # squared update norm at step t (t: (R,))
            return np.sum(np.where(live, a * np.power(rho, (t - 1.0)[:, None]), 0.0), axis=1)

        target = tol * tol
        lo = np.zeros(flat.size)  # norm2(lo) >= target (or lo == 0)
        hi = np.ones(flat.size)
        todo = ~never & (norm2(hi) >= target)
        for _ in range(80):  # doubling up to 2**80 steps
            if not todo.any():
                break
            lo = np.where(todo, hi, lo)
            hi = np.where(todo, 2 * hi, hi)
            todo = todo & (norm2(hi) >= target)
        never |= todo
        for _ in range(90):  # bisection on integers in (lo, hi]
            gap = ~never & (hi - lo > 1)
            if not gap.any():
                break
            mid = np.floor((lo + hi) / 2)
            ok = norm2(mid) < target
            hi = np.where(gap & ok, mid, hi)
            lo = np.where(gap & ~ok, mid, lo)
        out = np.where(never, np.inf, hi)
    return float(out[0]) if lrs.ndim == 0 else out.reshape(lrs.shape)


# ---------------------------------------------------------------------------------------------
# Optimal momentum
# ---------------------------------------------------------------------------------------------


class ConvergenceRates(NamedTuple):
    """Predicted per-step factor of the error ``||w_t - w*||`` at each method's optimal constant settings.

    Both are worst cases over the Hessian's directions (the slowest direction sets the pace); 0 means one
    step (kappa = 1), 1 means no linear convergence (a singular Hessian, kappa = inf).

    Attributes:
        gd: ``(kappa - 1) / (kappa + 1)``, plain GD at ``thresholds(problem).optimal``.
        momentum: ``(sqrt(kappa) - 1) / (sqrt(kappa) + 1)``, heavy ball at ``optimal_momentum(problem)``.
    """

    gd: float
    momentum: float


def optimal_momentum(problem: Problem) -> tuple[float, float]:
    """The heavy-ball settings with the fastest worst-case convergence (Polyak), from the Hessian's spectrum.

    ``learning_rate = (2 / (sqrt(lambda_max) + sqrt(lambda_min)))^2`` and
    ``beta = ((sqrt(kappa) - 1) / (sqrt(kappa) + 1))^2``, computed as
    ``((sqrt(lambda_max) - sqrt(lambda_min)) / (sqrt(lambda_max) + sqrt(lambda_min)))^2`` so that it is finite
    for every spectrum. For ``gdviz.optimizers.momentum(learning_rate, beta)``.

    A singular Hessian (lambda_min = 0, condition number inf) is a result, not an error, as for
    ``thresholds``: the formulas give ``learning_rate = 4 / lambda_max`` and ``beta = 1``, the limit as
    kappa grows, at which heavy ball no longer converges linearly (``convergence_rates`` says 1 and
    ``predicted_momentum_steps`` inf).

    Returns:
        ``(learning_rate, beta)``, floats with learning_rate > 0 and beta in [0, 1].
    """
    s = spectrum(problem)
    hi, lo = np.sqrt(s.lambda_max), np.sqrt(s.lambda_min)
    return float((2.0 / (hi + lo)) ** 2), float(((hi - lo) / (hi + lo)) ** 2)


def convergence_rates(problem: Problem) -> ConvergenceRates:
    """GD's and heavy ball's predicted per-step error factors at their optimal settings (see ConvergenceRates).

    Computed from the eigenvalues as ``(lambda_max - lambda_min) / (lambda_max + lambda_min)`` and
    ``(sqrt(lambda_max) - sqrt(lambda_min)) / (sqrt(lambda_max) + sqrt(lambda_min))``: equal to the kappa forms,
    and exactly 1 for a singular Hessian (kappa = inf).
    """
    s = spectrum(problem)
    hi, lo = np.sqrt(s.lambda_max), np.sqrt(s.lambda_min)
    gd = (s.lambda_max - s.lambda_min) / (s.lambda_max + s.lambda_min)
    return ConvergenceRates(float(gd), float((hi - lo) / (hi + lo)))


def predicted_momentum_steps(
    problem: Problem,
    learning_rate: float,
    beta: float,
    *,
    tol: float = 1e-6,
    init_params=None,
    max_steps: int = 100_000,
) -> float:
    """Steps heavy ball (``gdviz.optimizers.momentum``) needs until ``||w_t - w_{t-1}|| < tol``, from theory.

    In the Hessian's eigenbasis each component of the error follows its own two-term recurrence:
    ``e_1 = (1 - lr lambda_i) e_0`` (the first update is a GD step) and
    ``e_(t+1) = (1 + beta - lr lambda_i) e_t - beta e_(t-1)``, with ``e_0`` the start error. The update
    norm is not monotone (the iterates spiral), so the recurrences are stepped until the first t whose
    update is shorter than tol: the count the engine's stop rule gives, 1-based like ``step``.

    Returns:
        The step count as a float, or inf when the run never meets the rule (a direction whose recurrence
        does not shrink, e.g. beta = 1; or ``tol == 0``) or does not within ``max_steps``.
    """
    lr = check_float(learning_rate, "learning_rate", "predicted_momentum_steps", low=0)
    b = check_float(beta, "beta", "predicted_momentum_steps", low=0, high=1, low_open=False, high_open=False)
    tol = check_float(tol, "tol", "predicted_momentum_steps", low=0, low_open=False)
    max_steps = check_int(max_steps, "max_steps", "predicted_momentum_steps", low=1)
    s, c, _ = _modes(problem, lr, init_params)
    live = (s.eigenvalues > 0) & (c != 0)
    lam, prev = s.eigenvalues[live], c[live]
    if lam.size == 0:
        return 1.0 if tol > 0 else float("inf")  # at the optimum already: the first update is zero
    a = 1.0 + b - lr * lam
    # Roots of z^2 - a z + b = 0: the recurrence shrinks every component iff both have modulus < 1.
    radius = _recurrence_radius(a, b)
    if tol == 0 or radius >= 1.0:
        return float("inf")
    target = tol * tol
    with np.errstate(all="ignore"):
        cur = (1.0 - lr * lam) * prev
        for t in range(1, max_steps + 1):
            u = cur - prev
            if float(u @ u) < target:
                return float(t)
            prev, cur = cur, a * cur - b * prev
    return float("inf")


def _recurrence_radius(a: np.ndarray, b: float) -> float:
    """The largest modulus of the roots of ``z^2 - a_i z + b = 0`` over i."""
    disc = a * a - 4.0 * b
    real = np.sqrt(np.maximum(disc, 0.0))
    modulus = np.where(disc >= 0, np.maximum(np.abs(a + real), np.abs(a - real)) / 2.0, np.sqrt(b))
    return float(np.max(modulus))


# ---------------------------------------------------------------------------------------------
# Reference methods: Newton, exact line search, Barzilai-Borwein
# ---------------------------------------------------------------------------------------------
# They are not Optimizers (their step needs the Hessian or the previous step), so each has its own
# loop; the loop keeps the engine's conventions and arithmetic: grads and loss through the engine's
# fixed-order expressions (equal to Problem.grad and Problem.loss bit for bit), update_norm and learning_rate
# NaN at step 0, CONVERGED right after the first update shorter than tol (the count includes it), MAX_STEPS
# at max_steps, DIVERGED at a non-finite State. Their States carry no optimizer state (opt_state is None).


def _check_path_input(problem, init_params, tol, max_steps, owner):
    if not isinstance(problem, Problem):
        raise InputError(f"The 'problem' parameter of {owner} must be a Problem. Got {type(problem).__name__} instead.")
    w0 = check_params(init_params, problem, "init_params")
    tol = check_float(tol, "tol", owner, low=0, low_open=False)
    max_steps = check_int(max_steps, "max_steps", owner, low=0)
    return w0, tol, max_steps


def _path(problem: Problem, w0: np.ndarray, step, tol: float, max_steps: int) -> Trajectory:
    """The Trajectory of ``w <- w + u`` with ``u, rate, memory = step(w, g, memory)``, under the engine's stop rules
    (``engine.lockstep`` of this one run)."""
    (traj,), _ = lockstep(problem, [_runner(problem, w0, step, max_steps)], tol=tol, max_steps=max_steps)
    return traj


def _runner(problem: Problem, w0: np.ndarray, step, max_steps: int) -> Runner:
    """A reference path as an ``engine.Runner``: its State at step 0, and ``step`` as an update whose opt_state is
    its memory; its States report the rates ``step`` chose and carry no optimizer state (opt_state None)."""
    with np.errstate(all="ignore"):
        loss = problem.loss(w0)
        g = problem.grad(w0)
    status = Status.MAX_STEPS if max_steps == 0 else Status.RUNNING
    if not np.isfinite(loss):
        status = Status.DIVERGED
    chosen: list[float] = []  # the rates of the updates since ``rates`` was last asked (floats: nothing for the GC)

    def update(grads, memory, params):
        u, rate, memory = step(params, grads, memory)
        chosen.append(float(rate))
        return u, memory

    def rates(count, k):
        out = np.array(chosen[-k:], dtype=float)
        chosen.clear()
        return out

    return Runner(State(0, w0, g, loss, np.nan, np.nan, None, status), update, rates, carries_state=False)


def reference_runner(problem: Problem, method: str, init_params=None, *, max_steps: int = 10_000) -> Runner:
    """Reference path ``method`` ("newton", "line_search" or "barzilai_borwein") as an ``engine.Runner``, so that it
    can run in ``engine.lockstep`` beside optimizers; its Trajectory is ``<method>_path``'s bit for bit.

    Raises:
        InputError: for an unknown method, bad init_params or max_steps.
    """
    if method not in _STEPS:
        raise InputError(f"There is no reference path '{method}'; they are {', '.join(_STEPS)}.")
    w0, _, max_steps = _check_path_input(problem, init_params, 0.0, max_steps, f"{method}_path")
    return _runner(problem, w0, _STEPS[method](problem), max_steps)


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """``row_dot`` of two vectors (added in index order 0, 1, .., p - 1) in Python floats: the same IEEE 754
    products and sums, so the same bits, without NumPy's per-scalar overhead on the sequential hot path."""
    x, y = a.tolist(), b.tolist()
    out = x[0] * y[0]
    for j in range(1, len(x)):
        out = out + x[j] * y[j]
    return out


def _exact_line_search_rate(gram2: np.ndarray, g: np.ndarray) -> float:
    """``(g.g) / (g.H.g)``, the rate that minimises the loss along -g; 0 when there is no curvature along g."""
    curvature = _dot(g, np.add.reduce(gram2 * g, axis=-1))  # g.(H g), matvec inlined
    return _dot(g, g) / curvature if curvature > 0 else 0.0


def newton_path(problem: Problem, init_params=None, *, tol: float = 1e-6, max_steps: int = 10_000) -> Trajectory:
    """Newton's method ``w <- w - H^+ g``: on least squares the first step lands on the optimum.

    H^+ is the pseudo-inverse of the Hessian from ``spectrum`` (1 / lambda on its positive eigenvalues, 0 on the
    flat ones), so a singular problem steps to the optimum nearest the start along the flat directions
    (the minimum-norm optimum from the zero start). H^+ comes from one LAPACK eigendecomposition, as the
    Problem's optimum comes from one lstsq; every step after it uses the engine's fixed-order arithmetic.

    The path follows the engine's tol rule: step 1 is the Newton step (its update is as long as the way to
    the optimum), and the run is CONVERGED only after an update shorter than tol, which is the confirming
    step 2 (a Newton step from the optimum moves by round-off, like a step of iterative refinement). So a
    path is [start, optimum, optimum] with CONVERGED at step 2, or [start, start] with CONVERGED at step 1
    when the start is already the optimum; on badly conditioned data (raw features) the first refinement
    step may still be longer than tol, and the path takes one or two more. The reported learning_rate of a
    Newton step is 1.0 (the full step; NaN at step 0).

    Args:
        problem: from ``gdviz.data.make_problem``.
        init_params: array of shape (n_params,); zeros by default.
        tol, max_steps: the engine's stop rules (as for ``gdviz.engine.run``).

    Returns:
        A Trajectory; its ``last_state`` is an engine State with ``opt_state`` None.

    Raises:
        InputError: for bad init_params, tol or max_steps.
    """
    w0, tol, max_steps = _check_path_input(problem, init_params, tol, max_steps, "newton_path")
    return _path(problem, w0, _newton_step(problem), tol, max_steps)


def _newton_step(problem: Problem):
    s = spectrum(problem)
    pinv = _fixed_order_inverse(problem.hessian()) if np.all(s.eigenvalues > 0) else None
    if pinv is None:  # a flat direction: the pseudo-inverse from the spectrum (LAPACK, as the optimum's lstsq)
        inverse = np.where(s.eigenvalues > 0, 1.0 / np.where(s.eigenvalues > 0, s.eigenvalues, 1.0), 0.0)
        pinv = (s.eigenvectors * inverse) @ s.eigenvectors.T
        pinv = 0.5 * (pinv + pinv.T)

    def step(w, g, memory):
        return -np.add.reduce(pinv * g, axis=-1), 1.0, None  # -matvec(pinv, g), inlined

    return step


def _fixed_order_inverse(a: np.ndarray) -> np.ndarray | None:
    """The inverse of the symmetric positive definite ``a`` by Cholesky in scalar arithmetic (the same bits on
    every CPU and BLAS kernel, as the Problem's own solve), or None when a pivot is not positive."""
    p = a.shape[0]
    rows = a.tolist()
    low = [[0.0] * p for _ in range(p)]
    for i in range(p):
        for j in range(i + 1):
            total = rows[i][j]
            for k in range(j):
                total -= low[i][k] * low[j][k]
            if i == j:
                if not total > 0.0:
                    return None
                low[i][i] = total**0.5
            else:
                low[i][j] = total / low[j][j]
    inv = np.empty((p, p))
    for col in range(p):  # solve L L^T x = e_col
        z = [0.0] * p
        for i in range(p):
            total = 1.0 if i == col else 0.0
            for k in range(i):
                total -= low[i][k] * z[k]
            z[i] = total / low[i][i]
        x = [0.0] * p
        for i in range(p - 1, -1, -1):
            total = z[i]
            for k in range(i + 1, p):
                total -= low[k][i] * x[k]
            x[i] = total / low[i][i]
        inv[:, col] = x
    return 0.5 * (inv + inv.T)


def line_search_path(problem: Problem, init_params=None, *, tol: float = 1e-6, max_steps: int = 10_000) -> Trajectory:
    """Steepest descent with exact line search: ``w <- w - alpha_t g`` with ``alpha_t = (g.g) / (g.H.g)``.

    On a quadratic alpha_t minimises the loss along -g exactly, so the new gradient is orthogonal to the old
    one and consecutive updates meet at right angles (the zigzag); the loss never increases. The reported
    learning_rate of update t is its alpha_t. A zero gradient (or one with no curvature along it, which on
    least squares is round-off in a flat direction) gives alpha = 0 and a zero update: CONVERGED at that step
    (for tol > 0), e.g. at step 1 from a start at the optimum.

    Args:
        problem: from ``gdviz.data.make_problem``.
        init_params: array of shape (n_params,); zeros by default.
        tol, max_steps: the engine's stop rules (as for ``gdviz.engine.run``).

    Returns:
        A Trajectory; its ``last_state`` is an engine State with ``opt_state`` None.

    Raises:
        InputError: for bad init_params, tol or max_steps.
    """
    w0, tol, max_steps = _check_path_input(problem, init_params, tol, max_steps, "line_search_path")
    return _path(problem, w0, _line_search_step(problem), tol, max_steps)


def _line_search_step(problem: Problem):
    gram2 = 2.0 * problem.gram

    def step(w, g, memory):
        rate = _exact_line_search_rate(gram2, g)
        return (-rate) * g, rate, None

    return step


def barzilai_borwein_path(
    problem: Problem, init_params=None, *, tol: float = 1e-6, max_steps: int = 10_000
) -> Trajectory:
    """Gradient descent with the Barzilai-Borwein step size (BB1): ``w <- w - alpha_t g``, no rate to choose.

    ``alpha_t = (s.s) / (s.y)`` with ``s = w_t - w_(t-1)`` and ``y = g_t - g_(t-1)`` from the previous update
    (on least squares ``y = H s``, so 1 / alpha_t is a Rayleigh quotient of H: alpha_t lies in
    [1 / lambda_max, 1 / lambda_min]). The first update has no previous one: it takes the exact line-search
    rate ``(g.g) / (g.H.g)``, as does any update whose ``s.y`` is not positive (a zero or round-off step).
    Not monotone: the loss may rise for a step, yet the method converges on every least-squares problem
    (Raydan 1993), often far faster than GD. The reported learning_rate of update t is its alpha_t.

    Args:
        problem: from ``gdviz.data.make_problem``.
        init_params: array of shape (n_params,); zeros by default.
        tol, max_steps: the engine's stop rules (as for ``gdviz.engine.run``).

    Returns:
        A Trajectory; its ``last_state`` is an engine State with ``opt_state`` None.

    Raises:
        InputError: for bad init_params, tol or max_steps.
    """
    w0, tol, max_steps = _check_path_input(problem, init_params, tol, max_steps, "barzilai_borwein_path")
    return _path(problem, w0, _barzilai_borwein_step(problem), tol, max_steps)


def _barzilai_borwein_step(problem: Problem):
    gram2 = 2.0 * problem.gram

    def step(w, g, memory):
        rate = None
        if memory is not None:
            d = w - memory[0]
            sy = _dot(d, g - memory[1])
            if sy > 0:
                rate = _dot(d, d) / sy
        if rate is None:
            rate = _exact_line_search_rate(gram2, g)
        return (-rate) * g, rate, (w, g)

    return step


_STEPS = {"newton": _newton_step, "line_search": _line_search_step, "barzilai_borwein": _barzilai_borwein_step}


# ---------------------------------------------------------------------------------------------
# Loss surface
# ---------------------------------------------------------------------------------------------


class LossGrid(NamedTuple):
    """The loss over a grid of two params, the others held fixed.

    Attributes:
        x: array of shape (n_x,), values of param ``i``.
        y: array of shape (n_y,), values of param ``j``.
        z: array of shape (n_y, n_x), the loss (row k is y[k], as Plotly's surface and contour expect).
        i, j: the two param indices.
        center: array of shape (n_params,), the point whose other params are held fixed.
        log10_z: array of shape (n_y, n_x), log10 of the loss, finite even where ``z`` overflows float64
            (a diverging path's window reaches 1e154 and beyond); None for a grid built by hand.
        plane: the loss over the grid's plane as a quadratic (``gdviz.contours.Plane``): its level sets
            are exact ellipses; None for a grid built by hand.
    """

    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    i: int
    j: int
    center: np.ndarray
    log10_z: np.ndarray | None = None
    plane: contours.Plane | None = None


def loss_grid(
    problem: Problem,
    i: int,
    j: int,
    *,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    n: int = 80,
    center: np.ndarray | None = None,
) -> LossGrid:
    """Loss over params i and j on an n x n grid, others held at ``center`` (the optimum by default).

    Computed as ``J = J* + d.A.d + 2 d.r`` with ``d = w - w*`` (``Problem.loss``'s form), after dividing
    ``d`` by ``s = max(1, max|d_k|)``: ``J = s^2 (J*/s^2 + e.A.e + 2 e.r/s)`` with ``e = d/s``, so
    ``log10 J = 2 log10 s + log10(...)`` stays finite where J itself overflows float64 (z is inf there).
    """
    p = problem.n_params
    i = check_int(i, "i", "loss_grid", low=0, high=p - 1)
    j = check_int(j, "j", "loss_grid", low=0, high=p - 1)
    if i == j:
        raise InputError(f"loss_grid needs two different params; got i = j = {i}.")
    n = check_int(n, "n", "loss_grid", low=2, high=2000)
    ctr = problem.solution() if center is None else check_params(center, problem, "center")
    (x0, x1), (y0, y1) = (tuple(map(float, x_range)), tuple(map(float, y_range)))
    if not all(np.isfinite([x0, x1, y0, y1])) or x0 >= x1 or y0 >= y1:
        raise InputError(f"loss_grid needs finite increasing ranges; got {x_range!r} and {y_range!r}.")
    xs = np.linspace(x0, x1, n)
    ys = np.linspace(y0, y1, n)
    d = np.broadcast_to(ctr - problem.optimum, (n, n, p)).copy()
    d[..., i] = (xs - problem.optimum[i])[None, :]
    d[..., j] = (ys - problem.optimum[j])[:, None]
    with np.errstate(over="ignore", divide="ignore"):  # z overflows to inf where J > 1e308; log10_z does not
        s = np.maximum(np.max(np.abs(d), axis=-1), 1.0)
        e = d / s[..., None]
        inner = problem.optimum_loss / s**2 + np.einsum("...k,...k->...", e, e @ problem.gram)
        inner += 2.0 * (e @ problem.residual) / s
        inner = np.maximum(inner, 0.0)  # round-off must not make a squared error negative
        z = s**2 * inner
        log10_z = 2.0 * np.log10(s) + np.log10(np.maximum(inner, np.finfo(float).tiny))
    return LossGrid(xs, ys, z, i, j, ctr, log10_z, contours.plane(problem, i, j, ctr))


# ---------------------------------------------------------------------------------------------
# Learning-rate sweep
# ---------------------------------------------------------------------------------------------


class SweepResult(NamedTuple):
    """Constant-rate GD at many rates.

    Attributes:
        learning_rate: array of shape (n_rates,).
        steps: int array of shape (n_rates,), the step at which each run stopped.
        final_loss: array of shape (n_rates,), the loss at that step (non-finite for a diverged run).
        status: str array of shape (n_rates,), each a Status value ("converged", "diverged", "max_steps").
    """

    learning_rate: np.ndarray
    steps: np.ndarray
    final_loss: np.ndarray
    status: np.ndarray


def _finite_loss_reach(problem: Problem) -> float:
    """A distance m such that every params w with max|w - w*| < m has a finite loss, intermediates included.

    ``Problem.loss`` sums p products of at most m * max|gram| each, adds 2r, and dots that with d again:
    p * m * (p * m * a + 2 * r) + J* stays below 1e300 (float64 reaches 1.8e308) for the m returned.
    """
    p = problem.n_params
    a = float(np.abs(problem.gram).max()) or 1e-300
    r = float(np.abs(problem.residual).max())
    budget = 1e300 - problem.optimum_loss
    m = np.sqrt(budget / (2.0 * p * p * a))  # the quadratic term uses half the budget ...
    if r > 0:
        m = min(m, budget / (4.0 * p * r))  # ... and the linear one a quarter
    return float(m)


def lr_sweep(
    problem: Problem,
    learning_rates: Sequence[float] | np.ndarray,
    *,
    tol: float = 1e-6,
    max_steps: int = 1_000,
    init_params: np.ndarray | None = None,
    progress=None,
) -> SweepResult:
    """Run plain GD at every rate in one vectorised loop (rows are runs), with ``run``'s stop rules.

    Each step costs O(n_active * n_params^2); runs leave the batch when they stop.

    Args:
        learning_rates: floats in (0, inf).
        tol, max_steps, init_params: as for ``gdviz.engine.run``.
        progress: optional callable ``progress(fraction_done)``, called about 100 times.
    """
    lrs = np.array(learning_rates, dtype=float).reshape(-1)
    if lrs.size == 0 or np.any(~np.isfinite(lrs)) or np.any(lrs <= 0):
        raise InputError(
            "The 'learning_rates' parameter of lr_sweep must be a non-empty list of floats in the range (0, inf)."
        )
    tol = check_float(tol, "tol", "lr_sweep", low=0, low_open=False)
    max_steps = check_int(max_steps, "max_steps", "lr_sweep", low=0)
    w0 = check_params(init_params, problem, "init_params")
    R = lrs.size
    steps = np.zeros(R, dtype=np.int64)
    status = np.full(R, Status.MAX_STEPS.value, dtype=object)
    gram2, moment2 = 2.0 * problem.gram, 2.0 * problem.moment
    with np.errstate(all="ignore"):
        loss0 = problem.loss(w0)
        final_loss = np.full(R, loss0)
        if not np.isfinite(loss0):
            status[:] = Status.DIVERGED.value
            return SweepResult(lrs, steps, final_loss, status.astype(str))
        idx = np.arange(R)  # runs still going
        W = np.tile(w0, (R, 1))
        G = np.tile(row_matmul(w0, gram2) - moment2, (R, 1))
        rate = lrs[:, None]
        every = max(1, max_steps // 100)
        reach = _finite_loss_reach(problem)
        for t in range(1, max_steps + 1):
            Wn = W + (-rate) * G  # the same expression as gd's update, in the same order
            D = Wn - W
            norms = np.sqrt(row_dot(D, D))
            # The loss is only needed where it might overflow (run's DIVERGED rule) and for runs that stop:
            # within ``reach`` of the optimum it is finite, so most steps skip it.
            bad = ~np.isfinite(Wn).all(axis=1)
            far = ~bad & ~(np.abs(Wn - problem.optimum).max(axis=1) < reach)
            if far.any():
                bad[far] = ~np.isfinite(problem.loss(Wn[far]))
            done = bad | (norms < tol)
            if done.any():
                finished = idx[done]
                steps[finished] = t
                final_loss[finished] = problem.loss(Wn[done])
                status[finished] = np.where(bad[done], Status.DIVERGED.value, Status.CONVERGED.value)
                keep = ~done
                idx, Wn, rate = idx[keep], Wn[keep], rate[keep]
            W = Wn
            G = row_matmul(W, gram2) - moment2  # no BLAS: each run's numbers do not depend on the others
            if progress is not None and t % every == 0:
                progress(t / max_steps)
            if idx.size == 0:
                break
        if idx.size:  # still running after max_steps
            steps[idx] = max_steps
            final_loss[idx] = problem.loss(W)
    return SweepResult(lrs, steps, final_loss, status.astype(str))
