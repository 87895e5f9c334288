"""Helpers to read Plotly figures out of AppTest (Plotly 7 encodes arrays as base64 'bdata')."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable

import numpy as np
import plotly.graph_objects as go

from gdviz import plots


def decode(value):
    """A Plotly JSON array (a list, or a {dtype, bdata, shape} dict) as a NumPy array."""
    if isinstance(value, dict) and "bdata" in value:
        arr = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = value.get("shape")
        if shape:
            dims = [int(s) for s in str(shape).split(",")] if isinstance(shape, str) else list(shape)
            arr = arr.reshape(dims)
        return arr
    return np.asarray(value)


def chart_figure(at, index: int) -> dict:
    """The figure JSON of the index-th plotly chart of an AppTest run."""
    return json.loads(at.get("plotly_chart")[index].proto.spec)


def trace_by_name(fig: dict, name: str) -> dict:
    matches = [t for t in fig["data"] if t.get("name") == name]
    assert matches, f"no trace named {name!r}; have {[t.get('name') for t in fig['data']]}"
    return matches[0]


def trace_xy(trace: dict) -> tuple[np.ndarray, np.ndarray]:
    return decode(trace["x"]).astype(float), decode(trace["y"]).astype(float)


def strict_loads(text: str):
    """json.loads as JSON.parse: NaN, Infinity and -Infinity are errors."""

    def reject(constant):
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=reject)


def decoded(value):
    """A JSON value with every typed array (and every list of numbers) as a float64 array, for comparison."""
    if isinstance(value, dict) and "bdata" in value:
        return decode(value).astype(float)
    if isinstance(value, dict):
        return {k: decoded(v) for k, v in value.items()}
    if isinstance(value, list) and value and all(isinstance(v, (int, float, bool)) or v is None for v in value):
        return np.array([np.nan if v is None else v for v in value], dtype=float)
    if isinstance(value, list):
        return [decoded(v) for v in value]
    return value


def assert_same(mine, theirs, where="figure"):
    """``mine`` equals ``theirs`` (decoded JSON values), arrays compared exactly with NaN equal to NaN."""
    if isinstance(theirs, np.ndarray):
        assert isinstance(mine, np.ndarray), where
        assert mine.shape == theirs.shape, where
        np.testing.assert_array_equal(mine, theirs, err_msg=where)  # NaN == NaN here; inf == inf
    elif isinstance(theirs, dict):
        assert set(mine) == set(theirs), (where, set(mine) ^ set(theirs))
        for k in theirs:
            assert_same(mine[k], theirs[k], f"{where}.{k}")
    elif isinstance(theirs, list):
        assert len(mine) == len(theirs), where
        for i, (a, b) in enumerate(zip(mine, theirs, strict=True)):
            assert_same(a, b, f"{where}[{i}]")
    else:
        assert mine == theirs, where


def assert_encodes_like_plotly(spec: dict) -> dict:
    """plots.encode.to_json(spec) is valid strict JSON that decodes to what Plotly's own encoding decodes to."""
    mine = strict_loads(plots.encode.to_json(spec))
    theirs = json.loads(go.Figure(spec).to_json())
    theirs["layout"].pop("template", None)  # go.Figure adds Plotly's default template
    assert_same(decoded(mine), decoded(theirs))
    return mine


# A contour chart's level sets are layout shapes named "log10 loss L", each an SVG path around the region where
# log10 of the loss is at most L; its hover read-out is the invisible trace "log10 loss" (grid points and their
# log10 loss). ``check_contour_levels`` holds each level's vertices against the test's own loss.
CONTOUR_PREFIX = "log10 loss "


def contour_levels(fig: dict) -> list[tuple[float, np.ndarray]]:
    """(level, vertices of shape (n, 2)) for each level-set shape, in drawing order."""
    out = []
    for shape in fig["layout"].get("shapes", []):
        name = shape.get("name", "")
        if not name.startswith(CONTOUR_PREFIX):
            continue
        numbers = [float(v) for v in re.findall(r"[-+0-9.eE]+", shape["path"])]
        assert shape["path"].startswith("M") and shape["path"].endswith("Z"), shape["path"][:40]
        out.append((float(name[len(CONTOUR_PREFIX) :]), np.array(numbers).reshape(-1, 2)))
    return out


def contour_hover(fig: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, y, log10 loss) at the hover trace's points."""
    t = next(t for t in fig["data"] if t.get("name") == "log10 loss" and t.get("type") == "scatter")
    z = np.array([np.nan if v is None else v for v in decode(t["customdata"]).tolist()], dtype=float)
    return decode(t["x"]).astype(float), decode(t["y"]).astype(float), z


def check_contour_levels(fig: dict, log10_loss: Callable[[np.ndarray], np.ndarray], *, tol: float = 1e-9) -> int:
    """Every level's vertices: on the level or, where the region is clipped, on the clip's edge (the window
    widened by its size on every side) with the loss below the level. A vertex is rounded to 1e-4 of the
    window's span (``plots.playground.CONTOUR_STEP``), so "on the level" means: the level lies between the
    lowest and the highest loss at the corners of that rounding cell around it. The levels also fall as drawn:
    largest region first. Returns how many vertices lay on a level."""
    found = contour_levels(fig)
    assert found, "no level shapes"
    assert [lv for lv, _ in found] == sorted((lv for lv, _ in found), reverse=True)
    (x0, x1), (y0, y1) = fig["layout"]["xaxis"]["range"], fig["layout"]["yaxis"]["range"]
    step = np.array([x1 - x0, y1 - y0]) * 1e-4
    clip_lo = np.array([x0 - (x1 - x0), y0 - (y1 - y0)])
    clip_hi = np.array([x1 + (x1 - x0), y1 + (y1 - y0)])
    on = 0
    for level, pts in found:
        edge = np.any((np.abs(pts - clip_lo) <= step) | (np.abs(pts - clip_hi) <= step), axis=1)
        corners = np.stack([log10_loss(pts + step * np.array(c)) for c in ((-1, -1), (-1, 1), (1, -1), (1, 1))])
        low, high = corners.min(axis=0), corners.max(axis=0)
        assert np.all(low[edge] <= level + tol), f"level {level}: a clipped vertex above its level"
        bad = ~edge & ((low > level + tol) | (high < level - tol))
        assert not bad.any(), f"level {level}: vertices off the level: {pts[bad][:3]} {low[bad][:3]} {high[bad][:3]}"
        on += int((~edge).sum())
    return on
