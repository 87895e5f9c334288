"""Plain-language read-outs of the theory on the user's own data: pure functions from numbers to sentences.

Every number in these sentences is computed here from the Problem and the run, so a page only has to
show them. Rates are printed with 3 significant figures; ratios with 3.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from gdviz import analysis
from gdviz.analysis import Regime
from gdviz.engine import Problem, Status, Trajectory
from gdviz.sweep import BestRate

REGIME_MEANING: dict[str, str] = {
    Regime.SLOW: "every step shrinks the error along the stiffest direction by less than 20%, so the run "
    "crawls: it gets there, after many steps",
    Regime.GOOD: "every step shrinks the error along every direction without overshooting, so the path "
    "slides straight down the valley",
    Regime.OSCILLATING: "every step overshoots the valley floor along the stiffest direction and flips "
    "sides, so the path zig-zags while it still closes in",
    Regime.DIVERGENT: "every step overshoots by more than it corrects, so the error grows each step and "
    "the loss explodes",
}


def fmt(x: float, digits: int = 3) -> str:
    """A number for prose or a metric: ``digits`` significant figures (3 for prose, 6 for a metric), plain or
    scientific, 'inf'/'nan' spelled out. Every number the pages print goes through here."""
    if not np.isfinite(x):
        return str(float(x))
    return f"{x:.{digits}g}"


def plural(n: int, noun: str, many: str | None = None) -> str:
    """A count and its noun, singular for exactly one: "1 feature", "2 features", "1,000 steps"."""
    return f"{n:,} {noun if n == 1 else many or noun + 's'}"


def steps_text(steps: float) -> str:
    """A predicted number of steps: whole, with thousands separators; "never" when it is infinite."""
    return f"{steps:,.0f}" if np.isfinite(steps) else "never"


class Comparison(NamedTuple):
    """The chosen rate against one threshold rate of this data."""

    name: str
    formula: str
    threshold: float
    ratio: float
    sentence: str


def rate_comparisons(problem: Problem, learning_rate: float) -> list[Comparison]:
    """The rate against 1/lambda_max, 2/(lambda_min + lambda_max) and 2/lambda_max, as ratios and sentences.

    E.g. "0.08 is 1.29x the divergence threshold 2/lambda_max = 0.062".
    """
    t = analysis.thresholds(problem)
    rows = [
        ("oscillation threshold", "1/lambda_max", t.monotone_max),
        ("fastest rate", "2/(lambda_min + lambda_max)", t.optimal),
        ("divergence threshold", "2/lambda_max", t.stable_max),
    ]
    out = []
    for name, formula, value in rows:
        ratio = learning_rate / value
        out.append(
            Comparison(
                name, formula, value, ratio, f"{fmt(learning_rate)} is {ratio:.3g}x the {name} {formula} = {fmt(value)}"
            )
        )
    return out


class Direction(NamedTuple):
    """One eigen-direction of the Hessian and what a constant-rate GD step does along it."""

    eigenvalue: float
    factor: float  # |1 - lr * lambda|
    effect: str


def direction_factors(problem: Problem, learning_rate: float) -> list[Direction]:
    """Per Hessian eigen-direction (ascending eigenvalue): |1 - lr*lambda| and what it does to the error."""
    s = analysis.spectrum(problem)
    out = []
    for lam in s.eigenvalues:
        q = 1.0 - learning_rate * lam
        a = abs(q)
        if a >= 1.0:
            effect = "grows (flips sign each step)" if q < 0 else "does not shrink"
        else:
            shrink = f"{1 - a:.2%}" if 1 - a < 0.01 else f"{1 - a:.0%}"  # 0.2% must not read as 0%
            effect = f"shrinks {shrink} per step" + (", flipping sign (zig-zag)" if q < 0 else "")
        out.append(Direction(float(lam), float(a), effect))
    return out


def regime_sentence(regime: Regime, learning_rate: float, problem: Problem) -> str:
    """Why a constant rate falls in ``regime`` on this data, with r = rate * lambda_max; for the Fastest
    preset's rate, also why the fastest rate reads "Oscillating" (``fastest_overshoot``)."""
    lam = analysis.spectrum(problem).lambda_max
    r = learning_rate * lam
    zones = "slow < 0.2 <= good <= 1 < oscillating < 2 <= divergent"  # as analysis.regime_of_ratio
    text = f"{REGIME_MEANING[regime].capitalize()} (rate x lambda_max = {r:.3g}; the zones are {zones})."
    optimal = analysis.thresholds(problem).optimal
    if regime is Regime.OSCILLATING and abs(learning_rate / optimal - 1) < 5e-4:  # the Fastest preset, 4 s.f.
        text += " " + fastest_overshoot(problem)
    return text


# How close a measured best rate's steps must come to the Fastest preset's to count as "as fast".
SAME_STEPS = 0.02


def fastest_overshoot(problem: Problem) -> str:
    """Why 2/(lambda_min + lambda_max) is called Oscillating: it lies above 1/lambda_max (whenever lambda_min <
    lambda_max), so the stiffest direction overshoots every step, the price of the flattest direction's speed."""
    s = analysis.spectrum(problem)
    t = analysis.thresholds(problem)
    q = 1.0 - t.optimal * s.lambda_max
    return (
        f"This is 2/(lambda_min + lambda_max) = {fmt(t.optimal, 4)}, the Fastest preset: it lies above 1/lambda_max "
        f"= {fmt(t.monotone_max)}, so along the stiffest direction each step overshoots (1 - rate x lambda_max = "
        f"{q:.3g}: the error flips sign every step). That is why it reads Oscillating: it buys the flattest "
        "direction the most speed a constant rate can give, and the stiffest one pays with a zig-zag."
    )


