"""Lazy playback grows a run on demand: whatever the sizes of the steps taken, it is the run simulate computes.

Oracles: ``runs.simulate`` for the same config (one pass, no resuming), copies of the rows taken
before growing, step counts and fractions written out by hand, and for ``window`` the geometry itself
(containment, powers of 2, the midpoint of the anchors).
"""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gdviz import engine, optimizers, playback, runs
from gdviz.config import RunConfig
from gdviz.engine import Status
from gdviz.runs import one_feature_problem, simulate

FIELDS = ("step", "params", "grads", "loss", "update_norm", "learning_rate")
SCHEDULES = ("constant", "inverse_time")  # a constant rate and a decaying one


def _config(optimizer: str = "gd", schedule: str = "constant", **changes) -> RunConfig:
    base = {
        "optimizer": optimizer,
        "schedule": schedule,
        "learning_rate": 0.05,
        "init_intercept": 1.0,
        "init_slope": -2.0,
        "tol": 1e-9,
        "max_steps": 1_500,
    }
    return RunConfig(**{**base, **changes})


@functools.cache
def _reference(config: RunConfig) -> tuple[engine.Problem, engine.Trajectory]:
    problem = one_feature_problem(config)
    return problem, simulate(config, problem)


def _assert_same_rows(traj: engine.Trajectory, ref: engine.Trajectory, n: int | None = None) -> None:
    """``traj`` equals the first ``n`` rows of ``ref`` (all of it when n is None), bit for bit."""
    n = ref.n_states if n is None else n
    assert traj.n_states == n
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(traj, name), getattr(ref, name)[:n], err_msg=name, strict=True)


def _copy_rows(traj: engine.Trajectory) -> dict[str, np.ndarray]:
    return {name: getattr(traj, name).copy() for name in FIELDS}


def _assert_rows_kept(old_copy: dict[str, np.ndarray], old: engine.Trajectory, new: engine.Trajectory) -> None:
    n = len(old_copy["step"])
    assert new.n_states >= n
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(old, name), old_copy[name], err_msg=f"{name} mutated in place")
        np.testing.assert_array_equal(getattr(new, name)[:n], old_copy[name], err_msg=f"{name} row changed")


# ----------------------------------------------------------------------------------------------
# begin / extend / advance / run_to_end against simulate
# ----------------------------------------------------------------------------------------------


def test_begin_holds_only_the_start_state():
    config = _config()
    problem, _ = _reference(config)
    traj = playback.begin(config, problem)
    assert traj.n_states == 1
    np.testing.assert_array_equal(traj.step, [0])
    np.testing.assert_array_equal(traj.params[0], [1.0, -2.0])  # the config's start point
    assert traj.status is Status.RUNNING
    assert not playback.finished(traj)
    assert traj.last_state.step == 0


