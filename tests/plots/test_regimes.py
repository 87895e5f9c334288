"""gdviz.plots.regimes: what each figure means (traces, data, colours with names, the divergence label),
never its whole JSON. Every spec must also pass Plotly's own validation."""

from __future__ import annotations

import numpy as np
import pytest

from gdviz import analysis, playback, plots
from gdviz.analysis import Regime
from gdviz.config import RunConfig
from gdviz.runs import one_feature_problem, predicted_loss_curve, simulate


@pytest.fixture(scope="module")
def setup():
    config = RunConfig()
    problem = one_feature_problem(config)
    lam = analysis.spectrum(problem).lambda_max
    runs = {r: simulate(config.replace(learning_rate=r / lam), problem) for r in (0.5, 2.1)}
    return problem, runs


def grid_for(problem, head):
    (x0, x1), (y0, y1) = playback.window(head.params, np.vstack([head.params[0], problem.solution()]))
    return analysis.loss_grid(problem, 0, 1, x_range=(x0, x1), y_range=(y0, y1), n=20)


def named(spec, prefix):
    found = [t for t in spec["data"] if str(t.get("name", "")).startswith(prefix)]
    assert len(found) == 1, [t.get("name") for t in spec["data"]]
    return found[0]


def test_panel_contour_draws_the_path_up_to_the_step_in_the_regime_colour(setup):
    problem, runs = setup
    head = playback.head(runs[0.5], 7)
    color = plots.regimes.regime_color(Regime.GOOD)
    spec = plots.regimes.panel_contour(
        grid_for(problem, head), head, optimum=problem.solution(), names=("a", "b"), color=color, label="Good"
    )
    plots.encode.to_figure(spec)  # valid Plotly
    path = named(spec, "path")
    assert path["name"] == "path (Good)" and path["marker"]["color"] == color == plots._spec.REGIME_COLORS[Regime.GOOD]
    np.testing.assert_array_equal(np.column_stack([path["x"], path["y"]]), runs[0.5].params[:8])
    assert spec["layout"]["title"]["text"] == "Good: the path up to step 7"
    assert not any(t.get("marker", {}).get("showscale") for t in spec["data"])  # one panel of several: no colour bar
    assert "annotations" not in spec["layout"]


def test_a_diverged_path_is_drawn_to_its_last_finite_point_and_labelled(setup):
    problem, runs = setup
    traj = runs[2.1]
    assert traj.status.value == "diverged"
    spec = plots.regimes.panel_contour(
        grid_for(problem, traj), traj, optimum=problem.solution(), names=("a", "b"), color="#D55E00", label="Div"
    )
    plots.encode.to_figure(spec)
    path = named(spec, "path")
    finite = traj.params[np.isfinite(traj.params).all(axis=1)]
    assert path["x"][-1] == finite[-1, 0] and path["y"][-1] == finite[-1, 1]
    (note,) = spec["layout"]["annotations"]
    assert note["text"].startswith(f"diverged at step {int(traj.step[-1]):,}")
    assert (note["x"], note["y"]) == (finite[-1, 0], finite[-1, 1])


def test_panel_loss_is_log_scale_in_the_run_colour(setup):
    problem, runs = setup
    head = playback.head(runs[0.5], 30)
    pred = predicted_loss_curve(RunConfig(learning_rate=runs[0.5].learning_rate[1]), problem, head.step)
    spec = plots.regimes.panel_loss(head, color="#009E73", label="Good", predicted=pred, floor=problem.optimum_loss)
    plots.encode.to_figure(spec)
    loss = named(spec, "loss (Good)")
    assert loss["line"]["color"] == "#009E73"
    np.testing.assert_array_equal(loss["x"], np.arange(31))
    np.testing.assert_array_equal(loss["y"], runs[0.5].loss[:31])
    assert spec["layout"]["yaxis"]["type"] == "log"
    named(spec, "predicted (closed form)")
    div = plots.regimes.panel_loss(runs[2.1], color="#D55E00", label="Div")
    assert "diverged at step" in div["layout"]["annotations"][0]["text"]


def test_loss_gaps_one_trace_per_run_above_the_floor(setup):
    problem, runs = setup
    heads = [("Good", "#009E73", runs[0.5]), ("Divergent", "#D55E00", runs[2.1])]
    spec = plots.regimes.loss_gaps(heads, floor=problem.optimum_loss)
    plots.encode.to_figure(spec)
    good, div = spec["data"]
    assert good["name"] == "Good" and div["name"] == f"Divergent: diverged at step {int(runs[2.1].step[-1]):,}"
    gap = runs[0.5].loss - problem.optimum_loss
    keep = gap > 0
    np.testing.assert_array_equal(good["y"], gap[keep])
    np.testing.assert_array_equal(good["x"], runs[0.5].step[keep])
    assert np.all(np.isfinite(div["y"])) and len(div["x"]) <= plots._spec.MAX_POINTS + 300  # downsampled
    assert good["line"]["dash"] != div["line"]["dash"]  # told apart without colour too
    assert spec["layout"]["yaxis"]["type"] == "log"


def test_regime_colours_and_the_decaying_run():
    assert plots.regimes.regime_color(None) == plots.regimes.DECAY_COLOR
    assert {plots.regimes.regime_color(r) for r in Regime} == set(plots._spec.REGIME_COLORS.values())
