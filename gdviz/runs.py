"""From a RunConfig to its run: the one-feature Problem it names, its start point, the run itself, and the
closed-form loss curve it should follow (config -> problem -> trajectory)."""

from __future__ import annotations

import numpy as np

from gdviz import analysis, data, engine, thinning
from gdviz.config import BATCH_RULE, RunConfig
from gdviz.errors import invalid


def one_feature_problem(config: RunConfig, dataset: data.Dataset | None = None) -> engine.Problem:
    """The Problem of ``config`` on its one chosen feature (intercept + slope), on ``dataset`` if given
    (an uploaded table) or else on the one ``config`` names."""
    ds = config.make_dataset() if dataset is None else dataset
    feature = min(config.feature, ds.n_features - 1)
    return data.problem_from_dataset(ds, scaling=config.scaling, features=[feature])


def init_params(config: RunConfig, problem: engine.Problem) -> np.ndarray:
    """The start point: ``[init_intercept, init_slope]`` on a one-feature problem, zeros otherwise."""
    init = np.zeros(problem.n_params)
    if problem.n_params == 2:
        init[:] = (config.init_intercept, config.init_slope)
    return init


def check_batch(config: RunConfig, problem: engine.Problem) -> None:
    """Raise InputError when ``config``'s batch size is larger than ``problem``'s number of rows (a run of
    another data set can carry one; RunConfig itself only knows the synthetic line's rows)."""
    if config.batch_size > problem.n_samples:
        raise invalid("batch_size", "RunConfig", BATCH_RULE.format(n=problem.n_samples), config.batch_size)


def run_kwargs(config: RunConfig, problem: engine.Problem) -> dict:
    """The keyword arguments ``engine.run`` takes from ``config`` besides the start: tol, max_steps and the
    batches (``batch_size`` None for full batch; the row shuffle seeded by ``config.seed``).

    Raises:
        InputError: for a batch size above the data's rows (``check_batch``).
    """
    check_batch(config, problem)
    return {
        "tol": config.tol,
        "max_steps": config.max_steps,
        "batch_size": config.batch_size or None,
        "seed": config.seed,
    }


def simulate(
    config: RunConfig, problem: engine.Problem | None = None, *, max_bytes: int | None = None
) -> engine.Trajectory:
    """Run ``config`` to its end on the one-feature problem (or on ``problem``) and collect it.

    Mini-batch runs (``config.batch_size`` >= 1) shuffle the rows with ``config.seed``: the same config gives
    the same run.

    Args:
        max_bytes: when given, the run is stored thinned to fit (``gdviz.thinning``): every step up to some
            step, later ones at a doubling stride, and always the last State (exactly the undecimated one).
    """
    problem = problem if problem is not None else one_feature_problem(config)
    init = init_params(config, problem)
    optimizer, kwargs = config.make_optimizer(), run_kwargs(config, problem)
    dense = config.max_steps if max_bytes is None else thinning.dense_for(problem.n_params, config.max_steps, max_bytes)
    if dense >= config.max_steps:  # nothing to thin: the whole run, computed on whole chunks (no State per step)
        return engine.trajectory(problem, optimizer, init_params=init, **kwargs)
    return thinning.collect(engine.run(problem, optimizer, init_params=init, **kwargs), dense)


def predicted_loss_curve(config: RunConfig, problem: engine.Problem, steps: np.ndarray) -> np.ndarray | None:
    """The closed-form loss at ``steps`` for constant-rate full-batch GD, or None for any other run (another
    optimizer or schedule, or a mini-batch)."""
    if not config.is_closed_form:
        return None
    return analysis.predicted_loss(problem, config.learning_rate, steps, init_params=init_params(config, problem))
