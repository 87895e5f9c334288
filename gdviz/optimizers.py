"""Optimizers as pairs of pure functions, learning-rate schedules, and their registries.

Learned from optax: an optimizer is ``init(params) -> opt_state`` and
``update(grads, opt_state, params) -> (updates, new_opt_state)``; new params are ``params + updates``.
Nothing is mutated. Named optimizers are chains of small transforms. A schedule maps ``count``
(0-based: the number of updates applied before this one) to a learning rate, and accepts an int or
an integer array.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from gdviz.errors import InputError, check_choice, check_float, check_int

# --------------------------------------------------------------------------------------------
# Schedules
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    """A learning-rate schedule: ``schedule(count) -> learning_rate``, ``count`` 0-based.

    Attributes:
        name: registry name, e.g. ``"inverse_time"``.
        kwargs: the constructor's arguments as ``(name, value)`` pairs, for display and scripts.
    """

    name: str
    kwargs: tuple[tuple[str, float], ...]
    fn: Callable[[Any], Any] = field(repr=False, compare=False)

    def __call__(self, count):
        return self.fn(count)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs)
        return f"{self.name}({args})"


def constant(init_value: float) -> Schedule:
    """The same rate at every step."""
    v = check_float(init_value, "init_value", "constant", low=0)

    def fn(count):
        return v if np.ndim(count) == 0 else np.full(np.shape(count), v)

    return Schedule("constant", (("init_value", v),), fn)


def inverse_time(init_value: float, decay_rate: float = 0.01) -> Schedule:
    """``init_value / (1 + decay_rate * count)``: the classic 1/t decay, which guarantees convergence."""
    v = check_float(init_value, "init_value", "inverse_time", low=0)
    k = check_float(decay_rate, "decay_rate", "inverse_time", low=0, low_open=False)
    return Schedule("inverse_time", (("init_value", v), ("decay_rate", k)), lambda c: v / (1.0 + k * c))


def inverse_scaling(init_value: float, power_t: float = 0.25) -> Schedule:
    """scikit-learn's ``invscaling``: ``init_value / (count + 1) ** power_t`` (init_value is eta0)."""
    v = check_float(init_value, "init_value", "inverse_scaling", low=0)
    p = check_float(power_t, "power_t", "inverse_scaling", low=0, low_open=False)
    return Schedule("inverse_scaling", (("init_value", v), ("power_t", p)), lambda c: v / (c + 1.0) ** p)


def exponential_decay(init_value: float, decay_rate: float = 0.99, transition_steps: int = 1) -> Schedule:
    """``init_value * decay_rate ** (count / transition_steps)``: smooth geometric decay."""
    v = check_float(init_value, "init_value", "exponential_decay", low=0)
    r = check_float(decay_rate, "decay_rate", "exponential_decay", low=0, high=1, high_open=False)
    s = check_int(transition_steps, "transition_steps", "exponential_decay", low=1)
    return Schedule(
        "exponential_decay",
        (("init_value", v), ("decay_rate", r), ("transition_steps", s)),
        lambda c: v * r ** (c / s),
    )


