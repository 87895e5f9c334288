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


@pytest.mark.parametrize(
    ("cfg", "max_bytes"),
    [
        (RunConfig(learning_rate=0.03, max_steps=3000, tol=0.0), 10**7),  # fits whole: no thinning
        (RunConfig(optimizer="adam", schedule="step_decay", learning_rate=0.05, max_steps=3000), 10**7),
        (RunConfig(learning_rate=2.0, max_steps=3000), 10**7),  # diverges
        (RunConfig(learning_rate=0.03, max_steps=3000, batch_size=4, seed=3, tol=0.0), 10**7),  # mini-batch
        (RunConfig(learning_rate=0.03, max_steps=3000, tol=0.0), 20_000),  # thinned to fit
    ],
)
def test_simulate_within_a_budget_is_the_run_of_states_thinned_as_it_goes(cfg, max_bytes):
    """The oracle: every State of engine.run, collected one by one, then thinned by thinning's own rule."""
    from gdviz import thinning

    problem = one_feature_problem(cfg)
    states = engine.run(problem, cfg.make_optimizer(), init_params=init_params(cfg, problem), tol=cfg.tol,
                        max_steps=cfg.max_steps, batch_size=cfg.batch_size or None, seed=cfg.seed)  # fmt: skip
    want = thinning.thin(engine.collect(states), thinning.dense_for(problem.n_params, cfg.max_steps, max_bytes))
    got = simulate(cfg, problem, max_bytes=max_bytes)
    for field in ("step", "params", "grads", "loss", "update_norm", "learning_rate"):
        assert getattr(got, field).tobytes() == getattr(want, field).tobytes(), field
    assert got.status is want.status and got.last_state.step == want.last_state.step
    assert got.nbytes <= max_bytes
    assert (got.n_states < got.last_state.step + 1) == (max_bytes == 20_000)  # only the small budget thins
