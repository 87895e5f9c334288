"""The Regimes page under AppTest, checked against oracles written here.

The oracles do not use gdviz's maths: X1 and y are rebuilt from the dataset's raw arrays, lambda comes from
``np.linalg.eigvalsh`` of (2/n) X1^T X1, and every run is a naive gradient-descent loop in this file (with
the stop rules of STYLE.md section 3). The page is driven through its widgets; what is asserted is what it
shows: the outcome sentences, the rate relations, the summary table and the data inside the live charts.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from gdviz import data
from gdviz.config import RunConfig
from tests import player_view
from tests.chart_utils import decode
from tests.oracles import loss_of

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGE = "pages/regimes.py"
SLOTS = ("slow", "good", "oscillating", "divergent")
# r = rate x lambda_max of each slot's preset, rounded to 4 significant figures as the page (and the
# Playground's preset buttons) do.
SLOT_R = {"slow": 0.05, "good": 0.5, "oscillating": 1.6, "divergent": 2.1}
DECAY_R, DECAY_RATE = 2.5, 0.01
TOL, MAX_STEPS = 1e-6, 10_000


# ---------------------------------------------------------------------------------------------
# Oracles (no gdviz maths)
# ---------------------------------------------------------------------------------------------


def sig(x: float, digits: int = 4) -> float:
    return float(f"{x:.{digits}g}")


class NaiveRun(NamedTuple):
    params: np.ndarray  # finite rows, row t = params after t updates
    loss: np.ndarray
    rates: list[float]  # the rate of update t at index t - 1
    outcome: str  # as the page words it
    steps: int
    last: np.ndarray  # the params after the last update (for a diverged run: the update that overflowed)


def naive_gd(X1, y, rate, *, decay: float = 0.0, tol=TOL, max_steps=MAX_STEPS) -> NaiveRun:
    """Plain GD, rate_t = rate / (1 + decay * (t - 1)) for update t; stops as STYLE.md section 3 says."""
    n = len(y)
    w = np.zeros(X1.shape[1])
    ws, losses, rates = [w], [loss_of(X1, y, w)], []
    with np.errstate(all="ignore"):
        for t in range(1, max_steps + 1):
            lr = rate / (1.0 + decay * (t - 1))
            rates.append(lr)
            new = w - lr * (2.0 / n) * X1.T @ (X1 @ w - y)
            loss = loss_of(X1, y, new) if np.isfinite(new).all() else float("inf")
            if not np.isfinite(loss):
                return NaiveRun(np.array(ws), np.array(losses), rates, f"diverged at step {t:,}", t, new)
            ws.append(new)
            losses.append(loss)
            if np.linalg.norm(new - w) < tol:
                return NaiveRun(np.array(ws), np.array(losses), rates, f"converged in {t:,} steps", t, new)
            w = new
    return NaiveRun(np.array(ws), np.array(losses), rates, f"still moving after {max_steps:,} steps", max_steps, w)


@pytest.fixture(scope="module")
def line():
    """The default synthetic line rebuilt from the dataset's raw arrays: (X1, y, eigenvalues ascending)."""
    ds = data.synthetic_line()
    X1 = np.column_stack([np.ones(len(ds.y)), np.array(ds.X[:, 0])])
    y = np.array(ds.y)
    return X1, y, np.linalg.eigvalsh(2.0 / len(y) * X1.T @ X1)


@pytest.fixture(scope="module")
def oracle_runs(line):
    X1, y, lam = line
    runs = {slot: naive_gd(X1, y, sig(SLOT_R[slot] / lam[-1])) for slot in SLOTS}
    runs["decay"] = naive_gd(X1, y, sig(DECAY_R / lam[-1]), decay=DECAY_RATE)
    return runs


# ---------------------------------------------------------------------------------------------
# Reading the page
# ---------------------------------------------------------------------------------------------


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.message for e in at.exception]
    return at


