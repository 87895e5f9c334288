"""The Playground page under AppTest: every widget does what it says, checked against oracles written here.

The oracles are independent of gdviz: the Hessian spectrum from ``np.linalg.eigvalsh`` of (2/n) X1^T X1,
a naive gradient-descent loop (and a heavy-ball loop) written in this file, ``np.linalg.lstsq`` and
scikit-learn for the optimum, and the closed form ``w_t = w* + (I - lr H)^t (w_0 - w*)``. The page is
driven through its widgets only; what is asserted is what changed: session state, the read-out metrics,
the regime banner and the data inside the live charts.

AppTest notes: AppTest cannot click inside a component. The stepping happens in the browser's player
(proved by tests/e2e/test_playground.py); here a press of Step, Back, Reset or End is what the browser
then sends the server (``tests.player_view.sync``: the step), and the read-out and charts are what the
player shows at that step, picked from the payload Python sent (``tests.player_view``).
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import NamedTuple

import numpy as np
import plotly.io as pio
import pytest
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression
from sklearn.preprocessing import StandardScaler
from streamlit.testing.v1 import AppTest

from gdviz.optimizers import OPTIMIZERS
from gdviz.ui import widgets
from gdviz.ui.live_chart import figures_of
from tests import player_view
from tests.chart_utils import decode, trace_by_name
from tests.oracles import design, grad_of, heavy_ball, loss_of

APP = str(Path(__file__).resolve().parents[2] / "app.py")
CHART_KEYS = (
    "playground_surface",
    "playground_contour",
    "playground_line",
    "playground_loss",
    "playground_grads",
    "playground_bars",
    "playground_eigen",
)
PLAYER_ELEMENT = "player_playground"  # the player element that holds them
DEFAULT_LR, DEFAULT_TOL, DEFAULT_MAX_STEPS = 0.05, 1e-6, 10_000
# Metrics show 6 significant figures, theory metrics 4.
READOUT_REL, THEORY_REL = 6e-6, 6e-4


# ---------------------------------------------------------------------------------------------
# Oracles (no gdviz code)
# ---------------------------------------------------------------------------------------------


def hessian_eigs(X1: np.ndarray) -> np.ndarray:
    return np.linalg.eigvalsh(2.0 / len(X1) * X1.T @ X1)


def sig(x: float, digits: int = 4) -> float:
    return float(f"{x:.{digits}g}")


class NaiveRun(NamedTuple):
    params: np.ndarray  # (steps + 1, 2): row t is the params after t updates (finite rows only)
    loss: np.ndarray  # (steps + 1,)
    status: str  # "converged", "diverged" or "max steps", as the read-out spells it
    steps: int  # the step at which it stopped (for "diverged": the first non-finite step)


def naive_gd(X1, y, lr, *, w0=(0.0, 0.0), tol=DEFAULT_TOL, max_steps=DEFAULT_MAX_STEPS) -> NaiveRun:
    """Plain gradient descent, one update at a time, with the stop rules of STYLE.md section 3."""
    w = np.array(w0, dtype=float)
    ws, losses = [w], [loss_of(X1, y, w)]
    with np.errstate(all="ignore"):
        for t in range(1, max_steps + 1):
            new = w - lr * grad_of(X1, y, w)
            loss = loss_of(X1, y, new) if np.isfinite(new).all() else float("inf")
            if not np.isfinite(loss):
                return NaiveRun(np.array(ws), np.array(losses), "diverged", t)
            ws.append(new)
            losses.append(loss)
            if np.linalg.norm(new - w) < tol:
                return NaiveRun(np.array(ws), np.array(losses), "converged", t)
            w = new
    return NaiveRun(np.array(ws), np.array(losses), "max steps", max_steps)


def lstsq_line(x, y) -> np.ndarray:
    return np.linalg.lstsq(design(x), y, rcond=None)[0]


@pytest.fixture(scope="module")
def line(line_xy):
    """The default synthetic line: (x, X1, y)."""
    X, y = line_xy
    return X[:, 0], design(X[:, 0]), y


@pytest.fixture(scope="module")
def default_run(line) -> NaiveRun:
    _, X1, y = line
    return naive_gd(X1, y, DEFAULT_LR)


# ---------------------------------------------------------------------------------------------
# Reading the page
# ---------------------------------------------------------------------------------------------


def ok(at: AppTest) -> AppTest:
    """``at`` after checking that its last run raised nothing (with the messages when it did)."""
    assert not at.exception, [e.message for e in at.exception]
    return at


def new_app() -> AppTest:
    return ok(AppTest.from_file(APP, default_timeout=60).run())


def metrics(at: AppTest) -> dict[str, str]:
    """The page's metrics (the theory) and the player's read-out at the step shown."""
    p = player_view.payload(at)
    return {m.label: m.value for m in at.metric} | player_view.readout(p, player_view.shown_row(at))


def number(at: AppTest, label: str) -> float:
    return float(metrics(at)[label].replace(",", ""))


def step_of(at: AppTest) -> int:
    return int(metrics(at)["Step"].replace(",", ""))


def config(at: AppTest):
    return at.session_state["gdviz_config"]


def live_figure(at: AppTest, key: str) -> dict:
    """The Plotly figure (JSON) of the chart ``key`` as the player draws it at the step shown."""
    return player_view.figures(at)[key]


def chart_keys(at: AppTest) -> list[str]:
    live = [key for element in at.get("bidi_component") for key in figures_of(element)]
    return live + list(player_view.figures(at))


def xy(trace: dict) -> tuple[np.ndarray, np.ndarray]:
    return decode(trace["x"]).astype(float), decode(trace["y"]).astype(float)


def trace_starting(fig: dict, prefix: str) -> dict:
    matches = [t for t in fig["data"] if str(t.get("name", "")).startswith(prefix)]
    assert len(matches) == 1, [t.get("name") for t in fig["data"]]
    return matches[0]


def contour_path(at: AppTest) -> np.ndarray:
    x, y = xy(trace_by_name(live_figure(at, "playground_contour"), "path"))
    return np.column_stack([x, y])


def measured_loss(at: AppTest) -> tuple[np.ndarray, np.ndarray]:
    return xy(trace_by_name(live_figure(at, "playground_loss"), "measured loss"))


def banner(at: AppTest) -> str:
    texts = [e.value for kind in ("success", "info", "warning") for e in getattr(at, kind)]
    found = [t for t in texts if t.startswith("**Observed regime")]
    assert len(found) == 1, texts
    return found[0]


def diverged_note(at: AppTest) -> str | None:
    found = [w.value for w in at.warning if w.value.startswith("Diverged.")]
    assert len(found) <= 1
    return found[0] if found else None


def has_widget(at: AppTest, key: str) -> bool:
    kinds = ("number_input", "selectbox", "select_slider", "slider", "button")
    return any(key == w.key for kind in kinds for w in getattr(at, kind))


def widget(at: AppTest, key: str):
    for kind in ("number_input", "selectbox", "select_slider", "slider"):
        try:
            return getattr(at, kind)(key=key)
        except KeyError:
            continue
    raise AssertionError(f"no widget {key!r}")


def set_field(at: AppTest, field: str, value) -> AppTest:
    return ok(widget(at, f"playground_{field}").set_value(value).run())


PLAYER_BUTTONS = ("playground_step1", "playground_step10", "playground_back", "playground_reset", "playground_end")


def click(at: AppTest, key: str) -> AppTest:
    """Press a button; the player's own (Step, Step x10, Back, Reset, End) move in the browser, and what
    reaches the server is the step they stopped at (``player_view.sync``)."""
    if key not in PLAYER_BUTTONS:
        return ok(at.button(key=key).click().run())
    return ok(player_view.press(at, key.removeprefix("playground_")))


def go_to(at: AppTest, step: int) -> AppTest:
    """Go to step (typed in the player, or the scrubber): the step the browser then sends."""
    return ok(player_view.sync(at, step))


def n_states(at: AppTest) -> int:
    """How many stored steps the browser holds."""
    return player_view.payload(at)["n"]


def assert_readout(at: AppTest, step: int, w, X1, y, *, feature: str = "x") -> None:
    """Step, loss, params and gradient of the read-out against the oracle at params ``w``."""
    m = metrics(at)
    assert int(m["Step"].replace(",", "")) == step
    assert float(m["Loss"]) == pytest.approx(loss_of(X1, y, w), rel=READOUT_REL)
    assert float(m["Intercept"]) == pytest.approx(w[0], rel=READOUT_REL, abs=1e-12)
    assert float(m[f"Slope on {feature}"]) == pytest.approx(w[1], rel=READOUT_REL, abs=1e-12)
    g = grad_of(X1, y, w)
    assert float(m["dJ/d intercept"]) == pytest.approx(g[0], rel=READOUT_REL, abs=1e-9)
    assert float(m[f"dJ/d slope on {feature}"]) == pytest.approx(g[1], rel=READOUT_REL, abs=1e-9)


def run_name(at: AppTest) -> str:
    """The name of the run the browser holds: the same name, the same payload (nothing recomputed)."""
    return player_view.data(at)["run"]


# ---------------------------------------------------------------------------------------------
# 1. Default load
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def default_app() -> AppTest:
    """The page as first loaded (read only: no test may press anything on it)."""
    return new_app()


def test_default_load_reads_step_0_at_the_zero_start(default_app, line):
    _, X1, y = line
    assert_readout(default_app, 0, np.zeros(2), X1, y)
    assert number(default_app, "Loss") == pytest.approx(np.mean(y**2), rel=READOUT_REL)
    assert metrics(default_app)["Status"] == "running"
    assert default_app.session_state["playground_cursor"] == 0
    assert not default_app.error


def test_default_load_draws_seven_live_charts(default_app):
    assert sorted(chart_keys(default_app)) == sorted(CHART_KEYS)
    white = pio.templates["plotly_white"].layout
    for key in CHART_KEYS:
        assert live_figure(default_app, key)["data"], key
    assert player_view.data(default_app)["step"] == 0  # the browser opens at step 0
    # The look travels once per page, with the Plotly preload element, and the browser applies it.
    preload = [json.loads(e.proto.json) for e in default_app.get("bidi_component") if e.proto.json]
    preload = [p for p in preload if p.get("preload")]
    assert len(preload) == 1
    template = json.loads(preload[0]["template"])
    assert template["layout"]["plot_bgcolor"] == white.plot_bgcolor


def test_default_surface_is_the_loss_with_the_path_on_it(default_app, line):
    _, X1, y = line
    fig = live_figure(default_app, "playground_surface")
    types = [t["type"] for t in fig["data"]]
    assert types.count("surface") == 1
    surface = next(t for t in fig["data"] if t["type"] == "surface")
    gx, gy, z = decode(surface["x"]), decode(surface["y"]), decode(surface["z"]).astype(float)
    assert z.shape == (len(gy), len(gx))
    b, m = np.meshgrid(gx, gy)  # row k is slope gy[k]
    resid = b[..., None] + m[..., None] * X1[:, 1] - y
    np.testing.assert_allclose(z, np.mean(resid**2, axis=-1), rtol=1e-9, atol=1e-9)
    path = trace_by_name(fig, "path")
    assert path["type"] == "scatter3d"
    np.testing.assert_allclose(decode(path["x"]), [0.0])
    np.testing.assert_allclose(decode(path["y"]), [0.0])
    np.testing.assert_allclose(decode(path["z"]), [np.mean(y**2)], rtol=1e-12)
    # The window holds the start and the least-squares optimum.
    opt = lstsq_line(X1[:, 1], y)
    for value, axis in ((0.0, gx), (opt[0], gx), (0.0, gy), (opt[1], gy)):
        assert axis.min() <= value <= axis.max()


def test_default_contour_path_is_the_start_point(default_app, line):
    np.testing.assert_allclose(contour_path(default_app), [[0.0, 0.0]])
    x, y = xy(trace_by_name(live_figure(default_app, "playground_contour"), "least-squares optimum"))
    np.testing.assert_allclose([x[0], y[0]], lstsq_line(line[0], line[2]), rtol=1e-9)


def test_default_theory_matches_eigvalsh(default_app, line):
    lam = hessian_eigs(line[1])
    assert number(default_app, "lambda_min") == pytest.approx(lam[0], rel=THEORY_REL)
    assert number(default_app, "lambda_max") == pytest.approx(lam[-1], rel=THEORY_REL)
    assert number(default_app, "Condition number") == pytest.approx(lam[-1] / lam[0], rel=THEORY_REL)


def test_default_predicted_steps_match_a_naive_loop(default_app, default_run):
    assert default_run.status == "converged"
    assert number(default_app, "Predicted steps to converge") == default_run.steps


def test_default_banner_is_good_both_ways(default_app, line):
    lam_max = hessian_eigs(line[1])[-1]
    assert 0.2 <= DEFAULT_LR * lam_max <= 1  # the oracle's own reading of the default rate
    text = banner(default_app)
    assert text.startswith("**Observed regime (over the whole run): Good.**")  # the run is computed at once
    assert "Predicted from the Hessian: **Good**" in text
    assert diverged_note(default_app) is None


# ---------------------------------------------------------------------------------------------
# 2. Stepping: Step, Step x10, Back, scrubber, Go to step, Reset
# ---------------------------------------------------------------------------------------------


def assert_at_step(at: AppTest, t: int, run: NaiveRun, X1, y) -> None:
    """Read-out, cursor and every chart's path against the naive loop at step ``t``."""
    assert_readout(at, t, run.params[t], X1, y)
    assert at.session_state["playground_cursor"] == t
    if t > 0:
        m = metrics(at)
        assert float(m["Update norm"]) == pytest.approx(
            np.linalg.norm(run.params[t] - run.params[t - 1]), rel=READOUT_REL
        )
        assert float(m["Rate used"]) == pytest.approx(DEFAULT_LR, rel=1e-12)
    np.testing.assert_allclose(contour_path(at), run.params[: t + 1], rtol=1e-9, atol=1e-12)
    steps, loss = measured_loss(at)
    np.testing.assert_array_equal(steps, np.arange(t + 1))
    np.testing.assert_allclose(loss, run.loss[: t + 1], rtol=1e-9)
    surface_path = trace_by_name(live_figure(at, "playground_surface"), "path")
    assert len(decode(surface_path["x"])) == t + 1
    bars = trace_by_name(live_figure(at, "playground_bars"), "|gradient|")
    np.testing.assert_allclose(decode(bars["y"]), np.abs(grad_of(X1, y, run.params[t])), rtol=1e-9)
    grads = live_figure(at, "playground_grads")
    gx, gy = xy(trace_by_name(grads, "|dJ/d slope on x|"))
    np.testing.assert_array_equal(gx, np.arange(t + 1))
    expected = [abs(grad_of(X1, y, w)[1]) for w in run.params[: t + 1]]
    np.testing.assert_allclose(gy, expected, rtol=1e-9)
    assert player_view.data(at)["step"] == t  # the browser's step, back from the server


