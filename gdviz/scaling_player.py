"""Feature scaling's player payload: the all-features run and every chart that follows its step (the gradient
bars at the step shown, the gradients and the loss over the steps, the path on a slice of the cost over two
params), for the browser to step through with no round trip (``gdviz.ui.player``).

A module of its own, above ``gdviz.plots``: ``gdviz.scaling`` sits below the plots (they draw its records),
while the payload is built from the plots' specs. Pure: no Streamlit; every number comes from the engine's
run or from ``gdviz.scaling``'s slice of the loss.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gdviz import playback, playground, plots, thinning
from gdviz.engine import Problem, Status, Trajectory
from gdviz.scaling import HOLD_MODES, FeatureSpread, ScalingRow, slice_loss, slice_view

# The charts of the player, in page order (rows of two): short name -> what a download calls it.
CHARTS = ("grad_start", "grad_step", "grad_history", "loss", "contour", "surface")
HEIGHT = 380  # the gradient and loss charts
SLICE_HEIGHT = 460  # the cost slice's two charts: a square contour and a 3D surface need the room
# What only the charts draw is sent with 7 significant figures (the read-out's columns with all their digits):
# a run on every feature of California housing (9 params) at 4,096 rows stays under 2 MB.
CHART_DIGITS = 7


def held_label(hold: str, held_step: int) -> str:
    """Where the other params are held, as the slice charts say it: a step's params, or the optimum."""
    return f"step {held_step:,}'s params" if hold == "current" else HOLD_MODES[hold]


def player(
    problem: Problem, traj: Trajectory, i: int, j: int, *, hold: str = "current", held_step: int = 0
) -> playground.Player:
    """The Feature scaling page's player payload of the whole run ``traj`` (plain GD on every feature).

    Args:
        problem: the all-features Problem the run was made on.
        traj: the whole run (``gdviz.ui.cache.all_features_run``).
        i, j: the two params of the cost slice (different, in [0, n_params)).
        hold: "current" (the others held at the params of ``held_step``) or "optimum".
        held_step: with hold "current", the step whose params are held (snapped to a stored one). The
            browser cannot recompute a slice: it is drawn once per payload, and the page rebuilds it when
            the step it knows changes.

    Returns:
        A ``gdviz.playground.Player``: columns ``step``, ``loss``, ``p{k}`` and ``g{k}`` (k in i, j), ``norm``
        and ``rate`` for the read-out and the slice's path; ``loss_pos``, ``ag{k}`` for every param (|gradient|,
        null where a log axis cannot draw it) and ``pz3`` (the slice's loss under each path point, as the 3D
        chart draws it: log10 when its surface is in log10) for the charts. Bindings: ``gdviz.playground.player``.
    """
    rows = playback.player_rows(traj)
    names = problem.param_names
    held_row = thinning.row_of(rows, int(held_step))
    view = slice_view(problem, rows.params, i, j, hold=hold, held_row=held_row)
    surface, contour = plots.scaling.slice_charts(
        view, names, height=SLICE_HEIGHT, held=held_label(hold, int(rows.step[held_row]))
    )
    path_loss = slice_loss(problem, view.center, i, j, rows.params[:, [i, j]])
    z3d = path_loss
    if surface["layout"]["scene"]["zaxis"]["title"]["text"] == "log10 loss":  # as the surface draws it
        with np.errstate(divide="ignore", invalid="ignore"):
            z3d = np.log10(np.maximum(path_loss, np.finfo(float).tiny))
    abs_grads = np.abs(rows.grads)
    columns: dict[str, tuple[np.ndarray, int | None]] = {
        "step": (rows.step, None),
        "loss": (rows.loss, None),
        "norm": (rows.update_norm, None),
        "rate": (rows.learning_rate, None),
        "loss_pos": (playground._positive(rows.loss), CHART_DIGITS),
        "pz3": (z3d, CHART_DIGITS),
        "step_end": (playground.step_axis_end(rows.step), None),  # the step axes' end at each row
    }
    for k in (i, j):  # the read-out's and the slice's params (every gradient is in the bars, as ag{k})
        columns[f"p{k}"] = (rows.params[:, k], None)
        columns[f"g{k}"] = (rows.grads[:, k], None)
    for k in range(problem.n_params):
        columns[f"ag{k}"] = (playground._positive(abs_grads[:, k]), CHART_DIGITS)
    floor = problem.optimum_loss
    loss = plots.scaling.loss_curve(rows, floor=floor, current_step=int(rows.step[-1]), height=HEIGHT)
    playground._fixed_log_axis(loss["layout"], rows.loss, [floor])
    history = plots.scaling.grad_history(rows, names, current_step=int(rows.step[-1]), height=HEIGHT)
    playground._fixed_log_axis(history["layout"], abs_grads)
    start = plots.playground.grad_bars(rows.grads[0], names, step=0, **plots.scaling.GRAD_BARS)
    charts = [
        {"key": "grad_start", "figure": start, "bind": []},
        {"key": "grad_step", **_bars_chart(names, abs_grads, diverged=traj.status is Status.DIVERGED)},
        {"key": "grad_history", **playground._grads_chart(history)},
        {"key": "loss", **playground._loss_chart(loss, False)},
        {"key": "contour", **_path_chart(contour, i, j, last=view.n2d - 1)},
        {"key": "surface", **_path_chart(surface, i, j, last=min(view.n2d, view.n3d) - 1, z="pz3")},
    ]
    for chart in charts:
        chart["is3d"] = chart["key"] == "surface"
        chart["height"] = SLICE_HEIGHT if chart["key"] in ("contour", "surface") else HEIGHT
    return playground.Player(
        rows=rows,
        columns=columns,
        charts=charts,
        readout=readout_cells(names, i, j),
        final_status=playground.final_status(rows, floor),
        diverged_at=plots._spec.divergence_step(rows),
    )


