"""The learning-rate sweep page under AppTest, checked against oracles written here.

Oracles: the Hessian spectrum from ``np.linalg.eigvalsh`` of (2/n) X1^T X1, a naive gradient-descent loop
(one update at a time, the stop rules of STYLE.md section 3) and ``np.linalg.lstsq``. The page is driven
through its widgets; what is asserted is session state and the data inside its two Plotly charts.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from gdviz import data
from tests.chart_utils import decode

ROOT = Path(__file__).resolve().parents[2]
TOL = 1e-6


# ---------------------------------------------------------------------------------------------
# Oracles (no gdviz code)
# ---------------------------------------------------------------------------------------------


def design(x: np.ndarray) -> np.ndarray:
    return np.column_stack([np.ones(len(x)), np.ravel(x)])


def eigs(X1: np.ndarray) -> np.ndarray:
    return np.linalg.eigvalsh(2.0 / len(X1) * X1.T @ X1)


def loss_of(X1, y, w) -> float:
    """mean((X1 w - y)^2), overflowing only when the true value passes float64's range."""
    r = X1 @ w - y
    s = np.max(np.abs(r))
    if not np.isfinite(s):
        return float("inf")
    return 0.0 if s == 0 else float((s * np.sqrt(np.mean((r / s) ** 2))) ** 2)


def naive_gd(X1, y, lr, *, tol=TOL, max_steps=10_000) -> tuple[str, int, float]:
    """(status, step it stopped at, final loss) of plain GD from zeros."""
    w = np.zeros(2)
    with np.errstate(all="ignore"):
        for t in range(1, max_steps + 1):
            new = w - lr * (2.0 / len(y)) * X1.T @ (X1 @ w - y)
            loss = loss_of(X1, y, new) if np.isfinite(new).all() else float("inf")
            if not np.isfinite(loss):
                return "diverged", t, loss
            if np.linalg.norm(new - w) < tol:
                return "converged", t, loss
            w = new
    return "max_steps", max_steps, loss


@pytest.fixture(scope="module")
def line():
    ds = data.synthetic_line()
    X1 = design(ds.X[:, 0])
    return X1, np.array(ds.y)


# ---------------------------------------------------------------------------------------------
# Reading the page
# ---------------------------------------------------------------------------------------------


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.message for e in at.exception]
    return at


def sweep_app() -> AppTest:
    at = ok(AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run())
    return ok(at.switch_page("pages/sweep.py").run())


def chart(at: AppTest, title_start: str) -> dict:
    figs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    found = [f for f in figs if f["layout"]["title"]["text"].startswith(title_start)]
    assert len(found) == 1, [f["layout"]["title"]["text"] for f in figs]
    return found[0]


def steps_fig(at):
    return chart(at, "Steps to converge")


def loss_fig(at):
    return chart(at, "Final loss")


def traces(fig: dict, prefix: str) -> dict:
    found = [t for t in fig["data"] if t["name"].startswith(prefix)]
    assert len(found) == 1, [t["name"] for t in fig["data"]]
    return found[0]


def points(fig: dict, prefix: str) -> tuple[np.ndarray, np.ndarray]:
    t = traces(fig, prefix)
    x = decode(t["x"]).astype(float) if t.get("x") is not None else np.array([])
    y = t.get("y")
    y = decode(y) if isinstance(y, dict) else np.asarray(y if y is not None else [])
    return x, y


def shapes(fig: dict) -> dict[str, dict]:
    return {s["name"]: s for s in fig["layout"]["shapes"]}


def swept_rates(at: AppTest) -> np.ndarray:
    """Every rate drawn in the steps chart (each run sits in exactly one outcome trace)."""
    fig = steps_fig(at)
    xs = [points(fig, name)[0] for name in ("converged", "still moving", "growing", "diverged")]
    return np.sort(np.concatenate(xs))


def expected_rates(low: float, high: float, n: int, lam_max: float) -> np.ndarray:
    return np.geomspace(low * 2 / lam_max, high * 2 / lam_max, n)


@pytest.fixture(scope="module")
def default_app() -> AppTest:
    """The page as first shown (read only)."""
    return sweep_app()


CAPPED = (1e-3, 1_000)  # a wide range under a short cap: every outcome shows (still moving, growing too)


