"""Decimated storage of long runs (gdviz.thinning, and gdviz.playback which stores the Playground's run with it).

Oracles: the stored grid written out as a plain loop over steps, a naive gradient-descent loop and a heavy-ball
loop written here (the stop rules of STYLE.md section 3), and the undecimated run of ``runs.simulate``
for the final State, its status and its step count (which thinning must leave exactly as they are).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst

from gdviz import engine, optimizers, playback, thinning
from gdviz.config import RunConfig
from gdviz.data import make_problem
from gdviz.errors import InputError
from gdviz.runs import simulate


def on_grid(t: int, dense: int) -> bool:
    """The stored grid as the module docstring states it, one step at a time."""
    if t <= dense:
        return True
    k = 0
    while dense * 2**k < t:
        k += 1
    return t % 2**k == 0


def naive_gd(X1, y, lr, steps, w0=(0.0, 0.0)) -> np.ndarray:
    """Rows 0..steps of plain gradient descent (no stop rule)."""
    w, out = np.array(w0, dtype=float), []
    out.append(w)
    for _ in range(steps):
        w = w - lr * 2.0 / len(y) * X1.T @ (X1 @ w - y)
        out.append(w)
    return np.array(out)


@pytest.fixture(scope="module")
def line(line_xy):
    X, y = line_xy
    return np.column_stack([np.ones(len(y)), X[:, 0]]), y, make_problem(X, y)


def assert_same_rows(a: engine.Trajectory, b: engine.Trajectory) -> None:
    for x, y in zip(a[:6], b[:6], strict=True):
        np.testing.assert_array_equal(x, y)


def assert_same_state(a: engine.State, b: engine.State) -> None:
    assert (a.step, a.status) == (b.step, b.status)
    np.testing.assert_array_equal(a.params, b.params)
    np.testing.assert_array_equal(a.grads, b.grads)
    assert a.loss == b.loss or (np.isnan(a.loss) and np.isnan(b.loss))


# ---------------------------------------------------------------------------------------------
# The grid and its bounds
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dense", [1, 2, 3, 7, 16, 100, 1000, 10_606])
def test_keep_is_the_grid_of_the_docstring(dense):
    steps = np.concatenate([np.arange(0, 5000), np.arange(199_000, 200_001), [2**17, 2**17 + 1, dense * 8 + 8]])
    expected = np.array([on_grid(int(t), dense) for t in steps])
    np.testing.assert_array_equal(thinning.keep(steps, dense), expected)


def test_keep_rejects_a_dense_below_1():
    with pytest.raises(InputError, match="'dense' parameter of thinning must be an int >= 1. Got 0"):
        thinning.keep(np.arange(3), 0)


@settings(max_examples=60, deadline=None)
@given(dense=hst.integers(1, 3000), max_steps=hst.integers(1, 60_000))
def test_max_rows_is_the_most_rows_any_stop_leaves(dense, max_steps):
    grid = np.array([on_grid(t, dense) for t in range(max_steps + 1)])
    worst = max(int(grid[: s + 1].sum()) + (0 if grid[s] else 1) for s in range(max(0, max_steps - 40), max_steps + 1))
    assert thinning.max_rows(max_steps, dense) >= worst
    assert thinning.max_rows(max_steps, dense) <= worst + 1


@pytest.mark.parametrize("n_params", [2, 9, 101, 501])
@pytest.mark.parametrize("budget", [256 * 1024, 2 * 1024 * 1024])
def test_dense_for_is_the_largest_dense_within_the_budget(n_params, budget):
    per_row = 8 * (2 * n_params + 4)  # step, params, grads, loss, norm, rate
    dense = thinning.dense_for(n_params, 200_000, budget)
    assert thinning.max_rows(200_000, dense) * per_row <= budget
    assert thinning.max_rows(200_000, dense + 1) * per_row > budget


def test_dense_for_keeps_a_run_that_fits_whole():
    assert thinning.dense_for(2, 10_000, 2 * 1024 * 1024) == 10_000  # 10,001 rows of 64 bytes


# ---------------------------------------------------------------------------------------------
# Thinned runs against undecimated ones and naive loops
# ---------------------------------------------------------------------------------------------


def test_collect_keeps_the_grid_rows_of_the_naive_loop_and_the_last_state(line):
    X1, y, problem = line
    lr, steps, dense = 0.01, 3001, 100  # tol 0: stops at max_steps, off the grid (3001 is odd)
    states = engine.run(problem, optimizers.gd(lr), tol=0.0, max_steps=steps)
    traj = thinning.collect(states, dense)
    kept = [t for t in range(steps + 1) if on_grid(t, dense)] + [steps]
    np.testing.assert_array_equal(traj.step, kept)
    np.testing.assert_allclose(traj.params, naive_gd(X1, y, lr, steps)[kept], rtol=1e-10, atol=1e-12)
    full = simulate(RunConfig(learning_rate=lr, tol=0.0, max_steps=steps), problem)
    assert_same_state(traj.last_state, full.last_state)
    assert traj.status is engine.Status.MAX_STEPS


@pytest.mark.parametrize(
    ("settings_", "status"),
    [
        ({"learning_rate": 0.05, "tol": 1e-6}, engine.Status.CONVERGED),
        ({"learning_rate": 0.6, "tol": 1e-6, "max_steps": 200_000}, engine.Status.DIVERGED),
        ({"learning_rate": 1e-4, "tol": 0.0, "max_steps": 12_345}, engine.Status.MAX_STEPS),
        ({"optimizer": "momentum", "learning_rate": 0.01, "tol": 1e-9}, engine.Status.CONVERGED),
        ({"optimizer": "adam", "learning_rate": 0.1, "tol": 0.0, "max_steps": 7_777}, engine.Status.MAX_STEPS),
    ],
)
def test_playback_in_pieces_ends_exactly_where_the_undecimated_run_does(line, settings_, status):
    _, _, problem = line
    config = RunConfig(**settings_)
    full = simulate(config, problem)
    assert full.status is status
    dense = 64  # far below what the budget gives, so that these runs are thinned
    rng = np.random.default_rng(0)
    traj = playback.begin(config, problem)
    while not playback.finished(traj):  # resumed in pieces of random size, like Step, Play and Go to
        more = engine.run(problem, config.make_optimizer(), tol=config.tol, max_steps=config.max_steps,
                          start=traj.last_state)  # fmt: skip
        piece = thinning.collect(itertools.islice(more, int(rng.integers(1, 700))), dense)
        traj = thinning.concat(traj, piece, dense)
    assert_same_state(traj.last_state, full.last_state)
    assert traj.status is full.status
    assert int(traj.step[-1]) == int(full.step[-1])
    assert_same_rows(traj, thinning.thin(full, dense))  # pieces store exactly what one pass does
    mask = np.isin(full.step, traj.step)
    assert_same_rows(traj, engine.Trajectory(*(a[mask] for a in full[:6]), full.status, full.last_state))


def test_momentum_resumes_exactly_across_thinned_pieces(line):
    X1, y, problem = line
    lr, beta, steps = 0.01, 0.9, 900
    w, m, rows = np.zeros(2), np.zeros(2), [np.zeros(2)]
    for _ in range(steps):  # heavy ball written out
        m = 2.0 / len(y) * X1.T @ (X1 @ w - y) + beta * m
        w = w - lr * m
        rows.append(w)
    config = RunConfig(optimizer="momentum", learning_rate=lr, beta=beta, tol=0.0, max_steps=steps)
    traj = playback.begin(config, problem)
    for n in (1, 5, 300, 17, 1000):
        traj = playback.extend(config, problem, traj, n)
    assert traj.step[-1] == steps
    np.testing.assert_allclose(traj.params, np.array(rows)[traj.step], rtol=1e-9, atol=1e-12)


def test_a_long_playground_run_stays_within_its_byte_budget(line):
    _, _, problem = line
    config = RunConfig(learning_rate=1e-5, tol=0.0, max_steps=200_000)
    traj = playback.run_to_end(config, problem, playback.begin(config, problem))
    assert traj.step[-1] == 200_000 and traj.status is engine.Status.MAX_STEPS
    assert traj.nbytes <= playback.TRAJECTORY_BYTES
    dense = playback.dense_steps(config, problem)
    np.testing.assert_array_equal(traj.step[: dense + 1], np.arange(dense + 1))  # every early step is there
    # The last State is the closed form w_t = w* + (I - lr H)^t (w_0 - w*) at t = 200,000.
    H = problem.hessian()
    w_star = np.linalg.solve(H, 2.0 * problem.moment)
    expected = w_star + np.linalg.matrix_power(np.eye(2) - 1e-5 * H, 200_000) @ (np.zeros(2) - w_star)
    np.testing.assert_allclose(traj.last_state.params, expected, rtol=1e-8)


# ---------------------------------------------------------------------------------------------
# From a step to a stored row
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sparse(line):
    _, _, problem = line
    return thinning.collect(engine.run(problem, optimizers.gd(1e-4), tol=0.0, max_steps=1001), 10)


def test_row_of_and_snap_move_to_stored_steps(sparse):
    # dense 10: 0..10, then 12, 14, .., 20 (stride 2), 24, .., 40 (4), 48, .., 80 (8), ..., 768, 896 (128), 1001 (last)
    assert list(sparse.step[:17]) == [*range(11), 12, 14, 16, 18, 20, 24]
    assert list(sparse.step[-3:]) == [768, 896, 1001]
    assert thinning.snap(sparse, 13) == 12  # a tie goes to the earlier step
    assert thinning.snap(sparse, 13, direction="up") == 14
    assert thinning.snap(sparse, 13, direction="down") == 12
    assert thinning.snap(sparse, 21) == 20 and thinning.snap(sparse, 23) == 24
    assert thinning.snap(sparse, 900) == 896 and thinning.snap(sparse, 960) == 1001
    assert thinning.snap(sparse, 5000, direction="up") == 1001
    assert thinning.snap(sparse, 7) == 7 and thinning.row_of(sparse, 7) == 7


def test_head_shows_the_snapped_step(sparse):
    head = playback.head(sparse, 45)  # 40 and 48 are stored: 48 is nearer
    assert head.step[-1] == 48 == head.last_state.step
    np.testing.assert_array_equal(head.params[-1], sparse.params[thinning.row_of(sparse, 48)])
    assert head.status is engine.Status.RUNNING
    assert playback.stride_at(sparse, 40) == 8 and playback.stride_at(sparse, 3) == 1


def test_simulate_with_a_byte_budget_is_the_full_run_thinned(line):
    _, _, problem = line
    config = RunConfig(learning_rate=1e-4, tol=0.0, max_steps=50_000)
    full = simulate(config, problem)
    budget = 256 * 1024
    small = simulate(config, problem, max_bytes=budget)
    assert small.nbytes <= budget < full.nbytes
    assert_same_state(small.last_state, full.last_state)
    mask = np.isin(full.step, small.step)
    assert mask.sum() == small.n_states
    for a, b in zip(small[:6], full[:6], strict=True):
        np.testing.assert_array_equal(a, b[mask])


def test_gradient_numbers_refuse_a_step_the_run_does_not_store(sparse, line):
    from gdviz import derivation

    _, _, problem = line
    assert derivation.gradient_numbers(problem, sparse, 48).step == 48
    with pytest.raises(InputError, match="Step 45 is not stored in this run.*nearest stored steps are 40 and 48"):
        derivation.gradient_numbers(problem, sparse, 45)
