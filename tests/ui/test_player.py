"""The Playground's scrubber under AppTest: its range is the steps the person has reached, not the look-ahead.

Oracle: the steps clicked in the test itself (Step x10 twice is step 20, whatever the engine computed ahead).
"""

from __future__ import annotations

import numpy as np

from gdviz.ui import player
from tests.pages.test_playground import click, new_app


def scrubber(at):
    return at.slider(key=player.scrub_key("playground", at.session_state["playground_cursor"]))


def test_the_scrubber_ends_at_the_furthest_step_reached():
    at = new_app()
    assert scrubber(at).disabled  # step 0: nothing reached yet
    click(at, "playground_step10")
    click(at, "playground_step10")
    computed = int(at.session_state["playground_traj"].step[-1])
    assert computed > 20  # the engine computed ahead of the step shown (playback.LOOKAHEAD_MIN)
    assert (scrubber(at).min, scrubber(at).max, scrubber(at).value) == (0, 20, 20)
    click(at, "playground_back")
    assert (scrubber(at).max, scrubber(at).value) == (20, 19)  # going back keeps what was reached
    click(at, "playground_reset")
    assert (scrubber(at).max, scrubber(at).value) == (20, 0)
    at = scrubber(at).set_value(20).run()
    assert at.session_state["playground_cursor"] == 20
    assert "furthest" in scrubber(at).help


def test_a_new_run_starts_the_scrubber_again():
    at = new_app()
    click(at, "playground_step10")
    at.number_input(key="playground_max_steps").set_value(500).run()  # a new config is a new run at step 0
    assert at.session_state["playground_cursor"] == 0
    assert scrubber(at).disabled


def test_a_run_that_only_stalled_is_not_called_converged():
    # Rate 1e-9 on the default line: the first update is about 1e-8 long, below tol = 1e-6, so the stop rule
    # fires at step 1 with the loss where it started. Oracle: the loss at w = 0 and the floor, from lstsq here.
    from gdviz import data
    from tests.pages.test_playground import metrics

    at = new_app()
    at = at.number_input(key="playground_learning_rate").set_value(1e-9).run()
    click(at, "playground_end")
    ds = data.synthetic_line()
    X1 = np.column_stack([np.ones(len(ds.y)), ds.X[:, 0]])
    w_star = np.linalg.lstsq(X1, ds.y, rcond=None)[0]
    floor, start = np.mean((X1 @ w_star - ds.y) ** 2), np.mean(ds.y**2)
    m = metrics(at)
    assert m["Step"] == "1"
    assert float(m["Loss"]) - floor > 0.99 * (start - floor)  # nowhere near the minimum
    assert m["Status"] == "stalled"
    assert any("not at the minimum" in i.value for i in at.info)
    # A run that really converged still says so.
    at = at.number_input(key="playground_learning_rate").set_value(0.05).run()
    click(at, "playground_end")
    assert metrics(at)["Status"] == "converged"
