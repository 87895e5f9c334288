"""The Regimes page's logic: one dataset, plain GD at a rate per regime side by side, plus a decaying rate.

Pure functions over RunConfig, Problem and Trajectory (no Streamlit): which runs to make (``lanes``), how a
rate compares with this data's thresholds (``rate_relation``), what a run did (``outcome``,
``observed_label``), the summary table (``summary_rows``) and the steps the shared scrubber offers
(``scrub_steps``). Every run is plain GD on the shared data, start point, tol and max steps (capped at
STEP_CAP so that five runs stay quick); the fifth uses an inverse-time schedule from a divergent rate.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from gdviz import analysis, explain
from gdviz.analysis import Regime
from gdviz.config import RATE_MAX, RATE_MIN, RunConfig
from gdviz.engine import Problem, Status, Trajectory
from gdviz.explain import plural
from gdviz.runs import init_params

# The four constant-rate slots, in the order they are shown (the presets of gdviz.analysis.regime_rates).
SLOTS: tuple[str, ...] = ("slow", "good", "oscillating", "divergent")
# The decaying run: inverse-time decay lr_t = lr_0 / (1 + DECAY_RATE * t) from DECAY_START / lambda_max,
# i.e. 1.25x the divergence threshold 2/lambda_max. With decay 0.01 the rate drops below 2/lambda_max after
# 25 updates: long enough to see the run blow up, soon enough for it to come back.
DECAY_START = 2.5
DECAY_RATE = 0.01
# Steps per run at most: the config's max_steps, but no more than this (five runs per page load).
STEP_CAP = 20_000
# How many leading steps the scrubber offers one by one (where the zig-zag and the blow-up show).
SCRUB_DENSE = 60
REGIME_NAMES: dict[str, str] = {r: r.value.capitalize() for r in Regime}


class Lane(NamedTuple):
    """One run on the page.

    Attributes:
        key: a short identifier, unique on the page ("slow", ..., "decay", "pinned_0", ...).
        title: the panel's heading.
        config: the RunConfig of the run (hashable: the cache key of its trajectory).
        regime: the regime the theory predicts for its rate (None for the decaying run).
        custom: True when the rate is the user's own rather than the preset.
    """

    key: str
    title: str
    config: RunConfig
    regime: Regime | None
    custom: bool


def round_rate(rate: float) -> float:
    """A rate rounded to 4 significant figures, as the Playground's preset buttons set it, and moved into the
    range a run accepts, [RATE_MIN, RATE_MAX] (extreme data, e.g. x centred at 9e5, asks for 3e-14)."""
    return min(max(float(f"{rate:.4g}"), RATE_MIN), RATE_MAX)


def preset_rates(problem: Problem) -> dict[str, float]:
    """slot -> this data's representative rate (r = rate x lambda_max of 0.05, 0.5, 1.6, 2.1), 4 s.f."""
    rates = analysis.regime_rates(problem)
    return {slot: round_rate(rates[slot]) for slot in SLOTS}


def base_config(config: RunConfig) -> RunConfig:
    """``config`` as plain GD at a constant rate, with max_steps capped at STEP_CAP (data, scaling, start
    point and tol are kept)."""
    return config.replace(optimizer="gd", schedule="constant", max_steps=min(config.max_steps, STEP_CAP))


def decay_config(config: RunConfig, problem: Problem) -> RunConfig:
    """The decaying run: inverse-time decay from DECAY_START / lambda_max with decay DECAY_RATE."""
    start = round_rate(DECAY_START / analysis.spectrum(problem).lambda_max)
    return base_config(config).replace(learning_rate=start, schedule="inverse_time", decay_rate=DECAY_RATE)


def lanes(
    config: RunConfig, problem: Problem, custom: dict[str, float] | None = None, pinned: list[float] | tuple = ()
) -> list[Lane]:
    """The runs of the page: the four regime slots (a custom rate replaces its slot's preset), the decaying
    run, then one lane per pinned rate, in the order pinned."""
    custom = custom or {}
    base = base_config(config)
    presets = preset_rates(problem)
    out = []
    for slot in SLOTS:
        rate = float(custom.get(slot, presets[slot]))
        title = f"{slot.capitalize()} slot: your rate" if slot in custom else f"{slot.capitalize()} rate"
        out.append(
            Lane(slot, title, base.replace(learning_rate=rate), analysis.predict_regime(problem, rate), slot in custom)
        )
    out.append(Lane("decay", "Decaying rate (inverse time)", decay_config(config, problem), None, False))
    for k, rate in enumerate(pinned):
        rate = float(rate)
        out.append(
            Lane(f"pinned_{k}", f"Pinned: rate {rate:.4g}", base.replace(learning_rate=rate),
                 analysis.predict_regime(problem, rate), True)
        )  # fmt: skip
    return out


def rate_relation(rate: float, problem: Problem) -> str:
    """The rate as multiples of 1/lambda_max and 2/lambda_max, e.g. "0.18 = 1.6 x 1/lambda_max, 0.8 x
    2/lambda_max" (rate 3 s.f., multiples 3 s.f.)."""
    t = analysis.thresholds(problem)
    return f"{rate:.3g} = {rate / t.monotone_max:.3g} x 1/lambda_max, {rate / t.stable_max:.3g} x 2/lambda_max"


def outcome(traj: Trajectory) -> str:
    """Exactly one of "converged in N steps", "diverged at step N", "still moving after N steps" (N with
    thousands separators). A run stopped by max_steps is still moving."""
    last = int(traj.step[-1])
    if traj.status is Status.CONVERGED:
        return f"converged in {plural(last, 'step')}"
    if traj.status is Status.DIVERGED:
        return f"diverged at step {last:,}"
    return f"still moving after {plural(last, 'step')}"


