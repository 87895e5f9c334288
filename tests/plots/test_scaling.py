"""gdviz.plots.scaling: each spec means what it says (trace types, data, log axes, labels, masked
non-finite values), and every spec is a valid Plotly figure."""

from __future__ import annotations

import numpy as np
import pytest

from gdviz import engine, optimizers, plots, scaling
from gdviz.analysis import Regime
from gdviz.data import SCALINGS, make_problem
from gdviz.plots._spec import REGIME_COLORS


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(1)
    X = np.column_stack([rng.normal(2, 1, 100), rng.normal(1000, 500, 100)])
    y = 1 + X @ np.array([0.5, 0.002]) + 0.1 * rng.standard_normal(100)
    return make_problem(X, y, feature_names=["small", "big"])


def traj_of(problem, lr, max_steps=500):
    return engine.collect(engine.run(problem, optimizers.gd(lr), max_steps=max_steps))


def test_feature_scales_bars_are_the_spreads_on_a_log_axis():
    X = np.array([[1.0, 1000.0, 5.0], [2.0, 3000.0, 5.0], [4.0, 2000.0, 5.0]])
    spread = scaling.feature_spread(X, ["a", "b", "const"])
    spec = plots.scaling.feature_scales(spread)
    std, rng = spec["data"]
    assert std["type"] == rng["type"] == "bar"
    assert std["x"] == ["a", "b"]  # the constant column cannot sit on a log axis: left out, and said
    np.testing.assert_allclose(std["y"], X.std(axis=0)[:2])
    np.testing.assert_allclose(rng["y"], [3.0, 2000.0])
    assert rng["text"] == ["3", "2,000"]
    assert spec["layout"]["yaxis"]["type"] == "log"
    assert "constant, not drawn: const" in spec["layout"]["title"]["text"]
    plots.encode.to_figure(spec)


def test_grad_bars_mask_non_finite_and_say_so():
    spec = plots.playground.grad_bars(
        np.array([1.0, -5833.0, np.inf]), ["intercept", "Population", "x"], step=7, **plots.scaling.GRAD_BARS
    )
    bar = spec["data"][0]
    assert bar["x"] == ["intercept", "Population"]
    np.testing.assert_allclose(bar["y"], [1.0, 5833.0])
    assert bar["text"] == ["1", "5,833"]
    assert spec["layout"]["yaxis"]["type"] == "log"
    assert "|gradient| at step 7" in spec["layout"]["title"]["text"]
    assert "not drawn: x" in spec["layout"]["title"]["text"]
    assert (
        "start"
        in plots.playground.grad_bars(np.ones(2), ["a", "b"], step=0, **plots.scaling.GRAD_BARS)["layout"]["title"][
            "text"
        ]
    )
    plots.encode.to_figure(spec)


def test_grad_history_names_and_dashes(problem):
    traj = traj_of(problem, 1e-7)
    names = [f"p{k}" for k in range(10)]
    wide = traj._replace(grads=np.tile(traj.grads[:, :1], (1, 10)))
    spec = plots.scaling.grad_history(wide, names, current_step=3)
    assert [t["name"] for t in spec["data"]] == names
    dashes = [t["line"]["dash"] for t in spec["data"]]
    assert dashes[0] == "solid" and dashes[len(plots._spec.PARAM_COLORS)] == "dash"  # colours repeat, dashes tell
    assert spec["layout"]["yaxis"]["type"] == "log"
    plots.encode.to_figure(spec)


def test_grad_history_and_loss_of_a_diverged_run(problem):
    lam = np.linalg.eigvalsh(problem.hessian())[-1]
    traj = traj_of(problem, 3 / lam, max_steps=5000)
    assert traj.status is engine.Status.DIVERGED
    spec = plots.scaling.grad_history(traj, problem.param_names, current_step=2)
    assert f"diverged at step {int(traj.step[-1]):,}" in spec["layout"]["title"]["text"]
    loss = plots.scaling.loss_curve(traj, floor=problem.optimum_loss, current_step=2)
    lo, hi = loss["layout"]["yaxis"]["range"]
    finite = traj.loss[np.isfinite(traj.loss)]
    assert (
        np.log10(finite.max()) <= hi <= np.log10(np.finfo(float).max)
    )  # every finite value is inside, no "Infinity" tick
    plots.encode.to_figure(loss)


