"""Pure figure builders: data in, a new ``go.Figure`` out. No Streamlit, no optimizer runs.

Data is positional, styling keyword-only. Non-finite points are masked and annotated (Plotly would drop
them silently). Long runs are downsampled to a few thousand points. Colours come from the Okabe-Ito
palette (colour-blind safe) and are always paired with a text label.
"""

from __future__ import annotations

import functools
import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import plotly.utils

from gdviz.analysis import Regime
from gdviz.engine import Status, Trajectory

# One colour per regime (Okabe-Ito), always shown next to its name.
REGIME_COLORS: dict[str, str] = {
    Regime.SLOW: "#56B4E9",  # sky blue
    Regime.GOOD: "#009E73",  # bluish green
    Regime.OSCILLATING: "#E69F00",  # orange
    Regime.DIVERGENT: "#D55E00",  # vermillion
}
REGIME_LABELS: dict[str, str] = {
    Regime.SLOW: "Slow",
    Regime.GOOD: "Good",
    Regime.OSCILLATING: "Oscillating",
    Regime.DIVERGENT: "Divergent",
}
MEASURED_COLOR = "#0072B2"  # blue
PREDICTED_COLOR = "#7F7F7F"  # grey
FLOOR_COLOR = "#000000"
MAX_POINTS = 2_000


