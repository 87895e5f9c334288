"""Tests for gdviz.analysis: spectrum and thresholds, regimes, the closed form, sweeps and loss grids.

Oracles: the Hessian (2/n) X1.T X1 built here from the raw data and np.linalg.eigvalsh on it, the closed
form w_t = w* + (I - lr H)^t (w_0 - w*) through np.linalg.matrix_power, real runs of the engine, and
double loops over Problem.loss.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import gdviz
from gdviz import analysis, engine
from gdviz import optimizers as opt
from gdviz.analysis import Regime
from gdviz.data import make_problem, synthetic_line
from gdviz.engine import Status, collect, run
from tests.conftest import build_problems


def design(X):
    return np.column_stack([np.ones(len(X)), X])


def hessian(X):
    X1 = design(X)
    return 2.0 / len(X) * X1.T @ X1


def lstsq(X, y):
    w, *_ = np.linalg.lstsq(design(X), y, rcond=None)
    return w


def gd_closed_form(X, y, lr, steps, w0=None):
    """w_t = w* + (I - lr H)^t (w_0 - w*) for each t in steps, by repeated matrix products."""
    H = hessian(X)
    w_star = lstsq(X, y)
    w0 = np.zeros(len(w_star)) if w0 is None else np.asarray(w0, dtype=float)
    M = np.eye(len(w_star)) - lr * H
    return np.array([w_star + np.linalg.matrix_power(M, int(t)) @ (w0 - w_star) for t in steps])


@pytest.fixture(scope="module")
def problems(line_xy, diabetes_xy, random_xy):
    """name -> (X as the problem sees it, y, problem)."""
    return build_problems(line_xy, diabetes_xy, random_xy, {1: 30, 3: 30})


PROBLEM_NAMES = ["line", "diabetes_standard", "random1", "random3"]


# --------------------------------------------------------------------------------------------
# Spectrum and thresholds
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PROBLEM_NAMES)
def test_spectrum_matches_eigvalsh_of_the_raw_hessian(name, problems):
    X, _, problem = problems[name]
    H = hessian(X)
    expected = np.linalg.eigvalsh(H)
    s = analysis.spectrum(problem)
    np.testing.assert_allclose(s.eigenvalues, expected, rtol=1e-10, atol=1e-12 * expected[-1])
    assert s.lambda_max == pytest.approx(expected[-1], rel=1e-12, abs=0)
    assert s.lambda_min == pytest.approx(expected[0], rel=1e-9, abs=0)
    assert s.condition_number == pytest.approx(expected[-1] / expected[0], rel=1e-8, abs=0)
    # Columns are orthonormal eigenvectors, in the order of the eigenvalues.
    V = s.eigenvectors
    np.testing.assert_allclose(V.T @ V, np.eye(len(expected)), atol=1e-12)
    np.testing.assert_allclose(H @ V, V * s.eigenvalues, atol=1e-10 * expected[-1])


@pytest.mark.parametrize("name", PROBLEM_NAMES)
def test_thresholds_match_the_raw_hessian(name, problems):
    X, _, problem = problems[name]
    eig = np.linalg.eigvalsh(hessian(X))
    th = analysis.thresholds(problem)
    assert th.monotone_max == pytest.approx(1.0 / eig[-1], rel=1e-12, abs=0)
    assert th.stable_max == pytest.approx(2.0 / eig[-1], rel=1e-12, abs=0)
    assert th.optimal == pytest.approx(2.0 / (eig[0] + eig[-1]), rel=1e-10, abs=0)


def test_singular_hessian_has_a_zero_eigenvalue(random_xy):
    X, y = random_xy(8, n_samples=20, n_features=2)
    X = np.column_stack([X, 2.0 * X[:, 0]])  # a column that repeats another: no unique optimum
    problem = make_problem(X, y)
    s = analysis.spectrum(problem)
    assert s.lambda_min == 0.0
    assert s.condition_number == float("inf")
    assert np.all(s.eigenvalues >= 0)
    eig = np.linalg.eigvalsh(hessian(X))
    assert analysis.thresholds(problem).optimal == pytest.approx(2.0 / eig[-1], rel=1e-12, abs=0)
    # The optimum is still a least-squares solution (the minimum-norm one).
    np.testing.assert_allclose(problem.solution(), lstsq(X, y), rtol=1e-8, atol=1e-10)


# --------------------------------------------------------------------------------------------
# Regimes
# --------------------------------------------------------------------------------------------

REGIME_CASES = [
    # (r at the boundary = lr * lambda_max, factor applied to it, expected regime)
    (0.2, 0.9, Regime.SLOW),
    (0.2, 1.1, Regime.GOOD),
    (1.0, 0.9, Regime.GOOD),
    (1.0, 0.95, Regime.GOOD),
    (1.0, 1.05, Regime.OSCILLATING),
    (1.0, 1.1, Regime.OSCILLATING),
    (2.0, 0.9, Regime.OSCILLATING),
    (2.0, 0.95, Regime.OSCILLATING),
    (2.0, 1.05, Regime.DIVERGENT),
    (2.0, 1.1, Regime.DIVERGENT),
]


@pytest.mark.parametrize(("boundary", "factor", "expected"), REGIME_CASES)
@pytest.mark.parametrize("name", PROBLEM_NAMES)
def test_regime_either_side_of_each_threshold(name, boundary, factor, expected, problems):
    X, _, problem = problems[name]
    lam_max = np.linalg.eigvalsh(hessian(X))[-1]
    lr = factor * boundary / lam_max
    assert analysis.predict_regime(problem, lr) is expected
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        traj = collect(run(problem, opt.gd(lr), tol=0, max_steps=300))
        assert analysis.observed_regime(problem, traj) is expected


def test_regime_of_ratio_boundaries():
    assert analysis.regime_of_ratio(0.0) is Regime.SLOW
    assert analysis.regime_of_ratio(0.199) is Regime.SLOW
    assert analysis.regime_of_ratio(0.2) is Regime.GOOD
    assert analysis.regime_of_ratio(1.0) is Regime.GOOD
    assert analysis.regime_of_ratio(1.001) is Regime.OSCILLATING
    assert analysis.regime_of_ratio(1.999) is Regime.OSCILLATING
    assert analysis.regime_of_ratio(2.0) is Regime.DIVERGENT
    assert analysis.regime_of_ratio(1e9) is Regime.DIVERGENT


@pytest.mark.parametrize("name", PROBLEM_NAMES)
def test_regime_rates_land_in_their_regimes(name, problems):
    _, _, problem = problems[name]
    rates = analysis.regime_rates(problem)
    for label in ("slow", "good", "oscillating", "divergent"):
        assert analysis.predict_regime(problem, rates[label]) is Regime(label)


def test_observed_regime_of_a_diverged_run(problems):
    _, _, problem = problems["line"]
    traj = collect(run(problem, opt.gd(100.0)))
    assert traj.status is Status.DIVERGED
    assert analysis.observed_regime(problem, traj) is Regime.DIVERGENT


def test_predict_regime_rejects_bad_rates(problems):
    _, _, problem = problems["line"]
    for bad in (0.0, -1.0, float("nan"), "fast"):
        with pytest.raises(gdviz.InputError, match="The 'learning_rate' parameter of predict_regime"):
            analysis.predict_regime(problem, bad)


# --------------------------------------------------------------------------------------------
# Closed form of constant-rate GD
# --------------------------------------------------------------------------------------------

RATIOS = [0.05, 0.5, 1.0, 1.5, 1.95]


@pytest.mark.parametrize("start", ["zeros", "elsewhere"])
@pytest.mark.parametrize("r", RATIOS)
@pytest.mark.parametrize("name", PROBLEM_NAMES)
def test_gd_states_and_closed_form_match_matrix_powers(name, r, start, problems):
    X, y, problem = problems[name]
    lam_max = np.linalg.eigvalsh(hessian(X))[-1]
    lr = r / lam_max
    w_star = lstsq(X, y)
    w0 = None if start == "zeros" else w_star + np.linspace(-2.0, 3.0, len(w_star))
    steps = np.arange(81)
    expected = gd_closed_form(X, y, lr, steps, w0)
    scale = np.abs(expected).max()

    states = list(run(problem, opt.gd(lr), tol=0, max_steps=80, init_params=w0))
    got = np.array([s.params for s in states])
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-10 * scale)

    cf = analysis.closed_form(problem, lr, steps, init_params=w0)
    assert cf.shape == (81, problem.n_params)
    np.testing.assert_allclose(cf, expected, rtol=1e-9, atol=1e-10 * scale)
    # Far-away steps in any order, without running there.
    far = [5000, 3, 250]
    np.testing.assert_allclose(
        analysis.closed_form(problem, lr, far, init_params=w0),
        gd_closed_form(X, y, lr, far, w0),
        rtol=1e-8,
        atol=1e-9 * scale,
    )


@pytest.mark.parametrize("r", RATIOS)
@pytest.mark.parametrize("name", PROBLEM_NAMES)
def test_predicted_loss_matches_run_losses(name, r, problems):
    X, y, problem = problems[name]
    lr = r / np.linalg.eigvalsh(hessian(X))[-1]
    traj = collect(run(problem, opt.gd(lr), tol=0, max_steps=120))
    predicted = analysis.predicted_loss(problem, lr, traj.step)
    np.testing.assert_allclose(predicted, traj.loss, rtol=1e-9)
    # And the naive mean squared error at the closed-form params.
    oracle_params = gd_closed_form(X, y, lr, [0, 7, 120])
    naive = [np.mean((design(X) @ w - y) ** 2) for w in oracle_params]
    np.testing.assert_allclose(analysis.predicted_loss(problem, lr, [0, 7, 120]), naive, rtol=1e-9)


@pytest.mark.parametrize("tol", [1e-3, 1e-8])
@pytest.mark.parametrize("r", [0.1, 0.5, 1.0, 1.5, 1.9])
@pytest.mark.parametrize("name", PROBLEM_NAMES)
def test_predicted_steps_match_measured_steps(name, r, tol, problems):
    X, _, problem = problems[name]
    lr = r / np.linalg.eigvalsh(hessian(X))[-1]
    traj = collect(run(problem, opt.gd(lr), tol=tol, max_steps=200_000))
    assert traj.status is Status.CONVERGED
    measured = int(traj.step[-1])
    predicted = analysis.predicted_steps(problem, lr, tol=tol)
    assert isinstance(predicted, float)
    assert abs(predicted - measured) <= 1
    if predicted != measured:
        # Only a rounding-level tie with tol can flip the count by one.
        k = int(min(predicted, measured))
        assert traj.update_norm[k] == pytest.approx(tol, rel=1e-6, abs=0)


def test_predicted_steps_with_init_params_and_arrays(problems):
    X, y, problem = problems["random3"]
    lam_max = np.linalg.eigvalsh(hessian(X))[-1]
    w0 = np.full(problem.n_params, 2.0)
    rates = np.array([[0.3, 0.8], [1.2, 1.7]]) / lam_max
    predicted = analysis.predicted_steps(problem, rates, tol=1e-6, init_params=w0)
    assert predicted.shape == (2, 2)
    for lr, p in zip(rates.ravel(), predicted.ravel(), strict=True):
        traj = collect(run(problem, opt.gd(lr), tol=1e-6, init_params=w0, max_steps=100_000))
        assert abs(p - traj.step[-1]) <= 1


def test_predicted_steps_is_inf_when_the_rule_is_never_met(problems):
    X, _, problem = problems["line"]
    lam_max = np.linalg.eigvalsh(hessian(X))[-1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert analysis.predicted_steps(problem, 2.05 / lam_max) == float("inf")
        assert analysis.predicted_steps(problem, 0.5 / lam_max, tol=0.0) == float("inf")
        both = analysis.predicted_steps(problem, np.array([0.5, 2.5]) / lam_max)
    assert np.isfinite(both[0]) and both[1] == float("inf")


def test_closed_form_of_a_divergent_rate_leaks_no_warning(problems):
    X, y, problem = problems["line"]
    lr = 3.0 / np.linalg.eigvalsh(hessian(X))[-1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = analysis.closed_form(problem, lr, [0, 10, 10_000])
        loss = analysis.predicted_loss(problem, lr, [0, 10, 10_000])
    # atol: w* + V V^T (w0 - w*) is w0 only up to round-off on the scale of w* (0 at step 0 is not exact).
    scale = np.abs(problem.optimum).max()
    np.testing.assert_allclose(out[:2], gd_closed_form(X, y, lr, [0, 10]), rtol=1e-9, atol=1e-12 * scale)
    assert not np.all(np.isfinite(out[2]))
    assert loss[2] == float("inf")


def test_closed_form_rejects_bad_input(problems):
    _, _, problem = problems["line"]
    with pytest.raises(gdviz.InputError, match="The 'learning_rate' parameter of closed_form"):
        analysis.closed_form(problem, -0.1, [1])
    with pytest.raises(gdviz.InputError, match="The 'steps' parameter of closed_form"):
        analysis.closed_form(problem, 0.1, [1, -2])
    with pytest.raises(gdviz.InputError, match="The 'init_params' parameter"):
        analysis.closed_form(problem, 0.1, [1], init_params=np.zeros(5))


# --------------------------------------------------------------------------------------------
# Learning-rate sweep
# --------------------------------------------------------------------------------------------

SWEEP_RATIOS = np.array([0.05, 0.3, 0.9, 1.0, 1.5, 1.9, 1.99, 2.01, 2.5, 10.0])


@pytest.mark.parametrize("tol", [1e-4, 1e-9])
@pytest.mark.parametrize("name", PROBLEM_NAMES)
def test_lr_sweep_matches_separate_runs(name, tol, problems):
    X, _, problem = problems[name]
    rates = SWEEP_RATIOS / np.linalg.eigvalsh(hessian(X))[-1]
    calls = []
    max_steps = 3000
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sweep = analysis.lr_sweep(problem, rates, tol=tol, max_steps=max_steps, progress=calls.append)
    np.testing.assert_array_equal(sweep.learning_rate, rates)
    assert sweep.steps.shape == sweep.final_loss.shape == sweep.status.shape == rates.shape
    assert calls, "progress was never called"
    assert all(0 < c <= 1 for c in calls) and calls == sorted(calls)

    for k, lr in enumerate(rates):
        traj = collect(run(problem, opt.gd(lr), tol=tol, max_steps=max_steps))
        assert sweep.status[k] == traj.status.value, (k, lr)
        measured = int(traj.step[-1])
        if sweep.steps[k] != measured:
            assert abs(int(sweep.steps[k]) - measured) == 1
            # Allowed only where the update norm sits on the tolerance to round-off.
            k_step = min(int(sweep.steps[k]), measured)
            assert traj.update_norm[k_step] == pytest.approx(tol, rel=1e-9, abs=0)
        if np.isfinite(traj.loss[-1]):
            assert sweep.final_loss[k] == pytest.approx(traj.loss[-1], rel=1e-9, abs=0)
        else:
            assert not np.isfinite(sweep.final_loss[k])
    # The sweep's spread of regimes: the two largest rates diverge, the smallest one runs out of steps.
    assert list(sweep.status[-2:]) == ["diverged", "diverged"]
    assert sweep.status[0] in ("max_steps", "converged")


def test_lr_sweep_reports_max_steps_and_progress_to_the_end(problems):
    _, _, problem = problems["line"]
    calls = []
    sweep = analysis.lr_sweep(problem, [1e-4, 2e-4], tol=0, max_steps=500, progress=calls.append)
    assert list(sweep.status) == ["max_steps", "max_steps"]
    np.testing.assert_array_equal(sweep.steps, [500, 500])
    assert calls[-1] == pytest.approx(1.0)
    assert 90 <= len(calls) <= 110
    traj = collect(run(problem, opt.gd(2e-4), tol=0, max_steps=500))
    assert sweep.final_loss[1] == pytest.approx(traj.loss[-1], rel=1e-12, abs=0)


def test_lr_sweep_with_init_params(problems):
    X, _, problem = problems["random1"]
    rates = np.array([0.2, 0.7, 1.3]) / np.linalg.eigvalsh(hessian(X))[-1]
    w0 = np.array([1.0, -2.0, 0.5])
    sweep = analysis.lr_sweep(problem, rates, tol=1e-7, max_steps=5000, init_params=w0)
    for k, lr in enumerate(rates):
        traj = collect(run(problem, opt.gd(lr), tol=1e-7, max_steps=5000, init_params=w0))
        assert abs(int(sweep.steps[k]) - int(traj.step[-1])) <= 1
        assert sweep.status[k] == traj.status.value


def test_lr_sweep_with_zero_max_steps_is_like_run(problems):
    _, y, problem = problems["line"]
    sweep = analysis.lr_sweep(problem, [0.01, 100.0], max_steps=0)
    (only,) = list(run(problem, opt.gd(0.01), max_steps=0))
    assert list(sweep.status) == [only.status.value] * 2 == ["max_steps"] * 2
    np.testing.assert_array_equal(sweep.steps, [0, 0])
    np.testing.assert_allclose(sweep.final_loss, [np.mean(y**2)] * 2, rtol=1e-12)


def test_lr_sweep_rejects_bad_rates(problems):
    _, _, problem = problems["line"]
    for bad in ([], [0.1, -0.1], [0.0], [np.nan], [np.inf]):
        with pytest.raises(gdviz.InputError, match="The 'learning_rates' parameter of lr_sweep"):
            analysis.lr_sweep(problem, bad)
    with pytest.raises(gdviz.InputError, match="The 'tol' parameter of lr_sweep"):
        analysis.lr_sweep(problem, [0.1], tol=-1.0)
    with pytest.raises(gdviz.InputError, match="The 'max_steps' parameter of lr_sweep"):
        analysis.lr_sweep(problem, [0.1], max_steps=-3)


# --------------------------------------------------------------------------------------------
# Loss grid
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["optimum", "elsewhere"])
@pytest.mark.parametrize(("i", "j"), [(0, 1), (1, 0), (2, 0), (1, 4)])
def test_loss_grid_matches_a_double_loop(i, j, where, problems):
    X, y, problem = problems["random3"]  # 5 params
    center = None if where == "optimum" else problem.solution() + np.array([0.5, -1.0, 2.0, 0.3, -0.7])
    x_range, y_range = (-3.0, 1.0), (0.5, 6.5)  # different ranges: a transposed z would not match
    grid = analysis.loss_grid(problem, i, j, x_range=x_range, y_range=y_range, n=9, center=center)
    ctr = problem.solution() if center is None else center
    np.testing.assert_allclose(grid.center, ctr)
    np.testing.assert_allclose(grid.x, np.linspace(*x_range, 9))
    np.testing.assert_allclose(grid.y, np.linspace(*y_range, 9))
    assert grid.z.shape == (len(grid.y), len(grid.x))
    assert (grid.i, grid.j) == (i, j)
    for row, yv in enumerate(grid.y):
        for col, xv in enumerate(grid.x):
            w = ctr.copy()
            w[i], w[j] = xv, yv
            assert grid.z[row, col] == pytest.approx(problem.loss(w), rel=1e-11, abs=0)
            assert grid.z[row, col] == pytest.approx(np.mean((design(X) @ w - y) ** 2), rel=1e-10, abs=0)


def test_loss_grid_default_center_is_the_optimum(problems):
    _, _, problem = problems["line"]
    w_star = problem.solution()
    grid = analysis.loss_grid(
        problem, 0, 1, x_range=(w_star[0] - 1, w_star[0] + 1), y_range=(w_star[1] - 1, w_star[1] + 1), n=5
    )
    np.testing.assert_array_equal(grid.center, w_star)
    assert grid.z[2, 2] == pytest.approx(problem.loss(w_star), rel=1e-12, abs=0)  # the middle of an odd grid
    assert grid.z.min() == grid.z[2, 2]


def _log10_mse_exact(X, y, w) -> float:
    """log10 of mean((X1 @ w - y)^2) in exact decimal arithmetic: no float64 overflow at any size."""
    import decimal

    ctx = decimal.Context(prec=40, Emax=10**6, Emin=-(10**6))
    total = decimal.Decimal(0)
    for row, target in zip(X, y, strict=True):
        r = ctx.add(decimal.Decimal(float(w[0])), decimal.Decimal(-float(target)))
        for xv, wv in zip(row, w[1:], strict=True):
            r = ctx.add(r, ctx.multiply(decimal.Decimal(float(xv)), decimal.Decimal(float(wv))))
        total = ctx.add(total, ctx.multiply(r, r))
    return float(ctx.divide(total, decimal.Decimal(len(y))).log10(ctx))


@pytest.mark.parametrize("half_width", [1e3, 1e100, 1e160, 1e250])
def test_loss_grid_log10_is_finite_and_exact_where_the_loss_overflows(half_width, problems):
    # A diverging path's window reaches 1e154 and beyond: J overflows float64 (z = inf), its log does not.
    X, y, problem = problems["line"]
    w_star = problem.solution()
    grid = analysis.loss_grid(
        problem, 0, 1, x_range=(w_star[0] - half_width, w_star[0] + half_width),
        y_range=(w_star[1] - 0.5 * half_width, w_star[1] + 2 * half_width), n=5,
    )  # fmt: skip
    assert grid.log10_z is not None and np.isfinite(grid.log10_z).all()
    for row, yv in enumerate(grid.y):
        for col, xv in enumerate(grid.x):
            expected = _log10_mse_exact(X, y, np.array([xv, yv]))
            assert grid.log10_z[row, col] == pytest.approx(expected, rel=1e-9, abs=1e-9)
            if expected < 307:
                assert grid.z[row, col] == pytest.approx(10**expected, rel=1e-8)
            else:
                assert grid.z[row, col] == np.inf


def test_loss_grid_rejects_bad_input(problems):
    _, _, problem = problems["line"]
    with pytest.raises(gdviz.InputError, match="two different params"):
        analysis.loss_grid(problem, 1, 1, x_range=(0, 1), y_range=(0, 1))
    with pytest.raises(gdviz.InputError, match="The 'j' parameter of loss_grid"):
        analysis.loss_grid(problem, 0, 2, x_range=(0, 1), y_range=(0, 1))
    with pytest.raises(gdviz.InputError, match="finite increasing ranges"):
        analysis.loss_grid(problem, 0, 1, x_range=(1, 0), y_range=(0, 1))
    with pytest.raises(gdviz.InputError, match="finite increasing ranges"):
        analysis.loss_grid(problem, 0, 1, x_range=(0, np.inf), y_range=(0, 1))


# --------------------------------------------------------------------------------------------
# Property: the closed form is what a run does
# --------------------------------------------------------------------------------------------


@st.composite
def problem_and_ratio(draw):
    d = draw(st.integers(1, 4))
    n = draw(st.integers(d + 3, 12))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    spread = np.array(draw(st.lists(st.floats(0.5, 2.0), min_size=d, max_size=d)))
    centre = np.array(draw(st.lists(st.floats(-2.0, 2.0), min_size=d, max_size=d)))
    X = centre + spread * rng.standard_normal((n, d))
    y = rng.uniform(-5, 5, n)
    eig = np.linalg.eigvalsh(hessian(X))
    assume(eig[0] > 1e-3 * eig[-1])
    return X, y, draw(st.floats(0.01, 1.95))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem_and_ratio())
def test_property_closed_form_matches_the_run(case):
    X, y, r = case
    problem = make_problem(X, y)
    lr = r / np.linalg.eigvalsh(hessian(X))[-1]
    traj = collect(run(problem, opt.gd(lr), tol=0, max_steps=40))
    cf = analysis.closed_form(problem, lr, traj.step)
    scale = np.abs(traj.params).max() + np.abs(problem.solution()).max()
    np.testing.assert_allclose(cf, traj.params, rtol=1e-8, atol=1e-9 * scale)
    np.testing.assert_allclose(cf, gd_closed_form(X, y, lr, traj.step), rtol=1e-8, atol=1e-9 * scale)


def test_lr_sweep_runs_do_not_depend_on_the_other_rates_in_the_batch(problems):
    """A sweep is split into chunks of rates (gdviz.sweep): each run's numbers must be the same in any chunk."""
    X, _, problem = problems["random3"]
    rates = np.geomspace(0.01, 2.5, 37) / np.linalg.eigvalsh(hessian(X))[-1]
    whole = analysis.lr_sweep(problem, rates, tol=1e-8, max_steps=700)
    for i in (0, 11, 36):
        alone = analysis.lr_sweep(problem, rates[i : i + 1], tol=1e-8, max_steps=700)
        assert alone.steps[0] == whole.steps[i] and alone.status[0] == whole.status[i]
        np.testing.assert_array_equal(alone.final_loss[0], whole.final_loss[i])


