"""Every link codec: a RunConfig to and from a URL query, and the small readers pages use for their own keys.

Pure functions: each reader returns the value (or None) and appends one sentence per parameter it could not
use as is to ``notices``, naming the parameter in words (the field table's label) and by its key. Nothing
here raises on what a link carries.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from gdviz import data
from gdviz.config import FIELDS, LABELS, LINK_KEYS, MAX_STEPS_LIMIT, RunConfig
from gdviz.errors import InputError, Interval, Options

UPLOAD = data.UPLOAD  # a config on an uploaded file; the file itself never goes in a link
UPLOAD_NOTICE = (
    "This link was made on an uploaded file, which cannot travel in a link: showing the default data. "
    "Upload the file on the Your data page to continue."
)
MAX_QUERY_VALUE = 200  # characters; any real value is far shorter
# Choices first: what a setting is checked against depends on the dataset, optimizer and schedule.
_READ_ORDER = sorted(LINK_KEYS.items(), key=lambda item: not isinstance(FIELDS[item[0]].constraint, Options))
_CLAMP_HIGH = {"max_steps": MAX_STEPS_LIMIT}
_BATCH_CONTEXT = ("dataset", "n_samples")  # a huge max steps means "run long": the limit is what was meant


def to_query(config: RunConfig) -> dict[str, str]:
    """The URL query of ``config``: only the fields that differ from the defaults, under ``LINK_KEYS``.

    Floats are written with ``repr`` (the shortest text that reads back to the same float). A config on
    an uploaded file writes ``dataset=upload`` and no data: the file cannot travel in a link.
    """
    query = {}
    for field, key in LINK_KEYS.items():
        value = getattr(config, field)
        if value == FIELDS[field].default or (field == "feature" and config.dataset == UPLOAD):
            continue
        query[key] = repr(float(value)) if isinstance(value, float) else str(value)
    return query


def from_query(params: Mapping[str, str | list[str]]) -> tuple[RunConfig, list[str]]:
    """The config a URL query describes, and one notice sentence per parameter that was not used as is.

    Every parameter goes through RunConfig's own checks. A value that fails them (text where a number
    belongs, NaN, an unknown name, a repeated key, a value over ``MAX_QUERY_VALUE`` characters) falls
    back to its default; a max steps above ``MAX_STEPS_LIMIT`` is clamped to it. Keys that are not in
    ``LINK_KEYS`` are left to the caller (pages have keys of their own). Never raises.

    Args:
        params: URL query parameters; a list value holds every value of a repeated key.

    Returns:
        (config, notices): notices are sentences for a person, naming each parameter in words.
    """
    accepted, notices = {}, []
    for field, key in _READ_ORDER:
        if key not in params:
            continue
        label = LABELS[field]
        values = params[key]
        values = [values] if isinstance(values, str) else list(values)
        fallback = f"Using the default, {_number(FIELDS[field].default)}."
        if len(values) != 1:
            notices.append(f"Ignored the {label} ({key}) in the link: it is given {len(values)} times. {fallback}")
            continue
        text = str(values[0])
        if len(text) > MAX_QUERY_VALUE:
            notices.append(
                f"Ignored the {label} ({key}) in the link: its value is {len(text):,} characters long, "
                f"more than the {MAX_QUERY_VALUE} any setting needs. {fallback}"
            )
            continue
        if field == "dataset" and text.strip() == UPLOAD:
            notices.append(UPLOAD_NOTICE)
            continue
        value, why = _parse(field, text)
        if not why and field in _CLAMP_HIGH:
            value = clamp(value, _CLAMP_HIGH[field], f"{label} ({key})", notices)
        if not why and not isinstance(value, str):
            why = _check(field, value, accepted)
        if why:
            notices.append(f"Ignored the {label} ({key}) in the link: {why}. {fallback}")
            continue
        accepted[field] = value
    try:
        return RunConfig(**accepted), notices
    except InputError as err:  # each value passed alone; together they might not
        return RunConfig(), [*notices, f"The link's settings do not work together ({err}). Showing the defaults."]


def _number(value: object) -> str:
    """A default as a notice writes it: 10,000 / 0.05 / gd."""
    return f"{value:,}" if isinstance(value, int) else f"{value:g}" if isinstance(value, float) else str(value)


def _shown(text: str) -> str:
    """A value as a notice quotes it: printable, and short."""
    text = "".join(ch for ch in text if ch.isprintable())
    return repr(text if len(text) <= 40 else text[:40] + "...")


def _parse(field: str, text: str) -> tuple[object, str]:
    """(value, "") or (None, why not) for one field's URL text: the type only; ranges are RunConfig's."""
    constraint = FIELDS[field].constraint
    text = text.strip()
    if isinstance(constraint, Options):
        options = constraint.options
        return (text, "") if text in options else (None, f"{_shown(text)} is not one of {', '.join(options)}")
    whole = isinstance(constraint, Interval) and constraint.kind is int
    if whole and re.fullmatch(r"[+-]?\d+", text):
        return int(text), ""
    try:
        number = float(text)
    except ValueError:
        return None, f"{_shown(text)} is not a number"
    if not math.isfinite(number):
        return None, f"{_shown(text)} is not a finite number"
    if whole:
        return (int(number), "") if number.is_integer() else (None, f"{_shown(text)} is not a whole number")
    return number, ""


def _check(field: str, value: object, accepted: Mapping[str, object]) -> str:
    """ "" if RunConfig accepts ``value`` for ``field`` (in every run that reads it), else why not.

    Settings that only some runs read are checked in the runs that read them (a beta for Adam, say), so
    that a link cannot leave a value that breaks the config as soon as the user picks that optimizer.
    """
    owner, options = FIELDS[field].used_by or (None, (None,))
    if owner is not None and accepted.get(owner) in options:
        options = (accepted[owner],)
    # A batch size is checked against the rows of the link's data (RunConfig knows the synthetic line's).
    rows = {k: accepted[k] for k in _BATCH_CONTEXT if k in accepted} if field == "batch_size" else {}
    for option in options:
        context = {owner: option} if owner is not None else dict(rows)
        try:
            RunConfig(**context, **{field: value})
        except InputError as err:
            if err.field == field and isinstance(err.constraint, Interval):
                return f"{value:g} is outside the range it accepts, {err.constraint.range}"
            return f"{value:g} is not accepted there ({err})"
    return ""


# ---------------------------------------------------------------------------------------------
# Readers for a page's own keys
# ---------------------------------------------------------------------------------------------


def short(text: str) -> str:
    """``text`` quoted and cut to 20 characters, for a notice (a link can carry anything)."""
    return repr(text[:20] + ("..." if len(text) > 20 else ""))


def count_text(value: int) -> str:
    """A whole number as a notice writes it: 10,000, or 1e+99 when it is too long to read (a link can hold
    a 100-digit number)."""
    return f"{value:,}" if abs(value) < 10**12 else f"{float(value):.3g}"


def clamp(value: int, high: int, what: str, notices: list[str]) -> int:
    """``value``, or ``high`` with a notice when it is above it (``what`` names the setting in words)."""
    if value > high:
        notices.append(f"The {what} in the link, {count_text(value)}, is above the limit of {high:,}: using {high:,}.")
        return high
    return value


def read_int(key: str, text: str, label: str, notices: list[str], *, low: int = 0) -> int | None:
    """A whole number from ``low`` up, else None with a notice naming it (``label``) and its ``key``."""
    text = text.strip()
    if len(text) > 20 or not re.fullmatch(r"[+-]?\d+", text) or int(text) < low:
        notices.append(f"Ignored the {label} ({key}) in the link: it must be a whole number from {low} up.")
        return None
    return int(text)


def read_step(
    text: str, max_steps: int, notices: list[str], *, label: str = "step", several: bool = False
) -> int | None:
    """A link's step (key ``step``) for a page's player: a whole number from 0 up, else None with a notice.

    A step past ``max_steps`` (the run's, so past its end) becomes ``max_steps``, with a notice that the page
    shows the last step the run reaches (the player snaps it to the run's last stored step).

    Args:
        label: the step in words, as the page names it ("step", "step shown").
        several: the page steps several runs at once (Regimes): the notice speaks of "these runs".
    """
    step = read_int("step", text, label, notices)
    if step is None or step <= max_steps:
        return step
    whose, reached = (" of these runs", "they reach") if several else ("", "this run reaches")
    notices.append(
        f"The {label} (step) in the link, {count_text(step)}, is past the max steps{whose} ({max_steps:,}): "
        f"showing the last step {reached}."
    )
    return max_steps


def read_rate(key: str, text: str, label: str, notices: list[str]) -> float | None:
    """A learning rate as RunConfig accepts it, else None with a notice naming it (``label``) and its ``key``."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not FIELDS["learning_rate"].constraint.accepts(value):
        notices.append(f"Ignored the {label} ({key}) in the link: {text[:40]!r} is not a usable learning rate.")
        return None
    return value
