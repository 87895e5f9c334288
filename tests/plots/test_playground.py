"""gdviz.plots.playground: the figures carry the right meaning: trace names, data, axis types, masking and
annotations.

Builders return plain Plotly figure specs (dicts). Oracles: Plotly's own validation (``go.Figure(spec)``)
and its own JSON encoding of the same spec, and the raw runs.
"""

from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import pytest

from gdviz import analysis, data, engine, optimizers, playback, plots
from tests.chart_utils import assert_encodes_like_plotly, check_contour_levels, contour_hover, contour_levels

BUILDERS = ("surface_3d", "contour_path", "fitted_lines", "loss_curve", "grad_history", "grad_bars")


def _run(lr, max_steps=3000):
    ds = data.synthetic_line()
    problem = data.make_problem(ds.X, ds.y)
    return problem, engine.collect(engine.run(problem, optimizers.gd(lr), max_steps=max_steps))


def _trace(fig: dict, name: str) -> dict:
    matches = [t for t in fig["data"] if t.get("name") == name]
    assert matches, f"no trace named {name!r}; have {[t.get('name') for t in fig['data']]}"
    return matches[0]


def _regime_run(regime: str, max_steps: int = 10_000):
    """(dataset, problem, run) of plain GD at this regime's representative rate on the default line."""
    ds = data.synthetic_line()
    problem = data.make_problem(ds.X, ds.y, feature_names=["x"])
    lr = 0.05 if regime == "ordinary" else analysis.regime_rates(problem)[regime]
    return ds, problem, engine.collect(engine.run(problem, optimizers.gd(lr), max_steps=max_steps))


def _all_figures(ds, problem, traj, step: int | None = None) -> dict[str, dict]:
    """The six Playground figures of ``traj`` at ``step`` (default: its last), built as the page builds them."""
    head = traj if step is None else playback.head(traj, step)
    cursor = int(head.step[-1])
    opt = problem.optimum
    (x0, x1), (y0, y1) = playback.window(head.params, np.vstack([head.params[0], opt]))
    grid = analysis.loss_grid(problem, 0, 1, x_range=(x0, x1), y_range=(y0, y1), n=30)
    idx = plots._spec.downsample_indices(head.n_states)
    names = ("intercept", "slope")
    raw = problem.raw_params
    return {
        "surface_3d": plots.playground.surface_3d(
            grid, head.params[idx], head.loss[idx], optimum=opt, optimum_loss=problem.optimum_loss, names=names
        ),
        "contour_path": plots.playground.contour_path(grid, head.params[idx], optimum=opt, names=names),
        "fitted_lines": plots.playground.fitted_lines(ds.X[:, 0], ds.y, raw(head.params[-13:]), optimum_raw=raw(opt)),
        "loss_curve": plots.playground.loss_curve(
            head, predicted=np.linspace(100, 1, head.n_states), floor=problem.optimum_loss, current_step=cursor
        ),
        "grad_history": plots.playground.grad_history(head, names, current_step=cursor),
        "grad_bars": plots.playground.grad_bars(head.grads[-1], names),
    }


def _numbers(value) -> np.ndarray:
    """Every number in a spec value (an array, a nested list, a scalar), as float64; None and strings skipped."""
    flat = np.ravel(np.asarray(value, dtype=object))
    return np.array([v for v in flat if v is not None and not isinstance(v, str)], dtype=float)


# ---------------------------------------------------------------------------------------------
# Meaning of each figure
# ---------------------------------------------------------------------------------------------


def test_loss_curve_traces_and_log_axis():
    problem, traj = _run(0.05)
    pred = np.linspace(10, 1, traj.n_states)
    fig = plots.playground.loss_curve(traj, predicted=pred, floor=problem.optimum_loss, current_step=5)
    assert isinstance(fig, dict) and set(fig) == {"data", "layout"}
    names = [t["name"] for t in fig["data"]]
    assert names[0] == "predicted (closed form)"  # drawn behind the measured curve
    assert "measured loss" in names
    assert any(n.startswith("least-squares floor") for n in names)
    assert fig["layout"]["yaxis"]["type"] == "log"
    np.testing.assert_allclose(_trace(fig, "measured loss")["y"], traj.loss)
    floor = next(t for t in fig["data"] if t["name"].startswith("least-squares floor"))
    assert floor["y"][0] == problem.optimum_loss
    marker = _trace(fig, "step 5")
    assert marker["x"] == [5] and marker["y"] == [traj.loss[5]]


