"""The Playground's player: the run computed so far and the current step, kept in session state.

Session keys (plain data only): ``{prefix}_traj`` the Trajectory computed so far, ``{prefix}_traj_config``
the RunConfig it belongs to, ``{prefix}_cursor`` the current step, ``{prefix}_reached`` the furthest step
shown so far (the scrubber's end: steps computed ahead are not offered until reached), ``{prefix}_playing``,
and Play's clock ``{prefix}_play_clock`` / ``{prefix}_play_carry`` (see ``playback.play_steps``). A new config
starts a new run at step 0; every other move only reads rows already computed or resumes the engine from
the last one (``gdviz.playback``). A long run is stored thinned (``playback.TRAJECTORY_BYTES``): the
cursor is always a stored step, and moves snap to one (forward moves to the next, Back to the previous).
"""

from __future__ import annotations

import time

import streamlit as st

from gdviz import playback
from gdviz.config import RunConfig
from gdviz.engine import Trajectory
from gdviz.ui import cache, state, widgets

# Play speeds: label -> (seconds between ticks, steps per second). A tick advances by the wall time that
# passed since the previous one (playback.play_steps), so the label holds even when ticks arrive late.
SPEEDS: dict[str, tuple[float, float]] = {
    "1 step/s": (1.0, 1.0),
    "4 steps/s": (0.25, 4.0),
    "20 steps/s": (0.25, 20.0),
    "100 steps/s": (0.25, 100.0),
    "1,000 steps/s": (0.25, 1000.0),
}
# Play's clock (seconds); a module attribute so that tests can drive Play with a clock of their own.
clock = time.monotonic
DEFAULT_SPEED = "4 steps/s"
# Run to end shows a progress bar when this many steps or more are still to compute.
PROGRESS_FROM = 20_000


def _k(prefix: str, name: str) -> str:
    return f"{prefix}_{name}"


def cursor_key(prefix: str) -> str:
    """The session key of the current step."""
    return _k(prefix, "cursor")


def playing_key(prefix: str) -> str:
    """The session key that is true while Play is on."""
    return _k(prefix, "playing")


def current(prefix: str) -> tuple[RunConfig, Trajectory, int]:
    """(config, run computed so far, current step); a changed config restarts the run at step 0."""
    config = state.get_config()
    if st.session_state.get(_k(prefix, "traj_config")) != config or _k(prefix, "traj") not in st.session_state:
        st.session_state[_k(prefix, "traj")] = playback.begin(config, cache.problem_for(config))
        st.session_state[_k(prefix, "traj_config")] = config
        st.session_state[_k(prefix, "cursor")] = 0
        st.session_state[_k(prefix, "reached")] = 0
        st.session_state[_k(prefix, "playing")] = False
    traj = st.session_state[_k(prefix, "traj")]
    cursor = playback.clamp_step(traj, st.session_state.get(_k(prefix, "cursor"), 0))
    return config, traj, cursor


def go_to(prefix: str, step: int, direction: str = "nearest") -> int:
    """Move to ``step``, computing forward as needed (clamped to the run's end) and snapped to a stored step
    in ``direction`` ("nearest", "up" or "down", see ``playback.clamp_step``); returns the new step."""
    config, traj, _ = current(prefix)
    traj = playback.advance(config, cache.problem_for(config), traj, step)
    st.session_state[_k(prefix, "traj")] = traj
    step = playback.clamp_step(traj, step, direction=direction)
    st.session_state[_k(prefix, "cursor")] = step
    st.session_state[_k(prefix, "reached")] = max(st.session_state.get(_k(prefix, "reached"), 0), step)
    return step


def step_by(prefix: str, n: int) -> None:
    _, _, cursor = current(prefix)
    go_to(prefix, cursor + n, "up" if n > 0 else "down")


def reset(prefix: str) -> None:
    st.session_state[_k(prefix, "playing")] = False
    go_to(prefix, 0)


def run_to_end(prefix: str, progress=None) -> None:
    """Compute the whole run and move to its last step; ``progress`` is an st.progress-like element."""
    config, traj, _ = current(prefix)
    remaining = config.max_steps - int(traj.step[-1])
    bar = progress if progress is not None and remaining >= PROGRESS_FROM and not playback.finished(traj) else None

    def report(fraction: float) -> None:
        if bar is not None:
            bar.progress(fraction, text=f"Computing the run: {fraction:.0%} of max steps")

    traj = playback.run_to_end(config, cache.problem_for(config), traj, progress=report)
    st.session_state[_k(prefix, "traj")] = traj
    go_to(prefix, int(traj.step[-1]))
    st.session_state[_k(prefix, "playing")] = False


def request_run_to_end(prefix: str) -> None:
    """Button callback: the page runs the run to its end in its body, where it can show a progress bar."""
    st.session_state[_k(prefix, "run_end")] = True


def scrub_key(prefix: str, cursor: int) -> str:
    """The scrubber's key at ``cursor``. A new key per step: the slider is created at the current step
    instead of being moved by the server, so a rerun request that still carries the slider position of
    an earlier step (rapid clicks, Play ticks) cannot drag the run back to it."""
    return _k(prefix, f"scrub_{cursor}")


def on_scrub(prefix: str, key: str) -> None:
    go_to(prefix, int(st.session_state[key]))


def on_goto(prefix: str) -> None:
    value = st.session_state.get(_k(prefix, "goto"))
    if value is not None:
        go_to(prefix, int(value))
    st.session_state[_k(prefix, "goto")] = None  # empty again, so the same number can be typed again


