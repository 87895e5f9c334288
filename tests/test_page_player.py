"""The Playground's scrubber under AppTest: its range is the steps the person has reached, not the look-ahead.

Oracle: the steps clicked in the test itself (Step x10 twice is step 20, whatever the engine computed ahead).
"""

from __future__ import annotations

from gdviz.ui import player
from tests.test_pages import click, new_app


def scrubber(at):
    return at.slider(key=player.scrub_key("pg", at.session_state["pg_cursor"]))


def test_the_scrubber_ends_at_the_furthest_step_reached():
    at = new_app()
    assert scrubber(at).disabled  # step 0: nothing reached yet
    click(at, "pg_step10")
    click(at, "pg_step10")
    computed = int(at.session_state["pg_traj"].step[-1])
    assert computed > 20  # the engine computed ahead of the step shown (playback.LOOKAHEAD_MIN)
    assert (scrubber(at).min, scrubber(at).max, scrubber(at).value) == (0, 20, 20)
    click(at, "pg_back")
    assert (scrubber(at).max, scrubber(at).value) == (20, 19)  # going back keeps what was reached
    click(at, "pg_reset")
    assert (scrubber(at).max, scrubber(at).value) == (20, 0)
    at = scrubber(at).set_value(20).run()
    assert at.session_state["pg_cursor"] == 20
    assert "furthest" in scrubber(at).help


def test_a_new_run_starts_the_scrubber_again():
    at = new_app()
    click(at, "pg_step10")
    at.number_input(key="pg_max_steps").set_value(500).run()  # a new config is a new run at step 0
    assert at.session_state["pg_cursor"] == 0
    assert scrubber(at).disabled