def test_step_buttons_scrubber_and_go_to(line, default_run):
    _, X1, y = line
    run = default_run
    at = new_app()
    name = run_name(at)
    assert n_states(at) == run.steps + 1  # the whole run, computed once

    click(at, "playground_step1")
    assert_at_step(at, 1, run, X1, y)
    click(at, "playground_step10")
    assert_at_step(at, 11, run, X1, y)
    click(at, "playground_back")
    assert_at_step(at, 10, run, X1, y)
    go_to(at, 4)
    assert_at_step(at, 4, run, X1, y)
    click(at, "playground_reset")
    assert_at_step(at, 0, run, X1, y)
    go_to(at, 700)
    assert_at_step(at, 700, run, X1, y)
    assert run_name(at) == name  # moving never recomputes: the same run, the same payload


def test_the_player_offers_the_speeds_and_opens_where_the_server_says(default_app):
    d = player_view.data(default_app)
    assert d["speeds"][-1] == 60 and 30 in d["speeds"]
    assert d["step"] == 0 and d["prefix"] == "playground"


# ---------------------------------------------------------------------------------------------
# 3. Run to end, max steps, a long jump
# ---------------------------------------------------------------------------------------------


def test_run_to_end_converges_where_the_naive_loop_does(line, default_run):
    _, X1, y = line
    at = click(new_app(), "playground_end")
    assert metrics(at)["Status"] == "converged"
    t = default_run.steps
    assert_readout(at, t, default_run.params[t], X1, y)
    assert at.session_state["playground_cursor"] == t
    assert n_states(at) == t + 1
    np.testing.assert_allclose(number(at, "Intercept"), lstsq_line(X1[:, 1], y)[0], rtol=1e-4)
    assert banner(at).startswith("**Observed regime (over the whole run): Good.**")
    steps, loss = measured_loss(at)
    assert steps[-1] == t


