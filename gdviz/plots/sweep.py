"""Figure specs of the learning-rate sweep: steps to converge and final loss against the rate.

Plain figure specs (see ``gdviz.plots._spec``), with the Playground's colours, labels and conventions.
Both charts carry the same backdrop: the four predicted regimes as shaded, labelled zones, and the
threshold rates 1/lambda_max, 2/(lambda_min + lambda_max) and 2/lambda_max as labelled vertical lines. Each run is drawn
by its outcome (colour and symbol, named in the legend); nothing is clipped: a run that overflowed has no
final loss to draw, so it gets a marker on a strip of its own above the loss axis, labelled as such.
"""

from __future__ import annotations

import numpy as np

from gdviz.analysis import Regime, Thresholds
from gdviz.explain import fmt, plural
from gdviz.plots._spec import (
    MEASURED_COLOR,
    PREDICTED_COLOR,
    REGIME_COLORS,
    REGIME_LABELS,
    _base_layout,
    _spec,
    log_axis_range,
)
from gdviz.sweep import Outcome, SweepTable

# One marker per outcome (colour-blind safe, and a distinct symbol; the legend names it).
OUTCOME_STYLE: dict[str, dict] = {
    Outcome.CONVERGED: {"color": MEASURED_COLOR, "symbol": "circle", "size": 6},
    Outcome.STILL_MOVING: {"color": "#000000", "symbol": "triangle-up-open", "size": 6},
    Outcome.GROWING: {"color": "#CC79A7", "symbol": "diamond", "size": 7},
    Outcome.OVERFLOWED: {"color": REGIME_COLORS[Regime.DIVERGENT], "symbol": "x", "size": 7},
}
ZONE_OPACITY = 0.16
# The zones' name bands above the plot (paper y), on two rows that alternate from zone to zone: neighbouring
# names never share a row, so on a phone, where the oscillating and divergent zones are 40 px wide, a name
# wider than its zone runs into the row's empty space, not into the next name ("GoodOscillDiverge").
LABEL_ROWS = ((1.01, 1.07), (1.075, 1.135))
LINE_COLOR = "#333333"
OVERFLOW_ROW = "overflowed (inf)"


def _zone_bounds(edges: tuple[float, float, float], x_range: tuple[float, float]) -> list[tuple[str, float, float]]:
    """(regime, x0, x1) of each regime zone that meets ``x_range`` (rates, not logs), clipped to it."""
    lo, hi = x_range
    cuts = [(Regime.SLOW, 0.0, edges[0]), (Regime.GOOD, edges[0], edges[1]),
            (Regime.OSCILLATING, edges[1], edges[2]), (Regime.DIVERGENT, edges[2], np.inf)]  # fmt: skip
    return [(r, max(a, lo), min(b, hi)) for r, a, b in cuts if b > lo and a < hi]


def regime_backdrop(
    edges: tuple[float, float, float], thresholds: Thresholds, x_range: tuple[float, float]
) -> list[dict]:
    """Layout shapes: a shaded, labelled zone per regime (clipped to ``x_range``) and the three threshold
    rates as labelled vertical lines. Shape x values are rates (Plotly maps them on a log axis itself)."""
    shapes = []
    zones = _zone_bounds(edges, x_range)
    for k, (regime, x0, x1) in enumerate(zones):
        y0, y1 = LABEL_ROWS[k % 2]
        # The last zone's name ends at the chart's right edge rather than past it (a narrow zone on a phone).
        where = "middle right" if k == len(zones) - 1 and k > 0 else "middle center"
        shapes.append(
            {
                "type": "rect", "name": f"zone: {regime}", "xref": "x", "yref": "paper", "x0": x0, "x1": x1,
                "y0": 0, "y1": 1, "fillcolor": REGIME_COLORS[regime], "opacity": ZONE_OPACITY,
                "line": {"width": 0}, "layer": "below",
            }
        )  # fmt: skip
        shapes.append(  # the zone's name on a band above the plot, like the Playground's regime band
            {
                "type": "rect", "name": f"zone label: {regime}", "xref": "x", "yref": "paper", "x0": x0, "x1": x1,
                "y0": y0, "y1": y1, "fillcolor": REGIME_COLORS[regime], "line": {"width": 0},
                "label": {"text": REGIME_LABELS[regime], "font": {"size": 12, "color": "#000000"},
                          "textposition": where},
            }
        )  # fmt: skip
    for name, x, dash in threshold_lines(thresholds):
        shapes.append(
            {
                "type": "line", "name": f"threshold: {name}", "xref": "x", "yref": "paper", "x0": x, "x1": x,
                "y0": 0, "y1": 1, "line": {"color": LINE_COLOR, "width": 1.5, "dash": dash},
            }
        )  # fmt: skip
    return shapes


