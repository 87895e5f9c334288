"""gdviz.runs: a RunConfig's one-feature problem, its run and its predicted loss curve.

Oracles: a direct engine run with the optimizer built here, and the closed form only for constant-rate GD.
"""

from __future__ import annotations

import numpy as np
import pytest

from gdviz import data, engine, optimizers
from gdviz.config import RunConfig
from gdviz.runs import init_params, one_feature_problem, predicted_loss_curve, simulate


def test_the_same_config_runs_the_same():
    a, b = RunConfig(), RunConfig()
    np.testing.assert_array_equal(simulate(a).params, simulate(b).params)


def test_init_params_is_the_start_point_on_one_feature_and_zeros_otherwise():
    cfg = RunConfig(init_intercept=1.5, init_slope=-2.0)
    np.testing.assert_array_equal(init_params(cfg, one_feature_problem(cfg)), [1.5, -2.0])
    ds = data.load_dataset("diabetes")
    wide = data.make_problem(ds.X, ds.y)
    np.testing.assert_array_equal(init_params(cfg, wide), np.zeros(wide.n_params))


def test_simulate_matches_a_direct_engine_run():
    cfg = RunConfig(learning_rate=0.03, init_intercept=1.0, init_slope=-2.0, max_steps=500)
    ds = data.synthetic_line()
    problem = data.make_problem(ds.X, ds.y)
    direct = engine.collect(engine.run(problem, optimizers.gd(0.03), init_params=[1.0, -2.0], max_steps=500))
    traj = simulate(cfg)
    np.testing.assert_array_equal(traj.params, direct.params)


@pytest.mark.parametrize("name", sorted(optimizers.OPTIMIZERS))
@pytest.mark.parametrize("schedule", sorted(optimizers.SCHEDULES))
def test_every_optimizer_and_schedule_builds(name, schedule):
    cfg = RunConfig(optimizer=name, schedule=schedule, learning_rate=0.01, max_steps=50)
    traj = simulate(cfg)
    assert traj.n_states == 51 or traj.status != engine.Status.MAX_STEPS


def test_predicted_curve_only_for_constant_gd():
    cfg = RunConfig()
    problem = one_feature_problem(cfg)
    assert predicted_loss_curve(cfg.replace(optimizer="adam"), problem, np.arange(3)) is None
    assert predicted_loss_curve(cfg, problem, np.arange(3)).shape == (3,)
