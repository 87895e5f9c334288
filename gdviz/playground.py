"""The Playground's view of a run at the step shown: which params are drawn, the windows of the loss surface
and contours (grown with the path, never clipping it), the downsampled path, where a diverging path leaves
what WebGL can draw, and the six chart specs. Pure: no Streamlit; the page lays the result out.
"""

from __future__ import annotations

import json
from typing import NamedTuple

import numpy as np

from gdviz import analysis, explain, playback, plots, runs
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


# ---------------------------------------------------------------------------------------------
# What one step does: arrows, eigen-directions, the noise plateau of a mini-batch run
# ---------------------------------------------------------------------------------------------

# The longest arrow of the run is drawn about this share of the contour window (the start of a converging run,
# the end of a diverging one, whose window grows with it).
ARROW_SHARE = 0.45
# A mini-batch run's plateau: the mean loss over the last quarter of its steps.
PLATEAU_SHARE = 0.25


def arrow_vectors(config: RunConfig, traj: Trajectory) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``traj``, the two arrows the contour draws from its params (unscaled).

    Returns:
        ``(gradient_step, update)``, arrays of shape (n_states, n_params): ``-rate x grads`` with the rate the
        schedule gives the update from that step (the step plain GD would take there; the full-data gradient
        also in a mini-batch run), and ``params[k + 1] - params[k]``, the update actually taken (NaN where the
        next stored row is not the next step: the last row, or a thinned stretch).
    """
    schedule = config.make_schedule()
    if config.schedule == "constant":  # the one rate, as the engine got it: no call per row
        rates = np.full(traj.n_states, float(schedule(0)))
    else:  # one scalar call per row, the count as the engine passes it (the same bits as the rate it used)
        rates = np.array([schedule(int(t)) for t in traj.step], dtype=float)
    with np.errstate(all="ignore"):
        gradient_step = -rates[:, None] * traj.grads
        update = np.full_like(traj.params, np.nan)
        next_is_next = np.diff(traj.step) == 1
        update[:-1][next_is_next] = np.diff(traj.params, axis=0)[next_is_next]
    return gradient_step, update


def arrows_of(config: RunConfig, problem: Problem, traj: Trajectory) -> tuple[float, np.ndarray, np.ndarray]:
    """``(scale, gradient_step, update)`` of the run ``traj`` (``arrow_vectors``), with the one factor both are
    drawn at (``arrow_scale`` over the window that holds the whole path and the optimum)."""
    vectors = arrow_vectors(config, traj)
    window = playback.window(traj.params, np.vstack([traj.params[0], problem.optimum]))
    return arrow_scale(list(vectors), window), *vectors


def nice_floor(x: float) -> float:
    """The largest of 1, 2 or 5 times a power of ten that is at most ``x`` (> 0)."""
    e = np.floor(np.log10(x))
    m = x / 10.0**e
    return float((5 if m >= 5 else 2 if m >= 2 else 1) * 10.0**e)


def arrow_scale(vectors: list[np.ndarray], window: tuple[tuple[float, float], tuple[float, float]]) -> float:
    """The one factor both arrows are drawn at: the longest finite row of ``vectors`` spans about ARROW_SHARE of
    ``window`` (lengths in shares of its width and height), rounded down to 1, 2 or 5 times a power of ten; 1
    when nothing moves."""
    (x0, x1), (y0, y1) = window
    size = np.array([x1 - x0, y1 - y0], dtype=float)
    longest = 0.0
    with np.errstate(all="ignore"):
        for v in vectors:
            head = np.asarray(v, dtype=float)[:, :2] / size
            lengths = np.hypot(head[:, 0], head[:, 1])
            lengths = lengths[np.isfinite(lengths)]
            if lengths.size:
                longest = max(longest, float(lengths.max()))
    if not (np.isfinite(longest) and longest > 0):
        return 1.0
    return nice_floor(ARROW_SHARE / longest)


def eigen_components(problem: Problem, params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The error ``params - w*`` in the Hessian's eigen-coordinates.

    Returns:
        ``(eigenvalues, components)``: eigenvalues ascending (``analysis.spectrum``), components of shape
        (n_states, n_params) with column i the error along eigenvector i.
    """
    s = analysis.spectrum(problem)
    with np.errstate(all="ignore"):
        return s.eigenvalues, (np.asarray(params, dtype=float) - problem.optimum) @ s.eigenvectors


