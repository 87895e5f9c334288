"""Feature scaling and the learning rate, on multi-feature data: pure functions over Problems and runs.

A feature on a scale of thousands makes the Hessian ``(2/n) X1.T @ X1`` huge along that feature's
weight: lambda_max grows with the feature's mean square, the divergence threshold 2/lambda_max shrinks
with it, and a rate small enough for that one direction is far too small for all the others. These
functions measure that on the user's data (spreads, per-scaling spectra, the stiff and the flat
eigen-direction) and phrase it; ``gdviz.plots.scaling`` draws it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np

from gdviz import analysis, playback
from gdviz.analysis import Regime
from gdviz.engine import Problem, Status, Trajectory
from gdviz.explain import fmt

# How the comparison sentence names each scaling.
SCALING_ADJECTIVES: dict[str, str] = {
    "none": "raw",
    "standard": "standardised",
    "minmax": "min-max scaled",
    "robust": "robust-scaled",
}


class FeatureSpread(NamedTuple):
    """How far each raw feature spreads.

    Attributes:
        names: one per feature.
        std: array of shape (n_features,), the standard deviation (ddof 0).
        minimum, maximum: arrays of shape (n_features,).
        value_range: array of shape (n_features,), maximum - minimum.
        rms: array of shape (n_features,), sqrt(mean(x ** 2)): what sets the feature's curvature.
    """

    names: tuple[str, ...]
    std: np.ndarray
    minimum: np.ndarray
    maximum: np.ndarray
    value_range: np.ndarray
    rms: np.ndarray


def feature_spread(X: np.ndarray, names: Sequence[str]) -> FeatureSpread:
    """Spread of each column of ``X`` (array of shape (n_samples, n_features)), raw units."""
    X = np.asarray(X, dtype=float)
    with np.errstate(all="ignore"):  # a column of astronomically large values reports inf, not a warning
        lo, hi = X.min(axis=0), X.max(axis=0)
        rms = np.sqrt(np.mean(X * X, axis=0))
        return FeatureSpread(tuple(names), X.std(axis=0), lo, hi, hi - lo, rms)


class ScalingRow(NamedTuple):
    """One scaling of the same data, and what one learning rate does under it.

    Attributes:
        scaling: a name in ``gdviz.data.SCALINGS``.
        lambda_min, lambda_max, condition_number: of the Hessian of the scaled problem.
        stable_max: 2 / lambda_max, the divergence threshold.
        ratio: learning_rate / stable_max (>= 1 diverges).
        regime: the predicted regime of plain GD at the rate.
        status: how a run at the rate ended ("converged", "diverged", "max_steps").
        steps: the step at which it ended.
        final_loss: the loss there (non-finite when diverged).
        optimum_loss: the least-squares floor (the same under every scaling, up to round-off).
    """

    scaling: str
    lambda_min: float
    lambda_max: float
    condition_number: float
    stable_max: float
    ratio: float
    regime: Regime
    status: str
    steps: int
    final_loss: float
    optimum_loss: float


def compare_scalings(
    problems: Mapping[str, Problem], learning_rate: float, *, tol: float = 1e-6, max_steps: int = 10_000
) -> list[ScalingRow]:
    """The spectrum, threshold, predicted regime and actual run of one rate under each scaling.

    Args:
        problems: scaling name -> the Problem of the same data under that scaling.
        learning_rate: the one rate, in (0, inf).
        tol, max_steps: the stop rules of the runs (as ``gdviz.engine.run``).
    """
    rows = []
    for name, problem in problems.items():
        s = analysis.spectrum(problem)
        stable = 2.0 / s.lambda_max
        sweep = analysis.lr_sweep(problem, [learning_rate], tol=tol, max_steps=max_steps)
        rows.append(
            ScalingRow(
                name,
                s.lambda_min,
                s.lambda_max,
                s.condition_number,
                stable,
                learning_rate / stable,
                analysis.predict_regime(problem, learning_rate),
                str(sweep.status[0]),
                int(sweep.steps[0]),
                float(sweep.final_loss[0]),
                problem.optimum_loss,
            )
        )
    return rows


def comparison_sentence(rows: Sequence[ScalingRow], learning_rate: float) -> str:
    """E.g. "The same rate 1e-06 is divergent raw, slow standardised, ...": the regimes, in one sentence."""
    parts = [f"{row.regime.value} {SCALING_ADJECTIVES.get(row.scaling, row.scaling)}" for row in rows]
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    regimes = {row.regime for row in rows}
    verdict = (
        "Scaling alone changes what this rate does."
        if len(regimes) > 1
        else "Here every scaling puts this rate in the same regime; try another rate."
    )
    return f"The same learning rate {fmt(learning_rate)} is {listed}. {verdict}"


def outcome_text(row: ScalingRow) -> str:
    """What the run of a row did, in a few words."""
    if row.status == Status.DIVERGED:
        return f"diverged at step {row.steps:,}"
    floor = f" (floor {fmt(row.optimum_loss)})"
    if row.status == Status.CONVERGED:
        return f"stopped by tol at step {row.steps:,}, loss {fmt(row.final_loss)}{floor}"
    return f"still going at max steps ({row.steps:,}), loss {fmt(row.final_loss)}{floor}"


def dominant_params(vector: np.ndarray, names: Sequence[str], *, k: int = 2, min_share: float = 0.05) -> str:
    """The params that make up an eigen-direction, largest share first: e.g. "Population (99.6%)".

    Shares are the squared components of the unit ``vector``; at most ``k`` with at least ``min_share``
    each are named (always at least one).
    """
    share = np.asarray(vector, dtype=float) ** 2
    share = share / share.sum()
    order = np.argsort(share)[::-1]
    picked = [i for i in order[:k] if share[i] >= min_share] or [int(order[0])]
    return ", ".join(f"{names[i]} ({share[i]:.1%})" for i in picked)


def stiff_feature(problem: Problem) -> int:
    """Index (in params) of the param that dominates the stiffest eigen-direction."""
    v = analysis.spectrum(problem).eigenvectors[:, -1]
    return int(np.argmax(np.abs(v)))


def default_pair(raw: Problem) -> tuple[int, int]:
    """Two params worth a cost surface: the intercept (or the first param) and the feature with the largest
    mean square on raw data (the one that makes the valley steep). Pass the *raw* problem, so the pair stays
    the same whatever the scaling."""
    p = raw.n_params
    if p == 2:
        return 0, 1
    first = 1 if raw.fit_intercept else 0
    steep = first + int(np.argmax(np.diag(raw.gram)[first:]))
    return (0, steep) if raw.fit_intercept else ((1, steep) if steep == 0 else (0, steep))


def rate_explanation(problem: Problem, learning_rate: float, trajectory: Trajectory) -> list[str]:
    """Why plain GD at ``learning_rate`` did what ``trajectory`` shows, from the spectrum of ``problem``.

    Returns paragraphs (markdown): the rate against 2/lambda_max and the param behind lambda_max; for a
    divergent rate the growth factor and the overflow step; otherwise the flattest direction and how
    slowly this rate moves along it, with where the run ended against the least-squares floor.
    """
    s = analysis.spectrum(problem)
    names = problem.param_names
    lr = float(learning_rate)
    stable = 2.0 / s.lambda_max
    q_max = 1.0 - lr * s.lambda_max
    stiff = dominant_params(s.eigenvectors[:, -1], names)
    flat = dominant_params(s.eigenvectors[:, 0], names)
    scaled = "raw" if problem.scaling == "none" else SCALING_ADJECTIVES.get(problem.scaling, problem.scaling)
    out = [
        f"On the {scaled} features, lambda_max = {fmt(s.lambda_max)}, so the divergence threshold is 2/lambda_max "
        f"= {fmt(stable)}, and the rate {fmt(lr)} is **{lr / stable:.3g}x** it. The stiffest eigen-direction "
        f"(the one lambda_max belongs to) is made of {stiff}."
    ]
    last = int(trajectory.step[-1])
    if lr >= stable:
        where = (
            f"the numbers overflowed float64 at step {last:,}"
            if trajectory.status is Status.DIVERGED
            else f"by step {last:,} the loss has grown to {fmt(float(trajectory.loss[-1]))}"
        )
        out.append(
            f"Each step multiplies the error along that direction by 1 - rate x lambda_max = {q_max:.3g}: it "
            f"flips sign and grows {abs(q_max):.3g}x per step, so {where}. Divergence is set by the one "
            "steepest direction: lower the rate below 2/lambda_max, or scale the features so that lambda_max "
            "shrinks."
        )
        return out
    q_min = 1.0 - lr * s.lambda_min
    if s.lambda_min > 0:
        half = np.log(2.0) / (lr * s.lambda_min)
        slow = (
            f"each step keeps a fraction 1 - rate x lambda_min = 1 - {fmt(lr * s.lambda_min)} of the error, so "
            f"halving it takes about {fmt(half)} steps"
        )
    else:
        slow = "the Hessian is singular there, so that error never shrinks"
    out.append(
        f"The rate is stable (|1 - rate x lambda_max| = {abs(q_max):.3g} < 1), but it is also capped by that one "
        f"direction. The flattest direction, lambda_min = {fmt(s.lambda_min)} (condition number "
        f"{fmt(s.condition_number)}), is made of {flat}: along it {slow}."
    )
    if q_min >= 0 and trajectory.status is not Status.DIVERGED:
        gap0 = float(trajectory.loss[0]) - problem.optimum_loss
        gap = float(trajectory.loss[-1]) - problem.optimum_loss
        done = {
            Status.CONVERGED: f"stopped by the tol rule at step {last:,}",
            Status.MAX_STEPS: f"reached max steps ({last:,})",
        }.get(trajectory.status, f"is at step {last:,}")
        closed = 1.0 - gap / gap0 if gap0 > 0 else 1.0
        w0, w_end = trajectory.params[0], trajectory.params[-1]
        way = np.linalg.norm(problem.optimum - w0)
        moved = np.linalg.norm(w_end - w0) / way if way > 0 else 1.0
        k = int(np.argmax(np.abs(problem.optimum - w0)))
        out.append(
            f"The run {done} with loss {fmt(float(trajectory.loss[-1]))} (the least-squares floor is "
            f"{fmt(problem.optimum_loss)}): it closed {closed:.1%} of the loss gap, and its params went "
            f"{moved:.2%} of the way from the start to the optimum ({names[k]}: {fmt(float(w_end[k]))}, optimum "
            f"{fmt(float(problem.optimum[k]))}). "
            + (
                "The steps got shorter than tol long before the minimum: along the flat directions the run barely "
                "left the start. Scaling the features brings lambda_min and lambda_max close, so one rate suits all."
                if moved < 0.5
                else "It got most of the way."
                if moved < 0.99
                else "It got there: its params are within 1% of the way from the optimum."
            )
        )
    return out


def slice_loss(problem: Problem, center: np.ndarray, i: int, j: int, points: np.ndarray) -> np.ndarray:
    """The loss at ``center`` with params i and j replaced by each row of ``points`` (shape (k, 2)).

    This is the height of the loss-grid slice (others held at ``center``) above each point.
    """
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    full = np.tile(np.asarray(center, dtype=float), (len(pts), 1))
    full[:, i], full[:, j] = pts[:, 0], pts[:, 1]
    with np.errstate(all="ignore"):
        return np.asarray(problem.loss(full), dtype=float).reshape(-1)


def square_window(points: np.ndarray, anchors: np.ndarray) -> tuple[tuple[float, float], tuple[float, float]]:
    """A view window with the same width on both params (so a round bowl looks round and a stretched
    valley looks stretched) holding every finite row of ``points`` and ``anchors`` (shapes (k, 2), (m, 2)).

    Half-widths move in powers of 2 (``gdviz.playback.window``): a path that stays inside keeps the window.
    """
    (x0, x1), (y0, y1) = playback.window(points, anchors)
    half = max(x1 - x0, y1 - y0) / 2
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return (cx - half, cx + half), (cy - half, cy + half)


HOLD_MODES: dict[str, str] = {
    "current": "the current step's params",
    "optimum": "the least-squares optimum",
}
# Beyond these sizes a diverging path cannot be drawn: WebGL is float32 (3D), and the loss grid of a 2D
# window that wide overflows float64. The page says where the drawn path stops; the 2D charts over the
# steps show every step.
LIMIT_3D = 1e12
LIMIT_2D = 1e60


class SliceView(NamedTuple):
    """Everything the two cost-surface charts draw: a slice of the loss over params i and j.

    Attributes:
        i, j: the two param indices.
        hold: "current" or "optimum": where the other params are held.
        center: array of shape (n_params,), the point whose other params are held fixed.
        grid: the ``analysis.LossGrid`` for the contour (its window holds the drawable path).
        grid3d: the same for the 3D chart (the path it can draw may be shorter, see n3d).
        path: array of shape (k, 2), params i and j at steps 0..k-1 (k = n2d).
        path_loss: array of shape (k,), the slice's loss under each path point.
        optimum: array of shape (2,), params i and j of the least-squares optimum.
        optimum_loss: the slice's loss there.
        n_steps: states up to the current step (steps 0..n_steps-1).
        n2d, n3d: how many of them the contour and the 3D chart can draw.
    """

    i: int
    j: int
    hold: str
    center: np.ndarray
    grid: analysis.LossGrid
    grid3d: analysis.LossGrid
    path: np.ndarray
    path_loss: np.ndarray
    optimum: np.ndarray
    optimum_loss: float
    n_steps: int
    n2d: int
    n3d: int


def _drawable(points: np.ndarray, limit: float) -> int:
    ok = np.isfinite(points).all(axis=1) & (np.abs(points) < limit).all(axis=1)
    bad = np.flatnonzero(~ok)
    return int(bad[0]) if bad.size else len(ok)


def slice_view(
    problem: Problem,
    params: np.ndarray,
    i: int,
    j: int,
    *,
    hold: str = "current",
    n: int = 60,
    held_row: int | None = None,
) -> SliceView:
    """The loss over params i and j, the others held at a row of ``params`` or at the optimum.

    Args:
        params: array of shape (k, n_params), the run's params at its stored steps (by default the last row
            is the current step).
        hold: "current" or "optimum".
        n: grid points per axis.
        held_row: with hold "current", the row whose params are held (0-based; default the last row); a row
            past where the path stops being drawable holds the last drawable one.
    """
    params = np.asarray(params, dtype=float)
    full = params[: _drawable(params, LIMIT_2D)]
    last = len(full) - 1 if held_row is None else min(int(held_row), len(full) - 1)
    current = full[last] if len(full) else params[0]
    center = problem.solution() if hold == "optimum" else current
    path = params[:, [i, j]]
    n2d = max(_drawable(full, LIMIT_2D), 1)
    n3d = max(_drawable(params, LIMIT_3D), 1)
    opt = problem.optimum[[i, j]]
    anchors = np.vstack([path[0], opt, center[[i, j]]])

    def grid_for(k: int) -> analysis.LossGrid:
        x_range, y_range = square_window(path[:k], anchors)
        return analysis.loss_grid(problem, i, j, x_range=x_range, y_range=y_range, n=n, center=center)

    grid = grid_for(n2d)
    grid3d = grid if n3d == n2d else grid_for(n3d)
    return SliceView(
        i,
        j,
        hold,
        center,
        grid,
        grid3d,
        path[:n2d],
        slice_loss(problem, center, i, j, path[:n2d]),
        opt,
        float(slice_loss(problem, center, i, j, opt)[0]),
        len(params),
        n2d,
        n3d,
    )


# A diverged run opens at the last step before its loss grew this many times over its start.
OPENING_GROWTH = 1e6


def opening_step(traj: Trajectory) -> int:
    """The step a page shows first: the last step of a run that ended normally; for a diverged run, the last
    step before the loss grew OPENING_GROWTH times over its start (later steps are astronomically far away,
    and the picture of how it started to blow up is the instructive one). The step is one of ``traj.step`` (a
    thinned run does not store every step)."""
    last = traj.n_states - 1  # the last row
    if traj.status is not Status.DIVERGED:
        return int(traj.step[last])
    with np.errstate(all="ignore"):
        grown = ~(traj.loss <= traj.loss[0] * OPENING_GROWTH)  # NaN and inf count as grown
    first = int(np.argmax(grown)) if grown.any() else last
    return int(traj.step[max(first - 1, min(1, last))])
