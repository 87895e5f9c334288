"""The package's one error type for bad input, and constraints as data whose messages are generated from them.

A constraint says what a parameter accepts (``Interval(float, 0, None, closed="neither")``,
``Options(("gd", "adam"))``); checking a value against it raises an InputError whose message follows
scikit-learn's parameter validation::

    The 'learning_rate' parameter of gd must be a float in the range (0, inf). Got -0.1 instead.

The error also carries what it is about (``field``, ``owner``, ``constraint``, ``value``), so that a page can
say the same thing in its widgets' words without reading the message back.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal


class InputError(ValueError):
    """Input that makes no sense: a rate <= 0, an unknown name, mismatched shapes, NaN in X, ...

    A learning rate that is merely too large is *not* an InputError: it is valid input whose
    run ends DIVERGED.

    Attributes:
        field: the parameter the message is about (None when it is about no single parameter).
        owner: the function or class whose parameter it is, as the message names it.
        constraint: what the parameter accepts (an Interval or Options), when the error comes from one.
        value: the value that was refused (None when the error names no value).
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        owner: str | None = None,
        constraint: Interval | Options | None = None,
        value: object = None,
    ) -> None:
        super().__init__(message)
        self.field, self.owner, self.constraint, self.value = field, owner, constraint, value


def _fmt(value: object) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def invalid(name: str, owner: str, must: str, value: object) -> InputError:
    """The error for a parameter that breaks a rule no constraint type states (``must`` is the rule)."""
    return InputError(
        f"The '{name}' parameter of {owner} must be {must}. Got {_fmt(value)} instead.",
        field=name,
        owner=owner,
        value=value,
    )


@dataclass(frozen=True)
class Interval:
    """A number in a range, scikit-learn's ``Interval``.

    Attributes:
        kind: ``float`` or ``int``. A float must be finite; an int may be given as a whole float (``3.0``).
            Neither accepts a bool or text.
        low, high: the ends (None: unbounded on that side).
        closed: which ends belong to the range: "left", "right", "both" or "neither".
    """

    kind: type
    low: float | None = None
    high: float | None = None
    closed: Literal["left", "right", "both", "neither"] = "neither"

    @property
    def type_name(self) -> str:
        return self.kind.__name__

    @property
    def range(self) -> str:
        """The range as the messages write it: ``(0, inf)``, ``[1e-12, 1e+06)``, ``[1, 200000]``."""
        left = "[" if self.closed in ("left", "both") else "("
        right = "]" if self.closed in ("right", "both") else ")"
        fmt = str if self.kind is int else (lambda v: f"{v:g}")
        low = "-inf" if self.low is None else fmt(self.low)
        high = "inf" if self.high is None else fmt(self.high)
        return f"{left}{low}, {high}{right}"

    @property
    def rule(self) -> str:
        return f"in the range {self.range}"

    def describe(self) -> str:
        """``a float in the range (0, inf)``: what the message says the parameter must be."""
        article = "an" if self.type_name[0] in "aeiou" else "a"
        return f"{article} {self.type_name} {self.rule}"

    @property
    def lowest(self) -> float | None:
        """The smallest accepted value (None when the low end is open or unbounded), as ``kind``."""
        return None if self.low is None or self.closed not in ("left", "both") else self.kind(self.low)

    @property
    def highest(self) -> float | None:
        """The largest accepted value (None when the high end is open or unbounded), as ``kind``."""
        return None if self.high is None or self.closed not in ("right", "both") else self.kind(self.high)

    def accepts(self, value: object) -> bool:
        if self.kind is float:
            if isinstance(value, bool | str | bytes):  # float("0.1") would let text through
                return False
            try:
                value = float(value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                return False
        elif isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if isinstance(value, float) and not (math.isfinite(value) and (self.kind is float or value.is_integer())):
            return False
        if self.low is not None and (value < self.low if self.closed in ("left", "both") else value <= self.low):
            return False
        return self.high is None or (value <= self.high if self.closed in ("right", "both") else value < self.high)

    def check(self, value: object, name: str, owner: str) -> float | int:
        """``value`` as ``kind`` if the range holds it, else raise InputError."""
        if not self.accepts(value):
            raise _refused(self, value, name, owner)
        return self.kind(value)


@dataclass(frozen=True)
class Options:
    """One of a few names, scikit-learn's ``StrOptions``.

    Attributes:
        options: the accepted names (messages list them sorted).
    """

    options: tuple[str, ...]
    type_name = "str"

    @property
    def rule(self) -> str:
        return "among {" + ", ".join(repr(o) for o in sorted(self.options)) + "}"

    def describe(self) -> str:
        return f"a str {self.rule}"

    def accepts(self, value: object) -> bool:
        return isinstance(value, str) and value in self.options

    def check(self, value: object, name: str, owner: str) -> str:
        """``value`` if it is one of the options, else raise InputError listing them."""
        if not self.accepts(value):
            raise _refused(self, value, name, owner)
        return value  # type: ignore[return-value]


def _refused(constraint: Interval | Options, value: object, name: str, owner: str) -> InputError:
    return InputError(
        f"The '{name}' parameter of {owner} must be {constraint.describe()}. Got {_fmt(value)} instead.",
        field=name,
        owner=owner,
        constraint=constraint,
        value=value,
    )


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
    """Return ``value`` as a finite float inside the interval, else raise InputError."""
    closed = {(False, False): "both", (False, True): "left", (True, False): "right", (True, True): "neither"}
    bounds = Interval(
        float,
        None if low == -math.inf else low,
        None if high == math.inf else high,
        closed[(low_open, high_open)],  # type: ignore[arg-type]
    )
    return bounds.check(value, name, owner)


def check_int(value: object, name: str, owner: str, *, low: int = 0, high: int | None = None) -> int:
    """Return ``value`` as an int in ``[low, high]``, else raise InputError."""
    return Interval(int, low, high, "both").check(value, name, owner)  # type: ignore[return-value]


def check_choice(value: object, name: str, owner: str, options: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``options``, else raise InputError listing them."""
    return Options(tuple(options)).check(value, name, owner)
