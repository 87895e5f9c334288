"""RunConfig: every setting of a run as scalars (hashable, URL-friendly), and the one table of its fields.

A RunConfig is the single source of truth a page turns its widgets into; the cached functions of
``gdviz.ui`` take it as their key. It validates itself at construction, against ``FIELDS``: one record per
RunConfig field with the words people read it by, its short key in a link, what it accepts, its help text
and which runs read it. The lists of fields, the labels, the link keys and the widgets' bounds are all
derived from that table.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from types import MappingProxyType

from gdviz import data, optimizers
from gdviz.errors import InputError, Interval, Options, invalid

# Bounds that keep any one run bounded in time and memory.
MAX_STEPS_LIMIT = 200_000
RATE_MIN, RATE_MAX = 1e-12, 1e6
UPLOAD_ID = re.compile(r"(?:[0-9a-f]{16})?")
# Exponential decay multiplies the rate by (1 - decay_rate) each step: decay_rate 1 would make every rate
# after the first 0 (and optimizers.exponential_decay rejects a factor of 0), so the decay stops just short.
EXP_DECAY_MAX = 0.9999
EXP_DECAY = Interval(float, 0, EXP_DECAY_MAX, closed="both")  # decay_rate under the exponential schedule
BATCH_MAX = 1_000_000  # the most rows any data set may have (the synthetic line's largest n_samples)
# What a batch size must be on data of n rows (a run checks it against its data: ``gdviz.runs.check_batch``).
BATCH_RULE = "0 (full batch) or an int in the range [1, {n}], the number of rows of the data"


@dataclass(frozen=True)
class RunConfig:
    """All settings of one run, as scalars (``FIELDS`` says what each accepts).

    Attributes:
        dataset: a name in ``gdviz.data.DATASETS``, or ``gdviz.data.UPLOAD`` for the session's uploaded table.
        upload: the content id of the uploaded table (16 hex characters, see ``gdviz.upload.content_id``)
            when ``dataset`` is ``UPLOAD``, so that configs (and cache keys) of different uploads differ.
        feature: column index of the one feature used by one-feature pages (0-based).
        n_samples, slope, intercept, noise, x_loc, x_scale, seed: the synthetic line's settings.
        scaling: a name in ``gdviz.data.SCALINGS``.
        optimizer: a name in ``gdviz.optimizers.OPTIMIZERS``.
        learning_rate: the (initial) rate, in [RATE_MIN, RATE_MAX).
        schedule: a name in ``gdviz.optimizers.SCHEDULES``.
        decay_rate, power_t, factor, every: schedule settings (each schedule reads its own).
        beta, b1, b2, rms_decay, eps: optimizer settings (each optimizer reads its own).
        init_intercept, init_slope: the start point of one-feature runs.
        batch_size: rows per update: 0 is full batch (every row), b >= 1 a mini-batch of b rows drawn by an
            epoch-wise shuffle seeded by ``seed`` (``gdviz.engine.run``); at most the data's number of rows.
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
    batch_size: int = 0
    tol: float = 1e-6
    max_steps: int = 10_000

    def __post_init__(self) -> None:
        owner = "RunConfig"
        for field in FIELDS.values():
            if field.constraint is not None and field.reads(self):
                field.constraint.check(getattr(self, field.name), field.name, owner)
        if not (isinstance(self.upload, str) and UPLOAD_ID.fullmatch(self.upload)) or (
            self.dataset == data.UPLOAD and not self.upload
        ):
            raise invalid(
                "upload",
                owner,
                f"'' or a content id of 16 hex digits (one is needed when dataset is {data.UPLOAD!r})",
                self.upload,
            )
        if self.dataset == "synthetic_line" and self.batch_size > self.n_samples:
            raise invalid("batch_size", owner, BATCH_RULE.format(n=self.n_samples), self.batch_size)
        if self.schedule == "exponential_decay":  # the rate is lr * (1 - decay_rate)^t: decay 1 zeroes it
            EXP_DECAY.check(self.decay_rate, "decay_rate", owner)
        # The constructors the settings feed check them again, as the API's boundary.
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
            return data.synthetic_line(**{name: getattr(self, name) for name in SYNTHETIC_FIELDS})
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
        """Plain GD at a constant rate: the case the closed-form theory describes exactly (on full batch, see
        ``is_full_batch``; a mini-batch run follows it only on average)."""
        return self.optimizer == "gd" and self.schedule == "constant"

    @property
    def is_full_batch(self) -> bool:
        """Every update uses every row (batch_size 0)."""
        return self.batch_size == 0

    @property
    def is_closed_form(self) -> bool:
        """Plain GD at a constant rate on full batch: the run the closed form ``w_t = w* + (I - rate H)^t e_0``
        describes step by step."""
        return self.is_constant_gd and self.is_full_batch


