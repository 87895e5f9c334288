"""Figures carry the right meaning: trace names, data, axis types, masking and annotations.

Builders return plain Plotly figure specs (dicts). Oracles: Plotly's own validation (``go.Figure(spec)``)
and its own JSON encoding of the same spec, base64 bytes written here with NumPy, and the raw runs.
"""

from __future__ import annotations

import base64
import json
import math

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from gdviz import analysis, data, engine, figures, optimizers, playback
from tests.chart_utils import decode

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
    idx = figures.downsample_indices(head.n_states)
    names = ("intercept", "slope")
    raw = problem.raw_params
    return {
        "surface_3d": figures.surface_3d(
            grid, head.params[idx], head.loss[idx], optimum=opt, optimum_loss=problem.optimum_loss, names=names
        ),
        "contour_path": figures.contour_path(grid, head.params[idx], optimum=opt, names=names),
        "fitted_lines": figures.fitted_lines(ds.X[:, 0], ds.y, raw(head.params[-13:]), optimum_raw=raw(opt)),
        "loss_curve": figures.loss_curve(
            head, predicted=np.linspace(100, 1, head.n_states), floor=problem.optimum_loss, current_step=cursor
        ),
        "grad_history": figures.grad_history(head, names, current_step=cursor),
        "grad_bars": figures.grad_bars(head.grads[-1], names),
    }


def _numbers(value) -> np.ndarray:
    """Every number in a spec value (an array, a nested list, a scalar), as float64; None and strings skipped."""
    flat = np.ravel(np.asarray(value, dtype=object))
    return np.array([v for v in flat if v is not None and not isinstance(v, str)], dtype=float)


def _strict_loads(text: str):
    """json.loads as JSON.parse: NaN, Infinity and -Infinity are errors."""

    def reject(constant):
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=reject)


def _decoded(value):
    """A JSON value with every typed array (and every list of numbers) as a float64 array, for comparison."""
    if isinstance(value, dict) and "bdata" in value:
        return decode(value).astype(float)
    if isinstance(value, dict):
        return {k: _decoded(v) for k, v in value.items()}
    if isinstance(value, list) and value and all(isinstance(v, (int, float, bool)) or v is None for v in value):
        return np.array([np.nan if v is None else v for v in value], dtype=float)
    if isinstance(value, list):
        return [_decoded(v) for v in value]
    return value


def _assert_same(mine, theirs, where="figure"):
    if isinstance(theirs, np.ndarray):
        assert isinstance(mine, np.ndarray), where
        assert mine.shape == theirs.shape, where
        np.testing.assert_array_equal(mine, theirs, err_msg=where)  # NaN == NaN here; inf == inf
    elif isinstance(theirs, dict):
        assert set(mine) == set(theirs), (where, set(mine) ^ set(theirs))
        for k in theirs:
            _assert_same(mine[k], theirs[k], f"{where}.{k}")
    elif isinstance(theirs, list):
        assert len(mine) == len(theirs), where
        for i, (a, b) in enumerate(zip(mine, theirs, strict=True)):
            _assert_same(a, b, f"{where}[{i}]")
    else:
        assert mine == theirs, where


def _assert_encodes_like_plotly(spec: dict) -> dict:
    """figures.to_json(spec) is valid strict JSON that decodes to what Plotly's own encoding decodes to."""
    mine = _strict_loads(figures.to_json(spec))
    theirs = json.loads(go.Figure(spec).to_json())
    theirs["layout"].pop("template", None)  # go.Figure adds Plotly's default template
    _assert_same(_decoded(mine), _decoded(theirs))
    return mine


# ---------------------------------------------------------------------------------------------
# Meaning of each figure
# ---------------------------------------------------------------------------------------------


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
    fig = figures.loss_curve(traj)
    measured = _trace(fig, "measured loss")
    assert np.all(np.isfinite(measured["y"]))
    assert max(measured["y"]) > 1e200  # astronomically large values stay visible on the log axis
    texts = [a["text"] for a in fig["layout"]["annotations"]]
    assert any(f"diverged at step {traj.step[-1]}" in t for t in texts)


def test_regime_colours_are_distinct_and_labelled():
    assert len(set(figures.REGIME_COLORS.values())) == 4
    assert set(figures.REGIME_COLORS) == set(figures.REGIME_LABELS)


def test_view_range_covers_the_whole_path_and_the_optimum():
    path = np.array([0.0, 5.0, -40.0, 300.0, np.inf])
    lo, hi = figures.view_range(path, np.array([2.0]))
    assert lo < -40.0 and hi > 300.0 and np.isfinite([lo, hi]).all()


