"""The player's Python side under AppTest: what the browser gets (one element, the whole run, the step to
open at) and what the server keeps (the step the browser synced). The stepping itself is in the browser:
tests/e2e/test_playground.py.

Oracles: the steps written in the test itself, and a stop rule worked out by hand for the stalled run.
"""

from __future__ import annotations

import json

import numpy as np

from gdviz import data
from tests import player_view
from tests.pages.test_playground import click, metrics, new_app, ok


def test_a_synced_step_is_where_the_page_reopens_and_the_run_is_not_resent_anew():
    at = new_app()
    first = player_view.data(at)
    ok(player_view.sync(at, 20))
    again = player_view.data(at)
    assert again["step"] == 20 and at.session_state["playground_cursor"] == 20
    assert again["run"] == first["run"] and again["payload"] == first["payload"]  # same run, same payload
    assert again["seek"] == first["seek"]  # a sync is the browser's own move: it is not sent back to it


def test_a_new_run_opens_at_step_0():
    at = new_app()
    ok(player_view.sync(at, 10))
    ok(at.number_input(key="playground_max_steps").set_value(500).run())  # a new config is a new run
    assert at.session_state["playground_cursor"] == 0
    assert player_view.data(at)["step"] == 0


def test_a_synced_step_past_the_run_snaps_to_its_last_stored_step():
    at = new_app()
    ok(player_view.sync(at, 10**6))
    last = player_view.payload(at)["columns"]["step"][-1]
    assert at.session_state["playground_cursor"] == last == player_view.data(at)["step"]


def test_the_payload_is_json_without_nan_and_one_element_holds_every_chart():
    at = new_app()
    text = player_view.data(at)["payload"]
    json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))  # no NaN/Infinity
    players = [e for e in at.get("bidi_component") if e.proto.component_name == "gdviz_player"]
    assert len(players) == 1
    assert [c["key"] for c in player_view.payload(at)["charts"]] == [
        "surface", "contour", "line", "loss", "grads", "bars", "eigen"
    ]  # fmt: skip


def test_a_run_that_only_stalled_is_not_called_converged():
    # Rate 1e-9 on the default line: the first update is about 1e-8 long, below tol = 1e-6, so the stop rule
    # fires at step 1 with the loss where it started. Oracle: the loss at w = 0 and the floor, from lstsq here.
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
