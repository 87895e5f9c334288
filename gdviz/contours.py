"""Level sets of the loss over a plane of two params: exact ellipses, clipped to a window.

Over two params ``i`` and ``j``, with every other param held fixed, the mean squared error is a quadratic
``J(u) = floor + (u - m).A.(u - m)`` in ``u = (w_i, w_j)``, where ``A`` is the 2 x 2 block of the Gram matrix
(half the Hessian) and ``m`` is the slice's own minimum. So each level set ``J = L`` is an ellipse around
``m`` with semi-axes ``sqrt((L - floor) / a_k)`` along the eigenvectors of ``A``, and ``{J <= L}`` is its
inside. This module computes those regions, clipped to the window a chart shows, as polygons: the charts
draw them as filled scatter traces, which Plotly can leave in place while a path moves over them (its
contour trace is recomputed on every redraw, and its animation path wipes it).

Levels are in log10 of the loss, as the charts draw them. A diverging run's window reaches losses past
float64 (1e308): the radii are computed in log space, so a level of 400 is as exact as a level of 2.

NumPy only; pure functions.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from gdviz.engine import Problem

__all__ = ["Plane", "nice_levels", "plane", "region"]

# Eigenvalue ratio below which the slice counts as flat along one direction (a constant or duplicated
# feature): its level sets are strips, not ellipses, and callers fall back to a contour of the grid.
FLAT = 1e-12
LOOP_POINTS = 72  # points of a whole ellipse: an arc gets its share, and at least ARC_MIN
ARC_MIN = 8


class Plane(NamedTuple):
    """The loss over params ``i`` and ``j``, the others held, as ``floor + (u - minimum).A.(u - minimum)``.

    Attributes:
        minimum: array of shape (2,), the params (w_i, w_j) where the slice is lowest.
        floor: the loss there.
        axes: array of shape (2, 2), the eigenvectors of ``A`` (columns), ascending eigenvalues.
        curvature: array of shape (2,), the eigenvalues of ``A`` (half the slice's Hessian), ascending.
    """

    minimum: np.ndarray
    floor: float
    axes: np.ndarray
    curvature: np.ndarray

    @property
    def bowl(self) -> bool:
        """True when every level set is an ellipse (both curvatures clearly positive)."""
        lo, hi = float(self.curvature[0]), float(self.curvature[1])
        return bool(hi > 0 and lo > FLAT * hi and np.isfinite([lo, hi]).all())


def plane(problem: Problem, i: int, j: int, center: np.ndarray) -> Plane:
    """The loss over params ``i`` and ``j`` with the others held at ``center`` (``Problem.loss``'s form).

    With ``d = w - w*`` split into ``u`` (params i, j) and the held rest ``h``:
    ``J = J* + u.A.u + 2 u.(B h + r_u) + h.C.h + 2 h.r_h``, whose minimum over ``u`` is at
    ``u* = -A^-1 (B h + r_u)``, where ``J = J* + h.C.h + 2 h.r_h + (B h + r_u).u*``.
    """
    ij = [i, j]
    rest = [k for k in range(problem.n_params) if k not in ij]
    d = np.asarray(center, dtype=float) - problem.optimum
    h = d[rest]
    a = problem.gram[np.ix_(ij, ij)]
    g = problem.gram[np.ix_(ij, rest)] @ h + problem.residual[ij]
    base = problem.optimum_loss + h @ problem.gram[np.ix_(rest, rest)] @ h + 2.0 * h @ problem.residual[rest]
    curvature, axes = np.linalg.eigh(a)
    if curvature[0] > FLAT * curvature[1] > 0:
        u = -np.linalg.solve(a, g)
        floor = max(float(base + g @ u), 0.0)
    else:  # flat along one direction: no single minimum; the region code is not used then (Plane.bowl)
        u, floor = np.zeros(2), float(problem.optimum_loss)
    return Plane(problem.optimum[ij] + u, floor, axes, curvature)


def nice_levels(lo: float, hi: float, count: int = 24) -> np.ndarray:
    """About ``count`` round values strictly between ``lo`` and ``hi``, evenly spaced (1, 2, 2.5 or 5 x 10^k).

    Returns:
        Array of shape (n_levels,), ascending; empty when ``hi <= lo`` or either is not finite.
    """
    if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= lo:
        return np.empty(0)
    raw = (hi - lo) / count
    power = 10.0 ** np.floor(np.log10(raw))
    step = power * next(f for f in (1.0, 2.0, 2.5, 5.0, 10.0) if f * power >= raw)
    levels = np.arange(np.floor(lo / step) + 1, np.ceil(hi / step)) * step
    return levels[(levels > lo) & (levels < hi)]


def _semi_axes_log10(pl: Plane, level: float) -> np.ndarray | None:
    """log10 of the two semi-axes of the level set ``log10 J = level`` (None when the level is at or below
    the floor: the set is empty or a point)."""
    log_floor = np.log10(pl.floor) if pl.floor > 0 else -np.inf
    if level <= log_floor:
        return None
    # log10(L - floor) = level + log10(1 - floor / L), without forming L (which may pass 1e308)
    excess = level + np.log10(-np.expm1((log_floor - level) * np.log(10.0)))
    return 0.5 * (excess - np.log10(pl.curvature))


def _crossings(center: float, amp: np.ndarray, lines: tuple[float, float]) -> list[float]:
    """Angles t where ``center + amp[0] cos t + amp[1] sin t`` equals either of ``lines``."""
    rho = float(np.hypot(amp[0], amp[1]))
    phi = float(np.arctan2(amp[1], amp[0]))
    out = []
    for v in lines:
        c = (v - center) / rho
        if -1.0 < c < 1.0:
            a = float(np.arccos(c))
            out += [phi + a, phi - a]
    return out


def region(pl: Plane, level: float, window: tuple[float, float, float, float]) -> np.ndarray | None:
    """The set ``{log10 J <= level}`` inside ``window``, as a convex polygon.

    Args:
        pl: a Plane whose ``bowl`` is True.
        level: log10 of the loss.
        window: (x0, x1, y0, y1), the rectangle of params shown.

    Returns:
        Array of shape (n, 2), the polygon's vertices in order (not repeated at the end): points of the
        ellipse inside the window (``LOOP_POINTS`` for a whole ellipse, an arc its share of them but at least
        ``ARC_MIN``) and the window's corners inside the ellipse. None when the set misses the window.
    """
    log_r = _semi_axes_log10(pl, level)
    if log_r is None:
        return None
    x0, x1, y0, y1 = window
    # Work relative to the ellipse's centre, in units of the window's half-size: far-off windows stay exact.
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    sx, sy = (x1 - x0) / 2.0, (y1 - y0) / 2.0
    mx, my = (pl.minimum[0] - cx) / sx, (pl.minimum[1] - cy) / sy
    if np.min(log_r) - np.log10(min(sx, sy)) > 12.0 + np.log10(1.0 + np.hypot(mx, my)):
        # Both semi-axes are 1e12 windows long and more, from a centre within reach: the window is inside.
        return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=float)
    radii = 10.0**log_r
    # point(t) = m + axes @ [r0 cos t, r1 sin t], in window units
    amp = pl.axes * radii[None, :] / np.array([[sx], [sy]])
    if not np.isfinite(amp).all():
        return None  # one semi-axis beyond float64 and the other short: a strip too thin to see
    ts = _crossings(mx, amp[0], (-1.0, 1.0)) + _crossings(my, amp[1], (-1.0, 1.0))

    def at(t: np.ndarray) -> np.ndarray:
        return np.stack([mx + amp[0, 0] * np.cos(t) + amp[0, 1] * np.sin(t),
                         my + amp[1, 0] * np.cos(t) + amp[1, 1] * np.sin(t)], axis=-1)  # fmt: skip

    def inside(p: np.ndarray) -> np.ndarray:
        return np.all(np.abs(p) <= 1.0 + 1e-12, axis=-1)

    if not ts:  # the ellipse never crosses the window's edges: wholly inside, or outside, or around it
        loop = at(np.linspace(0.0, 2.0 * np.pi, LOOP_POINTS, endpoint=False))
        pts = loop if inside(loop[:1])[0] else np.empty((0, 2))
    else:
        ts = np.sort(np.mod(ts, 2.0 * np.pi))
        arcs = []
        for a, b in zip(ts, np.append(ts[1:], ts[0] + 2.0 * np.pi), strict=True):
            if b - a > 1e-15 and inside(at(np.array([(a + b) / 2.0])))[0]:
                arcs.append(at(np.linspace(a, b, max(ARC_MIN, int(np.ceil(LOOP_POINTS * (b - a) / (2 * np.pi))) + 1))))
        pts = np.concatenate(arcs) if arcs else np.empty((0, 2))
    corners = np.array([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])
    # A corner is inside the ellipse when its coordinates along the axes, over the radii, have norm <= 1.
    q = ((corners - [mx, my]) * [sx, sy]) @ pl.axes / radii
    pts = np.concatenate([pts, corners[np.einsum("ij,ij->i", q, q) <= 1.0]])
    if len(pts) < 3:
        return None
    pts = np.clip(pts, -1.0, 1.0)
    # The set is convex: order its boundary points by angle around their mean.
    mid = pts.mean(axis=0)
    pts = pts[np.argsort(np.arctan2(pts[:, 1] - mid[1], pts[:, 0] - mid[0]), kind="stable")]
    return np.column_stack([cx + sx * pts[:, 0], cy + sy * pts[:, 1]])