def log10_abs(values: np.ndarray) -> np.ndarray:
    """log10 |values|: -inf at 0, NaN where not finite (both drawn as gaps)."""
    with np.errstate(all="ignore"):
        return np.log10(np.abs(np.asarray(values, dtype=float)))


def eigen_closed_form(
    eigenvalues: np.ndarray, start: np.ndarray, learning_rate: float, steps: np.ndarray
) -> np.ndarray:
    """log10 of the closed form ``|1 - rate x lambda_i|^t |c_i(0)|`` of constant-rate GD, per step and direction.

    Computed as ``t log10|1 - rate lambda_i| + log10|c_i(0)|``: a straight line in t, with no underflow.

    Args:
        eigenvalues: array of shape (n_params,).
        start: array of shape (n_params,), the start error's components c(0) (``eigen_components``).
        steps: int array of shape (k,).

    Returns:
        Array of shape (k, n_params).
    """
    t = np.asarray(steps, dtype=float)[:, None]
    with np.errstate(all="ignore"):
        slope = np.log10(np.abs(1.0 - learning_rate * np.asarray(eigenvalues, dtype=float)))
        out = log10_abs(start)[None, :] + t * slope
    return np.where(t == 0, log10_abs(start)[None, :], out)


def noise_plateau(traj: Trajectory) -> tuple[float, int] | None:
    """The loss a mini-batch run levels off at: the mean loss over the stored steps of the last PLATEAU_SHARE
    of the run, and the first step of that stretch; None for a diverged run or one of fewer than 8 rows."""
    if traj.status is Status.DIVERGED or traj.n_states < 8:
        return None
    last = int(traj.step[-1])
    first = int(np.ceil(last * (1 - PLATEAU_SHARE)))
    tail = traj.loss[traj.step >= first]
    if not tail.size or not np.all(np.isfinite(tail)):
        return None
    return float(np.mean(tail)), first


def full_batch_curve(config: RunConfig, problem: Problem, steps: np.ndarray) -> tuple[np.ndarray | None, str]:
    """The closed-form loss the loss chart draws and its name: this run's own prediction for constant-rate
    full-batch GD; for constant-rate GD on a mini-batch the full-batch curve, named so (the closed form is not
    this run's); (None, "") otherwise."""
    if config.is_closed_form:
        return runs.predicted_loss_curve(config, problem, steps), "predicted (closed form)"
    if config.is_constant_gd:
        w0 = runs.init_params(config, problem)
        return analysis.predicted_loss(problem, config.learning_rate, steps, init_params=w0), (
            "full-batch GD, closed form (not this run)"
        )
    return None, ""


def eigen_chart(config: RunConfig, problem: Problem, traj: Trajectory) -> dict:
    """The eigen-directions chart of ``traj``: measured log10 |error| per direction, and for constant-rate
    full-batch GD the closed-form lines and each direction's factor |1 - rate x lambda_i|."""
    lam, comps = eigen_components(problem, traj.params)
    idx = plots._spec.downsample_indices(traj.n_states)
    if config.is_closed_form:
        factors = np.abs(1.0 - config.learning_rate * lam)
        predicted = eigen_closed_form(lam, comps[0], config.learning_rate, traj.step[idx])
        note = "dashed: the closed form |1 - rate x lambda|^t |error at step 0|,<br>a straight line on this log scale"
    else:
        factors = predicted = None
        note = "no closed-form lines: they are for plain GD<br>at a constant rate on full batch"
    return plots.playground.eigen_errors(traj.step[idx], log10_abs(comps[idx]), lam, factors=factors,
                                         predicted=predicted, note=note)  # fmt: skip