def threshold_lines(thresholds: Thresholds) -> list[tuple[str, float, str]]:
    """(name, rate, dash) of the three threshold rates, in the order their labels are stacked."""
    return [
        ("1/lambda_max", thresholds.monotone_max, "dot"),
        ("2/(lambda_min+lambda_max)", thresholds.optimal, "dash"),
        ("2/lambda_max", thresholds.stable_max, "solid"),
    ]


def threshold_labels(thresholds: Thresholds, x_range: tuple[float, float]) -> list[dict]:
    """Annotations naming each threshold line inside ``x_range``, stacked at three heights so that close
    thresholds (a well-conditioned problem has 2/(lambda_min+lambda_max) next to 2/lambda_max) stay readable.
    An annotation's x on a log axis is log10 of the rate."""
    out = []
    for k, (name, x, _) in enumerate(threshold_lines(thresholds)):
        if not x_range[0] <= x <= x_range[1]:
            continue
        text = name.replace("lambda_", "λ_") + f" = {x:.3g}"
        out.append(
            {
                "x": float(np.log10(x)), "xref": "x", "y": 0.62 - 0.2 * k, "yref": "paper", "text": text,
                "showarrow": False, "xanchor": "right", "xshift": -3, "font": {"size": 11, "color": LINE_COLOR},
                "bgcolor": "rgba(255,255,255,0.85)", "bordercolor": LINE_COLOR, "borderwidth": 1,
            }
        )  # fmt: skip
    return out


def _x_range(rates: np.ndarray) -> tuple[float, float]:
    """The drawn rate range: the swept rates with a little room on both sides (a log axis)."""
    lo, hi = float(np.min(rates)), float(np.max(rates))
    pad = 0.03 * max(np.log10(hi / lo), 0.3)
    return lo / 10**pad, hi * 10**pad


# log10 of the largest float64: Plotly's own autorange pads past it and labels the top tick "Infinity".
def _log_range(values: np.ndarray) -> list[float]:
    """A log axis range (log10 units) holding every finite positive value, padded, never past float64's top."""
    return log_axis_range(values)


def _num(x: float) -> str:
    return fmt(x, 6) if np.isfinite(x) else f"{fmt(x)} (overflowed float64)"


def hover_data(table: SweepTable, stable_max: float) -> np.ndarray:
    """Per rate: [steps, final loss, predicted regime, outcome, predicted steps, rate / (2/lambda_max)], as text."""
    rows = []
    for k in range(table.learning_rate.size):
        outcome = str(table.outcome[k])
        if outcome == Outcome.CONVERGED:
            steps = f"{table.steps[k]:,} (converged)"
        elif outcome == Outcome.OVERFLOWED:
            steps = f"never: overflowed at step {table.steps[k]:,}"
        else:
            steps = f"not within the cap of {table.max_steps:,}"
        pred = table.predicted_steps[k]
        rows.append([
            steps, _num(table.final_loss[k]), REGIME_LABELS[str(table.regime[k])], outcome,
            f"{pred:,.0f}" if np.isfinite(pred) else "never", f"{table.learning_rate[k] / stable_max:.3g}",
        ])  # fmt: skip
    return np.array(rows, dtype=object)


