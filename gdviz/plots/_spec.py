"""What every figure spec of ``gdviz.plots`` shares: the spec dict, the base layout, log axes, the colours of
concepts drawn on several pages, downsampling of long runs, and the limits of what a chart can draw.

A spec is a plain dict ``{"data": [trace dicts], "layout": {...}}`` in Plotly's JSON schema (nested dicts,
no magic-underscore names), with NumPy arrays left in place and no template (``gdviz.plots.encode`` turns
it into JSON or a ``go.Figure``). Colours come from the Okabe-Ito palette (colour-blind safe) and are
always paired with a text label.
"""

from __future__ import annotations

import numpy as np

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
# One colour per param, in order (intercept first); cycles past eight params.
PARAM_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
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


def short(v: float) -> str:
    """A bar label that fits a narrow bar: 3 significant figures, thousands in full ("5,833"), and powers of
    ten written compactly ("5.9e6") beyond."""
    if not np.isfinite(v):
        return str(float(v))
    a = abs(v)
    if 1e3 <= a < 1e4:
        return f"{v:,.0f}"
    if a >= 1e4 or (0 < a < 1e-3):
        mantissa, exponent = f"{v:.1e}".split("e")
        return f"{mantissa}e{int(exponent)}"
    return f"{v:.3g}"


def _spec(data: list[dict], layout: dict) -> dict:
    """A figure spec. Its layout has no "template" key: the template is applied where the figure is drawn."""
    return {"data": data, "layout": layout}


def _base_layout(*, title: str, x_title: str, y_title: str, height: int, log_y: bool = False) -> dict:
    """The layout every 2D chart starts from; ``log_y`` puts the y axis on a log scale (powers of ten)."""
    layout = {
        "title": {"text": title, "x": 0.0, "xanchor": "left"},
        "xaxis": {"title": {"text": x_title}},
        "yaxis": {"title": {"text": y_title}},
        "height": height,
        "margin": {"l": 60, "r": 20, "t": 50, "b": 40},
        # Below the plot, left-aligned: a legend at the top collides with the title on narrow screens.
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.22, "xanchor": "left", "x": 0.0},
        "hovermode": "x unified",
    }
    if log_y:
        layout["yaxis"].update(_LOG_AXIS)
    return layout


_LOG_AXIS = {"type": "log", "exponentformat": "power"}
_LOG10_FLOAT_MAX = float(np.log10(np.finfo(float).max))


def log_axis_range(values: np.ndarray) -> list[float]:
    """A log axis range (log10 units) holding every finite positive value of ``values``, padded, and never
    past float64's largest value (Plotly's own autorange would label a tick 'Infinity' there)."""
    v = np.asarray(values, dtype=float).ravel()
    v = v[np.isfinite(v) & (v > 0)]
    lo, hi = (float(np.log10(v.min())), float(np.log10(v.max()))) if v.size else (-1.0, 1.0)
    pad = 0.05 * (hi - lo) or 0.5
    return [lo - pad, min(hi + pad, _LOG10_FLOAT_MAX)]


def divergence_step(traj: Trajectory) -> int | None:
    """The step at which a diverged run produced its first non-finite value, else None."""
    return int(traj.step[-1]) if traj.status == Status.DIVERGED else None


# WebGL draws in float32 and squares coordinates in its camera maths: far beyond this the 3D scene breaks.
WEBGL_LIMIT = 1e12


def webgl_rows(points: np.ndarray, values: np.ndarray, limit: float = WEBGL_LIMIT) -> int:
    """How many leading rows of ``points`` (k, d) and ``values`` (k,) a 3D scene can draw: all finite and
    below ``limit`` in size. A diverging path leaves that range; the 2D charts (float64 SVG) still show it."""
    ok = np.isfinite(points).all(axis=1) & (np.abs(points) < limit).all(axis=1)
    ok &= np.isfinite(values) & (np.abs(values) < limit)
    bad = np.flatnonzero(~ok)
    return int(bad[0]) if bad.size else len(ok)