def figures(
    config: RunConfig,
    problem: Problem,
    dataset: Dataset,
    head: Trajectory,
    cursor: int,
    *,
    run: Trajectory | None = None,
) -> dict[str, dict]:
    """The Playground's seven chart specs of the run up to the step shown.

    Args:
        config: the run's settings (the feature drawn; the closed-form loss for constant-rate GD).
        problem: the one-feature Problem of ``config`` on ``dataset``.
        dataset: the raw data, drawn under the fitted line.
        head: the run up to the step shown (``playback.head``); its last row is the current point.
        cursor: the step shown (0-based), marked on the loss and gradient charts.
        run: the whole run ``head`` is the start of (its rows a prefix of run's), for the update taken from the
            step shown; without it the update arrow is left out.

    Returns:
        Short chart name -> figure spec, in the order drawn (rows of two; a phone's single column):
        surface, contour, line, loss, grads, bars, eigen. The contour window holds the whole path and the two
        arrows of the step shown (``arrow_traces``, at one factor for the whole run: ``arrow_scale``);
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
    predicted, predicted_name = full_batch_curve(config, problem, head.step)
    plateau = None if config.is_full_batch else noise_plateau(head)
    contour = draw.contour_path(contour_grid, head.params[idx], optimum=opt, names=names)
    whole = head if run is None else run
    scale, *arrows = arrows_of(config, problem, whole)
    at, tail = head.n_states - 1, head.params[-1]
    update = arrows[1][at] if at < whole.n_states else np.full(2, np.nan)
    contour["data"] += draw.arrow_traces(
        scale, gradient=np.vstack([tail, tail + scale * arrows[0][at]]),
        update=np.vstack([tail, tail + scale * update]) if np.isfinite(update).all() else None,
    )  # fmt: skip
    return {
        "surface": draw.surface_3d(grid, head.params[idx3], head.loss[idx3], optimum=opt, note=note,
                                   optimum_loss=problem.optimum_loss, names=names),
        "contour": contour,
        "line": draw.fitted_lines(dataset.X[:, k], dataset.y, problem.raw_params(head.params[-(N_FADED + 1):]),
                                  optimum_raw=problem.raw_params(opt), x_name=dataset.feature_names[k],
                                  y_name=dataset.target_name),
        "loss": draw.loss_curve(head, predicted=predicted, predicted_name=predicted_name or "predicted (closed form)",
                                floor=problem.optimum_loss, plateau=plateau, current_step=cursor),
        "grads": draw.grad_history(head, names, current_step=cursor),
        "bars": draw.grad_bars(head.grads[-1], names),
        "eigen": eigen_chart(config, problem, head),
    }  # fmt: skip


# ---------------------------------------------------------------------------------------------
# The player's payload: the whole run and every chart, for the browser to step through
# ---------------------------------------------------------------------------------------------

# Chart-only columns are sent with all their digits too: a one-feature payload of 4,096 rows stays near 1.2 MB.
CHART_DIGITS = None
# The arrows' tips and the eigen chart's log10 values only place a drawing: fewer digits keep the payload small.
ARROW_DIGITS = 8
EIGEN_DIGITS = 5


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
    predicted, predicted_name = full_batch_curve(config, problem, rows.step)
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
    scale, gradient_step, update = arrows_of(config, problem, rows)
    _, comps = eigen_components(problem, rows.params)
    with np.errstate(invalid="ignore", over="ignore"):
        for name, v in (("ag", gradient_step), ("au", update)):  # each arrow's tip, as drawn (scaled)
            columns[f"{name}_x"] = (rows.params[:, 0] + scale * v[:, 0], ARROW_DIGITS)
            columns[f"{name}_y"] = (rows.params[:, 1] + scale * v[:, 1], ARROW_DIGITS)
    for i in range(comps.shape[1]):
        columns[f"e{i}"] = (log10_abs(comps[:, i]), EIGEN_DIGITS)
    if predicted is not None:
        columns["pred"] = (_positive(predicted), CHART_DIGITS)
    columns["step_end"] = (step_axis_end(rows.step), None)
    opt_raw = problem.raw_params(problem.solution())
    fixed = np.concatenate([dataset.y, opt_raw[0] + opt_raw[1] * np.array([lo, hi])])
    line_lo, line_hi = line_y_range(columns["ly0"][0], columns["ly1"][0], fixed, N_FADED)
    columns["line_lo"], columns["line_hi"] = (line_lo, None), (line_hi, None)
    plateau = None if config.is_full_batch else noise_plateau(rows)
    if plateau is not None:
        columns["plateau"] = (np.where(rows.step >= plateau[1], plateau[0], np.nan), CHART_DIGITS)
    _fixed_log_axis(specs["loss"]["layout"], rows.loss, [] if predicted is None else predicted,
                    [problem.optimum_loss], [] if plateau is None else [plateau[0]])  # fmt: skip
    _fixed_log_axis(specs["grads"]["layout"], np.abs(rows.grads))
    charts = [
        _surface_chart(surface, n3d),
        _contour_chart(specs["contour"]),
        _line_chart(specs["line"]),
        _loss_chart(specs["loss"], predicted_name if predicted is not None else None),
        _grads_chart(specs["grads"]),
        _bars_chart(specs["bars"], names, rows.grads),
        _eigen_chart(specs["eigen"], comps.shape[1]),
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
    # The arrows from the step shown: -rate x gradient and the update taken (tips computed, scaled, in Python).
    for i, t in enumerate(spec["data"]):
        for prefix, col in (("-rate x gradient", "ag"), ("update taken", "au")):
            if str(t.get("name", "")).startswith(prefix):
                _empty(spec, i, "x", "y")
                bind.append({"trace": i, "at": {"x": ["p0", f"{col}_x"], "y": ["p1", f"{col}_y"]}})
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


def _loss_chart(spec: dict, predicted_name: str | bool | None) -> dict:
    """The loss chart's bindings; ``predicted_name`` names the closed-form trace to bind (False or None: none)."""
    data = spec["data"]
    bind = []
    if predicted_name:
        i = _trace(spec, predicted_name)
        _empty(spec, i, "x", "y")
        bind.append({"trace": i, "upto": {"x": "step", "y": "pred"}})
    for i in [i for i, t in enumerate(data) if str(t.get("name", "")).startswith("noise plateau")]:
        _empty(spec, i, "x", "y")
        bind.append({"trace": i, "upto": {"x": "step", "y": "plateau"}})
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


