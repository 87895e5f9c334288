"""The link codec (gdviz.query): to_query / from_query round trips of random valid configs, every hostile
parameter falls back to its default (or is clamped) with one notice that names it in words, never raising;
links made before keep opening the same view; and the readers pages use for their own keys.

The expected defaults are written here as numbers (0.05, 10_000, ...), not read from RunConfig, and the link
keys of every field are written out here as they were before the field table existed.
"""

from __future__ import annotations

import dataclasses
import math
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gdviz import InputError, query
from gdviz.config import FIELDS, LINK_KEYS, MAX_STEPS_LIMIT, RunConfig

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
    batch_size=st.integers(0, 2),  # at most the fewest rows a config can have (2 points)
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs)
def test_round_trip_of_random_valid_configs(config):
    q = query.to_query(config)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in q.items())
    back, notices = query.from_query(q)
    assert notices == []
    assert back == config


def test_defaults_write_an_empty_query_and_only_changed_fields_go_in():
    assert query.to_query(RunConfig()) == {}
    q = query.to_query(RunConfig(learning_rate=0.3, optimizer="adam", max_steps=50))
    assert q == {"lr": "0.3", "opt": "adam", "max_steps": "50"}


def test_every_field_has_a_distinct_short_key():
    fields = {f.name for f in dataclasses.fields(RunConfig)} - {"upload"}  # the upload id never travels
    assert set(LINK_KEYS) == fields
    assert len(set(LINK_KEYS.values())) == len(LINK_KEYS)


def test_list_values_of_length_one_are_read_like_strings():
    config, notices = query.from_query({"lr": ["0.25"], "opt": ["momentum"]})
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
    ({"n": "1"}, "n_samples", 20, ["number of points", "range"]),
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
    config, notices = query.from_query(params)
    assert getattr(config, field) == default
    assert len(notices) == 1, notices
    for word in words:
        assert word in notices[0], (word, notices[0])
    assert len(notices[0]) < 400  # a 100 kB value is never echoed back


def test_huge_max_steps_is_clamped_to_the_limit_and_says_so():
    config, notices = query.from_query({"max_steps": "9" * 50})
    assert config.max_steps == 200_000
    assert len(notices) == 1 and "max steps" in notices[0] and "200,000" in notices[0] and "using 200,000" in notices[0]


@pytest.mark.parametrize("text", ["1e99", "1" + "0" * 99, "9" * 150])
def test_a_hostile_max_steps_notice_never_prints_a_huge_integer(text):
    config, notices = query.from_query({"max_steps": text})
    assert config.max_steps == 200_000
    assert len(notices) == 1 and "using 200,000" in notices[0]
    assert not re.search(r"\d{13}", notices[0].replace(",", "")), notices[0]
    assert len(notices[0]) < 150


def test_upload_link_gives_the_default_data_and_the_upload_notice():
    config, notices = query.from_query({"dataset": "upload", "lr": "0.2"})
    assert config.dataset == "synthetic_line" and config.learning_rate == 0.2
    assert notices == [
        "This link was made on an uploaded file, which cannot travel in a link: showing the default data. "
        "Upload the file on the Your data page to continue."
    ]


def test_a_schedule_setting_is_checked_in_the_schedule_the_link_names():
    # 5 is a valid decay for inverse time (lr / (1 + 5 t)) but not for the exponential schedule.
    config, notices = query.from_query({"sched": "inverse_time", "decay": "5"})
    assert notices == [] and config.decay_rate == 5.0
    config, notices = query.from_query({"decay": "5"})
    assert config.decay_rate == 0.01 and len(notices) == 1 and "schedule decay" in notices[0]


def test_good_parameters_survive_next_to_bad_ones_and_unknown_keys_are_left_alone():
    config, notices = query.from_query({"lr": "0.2", "opt": "nope", "max_steps": "300", "step": "7", "zz": "1"})
    assert (config.learning_rate, config.optimizer, config.max_steps) == (0.2, "gd", 300)
    assert len(notices) == 1 and "optimizer" in notices[0]


hostile_text = st.one_of(
    st.text(max_size=300),
    st.sampled_from(["nan", "-inf", "1e999", "0x10", "1_000", "../..", "%00", "\x00", "  ", "1e-400"]),
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from([*LINK_KEYS.values(), "junk"]), st.one_of(hostile_text, st.lists(hostile_text))))
def test_from_query_never_raises_and_always_returns_a_valid_config(params):
    config, notices = query.from_query(params)
    assert isinstance(config, RunConfig)
    assert all(isinstance(n, str) and n for n in notices)
    assert math.isfinite(config.learning_rate) and 1 <= config.max_steps <= MAX_STEPS_LIMIT
    try:
        config.make_optimizer()
        dataclasses.replace(config)  # validates again
    except InputError as err:  # pragma: no cover - the assertion message is the point
        pytest.fail(f"from_query returned an invalid config: {err}")