def below_step(traj: Trajectory, threshold: float) -> int | None:
    """The first step whose update used a rate below ``threshold`` (1-based, as ``step``), else None."""
    rates = traj.learning_rate[1:]
    hits = np.flatnonzero(np.isfinite(rates) & (rates < threshold))
    return int(traj.step[1:][hits[0]]) if hits.size else None


def _tail(traj: Trajectory, k: int) -> Trajectory:
    """Rows k.. of ``traj`` (views), as a run that starts at row k."""
    return Trajectory(*(a[k:] for a in traj[:6]), status=traj.status, last_state=traj.last_state)


def observed_label(problem: Problem, lane: Lane, traj: Trajectory) -> str:
    """The regime read off the run. A decaying run is read in two phases, split at the first update whose
    rate is below 2/lambda_max: "Divergent (steps 1-25), then Oscillating"."""
    if lane.config.is_constant_gd:
        return REGIME_NAMES[analysis.observed_regime(problem, traj)]
    cross = below_step(traj, analysis.thresholds(problem).stable_max)
    if cross is None or cross <= 1 or traj.status is Status.DIVERGED:
        return REGIME_NAMES[analysis.observed_regime(problem, traj)]
    first = analysis.observed_regime(problem, Trajectory(*(a[:cross] for a in traj[:6]), Status.RUNNING, None))
    rest = analysis.observed_regime(problem, _tail(traj, cross - 1))
    return f"{REGIME_NAMES[first]} (steps 1-{cross - 1}), then {REGIME_NAMES[rest]}"


def decay_story(problem: Problem, traj: Trajectory) -> str:
    """What the decaying run shows, from the run itself: where its rate falls below 2/lambda_max, how far
    the loss rose before that, and how it ended."""
    t = analysis.thresholds(problem)
    r0 = float(traj.learning_rate[1]) if traj.n_states > 1 else float("nan")
    cross = below_step(traj, t.stable_max)
    finite = traj.loss[np.isfinite(traj.loss)]
    rise = float(finite.max() / traj.loss[0]) if finite.size and traj.loss[0] > 0 else float("nan")
    text = (
        f"Starts at {r0:.3g} = {r0 / t.stable_max:.3g} x 2/lambda_max, a divergent rate, and decays as "
        f"rate / (1 + {DECAY_RATE:g} t). "
    )
    if cross is None:
        return text + f"The rate never fell below 2/lambda_max = {t.stable_max:.3g} in this run: it {outcome(traj)}."
    text += f"From step {cross:,} on the rate is below 2/lambda_max = {t.stable_max:.3g}. "
    if rise > 1:
        times = f"{rise:,.0f}" if rise < 1e6 else f"{rise:.3g}"
        text += f"Until then each step overshot and the loss rose to {times}x its start; "
    if traj.status is Status.CONVERGED:
        return text + f"then the decay rescued it: it {outcome(traj)}."
    return text + f"it {outcome(traj)}."


class Row(NamedTuple):
    """One row of the summary table (all strings, ready to show)."""

    run: str
    rate: str
    predicted: str
    observed: str
    predicted_steps: str
    measured_steps: str
    final_loss: str


def summary_row(problem: Problem, lane: Lane, traj: Trajectory) -> Row:
    """The table row of one run: rate, regime predicted and observed, steps to converge predicted (closed
    form, constant rates only) and measured, and the final loss."""
    config = lane.config
    if config.is_constant_gd:
        rate = f"{config.learning_rate:.4g}"
        predicted = REGIME_NAMES[lane.regime]
        w0 = init_params(config, problem)
        predicted_steps = explain.steps_text(
            analysis.predicted_steps(problem, config.learning_rate, tol=config.tol, init_params=w0)
        ) + ("" if config.is_full_batch else " (for full batch)")
    else:
        rate = f"{config.learning_rate:.4g} / (1 + {config.decay_rate:g} t)"
        predicted = "no single regime (the rate changes)"
        predicted_steps = "no closed form"
    last = int(traj.step[-1])
    measured = {
        Status.CONVERGED: f"{last:,}",
        Status.DIVERGED: f"never (diverged at step {last:,})",
    }.get(traj.status, f"not yet (stopped at {last:,})")
    loss = float(traj.loss[-1])
    if np.isfinite(loss):
        final = f"{loss:.6g}"
    else:
        finite = np.flatnonzero(np.isfinite(traj.loss))
        final = "overflow"
        if finite.size:
            final += f" (last finite {traj.loss[finite[-1]]:.3g} at step {int(traj.step[finite[-1]]):,})"
    return Row(lane.title, rate, predicted, observed_label(problem, lane, traj), predicted_steps, measured, final)


def scrub_steps(last: int, *, dense: int = SCRUB_DENSE, n_log: int = 120) -> np.ndarray:
    """The steps the shared scrubber offers for runs up to ``last``: every step up to ``dense``, then about
    ``n_log`` log-spaced steps up to ``last`` (the end always included). Sorted, unique, ints."""
    last = max(int(last), 0)
    head = np.arange(min(dense, last) + 1)
    if last <= dense:
        return head
    tail = np.unique(np.round(np.geomspace(dense, last, n_log)).astype(np.int64))
    return np.unique(np.concatenate([head, tail, [last]]))


def nearest_step(steps: np.ndarray, step: int) -> int:
    """The offered step nearest to ``step`` (used when the offered steps change under a kept position)."""
    steps = np.asarray(steps)
    return int(steps[np.argmin(np.abs(steps - step))])