def test_run_to_end_stops_at_max_steps(line):
    _, X1, y = line
    at = set_field(new_app(), "max_steps", 5)
    assert config(at).max_steps == 5
    click(at, "playground_end")
    run = naive_gd(X1, y, DEFAULT_LR, max_steps=5)
    assert run.status == "max steps"
    assert metrics(at)["Status"] == "max steps"
    assert_readout(at, 5, run.params[5], X1, y)
    assert n_states(at) == 6


def test_go_to_step_50000_on_a_slow_rate(line):
    _, X1, y = line
    lr = 1e-4
    at = new_app()
    set_field(at, "learning_rate", lr)
    set_field(at, "max_steps", 100_000)
    go_to(at, 50_000)
    # The browser holds a thinned run this far in: the step shown is the stored step nearest to 50,000.
    t = step_of(at)
    assert abs(t - 50_000) <= 64 and at.session_state["playground_cursor"] == t
    assert metrics(at)["Status"] == "running"
    # Closed form for constant-rate GD, from lstsq and a matrix power.
    H = 2.0 / len(y) * X1.T @ X1
    w_star = lstsq_line(X1[:, 1], y)
    w = w_star + np.linalg.matrix_power(np.eye(2) - lr * H, t) @ (np.zeros(2) - w_star)
    assert_readout(at, t, w, X1, y)
    np.testing.assert_allclose(contour_path(at)[-1], w, rtol=1e-8)
    steps, _ = measured_loss(at)
    assert steps[0] == 0 and steps[-1] == t and len(steps) <= 5_000  # thinned, ends at the step shown