def step_decay(init_value: float, factor: float = 0.5, every: int = 100) -> Schedule:
    """``init_value * factor ** floor(count / every)``: drop by ``factor`` every ``every`` steps."""
    v = check_float(init_value, "init_value", "step_decay", low=0)
    f = check_float(factor, "factor", "step_decay", low=0, high=1, high_open=False)
    e = check_int(every, "every", "step_decay", low=1)
    return Schedule("step_decay", (("init_value", v), ("factor", f), ("every", e)), lambda c: v * f ** (c // e))


SCHEDULES: dict[str, Callable[..., Schedule]] = {
    "constant": constant,
    "inverse_time": inverse_time,
    "inverse_scaling": inverse_scaling,
    "exponential_decay": exponential_decay,
    "step_decay": step_decay,
}


def as_schedule(learning_rate: float | Schedule | Callable, owner: str) -> Schedule:
    """Turn a float or a schedule into a Schedule, validating a float as a rate in (0, inf)."""
    if isinstance(learning_rate, Schedule):
        return learning_rate
    if callable(learning_rate):
        return Schedule("custom", (), learning_rate)
    try:
        v = check_float(learning_rate, "learning_rate", owner, low=0)
    except InputError:
        raise InputError(
            f"The 'learning_rate' parameter of {owner} must be a float in the range (0, inf) or a "
            f"schedule. Got {learning_rate!r} instead."
        ) from None
    return constant(v)


# --------------------------------------------------------------------------------------------
# Transforms
# --------------------------------------------------------------------------------------------


class Optimizer(NamedTuple):
    """A gradient transformation: two pure functions, plus the learning-rate schedule it uses.

    Attributes:
        init: ``init(params) -> opt_state``.
        update: ``update(grads, opt_state, params) -> (updates, new_opt_state)``.
        learning_rate: the Schedule that sets the step size, or None for a transform without one.
            The engine reports ``learning_rate(count)`` as the rate used for each update.
    """

    init: Callable[[np.ndarray], Any]
    update: Callable[[np.ndarray, Any, np.ndarray], tuple[np.ndarray, Any]]
    learning_rate: Schedule | None = None


class ScaleByScheduleState(NamedTuple):
    """Attributes: count: number of updates applied so far (0-based count of the next one)."""

    count: int


class TraceState(NamedTuple):
    """Attributes: trace: array of shape (n_params,), the momentum buffer."""

    trace: np.ndarray


class ScaleByAdagradState(NamedTuple):
    """Attributes: sum_of_squares: array of shape (n_params,), running sum of squared grads."""

    sum_of_squares: np.ndarray


class ScaleByRmsState(NamedTuple):
    """Attributes: nu: array of shape (n_params,), moving average of squared grads."""

    nu: np.ndarray


class ScaleByAdamState(NamedTuple):
    """Attributes: count (updates so far), mu and nu (arrays of shape (n_params,))."""

    count: int
    mu: np.ndarray
    nu: np.ndarray


def scale_by_learning_rate(learning_rate: float | Schedule, *, owner: str = "gd") -> Optimizer:
    """Multiply by ``-learning_rate(count)``: the descent step itself."""
    schedule = as_schedule(learning_rate, owner)
    neg_rate = -schedule.kwargs[0][1] if schedule.name == "constant" else None

    def init(params):
        return ScaleByScheduleState(0)

    def update(grads, state, params=None):
        count = state.count
        # A constant rate skips the schedule call: this is the engine's hottest line.
        rate = neg_rate if neg_rate is not None else -schedule(count)
        return rate * grads, ScaleByScheduleState(count + 1)

    return Optimizer(init, update, schedule)


def trace(decay: float = 0.9, nesterov: bool = False) -> Optimizer:
    """Momentum buffer ``m_t = g_t + decay * m_{t-1}`` (``m_0 = 0``); emits ``m_t``, or for Nesterov
    ``g_t + decay * m_t``.

    The Nesterov update is the look-ahead form that optax (``trace(nesterov=True)``) and PyTorch (SGD with
    ``nesterov=True``, no dampening) use: the gradient is taken at the current params, and the step adds
    ``decay`` times the new buffer to it, instead of evaluating the gradient at a look-ahead point.
    """

    def init(params):
        return TraceState(np.zeros_like(params, dtype=float))

    def update(grads, state, params=None):
        m = grads + decay * state.trace
        return (grads + decay * m if nesterov else m), TraceState(m)

    return Optimizer(init, update)


def scale_by_adagrad(eps: float = 1e-8) -> Optimizer:
    """AdaGrad: divide by the root of the running sum of squared grads, per parameter.

    ``acc_t = acc_{t-1} + g_t**2`` with ``acc_0 = 0`` (the sum starts at zero), and the update is
    ``g_t / (sqrt(acc_t) + eps)``: eps sits outside the square root. optax's ``adagrad`` differs on both
    counts: its sum starts at 0.1 (``initial_accumulator_value``) and it divides by ``sqrt(acc_t + eps)``
    with eps 1e-7, so its first steps are not gdviz's.
    """

    def init(params):
        return ScaleByAdagradState(np.zeros_like(params, dtype=float))

    def update(grads, state, params=None):
        acc = state.sum_of_squares + grads * grads
        return grads / (np.sqrt(acc) + eps), ScaleByAdagradState(acc)

    return Optimizer(init, update)


def scale_by_rms(decay: float = 0.9, eps: float = 1e-8) -> Optimizer:
    """RMSProp: divide by the root of a moving average of squared grads, per parameter.

    ``nu_t = decay * nu_{t-1} + (1 - decay) * g_t**2`` with ``nu_0 = 0``, and the update is
    ``g_t / (sqrt(nu_t) + eps)``: eps sits outside the square root (optax's ``scale_by_rms`` puts it inside,
    ``g_t / sqrt(nu_t + eps)``). No bias correction: the first steps are larger than ``g / |g|``.
    """

    def init(params):
        return ScaleByRmsState(np.zeros_like(params, dtype=float))

    def update(grads, state, params=None):
        nu = decay * state.nu + (1.0 - decay) * grads * grads
        return grads / (np.sqrt(nu) + eps), ScaleByRmsState(nu)

    return Optimizer(init, update)


def scale_by_adam(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> Optimizer:
    """Adam: bias-corrected first moment over the root of the bias-corrected second moment.

    With ``t`` the 1-based number of this update, ``mu_t = b1 * mu_{t-1} + (1 - b1) * g_t`` and
    ``nu_t = b2 * nu_{t-1} + (1 - b2) * g_t**2`` (both start at 0), ``mu_hat = mu_t / (1 - b1**t)``,
    ``nu_hat = nu_t / (1 - b2**t)``, and the update is ``mu_hat / (sqrt(nu_hat) + eps)``: eps sits outside
    the square root, as in optax's ``adam`` (with its ``eps_root`` at 0) and the Adam paper.
    """

    def init(params):
        return ScaleByAdamState(0, np.zeros_like(params, dtype=float), np.zeros_like(params, dtype=float))

    def update(grads, state, params=None):
        count = state.count + 1
        mu = b1 * state.mu + (1.0 - b1) * grads
        nu = b2 * state.nu + (1.0 - b2) * grads * grads
        mu_hat = mu / (1.0 - b1**count)
        nu_hat = nu / (1.0 - b2**count)
        return mu_hat / (np.sqrt(nu_hat) + eps), ScaleByAdamState(count, mu, nu)

    return Optimizer(init, update)


def chain(*transforms: Optimizer) -> Optimizer:
    """Apply transforms in order; the state is the tuple of their states."""
    if len(transforms) == 1:
        return transforms[0]
    schedule = next((t.learning_rate for t in transforms if t.learning_rate is not None), None)

    def init(params):
        return tuple(t.init(params) for t in transforms)

    if len(transforms) == 2:  # every named optimizer: the loop below, unrolled (a step of the engine's hot path)
        first, second = transforms[0].update, transforms[1].update

        def update(grads, state, params=None):
            s0, s1 = state
            grads, s0 = first(grads, s0, params)
            grads, s1 = second(grads, s1, params)
            return grads, (s0, s1)

        return Optimizer(init, update, schedule)

    def update(grads, state, params=None):
        new_state = []
        for t, s in zip(transforms, state, strict=True):
            grads, s = t.update(grads, s, params)
            new_state.append(s)
        return grads, tuple(new_state)

    return Optimizer(init, update, schedule)


# --------------------------------------------------------------------------------------------
# Named optimizers
# --------------------------------------------------------------------------------------------


def _unit(value: float, name: str, owner: str) -> float:
    return check_float(value, name, owner, low=0, high=1, low_open=False)


def _eps(value: float, owner: str) -> float:
    return check_float(value, "eps", owner, low=0)


def gd(learning_rate: float | Schedule) -> Optimizer:
    """Plain gradient descent: ``w <- w - learning_rate(count) * g``."""
    return scale_by_learning_rate(learning_rate, owner="gd")


def momentum(learning_rate: float | Schedule, beta: float = 0.9, nesterov: bool = False) -> Optimizer:
    """Heavy-ball momentum (or Nesterov's variant): a running sum of past grads sets the step."""
    owner = "nesterov" if nesterov else "momentum"
    beta = _unit(beta, "beta", owner)
    return chain(trace(beta, bool(nesterov)), scale_by_learning_rate(learning_rate, owner=owner))


def nesterov(learning_rate: float | Schedule, beta: float = 0.9) -> Optimizer:
    """Nesterov momentum: momentum that looks one step ahead, in the form optax and PyTorch use:
    ``m_t = g_t + beta * m_{t-1}``, ``w <- w - learning_rate(count) * (g_t + beta * m_t)`` (see ``trace``)."""
    return momentum(learning_rate, beta, nesterov=True)


def adagrad(learning_rate: float | Schedule, eps: float = 1e-8) -> Optimizer:
    """AdaGrad: per-parameter rates that shrink with the sum of that parameter's squared grads:
    ``w <- w - learning_rate(count) * g_t / (sqrt(acc_t) + eps)``, the sum starting at 0
    (see ``scale_by_adagrad``; optax starts it at 0.1, with eps 1e-7 inside the root)."""
    return chain(scale_by_adagrad(_eps(eps, "adagrad")), scale_by_learning_rate(learning_rate, owner="adagrad"))


def rmsprop(learning_rate: float | Schedule, decay: float = 0.9, eps: float = 1e-8) -> Optimizer:
    """RMSProp: per-parameter rates set by a moving average of squared grads:
    ``w <- w - learning_rate(count) * g_t / (sqrt(nu_t) + eps)``, eps outside the root (see ``scale_by_rms``)."""
    decay = _unit(decay, "decay", "rmsprop")
    return chain(scale_by_rms(decay, _eps(eps, "rmsprop")), scale_by_learning_rate(learning_rate, owner="rmsprop"))


def adam(learning_rate: float | Schedule, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> Optimizer:
    """Adam: momentum on the grads, RMSProp on their squares, both bias-corrected:
    ``w <- w - learning_rate(count) * mu_hat / (sqrt(nu_hat) + eps)``, eps outside the root (see
    ``scale_by_adam``)."""
    b1 = _unit(b1, "b1", "adam")
    b2 = _unit(b2, "b2", "adam")
    return chain(scale_by_adam(b1, b2, _eps(eps, "adam")), scale_by_learning_rate(learning_rate, owner="adam"))


OPTIMIZERS: dict[str, Callable[..., Optimizer]] = {
    "gd": gd,
    "momentum": momentum,
    "nesterov": nesterov,
    "adagrad": adagrad,
    "rmsprop": rmsprop,
    "adam": adam,
}


def hyperparameters(name: str) -> dict[str, float]:
    """The tunable hyperparameters of a registered optimizer or schedule, with their defaults.

    The first argument (``learning_rate`` or ``init_value``) is not included.
    """
    registry = OPTIMIZERS if name in OPTIMIZERS else SCHEDULES
    check_choice(name, "name", "hyperparameters", [*OPTIMIZERS, *SCHEDULES])
    params = list(inspect.signature(registry[name]).parameters.values())[1:]
    return {p.name: p.default for p in params if isinstance(p.default, int | float) and not isinstance(p.default, bool)}


def make_schedule(name: str, init_value: float, **kwargs: float) -> Schedule:
    """Build a registered schedule by name."""
    check_choice(name, "schedule", "make_schedule", SCHEDULES)
    return SCHEDULES[name](init_value, **kwargs)


def make_optimizer(name: str, learning_rate: float | Schedule, **kwargs: float) -> Optimizer:
    """Build a registered optimizer by name."""
    check_choice(name, "optimizer", "make_optimizer", OPTIMIZERS)
    return OPTIMIZERS[name](learning_rate, **kwargs)
