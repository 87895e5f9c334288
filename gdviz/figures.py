"""Pure figure builders: data in, a new Plotly figure spec out. No Streamlit, no optimizer runs.

A spec is a plain dict ``{"data": [trace dicts], "layout": {...}}`` in Plotly's JSON schema (nested dicts,
no magic-underscore names), with NumPy arrays left in place and no template. Building a ``go.Figure``
costs milliseconds of validation per figure; a dict costs microseconds, and the live charts rebuild every
figure on every step. ``to_json`` serialises a spec for the browser (arrays as base64 typed arrays, as
Plotly does); ``to_figure`` and ``styled`` turn it into a validated ``go.Figure`` when one is needed. A
spec shares its arrays with the data it was built from: treat it as read-only.

Data is positional, styling keyword-only. Non-finite points are masked and annotated (Plotly would drop
them silently). Long runs are downsampled to a few thousand points. Colours come from the Okabe-Ito
palette (colour-blind safe) and are always paired with a text label.
"""

from __future__ import annotations

import base64
import copy
import functools
import json
import math
from typing import Any

import numpy as np
import plotly.colors
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


# The look of every figure. Specs leave it out (a template is ~7 kB of JSON, and validating it costs ~15 ms
# a figure); the browser side (gdviz.ui.live_chart) or ``styled`` puts it back.
TEMPLATE = "plotly_white"


def _spec(data: list[dict], layout: dict) -> dict:
    """A figure spec. Its layout has no "template" key: the template is applied where the figure is drawn."""
    return {"data": data, "layout": layout}


@functools.cache
def template_json() -> str:
    """The JSON of TEMPLATE, serialised once."""
    return json.dumps(pio.templates[TEMPLATE].to_plotly_json(), cls=plotly.utils.PlotlyJSONEncoder)


def to_figure(spec: dict) -> go.Figure:
    """``spec`` as a validated ``go.Figure`` (with Plotly's default template, as any new go.Figure).

    Raises:
        ValueError: if the spec names a property Plotly does not have, or gives one an invalid value.
    """
    return go.Figure(spec)


def styled(spec: dict | go.Figure) -> go.Figure:
    """``spec`` as a validated ``go.Figure`` with TEMPLATE applied, for use outside the live charts (e.g. a
    standalone file)."""
    out = go.Figure(spec)
    out.update_layout(template=TEMPLATE)
    return out


# Keys whose arrays Plotly sends as plain lists, never as typed arrays (plotly.js reads them as lists).
_LIST_KEYS = frozenset({"geojson", "layer", "layers", "range"})
# plotly.js typed arrays have no 64-bit integers: narrow them to the smallest type that holds every value.
_NARROW_INTS = {"i": (np.int8, np.int16, np.int32), "u": (np.uint8, np.uint16, np.uint32)}


def _typed_array(a: np.ndarray) -> Any:
    """A NumPy array as Plotly encodes it: ``{"dtype", "bdata"(, "shape")}``, little-endian, C order."""
    if a.ndim == 0:
        return _plain(a.item())
    if a.size == 0:
        return []
    kind = a.dtype.kind
    if kind == "b":
        a = a.astype(np.uint8)
    elif kind in "iu" and a.dtype.itemsize == 8:
        lo, hi = int(a.min()), int(a.max())
        fits = [t for t in _NARROW_INTS[kind] if np.iinfo(t).min <= lo and hi <= np.iinfo(t).max]
        a = a.astype(fits[0] if fits else np.float64)  # beyond 32 bits: float64 (exact up to 2**53)
    elif kind == "f" and a.dtype.itemsize not in (4, 8):  # float16, longdouble: plotly.js has f4 and f8
        a = a.astype(np.float32 if a.dtype.itemsize < 4 else np.float64)
    elif kind not in "iuf":
        return _plain(a.tolist())  # strings, objects (e.g. None for a gap), ...: a JSON list
    a = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<"))
    out = {"dtype": f"{a.dtype.kind}{a.dtype.itemsize}", "bdata": base64.b64encode(a.data).decode("ascii")}
    if a.ndim > 1:
        out["shape"] = ", ".join(str(d) for d in a.shape)
    return out