def test_path_figures_draw_the_run():
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
    assert [t["type"] for t in surf["data"]][:2] == ["surface", "scatter3d"]
    np.testing.assert_array_equal(surf["data"][0]["z"], grid.z)
    drawn = _trace(surf, "path")
    np.testing.assert_allclose(drawn["x"], path[:, 0])
    np.testing.assert_allclose(drawn["z"], traj.loss)
    assert surf["layout"]["scene"]["xaxis"]["title"]["text"] == "intercept"
    assert surf["layout"]["scene"]["xaxis"]["range"] == [grid.x[0], grid.x[-1]]
    cont = figures.contour_path(grid, path, optimum=problem.optimum, names=names)
    assert cont["data"][0]["type"] == "contour"
    np.testing.assert_allclose(cont["data"][0]["z"], np.log10(grid.z))
    assert cont["layout"]["xaxis"]["range"] == [grid.x[0], grid.x[-1]]
    # Every drawn point lies inside the plotted range: the path is never clipped.
    assert grid.x[0] <= path[:, 0].min() and path[:, 0].max() <= grid.x[-1]
    lines = figures.fitted_lines(
        ds.X[:, 0], ds.y, problem.raw_params(path), optimum_raw=problem.raw_params(problem.optimum)
    )
    current = next(t for t in lines["data"] if t["name"].startswith("current fit"))
    b, m = path[-1]  # no scaling: raw params are the params
    np.testing.assert_allclose(current["y"], b + m * np.array([ds.X.min(), ds.X.max()]))
    lo, hi = lines["layout"]["yaxis"]["range"]
    assert lo < min(ds.y.min(), *current["y"]) and max(ds.y.max(), *current["y"]) < hi
    hist = figures.grad_history(traj, names, current_step=7)
    np.testing.assert_allclose(hist["data"][0]["y"], np.abs(traj.grads[:, 0]))
    assert hist["layout"]["yaxis"]["type"] == "log"
    (vline,) = hist["layout"]["shapes"]
    assert vline["type"] == "line" and vline["x0"] == vline["x1"] == 7 and vline["yref"] == "y domain"
    bars = figures.grad_bars(traj.grads[3], names)
    np.testing.assert_allclose(bars["data"][0]["y"], np.abs(traj.grads[3]))
    assert bars["layout"]["yaxis"]["type"] == "log"


def test_surface_keeps_the_camera():
    _, problem, traj = _regime_run("ordinary", max_steps=5)
    camera = {"eye": {"x": 1.5, "y": -1.0, "z": 0.7}}
    grid = analysis.loss_grid(problem, 0, 1, x_range=(-1.0, 6.0), y_range=(-1.0, 5.0), n=10)
    spec = figures.surface_3d(
        grid, traj.params, traj.loss, optimum=problem.optimum, optimum_loss=1.0, names=("a", "b"), camera=camera
    )
    assert spec["layout"]["scene"]["camera"] == camera
    assert figures.to_figure(spec).layout.scene.camera.eye.x == 1.5


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
            fig = figures.to_figure(spec)  # Plotly validates every property; raises on an invalid one
            assert isinstance(fig, go.Figure)
            assert [t.type for t in fig.data] == [t["type"] for t in spec["data"]], name


def test_to_figure_raises_on_an_invalid_property():
    with pytest.raises(ValueError, match="colour"):
        figures.to_figure({"data": [{"type": "scatter", "x": [1], "y": [2], "colour": "red"}], "layout": {}})
    with pytest.raises(ValueError):
        figures.to_figure({"data": [], "layout": {"yaxis": {"type": "logarithmic"}}})


def test_styled_applies_the_template_and_keeps_the_spec():
    _, _, traj = _regime_run("ordinary", max_steps=20)
    spec = figures.loss_curve(traj)
    fig = figures.styled(spec)
    assert isinstance(fig, go.Figure)
    white = pio.templates[figures.TEMPLATE].layout
    assert fig.layout.template.layout.plot_bgcolor == white.plot_bgcolor
    assert [t.name for t in fig.data] == [t["name"] for t in spec["data"]]
    assert "template" not in spec["layout"]  # the spec itself is left alone


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
# to_json: Plotly's encoding, fast
# ---------------------------------------------------------------------------------------------


