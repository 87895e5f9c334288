"""The Regimes page's logic: one dataset, plain GD at a rate per regime side by side, plus a decaying rate.

Pure functions over RunConfig, Problem and Trajectory (no Streamlit): which runs to make (``lanes``), how a
rate compares with this data's thresholds (``rate_relation``), what a run did (``outcome``,
``observed_label``), the summary table (``summary_rows``), the charts at a step (``figures``) and the player's
payload of every run at every step (``player``, ``player_json``). Every run is plain GD on the shared data,
start point, tol and max steps (capped at STEP_CAP so that five runs stay quick); the fifth uses an inverse-
time schedule from a divergent rate."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from gdviz import analysis, explain, playback, plots
from gdviz.analysis import Regime
from gdviz.config import RATE_MAX, RATE_MIN, RunConfig
from gdviz.engine import Problem, Status, Trajectory
from gdviz.explain import plural
from gdviz.playground import final_status, player_payload, step_axis_end
from gdviz.plots._spec import _LOG10_FLOAT_MAX, REGIME_LABELS
from gdviz.runs import init_params, predicted_loss_curve

# The four constant-rate slots, in the order they are shown (the presets of gdviz.analysis.regime_rates).
SLOTS: tuple[str, ...] = ("slow", "good", "oscillating", "divergent")
# The decaying run: inverse-time decay lr_t = lr_0 / (1 + DECAY_RATE * t) from DECAY_START / lambda_max,
# i.e. 1.25x the divergence threshold 2/lambda_max. With decay 0.01 the rate drops below 2/lambda_max after
# 25 updates: long enough to see the run blow up, soon enough for it to come back.
DECAY_START = 2.5
DECAY_RATE = 0.01
# Steps per run at most: the config's max_steps, but no more than this (five runs per page load).
STEP_CAP = 20_000
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


def nearest_step(steps: np.ndarray, step: int) -> int:
    """The step of ``steps`` nearest to ``step`` (a kept step on a new step axis, e.g. after a new rate)."""
    steps = np.asarray(steps)
    return int(steps[np.argmin(np.abs(steps - step))])


# ---------------------------------------------------------------------------------------------
# How a run is named in the charts and the read-out
# ---------------------------------------------------------------------------------------------


def chart_label(lane: Lane) -> str:
    """How a run is named in the charts: by regime for a preset rate, by the rate itself for the user's own."""
    if lane.regime is None:
        return "Decaying rate"
    if not lane.custom:
        return REGIME_LABELS[lane.regime]
    kind = "Pinned" if lane.key.startswith("pinned_") else "Your rate"
    return f"{kind} {lane.config.learning_rate:.3g} ({REGIME_LABELS[lane.regime].lower()})"


def short_label(lane: Lane) -> str:
    """A run's name in a read-out cell, short enough for a phone: "Slow", "Good (yours)", "Pinned 1"."""
    if lane.key.startswith("pinned_"):
        return f"Pinned {int(lane.key.split('_')[1]) + 1}"
    if lane.key == "decay":
        return "Decaying"
    return lane.key.capitalize() + (" (yours)" if lane.custom else "")


# ---------------------------------------------------------------------------------------------
# The figures at one step (what the downloads save) and the player's payload (every step at once)
# ---------------------------------------------------------------------------------------------

GRID_SIZE = 50  # each panel's contours: a GRID_SIZE x GRID_SIZE loss grid
CHART_KINDS = {"contour": "path on the loss contours", "loss": "loss over the steps"}


def _panel_specs(lane: Lane, traj: Trajectory, problem: Problem, names: tuple[str, str]) -> dict[str, dict]:
    """The two figure specs of ``traj`` (a lane's run, or its head up to a step): contours holding the whole
    of ``traj``'s path, and the loss with the closed-form prediction and the floor. Titled without a step."""
    opt = problem.solution()
    x_range, y_range = playback.window(traj.params, np.vstack([traj.params[0], opt]))
    grid = analysis.loss_grid(problem, 0, 1, x_range=x_range, y_range=y_range, n=GRID_SIZE)
    color, label = plots.regimes.regime_color(lane.regime), chart_label(lane)
    contour = plots.regimes.panel_contour(grid, traj, optimum=opt, names=names, color=color, label=label)
    contour["layout"]["title"]["text"] = f"{label}: {CHART_KINDS['contour']}"
    loss = plots.regimes.panel_loss(
        traj, color=color, label=label, predicted=predicted_loss_curve(lane.config, problem, traj.step),
        floor=problem.optimum_loss,
    )  # fmt: skip
    return {"contour": contour, "loss": loss}


