"""A learning-rate sweep on one problem: a log grid of constant rates, run in chunks, and each rate's
outcome next to what the theory predicts (NumPy only).

``run_sweep`` splits the rates into chunks of ``analysis.lr_sweep`` calls so that a page can report
progress; ``summarise`` adds, per rate, the closed-form step count, the regime the Hessian predicts and
what the run did (converged, still moving at the step cap, growing, or overflowed).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from gdviz import analysis
from gdviz.analysis import Regime, SweepResult
from gdviz.config import RATE_MAX, RATE_MIN  # a run's bounds: any swept rate must open in the Playground
from gdviz.engine import Problem, Status
from gdviz.errors import InputError, check_float, check_int

MAX_RATES = 1_000
MAX_SWEEP_STEPS = 10_000  # a sweep's runs stop here at the latest, whatever the run settings say
# The defaults: on the default data (condition number about 70) every rate from 0.03 x 2/lambda_max up
# finishes within 10,000 steps (converges or overflows), so steps against rate spans 300 to 10,000 steps
# instead of flattening at the cap; the whole sweep takes about 0.2 s.
DEFAULT_SWEEP_STEPS = 10_000
DEFAULT_LOW = 0.03
CHUNK = 500  # rates per lr_sweep call: progress is reported between (and within) chunks


class Outcome(enum.StrEnum):
    """What one run of a sweep did by its last step."""

    CONVERGED = "converged"
    STILL_MOVING = "still moving"  # stopped at the step cap with its loss below the start
    GROWING = "growing"  # stopped at the step cap with its loss above the start: diverging, still finite
    OVERFLOWED = "overflowed"  # diverged: a value passed float64's range (status DIVERGED)


@dataclass(frozen=True)
class SweepSettings:
    """What to sweep, as scalars.

    Attributes:
        relative: when True, ``low`` and ``high`` are multiples of 2/lambda_max; else rates.
        low, high: the ends of the log-spaced grid, 0 < low < high.
        n_rates: how many rates, in [2, MAX_RATES].
        max_steps: each run's step cap, in [1, MAX_SWEEP_STEPS].
    """

    relative: bool = True
    low: float = DEFAULT_LOW
    high: float = 2.0
    n_rates: int = 200
    max_steps: int = DEFAULT_SWEEP_STEPS

    def __post_init__(self) -> None:
        owner = "SweepSettings"
        check_float(self.low, "low", owner, low=0)
        check_float(self.high, "high", owner, low=0)
        if not self.low < self.high:
            raise InputError(f"The rate range needs low < high. Got low = {self.low:g}, high = {self.high:g}.")
        check_int(self.n_rates, "n_rates", owner, low=2, high=MAX_RATES)
        check_int(self.max_steps, "max_steps", owner, low=1, high=MAX_SWEEP_STEPS)

    def rates(self, problem: Problem) -> np.ndarray:
        """The swept rates: ``n_rates`` log-spaced from low to high (times 2/lambda_max when relative).

        Raises:
            InputError: if a rate falls outside [RATE_MIN, RATE_MAX].
        """
        scale = analysis.thresholds(problem).stable_max if self.relative else 1.0
        lo, hi = self.low * scale, self.high * scale
        if not (np.isfinite(lo) and np.isfinite(hi) and lo >= RATE_MIN and hi <= RATE_MAX):
            raise InputError(
                f"The rates {lo:.3g} to {hi:.3g} leave the range a run accepts, [{RATE_MIN:g}, {RATE_MAX:g}]. "
                "Narrow the range."
            )
        return np.geomspace(lo, hi, self.n_rates)


def run_sweep(
    problem: Problem,
    learning_rates: np.ndarray,
    *,
    tol: float,
    max_steps: int,
    init_params: np.ndarray | None = None,
    chunk: int = CHUNK,
    progress=None,
) -> SweepResult:
    """``analysis.lr_sweep`` over ``learning_rates`` in chunks of ``chunk`` rates, joined in order.

    Args:
        progress: optional callable ``progress(fraction_done)`` (0..1), called within and after each chunk.

    Returns:
        The same SweepResult one ``lr_sweep`` call over all the rates gives.
    """
    rates = np.asarray(learning_rates, dtype=float).reshape(-1)
    chunk = check_int(chunk, "chunk", "run_sweep", low=1)
    parts = []
    starts = range(0, max(rates.size, 1), chunk)
    for k, start in enumerate(starts):
        within = None if progress is None else (lambda f, k=k: progress((k + f) / len(starts)))
        parts.append(
            analysis.lr_sweep(
                problem, rates[start : start + chunk], tol=tol, max_steps=max_steps, init_params=init_params,
                progress=within,
            )
        )  # fmt: skip
        if progress is not None:
            progress((k + 1) / len(starts))
    return SweepResult(*(np.concatenate(field) for field in zip(*parts, strict=True)))


def regime_edges(problem: Problem) -> tuple[float, float, float]:
    """The rates where the predicted regime changes: (slow -> good, good -> oscillating, oscillating ->
    divergent), i.e. 0.2/lambda_max, 1/lambda_max and 2/lambda_max (see ``analysis.regime_of_ratio``).
    The good zone includes both its ends; divergence starts at 2/lambda_max itself."""
    lam = analysis.spectrum(problem).lambda_max
    return analysis.SLOW_BELOW / lam, analysis.OSCILLATE_ABOVE / lam, analysis.DIVERGE_FROM / lam


def regimes(problem: Problem, learning_rates: np.ndarray) -> np.ndarray:
    """The predicted Regime value (str) of each rate, as ``analysis.predict_regime`` gives it."""
    r = np.asarray(learning_rates, dtype=float) * analysis.spectrum(problem).lambda_max
    return np.select(
        [r >= analysis.DIVERGE_FROM, r > analysis.OSCILLATE_ABOVE, r >= analysis.SLOW_BELOW],
        [Regime.DIVERGENT.value, Regime.OSCILLATING.value, Regime.GOOD.value],
        Regime.SLOW.value,
    )


class SweepTable(NamedTuple):
    """One row per swept rate: what each run did and what the theory says.

    Attributes:
        learning_rate: array of shape (n_rates,), ascending.
        steps: int array, the step at which each run stopped (for an overflowed run: the first step with a
            non-finite value; for one that hit the cap: the cap).
        final_loss: float array, the loss at that step (inf or nan for an overflowed run).
        status: str array, "converged", "diverged" or "max_steps" (``engine.Status`` values).
        outcome: str array of ``Outcome`` values.
        predicted_steps: float array, ``analysis.predicted_steps`` (inf when the rule is never met).
        regime: str array of predicted ``Regime`` values.
        start_loss: the loss at the start point (the same for every run).
        max_steps: the step cap of the sweep.
    """

    learning_rate: np.ndarray
    steps: np.ndarray
    final_loss: np.ndarray
    status: np.ndarray
    outcome: np.ndarray
    predicted_steps: np.ndarray
    regime: np.ndarray
    start_loss: float
    max_steps: int


def summarise(
    problem: Problem, result: SweepResult, *, tol: float, max_steps: int, init_params: np.ndarray | None = None
) -> SweepTable:
    """Add the closed-form step count, the predicted regime and the outcome to each run of ``result``."""
    w0 = np.zeros(problem.n_params) if init_params is None else np.asarray(init_params, dtype=float)
    start_loss = float(problem.loss(w0))
    status = np.asarray(result.status).astype(str)
    with np.errstate(all="ignore"):
        growing = ~(result.final_loss <= start_loss * (1 + 1e-9) + 1e-12)  # the observed_regime rule; nan grows
    outcome = np.select(
        [status == Status.CONVERGED.value, status == Status.DIVERGED.value, growing],
        [Outcome.CONVERGED.value, Outcome.OVERFLOWED.value, Outcome.GROWING.value],
        Outcome.STILL_MOVING.value,
    )
    predicted = np.asarray(analysis.predicted_steps(problem, result.learning_rate, tol=tol, init_params=w0), float)
    return SweepTable(
        result.learning_rate, result.steps, result.final_loss, status, outcome, predicted,
        regimes(problem, result.learning_rate), start_loss, int(max_steps),
    )  # fmt: skip


def shortest_rate(
    problem: Problem, table: SweepTable, k: int, *, tol: float, init_params: np.ndarray | None = None
) -> float:
    """The swept rate ``k`` with the fewest significant figures (3 to 17) that reproduces its run: the same
    status and the same number of steps under the sweep's cap. What a link or a rate box then shows.

    A swept rate comes from a log grid (0.1780392680032521); 0.178 usually ends the same way in the same
    number of steps. The candidates are run in one ``analysis.lr_sweep``; 17 figures is the rate itself.
    """
    rate = float(table.learning_rate[k])
    texts = dict.fromkeys(float(f"{rate:.{d}g}") for d in range(3, 17))
    candidates = np.array([r for r in texts if r != rate and RATE_MIN <= r <= RATE_MAX])
    if candidates.size == 0:
        return rate
    result = analysis.lr_sweep(problem, candidates, tol=tol, max_steps=table.max_steps, init_params=init_params)
    same = (result.status.astype(str) == str(table.status[k])) & (result.steps == table.steps[k])
    return float(candidates[np.argmax(same)]) if same.any() else rate


class BestRate(NamedTuple):
    """The constant rate that reached tol in the fewest steps from one start, measured, next to the worst-case
    optimum 2/(lambda_min + lambda_max) (the Fastest preset) measured the same way.

    Attributes:
        learning_rate: the measured best rate (4 significant figures, as a preset button sets a rate).
        steps: its steps to converge.
        fastest_rate: 2/(lambda_min + lambda_max), 4 significant figures (the Fastest preset's rate).
        fastest_steps: its steps to converge, or None when it did not converge within ``max_steps``.
        n_rates: how many rates were measured.
        max_steps: the step cap of the measurement.
    """

    learning_rate: float
    steps: int
    fastest_rate: float
    fastest_steps: int | None
    n_rates: int
    max_steps: int


BEST_GRID = 100  # rates of the coarse log grid, then as many again around its best


def best_rate(
    problem: Problem, *, tol: float, max_steps: int, init_params: np.ndarray | None = None, n_rates: int = BEST_GRID
) -> BestRate | None:
    """The rate below 2/lambda_max that converges in the fewest steps from ``init_params``, by measurement.

    Two ``analysis.lr_sweep`` calls: ``n_rates`` log-spaced rates from 0.1 to 1 x 2/lambda_max, then
    ``n_rates`` between the best one's neighbours; the rates are rounded to 4 significant figures first, so
    that the answer is a rate a person can type (ties go to the smaller rate). None when no rate converges
    within ``max_steps``.
    """
    stable = analysis.thresholds(problem).stable_max
    fastest = float(f"{analysis.thresholds(problem).optimal:.4g}")
    runs = {}
    # Below 0.1 x 2/lambda_max (0.2/lambda_max) every direction shrinks slower than at 1/lambda_max.
    grid = np.geomspace(0.1 * stable, stable, n_rates, endpoint=False)
    for _ in range(2):
        rates = np.unique([float(f"{r:.4g}") for r in [*grid, fastest] if RATE_MIN <= r <= RATE_MAX])
        rates = np.array([r for r in rates if r not in runs])
        if rates.size:
            res = analysis.lr_sweep(problem, rates, tol=tol, max_steps=max_steps, init_params=init_params)
            for r, status, steps in zip(rates, np.asarray(res.status).astype(str), res.steps, strict=True):
                runs[float(r)] = int(steps) if status == Status.CONVERGED.value else None
        done = sorted((steps, r) for r, steps in runs.items() if steps is not None)
        if not done:
            return None
        best = done[0][1]
        ordered = sorted(runs)
        k = ordered.index(best)
        grid = np.linspace(ordered[max(k - 1, 0)], ordered[min(k + 1, len(ordered) - 1)], n_rates)
    steps, best = done[0]
    return BestRate(best, steps, fastest, runs.get(fastest), len(runs), int(max_steps))


def nearest_rate(table: SweepTable, rate: float) -> float:
    """The swept rate closest to ``rate`` in log terms (a clicked point's x, read back from the browser)."""
    rates = table.learning_rate
    return float(rates[np.argmin(np.abs(np.log(rates) - np.log(max(float(rate), 1e-300))))])