# ---------------------------------------------------------------------------------------------
# Links made before: every key, as the links of earlier versions wrote it
# ---------------------------------------------------------------------------------------------

# The oracle: field -> key, written out by hand from the QUERY_KEYS of gdviz/experiment.py before the field
# table replaced it. A link in the wild uses these; none may change.
OLD_KEYS = {
    "dataset": "dataset", "feature": "feature", "n_samples": "n", "slope": "slope", "intercept": "intercept",
    "noise": "noise", "x_loc": "x_loc", "x_scale": "x_scale", "seed": "seed", "scaling": "scale",
    "optimizer": "opt", "learning_rate": "lr", "schedule": "sched", "decay_rate": "decay", "power_t": "power",
    "factor": "factor", "every": "every", "beta": "beta", "b1": "b1", "b2": "b2", "rms_decay": "rms_decay",
    "eps": "eps", "init_intercept": "start_intercept", "init_slope": "start_slope", "tol": "tol",
    "max_steps": "max_steps",
}  # fmt: skip
# One value per field, each different from the default, and the runs that read it.
OLD_VALUES = {
    "dataset": ("diabetes", {}), "feature": ("2", {"dataset": "diabetes"}), "n_samples": ("50", {}),
    "slope": ("-1.5", {}), "intercept": ("0.25", {}), "noise": ("0.0", {}), "x_loc": ("-3.0", {}),
    "x_scale": ("2.5", {}), "seed": ("7", {}), "scaling": ("standard", {}), "optimizer": ("adam", {}),
    "learning_rate": ("0.125", {}), "schedule": ("step_decay", {}), "decay_rate": ("0.5", {"schedule": "inverse_time"}),
    "power_t": ("0.75", {"schedule": "inverse_scaling"}), "factor": ("0.25", {"schedule": "step_decay"}),
    "every": ("30", {"schedule": "step_decay"}), "beta": ("0.5", {"optimizer": "momentum"}),
    "b1": ("0.8", {"optimizer": "adam"}), "b2": ("0.99", {"optimizer": "adam"}),
    "rms_decay": ("0.95", {"optimizer": "rmsprop"}), "eps": ("1e-06", {"optimizer": "adam"}),
    "init_intercept": ("-2.0", {}), "init_slope": ("5.0", {}), "tol": ("0.001", {}), "max_steps": ("1234", {}),
}  # fmt: skip


# Keys added since, each with the issue that added it: a new key never reuses or renames an old one.
NEW_KEYS = {"batch_size": "batch"}  # issue 13: mini-batches


def test_the_link_keys_are_the_keys_of_links_made_before():
    old = {f: k for f, k in LINK_KEYS.items() if f not in NEW_KEYS}
    assert old == OLD_KEYS
    assert list(old) == list(OLD_KEYS)  # the order of the keys in a written link, too
    assert {f: LINK_KEYS[f] for f in NEW_KEYS} == NEW_KEYS and not set(NEW_KEYS.values()) & set(OLD_KEYS.values())


@pytest.mark.parametrize(
    ("params", "batch_size", "notice"),
    [
        ({"batch": "5"}, 5, None),
        ({"batch": "20"}, 20, None),  # every row of the 20 points: allowed (the engine runs it as full batch)
        ({"batch": "0"}, 0, None),
        ({"batch": "21"}, 0, "the range [1, 20], the number of rows of the data"),
        ({"batch": "21", "n": "50"}, 21, None),  # checked against the link's own number of points
        ({"batch": "300", "dataset": "diabetes"}, 300, None),  # the real table's rows: checked where it loads
        ({"batch": "-1"}, 0, "outside the range it accepts, [0, 1000000]"),
        ({"batch": "2.5"}, 0, "not a whole number"),
    ],
)
def test_a_batch_size_in_a_link_is_read_and_checked_against_the_links_data(params, batch_size, notice):
    config, notices = query.from_query(params)
    assert config.batch_size == batch_size
    if notice is None:
        assert notices == []
        assert query.from_query(query.to_query(config)) == (config, [])  # and written back the same
    else:
        (text,) = notices
        assert text.startswith("Ignored the batch size (batch) in the link") and notice in text


def test_every_link_key_is_unique():
    assert len(set(LINK_KEYS.values())) == len(LINK_KEYS)


