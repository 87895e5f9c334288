"""The Playground's view of a run at the step shown: which params are drawn, the windows of the loss surface
and contours (grown with the path, never clipping it), the downsampled path, where a diverging path leaves
what WebGL can draw, and the six chart specs. Pure: no Streamlit; the page lays the result out.
"""

from __future__ import annotations

import json
from typing import NamedTuple

import numpy as np

from gdviz import analysis, playback, plots, runs
from gdviz.config import RunConfig
from gdviz.data import Dataset
from gdviz.engine import Problem, Status, Trajectory
from gdviz.plots import encode

GRID_SIZE = 60  # loss grids of GRID_SIZE x GRID_SIZE points
N_FADED = 12  # earlier fitted lines drawn faded behind the current one


def feature(config: RunConfig, dataset: Dataset) -> int:
    """The column of ``dataset`` the line is fitted on (0-based): the config's, or the last one the data has."""
    return min(config.feature, dataset.n_features - 1)


def param_names(config: RunConfig, dataset: Dataset) -> tuple[str, str]:
    """The two params' names as the charts and read-outs show them: the intercept and the feature's slope."""
    return ("intercept", f"slope on {dataset.feature_names[feature(config, dataset)]}")


def webgl_note(head: Trajectory) -> tuple[int, str | None]:
    """How many leading states of ``head`` the 3D chart draws (at least 1), and the note that says why the
    3D path stops early (None when it draws them all): past 1e12 WebGL's float32 breaks the scene."""
    n3d = max(plots._spec.webgl_rows(head.params, head.loss), 1)
    if n3d == head.n_states:
        return n3d, None
    return n3d, (
        f"3D path stops at step {head.step[n3d - 1]}:<br>later values pass 1e12, too large for WebGL.<br>"
        "The 2D charts show every step."
    )


def loss_window(problem: Problem, points: np.ndarray, anchors: np.ndarray) -> analysis.LossGrid:
    """The loss over a window (``playback.window``) that holds every finite row of ``points`` (k, 2) and of
    ``anchors`` (the start and the optimum)."""
    x_range, y_range = playback.window(points, anchors)
    return analysis.loss_grid(problem, 0, 1, x_range=x_range, y_range=y_range, n=GRID_SIZE)


def figures(config: RunConfig, problem: Problem, dataset: Dataset, head: Trajectory, cursor: int) -> dict[str, dict]:
    """The Playground's six chart specs of the run up to the step shown.

    Args:
        config: the run's settings (the feature drawn; the closed-form loss for constant-rate GD).
        problem: the one-feature Problem of ``config`` on ``dataset``.
        dataset: the raw data, drawn under the fitted line.
        head: the run up to the step shown (``playback.head``); its last row is the current point.
        cursor: the step shown (0-based), marked on the loss and gradient charts.

    Returns:
        Short chart name -> figure spec, in the order drawn (rows of two; a phone's single column):
        surface, contour, line, loss, grads, bars. The contour window holds the whole path;
        the surface's holds the part WebGL can draw (``webgl_note``), whose note it shows.
    """
    names = param_names(config, dataset)
    opt = problem.solution()
    anchors = np.vstack([head.params[0], opt])
    n3d, note = webgl_note(head)
    contour_grid = loss_window(problem, head.params, anchors)
    grid = contour_grid if n3d == head.n_states else loss_window(problem, head.params[:n3d], anchors)
    idx, idx3 = plots._spec.downsample_indices(head.n_states), plots._spec.downsample_indices(n3d)
    k = feature(config, dataset)
    draw = plots.playground
    return {
        "surface": draw.surface_3d(grid, head.params[idx3], head.loss[idx3], optimum=opt, note=note,
                                   optimum_loss=problem.optimum_loss, names=names),
        "contour": draw.contour_path(contour_grid, head.params[idx], optimum=opt, names=names),
        "line": draw.fitted_lines(dataset.X[:, k], dataset.y, problem.raw_params(head.params[-(N_FADED + 1):]),
                                  optimum_raw=problem.raw_params(opt), x_name=dataset.feature_names[k],
                                  y_name=dataset.target_name),
        "loss": draw.loss_curve(head, predicted=runs.predicted_loss_curve(config, problem, head.step),
                                floor=problem.optimum_loss, current_step=cursor),
        "grads": draw.grad_history(head, names, current_step=cursor),
        "bars": draw.grad_bars(head.grads[-1], names),
    }  # fmt: skip


# ---------------------------------------------------------------------------------------------
# The player's payload: the whole run and every chart, for the browser to step through
# ---------------------------------------------------------------------------------------------