def test_to_json_encodes_arrays_as_plotly_does():
    rng = np.random.default_rng(1)
    surface_z = rng.normal(size=(4, 5))
    surface_z[1, 2], surface_z[3, 0], surface_z[0, 4] = np.nan, np.inf, -np.inf
    spec = {
        "data": [
            {
                "type": "surface",
                "x": np.linspace(0, 1, 5),
                "y": np.arange(4, dtype=np.int64),
                "z": surface_z,
                "name": "surface",
            },
            {
                "type": "scatter",
                "x": np.arange(300, dtype=np.int64),  # int16 range
                "y": np.array([1.5, np.nan, np.inf, -np.inf, 2.0] * 60),
                "error_y": {"array": np.array([0, 70_000, -3], dtype=np.int64)},  # int32 range
                "ids": np.array(["a", "b"]),
                "marker": {
                    "size": np.array([4, 8, 250], dtype=np.uint8),
                    "opacity": np.array([0.5, 1.0], dtype=np.float32),
                    "color": ["#000000", "#FFFFFF"],
                },
                "customdata": [np.float64(1.25), np.int64(3), "label"],
            },
            {
                "type": "scatter",
                "x": np.array([0, 2**40, -(2**35)], dtype=np.int64),  # beyond int32
                "y": np.arange(12.0).reshape(3, 4)[:, 1],  # a non-contiguous view
                "selectedpoints": np.array([True, False, True]),
            },
            {
                "type": "heatmap",
                "z": np.asfortranarray(np.arange(6.0).reshape(2, 3)),  # column-major in memory
                "x": np.array([1.0, 2.0, 3.0], dtype=">f8"),  # big-endian
            },
            {"type": "scatter", "x": [1, 2, 3], "y": [1.0, float("nan"), float("inf")], "name": np.str_("py")},
        ],
        "layout": {
            "height": np.int64(300),
            "xaxis": {"range": np.array([0.0, 2.5])},
            "annotations": [{"x": np.float32(0.5), "y": np.float64(2.0), "text": "note"}],
        },
    }
    mine = _assert_encodes_like_plotly(spec)
    surface, scatter, wide, heatmap, py_lists = mine["data"]

    # Independent byte-level oracle: base64 of the little-endian float64 values, NaN and inf included.
    assert surface["z"]["dtype"] == "f8" and surface["z"]["shape"] == "4, 5"
    assert base64.b64decode(surface["z"]["bdata"]) == surface_z.astype("<f8").tobytes()
    y = decode(scatter["y"])
    assert np.isnan(y[1]) and y[2] == np.inf and y[3] == -np.inf
    # No 64-bit integers in plotly.js typed arrays; bool as uint8.
    assert surface["y"]["dtype"] in {"i1", "i2", "i4"} and scatter["x"]["dtype"] in {"i2", "i4"}
    assert scatter["error_y"]["array"]["dtype"] == "i4"
    np.testing.assert_array_equal(decode(wide["x"]), [0, 2**40, -(2**35)])
    assert wide["x"]["dtype"] == "f8"
    assert wide["selectedpoints"]["dtype"] == "u1"
    np.testing.assert_array_equal(decode(wide["selectedpoints"]), [1, 0, 1])
    np.testing.assert_array_equal(decode(heatmap["z"]), np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(decode(heatmap["x"]), [1.0, 2.0, 3.0])
    assert scatter["ids"] == ["a", "b"] and scatter["customdata"] == [1.25, 3, "label"]
    # Non-finite Python floats become null; NumPy scalars become numbers; ranges stay lists.
    assert py_lists["y"] == [1.0, None, None] and py_lists["name"] == "py"
    assert mine["layout"]["height"] == 300 and mine["layout"]["xaxis"]["range"] == [0.0, 2.5]
    assert mine["layout"]["annotations"][0]["x"] == 0.5
    # The spec is not modified by encoding it.
    assert isinstance(spec["data"][0]["z"], np.ndarray) and math.isinf(spec["data"][0]["z"][3, 0])


def test_to_json_rejects_what_json_cannot_hold():
    with pytest.raises(TypeError):
        figures.to_json({"data": [{"type": "scatter", "x": [object()]}], "layout": {}})


@pytest.mark.parametrize("regime", ["ordinary", "divergent"])
def test_to_json_of_every_builder_matches_plotly(regime):
    ds, problem, traj = _regime_run(regime)
    for spec in _all_figures(ds, problem, traj).values():
        mine = _assert_encodes_like_plotly(spec)
        for trace in mine["data"]:
            for value in trace.values():
                if isinstance(value, dict) and "dtype" in value:
                    assert value["dtype"] in {"f8", "f4", "i1", "i2", "i4", "u1", "u2", "u4"}
    surface = json.loads(figures.to_json(_all_figures(ds, problem, traj)["surface_3d"]))["data"][0]
    if regime == "ordinary":
        assert surface["z"]["shape"] == "30, 30"  # a 2-D typed array


def test_webgl_rows_counts_the_leading_drawable_rows():
    pts = np.array([[0.0, 1.0], [1e11, -1e11], [2e12, 0.0], [1.0, 1.0]])
    vals = np.array([1.0, 5.0, 7.0, 1.0])
    assert figures.webgl_rows(pts, vals) == 2  # row 2 is beyond 1e12; later rows do not come back
    assert figures.webgl_rows(pts[:2], vals[:2]) == 2
    assert figures.webgl_rows(pts[:2], np.array([1.0, np.inf])) == 1
    assert figures.webgl_rows(np.array([[np.nan, 0.0]]), np.array([1.0])) == 0


def test_surface_note_is_shown_as_its_title():
    ds = data.synthetic_line()
    problem = data.make_problem(ds.X, ds.y)
    from gdviz import analysis

    grid = analysis.loss_grid(problem, 0, 1, x_range=(-1, 1), y_range=(-1, 1), n=5)
    path = np.zeros((1, 2))
    spec = figures.surface_3d(grid, path, problem.loss(path), optimum=problem.optimum, optimum_loss=1.0,
                              names=("a", "b"), note="stops at step 3")  # fmt: skip
    assert spec["layout"]["title"]["text"] == "stops at step 3"
    assert "title" not in figures.surface_3d(grid, path, problem.loss(path), optimum=problem.optimum,
                                             optimum_loss=1.0, names=("a", "b"))["layout"]  # fmt: skip


def test_log_axis_range_holds_the_values_and_stops_at_float64s_top():
    lo, hi = figures.log_axis_range(np.array([1e-3, 5.0, np.inf, np.nan, -2.0, 0.0, 1e307]))
    assert lo < -3 and hi > 307  # every finite positive value is inside
    assert hi <= np.log10(np.finfo(float).max)  # never 'Infinity' on the axis
    lo, hi = figures.log_axis_range(np.array([np.inf, np.nan]))  # nothing to show: a default decade range
    assert lo < hi


def test_grad_bars_axis_starts_a_decade_below_the_smallest_bar():
    # On a log axis a bar rises from the axis' bottom: starting just under the smallest bar made 20 look
    # like a twentieth of 43.
    spec = figures.grad_bars(np.array([20.3, -43.3]), ("intercept", "slope"))
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
    contour = _trace(figures.contour_path(grid, head.params, optimum=problem.optimum, names=names), "log10 loss")
    z = np.asarray(contour["z"], dtype=float)
    assert np.isfinite(z).all() and z.max() - z.min() > 1  # a field with a valley, not a flat or empty one
    assert z[0, 0] == pytest.approx(expected, rel=1e-9)
    assert contour["colorbar"]["title"]["text"] == "log10 loss"
    fig = figures.surface_3d(
        grid, head.params[:5], head.loss[:5], optimum=problem.optimum, optimum_loss=problem.optimum_loss, names=names
    )
    surface = _trace(fig, "loss surface")
    sz = np.asarray(surface["z"], dtype=float)
    assert np.isfinite(sz).all() and sz[0, 0] == pytest.approx(expected, rel=1e-9)
    assert fig["layout"]["scene"]["zaxis"]["title"]["text"] == "log10 loss"
    path_z = np.asarray(_trace(fig, "path")["z"], dtype=float)
    np.testing.assert_allclose(path_z, np.log10(head.loss[:5]))  # the path on the same (log) axis
    # The path stays as computed: every finite step is drawn, up to the window's edge.
    drawn = _trace(figures.contour_path(grid, head.params, optimum=problem.optimum, names=names), "path")
    np.testing.assert_array_equal(np.asarray(drawn["x"], dtype=float), head.params[:, 0])


def test_surface_of_an_ordinary_run_keeps_the_loss_axis():
    problem, traj = _run(0.05, max_steps=50)
    figs = _all_figures(data.synthetic_line(), problem, traj)
    assert figs["surface_3d"]["layout"]["scene"]["zaxis"]["title"]["text"] == "loss"


def test_grad_bars_label_each_value_and_say_how_far_apart_they_are():
    # Gradients 1e-3 apart: on a log axis the small bar still looks a decade tall, so the text and the ratio
    # carry the comparison. Oracle: the numbers written here.
    fig = figures.grad_bars(np.array([-2.5e-4, 0.75]), ("intercept", "slope on x"))
    bars = fig["data"][0]
    assert bars["text"] == ["0.00025", "0.75"]
    assert bars["cliponaxis"] is False
    assert fig["layout"]["yaxis"]["type"] == "log"
    title = fig["layout"]["title"]["text"]
    assert "|dJ/d slope on x| is 3,000x |dJ/d intercept|" in title
    one = figures.grad_bars(np.array([0.0, 0.5]), ("intercept", "slope"))  # one positive bar: no ratio to give
    assert "x |dJ/d" not in one["layout"]["title"]["text"]
