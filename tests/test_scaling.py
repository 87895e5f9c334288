"""gdviz.scaling against oracles written here: NumPy statistics, eigvalsh of the Hessian of each
scikit-learn-scaled X, the loss computed from the raw design matrix, and a naive GD loop."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

from gdviz import analysis, engine, optimizers, scaling
from gdviz.analysis import Regime
from gdviz.data import SCALINGS, make_problem

SCALERS = {"none": None, "standard": StandardScaler, "minmax": MinMaxScaler, "robust": RobustScaler}


def design(X):
    return np.column_stack([np.ones(len(X)), X])


def loss_of(X1, y, w):
    return float(np.mean((X1 @ w - y) ** 2))


def eigs(X1):
    return np.linalg.eigvalsh(2.0 / len(X1) * X1.T @ X1)


def scaled(X, name):
    return X if SCALERS[name] is None else SCALERS[name]().fit_transform(X)


def run(problem, lr, max_steps=10_000, tol=1e-6):
    return engine.collect(engine.run(problem, optimizers.gd(lr), tol=tol, max_steps=max_steps))


def test_feature_spread_is_numpys(diabetes_xy):
    X, _ = diabetes_xy
    spread = scaling.feature_spread(X, [f"f{i}" for i in range(X.shape[1])])
    np.testing.assert_allclose(spread.std, X.std(axis=0), rtol=1e-12)
    np.testing.assert_allclose(spread.value_range, X.max(axis=0) - X.min(axis=0), rtol=1e-12)
    np.testing.assert_allclose(spread.rms, np.sqrt((X**2).mean(axis=0)), rtol=1e-12)
    assert spread.names[0] == "f0"


def test_feature_spread_of_huge_values_warns_nothing():
    X = np.array([[1e308, 1.0], [-1e308, 2.0]])
    spread = scaling.feature_spread(X, ["big", "small"])
    assert np.isinf(spread.value_range[0]) and spread.value_range[1] == 1.0


@pytest.mark.parametrize("rate", [1e-6, 1e-3, 0.1])
def test_compare_scalings_against_eigvalsh_of_sklearn_scaled_x(badly_scaled, rate):
    X, y = badly_scaled
    problems = {name: make_problem(X, y, scaling=name) for name in SCALINGS}
    rows = scaling.compare_scalings(problems, rate, max_steps=500)
    assert [r.scaling for r in rows] == list(SCALINGS)
    for row in rows:
        lam = eigs(design(scaled(X, row.scaling)))
        assert row.lambda_max == pytest.approx(lam[-1], rel=1e-9)
        assert row.lambda_min == pytest.approx(lam[0], rel=1e-6)
        assert row.stable_max == pytest.approx(2 / lam[-1], rel=1e-9)
        assert row.ratio == pytest.approx(rate * lam[-1] / 2, rel=1e-9)
        r = rate * lam[-1]
        expected = "divergent" if r >= 2 else "oscillating" if r > 1 else "good" if r >= 0.2 else "slow"
        assert row.regime == expected
        diverges = row.status == "diverged"
        assert diverges == (r >= 2), row


def test_comparison_sentence_names_each_regime(badly_scaled):
    X, y = badly_scaled
    problems = {name: make_problem(X, y, scaling=name) for name in SCALINGS}
    rows = scaling.compare_scalings(problems, 0.1, max_steps=50)
    text = scaling.comparison_sentence(rows, 0.1)
    assert text.startswith("The same learning rate 0.1 is divergent raw, ")
    assert "good standardised" in text and "Scaling alone changes" in text
    same = scaling.comparison_sentence(rows[:1], 0.1)
    assert "same regime" in same


def test_outcome_text():
    row = scaling.ScalingRow("none", 1, 2, 2, 1, 3, Regime.DIVERGENT, "diverged", 17, np.inf, 0.5)
    assert scaling.outcome_text(row) == "diverged at step 17"
    row = row._replace(status="converged", steps=1234, final_loss=0.75)
    assert scaling.outcome_text(row) == "stopped by tol at step 1,234, loss 0.75 (floor 0.5)"
    assert "max steps" in scaling.outcome_text(row._replace(status="max_steps"))


def test_dominant_params():
    names = ("intercept", "a", "b")
    assert scaling.dominant_params(np.array([0.0, 0.6, 0.8]), names) == "b (64.0%), a (36.0%)"
    assert scaling.dominant_params(np.array([0.01, 1.0, 0.0]), names) == "a (100.0%)"


def test_stiff_feature_and_default_pair(badly_scaled):
    X, y = badly_scaled
    raw = make_problem(X, y)
    assert scaling.stiff_feature(raw) == 2  # params: intercept, x1, x2 (the thousands), x3
    assert scaling.default_pair(raw) == (0, 2)
    line = make_problem(X[:, :1], y)
    assert scaling.default_pair(line) == (0, 1)


def test_rate_explanation_of_a_divergent_rate(badly_scaled):
    X, y = badly_scaled
    problem = make_problem(X, y, feature_names=["small", "thousands", "tiny"])
    lam = eigs(design(X))[-1]
    lr = 3 / lam
    traj = run(problem, lr)
    assert traj.status is engine.Status.DIVERGED
    text = " ".join(scaling.rate_explanation(problem, lr, traj))
    assert f"{2 / lam:.3g}" in text and "**1.5x**" in text
    assert "thousands" in text and f"{1 - lr * lam:.3g}" in text
    assert f"overflowed float64 at step {int(traj.step[-1]):,}" in text


def test_rate_explanation_of_a_crawling_rate(badly_scaled):
    X, y = badly_scaled
    problem = make_problem(X, y, feature_names=["small", "thousands", "tiny"])
    lam = eigs(design(X))
    lr = 0.5 / lam[-1]
    traj = run(problem, lr, max_steps=200, tol=0.0)
    paragraphs = scaling.rate_explanation(problem, lr, traj)
    assert len(paragraphs) == 3
    assert f"{lam[0]:.3g}" in paragraphs[1]
    assert f"{np.log(2) / (lr * lam[0]):.3g}" in paragraphs[1]  # steps to halve the flat error
    optimum = np.linalg.lstsq(design(X), y, rcond=None)[0]
    moved = np.linalg.norm(traj.params[-1]) / np.linalg.norm(optimum)
    assert f"{moved:.2%} of the way" in paragraphs[2]
    assert "max steps (200)" in paragraphs[2]


def test_rate_explanation_of_a_run_that_got_there_does_not_say_most_of_the_way(badly_scaled):
    X, y = badly_scaled
    problem = make_problem(X, y, scaling="standard")
    Xs = StandardScaler().fit_transform(X)
    lam = eigs(design(Xs))
    lr = 1.0 / lam[-1]
    traj = run(problem, lr, tol=1e-10)
    assert traj.status is engine.Status.CONVERGED
    last = scaling.rate_explanation(problem, lr, traj)[-1]
    optimum = np.linalg.lstsq(design(Xs), y, rcond=None)[0]
    moved = np.linalg.norm(traj.params[-1]) / np.linalg.norm(optimum)
    assert moved == pytest.approx(1.0, abs=1e-6)
    assert "100.00% of the way" in last
    assert "most of the way" not in last and "It got there" in last


def test_slice_loss_is_the_loss_with_two_params_replaced(badly_scaled):
    X, y = badly_scaled
    problem = make_problem(X, y)
    X1 = design(X)
    center = np.array([0.3, -0.2, 0.001, 0.5])
    pts = np.array([[1.0, 2.0], [-3.0, 0.5]])
    got = scaling.slice_loss(problem, center, 1, 3, pts)
    for k, (a, b) in enumerate(pts):
        w = center.copy()
        w[1], w[3] = a, b
        assert got[k] == pytest.approx(loss_of(X1, y, w), rel=1e-10)


def test_square_window_is_square_and_holds_everything():
    points = np.array([[0.0, 0.0], [10.0, 0.1], [np.inf, 1.0]])
    anchors = np.array([[0.0, 0.0], [1.0, 0.01]])
    (x0, x1), (y0, y1) = scaling.square_window(points, anchors)
    assert x1 - x0 == pytest.approx(y1 - y0)
    assert x0 <= 0 and x1 >= 10 and y0 <= 0 and y1 >= 0.1


def test_slice_view_holds_others_at_the_current_step_or_the_optimum(badly_scaled):
    X, y = badly_scaled
    problem = make_problem(X, y)
    X1 = design(X)
    optimum = np.linalg.lstsq(X1, y, rcond=None)[0]
    traj = run(problem, 0.5 / eigs(X1)[-1], max_steps=30)
    for hold, center in (("current", traj.params[-1]), ("optimum", optimum)):
        view = scaling.slice_view(problem, traj.params, 0, 2, hold=hold, n=7)
        np.testing.assert_allclose(view.center, center, rtol=1e-9, atol=1e-12)
        assert view.n_steps == view.n2d == view.n3d == traj.n_states
        r, c = 3, 5
        w = center.copy()
        w[0], w[2] = view.grid.x[c], view.grid.y[r]
        assert view.grid.z[r, c] == pytest.approx(loss_of(X1, y, w), rel=1e-9)
        np.testing.assert_allclose(view.path, traj.params[:, [0, 2]])
        assert view.grid.x[-1] - view.grid.x[0] == pytest.approx(view.grid.y[-1] - view.grid.y[0])


def test_slice_view_of_a_diverged_run_stops_where_it_cannot_draw(badly_scaled):
    X, y = badly_scaled
    problem = make_problem(X, y)
    traj = run(problem, 3 / eigs(design(X))[-1])
    view = scaling.slice_view(problem, traj.params, 0, 2)
    assert view.n3d < view.n2d < view.n_steps
    assert np.abs(view.path).max() < scaling.LIMIT_2D
    assert np.isfinite(view.grid.z).any()


def test_opening_step(badly_scaled):
    X, y = badly_scaled
    problem = make_problem(X, y)
    lam = eigs(design(X))[-1]
    good = run(problem, 0.5 / lam, max_steps=40, tol=0.0)
    assert scaling.opening_step(good) == 40
    bad = run(problem, 3 / lam)
    k = scaling.opening_step(bad)
    assert 0 < k < int(bad.step[-1])
    assert bad.loss[k] <= bad.loss[0] * scaling.OPENING_GROWTH < bad.loss[k + 1]


def test_nothing_here_leaks_a_runtime_warning(badly_scaled):
    # pytest turns RuntimeWarning into errors: a divergent run explained end to end must not raise.
    X, y = badly_scaled
    problem = make_problem(X, y)
    traj = run(problem, 100.0)
    scaling.rate_explanation(problem, 100.0, traj)
    scaling.slice_view(problem, traj.params, 1, 2)
    assert analysis.observed_regime(problem, traj) is Regime.DIVERGENT


def test_the_scaling_core_does_not_import_streamlit():
    import json
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import json, sys, gdviz.scaling, gdviz.plots.scaling\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    loaded = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert "gdviz" in loaded and "numpy" in loaded and "streamlit" not in loaded