# ---------------------------------------------------------------------------------------------
# The field table
# ---------------------------------------------------------------------------------------------

GROUPS = ("data", "problem", "optimizer", "run")


@dataclass(frozen=True)
class Field:
    """One RunConfig field, described once.

    Attributes:
        name: the RunConfig attribute.
        label: what a person calls it, in the widgets' words ("number of points"); messages and link
            notices use it.
        key: its short key in a link (kept forever: links made before must open the same view), or None
            for a field a person never sets (no widget, never in a link).
        constraint: what it accepts (an Interval or Options; None when checked by a rule of its own).
        help: the help text of its widget.
        group: "data" (what the table is), "problem" (which part of it is fitted, how scaled),
            "optimizer" (the update rule and its rate) or "run" (start point, batch size and stop rules).
        used_by: (choice field, its values): only runs with one of those values read it (a beta for
            momentum, say); None when every run reads it.
    """

    name: str
    label: str
    key: str | None
    constraint: Interval | Options | None
    help: str
    group: str
    used_by: tuple[str, tuple[str, ...]] | None = None

    @property
    def default(self) -> object:
        """Its default, as RunConfig declares it."""
        return _DEFAULTS[self.name]

    def reads(self, config: RunConfig) -> bool:
        """Whether the run ``config`` describes reads this field."""
        return self.used_by is None or getattr(config, self.used_by[0]) in self.used_by[1]


_DEFAULTS = {f.name: f.default for f in dataclasses.fields(RunConfig)}
_SYNTHETIC = ("dataset", ("synthetic_line",))
_UNIT = Interval(float, 0, 1, closed="left")  # a running average's weight, as the optimizers check it
_COORD = Interval(float, -1e6, 1e6)  # the synthetic line's numbers, as data.synthetic_line checks them
_START = Interval(float, -1e12, 1e12)