def open_page(config: RunConfig | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if config is not None:
        at.session_state["gdviz_config"] = config
    ok(at.run())
    return ok(at.switch_page(PAGE).run())


def outcomes(at: AppTest) -> list[str]:
    """The "Outcome: **...**" sentence of every panel, in panel order."""
    return [
        m.value.removeprefix("Outcome: **").removesuffix("**") for m in at.markdown if m.value.startswith("Outcome:")
    ]


def headings(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("**") and "**: " in m.value]


def table(at: AppTest):
    return at.table[0].value


def figure(at: AppTest, key: str) -> dict:
    """The chart ``key`` as the browser's player draws it at the step shown (the page's one player)."""
    figs = player_view.figures(at, "regimes")
    assert key in figs, f"no chart {key!r}"
    return figs[key]


def chart_keys(at: AppTest) -> set[str]:
    return set(player_view.figures(at, "regimes"))


def trace(fig: dict, prefix: str) -> dict:
    found = [t for t in fig["data"] if str(t.get("name", "")).startswith(prefix)]
    assert len(found) == 1, [t.get("name") for t in fig["data"]]
    return found[0]


def xy(t: dict) -> tuple[np.ndarray, np.ndarray]:
    x, y = (np.array([np.nan if v is None else v for v in decode(t[a])], dtype=float) for a in ("x", "y"))
    return x, y


def shown_step(at: AppTest) -> int:
    p = player_view.payload(at, "regimes")
    return p["columns"]["step"][player_view.shown_row(at, "regimes")]


@pytest.fixture(scope="module")
def default_page() -> AppTest:
    """The page as first opened (read only)."""
    return open_page()


# ---------------------------------------------------------------------------------------------
# 1. The four regimes and the decaying run on the default data
# ---------------------------------------------------------------------------------------------


def test_outcomes_match_a_naive_loop(default_page, oracle_runs):
    expected = [oracle_runs[slot].outcome for slot in (*SLOTS, "decay")]
    assert outcomes(default_page) == expected
    # The default data shows all three endings.
    assert expected[0].startswith("still moving after 10,000")
    assert expected[1].startswith("converged in") and expected[3].startswith("diverged at step")
    assert expected[4].startswith("converged in")  # the decay rescues a divergent start


def test_rates_are_shown_against_the_thresholds(default_page, line):
    _, _, lam = line
    heads = headings(default_page)
    for slot, text in zip(SLOTS, heads, strict=False):
        rate = sig(SLOT_R[slot] / lam[-1])
        r = rate * lam[-1]
        assert text == (
            f"**{slot.capitalize()} rate**: {rate:.3g} = {r:.3g} x 1/lambda_max, {r / 2:.3g} x 2/lambda_max"
        )
    intro = next(m.value for m in default_page.markdown if m.value.startswith("On this data"))
    assert f"1/lambda_max = **{1 / lam[-1]:.4g}**" in intro and f"2/lambda_max = **{2 / lam[-1]:.4g}**" in intro


def test_summary_table_predicted_and_observed(default_page, line, oracle_runs):
    X1, y, lam = line
    frame = table(default_page)
    assert list(frame.index[:4]) == [f"{s.capitalize()} rate" for s in SLOTS]
    for slot in SLOTS:
        row = frame.loc[f"{slot.capitalize()} rate"]
        assert row["rate"] == f"{sig(SLOT_R[slot] / lam[-1]):.4g}"
        assert row["regime predicted"] == slot.capitalize()
        assert row["regime observed"] == slot.capitalize()
    # Steps to converge: the closed form's prediction against a naive loop without the step cap.
    for slot in ("slow", "good", "oscillating"):
        uncapped = naive_gd(X1, y, sig(SLOT_R[slot] / lam[-1]), max_steps=100_000)
        assert uncapped.outcome.startswith("converged")
        row = frame.loc[f"{slot.capitalize()} rate"]
        assert row["steps to converge: predicted"] == f"{uncapped.steps:,}"
    assert frame.loc["Good rate"]["steps to converge: measured"] == f"{oracle_runs['good'].steps:,}"
    assert frame.loc["Slow rate"]["steps to converge: measured"] == "not yet (stopped at 10,000)"
    div = frame.loc["Divergent rate"]
    assert div["steps to converge: predicted"] == "never"
    assert div["steps to converge: measured"] == f"never (diverged at step {oracle_runs['divergent'].steps:,})"
    assert div["final loss"].startswith("overflow")
    good_loss = float(frame.loc["Good rate"]["final loss"])
    assert good_loss == pytest.approx(oracle_runs["good"].loss[-1], rel=1e-5)


def test_decaying_run_is_explained_from_its_own_rates(default_page, line, oracle_runs):
    _, _, lam = line
    run = oracle_runs["decay"]
    below = 1 + next(i for i, lr in enumerate(run.rates) if lr < 2 / lam[-1])  # update numbers are 1-based
    text = next(h for h in headings(default_page) if h.startswith("**Decaying rate"))
    assert f"From step {below:,} on the rate is below 2/lambda_max = {2 / lam[-1]:.3g}" in text
    assert "then the decay rescued it" in text
    rise = run.loss[:below].max() / run.loss[0]
    assert rise > 100  # the oracle's own reading: it did blow up first
    assert f"rose to {rise:,.0f}x its start" in text
    row = table(default_page).loc["Decaying rate (inverse time)"]
    assert row["regime observed"] == f"Divergent (steps 1-{below - 1}), then Oscillating"
    assert row["steps to converge: measured"] == f"{run.steps:,}"


# ---------------------------------------------------------------------------------------------
# 2. One player over every panel
# ---------------------------------------------------------------------------------------------


def test_the_player_opens_at_the_end_of_the_longest_run(default_page, oracle_runs):
    last = max(run.steps for run in oracle_runs.values())
    assert shown_step(default_page) == last == default_page.session_state["regimes_cursor"]
    fig = figure(default_page, "regimes_divergent_contour")
    x, y = xy(trace(fig, "path"))
    end = oracle_runs["divergent"].last
    assert np.isfinite(end).all()  # the params of the step that overflowed the loss are still finite: drawn
    np.testing.assert_allclose([x[-1], y[-1]], end, rtol=1e-7)
    notes = [a["text"] for a in fig["layout"].get("annotations", [])]
    assert any(f"diverged at step {oracle_runs['divergent'].steps:,}" in t for t in notes)
    shown = player_view.shown(default_page, "regimes")
    assert shown["Step"] == f"{last:,}" and shown["Divergent status"] == "diverged"
    assert shown["Divergent loss"] == "overflowed" and shown["Good status"] == "converged"
    assert shown["Slow status"] == "max steps"
    assert float(shown["Good loss"]) == pytest.approx(oracle_runs["good"].loss[-1], rel=1e-5)


def test_the_step_axis_holds_every_early_step_then_a_thinned_tail(default_page, oracle_runs):
    steps = player_view.payload(default_page, "regimes")["columns"]["step"]
    last = max(run.steps for run in oracle_runs.values())
    assert steps[:601] == list(range(601)) and steps[-1] == last
    assert steps == sorted(set(steps)) and len(steps) <= 2_048
    tail = np.array(steps[600:])
    assert (np.diff(tail) / tail[:-1]).max() < 0.02  # each later step within 2% of the one before


@pytest.mark.parametrize("wanted", [0, 10, 300])
def test_a_synced_step_cuts_every_chart_there(wanted, oracle_runs):
    at = open_page()
    ok(player_view.sync(at, wanted, "regimes"))  # what the browser sends after the user stopped at ``wanted``
    assert at.session_state["regimes_cursor"] == wanted == shown_step(at)
    shown = player_view.shown(at, "regimes")
    for lane in (*SLOTS, "decay"):
        run = oracle_runs[lane]
        upto = min(wanted, run.steps)
        x, y = xy(trace(figure(at, f"regimes_{lane}_contour"), "path"))
        np.testing.assert_allclose(np.column_stack([x, y]), run.params[: upto + 1], rtol=1e-7, atol=1e-12)
        steps, loss = xy(trace(figure(at, f"regimes_{lane}_loss"), "loss ("))
        np.testing.assert_array_equal(steps, np.arange(upto + 1))
        np.testing.assert_allclose(loss, run.loss[: upto + 1], rtol=1e-8)
        label = "Decaying" if lane == "decay" else lane.capitalize()
        assert float(shown[f"{label} loss"]) == pytest.approx(run.loss[upto], rel=1e-5)
        assert shown[f"{label} status"] == ("running" if wanted < run.steps else "converged")
    overview = figure(at, "regimes_overview")
    assert max(xy(t)[0].max() for t in overview["data"] if len(t["x"])) == wanted


# ---------------------------------------------------------------------------------------------
# 3. Your own rate, pinned
# ---------------------------------------------------------------------------------------------


def test_replace_pin_and_unpin_a_rate(line, oracle_runs):
    X1, y, _ = line
    at = open_page()
    assert at.button(key="regimes_pin_good").disabled  # nothing of the user's to pin yet
    ok(at.number_input(key="regimes_rate_good").set_value(0.1).run())
    mine = naive_gd(X1, y, 0.1)
    assert outcomes(at)[1] == mine.outcome
    assert table(at).loc["Good slot: your rate"]["rate"] == "0.1"
    assert not at.button(key="regimes_pin_good").disabled

    ok(at.button(key="regimes_pin_good").click().run())
    assert at.session_state["regimes_pinned"] == [0.1]
    assert "Pinned: rate 0.1" in table(at).index
    assert {"regimes_pinned_0_contour", "regimes_pinned_0_loss"} <= chart_keys(at)
    assert at.button(key="regimes_pin_good").disabled  # already pinned

    # A new custom rate in the same slot: the pinned one stays for comparison.
    ok(at.number_input(key="regimes_rate_good").set_value(0.03).run())
    assert outcomes(at)[1] == naive_gd(X1, y, 0.03).outcome
    assert outcomes(at)[5] == mine.outcome  # the pinned panel
    assert len(table(at)) == 6

    # Clearing the box goes back to the preset; unpinning removes the extra panel and row.
    ok(at.number_input(key="regimes_rate_good").set_value(None).run())
    assert outcomes(at)[1] == oracle_runs["good"].outcome
    ok(at.button(key="regimes_unpin_0").click().run())
    assert at.session_state["regimes_pinned"] == []
    assert len(table(at)) == 5
    assert not any(k.startswith("regimes_pinned") for k in chart_keys(at))


def test_a_huge_rate_diverges_without_an_error(line):
    X1, y, _ = line
    at = open_page()
    ok(at.number_input(key="regimes_rate_divergent").set_value(1e5).run())
    run = naive_gd(X1, y, 1e5)
    assert run.outcome.startswith("diverged")
    assert outcomes(at)[3] == run.outcome
    assert not at.error


def test_an_out_of_range_rate_is_reported_and_the_previous_one_kept(line, oracle_runs):
    at = open_page()
    ok(at.number_input(key="regimes_rate_slow").set_value(0.01).run())
    ok(at.number_input(key="regimes_rate_slow").set_value(1e6).run())  # RunConfig takes rates below 1e6
    assert [e.value for e in at.error] == [
        "The learning rate must be a number in the range [1e-12, 1e+06); you entered 1e+06."
    ]
    assert at.number_input(key="regimes_rate_slow").value == 0.01
    X1, y, _ = line
    assert outcomes(at)[0] == naive_gd(X1, y, 0.01).outcome


# ---------------------------------------------------------------------------------------------
# 4. Shared settings carry over
# ---------------------------------------------------------------------------------------------


def test_playground_settings_carry_over(line):
    X1, y, lam = line
    at = open_page(RunConfig(max_steps=300, init_intercept=1.0, init_slope=-2.0))
    assert "after 300 steps" in next(m.value for m in at.markdown if m.value.startswith("On this data"))

    def start_at(run_rate):
        n = len(y)
        w = np.array([1.0, -2.0])
        for t in range(1, 301):
            new = w - run_rate * (2.0 / n) * X1.T @ (X1 @ w - y)
            if np.linalg.norm(new - w) < TOL:
                return f"converged in {t:,} steps"
            w = new
        return "still moving after 300 steps"

    assert outcomes(at)[:3] == [start_at(sig(SLOT_R[s] / lam[-1])) for s in ("slow", "good", "oscillating")]


def test_scaling_set_here_is_the_shared_config():
    at = open_page(RunConfig(dataset="diabetes"))
    ok(at.selectbox(key="regimes_scaling").set_value("standard").run())
    assert at.session_state["gdviz_config"].scaling == "standard"
    ds = data.load_dataset("diabetes")
    x = np.array(ds.X[:, 0])
    X1 = np.column_stack([np.ones(len(x)), (x - x.mean()) / x.std()])
    lam = np.linalg.eigvalsh(2.0 / len(x) * X1.T @ X1)
    y = np.array(ds.y)
    assert outcomes(at)[:4] == [naive_gd(X1, y, sig(SLOT_R[s] / lam[-1])).outcome for s in SLOTS]


def test_long_runs_are_capped(line):
    X1, y, lam = line
    at = open_page(RunConfig(max_steps=200_000))
    assert "after 20,000 steps" in next(m.value for m in at.markdown if m.value.startswith("On this data"))
    slow = naive_gd(X1, y, sig(SLOT_R["slow"] / lam[-1]), max_steps=20_000)
    assert outcomes(at)[0] == slow.outcome == "converged in 10,989 steps"
    assert outcomes(at)[3] == naive_gd(X1, y, sig(SLOT_R["divergent"] / lam[-1]), max_steps=20_000).outcome
    steps, _ = xy(trace(figure(at, "regimes_slow_loss"), "loss ("))
    assert steps[-1] == slow.steps and len(steps) <= 2_048  # thinned, ends at the run's end


def test_the_fastest_preset_is_set_against_the_measured_best(line):
    """Issue 12: 2/(lambda_min + lambda_max) took 574 steps where another rate took about 415. The page says
    both, measured from this start, and why (the worst case against one start's error)."""
    X1, y, lam = line
    at = open_page()
    fastest = sig(2 / (lam[0] + lam[-1]))
    [line_text] = [c.value for c in at.caption if c.value.startswith("Fastest, 2/(lambda_min + lambda_max)")]
    shown = line_text.split("Measured best: ")[1]
    best_rate, best_steps = float(shown.split(",")[0]), int(shown.split(", ")[1].split(" step")[0].replace(",", ""))
    assert f"= {fastest:g}: {naive_gd(X1, y, fastest).steps:,} steps from this start" in line_text
    assert naive_gd(X1, y, best_rate).steps == best_steps < 0.8 * naive_gd(X1, y, fastest).steps
    [why] = [m.value for m in at.markdown if m.value.startswith("2/(lambda_min + lambda_max) = ")]
    rho = (lam[-1] - lam[0]) / (lam[-1] + lam[0])  # |1 - rate x lambda| at the worst-case optimum, both ends
    assert f"as small as it can be: {rho:.4g} per step" in why
    assert "where that start's error lies in the eigenbasis" in why and f"the best is **{best_rate:g}**" in why
