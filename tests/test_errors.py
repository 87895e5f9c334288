"""Constraints as data (gdviz.errors): the message each one generates, scikit-learn's wording, and the
structured InputError a page rephrases without reading the message back.

Oracles: the messages written out here in full, as scikit-learn's parameter validation words them.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from gdviz.errors import InputError, Interval, Options, check_choice, check_float, check_int, invalid


@pytest.mark.parametrize(
    ("constraint", "value", "match"),
    [
        (Interval(float, 0, None), -0.1,
         r"^The 'learning_rate' parameter of gd must be a float in the range \(0, inf\)\. Got -0\.1 instead\.$"),
        (Interval(float, 1e-12, 1e6, closed="left"), 1e6,
         r"^The 'learning_rate' parameter of gd must be a float in the range \[1e-12, 1e\+06\)\. Got 1000000\.0 "),
        (Interval(float, 0, 1, closed="right"), 0.0, r"must be a float in the range \(0, 1\]\. Got 0\.0 instead"),
        (Interval(float, None, None), math.nan, r"must be a float in the range \(-inf, inf\)\. Got nan instead"),
        (Interval(float, 0, None), "0.1", r"must be a float in the range \(0, inf\)\. Got '0\.1' instead"),
        (Interval(float, 0, None), True, r"Got True instead"),
        (Interval(int, 1, 200_000, closed="both"), 0, r"must be an int in the range \[1, 200000\]\. Got 0 instead\."),
        (Interval(int, 1, None, closed="both"), 2.5, r"must be an int in the range \[1, inf\]\. Got 2\.5 instead\."),
        (Options(("sgd", "adam", "gd")), "lbfgs",
         r"^The 'learning_rate' parameter of gd must be a str among \{'adam', 'gd', 'sgd'\}\. Got 'lbfgs' instead\.$"),
        (Options(("gd",)), 3, r"must be a str among \{'gd'\}\. Got 3 instead\."),
    ],
)  # fmt: skip
def test_a_constraint_generates_its_message(constraint, value, match):
    with pytest.raises(InputError, match=match) as exc:
        constraint.check(value, "learning_rate", "gd")
    err = exc.value
    assert (err.field, err.owner, err.constraint) == ("learning_rate", "gd", constraint)
    assert err.value is value


@pytest.mark.parametrize(
    ("constraint", "value"),
    [
        (Interval(float, 0, None), 1e-300),
        (Interval(float, 0, 1, closed="left"), 0),
        (Interval(float, 0, 1, closed="right"), 1),
        (Interval(float, 0, 1, closed="both"), np.float32(0.5)),
        (Interval(int, 0, 10, closed="both"), 3.0),
        (Interval(int, 0, None, closed="both"), np.int64(7).item()),
        (Options(("a", "b")), "b"),
    ],
)
def test_a_constraint_accepts_what_it_says(constraint, value):
    assert constraint.accepts(value)
    out = constraint.check(value, "x", "f")
    assert out == value and (not isinstance(constraint, Interval) or type(out) is constraint.kind)


def test_ends_belong_to_the_range_only_where_closed():
    for closed, low_in, high_in in [("neither", False, False), ("left", True, False), ("right", False, True),
                                    ("both", True, True)]:  # fmt: skip
        bounds = Interval(float, 0, 1, closed=closed)
        assert (bounds.accepts(0.0), bounds.accepts(1.0), bounds.accepts(0.5)) == (low_in, high_in, True)
        assert (bounds.lowest, bounds.highest) == (0.0 if low_in else None, 1.0 if high_in else None)


def test_the_check_helpers_keep_their_messages():
    with pytest.raises(InputError, match=r"^The 'tol' parameter of run must be a float in the range \[0, inf\)\. "):
        check_float(-1.0, "tol", "run", low=0, low_open=False)
    with pytest.raises(InputError, match=r"^The 'max_steps' parameter of run must be an int in the range \[0, inf\]"):
        check_int(-1, "max_steps", "run")
    with pytest.raises(InputError, match=r"^The 'n' parameter of f must be an int in the range \[2, 2000\]\. Got 1"):
        check_int(1, "n", "f", low=2, high=2000)
    with pytest.raises(InputError, match=r"must be a str among \{'a', 'b'\}\. Got 'c' instead\.$"):
        check_choice("c", "name", "f", ["b", "a"])
    assert check_float(np.float64(0.5), "x", "f", low=0) == 0.5
    assert check_int(4.0, "x", "f") == 4 and type(check_int(4.0, "x", "f")) is int


def test_invalid_carries_the_field_of_a_rule_no_constraint_states():
    err = invalid("upload", "RunConfig", "'' or a content id of 16 hex digits", "zz")
    assert (
        str(err) == "The 'upload' parameter of RunConfig must be '' or a content id of 16 hex digits. Got 'zz' instead."
    )
    assert (err.field, err.owner, err.constraint, err.value) == ("upload", "RunConfig", None, "zz")


def test_an_input_error_without_a_field_is_a_plain_value_error():
    err = InputError("Column 'price' has 12 non-numeric values, e.g. 'n/a' on row 7")
    assert isinstance(err, ValueError) and err.field is None and err.constraint is None