def _eigen_chart(spec: dict, n_directions: int) -> dict:
    """Each measured direction grows with the step (``upto`` column e<i>); the closed-form lines stay whole."""
    data = spec["data"]
    measured = [i for i, t in enumerate(data) if str(t.get("name", "")).startswith("direction ")]
    drawn = np.concatenate([np.asarray(data[i]["y"], dtype=float) for i in range(len(data))] or [np.zeros(1)])
    seen = np.concatenate([np.asarray(data[i]["y"], dtype=float) for i in measured] or [np.zeros(1)])
    seen, drawn = seen[np.isfinite(seen)], drawn[np.isfinite(drawn)]
    if seen.size:  # the measured lines set the range; a closed-form line far below round-off leaves the view
        lo = float(seen.min()) - 0.5
        hi = float(max(seen.max(), drawn.max() if drawn.size else seen.max())) + 0.5
        spec["layout"]["yaxis"]["range"] = [lo, hi]
    bind = []
    for d, i in enumerate(measured[:n_directions]):
        _empty(spec, i, "x", "y")
        bind.append({"trace": i, "upto": {"x": "step", "y": f"e{d}"}})
        spec["data"].append(plots.playground.step_marker(data[i]["line"]["color"], f"current direction {d + 1}"))
        bind.append({"trace": len(spec["data"]) - 1, "at": {"x": ["step"], "y": [f"e{d}"]}})
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


