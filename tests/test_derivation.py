"""gdviz.derivation against oracles written here from the raw arrays: the gradient formula on the rows,
np.linalg.eigvalsh of the Hessian, np.linalg.lstsq for the optimum and a naive gradient-descent loop."""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pytest

from gdviz import data, derivation, engine, math_player, optimizers, playback
from gdviz.data import make_problem
from gdviz.errors import InputError
from tests import player_view
from tests.conftest import standardised


def design(X: np.ndarray) -> np.ndarray:
    return np.column_stack([np.ones(len(X)), X])


def mse(X1, y, w) -> float:
    return float(np.mean((X1 @ w - y) ** 2))


def grad(X1, y, w) -> np.ndarray:
    return 2.0 / len(y) * X1.T @ (X1 @ w - y)


def naive_gd(X1, y, lr, steps, w0=None) -> np.ndarray:
    w = np.zeros(X1.shape[1]) if w0 is None else np.array(w0, dtype=float)
    out = [w]
    for _ in range(steps):
        w = w - lr * grad(X1, y, w)
        out.append(w)
    return np.array(out)


def run(problem, lr, *, max_steps=10_000, init=None, tol=1e-6):
    return engine.collect(engine.run(problem, optimizers.gd(lr), init_params=init, tol=tol, max_steps=max_steps))


@pytest.fixture(params=["line", "line_standard", "random2"])
def case(request, line_xy, random_xy):
    """(X1 as the engine sees it, y, problem)."""
    if request.param == "line":
        X, y = line_xy
        return design(X), y, make_problem(X, y)
    if request.param == "line_standard":
        X, y = line_xy
        return design(standardised(X)), y, make_problem(X, y, scaling="standard")
    X, y = random_xy(2, n_samples=30, n_features=3)
    return design(X), y, make_problem(X, y)


