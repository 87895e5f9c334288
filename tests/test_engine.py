"""Tests for gdviz.engine: the Problem's maths against naive formulas, and run()'s step and stop semantics.

Oracles: finite differences, the textbook mean squared error on the raw rows, exact Decimal arithmetic,
np.linalg.lstsq and scikit-learn's LinearRegression, and descent loops written here.
"""

from __future__ import annotations

import itertools
import os
import pickle
import platform
import subprocess
import sys
import warnings
from decimal import Decimal, localcontext
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LinearRegression

import gdviz
from gdviz import engine
from gdviz import optimizers as opt
from gdviz.data import make_problem, synthetic_line
from gdviz.engine import Problem, State, Status, Trajectory, collect, run
from tests.conftest import build_problems


def design(X):
    return np.column_stack([np.ones(len(X)), X])


def hessian(X):
    X1 = design(X)
    return 2.0 / len(X) * X1.T @ X1


def naive_loss(X, y, w):
    return float(np.mean((design(X) @ w - y) ** 2))


def exact_loss(X, y, w) -> Decimal:
    """mean((X1 w - y)^2) in exact decimal arithmetic on the given floats."""
    with localcontext() as ctx:
        ctx.prec = 80
        wd = [Decimal(float(v)) for v in w]
        total = Decimal(0)
        for row, target in zip(X, y, strict=True):
            r = wd[0] + sum((Decimal(float(a)) * b for a, b in zip(row, wd[1:], strict=True)), Decimal(0))
            r -= Decimal(float(target))
            total += r * r
        return total / len(y)


@pytest.fixture(scope="module")
def problems(line_xy, diabetes_xy, random_xy):
    """name -> (X as the problem sees it, y, problem)."""
    return build_problems(line_xy, diabetes_xy, random_xy, {1: 35, 2: 45, 3: 55})


PROBLEM_NAMES = ["line", "diabetes_standard", "random1", "random2", "random3"]


# --------------------------------------------------------------------------------------------
# Loss, gradient and Hessian
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PROBLEM_NAMES)
def test_loss_matches_naive_mean_squared_error(name, problems):
    X, y, problem = problems[name]
    rng = np.random.default_rng(0)
    W = problem.solution() + rng.normal(scale=3.0, size=(7, problem.n_params))
    for w in W:
        assert problem.loss(w) == pytest.approx(naive_loss(X, y, w), rel=1e-11, abs=0)
    # Batched over leading axes.
    batch = problem.loss(W.reshape(7, 1, -1))
    assert batch.shape == (7, 1)
    np.testing.assert_allclose(batch[:, 0], [naive_loss(X, y, w) for w in W], rtol=1e-11)
    assert problem.loss(np.zeros(problem.n_params)) == pytest.approx(np.mean(y**2), rel=1e-12, abs=0)


@pytest.mark.parametrize("name", PROBLEM_NAMES)
def test_grad_matches_central_differences(name, problems):
    X, y, problem = problems[name]
    rng = np.random.default_rng(1)
    h = 1e-3
    for w in (np.zeros(problem.n_params), problem.solution() + rng.normal(size=problem.n_params)):
        fd = np.empty(problem.n_params)
        for i in range(problem.n_params):
            e = np.zeros(problem.n_params)
            e[i] = h
            fd[i] = (problem.loss(w + e) - problem.loss(w - e)) / (2 * h)
        g = problem.grad(w)
        np.testing.assert_allclose(g, fd, rtol=1e-7, atol=1e-7 * np.abs(fd).max())
        # And the textbook formula on the raw rows.
        np.testing.assert_allclose(g, 2.0 / len(y) * design(X).T @ (design(X) @ w - y), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", PROBLEM_NAMES)
def test_hessian_matches_differences_of_grad(name, problems):
    X, y, problem = problems[name]
    H = problem.hessian()
    p = problem.n_params
    w = np.linspace(-1.0, 1.0, p)
    fd = np.column_stack([(problem.grad(w + 0.5 * e) - problem.grad(w - 0.5 * e)) for e in np.eye(p)])
    np.testing.assert_allclose(H, fd, rtol=1e-9, atol=1e-9 * np.abs(H).max())
    np.testing.assert_allclose(H, hessian(X), rtol=1e-12, atol=1e-12 * np.abs(H).max())
    np.testing.assert_array_equal(H, H.T)


def test_loss_is_accurate_next_to_an_exact_fit():
    # Noise-free data: J* is ~0, so J(w* + delta) is the tiny quadratic form itself. A formula such as
    # c - 2 b.w + w.A.w would bury it under round-off of the size of mean(y**2) * 1e-16.
    ds = synthetic_line(noise=0.0)
    X, y = np.array(ds.X), np.array(ds.y)
    problem = make_problem(X, y)
    v = np.array([0.6, -0.8])
    for size in (1e-9, 1e-7, 1e-4):
        w = problem.solution() + size * v
        exact = float(exact_loss(X, y, w))
        assert exact > 0
        assert problem.loss(w) == pytest.approx(exact, rel=1e-5, abs=0)
    assert problem.loss(problem.solution()) < 1e-25


@pytest.mark.parametrize("name", ["line", "random2"])
def test_loss_excess_is_accurate_near_a_noisy_optimum(name, problems):
    X, y, problem = problems[name]
    w_star = problem.solution()
    rng = np.random.default_rng(2)
    v = rng.normal(size=problem.n_params)
    v /= np.linalg.norm(v)
    j_star = exact_loss(X, y, w_star)
    assert problem.loss(w_star) == pytest.approx(float(j_star), rel=1e-13, abs=0)
    for size in (1e-5, 1e-3):
        w = w_star + size * v
        exact_excess = float(exact_loss(X, y, w) - j_star)
        got = problem.loss(w) - problem.loss(w_star)
        assert got == pytest.approx(exact_excess, rel=1e-3, abs=0)


# --------------------------------------------------------------------------------------------
# The optimum: closed form and plain GD against lstsq and scikit-learn
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PROBLEM_NAMES)
def test_solution_and_gd_reach_lstsq_and_sklearn(name, problems):
    X, y, problem = problems[name]
    w_lstsq, *_ = np.linalg.lstsq(design(X), y, rcond=None)
    model = LinearRegression().fit(X, y)
    w_sklearn = np.concatenate([[model.intercept_], model.coef_])
    scale = np.abs(w_lstsq).max()
    np.testing.assert_allclose(w_sklearn, w_lstsq, rtol=1e-9, atol=1e-10 * scale)  # the two oracles agree

    np.testing.assert_allclose(problem.solution(), w_lstsq, rtol=1e-9, atol=1e-10 * scale)

    lam_max = np.linalg.eigvalsh(hessian(X))[-1]
    traj = collect(run(problem, opt.gd(1.0 / lam_max), tol=1e-12, max_steps=100_000))
    assert traj.status is Status.CONVERGED
    np.testing.assert_allclose(traj.params[-1], w_lstsq, rtol=1e-7, atol=1e-8 * scale)
    np.testing.assert_allclose(traj.params[-1], w_sklearn, rtol=1e-7, atol=1e-8 * scale)
    assert traj.loss[-1] == pytest.approx(naive_loss(X, y, w_lstsq), rel=1e-10, abs=0)


