"""RunConfig validates itself against the field table, and the table describes every field exactly once.

Oracles: RunConfig's own dataclass fields, the constructors' documented bounds written here as numbers, and
the field lists the pages bound before the table existed, written out here.
"""

from __future__ import annotations

import dataclasses

import pytest

from gdviz import InputError, config, data, optimizers, runs
from gdviz.config import FIELDS, LABELS, MAX_STEPS_LIMIT, RunConfig
from gdviz.errors import Interval, Options

ALL = tuple(f.name for f in dataclasses.fields(RunConfig))


def test_default_config_is_hashable():
    a, b = RunConfig(), RunConfig()
    assert a == b and hash(a) == hash(b)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"learning_rate": -0.1}, r"The 'learning_rate' parameter of RunConfig must be a float in the range "
                                  r"\[1e-12, 1e\+06\)\. Got -0\.1 instead\."),
        ({"learning_rate": float("nan")}, "'learning_rate'"),
        ({"max_steps": MAX_STEPS_LIMIT + 1}, r"'max_steps' parameter of RunConfig must be an int in the range "
                                             r"\[1, 200000\]\. Got 200001 instead\."),
        ({"dataset": "../../etc/passwd"}, "'dataset' parameter of RunConfig must be a str among"),
        ({"optimizer": "sgd"}, "'adam'"),
        ({"beta": 1.5, "optimizer": "momentum"},
         r"'beta' parameter of RunConfig must be a float in the range \[0, 1\)"),
        ({"n_samples": 1}, r"'n_samples' parameter of RunConfig must be an int in the range \[2, 1000000\]"),
        ({"decay_rate": 1.0, "schedule": "exponential_decay"}, r"'decay_rate' .* range \[0, 0\.9999\]"),
        ({"upload": "xyz"}, "'upload' parameter of RunConfig must be '' or a content id of 16 hex digits"),
        ({"batch_size": -1}, r"'batch_size' parameter of RunConfig must be an int in the range \[0, 1000000\]"),
        ({"batch_size": 21}, r"The 'batch_size' parameter of RunConfig must be 0 \(full batch\) or an int in the "
                             r"range \[1, 20\], the number of rows of the data\. Got 21 instead\."),
        ({"batch_size": 2.5}, r"'batch_size' parameter of RunConfig must be an int"),
    ],
)  # fmt: skip
def test_bad_settings_raise_input_error(changes, match):
    with pytest.raises(InputError, match=match) as exc:
        RunConfig(**changes)
    field = next(iter(changes))
    assert exc.value.field == field and exc.value.owner == "RunConfig"


def test_a_setting_only_some_runs_read_is_checked_only_in_those_runs():
    RunConfig(beta=1.5)  # plain GD reads no beta
    RunConfig(dataset="diabetes", n_samples=1)  # a real table reads no synthetic settings
    RunConfig(schedule="inverse_time", decay_rate=5.0)  # only the exponential schedule stops short of 1
    with pytest.raises(InputError, match="'b1' parameter of RunConfig"):
        RunConfig(optimizer="adam", b1=1.0)


# ---------------------------------------------------------------------------------------------
# The field table
# ---------------------------------------------------------------------------------------------


def test_the_table_covers_every_runconfig_field_exactly_once():
    assert tuple(FIELDS) == ALL  # every field, once, in RunConfig's order
    assert [f.name for f in FIELDS.values()] == list(ALL)


def test_every_field_has_a_label_and_a_group_and_each_label_is_its_own():
    assert set(LABELS) == set(ALL) and all(LABELS.values())
    assert len(set(LABELS.values())) == len(LABELS)  # no two fields read the same in a message
    assert {f.group for f in FIELDS.values()} == set(config.GROUPS)


def test_defaults_are_read_from_runconfig():
    for name, field in FIELDS.items():
        assert field.default == getattr(RunConfig(), name)


def test_every_default_is_accepted_by_its_constraint():
    for field in FIELDS.values():
        if field.constraint is not None:
            assert field.constraint.accepts(field.default), field.name


def test_used_by_names_a_choice_field_and_real_options():
    choices = {"dataset": (*data.DATASETS, data.UPLOAD), "optimizer": tuple(optimizers.OPTIMIZERS),
               "schedule": tuple(optimizers.SCHEDULES)}  # fmt: skip
    for field in FIELDS.values():
        if field.used_by is not None:
            owner, options = field.used_by
            assert set(options) <= set(choices[owner]), field.name


