"""Tests for gdviz.optimizers: every optimizer against a textbook loop, every schedule against its formula.

Parametrised over the registries (as optax's alias tests are), so a new optimizer or schedule without an
oracle here fails the suite rather than going untested.
"""

from __future__ import annotations

import numpy as np
import pytest

import gdviz
from gdviz import optimizers as opt
from gdviz.data import make_problem
from gdviz.engine import Status, collect, run

# --------------------------------------------------------------------------------------------
# Oracles written from the textbook definitions (count is 0-based: updates applied before this one)
# --------------------------------------------------------------------------------------------


def constant_formula(init, count):
    return init


def inverse_time_formula(init, count, decay_rate=0.01):
    return init / (1.0 + decay_rate * count)


def inverse_scaling_formula(init, count, power_t=0.25):
    # scikit-learn's "invscaling": eta = eta0 / t ** power_t, with its t counting from 1.
    t = count + 1
    return init / t**power_t


def exponential_decay_formula(init, count, decay_rate=0.99, transition_steps=1):
    return init * decay_rate ** (count / transition_steps)


def step_decay_formula(init, count, factor=0.5, every=100):
    return init * factor ** (count // every)


SCHEDULE_FORMULAS = {
    "constant": constant_formula,
    "inverse_time": inverse_time_formula,
    "inverse_scaling": inverse_scaling_formula,
    "exponential_decay": exponential_decay_formula,
    "step_decay": step_decay_formula,
}

# Non-default arguments, to see that each one reaches the formula.
SCHEDULE_CUSTOM_KWARGS = {
    "constant": {},
    "inverse_time": {"decay_rate": 0.5},
    "inverse_scaling": {"power_t": 0.5},
    "exponential_decay": {"decay_rate": 0.5, "transition_steps": 10},
    "step_decay": {"factor": 0.25, "every": 7},
}

OPTIMIZER_CUSTOM_KWARGS = {
    "gd": {},
    "momentum": {"beta": 0.7},
    "nesterov": {"beta": 0.6},
    "adagrad": {"eps": 1e-3},
    "rmsprop": {"decay": 0.8, "eps": 1e-4},
    "adam": {"b1": 0.8, "b2": 0.99, "eps": 1e-5},
}

# gdviz's documented defaults. optax's rmsprop and adam have the same numbers (its rmsprop puts eps inside
# the root); its AdaGrad does not: it starts its sum at 0.1 (initial_accumulator_value) with eps 1e-7 inside
# the root, where gdviz's starts at 0 with eps 1e-8 outside it (see gdviz.optimizers.scale_by_adagrad).
OPTIMIZER_DEFAULTS = {
    "gd": {},
    "momentum": {"beta": 0.9},
    "nesterov": {"beta": 0.9},
    "adagrad": {"eps": 1e-8},
    "rmsprop": {"decay": 0.9, "eps": 1e-8},
    "adam": {"b1": 0.9, "b2": 0.999, "eps": 1e-8},
}

# Optimizers whose step is the gradient times the rate (so a safe rate is a fraction of 1/lambda_max),
# versus those whose step has the units of the params.
CURVATURE_SCALED = {"gd", "momentum", "nesterov"}


def design(X):
    return np.column_stack([np.ones(len(X)), X])


def lambda_max(X):
    X1 = design(X)
    return float(np.linalg.eigvalsh(2.0 / len(X) * X1.T @ X1)[-1])


def naive_run(X, y, name, rate_at, n_steps, hp):
    """Full-batch descent written directly from the formulas, over all rows of the data.

    Returns per step t = 1..n_steps: params, grads, loss, update norm and the rate used.
    """
    hp = {**OPTIMIZER_DEFAULTS[name], **hp}
    n = len(y)
    X1 = design(X)
    w = np.zeros(X1.shape[1])
    m = np.zeros_like(w)  # momentum buffer / Adam's first moment
    v = np.zeros_like(w)  # AdaGrad's sum of squares / RMSProp's and Adam's second moment

    def grad_at(w):
        r = X1 @ w - y
        return (2.0 / n) * (X1.T @ r)

    rows = []
    for t in range(1, n_steps + 1):
        g = grad_at(w)
        lr = rate_at(t - 1)
        if name == "gd":
            step = -lr * g
        elif name == "momentum":
            m = g + hp["beta"] * m
            step = -lr * m
        elif name == "nesterov":
            m = g + hp["beta"] * m
            step = -lr * (g + hp["beta"] * m)
        elif name == "adagrad":
            v = v + g**2
            step = -lr * g / (np.sqrt(v) + hp["eps"])
        elif name == "rmsprop":
            v = hp["decay"] * v + (1.0 - hp["decay"]) * g**2
            step = -lr * g / (np.sqrt(v) + hp["eps"])
        elif name == "adam":
            m = hp["b1"] * m + (1.0 - hp["b1"]) * g
            v = hp["b2"] * v + (1.0 - hp["b2"]) * g**2
            m_hat = m / (1.0 - hp["b1"] ** t)
            v_hat = v / (1.0 - hp["b2"] ** t)
            step = -lr * m_hat / (np.sqrt(v_hat) + hp["eps"])
        else:  # pragma: no cover - guarded by test_every_optimizer_has_an_oracle
            raise AssertionError(name)
        w = w + step
        r = X1 @ w - y
        rows.append((w.copy(), grad_at(w), float(np.mean(r**2)), float(np.sqrt(np.sum(step**2))), lr))
    return rows


def leaves(tree):
    """The arrays and numbers inside a (nested) optimizer state, in order."""
    if isinstance(tree, tuple):
        return [leaf for item in tree for leaf in leaves(item)]
    return [np.array(tree, copy=True)]


def assert_same_leaves(a, b):
    la, lb = leaves(a), leaves(b)
    assert len(la) == len(lb)
    for x, z in zip(la, lb, strict=True):
        np.testing.assert_array_equal(x, z)


@pytest.fixture(scope="module")
def raw_problem(random_xy):
    X, y = random_xy(11, n_samples=30, n_features=3)
    return X, y, make_problem(X, y)


def init_rate(name, X):
    """A safe starting rate for each optimizer on data X."""
    return 0.3 / lambda_max(X) if name in CURVATURE_SCALED else 0.05


# --------------------------------------------------------------------------------------------
# Registries
# --------------------------------------------------------------------------------------------


def test_every_optimizer_has_an_oracle():
    assert set(opt.OPTIMIZERS) == set(OPTIMIZER_DEFAULTS) == set(OPTIMIZER_CUSTOM_KWARGS)


def test_every_schedule_has_an_oracle():
    assert set(opt.SCHEDULES) == set(SCHEDULE_FORMULAS) == set(SCHEDULE_CUSTOM_KWARGS)


# --------------------------------------------------------------------------------------------
# First updates against the naive loop
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("hp_kind", ["defaults", "custom"])
@pytest.mark.parametrize("rate_kind", ["constant", "inverse_time"])
@pytest.mark.parametrize("name", sorted(opt.OPTIMIZERS))
def test_first_updates_match_textbook_loop(name, rate_kind, hp_kind, raw_problem):
    X, y, problem = raw_problem
    lr0 = init_rate(name, X)
    hp = OPTIMIZER_CUSTOM_KWARGS[name] if hp_kind == "custom" else {}
    if rate_kind == "constant":
        learning_rate, rate_at = lr0, (lambda c: lr0)
    else:
        learning_rate = opt.make_schedule("inverse_time", lr0, decay_rate=0.3)
        rate_at = lambda c: inverse_time_formula(lr0, c, decay_rate=0.3)  # noqa: E731
    n_steps = 10
    states = list(run(problem, opt.make_optimizer(name, learning_rate, **hp), tol=0, max_steps=n_steps))
    expected = naive_run(X, y, name, rate_at, n_steps, hp)

    assert [s.step for s in states] == list(range(n_steps + 1))
    first = states[0]
    np.testing.assert_array_equal(first.params, np.zeros(4))
    np.testing.assert_allclose(first.grads, -(2.0 / len(y)) * design(X).T @ y, rtol=1e-12)
    assert first.loss == pytest.approx(np.mean(y**2), rel=1e-12, abs=0)
    assert np.isnan(first.update_norm) and np.isnan(first.learning_rate)

    scale = np.abs(expected[-1][0]).max()
    for state, (w, g, loss, norm, lr) in zip(states[1:], expected, strict=True):
        np.testing.assert_allclose(state.params, w, rtol=1e-10, atol=1e-12 * scale)
        np.testing.assert_allclose(state.grads, g, rtol=1e-9, atol=1e-10 * np.abs(g).max())
        assert state.loss == pytest.approx(loss, rel=1e-10, abs=0)
        assert state.update_norm == pytest.approx(norm, rel=1e-9, abs=0)
        assert state.learning_rate == pytest.approx(lr, rel=1e-14, abs=0)
    assert states[-1].status is Status.MAX_STEPS
    assert all(s.status is Status.RUNNING for s in states[:-1])


# --------------------------------------------------------------------------------------------
# Schedules
# --------------------------------------------------------------------------------------------

COUNTS = (0, 1, 10, 1000)


@pytest.mark.parametrize("kw_kind", ["defaults", "custom"])
@pytest.mark.parametrize("name", sorted(opt.SCHEDULES))
def test_schedule_matches_its_formula(name, kw_kind):
    kwargs = SCHEDULE_CUSTOM_KWARGS[name] if kw_kind == "custom" else {}
    schedule = opt.make_schedule(name, 0.3, **kwargs)
    assert schedule.name == name
    for count in COUNTS:
        expected = SCHEDULE_FORMULAS[name](0.3, count, **kwargs)
        assert float(schedule(count)) == pytest.approx(expected, rel=1e-13, abs=0)
    # The same through the registry's constructor directly.
    direct = opt.SCHEDULES[name](0.3, **kwargs)
    assert float(direct(10)) == pytest.approx(SCHEDULE_FORMULAS[name](0.3, 10, **kwargs), rel=1e-13, abs=0)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint16])
