"""The Playground's memory bound under AppTest: a 200,000-step run is stored thinned, the player snaps to stored
steps, and what gdviz keeps in session state stays under a fixed size.

Oracles written here: the closed form ``w_t = w* + (I - lr H)^t (w_0 - w*)`` of constant-rate GD (lstsq for
w*, a matrix power), "no stored step is nearer" for the snapping, and the pickled size of the session keys.
"""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from gdviz.config import RunConfig
from tests import player_view
from tests.pages import test_math as math_page
from tests.pages.test_playground import (
    assert_readout,
    click,
    contour_path,
    design,
    go_to,
    lstsq_line,
    new_app,
    ok,
    set_field,
    step_of,
)

LR, MAX_STEPS = 1e-5, 200_000  # slow: still far from the optimum at 200,000 steps, so nothing stops it early
# What gdviz may keep in one session's state for the Playground: the config, the step and a few flags (the
# run itself is in the process-wide cache, and in the browser).
SESSION_BOUND = 64 * 1024
PAYLOAD_BOUND = 2 * 1024 * 1024  # what the browser gets for the whole run


def closed_form(X1, y, step: int) -> np.ndarray:
    H = 2.0 / len(y) * X1.T @ X1
    w_star = lstsq_line(X1[:, 1], y)
    return w_star + np.linalg.matrix_power(np.eye(2) - LR * H, step) @ (np.zeros(2) - w_star)


def gdviz_state_bytes(at) -> int:
    """Pickled size of everything gdviz keeps in the session (its own keys; not Streamlit's presenters)."""
    keys = [k for k in at.session_state if k.startswith(("playground_", "gdviz_"))]
    return sum(len(pickle.dumps(at.session_state[k])) for k in keys)


def assert_nearest_stored(stored: np.ndarray, asked: int, got: int) -> None:
    assert got in stored
    assert np.min(np.abs(stored - asked)) == abs(got - asked)


@pytest.fixture(scope="module")
def line(line_xy):
    X, y = line_xy
    return design(X[:, 0]), y


@pytest.fixture(scope="module")
def long_run(line):
    at = new_app()
    set_field(at, "learning_rate", LR)
    set_field(at, "tol", 0.0)
    set_field(at, "max_steps", MAX_STEPS)
    return click(at, "playground_end")


def stored_steps(at) -> np.ndarray:
    return np.array(player_view.payload(at)["columns"]["step"])


def test_a_long_run_ends_where_the_closed_form_does(long_run, line):
    X1, y = line
    assert step_of(long_run) == MAX_STEPS == long_run.session_state["playground_cursor"]
    assert player_view.shown(long_run)["Status"] == "max steps"
    assert_readout(long_run, MAX_STEPS, closed_form(X1, y, MAX_STEPS), X1, y)
    steps = stored_steps(long_run)
    assert len(steps) <= 4_096  # thinned for the browser
    np.testing.assert_array_equal(steps[:801], np.arange(801))  # the early steps are all there


def test_the_browser_gets_the_whole_long_run_within_the_bound(long_run):
    assert len(player_view.data(long_run)["payload"].encode()) < PAYLOAD_BOUND


def test_session_state_of_a_long_run_stays_under_the_bound(long_run):
    size = gdviz_state_bytes(long_run)
    assert size < SESSION_BOUND, f"{size:,} bytes"
    # The bound is not vacuous: the same keys holding every state would be far over it.
    assert MAX_STEPS * 8 * (2 * 2 + 4) > 100 * SESSION_BOUND


def test_moves_snap_to_stored_steps(long_run, line):
    X1, y = line
    at = long_run
    stored = stored_steps(at)
    asked = 150_003
    assert asked not in stored
    go_to(at, asked)
    cursor = at.session_state["playground_cursor"]
    assert_nearest_stored(stored, asked, cursor)
    assert_readout(at, cursor, closed_form(X1, y, cursor), X1, y)
    np.testing.assert_allclose(contour_path(at)[-1], closed_form(X1, y, cursor), rtol=1e-9)

    click(at, "playground_back")
    back = at.session_state["playground_cursor"]
    assert back == stored[stored < cursor].max()  # the previous stored step
    assert_readout(at, back, closed_form(X1, y, back), X1, y)
    click(at, "playground_step1")
    assert at.session_state["playground_cursor"] == cursor  # the next stored step, not back + 1
    click(at, "playground_step10")
    assert at.session_state["playground_cursor"] == stored[stored > cursor].min()  # never stuck in place


