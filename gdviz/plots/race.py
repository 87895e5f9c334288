"""The optimizer race's figure specs: every run's path on one contour and one 3D surface, with arrows on the
contour, and the loss curves together on a log scale.

The moving traces (each run's path, current point and arrows) are left empty and tagged with
``meta = {"run": name, "role": ...}``: the player fills them from the columns of ``gdviz.race.player``.
Each run has one colour (RUN_COLORS, Okabe-Ito plus grey: colour-blind safe) and one marker symbol, and its
name is on the chart (the legend, and a text label at its current point).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from gdviz.plots import playground
from gdviz.plots._spec import _base_layout, _spec, log_axis_range
from gdviz.plots.playground import surface_in_log10

# One colour per run (the optimizer concept), always with its name; a marker symbol tells them apart in print.
RUN_COLORS: dict[str, str] = {
    "gd": "#0072B2",  # blue
    "momentum": "#E69F00",  # orange
    "nesterov": "#D55E00",  # vermillion
    "adagrad": "#009E73",  # bluish green
    "rmsprop": "#56B4E9",  # sky blue
    "adam": "#CC79A7",  # reddish purple
    "newton": "#000000",  # black
    "line_search": "#7F7F7F",  # grey
    "barzilai_borwein": "#B8860B",  # dark goldenrod (Okabe-Ito's yellow darkened to read on white)
}
RUN_SYMBOLS: dict[str, str] = {
    "gd": "circle",
    "momentum": "square",
    "nesterov": "diamond",
    "adagrad": "triangle-up",
    "rmsprop": "triangle-down",
    "adam": "pentagon",
    "newton": "star",
    "line_search": "hexagon",
    "barzilai_borwein": "cross",
}
# Where each run's name sits around its current point: all runs start at one point, so their names spread out.
TEXT_POSITIONS: dict[str, str] = {
    "gd": "top right",
    "momentum": "top left",
    "nesterov": "bottom right",
    "adagrad": "bottom left",
    "rmsprop": "top center",
    "adam": "bottom center",
    "newton": "middle right",
    "line_search": "middle left",
    "barzilai_borwein": "top right",
}
# 3D markers are font glyphs in WebGL: only these few draw everywhere.
_SYMBOLS_3D = ("circle", "square", "diamond", "cross", "x", "circle-open", "square-open", "diamond-open")
ARROW_DASH = {"grad": "dot", "update": "solid"}
ARROW_WORDS = {"grad": "negative gradient", "update": "update taken"}
HEIGHTS = {"contour": 500, "surface": 480, "loss": 420}

__all__ = ["RUN_COLORS", "contour_chart", "loss_chart", "surface_chart", "surface_in_log10"]


def _moving(trace: dict, run: str, role: str) -> dict:
    trace["meta"] = {"run": run, "role": role}
    return trace


def _without(spec: dict, *names: str) -> dict:
    spec["data"] = [t for t in spec["data"] if t.get("name") not in names]
    return spec


def contour_chart(
    grid,
    runs: Sequence[tuple[str, str]],
    *,
    optimum: np.ndarray,
    start: np.ndarray,
    names: tuple[str, str],
    arrows,
    height: int = HEIGHTS["contour"],
) -> dict:
    """Loss contours (the slice through the optimum) with every run's path, current point and two arrows.

    Args:
        grid: an ``analysis.LossGrid``.
        runs: (name, label) per run, in the order drawn.
        optimum, start: arrays of shape (2,).
        names: the two params' names (axis titles).
        arrows: ``gdviz.race.Arrows``, whose factors the legend states.
    """
    # Lighter contours without a colour bar: the coloured paths and arrows read on top.
    spec = playground.contour_path(grid, np.asarray([start], dtype=float), optimum=optimum, names=names,
                                   title="Every path on the loss contours", height=height, colorbar=False,
                                   fade=0.45)  # fmt: skip
    spec = _without(spec, "path", "current step")
    data = spec["data"]
    for kind in ("grad", "update"):  # legend keys for the two kinds of arrow, in black
        factor = arrows.grad if kind == "grad" else arrows.update
        data.append({
            "type": "scatter", "x": [None], "y": [None], "mode": "lines",
            "name": f"{ARROW_WORDS[kind]} x {factor:.3g} ({'dotted' if kind == 'grad' else 'solid'})",
            "line": {"color": "#000000", "dash": ARROW_DASH[kind], "width": 2}, "hoverinfo": "skip",
        })  # fmt: skip
    now = []  # each run's current point and name, drawn after every path and arrow: the names stay on top
    for run, label in runs:
        color = RUN_COLORS[run]
        data.append(_moving({
            "type": "scatter", "x": [], "y": [], "mode": "lines+markers", "name": label, "legendgroup": run,
            "line": {"color": color, "width": 2},
            "marker": {"size": 4, "color": color, "symbol": RUN_SYMBOLS[run]},
            "hovertemplate": f"{label}<br>{names[0]} %{{x:.4g}}<br>{names[1]} %{{y:.4g}}<extra></extra>",
        }, run, "path"))  # fmt: skip
        for kind in ("grad", "update"):
            data.append(_moving({
                "type": "scatter", "x": [], "y": [], "mode": "lines+markers", "name": f"{label}: {ARROW_WORDS[kind]}",
                "legendgroup": run, "showlegend": False, "hoverinfo": "skip",
                "line": {"color": color, "width": 2 if kind == "grad" else 3, "dash": ARROW_DASH[kind]},
                # An arrowhead at the tip only (the second point), pointing along the segment.
                "marker": {"symbol": "arrow", "angleref": "previous", "size": [0, 11], "color": color},
            }, run, kind))  # fmt: skip
        now.append(_moving({
            "type": "scatter", "x": [], "y": [], "mode": "markers+text", "name": f"{label} now", "legendgroup": run,
            "showlegend": False, "text": [label], "textposition": TEXT_POSITIONS[run],
            # A light halo keeps a name readable where it crosses a path, an arrow or a dark contour band.
            "textfont": {"size": 11, "color": "#000000", "shadow": "auto"}, "cliponaxis": False,
            "marker": {"size": 11, "color": color, "symbol": RUN_SYMBOLS[run],
                       "line": {"color": "white", "width": 1.5}},
            "hovertemplate": f"{label} now<br>{names[0]} %{{x:.4g}}<br>{names[1]} %{{y:.4g}}<extra></extra>",
        }, run, "current"))  # fmt: skip
    data.extend(now)
    spec["layout"]["legend"]["y"] = -0.16
    spec["layout"]["margin"]["b"] = 60
    return spec


def surface_chart(
    grid,
    runs: Sequence[tuple[str, str]],
    *,
    optimum: np.ndarray,
    start: np.ndarray,
    optimum_loss: float,
    names: tuple[str, str],
    hold: str,
    height: int = HEIGHTS["surface"],
) -> dict:
    """The loss surface (the slice through the optimum) with every run's path and current point in 3D.

    ``hold`` says what a path's height is: "optimum", the surface under it (the other params at the optimum);
    "current", the run's true loss (its other params its own), which may float above the slice.
    """
    start_loss = np.array([np.nan])  # the start marker is dropped below: its height depends on the run
    spec = playground.surface_3d(grid, np.asarray([start], dtype=float), start_loss, optimum=optimum,
                                 optimum_loss=optimum_loss, names=names, title="Every path on the loss surface",
                                 height=height)  # fmt: skip
    spec = _without(spec, "path", "current step", "start")
    data = spec["data"]
    z_title = spec["layout"]["scene"]["zaxis"]["title"]["text"]
    for k, (run, label) in enumerate(runs):
        color = RUN_COLORS[run]
        data.append(_moving({
            "type": "scatter3d", "x": [], "y": [], "z": [], "mode": "lines", "name": label, "legendgroup": run,
            "line": {"color": color, "width": 5},
            "hovertemplate": f"{label}<br>{names[0]} %{{x:.4g}}<br>{names[1]} %{{y:.4g}}<br>{z_title} %{{z:.4g}}"
                             "<extra></extra>",
        }, run, "path"))  # fmt: skip
        data.append(_moving({
            "type": "scatter3d", "x": [], "y": [], "z": [], "mode": "markers+text", "name": f"{label} now",
            "legendgroup": run, "showlegend": False, "hoverinfo": "skip", "text": [label],
            "textposition": "top center", "textfont": {"size": 11, "color": "#000000"},
            "marker": {"size": 5, "color": color, "symbol": _SYMBOLS_3D[k % len(_SYMBOLS_3D)]},
        }, run, "current"))  # fmt: skip
    if hold == "current":
        spec["layout"]["scene"]["zaxis"]["title"]["text"] = f"{z_title} (each run's own)"
    # Each run is named at its current point; the contour's legend says the rest. A legend of nine runs here
    # would squeeze the scene.
    spec["layout"]["showlegend"] = False
    # Half a page wide (a 1024 px screen gives the scene some 330 px), the Playground's camera cuts off the z axis'
    # ticks and title: this one stands further back, and the chart's subtitle says what the height is (the axis'
    # title, far out on the left, would still be cut).
    spec["layout"]["scene"]["camera"] = {"eye": {"x": 2.0, "y": 2.0, "z": 1.25}}
    z_says = spec["layout"]["scene"]["zaxis"]["title"]["text"]
    spec["layout"]["scene"]["zaxis"]["title"]["text"] = ""
    spec["layout"]["title"]["subtitle"] = {"text": f"height: {z_says}", "font": {"size": 12, "color": "#444444"}}
    spec["layout"]["margin"]["t"] = max(spec["layout"]["margin"]["t"], 62)
    return spec


def loss_chart(runs: Sequence[tuple[str, str]], excess: np.ndarray, *, height: int = HEIGHTS["loss"]) -> dict:
    """Every run's loss above the least-squares floor over its steps, on one log axis fixed to hold ``excess``
    (every value any run reaches: Play never rescales it).

    The excess J - J* rather than J: on a log axis it falls in a straight line at a linear convergence rate,
    where J itself would flatten onto the floor after a few steps.
    """
    data = []
    for run, label in runs:
        color = RUN_COLORS[run]
        data.append(_moving({
            "type": "scatter", "x": [], "y": [], "mode": "lines", "name": label, "legendgroup": run,
            "line": {"color": color, "width": 2},
            "hovertemplate": f"{label}: step %{{x:,}}, loss - floor %{{y:.3g}}<extra></extra>",
        }, run, "path"))  # fmt: skip
        data.append(_moving({
            "type": "scatter", "x": [], "y": [], "mode": "markers", "name": f"{label} now", "legendgroup": run,
            "showlegend": False, "hoverinfo": "skip",
            "marker": {"size": 8, "color": color, "symbol": RUN_SYMBOLS[run], "line": {"color": "white", "width": 1}},
        }, run, "current"))  # fmt: skip
    layout = _base_layout(title="Loss above the floor (log)", x_title="step",
                          y_title="loss - least-squares floor", height=height, log_y=True)  # fmt: skip
    layout["yaxis"]["range"] = log_axis_range(excess)
    layout["xaxis"].update({"rangemode": "nonnegative", "autorangeoptions": {"include": [0, 10]}})
    layout["hovermode"] = "closest"
    return _spec(data, layout)


def bindings(spec: dict, columns: Mapping[str, str] | None = None, *, last: Mapping[str, int] | None = None) -> list:
    """The player's bindings of a race figure's moving traces (see ``gdviz.race.player``): per trace with a
    ``meta`` tag, which columns it draws. ``columns`` maps an attribute to the column prefix (default x, y and,
    in 3D, z); ``last`` caps a run's rows (the 3D chart stops where WebGL must)."""
    out = []
    for k, trace in enumerate(spec["data"]):
        meta = trace.get("meta")
        if not isinstance(meta, dict):
            continue
        run, role = meta["run"], meta["role"]
        attrs = dict(columns or ({"x": "x", "y": "y", "z": "z"} if "z" in trace else {"x": "x", "y": "y"}))
        if role == "path":
            bind = {"trace": k, "upto": {a: f"{c}_{run}" for a, c in attrs.items()}}
        elif role == "current":
            bind = {"trace": k, "at": {a: [f"{c}_{run}"] for a, c in attrs.items()}}
            if "text" in trace.get("mode", ""):  # its name, or its group's where points coincide (race.name_labels)
                bind["at"]["text"] = [{"label": f"label_{run}"}]
        else:  # an arrow: from the current point to its tip (columns gx, gy or ux, uy)
            tip = "g" if role == "grad" else "u"
            bind = {"trace": k, "at": {"x": [f"x_{run}", f"{tip}x_{run}"], "y": [f"y_{run}", f"{tip}y_{run}"]}}
        if last is not None and run in last:
            bind["last"] = int(last[run])
        out.append(bind)
    return out