@pytest.mark.parametrize("name", sorted(opt.SCHEDULES))
def test_schedule_accepts_integer_arrays(name, dtype):
    kwargs = SCHEDULE_CUSTOM_KWARGS[name]
    schedule = opt.make_schedule(name, 0.3, **kwargs)
    counts = np.array(COUNTS, dtype=dtype)
    out = np.asarray(schedule(counts))
    assert out.shape == counts.shape
    expected = [SCHEDULE_FORMULAS[name](0.3, c, **kwargs) for c in COUNTS]
    np.testing.assert_allclose(out, expected, rtol=1e-13)
    # And numpy integer scalars, as a loop over an arange hands them out.
    assert float(schedule(dtype(10))) == pytest.approx(expected[2], rel=1e-13, abs=0)


@pytest.mark.parametrize("name", sorted(opt.SCHEDULES))
def test_schedule_is_pure(name):
    schedule = opt.make_schedule(name, 0.3, **SCHEDULE_CUSTOM_KWARGS[name])
    counts = np.arange(50)
    before = counts.copy()
    first = np.asarray(schedule(counts)).copy()
    second = np.asarray(schedule(counts))
    np.testing.assert_array_equal(counts, before)
    np.testing.assert_array_equal(first, second)


def test_decaying_schedules_do_not_increase():
    counts = np.arange(2000)
    for name in sorted(set(opt.SCHEDULES) - {"constant"}):
        rates = np.asarray(opt.make_schedule(name, 0.3)(counts))
        assert np.all(np.diff(rates) <= 0), name
        assert rates[0] == pytest.approx(0.3)


