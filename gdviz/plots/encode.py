"""Figure specs on their way out: JSON for the browser, a validated ``go.Figure`` for files and checks.

``to_json`` serialises a spec (a plain dict, see ``gdviz.plots._spec``) as plotly.js reads it, with NumPy
arrays as base64 typed arrays, as Plotly does, without building a ``go.Figure`` (which costs milliseconds
of validation per figure). ``to_figure`` and ``styled`` turn a spec into a validated ``go.Figure`` when
one is needed; the live charts get the template once per page from ``template_json``.
"""

from __future__ import annotations

import base64
import functools
import json
import math
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import plotly.utils

# The look of every figure. Specs leave it out (a template is ~7 kB of JSON, and validating it costs ~15 ms
# a figure); the browser side (gdviz.ui.live_chart) or ``styled`` puts it back.
TEMPLATE = "plotly_white"


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


# The config of a chart drawn with st.plotly_chart: no Plotly toolbar, which on a phone covers the chart's title
# (each page's Download menu saves its charts, as PNG-ready standalone HTML).
NO_TOOLBAR = {"displayModeBar": False}


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