@pytest.mark.parametrize("step", [0, 1, 7])
def test_gradient_numbers_match_the_formula_on_the_rows(case, step):
    X1, y, problem = case
    lr = 0.5 / np.linalg.eigvalsh(2 / len(y) * X1.T @ X1)[-1]
    traj = run(problem, lr, max_steps=20, tol=0)
    out = derivation.gradient_numbers(problem, traj, step)
    w = naive_gd(X1, y, lr, step)[-1]
    np.testing.assert_allclose(out.params, w, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(out.residual, X1 @ w - y, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(out.column_sums, X1.T @ (X1 @ w - y), rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(out.grads_formula, grad(X1, y, w), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(out.grads_engine, grad(X1, y, w), rtol=1e-8, atol=1e-9)
    assert out.loss_formula == pytest.approx(mse(X1, y, w), rel=1e-12)
    assert out.loss_engine == pytest.approx(mse(X1, y, w), rel=1e-9)
    assert out.grads_difference == pytest.approx(np.max(np.abs(out.grads_formula - out.grads_engine)), abs=0)
    assert out.grads_difference < 1e-9 * max(1.0, np.max(np.abs(out.grads_formula)))
    assert out.step == step and out.finite


def test_step_numbers_against_the_oracles(case):
    X1, y, problem = case
    n = len(y)
    H = 2 / n * X1.T @ X1
    eigs = np.linalg.eigvalsh(H)
    w_star = np.linalg.lstsq(X1, y, rcond=None)[0]
    lr = 0.7 / eigs[-1]
    w = naive_gd(X1, y, lr, 3)[-1]
    g = grad(X1, y, w)
    out = derivation.step_numbers(problem, w, lr)
    assert out.learning_rate == lr
    assert out.grad_norm2 == pytest.approx(g @ g, rel=1e-10)
    assert out.curvature == pytest.approx(g @ H @ g, rel=1e-10)
    assert out.loss_now == pytest.approx(mse(X1, y, w), rel=1e-12)
    assert out.taylor == pytest.approx(mse(X1, y, w) - lr * (g @ g), rel=1e-9, abs=1e-9)
    assert out.actual == pytest.approx(mse(X1, y, w - lr * g), rel=1e-10)
    assert out.correction == pytest.approx(0.5 * lr**2 * (g @ H @ g), rel=1e-10)
    # For a quadratic the second-order expansion is exact.
    assert out.taylor + out.correction == pytest.approx(out.actual, rel=1e-8)
    np.testing.assert_allclose(out.eigenvalues, eigs, rtol=1e-10)
    assert out.lambda_max == pytest.approx(eigs[-1], rel=1e-12)
    assert out.monotone_max == pytest.approx(1 / eigs[-1], rel=1e-12)
    assert out.stable_max == pytest.approx(2 / eigs[-1], rel=1e-12)
    np.testing.assert_allclose(out.factors, 1 - lr * eigs, rtol=1e-10)
    np.testing.assert_allclose(out.error, w - w_star, rtol=1e-8, atol=1e-10)
    w_next = naive_gd(X1, y, lr, 1, w0=w)[-1]  # one naive step: the recursion's oracle
    np.testing.assert_allclose(out.next_error, w_next - w_star, rtol=1e-7, atol=1e-10)
    assert out.sum_lambda_max == pytest.approx(n * eigs[-1], rel=1e-12)


def test_decrease_below_is_where_the_step_stops_lowering_the_loss(case):
    X1, y, problem = case
    w = np.zeros(X1.shape[1])
    g = grad(X1, y, w)
    bound = derivation.step_numbers(problem, w, 1e-3).decrease_below
    assert bound == pytest.approx(2 * (g @ g) / (g @ (2 / len(y) * X1.T @ X1) @ g), rel=1e-10)
    assert bound >= 2 / np.linalg.eigvalsh(2 / len(y) * X1.T @ X1)[-1] * (1 - 1e-12)  # never below 2/lambda_max
    assert mse(X1, y, w - 0.99 * bound * g) < mse(X1, y, w)
    assert mse(X1, y, w - 1.01 * bound * g) > mse(X1, y, w)
    assert derivation.step_numbers(problem, w, 0.99 * bound).actual < mse(X1, y, w)
    assert derivation.step_numbers(problem, w, 1.01 * bound).actual > mse(X1, y, w)


def test_at_the_optimum_any_rate_keeps_the_loss(line_xy):
    X, y = line_xy
    problem = make_problem(X, y)
    out = derivation.step_numbers(problem, problem.solution(), 0.1)
    assert out.decrease_below == np.inf or out.grad_norm2 < 1e-20


def test_a_diverged_run_gives_non_finite_numbers_without_warnings(line_xy):
    X, y = line_xy
    problem = make_problem(X, y)
    lam = np.linalg.eigvalsh(2 / len(y) * design(X).T @ design(X))[-1]
    traj = run(problem, 10.0 / lam)
    assert traj.status is engine.Status.DIVERGED
    last = int(traj.step[-1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = derivation.gradient_numbers(problem, traj, last)
        nxt = derivation.step_numbers(problem, out.params, 10.0 / lam)
        before = derivation.gradient_numbers(problem, traj, last - 1)
    assert not out.finite
    assert not np.isfinite(nxt.actual) and not np.isfinite(nxt.decrease_below)
    assert before.finite  # the State before the overflow is still finite


@pytest.mark.parametrize("step", [-1, 10_001, 2.5, "3"])
def test_a_step_outside_the_run_is_refused(line_xy, step):
    X, y = line_xy
    problem = make_problem(X, y)
    traj = run(problem, 0.05, max_steps=5, tol=0)
    with pytest.raises(InputError, match="'step' parameter of gradient_numbers"):
        derivation.gradient_numbers(problem, traj, step)
    with pytest.raises(InputError, match="'learning_rate' parameter of step_numbers"):
        derivation.step_numbers(problem, np.zeros(2), -1.0)


def test_derivation_stays_numpy_only():
    from tests.test_architecture import modules_after_importing

    loaded = modules_after_importing("gdviz.derivation")
    assert "numpy" in loaded
    assert not {"streamlit", "plotly", "pandas", "sklearn"} & loaded


# ---------------------------------------------------------------------------------------------
# step_columns and the player: every stored row's numbers, for the browser
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def line_problem():
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 10, 30)
    y = 1.5 + 0.8 * x + rng.normal(0, 0.5, 30)
    return make_problem(x[:, None], y, scaling="none"), design(x), y


def test_step_columns_equal_the_formulas_at_every_row(line_problem):
    problem, X1, y = line_problem
    lr, steps = 0.01, 25
    traj = run(problem, lr, max_steps=steps, tol=0.0)
    rates = np.full(traj.n_states, lr)
    cols = derivation.step_columns(problem, traj, rates, plain_gd=True)
    ws = naive_gd(X1, y, lr, steps)
    n = len(y)
    H = 2.0 / n * X1.T @ X1
    lam = np.linalg.eigvalsh(H)
    w_star = np.linalg.lstsq(X1, y, rcond=None)[0]
    for t in range(steps + 1):
        w, g = ws[t], grad(X1, y, ws[t])
        want = {
            "lf": mse(X1, y, w), "le": mse(X1, y, w), "eta": lr, "g2": g @ g,
            "taylor": mse(X1, y, w) - lr * (g @ g), "corr": 0.5 * lr**2 * (g @ H @ g),
            "actual": mse(X1, y, w - lr * g), "below": 2 * (g @ g) / (g @ H @ g), "ratio": lr * lam[-1] / 2,
        }  # fmt: skip
        for k in range(2):
            want |= {f"w{k}": w[k], f"gf{k}": g[k], f"ge{k}": g[k], f"cs{k}": n / 2 * g[k],
                     f"fac{k}": 1 - lr * lam[k], f"e{k}": w[k] - w_star[k],
                     f"ne{k}": ((np.eye(2) - lr * H) @ (w - w_star))[k]}  # fmt: skip
            if t < steps:
                want[f"re{k}"] = ws[t + 1][k] - w_star[k]
        if t < steps:
            want["next_loss"] = mse(X1, y, ws[t + 1])
        for name, value in want.items():
            assert cols[name][t] == pytest.approx(value, rel=1e-9, abs=1e-10), (name, t)
        assert cols["gdiff"][t] <= 1e-12 * max(1.0, np.max(np.abs(g)))
    # The last row has no next step: its next loss and next error are missing (NaN), not made up.
    assert np.isnan(cols["next_loss"][-1]) and np.isnan(cols["re0"][-1])


def test_step_columns_without_plain_gd_leave_the_runs_next_step_out(line_problem):
    problem = line_problem[0]
    traj = engine.collect(engine.run(problem, optimizers.momentum(0.01, 0.9), tol=0.0, max_steps=5))
    cols = derivation.step_columns(problem, traj, np.full(traj.n_states, 0.01), plain_gd=False)
    assert np.isnan(cols["next_loss"]).all() and np.isnan(cols["re1"]).all()
    np.testing.assert_array_equal(cols["step"], np.arange(6))


def test_the_player_payload_holds_every_row_and_no_nan(line_problem):
    problem, X1, y = line_problem
    lam = np.linalg.eigvalsh(2.0 / len(y) * X1.T @ X1)[-1]
    lr = 2.5 / lam  # divergent: the run overflows
    traj = run(problem, lr, max_steps=100_000)
    assert traj.status is engine.Status.DIVERGED
    p = math_player.player(problem, traj, lambda count: lr, plain_gd=True)
    text = math_player.player_json(p, run="r")
    payload = json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    assert payload["page_cells"] is True and payload["n"] == traj.n_states
    assert payload["diverged_at"] == int(traj.step[-1])
    ws = naive_gd(X1, y, lr, 5)
    for t in range(6):
        assert payload["columns"]["ge0"][t] == pytest.approx(grad(X1, y, ws[t])[0], rel=1e-9)
    assert payload["columns"]["le"][-1] is None  # the overflowed loss is null, not inf
    assert player_view.bound_columns(payload) <= set(payload["columns"])  # every column the player looks up is sent


# ---------------------------------------------------------------------------------------------
# step_columns against the per-row functions (the page's own numbers), row by row
# ---------------------------------------------------------------------------------------------

EPS = np.finfo(float).eps
# Sums over the n data rows: the per-row functions take them one matrix-vector product at a time (BLAS),
# step_columns over blocks of rows (einsum), so the two add the same terms in another order. Each such sum may
# then differ by round-off of the size of its terms: at most ULPS x eps x (the sum of the terms' |values|).
# (A near-zero gradient at the optimum is a sum of large terms that cancel: its relative difference can be
# 1e-10 while its absolute difference is a few eps of those terms.)
ULPS = 64
# Read from the run or computed per rate, elementwise: the same floats as the per-row functions'.
EXACT = ("step", "le", "eta", "ratio", "next_loss", "w", "ge", "fac", "e", "re")


def columns_row_by_row(problem, traj, rates, *, plain_gd):
    """The columns written out here: gradient_numbers and step_numbers at every row (what the page shows at
    the step the server knows), the run's next step where it is stored."""
    m, p = traj.n_states, problem.n_params
    out = {}
    for r in range(m):
        g = derivation.gradient_numbers(problem, traj, int(traj.step[r]))
        s = derivation.step_numbers(problem, g.params, float(rates[r]))
        has_next = plain_gd and r + 1 < m and int(traj.step[r + 1]) == g.step + 1
        with np.errstate(all="ignore"):
            run_next = traj.params[r + 1] - problem.optimum if has_next else np.full(p, np.nan)
        row = {
            "step": g.step, "gdiff": g.grads_difference, "lf": g.loss_formula, "le": g.loss_engine,
            "eta": s.learning_rate, "g2": s.grad_norm2, "taylor": s.taylor, "corr": s.correction, "actual": s.actual,
            "below": s.decrease_below, "ratio": s.learning_rate / s.stable_max,
            "next_loss": float(traj.loss[r + 1]) if has_next else np.nan,
        }  # fmt: skip
        for name, values in (("w", g.params), ("gf", g.grads_formula), ("ge", g.grads_engine),
                             ("cs", g.column_sums), ("fac", s.factors), ("e", s.error), ("ne", s.next_error),
                             ("re", run_next)):  # fmt: skip
            row |= {f"{name}{k}": values[k] for k in range(p)}
        for name, value in row.items():
            out.setdefault(name, []).append(value)
    return {name: np.array(values, dtype=float) for name, values in out.items()}


def round_off_bounds(problem, traj, rates) -> dict[str, np.ndarray]:
    """How far each row-sum column may differ (ULPS x eps x the size of its terms), per row; and what that
    allows the columns computed from them."""
    X1, y, n = problem.X1, problem.y, problem.n_samples
    H = 2.0 / n * X1.T @ X1
    with np.errstate(all="ignore"):
        W = traj.params
        R = W @ X1.T - y
        terms = np.abs(W) @ np.abs(X1).T + np.abs(y)  # |x_i . w| computed term by term, plus |y_i|
        size = np.abs(R) + terms  # each residual's own round-off is a few eps of this
        g = 2.0 / n * R @ X1
        b_cs = ULPS * EPS * (size @ np.abs(X1))  # sum_i |x_ik| (|r_i| + the size of its terms)
        b_g = 2.0 / n * b_cs
        lf = np.mean(R**2, axis=1)
        b_lf = ULPS * EPS * np.mean(size**2, axis=1)
        g2 = np.sum(g * g, axis=1)
        b_g2 = np.sum((2 * np.abs(g) + b_g) * b_g, axis=1) + ULPS * EPS * g2
        curv = np.einsum("ij,jk,ik->i", g, H, g)
        b_curv = np.sum((2 * np.abs(g @ H) + b_g @ np.abs(H)) * b_g, axis=1) + ULPS * EPS * (
            np.abs(g) @ np.abs(H) * np.abs(g)
        ).sum(1)
        lr = np.asarray(rates, dtype=float)
        W2 = W - lr[:, None] * g
        size2 = np.abs(W2 @ X1.T - y) + np.abs(W2) @ np.abs(X1).T + np.abs(y) + (lr[:, None] * b_g) @ np.abs(X1).T
        e = W - problem.optimum
        return {
            "cs": b_cs, "gf": b_g, "gdiff": b_g.max(axis=1) + ULPS * EPS * np.abs(traj.grads).max(axis=1),
            "lf": b_lf, "actual": ULPS * EPS * np.mean(size2**2, axis=1), "g2": b_g2,
            "taylor": b_lf + lr * b_g2 + ULPS * EPS * (lf + lr * g2), "corr": 0.5 * lr * lr * b_curv,
            "below": 2 * np.abs(g2 / curv) * (b_g2 / g2 + b_curv / np.abs(curv)) + ULPS * EPS * np.abs(2 * g2 / curv),
            "ne": ULPS * EPS * (np.abs(e) + lr[:, None] * (np.abs(e) @ np.abs(H))),
        }  # fmt: skip


def assert_columns_match(problem, traj, rates, *, plain_gd):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # neither side may warn, a diverged run included
        got = derivation.step_columns(problem, traj, rates, plain_gd=plain_gd)
        want = columns_row_by_row(problem, traj, rates, plain_gd=plain_gd)
    assert set(got) == set(want)
    bounds = round_off_bounds(problem, traj, rates)
    for name, w in want.items():
        g = np.asarray(got[name], dtype=float)
        assert g.shape == w.shape, name
        # Non-finite exactly where the per-row functions give it: the same NaN, the same signed inf.
        np.testing.assert_array_equal(np.isnan(g), np.isnan(w), err_msg=name)
        np.testing.assert_array_equal(np.where(np.isinf(g), g, 0), np.where(np.isinf(w), w, 0), err_msg=name)
        per_param = re.fullmatch(r"(w|gf|ge|cs|fac|e|ne|re)(\d+)", name)
        base = per_param[1] if per_param else name
        if base in EXACT:
            np.testing.assert_array_equal(g, w, err_msg=name)
            continue
        bound = bounds[base][:, int(per_param[2])] if per_param else bounds[base]
        ok = np.isfinite(w) & np.isfinite(bound)
        assert np.all(np.abs(g[ok] - w[ok]) <= bound[ok]), (name, np.max(np.abs(g[ok] - w[ok]) / bound[ok]))
    return got


def _run(problem, optimizer, *, max_steps, tol=0.0):
    return engine.collect(engine.run(problem, optimizer, tol=tol, max_steps=max_steps))


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "adam"])
def test_step_columns_are_the_per_row_numbers(case, optimizer):
    X1, y, problem = case
    lam = np.linalg.eigvalsh(2 / len(y) * X1.T @ X1)[-1]
    opt = {"gd": optimizers.gd(0.9 / lam), "momentum": optimizers.momentum(0.3 / lam, 0.9),
           "adam": optimizers.adam(0.05)}[optimizer]  # fmt: skip
    traj = _run(problem, opt, max_steps=150)
    rates = np.array([0.9 / lam / (1 + 0.01 * s) for s in traj.step])  # a decaying schedule's rates
    cols = assert_columns_match(problem, traj, rates, plain_gd=optimizer == "gd")
    if optimizer != "gd":  # the run's next step is not the plain step the page derives: left out
        assert np.isnan(cols["next_loss"]).all() and np.isnan(cols["re0"]).all()


def test_step_columns_of_a_diverged_run_are_the_per_row_numbers(line_problem):
    problem, X1, y = line_problem
    lr = 2.5 / np.linalg.eigvalsh(2.0 / len(y) * X1.T @ X1)[-1]
    traj = _run(problem, optimizers.gd(lr), max_steps=100_000, tol=1e-6)
    assert traj.status is engine.Status.DIVERGED and not np.isfinite(traj.loss[-1])
    cols = assert_columns_match(problem, traj, np.full(traj.n_states, lr), plain_gd=True)
    # Past float64 the numbers are inf or NaN, where they were: the loss from the rows overflows last.
    assert not np.isfinite(cols["lf"][-1]) and np.isfinite(cols["lf"][:-2]).all()
    assert not np.isfinite(cols["actual"]).all()


def test_step_columns_of_a_thinned_run_on_diabetes_are_the_per_row_numbers(diabetes_xy):
    X, y = diabetes_xy
    problem = make_problem(X[:, 2:3], y)  # bmi, raw
    lr = 1.0 / np.linalg.eigvalsh(problem.hessian())[-1]  # converges, slowly along the flat direction
    traj = _run(problem, optimizers.gd(lr), max_steps=20_000)
    rows = playback.player_rows(traj, 512)  # stored rows at a doubling stride: most have no next step
    assert rows.n_states == 512 and (np.diff(rows.step) > 1).any()
    cols = assert_columns_match(problem, rows, np.full(rows.n_states, lr), plain_gd=True)
    assert np.isnan(cols["next_loss"][np.flatnonzero(np.diff(rows.step) > 1)]).all()


def test_step_columns_on_california_housing_are_the_per_row_numbers(monkeypatch, california_csv, fresh_loader_cache):
    monkeypatch.setenv(data.CALIFORNIA_ENV, str(california_csv))
    ds = data.load_dataset("california_housing")
    for scaling, lr in (("none", 0.01), ("standard", 0.5)):  # 20,640 rows: several blocks of stored steps
        problem = make_problem(ds.X[:, :1], ds.y, scaling=scaling)
        traj = playback.player_rows(_run(problem, optimizers.gd(lr), max_steps=3_000), 300)
        assert_columns_match(problem, traj, np.full(traj.n_states, lr), plain_gd=True)


def test_step_columns_refuse_rates_that_step_numbers_refuses(line_problem):
    problem = line_problem[0]
    traj = _run(problem, optimizers.gd(0.01), max_steps=3)
    with pytest.raises(InputError, match="learning_rate"):
        derivation.step_columns(problem, traj, np.array([0.01, 0.01, -1.0, 0.01]), plain_gd=True)
    with pytest.raises(InputError, match="one rate per row"):
        derivation.step_columns(problem, traj, np.full(3, 0.01), plain_gd=True)
