"""RunConfig: every setting of a run as scalars (hashable, URL-friendly), and ``simulate``.

A RunConfig is the single source of truth a page turns its widgets into; the cached functions of
``gdviz.ui`` take it as their key. It validates itself at construction.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from gdviz import analysis, data, engine, optimizers, thinning
from gdviz.errors import InputError, check_choice, check_float, check_int

# Bounds that keep any one run bounded in time and memory.
MAX_STEPS_LIMIT = 200_000
RATE_MIN, RATE_MAX = 1e-12, 1e6
UPLOAD_ID = re.compile(r"(?:[0-9a-f]{16})?")
# Exponential decay multiplies the rate by (1 - decay_rate) each step: decay_rate 1 would make every rate
# after the first 0 (and optimizers.exponential_decay rejects a factor of 0), so the decay stops just short.
EXP_DECAY_MAX = 0.9999


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
        if self.schedule == "exponential_decay":  # the rate is lr * (1 - decay_rate)^t: decay 1 zeroes it
            check_float(
                self.decay_rate, "decay_rate", owner, low=0, high=EXP_DECAY_MAX, low_open=False, high_open=False
            )
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

    def to_query(self) -> dict[str, str]:
        """The URL query of this config: only the fields that differ from the defaults, under ``QUERY_KEYS``.

        Floats are written with ``repr`` (the shortest text that reads back to the same float). A config on
        an uploaded file writes ``dataset=upload`` and no data: the file cannot travel in a link.
        """
        defaults = RunConfig()
        query = {}
        for field, key in QUERY_KEYS.items():
            value = getattr(self, field)
            if value == getattr(defaults, field) or (field == "feature" and self.dataset == UPLOAD):
                continue
            query[key] = repr(float(value)) if isinstance(value, float) else str(value)
        return query

    @classmethod
    def from_query(cls, params: Mapping[str, str | list[str]]) -> tuple[RunConfig, list[str]]:
        """The config a URL query describes, and one notice sentence per parameter that was not used as is.

        Every parameter goes through RunConfig's own checks. A value that fails them (text where a number
        belongs, NaN, an unknown name, a repeated key, a value over ``MAX_QUERY_VALUE`` characters) falls
        back to its default; a max steps above ``MAX_STEPS_LIMIT`` is clamped to it. Keys that are not in
        ``QUERY_KEYS`` are left to the caller (pages have keys of their own). Never raises.

        Args:
            params: URL query parameters; a list value holds every value of a repeated key.

        Returns:
            (config, notices): notices are sentences for a person, naming each parameter in words.
        """
        return _from_query(params)

    @property
    def is_constant_gd(self) -> bool:
        """Plain GD at a constant rate: the case the closed-form theory describes exactly."""
        return self.optimizer == "gd" and self.schedule == "constant"


# ---------------------------------------------------------------------------------------------
# URL query (RunConfig.to_query / from_query)
# ---------------------------------------------------------------------------------------------

UPLOAD = "upload"  # data.UPLOAD: a config on an uploaded file; the file itself never goes in a link
UPLOAD_NOTICE = (
    "This link was made on an uploaded file, which cannot travel in a link: showing the default data. "
    "Upload the file on the Your data page to continue."
)
MAX_QUERY_VALUE = 200  # characters; any real value is far shorter
# field -> URL key. Fields not listed here (e.g. the content id of an upload) never go in a link.
QUERY_KEYS = {
    "dataset": "dataset", "feature": "feature", "n_samples": "n", "slope": "slope", "intercept": "intercept",
    "noise": "noise", "x_loc": "x_loc", "x_scale": "x_scale", "seed": "seed", "scaling": "scale",
    "optimizer": "opt", "learning_rate": "lr", "schedule": "sched", "decay_rate": "decay", "power_t": "power",
    "factor": "factor", "every": "every", "beta": "beta", "b1": "b1", "b2": "b2", "rms_decay": "rms_decay",
    "eps": "eps", "init_intercept": "start_intercept", "init_slope": "start_slope", "tol": "tol",
    "max_steps": "max_steps",
}  # fmt: skip
# field -> what a person calls it (the notices use these words, then the URL key).
QUERY_LABELS = {
    "dataset": "dataset", "feature": "feature", "n_samples": "number of synthetic points",
    "slope": "true slope", "intercept": "true intercept", "noise": "noise", "x_loc": "x centre",
    "x_scale": "x spread", "seed": "random seed", "scaling": "feature scaling", "optimizer": "optimizer",
    "learning_rate": "learning rate", "schedule": "learning-rate schedule", "decay_rate": "schedule decay",
    "power_t": "schedule power", "factor": "step-decay factor", "every": "step-decay interval",
    "beta": "momentum beta", "b1": "Adam beta1", "b2": "Adam beta2", "rms_decay": "RMSProp decay",
    "eps": "epsilon", "init_intercept": "start intercept", "init_slope": "start slope",
    "tol": "convergence tolerance", "max_steps": "max steps",
}  # fmt: skip
# Settings that only some runs read are checked in the runs that read them (a beta for Adam, say), so that a
# link cannot leave a value that breaks the config as soon as the user picks that optimizer.
_USED_BY = {
    **dict.fromkeys(("n_samples", "slope", "intercept", "noise", "x_loc", "x_scale", "seed"),
                    ("dataset", ("synthetic_line",))),
    "beta": ("optimizer", ("momentum", "nesterov")),
    "rms_decay": ("optimizer", ("rmsprop",)),
    "b1": ("optimizer", ("adam",)),
    "b2": ("optimizer", ("adam",)),
    "eps": ("optimizer", ("adagrad", "rmsprop", "adam")),
    "decay_rate": ("schedule", ("inverse_time", "exponential_decay")),
    "power_t": ("schedule", ("inverse_scaling",)),
    "factor": ("schedule", ("step_decay",)),
    "every": ("schedule", ("step_decay",)),
}  # fmt: skip
_CHOICES = {
    "dataset": data.DATASETS,
    "scaling": data.SCALINGS,
    "optimizer": tuple(optimizers.OPTIMIZERS),
    "schedule": tuple(optimizers.SCHEDULES),
}
_CLAMP_HIGH = {"max_steps": MAX_STEPS_LIMIT}  # a huge max steps means "run long": the limit is what was meant
_RANGE = re.compile(r"'(\w+)' parameter of \w+ must be an? \w+ in the range (.+?)\. Got")


def _shown(text: str) -> str:
    """A value as a notice quotes it: printable, and short."""
    text = "".join(ch for ch in text if ch.isprintable())
    return repr(text if len(text) <= 40 else text[:40] + "...")


def _parse(field: str, text: str) -> tuple[object, str]:
    """(value, "") or (None, why not) for one field's URL text: the type only; ranges are RunConfig's."""
    kind = type(getattr(RunConfig(), field))
    text = text.strip()
    if kind is str:
        options = _CHOICES[field]
        return (text, "") if text in options else (None, f"{_shown(text)} is not one of {', '.join(options)}")
    if kind is int and re.fullmatch(r"[+-]?\d+", text):
        return int(text), ""
    try:
        number = float(text)
    except ValueError:
        return None, f"{_shown(text)} is not a number"
    if not math.isfinite(number):
        return None, f"{_shown(text)} is not a finite number"
    if kind is int:
        return (int(number), "") if number.is_integer() else (None, f"{_shown(text)} is not a whole number")
    return number, ""


def _check(field: str, value: object, accepted: Mapping[str, object]) -> str:
    """ "" if RunConfig accepts ``value`` for ``field`` (in every run that reads it), else why not."""
    owner, options = _USED_BY.get(field, (None, (None,)))
    if owner is not None and accepted.get(owner) in options:
        options = (accepted[owner],)
    for option in options:
        context = {owner: option} if owner is not None else {}
        try:
            RunConfig(**context, **{field: value})
        except InputError as err:
            match = _RANGE.search(str(err))
            if match and match.group(1) == field:
                return f"{value:g} is outside the range it accepts, {match.group(2)}"
            return f"{value:g} is not accepted there ({err})"
    return ""


def _from_query(params: Mapping[str, str | list[str]]) -> tuple[RunConfig, list[str]]:
    defaults, accepted, notices = RunConfig(), {}, []
    # Choices first: what a setting is checked against depends on the dataset, optimizer and schedule.
    order = [*_CHOICES, *(f for f in QUERY_KEYS if f not in _CHOICES)]
    for field in order:
        key, label = QUERY_KEYS[field], QUERY_LABELS[field]
        if key not in params:
            continue
        values = params[key]
        values = [values] if isinstance(values, str) else list(values)
        default = getattr(defaults, field)
        shown = (
            f"{default:,}" if isinstance(default, int) else f"{default:g}" if isinstance(default, float) else default
        )
        fallback = f"Using the default, {shown}."
        if len(values) != 1:
            notices.append(f"Ignored the {label} ({key}) in the link: it is given {len(values)} times. {fallback}")
            continue
        text = str(values[0])
        if len(text) > MAX_QUERY_VALUE:
            notices.append(
                f"Ignored the {label} ({key}) in the link: its value is {len(text):,} characters long, "
                f"more than the {MAX_QUERY_VALUE} any setting needs. {fallback}"
            )
            continue
        if field == "dataset" and text.strip() == UPLOAD:
            notices.append(UPLOAD_NOTICE)
            continue
        value, why = _parse(field, text)
        if not why and field in _CLAMP_HIGH and value > _CLAMP_HIGH[field]:
            notices.append(
                f"The {label} ({key}) in the link, {value:,}, is above the limit of {_CLAMP_HIGH[field]:,}: "
                f"using {_CLAMP_HIGH[field]:,}."
            )
            value = _CLAMP_HIGH[field]
        if not why and not isinstance(value, str):
            why = _check(field, value, accepted)
        if why:
            notices.append(f"Ignored the {label} ({key}) in the link: {why}. {fallback}")
            continue
        accepted[field] = value
    try:
        return RunConfig(**accepted), notices
    except InputError as err:  # each value passed alone; together they might not
        return defaults, [*notices, f"The link's settings do not work together ({err}). Showing the defaults."]


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


def simulate(
    config: RunConfig, problem: engine.Problem | None = None, *, max_bytes: int | None = None
) -> engine.Trajectory:
    """Run ``config`` to its end on the one-feature problem (or on ``problem``) and collect it.

    Args:
        max_bytes: when given, the run is stored thinned to fit (``gdviz.thinning``): every step up to some
            step, later ones at a doubling stride, and always the last State (exactly the undecimated one).
    """
    problem = problem if problem is not None else one_feature_problem(config)
    init = init_params(config, problem)
    states = engine.run(problem, config.make_optimizer(), init_params=init, tol=config.tol, max_steps=config.max_steps)
    if max_bytes is None:
        return engine.collect(states)
    return thinning.collect(states, thinning.dense_for(problem.n_params, config.max_steps, max_bytes))


def predicted_loss_curve(config: RunConfig, problem: engine.Problem, steps: np.ndarray) -> np.ndarray | None:
    """The closed-form loss at ``steps`` for constant-rate GD, or None for any other optimizer/schedule."""
    if not config.is_constant_gd:
        return None
    return analysis.predicted_loss(problem, config.learning_rate, steps, init_params=init_params(config, problem))
