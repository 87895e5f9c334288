"""Input bounds and error wording on the Playground (AppTest): what a person reads when a value is refused.

Oracles: the Hessian of the data written here (np.linalg.eigvalsh), RunConfig's documented bounds, and the
widgets' own labels (the words on screen).
"""

from __future__ import annotations

import numpy as np
import pytest

from gdviz import data, optimizers
from gdviz.config import RATE_MIN, RunConfig
from gdviz.errors import InputError, Options
from gdviz.ui.messages import for_people
from tests.conftest import CALIFORNIA_CSV
from tests.pages.test_playground import click, config, new_app, ok


@pytest.fixture(autouse=True)
def no_network(monkeypatch, tmp_path):
    """California housing (the Feature scaling page's puzzle) from the shared CSV, or from a missing path: the
    tests never download it."""
    monkeypatch.setenv(data.CALIFORNIA_ENV, str(CALIFORNIA_CSV if CALIFORNIA_CSV.is_file() else tmp_path / "no.csv"))


def test_a_refused_x_centre_is_reported_in_the_widgets_words():
    at = new_app()
    ok(at.number_input(key="playground_x_loc").set_value(2e6).run())  # the synthetic line takes |x centre| < 1e6
    errors = [e.value for e in at.error]
    assert errors == ["The x centre must be a number in the range (-1e+06, 1e+06); you entered 2e+06."]
    assert "x_loc" not in errors[0] and "synthetic_line" not in errors[0]
    assert config(at).x_loc == 2.0  # the previous value is kept
    assert at.number_input(key="playground_x_loc").value == 2.0


def _error(raise_it) -> InputError:
    with pytest.raises(InputError) as exc:
        raise_it()
    return exc.value


@pytest.mark.parametrize(
    ("raise_it", "expected"),
    [
        (lambda: RunConfig(learning_rate=-0.1),
         "The learning rate must be a number in the range [1e-12, 1e+06); you entered -0.1."),
        (lambda: optimizers.rmsprop(0.1, decay=1.5),  # the core's own name for the RMSProp decay
         "The RMSProp decay must be a number in the range [0, 1); you entered 1.5."),
        (lambda: Options(("gd", "adam")).check("sgd", "optimizer", "RunConfig"),
         "The optimizer must be one of {'adam', 'gd'}; you entered 'sgd'."),
        (lambda: RunConfig(max_steps=0),
         "The max steps must be a whole number in the range [1, 200000]; you entered 0."),
        (lambda: data.synthetic_line(x_loc=2e6),
         "The x centre must be a number in the range (-1e+06, 1e+06); you entered 2e+06."),
        (lambda: RunConfig(upload="zz"),  # a rule of its own: the label replaces the parameter's name
         "The uploaded file must be '' or a content id of 16 hex digits (one is needed when dataset is 'upload'). "
         "Got 'zz' instead."),
    ],
)  # fmt: skip
def test_for_people_says_a_refused_value_in_the_widgets_words(raise_it, expected):
    assert for_people(_error(raise_it)) == expected


@pytest.mark.parametrize(
    "message",
    [
        "Column 'slope' has 3 non-numeric values, e.g. 'n/a' on row 7.",  # a column name is not a field
        InputError("Column 'slope' has 3 non-numeric values, e.g. 'n/a' on row 7."),
        InputError("The rate range needs low < high. Got low = 2, high = 1."),
    ],
)
def test_for_people_leaves_messages_about_no_field_as_they_are(message):
    assert for_people(message) == str(message)


def test_the_slow_preset_is_clamped_to_the_smallest_rate_and_says_so():
    # x centre 9e5: mean(x^2) ~ 8e11, so lambda_max ~ 1.6e12 and the Slow preset 0.05/lambda_max ~ 3e-14,
    # below the smallest rate a run accepts (1e-12).
    at = new_app()
    ok(at.number_input(key="playground_x_loc").set_value(9e5).run())
    ds = data.synthetic_line(x_loc=9e5)
    X1 = np.column_stack([np.ones(len(ds.y)), ds.X[:, 0]])
    lam_max = np.linalg.eigvalsh(2 * X1.T @ X1 / len(ds.y))[-1]
    assert 0.05 / lam_max < RATE_MIN  # the setting of the bug
    click(at, "playground_preset_slow")
    assert not at.error, [e.value for e in at.error]
    assert config(at).learning_rate == RATE_MIN
    assert at.number_input(key="playground_learning_rate").value == RATE_MIN
    warnings = [w.value for w in at.warning if "preset" in w.value]
    assert len(warnings) == 1 and f"{0.05 / lam_max:.3g}" in warnings[0] and "1e-12" in warnings[0]
    assert 1 <= RATE_MIN * lam_max < 2  # so even the smallest rate overshoots on this data ...
    assert "oscillating regime, not the slow one" in warnings[0]  # ... and the notice says so
    click(at, "playground_preset_divergent")  # a rate in range: the notice goes away
    assert not [w.value for w in at.warning if "preset" in w.value]
    assert config(at).learning_rate == pytest.approx(float(f"{2.1 / lam_max:.4g}"), rel=1e-12)


def test_the_exponential_decay_box_offers_only_what_runconfig_accepts():
    at = new_app()
    ok(at.selectbox(key="playground_schedule").set_value("exponential_decay").run())
    box = at.number_input(key="playground_decay_rate")
    top = box.max
    assert top < 1.0  # decay 1 would make every rate after the first 0
    RunConfig(schedule="exponential_decay", decay_rate=top)  # the box's top is accepted ...
    with pytest.raises(InputError, match="'decay_rate' parameter of RunConfig"):
        RunConfig(schedule="exponential_decay", decay_rate=1.0)  # ... and just past it is refused by RunConfig
    ok(box.set_value(top).run())
    assert not at.error, [e.value for e in at.error]
    assert config(at).decay_rate == top
    # Inverse-time decay has no such edge: its box goes to 1 and 1 is accepted.
    ok(at.selectbox(key="playground_schedule").set_value("inverse_time").run())
    assert at.number_input(key="playground_decay_rate").max == 1.0
    RunConfig(schedule="inverse_time", decay_rate=1.0)


# ---------------------------------------------------------------------------------------------
# Feature-scaling page: its rate box and Rate x10 stay inside the range a run accepts
# ---------------------------------------------------------------------------------------------


def test_scaling_rate_box_reports_a_refused_rate_and_shows_the_rate_in_use():
    from tests.pages.test_scaling import click as scaling_click
    from tests.pages.test_scaling import new_page, set_rate

    at = set_rate(new_page(), 2e5)
    assert not at.button(key="scaling_div10").disabled
    assert at.button(key="scaling_mul10").disabled  # 2e6 is past RATE_MAX (1e6): the button would only be refused
    at = set_rate(at, 3e6)  # typed past the top: refused in words, and the box shows the rate in use
    assert config(at).learning_rate == 2e5
    assert at.number_input(key="scaling_learning_rate").value == 2e5
    rate_errors = [e.value for e in at.error if "puzzle" not in e.value]  # (the puzzle's data may be offline)
    assert rate_errors == ["The learning rate must be a number in the range [1e-12, 1e+06); you entered 3e+06."]
    at = set_rate(at, 1e-12)
    assert at.button(key="scaling_div10").disabled and not at.button(key="scaling_mul10").disabled
    at = scaling_click(at, "scaling_mul10")
    assert config(at).learning_rate == pytest.approx(1e-11)
    assert not [e.value for e in at.error if "puzzle" not in e.value]
