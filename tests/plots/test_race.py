"""gdviz.plots.race: what each figure means (trace types, names, colours, axes, bindings), never whole JSON."""

from __future__ import annotations

import numpy as np
import pytest

from gdviz import analysis, data
from gdviz.plots import race as draw
from gdviz.race import LABELS, RUNS, Arrows

RUNS_DRAWN = [(name, LABELS[name]) for name in RUNS]


@pytest.fixture(scope="module")
def grid():
    ds = data.synthetic_line()
    p = data.problem_from_dataset(ds, scaling="none", features=[0])
    return p, analysis.loss_grid(p, 0, 1, x_range=(-1.0, 6.0), y_range=(-1.0, 5.0), n=20)


def test_one_colour_blind_safe_colour_and_symbol_per_run():
    assert set(draw.RUN_COLORS) == set(RUNS) == set(draw.RUN_SYMBOLS)
    assert len(set(draw.RUN_COLORS.values())) == len(RUNS)
    assert len(set(draw.RUN_SYMBOLS.values())) == len(RUNS)
    assert "#F0E442" not in draw.RUN_COLORS.values()  # Okabe-Ito's yellow cannot be read on white


def test_contour_names_every_run_and_states_both_arrow_factors(grid):
    p, g = grid
    spec = draw.contour_chart(g, RUNS_DRAWN, optimum=p.optimum, start=np.zeros(2), names=("intercept", "slope on x"),
                              arrows=Arrows(0.25, 3.0))  # fmt: skip
    data_ = spec["data"]
    assert {t["type"] for t in data_} == {"scatter"}  # the contours are shapes: every trace can be animated
    assert not any(t.get("marker", {}).get("showscale") for t in data_)  # no colour bar beside the race
    assert len(spec["layout"]["shapes"]) >= 8
    names = [t.get("name") for t in data_]
    assert "negative gradient x 0.25 (dotted)" in names and "update taken x 3 (solid)" in names
    for run, label in RUNS_DRAWN:
        mine = [t for t in data_ if isinstance(t.get("meta"), dict) and t["meta"]["run"] == run]
        roles = {t["meta"]["role"]: t for t in mine}
        assert set(roles) == {"path", "current", "grad", "update"}
        assert roles["path"]["name"] == label and roles["current"]["text"] == [label]  # its name on the chart
        assert {t["line"]["color"] for t in mine if "line" in t} == {draw.RUN_COLORS[run]}
        assert roles["grad"]["line"]["dash"] == "dot" and roles["update"]["line"]["dash"] == "solid"
        assert roles["grad"]["marker"]["symbol"] == "arrow" and roles["grad"]["marker"]["size"] == [0, 11]
        assert all(t["x"] == [] for t in mine)  # the player fills the moving traces
    assert spec["layout"]["xaxis"]["title"]["text"] == "intercept"


def test_surface_puts_each_name_at_its_point_and_no_legend(grid):
    p, g = grid
    spec = draw.surface_chart(g, RUNS_DRAWN, optimum=p.optimum, start=np.zeros(2), optimum_loss=p.optimum_loss,
                              names=("intercept", "slope on x"), hold="current")  # fmt: skip
    assert spec["data"][0]["type"] == "surface"
    now = [t for t in spec["data"] if t.get("meta", {}).get("role") == "current"]
    assert [t["text"] for t in now] == [[label] for _, label in RUNS_DRAWN]
    assert spec["layout"]["showlegend"] is False
    assert spec["layout"]["title"]["subtitle"]["text"].endswith("(each run's own)")  # the subtitle names the height
    assert spec["layout"]["scene"]["zaxis"]["title"]["text"] == ""  # not twice (the axis' would be cut off)
    assert "start" not in [t.get("name") for t in spec["data"]]  # its height depends on the run


def test_loss_chart_is_log_with_a_fixed_range_holding_every_value():
    excess = np.array([1e-20, 3.0, 5e4, np.nan, -1.0])
    spec = draw.loss_chart(RUNS_DRAWN[:2], excess)
    assert spec["layout"]["yaxis"]["type"] == "log"
    lo, hi = spec["layout"]["yaxis"]["range"]
    assert lo < -20 and hi > np.log10(5e4)
    assert [t["name"] for t in spec["data"] if t["meta"]["role"] == "path"] == ["GD", "Momentum"]


def test_bindings_paths_upto_points_and_arrows_at(grid):
    p, g = grid
    spec = draw.contour_chart(g, RUNS_DRAWN[:1], optimum=p.optimum, start=np.zeros(2), names=("a", "b"),
                              arrows=Arrows(1.0, 1.0))  # fmt: skip
    binds = {spec["data"][b["trace"]]["meta"]["role"]: b for b in draw.bindings(spec)}
    assert binds["path"]["upto"] == {"x": "x_gd", "y": "y_gd"}
    assert binds["current"]["at"] == {"x": ["x_gd"], "y": ["y_gd"], "text": [{"label": "label_gd"}]}  # name or group
    assert binds["grad"]["at"] == {"x": ["x_gd", "gx_gd"], "y": ["y_gd", "gy_gd"]}
    assert binds["update"]["at"] == {"x": ["x_gd", "ux_gd"], "y": ["y_gd", "uy_gd"]}
    capped = draw.bindings(spec, last={"gd": 4})
    assert all(b["last"] == 4 for b in capped)
