"""The Regimes page's figures: a contour panel and a loss panel per run, and every run's distance to the
floor on one chart. Plain figure specs (see ``gdviz.plots._spec``) built on the Playground's charts
(``gdviz.plots.playground``), whose colours, downsampling and divergence handling they reuse. No Streamlit,
no optimizer runs.

Each run is drawn in its regime's colour (``REGIME_COLORS``, Okabe-Ito) and always named in text as well.
A diverged run is drawn up to its last finite value, with a label saying where it overflowed.
"""

from __future__ import annotations

import numpy as np

from gdviz.analysis import LossGrid, Regime
from gdviz.engine import Status, Trajectory
from gdviz.plots import playground
from gdviz.plots._spec import REGIME_COLORS, _base_layout, _spec, downsample_indices, log_axis_range

DECAY_COLOR = "#000000"  # black: the decaying run belongs to no single regime
PANEL_HEIGHTS = {"contour": 340, "loss": 280}


def regime_color(regime: Regime | None) -> str:
    """The colour of a run predicted in ``regime`` (black for the decaying run, which has none)."""
    return REGIME_COLORS[regime] if regime is not None else DECAY_COLOR


def _last_finite(points: np.ndarray) -> int | None:
    ok = np.flatnonzero(np.isfinite(points).all(axis=1))
    return int(ok[-1]) if ok.size else None


def panel_contour(
    grid: LossGrid,
    head: Trajectory,
    *,
    optimum: np.ndarray,
    names: tuple[str, str],
    color: str,
    label: str,
    height: int = PANEL_HEIGHTS["contour"],
) -> dict:
    """The loss contours with the path of ``head`` (the run up to the scrubbed step), in ``color``.

    Args:
        grid: an ``analysis.LossGrid`` over the two params, holding the path.
        head: the run up to the step shown (its last row is the current point).
        optimum: array of shape (2,), the least-squares optimum.
        names: the two params' names (axis titles).
        color: the run's colour; ``label`` names it in the title (never colour alone).

    Returns:
        A Plotly figure spec dict. Long paths are downsampled (``downsample_indices``); a run that
        diverged at the step shown is drawn to its last finite point, which is annotated.
    """
    idx = downsample_indices(head.n_states)
    spec = playground.contour_path(
        grid, head.params[idx], optimum=optimum, names=names, height=height, colorbar=False,
        title=f"{label}: the path up to step {int(head.step[-1]):,}",
    )  # fmt: skip
    for trace in spec["data"]:
        if trace.get("name") == "path":
            trace["marker"]["color"] = color
            trace["name"] = f"path ({label})"
            trace["hovertemplate"] = f"{names[0]} %{{x:.4g}}<br>{names[1]} %{{y:.4g}}<extra>{label}</extra>"
        elif trace.get("name") == "current step":
            trace["marker"]["color"] = color
    spec["layout"]["legend"]["y"] = -0.3
    if head.status is Status.DIVERGED:
        k = _last_finite(head.params)
        if k is not None:
            spec["layout"]["annotations"] = [
                {
                    "x": float(head.params[k, 0]),
                    "y": float(head.params[k, 1]),
                    "text": f"diverged at step {int(head.step[-1]):,}<br>"
                    + (
                        "(the loss overflowed float64 here)"
                        if k == head.n_states - 1
                        else f"(last finite point: step {int(head.step[k]):,})"
                    ),
                    "showarrow": True,
                    "arrowhead": 2,
                    "ax": 0,
                    "ay": 40,
                    "font": {"color": REGIME_COLORS[Regime.DIVERGENT]},
                    "bgcolor": "white",
                }
            ]
    return spec


def panel_loss(
    head: Trajectory,
    *,
    color: str,
    label: str,
    predicted: np.ndarray | None = None,
    floor: float | None = None,
    height: int = PANEL_HEIGHTS["loss"],
) -> dict:
    """The loss of ``head`` over the steps on a log axis, in ``color``, with the closed-form prediction
    (constant rates) and the least-squares floor. A diverged run is annotated where it overflowed
    (``playground.loss_curve``)."""
    spec = playground.loss_curve(
        head, predicted=predicted, floor=floor, current_step=int(head.step[-1]), title=f"{label}: loss (log scale)",
        height=height,
    )  # fmt: skip
    for trace in spec["data"]:
        if trace.get("name") == "measured loss":
            trace["line"]["color"] = color
            trace["name"] = f"loss ({label})"
        elif str(trace.get("name", "")).startswith("step "):
            trace["marker"]["color"] = color
    spec["layout"]["xaxis"]["title"]["text"] = "step"
    spec["layout"]["yaxis"]["title"]["text"] = "loss (MSE)"  # the long title runs into the ticks of a half-width chart
    spec["layout"]["legend"]["y"] = -0.42
    return spec


OVERVIEW_TITLE = "All runs: loss above the floor J*"


def loss_gaps(
    runs: list[tuple[str, str, Trajectory]], *, floor: float, title: str = OVERVIEW_TITLE,
    height: int = 420,
) -> dict:  # fmt: skip
    """Every run's distance to the least-squares floor, ``loss - J*``, over the steps on one log axis.

    Args:
        runs: (label, colour, run up to the step shown) per run; the label is the trace's name.
        floor: the least-squares loss J*.

    Returns:
        A Plotly figure spec dict. Values <= 0 (at the floor, within round-off) and non-finite values are
        left out; a diverged run's trace ends at its last finite loss, with its name saying so.
    """
    data, shown = [], []
    for k, (label, color, head) in enumerate(runs):
        idx = downsample_indices(head.n_states)
        steps, gap = head.step[idx], head.loss[idx] - floor
        ok = np.isfinite(gap) & (gap > 0)
        shown.append(gap[ok])
        name = f"{label}: diverged at step {int(head.step[-1]):,}" if head.status is Status.DIVERGED else label
        data.append(
            {
                "type": "scatter",
                "x": steps[ok],
                "y": gap[ok],
                "mode": "lines",
                "name": name,
                "line": {"color": color, "width": 2, "dash": ("solid", "dash", "dot", "dashdot")[k % 4]},
                "hovertemplate": f"{label}<br>step %{{x}}<br>loss - J* %{{y:.4g}}<extra></extra>",
            }
        )
    layout = _base_layout(
        title=title, x_title="step (updates applied)", y_title="loss - J* (log scale)", height=height, log_y=True
    )
    layout["yaxis"]["range"] = log_axis_range(np.concatenate(shown) if shown else np.array([]))
    layout["hovermode"] = "closest"
    layout["legend"]["y"] = -0.2
    return _spec(data, layout)