def _overview(lanes: list[Lane], trajs: list[Trajectory], problem: Problem) -> dict:
    """Every run's loss above the floor on one chart (each run as ``trajs`` holds it)."""
    runs = [
        (chart_label(lane), plots.regimes.regime_color(lane.regime), traj)
        for lane, traj in zip(lanes, trajs, strict=True)
    ]
    return plots.regimes.loss_gaps(runs, floor=problem.optimum_loss)


def figures(
    lanes: list[Lane], trajs: list[Trajectory], problem: Problem, names: tuple[str, str], step: int
) -> dict[str, dict]:
    """Every chart of the page at ``step`` (each run up to it, or to its end), by chart name: "overview",
    then "{lane key}_contour" and "{lane key}_loss" per lane. What the page's downloads save."""
    heads = [playback.head(traj, step) for traj in trajs]
    out = {"overview": _overview(lanes, heads, problem)}
    for lane, head in zip(lanes, heads, strict=True):
        out |= {f"{lane.key}_{kind}": spec for kind, spec in _panel_specs(lane, head, problem, names).items()}
    return out


# The most rows of the shared step axis the browser gets: every early step, then a doubling stride.
PLAYER_ROWS = 2_048
CHART_DIGITS = 8
PAYLOAD_BYTES = 2_000_000  # the payload of eleven lanes (four slots, the decaying run, six pins) stays below


class Player(NamedTuple):
    """Every run of the page on one step axis, for the browser to show any step without asking the server.

    Attributes:
        steps: array of shape (n,), the shared step axis (``playback.aligned_rows``); row k is what the
            player shows at its k-th position.
        rows: per lane, array of shape (n,): the row of its Trajectory shown at each step of ``steps``.
        ends: per lane, the first row of ``steps`` at which it shows its last state (it has stopped); its
            columns end there, and every binding and read-out cell of it is capped there.
        columns: name -> (array, digits): "step", then per lane ``{key}.p0``, ``{key}.p1``, ``{key}.loss``,
            ``{key}.gap`` (loss - J*, for the overview), ``{key}.pred`` (the closed form, constant rates) and
            ``{key}.step`` where its steps differ from the shared ones. The loss and steps are sent exactly,
            what only the charts draw with CHART_DIGITS significant figures; non-finite values as null.
        charts: per chart, in page order: key, figure spec (the static part; the moving traces empty),
            height, ``bind`` and ``wide`` (the overview spans the row).
        readout: the read-out's cells: Step, then per lane its loss and status.
        lanes: per lane: key, label, end, final_status and diverged_at (the step where the run overflowed,
            else None).
    """

    steps: np.ndarray
    rows: list[np.ndarray]
    ends: list[int]
    columns: dict[str, tuple[np.ndarray, int | None]]
    charts: list[dict]
    readout: list[dict]
    lanes: list[dict]


def _positive(v: np.ndarray) -> np.ndarray:
    """``v`` with what a log axis cannot draw (non-finite, <= 0) as NaN (sent as null: a gap)."""
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(v) & (v > 0), v, np.nan)


def _bind(spec: dict, name: str, kind: str, cols: dict, last: int) -> dict:
    """The binding of the first trace of ``spec`` whose name starts with ``name``: its ``cols`` attributes
    are emptied here and filled by the player at each step, from rows up to ``last`` at most."""
    i = next(i for i, t in enumerate(spec["data"]) if str(t.get("name", "")).startswith(name))
    for attr in cols:
        spec["data"][i][attr] = []
    return {"trace": i, kind: cols, "last": last}