# fmt: off
_TABLE = (
    # In RunConfig's order, which is the order of the keys in a link.
    Field("dataset", "dataset", "dataset", Options((*data.DATASETS, data.UPLOAD)),
          "The synthetic line is the textbook picture: a handful of noisy points. The others are real tables "
          "(diabetes: 442 patients, 10 raw features; California housing: 20,640 districts, 8 features); "
          "one-feature pages fit one of their features. Upload your own on the Your data page.", "data"),
    Field("upload", "uploaded file", None, None, "", "data"),
    Field("feature", "feature", "feature", Interval(int, 0, 999, closed="both"),
          "The one feature the line is fitted on.", "problem"),
    Field("n_samples", "number of points", "n", Interval(int, 2, 1_000_000, closed="both"),
          "How many noisy points.", "data", _SYNTHETIC),
    Field("slope", "true slope", "slope", _COORD, "The slope of the line the points scatter around.", "data",
          _SYNTHETIC),
    Field("intercept", "true intercept", "intercept", _COORD, "Where the true line crosses x = 0.", "data",
          _SYNTHETIC),
    Field("noise", "noise", "noise", Interval(float, 0, 1e6, closed="left"),
          "Standard deviation of the noise on y.", "data", _SYNTHETIC),
    Field("x_loc", "x centre", "x_loc", _COORD, "Mean of x. Far from 0, the intercept crawls.", "data",
          _SYNTHETIC),
    Field("x_scale", "x spread", "x_scale", Interval(float, 0, 1e6), "Standard deviation of x.", "data",
          _SYNTHETIC),
    Field("seed", "random seed", "seed", Interval(int, 0, 2**32 - 1, closed="both"),
          "Random seed: the same seed gives the same points.", "data", _SYNTHETIC),
    Field("scaling", "feature scaling", "scale", Options(data.SCALINGS),
          "Rescale the feature before fitting (scikit-learn's scalers): it changes the Hessian, so it moves "
          "every threshold rate. Standard: minus the mean, over the standard deviation (sd); min-max: onto [0, 1]; "
          "robust: minus the median, over the interquartile range (IQR). The line is still drawn in raw units.",
          "problem"),
    Field("optimizer", "optimizer", "opt", Options(tuple(optimizers.OPTIMIZERS)),
          "Plain GD is what the theory panel predicts exactly; the others adapt or accelerate the step.",
          "optimizer"),
    Field("learning_rate", "learning rate", "lr", Interval(float, RATE_MIN, RATE_MAX, closed="left"),
          "Type any rate; the slider moves to the nearest grid value.", "optimizer"),
    Field("schedule", "learning-rate schedule", "sched", Options(tuple(optimizers.SCHEDULES)),
          "How the learning rate changes with the step t.", "optimizer"),
    Field("decay_rate", "schedule decay", "decay", Interval(float, 0, None, closed="left"),
          "How fast the rate decays per step.", "optimizer", ("schedule", ("inverse_time", "exponential_decay"))),
    Field("power_t", "schedule power", "power", Interval(float, 0, None, closed="left"), "The exponent of t.",
          "optimizer", ("schedule", ("inverse_scaling",))),
    Field("factor", "step-decay factor", "factor", Interval(float, 0, 1, closed="right"),
          "Multiply the rate by this every N steps.", "optimizer", ("schedule", ("step_decay",))),
    Field("every", "step-decay interval", "every", Interval(int, 1, None, closed="both"),
          "How often the rate drops.", "optimizer", ("schedule", ("step_decay",))),
    Field("beta", "momentum beta", "beta", _UNIT, "Fraction of the previous update carried into the next.",
          "optimizer", ("optimizer", ("momentum", "nesterov"))),
    Field("b1", "Adam beta1", "b1", _UNIT, "Decay of the running mean of gradients.", "optimizer",
          ("optimizer", ("adam",))),
    Field("b2", "Adam beta2", "b2", _UNIT, "Decay of the running mean of squared gradients.", "optimizer",
          ("optimizer", ("adam",))),
    Field("rms_decay", "RMSProp decay", "rms_decay", _UNIT,
          "Weight of the past in the running mean of squared gradients.", "optimizer", ("optimizer", ("rmsprop",))),
    Field("eps", "epsilon", "eps", Interval(float, 0, None), "Added to the denominator so it is never zero.",
          "optimizer", ("optimizer", ("adagrad", "rmsprop", "adam"))),
    Field("init_intercept", "start intercept", "start_intercept", _START, "Where the run starts (intercept).",
          "run"),
    Field("init_slope", "start slope", "start_slope", _START, "Where the run starts (slope).", "run"),
    Field("batch_size", "batch size", "batch", Interval(int, 0, BATCH_MAX, closed="both"),
          "Rows per update. 0: full batch, every update uses the gradient over every row (what the theory panel "
          "predicts). 1 up to the number of rows: stochastic (mini-batch) gradient descent, each update on that "
          "many rows, reshuffled every epoch (one pass over the rows; the random seed fixes the order). The loss "
          "then stops falling at a noisy plateau above the least-squares floor.", "run"),
    Field("tol", "convergence tolerance", "tol", Interval(float, 0, 1e6, closed="left"),
          "Stop as converged once an update moves the params less than this (0: never).", "run"),
    Field("max_steps", "max steps", "max_steps", Interval(int, 1, MAX_STEPS_LIMIT, closed="both"),
          f"Stop here at the latest (up to {MAX_STEPS_LIMIT:,}).", "run"),
)
# fmt: on

FIELDS: MappingProxyType[str, Field] = MappingProxyType({f.name: f for f in _TABLE})
"""RunConfig field name -> its Field, in RunConfig's order."""


def names(*groups: str, settable: bool = False) -> tuple[str, ...]:
    """The RunConfig fields of ``groups`` (all groups when none), in RunConfig's order; with ``settable``,
    only those a person sets (the ones with a widget and a link key)."""
    unknown = set(groups) - set(GROUPS)
    if unknown:
        raise InputError(f"Unknown field groups {sorted(unknown)}: the groups are {', '.join(GROUPS)}.")
    return tuple(
        name
        for name in _DEFAULTS
        if (not groups or FIELDS[name].group in groups) and not (settable and FIELDS[name].key is None)
    )


LABELS: dict[str, str] = {f.name: f.label for f in _TABLE}
"""RunConfig field -> what a person calls it."""
LINK_KEYS: dict[str, str] = {f.name: f.key for f in _TABLE if f.key is not None}
"""RunConfig field -> its key in a link, in RunConfig's order. Fields without one never go in a link."""
DATA_FIELDS = names("data", "problem")
"""The fields a Problem depends on: the data and which part of it is fitted, how scaled."""
SYNTHETIC_FIELDS = tuple(name for name in DATA_FIELDS if FIELDS[name].used_by == _SYNTHETIC)
"""The synthetic line's settings (``data.synthetic_line``'s arguments)."""
SETTABLE_FIELDS = names(settable=True)
"""Every field a person sets through a widget (all but the upload's content id)."""