def downsample_indices(n: int, max_points: int = MAX_POINTS) -> np.ndarray:
    """Indices 0..n-1 to draw: all of them when few, else the first steps, a log-spaced and an even
    spread, and the last. Sorted and unique; always includes 0 and n - 1."""
    if n <= max_points:
        return np.arange(n)
    head = np.arange(min(200, n))
    logs = np.unique(np.geomspace(1, n - 1, max_points // 2).astype(np.int64))
    even = np.linspace(0, n - 1, max_points // 2).astype(np.int64)
    return np.unique(np.concatenate([head, logs, even, [n - 1]]))


# The look of every figure. Builders leave it out (validating a full template costs ~15 ms a figure, more
# than the figure itself); the browser side (gdviz.ui.live_chart) or ``styled`` puts it back.
TEMPLATE = "plotly_white"


def _figure() -> go.Figure:
    """An empty figure with an empty template (so Plotly's default template is neither validated nor sent)."""
    return go.Figure(layout={"template": {}})


@functools.cache
def template_json() -> str:
    """The JSON of TEMPLATE, serialised once."""
    return json.dumps(pio.templates[TEMPLATE].to_plotly_json(), cls=plotly.utils.PlotlyJSONEncoder)


def styled(fig: go.Figure) -> go.Figure:
    """A copy of ``fig`` with TEMPLATE applied, for use outside the live charts (e.g. a standalone file)."""
    out = go.Figure(fig)
    out.update_layout(template=TEMPLATE)
    return out


def _base_layout(fig: go.Figure, *, title: str, x_title: str, y_title: str, height: int) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.0, "xanchor": "left"},
        xaxis_title=x_title,
        yaxis_title=y_title,
        height=height,
        margin={"l": 60, "r": 20, "t": 50, "b": 40},
        # Below the plot, left-aligned: a legend at the top collides with the title on narrow screens.
        legend={"orientation": "h", "yanchor": "top", "y": -0.22, "xanchor": "left", "x": 0.0},
        hovermode="x unified",
    )
    return fig


def divergence_step(traj: Trajectory) -> int | None:
    """The step at which a diverged run produced its first non-finite value, else None."""
    return int(traj.step[-1]) if traj.status == Status.DIVERGED else None


def loss_curve(
    traj: Trajectory,
    *,
    predicted: np.ndarray | None = None,
    floor: float | None = None,
    log_y: bool = True,
    current_step: int | None = None,
    title: str = "Loss over the steps",
    height: int = 380,
) -> go.Figure:
    """The measured loss per step, with the closed-form prediction behind it and the least-squares floor.

    Args:
        traj: the run.
        predicted: array of shape (traj.n_states,), the closed-form loss at ``traj.step`` (constant-rate
            GD only); drawn dashed, behind the measured curve.
        floor: the least-squares loss J*, drawn as a dotted horizontal line.
        log_y: log-scale loss axis (copes with astronomically large values of a diverging run).
        current_step: draw a marker at this step.
    """
    idx = downsample_indices(traj.n_states)
    steps = traj.step[idx]
    loss = traj.loss[idx]
    fig = _figure()
    if predicted is not None:
        pred = np.asarray(predicted, dtype=float)[idx]
        ok = np.isfinite(pred) & ((pred > 0) if log_y else True)
        fig.add_trace(
            go.Scatter(
                x=steps[ok],
                y=pred[ok],
                name="predicted (closed form)",
                mode="lines",
                line={"color": PREDICTED_COLOR, "width": 4, "dash": "dash"},
                opacity=0.6,
                hovertemplate="predicted %{y:.6g}<extra></extra>",
            )
        )
    ok = np.isfinite(loss) & ((loss > 0) if log_y else True)
    fig.add_trace(
        go.Scatter(
            x=steps[ok],
            y=loss[ok],
            name="measured loss",
            mode="lines",
            line={"color": MEASURED_COLOR, "width": 2},
            hovertemplate="step %{x}<br>loss %{y:.6g}<extra></extra>",
        )
    )
    if floor is not None and np.isfinite(floor) and (floor > 0 or not log_y):
        fig.add_trace(
            go.Scatter(
                x=[steps[0], steps[-1]],
                y=[floor, floor],
                name=f"least-squares floor J* = {floor:.4g}",
                mode="lines",
                line={"color": FLOOR_COLOR, "width": 1, "dash": "dot"},
                hoverinfo="skip",
            )
        )
    if current_step is not None:
        k = int(np.clip(np.searchsorted(traj.step, current_step), 0, traj.n_states - 1))
        if np.isfinite(traj.loss[k]) and (traj.loss[k] > 0 or not log_y):
            fig.add_trace(
                go.Scatter(
                    x=[traj.step[k]],
                    y=[traj.loss[k]],
                    name=f"step {traj.step[k]}",
                    mode="markers",
                    marker={"color": MEASURED_COLOR, "size": 10, "symbol": "circle-open", "line": {"width": 2}},
                    hovertemplate="current step %{x}<br>loss %{y:.6g}<extra></extra>",
                )
            )
    div = divergence_step(traj)
    if div is not None:
        finite = np.flatnonzero(np.isfinite(traj.loss))
        last = int(finite[-1]) if finite.size else 0
        fig.add_annotation(
            x=float(traj.step[last]),
            y=float(np.log10(traj.loss[last])) if log_y and traj.loss[last] > 0 else float(traj.loss[last]),
            text=f"diverged at step {div}:<br>the loss overflowed float64",
            showarrow=True,
            arrowhead=2,
            ax=-80,
            ay=30,
            font={"color": REGIME_COLORS[Regime.DIVERGENT]},
            bgcolor="white",
        )
    _base_layout(fig, title=title, x_title="step (updates applied)", y_title="loss (mean squared error)", height=height)
    if log_y:
        fig.update_yaxes(type="log", exponentformat="power")
    return fig


# ---------------------------------------------------------------------------------------------
# The parameter path: surface, contour, fitted line, gradient magnitudes
# ---------------------------------------------------------------------------------------------

SURFACE_COLORSCALE = "Viridis"  # perceptually uniform and colour-blind safe
START_COLOR = "#000000"
OPTIMUM_COLOR = "#CC79A7"  # reddish purple
PARAM_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


def view_range(
    values: np.ndarray, anchors: np.ndarray, *, pad: float = 0.15, min_half_width: float = 1e-9
) -> tuple[float, float]:
    """An axis range covering every finite value of ``values`` and ``anchors`` (e.g. the optimum), padded.

    This is what lets the surface grow with an oscillating or diverging path instead of clipping it.
    """
    v = np.concatenate([np.ravel(values), np.ravel(anchors)]).astype(float)
    v = v[np.isfinite(v)]
    lo, hi = (float(v.min()), float(v.max())) if v.size else (-1.0, 1.0)
    half = max(0.5 * (hi - lo), min_half_width, 1e-6 * max(abs(lo), abs(hi)))
    mid = 0.5 * (lo + hi)
    half *= 1.0 + 2.0 * pad
    return mid - half, mid + half


def _finite_rows(points: np.ndarray) -> np.ndarray:
    return np.isfinite(points).all(axis=1)


def surface_3d(
    grid,
    path: np.ndarray,
    path_loss: np.ndarray,
    *,
    optimum: np.ndarray,
    optimum_loss: float,
    names: tuple[str, str],
    camera: dict | None = None,
    height: int = 520,
) -> go.Figure:
    """The loss surface over two params with the path, its start, its current point and the optimum.

    Args:
        grid: an ``analysis.LossGrid``.
        path: array of shape (k, 2), the two params at each drawn step (the last row is the current one).
        path_loss: array of shape (k,), the loss at each row of ``path``.
        optimum: array of shape (2,), the least-squares optimum of the two params.
        names: axis titles of the two params.
        camera: a Plotly ``scene.camera`` dict to keep the user's view.
    """
    ok = _finite_rows(path) & np.isfinite(path_loss)
    p, z = path[ok], path_loss[ok]
    fig = _figure()
    fig.add_trace(
        go.Surface(
            x=grid.x,
            y=grid.y,
            z=grid.z,
            colorscale=SURFACE_COLORSCALE,
            opacity=0.85,
            name="loss surface",
            showscale=False,
            hovertemplate=f"{names[0]} %{{x:.4g}}<br>{names[1]} %{{y:.4g}}<br>loss %{{z:.4g}}<extra>surface</extra>",
            contours={"z": {"show": True, "usecolormap": True, "project": {"z": True}}},
        )
    )
    fig.add_trace(
        go.Scatter3d(
            x=p[:, 0],
            y=p[:, 1],
            z=z,
            mode="lines+markers",
            name="path",
            line={"color": MEASURED_COLOR, "width": 5},
            marker={"size": 2.5, "color": MEASURED_COLOR},
            hovertemplate=f"{names[0]} %{{x:.4g}}<br>{names[1]} %{{y:.4g}}<br>loss %{{z:.4g}}<extra>path</extra>",
        )
    )
    if len(p):
        fig.add_trace(
            go.Scatter3d(
                x=p[:1, 0],
                y=p[:1, 1],
                z=z[:1],
                mode="markers",
                name="start",
                marker={"size": 6, "color": START_COLOR, "symbol": "diamond"},
            )
        )
        fig.add_trace(
            go.Scatter3d(
                x=p[-1:, 0],
                y=p[-1:, 1],
                z=z[-1:],
                mode="markers",
                name="current step",
                marker={"size": 8, "color": MEASURED_COLOR, "symbol": "circle"},
            )
        )
    fig.add_trace(
        go.Scatter3d(
            x=[optimum[0]],
            y=[optimum[1]],
            z=[optimum_loss],
            mode="markers",
            name="least-squares optimum",
            marker={"size": 7, "color": OPTIMUM_COLOR, "symbol": "x"},
        )
    )
    fig.update_layout(
        height=height,
        margin={"l": 0, "r": 0, "t": 30, "b": 0},
        uirevision="surface",
        legend={"orientation": "h", "y": 1.02, "x": 0.0},
        scene={
            "xaxis_title": names[0],
            "yaxis_title": names[1],
            "zaxis_title": "loss",
            "xaxis": {"range": [grid.x[0], grid.x[-1]]},
            "yaxis": {"range": [grid.y[0], grid.y[-1]]},
        },
    )
    if camera:
        fig.update_layout(scene_camera=camera)
    return fig


def contour_path(
    grid,
    path: np.ndarray,
    *,
    optimum: np.ndarray,
    names: tuple[str, str],
    title: str = "Contours of the loss, with the path",
    height: int = 420,
) -> go.Figure:
    """Log-spaced loss contours over two params with the path drawn as connected markers.

    A zig-zag across the valley (the oscillating regime) shows as a path that crosses the contours back
    and forth; a slow run shows as dense markers creeping along the valley floor.
    """
    z = np.log10(np.maximum(grid.z, np.finfo(float).tiny))
    ok = _finite_rows(path)
    p = path[ok]
    fig = _figure()
    fig.add_trace(
        go.Contour(
            x=grid.x,
            y=grid.y,
            z=z,
            colorscale=SURFACE_COLORSCALE,
            ncontours=25,
            name="log10 loss",
            colorbar={"title": {"text": "log10 loss"}},
            hovertemplate=f"{names[0]} %{{x:.4g}}<br>{names[1]} %{{y:.4g}}<br>log10 loss %{{z:.3f}}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=p[:, 0],
            y=p[:, 1],
            mode="lines+markers",
            name="path",
            line={"color": "white", "width": 2},
            marker={"size": 5, "color": MEASURED_COLOR, "line": {"color": "white", "width": 1}},
        )
    )
    if len(p):
        fig.add_trace(
            go.Scatter(
                x=p[:1, 0],
                y=p[:1, 1],
                mode="markers",
                name="start",
                marker={"size": 11, "color": START_COLOR, "symbol": "diamond"},
            )
        )
        fig.add_trace(
            go.Scatter(
                x=p[-1:, 0],
                y=p[-1:, 1],
                mode="markers",
                name="current step",
                marker={
                    "size": 13,
                    "color": MEASURED_COLOR,
                    "symbol": "circle",
                    "line": {"color": "white", "width": 2},
                },
            )
        )
    fig.add_trace(
        go.Scatter(
            x=[optimum[0]],
            y=[optimum[1]],
            mode="markers",
            name="least-squares optimum",
            marker={"size": 13, "color": OPTIMUM_COLOR, "symbol": "x"},
        )
    )
    _base_layout(fig, title=title, x_title=names[0], y_title=names[1], height=height)
    fig.update_layout(hovermode="closest")
    fig.update_xaxes(range=[grid.x[0], grid.x[-1]])
    fig.update_yaxes(range=[grid.y[0], grid.y[-1]])
    return fig


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
) -> go.Figure:
    """The data with the fitted line at the current step (the last row of ``raw_params``), earlier ones faded.

    Args:
        x, y: arrays of shape (n_samples,), the raw feature and the target.
        raw_params: array of shape (k, 2), ``[intercept, slope]`` in raw units at each drawn step.
        optimum_raw: ``[intercept, slope]`` of the least-squares line, in raw units.
        max_points: draw at most this many data points (a fixed random subset; the legend says so).
    """
    lo, hi = float(np.min(x)), float(np.max(x))
    xs = np.array([lo, hi])
    n = len(x)
    shown = np.sort(np.random.default_rng(0).choice(n, max_points, replace=False)) if n > max_points else slice(None)
    fig = _figure()
    fig.add_trace(
        go.Scatter(
            x=x[shown],
            y=y[shown],
            mode="markers",
            name="data" if n <= max_points else f"data ({max_points:,} of {n:,} points)",
            marker={"color": "#555555", "size": 7},
            hovertemplate=f"{x_name} %{{x:.4g}}<br>{y_name} %{{y:.4g}}<extra>data</extra>",
        )
    )
    rows = raw_params[_finite_rows(raw_params)]
    earlier = rows[:-1][-n_faded:]
    for k, (b, m) in enumerate(earlier):
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=b + m * xs,
                mode="lines",
                showlegend=(k == 0),
                name="earlier steps",
                legendgroup="earlier",
                hoverinfo="skip",
                line={"color": MEASURED_COLOR, "width": 1},
                opacity=0.1 + 0.5 * (k + 1) / max(len(earlier), 1),
            )
        )
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=optimum_raw[0] + optimum_raw[1] * xs,
            mode="lines",
            name="least-squares line",
            line={"color": OPTIMUM_COLOR, "width": 2, "dash": "dash"},
        )
    )
    if len(rows):
        b, m = rows[-1]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=b + m * xs,
                mode="lines",
                name=f"current fit: y = {b:.4g} + {m:.4g} x",
                line={"color": MEASURED_COLOR, "width": 3},
            )
        )
    _base_layout(fig, title="The fitted line over the data", x_title=x_name, y_title=y_name, height=height)
    fig.update_layout(hovermode="closest")
    # The y range holds the data and the current line: a diverging line widens the view, it is never cut off.
    ends = (rows[-1, 0] + rows[-1, 1] * xs) if len(rows) else np.array([])
    span = np.concatenate([np.asarray(y, dtype=float), ends])
    lo_y, hi_y = float(np.min(span)), float(np.max(span))
    pad = 0.15 * ((hi_y - lo_y) or 1.0)
    fig.update_yaxes(range=[lo_y - pad, hi_y + pad])
    return fig