_HOVER = (
    "rate %{x:.4g} (%{customdata[5]} x 2/lambda_max)<br>steps to converge: %{customdata[0]}"
    "<br>predicted steps: %{customdata[4]}<br>final loss: %{customdata[1]}"
    "<br>regime (theory): %{customdata[2]}<br>outcome: %{customdata[3]}<extra></extra>"
)
_OUTCOME_NAMES = {
    Outcome.CONVERGED: "converged",
    Outcome.STILL_MOVING: "still moving at the step cap",
    Outcome.GROWING: "growing at the step cap (diverging)",
    Outcome.OVERFLOWED: "diverged: overflowed float64",
}


def _markers(table: SweepTable, custom: np.ndarray, outcome: str, y: np.ndarray, name: str, **extra) -> dict:
    rows = table.outcome == outcome
    style = OUTCOME_STYLE[outcome]
    return {
        "type": "scatter", "mode": "markers", "name": f"{name} ({int(rows.sum()):,})",
        "x": table.learning_rate[rows], "y": y[rows], "customdata": custom[rows], "hovertemplate": _HOVER,
        "marker": {"color": style["color"], "symbol": style["symbol"], "size": style["size"],
                   "line": {"width": 1.5, "color": style["color"]}},
        **extra,
    }  # fmt: skip


def _layout(table: SweepTable, edges, thresholds: Thresholds, *, title: str, y_title: str, height: int, meta) -> dict:
    layout = _base_layout(title=title, x_title="learning rate (log scale)", y_title=y_title, height=height)
    x_range = _x_range(table.learning_rate)
    layout["xaxis"].update({"type": "log", "exponentformat": "power", "range": list(np.log10(x_range))})
    layout["yaxis"].update({"type": "log", "exponentformat": "power"})
    layout["shapes"] = regime_backdrop(edges, thresholds, x_range)
    layout["annotations"] = threshold_labels(thresholds, x_range)
    layout["hovermode"] = "closest"
    layout["margin"] = {"l": 70, "r": 20, "t": 110, "b": 50}  # the title, then two rows of zone names
    layout["title"]["y"] = 0.98
    layout["title"]["yanchor"] = "top"
    layout["legend"]["y"] = -0.18
    layout["meta"] = meta
    layout["clickmode"] = "event+select"
    return layout


def _note(layout: dict, text: str) -> None:
    """A line under the title (what is not drawn where, and why)."""
    layout["title"]["subtitle"] = {"text": text, "font": {"size": 12, "color": REGIME_COLORS[Regime.DIVERGENT]}}


def steps_chart(
    table: SweepTable,
    edges: tuple[float, float, float],
    thresholds: Thresholds,
    *,
    meta: object = None,
    height: int = 480,
) -> dict:
    """Steps to converge against the rate (log-log), measured over the closed-form prediction.

    A run that converged is drawn at its step count; one that hit the cap at the cap (it has not
    converged yet); one that overflowed at the step where it did. The prediction is drawn where it is
    finite (from 2/lambda_max on, the closed form says "never").

    Args:
        table: from ``gdviz.sweep.summarise``.
        edges: ``gdviz.sweep.regime_edges``. thresholds: ``analysis.thresholds``.
        meta: any label of this sweep, kept as ``layout.meta`` (how tests and benchmarks tell sweeps apart).

    Returns:
        A Plotly figure spec dict.
    """
    custom = hover_data(table, thresholds.stable_max)
    pred = table.predicted_steps
    ok = np.isfinite(pred)
    steps = table.steps.astype(float)
    data = [
        {
            "type": "scatter", "mode": "lines", "name": "predicted (closed form)", "x": table.learning_rate[ok],
            "y": pred[ok], "customdata": custom[ok], "hovertemplate": _HOVER,
            "line": {"color": PREDICTED_COLOR, "width": 3, "dash": "dash"},
        },
        {
            "type": "scatter", "mode": "lines", "name": f"step cap of this sweep: {table.max_steps:,}",
            "x": list(_x_range(table.learning_rate)), "y": [table.max_steps, table.max_steps],
            "line": {"color": "#000000", "width": 1, "dash": "dot"}, "hoverinfo": "skip",
        },
    ]  # fmt: skip
    for outcome in Outcome:
        name = _OUTCOME_NAMES[outcome] + (" (y: step of overflow)" if outcome == Outcome.OVERFLOWED else "")
        data.append(_markers(table, custom, outcome, steps, name))
    layout = _layout(
        table, edges, thresholds, title="Steps to converge against the learning rate",
        y_title="steps (updates applied)", height=height, meta=meta,
    )  # fmt: skip
    if not ok.all():
        never = int((~ok).sum())
        verb = "converges" if never == 1 else "converge"
        _note(layout, f"{plural(never, 'rate')} never {verb} by the closed form (no dashed line there)")
    return _spec(data, layout)