# ---------------------------------------------------------------------------------------------
# 4. Presets
# ---------------------------------------------------------------------------------------------

PRESETS = {
    # name -> (rate from (lambda_min, lambda_max), regime shown both observed and predicted)
    "slow": (lambda lo, hi: 0.05 / hi, "Slow"),
    "good": (lambda lo, hi: 0.5 / hi, "Good"),
    "fastest": (lambda lo, hi: 2.0 / (lo + hi), "Oscillating"),
    "oscillating": (lambda lo, hi: 1.6 / hi, "Oscillating"),
    "divergent": (lambda lo, hi: 2.1 / hi, "Divergent"),
}


def nearest_on_slider(rate: float) -> float:
    grid = np.asarray(widgets.RATE_GRID)  # the slider's own options
    return float(grid[np.argmin(np.abs(np.log(grid) - np.log(rate)))])


@pytest.mark.parametrize("name", list(PRESETS))
def test_preset_sets_the_rate_and_the_regime(name, line):
    _, X1, y = line
    lam = hessian_eigs(X1)
    rate_of, label = PRESETS[name]
    rate = sig(rate_of(lam[0], lam[-1]))
    at = click(new_app(), f"playground_preset_{name}")
    assert config(at).learning_rate == pytest.approx(rate, rel=1e-12)
    assert at.number_input(key="playground_learning_rate").value == pytest.approx(rate, rel=1e-12)
    assert at.select_slider(key="playground_lr_slider").value == nearest_on_slider(rate)
    assert step_of(at) == 0

    click(at, "playground_end")
    run = naive_gd(X1, y, rate)
    m = metrics(at)
    assert m["Status"] == run.status
    assert step_of(at) == run.steps
    text = banner(at)
    assert text.startswith(f"**Observed regime (over the whole run): {label}.**"), text
    assert f"Predicted from the Hessian: **{label}**" in text
    note = diverged_note(at)
    if name != "divergent":
        assert note is None
        assert_readout(at, run.steps, run.params[run.steps], X1, y)
        return
    assert run.status == "diverged"
    assert note is not None
    assert f"At step {run.steps} " in note, note
    assert f"the largest finite loss was {float(np.max(run.loss)):.3g}" in note
    _, loss = measured_loss(at)
    assert np.isnan(loss[-1])  # the overflowed step is a gap (null), never NaN or inf in the JSON
    loss = loss[np.isfinite(loss)]
    assert np.max(loss) > 1e100  # the blow-up is drawn, not clipped
    assert np.max(loss) <= np.max(run.loss) * (1 + 1e-9)
    assert n_states(at) == run.steps + 1
    # The last finite state is kept: the read-out shows the step it blew up at, and says the loss overflowed.
    assert m["Loss"] == "overflowed"
    assert player_view.payload(at)["diverged_at"] == run.steps


def test_presets_follow_the_data(line):
    """On another dataset the preset is computed from that data's spectrum."""
    diabetes = load_diabetes(scaled=False)
    x = diabetes.data[:, 0]
    lam = hessian_eigs(design(x))
    at = new_app()
    ok(at.selectbox(key="playground_dataset").set_value("diabetes").run())
    click(at, "playground_preset_good")
    assert config(at).learning_rate == pytest.approx(sig(0.5 / lam[-1]), rel=1e-12)


# ---------------------------------------------------------------------------------------------
# 5. Learning-rate slider <-> exact box
# ---------------------------------------------------------------------------------------------


