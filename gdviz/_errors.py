"""The package's one error type for bad input, and the helpers that phrase its messages."""

from __future__ import annotations

import math
from collections.abc import Iterable


class InputError(ValueError):
    """Input that makes no sense: a rate <= 0, an unknown name, mismatched shapes, NaN in X, ...

    A learning rate that is merely too large is *not* an InputError: it is valid input whose
    run ends DIVERGED.
    """


def _fmt(value: object) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def check_float(
    value: object,
    name: str,
    owner: str,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = True,
    high_open: bool = True,
) -> float:
    """Return ``value`` as a finite float inside the interval, else raise InputError.

    The message follows scikit-learn's parameter-validation wording.
    """
    left = "(" if low_open else "["
    right = ")" if high_open else "]"
    interval = f"{left}{low:g}, {high:g}{right}".replace("inf", "inf")
    try:
        if isinstance(value, bool | str | bytes):  # float("0.1") would let text through; parse text first
            raise TypeError
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(
            f"The '{name}' parameter of {owner} must be a float in the range {interval}. Got {_fmt(value)} instead."
        ) from None
    too_low = x <= low if low_open else x < low
    too_high = x >= high if high_open else x > high
    if not math.isfinite(x) or too_low or too_high:
        raise InputError(
            f"The '{name}' parameter of {owner} must be a float in the range {interval}. Got {_fmt(value)} instead."
        )
    return x


def check_int(value: object, name: str, owner: str, *, low: int = 0, high: int | None = None) -> int:
    """Return ``value`` as an int in ``[low, high]``, else raise InputError."""
    bounds = f"[{low}, {high if high is not None else 'inf'}]"
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if ok and isinstance(value, float):
        ok = math.isfinite(value) and value.is_integer()
    if ok:
        ok = value >= low and (high is None or value <= high)
    if not ok:
        raise InputError(
            f"The '{name}' parameter of {owner} must be an int in the range {bounds}. Got {_fmt(value)} instead."
        )
    return int(value)  # type: ignore[arg-type]


def check_choice(value: object, name: str, owner: str, options: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``options``, else raise InputError listing them."""
    options = sorted(options)
    if not isinstance(value, str) or value not in options:
        listed = "{" + ", ".join(repr(o) for o in options) + "}"
        raise InputError(f"The '{name}' parameter of {owner} must be a str among {listed}. Got {_fmt(value)} instead.")
    return value