moves = st.lists(
    st.tuples(st.sampled_from(["advance", "extend"]), st.integers(min_value=-3, max_value=700)),
    min_size=1,
    max_size=25,
)


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("optimizer", sorted(optimizers.OPTIMIZERS))
@settings(max_examples=8, deadline=None)
@given(moves=moves)
def test_grown_run_equals_simulate_bit_for_bit(optimizer, schedule, moves):
    config = _config(optimizer, schedule)
    problem, ref = _reference(config)
    traj = playback.begin(config, problem)
    for kind, size in moves:
        old, old_copy = traj, _copy_rows(traj)
        last = int(traj.step[-1])
        if kind == "extend":
            traj = playback.extend(config, problem, traj, size)
            assert traj.n_states == min(old.n_states + max(size, 0), ref.n_states)
        else:
            target = last + size
            traj = playback.advance(config, problem, traj, target)
            if target <= last:
                assert traj is old
            else:
                new_last = int(traj.step[-1])
                assert new_last >= target or playback.finished(traj)
                assert new_last - target <= playback.LOOKAHEAD_MAX
        _assert_rows_kept(old_copy, old, traj)
        _assert_same_rows(traj, ref, traj.n_states)
        expected_status = ref.status if traj.n_states == ref.n_states else Status.RUNNING
        assert traj.status is expected_status
        assert traj.last_state.step == traj.step[-1]
    traj = playback.run_to_end(config, problem, traj)
    _assert_same_rows(traj, ref)
    assert traj.status is ref.status
    assert traj.last_state.step == ref.last_state.step
    np.testing.assert_array_equal(traj.last_state.params, ref.last_state.params)


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "adam"])
@pytest.mark.parametrize("batch_size", [1, 3, 7])  # 20 points: 7 leaves a last batch of 6 in every epoch
@settings(max_examples=6, deadline=None)
@given(sizes=st.lists(st.integers(1, 45), min_size=1, max_size=12))
def test_a_mini_batch_run_grown_in_pieces_equals_the_one_shot_run_bit_for_bit(optimizer, batch_size, sizes):
    # Each epoch's shuffle is a function of (seed, epoch) (PCG64(seed).jumped(epoch)), so resuming from the last
    # State alone, mid-epoch or at an epoch's edge, gives the rows the one-shot run used.
    config = _config(optimizer, learning_rate=0.01, batch_size=batch_size, seed=11, tol=0.0, max_steps=400)
    problem, ref = _reference(config)
    oracle = engine.collect(  # the engine directly, with the settings written out here
        engine.run(problem, config.make_optimizer(), init_params=np.array([1.0, -2.0]), tol=0.0, max_steps=400,
                   batch_size=batch_size, seed=11)
    )  # fmt: skip
    _assert_same_rows(ref, oracle)
    traj = playback.begin(config, problem)
    for size in sizes:
        traj = playback.extend(config, problem, traj, size)
    _assert_same_rows(traj, ref, traj.n_states)
    _assert_same_rows(playback.run_to_end(config, problem, traj), ref)
    full = _reference(config.replace(batch_size=0))[1]
    assert not np.array_equal(ref.params[2], full.params[2])  # the batches are not the full-batch run


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "nesterov"])
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_divergent_run_stops_at_the_diverged_state_like_simulate(optimizer, schedule):
    # lr * lambda_max is about 11 on the default line: the error grows about 10x per step.
    config = _config(optimizer, schedule, learning_rate=1.0, decay_rate=0.001, max_steps=10_000)
    problem, ref = _reference(config)
    assert ref.status is Status.DIVERGED
    traj = playback.begin(config, problem)
    step = 0
    while not playback.finished(traj):
        step += 37
        traj = playback.advance(config, problem, traj, step)
    _assert_same_rows(traj, ref)
    assert traj.status is Status.DIVERGED
    bad = ~(np.isfinite(traj.loss) & np.isfinite(traj.params).all(axis=1))
    # Only the last row is non-finite: the run stopped at the first non-finite state and kept the rest.
    np.testing.assert_array_equal(np.flatnonzero(bad), [traj.n_states - 1])
    assert playback.extend(config, problem, traj, 100) is traj
    assert playback.advance(config, problem, traj, 10**6) is traj


def _finished_runs():
    return {
        "converged": _config(tol=1e-6, max_steps=100_000, learning_rate=0.15),
        "diverged": _config(learning_rate=0.5),
        "max_steps": _config(max_steps=40, tol=0.0),
    }


@pytest.mark.parametrize("kind", ["converged", "diverged", "max_steps"])
def test_extend_and_advance_leave_a_finished_run_unchanged(kind):
    config = _finished_runs()[kind]
    problem, ref = _reference(config)
    assert ref.status == kind
    traj = playback.run_to_end(config, problem, playback.begin(config, problem))
    _assert_same_rows(traj, ref)
    assert playback.finished(traj)
    copy = _copy_rows(traj)
    for n in (1, 5, 10_000):
        assert playback.extend(config, problem, traj, n) is traj
        assert playback.advance(config, problem, traj, int(traj.step[-1]) + n) is traj
    seen = []
    assert playback.run_to_end(config, problem, traj, progress=seen.append) is traj
    assert seen == []
    _assert_rows_kept(copy, traj, traj)