# Chart-only columns are sent with all their digits too: a one-feature payload of 4,096 rows stays near 1.2 MB.
CHART_DIGITS = None


# The surface and contour charts' height in the player: on a 1024x768 projector both fit the first screen
# with the stepping controls and the read-out above them.
FIRST_SCREEN_HEIGHT = 370


class Player(NamedTuple):
    """Everything the browser needs to show any stored step of a run without asking the server.

    Attributes:
        rows: the run's stored steps the browser gets (``playback.player_rows``); row k is what the player
            shows at its k-th position.
        columns: name -> (array of shape (rows.n_states,), digits): per row, the read-out's numbers (digits
            None: sent exactly) and what the charts draw (``CHART_DIGITS``). Non-finite values are sent as null.
        charts: per chart, in page order: key, figure spec (the whole run's static part; the moving traces
            empty), is3d, height and ``bind``, the moving traces (see ``bindings``).
        readout: per read-out cell: label, column, help.
        final_status: what the read-out says at the last row ("converged", "diverged", "max steps" or
            "stalled"); every other row is "running".
        diverged_at: the step at which a diverged run overflowed, else None.
    """

    rows: Trajectory
    columns: dict[str, tuple[np.ndarray, int | None]]
    charts: list[dict]
    readout: list[dict]
    final_status: str
    diverged_at: int | None


def final_status(traj: Trajectory, optimum_loss: float) -> str:
    """The status the read-out shows at the run's last step: "stalled" when the stop rule fired far above the
    least-squares floor (more than 1% of the way back to the start's loss), else the run's own."""
    if traj.status is Status.CONVERGED and traj.loss[-1] - optimum_loss > 0.01 * (traj.loss[0] - optimum_loss):
        return "stalled"
    return traj.status.value.replace("_", " ")


def _positive(v: np.ndarray) -> np.ndarray:
    """``v`` with what a log axis cannot draw (non-finite, <= 0) as NaN (sent as null: a gap)."""
    v = np.asarray(v, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(v) & (v > 0), v, np.nan)


def _trace(spec: dict, name: str) -> int:
    """The index of the trace called ``name`` in ``spec`` (the first one)."""
    return next(i for i, t in enumerate(spec["data"]) if t.get("name") == name)


def _empty(spec: dict, i: int, *keys: str) -> None:
    for key in keys:
        spec["data"][i][key] = []