def play(prefix: str) -> None:
    st.session_state[_k(prefix, "playing")] = True
    st.session_state[_k(prefix, "play_clock")] = clock()
    st.session_state[_k(prefix, "play_carry")] = 0.0


def pause(prefix: str) -> None:
    # Explicit set, not a toggle: a click that reaches a callback twice (fragment and app reruns) still pauses.
    st.session_state[_k(prefix, "playing")] = False


def tick(prefix: str) -> None:
    """One Play tick: advance by the chosen speed times the time since the last tick; stop at the run's end."""
    _, rate = SPEEDS[st.session_state.get(_k(prefix, "speed"), DEFAULT_SPEED)]
    now = clock()
    elapsed = now - st.session_state.get(_k(prefix, "play_clock"), now)
    steps, carry = playback.play_steps(rate, elapsed, st.session_state.get(_k(prefix, "play_carry"), 0.0))
    st.session_state[_k(prefix, "play_clock")] = now
    st.session_state[_k(prefix, "play_carry")] = carry
    _, traj, cursor = current(prefix)
    new = go_to(prefix, cursor + steps, "up") if steps else cursor
    traj = st.session_state[_k(prefix, "traj")]
    if playback.finished(traj) and new == int(traj.step[-1]):
        st.session_state[_k(prefix, "playing")] = False


def _act(prefix: str, fn, *args) -> None:
    """A button press: mark the run as user-driven (no Play tick), pause Play unless it is Play itself."""
    st.session_state[_k(prefix, "acted")] = True
    if fn is not play:
        st.session_state[_k(prefix, "playing")] = False
    fn(*args)


def controls(prefix: str, playing: bool) -> tuple[RunConfig, Trajectory, int]:
    """The stepping controls (call inside the page's fragment); returns (config, run so far, current step).

    Args:
        playing: whether Play was on when the fragment was built (its ``run_every`` depends on it). A run
            that is not a button press while playing is a Play tick. When Play is toggled the whole page
            reruns, so that the fragment is rebuilt with the right tick interval.
    """
    p = prefix
    if not st.session_state.pop(_k(p, "acted"), False) and st.session_state.get(_k(p, "playing")):
        tick(p)
    if st.session_state.get(_k(p, "playing"), False) != playing:
        st.rerun(scope="app")
    if st.session_state.pop(_k(p, "run_end"), False):
        run_to_end(p, st.progress(0.0))
    config, traj, cursor = current(p)
    last = int(traj.step[-1])
    done = playback.finished(traj)
    at_end = done and cursor == last
    stride = playback.stride_at(traj, cursor)
    with st.container(horizontal=True, key=_k(p, "buttons")):
        buttons = [
            ("Step", "step1", (step_by, p, 1), at_end, "Apply one update." if stride == 1 else
             f"Go to the next stored step, {stride:,} updates on (this far into a long run, one step in "
             f"{stride:,} is stored)."),
            ("Step x10", "step10", (step_by, p, 10), at_end, "Apply ten updates." if stride == 1 else
             "Go to the first stored step at least ten updates on."),
            ("Back", "back", (step_by, p, -1), cursor == 0, "Go back one step (nothing is recomputed)."
             if stride == 1 else "Go back to the previous stored step (nothing is recomputed)."),
            ("Run to end", "end", (request_run_to_end, p), at_end, "Compute until it converges, diverges or stops."),
            ("Reset", "reset", (reset, p), cursor == 0, "Back to step 0 (the run computed so far is kept)."),
            ("Pause", "pause", (pause, p), False, "Stop playing.") if playing else
            ("Play", "play", (play, p), at_end, "Step automatically at the chosen speed."),
        ]  # fmt: skip
        for label, name, args, disabled, help in buttons:
            st.button(label, key=_k(p, name), on_click=_act, args=(p, *args), disabled=disabled, help=help)
        st.selectbox(
            "Speed", list(SPEEDS), key=_k(p, "speed"), label_visibility="collapsed", help="How fast Play steps.",
            width=150,
        )  # fmt: skip
        st.number_input(
            "Go to step", min_value=0, max_value=config.max_steps, step=100, value=None, key=_k(p, "goto"),
            on_change=_act, args=(p, on_goto, p), placeholder="Go to step...", label_visibility="collapsed",
            width=170, help="Jump to any step; it is computed if needed.",
        )  # fmt: skip
    # The scrubber offers the steps reached so far: the look-ahead computed beyond them is not shown yet.
    reached = max(st.session_state.get(_k(p, "reached"), 0), cursor)
    if playing:  # no slider while playing: each tick would race the user's hand
        st.progress(cursor / config.max_steps, text=f"Playing: step {cursor:,} (max steps {config.max_steps:,})")
    else:
        key = scrub_key(p, cursor)
        widgets.keep_step(key, opening=cursor)  # a new key per step: the slider is created at the current step
        st.slider(
            "Scrub through the steps reached so far", 0, max(reached, 1), key=key, on_change=_act,
            args=(p, on_scrub, p, key), disabled=reached == 0,
            help=f"Steps 0 to {reached:,}, the furthest you have gone"
            + (" (the run has ended there)." if done and reached == last else "; step on to go further.")
            + widgets.thinned_note(traj, "the scrubber snaps to the nearest stored step, Back to the previous one."),
        )  # fmt: skip
    return config, traj, cursor