def test_solution_is_a_copy(problems):
    _, _, problem = problems["line"]
    w = problem.solution()
    w[:] = 0.0
    assert np.all(problem.solution() != 0.0)


# --------------------------------------------------------------------------------------------
# run(): step 0, stop rules
# --------------------------------------------------------------------------------------------


def test_step_zero_is_the_start(problems):
    X, y, problem = problems["random2"]
    first = next(run(problem, opt.gd(0.01)))
    assert first.step == 0
    np.testing.assert_array_equal(first.params, np.zeros(problem.n_params))
    assert first.loss == pytest.approx(np.mean(y**2), rel=1e-12, abs=0)
    np.testing.assert_allclose(first.grads, -2.0 / len(y) * design(X).T @ y, rtol=1e-12)
    assert np.isnan(first.update_norm) and np.isnan(first.learning_rate)
    assert first.status is Status.RUNNING


def test_step_zero_uses_init_params_without_aliasing(problems):
    X, y, problem = problems["random2"]
    w0 = np.arange(problem.n_params, dtype=float)
    gen = run(problem, opt.gd(0.01), init_params=w0)
    w0[:] = 99.0  # the caller reusing its array must not move the run's start
    first = next(gen)
    np.testing.assert_array_equal(first.params, np.arange(problem.n_params, dtype=float))
    assert first.loss == pytest.approx(naive_loss(X, y, first.params), rel=1e-12, abs=0)
    # A list is fine too.
    assert next(run(problem, opt.gd(0.01), init_params=list(range(problem.n_params)))).params.dtype == np.float64


def naive_gd_until(X, y, lr, tol, max_steps):
    """Plain GD on the raw rows with the stop rule ||w_t - w_{t-1}|| < tol; returns (steps, norms, ws)."""
    X1 = design(X)
    n = len(y)
    w = np.zeros(X1.shape[1])
    norms, ws = [], [w]
    for t in range(1, max_steps + 1):
        w_new = w - lr * (2.0 / n) * X1.T @ (X1 @ w - y)
        norms.append(float(np.linalg.norm(w_new - w)))
        w = w_new
        ws.append(w)
        if norms[-1] < tol:
            return t, np.array(norms), np.array(ws)
    return max_steps, np.array(norms), np.array(ws)


@pytest.mark.parametrize("name", ["line", "random1", "random3"])
@pytest.mark.parametrize("stop_after", [1, 7, 60])
def test_converged_counts_the_update_that_met_tol(name, stop_after, problems):
    X, y, problem = problems[name]
    lr = 0.5 / np.linalg.eigvalsh(hessian(X))[-1]
    _, norms, _ = naive_gd_until(X, y, lr, 0.0, stop_after + 1)
    # A tol strictly between the norms of updates stop_after and stop_after + 1 (1-based), far from both.
    tol = float(np.sqrt(norms[stop_after - 1] * norms[stop_after]))
    steps, _, ws = naive_gd_until(X, y, lr, tol, 10_000)
    assert steps == stop_after + 1

    states = list(run(problem, opt.gd(lr), tol=tol, max_steps=10_000))
    assert [s.step for s in states] == list(range(steps + 1))
    assert states[-1].status is Status.CONVERGED
    assert all(s.status is Status.RUNNING for s in states[:-1])
    assert states[-1].update_norm < tol
    assert all(s.update_norm >= tol for s in states[1:-1])
    for state, w in zip(states, ws, strict=True):
        np.testing.assert_allclose(state.params, w, rtol=1e-11, atol=1e-12)


def test_converged_on_the_very_first_update(problems):
    _, _, problem = problems["line"]
    states = list(run(problem, opt.gd(1e-6), tol=1.0))
    assert [s.step for s in states] == [0, 1]
    assert states[-1].status is Status.CONVERGED


def test_tol_zero_runs_to_max_steps_even_at_a_fixed_point(problems):
    _, _, problem = problems["line"]
    lam_max = np.linalg.eigvalsh(problem.hessian())[-1]
    traj = collect(run(problem, opt.gd(1.0 / lam_max), tol=0, max_steps=6_000))
    assert traj.status is Status.MAX_STEPS
    assert traj.step[-1] == 6_000
    assert traj.n_states == 6_001
    np.testing.assert_array_equal(traj.step, np.arange(6_001))
    assert np.any(traj.update_norm[1:] == 0.0)  # it reached a floating-point fixed point and went on


def test_max_steps_zero_yields_only_the_start(problems):
    _, _, problem = problems["line"]
    states = list(run(problem, opt.gd(0.01), max_steps=0))
    assert len(states) == 1
    assert states[0].step == 0
    assert states[0].status is Status.MAX_STEPS


def test_max_steps_status_on_the_last_state(problems):
    _, _, problem = problems["line"]
    states = list(run(problem, opt.gd(0.001), tol=1e-300, max_steps=17))
    assert [s.step for s in states] == list(range(18))
    assert states[-1].status is Status.MAX_STEPS
    assert all(s.status is Status.RUNNING for s in states[:-1])


def safe_naive_loss(X1, y, w):
    """mean(r**2) computed so that it overflows only when the true value exceeds float64's range."""
    r = X1 @ w - y
    if not np.all(np.isfinite(r)):
        return np.inf
    m = np.abs(r).max()
    return m * (m * float(np.mean((r / m) ** 2))) if m > 0 else 0.0


