"""gdviz.contours: the loss's level sets over a plane of two params, checked against the data itself.

Oracles: the mean squared error computed from X and y in the test (in log space where it passes float64), the
slice's minimum from np.linalg.lstsq on the two free columns, and plain geometry for the window's corners.
"""

from __future__ import annotations

import numpy as np
import pytest

from gdviz import analysis, contours
from gdviz.data import make_problem


def design(X: np.ndarray) -> np.ndarray:
    return np.column_stack([np.ones(len(X)), X])


def log10_mse(X1: np.ndarray, y: np.ndarray, W: np.ndarray) -> np.ndarray:
    """log10 of mean((X1 w - y)^2) for each row w of W, finite however large (residuals scaled first)."""
    r = np.atleast_2d(W) @ X1.T - y
    s = np.max(np.abs(r), axis=1, keepdims=True)
    s = np.where(s > 0, s, 1.0)
    return 2.0 * np.log10(s[:, 0]) + np.log10(np.mean((r / s) ** 2, axis=1))


def full_params(center: np.ndarray, i: int, j: int, pts: np.ndarray) -> np.ndarray:
    W = np.tile(center, (len(pts), 1))
    W[:, i], W[:, j] = pts[:, 0], pts[:, 1]
    return W


@pytest.fixture(scope="module")
def cases(line_xy, diabetes_xy, random_xy):
    """(name, X as scaled for the problem, y, problem, i, j, center): planes through and away from the optimum."""
    out = []
    X, y = line_xy
    p = make_problem(X, y)
    out.append(("line", X, y, p, 0, 1, p.optimum))
    X, y = diabetes_xy
    raw = make_problem(X, y)  # raw features: scales from 0.1 to 300, a valley 1e4 times longer than wide
    rng = np.random.default_rng(1)
    away = raw.optimum + rng.normal(scale=50.0, size=raw.n_params)
    out += [("diabetes raw, optimum", X, y, raw, 1, 2, raw.optimum), ("diabetes raw, held away", X, y, raw, 3, 7, away)]
    X, y = random_xy(4, n_samples=60, n_features=4)
    p = make_problem(X, y)
    out.append(("random, held away", X, y, p, 2, 4, p.optimum + 1.5))
    return out


def test_the_plane_minimum_is_the_least_squares_fit_of_the_two_free_params(cases):
    for name, X, y, p, i, j, center in cases:
        X1 = design(X)
        rest = [k for k in range(p.n_params) if k not in (i, j)]
        target = y - X1[:, rest] @ center[rest]
        best = np.linalg.lstsq(X1[:, [i, j]], target, rcond=None)[0]
        pl = contours.plane(p, i, j, center)
        scale = np.abs(best) + 1.0
        np.testing.assert_allclose(pl.minimum, best, atol=1e-7 * scale.max(), err_msg=name)
        floor = np.mean((X1[:, [i, j]] @ best - target) ** 2)
        assert pl.floor == pytest.approx(floor, rel=1e-7, abs=1e-12), name
        assert pl.bowl
        hess_half = X1[:, [i, j]].T @ X1[:, [i, j]] / len(y)
        np.testing.assert_allclose(pl.curvature, np.linalg.eigvalsh(hess_half), rtol=1e-9, err_msg=name)


def test_each_region_is_bounded_by_its_level_or_the_window(cases):
    for name, X, y, p, i, j, center in cases:
        X1 = design(X)
        pl = contours.plane(p, i, j, center)
        m = pl.minimum
        half = 4.0 * np.sqrt(1.0 / pl.curvature[0]) * np.array([1.0, 0.6])
        window = (m[0] - half[0], m[0] + 0.5 * half[0], m[1] - 0.3 * half[1], m[1] + half[1])  # off-centre
        corners = np.array([[window[0], window[2]], [window[1], window[2]], [window[1], window[3]],
                            [window[0], window[3]]])  # fmt: skip
        lo = log10_mse(X1, y, full_params(center, i, j, m[None, :]))[0]
        hi = log10_mse(X1, y, full_params(center, i, j, corners)).max()
        drawn = clipped = 0
        for level in contours.nice_levels(lo, hi + 1.0):
            poly = contours.region(pl, float(level), window)
            if poly is None:
                continue
            drawn += 1
            got = log10_mse(X1, y, full_params(center, i, j, poly))
            span = np.array([window[1] - window[0], window[3] - window[2]])
            on_edge = np.any(np.isclose(poly, corners[0], rtol=0, atol=1e-12 * span.max())
                             | np.isclose(poly, corners[2], rtol=0, atol=1e-12 * span.max()), axis=1)  # fmt: skip
            np.testing.assert_allclose(got[~on_edge], level, atol=1e-9, err_msg=f"{name}, level {level}")
            assert np.all(got[on_edge] <= level + 1e-9), (name, level)
            assert np.all((poly >= corners[0] - 1e-9 * span) & (poly <= corners[2] + 1e-9 * span)), (name, level)
            # The window's corners inside the level set are vertices; those outside are not.
            inside = log10_mse(X1, y, full_params(center, i, j, corners)) <= level
            for corner, is_in in zip(corners, inside, strict=True):
                assert bool(np.any(np.all(np.isclose(poly, corner, rtol=1e-12), axis=1))) == bool(is_in)
            clipped += bool(on_edge.any())
        assert drawn >= 10 and clipped >= 3, (name, drawn, clipped)