def readout_cells(names: tuple[str, ...], i: int, j: int) -> list[dict]:
    """The read-out's cells: the step, the loss, the two params of the slice and their gradients and the
    update norm (every param's gradient is in the bars beside it)."""
    cells = [
        {"label": "Step", "col": "step", "help": "Updates applied so far (step 0 is the start point)."},
        {"label": "Loss", "col": "loss", "help": "Mean squared error at this step."},
    ]
    for k in (i, j):
        cells.append({"label": names[k], "col": f"p{k}", "help": f"The param {names[k]} at this step."})
        cells.append({"label": f"dJ/d {names[k]}", "col": f"g{k}", "help": f"The gradient w.r.t. {names[k]}."})
    cells += [
        {"label": "Update norm", "col": "norm", "help": "Length of the last update; the run stops once it is < tol."},
    ]  # no status cell: the run's status is in the summary above the player
    return cells


def _bars_chart(names: tuple[str, ...], abs_grads: np.ndarray, *, diverged: bool) -> dict:
    """|gradient| of every param at the step shown: one bar each, on a log axis fixed for the whole run."""
    spec = plots.playground.grad_bars(abs_grads[0], names, title="|gradient| at the step shown",
                                      **plots.scaling.GRAD_BARS)  # fmt: skip
    bar = spec["data"][0]
    bar.update({"x": list(names), "y": [], "texttemplate": "%{y:.2g}", "textfont": {"size": 10}, "name": "step shown"})
    bar.pop("text", None)
    bar["marker"] = {"color": [plots._spec.PARAM_COLORS[k % len(plots._spec.PARAM_COLORS)] for k in range(len(names))]}
    # One axis for the whole run, with room above the tallest bar for its label; a diverged run's axis follows
    # the step instead (Plotly's autorange): its 1e150 would flatten the bars of its first steps.
    ok = abs_grads[np.isfinite(abs_grads) & (abs_grads > 0)]
    if diverged or not ok.size:
        spec["layout"]["yaxis"].pop("range", None)
        spec["layout"]["yaxis"]["autorange"] = True
    else:
        lo, hi = float(np.log10(ok.min())), float(np.log10(ok.max()))
        spec["layout"]["yaxis"]["range"] = [lo - 0.5, hi + 0.15 * max(hi - lo, 1.0) + 0.3]
    return {"figure": spec, "bind": [{"trace": 0, "at": {"y": [f"ag{k}" for k in range(len(names))]}}]}


def _path_chart(spec: dict, i: int, j: int, *, last: int, z: str | None = None) -> dict:
    """A slice chart whose path and current point follow the step (capped at ``last``, the last row the chart
    can draw: a diverging path leaves what the grid or WebGL can hold)."""
    data = spec["data"]
    path = next(k for k, t in enumerate(data) if str(t.get("name", "")).startswith("path"))
    current = playground._trace(spec, "current step")
    axes = ("x", "y", "z") if z else ("x", "y")
    playground._empty(spec, path, *axes)
    playground._empty(spec, current, *axes)
    cols = {"x": f"p{i}", "y": f"p{j}", **({"z": z} if z else {})}
    notes = spec["layout"].get("annotations") or []
    if z and notes:  # the 3D chart's note sits between its title and its scene: room for every line
        spec["layout"]["margin"]["t"] = 45 + 14 * (notes[0]["text"].count("<br>") + 1)
    bind = [
        {"trace": path, "upto": cols, "last": last},
        {"trace": current, "at": {a: [c] for a, c in cols.items()}, "last": last},
    ]
    return {"figure": spec, "bind": bind}


def figures(
    problem: Problem,
    head: Trajectory,
    i: int,
    j: int,
    *,
    hold: str,
    spread: FeatureSpread,
    comparison: Sequence[ScalingRow],
    rate: float,
) -> dict[str, dict]:
    """Every chart of the page at the step the server knows (the last row of ``head``), for the downloads:
    short name -> figure spec (the player's charts, the features' spreads and the thresholds per scaling)."""
    names = problem.param_names
    step = int(head.step[-1])
    surface, contour = plots.scaling.slice_charts(slice_view(problem, head.params, i, j, hold=hold), names)
    return {
        "scales": plots.scaling.feature_scales(spread),
        "grad_start": plots.playground.grad_bars(head.grads[0], names, step=0, **plots.scaling.GRAD_BARS),
        "grad_step": plots.playground.grad_bars(head.grads[-1], names, step=step, **plots.scaling.GRAD_BARS),
        "grad_history": plots.scaling.grad_history(head, names, current_step=step),
        "loss": plots.scaling.loss_curve(head, floor=problem.optimum_loss, current_step=step),
        "contour": contour,
        "surface": surface,
        "thresholds": plots.scaling.thresholds(comparison, rate),
    }
