"""The descent engine: a least-squares Problem, the lazy ``run`` generator of States, Trajectories.

Conventions (fixed, see STYLE.md section 3):
    loss      J(w) = mean((X1 @ w - y) ** 2), X1 = X with a leading column of ones;
    params    [intercept, w_1 .. w_d];
    grads     (2/n) X1.T @ (X1 @ w - y);   Hessian (2/n) X1.T @ X1;
    step      number of updates applied so far; the State at step 0 is the start;
    converged ||w_t - w_{t-1}||_2 < tol right after update t, and the step count includes it.

After one pass over the data a step costs O(d^2) whatever n_samples is: the Problem keeps the
second-moment matrix ``X1.T @ X1 / n`` and ``X1.T @ y / n``, not X, for the hot path.

Mini-batch runs (``run(..., batch_size=b)``) take each update from the gradient of the mean squared error
over b rows of X1 (an O(b d) step); which rows is fixed by ``seed`` and the step (see ``epoch_order``).

Reproducible on every machine: a State's numbers do not depend on how the engine chunks its vectorised
work, nor on the CPU's BLAS kernel (see ``matvec`` and ``row_dot``), so a resumed run equals a one-shot run
bit for bit. Up to EXACT_MAX_PARAMS params the Problem itself is built without BLAS or LAPACK too.

When a whole run is wanted at once, ``trajectory`` is ``collect(run(...))`` without a State per update, and
``lockstep`` takes several full-batch runs side by side (the race): the same numbers, bit for bit, sooner.
"""

from __future__ import annotations

import enum
import itertools
import time
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

import numpy as np

from gdviz.errors import InputError, check_float, check_int
from gdviz.optimizers import Optimizer

# --------------------------------------------------------------------------------------------
# Arithmetic in a fixed order
# --------------------------------------------------------------------------------------------
# BLAS (``@``, ``np.dot``, einsum's BLAS path) picks a kernel by CPU and by array shape, and kernels add
# in different orders: the same row can come out one unit in the last place apart in a (1, p) and a
# (k, p) batch, or under another OPENBLAS_CORETYPE. So no number of a State goes through BLAS. What
# follows uses element-wise ufuncs (each operation rounded once, as IEEE 754 says) and add.reduce along
# one contiguous row (NumPy's pairwise sum, the same plain C on every CPU), in orders fixed by the code.


