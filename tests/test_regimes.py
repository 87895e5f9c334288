"""gdviz.regimes (the Regimes page's pure logic) against oracles written here: eigvalsh for the spectrum,
a naive gradient-descent loop for what a run does."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gdviz import engine, regimes
from gdviz.analysis import Regime
from gdviz.config import RATE_MAX, RATE_MIN, RunConfig
from gdviz.engine import Status
from gdviz.runs import one_feature_problem, simulate

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


@pytest.mark.parametrize("last", [0, 1, 59, 60, 61, 1_000, 20_000])
def test_scrub_steps(last):
    steps = regimes.scrub_steps(last)
    assert steps[0] == 0 and steps[-1] == last
    assert np.all(np.diff(steps) > 0)
    assert list(steps[: min(last, regimes.SCRUB_DENSE) + 1]) == list(range(min(last, regimes.SCRUB_DENSE) + 1))
    assert len(steps) <= regimes.SCRUB_DENSE + 122
    assert regimes.nearest_step(steps, last + 50) == last
    assert regimes.nearest_step(steps, 3) == min(3, last)


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
