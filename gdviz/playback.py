"""Lazy playback of one run: the Trajectory grows on demand from the engine's generator, never from zero.

A page keeps the Trajectory computed so far (plain arrays, fine for session state) and a current step.
Stepping past the computed end resumes ``engine.run`` from ``trajectory.last_state`` and appends what it
yields; going back or scrubbing only reads rows that are already there.

Memory is bounded: the Trajectory is stored thinned (``gdviz.thinning``) to at most TRAJECTORY_BYTES of
arrays, whatever max_steps and the number of params. Every step up to ``dense_steps(config, problem)`` is
stored, later ones at a stride that doubles, and the last State always (so the run resumes exactly, and
its final state, status and step count are those of an undecimated run). A step is therefore not a row
index: ``clamp_step`` snaps a step to a stored one and ``head`` finds its row.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable

import numpy as np

from gdviz import engine, thinning
from gdviz.config import RunConfig
from gdviz.engine import Problem, State, Status, Trajectory
from gdviz.errors import InputError
from gdviz.runs import init_params, run_kwargs

# Steps computed ahead of the one asked for, so that stepping one at a time rarely resumes the engine.
LOOKAHEAD_MIN = 256
LOOKAHEAD_MAX = 4_096
# Run-to-end works in blocks of this many steps, so a progress bar can move between them.
BLOCK = 20_000
# The most bytes a stored run may take (its arrays). 2 MiB keeps every State of a one-feature run of up to
# 32,000 steps, and of the longest one-feature run (200,000 steps) every step up to 10,606 (32,767 rows).
TRAJECTORY_BYTES = 2 * 1024 * 1024


def dense_steps(config: RunConfig, problem: Problem) -> int:
    """Up to which step every State of ``config``'s run is stored (max_steps when the whole run fits)."""
    return thinning.dense_for(problem.n_params, config.max_steps, TRAJECTORY_BYTES)


def begin(config: RunConfig, problem: Problem) -> Trajectory:
    """The run of ``config`` with only its start State (step 0) computed."""
    states = engine.run(
        problem, config.make_optimizer(), init_params=init_params(config, problem), **run_kwargs(config, problem)
    )
    return engine.collect(itertools.islice(states, 1))


def finished(traj: Trajectory) -> bool:
    """True when the run has stopped (converged, diverged or reached max_steps): nothing more to compute."""
    return traj.status is not Status.RUNNING


def extend(config: RunConfig, problem: Problem, traj: Trajectory, n: int) -> Trajectory:
    """``traj`` with up to ``n`` more States, resumed from its last State (fewer if the run stops first).

    A mini-batch run resumes exactly too: its batches are a function of (seed, step) alone
    (``gdviz.engine.batch_rows``), so the resumed run equals the one-shot run bit for bit.
    """
    if finished(traj) or n <= 0:
        return traj
    states = engine.run(problem, config.make_optimizer(), start=traj.last_state, **run_kwargs(config, problem))
    more = next(states, None)
    if more is None:
        return traj
    dense = dense_steps(config, problem)
    new = thinning.collect(itertools.chain((more,), itertools.islice(states, n - 1)), dense)
    return thinning.concat(traj, new, dense)