def test_loss_curve_masks_and_annotates_divergence():
    _, traj = _run(0.25, max_steps=10_000)
    assert traj.status == engine.Status.DIVERGED
    fig = plots.playground.loss_curve(traj)
    measured = _trace(fig, "measured loss")
    assert np.all(np.isfinite(measured["y"]))
    assert max(measured["y"]) > 1e200  # astronomically large values stay visible on the log axis
    texts = [a["text"] for a in fig["layout"]["annotations"]]
    assert any(f"diverged at step {traj.step[-1]}" in t for t in texts)


def test_path_figures_draw_the_run():
    ds = data.synthetic_line()
    problem = data.make_problem(ds.X, ds.y, feature_names=["x"])
    traj = engine.collect(
        engine.run(problem, optimizers.gd(analysis.regime_rates(problem)["oscillating"]), max_steps=30)
    )
    path = traj.params
    lo, hi = np.minimum(path.min(axis=0), problem.optimum), np.maximum(path.max(axis=0), problem.optimum)
    pad = 0.15 * (hi - lo)  # a window around the whole path and the optimum
    grid = analysis.loss_grid(problem, 0, 1, x_range=(lo[0] - pad[0], hi[0] + pad[0]),
                              y_range=(lo[1] - pad[1], hi[1] + pad[1]), n=40)  # fmt: skip
    names = ("intercept", "slope")
    surf = plots.playground.surface_3d(
        grid, path, traj.loss, optimum=problem.optimum, optimum_loss=problem.optimum_loss, names=names
    )
    assert [t["type"] for t in surf["data"]][:2] == ["surface", "scatter3d"]
    np.testing.assert_array_equal(surf["data"][0]["z"], grid.z)
    drawn = _trace(surf, "path")
    np.testing.assert_allclose(drawn["x"], path[:, 0])
    np.testing.assert_allclose(drawn["z"], traj.loss)
    assert surf["layout"]["scene"]["xaxis"]["title"]["text"] == "intercept"
    assert surf["layout"]["scene"]["xaxis"]["range"] == [grid.x[0], grid.x[-1]]
    cont = plots.playground.contour_path(grid, path, optimum=problem.optimum, names=names)
    assert {t["type"] for t in cont["data"]} == {"scatter"}
    # The contours lie on their levels of the loss computed from the data (no scaling: X1 = [1, x]).
    X1 = np.column_stack([np.ones(len(ds.y)), ds.X[:, 0]])
    assert check_contour_levels(cont, lambda w: np.log10(np.mean((w @ X1.T - ds.y) ** 2, axis=1))) > 300
    hx, hy, hz = contour_hover(cont)  # the hover read-out: log10 loss at grid points
    np.testing.assert_allclose(hz, np.log10(np.mean((np.column_stack([hx, hy]) @ X1.T - ds.y) ** 2, axis=1)), rtol=1e-9)
    hand = plots.playground.contour_path(grid._replace(plane=None), path, optimum=problem.optimum, names=names)
    assert hand["data"][0]["type"] == "contour" and "shapes" not in hand["layout"]  # a grid without a plane
    np.testing.assert_allclose(hand["data"][0]["z"], np.log10(grid.z))
    assert cont["layout"]["xaxis"]["range"] == [grid.x[0], grid.x[-1]]
    # Every drawn point lies inside the plotted range: the path is never clipped.
    assert grid.x[0] <= path[:, 0].min() and path[:, 0].max() <= grid.x[-1]
    lines = plots.playground.fitted_lines(
        ds.X[:, 0], ds.y, problem.raw_params(path), optimum_raw=problem.raw_params(problem.optimum)
    )
    current = next(t for t in lines["data"] if t["name"].startswith("current fit"))
    b, m = path[-1]  # no scaling: raw params are the params
    np.testing.assert_allclose(current["y"], b + m * np.array([ds.X.min(), ds.X.max()]))
    lo, hi = lines["layout"]["yaxis"]["range"]
    assert lo < min(ds.y.min(), *current["y"]) and max(ds.y.max(), *current["y"]) < hi
    hist = plots.playground.grad_history(traj, names, current_step=7)
    np.testing.assert_allclose(hist["data"][0]["y"], np.abs(traj.grads[:, 0]))
    assert hist["layout"]["yaxis"]["type"] == "log"
    (vline,) = hist["layout"]["shapes"]
    assert vline["type"] == "line" and vline["x0"] == vline["x1"] == 7 and vline["yref"] == "y domain"
    bars = plots.playground.grad_bars(traj.grads[3], names)
    np.testing.assert_allclose(bars["data"][0]["y"], np.abs(traj.grads[3]))
    assert bars["layout"]["yaxis"]["type"] == "log"


