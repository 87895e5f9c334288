"""RunConfig.to_query / from_query: round trips of random valid configs, and every hostile parameter falls
back to its default (or is clamped) with one notice that names it in words, never raising.

The expected defaults are written here as numbers (0.05, 10_000, ...), not read from RunConfig.
"""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gdviz import InputError
from gdviz.experiment import MAX_STEPS_LIMIT, QUERY_KEYS, RunConfig

DEFAULT_LR, DEFAULT_MAX_STEPS, DEFAULT_OPT, DEFAULT_DATA = 0.05, 10_000, "gd", "synthetic_line"


def finite(lo: float, hi: float):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


configs = st.builds(
    RunConfig,
    dataset=st.sampled_from(["synthetic_line", "diabetes", "california_housing"]),
    feature=st.integers(0, 9),
    n_samples=st.integers(2, 500),
    slope=finite(-1e5, 1e5),
    intercept=finite(-1e5, 1e5),
    noise=finite(0, 100),
    x_loc=finite(-1e5, 1e5),
    x_scale=finite(1e-6, 1e5),
    seed=st.integers(0, 2**32 - 1),
    scaling=st.sampled_from(["none", "standard", "minmax", "robust"]),
    optimizer=st.sampled_from(["gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]),
    learning_rate=finite(1e-12, 9.9e5),
    schedule=st.sampled_from(["constant", "inverse_time", "inverse_scaling", "exponential_decay", "step_decay"]),
    decay_rate=finite(0, 0.99),
    power_t=finite(0, 5),
    factor=finite(0.01, 1),
    every=st.integers(1, 10_000),
    beta=finite(0, 0.999),
    b1=finite(0, 0.999),
    b2=finite(0, 0.999),
    rms_decay=finite(0, 0.999),
    eps=finite(1e-12, 1),
    init_intercept=finite(-1e6, 1e6),
    init_slope=finite(-1e6, 1e6),
    tol=finite(0, 1),
    max_steps=st.integers(1, MAX_STEPS_LIMIT),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs)
def test_round_trip_of_random_valid_configs(config):
    query = config.to_query()
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in query.items())
    back, notices = RunConfig.from_query(query)
    assert notices == []
    assert back == config


def test_defaults_write_an_empty_query_and_only_changed_fields_go_in():
    assert RunConfig().to_query() == {}
    query = RunConfig(learning_rate=0.3, optimizer="adam", max_steps=50).to_query()
    assert query == {"lr": "0.3", "opt": "adam", "max_steps": "50"}


def test_every_field_has_a_distinct_short_key():
    fields = {f.name for f in dataclasses.fields(RunConfig)} - {"upload"}  # the upload id never travels
    assert set(QUERY_KEYS) == fields
    assert len(set(QUERY_KEYS.values())) == len(QUERY_KEYS)


def test_list_values_of_length_one_are_read_like_strings():
    config, notices = RunConfig.from_query({"lr": ["0.25"], "opt": ["momentum"]})
    assert notices == [] and config.learning_rate == 0.25 and config.optimizer == "momentum"


HOSTILE = [
    # (params, field, default, words the notice must contain)
    ({"lr": "-0.1"}, "learning_rate", DEFAULT_LR, ["learning rate", "lr", "-0.1", "range", "0.05"]),
    ({"lr": "0"}, "learning_rate", DEFAULT_LR, ["learning rate", "range"]),
    ({"lr": "1e9"}, "learning_rate", DEFAULT_LR, ["learning rate", "range"]),
    ({"lr": "abc"}, "learning_rate", DEFAULT_LR, ["learning rate", "'abc' is not a number"]),
    ({"lr": "nan"}, "learning_rate", DEFAULT_LR, ["learning rate", "not a finite number"]),
    ({"lr": "inf"}, "learning_rate", DEFAULT_LR, ["learning rate", "not a finite number"]),
    ({"lr": "-Infinity"}, "learning_rate", DEFAULT_LR, ["learning rate", "not a finite number"]),
    ({"lr": ["0.1", "0.2"]}, "learning_rate", DEFAULT_LR, ["learning rate", "given 2 times"]),
    ({"lr": "1" * 100_000}, "learning_rate", DEFAULT_LR, ["learning rate", "100,000 characters"]),
    ({"dataset": "../../etc/passwd"}, "dataset", DEFAULT_DATA, ["dataset", "'../../etc/passwd'", "diabetes"]),
    ({"dataset": "/etc/passwd"}, "dataset", DEFAULT_DATA, ["dataset", "not one of"]),
    ({"dataset": "x" * 100_000}, "dataset", DEFAULT_DATA, ["dataset", "100,000 characters"]),
    ({"opt": "sgd_turbo"}, "optimizer", DEFAULT_OPT, ["optimizer", "opt", "not one of", "adam"]),
    ({"opt": ""}, "optimizer", DEFAULT_OPT, ["optimizer", "not one of"]),
    ({"max_steps": "ten"}, "max_steps", DEFAULT_MAX_STEPS, ["max steps", "not a number"]),
    ({"max_steps": "0"}, "max_steps", DEFAULT_MAX_STEPS, ["max steps", "range"]),
    ({"max_steps": "-5"}, "max_steps", DEFAULT_MAX_STEPS, ["max steps", "range"]),
    ({"max_steps": "2.5"}, "max_steps", DEFAULT_MAX_STEPS, ["max steps", "not a whole number"]),
    ({"n": "1"}, "n_samples", 20, ["number of synthetic points", "range"]),
    ({"seed": "-1"}, "seed", 0, ["random seed", "range"]),
    ({"tol": "-1e-3"}, "tol", 1e-6, ["convergence tolerance", "range"]),
    ({"b1": "1.5"}, "b1", 0.9, ["Adam beta1", "range"]),  # checked as Adam reads it, whatever the optimizer
    ({"opt": "adam", "b1": "1"}, "b1", 0.9, ["Adam beta1", "range"]),
    ({"beta": "-0.5"}, "beta", 0.9, ["momentum beta", "range"]),
    ({"every": "0"}, "every", 100, ["step-decay interval", "range"]),
    ({"start_slope": "1e300"}, "init_slope", 0.0, ["start slope", "range"]),
    ({"scale": "<b>bold</b>"}, "scaling", "none", ["feature scaling", "not one of"]),
]


@pytest.mark.parametrize(("params", "field", "default", "words"), HOSTILE)
def test_hostile_parameter_falls_back_to_its_default_with_a_notice(params, field, default, words):
    config, notices = RunConfig.from_query(params)
    assert getattr(config, field) == default
    assert len(notices) == 1, notices
    for word in words:
        assert word in notices[0], (word, notices[0])
    assert len(notices[0]) < 400  # a 100 kB value is never echoed back


def test_huge_max_steps_is_clamped_to_the_limit_and_says_so():
    config, notices = RunConfig.from_query({"max_steps": "9" * 50})
    assert config.max_steps == 200_000
    assert len(notices) == 1 and "max steps" in notices[0] and "200,000" in notices[0] and "using 200,000" in notices[0]


def test_upload_link_gives_the_default_data_and_the_upload_notice():
    config, notices = RunConfig.from_query({"dataset": "upload", "lr": "0.2"})
    assert config.dataset == "synthetic_line" and config.learning_rate == 0.2
    assert notices == [
        "This link was made on an uploaded file, which cannot travel in a link: showing the default data. "
        "Upload the file on the Your data page to continue."
    ]


def test_a_schedule_setting_is_checked_in_the_schedule_the_link_names():
    # 5 is a valid decay for inverse time (lr / (1 + 5 t)) but not for the exponential schedule.
    config, notices = RunConfig.from_query({"sched": "inverse_time", "decay": "5"})
    assert notices == [] and config.decay_rate == 5.0
    config, notices = RunConfig.from_query({"decay": "5"})
    assert config.decay_rate == 0.01 and len(notices) == 1 and "schedule decay" in notices[0]


def test_good_parameters_survive_next_to_bad_ones_and_unknown_keys_are_left_alone():
    config, notices = RunConfig.from_query({"lr": "0.2", "opt": "nope", "max_steps": "300", "step": "7", "zz": "1"})
    assert (config.learning_rate, config.optimizer, config.max_steps) == (0.2, "gd", 300)
    assert len(notices) == 1 and "optimizer" in notices[0]


hostile_text = st.one_of(
    st.text(max_size=300),
    st.sampled_from(["nan", "-inf", "1e999", "0x10", "1_000", "../..", "%00", "\x00", "  ", "1e-400"]),
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(st.sampled_from([*QUERY_KEYS.values(), "junk"]), st.one_of(hostile_text, st.lists(hostile_text)))
)
def test_from_query_never_raises_and_always_returns_a_valid_config(params):
    config, notices = RunConfig.from_query(params)
    assert isinstance(config, RunConfig)
    assert all(isinstance(n, str) and n for n in notices)
    assert math.isfinite(config.learning_rate) and 1 <= config.max_steps <= MAX_STEPS_LIMIT
    try:
        config.make_optimizer()
        dataclasses.replace(config)  # validates again
    except InputError as err:  # pragma: no cover - the assertion message is the point
        pytest.fail(f"from_query returned an invalid config: {err}")
