"""Helpers to read Plotly figures out of AppTest (Plotly 7 encodes arrays as base64 'bdata')."""

from __future__ import annotations

import base64
import json

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