def _plain(value: Any, key: str | None = None) -> Any:
    """``value`` with JSON types only: arrays encoded (as Plotly does), NumPy scalars as Python numbers,
    non-finite floats as None (JSON has no NaN; Plotly reads null as a gap)."""
    if isinstance(value, dict):
        return {k: _plain(v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist()) if key in _LIST_KEYS else _typed_array(value)
    if isinstance(value, (str, bool, int)) or value is None:
        return value
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.generic):
        return _plain(value.item(), key)
    if hasattr(value, "to_plotly_json"):  # a plotly graph object inside a spec
        return _plain(value.to_plotly_json(), key)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable in a figure spec")


def to_json(spec: dict) -> str:
    """The JSON of a figure spec, as plotly.js reads it, without building a ``go.Figure``.

    NumPy arrays become Plotly typed arrays ``{"dtype": "f8"|"f4"|"i4"|"u1"|..., "bdata": base64 of the
    little-endian bytes, "shape": "r, c" (2-D and up)}``; 64-bit integers are narrowed to the smallest
    of int8/16/32 that holds them (float64 beyond that), booleans become uint8, and NaN or inf inside a
    float array stay as IEEE bytes (plotly.js reads them as NaN/Infinity). NumPy scalars become Python
    numbers, and a non-finite Python float becomes null, so the output always passes ``JSON.parse``.

    Raises:
        TypeError: if the spec holds a value JSON cannot represent (e.g. a complex number).
    """
    return json.dumps(_plain(spec), separators=(",", ":"), allow_nan=False)


def _base_layout(*, title: str, x_title: str, y_title: str, height: int) -> dict:
    return {
        "title": {"text": title, "x": 0.0, "xanchor": "left"},
        "xaxis": {"title": {"text": x_title}},
        "yaxis": {"title": {"text": y_title}},
        "height": height,
        "margin": {"l": 60, "r": 20, "t": 50, "b": 40},
        # Below the plot, left-aligned: a legend at the top collides with the title on narrow screens.
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.22, "xanchor": "left", "x": 0.0},
        "hovermode": "x unified",
    }