def test_regions_below_the_floor_or_off_the_window_are_none_and_a_huge_level_covers_it(cases):
    name, X, y, p, i, j, center = cases[1]
    pl = contours.plane(p, i, j, center)
    m = pl.minimum
    window = (m[0] - 1.0, m[0] + 1.0, m[1] - 1.0, m[1] + 1.0)
    assert contours.region(pl, np.log10(pl.floor) - 0.01, window) is None
    far = (m[0] + 1e6, m[0] + 1e6 + 1.0, m[1] - 1.0, m[1] + 1.0)
    assert contours.region(pl, np.log10(pl.floor) + 0.5, far) is None  # a small ellipse, far from the window
    whole = contours.region(pl, 400.0, window)  # a loss of 1e400: the window is deep inside
    corners = np.array([[window[0], window[2]], [window[1], window[2]], [window[1], window[3]], [window[0], window[3]]])
    np.testing.assert_array_equal(np.sort(whole, axis=0), np.sort(corners, axis=0))


def test_a_diverging_window_keeps_exact_levels_past_float64(diabetes_xy):
    # A window 1e150 wide, as a diverging run's path draws it: levels reach log10 J > 300.
    X, y = diabetes_xy
    p = make_problem(X, y)
    X1 = design(X)
    grid = analysis.loss_grid(p, 0, 1, x_range=(-1e150, 1e150), y_range=(-1e149, 1e149), n=40)
    window = (grid.x[0], grid.x[-1], grid.y[0], grid.y[-1])
    levels = contours.nice_levels(float(grid.log10_z.min()), float(grid.log10_z.max()))
    assert levels.max() > 300
    drawn = 0
    for level in levels:
        poly = contours.region(grid.plane, float(level), window)
        if poly is None:
            continue
        drawn += 1
        got = log10_mse(X1, y, full_params(p.optimum, 0, 1, poly))
        inner = ~np.any(np.isclose(poly, [window[0], window[2]], rtol=1e-12)
                        | np.isclose(poly, [window[1], window[3]], rtol=1e-12), axis=1)  # fmt: skip
        np.testing.assert_allclose(got[inner], level, atol=1e-6)
    assert drawn >= 5


def test_nice_levels_are_round_and_strictly_inside():
    np.testing.assert_allclose(contours.nice_levels(0.0, 1.0, 20), np.arange(1, 20) * 0.05)
    # (2.6 + 0.35) / 24 = 0.12: the next round step is 0.2
    np.testing.assert_allclose(contours.nice_levels(-0.35, 2.6, 24), np.arange(-1, 13) * 0.2)
    got = contours.nice_levels(117.3, 121.9, 24)
    np.testing.assert_allclose(got, 117.4 + 0.2 * np.arange(23))
    assert contours.nice_levels(1.0, 1.0).size == 0 and contours.nice_levels(np.nan, 2.0).size == 0


def test_a_flat_direction_is_no_bowl():
    # Two identical features: along their difference the loss never changes.
    rng = np.random.default_rng(0)
    x = rng.normal(size=30)
    p = make_problem(np.column_stack([x, x]), 2.0 * x + rng.normal(size=30))
    assert not contours.plane(p, 1, 2, p.optimum).bowl
    assert contours.plane(p, 0, 1, p.optimum).bowl