def test_the_choices_list_the_registries():
    assert set(FIELDS["optimizer"].constraint.options) == set(optimizers.OPTIMIZERS)
    assert set(FIELDS["schedule"].constraint.options) == set(optimizers.SCHEDULES)
    assert set(FIELDS["scaling"].constraint.options) == set(data.SCALINGS)
    assert isinstance(FIELDS["dataset"].constraint, Options)


@pytest.mark.parametrize(
    ("owner_call", "field", "value"),
    [
        (lambda v: data.synthetic_line(n_samples=v), "n_samples", 1_000_001),
        (lambda v: data.synthetic_line(x_loc=v), "x_loc", 1e6),
        (lambda v: data.synthetic_line(noise=v), "noise", -1e-9),
        (lambda v: data.synthetic_line(x_scale=v), "x_scale", 0.0),
        (lambda v: data.synthetic_line(seed=v), "seed", 2**32),
        (lambda v: optimizers.momentum(0.1, beta=v), "beta", 1.0),
        (lambda v: optimizers.adam(0.1, eps=v), "eps", 0.0),
        (lambda v: optimizers.make_schedule("step_decay", 0.1, factor=v, every=10), "factor", 0.0),
        (lambda v: optimizers.make_schedule("step_decay", 0.1, factor=0.5, every=v), "every", 0),
    ],
)
def test_the_table_refuses_what_the_constructors_refuse(owner_call, field, value):
    # The table states the same bounds as the constructors the settings feed: a value just outside is refused
    # by both, so RunConfig's message (which names the table's label on a page) is the one a person reads.
    assert not FIELDS[field].constraint.accepts(value)
    with pytest.raises(InputError):
        owner_call(value)


def test_the_derived_field_lists_are_the_ones_the_pages_bound_before():
    # Written out by hand from the lists the shell kept before the table (gdviz/ui/__init__.py, ui/regimes.py,
    # ui/controls.py, export.py).
    assert set(config.DATA_FIELDS) == {"dataset", "upload", "feature", "n_samples", "slope", "intercept", "noise",
                                       "x_loc", "x_scale", "seed", "scaling"}  # fmt: skip
    assert set(config.names("data", "problem", "run", settable=True)) == {
        "dataset", "feature", "n_samples", "slope", "intercept", "noise", "x_loc", "x_scale", "seed", "scaling",
        "init_intercept", "init_slope", "batch_size", "tol", "max_steps"}  # fmt: skip
    assert set(config.SETTABLE_FIELDS) == set(ALL) - {"upload"}
    assert set(config.names("data")) == {"dataset", "upload", "n_samples", "slope", "intercept", "noise", "x_loc",
                                         "x_scale", "seed"}  # fmt: skip
    assert config.SYNTHETIC_FIELDS == ("n_samples", "slope", "intercept", "noise", "x_loc", "x_scale", "seed")


def test_names_refuses_an_unknown_group():
    with pytest.raises(InputError, match="Unknown field groups"):
        config.names("dat")


def test_widget_bounds_come_from_the_closed_ends_only():
    assert FIELDS["max_steps"].constraint.lowest == 1 and FIELDS["max_steps"].constraint.highest == MAX_STEPS_LIMIT
    assert FIELDS["tol"].constraint.lowest == 0.0 and FIELDS["tol"].constraint.highest is None  # [0, 1e6)
    assert FIELDS["eps"].constraint.lowest is None  # (0, inf): 0 itself is refused
    assert isinstance(FIELDS["beta"].constraint.lowest, float) and isinstance(FIELDS["every"].constraint.lowest, int)
    assert Interval(float, 0, 0.9999, closed="both") == config.EXP_DECAY


def test_a_batch_size_is_checked_against_the_rows_of_the_data_it_runs_on():
    RunConfig(batch_size=20)  # the synthetic line's 20 points: every row
    big = RunConfig(dataset="diabetes", batch_size=500)  # RunConfig cannot know a real table's rows ...
    problem = runs.one_feature_problem(big)
    assert problem.n_samples == 442
    with pytest.raises(InputError, match=r"must be 0 \(full batch\) or an int in the range \[1, 442\]") as exc:
        runs.simulate(big, problem)  # ... the run does, and says so
    assert exc.value.field == "batch_size"
    runs.check_batch(big.replace(batch_size=442), problem)
    assert big.replace(batch_size=0).is_full_batch and not big.is_full_batch
    assert RunConfig().is_closed_form and not RunConfig(batch_size=3).is_closed_form