# --------------------------------------------------------------------------------------------
# Every optimizer with every schedule (optax alias-test style)
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def standard_problem(random_xy):
    X, y = random_xy(5, n_samples=60, n_features=3)
    return X, y, make_problem(X, y, scaling="standard")


@pytest.mark.parametrize("schedule_name", sorted(opt.SCHEDULES))
@pytest.mark.parametrize("name", sorted(opt.OPTIMIZERS))
def test_registry_optimizer_with_schedule_descends(name, schedule_name, standard_problem):
    X, y, problem = standard_problem
    X1 = problem.X1
    lam = float(np.linalg.eigvalsh(2.0 / len(y) * X1.T @ X1)[-1])
    lr0 = 0.3 / lam if name in CURVATURE_SCALED else 0.05
    kwargs = SCHEDULE_CUSTOM_KWARGS[schedule_name]
    schedule = opt.make_schedule(schedule_name, lr0, **kwargs)
    optimizer = opt.make_optimizer(name, schedule)
    assert isinstance(optimizer, opt.Optimizer)
    assert optimizer.learning_rate is schedule

    n_steps = 300
    traj = collect(run(problem, optimizer, tol=0, max_steps=n_steps))
    assert traj.status is Status.MAX_STEPS
    assert traj.n_states == n_steps + 1
    assert np.all(np.isfinite(traj.loss))
    assert traj.loss[1] < traj.loss[0]
    assert traj.loss[-1] < traj.loss[0]
    # The rate reported at step t is the schedule at count t - 1; there is none at step 0.
    assert np.isnan(traj.learning_rate[0])
    expected = [SCHEDULE_FORMULAS[schedule_name](lr0, c, **kwargs) for c in range(n_steps)]
    np.testing.assert_allclose(traj.learning_rate[1:], expected, rtol=1e-12)


