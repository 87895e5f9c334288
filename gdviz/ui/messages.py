"""Error messages in the widgets' words: the core's scikit-learn-style errors, said again for a page.

The core names parameters as the API does (``The 'x_loc' parameter of synthetic_line must be a float in the
range (-1e+06, 1e+06). Got 2000000.0 instead.``), which is right for someone calling it from Python. A
page says the same with the label of the widget the person typed into: ``The x centre must be a number in
the range (-1e+06, 1e+06); you entered 2e+06.`` The sentence is built from what the InputError carries
(its field, constraint and value) and the field table's labels (``gdviz.config.LABELS``), never by
reading the message back.
"""

from __future__ import annotations

from gdviz.config import LABELS
from gdviz.errors import InputError, Interval

# Parameter name (as the core's errors name it) -> the words of the widget that sets it: every RunConfig
# field, the core's own names for some of them, and the sweep's settings.
FIELD_LABELS: dict[str, str] = {
    **LABELS,
    "init_value": LABELS["learning_rate"],  # a schedule's starting rate is the learning rate the person set
    "decay": LABELS["rms_decay"],  # optimizers.rmsprop's name for it
    "low": "lowest rate",
    "high": "highest rate",
    "n_rates": "number of rates",
}
_KINDS = {"float": "a number", "int": "a whole number", "str": "one"}


def _value(value: object) -> str:
    """The refused value as a person typed it: numbers in short form, text quoted."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{float(value):g}"
    return repr(value) if isinstance(value, str) else str(value)


def for_people(message: object) -> str:
    """``message`` (an error or its text) said with the widget's label instead of the parameter's name.

    An InputError raised from a constraint (``gdviz.errors.Interval`` / ``Options``) becomes one plain
    sentence; another InputError about one parameter gets the label in place of "The 'name' parameter of
    owner"; anything else (e.g. a CSV message quoting a column name, or an error about no parameter) is
    returned as it is.
    """
    text = str(message)
    if not isinstance(message, InputError) or message.field not in FIELD_LABELS:
        return text
    label, constraint = FIELD_LABELS[message.field], message.constraint
    if constraint is None:
        subject = f"The '{message.field}' parameter of {message.owner}"
        return f"The {label}{text.removeprefix(subject)}" if text.startswith(subject) else text
    rule = constraint.rule if isinstance(constraint, Interval) else constraint.rule.replace("among", "of", 1)
    return f"The {label} must be {_KINDS[constraint.type_name]} {rule}; you entered {_value(message.value)}."