@pytest.mark.parametrize("field", sorted(OLD_KEYS))
def test_every_old_link_key_still_decodes(field):
    text, context = OLD_VALUES[field]
    params = {OLD_KEYS[f]: value for f, value in {**context, field: text}.items()}
    config, notices = query.from_query(params)
    assert notices == []
    expected = type(getattr(RunConfig(), field))(text)
    assert getattr(config, field) == expected != getattr(RunConfig(), field)
    assert query.to_query(config)[OLD_KEYS[field]] == text  # and is written back under the same key


def test_a_link_of_an_earlier_version_opens_the_same_view():
    link = {"opt": "momentum", "beta": "0.5", "lr": "0.02", "n": "40", "scale": "minmax", "start_slope": "-3.0",
            "max_steps": "500", "sched": "inverse_time", "decay": "0.1"}  # fmt: skip
    config, notices = query.from_query(link)
    assert notices == []
    assert config == RunConfig(optimizer="momentum", beta=0.5, learning_rate=0.02, n_samples=40, scaling="minmax",
                               init_slope=-3.0, max_steps=500, schedule="inverse_time", decay_rate=0.1)  # fmt: skip
    assert query.to_query(config) == link


def test_notices_use_the_field_tables_labels():
    for field, key in LINK_KEYS.items():
        _, notices = query.from_query({key: ["1", "2"]})
        assert notices == [f"Ignored the {FIELDS[field].label} ({key}) in the link: it is given 2 times. "
                           f"Using the default, {notices[0].rsplit('default, ', 1)[1]}"]  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Readers for a page's own keys
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "low", "expected"), [("7", 0, 7), (" 12 ", 0, 12), ("+3", 1, 3), ("0", 0, 0)])
def test_read_int_reads_whole_numbers(text, low, expected):
    notices = []
    assert query.read_int("step", text, "step", notices, low=low) == expected
    assert notices == []


@pytest.mark.parametrize("text", ["-1", "1.5", "abc", "", "9" * 21, "1e3"])
def test_read_int_refuses_anything_else_with_a_notice(text):
    notices = []
    assert query.read_int("step", text, "step shown", notices) is None
    assert notices == ["Ignored the step shown (step) in the link: it must be a whole number from 0 up."]


def test_read_int_says_its_lowest_value():
    notices = []
    assert query.read_int("n", "1", "count", notices, low=2) is None
    assert notices == ["Ignored the count (n) in the link: it must be a whole number from 2 up."]


def test_read_step_keeps_a_step_up_to_the_max_steps_silently():
    notices = []
    assert [query.read_step(t, 30, notices) for t in ("0", "12", "30")] == [0, 12, 30]
    assert notices == []


def test_read_step_past_the_max_steps_opens_at_the_end_and_says_so():
    notices = []
    assert query.read_step("500", 30, notices) == 30
    assert query.read_step("999999", 10_000, notices, label="step shown", several=True) == 10_000
    assert query.read_step("9" * 20, 10, notices) == 10  # the longest a link may carry: no 20-digit notice
    assert notices == [
        "The step (step) in the link, 500, is past the max steps (30): showing the last step this run reaches.",
        "The step shown (step) in the link, 999,999, is past the max steps of these runs (10,000): showing the last "
        "step they reach.",
        "The step (step) in the link, 1e+20, is past the max steps (10): showing the last step this run reaches.",
    ]


@pytest.mark.parametrize("text", ["-1", "x", "9" * 21])
def test_read_step_refuses_what_read_int_refuses(text):
    notices = []
    assert query.read_step(text, 30, notices) is None
    assert notices == ["Ignored the step (step) in the link: it must be a whole number from 0 up."]


@pytest.mark.parametrize("text", ["0.05", "1e-12", "999999.9", " 2 "])
def test_read_rate_reads_what_runconfig_accepts(text):
    notices = []
    assert query.read_rate("pins", text, "pinned rate", notices) == float(text)
    assert notices == []
    RunConfig(learning_rate=float(text))


@pytest.mark.parametrize("text", ["0", "-0.1", "1e6", "nan", "inf", "abc", ""])
def test_read_rate_refuses_what_runconfig_refuses(text):
    notices = []
    assert query.read_rate("pins", text, "pinned rate", notices) is None
    assert notices == [f"Ignored the pinned rate (pins) in the link: {text!r} is not a usable learning rate."]


def test_clamp_keeps_a_value_up_to_the_limit_and_says_when_it_clamps():
    notices = []
    assert query.clamp(500, 1000, "number of rates", notices) == 500
    assert query.clamp(1000, 1000, "number of rates", notices) == 1000
    assert notices == []
    assert query.clamp(5000, 1000, "number of rates", notices) == 1000
    assert notices == ["The number of rates in the link, 5,000, is above the limit of 1,000: using 1,000."]
