"""RunConfig: every setting of a run as scalars (hashable, URL-friendly), and ``simulate``.

A RunConfig is the single source of truth a page turns its widgets into; the cached functions of
``gdviz.ui`` take it as their key. It validates itself at construction.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

import numpy as np

from gdviz import analysis, data, engine, optimizers
from gdviz._errors import InputError, check_choice, check_float, check_int

# Bounds that keep any one run bounded in time and memory.
MAX_STEPS_LIMIT = 200_000
RATE_MIN, RATE_MAX = 1e-12, 1e6
UPLOAD_ID = re.compile(r"(?:[0-9a-f]{16})?")


@dataclass(frozen=True)
class RunConfig:
    """All settings of one run, as scalars.

    Attributes:
        dataset: a name in ``gdviz.data.DATASETS``, or ``gdviz.data.UPLOAD`` for the session's uploaded table.
        upload: the content id of the uploaded table (16 hex characters, see ``gdviz.upload.content_id``)
            when ``dataset`` is ``UPLOAD``, so that configs (and cache keys) of different uploads differ.
        feature: column index of the one feature used by one-feature pages (0-based).
        n_samples, slope, intercept, noise, x_loc, x_scale, seed: the synthetic line's settings.
        scaling: a name in ``gdviz.data.SCALINGS``.
        optimizer: a name in ``gdviz.optimizers.OPTIMIZERS``.
        learning_rate: the (initial) rate, in (0, inf).
        schedule: a name in ``gdviz.optimizers.SCHEDULES``.
        decay_rate, power_t, factor, every: schedule settings (each schedule reads its own).
        beta, b1, b2, rms_decay, eps: optimizer settings (each optimizer reads its own).
        init_intercept, init_slope: the start point of one-feature runs.
        tol: the convergence tolerance on ``||w_t - w_{t-1}||`` (0 turns it off).
        max_steps: the step at which a run stops, in [1, MAX_STEPS_LIMIT].
    """

    dataset: str = "synthetic_line"
    upload: str = ""
    feature: int = 0
    n_samples: int = 20
    slope: float = 3.0
    intercept: float = 4.0
    noise: float = 1.0
    x_loc: float = 2.0
    x_scale: float = 1.0
    seed: int = 0
    scaling: str = "none"
    optimizer: str = "gd"
    learning_rate: float = 0.05
    schedule: str = "constant"
    decay_rate: float = 0.01
    power_t: float = 0.25
    factor: float = 0.5
    every: int = 100
    beta: float = 0.9
    b1: float = 0.9
    b2: float = 0.999
    rms_decay: float = 0.9
    eps: float = 1e-8
    init_intercept: float = 0.0
    init_slope: float = 0.0
    tol: float = 1e-6
    max_steps: int = 10_000

    def __post_init__(self) -> None:
        owner = "RunConfig"
        check_choice(self.dataset, "dataset", owner, (*data.DATASETS, data.UPLOAD))
        if not (isinstance(self.upload, str) and UPLOAD_ID.fullmatch(self.upload)) or (
            self.dataset == data.UPLOAD and not self.upload
        ):
            raise InputError(
                f"The 'upload' parameter of {owner} must be '' or a content id of 16 hex digits (one is needed "
                f"when dataset is {data.UPLOAD!r}). Got {self.upload!r} instead."
            )
        check_int(self.feature, "feature", owner, low=0, high=999)
        check_choice(self.scaling, "scaling", owner, data.SCALINGS)
        check_choice(self.optimizer, "optimizer", owner, optimizers.OPTIMIZERS)
        check_choice(self.schedule, "schedule", owner, optimizers.SCHEDULES)
        check_float(self.learning_rate, "learning_rate", owner, low=RATE_MIN, high=RATE_MAX, low_open=False)
        check_float(self.init_intercept, "init_intercept", owner, low=-1e12, high=1e12)
        check_float(self.init_slope, "init_slope", owner, low=-1e12, high=1e12)
        check_float(self.tol, "tol", owner, low=0, high=1e6, low_open=False)
        check_int(self.max_steps, "max_steps", owner, low=1, high=MAX_STEPS_LIMIT)
        # The rest is checked by the constructors they feed, so messages name the right owner.
        if self.dataset == "synthetic_line":
            self.make_dataset()
        self.make_optimizer()

    def replace(self, **changes) -> RunConfig:
        """A copy with ``changes`` applied (validated again)."""
        return dataclasses.replace(self, **changes)

    def make_dataset(self) -> data.Dataset:
        """The Dataset this config names (the synthetic line is built from its settings).

        Raises:
            InputError: for an uploaded table, which only its session holds (``gdviz.ui.dataset_for``).
        """
        if self.dataset == data.UPLOAD:
            raise InputError(
                "The uploaded data lives in the browser session that uploaded it, not in the RunConfig: "
                "ask gdviz.ui.dataset_for for it, or upload the file again on the Your data page."
            )
        if self.dataset == "synthetic_line":
            return data.synthetic_line(
                n_samples=self.n_samples,
                slope=self.slope,
                intercept=self.intercept,
                noise=self.noise,
                x_loc=self.x_loc,
                x_scale=self.x_scale,
                seed=self.seed,
            )
        return data.load_dataset(self.dataset)

    def make_schedule(self) -> optimizers.Schedule:
        kwargs = {
            "constant": {},
            "inverse_time": {"decay_rate": self.decay_rate},
            "inverse_scaling": {"power_t": self.power_t},
            "exponential_decay": {"decay_rate": 1.0 - self.decay_rate},
            "step_decay": {"factor": self.factor, "every": self.every},
        }[self.schedule]
        return optimizers.make_schedule(self.schedule, self.learning_rate, **kwargs)

    def make_optimizer(self) -> optimizers.Optimizer:
        kwargs = {
            "gd": {},
            "momentum": {"beta": self.beta},
            "nesterov": {"beta": self.beta},
            "adagrad": {"eps": self.eps},
            "rmsprop": {"decay": self.rms_decay, "eps": self.eps},
            "adam": {"b1": self.b1, "b2": self.b2, "eps": self.eps},
        }[self.optimizer]
        return optimizers.make_optimizer(self.optimizer, self.make_schedule(), **kwargs)

    @property
    def is_constant_gd(self) -> bool:
        """Plain GD at a constant rate: the case the closed-form theory describes exactly."""
        return self.optimizer == "gd" and self.schedule == "constant"


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


def simulate(config: RunConfig, problem: engine.Problem | None = None) -> engine.Trajectory:
    """Run ``config`` to its end on the one-feature problem (or on ``problem``) and collect it."""
    problem = problem if problem is not None else one_feature_problem(config)
    init = init_params(config, problem)
    states = engine.run(problem, config.make_optimizer(), init_params=init, tol=config.tol, max_steps=config.max_steps)
    return engine.collect(states)


def predicted_loss_curve(config: RunConfig, problem: engine.Problem, steps: np.ndarray) -> np.ndarray | None:
    """The closed-form loss at ``steps`` for constant-rate GD, or None for any other optimizer/schedule."""
    if not config.is_constant_gd:
        return None
    return analysis.predicted_loss(problem, config.learning_rate, steps, init_params=init_params(config, problem))