# ---------------------------------------------------------------------------------------------
# Specs: valid Plotly, no template, finite plotted data
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("regime", ["ordinary", "slow", "oscillating", "divergent"])
def test_every_builder_returns_a_valid_spec_without_template(regime):
    ds, problem, traj = _regime_run(regime)
    for step in (0, 3, traj.n_states // 2, None):
        specs = _all_figures(ds, problem, traj, step)
        assert set(specs) == set(BUILDERS)
        for name, spec in specs.items():
            assert isinstance(spec, dict) and set(spec) == {"data", "layout"}, name
            assert "template" not in spec["layout"], name
            fig = plots.encode.to_figure(spec)  # Plotly validates every property; raises on an invalid one
            assert isinstance(fig, go.Figure)
            assert [t.type for t in fig.data] == [t["type"] for t in spec["data"]], name


def test_divergent_figures_plot_only_finite_numbers():
    ds, problem, traj = _regime_run("divergent")
    assert traj.status == engine.Status.DIVERGED
    for step in (traj.n_states - 3, None):
        specs = _all_figures(ds, problem, traj, step)
        for name, spec in specs.items():
            for trace in spec["data"]:
                for key in ("x", "y", "z"):
                    if key in trace:
                        values = _numbers(trace[key])
                        assert np.isfinite(values).all(), (name, trace.get("name"), key)
        measured = _trace(specs["loss_curve"], "measured loss")
        assert np.max(measured["y"]) > 1e200
    # The window the page draws at the end holds losses beyond float64: the surface draws log10 of the loss
    # there (finite everywhere, no gaps), on a z axis that says so.
    head_params = traj.params
    (x0, x1), (y0, y1) = playback.window(head_params, np.vstack([head_params[0], problem.optimum]))
    grid = analysis.loss_grid(problem, 0, 1, x_range=(x0, x1), y_range=(y0, y1), n=30)
    assert not np.isfinite(grid.z).all()
    z = np.asarray(specs["surface_3d"]["data"][0]["z"], dtype=float)
    ok = np.isfinite(grid.z)
    np.testing.assert_allclose(z[ok], np.log10(grid.z[ok]), rtol=1e-12)
    assert specs["surface_3d"]["layout"]["scene"]["zaxis"]["title"]["text"] == "log10 loss"


# ---------------------------------------------------------------------------------------------
# JSON: every builder's spec encodes as Plotly encodes it
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("regime", ["ordinary", "divergent"])
def test_to_json_of_every_builder_matches_plotly(regime):
    ds, problem, traj = _regime_run(regime)
    for spec in _all_figures(ds, problem, traj).values():
        mine = assert_encodes_like_plotly(spec)
        for trace in mine["data"]:
            for value in trace.values():
                if isinstance(value, dict) and "dtype" in value:
                    assert value["dtype"] in {"f8", "f4", "i1", "i2", "i4", "u1", "u2", "u4"}
    surface = json.loads(plots.encode.to_json(_all_figures(ds, problem, traj)["surface_3d"]))["data"][0]
    if regime == "ordinary":
        assert surface["z"]["shape"] == "30, 30"  # a 2-D typed array


def test_surface_note_is_shown_under_its_title():
    ds = data.synthetic_line()
    problem = data.make_problem(ds.X, ds.y)
    from gdviz import analysis

    grid = analysis.loss_grid(problem, 0, 1, x_range=(-1, 1), y_range=(-1, 1), n=5)
    path = np.zeros((1, 2))
    spec = plots.playground.surface_3d(grid, path, problem.loss(path), optimum=problem.optimum, optimum_loss=1.0,
                              names=("a", "b"), note="stops at step 3")  # fmt: skip
    assert spec["layout"]["title"]["text"] == "Loss surface, with the path"
    assert spec["layout"]["annotations"][0]["text"] == "stops at step 3"  # the note, under the chart's own title
    plain = plots.playground.surface_3d(grid, path, problem.loss(path), optimum=problem.optimum, optimum_loss=1.0,
                                        names=("a", "b"))  # fmt: skip
    assert plain["layout"]["title"]["text"] == "Loss surface, with the path"  # a 3D chart has a title too
    # The optimum is a "+" glyph: WebGL draws 3D markers with a font, and its "x" is an emoji many lack.
    assert plain["data"][-1]["marker"]["symbol"] == "cross"


def test_grad_bars_axis_starts_a_decade_below_the_smallest_bar():
    # On a log axis a bar rises from the axis' bottom: starting just under the smallest bar made 20 look
    # like a twentieth of 43.
    spec = plots.playground.grad_bars(np.array([20.3, -43.3]), ("intercept", "slope"))
    lo, hi = spec["layout"]["yaxis"]["range"]
    assert lo <= np.log10(20.3) - 1
    assert hi >= np.log10(43.3)


def test_contour_and_surface_show_the_valley_where_the_loss_overflows():
    # The diabetes table on a raw feature at the default rate diverges: by its last step the window spans
    # 1e154 and J overflows float64 over the whole grid. The charts draw log10 J, never a blank field.
    ds = data.load_dataset("diabetes")
    problem = data.make_problem(ds.X[:, :1], ds.y)
    traj = engine.collect(engine.run(problem, optimizers.gd(0.05), max_steps=10_000))
    assert traj.status is engine.Status.DIVERGED
    k = int(np.flatnonzero(np.isfinite(traj.params).all(axis=1))[-1])  # the last finite step
    head = playback.head(traj, k)
    (x0, x1), (y0, y1) = playback.window(head.params, np.vstack([head.params[0], problem.optimum]))
    grid = analysis.loss_grid(problem, 0, 1, x_range=(x0, x1), y_range=(y0, y1), n=20)
    assert not np.isfinite(grid.z).any()  # the setting of the bug: every cell overflows
    # Oracle: log10 J at a corner, from the raw data with the scale pulled out of the square in the test.
    w = np.array([grid.x[0], grid.y[0]])
    s = np.abs(w).max()
    X1 = np.column_stack([np.ones(len(ds.y)), ds.X[:, 0]])
    expected = 2 * np.log10(s) + np.log10(np.mean((X1 @ (w / s) - ds.y / s) ** 2))
    names = ("intercept", "slope")
    spec = plots.playground.contour_path(grid, head.params, optimum=problem.optimum, names=names)
    hx, hy, z = contour_hover(spec)
    assert np.isfinite(z).all() and z.max() - z.min() > 1  # a field with a valley, not a flat or empty one
    assert (hx[0], hy[0]) == (grid.x[0], grid.y[0]) and z[0] == pytest.approx(expected, rel=1e-9)
    assert _trace(spec, "log10 loss")["marker"]["colorbar"]["title"]["text"] == "log10 loss"

    def log10_loss(W):  # the same oracle at every vertex of the contours
        s = np.abs(W).max(axis=1, keepdims=True)
        return 2 * np.log10(s[:, 0]) + np.log10(np.mean(((W / s) @ X1.T - ds.y / s) ** 2, axis=1))

    assert max(level for level, _ in contour_levels(spec)) > 300
    assert check_contour_levels(spec, log10_loss, tol=1e-6) > 100
    fig = plots.playground.surface_3d(
        grid, head.params[:5], head.loss[:5], optimum=problem.optimum, optimum_loss=problem.optimum_loss, names=names
    )
    surface = _trace(fig, "loss surface")
    sz = np.asarray(surface["z"], dtype=float)
    assert np.isfinite(sz).all() and sz[0, 0] == pytest.approx(expected, rel=1e-9)
    assert fig["layout"]["scene"]["zaxis"]["title"]["text"] == "log10 loss"
    path_z = np.asarray(_trace(fig, "path")["z"], dtype=float)
    np.testing.assert_allclose(path_z, np.log10(head.loss[:5]))  # the path on the same (log) axis
    # The path stays as computed: every finite step is drawn, up to the window's edge.
    drawn = _trace(plots.playground.contour_path(grid, head.params, optimum=problem.optimum, names=names), "path")
    np.testing.assert_array_equal(np.asarray(drawn["x"], dtype=float), head.params[:, 0])


def test_surface_of_an_ordinary_run_keeps_the_loss_axis():
    problem, traj = _run(0.05, max_steps=50)
    figs = _all_figures(data.synthetic_line(), problem, traj)
    assert figs["surface_3d"]["layout"]["scene"]["zaxis"]["title"]["text"] == "loss"


def test_grad_bars_label_each_value_and_say_how_far_apart_they_are():
    # Gradients 1e-3 apart: on a log axis the small bar still looks a decade tall, so the text and the ratio
    # carry the comparison. Oracle: the numbers written here.
    fig = plots.playground.grad_bars(np.array([-2.5e-4, 0.75]), ("intercept", "slope on x"))
    bars = fig["data"][0]
    assert bars["text"] == ["0.00025", "0.75"]
    assert bars["cliponaxis"] is False
    assert fig["layout"]["yaxis"]["type"] == "log"
    title = fig["layout"]["title"]["text"]
    assert "|dJ/d slope on x| is 3,000x |dJ/d intercept|" in title
    one = plots.playground.grad_bars(np.array([0.0, 0.5]), ("intercept", "slope"))  # one positive bar: no ratio to give
    assert "x |dJ/d" not in one["layout"]["title"]["text"]