def player(config: RunConfig, problem: Problem, dataset: Dataset, traj: Trajectory) -> Player:
    """The Playground's player payload of the whole run ``traj`` (e.g. ``gdviz.ui.cache.trajectory_for``).

    Every number comes from the engine's run or from the analysis of ``problem``: the browser only picks the
    row of the step shown (``at``) or the rows up to it (``upto``) from the columns.

    A binding is ``{"trace": i, "upto": {attr: column}}`` (the trace's ``attr`` is the column's rows 0..k),
    or ``{"trace": i, "at": {attr: [column or number, ...]}, "offset": o}`` (one value per entry: a
    column's row k + o, or the number itself; the trace is emptied when k + o < 0). ``"last"``, when given,
    caps the row (the 3D chart stops where WebGL must).
    """
    rows = playback.player_rows(traj)
    names = param_names(config, dataset)
    k = feature(config, dataset)
    x = dataset.X[:, k]
    lo, hi = float(np.min(x)), float(np.max(x))
    raw = problem.raw_params(rows.params)
    n3d, _ = webgl_note(rows)
    specs = figures(config, problem, dataset, rows, int(rows.step[-1]))
    surface = specs["surface"]
    z3d = rows.loss
    if surface["layout"]["scene"]["zaxis"]["title"]["text"] == "log10 loss":  # as the surface draws it
        with np.errstate(divide="ignore", invalid="ignore"):
            z3d = np.log10(np.maximum(rows.loss, np.finfo(float).tiny))
    predicted = runs.predicted_loss_curve(config, problem, rows.step)
    with np.errstate(invalid="ignore", over="ignore"):
        columns: dict[str, tuple[np.ndarray, int | None]] = {
            "step": (rows.step, None),
            "loss": (rows.loss, None),
            "p0": (rows.params[:, 0], None),
            "p1": (rows.params[:, 1], None),
            "g0": (rows.grads[:, 0], None),
            "g1": (rows.grads[:, 1], None),
            "norm": (rows.update_norm, None),
            "rate": (rows.learning_rate, None),
            "loss_pos": (_positive(rows.loss), CHART_DIGITS),
            "z3d": (z3d, CHART_DIGITS),
            "ag0": (_positive(np.abs(rows.grads[:, 0])), CHART_DIGITS),
            "ag1": (_positive(np.abs(rows.grads[:, 1])), CHART_DIGITS),
            "ly0": (raw[:, 0] + raw[:, 1] * lo, CHART_DIGITS),
            "ly1": (raw[:, 0] + raw[:, 1] * hi, CHART_DIGITS),
        }
    if predicted is not None:
        columns["pred"] = (_positive(predicted), CHART_DIGITS)
    columns["step_end"] = (step_axis_end(rows.step), None)
    opt_raw = problem.raw_params(problem.solution())
    fixed = np.concatenate([dataset.y, opt_raw[0] + opt_raw[1] * np.array([lo, hi])])
    line_lo, line_hi = line_y_range(columns["ly0"][0], columns["ly1"][0], fixed, N_FADED)
    columns["line_lo"], columns["line_hi"] = (line_lo, None), (line_hi, None)
    _fixed_log_axis(specs["loss"]["layout"], rows.loss, [] if predicted is None else predicted,
                    [problem.optimum_loss])  # fmt: skip
    _fixed_log_axis(specs["grads"]["layout"], np.abs(rows.grads))
    charts = [
        _surface_chart(surface, n3d),
        _contour_chart(specs["contour"]),
        _line_chart(specs["line"]),
        _loss_chart(specs["loss"], predicted is not None),
        _grads_chart(specs["grads"]),
        _bars_chart(specs["bars"], names, rows.grads),
    ]
    for name in ("surface", "contour"):  # the teacher's first screen holds both, under the controls (1024x768)
        specs[name]["layout"]["height"] = FIRST_SCREEN_HEIGHT
    for name, chart in zip(specs, charts, strict=True):
        chart["key"] = name
        chart["is3d"] = "scene" in chart["figure"]["layout"]
        chart["height"] = int(chart["figure"]["layout"].get("height") or 450)
    return Player(
        rows=rows,
        columns=columns,
        charts=charts,
        readout=readout_cells(names),
        final_status=final_status(rows, problem.optimum_loss),
        diverged_at=plots._spec.divergence_step(rows),
    )


def readout_cells(names: tuple[str, ...]) -> list[dict]:
    """The read-out's cells: label, column and help (the player formats the numbers with 6 significant
    figures, as ``explain.fmt`` does; "-" for the update norm and rate at step 0)."""
    cells = [
        {"label": "Step", "col": "step", "help": "Updates applied so far (step 0 is the start point)."},
        {"label": "Loss", "col": "loss", "help": "Mean squared error at this step."},
    ]
    for i, name in enumerate(names):
        cells.append({"label": name.capitalize(), "col": f"p{i}", "help": f"The {name} at this step."})
    for i, name in enumerate(names):
        cells.append({"label": f"dJ/d {name}", "col": f"g{i}", "help": f"The gradient of the loss w.r.t. the {name}."})
    cells += [
        {"label": "Update norm", "col": "norm", "help": "Length of the last update; the run stops once it is < tol."},
        {"label": "Rate used", "col": "rate", "help": "The learning rate of the last update (after the schedule)."},
        {"label": "Status", "col": "", "help": "running, converged, diverged or max steps; 'stalled' when the "
         "steps fell below tol far from the minimum."},
    ]  # fmt: skip
    return cells


def _surface_chart(spec: dict, n3d: int) -> dict:
    path, current = _trace(spec, "path"), _trace(spec, "current step")
    _empty(spec, path, "x", "y", "z")
    _empty(spec, current, "x", "y", "z")
    last = n3d - 1
    bind = [
        {"trace": path, "upto": {"x": "p0", "y": "p1", "z": "z3d"}, "last": last},
        {"trace": current, "at": {"x": ["p0"], "y": ["p1"], "z": ["z3d"]}, "last": last},
    ]
    # A click on the surface starts the run at the clicked point's params, as on the contours (a drag turns it).
    return {"figure": spec, "bind": bind, "click": "start"}


def _contour_chart(spec: dict) -> dict:
    path, current = _trace(spec, "path"), _trace(spec, "current step")
    _empty(spec, path, "x", "y")
    _empty(spec, current, "x", "y")
    bind = [
        {"trace": path, "upto": {"x": "p0", "y": "p1"}},
        {"trace": current, "at": {"x": ["p0"], "y": ["p1"]}},
    ]
    # A click on the contours sends the clicked point of the loss grid (x, y as the chart has them) as the
    # new start: the player's trigger "start" (gdviz.ui.player).
    return {"figure": spec, "bind": bind, "click": "start"}


