"""The Playground's figures: the loss curve, the loss surface and contours with the path, the fitted line, and
the gradient magnitudes. Other pages draw the same basic run charts by importing them from here.

Pure builders: data in, a new figure spec (a plain dict, see ``gdviz.plots._spec``) out; no Streamlit, no
optimizer runs. A spec shares its arrays with the data it was built from: treat it as read-only. Data is
positional, styling keyword-only. Non-finite points are masked and annotated (Plotly would drop them
silently). Long runs are downsampled to a few thousand points.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.colors

from gdviz import contours
from gdviz.analysis import Regime
from gdviz.engine import Trajectory
from gdviz.plots._spec import (
    _LOG10_FLOAT_MAX,
    _LOG_AXIS,
    FLOOR_COLOR,
    MAX_POINTS,
    MEASURED_COLOR,
    PARAM_COLORS,
    PREDICTED_COLOR,
    REGIME_COLORS,
    WEBGL_LIMIT,
    _base_layout,
    _spec,
    divergence_step,
    downsample_indices,
    short,
)


def loss_curve(
    traj: Trajectory,
    *,
    predicted: np.ndarray | None = None,
    predicted_name: str = "predicted (closed form)",
    floor: float | None = None,
    plateau: tuple[float, int] | None = None,
    log_y: bool = True,
    current_step: int | None = None,
    title: str = "Loss over the steps",
    height: int = 380,
) -> dict:
    """The measured loss per step, with the closed-form prediction behind it and the least-squares floor.

    Args:
        traj: the run.
        predicted: array of shape (traj.n_states,), the closed-form loss at ``traj.step`` (constant-rate
            GD only); drawn dashed, behind the measured curve.
        predicted_name: the prediction's name in the legend (e.g. "full-batch GD (closed form)" beside a
            mini-batch run, which the closed form does not describe step by step).
        floor: the least-squares loss J*, drawn as a dotted horizontal line.
        plateau: (level, first step) of a mini-batch run's noise plateau (``gdviz.playground.noise_plateau``),
            drawn as a dashed line from that step on.
        log_y: log-scale loss axis (copes with astronomically large values of a diverging run).
        current_step: draw a marker at this step.

    Returns:
        A Plotly figure spec dict (see the module docstring).
    """
    idx = downsample_indices(traj.n_states)
    steps = traj.step[idx]
    loss = traj.loss[idx]
    data = []
    if predicted is not None:
        pred = np.asarray(predicted, dtype=float)[idx]
        ok = np.isfinite(pred) & ((pred > 0) if log_y else True)
        data.append(
            {
                "type": "scatter",
                "x": steps[ok],
                "y": pred[ok],
                "name": predicted_name,
                "mode": "lines",
                "line": {"color": PREDICTED_COLOR, "width": 4, "dash": "dash"},
                "opacity": 0.6,
                "hovertemplate": "predicted %{y:.6g}<extra></extra>",
            }
        )
    ok = np.isfinite(loss) & ((loss > 0) if log_y else True)
    data.append(
        {
            "type": "scatter",
            "x": steps[ok],
            "y": loss[ok],
            "name": "measured loss",
            "mode": "lines",
            "line": {"color": MEASURED_COLOR, "width": 2},
            "hovertemplate": "step %{x}<br>loss %{y:.6g}<extra></extra>",
        }
    )
    if floor is not None and np.isfinite(floor) and (floor > 0 or not log_y):
        data.append(
            {
                "type": "scatter",
                "x": [int(steps[0]), int(steps[-1])],
                "y": [float(floor), float(floor)],
                "name": f"least-squares floor J* = {floor:.4g}",
                "mode": "lines",
                "line": {"color": FLOOR_COLOR, "width": 1, "dash": "dot"},
                "hoverinfo": "skip",
            }
        )
    if plateau is not None and np.isfinite(plateau[0]) and (plateau[0] > 0 or not log_y):
        level, first = float(plateau[0]), int(plateau[1])
        data.append(
            {
                "type": "scatter",
                "x": [first, max(first, int(steps[-1]))],
                "y": [level, level],
                "name": f"noise plateau {level:.4g} (mean of steps {first:,}+)",
                "mode": "lines",
                "line": {"color": PLATEAU_COLOR, "width": 3, "dash": "dash"},
                "hovertemplate": "noise plateau %{y:.6g}<extra></extra>",
            }
        )
    if current_step is not None:
        k = int(np.clip(np.searchsorted(traj.step, current_step), 0, traj.n_states - 1))
        if np.isfinite(traj.loss[k]) and (traj.loss[k] > 0 or not log_y):
            data.append(
                {
                    "type": "scatter",
                    "x": [int(traj.step[k])],
                    "y": [float(traj.loss[k])],
                    "name": f"step {traj.step[k]}",
                    "mode": "markers",
                    "marker": {"color": MEASURED_COLOR, "size": 10, "symbol": "circle-open", "line": {"width": 2}},
                    "hovertemplate": "current step %{x}<br>loss %{y:.6g}<extra></extra>",
                }
            )
    layout = _base_layout(
        title=title, x_title="step (updates applied)", y_title="loss (mean squared error)", height=height
    )
    div = divergence_step(traj)
    if div is not None:
        finite = np.flatnonzero(np.isfinite(traj.loss))
        last = int(finite[-1]) if finite.size else 0
        layout["annotations"] = [
            {
                "x": float(traj.step[last]),
                # On a log axis an annotation's y is in log10 units.
                "y": float(np.log10(traj.loss[last])) if log_y and traj.loss[last] > 0 else float(traj.loss[last]),
                "text": f"diverged at step {div}:<br>the loss overflowed float64",
                "showarrow": True,
                "arrowhead": 2,
                "ax": -80,
                "ay": 30,
                "font": {"color": REGIME_COLORS[Regime.DIVERGENT]},
                "bgcolor": "white",
            }
        ]
    if log_y:
        layout["yaxis"].update(_LOG_AXIS)
    return _spec(data, layout)


# ---------------------------------------------------------------------------------------------
# The parameter path: surface, contour, fitted line, gradient magnitudes
# ---------------------------------------------------------------------------------------------

SURFACE_COLORSCALE = "Viridis"  # perceptually uniform and colour-blind safe
# The scale as explicit stops, as Plotly's Python side sends a named scale (plotly.js's own "Viridis" has
# other stops, so sending the name would change the colours slightly).
_VIRIDIS = getattr(plotly.colors.sequential, SURFACE_COLORSCALE)
_SURFACE_STOPS = [[i / (len(_VIRIDIS) - 1), c] for i, c in enumerate(_VIRIDIS)]
START_COLOR = "#000000"
OPTIMUM_COLOR = "#CC79A7"  # reddish purple


def _finite_rows(points: np.ndarray) -> np.ndarray:
    return np.isfinite(points).all(axis=1)


def _field(z: np.ndarray) -> np.ndarray:
    """A grid of values as drawn: a non-finite cell (a loss that overflowed float64) becomes None. Plotly
    draws it as a gap, exactly as it draws inf or NaN, but the spec then holds no non-finite number."""
    ok = np.isfinite(z)
    return z if ok.all() else np.where(ok, z, None)


def log10_loss(grid) -> np.ndarray:
    """log10 of the loss over ``grid``: its overflow-free ``log10_z`` when it has one (``analysis.loss_grid``
    computes it in log space), else log10 of ``z`` (inf where z overflowed)."""
    if getattr(grid, "log10_z", None) is not None:
        return grid.log10_z
    with np.errstate(divide="ignore"):
        return np.log10(np.maximum(grid.z, np.finfo(float).tiny))


def _path_ends(p: np.ndarray, z: np.ndarray | None = None, *, start_size: int, current: dict) -> list[dict]:
    """The start (a diamond) and the current step (a circle) of the path ``p``: 3D when ``z`` is given.

    ``current`` holds the current step's marker settings besides its colour and symbol.
    """
    if not len(p):
        return []
    kind = "scatter" if z is None else "scatter3d"
    ends = []
    for name, row, marker in (
        ("start", slice(None, 1), {"size": start_size, "color": START_COLOR, "symbol": "diamond"}),
        ("current step", slice(-1, None), {"color": MEASURED_COLOR, "symbol": "circle", **current}),
    ):
        trace = {"type": kind, "x": p[row, 0], "y": p[row, 1], "mode": "markers", "name": name, "marker": marker}
        if z is not None:
            trace["z"] = z[row]
        ends.append(trace)
    return ends


def surface_in_log10(grid) -> bool:
    """True when the 3D surface of ``grid`` shows log10 loss instead of the loss. WebGL draws in float32 and an
    overflowed cell is a hole: past WEBGL_LIMIT the surface shows log10 loss, which stays finite
    (analysis.loss_grid computes it in log space), so the valley never goes blank."""
    return not (np.isfinite(grid.z).all() and np.max(np.abs(grid.z)) < WEBGL_LIMIT)


# WebGL draws a 3D marker as a font glyph: plotly.js's "x" is an emoji that the fonts of many machines lack
# (it drew as an empty box), while "cross" is a plain "+" that every font has.
OPTIMUM_SYMBOL_3D = "cross"


def surface_3d(
    grid,
    path: np.ndarray,
    path_loss: np.ndarray,
    *,
    optimum: np.ndarray,
    optimum_loss: float,
    names: tuple[str, str],
    note: str | None = None,
    title: str = "Loss surface, with the path",
    height: int = 520,
) -> dict:
    """The loss surface over two params with the path, its start, its current point and the optimum.

    ``note``, when given, is shown above the scene (e.g. why the 3D path stops early, see
    ``gdviz.plots._spec.webgl_rows``).

    Args:
        grid: an ``analysis.LossGrid``.
        path: array of shape (k, 2), the two params at each drawn step (the last row is the current one).
        path_loss: array of shape (k,), the loss at each row of ``path``.
        optimum: array of shape (2,), the least-squares optimum of the two params.
        names: axis titles of the two params.

    Returns:
        A Plotly figure spec dict (see the module docstring).
    """
    ok = _finite_rows(path) & np.isfinite(path_loss)
    p, z = path[ok], path_loss[ok]
    surface_z, z_title, opt_z = grid.z, "loss", float(optimum_loss)
    if surface_in_log10(grid):
        tiny = np.finfo(float).tiny
        surface_z, z_title = log10_loss(grid), "log10 loss"
        z, opt_z = np.log10(np.maximum(z, tiny)), float(np.log10(max(optimum_loss, tiny)))
    hover = f"{names[0]} %{{x:.4g}}<br>{names[1]} %{{y:.4g}}<br>{z_title} %{{z:.4g}}"
    data = [
        {
            "type": "surface",
            "x": grid.x,
            "y": grid.y,
            "z": _field(surface_z),
            "colorscale": _SURFACE_STOPS,
            "opacity": 0.85,
            "name": "loss surface",
            "showscale": False,
            "hovertemplate": hover + "<extra>surface</extra>",
            "contours": {"z": {"show": True, "usecolormap": True, "project": {"z": True}}},
        },
        {
            "type": "scatter3d",
            "x": p[:, 0],
            "y": p[:, 1],
            "z": z,
            "mode": "lines+markers",
            "name": "path",
            "line": {"color": MEASURED_COLOR, "width": 5},
            "marker": {"size": 2.5, "color": MEASURED_COLOR},
            "hovertemplate": hover + "<extra>path</extra>",
        },
    ]
    data += _path_ends(p, z, start_size=6, current={"size": 8})
    data.append(
        {
            "type": "scatter3d",
            "x": [float(optimum[0])],
            "y": [float(optimum[1])],
            "z": [opt_z],
            "mode": "markers",
            "name": "least-squares optimum",
            "marker": {"size": 9, "color": OPTIMUM_COLOR, "symbol": OPTIMUM_SYMBOL_3D},
        }
    )
    scene = {
        "xaxis": {"title": {"text": names[0]}, "range": [float(grid.x[0]), float(grid.x[-1])]},
        "yaxis": {"title": {"text": names[1]}, "range": [float(grid.y[0]), float(grid.y[-1])]},
        "zaxis": {"title": {"text": z_title}},
        # A camera a little further out than Plotly's default: the z axis' title and top tick stay in view.
        "camera": {"eye": {"x": 1.6, "y": 1.6, "z": 1.0}},
    }
    layout = {
        "height": height,
        "title": {"text": title, "x": 0.0, "xanchor": "left"},
        # Room for the title and, under it, each line of the note (11 px text: 15 px a line).
        "margin": {"l": 0, "r": 0, "t": 40 if not note else 50 + 15 * (note.count("<br>") + 1), "b": 0},
        "uirevision": "surface",
        "legend": {"orientation": "h", "y": -0.02, "yanchor": "top", "x": 0.0},
        "scene": scene,
    }
    if note:  # under the title (held at the top: Plotly centres it in the top margin), above the scene
        layout["title"].update(y=1.0, yref="container", yanchor="top", pad={"t": 10})
        layout["annotations"] = [
            {"text": note, "x": 0.0, "xref": "paper", "xanchor": "left", "y": 1.0, "yref": "paper",
             "yanchor": "bottom", "align": "left", "showarrow": False, "font": {"size": 11, "color": "#A04000"}}
        ]  # fmt: skip
    return _spec(data, layout)


def contour_path(
    grid,
    path: np.ndarray,
    *,
    optimum: np.ndarray,
    names: tuple[str, str],
    title: str = "Contours of the loss, with the path",
    height: int = 420,
    colorbar: bool = True,
    fade: float = 0.0,
) -> dict:
    """Log-spaced loss contours over two params with the path drawn as connected markers.

    A zig-zag across the valley (the oscillating regime) shows as a path that crosses the contours back
    and forth; a slow run shows as dense markers creeping along the valley floor.

    The contours are the exact level sets of the loss over the grid's plane (``gdviz.contours``): one filled
    scatter trace per level, so every trace of the chart is a scatter trace and the player moves the path
    through Plotly's animation path without redrawing them. A grid without a plane (built by hand) or a
    slice flat along one direction gets Plotly's contour trace of the grid instead.

    Args:
        colorbar: show the log10 loss colour bar (one panel of several leaves it out).
        fade: mix each band's colour with this fraction of white, so coloured paths read on top.

    Returns:
        A Plotly figure spec dict (see the module docstring).
    """
    z = log10_loss(grid)
    ok = _finite_rows(path)
    p = path[ok]
    window = (float(grid.x[0]), float(grid.x[-1]), float(grid.y[0]), float(grid.y[-1]))
    data, shapes, background = _level_sets(grid, z, window, names=names, colorbar=colorbar, fade=fade)
    data.append(
        {
            "type": "scatter",
            "x": p[:, 0],
            "y": p[:, 1],
            "mode": "lines+markers",
            "name": "path",
            "line": {"color": "white", "width": 2},
            "marker": {"size": 5, "color": MEASURED_COLOR, "line": {"color": "white", "width": 1}},
        }
    )
    data += _path_ends(p, start_size=11, current={"size": 13, "line": {"color": "white", "width": 2}})
    data.append(
        {
            "type": "scatter",
            "x": [float(optimum[0])],
            "y": [float(optimum[1])],
            "mode": "markers",
            "name": "least-squares optimum",
            "marker": {"size": 13, "color": OPTIMUM_COLOR, "symbol": "x"},
        }
    )
    layout = _base_layout(title=title, x_title=names[0], y_title=names[1], height=height)
    layout["hovermode"] = "closest"
    layout["xaxis"]["range"] = list(window[:2])
    layout["yaxis"]["range"] = list(window[2:])
    if background is not None:
        layout["plot_bgcolor"] = background
        layout["shapes"] = shapes
        for axis in ("xaxis", "yaxis"):  # the bands are the background: grid and zero lines would cross them
            layout[axis]["showgrid"] = False
            layout[axis]["zeroline"] = False
    return _spec(data, layout)


LEVELS = 24  # about this many contour levels per chart (round values of log10 loss)
CONTOUR_NAME = "log10 loss"  # the level sets' colour bar title and hover label
CONTOUR_STEP = 1e-4  # contour vertices are rounded to this part of the window's span
HOVER_POINTS = 21  # the hover read-out of the loss: at most this many grid points along each axis


def _level_sets(
    grid, z: np.ndarray, window, *, names, colorbar: bool, fade: float
) -> tuple[list[dict], list[dict], str | None]:
    """The contours of ``grid``: (traces, layout shapes, the plot's background colour).

    The bands are layout shapes (filled paths, from the largest region down, each in the colour of the band
    just below its level; the background is the band above the top level), not traces: Plotly recomputes
    every trace of a chart whenever one moves, and draws shapes once. The one trace is the hover read-out (the
    loss at a coarse subset of the grid's points, invisible), which also carries the colour bar.
    Falls back to one Plotly contour trace of the grid (no shapes, background None).
    """
    finite = z[np.isfinite(z)]
    plane = getattr(grid, "plane", None)
    levels = contours.nice_levels(float(finite.min()), float(finite.max()), LEVELS) if finite.size else np.empty(0)
    template = f"{names[0]} %{{x:.4g}}<br>{names[1]} %{{y:.4g}}<br>log10 loss %{{z:.3f}}<extra></extra>"
    if plane is None or not plane.bowl or not len(levels):
        trace = {
            "type": "contour",
            "x": grid.x,
            "y": grid.y,
            "z": _field(z),
            "colorscale": _SURFACE_STOPS,
            "ncontours": LEVELS + 1,
            "name": CONTOUR_NAME,
            "showscale": colorbar,
            "colorbar": {"title": {"text": CONTOUR_NAME}},
            "hovertemplate": template,
        }
        if fade:
            trace["opacity"] = 1.0 - fade
        return [trace], [], None
    lo, hi = float(finite.min()), float(finite.max())
    edges = np.concatenate([[lo], levels, [hi]])
    mids = (edges[:-1] + edges[1:]) / 2.0
    colors = plotly.colors.sample_colorscale(_SURFACE_STOPS, list((mids - lo) / (hi - lo)))
    if fade:
        colors = [_mix_white(c, fade) for c in colors]
    # Clipped to the window widened by its size on every side: a chart whose axes Plotly widens (equal units
    # on both axes) still shows bands to its edges, and the clip's own edges stay out of sight.
    x0, x1, y0, y1 = window
    wide = (x0 - (x1 - x0), x1 + (x1 - x0), y0 - (y1 - y0), y1 + (y1 - y0))
    shapes = []
    for k in range(len(levels) - 1, -1, -1):  # largest region first; each smaller one is drawn over it
        poly = contours.region(plane, float(levels[k]), wide)
        if poly is not None:
            shapes.append({"type": "path", "name": f"{CONTOUR_NAME} {levels[k]:.12g}",
                           "path": _svg_path(poly, window), "xref": "x", "yref": "y",
                           "fillcolor": colors[k], "line": {"color": "rgba(0,0,0,0.35)", "width": 0.6},
                           "layer": "below"})  # fmt: skip
    rows = np.unique(np.linspace(0, len(grid.y) - 1, HOVER_POINTS).round().astype(int))
    cols = np.unique(np.linspace(0, len(grid.x) - 1, HOVER_POINTS).round().astype(int))
    gx, gy = np.meshgrid(grid.x[cols], grid.y[rows])
    gz = z[np.ix_(rows, cols)]
    hover = {
        "type": "scatter",
        "x": gx.ravel(),
        "y": gy.ravel(),
        "customdata": _field(gz.ravel()),
        "mode": "markers",
        "marker": {"size": 12, "opacity": 0},
        "name": CONTOUR_NAME,
        "hovertemplate": template.replace("%{z:", "%{customdata:"),
        "showlegend": False,
    }
    if colorbar:  # the colour bar rides on the hover trace (invisible markers coloured by their loss)
        hover["marker"] |= {"color": hover["customdata"], "colorscale": _SURFACE_STOPS, "cmin": lo, "cmax": hi,
                            "showscale": True, "colorbar": {"title": {"text": CONTOUR_NAME}}}  # fmt: skip
    return [hover], shapes, colors[-1]


def _mix_white(color: str, fade: float) -> str:
    rgb = plotly.colors.unlabel_rgb(color)
    return plotly.colors.label_rgb(plotly.colors.find_intermediate_color(rgb, (255.0, 255.0, 255.0), fade))


def _svg_path(poly: np.ndarray, window) -> str:
    """A closed SVG path through ``poly``'s vertices, each coordinate rounded to ``CONTOUR_STEP`` of the window's
    span (a contour needs no more than a screen shows: that is 1/25 of a pixel at 400 pixels)."""
    x0, x1, y0, y1 = window
    dx, dy = (x1 - x0) * CONTOUR_STEP, (y1 - y0) * CONTOUR_STEP
    xs = np.round(poly[:, 0] / dx) * dx
    ys = np.round(poly[:, 1] / dy) * dy
    top = max(float(np.max(np.abs(xs))) / dx, float(np.max(np.abs(ys))) / dy, 1.0)
    digits = min(17, int(np.ceil(np.log10(top))) + 1)  # enough for CONTOUR_STEP, also far from 0
    return "M" + "L".join(f"{x:.{digits}g},{y:.{digits}g}" for x, y in zip(xs, ys, strict=True)) + "Z"


def fitted_lines(
    x: np.ndarray,
    y: np.ndarray,
    raw_params: np.ndarray,
    *,
    optimum_raw: np.ndarray,
    x_name: str = "x",
    y_name: str = "y",
    n_faded: int = 12,
    max_points: int = MAX_POINTS,
    height: int = 420,
) -> dict:
    """The data with the fitted line at the current step (the last row of ``raw_params``), earlier ones faded.

    Args:
        x, y: arrays of shape (n_samples,), the raw feature and the target.
        raw_params: array of shape (k, 2), ``[intercept, slope]`` in raw units at each drawn step.
        optimum_raw: ``[intercept, slope]`` of the least-squares line, in raw units.
        max_points: draw at most this many data points (a fixed random subset; the legend says so).

    Returns:
        A Plotly figure spec dict (see the module docstring).
    """
    lo, hi = float(np.min(x)), float(np.max(x))
    xs = np.array([lo, hi])
    n = len(x)
    shown = np.sort(np.random.default_rng(0).choice(n, max_points, replace=False)) if n > max_points else slice(None)
    data = [
        {
            "type": "scatter",
            "x": x[shown],
            "y": y[shown],
            "mode": "markers",
            "name": "data" if n <= max_points else f"data ({max_points:,} of {n:,} points)",
            "marker": {"color": "#555555", "size": 7},
            "hovertemplate": f"{x_name} %{{x:.4g}}<br>{y_name} %{{y:.4g}}<extra>data</extra>",
        }
    ]
    rows = raw_params[_finite_rows(raw_params)]
    earlier = rows[:-1][-n_faded:]
    for k, (b, m) in enumerate(earlier):
        data.append(
            {
                "type": "scatter",
                "x": xs,
                "y": b + m * xs,
                "mode": "lines",
                "showlegend": k == 0,
                "name": "earlier steps",
                "legendgroup": "earlier",
                "hoverinfo": "skip",
                "line": {"color": MEASURED_COLOR, "width": 1},
                "opacity": 0.1 + 0.5 * (k + 1) / max(len(earlier), 1),
            }
        )
    data.append(
        {
            "type": "scatter",
            "x": xs,
            "y": optimum_raw[0] + optimum_raw[1] * xs,
            "mode": "lines",
            "name": "least-squares line",
            "line": {"color": OPTIMUM_COLOR, "width": 2, "dash": "dash"},
        }
    )
    if len(rows):
        b, m = rows[-1]
        data.append(
            {
                "type": "scatter",
                "x": xs,
                "y": b + m * xs,
                "mode": "lines",
                "name": f"current fit: y = {b:.4g} + {m:.4g} x",
                "line": {"color": MEASURED_COLOR, "width": 3},
            }
        )
    layout = _base_layout(title="The fitted line over the data", x_title=x_name, y_title=y_name, height=height)
    layout["hovermode"] = "closest"
    # The y range holds the data and the current line: a diverging line widens the view, it is never cut off.
    ends = (rows[-1, 0] + rows[-1, 1] * xs) if len(rows) else np.array([])
    span = np.concatenate([np.asarray(y, dtype=float), ends])
    lo_y, hi_y = float(np.min(span)), float(np.max(span))
    pad = 0.15 * ((hi_y - lo_y) or 1.0)
    layout["yaxis"]["range"] = [lo_y - pad, hi_y + pad]
    return _spec(data, layout)


def grad_history(
    traj: Trajectory, names: tuple[str, ...], *, current_step: int | None = None, height: int = 360
) -> dict:
    """|gradient| of each param over the steps, on a log axis: why one param crawls while another settles.

    Returns:
        A Plotly figure spec dict (see the module docstring).
    """
    idx = downsample_indices(traj.n_states)
    steps = traj.step[idx]
    data = []
    for k, name in enumerate(names):
        g = np.abs(traj.grads[idx, k])
        ok = np.isfinite(g) & (g > 0)
        data.append(
            {
                "type": "scatter",
                "x": steps[ok],
                "y": g[ok],
                "mode": "lines",
                "name": f"|dJ/d {name}|",
                "line": {"color": PARAM_COLORS[k % len(PARAM_COLORS)], "width": 2},
            }
        )
    layout = _base_layout(
        title="Gradient magnitude per parameter",
        x_title="step (updates applied)",
        y_title="|gradient|",
        height=height,
        log_y=True,
    )
    if current_step is not None:  # a vertical line over the whole plot height (what fig.add_vline draws)
        layout["shapes"] = [
            {
                "type": "line",
                "x0": current_step,
                "x1": current_step,
                "xref": "x",
                "y0": 0,
                "y1": 1,
                "yref": "y domain",
                "line": {"color": "#999999", "dash": "dot"},
            }
        ]
    return _spec(data, layout)


def grad_bars(
    grads: np.ndarray,
    names: Sequence[str],
    *,
    step: int | None = None,
    title: str | None = None,
    note: str = "ratio",
    compact: bool = False,
    height: int = 320,
) -> dict:
    """|gradient| of each param at one step, as bars on a log axis (a badly scaled feature towers by decades).

    A bar's height on a log axis depends on where the axis starts, so it does not compare magnitudes by
    itself: each bar carries its value as text. Non-finite gradients (the step where a run overflowed)
    cannot be drawn and are left out.

    Args:
        grads: array of shape (n_params,), the gradient at the step shown.
        names: the params' names, one per entry of ``grads``.
        step: the step the gradients belong to (0-based); when given it names the trace, the hover box
            and, unless ``title`` is given, the title (for charts of two steps side by side).
        title: the chart's title; default "Gradient magnitude at this step", or the step's when given.
        note: what the subtitle says: "ratio", how many times larger the largest gradient is than the
            smallest (the spread of magnitudes is the lesson); "not drawn", the params whose gradient is
            non-finite.
        compact: labels that fit narrow bars ("5,833", "5.9e6"), a short axis title, and an axis fitted
            to the bars with room above them for their labels; else labels with 3 significant figures and
            an axis that starts a decade below the smallest bar.

    Returns:
        A Plotly figure spec dict (see the module docstring).
    """
    names = list(names)
    g = np.abs(np.asarray(grads, dtype=float))
    ok = np.isfinite(g) & (g > 0)
    labels = [short(v) if compact else f"{v:.3g}" for v in g[ok]]
    at = "" if step is None else f"step {step:,}"
    value = "|dJ/dw| %{y:.4g}" if compact else "|gradient| %{y:.6g}"
    trace = {
        "type": "bar",
        "x": [n for n, o in zip(names, ok, strict=True) if o],
        "y": g[ok],
        "text": labels,
        "textposition": "outside",
        "cliponaxis": False,  # the value above the tallest bar is never cut off
        "marker": {"color": [PARAM_COLORS[k % len(PARAM_COLORS)] for k in np.flatnonzero(ok)]},
        "name": at or "|gradient|",
        "hovertemplate": f"%{{x}}<br>{value}<extra>{at}</extra>",
    }
    if compact:
        trace["constraintext"] = "none"
    if title is None:
        title = "Gradient magnitude at this step" if step is None else f"|gradient| at {at}"
        title = "|gradient| at the start (step 0)" if step == 0 else title
    if note == "ratio" and ok.sum() >= 2:
        big, small = int(np.argmax(np.where(ok, g, -np.inf))), int(np.argmin(np.where(ok, g, np.inf)))
        ratio = g[big] / g[small]
        times = f"{ratio:,.0f}" if 100 <= ratio < 1e7 else f"{ratio:.3g}"
        title += f"<br><sub>log scale: |dJ/d {names[big]}| is {times}x |dJ/d {names[small]}|</sub>"
    bad = [n for n, v in zip(names, g, strict=True) if not np.isfinite(v)]
    if note == "not drawn" and bad:
        title += f"<br><sub>non-finite (overflowed), not drawn: {', '.join(bad)}</sub>"
    layout = _base_layout(
        title=title,
        x_title="" if compact else "parameter",
        y_title="|gradient|" if compact else "|gradient| (log scale)",
        height=height,
        log_y=True,
    )
    if ok.any():  # log axis: the range is in decades
        lo, hi = np.log10(g[ok].min()), np.log10(g[ok].max())
        if compact:  # room above the tallest bar for its label
            layout["yaxis"]["range"] = [float(lo) - 0.5, float(hi) + 0.15 * max(hi - lo, 1.0) + 0.3]
        else:  # bars rise from the axis' bottom: start it a decade below the smallest, not just under it
            layout["yaxis"]["range"] = [float(np.floor(lo) - 1), float(min(hi + 0.35, _LOG10_FLOAT_MAX))]
    layout["hovermode"] = "closest"
    layout["showlegend"] = False
    if compact:
        layout["margin"].update(t=60, r=40)  # room for the last (rotated) tick label
    else:
        layout["margin"]["t"] = 70
    return _spec(data=[trace], layout=layout)


def step_marker(color: str, name: str = "current step") -> dict:
    """An empty marker trace for the current step of a line (a player fills in its x and y)."""
    return {
        "type": "scatter",
        "x": [],
        "y": [],
        "mode": "markers",
        "name": name,
        "showlegend": False,
        "marker": {"color": color, "size": 9, "symbol": "circle-open", "line": {"width": 2}},
        "hoverinfo": "skip",
    }


# ---------------------------------------------------------------------------------------------
# What one step does: the arrows on the contours, the error along each eigen-direction
# ---------------------------------------------------------------------------------------------

GRADIENT_ARROW_COLOR = "#D55E00"  # vermillion (Okabe-Ito)
PLATEAU_COLOR = "#E69F00"  # orange (Okabe-Ito)
UPDATE_ARROW_COLOR = "#56B4E9"  # sky blue (Okabe-Ito)


def arrow_traces(scale: float, *, gradient: np.ndarray | None = None, update: np.ndarray | None = None) -> list[dict]:
    """The two arrows at the current step of a contour chart: ``-rate x gradient`` (the step plain GD would
    take) and the update actually taken, both drawn ``scale`` times their length (the legend says so).

    Args:
        scale: the factor both arrows are drawn at (one factor, so their lengths compare).
        gradient, update: arrays of shape (2, 2), each arrow's tail and tip (already scaled); None leaves the
            trace empty (a player fills it in).

    Returns:
        Two scatter traces, "update taken" then "-rate x gradient" (drawn on top), each ending in an arrow head.
    """
    traces = []
    # The update first, wide and solid, the gradient step on top, dashed: where they coincide (plain GD) both show.
    for name, color, dash, width, points in (
        (f"update taken (x{scale:g})", UPDATE_ARROW_COLOR, "solid", 6, update),
        (f"-rate x gradient (x{scale:g})", GRADIENT_ARROW_COLOR, "dash", 2.5, gradient),
    ):
        p = np.empty((0, 2)) if points is None else np.asarray(points, dtype=float)
        traces.append(
            {
                "type": "scatter",
                "x": p[:, 0],
                "y": p[:, 1],
                "mode": "lines+markers",
                "name": name,
                "line": {"color": color, "width": width, "dash": dash},
                # Only the tip has a marker: an arrow head turned along the segment it ends.
                "marker": {
                    "symbol": ["circle", "arrow"],
                    "size": [1, 10 + 2 * width],
                    "angleref": "previous",
                    "color": color,
                },
                "hovertemplate": f"{name.split(' (')[0]}, drawn at {scale:g}x its length<extra></extra>",
            }
        )
    return traces


def _pace(factor: float) -> str:
    """What a per-step factor does to its direction's error, in words."""
    if factor >= 1:
        return "it grows"
    if factor > 0.9:
        return "close to 1, it crawls"
    return "it shrinks fast" if factor < 0.5 else "it shrinks steadily"


def eigen_errors(
    steps: np.ndarray,
    log_errors: np.ndarray,
    eigenvalues: np.ndarray,
    *,
    factors: np.ndarray | None = None,
    predicted: np.ndarray | None = None,
    note: str | None = None,
    title: str = "Error along each eigen-direction",
    height: int = 380,
) -> dict:
    """log10 |w_t - w*| along each eigen-direction per step, with the closed-form straight lines behind them.

    Args:
        steps: int array of shape (k,).
        log_errors: array of shape (k, n_params), log10 of each |component| of the error in the eigenbasis
            (columns by ascending eigenvalue); -inf or NaN where nothing can be drawn (a gap).
        eigenvalues: array of shape (n_params,), ascending.
        factors: array of shape (n_params,), each direction's per-step factor |1 - rate x lambda_i| (plain GD at
            a constant rate), named in the legend; None when the run has no single factor.
        predicted: array of shape (k, n_params), the closed form log10(|1 - rate lambda_i|^t |c_i(0)|), drawn
            dashed behind each measured line; None when the run has no closed form.
        note: a line under the title (e.g. why there is no closed form).

    Returns:
        A Plotly figure spec dict: per direction a "direction i" line, then its "closed form" line if any.
    """
    data = []
    for i, lam in enumerate(np.asarray(eigenvalues, dtype=float)):
        color = PARAM_COLORS[i % len(PARAM_COLORS)]
        which = "smallest" if i == 0 else "largest" if i == len(eigenvalues) - 1 else f"#{i + 1}"
        name = f"direction {i + 1} ({which} lambda = {lam:.3g})"
        if factors is not None:
            name += f", x{factors[i]:.3g} per step"
        y = np.asarray(log_errors[:, i], dtype=float)
        ok = np.isfinite(y)
        if predicted is not None:
            q = np.asarray(predicted[:, i], dtype=float)
            good = np.isfinite(q)
            data.append(
                {
                    "type": "scatter",
                    "x": steps[good],
                    "y": q[good],
                    "name": f"closed form, direction {i + 1}",
                    "mode": "lines",
                    "line": {"color": color, "width": 4, "dash": "dash"},
                    "opacity": 0.45,
                    "hovertemplate": f"closed form {i + 1}: %{{y:.3f}}<extra></extra>",
                }
            )
        data.append(
            {
                "type": "scatter",
                "x": steps[ok],
                "y": y[ok],
                "name": name,
                "mode": "lines",
                "line": {"color": color, "width": 2},
                "hovertemplate": f"direction {i + 1}: log10 |error| %{{y:.3f}}"
                + (
                    ""
                    if factors is None
                    else f"<br>x{factors[i]:.3g} per step = |1 - rate x {lam:.3g}|: {_pace(factors[i])}"
                )
                + "<extra></extra>",
            }
        )
    layout = _base_layout(title=title, x_title="step (updates applied)", y_title="log10 |error along it|",
                          height=height)  # fmt: skip
    if note:
        layout["title"]["text"] = f"{title}<br><sup>{note}</sup>"
        layout["margin"]["t"] = 50 + 18 * (1 + note.count("<br>"))
    return _spec(data, layout)