def matvec(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """``matrix @ vector`` without BLAS: array of shape (..., q) for matrix (q, p) and vector (..., p).

    Row i of the result is ``add.reduce(matrix[i] * vector)`` over one contiguous row of length p, so it
    has the same bits whatever the leading shape of ``vector`` and whatever the CPU.
    """
    return np.add.reduce(matrix * np.asarray(vector)[..., None, :], axis=-1)


def row_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``sum(a * b, axis=-1)`` for arrays of shape (..., p), added in index order 0, 1, .., p - 1.

    Each output element is the same chain of rounded products and sums whatever the leading shape.
    """
    out = a[..., 0] * b[..., 0]
    for j in range(1, a.shape[-1]):
        out = out + a[..., j] * b[..., j]
    return out


def row_matmul(rows: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """``rows @ matrix`` for rows (..., p) and matrix (p, q), each element added in index order over p.

    Used where the leading shape varies (a chunk of States): one pass over p, element-wise over the rest.
    """
    out = rows[..., 0:1] * matrix[0]
    for j in range(1, matrix.shape[0]):
        out = out + rows[..., j : j + 1] * matrix[j]
    return out


# How many updates the generator computes per batch (the first batches are smaller, so that taking
# a single State costs a single update).
_MAX_CHUNK = 256


class Problem(NamedTuple):
    """A full-batch least-squares problem, reduced to the statistics gradient descent needs.

    Build it with ``gdviz.data.make_problem``; the fields are read-only float64 arrays.

    Attributes:
        gram: array of shape (n_params, n_params), ``X1.T @ X1 / n`` (half the Hessian).
        moment: array of shape (n_params,), ``X1.T @ y / n``.
        optimum: array of shape (n_params,), the least-squares solution (minimum norm if singular).
        optimum_loss: the loss at ``optimum``, computed from the data (no cancellation).
        residual: array of shape (n_params,), ``gram @ optimum - moment`` (round-off sized).
        n_samples: number of rows of X.
        feature_names: one name per feature column.
        fit_intercept: whether params[0] is an intercept.
        scaling: the scaling applied to X before fitting ("none", "standard", "minmax", "robust").
        offset: array of shape (n_features,), scaled X = (raw X - offset) / scale.
        scale: array of shape (n_features,).
        X1: array of shape (n_samples, n_params), the (scaled) design matrix; used per step only by
            mini-batch runs.
        y: array of shape (n_samples,), the target.
    """

    gram: np.ndarray
    moment: np.ndarray
    optimum: np.ndarray
    optimum_loss: float
    residual: np.ndarray
    n_samples: int
    feature_names: tuple[str, ...]
    fit_intercept: bool
    scaling: str
    offset: np.ndarray
    scale: np.ndarray
    X1: np.ndarray
    y: np.ndarray

    @property
    def n_params(self) -> int:
        """Number of parameters (intercept included when fitted)."""
        return self.gram.shape[0]

    @property
    def n_features(self) -> int:
        """Number of feature columns of X."""
        return len(self.feature_names)

    @property
    def param_names(self) -> tuple[str, ...]:
        """``("intercept", *feature_names)`` (without "intercept" when it is not fitted)."""
        return (("intercept",) if self.fit_intercept else ()) + self.feature_names

    def loss(self, params: np.ndarray) -> float | np.ndarray:
        """Mean squared error at ``params`` of shape (n_params,) or (..., n_params).

        Computed as ``J* + d.A.d + 2 d.r`` with ``d = params - optimum``: exact algebraically, and
        free of the catastrophic cancellation of ``c - 2 b.w + w.A.w`` near the optimum.
        """
        d = np.asarray(params, dtype=float) - self.optimum
        excess = row_dot(d, row_matmul(d, self.gram) + 2.0 * self.residual)
        out = np.maximum(self.optimum_loss + excess, 0.0)  # round-off must not make a squared error negative
        return float(out) if np.ndim(out) == 0 else out

    def grad(self, params: np.ndarray) -> np.ndarray:
        """Gradient ``(2/n) X1.T (X1 w - y)``, of the same shape as ``params``.

        Computed as ``matvec(2 gram, w) - 2 moment``: the engine's expression, so its grads equal this bit for bit.
        """
        w = np.asarray(params, dtype=float)
        return matvec(2.0 * self.gram, w) - 2.0 * self.moment

    def hessian(self) -> np.ndarray:
        """The constant Hessian ``(2/n) X1.T @ X1``, array of shape (n_params, n_params)."""
        return 2.0 * self.gram

    def solution(self) -> np.ndarray:
        """The least-squares optimum (a copy), array of shape (n_params,)."""
        return self.optimum.copy()

    def raw_params(self, params: np.ndarray) -> np.ndarray:
        """Map params on the scaled features to ``[intercept, coef_1 .. coef_d]`` on raw X.

        Works on shape (n_params,) or (..., n_params). The result predicts from unscaled X, which
        is how the fitted line is drawn over the raw data whatever the scaling.
        """
        w = np.asarray(params, dtype=float)
        coefs = w[..., 1:] if self.fit_intercept else w
        b = w[..., 0] if self.fit_intercept else np.zeros(w.shape[:-1])
        raw_coefs = coefs / self.scale
        raw_b = b - raw_coefs @ self.offset
        return np.concatenate([np.asarray(raw_b)[..., None], raw_coefs], axis=-1)


# Params up to which a Problem is built without BLAS or LAPACK (every bundled data set and most uploads).
EXACT_MAX_PARAMS = 64


def _column_moments(cols: list[np.ndarray], y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``X1.T @ X1 / n`` and ``X1.T @ y / n`` from the columns of X1, each entry one add.reduce over n."""
    n, p = len(y), len(cols)
    gram = np.empty((p, p))
    for i in range(p):
        for j in range(i, p):
            gram[i, j] = gram[j, i] = np.add.reduce(cols[i] * cols[j]) / n
    moment = np.array([np.add.reduce(c * y) / n for c in cols])
    return gram, moment


def _least_squares(cols: list[np.ndarray], y: np.ndarray) -> np.ndarray | None:
    """The w that minimises ||X1 w - y|| by modified Gram-Schmidt on [X1 | y] (Bjorck's method, as accurate
    as Householder QR for least squares), or None when a column of X1 is (numerically) in the span of the
    ones before it. Every sum is an add.reduce over a contiguous column; the back substitution is scalar.
    """
    p = len(cols)
    work = [c.copy() for c in cols] + [np.array(y, dtype=float)]
    R = np.zeros((p + 1, p + 1))
    limit = max(len(y), p) * np.finfo(float).eps
    for k in range(p):
        size = float(np.sqrt(np.add.reduce(cols[k] * cols[k])))
        norm = float(np.sqrt(np.add.reduce(work[k] * work[k])))
        if not norm > limit * size:
            return None
        R[k, k] = norm
        q = work[k] / norm
        for j in range(k + 1, p + 1):
            R[k, j] = np.add.reduce(q * work[j])
            work[j] = work[j] - R[k, j] * q
    w = [0.0] * p
    for k in range(p - 1, -1, -1):
        total = float(R[k, p])
        for j in range(k + 1, p):
            total -= float(R[k, j]) * w[j]
        w[k] = total / float(R[k, k])
    return np.array(w)


def build_problem(
    X1: np.ndarray,
    y: np.ndarray,
    *,
    feature_names: tuple[str, ...],
    fit_intercept: bool,
    scaling: str,
    offset: np.ndarray,
    scale: np.ndarray,
) -> Problem:
    """Reduce a validated design matrix to a Problem (one pass over the data, plus a least-squares solve).

    Up to EXACT_MAX_PARAMS params nothing goes through BLAS or LAPACK: the moments are sums along contiguous
    columns and the optimum comes from modified Gram-Schmidt, so the Problem, and every run on it, has the
    same bits on every CPU. A rank-deficient or wider X1 is solved by LAPACK's lstsq.

    Callers validate first: ``gdviz.data.make_problem`` is the public entry point.
    """
    n, p = X1.shape
    if p <= EXACT_MAX_PARAMS:
        cols = [np.ascontiguousarray(X1[:, j]) for j in range(p)]
        gram, moment = _column_moments(cols, y)
        optimum = _least_squares(cols, y)
    else:  # a wide upload: one BLAS product, whose last bits depend on the CPU's kernel
        gram = X1.T @ X1 / n
        gram = 0.5 * (gram + gram.T)  # exactly symmetric, so eigh and the quadratic forms agree
        moment = X1.T @ y / n
        optimum = None
    if optimum is None:  # rank deficient (or wide): LAPACK's minimum-norm solution
        optimum, *_ = np.linalg.lstsq(X1, y, rcond=None)
    fit = X1[:, 0] * optimum[0]
    for j in range(1, p):  # the residuals X1 w* - y, added in column order
        fit = fit + X1[:, j] * optimum[j]
    errors = fit - y
    optimum_loss = float(np.add.reduce(errors * errors) / n)
    residual = matvec(gram, optimum) - moment
    arrays = [gram, moment, optimum, residual, offset, scale, X1, y]
    for a in arrays:
        a.setflags(write=False)
    return Problem(
        gram,
        moment,
        optimum,
        optimum_loss,
        residual,
        n,
        tuple(feature_names),
        bool(fit_intercept),
        scaling,
        offset,
        scale,
        X1,
        y,
    )


class Status(enum.StrEnum):
    """Why a State is where it is. Only the last State of a run is not RUNNING."""

    RUNNING = "running"
    CONVERGED = "converged"
    DIVERGED = "diverged"
    MAX_STEPS = "max_steps"


class State(NamedTuple):
    """One point of a run.

    Attributes:
        step: number of updates applied so far (0 at the start).
        params: array of shape (n_params,).
        grads: array of shape (n_params,), the gradient at ``params``.
        loss: the loss at ``params`` (may be inf or nan in the last State of a diverged run).
        update_norm: ``||params - previous params||_2``; NaN at step 0.
        learning_rate: the rate used for the latest update (``schedule(step - 1)``); NaN at step 0.
        opt_state: the optimizer state after ``step`` updates (resume from here).
        status: RUNNING, or why the run stopped at this State.
    """

    step: int
    params: np.ndarray
    grads: np.ndarray
    loss: float
    update_norm: float
    learning_rate: float
    opt_state: Any
    status: Status


class Trajectory(NamedTuple):
    """A run stacked into arrays (row i is the i-th collected State).

    Attributes:
        step: int array of shape (n_states,).
        params: array of shape (n_states, n_params).
        grads: array of shape (n_states, n_params).
        loss: array of shape (n_states,).
        update_norm: array of shape (n_states,), NaN at step 0.
        learning_rate: array of shape (n_states,), NaN at step 0.
        status: the status of the last State.
        last_state: the last State, to resume the run from.
    """

    step: np.ndarray
    params: np.ndarray
    grads: np.ndarray
    loss: np.ndarray
    update_norm: np.ndarray
    learning_rate: np.ndarray
    status: Status
    last_state: State

    @property
    def n_states(self) -> int:
        return len(self.step)

    @property
    def nbytes(self) -> int:
        """Bytes held by the arrays (the last State's few arrays are not counted)."""
        return sum(
            a.nbytes for a in (self.step, self.params, self.grads, self.loss, self.update_norm, self.learning_rate)
        )


def check_params(params: object, problem: Problem, name: str) -> np.ndarray:
    """Validate a params vector for ``problem`` (zeros when None); raise InputError naming ``name``."""
    if params is None:
        return np.zeros(problem.n_params)
    try:
        w = np.array(params, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise InputError(f"The '{name}' parameter of run must be an array of floats. Got {params!r} instead.") from None
    if w.size != problem.n_params:
        raise InputError(
            f"The '{name}' parameter of run must have shape ({problem.n_params},) to match the problem's "
            f"params {list(problem.param_names)}. Got shape {np.shape(params)} instead."
        )
    if not np.all(np.isfinite(w)):
        raise InputError(f"The '{name}' parameter of run must be finite. Got {w.tolist()} instead.")
    return w


def start_state(problem: Problem, optimizer: Optimizer, params: np.ndarray, max_steps: int) -> State:
    """The State at step 0: ``params`` with its loss and grads, and a fresh optimizer state."""
    with np.errstate(all="ignore"):
        loss = problem.loss(params)
        grads = problem.grad(params)
    status = Status.MAX_STEPS if max_steps == 0 else Status.RUNNING
    if not np.isfinite(loss):
        status = Status.DIVERGED
    return State(0, params, grads, loss, np.nan, np.nan, optimizer.init(params), status)


def _prepare(problem, optimizer, init_params, tol, max_steps, start, batch_size, seed):
    """Validate ``run``'s arguments; return the first State, its chunks (a lazy generator), tol, max_steps and
    whether the first State is yielded."""
    if not isinstance(problem, Problem):
        raise InputError(f"The 'problem' parameter of run must be a Problem. Got {type(problem).__name__} instead.")
    if not isinstance(optimizer, Optimizer):
        raise InputError(
            f"The 'optimizer' parameter of run must be an Optimizer. Got {type(optimizer).__name__} instead."
        )
    tol = check_float(tol, "tol", "run", low=0, low_open=False)
    max_steps = check_int(max_steps, "max_steps", "run", low=0)
    seed = check_int(seed, "seed", "run", low=0)
    if batch_size is not None:
        batch_size = check_int(batch_size, "batch_size", "run", low=1, high=problem.n_samples)
        if batch_size == problem.n_samples:
            batch_size = None  # one batch of every row is full batch: the same path, the same bits
    if start is None:
        state = start_state(problem, optimizer, check_params(init_params, problem, "init_params"), max_steps)
    elif not isinstance(start, State):
        raise InputError(f"The 'start' parameter of run must be a State. Got {type(start).__name__} instead.")
    else:
        state = start
    if batch_size is None:
        chunks = _full_batch_chunks(problem, optimizer, state, max_steps)
    else:
        chunks = _mini_batch_chunks(problem, optimizer, state, max_steps, batch_size, seed)
    return state, chunks, tol, max_steps, start is None


def run(
    problem: Problem,
    optimizer: Optimizer,
    *,
    init_params: np.ndarray | None = None,
    tol: float = 1e-6,
    max_steps: int = 10_000,
    start: State | None = None,
    batch_size: int | None = None,
    seed: int = 0,
) -> Iterator[State]:
    """Run ``optimizer`` on ``problem``, lazily, one State per update.

    Full batch (``batch_size`` None or n_samples) each update uses the gradient over all rows. Mini-batch
    (``batch_size`` b < n_samples) update t (1-based) uses the mean-squared-error gradient over the rows of
    ``batch_rows(n_samples, b, seed, t - 1)``: ``(2/m) Xb.T (Xb w - yb)`` over those m rows (m = b, or
    n_samples % b for the last batch of an epoch). Every State still reports the full-data loss and the
    full-data gradient at its params (``Problem.loss``, ``Problem.grad``), so a loss curve shows the noise
    floor and ``grads`` means the same in every run; the update actually taken is the params difference.

    Args:
        problem: from ``gdviz.data.make_problem``.
        optimizer: from ``gdviz.optimizers`` (any ``Optimizer``).
        init_params: array of shape (n_params,); zeros by default.
        tol: stop as CONVERGED when ``||w_t - w_{t-1}||_2 < tol``; 0 turns the check off.
        max_steps: stop as MAX_STEPS at this step (a total, also when resuming).
        start: resume from this State instead of starting at ``init_params``. The generator then
            yields the States after it (it does not repeat ``start``). Nothing follows a DIVERGED State.
            Pass the same optimizer, ``batch_size`` and ``seed`` again: the batches are a function of
            (seed, step), so the resumed run equals the one-shot run bit for bit.
        batch_size: rows per update, an int in [1, n_samples]; None (or n_samples) is full batch.
        seed: an int >= 0, the seed of the row shuffle (unused in full-batch runs).

    Returns:
        A generator that yields the start State (step 0, unless resuming), then one State per update.
        The last State's status says why it stopped; a DIVERGED State (the first whose loss or params
        are non-finite) ends the run and every State before it is kept. No RuntimeWarning escapes.

    Raises:
        InputError: for a problem or optimizer of the wrong type, bad init_params, tol, max_steps,
            batch_size or seed.
    """
    state, chunks, tol, max_steps, yield_first = _prepare(
        problem, optimizer, init_params, tol, max_steps, start, batch_size, seed
    )
    return _generate(state, chunks, tol, max_steps, yield_first=yield_first)


def trajectory(
    problem: Problem,
    optimizer: Optimizer,
    *,
    init_params: np.ndarray | None = None,
    tol: float = 1e-6,
    max_steps: int = 10_000,
    start: State | None = None,
    batch_size: int | None = None,
    seed: int = 0,
) -> Trajectory:
    """``collect(run(problem, optimizer, ...))`` without a State per update: the same Trajectory, bit for bit.

    The arguments are ``run``'s. The updates are computed by the same code in the same chunks; only the
    stacking differs (each chunk's arrays are kept whole instead of going through a State per row), which
    saves a few microseconds per update when the whole run is wanted at once (the race).

    Raises:
        InputError: as ``run`` does, and as ``collect`` does for a run with no State (resuming from a State
            that ended its run).
    """
    state, chunks, tol, max_steps, yield_first = _prepare(
        problem, optimizer, init_params, tol, max_steps, start, batch_size, seed
    )
    return stack_chunks(state, chunks, tol, max_steps, include_first=yield_first)


class Chunk(NamedTuple):
    """Updates ``step + 1 .. step + k`` of a run, computed together (the engine's and the reference paths' unit).

    Attributes:
        params: k arrays of shape (n_params,) (a list, or an array of shape (k, n_params)), the params after
            each update.
        grads: k arrays of shape (n_params,) (a list, or an array of shape (k, n_params)), the full-data grads.
        opt_states: list of k optimizer states, or None (``lockstep``'s, which sets the last State's itself).
        stacked: array of shape (k, n_params), ``params`` stacked.
        loss, update_norm, learning_rate: arrays of shape (k,).
        finite: bool array of shape (k,), whether the loss and the params are finite.
    """

    params: list
    grads: Any
    opt_states: list
    stacked: np.ndarray
    loss: np.ndarray
    update_norm: np.ndarray
    learning_rate: np.ndarray
    finite: np.ndarray


def _generate(state: State, chunks: Iterator[Chunk], tol: float, max_steps: int, *, yield_first: bool):
    if yield_first:
        yield state
    if state.status is Status.DIVERGED or state.step >= max_steps:
        return
    step = state.step
    for c in chunks:
        step = yield from _chunk_states(step, c, tol, max_steps)
        if step is None:
            return


def stack_chunks(
    first: State, chunks: Iterable[Chunk], tol: float, max_steps: int, *, include_first: bool
) -> Trajectory:
    """The Trajectory ``collect`` makes of ``first`` (when ``include_first``) and the States of ``chunks`` under
    ``run``'s stop rules, computed on whole chunks: the same arrays bit for bit, and no State built but the last.

    Raises:
        InputError: when there is no State (``include_first`` False and ``first`` ended its run).
    """
    if _ended(first, max_steps):
        return collect((first,) if include_first else ())
    parts = [tuple(collect((first,))[:6])] if include_first else []
    step = first.step
    for c in chunks:
        part, last = _take(step, c, tol, max_steps)
        parts.append(part)
        step += len(part[0])
        if last is not None:
            return _stacked(parts, last)
    raise RuntimeError("the chunks ended before a stop rule did")  # run's chunks always reach max_steps


def _ended(state: State, max_steps: int) -> bool:
    return state.status is Status.DIVERGED or state.step >= max_steps


def _take(step: int, c: Chunk, tol: float, max_steps: int) -> tuple[tuple[np.ndarray, ...], State | None]:
    """The rows of chunk ``c`` (updates ``step + 1 ..``) up to the first State a stop rule ends the run at, as
    Trajectory columns, and that last State (None when the run goes on after the chunk)."""
    k = len(c.params)
    steps = np.arange(step + 1, step + k + 1, dtype=np.int64)
    hits = np.flatnonzero(~c.finite | (c.update_norm < tol) | (steps >= max_steps))
    last = None
    if hits.size:
        k = int(hits[0]) + 1
        i = k - 1
        if not c.finite[i]:
            status = Status.DIVERGED
        elif c.update_norm[i] < tol:
            status = Status.CONVERGED
        else:
            status = Status.MAX_STEPS
        loss, norm, rate = float(c.loss[i]), float(c.update_norm[i]), float(c.learning_rate[i])
        opt_state = None if c.opt_states is None else c.opt_states[i]
        last = State(step + k, c.params[i], c.grads[i], loss, norm, rate, opt_state, status)
    grads = c.grads[:k] if isinstance(c.grads, np.ndarray) else np.array(c.grads[:k])
    return (steps[:k], c.stacked[:k], grads, c.loss[:k], c.update_norm[:k], c.learning_rate[:k]), last


def _stacked(parts: list[tuple[np.ndarray, ...]], last: State) -> Trajectory:
    arrays = [np.concatenate([part[f] for part in parts]) for f in range(6)]
    return Trajectory(*arrays, last.status, last)


# --------------------------------------------------------------------------------------------
# Several full-batch runs in lockstep
# --------------------------------------------------------------------------------------------
# Each update's gradient is a handful of NumPy calls on arrays of n_params numbers, so a run's step costs
# the calls, not the arithmetic. Runs on the same Problem can share them: with their params stacked as the
# rows of one array, one call computes every run's gradient (``matvec``: row i has the bits it has alone),
# and one set of calls their losses, update norms and finiteness. Only the updates stay one call per run.


class Runner(NamedTuple):
    """One run for ``lockstep``: where it starts and how it takes an update.

    Attributes:
        first: the State it starts from (step 0 in every runner of a lockstep).
        update: ``update(grads, opt_state, params) -> (updates, new_opt_state)``, e.g. an Optimizer's update: a
            pure function, which ``lockstep`` may call again on the same inputs (when ``carries_state``).
        rates: ``rates(count, k) -> array of shape (k,)``, the rates the States of updates ``count .. count + k - 1``
            report, asked once after those k calls of ``update``.
        carries_state: whether its States carry the opt_state ``update`` returned (else their opt_state is None).
    """

    first: State
    update: Any
    rates: Any
    carries_state: bool = True


def runner(problem: Problem, optimizer: Optimizer, *, init_params: np.ndarray | None = None,
           max_steps: int = 10_000) -> Runner:  # fmt: skip
    """``optimizer``'s run from ``init_params`` (zeros by default) for ``lockstep``: its States are ``run``'s.

    Raises:
        InputError: for an optimizer of the wrong type, bad init_params or max_steps.
    """
    if not isinstance(optimizer, Optimizer):
        raise InputError(
            f"The 'optimizer' parameter of run must be an Optimizer. Got {type(optimizer).__name__} instead."
        )
    max_steps = check_int(max_steps, "max_steps", "run", low=0)
    first = start_state(problem, optimizer, check_params(init_params, problem, "init_params"), max_steps)
    schedule = optimizer.learning_rate
    return Runner(first, optimizer.update, lambda count, k: _rates(schedule, count, k))


def lockstep(
    problem: Problem, runners: list[Runner], *, tol: float = 1e-6, max_steps: int = 10_000
) -> tuple[list[Trajectory], list[float]]:
    """Full-batch runs on ``problem`` taken update by update side by side, each with ``run``'s stop rules.

    Each Trajectory equals ``collect(run(problem, optimizer, init_params=..., tol=tol, max_steps=max_steps))`` of
    its runner bit for bit (for a ``runner``; the reference paths of ``gdviz.analysis`` make runners too): the
    runs only share NumPy calls (see above), never a number. A run that stops drops out of the lockstep.

    Returns:
        One Trajectory per runner, and the seconds each took: its own updates, timed one by one, plus an equal
        share of what is computed for all the runs at once.

    Raises:
        InputError: for a problem of the wrong type, bad tol or max_steps.
    """
    if not isinstance(problem, Problem):
        raise InputError(f"The 'problem' parameter of run must be a Problem. Got {type(problem).__name__} instead.")
    tol = check_float(tol, "tol", "run", low=0, low_open=False)
    max_steps = check_int(max_steps, "max_steps", "run", low=0)
    clock = time.perf_counter
    out: list[Trajectory | None] = [None] * len(runners)
    seconds = [0.0] * len(runners)
    parts: list[list] = [[tuple(collect((r.first,))[:6])] for r in runners]
    live = []
    for j, r in enumerate(runners):
        if r.first.step != 0:
            raise InputError(f"lockstep runs start at step 0; runner {j} starts at step {r.first.step}.")
        if _ended(r.first, max_steps):
            out[j] = collect((r.first,))
        else:
            live.append(j)
    gram2 = 2.0 * problem.gram  # exact doubling: grads match Problem.grad bit for bit
    moment2 = 2.0 * problem.moment
    reduce = np.add.reduce
    W = np.array([runners[j].first.params for j in live], dtype=float).reshape(len(live), problem.n_params)
    G = np.array([runners[j].first.grads for j in live], dtype=float).reshape(W.shape)
    opt_states = [runners[j].first.opt_state for j in live]
    step, chunk = 0, 1
    while live:
        t_chunk = clock()
        k = min(chunk, max_steps - step)
        chunk = min(2 * chunk, _MAX_CHUNK)
        updates = [runners[j].update for j in live]
        own = [0.0] * len(live)
        # Only the opt_states at the chunk's start are kept: the one a State ending mid-chunk carries is replayed
        # from there (keeping every update's state would make Python's garbage collector walk them all).
        opt_before = list(opt_states)
        Ws = np.empty((k, *W.shape))
        Gs = np.empty((k, *W.shape))
        W_before, G_before = W, G
        with np.errstate(all="ignore"):
            params, grads = list(W), list(G)
            for t in range(k):
                us = []
                t0 = clock()
                for i, update in enumerate(updates):
                    u, opt_states[i] = update(grads[i], opt_states[i], params[i])
                    us.append(u)
                    t1 = clock()
                    own[i] += t1 - t0
                    t0 = t1
                W = W + np.array(us)  # row i: params[i] + us[i], as run's w + u
                G = reduce(gram2 * W[:, None, :], axis=-1) - moment2  # matvec(gram2, W): each row as alone
                Ws[t] = W
                Gs[t] = G
                params, grads = list(W), list(G)
            D = Ws - np.concatenate([W_before[None], Ws[:-1]])
            norms = np.sqrt(row_dot(D, D))
            losses = problem.loss(Ws)
            finite = np.isfinite(losses) & np.isfinite(Ws).all(axis=-1)
        going = []
        for i, j in enumerate(live):
            r = runners[j]
            c = Chunk(Ws[:, i], Gs[:, i], None, Ws[:, i], losses[:, i], norms[:, i], r.rates(step, k), finite[:, i])
            part, last = _take(step, c, tol, max_steps)
            parts[j].append(part)
            if last is None:
                going.append(i)
                continue
            n = len(part[0])
            if not r.carries_state:
                opt_state = None
            elif n == k:
                opt_state = opt_states[i]
            else:
                with np.errstate(all="ignore"):
                    opt_state = _replay(r.update, opt_before[i], W_before[i], G_before[i], Ws[:, i], Gs[:, i], n)
            # its own arrays, not views of the lockstep's
            last = last._replace(params=last.params.copy(), grads=last.grads.copy(), opt_state=opt_state)
            out[j] = _stacked(parts[j], last)
        shared = (clock() - t_chunk - sum(own)) / len(live)
        for i, j in enumerate(live):
            seconds[j] += own[i] + shared
        step += k
        live = [live[i] for i in going]
        W, G = W[going], G[going]
        opt_states = [opt_states[i] for i in going]
    return out, seconds


def _replay(update, opt_state, w: np.ndarray, g: np.ndarray, Ws: np.ndarray, Gs: np.ndarray, n: int):
    """The opt_state after ``n`` more calls of ``update`` from ``opt_state`` at params ``w`` and grads ``g``, the
    params and grads after update t being ``Ws[t]`` and ``Gs[t]``: the same calls on the same bits as the lockstep's."""
    for t in range(n):
        _, opt_state = update(g, opt_state, w)
        w, g = Ws[t], Gs[t]
    return opt_state


def _full_batch_chunks(problem: Problem, optimizer: Optimizer, state: State, max_steps: int) -> Iterator[Chunk]:
    """The chunks of updates after ``state`` up to ``max_steps``, each update on the full batch (lazily)."""
    gram2 = 2.0 * problem.gram  # exact doubling: grads match Problem.grad bit for bit
    moment2 = 2.0 * problem.moment
    reduce = np.add.reduce
    update = optimizer.update
    schedule = optimizer.learning_rate
    step, w, g, s = state.step, state.params, state.grads, state.opt_state
    chunk = 1
    while step < max_steps:
        k = min(chunk, max_steps - step)
        chunk = min(2 * chunk, _MAX_CHUNK)
        w_before = w
        ws, gs, ss = [], [], []
        with np.errstate(all="ignore"):
            # The sequential part: nothing here but what the next update depends on.
            for _ in range(k):
                u, s = update(g, s, w)
                w = w + u
                g = reduce(gram2 * w, axis=-1) - moment2  # matvec(gram2, w), inlined: the hottest line
                ws.append(w)
                gs.append(g)
                ss.append(s)
            # Everything else, vectorised over the chunk.
            W = np.array(ws)
            D = W - np.vstack([w_before, W[:-1]])
            norms = np.sqrt(row_dot(D, D))
            losses = problem.loss(W)
            finite = np.isfinite(losses) & np.isfinite(W).all(axis=1)
            rates = _rates(schedule, step, k)
        yield Chunk(ws, gs, ss, W, losses, norms, rates, finite)
        step += k


# --------------------------------------------------------------------------------------------
# Mini-batches
# --------------------------------------------------------------------------------------------
# The batches are a pure function of (n_samples, batch_size, seed, count): nothing about the shuffle lives
# in a State, and a run resumes from its last State alone. Epoch e (0-based) visits the rows in the order
# ``Generator(PCG64(seed).jumped(e)).permutation(n)``: epoch 0 is ``np.random.default_rng(seed).permutation(n)``
# and each later epoch a fresh order from an independent stream of the same generator, reached in O(1).

# The most rows a chunk of mini-batch updates gathers at once (bounds the copy, not the result's bits).
_MAX_CHUNK_ROWS = 1 << 16


def epoch_order(n_samples: int, seed: int, epoch: int) -> np.ndarray:
    """The order in which a mini-batch run visits the rows in ``epoch`` (0-based).

    Returns:
        Int array of shape (n_samples,), a permutation of 0 .. n_samples - 1:
        ``np.random.Generator(np.random.PCG64(seed).jumped(epoch)).permutation(n_samples)``, so epoch 0 is
        ``np.random.default_rng(seed).permutation(n_samples)``.
    """
    return np.random.Generator(np.random.PCG64(seed).jumped(epoch)).permutation(n_samples)


def batches_per_epoch(n_samples: int, batch_size: int) -> int:
    """``ceil(n_samples / batch_size)``: the last batch of an epoch holds ``n_samples % batch_size`` rows if not 0."""
    return -(-n_samples // batch_size)


def batch_rows(n_samples: int, batch_size: int, seed: int, count: int) -> np.ndarray:
    """The rows of X1 the update with 0-based ``count`` uses (the one that makes the State at step count + 1).

    Update ``count`` is batch ``count % k`` of epoch ``count // k`` (k = ``batches_per_epoch``): that
    epoch's ``epoch_order`` cut into consecutive slices of ``batch_size`` rows, the last one shorter when
    ``batch_size`` does not divide ``n_samples``.

    Returns:
        Int array of shape (m,), m = batch_size or the smaller last batch of an epoch.
    """
    k = batches_per_epoch(n_samples, batch_size)
    epoch, pos = divmod(count, k)
    return epoch_order(n_samples, seed, epoch)[pos * batch_size : (pos + 1) * batch_size]


def _chunk_rows(n: int, b: int, seed: int, count: int, k: int, orders: dict[int, np.ndarray]):
    """Rows of updates ``count .. count + k - 1`` back to back, and where each update's rows start and end."""
    per_epoch = batches_per_epoch(n, b)
    counts = np.arange(count, count + k + 1)
    epochs, pos = np.divmod(counts, per_epoch)
    stream = epochs * n + np.minimum(pos * b, n)  # position in the endless stream of epoch orders
    first, last = int(epochs[0]), int((stream[-1] - 1) // n)
    for e in list(orders):
        if e < first:
            del orders[e]
    parts = []
    for e in range(first, last + 1):
        if e not in orders:
            orders[e] = epoch_order(n, seed, e)
        lo = max(int(stream[0]) - e * n, 0)
        hi = min(int(stream[-1]) - e * n, n)
        parts.append(orders[e][lo:hi])
    rows = parts[0] if len(parts) == 1 else np.concatenate(parts)
    return rows, stream - stream[0]


def _mini_batch_chunks(
    problem: Problem, optimizer: Optimizer, state: State, max_steps: int, batch_size: int, seed: int
) -> Iterator[Chunk]:
    """``_full_batch_chunks`` with each update on a mini-batch; the grads are still the full data's."""
    X1, y, n, b = problem.X1, problem.y, problem.n_samples, batch_size
    p = X1.shape[1]
    gram2 = 2.0 * problem.gram
    moment2 = 2.0 * problem.moment
    reduce, multiply, subtract = np.add.reduce, np.multiply, np.subtract
    update = optimizer.update
    schedule = optimizer.learning_rate
    step, w, s = state.step, state.params, state.opt_state
    orders: dict[int, np.ndarray] = {}
    # Scratch for a batch's products and residuals, one set per batch size (b, and the smaller last batch of an
    # epoch): writing into them spares an allocation per product. They never leave this generator.
    scratch = {m: (np.empty((m, p)), np.empty(m), np.empty((p, m))) for m in {b, n % b or b}}
    chunk = 1
    max_chunk = max(1, min(_MAX_CHUNK, _MAX_CHUNK_ROWS // b))
    while step < max_steps:
        k = min(chunk, max_steps - step)
        chunk = min(2 * chunk, max_chunk)
        rows, bounds = _chunk_rows(n, b, seed, step, k, orders)
        Xc = np.take(X1, rows, axis=0)  # (rows, p): each row of a batch contiguous
        yc = np.take(y, rows)
        if len(rows) == k * b:  # every batch of the chunk has b rows (no epoch's short last batch)
            Xc = Xc.reshape(k, b, p)
            # (k, p, b): each column of a batch contiguous, times 2/b (exact for b = 1, 2, 4, ..)
            batches = zip(Xc, yc.reshape(k, b), multiply(Xc.transpose(0, 2, 1), 2.0 / b, order="C"), strict=True)
        else:
            # (p, rows): each column of a batch contiguous, times 2/m for its batch of m rows
            sizes = np.diff(bounds)
            XTc = multiply(Xc.T, np.repeat(2.0 / sizes, sizes), order="C")
            starts = bounds.tolist()
            batches = ((Xc[lo:hi], yc[lo:hi], XTc[:, lo:hi]) for lo, hi in itertools.pairwise(starts))
        w_before = w
        ws, ss = [], []
        with np.errstate(all="ignore"):
            # Each sum runs along one contiguous row (NumPy's pairwise add.reduce), in the batch's order:
            # the same bits whatever the chunk and the CPU.
            for xb, yb, xtb in batches:
                products, r, weighted = scratch[len(yb)]
                r = subtract(reduce(multiply(xb, w, out=products), -1, None, r), yb, out=r)  # batch residuals
                g = reduce(multiply(xtb, r, out=weighted), -1)  # sum over the batch of (2/m) x_i r_i
                u, s = update(g, s, w)
                w = w + u
                ws.append(w)
                ss.append(s)
            W = np.array(ws)
            G = matvec(gram2, W) - moment2  # full-data grads: Problem.grad's expression, row by row
            D = W - np.vstack([w_before, W[:-1]])
            norms = np.sqrt(row_dot(D, D))
            losses = problem.loss(W)
            finite = np.isfinite(losses) & np.isfinite(W).all(axis=1)
            rates = _rates(schedule, step, k)
        yield Chunk(ws, G, ss, W, losses, norms, rates, finite)
        step += k


def _chunk_states(step, chunk: Chunk, tol, max_steps):
    """Yield the States of one computed chunk (updates ``step + 1 ..``) with their stop rules.

    Returns the step after the chunk, or None once a State is not RUNNING (the run is over).
    """
    ws, grads, opt_states, norms = chunk.params, chunk.grads, chunk.opt_states, chunk.update_norm
    converged = norms < tol  # all False when tol == 0
    for i, (loss, norm, rate, ok, conv) in enumerate(
        zip(chunk.loss.tolist(), norms.tolist(), chunk.learning_rate.tolist(), chunk.finite.tolist(),
            converged.tolist(), strict=True)
    ):  # fmt: skip
        step += 1
        if not ok:
            status = Status.DIVERGED
        elif conv:
            status = Status.CONVERGED
        elif step >= max_steps:
            status = Status.MAX_STEPS
        else:
            status = Status.RUNNING
        yield State(step, ws[i], grads[i], loss, norm, rate, opt_states[i], status)
        if status is not Status.RUNNING:
            return None
    return step


def _rates(schedule, count: int, k: int) -> np.ndarray:
    """The rates of updates ``count .. count + k - 1``, each from ``schedule(int)`` as the update called it.

    A schedule called with an array may take another path (NumPy's SIMD power is not libm's), so the
    reported rate would not always be the one used.
    """
    if schedule is None:
        return np.full(k, np.nan)
    if schedule.name == "constant":
        return np.full(k, schedule.kwargs[0][1])
    return np.array([schedule(c) for c in range(count, count + k)], dtype=float)


def collect(states: Iterable[State]) -> Trajectory:
    """Stack States (e.g. a whole ``run``) into a Trajectory, in one pass and without a list of States.

    Raises:
        InputError: when ``states`` is empty.
    """
    it = iter(states)
    first = next(it, None)
    if first is None:
        raise InputError("collect needs at least one State; got an empty sequence.")
    p = np.size(first.params)
    cap = 1024
    step = np.empty(cap, dtype=np.int64)
    params = np.empty((cap, p))
    grads = np.empty((cap, p))
    loss = np.empty(cap)
    update_norm = np.empty(cap)
    learning_rate = np.empty(cap)
    buffers = (step, params, grads, loss, update_norm, learning_rate)
    n = 0
    last = first
    for st in itertools.chain((first,), it):
        if n == cap:
            cap *= 2
            for a in buffers:
                a.resize((cap,) + a.shape[1:], refcheck=False)
        step[n] = st.step
        params[n] = st.params
        grads[n] = st.grads
        loss[n] = st.loss
        update_norm[n] = st.update_norm
        learning_rate[n] = st.learning_rate
        last = st
        n += 1
    for a in buffers:
        a.resize((n,) + a.shape[1:], refcheck=False)
    return Trajectory(step, params, grads, loss, update_norm, learning_rate, last.status, last)
