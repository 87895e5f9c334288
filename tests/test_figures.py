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