_LOG_AXIS = {"type": "log", "exponentformat": "power"}


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
) -> dict:
    """The measured loss per step, with the closed-form prediction behind it and the least-squares floor.

    Args:
        traj: the run.
        predicted: array of shape (traj.n_states,), the closed-form loss at ``traj.step`` (constant-rate
            GD only); drawn dashed, behind the measured curve.
        floor: the least-squares loss J*, drawn as a dotted horizontal line.
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
                "name": "predicted (closed form)",
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


def surface_3d(
    grid,
    path: np.ndarray,
    path_loss: np.ndarray,
    *,
    optimum: np.ndarray,
    optimum_loss: float,
    names: tuple[str, str],
    camera: dict | None = None,
    note: str | None = None,
    height: int = 520,
) -> dict:
    """The loss surface over two params with the path, its start, its current point and the optimum.

    ``note``, when given, is shown above the scene (e.g. why the 3D path stops early, see ``webgl_rows``).

    Args:
        grid: an ``analysis.LossGrid``.
        path: array of shape (k, 2), the two params at each drawn step (the last row is the current one).
        path_loss: array of shape (k,), the loss at each row of ``path``.
        optimum: array of shape (2,), the least-squares optimum of the two params.
        names: axis titles of the two params.
        camera: a Plotly ``scene.camera`` dict to keep the user's view.

    Returns:
        A Plotly figure spec dict (see the module docstring).
    """
    ok = _finite_rows(path) & np.isfinite(path_loss)
    p, z = path[ok], path_loss[ok]
    surface_z, z_title, opt_z = grid.z, "loss", float(optimum_loss)
    # WebGL draws in float32 and an overflowed cell is a hole: past WEBGL_LIMIT the surface shows log10 loss,
    # which stays finite (analysis.loss_grid computes it in log space), so the valley never goes blank.
    if not (np.isfinite(grid.z).all() and np.max(np.abs(grid.z)) < WEBGL_LIMIT):
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
    if len(p):
        data.append(
            {
                "type": "scatter3d",
                "x": p[:1, 0],
                "y": p[:1, 1],
                "z": z[:1],
                "mode": "markers",
                "name": "start",
                "marker": {"size": 6, "color": START_COLOR, "symbol": "diamond"},
            }
        )
        data.append(
            {
                "type": "scatter3d",
                "x": p[-1:, 0],
                "y": p[-1:, 1],
                "z": z[-1:],
                "mode": "markers",
                "name": "current step",
                "marker": {"size": 8, "color": MEASURED_COLOR, "symbol": "circle"},
            }
        )
    data.append(
        {
            "type": "scatter3d",
            "x": [float(optimum[0])],
            "y": [float(optimum[1])],
            "z": [opt_z],
            "mode": "markers",
            "name": "least-squares optimum",
            "marker": {"size": 7, "color": OPTIMUM_COLOR, "symbol": "x"},
        }
    )
    scene = {
        "xaxis": {"title": {"text": names[0]}, "range": [float(grid.x[0]), float(grid.x[-1])]},
        "yaxis": {"title": {"text": names[1]}, "range": [float(grid.y[0]), float(grid.y[-1])]},
        "zaxis": {"title": {"text": z_title}},
    }
    if camera:
        scene["camera"] = copy.deepcopy(camera)
    layout = {
        "height": height,
        "margin": {"l": 0, "r": 0, "t": 30, "b": 0},
        "uirevision": "surface",
        "legend": {"orientation": "h", "y": 1.02, "x": 0.0},
        "scene": scene,
    }
    if note:
        layout["title"] = {"text": note, "x": 0.0, "xanchor": "left", "font": {"size": 12, "color": "#A04000"}}
        layout["margin"]["t"] = 70
        layout["legend"]["y"] = 0.98
    return _spec(data, layout)


# WebGL draws in float32 and squares coordinates in its camera maths: far beyond this the 3D scene breaks.
WEBGL_LIMIT = 1e12


def webgl_rows(points: np.ndarray, values: np.ndarray, limit: float = WEBGL_LIMIT) -> int:
    """How many leading rows of ``points`` (k, d) and ``values`` (k,) a 3D scene can draw: all finite and
    below ``limit`` in size. A diverging path leaves that range; the 2D charts (float64 SVG) still show it."""
    ok = np.isfinite(points).all(axis=1) & (np.abs(points) < limit).all(axis=1)
    ok &= np.isfinite(values) & (np.abs(values) < limit)
    bad = np.flatnonzero(~ok)
    return int(bad[0]) if bad.size else len(ok)


def contour_path(
    grid,
    path: np.ndarray,
    *,
    optimum: np.ndarray,
    names: tuple[str, str],
    title: str = "Contours of the loss, with the path",
    height: int = 420,
) -> dict:
    """Log-spaced loss contours over two params with the path drawn as connected markers.

    A zig-zag across the valley (the oscillating regime) shows as a path that crosses the contours back
    and forth; a slow run shows as dense markers creeping along the valley floor.

    Returns:
        A Plotly figure spec dict (see the module docstring).
    """
    z = log10_loss(grid)
    ok = _finite_rows(path)
    p = path[ok]
    data = [
        {
            "type": "contour",
            "x": grid.x,
            "y": grid.y,
            "z": _field(z),
            "colorscale": _SURFACE_STOPS,
            "ncontours": 25,
            "name": "log10 loss",
            "colorbar": {"title": {"text": "log10 loss"}},
            "hovertemplate": f"{names[0]} %{{x:.4g}}<br>{names[1]} %{{y:.4g}}<br>log10 loss %{{z:.3f}}<extra></extra>",
        },
        {
            "type": "scatter",
            "x": p[:, 0],
            "y": p[:, 1],
            "mode": "lines+markers",
            "name": "path",
            "line": {"color": "white", "width": 2},
            "marker": {"size": 5, "color": MEASURED_COLOR, "line": {"color": "white", "width": 1}},
        },
    ]
    if len(p):
        data.append(
            {
                "type": "scatter",
                "x": p[:1, 0],
                "y": p[:1, 1],
                "mode": "markers",
                "name": "start",
                "marker": {"size": 11, "color": START_COLOR, "symbol": "diamond"},
            }
        )
        data.append(
            {
                "type": "scatter",
                "x": p[-1:, 0],
                "y": p[-1:, 1],
                "mode": "markers",
                "name": "current step",
                "marker": {
                    "size": 13,
                    "color": MEASURED_COLOR,
                    "symbol": "circle",
                    "line": {"color": "white", "width": 2},
                },
            }
        )
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
    layout["xaxis"]["range"] = [float(grid.x[0]), float(grid.x[-1])]
    layout["yaxis"]["range"] = [float(grid.y[0]), float(grid.y[-1])]
    return _spec(data, layout)


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
    )
    layout["yaxis"].update(_LOG_AXIS)
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
    grads: np.ndarray, names: tuple[str, ...], *, title: str = "Gradient magnitude at this step", height: int = 320
) -> dict:
    """|gradient| of each param at one step, as bars on a log axis (a badly scaled feature towers).

    A bar's height on a log axis depends on where the axis starts, so it does not compare magnitudes by
    itself: each bar carries its value as text, and the title says how many times larger the largest
    gradient is than the smallest (the spread of magnitudes is the lesson).

    Returns:
        A Plotly figure spec dict (see the module docstring).
    """
    g = np.abs(np.asarray(grads, dtype=float))
    ok = np.isfinite(g) & (g > 0)
    labels = [f"{v:.3g}" if np.isfinite(v) else "non-finite" for v in g]
    data = [
        {
            "type": "bar",
            "x": [n for n, o in zip(names, ok, strict=True) if o],
            "y": g[ok],
            "text": [t for t, o in zip(labels, ok, strict=True) if o],
            "textposition": "outside",
            "cliponaxis": False,  # the value above the tallest bar is never cut off
            "marker": {"color": [PARAM_COLORS[k % len(PARAM_COLORS)] for k in np.flatnonzero(ok)]},
            "name": "|gradient|",
            "hovertemplate": "%{x}<br>|gradient| %{y:.6g}<extra></extra>",
        }
    ]
    if ok.sum() >= 2:
        big, small = int(np.argmax(np.where(ok, g, -np.inf))), int(np.argmin(np.where(ok, g, np.inf)))
        ratio = g[big] / g[small]
        times = f"{ratio:,.0f}" if 100 <= ratio < 1e7 else f"{ratio:.3g}"
        title += f"<br><sub>log scale: |dJ/d {names[big]}| is {times}x |dJ/d {names[small]}|</sub>"
    layout = _base_layout(title=title, x_title="parameter", y_title="|gradient| (log scale)", height=height)
    layout["margin"]["t"] = 70
    layout["yaxis"].update(_LOG_AXIS)
    if ok.any():  # bars rise from the axis' bottom: start it a decade below the smallest, not just under it
        lo, hi = np.log10(g[ok].min()), np.log10(g[ok].max())
        layout["yaxis"]["range"] = [float(np.floor(lo) - 1), float(min(hi + 0.35, _LOG10_FLOAT_MAX))]
    layout["hovermode"] = "closest"
    layout["showlegend"] = False
    return _spec(data, layout)


_LOG10_FLOAT_MAX = float(np.log10(np.finfo(float).max))


def log_axis_range(values: np.ndarray) -> list[float]:
    """A log axis range (log10 units) holding every finite positive value of ``values``, padded, and never
    past float64's largest value (Plotly's own autorange would label a tick 'Infinity' there)."""
    v = np.asarray(values, dtype=float).ravel()
    v = v[np.isfinite(v) & (v > 0)]
    lo, hi = (float(np.log10(v.min())), float(np.log10(v.max()))) if v.size else (-1.0, 1.0)
    pad = 0.05 * (hi - lo) or 0.5
    return [lo - pad, min(hi + pad, _LOG10_FLOAT_MAX)]