def grad_history(
    traj: Trajectory, names: tuple[str, ...], *, current_step: int | None = None, height: int = 360
) -> go.Figure:
    """|gradient| of each param over the steps, on a log axis: why one param crawls while another settles."""
    idx = downsample_indices(traj.n_states)
    steps = traj.step[idx]
    fig = _figure()
    for k, name in enumerate(names):
        g = np.abs(traj.grads[idx, k])
        ok = np.isfinite(g) & (g > 0)
        fig.add_trace(
            go.Scatter(
                x=steps[ok],
                y=g[ok],
                mode="lines",
                name=f"|dJ/d {name}|",
                line={"color": PARAM_COLORS[k % len(PARAM_COLORS)], "width": 2},
            )
        )
    if current_step is not None:
        fig.add_vline(x=current_step, line={"color": "#999999", "dash": "dot"})
    _base_layout(
        fig,
        title="Gradient magnitude per parameter",
        x_title="step (updates applied)",
        y_title="|gradient|",
        height=height,
    )
    fig.update_yaxes(type="log", exponentformat="power")
    return fig


def grad_bars(
    grads: np.ndarray, names: tuple[str, ...], *, title: str = "Gradient magnitude at this step", height: int = 320
) -> go.Figure:
    """|gradient| of each param at one step, as bars on a log axis (a badly scaled feature towers)."""
    g = np.abs(np.asarray(grads, dtype=float))
    ok = np.isfinite(g) & (g > 0)
    labels = [f"{v:.3g}" if np.isfinite(v) else "non-finite" for v in g]
    fig = _figure()
    fig.add_trace(
        go.Bar(
            x=[n for n, o in zip(names, ok, strict=True) if o],
            y=g[ok],
            text=[t for t, o in zip(labels, ok, strict=True) if o],
            textposition="outside",
            marker={"color": [PARAM_COLORS[k % len(PARAM_COLORS)] for k in np.flatnonzero(ok)]},
            name="|gradient|",
        )
    )
    _base_layout(fig, title=title, x_title="parameter", y_title="|gradient|", height=height)
    fig.update_yaxes(type="log", exponentformat="power")
    fig.update_layout(hovermode="closest", showlegend=False)
    return fig