def loss_chart(
    table: SweepTable,
    edges: tuple[float, float, float],
    thresholds: Thresholds,
    *,
    floor: float,
    meta: object = None,
    height: int = 480,
) -> dict:
    """The final loss of each run against the rate (log-log), with the start loss and the least-squares floor.

    A growing run's loss is drawn as it is, however large (the axis grows with it). A run whose values
    overflowed float64 has no loss to draw: it is marked on a labelled strip above the loss axis
    (``yaxis2``), at its rate. A loss of exactly 0 cannot sit on a log axis and is counted in a note.

    Returns:
        A Plotly figure spec dict.
    """
    custom = hover_data(table, thresholds.stable_max)
    loss = table.final_loss
    finite = np.isfinite(loss)
    positive = finite & (loss > 0)
    x_range = list(_x_range(table.learning_rate))
    data = [
        {
            "type": "scatter", "mode": "lines", "name": f"loss at the start: {table.start_loss:.4g}", "x": x_range,
            "y": [table.start_loss] * 2, "line": {"color": "#000000", "width": 1, "dash": "dash"},
            "hoverinfo": "skip",
        },
    ]  # fmt: skip
    if np.isfinite(floor) and floor > 0:
        data.append(
            {
                "type": "scatter", "mode": "lines", "name": f"least-squares floor J* = {floor:.4g}", "x": x_range,
                "y": [floor, floor], "line": {"color": "#000000", "width": 1, "dash": "dot"}, "hoverinfo": "skip",
            }
        )  # fmt: skip
    for outcome in (Outcome.CONVERGED, Outcome.STILL_MOVING, Outcome.GROWING):
        data.append(_markers(table, custom, outcome, np.where(positive, loss, np.nan), _OUTCOME_NAMES[outcome]))
    over = table.outcome == Outcome.OVERFLOWED
    data.append(
        _markers(table, custom, Outcome.OVERFLOWED, np.full(loss.size, OVERFLOW_ROW, dtype=object),
                 _OUTCOME_NAMES[Outcome.OVERFLOWED] + " (no finite loss)", yaxis="y2")
    )  # fmt: skip
    layout = _layout(
        table, edges, thresholds, title="Final loss against the learning rate", y_title="final loss (MSE)",
        height=height, meta=meta,
    )  # fmt: skip
    layout["yaxis"]["domain"] = [0.0, 0.86]
    layout["yaxis"]["range"] = _log_range(np.concatenate([loss[positive], [table.start_loss, floor]]))
    layout["yaxis2"] = {
        "domain": [0.9, 1.0], "type": "category", "categoryarray": [OVERFLOW_ROW], "anchor": "x",
        "showgrid": False, "fixedrange": True, "tickfont": {"color": REGIME_COLORS[Regime.DIVERGENT]},
    }  # fmt: skip
    notes = []
    if over.any():
        notes.append(f"{plural(int(over.sum()), 'run')} overflowed: top strip")
    zero = finite & ~positive
    if zero.any():
        notes.append(f"{plural(int(zero.sum()), 'run')} reached loss 0 exactly (not drawable on a log axis)")
    if notes:
        _note(layout, "; ".join(notes))
    return _spec(data, layout)