def _lane_columns(lane: Lane, traj: Trajectory, problem: Problem, rows: np.ndarray, steps: np.ndarray) -> dict:
    k = lane.key
    shown = traj[:6]
    step, params, loss = (a[rows] for a in (shown[0], shown[1], shown[3]))
    cols = {f"{k}.p0": params[:, 0], f"{k}.p1": params[:, 1], f"{k}.loss": loss}
    with np.errstate(invalid="ignore", over="ignore"):
        cols[f"{k}.gap"] = _positive(loss - problem.optimum_loss)
    pred = predicted_loss_curve(lane.config, problem, step)
    if pred is not None:
        cols[f"{k}.pred"] = _positive(pred)
    if not np.array_equal(step, steps[: len(rows)]):
        cols[f"{k}.step"] = step
    # The loss is read out: sent exactly. What only the charts draw has CHART_DIGITS significant figures
    # (a ten-thousandth of a pixel): eleven lanes of 20,000 steps stay within PAYLOAD_BYTES.
    return {name: (v, None if name in (f"{k}.loss", f"{k}.step") else CHART_DIGITS) for name, v in cols.items()}


def _overview_range(gaps: list[np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row of the shared axis, the overview's log y range (log10 units): whole decades holding every
    finite positive gap (loss - J*) of every lane shown so far, padded by a tenth of a decade, never past
    float64's largest value. It grows with the runs (a run that overflows at step 3,711 does not flatten
    the others at step 5) and changes only when a curve crosses a decade."""
    lo, hi = np.full(n, np.inf), np.full(n, -np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        for gap in gaps:  # each lane's gaps up to the row where it stopped
            g = np.log10(np.where(np.isfinite(gap) & (gap > 0), gap, np.nan))
            g = np.concatenate([g, np.full(n - len(g), g[-1] if len(g) else np.nan)])[:n]  # held after its end
            lo = np.fmin(lo, np.fmin.accumulate(np.where(np.isnan(g), np.inf, g)))
            hi = np.fmax(hi, np.fmax.accumulate(np.where(np.isnan(g), -np.inf, g)))
    lo, hi = np.where(np.isfinite(lo), lo, -1.0), np.where(np.isfinite(hi), hi, 1.0)
    return np.floor(lo) - 0.1, np.minimum(np.maximum(np.ceil(hi), np.floor(lo) + 1) + 0.1, _LOG10_FLOAT_MAX)


def _lane_charts(lane: Lane, traj: Trajectory, problem: Problem, names: tuple[str, str], cols: dict,
                 end: int) -> list[dict]:  # fmt: skip
    """A lane's contour and loss charts for the player: the static parts of the whole run, the path, the
    loss curves and the current-step markers bound to the lane's columns ``cols`` up to its row ``end``."""
    k = lane.key
    x = f"{k}.step" if f"{k}.step" in cols else "step"
    specs = _panel_specs(lane, traj, problem, names)
    contour, loss = specs["contour"], specs["loss"]
    bind_c = [
        _bind(contour, "path", "upto", {"x": f"{k}.p0", "y": f"{k}.p1"}, end),
        _bind(contour, "current step", "at", {"x": [f"{k}.p0"], "y": [f"{k}.p1"]}, end),
    ]
    loss["data"] = [t for t in loss["data"] if not str(t.get("name", "")).startswith("step ")]
    loss["data"].append(plots.playground.step_marker(plots.regimes.regime_color(lane.regime)))
    bind_l = [
        _bind(loss, "loss (", "upto", {"x": x, "y": f"{k}.loss"}, end),
        _bind(loss, "current step", "at", {"x": [x], "y": [f"{k}.loss"]}, end),
    ]
    if f"{k}.pred" in cols:
        bind_l.append(_bind(loss, "predicted", "upto", {"x": x, "y": f"{k}.pred"}, end))
    if floor := [t for t in loss["data"] if str(t.get("name", "")).startswith("least-squares floor")]:
        y = float(floor[0]["y"][0])
        bind_l.append(_bind(loss, "least-squares floor", "at", {"x": [0, x], "y": [y, y]}, end))
    loss["layout"]["xaxis"].update({"range": [0, 10], "autorange": False})  # the player sets it per row
    # A log axis fixed to hold the whole run (a diverging run's stops at float64's largest value): a move
    # never rescales it.
    shown = [traj.loss, [problem.optimum_loss], cols[f"{k}.pred"][0] if f"{k}.pred" in cols else []]
    loss["layout"]["yaxis"]["range"] = plots._spec.log_axis_range(np.concatenate(shown))
    charts = []
    for kind, spec, bind in (("contour", contour, bind_c), ("loss", loss, bind_l)):
        chart = {"key": f"{k}_{kind}", "figure": spec, "bind": bind, "is3d": False,
                 "height": int(spec["layout"]["height"])}  # fmt: skip
        if kind == "loss":  # its step axis ends past the lane's step at the row: it grows, a few times a run
            chart["layout_at"] = {"xaxis.range": [0, f"{k}.step_end"]}
        if spec["layout"].get("annotations"):  # "diverged at step N": shown once the lane got there
            chart |= {"end_only_annotations": True, "end_row": end}
        charts.append(chart)
    return charts


def player(lanes: list[Lane], trajs: list[Trajectory], problem: Problem, names: tuple[str, str]) -> Player:
    """The page's player payload: every lane's whole run (``gdviz.ui.cache.trajectory_for``) on one step axis.

    Every number comes from the engine's runs or the analysis of ``problem``; the browser only picks, per
    lane, the row at the step shown (``at``) or the rows up to it (``upto``), capped at the lane's end.
    """
    steps, rows = playback.aligned_rows(trajs, PLAYER_ROWS)
    ends = [int(np.argmax(r == t.n_states - 1)) for r, t in zip(rows, trajs, strict=True)]
    columns: dict[str, tuple[np.ndarray, int | None]] = {"step": (steps, None)}
    overview = _overview(lanes, trajs, problem)
    overview["layout"]["xaxis"].update({"range": [0, 10], "autorange": False})  # the player sets both per row
    overview["layout"]["yaxis"].update({"autorange": False})
    columns["step_end"] = (step_axis_end(steps), None)
    over_bind, charts, info = [], [], []
    step_help = "Updates applied so far (step 0 is the start point); a run that stopped shows its last step."
    readout = [{"label": "Step", "col": "step", "help": step_help}]
    for i, (lane, traj, r, end) in enumerate(zip(lanes, trajs, rows, ends, strict=True)):
        k = lane.key
        cols = _lane_columns(lane, traj, problem, r[: end + 1], steps)
        cols[f"{k}.step_end"] = (step_axis_end(traj.step[r]), None)  # every row: read at rows past its end too
        columns |= cols
        overview["data"][i]["x"], overview["data"][i]["y"] = [], []
        x = f"{k}.step" if f"{k}.step" in cols else "step"
        over_bind.append({"trace": i, "upto": {"x": x, "y": f"{k}.gap"}, "last": end})
        charts += _lane_charts(lane, traj, problem, names, cols, end)
        short, final = short_label(lane), final_status(traj, problem.optimum_loss)
        readout += [
            {"label": f"{short} loss", "col": f"{k}.loss", "last": end,
             "help": f"{lane.title}: the loss (mean squared error) at this step, or where it stopped."},
            {"label": f"{short} status", "col": "", "last": end, "final": final,
             "help": f"{lane.title}: running until it stops, then converged, diverged or max steps."},
        ]  # fmt: skip
        div = plots._spec.divergence_step(traj)
        info.append({"key": k, "label": chart_label(lane), "end": end, "final_status": final, "diverged_at": div})
    gaps = [columns[f"{lane.key}.gap"][0] for lane in lanes]
    over_lo, over_hi = _overview_range(gaps, len(steps))
    columns |= {"over_lo": (over_lo, None), "over_hi": (over_hi, None)}
    overview_chart = {"key": "overview", "figure": overview, "bind": over_bind, "is3d": False, "wide": True,
                      "height": int(overview["layout"]["height"]),
                      "layout_at": {"xaxis.range": [0, "step_end"], "yaxis.range": ["over_lo", "over_hi"]}}  # fmt: skip
    return Player(steps, rows, ends, columns, [overview_chart, *charts], readout, info)


def player_json(p: Player, *, run: str) -> str:
    """``p`` as the JSON text the player component reads (``gdviz.ui.player``), named ``run``. Holds no NaN
    or inf: non-finite values are null."""
    last = p.lanes[int(np.argmax([int(t["end"]) for t in p.lanes]))]["final_status"]
    head = {"run": run, "n": len(p.steps), "final_status": last, "diverged_at": None, "readout": p.readout,
            "readout_layout": "pairs", "lanes": p.lanes}  # fmt: skip
    return player_payload(head, p.columns, p.charts)