def test_early_steps_move_one_update_at_a_time(long_run, line):
    X1, y = line
    at = long_run
    go_to(at, 500)
    click(at, "playground_step1")
    assert step_of(at) == 501
    click(at, "playground_back")
    click(at, "playground_back")
    assert step_of(at) == 499
    assert_readout(at, 499, closed_form(X1, y, 499), X1, y)


def test_the_math_page_snaps_a_long_run_and_says_what_is_not_stored(line):
    X1, y = line
    at = new_app()
    set_field(at, "learning_rate", LR)
    set_field(at, "tol", 0.0)
    set_field(at, "max_steps", MAX_STEPS)
    ok(at.switch_page("pages/math.py").run())
    ok(player_view.sync(at, 150_003, "math"))  # the browser holds stored steps only: it never sends another
    step = player_view.data(at, "math")["step"]
    assert step != 150_003 and abs(step - 150_003) < 256  # a stored step nearby
    assert_nearest_stored(np.array(player_view.payload(at, "math")["columns"]["step"]), 150_003, step)
    w = closed_form(X1, y, step)
    assert math_page.metrics(at)["The run's loss at the next step"] == "-"  # step + 1 is not stored
    assert any("does not store its next step" in c.value for c in at.caption)
    assert f"One plain step from step {step:,}**" in re.sub(r"<[^>]+>", "", " ".join(m.value for m in at.markdown))
    table = math_page.table(at, "e_t = w_t - w*")
    np.testing.assert_allclose(table["e_t = w_t - w*"].astype(float), w - lstsq_line(X1[:, 1], y), rtol=1e-4)

    ok(player_view.sync(at, 1_000, "math"))  # early steps are all stored, with their next
    assert player_view.data(at, "math")["step"] == 1_000
    assert math_page.metrics(at)["The run's loss at the next step"] != "-"


def test_the_feature_scaling_player_snaps_a_long_multi_feature_run(diabetes_xy, california_csv, monkeypatch):
    monkeypatch.setenv("GDVIZ_CALIFORNIA_CSV", str(california_csv))  # the page's puzzle panel: no download
    X, y = diabetes_xy
    Xs = (X - X.mean(axis=0)) / X.std(axis=0)  # standard scaling written out
    X1 = np.column_stack([np.ones(len(y)), Xs])
    lr, n = 1e-5, len(y)  # slow: at step 40,000 the run is still far from the optimum
    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "app.py"), default_timeout=180)
    at.session_state["gdviz_config"] = RunConfig(dataset="diabetes", scaling="standard", learning_rate=lr, tol=0.0,
                                                 max_steps=50_000)  # fmt: skip
    ok(at.run())
    ok(at.switch_page("pages/scaling.py").run())
    ok(player_view.sync(at, 40_003, "scaling"))  # the browser holds stored steps only: it never sends another
    step = player_view.data(at, "scaling")["step"]
    assert step != 40_003 and abs(step - 40_003) < 64  # a stored step nearby
    assert_nearest_stored(np.array(player_view.payload(at, "scaling")["columns"]["step"]), 40_003, step)
    H = 2.0 / n * X1.T @ X1
    w_star = np.linalg.lstsq(X1, y, rcond=None)[0]
    w = w_star + np.linalg.matrix_power(np.eye(X1.shape[1]) - lr * H, step) @ (np.zeros(X1.shape[1]) - w_star)
    grads = 2.0 / n * X1.T @ (X1 @ w - y)
    trace = player_view.figures(at, "scaling")["scaling_grad_step"]["data"][0]
    shown = np.array(trace["y"], dtype=float)
    assert np.abs(grads).max() > 1.0  # still moving, so the bars are not all ~0
    np.testing.assert_allclose(shown, np.abs(grads), rtol=1e-6)