@pytest.mark.parametrize("name", sorted(opt.OPTIMIZERS))
def test_init_and_update_are_pure(name, raw_problem):
    X, y, problem = raw_problem
    optimizer = opt.make_optimizer(name, init_rate(name, X))
    params = np.array([0.5, -1.0, 2.0, 0.25])
    params_copy = params.copy()

    state0 = optimizer.init(params)
    np.testing.assert_array_equal(params, params_copy)
    assert_same_leaves(state0, optimizer.init(params))

    # Take the state a few updates in, so that buffers hold non-zero values.
    state = state0
    for _ in range(3):
        _, state = optimizer.update(problem.grad(params), state, params)
    grads = problem.grad(params)
    grads_copy, state_copy = grads.copy(), leaves(state)

    updates_a, new_a = optimizer.update(grads, state, params)
    updates_b, new_b = optimizer.update(grads, state, params)
    np.testing.assert_array_equal(grads, grads_copy)
    np.testing.assert_array_equal(params, params_copy)
    for now, then in zip(leaves(state), state_copy, strict=True):
        np.testing.assert_array_equal(now, then)
    np.testing.assert_array_equal(updates_a, updates_b)
    assert_same_leaves(new_a, new_b)
    assert not np.shares_memory(updates_a, grads)


def test_init_state_does_not_alias_params():
    params = np.zeros(3)
    for name in sorted(opt.OPTIMIZERS):
        state = opt.make_optimizer(name, 0.1).init(params)
        for leaf in leaves(state):
            assert not np.shares_memory(leaf, params), name


# --------------------------------------------------------------------------------------------
# Input errors
# --------------------------------------------------------------------------------------------

BAD_RATES = [0, 0.0, -0.1, -1, float("nan"), float("inf"), -float("inf"), "fast", "0.1", None, True, [0.1]]


@pytest.mark.parametrize("bad", BAD_RATES, ids=repr)
@pytest.mark.parametrize("name", sorted(opt.OPTIMIZERS))
def test_bad_learning_rate_is_an_input_error(name, bad):
    pattern = rf"The 'learning_rate' parameter of {name} must be a float in the range \(0, inf\)"
    with pytest.raises(gdviz.InputError, match=pattern):
        opt.OPTIMIZERS[name](bad)
    with pytest.raises(gdviz.InputError, match=pattern):
        opt.make_optimizer(name, bad)


