"""Error messages in the widgets' words: the core's scikit-learn-style messages, rewritten for a page.

The core names parameters as the API does (``The 'x_loc' parameter of synthetic_line must be a float in the
range (-1e+06, 1e+06). Got 2000000.0 instead.``), which is right for someone calling it from Python. A
page shows the same message with the label of the widget the person typed into: ``The x centre must be a
number in the range (-1e+06, 1e+06); you entered 2e+06.``
"""

from __future__ import annotations

import re

# Parameter name (as the core's messages quote it) -> the words of the widget that sets it.
FIELD_LABELS: dict[str, str] = {
    "dataset": "dataset",
    "feature": "feature",
    "n_samples": "number of points",
    "slope": "true slope",
    "intercept": "true intercept",
    "noise": "noise",
    "x_loc": "x centre",
    "x_scale": "x spread",
    "seed": "seed",
    "scaling": "feature scaling",
    "optimizer": "optimizer",
    "learning_rate": "learning rate",
    "init_value": "learning rate",  # a schedule's starting rate is the learning rate the person set
    "schedule": "schedule",
    "decay_rate": "decay",
    "power_t": "power",
    "factor": "factor",
    "every": "'every N steps'",
    "beta": "momentum beta",
    "b1": "beta1",
    "b2": "beta2",
    "decay": "decay",
    "rms_decay": "decay",
    "eps": "epsilon",
    "init_intercept": "start intercept",
    "init_slope": "start slope",
    "tol": "tol",
    "max_steps": "max steps",
    "low": "lowest rate",  # the sweep's settings
    "high": "highest rate",
    "n_rates": "number of rates",
}
_KINDS = {"float": "a number", "int": "a whole number", "str": "one"}
_PATTERN = re.compile(
    r"The '(?P<name>\w+)' parameter of \w+ must be an? (?P<kind>float|int|str) (?P<rule>.*?)\. "
    r"Got (?P<got>.*) instead\."
)


def _value(text: str) -> str:
    try:
        return f"{float(text):g}"
    except ValueError:
        return text


def for_people(message: object) -> str:
    """``message`` (an error or its text) with each quoted parameter name replaced by its widget's label.

    A message in the core's standard form becomes one plain sentence; another "The 'name' parameter of
    owner ..." message gets the label in its place; anything else (e.g. a CSV message quoting a column
    name) is returned unchanged.
    """
    text = str(message)

    def sentence(m: re.Match) -> str:
        name = m["name"]
        if name not in FIELD_LABELS:
            return m[0]
        rule = m["rule"].replace("among", "of", 1) if m["kind"] == "str" else m["rule"]
        return f"The {FIELD_LABELS[name]} must be {_KINDS[m['kind']]} {rule}; you entered {_value(m['got'])}."

    text = _PATTERN.sub(sentence, text)
    return re.sub(
        r"The '(\w+)' parameter of \w+", lambda m: f"The {FIELD_LABELS[m[1]]}" if m[1] in FIELD_LABELS else m[0], text
    )