# ---------------------------------------------------------------------------------------------
# The theory panel's words on the batch size and on momentum (numbers from the run and the analysis)
# ---------------------------------------------------------------------------------------------


def batch_text(config: RunConfig, problem: Problem, traj: Trajectory) -> str:
    """What a mini-batch changes and what it does not, with this run's plateau (Markdown; "" on full batch)."""
    if config.is_full_batch:
        return ""
    b, n = config.batch_size, problem.n_samples
    floor = problem.optimum_loss
    text = (
        f"**Mini-batch of {b:,} of the {n:,} rows.** What it changes: each update follows the gradient of "
        f"{b:,} rows, a noisy estimate of the full gradient. At the optimum the full gradient is zero but a batch's "
        "is not (each row pulls its own way), so at a constant rate the loss stops falling at a noisy plateau "
        "above the least-squares floor J*: the plateau is higher for a larger rate or a smaller batch. "
    )
    plateau = noise_plateau(traj)
    if plateau is not None:
        level, first = plateau
        text += (
            f"Here the mean loss from step {first:,} on is {level:.4g}, {level - floor:.3g} above J* = {floor:.4g}. "
        )
    text += (
        "What it does not change: the loss surface, its Hessian, the optimum w* and the floor J*. The thresholds "
        "above are full-batch theory: 2/lambda_max is the full-batch bound, and a mini-batch run follows it only "
        "on average (each batch has its own curvature, so near it a small batch can blow up where full batch "
        "would not). The closed-form curve and the predicted steps describe full-batch GD, not this run; a "
        "mini-batch run rarely meets tol, since its updates never shrink to zero at a constant rate."
    )
    return text


NA = "n/a"  # a cell with nothing to say (a lone "-" in a table cell would read as a Markdown list item)


class MomentumRow(NamedTuple):
    """One row of the momentum comparison: the method, its per-step factor at its best settings, the steps
    it is predicted to take with this run's settings, and how the run ended (``regimes.outcome``; NA where
    there is none)."""

    method: str
    factor: str
    predicted_steps: str
    measured_steps: str


def momentum_rows(config: RunConfig, problem: Problem, measured: str) -> list[MomentumRow]:
    """Heavy ball against plain GD on this data: Polyak's predicted factor (sqrt(kappa) - 1) / (sqrt(kappa) + 1)
    beside GD's (kappa - 1) / (kappa + 1) (``analysis.convergence_rates``), and for a constant-rate full-batch
    momentum run its predicted steps (``analysis.predicted_momentum_steps``) beside ``measured``, how the run
    ended (e.g. ``gdviz.regimes.outcome``)."""
    rates = analysis.convergence_rates(problem)
    w0 = runs.init_params(config, problem)
    gd_rate = analysis.thresholds(problem).optimal
    gd_steps = explain.steps_text(analysis.predicted_steps(problem, gd_rate, tol=config.tol, init_params=w0))
    lr, beta = analysis.optimal_momentum(problem)
    best = explain.steps_text(analysis.predicted_momentum_steps(problem, lr, beta, tol=config.tol, init_params=w0))
    rows = [
        MomentumRow(f"plain GD at 2/(lambda_min + lambda_max) = {gd_rate:.4g}", f"{rates.gd:.4g}", gd_steps, NA),
        MomentumRow(f"heavy ball at rate {lr:.4g}, beta {beta:.4g} (optimal)", f"{rates.momentum:.4g}", best, NA),
    ]
    if config.optimizer == "momentum" and config.schedule == "constant" and config.is_full_batch:
        mine = analysis.predicted_momentum_steps(
            problem, config.learning_rate, config.beta, tol=config.tol, init_params=w0
        )
        rows.append(
            MomentumRow(f"this run: heavy ball at rate {config.learning_rate:.4g}, beta {config.beta:.4g}", NA,
                        explain.steps_text(mine), measured)
        )  # fmt: skip
    return rows