def advance(config: RunConfig, problem: Problem, traj: Trajectory, step: int) -> Trajectory:
    """``traj`` computed at least up to ``step`` (or to the run's end), plus a bounded look-ahead."""
    last = int(traj.step[-1])
    if step <= last or finished(traj):
        return traj
    lookahead = int(np.clip(last // 2, LOOKAHEAD_MIN, LOOKAHEAD_MAX))
    return extend(config, problem, traj, step - last + lookahead)


def run_to_end(
    config: RunConfig, problem: Problem, traj: Trajectory, *, progress: Callable[[float], None] | None = None
) -> Trajectory:
    """``traj`` computed until the run stops, in blocks; ``progress(fraction of max_steps)`` after each."""
    while not finished(traj):
        traj = extend(config, problem, traj, BLOCK)
        if progress is not None:
            progress(min(1.0, int(traj.step[-1]) / config.max_steps))
    return traj


# Play makes up at most this much wall time at once: a tab that stalled for a minute resumes, it does not leap.
PLAY_CATCH_UP = 2.0


def play_steps(steps_per_second: float, elapsed: float, carry: float = 0.0) -> tuple[int, float]:
    """The steps Play owes after ``elapsed`` seconds of wall time, and the fraction it carries to the next tick.

    Play advances by the time that really passed, not by one fixed amount per tick: a tick that arrives late
    (each costs a rerun and a redraw, often more than the tick interval) owes more steps, so "4 steps/s" covers
    4 steps a second even when frames drop. The fraction carried over keeps slow speeds exact (1 step/s with
    ticks every 0.7 s: 0, 1, 1, 0, 1, ...).

    Args:
        steps_per_second: the chosen speed.
        elapsed: seconds since the previous tick (clipped to [0, PLAY_CATCH_UP]).
        carry: the fraction of a step left over from the previous tick, in [0, 1).

    Returns:
        (whole steps to take now, the new carry).
    """
    owed = steps_per_second * min(max(float(elapsed), 0.0), PLAY_CATCH_UP) + carry
    steps = int(np.floor(owed + 1e-9))  # 1e-9: 4 steps/s x 0.25 s is one step, not 0.999999
    return steps, max(owed - steps, 0.0)


def clamp_step(traj: Trajectory, step: int, *, direction: str = "nearest") -> int:
    """``step`` moved into the computed range [0, last computed step], then snapped to a stored step.

    Args:
        direction: which stored step when ``step`` itself is not stored: "nearest", "up" (the next one, for
            moves forward) or "down" (the previous one, for moves back); see ``thinning.row_of``.
    """
    return thinning.snap(traj, int(np.clip(step, 0, int(traj.step[-1]))), direction=direction)


def stride_at(traj: Trajectory, step: int) -> int:
    """Steps between the stored step at or before ``step`` and the next stored one (1 where all are stored)."""
    k = thinning.row_of(traj, step, direction="down")
    return int(traj.step[k + 1] - traj.step[k]) if k + 1 < traj.n_states else 1


def head(traj: Trajectory, step: int) -> Trajectory:
    """The run as it was at ``step`` (snapped to the nearest stored step): its rows up to that step (views, no
    copy). Its status is RUNNING unless that is the final step of a finished run; its last_state has no
    optimizer state (read-only display)."""
    k = thinning.row_of(traj, clamp_step(traj, step))
    if k == traj.n_states - 1:
        return traj
    arrays = [a[: k + 1] for a in traj[:6]]
    last = State(
        int(arrays[0][k]),
        arrays[1][k],
        arrays[2][k],
        float(arrays[3][k]),
        float(arrays[4][k]),
        float(arrays[5][k]),
        None,
        Status.RUNNING,
    )
    return Trajectory(*arrays, status=Status.RUNNING, last_state=last)


def window(
    points: np.ndarray, anchors: np.ndarray, *, pad: float = 0.2, min_half_width: float = 1e-3
) -> tuple[tuple[float, float], tuple[float, float]]:
    """A 2-D view window that holds every finite row of ``points`` and ``anchors``, in steps of powers of 2.

    The window is centred between the anchors (the start and the optimum) and its half-widths only take
    values ``base * 2**k``: a path that stays inside keeps exactly the same window (so a chart can update
    in place), while an oscillating or diverging path makes it grow, never clip.

    Args:
        points: array of shape (k, 2), e.g. the path so far.
        anchors: array of shape (m, 2), e.g. the start and the optimum (always inside, never empty).
    """
    a = np.asarray(anchors, dtype=float).reshape(-1, 2)
    p = np.asarray(points, dtype=float).reshape(-1, 2)
    p = p[np.isfinite(p).all(axis=1)]
    center = 0.5 * (a.min(axis=0) + a.max(axis=0))
    base = np.maximum(0.5 * (a.max(axis=0) - a.min(axis=0)) * (1 + pad), min_half_width)
    base = np.maximum(base, 1e-6 * np.abs(center))
    need = np.max(np.abs(np.vstack([a, p]) - center), axis=0) * (1 + pad)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        k = np.ceil(np.log2(np.maximum(need / base, 1.0)))
        half = base * np.exp2(k)
    half = np.where(np.isfinite(half), half, np.finfo(float).max / 4)
    return ((center[0] - half[0], center[0] + half[0]), (center[1] - half[1], center[1] + half[1]))


# ---------------------------------------------------------------------------------------------
# The browser's copy of a run (what a player steps through without asking the server)
# ---------------------------------------------------------------------------------------------

# The most stored steps a player gets: with about 16 numbers a row as JSON text, a payload of some 1.3 MB.
PLAYER_ROWS = 4_096


def player_rows(traj: Trajectory, max_rows: int = PLAYER_ROWS) -> Trajectory:
    """``traj`` thinned further (``thinning.thin``) to at most ``max_rows`` rows: every step up to the largest
    ``dense`` that fits, later ones at a doubling stride, always the last row. Its rows are rows of ``traj``."""
    if traj.n_states <= max_rows:
        return traj
    last = int(traj.step[-1])
    lo, hi = 1, last  # the largest dense whose grid (plus the last row) fits in max_rows
    while lo < hi:
        mid = (lo + hi + 1) // 2
        mask = thinning.keep(traj.step, mid)
        mask[-1] = True
        if int(mask.sum()) <= max_rows:
            lo = mid
        else:
            hi = mid - 1
    return thinning.thin(traj, lo)


def json_column(values: np.ndarray, *, digits: int | None = None) -> str:
    """A JSON array of ``values``: each finite number exactly (``repr``: it reads back as the same float64) or
    with ``digits`` significant figures, each non-finite one (an overflowed value) as null. JSON has no NaN."""
    if np.asarray(values).dtype.kind in "iu":
        return "[" + ",".join(str(int(x)) for x in np.asarray(values).ravel().tolist()) + "]"
    v = np.asarray(values, dtype=float).ravel()
    items = v.tolist()
    bad = np.flatnonzero(~np.isfinite(v)).tolist()
    for i in bad:
        items[i] = None
    if digits is None:  # json writes each float as its repr, in C
        return json.dumps(items, separators=(",", ":"))
    fmt = f"%.{int(digits)}g".__mod__
    if not bad:
        return "[" + ",".join(map(fmt, items)) + "]"
    return "[" + ",".join(["null" if x is None else fmt(x) for x in items]) + "]"


def aligned_rows(trajs: list[Trajectory], max_rows: int = PLAYER_ROWS) -> tuple[np.ndarray, list[np.ndarray]]:
    """One step axis for several runs shown side by side by one player (Regimes' panels, the Optimizers race).

    Returns:
        ``(steps, rows)``: ``steps`` the stored steps of every run merged (sorted, unique), thinned like
        ``player_rows`` to at most ``max_rows`` (the longest run's last step always kept); ``rows[i][k]`` the
        row of ``trajs[i]`` shown at ``steps[k]``: its last stored step at or before it, or its last row once
        the run has stopped. No number of a run is recomputed: a player picks rows.
    """
    if not trajs:
        raise InputError("aligned_rows needs at least one run.")
    steps = np.unique(np.concatenate([np.asarray(t.step, dtype=np.int64) for t in trajs]))
    if steps.size > max_rows:
        last = int(steps[-1])
        lo, hi = 1, last  # the largest dense whose grid (plus the last step) fits in max_rows
        while lo < hi:
            mid = (lo + hi + 1) // 2
            mask = thinning.keep(steps, mid)
            mask[-1] = True
            if int(mask.sum()) <= max_rows:
                lo = mid
            else:
                hi = mid - 1
        mask = thinning.keep(steps, lo)
        mask[-1] = True
        steps = steps[mask]
    rows = [np.searchsorted(np.asarray(t.step, dtype=np.int64), steps, side="right") - 1 for t in trajs]
    return steps, [np.clip(r, 0, t.n_states - 1) for r, t in zip(rows, trajs, strict=True)]