def test_rate_error_message_quotes_the_value():
    with pytest.raises(gdviz.InputError, match=r"Got -0\.1 instead\."):
        opt.gd(-0.1)
    with pytest.raises(gdviz.InputError, match=r"Got 'fast' instead\."):
        opt.adam("fast")


def test_too_large_rate_is_not_an_error(raw_problem):
    _, _, problem = raw_problem
    optimizer = opt.gd(1e6)  # far above 2 / lambda_max: valid input, divergent result
    states = list(run(problem, optimizer, max_steps=10_000))
    assert states[-1].status is Status.DIVERGED


def test_input_error_is_a_value_error():
    assert issubclass(gdviz.InputError, ValueError)
    with pytest.raises(ValueError):
        opt.gd(-1.0)


def test_unknown_optimizer_lists_the_valid_names():
    with pytest.raises(
        gdviz.InputError, match="The 'optimizer' parameter of make_optimizer must be a str among"
    ) as exc:
        opt.make_optimizer("sgd", 0.1)
    for name in opt.OPTIMIZERS:
        assert repr(name) in str(exc.value)
    assert "Got 'sgd' instead." in str(exc.value)


def test_unknown_schedule_lists_the_valid_names():
    with pytest.raises(gdviz.InputError, match="The 'schedule' parameter of make_schedule must be a str among") as exc:
        opt.make_schedule("cosine", 0.1)
    for name in opt.SCHEDULES:
        assert repr(name) in str(exc.value)
    assert "Got 'cosine' instead." in str(exc.value)


@pytest.mark.parametrize(
    ("build", "param"),
    [
        (lambda: opt.momentum(0.1, beta=1.5), "beta"),
        (lambda: opt.momentum(0.1, beta=-0.1), "beta"),
        (lambda: opt.nesterov(0.1, beta=float("nan")), "beta"),
        (lambda: opt.rmsprop(0.1, decay=2.0), "decay"),
        (lambda: opt.adam(0.1, b1=-0.5), "b1"),
        (lambda: opt.adam(0.1, b2=1.5), "b2"),
        (lambda: opt.adagrad(0.1, eps=0.0), "eps"),
        (lambda: opt.adam(0.1, eps=-1e-8), "eps"),
    ],
)
def test_bad_hyperparameter_is_an_input_error(build, param):
    with pytest.raises(gdviz.InputError, match=f"The '{param}' parameter of"):
        build()


@pytest.mark.parametrize(
    ("name", "kwargs", "param"),
    [
        ("constant", {}, "init_value"),
        ("inverse_time", {"decay_rate": -0.1}, "decay_rate"),
        ("inverse_scaling", {"power_t": -1.0}, "power_t"),
        ("exponential_decay", {"decay_rate": 0.0}, "decay_rate"),
        ("exponential_decay", {"decay_rate": 1.5}, "decay_rate"),
        ("exponential_decay", {"transition_steps": 0}, "transition_steps"),
        ("step_decay", {"factor": 2.0}, "factor"),
        ("step_decay", {"every": 0}, "every"),
        ("step_decay", {"every": 2.5}, "every"),
    ],
)
def test_bad_schedule_argument_is_an_input_error(name, kwargs, param):
    init = -0.1 if param == "init_value" else 0.1
    with pytest.raises(gdviz.InputError, match=f"The '{param}' parameter of {name}"):
        opt.make_schedule(name, init, **kwargs)


@pytest.mark.parametrize("name", sorted(opt.SCHEDULES))
def test_schedule_init_value_must_be_positive(name):
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(gdviz.InputError, match=f"The 'init_value' parameter of {name}"):
            opt.make_schedule(name, bad)
