"""gdviz.plots._spec: what every figure shares (downsampling, colours, the WebGL limit, log axis ranges, bar
labels). Oracles: numbers written here."""

from __future__ import annotations

import numpy as np

from gdviz import plots


def test_downsample_keeps_ends_and_bounds_size():
    idx = plots._spec.downsample_indices(100_001)
    assert idx[0] == 0 and idx[-1] == 100_000
    assert len(idx) <= 2 * plots._spec.MAX_POINTS
    assert np.all(np.diff(idx) > 0)
    np.testing.assert_array_equal(plots._spec.downsample_indices(50), np.arange(50))


def test_regime_colours_are_distinct_and_labelled():
    assert len(set(plots._spec.REGIME_COLORS.values())) == 4
    assert set(plots._spec.REGIME_COLORS) == set(plots._spec.REGIME_LABELS)


def test_webgl_rows_counts_the_leading_drawable_rows():
    pts = np.array([[0.0, 1.0], [1e11, -1e11], [2e12, 0.0], [1.0, 1.0]])
    vals = np.array([1.0, 5.0, 7.0, 1.0])
    assert plots._spec.webgl_rows(pts, vals) == 2  # row 2 is beyond 1e12; later rows do not come back
    assert plots._spec.webgl_rows(pts[:2], vals[:2]) == 2
    assert plots._spec.webgl_rows(pts[:2], np.array([1.0, np.inf])) == 1
    assert plots._spec.webgl_rows(np.array([[np.nan, 0.0]]), np.array([1.0])) == 0


def test_log_axis_range_holds_the_values_and_stops_at_float64s_top():
    lo, hi = plots._spec.log_axis_range(np.array([1e-3, 5.0, np.inf, np.nan, -2.0, 0.0, 1e307]))
    assert lo < -3 and hi > 307  # every finite positive value is inside
    assert hi <= np.log10(np.finfo(float).max)  # never 'Infinity' on the axis
    lo, hi = plots._spec.log_axis_range(np.array([np.inf, np.nan]))  # nothing to show: a default decade range
    assert lo < hi


def test_short_labels():
    assert plots._spec.short(5833.3) == "5,833"
    assert plots._spec.short(12.345) == "12.3"
    assert plots._spec.short(5.95e6) == "6.0e6"
    assert plots._spec.short(65935.0) == "6.6e4"
    assert plots._spec.short(2.5e-5) == "2.5e-5"
    assert plots._spec.short(float("inf")) == "inf"