@pytest.mark.parametrize("factor", [2.05, 3.0, 50.0])
def test_diverged_at_the_first_non_finite_state(factor, problems):
    X, y, problem = problems["random2"]
    lr = factor / np.linalg.eigvalsh(hessian(X))[-1]
    X1 = design(X)
    n = len(y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        states = list(run(problem, opt.gd(lr), max_steps=1_000_000))
        # The naive oracle: the first step whose true loss or params leave float64.
        w = np.zeros(X1.shape[1])
        with np.errstate(all="ignore"):
            for t in itertools.count(1):
                w = w - lr * (2.0 / n) * X1.T @ (X1 @ w - y)
                if not (np.all(np.isfinite(w)) and np.isfinite(safe_naive_loss(X1, y, w))):
                    first_bad = t
                    break
    last = states[-1]
    assert last.status is Status.DIVERGED
    assert last.step == first_bad
    assert not (np.isfinite(last.loss) and np.all(np.isfinite(last.params)))
    kept = states[:-1]
    assert [s.step for s in states] == list(range(last.step + 1))
    assert all(s.status is Status.RUNNING for s in kept)
    assert all(np.isfinite(s.loss) and np.all(np.isfinite(s.params)) and np.all(np.isfinite(s.grads)) for s in kept)


def test_divergence_leaks_no_runtime_warning(problems):
    _, _, problem = problems["diabetes_standard"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in sorted(opt.OPTIMIZERS):
            rate = 1e3 if name in {"gd", "momentum", "nesterov"} else 1e305
            traj = collect(run(problem, opt.make_optimizer(name, rate), max_steps=20_000))
            assert traj.status is Status.DIVERGED, name
            assert np.all(np.isfinite(traj.loss[:-1])), name


def test_huge_rate_diverges_on_the_first_update_without_warnings(problems):
    _, _, problem = problems["line"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        states = list(run(problem, opt.gd(1e300), max_steps=100))
    assert [s.step for s in states] == [0, 1]
    assert states[-1].status is Status.DIVERGED


@pytest.mark.parametrize(
    ("name", "learning_rate"),
    [
        ("gd", 0.02),
        ("momentum", opt.inverse_time(0.01, 0.05)),
        ("nesterov", 0.005),
        ("adagrad", opt.step_decay(0.5, every=5)),
        ("rmsprop", 0.05),
        ("adam", opt.exponential_decay(0.1, 0.98)),
    ],
)
@pytest.mark.parametrize("split", [1, 37, 300])
def test_resume_continues_exactly(name, learning_rate, split, problems):
    _, _, problem = problems["random3"]
    make = lambda: opt.make_optimizer(name, learning_rate)  # noqa: E731
    whole = list(run(problem, make(), tol=0, max_steps=800))
    head = list(itertools.islice(run(problem, make(), tol=0, max_steps=800), split + 1))
    assert head[-1].step == split
    tail = list(run(problem, make(), tol=0, max_steps=800, start=head[-1]))
    assert [s.step for s in tail] == list(range(split + 1, 801))
    for a, b in zip(whole[split + 1 :], tail, strict=True):
        assert a.step == b.step
        np.testing.assert_array_equal(a.params, b.params)
        np.testing.assert_allclose(a.grads, b.grads, rtol=1e-14, atol=0)
        assert a.loss == pytest.approx(b.loss, rel=1e-13, abs=0)
        assert a.update_norm == pytest.approx(b.update_norm, rel=1e-13, abs=0)
        assert a.learning_rate == b.learning_rate
        assert a.status is b.status


def test_resume_from_a_converged_state_with_a_smaller_tol(problems):
    _, _, problem = problems["line"]
    lr = 0.5 / np.linalg.eigvalsh(problem.hessian())[-1]
    first = list(run(problem, opt.gd(lr), tol=1e-3))
    assert first[-1].status is Status.CONVERGED
    more = list(run(problem, opt.gd(lr), tol=1e-9, start=first[-1]))
    whole = list(run(problem, opt.gd(lr), tol=1e-9))
    assert more[-1].step == whole[-1].step
    np.testing.assert_array_equal(more[-1].params, whole[-1].params)


def test_max_steps_is_a_total_when_resuming(problems):
    _, _, problem = problems["line"]
    head = list(itertools.islice(run(problem, opt.gd(0.01), tol=0), 11))
    tail = list(run(problem, opt.gd(0.01), tol=0, max_steps=15, start=head[-1]))
    assert [s.step for s in tail] == [11, 12, 13, 14, 15]
    assert tail[-1].status is Status.MAX_STEPS
    assert list(run(problem, opt.gd(0.01), tol=0, max_steps=10, start=head[-1])) == []


def test_nothing_follows_a_diverged_state(problems):
    _, _, problem = problems["line"]
    states = list(run(problem, opt.gd(1e300)))
    assert states[-1].status is Status.DIVERGED
    assert list(run(problem, opt.gd(1e300), start=states[-1])) == []


def test_run_is_lazy(problems):
    _, _, problem = problems["line"]
    # With tol=0 and a huge max_steps the full run would never end; taking a few States must be instant.
    taken = list(itertools.islice(run(problem, opt.gd(0.01), tol=0, max_steps=10**12), 5))
    assert [s.step for s in taken] == [0, 1, 2, 3, 4]


# --------------------------------------------------------------------------------------------
# collect()
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("max_steps", [0, 5, 3000])
def test_collect_rows_match_the_states(max_steps, problems):
    _, _, problem = problems["random1"]
    optimizer = opt.adam(opt.inverse_time(0.1, 0.01))
    states = list(run(problem, optimizer, tol=0, max_steps=max_steps))
    traj = collect(iter(states))
    assert isinstance(traj, Trajectory)
    assert traj.n_states == len(states)
    assert traj.step.dtype.kind == "i"
    for i, s in enumerate(states):
        assert traj.step[i] == s.step
        np.testing.assert_array_equal(traj.params[i], s.params)
        np.testing.assert_array_equal(traj.grads[i], s.grads)
        np.testing.assert_array_equal(traj.loss[i], s.loss)
        np.testing.assert_array_equal(traj.update_norm[i], s.update_norm)
        np.testing.assert_array_equal(traj.learning_rate[i], s.learning_rate)
    assert traj.status is states[-1].status
    assert traj.last_state.step == states[-1].step
    np.testing.assert_array_equal(traj.last_state.params, states[-1].params)
    for a in (traj.params, traj.grads, traj.loss, traj.update_norm, traj.learning_rate):
        assert a.dtype == np.float64


def assert_same_trajectory(got: Trajectory, want: Trajectory) -> None:
    """Every array equal bit for bit (dtype and shape too), and the same last State."""
    for field in ("step", "params", "grads", "loss", "update_norm", "learning_rate"):
        a, b = getattr(got, field), getattr(want, field)
        np.testing.assert_array_equal(a, b, err_msg=field, strict=True)
        assert a.tobytes() == b.tobytes(), field  # NaN payloads and signed zeros too
    assert got.status is want.status
    g, w = got.last_state, want.last_state
    assert (type(g.step), type(g.loss), type(g.update_norm), type(g.learning_rate)) == (
        type(w.step), type(w.loss), type(w.update_norm), type(w.learning_rate)
    )  # fmt: skip
    assert (g.step, g.status) == (w.step, w.status)
    for a, b in ((g.params, w.params), (g.grads, w.grads), (g.loss, w.loss), (g.update_norm, w.update_norm),
                 (g.learning_rate, w.learning_rate)):  # fmt: skip
        np.testing.assert_array_equal(a, b, strict=True)
    for a, b in zip(_leaves(g.opt_state), _leaves(w.opt_state), strict=True):
        np.testing.assert_array_equal(a, b, strict=True)


def _leaves(opt_state) -> list:
    """The arrays and numbers of an optimizer state (nested tuples of NamedTuples), in order."""
    if isinstance(opt_state, tuple):
        return [leaf for part in opt_state for leaf in _leaves(part)]
    return [opt_state]


@pytest.mark.parametrize("name", sorted(opt.OPTIMIZERS))
@pytest.mark.parametrize("batch_size", [None, 1, 7])
@pytest.mark.parametrize(("factor", "tol", "max_steps"), [(0.5, 0.0, 700), (0.5, 1e-5, 5000), (1.9, 1e-9, 300),
                                                          (2.5, 0.0, 3000), (0.5, 0.0, 0), (0.5, 0.0, 1)])  # fmt: skip
def test_trajectory_is_collect_of_run_bit_for_bit(name, batch_size, factor, tol, max_steps, problems):
    _, _, problem = problems["random2"]
    lam_max = np.linalg.eigvalsh(problem.hessian())[-1]
    rate = opt.inverse_time(factor / lam_max, 0.001) if name == "gd" else factor / lam_max
    optimizer = opt.make_optimizer(name, rate)
    init = np.linspace(-3, 3, problem.n_params)
    kwargs = dict(tol=tol, max_steps=max_steps, batch_size=batch_size, seed=4, init_params=init)
    want = collect(run(problem, optimizer, **kwargs))
    assert_same_trajectory(engine.trajectory(problem, optimizer, **kwargs), want)


def test_trajectory_resumes_as_collect_of_run(problems):
    _, _, problem = problems["diabetes_standard"]
    optimizer = opt.adam(0.3)
    for batch_size in (None, 32):
        states = list(run(problem, optimizer, tol=0, max_steps=400, batch_size=batch_size, seed=2))
        for mid in (states[0], states[1], states[137], states[-2]):
            kwargs = dict(tol=1e-6, max_steps=900, start=mid, batch_size=batch_size, seed=2)
            want = collect(run(problem, optimizer, **kwargs))
            assert_same_trajectory(engine.trajectory(problem, optimizer, **kwargs), want)
        with pytest.raises(gdviz.InputError, match="at least one State"):  # nothing follows the last State
            engine.trajectory(problem, optimizer, tol=0, max_steps=400, start=states[-1], batch_size=batch_size)
    diverged = collect(run(problem, opt.gd(1e4), max_steps=1000))
    assert diverged.status is Status.DIVERGED
    with pytest.raises(gdviz.InputError, match="at least one State"):
        engine.trajectory(problem, opt.gd(1e4), max_steps=1000, start=diverged.last_state)
    with pytest.raises(gdviz.InputError, match="'tol' parameter of run"):
        engine.trajectory(problem, optimizer, tol=-1.0)


@pytest.mark.parametrize(("tol", "max_steps"), [(0.0, 600), (1e-6, 20_000), (1e-3, 3000), (0.0, 1), (0.0, 0)])
def test_lockstep_runs_are_collect_of_run_bit_for_bit(tol, max_steps, problems):
    """Runs that converge, diverge and run to max_steps at different steps, side by side: each as run alone."""
    _, _, problem = problems["diabetes_standard"]
    lam_max = np.linalg.eigvalsh(problem.hessian())[-1]
    optimizers = [opt.make_optimizer(name, 0.9 / lam_max) for name in sorted(opt.OPTIMIZERS)]
    optimizers += [opt.gd(5.0 / lam_max), opt.adam(opt.exponential_decay(0.5, 0.99, 7)), opt.momentum(0.1 / lam_max)]
    starts = [np.linspace(-1, 1 + k, problem.n_params) for k in range(len(optimizers))]
    runners = [
        engine.runner(problem, o, init_params=w, max_steps=max_steps) for o, w in zip(optimizers, starts, strict=True)
    ]
    trajs, seconds = engine.lockstep(problem, runners, tol=tol, max_steps=max_steps)
    statuses = set()
    for o, w, traj, sec in zip(optimizers, starts, trajs, seconds, strict=True):
        assert_same_trajectory(traj, collect(run(problem, o, init_params=w, tol=tol, max_steps=max_steps)))
        assert sec >= 0
        statuses.add(traj.status)
    if max_steps == 600:
        assert statuses == {Status.DIVERGED, Status.MAX_STEPS}
    if max_steps == 20_000:
        assert {Status.DIVERGED, Status.CONVERGED} <= statuses


def test_lockstep_rejects_bad_input(problems):
    _, _, problem = problems["line"]
    optimizer = opt.gd(0.1)
    first = next(run(problem, optimizer))
    later = list(itertools.islice(run(problem, optimizer, tol=0), 3))[-1]
    with pytest.raises(gdviz.InputError, match="'tol' parameter of run"):
        engine.lockstep(problem, [engine.runner(problem, optimizer)], tol=-1.0)
    with pytest.raises(gdviz.InputError, match="'max_steps' parameter of run"):
        engine.runner(problem, optimizer, max_steps=-1)
    with pytest.raises(gdviz.InputError, match="'init_params'"):
        engine.runner(problem, optimizer, init_params=[1.0, 2.0, 3.0])
    with pytest.raises(gdviz.InputError, match="start at step 0"):
        engine.lockstep(problem, [engine.runner(problem, optimizer), engine.Runner(later, optimizer.update, None)])
    assert first.step == 0
    assert engine.lockstep(problem, []) == ([], [])


def test_collect_of_a_diverged_run_keeps_status_and_finite_prefix(problems):
    _, _, problem = problems["line"]
    traj = collect(run(problem, opt.gd(10.0)))
    assert traj.status is Status.DIVERGED
    assert np.all(np.isfinite(traj.loss[:-1]))
    assert not np.isfinite(traj.loss[-1]) or not np.all(np.isfinite(traj.params[-1]))


def test_collect_of_an_empty_sequence_is_an_input_error():
    with pytest.raises(gdviz.InputError, match="at least one State"):
        collect([])


def test_long_trajectory_memory(random_xy):
    X, y = random_xy(4, n_samples=50, n_features=8)
    problem = make_problem(X, y, scaling="standard")
    assert problem.n_params == 9
    traj = collect(run(problem, opt.gd(1e-3), tol=0, max_steps=100_000))
    assert traj.n_states == 100_001
    assert traj.status is Status.MAX_STEPS
    assert traj.nbytes < 30e6
    arrays = (traj.step, traj.params, traj.grads, traj.loss, traj.update_norm, traj.learning_rate)
    assert sum(a.nbytes for a in arrays) == traj.nbytes


# --------------------------------------------------------------------------------------------
# Input errors of run()
# --------------------------------------------------------------------------------------------


def test_negative_tol_is_an_input_error(problems):
    _, _, problem = problems["line"]
    for bad in (-1e-6, float("nan"), "small"):
        with pytest.raises(
            gdviz.InputError, match=r"The 'tol' parameter of run must be a float in the range \[0, inf\)"
        ):
            run(problem, opt.gd(0.01), tol=bad)


def test_negative_max_steps_is_an_input_error(problems):
    _, _, problem = problems["line"]
    for bad in (-1, 2.5, float("inf"), "10", True):
        with pytest.raises(gdviz.InputError, match=r"The 'max_steps' parameter of run must be an int in the range"):
            run(problem, opt.gd(0.01), max_steps=bad)


def test_bad_init_params_is_an_input_error(problems):
    _, _, problem = problems["line"]
    with pytest.raises(gdviz.InputError, match=r"The 'init_params' parameter of run must have shape \(2,\)") as exc:
        run(problem, opt.gd(0.01), init_params=np.zeros(3))
    assert "intercept" in str(exc.value)
    with pytest.raises(gdviz.InputError, match="The 'init_params' parameter of run must be finite"):
        run(problem, opt.gd(0.01), init_params=[0.0, np.nan])
    with pytest.raises(gdviz.InputError, match="The 'init_params' parameter of run must be an array of floats"):
        run(problem, opt.gd(0.01), init_params=["a", "b"])


def test_wrong_types_are_input_errors(problems):
    _, _, problem = problems["line"]
    with pytest.raises(gdviz.InputError, match="The 'problem' parameter of run must be a Problem"):
        run("problem", opt.gd(0.01))
    with pytest.raises(gdviz.InputError, match="The 'optimizer' parameter of run must be an Optimizer"):
        run(problem, 0.01)
    with pytest.raises(gdviz.InputError, match="The 'start' parameter of run must be a State"):
        run(problem, opt.gd(0.01), start={"step": 3})


def test_problem_arrays_are_read_only(problems):
    _, _, problem = problems["line"]
    assert isinstance(problem, Problem)
    for a in (problem.gram, problem.moment, problem.optimum, problem.X1, problem.y):
        with pytest.raises(ValueError):
            a[0] = 1.0


def test_states_are_states(problems):
    _, _, problem = problems["line"]
    states = list(run(problem, opt.gd(0.1), max_steps=3))
    assert all(isinstance(s, State) for s in states)
    assert all(isinstance(s.status, Status) and isinstance(s.loss, float) for s in states)


# --------------------------------------------------------------------------------------------
# Properties on random well-posed problems
# --------------------------------------------------------------------------------------------


@st.composite
def well_posed(draw):
    """(X, y) with 1-4 features, bounded values and a bounded condition number of the Hessian."""
    d = draw(st.integers(1, 4))
    n = draw(st.integers(d + 3, 12))
    seed = draw(st.integers(0, 2**32 - 1))
    spread = np.array(draw(st.lists(st.floats(0.5, 2.0), min_size=d, max_size=d)))
    centre = np.array(draw(st.lists(st.floats(-2.0, 2.0), min_size=d, max_size=d)))
    rng = np.random.default_rng(seed)
    X = centre + spread * rng.standard_normal((n, d))
    y = rng.uniform(-5, 5) + X @ rng.uniform(-3, 3, d) + draw(st.floats(0.0, 1.0)) * rng.standard_normal(n)
    eig = np.linalg.eigvalsh(hessian(X))
    assume(eig[0] > 0 and eig[-1] / eig[0] < 300)
    return X, y


PROPERTY_SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(well_posed())
def test_property_gd_at_half_inverse_lambda_max_reaches_lstsq(xy):
    X, y = xy
    problem = make_problem(X, y)
    eig = np.linalg.eigvalsh(hessian(X))
    tol = 1e-10
    traj = collect(run(problem, opt.gd(0.5 / eig[-1]), tol=tol, max_steps=200_000))
    assert traj.status is Status.CONVERGED
    w_lstsq, *_ = np.linalg.lstsq(design(X), y, rcond=None)
    # Stopping at ||u|| < tol leaves an error of at most ||u|| / (lr * lambda_min) = 2 cond tol.
    bound = 2 * eig[-1] / eig[0] * tol
    assert np.linalg.norm(traj.params[-1] - w_lstsq) <= bound + 1e-9 * np.linalg.norm(w_lstsq)


@PROPERTY_SETTINGS
@given(well_posed(), st.floats(0.01, 1.0))
def test_property_loss_never_increases_below_inverse_lambda_max(xy, fraction):
    X, y = xy
    problem = make_problem(X, y)
    lam_max = np.linalg.eigvalsh(hessian(X))[-1]
    traj = collect(run(problem, opt.gd(fraction / lam_max), tol=0, max_steps=300))
    slack = 1e-12 * traj.loss[0]
    assert np.all(np.diff(traj.loss) <= slack)
    assert traj.loss[-1] < traj.loss[0]


@pytest.mark.parametrize("field", ["tol", "max_steps"])
def test_numbers_given_as_text_are_rejected(field):
    ds = gdviz.data.synthetic_line()
    problem = gdviz.data.make_problem(ds.X, ds.y)
    with pytest.raises(gdviz.InputError, match=f"'{field}' parameter of run"):
        gdviz.engine.run(problem, gdviz.optimizers.gd(0.01), **{field: "1"})


# ----------------------------------------------------------------------------------------------
# Reproducible on every machine: the same bits whatever the chunking, BLAS kernel or SIMD level.
# Oracles: the same run in fresh processes that each get another BLAS kernel (OPENBLAS_CORETYPE: OpenBLAS
# picks kernels by CPU, so these stand in for other CPUs) or fewer SIMD extensions (NPY_DISABLE_CPU_FEATURES);
# and, in this process, every State computed again one at a time.
# ----------------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]

# Runs every part of the engine's arithmetic: a decaying schedule (reported rates), Adam (bias terms),
# momentum, several params (matvec over more than one row), a divergent run, mini-batch runs (batch sizes 1,
# 7 and 32, the last batch of each epoch smaller) and a learning-rate sweep.
# A Problem pickled in the parent (so the runs start from the same bits) and Problems built in each process.
_SCRIPT = r"""
import hashlib, pickle, sys
import numpy as np
from gdviz import engine, analysis
from gdviz import optimizers as opt

with open(sys.argv[1], "rb") as f:
    problem = pickle.load(f)
h = hashlib.sha256()
for o in (opt.gd(0.3), opt.gd(opt.inverse_time(0.9, 0.01)), opt.momentum(0.05, 0.9), opt.adam(0.1),
          opt.rmsprop(opt.inverse_scaling(0.05)), opt.gd(4.0)):
    traj = engine.collect(engine.run(problem, o, tol=1e-9, max_steps=3000))
    for a in traj[:6]:
        h.update(np.ascontiguousarray(a).tobytes())
    h.update(traj.status.value.encode())
for o, b, seed in ((opt.gd(0.05), 1, 0), (opt.momentum(0.02, 0.9), 7, 3), (opt.adam(0.05), 32, 11)):
    traj = engine.collect(engine.run(problem, o, tol=1e-9, max_steps=2000, batch_size=b, seed=seed))
    for a in traj[:6]:
        h.update(np.ascontiguousarray(a).tobytes())
sweep = analysis.lr_sweep(problem, np.geomspace(1e-3, 3.0, 50), tol=1e-7, max_steps=500)
h.update(sweep.steps.tobytes()); h.update(sweep.final_loss.tobytes())
# Problems built here too: the moments and the optimum are computed without BLAS or LAPACK as well.
from gdviz import data, runs
from gdviz.config import RunConfig
diabetes = data.load_dataset("diabetes")
built = [data.make_problem(diabetes.X, diabetes.y, scaling=s) for s in ("none", "standard", "minmax")]
configs = ({}, {"x_loc": 9e5, "x_scale": 1e3}, {"dataset": "diabetes"})
built += [runs.one_feature_problem(RunConfig(**c)) for c in configs]
for p in built:
    for a in (p.gram, p.moment, p.optimum, p.residual, np.float64(p.optimum_loss)):
        h.update(np.ascontiguousarray(a).tobytes())
    traj = engine.collect(engine.run(p, opt.gd(1.0 / np.abs(p.gram).sum()), tol=1e-9, max_steps=500))
    h.update(traj.loss.tobytes())
print(h.hexdigest())
"""


def _flags() -> set[str]:
    try:
        return set(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        return set()


def _environments() -> list[tuple[str, dict[str, str]]]:
    """Named environments this CPU can run: OpenBLAS kernels it supports, NumPy without its wider SIMD."""
    flags = _flags()
    envs: list[tuple[str, dict[str, str]]] = [("no OPENBLAS_CORETYPE", {})]
    for core, need in (
        ("Prescott", "pni"),
        ("Nehalem", "sse4_2"),
        ("Sandybridge", "avx"),
        ("Haswell", "avx2"),
        ("SkylakeX", "avx512f"),
    ):
        if need in flags:
            envs.append((f"OPENBLAS_CORETYPE={core}", {"OPENBLAS_CORETYPE": core}))
    from numpy._core._multiarray_umath import __cpu_features__ as features  # what NumPy found on this CPU

    wide = [f for f in ("AVX512_SPR", "AVX512_ICL", "AVX512_SKX", "X86_V4", "X86_V3") if features.get(f)]
    if wide:
        envs.append(("NumPy at its baseline SIMD", {"NPY_DISABLE_CPU_FEATURES": " ".join(wide)}))
    return envs


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="the kernels named here are x86-64's")
def test_a_run_has_the_same_bits_under_every_blas_kernel_and_simd_level(tmp_path):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(200, 9)) * np.logspace(-1, 2, 9)
    problem = make_problem(X, X @ rng.normal(size=9) + rng.normal(size=200), scaling="standard")
    pickled = tmp_path / "problem.pkl"
    pickled.write_bytes(pickle.dumps(problem))
    results = {}
    for name, extra in _environments():
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENBLAS_CORETYPE", "NPY_DISABLE"))}
        env.update(extra)
        env["PYTHONPATH"] = str(ROOT)
        out = subprocess.run(
            [sys.executable, "-c", _SCRIPT, str(pickled)],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert out.returncode == 0, f"{name}: {out.stderr[-2000:]}"
        results[name] = out.stdout.strip().splitlines()[-1]
    assert len(results) >= 3, results  # at least two kernels besides the default
    assert len(set(results.values())) == 1, results


def _problem(seed: int, n_features: int):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(60, n_features)) * np.logspace(0, 1.5, n_features)
    return make_problem(X, X @ rng.normal(size=n_features) + rng.normal(size=60), scaling="none")


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    seed=st.integers(0, 10_000),
    n_features=st.integers(1, 12),
    name=st.sampled_from(sorted(opt.OPTIMIZERS)),
    split=st.integers(1, 300),
)
def test_states_one_at_a_time_equal_the_chunked_run(seed, n_features, name, split):
    """Resuming after every single State (chunks of 1) gives the bits of one run (chunks up to 256)."""
    problem = _problem(seed, n_features)
    lam_max = np.linalg.eigvalsh(problem.hessian())[-1]
    optimizer = opt.make_optimizer(name, 1.5 / lam_max)
    whole = engine.collect(engine.run(problem, optimizer, tol=0, max_steps=400))
    state = next(engine.run(problem, optimizer, tol=0, max_steps=400))
    states = [state]
    while state.status is engine.Status.RUNNING:
        state = next(engine.run(problem, optimizer, tol=0, max_steps=400, start=state))
        states.append(state)
        if len(states) == split:  # one resume with a chunk of many States in the middle
            states.extend(engine.run(problem, optimizer, tol=0, max_steps=400, start=state))
            state = states[-1]
    one_by_one = engine.collect(states)
    for field in ("step", "params", "grads", "loss", "update_norm", "learning_rate"):
        np.testing.assert_array_equal(getattr(one_by_one, field), getattr(whole, field), err_msg=field, strict=True)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    matrix=st.integers(1, 20).flatmap(lambda p: st.tuples(st.just(p), st.integers(1, 300), st.integers(0, 2**32 - 1)))
)
def test_fixed_order_products_do_not_depend_on_the_batch(matrix):
    p, k, seed = matrix
    rng = np.random.default_rng(seed)
    M = rng.normal(size=(p, p)) * 10.0 ** rng.uniform(-6, 6, size=(p, p))
    W = rng.normal(size=(k, p)) * 10.0 ** rng.uniform(-6, 6, size=(k, p))
    for i in {0, k // 2, k - 1}:
        np.testing.assert_array_equal(engine.matvec(M, W)[i], engine.matvec(M, W[i]))
        np.testing.assert_array_equal(engine.row_matmul(W, M)[i], engine.row_matmul(W[i], M))
        np.testing.assert_array_equal(engine.row_dot(W, W)[i], engine.row_dot(W[i], W[i]))
    # and they are the products they say they are
    np.testing.assert_allclose(engine.matvec(M, W), W @ M.T, rtol=1e-9, atol=1e-9 * np.abs(W).max() * np.abs(M).max())
    np.testing.assert_allclose(engine.row_matmul(W, M), W @ M, rtol=1e-9, atol=1e-9 * np.abs(W).max() * np.abs(M).max())


# ----------------------------------------------------------------------------------------------
# Mini-batches
# Oracles: each row's gradient and each batch's mean-squared-error gradient computed here from X1 and y with
# numpy, which row a batch-of-one update used identified from the update itself, and the full-batch run.
# ----------------------------------------------------------------------------------------------


def row_gradients(X, y, w):
    """Array of shape (n_samples, n_params): row i's gradient 2 (x_i.w - y_i) x_i of (x_i.w - y_i)^2."""
    X1 = design(X)
    return 2.0 * (X1 @ w - y)[:, None] * X1


@pytest.mark.parametrize("name", ["random1", "random2"])
def test_batch_of_one_updates_are_single_row_gradients_visiting_each_row_once_per_epoch(name, problems):
    X, y, problem = problems[name]
    n = len(y)
    lr = 1e-4 / np.linalg.eigvalsh(hessian(X))[-1]
    traj = collect(run(problem, opt.gd(lr), tol=0, max_steps=2 * n, batch_size=1, seed=5))
    used = []
    for t in range(1, 2 * n + 1):
        update = traj.params[t] - traj.params[t - 1]
        candidates = -lr * row_gradients(X, y, traj.params[t - 1])  # every row's update from here
        dist = np.linalg.norm(candidates - update, axis=1)
        i = int(np.argmin(dist))
        assert dist[i] <= 1e-10 * np.linalg.norm(update), t
        assert np.sort(dist)[1] > 1e-6 * np.linalg.norm(update)  # no other row fits
        used.append(i)
        np.testing.assert_allclose(update, candidates[i], rtol=1e-10, atol=1e-14 * np.abs(traj.params[t]).max())
    assert sorted(used[:n]) == list(range(n))  # the first n updates visit every row exactly once
    assert sorted(used[n:]) == list(range(n))  # and so does the next epoch
    assert used[:n] != used[n:]  # in a fresh order
    assert used[:n] == np.random.default_rng(5).permutation(n).tolist()  # epoch 0: default_rng(seed)'s shuffle
    assert used == [int(engine.batch_rows(n, 1, 5, c)[0]) for c in range(2 * n)]


@pytest.mark.parametrize(("batch_size", "seed"), [(7, 0), (10, 3), (32, 9)])
def test_each_update_is_the_batch_mean_squared_error_gradient(batch_size, seed, problems):
    X, y, problem = problems["random2"]  # 45 rows: the last batch of each epoch is smaller
    n = len(y)
    X1 = design(X)
    lr = 0.3 / np.linalg.eigvalsh(hessian(X))[-1]
    per_epoch = -(-n // batch_size)
    traj = collect(run(problem, opt.gd(lr), tol=0, max_steps=2 * per_epoch + 3, batch_size=batch_size, seed=seed))
    sizes = []
    for epoch in range(2):
        seen = []
        for k in range(per_epoch):
            count = epoch * per_epoch + k
            rows = engine.batch_rows(n, batch_size, seed, count)
            seen.extend(rows.tolist())
            sizes.append(len(rows))
            w = traj.params[count]
            Xb, yb = X1[rows], y[rows]
            grads = 2.0 / len(rows) * Xb.T @ (Xb @ w - yb)
            np.testing.assert_allclose(traj.params[count + 1] - w, -lr * grads, rtol=1e-9, atol=1e-12 * np.abs(w).max())
        assert sorted(seen) == list(range(n))
    assert sizes[: per_epoch - 1] == [batch_size] * (per_epoch - 1)
    if n % batch_size:  # the last batch of an epoch holds the rows left over
        assert sizes[per_epoch - 1] == n % batch_size < batch_size


def plain_mini_batch_params(problem, optimizer, batch_size, seed, steps):
    """A mini-batch run written out one update at a time, in the engine's fixed order: each residual an add.reduce
    along a contiguous row of the batch, each grad an add.reduce over the batch of (2/m) x_i times r_i."""
    X1, y = np.asarray(problem.X1), np.asarray(problem.y)
    w = np.zeros(problem.n_params)
    s = optimizer.init(w)
    out = [w]
    for count in range(steps):
        rows = engine.batch_rows(problem.n_samples, batch_size, seed, count)
        Xb = np.ascontiguousarray(X1[rows])
        r = np.add.reduce(Xb * w, axis=1) - y[rows]
        weighted = np.ascontiguousarray(Xb.T * (2.0 / len(rows))) * r  # (p, m), each row contiguous
        g = np.add.reduce(np.ascontiguousarray(weighted), axis=1)
        u, s = optimizer.update(g, s, w)
        w = w + u
        out.append(w)
    return np.array(out)


@pytest.mark.parametrize("name", sorted(opt.OPTIMIZERS))
@pytest.mark.parametrize("batch_size", [1, 7, 9, 44])
def test_mini_batch_params_equal_a_plain_loop_bit_for_bit(name, batch_size, problems):
    """45 rows: batches of 9 divide them (every chunk of whole batches), 7 and 44 leave a short last batch."""
    _, _, problem = problems["random2"]
    lam_max = np.linalg.eigvalsh(problem.hessian())[-1]
    optimizer = opt.make_optimizer(name, 0.2 / lam_max)
    steps = 3 * engine.batches_per_epoch(problem.n_samples, batch_size) + 300
    traj = engine.trajectory(problem, optimizer, tol=0, max_steps=steps, batch_size=batch_size, seed=6)
    want = plain_mini_batch_params(problem, optimizer, batch_size, 6, steps)
    np.testing.assert_array_equal(traj.params, want, strict=True)
    states = list(run(problem, optimizer, tol=0, max_steps=steps, batch_size=batch_size, seed=6))
    np.testing.assert_array_equal(np.array([st.params for st in states]), want, strict=True)
    for t in (0, 1, 2, 3, steps // 2, steps):
        np.testing.assert_array_equal(traj.grads[t], problem.grad(want[t]), strict=True)
        assert traj.loss[t] == problem.loss(want[t])


def test_mini_batch_states_report_the_full_data_loss_and_grads(problems):
    X, y, problem = problems["random3"]
    traj = collect(run(problem, opt.momentum(0.01, 0.9), tol=0, max_steps=300, batch_size=8, seed=1))
    for i in (0, 1, 77, 300):
        assert traj.loss[i] == problem.loss(traj.params[i])
        np.testing.assert_array_equal(traj.grads[i], problem.grad(traj.params[i]))
        assert traj.loss[i] == pytest.approx(naive_loss(X, y, traj.params[i]), rel=1e-10)
    np.testing.assert_array_equal(traj.update_norm[1:], np.sqrt(np.sum(np.diff(traj.params, axis=0) ** 2, axis=1)))
    # The start is the full-batch run's start.
    full = next(run(problem, opt.momentum(0.01, 0.9)))
    np.testing.assert_array_equal(traj.params[0], full.params)
    np.testing.assert_array_equal(traj.grads[0], full.grads)


def test_small_batches_plateau_above_the_floor_and_full_batch_does_not(problems):
    X, y, problem = problems["diabetes_standard"]
    lr = 0.5 / np.linalg.eigvalsh(hessian(X))[-1]
    full = collect(run(problem, opt.gd(lr), tol=0, max_steps=20_000))
    small = collect(run(problem, opt.gd(lr), tol=0, max_steps=20_000, batch_size=4))
    floor = problem.optimum_loss
    assert full.loss[-1] == pytest.approx(floor, rel=1e-9)
    assert np.min(small.loss[-2000:]) > floor * (1 + 1e-3)  # the noise floor: never reaches the optimum
    assert small.status is Status.MAX_STEPS


@pytest.mark.parametrize("name", ["gd", "momentum", "adam"])
def test_batch_size_n_samples_is_the_full_batch_run_bit_for_bit(name, problems):
    _, y, problem = problems["random1"]
    optimizer = opt.make_optimizer(name, 0.01)
    full = collect(run(problem, optimizer, tol=1e-9, max_steps=500))
    same = collect(run(problem, optimizer, tol=1e-9, max_steps=500, batch_size=len(y), seed=4))
    for field in ("step", "params", "grads", "loss", "update_norm", "learning_rate"):
        np.testing.assert_array_equal(getattr(same, field), getattr(full, field), err_msg=field, strict=True)
    assert same.status is full.status


@pytest.mark.parametrize(("name", "learning_rate"), [("gd", 0.02), ("nesterov", 0.005), ("adam", 0.05)])
@pytest.mark.parametrize("batch_size", [1, 6, 16])
@pytest.mark.parametrize("split", [1, 13, 58, 301])
def test_mini_batch_resume_continues_exactly(name, learning_rate, batch_size, split, problems):
    _, _, problem = problems["random3"]
    make = lambda: opt.make_optimizer(name, learning_rate)  # noqa: E731
    kwargs = dict(tol=0, max_steps=500, batch_size=batch_size, seed=21)
    whole = collect(run(problem, make(), **kwargs))
    head = list(itertools.islice(run(problem, make(), **kwargs), split + 1))
    tail = collect(run(problem, make(), start=head[-1], **kwargs))
    assert tail.step[0] == split + 1
    for field in ("step", "params", "grads", "loss", "update_norm", "learning_rate"):
        np.testing.assert_array_equal(getattr(tail, field), getattr(whole, field)[split + 1 :], err_msg=field)
    assert tail.status is whole.status


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    seed=st.integers(0, 10_000),
    n_features=st.integers(1, 12),
    batch_size=st.integers(1, 59),
    name=st.sampled_from(sorted(opt.OPTIMIZERS)),
    splits=st.lists(st.integers(1, 299), min_size=1, max_size=4),
)
def test_mini_batch_states_do_not_depend_on_where_the_run_is_resumed(seed, n_features, batch_size, name, splits):
    """Resuming at random steps (chunks of every size) gives the bits of one run."""
    problem = _problem(seed, n_features)
    lam_max = np.linalg.eigvalsh(problem.hessian())[-1]
    optimizer = opt.make_optimizer(name, 0.5 / lam_max)
    kwargs = dict(tol=0, max_steps=300, batch_size=batch_size, seed=seed)
    whole = collect(run(problem, optimizer, **kwargs))
    states = [next(run(problem, optimizer, **kwargs))]
    for split in sorted(set(splits)) + [300]:
        states.extend(itertools.islice(run(problem, optimizer, start=states[-1], **kwargs), split - states[-1].step))
    pieces = collect(states)
    for field in ("step", "params", "grads", "loss", "update_norm", "learning_rate"):
        np.testing.assert_array_equal(getattr(pieces, field), getattr(whole, field), err_msg=field, strict=True)


def test_seeds_give_different_shuffles_and_the_same_seed_the_same_run(problems):
    _, _, problem = problems["random2"]
    a = collect(run(problem, opt.gd(0.01), tol=0, max_steps=50, batch_size=5, seed=1))
    b = collect(run(problem, opt.gd(0.01), tol=0, max_steps=50, batch_size=5, seed=1))
    c = collect(run(problem, opt.gd(0.01), tol=0, max_steps=50, batch_size=5, seed=2))
    np.testing.assert_array_equal(a.params, b.params)
    assert not np.array_equal(a.params, c.params)


def test_a_mini_batch_run_diverges_without_warnings(problems):
    _, _, problem = problems["random1"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        traj = collect(run(problem, opt.gd(1e6), batch_size=3))
    assert traj.status is Status.DIVERGED
    assert np.all(np.isfinite(traj.loss[:-1]))
    assert list(run(problem, opt.gd(1e6), batch_size=3, start=traj.last_state)) == []


@pytest.mark.parametrize("bad", [0, -3, 36, 2.5, "4", True, None])
def test_bad_batch_sizes_are_input_errors(bad, problems):
    _, y, problem = problems["random1"]
    assert len(y) == 35
    if bad is None:
        run(problem, opt.gd(0.01), batch_size=bad)  # None is full batch
        return
    with pytest.raises(
        gdviz.InputError, match=r"The 'batch_size' parameter of run must be an int in the range \[1, 35\]\. Got"
    ):
        run(problem, opt.gd(0.01), batch_size=bad)


@pytest.mark.parametrize("bad", [-1, 1.5, "0"])
def test_bad_seeds_are_input_errors(bad, problems):
    _, _, problem = problems["random1"]
    with pytest.raises(gdviz.InputError, match=r"The 'seed' parameter of run must be an int in the range \[0, "):
        run(problem, opt.gd(0.01), batch_size=4, seed=bad)


@pytest.mark.parametrize("x_loc", [2.0, 9e5])
def test_problem_optimum_without_lapack_matches_lstsq(x_loc):
    # Gram-Schmidt on [X1 | y] against LAPACK's lstsq, also on data whose Hessian has condition number ~1e12.
    ds = synthetic_line(x_loc=x_loc, x_scale=1e3 if x_loc > 1e3 else 1.0, n_samples=40, noise=0.5)
    problem = make_problem(ds.X, ds.y)
    expected, *_ = np.linalg.lstsq(design(ds.X), ds.y, rcond=None)
    np.testing.assert_allclose(problem.optimum, expected, rtol=1e-6)
    assert problem.optimum_loss == pytest.approx(naive_loss(ds.X, ds.y, expected), rel=1e-9)


def test_rank_deficient_problem_gets_the_minimum_norm_optimum():
    rng = np.random.default_rng(4)
    a = rng.normal(size=30)
    X = np.column_stack([a, 2.0 * a, rng.normal(size=30)])  # column 2 is twice column 1
    y = 1.0 + X @ np.array([1.0, 0.5, -2.0]) + 0.1 * rng.normal(size=30)
    problem = make_problem(X, y)
    expected, *_ = np.linalg.lstsq(design(X), y, rcond=None)
    np.testing.assert_allclose(problem.optimum, expected, rtol=1e-9)