def _line_chart(spec: dict) -> dict:
    # The earlier fitted lines become one trace (segments split by nulls): one trace to restyle per step, not
    # N_FADED. Binding "lines": the rows k - back .. k - 1, each a segment from (x[0], col0) to (x[1], col1).
    faded = [t for t in spec["data"] if t.get("name") == "earlier steps"]
    data = [t for t in spec["data"] if t.get("name") != "earlier steps"]
    if faded:
        data.insert(1, {**faded[-1], "x": [], "y": [], "opacity": 0.35, "showlegend": True})
    spec["data"] = data
    current = next(i for i, t in enumerate(data) if str(t.get("name", "")).startswith("current fit"))
    data[current]["name"] = "current fit"
    bind = [{"trace": current, "at": {"y": ["ly0", "ly1"]}}]
    if faded:
        ends = [float(v) for v in data[current]["x"]]
        bind.append({"trace": 1, "lines": {"x": ends, "y": ["ly0", "ly1"]}, "back": N_FADED})
    data[current]["y"] = []
    # The y range follows the row (columns line_lo, line_hi: ``line_y_range``): a diverging line widens the view.
    spec["layout"]["yaxis"].update({"autorange": False})
    spec["layout"]["yaxis"].pop("range", None)
    return {"figure": spec, "bind": bind, "layout_at": {"yaxis.range": ["line_lo", "line_hi"]}}


def step_axis_end(steps: np.ndarray) -> np.ndarray:
    """Per row, where a step axis ends while that row's step is shown: the first of 10, 20, 50, 100, 200, 500,
    ... that holds the step with 5% to spare. Never -1 to 1 at step 0, and it changes only a few times in a
    run, so Play moves the curve and the marker but does not rescale the axis at every step."""
    need = np.maximum(10.0, np.ceil(1.05 * np.asarray(steps, dtype=float)))
    candidates = 10.0 ** np.floor(np.log10(need))[:, None] * np.array([1.0, 2.0, 5.0, 10.0, 20.0])
    first = np.argmax(candidates >= need[:, None], axis=1)  # 20 covers a log10 that rounded up
    return candidates[np.arange(len(need)), first]


def _step_axis(layout: dict) -> dict:
    """A step axis from step 0 that ends at the row's ``step_axis_end`` (the player sets its range)."""
    layout["xaxis"].update({"range": [0, 10], "autorange": False})
    return {"xaxis.range": [0, "step_end"]}


