"""gdviz.plots.sweep: meaning of the specs (traces, axes, shapes, hover), never whole JSON."""

from __future__ import annotations

import numpy as np
import pytest

from gdviz import analysis, data, plots, sweep


@pytest.fixture(scope="module")
def table_and_problem():
    ds = data.synthetic_line()
    problem = data.make_problem(ds.X, ds.y)
    X1 = np.column_stack([np.ones(len(ds.y)), ds.X[:, 0]])
    lm = float(np.linalg.eigvalsh(2 / len(X1) * X1.T @ X1)[-1])
    rates = np.geomspace(1e-3, 20.0, 120) / lm
    res = sweep.run_sweep(problem, rates, tol=1e-6, max_steps=300)
    return sweep.summarise(problem, res, tol=1e-6, max_steps=300), problem, lm


def names(spec):
    return [t["name"] for t in spec["data"]]


def test_steps_chart(table_and_problem):
    table, problem, lm = table_and_problem
    spec = plots.sweep.steps_chart(table, sweep.regime_edges(problem), analysis.thresholds(problem), meta={"run": 3})
    plots.encode.to_figure(spec)  # valid Plotly
    assert spec["layout"]["meta"] == {"run": 3}
    assert spec["layout"]["xaxis"]["type"] == "log" and spec["layout"]["yaxis"]["type"] == "log"
    markers = [t for t in spec["data"] if t["mode"] == "markers"]
    assert sum(len(t["x"]) for t in markers) == table.learning_rate.size  # every run, once
    assert {n.split(" (")[0] for n in names(spec)} >= {"converged", "still moving at the step cap",
                                                        "diverged: overflowed float64"}  # fmt: skip
    pred = spec["data"][0]
    assert pred["name"] == "predicted (closed form)" and np.all(np.asarray(pred["x"]) < 2 / lm)
    lines = {s["name"]: s["x0"] for s in spec["layout"]["shapes"] if s["type"] == "line"}
    assert lines["threshold: 2/lambda_max"] == pytest.approx(2 / lm, rel=1e-9)


def test_loss_chart_never_drops_an_overflowed_run(table_and_problem):
    table, problem, _ = table_and_problem
    spec = plots.sweep.loss_chart(
        table, sweep.regime_edges(problem), analysis.thresholds(problem), floor=problem.optimum_loss
    )
    plots.encode.styled(spec)
    over = [t for t in spec["data"] if t["name"].startswith("diverged")][0]
    n_over = int(np.sum(table.outcome == sweep.Outcome.OVERFLOWED))
    assert n_over > 0 and len(over["x"]) == n_over and over["yaxis"] == "y2"
    assert set(over["y"]) == {"overflowed (inf)"}
    assert f"{n_over} runs overflowed" in spec["layout"]["title"]["subtitle"]["text"]
    row = over["customdata"][0]
    assert "overflowed float64" in row[1] and row[3] == "overflowed"
    markers = [t for t in spec["data"] if t["mode"] == "markers"]
    assert sum(len(t["x"]) for t in markers) == table.learning_rate.size


def test_zones_are_clipped_to_the_swept_range(table_and_problem):
    table, problem, lm = table_and_problem
    narrow = sweep.summarise(problem, sweep.run_sweep(problem, np.geomspace(0.3, 0.9, 5) / lm, tol=1e-6,
                                                       max_steps=50), tol=1e-6, max_steps=50)  # fmt: skip
    spec = plots.sweep.steps_chart(narrow, sweep.regime_edges(problem), analysis.thresholds(problem))
    zones = [s["name"] for s in spec["layout"]["shapes"] if s["type"] == "rect"]
    assert zones == ["zone: good", "zone label: good"]
    assert len([a for a in spec["layout"]["annotations"] if "λ" in a["text"]]) == 0  # no threshold in view


def test_neighbouring_zone_names_sit_on_different_rows(table_and_problem):
    """On a phone the oscillating and divergent zones are a few dozen px wide: their names must not share a row
    with a neighbour's, or they run together ("GoodOscillDiverge")."""
    table, problem, _ = table_and_problem
    spec = plots.sweep.steps_chart(table, sweep.regime_edges(problem), analysis.thresholds(problem))
    labels = [s for s in spec["layout"]["shapes"] if s["name"].startswith("zone label: ")]
    assert [s["label"]["text"] for s in labels] == ["Slow", "Good", "Oscillating", "Divergent"]
    for a, b in zip(labels, labels[1:], strict=False):
        assert a["y1"] <= b["y0"] or b["y1"] <= a["y0"], (a["name"], b["name"])  # rows do not overlap
        assert a["x1"] <= b["x0"]  # side by side, in rate order
    assert {(s["y0"], s["y1"]) for s in labels[::2]} == {(labels[0]["y0"], labels[0]["y1"])}  # two rows only
    assert min(s["y0"] for s in labels) > 1  # above the plot area


def test_loss_axis_holds_every_finite_loss_and_stays_inside_float64(table_and_problem):
    table, problem, _ = table_and_problem
    spec = plots.sweep.loss_chart(
        table, sweep.regime_edges(problem), analysis.thresholds(problem), floor=problem.optimum_loss
    )
    lo, hi = spec["layout"]["yaxis"]["range"]
    finite = table.final_loss[np.isfinite(table.final_loss) & (table.final_loss > 0)]
    assert 10**lo <= min(finite.min(), problem.optimum_loss) and np.log10(finite.max()) <= hi
    assert hi <= np.log10(np.finfo(float).max)


def test_one_overflowed_run_is_said_in_the_singular(table_and_problem):
    _, problem, lm = table_and_problem
    rates = np.array([0.5, 1.0, 2.5]) / lm  # good, good-to-oscillating edge, divergent: one overflows
    res = sweep.run_sweep(problem, rates, tol=1e-6, max_steps=5_000)
    table = sweep.summarise(problem, res, tol=1e-6, max_steps=5_000)
    assert int(np.sum(table.outcome == sweep.Outcome.OVERFLOWED)) == 1
    spec = plots.sweep.loss_chart(
        table, sweep.regime_edges(problem), analysis.thresholds(problem), floor=problem.optimum_loss
    )
    assert spec["layout"]["title"]["subtitle"]["text"].startswith("1 run overflowed")
    steps = plots.sweep.steps_chart(table, sweep.regime_edges(problem), analysis.thresholds(problem))
    assert steps["layout"]["title"]["subtitle"]["text"].startswith("1 rate never converges")
