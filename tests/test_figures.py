"""Figures carry the right meaning: trace names, data, axis types, masking and annotations."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from gdviz import data, engine, figures, optimizers


def _run(lr, max_steps=3000):
    ds = data.synthetic_line()
    problem = data.make_problem(ds.X, ds.y)
    return problem, engine.collect(engine.run(problem, optimizers.gd(lr), max_steps=max_steps))


def test_downsample_keeps_ends_and_bounds_size():
    idx = figures.downsample_indices(100_001)
    assert idx[0] == 0 and idx[-1] == 100_000
    assert len(idx) <= 2 * figures.MAX_POINTS
    assert np.all(np.diff(idx) > 0)
    np.testing.assert_array_equal(figures.downsample_indices(50), np.arange(50))


def test_loss_curve_traces_and_log_axis():
    problem, traj = _run(0.05)
    pred = np.linspace(10, 1, traj.n_states)
    fig = figures.loss_curve(traj, predicted=pred, floor=problem.optimum_loss, current_step=5)
    assert isinstance(fig, go.Figure)
    names = [t.name for t in fig.data]
    assert names[0] == "predicted (closed form)"  # drawn behind the measured curve
    assert "measured loss" in names
    assert any(n.startswith("least-squares floor") for n in names)
    assert fig.layout.yaxis.type == "log"
    measured = next(t for t in fig.data if t.name == "measured loss")
    np.testing.assert_allclose(measured.y, traj.loss)
    floor = next(t for t in fig.data if t.name.startswith("least-squares floor"))
    assert floor.y[0] == problem.optimum_loss


def test_loss_curve_masks_and_annotates_divergence():
    _, traj = _run(0.25, max_steps=10_000)
    assert traj.status == engine.Status.DIVERGED
    fig = figures.loss_curve(traj)
    measured = next(t for t in fig.data if t.name == "measured loss")
    assert np.all(np.isfinite(measured.y))
    assert max(measured.y) > 1e200  # astronomically large values stay visible on the log axis
    texts = [a.text for a in fig.layout.annotations]
    assert any(f"diverged at step {traj.step[-1]}" in t for t in texts)


def test_regime_colours_are_distinct_and_labelled():
    assert len(set(figures.REGIME_COLORS.values())) == 4
    assert set(figures.REGIME_COLORS) == set(figures.REGIME_LABELS)


def test_view_range_covers_the_whole_path_and_the_optimum():
    path = np.array([0.0, 5.0, -40.0, 300.0, np.inf])
    lo, hi = figures.view_range(path, np.array([2.0]))
    assert lo < -40.0 and hi > 300.0 and np.isfinite([lo, hi]).all()


def test_path_figures_draw_the_run():
    from gdviz import analysis

    ds = data.synthetic_line()
    problem = data.make_problem(ds.X, ds.y, feature_names=["x"])
    traj = engine.collect(
        engine.run(problem, optimizers.gd(analysis.regime_rates(problem)["oscillating"]), max_steps=30)
    )
    path = traj.params
    grid = analysis.loss_grid(
        problem,
        0,
        1,
        x_range=figures.view_range(path[:, 0], problem.optimum[:1]),
        y_range=figures.view_range(path[:, 1], problem.optimum[1:]),
        n=40,
    )
    names = ("intercept", "slope")
    surf = figures.surface_3d(
        grid, path, traj.loss, optimum=problem.optimum, optimum_loss=problem.optimum_loss, names=names
    )
    assert [t.type for t in surf.data][:2] == ["surface", "scatter3d"]
    drawn = next(t for t in surf.data if t.name == "path")
    np.testing.assert_allclose(drawn.x, path[:, 0])
    np.testing.assert_allclose(drawn.z, traj.loss)
    cont = figures.contour_path(grid, path, optimum=problem.optimum, names=names)
    assert cont.data[0].type == "contour"
    # Every drawn point lies inside the plotted range: the path is never clipped.
    assert grid.x[0] <= path[:, 0].min() and path[:, 0].max() <= grid.x[-1]
    lines = figures.fitted_lines(
        ds.X[:, 0], ds.y, problem.raw_params(path), optimum_raw=problem.raw_params(problem.optimum)
    )
    current = next(t for t in lines.data if t.name.startswith("current fit"))
    b, m = path[-1]  # no scaling: raw params are the params
    np.testing.assert_allclose(current.y, b + m * np.array([ds.X.min(), ds.X.max()]))
    hist = figures.grad_history(traj, names)
    np.testing.assert_allclose(hist.data[0].y, np.abs(traj.grads[:, 0]))
    bars = figures.grad_bars(traj.grads[3], names)
    np.testing.assert_allclose(bars.data[0].y, np.abs(traj.grads[3]))
    assert bars.layout.yaxis.type == "log"