def test_thresholds_chart_colours_each_scaling_by_regime(problem):
    problems = {s: make_problem(problem.X1[:, 1:], problem.y, scaling=s) for s in SCALINGS}
    rows = scaling.compare_scalings(problems, 1e-3, max_steps=20)
    spec = plots.scaling.thresholds(rows, 1e-3)
    bars, line = spec["data"]
    np.testing.assert_allclose(bars["y"], [r.stable_max for r in rows])
    assert bars["marker"]["color"] == [REGIME_COLORS[r.regime] for r in rows]
    assert all(plots._spec.REGIME_LABELS[r.regime] in t for r, t in zip(rows, bars["text"], strict=True))
    assert line["y"] == [1e-3] * 4 and "your rate" in line["name"]
    assert rows[0].regime is Regime.DIVERGENT  # raw: the big feature makes 1e-3 divergent
    plots.encode.to_figure(spec)


@pytest.mark.parametrize("hold", ["current", "optimum"])
def test_slice_charts(problem, hold):
    traj = traj_of(problem, 1e-7, max_steps=20)
    view = scaling.slice_view(problem, traj.params, 0, 2, hold=hold, n=9)
    surface, contour = plots.scaling.slice_charts(view, problem.param_names)
    assert surface["data"][0]["type"] == "surface" and {t["type"] for t in contour["data"]} == {"scatter"}
    assert len(contour["layout"]["shapes"]) >= 5
    assert contour["layout"]["xaxis"]["title"]["text"] == "intercept"
    assert contour["layout"]["yaxis"]["title"]["text"] == "big"
    assert contour["layout"]["yaxis"]["scaleanchor"] == "x"  # same units on both axes
    assert scaling.HOLD_MODES[hold] in contour["layout"]["title"]["text"]
    path = [t for t in contour["data"] if t["name"] == "path (projected)"][0]
    np.testing.assert_allclose(path["x"], traj.params[:, 0])
    path3 = [t for t in surface["data"] if t["name"] == "path (projected on this slice)"][0]
    np.testing.assert_allclose(path3["z"], view.path_loss)
    plots.encode.to_figure(surface)
    plots.encode.to_figure(contour)


def test_slice_charts_of_a_diverged_run_say_where_the_path_stops(problem):
    lam = np.linalg.eigvalsh(problem.hessian())[-1]
    traj = traj_of(problem, 3 / lam, max_steps=5000)
    view = scaling.slice_view(problem, traj.params, 0, 2)
    surface, contour = plots.scaling.slice_charts(view, problem.param_names)
    assert f"3D path stops at step {view.n3d - 1}" in surface["layout"]["annotations"][0]["text"]
    assert f"path drawn to step {view.n2d - 1}" in contour["layout"]["title"]["text"]
    plots.encode.to_json(surface)
    plots.encode.to_json(contour)


def test_slice_charts_downsample_a_long_path(problem):
    traj = engine.collect(engine.run(problem, optimizers.gd(1e-7), tol=0.0, max_steps=20_000))
    view = scaling.slice_view(problem, traj.params, 0, 2, n=9)
    surface, contour = plots.scaling.slice_charts(view, problem.param_names)
    path = [t for t in contour["data"] if t["name"] == "path (projected)"][0]
    path3 = [t for t in surface["data"] if t["name"] == "path (projected on this slice)"][0]
    assert len(path["x"]) == len(path3["x"]) <= plots._spec.MAX_POINTS + 300
    assert path["x"][0] == traj.params[0, 0] and path["x"][-1] == traj.params[-1, 0]  # first and last kept