def test_slider_and_exact_box_follow_each_other(line):
    _, X1, y = line
    at = new_app()
    assert at.select_slider(key="playground_lr_slider").value == nearest_on_slider(DEFAULT_LR)

    ok(at.select_slider(key="playground_lr_slider").set_value(0.1).run())
    assert config(at).learning_rate == 0.1
    assert at.number_input(key="playground_learning_rate").value == 0.1

    exact = 0.0123456  # between grid values
    assert exact not in widgets.RATE_GRID
    set_field(at, "learning_rate", exact)
    assert config(at).learning_rate == exact
    assert at.number_input(key="playground_learning_rate").value == exact
    assert at.select_slider(key="playground_lr_slider").value == nearest_on_slider(exact)
    assert at.select_slider(key="playground_lr_slider").value == 0.0125
    labels = at.select_slider(key="playground_lr_slider").proto.options  # what the slider writes at each position
    assert labels[widgets.RATE_GRID.index(0.0125)] == "0.0123456"  # the rate in use, not the grid's 0.0125
    assert labels[widgets.RATE_GRID.index(0.1)] == "0.1" and labels[0] == "1e-06"

    click(at, "playground_step1")
    assert number(at, "Rate used") == exact
    w1 = np.zeros(2) - exact * grad_of(X1, y, np.zeros(2))
    assert_readout(at, 1, w1, X1, y)
    assert config(at).learning_rate == exact  # the slider's rerun did not snap the rate to the grid


# ---------------------------------------------------------------------------------------------
# 6. Data
# ---------------------------------------------------------------------------------------------


def data_points(at: AppTest) -> tuple[np.ndarray, np.ndarray]:
    return xy(trace_by_name(live_figure(at, "playground_line"), "data"))