def test_max_steps_run_has_exactly_max_steps_updates():
    config = _config(max_steps=40, tol=0.0)
    problem, _ = _reference(config)
    traj = playback.extend(config, problem, playback.begin(config, problem), 1_000)
    np.testing.assert_array_equal(traj.step, np.arange(41))
    assert traj.status is Status.MAX_STEPS


def test_extend_with_nothing_to_add_returns_the_same_run():
    config = _config()
    problem, _ = _reference(config)
    traj = playback.begin(config, problem)
    assert playback.extend(config, problem, traj, 0) is traj
    assert playback.extend(config, problem, traj, -5) is traj


def test_advance_resumes_from_the_last_state_and_computes_only_new_steps(monkeypatch):
    config = _config(tol=0.0, max_steps=20_000)
    problem, _ = _reference(config)
    traj = playback.begin(config, problem)
    real_run = engine.run
    calls = []

    def spy(*args, **kwargs):
        call = {"start": kwargs.get("start"), "steps": []}
        calls.append(call)

        def states():
            for s in real_run(*args, **kwargs):
                call["steps"].append(s.step)
                yield s

        return states()

    monkeypatch.setattr(engine, "run", spy)
    for target in (1, 2, 300, 301, 5_000, 5_001, 19_990):
        old, copy = traj, _copy_rows(traj)
        n_calls = len(calls)
        traj = playback.advance(config, problem, traj, target)
        _assert_rows_kept(copy, old, traj)
        if target <= int(old.step[-1]):
            assert len(calls) == n_calls and traj is old
            continue
        (call,) = calls[n_calls:]
        assert call["start"] is old.last_state
        # Every State pulled from the engine is a new one, and all of them were kept.
        np.testing.assert_array_equal(call["steps"], traj.step[old.n_states :])
        assert call["steps"][0] == old.step[-1] + 1


def test_lookahead_is_bounded_far_into_a_long_run():
    config = _config(tol=0.0, max_steps=20_000)
    problem, _ = _reference(config)
    traj = playback.begin(config, problem)
    for target in (1, 10_000, 10_001 + playback.LOOKAHEAD_MAX):
        before = int(traj.step[-1])
        traj = playback.advance(config, problem, traj, target)
        last = int(traj.step[-1])
        assert target <= last <= target + playback.LOOKAHEAD_MAX, (before, target, last)
        assert last - target >= playback.LOOKAHEAD_MIN  # stepping one at a time rarely resumes the engine


def test_run_to_end_reports_increasing_fractions_that_end_at_the_stop(monkeypatch):
    monkeypatch.setattr(playback, "BLOCK", 400)
    config = _config(tol=0.0, max_steps=1_000)
    problem, ref = _reference(config)
    seen = []
    traj = playback.run_to_end(config, problem, playback.begin(config, problem), progress=seen.append)
    _assert_same_rows(traj, ref)
    # Blocks of 400 steps out of 1_000.
    np.testing.assert_allclose(seen, [0.4, 0.8, 1.0], rtol=0, atol=1e-15)


def test_run_to_end_on_a_run_that_converges_early(monkeypatch):
    monkeypatch.setattr(playback, "BLOCK", 97)
    config = _finished_runs()["converged"]
    problem, ref = _reference(config)
    assert 300 < ref.n_states < 5_000
    seen = []
    traj = playback.advance(config, problem, playback.begin(config, problem), 50)
    traj = playback.run_to_end(config, problem, traj, progress=seen.append)
    _assert_same_rows(traj, ref)
    assert traj.status is Status.CONVERGED
    assert len(seen) >= 2
    assert np.all(np.diff(seen) > 0)
    assert seen[0] > 0 and seen[-1] == pytest.approx((ref.n_states - 1) / config.max_steps, abs=1e-15)
    assert seen[-1] < 1


# ----------------------------------------------------------------------------------------------
# clamp_step / head
# ----------------------------------------------------------------------------------------------


def test_clamp_step():
    config = _config(max_steps=40, tol=0.0)
    problem, _ = _reference(config)
    traj = playback.extend(config, problem, playback.begin(config, problem), 10)  # steps 0..10
    assert [playback.clamp_step(traj, s) for s in (-100, -1, 0, 3, 10, 11, 10**9)] == [0, 0, 0, 3, 10, 10, 10]
    assert isinstance(playback.clamp_step(traj, np.int64(5)), int)


