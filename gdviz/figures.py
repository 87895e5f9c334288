"""Pure figure builders: data in, a new ``go.Figure`` out. No Streamlit, no optimizer runs.

Data is positional, styling keyword-only. Non-finite points are masked and annotated (Plotly would drop
them silently). Long runs are downsampled to a few thousand points. Colours come from the Okabe-Ito
palette (colour-blind safe) and are always paired with a text label.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

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


def _base_layout(fig: go.Figure, *, title: str, x_title: str, y_title: str, height: int) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.0, "xanchor": "left"},
        xaxis_title=x_title,
        yaxis_title=y_title,
        height=height,
        margin={"l": 60, "r": 20, "t": 60, "b": 50},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1.0},
        hovermode="x unified",
        template="plotly_white",
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
    fig = go.Figure()
    if predicted is not None:
        pred = np.asarray(predicted, dtype=float)[idx]
        ok = np.isfinite(pred) & ((pred > 0) if log_y else True)
        fig.add_trace(
            go.Scatter(
                x=steps[ok], y=pred[ok], name="predicted (closed form)", mode="lines",
                line={"color": PREDICTED_COLOR, "width": 4, "dash": "dash"}, opacity=0.6,
                hovertemplate="predicted %{y:.6g}<extra></extra>",
            )
        )
    ok = np.isfinite(loss) & ((loss > 0) if log_y else True)
    fig.add_trace(
        go.Scatter(
            x=steps[ok], y=loss[ok], name="measured loss", mode="lines",
            line={"color": MEASURED_COLOR, "width": 2},
            hovertemplate="step %{x}<br>loss %{y:.6g}<extra></extra>",
        )
    )
    if floor is not None and np.isfinite(floor) and (floor > 0 or not log_y):
        fig.add_trace(
            go.Scatter(
                x=[steps[0], steps[-1]], y=[floor, floor], name=f"least-squares floor J* = {floor:.4g}", mode="lines",
                line={"color": FLOOR_COLOR, "width": 1, "dash": "dot"}, hoverinfo="skip",
            )
        )
    if current_step is not None:
        k = int(np.clip(np.searchsorted(traj.step, current_step), 0, traj.n_states - 1))
        if np.isfinite(traj.loss[k]) and (traj.loss[k] > 0 or not log_y):
            fig.add_trace(
                go.Scatter(
                    x=[traj.step[k]], y=[traj.loss[k]], name=f"step {traj.step[k]}", mode="markers",
                    marker={"color": MEASURED_COLOR, "size": 10, "symbol": "circle-open", "line": {"width": 2}},
                    hovertemplate="current step %{x}<br>loss %{y:.6g}<extra></extra>",
                )
            )
    div = divergence_step(traj)
    if div is not None:
        finite = np.flatnonzero(np.isfinite(traj.loss))
        last = int(finite[-1]) if finite.size else 0
        fig.add_annotation(
            x=float(traj.step[last]), y=float(np.log10(traj.loss[last])) if log_y and traj.loss[last] > 0 else float(
                traj.loss[last]),
            text=f"diverged at step {div}:<br>the loss overflowed float64", showarrow=True, arrowhead=2,
            ax=-80, ay=30, font={"color": REGIME_COLORS[Regime.DIVERGENT]}, bgcolor="white",
        )
    _base_layout(fig, title=title, x_title="step (updates applied)", y_title="loss (mean squared error)", height=height)
    if log_y:
        fig.update_yaxes(type="log", exponentformat="power")
    return fig