def test_synthetic_settings_change_the_data():
    at = new_app()
    set_field(at, "n_samples", 37)
    x, y = data_points(at)
    assert len(x) == len(y) == 37
    assert config(at).n_samples == 37

    set_field(at, "noise", 0.0)
    x, y = data_points(at)
    np.testing.assert_allclose(y, 4.0 + 3.0 * x, rtol=1e-12)  # noise-free: on the true line

    set_field(at, "slope", -2.5)
    x, y = data_points(at)
    np.testing.assert_allclose(y, 4.0 - 2.5 * x, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(lstsq_line(x, y), [4.0, -2.5], atol=1e-9)
    # The read-out and theory are of this new data.
    X1 = design(x)
    assert_readout(at, 0, np.zeros(2), X1, y)
    assert number(at, "lambda_max") == pytest.approx(hessian_eigs(X1)[-1], rel=THEORY_REL)
    line = trace_by_name(live_figure(at, "playground_line"), "least-squares line")
    lx, ly = xy(line)
    np.testing.assert_allclose(ly, 4.0 - 2.5 * lx, rtol=1e-9)


def test_diabetes_feature_selectbox_changes_the_spectrum():
    diabetes = load_diabetes(scaled=False)
    at = new_app()
    assert not has_widget(at, "playground_feature")
    ok(at.selectbox(key="playground_dataset").set_value("diabetes").run())
    assert config(at).dataset == "diabetes" and config(at).feature == 0
    assert has_widget(at, "playground_feature")
    assert not has_widget(at, "playground_n_samples")  # the synthetic settings are gone
    lam0 = hessian_eigs(design(diabetes.data[:, 0]))
    assert number(at, "lambda_max") == pytest.approx(lam0[-1], rel=THEORY_REL)
    x, _ = data_points(at)
    assert len(x) == 442

    bmi = list(diabetes.feature_names).index("bmi")
    ok(at.selectbox(key="playground_feature").set_value(bmi).run())
    assert config(at).feature == bmi
    X1 = design(diabetes.data[:, bmi])
    lam = hessian_eigs(X1)
    assert number(at, "lambda_max") == pytest.approx(lam[-1], rel=THEORY_REL)
    assert number(at, "lambda_min") == pytest.approx(lam[0], rel=THEORY_REL)
    assert abs(lam[-1] - lam0[-1]) > 1e-3 * lam0[-1]  # the change is visible at 4 significant figures
    assert_readout(at, 0, np.zeros(2), X1, diabetes.target, feature="bmi")
    x, _ = data_points(at)
    np.testing.assert_allclose(np.sort(x), np.sort(diabetes.data[:, bmi]))


def test_standard_scaling_fits_the_raw_line(line):
    x, X1, y = line
    at = new_app()
    ok(at.selectbox(key="playground_scaling").set_value("standard").run())
    assert config(at).scaling == "standard"
    # The theory is of the scaled feature.
    Xs = StandardScaler().fit_transform(x[:, None])[:, 0]
    lam = hessian_eigs(design(Xs))
    assert number(at, "lambda_max") == pytest.approx(lam[-1], rel=THEORY_REL)
    click(at, "playground_end")
    assert metrics(at)["Status"] == "converged"
    reg = LinearRegression().fit(x[:, None], y)
    b, m = lstsq_line(x, y)
    assert (b, m) == pytest.approx((reg.intercept_, reg.coef_[0]), rel=1e-9)
    fx, fy = xy(trace_starting(live_figure(at, "playground_line"), "current fit"))
    np.testing.assert_allclose(fx, [x.min(), x.max()])
    np.testing.assert_allclose(fy, b + m * fx, rtol=1e-5)
    # The read-out is in the scaled units the run fits.
    scaled = LinearRegression().fit(Xs[:, None], y)
    assert number(at, "Intercept") == pytest.approx(scaled.intercept_, rel=1e-5)
    assert number(at, "Slope on x") == pytest.approx(scaled.coef_[0], rel=1e-5)


# ---------------------------------------------------------------------------------------------
# 7. Optimizers and schedules
# ---------------------------------------------------------------------------------------------

HYPER_WIDGETS = ("playground_beta", "playground_rms_decay", "playground_b1", "playground_b2", "playground_eps")
EXPECTED_HYPER = {
    "gd": set(),
    "momentum": {"playground_beta"},
    "nesterov": {"playground_beta"},
    "adagrad": {"playground_eps"},
    "rmsprop": {"playground_rms_decay", "playground_eps"},
    "adam": {"playground_b1", "playground_b2", "playground_eps"},
}


def test_every_registered_optimizer_has_its_widgets_listed():
    assert set(EXPECTED_HYPER) == set(OPTIMIZERS)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_each_optimizer_selects_and_steps(name, line):
    _, X1, y = line
    at = new_app()
    ok(at.selectbox(key="playground_optimizer").set_value(name).run())
    assert config(at).optimizer == name
    assert {k for k in HYPER_WIDGETS if has_widget(at, k)} == EXPECTED_HYPER[name]
    click(at, "playground_step10")
    assert step_of(at) == 10
    assert n_states(at) > 10
    loss = number(at, "Loss")
    assert np.isfinite(loss) and loss < np.mean(y**2)
    w = [number(at, "Intercept"), number(at, "Slope on x")]
    assert loss == pytest.approx(loss_of(X1, y, w), rel=1e-4)
    assert len(contour_path(at)) == 11
    text = banner(at)
    if name == "gd":
        assert "Predicted from the Hessian" in text
        assert "Predicted steps to converge" in metrics(at)
    else:
        assert "The Hessian predicts regimes for plain GD at a constant rate only" in text
        assert "Predicted steps to converge" not in metrics(at)
    for key in at.session_state:
        if key.startswith(("playground_", "gdviz_")):
            pickle.dumps(at.session_state[key])


def test_momentum_first_two_steps_are_heavy_ball(line):
    _, X1, y = line
    at = new_app()
    ok(at.selectbox(key="playground_optimizer").set_value("momentum").run())
    set_field(at, "beta", 0.8)
    assert config(at).beta == 0.8
    expected = heavy_ball(X1, y, DEFAULT_LR, 0.8, 2)
    for t in (1, 2):
        click(at, "playground_step1")
        assert_readout(at, t, expected[t], X1, y)
    p = player_view.payload(at)
    np.testing.assert_allclose(np.column_stack([p["columns"]["p0"][:3], p["columns"]["p1"][:3]]), expected, rtol=1e-12)
    # Plain GD's second step would be elsewhere: the momentum is really there.
    assert not np.allclose(expected[2], naive_gd(X1, y, DEFAULT_LR).params[2], rtol=1e-3)


@pytest.mark.parametrize(("factor", "every"), [(0.5, 2), (0.25, 3)])
def test_step_decay_rate_used(factor, every):
    at = new_app()
    ok(at.selectbox(key="playground_schedule").set_value("step_decay").run())
    assert has_widget(at, "playground_factor") and has_widget(at, "playground_every")
    set_field(at, "factor", factor)
    set_field(at, "every", every)
    assert (config(at).factor, config(at).every) == (factor, every)
    for t in range(1, 2 * every + 2):
        click(at, "playground_step1")
        # update t is the (t-1)-th, 0-based: the rate drops by `factor` after every `every` updates
        assert number(at, "Rate used") == pytest.approx(DEFAULT_LR * factor ** ((t - 1) // every), rel=1e-12), t
    assert "Predicted steps to converge" not in metrics(at)


@pytest.mark.parametrize(
    ("schedule", "widgets"),
    [
        ("constant", set()),
        ("inverse_time", {"playground_decay_rate"}),
        ("inverse_scaling", {"playground_power_t"}),
        ("exponential_decay", {"playground_decay_rate"}),
        ("step_decay", {"playground_factor", "playground_every"}),
    ],
)
def test_each_schedule_shows_its_widgets_and_steps(schedule, widgets):
    at = new_app()
    ok(at.selectbox(key="playground_schedule").set_value(schedule).run())
    keys = ("playground_decay_rate", "playground_power_t", "playground_factor", "playground_every")
    assert {k for k in keys if has_widget(at, k)} == widgets
    click(at, "playground_step10")
    assert step_of(at) == 10
    rates = np.array(player_view.payload(at)["columns"]["rate"][1:11])
    assert rates[0] == DEFAULT_LR and np.all(np.diff(rates) <= 0)


# ---------------------------------------------------------------------------------------------
# 8. Start point, and a changed setting restarts the run
# ---------------------------------------------------------------------------------------------


def test_start_point_boxes(line):
    _, X1, y = line
    at = new_app()
    set_field(at, "init_intercept", 2.5)
    set_field(at, "init_slope", -1.5)
    w0 = np.array([2.5, -1.5])
    assert_readout(at, 0, w0, X1, y)
    np.testing.assert_allclose(contour_path(at), [w0])
    run = naive_gd(X1, y, DEFAULT_LR, w0=w0)
    click(at, "playground_step10")
    assert_readout(at, 10, run.params[10], X1, y)
    click(at, "playground_end")
    assert step_of(at) == run.steps and metrics(at)["Status"] == run.status


@pytest.fixture(scope="module")
def changing_app() -> AppTest:
    """One page on which each case below changes one more setting (cases depend only on the current state)."""
    return new_app()


CHANGES = [
    ("n_samples", 25),
    ("slope", 2.0),
    ("intercept", -1.0),
    ("noise", 0.5),
    ("x_loc", 1.0),
    ("x_scale", 2.0),
    ("seed", 3),
    ("scaling", "minmax"),
    ("learning_rate", 0.02),
    ("optimizer", "nesterov"),
    ("beta", 0.5),
    ("schedule", "inverse_time"),
    ("decay_rate", 0.05),
    ("init_intercept", 1.0),
    ("init_slope", 0.5),
    ("tol", 1e-5),
    ("max_steps", 5_000),
    ("batch_size", 4),
    ("dataset", "diabetes"),
    ("feature", 3),
]


@pytest.mark.parametrize(("field", "value"), CHANGES, ids=[c[0] for c in CHANGES])
def test_changing_a_setting_restarts_at_step_0_and_keeps_the_rest(changing_app, field, value):
    at = changing_app
    click(at, "playground_step10")
    assert step_of(at) == 10
    before = config(at)
    before_run = run_name(at)
    assert getattr(before, field) != value
    set_field(at, field, value)
    after = config(at)
    assert getattr(after, field) == value
    expected = {f: getattr(before, f) for f in widgets.CONFIG_FIELDS if f != field}
    if field == "dataset":
        expected["feature"] = 0  # a new table starts at its first feature
    assert {f: getattr(after, f) for f in expected} == expected
    assert step_of(at) == 0
    assert at.session_state["playground_cursor"] == 0
    assert player_view.data(at)["run"] != before_run  # a new run, opened at step 0
    # Every widget still shows the config.
    for f in widgets.CONFIG_FIELDS:
        if has_widget(at, f"playground_{f}"):
            assert widget(at, f"playground_{f}").value == getattr(after, f), f
    if field in ("init_intercept", "init_slope"):
        assert [number(at, "Intercept"), number(at, "Slope on x")] == [after.init_intercept, after.init_slope]


# ---------------------------------------------------------------------------------------------
# 10. Bad input
# ---------------------------------------------------------------------------------------------


def test_unloadable_california_is_reported_and_nothing_is_lost(monkeypatch, tmp_path, fresh_loader_cache, line):
    _, X1, y = line
    missing = tmp_path / "no_such_california.csv"
    monkeypatch.setenv("GDVIZ_CALIFORNIA_CSV", str(missing))
    at = new_app()
    click(at, "playground_step10")
    before = config(at)
    ok(at.selectbox(key="playground_dataset").set_value("california_housing").run())
    errors = [e.value for e in at.error]
    assert len(errors) == 1, errors
    assert "California housing" in errors[0] and str(missing) in errors[0]
    assert "Traceback" not in errors[0]
    assert config(at) == before
    assert at.selectbox(key="playground_dataset").value == "synthetic_line"
    assert has_widget(at, "playground_n_samples") and not has_widget(at, "playground_feature")
    assert step_of(at) == 10  # the run in progress is kept
    assert sorted(chart_keys(at)) == sorted(CHART_KEYS)
    # The next good change clears the message.
    set_field(at, "noise", 0.5)
    assert not at.error


# ---------------------------------------------------------------------------------------------
# 11. Session state pickles
# ---------------------------------------------------------------------------------------------


def test_everything_gdviz_keeps_in_session_state_pickles():
    at = new_app()
    click(at, "playground_preset_divergent")
    click(at, "playground_end")
    ok(at.selectbox(key="playground_optimizer").set_value("adam").run())
    click(at, "playground_step10")
    go_to(at, 40)
    keys = [k for k in at.session_state if k.startswith(("playground_", "gdviz_"))]
    assert {"gdviz_config", "playground_cursor"} <= set(keys)
    assert PLAYER_ELEMENT not in keys  # the player's key holds Streamlit's own presenter: not "playground_"
    for key in keys:
        value = at.session_state[key]
        assert pickle.loads(pickle.dumps(value)) == value, key


def test_a_stalled_run_is_not_sold_as_reaching_the_minimum(line):
    # At rate 1e-12 the first update is far shorter than tol: the stop rule fires at step 1 with the loss
    # still at the start. The page must say that the run stopped, not that it found the minimum.
    _, X1, y = line
    at = new_app()
    ok(at.number_input(key="playground_learning_rate").set_value(1e-12).run())
    click(at, "playground_end")
    assert metrics(at)["Status"] == "stalled"  # the stop rule fired; "converged" would claim the minimum
    notes = [e.value for e in at.info if "not at the minimum" in e.value]
    assert len(notes) == 1
    w_star = np.linalg.lstsq(X1, y, rcond=None)[0]
    floor = np.mean((X1 @ w_star - y) ** 2)
    assert f"{floor:.4g}" in notes[0]
    assert diverged_note(at) is None


def test_a_run_started_at_the_optimum_is_neither_divergent_nor_negative():
    at = new_app()
    ok(at.number_input(key="playground_noise").set_value(0.0).run())
    ok(at.number_input(key="playground_init_intercept").set_value(4.0).run())
    ok(at.number_input(key="playground_init_slope").set_value(3.0).run())  # y = 4 + 3x exactly: the optimum
    assert float(metrics(at)["Loss"]) >= 0.0
    for optimizer in ("gd", "adam"):
        ok(at.selectbox(key="playground_optimizer").set_value(optimizer).run())
        click(at, "playground_step1")
        click(at, "playground_end")
        assert float(metrics(at)["Loss"]) >= 0.0
        assert diverged_note(at) is None  # round-off at the floor is not divergence


@pytest.mark.parametrize("typed", [None, 0.0])
def test_a_cleared_or_zero_rate_box_keeps_the_rate_and_says_why(typed):
    # A cleared number box falls back to its minimum: that must never become the learning rate.
    at = new_app()
    set_field(at, "learning_rate", 0.0123)
    at.number_input(key="playground_learning_rate").set_value(typed).run()
    assert not at.exception
    assert config(at).learning_rate == 0.0123
    assert at.number_input(key="playground_learning_rate").value == 0.0123
    assert any("must be a number above 0" in e.value and "0.0123" in e.value for e in at.error)


# ---------------------------------------------------------------------------------------------
# 11. Issue 13: the Optimal momentum preset, the batch size
# Oracles: eigvalsh of (2/n) X1^T X1 for Polyak's settings and factors, the heavy-ball loop above, each row's
# gradient written here, numpy's default_rng(seed).permutation for the first epoch's order.
# ---------------------------------------------------------------------------------------------


def test_optimal_momentum_preset_sets_polyaks_settings_and_compares_them_with_gd(line):
    _, X1, y = line
    lo, hi = hessian_eigs(X1)
    kappa = hi / lo
    rate, beta = sig((2 / (np.sqrt(hi) + np.sqrt(lo))) ** 2), sig(((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)) ** 2)
    at = click(new_app(), "playground_preset_momentum")
    c = config(at)
    assert (c.optimizer, c.learning_rate, c.beta) == ("momentum", pytest.approx(rate, rel=1e-12), beta)
    assert at.selectbox(key="playground_optimizer").value == "momentum"
    assert at.number_input(key="playground_beta").value == beta
    assert at.number_input(key="playground_learning_rate").value == pytest.approx(rate, rel=1e-12)
    expected = heavy_ball(X1, y, c.learning_rate, beta, 3)
    p = player_view.payload(at)
    np.testing.assert_allclose(np.column_stack([p["columns"]["p0"][:4], p["columns"]["p1"][:4]]), expected, rtol=1e-12)
    # The theory panel: heavy ball's factor beside GD's, from the eigenvalues; predicted steps beside measured.
    (table,) = [t for t in at.table if "factor per step" in t.value.columns]
    frame = table.value
    assert frame["factor per step"].iloc[0] == f"{(kappa - 1) / (kappa + 1):.4g}"
    assert frame["factor per step"].iloc[1] == f"{(np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1):.4g}"
    click(at, "playground_end")
    measured = step_of(at)
    assert metrics(at)["Status"] == "converged"
    assert frame["measured steps"].iloc[2] == f"converged in {measured:,} steps"
    assert abs(float(frame["predicted steps"].iloc[2].replace(",", "")) - measured) <= 0.05 * measured
    # Fewer steps than plain GD at its best constant rate (the naive loop).
    gd = naive_gd(X1, y, 2 / (lo + hi))
    assert measured < gd.steps


def test_the_batch_widget_runs_mini_batches_and_the_page_says_what_they_change(line):
    _, X1, y = line
    n = len(y)
    at = new_app()
    assert at.number_input(key="playground_batch_size").value == 0
    assert at.number_input(key="playground_batch_size").max == n  # the data's rows
    full_run = run_name(at)
    set_field(at, "batch_size", 1)
    assert config(at).batch_size == 1 and run_name(at) != full_run
    # Each of the first n updates is -rate x one row's gradient, the rows in default_rng(seed)'s shuffled order.
    order = np.random.default_rng(config(at).seed).permutation(n)
    p = player_view.payload(at)
    w = np.column_stack([p["columns"]["p0"], p["columns"]["p1"]])
    for t in range(n):
        i = order[t]
        row_grad = 2.0 * (X1[i] @ w[t] - y[i]) * X1[i]
        np.testing.assert_allclose(w[t + 1], w[t] - DEFAULT_LR * row_grad, rtol=1e-12, atol=1e-14)
    # The read-out's gradient stays the full-data gradient; the loss chart shows the floor and the plateau.
    go_to(at, 5)
    assert_readout(at, 5, w[5], X1, y)
    click(at, "playground_end")
    loss_fig = live_figure(at, "playground_loss")
    names = [t["name"] for t in loss_fig["data"]]
    assert any(n.startswith("noise plateau") for n in names) and any(n.startswith("least-squares floor") for n in names)
    assert "full-batch GD, closed form (not this run)" in names
    text = " ".join(m.value for m in at.markdown)
    assert f"Mini-batch of 1 of the {n} rows" in text and "2/lambda_max is the full-batch bound" in text
    assert "That prediction is for full batch" in banner(at)
    eigen = live_figure(at, "playground_eigen")
    assert not any(str(t.get("name", "")).startswith("closed form") for t in eigen["data"])
    # Back to full batch: the closed form again.
    set_field(at, "batch_size", 0)
    assert run_name(at) == full_run
    assert "predicted (closed form)" in [t["name"] for t in live_figure(at, "playground_loss")["data"]]


def test_a_batch_too_large_for_new_data_goes_back_to_full_batch_and_says_so():
    at = new_app()
    ok(at.selectbox(key="playground_dataset").set_value("diabetes").run())
    set_field(at, "batch_size", 300)
    assert config(at).batch_size == 300
    ok(at.selectbox(key="playground_dataset").set_value("synthetic_line").run())
    assert config(at).dataset == "synthetic_line" and config(at).batch_size == 0
    assert at.number_input(key="playground_batch_size").value == 0
    assert any("more than the 20 rows of this data: back to full batch" in w.value for w in at.warning)
    assert not at.exception


def test_a_link_with_a_batch_larger_than_the_data_opens_full_batch_with_a_notice():
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["dataset"] = "diabetes"
    at.query_params["batch"] = "500"
    ok(at.run())
    assert config(at).dataset == "diabetes" and config(at).batch_size == 0
    assert any("500 is more than the 442 rows" in w.value for w in at.warning)