@pytest.fixture(scope="module")
def capped_app() -> AppTest:
    """The sweep from 1e-3 x 2/lambda_max under a 1,000-step cap (read only)."""
    at = sweep_app()
    at.number_input(key="sweep_low").set_value(CAPPED[0])
    at.number_input(key="sweep_max_steps").set_value(CAPPED[1])
    return ok(at.button(key="sweep_go").click().run())


# ---------------------------------------------------------------------------------------------
# Thresholds, zones and the swept rates
# ---------------------------------------------------------------------------------------------


def assert_backdrop(fig: dict, lam: np.ndarray, rates: np.ndarray) -> None:
    lo, hi = lam[0], lam[-1]
    s = shapes(fig)
    for name, x in (("1/lambda_max", 1 / hi), ("2/(lambda_min+lambda_max)", 2 / (lo + hi)), ("2/lambda_max", 2 / hi)):
        line = s[f"threshold: {name}"]
        assert line["type"] == "line"
        assert line["x0"] == pytest.approx(x, rel=1e-9)
        assert line["x1"] == pytest.approx(x, rel=1e-9)
    # Zones: slow below 0.2/lambda_max, good to 1/lambda_max, oscillating to 2/lambda_max, then divergent.
    zones = {name.removeprefix("zone: "): (z["x0"], z["x1"]) for name, z in s.items() if name.startswith("zone: ")}
    assert set(zones) == {"slow", "good", "oscillating", "divergent"}
    assert zones["slow"][0] <= rates[0] and zones["divergent"][1] >= rates[-1]
    assert zones["slow"][1] == pytest.approx(0.2 / hi, rel=1e-9)
    assert zones["good"] == pytest.approx((0.2 / hi, 1 / hi), rel=1e-9)
    assert zones["oscillating"] == pytest.approx((1 / hi, 2 / hi), rel=1e-9)
    assert zones["divergent"][0] == pytest.approx(2 / hi, rel=1e-9)
    # Each line is labelled with its value, on a log axis (annotation x in log10 units).
    labels = [a for a in fig["layout"]["annotations"] if a["text"].startswith(("1/λ", "2/"))]
    assert sorted(10 ** a["x"] for a in labels) == pytest.approx(sorted([1 / hi, 2 / (lo + hi), 2 / hi]), rel=1e-9)


def test_default_sweep_covers_the_default_range_on_both_charts(default_app, line):
    lam = eigs(line[0])
    rates = swept_rates(default_app)
    np.testing.assert_allclose(rates, expected_rates(0.03, 2.0, 200, lam[-1]), rtol=1e-9)
    for fig in (steps_fig(default_app), loss_fig(default_app)):
        assert fig["layout"]["xaxis"]["type"] == "log"
        assert fig["layout"]["yaxis"]["type"] == "log"
        assert_backdrop(fig, lam, rates)
    assert not default_app.error
    pickle.loads(pickle.dumps(default_app.session_state["sweep_run"]))  # plain data only in session state


def test_defaults_let_most_rates_finish_so_steps_follow_the_rate(default_app, line):
    """With the default range and cap on the default data, almost every run ends (converges or overflows)
    before the cap, and the steps the converged ones took spread over more than a decade."""
    X1, y = line
    fig = steps_fig(default_app)
    rates = swept_rates(default_app)
    outcomes = [naive_gd(X1, y, r)[0] for r in rates[::10]]  # every tenth rate, the naive loop at the cap
    assert outcomes.count("max_steps") <= 1, outcomes
    still, _ = points(fig, "still moving")
    assert still.size <= 0.05 * rates.size  # at most 5% still moving at the cap
    _, steps = points(fig, "converged")
    steps = steps.astype(float)
    assert steps.size >= 0.75 * rates.size
    assert steps.max() > 10 * steps.min()  # not flat: the slowest converged run took 10x the fastest's steps
    text = " ".join(m.value for m in default_app.markdown)
    assert f"at most {10_000:,} steps each" in text


