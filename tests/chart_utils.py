"""Helpers to read Plotly figures out of AppTest (Plotly 7 encodes arrays as base64 'bdata')."""

from __future__ import annotations

import base64
import json

import numpy as np


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