# --------------------------------------------------------------------------------------------
# Optimal momentum and predicted rates
# Oracles: eigvalsh of the Hessian built here from X, a heavy-ball run of the engine, the error ratio.
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PROBLEM_NAMES)
def test_optimal_momentum_matches_eigvalsh_of_the_raw_hessian(name, problems):
    X, _, problem = problems[name]
    eig = np.linalg.eigvalsh(hessian(X))
    lam_min, lam_max = eig[0], eig[-1]
    kappa = lam_max / lam_min
    learning_rate, beta = analysis.optimal_momentum(problem)
    assert isinstance(learning_rate, float) and isinstance(beta, float)
    assert learning_rate == pytest.approx((2.0 / (np.sqrt(lam_max) + np.sqrt(lam_min))) ** 2, rel=1e-9, abs=0)
    assert beta == pytest.approx(((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)) ** 2, rel=1e-9, abs=0)
    rates = analysis.convergence_rates(problem)
    assert rates.gd == pytest.approx((kappa - 1) / (kappa + 1), rel=1e-9, abs=1e-15)
    assert rates.momentum == pytest.approx((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1), rel=1e-9, abs=1e-15)
    assert rates.momentum <= rates.gd


@pytest.mark.parametrize("name", ["diabetes_standard", "random1", "random3"])
def test_heavy_ball_at_the_optimal_settings_converges_at_the_predicted_rate(name, problems):
    X, y, problem = problems[name]
    learning_rate, beta = analysis.optimal_momentum(problem)
    traj = collect(run(problem, opt.momentum(learning_rate, beta), tol=0, max_steps=3000))
    err = np.linalg.norm(traj.params - lstsq(X, y), axis=1)
    rate = analysis.convergence_rates(problem).momentum
    # Late steps, above round-off: the geometric mean of the per-step error ratio over a window.
    above = np.flatnonzero(err > 1e-9 * err[0])
    end = int(above[-1])
    start = end - min(200, end // 2)
    measured = (err[end] / err[start]) ** (1.0 / (end - start))
    # The extreme directions are critically damped (a double root): error ~ t * rate^t, a little slower.
    assert rate * 0.97 <= measured <= rate * 1.03 + 0.01
    # And much faster than GD at its best rate, as predicted.
    assert measured < analysis.convergence_rates(problem).gd


@pytest.mark.parametrize("tol", [1e-3, 1e-8])
@pytest.mark.parametrize("name", PROBLEM_NAMES)
def test_predicted_momentum_steps_match_measured_steps(name, tol, problems):
    _, _, problem = problems[name]
    learning_rate, beta = analysis.optimal_momentum(problem)
    for lr, b in ((learning_rate, beta), (0.5 * learning_rate, 0.5)):
        traj = collect(run(problem, opt.momentum(lr, b), tol=tol, max_steps=200_000))
        assert traj.status is Status.CONVERGED
        predicted = analysis.predicted_momentum_steps(problem, lr, b, tol=tol)
        assert abs(predicted - traj.step[-1]) <= 1
    gd_predicted = analysis.predicted_steps(problem, analysis.thresholds(problem).optimal, tol=tol)
    assert analysis.predicted_momentum_steps(problem, learning_rate, beta, tol=tol) <= gd_predicted


def test_optimal_momentum_of_a_singular_hessian_is_the_limit(random_xy):
    X, y = random_xy(8, n_samples=20, n_features=2)
    X = np.column_stack([X, 2.0 * X[:, 0]])
    problem = make_problem(X, y)
    lam_max = np.linalg.eigvalsh(hessian(X))[-1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        learning_rate, beta = analysis.optimal_momentum(problem)
        rates = analysis.convergence_rates(problem)
        steps = analysis.predicted_momentum_steps(problem, learning_rate, beta)
    assert learning_rate == pytest.approx(4.0 / lam_max, rel=1e-12, abs=0)
    assert beta == 1.0
    assert rates == (1.0, 1.0)
    assert steps == float("inf")


def test_predicted_momentum_steps_rejects_bad_input(problems):
    _, _, problem = problems["line"]
    with pytest.raises(gdviz.InputError, match=r"The 'beta' parameter of predicted_momentum_steps must be a float"):
        analysis.predicted_momentum_steps(problem, 0.1, 1.5)
    with pytest.raises(gdviz.InputError, match=r"The 'learning_rate' parameter of predicted_momentum_steps"):
        analysis.predicted_momentum_steps(problem, 0.0, 0.5)
    assert analysis.predicted_momentum_steps(problem, 0.1, 0.5, tol=0.0) == float("inf")


# --------------------------------------------------------------------------------------------
# Reference methods: Newton, exact line search, Barzilai-Borwein
# Oracles: np.linalg.lstsq on the raw design matrix, orthogonality, and loops written here.
# --------------------------------------------------------------------------------------------

PATHS = [analysis.newton_path, analysis.line_search_path, analysis.barzilai_borwein_path]


def check_engine_conventions(problem, traj, tol=1e-6):
    """step 0 is the start, NaN update_norm and rate there, the engine's loss and grads, the tol rule."""
    assert traj.step.tolist() == list(range(traj.n_states))
    assert np.isnan(traj.update_norm[0]) and np.isnan(traj.learning_rate[0])
    np.testing.assert_allclose(traj.update_norm[1:], np.linalg.norm(np.diff(traj.params, axis=0), axis=1), rtol=1e-14)
    for i in (0, traj.n_states // 2, traj.n_states - 1):
        np.testing.assert_array_equal(traj.grads[i], problem.grad(traj.params[i]))
        assert traj.loss[i] == problem.loss(traj.params[i])
    if traj.status is Status.CONVERGED:
        assert traj.update_norm[-1] < tol
        assert np.all(traj.update_norm[1:-1] >= tol)
    last = traj.last_state
    assert isinstance(last, gdviz.engine.State)
    assert last.step == traj.step[-1] and last.status is traj.status
    np.testing.assert_array_equal(last.params, traj.params[-1])
    for a in (traj.params, traj.grads, traj.loss, traj.update_norm, traj.learning_rate):
        assert a.dtype == np.float64


@pytest.mark.parametrize("start", ["zeros", "away"])
@pytest.mark.parametrize("name", PROBLEM_NAMES)
def test_newton_lands_on_lstsq_in_one_step(name, start, problems):
    X, y, problem = problems[name]
    w_star = lstsq(X, y)
    w0 = None if start == "zeros" else w_star + 3.0
    traj = analysis.newton_path(problem, w0)
    check_engine_conventions(problem, traj)
    assert traj.status is Status.CONVERGED
    assert traj.step[-1] == 2  # the Newton step, then the confirming step shorter than tol
    np.testing.assert_allclose(traj.params[1], w_star, rtol=1e-9, atol=1e-9 * np.abs(w_star).max())
    np.testing.assert_allclose(traj.params[-1], w_star, rtol=1e-9, atol=1e-9 * np.abs(w_star).max())
    assert traj.learning_rate[1:].tolist() == [1.0, 1.0]
    assert traj.update_norm[2] < 1e-9 * max(1.0, np.abs(w_star).max())


def test_newton_on_raw_diabetes_reaches_lstsq(diabetes_xy):
    X, y = diabetes_xy
    problem = make_problem(X, y, scaling="none")
    w_star = lstsq(X, y)
    traj = analysis.newton_path(problem)
    check_engine_conventions(problem, traj)
    assert traj.status is Status.CONVERGED
    assert traj.step[-1] <= 4
    np.testing.assert_allclose(traj.params[1], w_star, rtol=1e-6)
    np.testing.assert_allclose(traj.params[-1], w_star, rtol=1e-9)


def test_newton_from_the_optimum_converges_at_step_one(problems):
    _, _, problem = problems["line"]
    traj = analysis.newton_path(problem, problem.solution())
    assert traj.status is Status.CONVERGED and traj.step.tolist() == [0, 1]


def test_newton_on_a_singular_hessian_reaches_the_minimum_norm_optimum(random_xy):
    X, y = random_xy(8, n_samples=20, n_features=2)
    X = np.column_stack([X, 2.0 * X[:, 0]])
    problem = make_problem(X, y)
    traj = analysis.newton_path(problem)
    assert traj.status is Status.CONVERGED
    np.testing.assert_allclose(traj.params[-1], lstsq(X, y), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("name", PROBLEM_NAMES)
def test_line_search_updates_meet_at_right_angles_and_reach_lstsq(name, problems):
    X, y, problem = problems[name]
    w_star = lstsq(X, y)
    traj = analysis.line_search_path(problem, tol=1e-9, max_steps=100_000)
    check_engine_conventions(problem, traj, tol=1e-9)
    assert traj.status is Status.CONVERGED
    np.testing.assert_allclose(traj.params[-1], w_star, rtol=1e-6, atol=1e-6 * np.abs(w_star).max())
    U = np.diff(traj.params, axis=0)
    norms = np.linalg.norm(U, axis=1)
    big = np.flatnonzero(norms[:-1] > 1e-6 * norms[0])[:50]  # well above round-off
    cosines = np.einsum("ij,ij->i", U[big], U[big + 1]) / (norms[big] * norms[big + 1])
    np.testing.assert_allclose(cosines, 0.0, atol=1e-6)
    assert np.all(np.diff(traj.loss) <= 1e-12 * traj.loss[:-1])  # never increases (beyond round-off)
    # Each reported rate is the exact line search's (g.g) / (g.H.g), with the Hessian built here.
    H = hessian(X)
    for t in (1, 2, 5):
        g = traj.grads[t - 1]
        assert traj.learning_rate[t] == pytest.approx(g @ g / (g @ H @ g), rel=1e-9)


def test_line_search_from_the_optimum_takes_a_zero_step(problems):
    _, _, problem = problems["random1"]
    w_star = problem.solution()
    traj = analysis.line_search_path(problem, w_star)
    assert traj.status is Status.CONVERGED and traj.step[-1] == 1
    assert traj.update_norm[1] < 1e-12
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        still = analysis.line_search_path(problem, w_star, tol=0, max_steps=5)
    assert still.status is Status.MAX_STEPS and np.all(np.isfinite(still.params))


def barzilai_borwein_loop(X, y, steps):
    """BB1 written out on the raw design matrix: the first step by exact line search."""
    X1 = design(X)
    n = len(y)
    H = 2.0 / n * X1.T @ X1
    w = np.zeros(X1.shape[1])
    grad = lambda w: 2.0 / n * X1.T @ (X1 @ w - y)  # noqa: E731
    g = grad(w)
    out = [w]
    w_prev = g_prev = None
    for _ in range(steps):
        if w_prev is None:
            rate = g @ g / (g @ H @ g)
        else:
            s, d = w - w_prev, g - g_prev
            rate = s @ s / (s @ d)
        w_prev, g_prev = w, g
        w = w - rate * g
        g = grad(w)
        out.append(w)
    return np.array(out)


@pytest.mark.parametrize("name", PROBLEM_NAMES)
def test_barzilai_borwein_first_steps_and_optimum(name, problems):
    X, y, problem = problems[name]
    w_star = lstsq(X, y)
    traj = analysis.barzilai_borwein_path(problem, tol=1e-9, max_steps=100_000)
    check_engine_conventions(problem, traj, tol=1e-9)
    assert traj.status is Status.CONVERGED
    np.testing.assert_allclose(traj.params[-1], w_star, rtol=1e-6, atol=1e-6 * np.abs(w_star).max())
    k = min(4, traj.n_states - 1)
    scale = np.abs(traj.params[: k + 1]).max()
    np.testing.assert_allclose(traj.params[: k + 1], barzilai_borwein_loop(X, y, k), rtol=1e-7, atol=1e-8 * scale)
    # Far fewer steps than GD at its best constant rate.
    assert traj.step[-1] < analysis.predicted_steps(problem, analysis.thresholds(problem).optimal, tol=1e-9)


def plain_path_loop(problem, name, w, tol, max_steps):
    """A reference path one State at a time, written out here: each update in the fixed order the engine uses
    (row sums by add.reduce over a row, dot products in index order), each State's loss and update norm computed
    on its own, and the stop rules checked State by State (no chunks)."""
    gram2, moment2 = 2.0 * problem.gram, 2.0 * problem.moment
    s = analysis.spectrum(problem)
    # Newton's H^-1: by the fixed-order Cholesky when H is positive definite (checked against np.linalg.inv in
    # test_fixed_order_inverse), else the pseudo-inverse from the spectrum.
    pinv = analysis._fixed_order_inverse(problem.hessian()) if np.all(s.eigenvalues > 0) else None
    if pinv is None:
        inverse = np.where(s.eigenvalues > 0, 1.0 / np.where(s.eigenvalues > 0, s.eigenvalues, 1.0), 0.0)
        pinv = (s.eigenvectors * inverse) @ s.eigenvectors.T
        pinv = 0.5 * (pinv + pinv.T)

    def dot(a, b):
        out = float(a[0]) * float(b[0])
        for j in range(1, len(a)):
            out = out + float(a[j]) * float(b[j])
        return out

    def line_rate(g):
        curvature = dot(g, np.add.reduce(gram2 * g, axis=-1))
        return dot(g, g) / curvature if curvature > 0 else 0.0

    g = problem.grad(w)
    rows = [(0, w, g, problem.loss(w), np.nan, np.nan)]
    status, previous = (Status.MAX_STEPS if max_steps == 0 else Status.RUNNING), None
    while status is Status.RUNNING and len(rows) <= max_steps:
        if name == "newton":
            u, rate = -np.add.reduce(pinv * g, axis=-1), 1.0
        else:
            rate = None
            if name == "barzilai_borwein" and previous is not None:
                d = w - previous[0]
                sy = dot(d, g - previous[1])
                rate = dot(d, d) / sy if sy > 0 else None
            rate = line_rate(g) if rate is None else rate
            u = (-rate) * g
        previous = (w, g)
        w = w + u
        g = np.add.reduce(gram2 * w, axis=-1) - moment2
        d = w - previous[0]
        norm = float(np.sqrt(engine.row_dot(d, d)))
        loss = problem.loss(w)
        rows.append((len(rows), w, g, loss, norm, rate))
        if not (np.isfinite(loss) and np.isfinite(w).all()):
            status = Status.DIVERGED
        elif norm < tol:
            status = Status.CONVERGED
        elif len(rows) - 1 >= max_steps:
            status = Status.MAX_STEPS
    return rows, status


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(("tol", "max_steps"), [(0.0, 700), (1e-9, 5000), (1e-3, 5000), (0.0, 1), (0.0, 0)])
def test_paths_equal_a_plain_loop_state_by_state(path, tol, max_steps, problems):
    _, _, problem = problems["diabetes_standard"]
    w0 = np.linspace(-2, 2, problem.n_params)
    traj = path(problem, w0, tol=tol, max_steps=max_steps)
    rows, status = plain_path_loop(problem, path.__name__.removesuffix("_path"), w0, tol, max_steps)
    assert traj.status is status and traj.last_state.status is status
    assert traj.n_states == len(rows)
    for field, column in (("step", 0), ("params", 1), ("grads", 2), ("loss", 3), ("update_norm", 4),
                          ("learning_rate", 5)):  # fmt: skip
        want = np.array([r[column] for r in rows])
        np.testing.assert_array_equal(getattr(traj, field), want, err_msg=field)
    last = traj.last_state
    assert last.step == rows[-1][0] and last.opt_state is None
    np.testing.assert_array_equal(last.params, rows[-1][1])
    assert last.loss == rows[-1][3] and type(last.loss) is float


def test_reference_runners_in_lockstep_with_an_optimizer_equal_the_plain_loop(problems):
    _, _, problem = problems["diabetes_standard"]
    w0 = np.linspace(-2, 2, problem.n_params)
    names = ["newton", "line_search", "barzilai_borwein"]
    runners = [analysis.reference_runner(problem, name, w0, max_steps=400) for name in names]
    runners.append(engine.runner(problem, opt.gd(0.01), init_params=w0, max_steps=400))
    trajs, _ = engine.lockstep(problem, runners, tol=1e-9, max_steps=400)
    for name, traj in zip(names, trajs[:3], strict=False):
        rows, status = plain_path_loop(problem, name, w0, 1e-9, 400)
        assert traj.status is status
        np.testing.assert_array_equal(traj.params, np.array([r[1] for r in rows]), err_msg=name)
        np.testing.assert_array_equal(traj.learning_rate, np.array([r[5] for r in rows]), err_msg=name)
    np.testing.assert_array_equal(trajs[3].params, collect(run(problem, opt.gd(0.01), init_params=w0, tol=1e-9,
                                                              max_steps=400)).params)  # fmt: skip
    with pytest.raises(gdviz.InputError, match="no reference path 'newtons'"):
        analysis.reference_runner(problem, "newtons")


@pytest.mark.parametrize("path", PATHS)
def test_paths_keep_the_engine_stop_rules(path, problems):
    _, _, problem = problems["diabetes_standard"]
    only_start = path(problem, max_steps=0)
    assert only_start.n_states == 1 and only_start.status is Status.MAX_STEPS
    capped = path(problem, tol=0, max_steps=3)
    assert capped.step.tolist() == [0, 1, 2, 3] and capped.status is Status.MAX_STEPS
    w0 = np.linspace(-1, 1, problem.n_params)
    traj = path(problem, w0)
    np.testing.assert_array_equal(traj.params[0], w0)
    assert traj.last_state.opt_state is None


@pytest.mark.parametrize("path", PATHS)
def test_paths_reject_bad_input(path, problems):
    _, _, problem = problems["line"]
    owner = path.__name__
    with pytest.raises(gdviz.InputError, match=rf"The 'tol' parameter of {owner} must be a float"):
        path(problem, tol=-1.0)
    with pytest.raises(gdviz.InputError, match=rf"The 'max_steps' parameter of {owner} must be an int"):
        path(problem, max_steps=-1)
    with pytest.raises(gdviz.InputError, match="'init_params'"):
        path(problem, [1.0, 2.0, 3.0, 4.0])
    with pytest.raises(gdviz.InputError, match=rf"The 'problem' parameter of {owner} must be a Problem"):
        path("not a problem")


def test_lr_sweep_finds_the_overflow_step_of_run_on_extreme_data():
    """Far from the optimum the sweep checks the loss for overflow as run does: the same DIVERGED step."""
    ds = synthetic_line(x_loc=9e5, x_scale=1e3, n_samples=30)
    problem = make_problem(ds.X, ds.y)
    lam_max = np.linalg.eigvalsh(hessian(ds.X))[-1]
    rates = np.array([2.2, 5.0, 40.0, 1e3]) / lam_max
    sweep = analysis.lr_sweep(problem, rates, tol=1e-9, max_steps=2000)
    for k, lr in enumerate(rates):
        traj = collect(run(problem, opt.gd(lr), tol=1e-9, max_steps=2000))
        assert traj.status.value == sweep.status[k] == "diverged"
        assert sweep.steps[k] == traj.step[-1]


def test_fixed_order_inverse(problems, diabetes_xy):
    # Newton's inverse Hessian in scalar arithmetic (the same bits on every BLAS kernel) against LAPACK's.
    X, y = diabetes_xy
    cases = [p for *_, p in problems.values()] + [make_problem(X, y)]  # raw diabetes: condition number 1e8 or so
    for problem in cases:
        h = problem.hessian()
        got = analysis._fixed_order_inverse(h)
        want = np.linalg.inv(h)
        cond = np.linalg.cond(h)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-13 * cond * np.abs(want).max())
        np.testing.assert_array_equal(got, got.T)
    assert analysis._fixed_order_inverse(np.array([[1.0, 2.0], [2.0, 1.0]])) is None  # not positive definite