def test_measured_steps_match_a_naive_loop(capped_app, line):
    X1, y = line
    fig = steps_fig(capped_app)
    checked = set()
    for prefix, status in (("converged", "converged"), ("still moving", "max_steps"), ("diverged", "diverged")):
        xs, ys = points(fig, prefix)
        assert xs.size, prefix
        for k in sorted({0, xs.size // 2, xs.size - 1}):
            got_status, steps, _ = naive_gd(X1, y, xs[k], max_steps=CAPPED[1])
            assert got_status == status, (prefix, xs[k])
            assert ys[k] == steps, (prefix, xs[k])
            checked.add(status)
    assert checked == {"converged", "max_steps", "diverged"}
    # The cap line sits at the sweep's step cap.
    cap_x, cap_y = points(fig, "step cap of this sweep: 1,000")
    assert list(cap_y) == [1000, 1000]


def test_prediction_matches_the_naive_loop_where_runs_converge(default_app, line):
    X1, y = line
    fig = steps_fig(default_app)
    px, py = points(fig, "predicted")
    cx, cy = points(fig, "converged")
    common = np.intersect1d(px, cx)
    assert common.size > 5
    for r in common[:: max(1, common.size // 5)]:
        assert py[px == r][0] == naive_gd(X1, y, r)[1]
    # No prediction is drawn from 2/lambda_max on (the closed form says "never"), and that is said.
    assert px.max() < 2 / eigs(X1)[-1]
    assert "never converge" in fig["layout"]["title"]["subtitle"]["text"]


def test_final_loss_shows_every_run_and_labels_the_overflowed_ones(capped_app, line):
    X1, y = line
    fig = loss_fig(capped_app)
    cx, cy = points(fig, "converged")
    for k in (0, cx.size - 1):
        assert cy[k] == pytest.approx(naive_gd(X1, y, cx[k], max_steps=CAPPED[1])[2], rel=1e-9)
    gx, gy = points(fig, "growing")
    assert gx.size and np.all(gy > np.mean(y**2))  # above the start loss, drawn as they are (no clipping)
    for k in (0, gx.size - 1):
        status, _, loss = naive_gd(X1, y, gx[k], max_steps=CAPPED[1])
        assert status == "max_steps" and gy[k] == pytest.approx(loss, rel=1e-6)
    ox, oy = points(fig, "diverged")
    assert ox.size and set(oy) == {"overflowed (inf)"}
    assert traces(fig, "diverged")["yaxis"] == "y2"
    assert fig["layout"]["yaxis2"]["categoryarray"] == ["overflowed (inf)"]
    for r in (ox[0], ox[-1]):
        assert naive_gd(X1, y, r, max_steps=CAPPED[1])[0] == "diverged"
    n = sum(points(fig, p)[0].size for p in ("converged", "still moving", "growing", "diverged"))
    assert n == 200  # not one run dropped
    assert traces(fig, "loss at the start")["y"][0] == pytest.approx(np.mean(y**2), rel=1e-12)
    floor = np.mean((X1 @ np.linalg.lstsq(X1, y, rcond=None)[0] - y) ** 2)
    assert traces(fig, "least-squares floor")["y"][0] == pytest.approx(floor, rel=1e-9)


def test_hover_tells_rate_steps_loss_and_regime(default_app, line):
    lam_max = eigs(line[0])[-1]
    t = traces(steps_fig(default_app), "converged")
    assert "rate %{x" in t["hovertemplate"] and "regime (theory)" in t["hovertemplate"]
    x = decode(t["x"])
    for k in (0, len(x) - 1):
        row = t["customdata"][k]
        r = x[k] * lam_max
        regime = "Divergent" if r >= 2 else "Oscillating" if r > 1 else "Good" if r >= 0.2 else "Slow"
        assert row[2] == regime and row[3] == "converged" and row[0].endswith("(converged)")


# ---------------------------------------------------------------------------------------------
# Controls
# ---------------------------------------------------------------------------------------------


def test_run_sweep_with_1000_rates_and_a_step_cap(line):
    X1, y = line
    at = sweep_app()
    at.number_input(key="sweep_low").set_value(1e-3)
    at.number_input(key="sweep_n_rates").set_value(1000)
    at.number_input(key="sweep_max_steps").set_value(300)
    ok(at.run())
    assert any("Run sweep" in i.value for i in at.info)  # changed, not yet run: the charts say so
    ok(at.button(key="sweep_go").click().run())
    assert at.session_state["sweep_run"].run_id == 2
    rates = swept_rates(at)
    np.testing.assert_allclose(rates, expected_rates(1e-3, 2.0, 1000, eigs(X1)[-1]), rtol=1e-9)
    xs, ys = points(steps_fig(at), "still moving")
    assert np.all(ys == 300)
    assert naive_gd(X1, y, xs[-1], max_steps=300)[0] == "max_steps"
    assert not at.info


def test_absolute_range_and_switching_modes_keeps_the_rates(line):
    lam_max = eigs(line[0])[-1]
    at = sweep_app()
    ok(at.radio(key="sweep_relative").set_value(False).run())
    assert at.number_input(key="sweep_low").value == pytest.approx(0.03 * 2 / lam_max, rel=1e-3)
    assert at.number_input(key="sweep_high").value == pytest.approx(2 * 2 / lam_max, rel=1e-3)
    at.number_input(key="sweep_low").set_value(0.01)
    at.number_input(key="sweep_high").set_value(0.1)
    ok(at.button(key="sweep_go").click().run())
    np.testing.assert_allclose(swept_rates(at), np.geomspace(0.01, 0.1, 200), rtol=1e-9)


@pytest.mark.parametrize(
    ("low", "high", "message"),
    [(0.5, 0.5, "needs low < high"), (2.0, 1.0, "needs low < high"), (1e-12, 1.0, "leave the range")],
)
def test_bad_range_is_an_error_message_not_a_traceback(low, high, message):
    at = sweep_app()
    at.number_input(key="sweep_low").set_value(low)
    at.number_input(key="sweep_high").set_value(high)
    ok(at.button(key="sweep_go").click().run())
    assert any(message in e.value for e in at.error), [e.value for e in at.error]
    assert at.session_state["sweep_run"].run_id == 1  # the last good sweep stays on show


def test_changing_the_data_reruns_the_sweep_on_it(diabetes_xy):
    at = sweep_app()
    ok(at.selectbox(key="sweep_dataset").set_value("diabetes").run())
    assert at.session_state["gdviz_config"].dataset == "diabetes"
    X, y = diabetes_xy
    X1 = design(X[:, 0])
    lam = eigs(X1)
    rates = swept_rates(at)
    np.testing.assert_allclose(rates, expected_rates(0.03, 2.0, 200, lam[-1]), rtol=1e-9)
    assert_backdrop(steps_fig(at), lam, rates)
    xs, ys = points(steps_fig(at), "diverged")
    assert ys[0] == naive_gd(X1, y, xs[0])[1]


# ---------------------------------------------------------------------------------------------
# Opening a rate in the Playground
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("visited_playground", [False, True])
def test_choosing_a_rate_opens_it_in_the_playground(visited_playground):
    at = ok(AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run())
    if visited_playground:  # the Playground's widgets exist with another rate and optimizer
        ok(at.selectbox(key="playground_optimizer").set_value("momentum").run())
        assert at.number_input(key="playground_learning_rate").value == 0.05
    ok(at.switch_page("pages/sweep.py").run())
    rate = float(swept_rates(at)[37])
    labels = at.selectbox(key="sweep_pick_1").options
    k = next(i for i, text in enumerate(labels) if text.startswith(f"{rate:.6g} ("))
    ok(at.selectbox(key="sweep_pick_1").set_value(k).run())
    ok(at.button(key="sweep_open").click().run())
    config = at.session_state["gdviz_config"]
    short = config.learning_rate
    assert (config.optimizer, config.schedule) == ("gd", "constant")
    # The shortest text that reproduces the run: fewer figures than the swept rate, the same run in a naive loop,
    # and no shorter rounding of it would do.
    assert len(repr(short)) < len(repr(rate)) and short == pytest.approx(rate, rel=5e-3)
    X1, y = design(data.synthetic_line().X[:, 0]), np.array(data.synthetic_line().y)
    assert naive_gd(X1, y, short)[:2] == naive_gd(X1, y, rate)[:2]
    digits = len(f"{short:.17g}".rstrip("0").replace("0.", "", 1).lstrip("0").replace(".", ""))
    if digits > 3:
        assert naive_gd(X1, y, float(f"{rate:.{digits - 1}g}"))[:2] != naive_gd(X1, y, rate)[:2]
    assert [t.value for t in at.title] == ["Playground"]
    assert at.number_input(key="playground_learning_rate").value == short
    assert at.selectbox(key="playground_optimizer").value == "gd"


def test_switching_modes_at_the_edge_of_the_boxes_is_no_traceback(line):
    assert 2 / eigs(line[0])[-1] < 1  # so 1e-12 x 2/lambda_max falls below the boxes' minimum of 1e-12
    at = sweep_app()
    ok(at.number_input(key="sweep_low").set_value(1e-12).run())
    assert any("leave the range" in e.value for e in at.error)
    ok(at.radio(key="sweep_relative").set_value(False).run())
    assert at.number_input(key="sweep_low").value == 1e-12  # held at the box's bound, not an exception
    assert not at.error