def line_y_range(ly0: np.ndarray, ly1: np.ndarray, fixed: np.ndarray, back: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row k, the fitted-line chart's y range: it holds ``fixed`` (the data and the least-squares line)
    and the finite line ends of rows k - back .. k, padded by 5% of the data's span. Past the data's own range
    it widens by a quarter of that span, then in doublings, so it changes only when a line leaves the view
    (a diverging run)."""
    fixed = np.asarray(fixed, dtype=float)
    lo0, hi0 = float(np.min(fixed)), float(np.max(fixed))
    span = max(hi0 - lo0, abs(hi0), 1e-300)
    pad = 0.05 * span
    ends = np.column_stack([ly0, ly1]).astype(float)
    with np.errstate(invalid="ignore"):
        ends = np.where(np.isfinite(ends), ends, np.nan)
        row_lo, row_hi = np.nanmin(np.where(np.isnan(ends), np.inf, ends), axis=1), np.nanmax(
            np.where(np.isnan(ends), -np.inf, ends), axis=1)  # fmt: skip
    window = np.lib.stride_tricks.sliding_window_view  # the lines drawn at row k: rows k - back .. k
    lo = np.minimum(lo0, window(np.concatenate([np.full(back, np.inf), row_lo]), back + 1).min(axis=1))
    hi = np.maximum(hi0, window(np.concatenate([np.full(back, -np.inf), row_hi]), back + 1).max(axis=1))
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        grow_lo = span * 2.0 ** np.maximum(-2.0, np.ceil(np.log2((lo0 - lo) / span)))  # a quarter span, then x2
        grow_hi = span * 2.0 ** np.maximum(-2.0, np.ceil(np.log2((hi - hi0) / span)))
        out_lo = np.where(lo < lo0, lo0 - grow_lo, lo0)
        out_hi = np.where(hi > hi0, hi0 + grow_hi, hi0)
    big = np.finfo(float).max / 4  # an axis needs a finite span: a line past this has overflowed (a gap)
    return np.clip(out_lo - pad, -big, big), np.clip(out_hi + pad, -big, big)


def _loss_chart(spec: dict, has_predicted: bool) -> dict:
    data = spec["data"]
    bind = []
    if has_predicted:
        i = _trace(spec, "predicted (closed form)")
        _empty(spec, i, "x", "y")
        bind.append({"trace": i, "upto": {"x": "step", "y": "pred"}})
    i = _trace(spec, "measured loss")
    _empty(spec, i, "x", "y")
    bind.append({"trace": i, "upto": {"x": "step", "y": "loss_pos"}})
    floor = [i for i, t in enumerate(data) if str(t.get("name", "")).startswith("least-squares floor")]
    for i in floor:
        floor_y = float(data[i]["y"][0])
        data[i]["x"] = []
        data[i]["y"] = []
        bind.append({"trace": i, "at": {"x": [0, "step"], "y": [floor_y, floor_y]}})
    marker = [i for i, t in enumerate(data) if str(t.get("name", "")).startswith("step ")]
    for i in marker:
        data[i]["name"] = "current step"
        _empty(spec, i, "x", "y")
        bind.append({"trace": i, "at": {"x": ["step"], "y": ["loss_pos"]}})
    return {"figure": spec, "bind": bind, "layout_at": _step_axis(spec["layout"]),
            "end_only_annotations": bool(spec["layout"].get("annotations"))}  # fmt: skip


def _fixed_log_axis(layout: dict, *values: np.ndarray) -> None:
    """A log y axis fixed to hold every finite positive value of the whole run: Play never rescales it, and a
    diverging run's axis stops at float64's largest value (an autorange would label a tick 'Infinity')."""
    layout["yaxis"]["range"] = plots._spec.log_axis_range(np.concatenate([np.ravel(v) for v in values]))


def _grads_chart(spec: dict) -> dict:
    spec["layout"].pop("shapes", None)
    bind = []
    for i, t in enumerate(list(spec["data"])):
        _empty(spec, i, "x", "y")
        bind.append({"trace": i, "upto": {"x": "step", "y": f"ag{i}"}})
        spec["data"].append(plots.playground.step_marker(t["line"]["color"], f"current {t['name']}"))
        bind.append({"trace": len(spec["data"]) - 1, "at": {"x": ["step"], "y": [f"ag{i}"]}})
    return {"figure": spec, "bind": bind, "layout_at": _step_axis(spec["layout"])}


def _bars_chart(spec: dict, names: tuple[str, ...], grads: np.ndarray) -> dict:
    bar = spec["data"][0]
    bar.update({"x": list(names), "y": [], "texttemplate": "%{y:.3g}"})
    bar.pop("text", None)
    bar["marker"] = {"color": [plots._spec.PARAM_COLORS[i] for i in range(len(names))]}
    spec["layout"]["title"]["text"] = "Gradient magnitude at this step"
    spec["layout"]["yaxis"]["range"] = plots._spec.log_axis_range(np.abs(grads))
    return {"figure": spec, "bind": [{"trace": 0, "at": {"y": ["ag0", "ag1"]}}]}


def player_json(p: Player, *, run: str) -> str:
    """``p`` as the JSON text the player component reads, named ``run`` (the browser keeps its step while the
    run's name stays the same). Holds no NaN or inf: non-finite values are null."""
    head = {
        "run": run,
        "n": p.rows.n_states,
        "final_status": p.final_status,
        "diverged_at": p.diverged_at,
        "readout": p.readout,
    }
    return player_payload(head, p.columns, p.charts)


def player_payload(head: dict, columns: dict[str, tuple[np.ndarray, int | None]], charts: list[dict]) -> str:
    """A player's payload (the Playground's, Regimes') as the JSON text ``gdviz/ui/player.js`` reads: ``head``
    (run, n, readout, ...), the ``columns`` (name -> (values, digits), ``playback.json_column``) and the
    ``charts`` (each with its figure spec, ``encode.to_json``). Holds no NaN or inf: non-finite values are null."""
    cols = ",".join(f"{json.dumps(name)}:{playback.json_column(v, digits=d)}" for name, (v, d) in columns.items())
    specs = ",".join(
        "{" + f'"figure":{encode.to_json(c["figure"])},'
        + json.dumps({k: v for k, v in c.items() if k != "figure"}, allow_nan=False)[1:]
        for c in charts
    )  # fmt: skip
    return json.dumps(head, allow_nan=False)[:-1] + f',"columns":{{{cols}}},"charts":[{specs}]}}'
