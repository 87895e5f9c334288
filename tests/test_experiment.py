"""RunConfig validates itself and builds the run it describes."""

from __future__ import annotations

import numpy as np
import pytest

from gdviz import InputError, data, engine, optimizers
from gdviz.experiment import MAX_STEPS_LIMIT, RunConfig, one_feature_problem, predicted_loss_curve, simulate


def test_default_config_is_hashable_and_reproducible():
    a, b = RunConfig(), RunConfig()
    assert a == b and hash(a) == hash(b)
    np.testing.assert_array_equal(simulate(a).params, simulate(b).params)


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


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"learning_rate": -0.1}, "'learning_rate' parameter of RunConfig"),
        ({"learning_rate": float("nan")}, "'learning_rate'"),
        ({"max_steps": MAX_STEPS_LIMIT + 1}, "'max_steps' parameter of RunConfig must be an int in the range"),
        ({"dataset": "../../etc/passwd"}, "'dataset' parameter of RunConfig must be a str among"),
        ({"optimizer": "sgd"}, "'adam'"),
        ({"beta": 1.5}, "'beta' parameter of momentum"),
        ({"n_samples": 1}, "'n_samples' parameter of synthetic_line"),
    ],
)
def test_bad_settings_raise_input_error(changes, match):
    if "beta" in changes:
        changes = {**changes, "optimizer": "momentum"}
    with pytest.raises(InputError, match=match):
        RunConfig(**changes)
