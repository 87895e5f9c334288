"""gdviz.regimes (the Regimes page's pure logic) against oracles written here: eigvalsh for the spectrum,
a naive gradient-descent loop for what a run does."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gdviz import engine, playback, regimes
from gdviz.analysis import Regime
from gdviz.config import RATE_MAX, RATE_MIN, RunConfig
from gdviz.engine import Status
from gdviz.runs import one_feature_problem, simulate
from tests import player_view

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def line():
    """(config, problem, X1, y, eigenvalues) of the default synthetic line, X1 and y rebuilt from raw arrays."""
    config = RunConfig()
    problem = one_feature_problem(config)
    ds = config.make_dataset()
    X1 = np.column_stack([np.ones(len(ds.y)), np.array(ds.X[:, 0])])
    y = np.array(ds.y)
    return config, problem, X1, y, np.linalg.eigvalsh(2.0 / len(y) * X1.T @ X1)


def loss_of(X1, y, w) -> float:
    """mean((X1 w - y)^2), scaled so that it only overflows when the true value exceeds float64."""
    r = X1 @ w - y
    s = np.max(np.abs(r))
    if not np.isfinite(s):
        return float("inf")
    return float((s * np.sqrt(np.mean((r / s) ** 2))) ** 2) if s else 0.0


def naive_steps(X1, y, rate, *, tol=1e-6, max_steps=10_000, decay=0.0) -> tuple[str, int]:
    """(status, step at which it stopped) of plain GD written out, rate / (1 + decay (t - 1)) for update t."""
    w = np.zeros(2)
    with np.errstate(all="ignore"):
        for t in range(1, max_steps + 1):
            new = w - rate / (1 + decay * (t - 1)) * (2 / len(y)) * X1.T @ (X1 @ w - y)
            if not (np.isfinite(new).all() and np.isfinite(loss_of(X1, y, new))):
                return "diverged", t
            if np.linalg.norm(new - w) < tol:
                return "converged", t
            w = new
    return "max_steps", max_steps


def test_core_module_imports_no_streamlit():
    code = (
        "import json, sys, gdviz.regimes, gdviz.plots.regimes\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert "streamlit" not in json.loads(done.stdout.strip().splitlines()[-1])
    assert "gdviz" in json.loads(done.stdout.strip().splitlines()[-1])


def test_preset_rates_are_multiples_of_one_over_lambda_max(line):
    _, problem, _, _, lam = line
    rates = regimes.preset_rates(problem)
    expected = {"slow": 0.05, "good": 0.5, "oscillating": 1.6, "divergent": 2.1}
    assert list(rates) == list(regimes.SLOTS)
    for slot, r in expected.items():
        assert rates[slot] == float(f"{r / lam[-1]:.4g}")


def test_lanes_order_custom_pinned_and_the_decaying_run(line):
    config, problem, _, _, lam = line
    big = config.replace(max_steps=150_000, tol=1e-8, init_slope=2.0, optimizer="adam", schedule="step_decay")
    lanes = regimes.lanes(big, problem, {"good": 0.07}, [0.07, 0.3])
    assert [lane.key for lane in lanes] == ["slow", "good", "oscillating", "divergent", "decay", "pinned_0", "pinned_1"]
    for lane in lanes:
        assert lane.config.max_steps == regimes.STEP_CAP  # capped
        assert (lane.config.tol, lane.config.init_slope, lane.config.optimizer) == (1e-8, 2.0, "gd")
    good = lanes[1]
    assert good.custom and good.config.learning_rate == 0.07 and good.title == "Good slot: your rate"
    assert not lanes[0].custom and lanes[0].title == "Slow rate"
    # The predicted regime comes from r = rate x lambda_max.
    assert 0.3 * lam[-1] >= 2 and lanes[6].regime is Regime.DIVERGENT
    assert 0.2 <= 0.07 * lam[-1] <= 1 and lanes[1].regime is Regime.GOOD and lanes[5].regime is Regime.GOOD
    decay = lanes[4]
    assert decay.regime is None and decay.config.schedule == "inverse_time"
    assert decay.config.decay_rate == regimes.DECAY_RATE
    assert decay.config.learning_rate == float(f"{regimes.DECAY_START / lam[-1]:.4g}")
    assert decay.config.learning_rate > 2 / lam[-1]  # it starts divergent
    assert all(lane.config.schedule == "constant" for k, lane in enumerate(lanes) if k != 4)


def test_small_max_steps_is_kept(line):
    config, problem, *_ = line
    assert all(lane.config.max_steps == 7 for lane in regimes.lanes(config.replace(max_steps=7), problem))


def test_rate_relation_reads_the_rate_against_both_thresholds(line):
    _, problem, _, _, lam = line
    rate = 0.18
    assert regimes.rate_relation(rate, problem) == (
        f"0.18 = {rate * lam[-1]:.3g} x 1/lambda_max, {rate * lam[-1] / 2:.3g} x 2/lambda_max"
    )


@pytest.mark.parametrize("r", [0.05, 0.5, 1.6, 2.1])
def test_outcome_matches_a_naive_loop(line, r):
    config, problem, X1, y, lam = line
    rate = r / lam[-1]
    traj = simulate(config.replace(learning_rate=rate), problem)
    status, steps = naive_steps(X1, y, rate)
    text = regimes.outcome(traj)
    assert (
        text
        == {
            "converged": f"converged in {steps:,} steps",
            "diverged": f"diverged at step {steps:,}",
            "max_steps": f"still moving after {steps:,} steps",
        }[status]
    )


def test_below_step_and_the_decay_story(line):
    config, problem, X1, y, lam = line
    lane = regimes.lanes(config, problem)[4]
    traj = simulate(lane.config, problem)
    r0 = lane.config.learning_rate
    first_below = next(t for t in range(1, 10_000) if r0 / (1 + regimes.DECAY_RATE * (t - 1)) < 2 / lam[-1])
    assert regimes.below_step(traj, 2 / lam[-1]) == first_below
    assert regimes.below_step(traj, 1e-300) is None
    status, steps = naive_steps(X1, y, r0, decay=regimes.DECAY_RATE)
    assert status == "converged"
    story = regimes.decay_story(problem, traj)
    assert f"From step {first_below} on" in story and f"converged in {steps:,} steps" in story
    assert regimes.observed_label(problem, lane, traj) == f"Divergent (steps 1-{first_below - 1}), then Oscillating"


def test_summary_rows(line):
    config, problem, X1, y, lam = line
    lanes = regimes.lanes(config, problem)
    rows = {lane.key: regimes.summary_row(problem, lane, simulate(lane.config, problem)) for lane in lanes}
    assert rows["divergent"].predicted == rows["divergent"].observed == "Divergent"
    assert rows["divergent"].predicted_steps == "never"
    _, div_steps = naive_steps(X1, y, lanes[3].config.learning_rate)
    assert rows["divergent"].measured_steps == f"never (diverged at step {div_steps:,})"
    assert rows["divergent"].final_loss.startswith("overflow (last finite ")
    status, steps = naive_steps(X1, y, lanes[1].config.learning_rate)
    assert status == "converged"
    assert rows["good"].predicted_steps == rows["good"].measured_steps == f"{steps:,}"
    assert rows["slow"].measured_steps == "not yet (stopped at 10,000)"
    assert rows["decay"].predicted_steps == "no closed form"
    assert rows["decay"].rate == f"{lanes[4].config.learning_rate:.4g} / (1 + 0.01 t)"


def test_a_run_that_stops_at_step_0():
    traj = engine.collect([engine.State(0, np.zeros(2), np.zeros(2), 1.0, np.nan, np.nan, None, Status.MAX_STEPS)])
    assert regimes.outcome(traj) == "still moving after 0 steps"


def test_nearest_step():
    steps = np.array([0, 1, 2, 10, 40])
    assert [regimes.nearest_step(steps, s) for s in (-5, 2, 5, 7, 90)] == [0, 2, 2, 10, 40]


def test_preset_and_decay_rates_stay_in_the_range_a_run_accepts():
    # x centred at 9e5: lambda_max ~ 2 mean(x^2) ~ 1.6e12 (eigvalsh written here), so the slow preset
    # 0.05 / lambda_max ~ 3e-14 is below RunConfig's smallest rate: the lanes use 1e-12 instead of failing.
    config = RunConfig(x_loc=9e5)
    problem = one_feature_problem(config)
    ds = config.make_dataset()
    X1 = np.column_stack([np.ones(len(ds.y)), ds.X[:, 0]])
    lam_max = np.linalg.eigvalsh(2 * X1.T @ X1 / len(ds.y))[-1]
    assert 0.05 / lam_max < RATE_MIN
    rates = regimes.preset_rates(problem)
    assert rates["slow"] == RATE_MIN
    assert rates["divergent"] == pytest.approx(2.1 / lam_max, rel=1e-3)
    lanes = regimes.lanes(config, problem)  # builds a RunConfig per lane: none is refused
    assert all(RATE_MIN <= lane.config.learning_rate <= RATE_MAX for lane in lanes)


# ---------------------------------------------------------------------------------------------
# The player's payload: every lane on one step axis
# ---------------------------------------------------------------------------------------------

NAMES = ("intercept", "slope on x")


def strict_json(text: str) -> dict:
    """The payload parsed as JSON proper: NaN, Infinity and -Infinity are refused."""

    def refuse(word):
        raise AssertionError(f"{word} in the payload")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture(scope="module")
def payload(line):
    """(lanes, trajectories, Player, parsed JSON) of the default page: all four endings and the decaying run."""
    config, problem, *_ = line
    lanes = regimes.lanes(config, problem)
    trajs = [simulate(lane.config, problem) for lane in lanes]
    p = regimes.player(lanes, trajs, problem, NAMES)
    return lanes, trajs, p, strict_json(regimes.player_json(p, run="r"))


def test_every_row_is_the_lanes_run_at_the_aligned_row(payload):
    lanes, trajs, p, got = payload
    steps, rows = playback.aligned_rows(trajs, regimes.PLAYER_ROWS)
    np.testing.assert_array_equal(p.steps, steps)
    assert got["n"] == len(steps) and got["columns"]["step"] == steps.tolist()
    for lane, traj, r in zip(lanes, trajs, rows, strict=True):
        end = int(np.argmax(r == traj.n_states - 1))  # the first row at which the lane shows its last state
        assert r[end] == traj.n_states - 1 and (end == 0 or r[end - 1] < traj.n_states - 1)
        k = lane.key
        for col, values in ((f"{k}.p0", traj.params[:, 0]), (f"{k}.p1", traj.params[:, 1]), (f"{k}.loss", traj.loss)):
            sent = np.array([np.nan if v is None else v for v in got["columns"][col]])
            assert len(sent) == end + 1  # nothing past the row where the lane stopped: it stays there
            want = values[r[: end + 1]]
            want = np.where(np.isfinite(want), want, np.nan)
            if col.endswith(".loss"):  # read out: sent exactly (repr round-trips float64)
                np.testing.assert_array_equal(sent, want)
            else:  # drawn only: CHART_DIGITS significant figures
                np.testing.assert_allclose(sent, want, rtol=10.0 ** (1 - regimes.CHART_DIGITS), atol=0)
        gap = np.array([np.nan if v is None else v for v in got["columns"][f"{k}.gap"]])
        with np.errstate(invalid="ignore"):
            want = traj.loss[r[: end + 1]] - regimes_floor(lane, traj)
        ok = np.isfinite(want) & (want > 0)
        np.testing.assert_allclose(gap[ok], want[ok], rtol=1e-7)
        assert np.isnan(gap[~ok]).all()


def regimes_floor(lane, traj) -> float:
    """J* = min mean((X1 w - y)^2) by np.linalg.lstsq on the default line (every lane shares it)."""
    ds = lane.config.make_dataset()
    X1 = np.column_stack([np.ones(len(ds.y)), np.array(ds.X[:, 0])])
    w = np.linalg.lstsq(X1, np.array(ds.y), rcond=None)[0]
    return float(np.mean((X1 @ w - np.array(ds.y)) ** 2))


def test_the_first_steps_of_each_lane_are_a_naive_gd_loop(payload, line):
    _, _, X1, y, _ = line
    lanes, _, _, got = payload
    for lane in lanes:
        w, decay = np.zeros(2), lane.config.decay_rate if lane.key == "decay" else 0.0
        for t in range(1, 6):  # the shared axis holds every early step
            rate = lane.config.learning_rate / (1 + decay * (t - 1))
            w = w - rate * (2 / len(y)) * X1.T @ (X1 @ w - y)
            assert got["columns"]["step"][t] == t
            shown = [got["columns"][f"{lane.key}.p0"][t], got["columns"][f"{lane.key}.p1"][t]]
            np.testing.assert_allclose(shown, w, rtol=1e-7, atol=1e-12)


def test_a_stopped_lane_keeps_its_last_state_and_its_status(payload, line):
    _, _, X1, y, _ = line
    lanes, trajs, _, got = payload
    n = got["n"]
    for lane, info in zip(lanes, got["lanes"], strict=True):
        assert info["key"] == lane.key
    div = next(i for i, lane in enumerate(lanes) if lane.key == "divergent")
    good = next(i for i, lane in enumerate(lanes) if lane.key == "good")
    status, steps = naive_steps(X1, y, lanes[div].config.learning_rate)
    assert status == "diverged" and got["lanes"][div]["diverged_at"] == steps
    assert got["lanes"][div]["final_status"] == "diverged" and got["lanes"][good]["final_status"] == "converged"
    end = got["lanes"][div]["end"]
    assert end < n - 1  # the slow lane runs on: the divergent one stopped earlier
    for k, want in ((0, "running"), (end - 1, "running"), (end, "diverged"), (n - 1, "diverged")):
        assert player_view.readout(got, k)["Divergent status"] == want, k
    # Its loss overflowed at its last step: the read-out says so, from that row to the end of the axis.
    assert player_view.readout(got, n - 1)["Divergent loss"] == "overflowed"
    before = player_view.readout(got, end - 1)["Divergent loss"]
    row = playback.aligned_rows(trajs, regimes.PLAYER_ROWS)[1][div][end - 1]
    assert float(before) == pytest.approx(trajs[div].loss[row], rel=1e-5)
    # The contour's path stops at the last finite params; at the end of the axis it is the whole (thinned) run.
    fig = player_view.figure(got, "divergent_contour", n - 1)
    path = next(t for t in fig["data"] if str(t.get("name", "")).startswith("path"))
    assert len(path["x"]) == end + 1
    assert path["x"][-1] == pytest.approx(trajs[div].params[-1, 0], rel=1e-7)
    # The "diverged at step N" notes show once the lane got there, not before.
    chart = next(c for c in got["charts"] if c["key"] == "divergent_loss")
    assert chart["end_only_annotations"] and chart["end_row"] == end
    assert f"diverged at step {steps}" in chart["figure"]["layout"]["annotations"][0]["text"]


def test_every_chart_binds_its_moving_traces_to_its_lane(payload):
    lanes, trajs, _, got = payload
    keys = [c["key"] for c in got["charts"]]
    assert keys == ["overview", *(f"{lane.key}_{kind}" for lane in lanes for kind in ("contour", "loss"))]
    assert got["charts"][0]["wide"] and len(got["charts"][0]["bind"]) == len(lanes)
    # Every axis range the player sets per row is a column of a number per row of the shared axis.
    n = got["n"]
    for chart in got["charts"]:
        for entries in chart.get("layout_at", {}).values():
            assert all(isinstance(e, int | float) or len(got["columns"][e]) == n for e in entries), chart["key"]
    # The overview's log axis holds every run's gap to the floor shown so far, and no more than a decade
    # beyond: at step 5 the run that overflows at step 3,711 does not flatten the others. Never past float64.
    assert got["charts"][0]["layout_at"]["yaxis.range"] == ["over_lo", "over_hi"]
    steps, rows = playback.aligned_rows(trajs, regimes.PLAYER_ROWS)
    floor = regimes_floor(lanes[0], trajs[0])
    for k in (0, 5, 40, 300, n - 1):
        with np.errstate(invalid="ignore", divide="ignore"):
            shown = np.concatenate([t.loss[r[: k + 1]] - floor for t, r in zip(trajs, rows, strict=True)])
            shown = np.log10(shown[np.isfinite(shown) & (shown > 0)])
        lo, hi = got["columns"]["over_lo"][k], got["columns"]["over_hi"][k]
        assert lo <= shown.min() and hi >= shown.max() and hi - shown.max() <= 1.1, k
        assert hi <= np.log10(np.finfo(float).max)
    assert got["columns"]["over_hi"][5] < 5 < got["columns"]["over_hi"][-1]
    ends = {info["key"]: info["end"] for info in got["lanes"]}
    for chart in got["charts"]:
        for bind in chart["bind"]:
            lane = chart["key"].split("_")[0] if chart["key"] != "overview" else lanes[bind["trace"]].key
            assert bind["last"] == ends[lane], chart["key"]
            cols = bind.get("upto", {}) | bind.get("at", {})
            for col in cols.values():
                for c in col if isinstance(col, list) else [col]:
                    assert not isinstance(c, str) or c == "step" or c.startswith(f"{lane}."), (chart["key"], c)
            trace = chart["figure"]["data"][bind["trace"]]
            assert all(len(trace.get(attr, [])) == 0 for attr in cols if attr in ("x", "y"))  # the player fills them
    # At row 8 each lane's loss chart holds steps 0..8 and its losses, as the engine computed them.
    for lane, traj in zip(lanes, trajs, strict=True):
        fig = player_view.figure(got, f"{lane.key}_loss", 8)
        loss = next(t for t in fig["data"] if str(t.get("name", "")).startswith("loss ("))
        assert loss["x"] == list(range(9))
        np.testing.assert_array_equal(loss["y"], traj.loss[:9])
        marker = next(t for t in fig["data"] if t.get("name") == "current step")
        assert marker["x"] == [8] and marker["y"] == [traj.loss[8]]


def test_the_payload_is_bounded_with_every_pin_and_long_runs(line):
    config, problem, *_ = line
    big = config.replace(max_steps=200_000, tol=1e-12)
    lanes = regimes.lanes(big, problem, {"good": 0.01}, [0.001, 0.002, 0.003, 0.05, 0.15, 0.19])
    trajs = [simulate(lane.config, problem) for lane in lanes]
    assert max(int(t.step[-1]) for t in trajs) == regimes.STEP_CAP
    p = regimes.player(lanes, trajs, problem, NAMES)
    text = regimes.player_json(p, run="big")
    got = strict_json(text)
    assert got["n"] <= regimes.PLAYER_ROWS and got["columns"]["step"][-1] == regimes.STEP_CAP
    assert len(text) < regimes.PAYLOAD_BYTES, len(text)
    assert len(got["readout"]) == 1 + 2 * len(lanes)
