"""The Feature scaling page's figures: each raw feature's spread, the gradients and the loss of a run, the
divergence threshold per scaling, and a 2D slice of the cost. Plain figure specs (see ``gdviz.plots._spec``),
with the same rules as the Playground's (data positional, styling keyword-only, log axes for quantities
that span decades, non-finite values masked and said, every colour paired with a text label); the run
charts are the Playground's (``gdviz.plots.playground``), adapted here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gdviz.engine import Trajectory
from gdviz.explain import fmt
from gdviz.plots import playground
from gdviz.plots._spec import (
    MEASURED_COLOR,
    PARAM_COLORS,
    REGIME_COLORS,
    REGIME_LABELS,
    _base_layout,
    _spec,
    divergence_step,
    downsample_indices,
    short,
)
from gdviz.scaling import HOLD_MODES, SCALING_ADJECTIVES, FeatureSpread, ScalingRow, SliceView

RANGE_COLOR = "#E69F00"  # orange (Okabe-Ito)
DASHES = ("solid", "dash", "dot", "dashdot")
# The gradient bars of this page (the start and the step shown, side by side), drawn by playground.grad_bars:
# labels that fit narrow bars, and the params left out for a non-finite gradient named.
GRAD_BARS = {"compact": True, "note": "not drawn", "height": 380}


def _positive(values: np.ndarray) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    return np.isfinite(v) & (v > 0)


def feature_scales(spread: FeatureSpread, *, height: int = 380) -> dict:
    """Each raw feature's standard deviation and range (max - min) as bars on a log axis.

    A feature on a scale of thousands towers over the rest by decades. Zero spreads (a constant column)
    cannot sit on a log axis: they are left out of the bars and named in the title.
    """
    names = list(spread.names)
    data = []
    for label, values, color in (
        ("standard deviation", spread.std, MEASURED_COLOR),
        ("range (max - min)", spread.value_range, RANGE_COLOR),
    ):
        ok = _positive(values)
        data.append(
            {
                "type": "bar",
                "name": label,
                "x": [n for n, o in zip(names, ok, strict=True) if o],
                "y": np.asarray(values, dtype=float)[ok],
                "text": [short(v) for v, o in zip(values, ok, strict=True) if o],
                "textposition": "outside",
                "marker": {"color": color},
                "customdata": np.column_stack([spread.minimum, spread.maximum, spread.rms])[ok],
                "hovertemplate": "%{x}<br>" + label + " %{y:.4g}<br>min %{customdata[0]:.4g}, max "
                "%{customdata[1]:.4g}<br>root mean square %{customdata[2]:.4g}<extra></extra>",
            }
        )
    flat = [n for n, v in zip(names, spread.std, strict=True) if not v > 0]
    title = "How spread out each raw feature is (log scale)"
    if flat:
        title += f"<br><sub>constant, not drawn: {', '.join(flat)}</sub>"
    layout = _base_layout(title=title, x_title="feature", y_title="spread, raw units", height=height, log_y=True)
    layout["barmode"] = "group"
    layout["hovermode"] = "closest"
    return _spec(data, layout)


def loss_curve(traj: Trajectory, *, floor: float, current_step: int, height: int = 380) -> dict:
    """``playground.loss_curve`` whose log axis stops at the largest finite loss: near float64's limit Plotly's
    own autorange pads past 1e308 and labels its ticks "Infinity"."""
    spec = playground.loss_curve(traj, floor=floor, current_step=current_step, height=height)
    loss = traj.loss[np.isfinite(traj.loss) & (traj.loss > 0)]
    if loss.size and loss.max() > 1e250:
        lo = np.log10(min(loss.min(), floor if floor > 0 else loss.min()))
        spec["layout"]["yaxis"]["range"] = [
            float(lo) - 0.5,
            min(float(np.log10(loss.max())) + 1.0, float(np.log10(np.finfo(float).max))),
        ]
    return spec


def grad_history(traj: Trajectory, names: Sequence[str], *, current_step: int, height: int = 380) -> dict:
    """``playground.grad_history`` with a dash style per colour cycle, so more params than colours stay apart,
    and a note where a diverged run stops being finite."""
    spec = playground.grad_history(traj, tuple(names), current_step=current_step, height=height)
    spec["layout"]["legend"] = {"orientation": "v", "x": 1.02, "xanchor": "left", "y": 1.0, "yanchor": "top"}
    spec["layout"]["title"]["text"] = "|gradient| over the steps"
    for k, trace in enumerate(spec["data"]):
        trace["name"] = names[k]
        trace["line"]["dash"] = DASHES[(k // len(PARAM_COLORS)) % len(DASHES)]
        trace["hovertemplate"] = "step %{x}<br>%{y:.4g}<extra>" + trace["name"] + "</extra>"
    div = divergence_step(traj)
    if div is not None:
        spec["layout"]["title"]["text"] += f"<br><sub>diverged at step {div:,}: the gradients overflowed float64</sub>"
    return spec


def thresholds(rows: Sequence[ScalingRow], learning_rate: float, *, height: int = 360) -> dict:
    """2/lambda_max under each scaling as bars on a log axis, coloured and labelled by the regime the one
    ``learning_rate`` (a dashed line) falls in: a bar below the line is a scaling under which the rate diverges."""
    labels = [SCALING_ADJECTIVES.get(r.scaling, r.scaling) for r in rows]
    values = np.array([r.stable_max for r in rows], dtype=float)
    data = [
        {
            "type": "bar",
            "x": labels,
            "y": values,
            "text": [f"{fmt(r.stable_max)}<br>{REGIME_LABELS[r.regime]}" for r in rows],
            "textposition": "outside",
            "cliponaxis": False,
            "marker": {"color": [REGIME_COLORS[r.regime] for r in rows]},
            "customdata": np.array([[r.lambda_max, r.ratio] for r in rows]),
            "hovertemplate": "%{x}<br>2/lambda_max %{y:.4g}<br>lambda_max %{customdata[0]:.4g}"
            "<br>rate / threshold %{customdata[1]:.3g}x<extra></extra>",
            "name": "divergence threshold 2/lambda_max",
        },
        {
            "type": "scatter",
            "x": labels,
            "y": [float(learning_rate)] * len(labels),
            "mode": "lines",
            "line": {"color": "#000000", "dash": "dash", "width": 2},
            "name": f"your rate {fmt(learning_rate)}",
            "hovertemplate": "your rate %{y:.4g}<extra></extra>",
        },
    ]
    layout = _base_layout(
        title="Divergence threshold 2/lambda_max per scaling, and your rate",
        x_title="scaling",
        y_title="learning rate",
        height=height,
        log_y=True,
    )
    lo = float(np.log10(min(values.min(), learning_rate)))
    hi = float(np.log10(max(values.max(), learning_rate)))
    span = max(hi - lo, 1.0)  # log axis: ranges in decades; the two-line labels above the bars need ~a fifth
    lo, hi = lo - 0.1 * span, hi + 0.25 * span
    layout["yaxis"]["range"] = [lo, hi]  # log axis: range in decades; room for the labels above the bars
    layout["hovermode"] = "closest"
    return _spec(data, layout)


def slice_charts(
    view: SliceView, names: Sequence[str], *, height: int = 460, held: str | None = None
) -> tuple[dict, dict]:
    """The cost slice of ``view`` as (3D surface, contour), with the path projected on its two params.

    The path points sit on the slice (their height is the slice's loss, not the full loss, which would float
    above it when the other params differ); titles and notes say where the others are held and where a
    diverging path stops being drawable. ``held`` names where the others are held (default
    ``HOLD_MODES[view.hold]``).
    """
    pair = (names[view.i], names[view.j])
    idx = downsample_indices(len(view.path))  # a long run: a few thousand points are plenty
    path, path_loss = view.path[idx], view.path_loss[idx]
    k3 = int(np.searchsorted(idx, min(view.n3d, view.n2d)))  # drawn rows that the 3D chart can hold
    held = f"others held at<br>{held or HOLD_MODES[view.hold]}"
    p3 = view.n3d if view.n3d <= view.n2d else view.n2d
    note3 = None
    if p3 < view.n_steps:
        note3 = f"{held}.<br>3D path stops at step {p3 - 1}: later<br>values pass 1e12 (too large for WebGL)."
    surface = playground.surface_3d(
        view.grid3d,
        path[:k3],
        path_loss[:k3],
        optimum=view.optimum,
        optimum_loss=view.optimum_loss,
        names=pair,
        note=note3 or held,
        height=height,
    )
    for trace in surface["data"]:
        if trace.get("name") == "path":
            trace["name"] = "path (projected on this slice)"
    contour = playground.contour_path(
        view.grid,
        path,
        optimum=view.optimum,
        names=pair,
        title=f"Loss contours<br><sub>{held.replace('<br>', ' ')}</sub>",
        height=height,
    )
    for trace in contour["data"]:
        if trace.get("name") == "path":
            trace["name"] = "path (projected)"
            trace["hovertemplate"] = f"{pair[0]} %{{x:.4g}}<br>{pair[1]} %{{y:.4g}}<extra>path</extra>"
    if view.n2d < view.n_steps:
        contour["layout"]["title"]["text"] += (
            f"<br><sub>path drawn to step {view.n2d - 1}: later params pass 1e60 (diverging)</sub>"
        )
    # Same units on both axes: a round bowl looks round, a stretched valley looks stretched.
    contour["layout"]["margin"]["t"] = 75 if view.n2d >= view.n_steps else 95  # room for the third title line
    contour["layout"]["yaxis"]["scaleanchor"] = "x"
    contour["layout"]["yaxis"]["scaleratio"] = 1
    surface["layout"]["scene"]["aspectmode"] = "manual"
    surface["layout"]["scene"]["aspectratio"] = {"x": 1, "y": 1, "z": 0.7}
    return surface, contour
