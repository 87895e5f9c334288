"""gdviz.plots.encode: a spec's JSON is what Plotly's own encoding gives, and strict JSON; a validated figure
raises on an invalid property. Oracles: Plotly's own validation (``go.Figure(spec)``) and JSON encoding of
the same spec, and base64 bytes written here with NumPy.
"""

from __future__ import annotations

import base64
import math

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from gdviz import plots
from tests.chart_utils import assert_encodes_like_plotly, decode


def test_to_figure_raises_on_an_invalid_property():
    with pytest.raises(ValueError, match="colour"):
        plots.encode.to_figure({"data": [{"type": "scatter", "x": [1], "y": [2], "colour": "red"}], "layout": {}})
    with pytest.raises(ValueError):
        plots.encode.to_figure({"data": [], "layout": {"yaxis": {"type": "logarithmic"}}})


def test_styled_applies_the_template_and_keeps_the_spec():
    spec = {"data": [{"type": "scatter", "name": "loss", "x": np.arange(3), "y": np.array([3.0, 2.0, 1.0])}],
            "layout": {"yaxis": {"type": "log"}}}  # fmt: skip
    fig = plots.encode.styled(spec)
    assert isinstance(fig, go.Figure)
    white = pio.templates[plots.encode.TEMPLATE].layout
    assert fig.layout.template.layout.plot_bgcolor == white.plot_bgcolor
    assert [t.name for t in fig.data] == [t["name"] for t in spec["data"]]
    assert fig.layout.yaxis.type == "log"
    assert "template" not in spec["layout"]  # the spec itself is left alone


def test_to_json_encodes_arrays_as_plotly_does():
    rng = np.random.default_rng(1)
    surface_z = rng.normal(size=(4, 5))
    surface_z[1, 2], surface_z[3, 0], surface_z[0, 4] = np.nan, np.inf, -np.inf
    spec = {
        "data": [
            {
                "type": "surface",
                "x": np.linspace(0, 1, 5),
                "y": np.arange(4, dtype=np.int64),
                "z": surface_z,
                "name": "surface",
            },
            {
                "type": "scatter",
                "x": np.arange(300, dtype=np.int64),  # int16 range
                "y": np.array([1.5, np.nan, np.inf, -np.inf, 2.0] * 60),
                "error_y": {"array": np.array([0, 70_000, -3], dtype=np.int64)},  # int32 range
                "ids": np.array(["a", "b"]),
                "marker": {
                    "size": np.array([4, 8, 250], dtype=np.uint8),
                    "opacity": np.array([0.5, 1.0], dtype=np.float32),
                    "color": ["#000000", "#FFFFFF"],
                },
                "customdata": [np.float64(1.25), np.int64(3), "label"],
            },
            {
                "type": "scatter",
                "x": np.array([0, 2**40, -(2**35)], dtype=np.int64),  # beyond int32
                "y": np.arange(12.0).reshape(3, 4)[:, 1],  # a non-contiguous view
                "selectedpoints": np.array([True, False, True]),
            },
            {
                "type": "heatmap",
                "z": np.asfortranarray(np.arange(6.0).reshape(2, 3)),  # column-major in memory
                "x": np.array([1.0, 2.0, 3.0], dtype=">f8"),  # big-endian
            },
            {"type": "scatter", "x": [1, 2, 3], "y": [1.0, float("nan"), float("inf")], "name": np.str_("py")},
        ],
        "layout": {
            "height": np.int64(300),
            "xaxis": {"range": np.array([0.0, 2.5])},
            "annotations": [{"x": np.float32(0.5), "y": np.float64(2.0), "text": "note"}],
        },
    }
    mine = assert_encodes_like_plotly(spec)
    surface, scatter, wide, heatmap, py_lists = mine["data"]

    # Independent byte-level oracle: base64 of the little-endian float64 values, NaN and inf included.
    assert surface["z"]["dtype"] == "f8" and surface["z"]["shape"] == "4, 5"
    assert base64.b64decode(surface["z"]["bdata"]) == surface_z.astype("<f8").tobytes()
    y = decode(scatter["y"])
    assert np.isnan(y[1]) and y[2] == np.inf and y[3] == -np.inf
    # No 64-bit integers in plotly.js typed arrays; bool as uint8.
    assert surface["y"]["dtype"] in {"i1", "i2", "i4"} and scatter["x"]["dtype"] in {"i2", "i4"}
    assert scatter["error_y"]["array"]["dtype"] == "i4"
    np.testing.assert_array_equal(decode(wide["x"]), [0, 2**40, -(2**35)])
    assert wide["x"]["dtype"] == "f8"
    assert wide["selectedpoints"]["dtype"] == "u1"
    np.testing.assert_array_equal(decode(wide["selectedpoints"]), [1, 0, 1])
    np.testing.assert_array_equal(decode(heatmap["z"]), np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(decode(heatmap["x"]), [1.0, 2.0, 3.0])
    assert scatter["ids"] == ["a", "b"] and scatter["customdata"] == [1.25, 3, "label"]
    # Non-finite Python floats become null; NumPy scalars become numbers; ranges stay lists.
    assert py_lists["y"] == [1.0, None, None] and py_lists["name"] == "py"
    assert mine["layout"]["height"] == 300 and mine["layout"]["xaxis"]["range"] == [0.0, 2.5]
    assert mine["layout"]["annotations"][0]["x"] == 0.5
    # The spec is not modified by encoding it.
    assert isinstance(spec["data"][0]["z"], np.ndarray) and math.isinf(spec["data"][0]["z"][3, 0])


def test_to_json_rejects_what_json_cannot_hold():
    with pytest.raises(TypeError):
        plots.encode.to_json({"data": [{"type": "scatter", "x": [object()]}], "layout": {}})
