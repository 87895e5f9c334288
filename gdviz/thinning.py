"""Decimated storage of long runs: every step up to ``dense``, then a stride that doubles, plus the last State.

A run of up to ``MAX_STEPS_LIMIT`` updates on data with many features would not fit in a session if every
State were stored (200,000 rows x (2 n_params + 4) float64). A thinned Trajectory keeps:

    every step t <= dense;
    for t in (dense * 2**(k-1), dense * 2**k], k >= 1: the steps that are multiples of 2**k;
    always the last State (the one the run resumes from, or the one it stopped at).

So each doubling of the run adds about ``dense / 2`` rows: the early steps, where most happens, are all
there, and later ones keep the same relative resolution. Which steps are stored depends only on the step
numbers and ``dense``, never on how the run was cut into pieces, so a run extended block by block is
stored exactly like the same run collected in one pass. The rows are a subset of the undecimated run's rows
(bit for bit), and the last State, its status and step count are the undecimated run's.

The row of a Trajectory is then no longer its step: use ``row_of`` / ``snap`` to go from a step to a row.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import numpy as np

from gdviz import engine
from gdviz.engine import State, Trajectory
from gdviz.errors import InputError

# States gathered before each thinning pass: bounds the memory a long collection needs on the way.
BLOCK = 4_096


def row_bytes(n_params: int) -> int:
    """Bytes one stored row takes: step (int64), params and grads (n_params float64 each), loss, norm, rate."""
    return 8 * (2 * int(n_params) + 4)


def keep(steps: np.ndarray, dense: int) -> np.ndarray:
    """Which of ``steps`` (int array, each >= 0) lie on the stored grid of ``dense`` (the last row aside).

    Returns:
        bool array of the same shape: ``t <= dense``, or ``t`` a multiple of ``2**k`` where ``k`` is the
        smallest integer with ``dense * 2**k >= t``.
    """
    t = np.asarray(steps, dtype=np.int64)
    dense = int(dense)
    if dense < 1:
        raise InputError(f"The 'dense' parameter of thinning must be an int >= 1. Got {dense!r} instead.")
    k = np.zeros(t.shape, dtype=np.int64)
    far = t > dense
    if far.any():
        k[far] = np.ceil(np.log2(t[far] / dense)).astype(np.int64)
        # Float log2 can be off by one at exact powers: correct it with integer arithmetic.
        k[far & (dense << k < t)] += 1
        k[far & (k > 0) & (dense << np.maximum(k - 1, 0) >= t)] -= 1
    return ~far | (t & ((np.int64(1) << k) - 1) == 0)


def max_rows(max_steps: int, dense: int) -> int:
    """The most rows a thinned run of up to ``max_steps`` updates can hold (grid rows plus an off-grid last row)."""
    max_steps, dense = int(max_steps), int(dense)
    if max_steps <= dense:
        return max_steps + 1
    rows = dense + 1
    k = 1
    while dense << (k - 1) < max_steps:
        lo, hi, s = dense << (k - 1), min(max_steps, dense << k), 1 << k
        rows += hi // s - lo // s
        k += 1
    return rows + 1


def dense_for(n_params: int, max_steps: int, budget_bytes: int) -> int:
    """The largest ``dense`` whose thinned run of ``max_steps`` updates fits in ``budget_bytes``.

    A run that fits whole gets ``dense = max_steps`` (nothing thinned). The result is at least 1: with
    ``dense = 1`` a run keeps about log2(max_steps) + 2 rows, which is over a budget only when a few rows
    already are (thousands of params and a budget of a few hundred kB).
    """
    per_row = row_bytes(n_params)
    lo, hi = 1, max(1, int(max_steps))
    if max_rows(max_steps, hi) * per_row <= budget_bytes:
        return hi
    while lo < hi:  # max_rows grows with dense: bisect for the last dense that fits
        mid = (lo + hi + 1) // 2
        if max_rows(max_steps, mid) * per_row <= budget_bytes:
            lo = mid
        else:
            hi = mid - 1
    return lo


def thin(traj: Trajectory, dense: int) -> Trajectory:
    """``traj`` with only its rows on the grid of ``dense``, plus its last row (which it always keeps)."""
    mask = keep(traj.step, dense)
    mask[-1] = True
    if mask.all():
        return traj
    return Trajectory(*(a[mask] for a in traj[:6]), status=traj.status, last_state=traj.last_state)


def concat(first: Trajectory, then: Trajectory, dense: int) -> Trajectory:
    """The run of ``first`` continued by ``then`` (whose steps follow on), thinned with ``dense``."""
    head = thin(first, dense)
    if not keep(head.step[-1:], dense)[0]:  # the old last row was only kept for being last
        head = Trajectory(*(a[:-1] for a in head[:6]), status=head.status, last_state=head.last_state)
    arrays = (np.concatenate([a, b]) for a, b in zip(head[:6], thin(then, dense)[:6], strict=True))
    return Trajectory(*arrays, status=then.status, last_state=then.last_state)


def collect(states: Iterable[State], dense: int) -> Trajectory:
    """Like ``engine.collect``, but thinned with ``dense`` as it goes (never more than BLOCK extra rows).

    Raises:
        InputError: when ``states`` is empty.
    """
    it = iter(states)
    out = thin(engine.collect(itertools.islice(it, BLOCK)), dense)
    while out.status is engine.Status.RUNNING:
        more = list(itertools.islice(it, BLOCK))
        if not more:
            break
        out = concat(out, engine.collect(more), dense)
    return out


def row_of(traj: Trajectory, step: int, *, direction: str = "nearest") -> int:
    """The row of ``traj`` for ``step``: its own row when stored, else the nearest stored one.

    Args:
        direction: "nearest" (ties go to the earlier step), "up" (the first stored step >= ``step``) or
            "down" (the last stored step <= ``step``); each falls back to the run's end or start.
    """
    steps = traj.step
    i = int(np.searchsorted(steps, step))  # first row with steps[i] >= step
    n = len(steps)
    if i < n and steps[i] == step:
        return i
    if direction == "up":
        return min(i, n - 1)
    if direction == "down":
        return max(i - 1, 0)
    if i == 0:
        return 0
    if i == n:
        return n - 1
    return i if steps[i] - step < step - steps[i - 1] else i - 1


def snap(traj: Trajectory, step: int, *, direction: str = "nearest") -> int:
    """The stored step of ``traj`` nearest to ``step`` (see ``row_of``)."""
    return int(traj.step[row_of(traj, step, direction=direction)])