def fastest_story(problem: Problem, best: BestRate | None, init_params: np.ndarray) -> str:
    """Why the Fastest preset, 2/(lambda_min + lambda_max), can take more steps than another rate from one
    start, with the measured best rate beside it (``gdviz.sweep.best_rate``).

    2/(lambda_min + lambda_max) minimises the worst shrink factor over all directions, max |1 - rate x
    lambda|; the steps to tol from one start depend on where that start's error lies in the eigenbasis (the
    stop rule watches the update, rate x H x error, so each direction counts with its lambda).
    """
    s = analysis.spectrum(problem)
    lo, hi = s.lambda_min, s.lambda_max
    opt = analysis.thresholds(problem).optimal
    rho = max(abs(1 - opt * lo), abs(1 - opt * hi))
    head = (
        f"2/(lambda_min + lambda_max) = {fmt(opt, 4)} makes the worst shrink factor over all directions, "
        f"max |1 - rate x lambda|, as small as it can be: {rho:.4g} per step along both the flattest and the "
        "stiffest direction. That is the best guarantee for any start, not the fewest steps from every start."
    )
    if best is None:
        return head + (
            " From this start no rate below 2/lambda_max reached tol within the step cap, so there is no measured "
            "best to show."
        )
    coef = s.eigenvectors.T @ (np.asarray(init_params, dtype=float) - problem.optimum)
    grad = np.abs(s.eigenvalues * coef)  # the start's gradient, per eigen-direction (ascending lambda)
    split = (
        f"at this start the gradient along the stiffest direction is {grad[-1] / grad[0]:.3g}x the one along "
        "the flattest"
        if grad[0] > 0
        else "at this start the error has no part along the flattest direction"
    )
    measured = (
        f"Measured from this start (plain GD, {best.n_rates:,} rates, at most {best.max_steps:,} steps): "
        f"{fmt(best.fastest_rate, 4)} takes "
        + (plural(best.fastest_steps, "step") if best.fastest_steps is not None else "more than the cap")
        + f"; the best is **{fmt(best.learning_rate, 4)}**, with {plural(best.steps, 'step')}."
    )
    if best.fastest_steps is not None and best.fastest_steps <= best.steps * (1 + SAME_STEPS):
        return f"{head} {measured} From this start the worst-case optimum is also (about) the fastest."
    q_hi, q_lo = abs(1 - best.learning_rate * hi), abs(1 - best.learning_rate * lo)
    return (
        f"{head} The steps to reach tol from one start depend on where that start's error lies in the eigenbasis: "
        f"the run stops once its update, rate x gradient, is shorter than tol, and {split}. "
        f"At {fmt(best.learning_rate, 4)} the stiffest direction shrinks by a factor {q_hi:.4g} per step instead "
        f"of {rho:.4g}, the flattest by {q_lo:.4g}. {measured}"
    )


def divergence_explanation(problem: Problem, traj: Trajectory, learning_rate: float, *, constant_gd: bool) -> str:
    """Why a run blew up, and where: the step of the first non-finite value, and the factor behind it."""
    last = int(traj.step[-1])
    finite = traj.loss[np.isfinite(traj.loss)]
    peak = fmt(float(finite.max())) if finite.size else "inf"
    where = (
        f"At step {last} the numbers overflowed float64 (the largest finite loss was {peak})."
        if traj.status is Status.DIVERGED
        else f"By step {last} the loss has grown to {fmt(float(traj.loss[-1]))} and keeps growing."
    )
    if constant_gd:
        s = analysis.spectrum(problem)
        q = abs(1.0 - learning_rate * s.lambda_max)
        stable = analysis.thresholds(problem).stable_max
        why = (
            f"The rate {fmt(learning_rate)} is above 2/lambda_max = {fmt(stable)} "
            f"({learning_rate / stable:.3g}x), so along the stiffest direction each step multiplies the error "
            f"by 1 - rate x lambda_max = {1.0 - learning_rate * s.lambda_max:.3g}: the path overshoots the "
            f"valley, lands further up the other side, and the error grows {q:.3g}x per step."
        )
    else:
        why = (
            "The steps this optimizer took were too large for the curvature of this loss: each one overshot "
            "the valley and landed higher up the other side, so the error grew instead of shrinking."
        )
    return f"Diverged. {why} {where} Lower the rate below 2/lambda_max, or scale the feature, to make it converge."


def status_sentence(traj: Trajectory, step: int) -> str:
    """Where the run is at ``step``: still going, or why and when it stopped."""
    last = int(traj.step[-1])
    if traj.status is Status.RUNNING or step < last:
        more = "" if traj.status is Status.RUNNING else f" (the run stops at step {last}: {traj.status.value})"
        return f"Step {step}: running{more}."
    return {
        Status.CONVERGED: f"Converged at step {last}: the last update was shorter than tol.",
        Status.DIVERGED: f"Diverged at step {last}: the loss or the params stopped being finite numbers.",
        Status.MAX_STEPS: f"Stopped at max steps ({last}) before the updates got shorter than tol.",
    }[traj.status]