@pytest.mark.parametrize("kind", ["running", "converged", "diverged", "max_steps"])
def test_head_is_the_run_as_it_was_at_a_step(kind):
    if kind == "running":
        config = _config(tol=0.0, max_steps=1_000)
        problem, ref = _reference(config)
        traj = playback.extend(config, problem, playback.begin(config, problem), 60)
    else:
        config = _finished_runs()[kind]
        problem, ref = _reference(config)
        traj = playback.run_to_end(config, problem, playback.begin(config, problem))
    last = int(traj.step[-1])
    final_status = Status.RUNNING if kind == "running" else Status(kind)
    assert traj.status is final_status
    for k in sorted({0, 1, 2, last // 3, last - 1, last}):
        h = playback.head(traj, k)
        assert h.n_states == k + 1
        _assert_same_rows(h, ref, k + 1)
        assert h.last_state.step == k
        np.testing.assert_array_equal(h.last_state.params, ref.params[k])
        np.testing.assert_array_equal(h.last_state.grads, ref.grads[k])
        assert h.last_state.loss == ref.loss[k] or np.isnan(ref.loss[k])
        expected = final_status if k == last else Status.RUNNING
        assert h.status is expected and h.last_state.status is expected
        assert np.shares_memory(h.params, traj.params)  # a view: scrubbing copies nothing
    # Out of range: clamped to the computed range.
    np.testing.assert_array_equal(playback.head(traj, -7).step, [0])
    assert playback.head(traj, -7).status is Status.RUNNING
    far = playback.head(traj, last + 10_000)
    assert far.n_states == last + 1 and far.status is final_status


# ----------------------------------------------------------------------------------------------
# window
# ----------------------------------------------------------------------------------------------


def _inside(win, pts: np.ndarray) -> bool:
    (x0, x1), (y0, y1) = win
    return bool(np.all((x0 <= pts[:, 0]) & (pts[:, 0] <= x1) & (y0 <= pts[:, 1]) & (pts[:, 1] <= y1)))


def _half_widths(win) -> np.ndarray:
    (x0, x1), (y0, y1) = win
    return 0.5 * np.array([x1 - x0, y1 - y0])


def _centre(win) -> np.ndarray:
    (x0, x1), (y0, y1) = win
    return 0.5 * np.array([x0 + x1, y0 + y1])


coord = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
point = st.tuples(coord, coord)
wild = st.one_of(
    coord,
    st.floats(min_value=-1e300, max_value=1e300, allow_nan=False),
    st.sampled_from([np.inf, -np.inf, np.nan]),
)


@settings(max_examples=120, deadline=None)
@given(anchors=st.lists(point, min_size=1, max_size=3), path=st.lists(st.tuples(wild, wild), max_size=30))
def test_window_holds_every_finite_point_and_the_anchors(anchors, path):
    a = np.array(anchors, dtype=float)
    p = np.array(path, dtype=float).reshape(-1, 2)
    win = playback.window(p, a)
    assert np.all(np.isfinite(np.array(win)))
    (x0, x1), (y0, y1) = win
    assert x0 < x1 and y0 < y1
    finite = p[np.isfinite(p).all(axis=1)]
    assert _inside(win, a)
    assert _inside(win, finite)
    # Centred between the anchors (the start and the optimum).
    mid = 0.5 * (a.min(axis=0) + a.max(axis=0))
    np.testing.assert_allclose(_centre(win), mid, rtol=1e-12, atol=1e-12 * float(np.max(_half_widths(win))))


def test_window_ignores_non_finite_points():
    anchors = np.array([[0.0, 0.0], [1.0, 2.0]])
    path = np.array([[0.2, 0.5], [0.9, 1.9]])
    hostile = np.vstack([path, [[np.inf, 0.0], [np.nan, np.nan], [0.0, -np.inf]]])
    assert playback.window(hostile, anchors) == playback.window(path, anchors)


@pytest.mark.parametrize("exponent", [0, 3, 10, 50, 100, 200, 300, 305, 307])
def test_window_never_clips_a_diverging_path(exponent):
    anchors = np.array([[0.0, 0.0], [4.0, 3.0]])
    big = 10.0**exponent
    path = np.array([[0.0, 0.0], [big, -big], [-big, big], [-big * 0.5, -big], [np.inf, np.nan]])
    win = playback.window(path, anchors)
    assert np.all(np.isfinite(np.array(win)))
    assert _inside(win, path[:-1])
    assert _inside(win, anchors)


def test_window_half_widths_only_double():
    """Half-widths are base * 2**k: any two windows over the same anchors differ by a power of 2."""
    rng = np.random.default_rng(3)
    anchors = np.array([[0.0, 0.0], [3.0, -1.0]])
    rest = _half_widths(playback.window(np.empty((0, 2)), anchors))
    for scale in 10.0 ** rng.uniform(-2, 8, 60):
        path = rng.normal(size=(5, 2)) * scale
        half = _half_widths(playback.window(path, anchors))
        k = np.log2(half / rest)
        np.testing.assert_allclose(k, np.round(k), atol=1e-9)
        assert np.all(np.round(k) >= 0)
        # And not wastefully large: halving it would leave some point (or anchor) too close to the edge.
        need = np.max(np.abs(np.vstack([path, anchors]) - _centre(playback.window(path, anchors))), axis=0)
        grown = np.round(k) > 0
        assert np.all(half[grown] / 2 < need[grown] * 1.2 * (1 + 1e-12))


def test_window_stays_identical_while_a_growing_path_stays_inside():
    """A path spiralling out of the start: the window is the same object value until a point leaves it."""
    pad = 0.2
    start, opt = np.array([2.0, -1.0]), np.array([0.0, 0.0])
    anchors = np.vstack([start, opt])
    t = np.arange(400)
    radius = 1.015**t
    path = np.column_stack([radius * np.cos(0.7 * t), radius * np.sin(0.7 * t)]) + opt
    prev = playback.window(path[:1], anchors, pad=pad)
    changes = 0
    for n in range(2, len(path) + 1):
        win = playback.window(path[:n], anchors, pad=pad)
        new_point = path[n - 1 : n]
        centre, half = _centre(prev), _half_widths(prev)
        # Inside the current window, with the pad's margin to spare: nothing may move.
        if np.all(np.abs(new_point - centre) * (1 + pad) <= half):
            assert win == prev, n
        else:
            assert win != prev
            assert np.all(_half_widths(win) >= _half_widths(prev))
            changes += 1
        if not _inside(prev, new_point):
            assert win != prev and _inside(win, new_point)
        assert _inside(win, path[:n])
        prev = win
    # The spiral grows ~ 1.015**400 ~ 390x: the window doubled several times, but far fewer than 400.
    assert 5 <= changes <= 20


# ---------------------------------------------------------------------------------------------
# Play by wall time
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rate", [1.0, 4.0, 20.0, 100.0, 1000.0])
def test_play_covers_its_label_when_ticks_arrive_late(rate):
    # Ticks asked for every 0.25 s arrive every 0.55 to 0.85 s (a rerun plus a redraw in the browser). Over
    # about 10 s of play the steps taken are the label's rate times the time, not one step per tick.
    rng = np.random.default_rng(0)
    gaps = rng.uniform(0.55, 0.85, size=14)
    carry, taken = 0.0, 0
    for gap in gaps:
        steps, carry = playback.play_steps(rate, gap, carry)
        assert steps >= 0 and 0.0 <= carry < 1.0
        taken += steps
    assert taken == int(np.floor(rate * gaps.sum() + 1e-9))  # exactly what the wall time owes, to the step
    assert len(gaps) < rate * gaps.sum() or rate == 1.0  # one step per tick would fall short of the label


def test_play_steps_on_time_ticks_and_catch_up_limit():
    assert playback.play_steps(4.0, 0.25) == (1, 0.0)  # an on-time tick of 4 steps/s: one step, no remainder
    assert playback.play_steps(100.0, 0.25) == (25, 0.0)
    steps, carry = playback.play_steps(1.0, 0.7)
    assert steps == 0 and carry == pytest.approx(0.7)
    steps, carry = playback.play_steps(1.0, 0.7, carry)
    assert steps == 1 and carry == pytest.approx(0.4)
    # A stalled tab (60 s between ticks) resumes with at most PLAY_CATCH_UP seconds' worth, never a leap.
    assert playback.play_steps(4.0, 60.0)[0] == int(4.0 * playback.PLAY_CATCH_UP)
    assert playback.play_steps(4.0, -1.0) == (0, 0.0)  # a clock that went backwards owes nothing


# ---------------------------------------------------------------------------------------------
# The browser's copy of a run
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("max_rows", [20, 100, 1_000])  # at least log2(last step) + 2 rows fit any run
def test_player_rows_are_rows_of_the_run_within_the_bound(max_rows):
    config = RunConfig(learning_rate=1e-4, tol=0.0, max_steps=5_000)
    problem = runs.one_feature_problem(config)
    traj = runs.simulate(config, problem)
    rows = playback.player_rows(traj, max_rows)
    assert rows.n_states <= max_rows
    assert rows.step[0] == 0 and rows.step[-1] == 5_000  # the start and the last State always
    k = np.searchsorted(traj.step, rows.step)
    np.testing.assert_array_equal(traj.params[k], rows.params)  # bit for bit: rows, not interpolations
    gaps = np.diff(rows.step)
    assert gaps[0] == 1 and np.all(np.diff(gaps[:-1]) >= 0)  # dense first, then strides that grow


def test_a_short_run_is_kept_whole():
    config = RunConfig(max_steps=30)
    traj = runs.simulate(config, runs.one_feature_problem(config))
    assert playback.player_rows(traj) is traj


def test_json_column_writes_exact_floats_and_null_for_non_finite():
    values = np.array([0.1, 1 / 3, np.nan, np.inf, -np.inf, 1e308, -0.0])
    text = playback.json_column(values)
    back = json.loads(text)
    assert back[2:5] == [None, None, None]
    assert [back[0], back[1], back[5]] == [0.1, 1 / 3, 1e308]  # repr: the same float64 back
    assert playback.json_column(np.array([3, 10], dtype=np.int64)) == "[3,10]"
    assert json.loads(playback.json_column(values, digits=3))[1] == 0.333


# ---------------------------------------------------------------------------------------------
# aligned_rows: one step axis for several runs
# ---------------------------------------------------------------------------------------------


def _naive_row(steps: list[int], s: int) -> int:
    """The last index whose step is <= s (0 if none), by a plain loop."""
    best = 0
    for i, t in enumerate(steps):
        if t <= s:
            best = i
    return best


@pytest.mark.parametrize("max_rows", [10_000, 300, 40])
def test_aligned_rows_pick_each_runs_last_stored_step_at_or_before(max_rows):
    problem = one_feature_problem(_config())
    short = simulate(_config(learning_rate=0.3))  # converges fast
    long = simulate(_config(learning_rate=0.01, max_steps=900))
    thinned = playback.player_rows(simulate(_config(learning_rate=0.02, max_steps=2_000)), max_rows=200)
    trajs = [short, long, thinned]
    steps, rows = playback.aligned_rows(trajs, max_rows=max_rows)
    assert problem.n_params == 2
    assert steps.size <= max_rows
    assert list(steps) == sorted(set(steps.tolist()))
    assert steps[0] == 0 and steps[-1] == max(int(t.step[-1]) for t in trajs)
    all_steps = sorted(set().union(*(t.step.tolist() for t in trajs)))
    if max_rows >= len(all_steps):
        assert steps.tolist() == all_steps
    for t, r in zip(trajs, rows, strict=True):
        assert r.shape == steps.shape
        expected = [_naive_row(t.step.tolist(), int(s)) for s in steps]
        assert r.tolist() == expected
        assert r[-1] == t.n_states - 1 or t.step[r[-1]] == steps[-1]


def test_aligned_rows_needs_a_run():
    with pytest.raises(playback.InputError, match="at least one run"):
        playback.aligned_rows([])
