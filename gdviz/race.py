"""The optimizer race: every optimizer on the same data from the same start, side by side. Pure: no Streamlit.

Which runs (``RUNS``), their defaults from the data (``default_settings``), running them (``race``), the table
(``table_rows``) and the player's payload (``player``, ``player_json``): per run, its path, its loss above the
least-squares floor, and two arrows at each step, the negative gradient and the update actually taken, as
columns the browser picks rows from.

Six runs take fixed-rate first-order steps (``gdviz.optimizers``) and may use mini-batches
(``engine.run(batch_size=...)``); three reference methods (``gdviz.analysis``: Newton, exact line search,
Barzilai-Borwein) need the Hessian or the previous full gradient, so they always use the full batch.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np

from gdviz import analysis, engine, optimizers, playback, playground, plots
from gdviz.engine import Problem, Status, Trajectory
from gdviz.errors import InputError, check_int

RUNS: tuple[str, ...] = (
    "gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "newton", "line_search", "barzilai_borwein",
)  # fmt: skip
LABELS: dict[str, str] = {
    "gd": "GD",
    "momentum": "Momentum",
    "nesterov": "Nesterov",
    "adagrad": "AdaGrad",
    "rmsprop": "RMSProp",
    "adam": "Adam",
    "newton": "Newton",
    "line_search": "Line search",
    "barzilai_borwein": "Barzilai-Borwein",
}
# The settings each run has besides its learning rate (the reference methods have none: no rate to choose).
SETTINGS: dict[str, tuple[str, ...]] = {
    "gd": ("learning_rate",),
    "momentum": ("learning_rate", "beta"),
    "nesterov": ("learning_rate", "beta"),
    "adagrad": ("learning_rate",),
    "rmsprop": ("learning_rate", "decay"),
    "adam": ("learning_rate", "b1", "b2"),
    "newton": (),
    "line_search": (),
    "barzilai_borwein": (),
}
FULL_BATCH_ONLY: frozenset[str] = frozenset({"newton", "line_search", "barzilai_borwein"})
_REFERENCE_PATHS = {
    "newton": analysis.newton_path,
    "line_search": analysis.line_search_path,
    "barzilai_borwein": analysis.barzilai_borwein_path,
}
# Every run stops by this step (nine runs per setting stay quick).
STEP_CAP = 10_000
# The adaptive methods move each param by about their rate per step, whatever the gradient's size: their
# default rates are fractions of the way to travel, D = max_i |w*_i - w0_i| (Adam ~100 steps to cross it;
# AdaGrad's steps shrink like 1/sqrt(t), so it starts larger; RMSProp has no momentum to damp its sign-like
# steps, so it starts smaller, or it rattles around the optimum at about its rate).
ADAPTIVE_FRACTIONS = {"adagrad": 1.0, "rmsprop": 0.001, "adam": 0.01}
BETA_MAX = 1.0 - 1e-6  # momentum's beta on a singular Hessian (its formula gives 1, which the optimizer refuses)


def round4(value: float) -> float:
    """``value`` to 4 significant figures (what a rate box shows), kept above 0."""
    return max(float(f"{value:.4g}"), 1e-12)


def round13(value: float) -> float:
    """``value`` to 13 significant figures: the last bits that LAPACK leaves to the CPU and kernel dropped."""
    return float(f"{value:.13g}")


def default_settings(problem: Problem, init_params: np.ndarray) -> dict[str, dict[str, float]]:
    """Each run's defaults on this data, from its Hessian's spectrum and the way to travel.

    GD at 2 / (lambda_min + lambda_max) (``analysis.thresholds(...).optimal``); momentum at Polyak's optimal
    heavy-ball settings (``analysis.optimal_momentum``); Nesterov at rate 1 / lambda_max and beta
    (sqrt(kappa) - 1) / (sqrt(kappa) + 1) (``analysis.convergence_rates(...).momentum``), the textbook
    settings for a strongly convex quadratic; AdaGrad, RMSProp and Adam at ``ADAPTIVE_FRACTIONS`` of
    D = max_i |w*_i - w0_i| (4 significant figures) with their usual decays. A singular Hessian gives beta 1
    for momentum: it is capped at BETA_MAX (beta must stay below 1 for the buffer to forget).
    """
    s = analysis.spectrum(problem)
    lr_m, beta_m = analysis.optimal_momentum(problem)
    far = float(np.max(np.abs(problem.optimum - np.asarray(init_params, dtype=float)))) or 1.0
    adaptive = {name: round4(fraction * far) for name, fraction in ADAPTIVE_FRACTIONS.items()}
    # GD's, momentum's and Nesterov's come from the eigenvalues (LAPACK), whose last bits differ between CPUs and
    # BLAS kernels: to 13 significant figures they are the same everywhere, so the runs are too. Not to 4: the
    # optimal heavy ball sits within 1/kappa of its stability edge (rate x lambda_max = 2 (1 + beta) - rate x
    # lambda_min), and 4 significant figures can tip it over.
    out = {
        "gd": {"learning_rate": round13(analysis.thresholds(problem).optimal)},
        "momentum": {"learning_rate": round13(lr_m), "beta": min(round13(beta_m), BETA_MAX)},
        "nesterov": {
            "learning_rate": round13(1.0 / s.lambda_max),
            "beta": min(round13(analysis.convergence_rates(problem).momentum), BETA_MAX),
        },
        "adagrad": {"learning_rate": adaptive["adagrad"]},
        "rmsprop": {"learning_rate": adaptive["rmsprop"], "decay": 0.9},
        "adam": {"learning_rate": adaptive["adam"], "b1": 0.9, "b2": 0.999},
    }
    return {name: out.get(name, {}) for name in RUNS}


def theory_sentences(problem: Problem, settings: Mapping[str, Mapping[str, float]]) -> list[str]:
    """What the Hessian predicts for the race, in sentences: GD's and heavy ball's per-step error factors at their
    optimal settings, and, when momentum's rate is past GD's divergence threshold 2/lambda_max, why its first
    update overshoots (the buffer starts empty: update 1 is a plain GD step)."""
    s = analysis.spectrum(problem)
    rates = analysis.convergence_rates(problem)
    out = [
        f"On this data lambda_min = {s.lambda_min:.4g}, lambda_max = {s.lambda_max:.4g}, condition number kappa = "
        f"{s.condition_number:.4g}. At their best settings the error shrinks per step by (kappa - 1)/(kappa + 1) = "
        f"**{rates.gd:.4g}** for GD and by (sqrt(kappa) - 1)/(sqrt(kappa) + 1) = **{rates.momentum:.4g}** for "
        "heavy-ball momentum: the table's theory column turns these into steps."
    ]
    lr = settings.get("momentum", {}).get("learning_rate")
    if lr is not None and lr * s.lambda_max > 2.0:
        out.append(
            f"Momentum's rate is {lr * s.lambda_max:.3g}/lambda_max, past 2/lambda_max where plain GD diverges: its "
            "first update is a plain GD step (the buffer starts empty) and overshoots the valley; then the buffer, "
            f"beta = {settings['momentum']['beta']:.4g}, damps the swing."
        )
    return out


def make_optimizer(name: str, settings: Mapping[str, float]) -> optimizers.Optimizer:
    """The optimizer of fixed-rate run ``name`` with ``settings`` (validated: InputError names what is wrong)."""
    if name not in SETTINGS or name in FULL_BATCH_ONLY:
        raise InputError(f"'{name}' is not a fixed-rate run of the race; those are {', '.join(RUNS[:6])}.")
    return optimizers.make_optimizer(name, **settings)


def check_settings(name: str, settings: Mapping[str, float]) -> None:
    """Raise InputError (with the optimizer's own message) when ``settings`` are not usable for run ``name``."""
    if name in SETTINGS and name not in FULL_BATCH_ONLY:
        make_optimizer(name, settings)


class Entry(NamedTuple):
    """One run asked for: its name (in RUNS) and its settings as ``(key, value)`` pairs (hashable: a cache key)."""

    name: str
    settings: tuple[tuple[str, float], ...] = ()


class RaceRun(NamedTuple):
    """One finished run of the race.

    Attributes:
        name: its name in RUNS.
        settings: its settings, key -> value (empty for the reference methods).
        traj: every State of the run (a race stops by STEP_CAP, so nothing is thinned).
        seconds: wall time of the run (its engine or path, collecting included); in a full-batch race, whose runs
            take their updates side by side, its own updates plus its share of what is computed for all at once.
        batch_size: the rows per update it used (None: full batch).
    """

    name: str
    settings: dict[str, float]
    traj: Trajectory
    seconds: float
    batch_size: int | None


def race(
    problem: Problem,
    entries: Sequence[Entry],
    *,
    init_params: np.ndarray,
    tol: float = 1e-6,
    max_steps: int = STEP_CAP,
    batch_size: int | None = None,
    seed: int = 0,
) -> list[RaceRun]:
    """Run every entry on ``problem`` from ``init_params`` with the engine's stop rules, each timed.

    The fixed-rate runs use ``batch_size`` rows per update (``engine.run``: None is full batch, the rows drawn
    by an epoch-wise shuffle from ``seed``); the reference methods always use the full batch. With no mini-batches
    every run takes its updates side by side (``engine.lockstep``: the same numbers as run one by one, sooner), and
    a run's seconds are its own updates plus its share of what is computed for all at once.

    Raises:
        InputError: for an unknown run, bad settings, tol, max_steps, batch size or seed (before any run).
    """
    max_steps = min(int(max_steps), STEP_CAP)
    for e in entries:
        if e.name not in SETTINGS:
            raise InputError(f"There is no run '{e.name}' in the race; the runs are {', '.join(RUNS)}.")
        check_settings(e.name, dict(e.settings))
    if batch_size is None:  # every run full batch: all of them in lockstep
        check_int(seed, "seed", "run", low=0)  # unused, but checked as engine.run checks it
        runners = [
            analysis.reference_runner(problem, e.name, init_params, max_steps=max_steps) if e.name in FULL_BATCH_ONLY
            else engine.runner(problem, make_optimizer(e.name, dict(e.settings)), init_params=init_params,
                               max_steps=max_steps)
            for e in entries
        ]  # fmt: skip
        trajs, seconds = engine.lockstep(problem, runners, tol=tol, max_steps=max_steps)
        return [
            RaceRun(e.name, dict(e.settings), t, sec, None) for e, t, sec in zip(entries, trajs, seconds, strict=True)
        ]
    out = []
    for e in entries:
        t0 = time.perf_counter()
        if e.name in FULL_BATCH_ONLY:
            traj = _REFERENCE_PATHS[e.name](problem, init_params, tol=tol, max_steps=max_steps)
            used = None
        else:
            traj = engine.trajectory(problem, make_optimizer(e.name, dict(e.settings)), init_params=init_params,
                                     tol=tol, max_steps=max_steps, batch_size=batch_size, seed=seed)  # fmt: skip
            used = None if batch_size >= problem.n_samples else int(batch_size)
        out.append(RaceRun(e.name, dict(e.settings), traj, time.perf_counter() - t0, used))
    return out


# ---------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------


def settings_text(run: RaceRun) -> str:
    """E.g. "rate 0.1, beta 0.9"; the reference methods' in words."""
    if not run.settings:
        return {
            "newton": "full step H^-1 g",
            "line_search": "exact rate each step",
            "barzilai_borwein": "rate from the last step",
        }[run.name]
    words = {"learning_rate": "rate"}
    return ", ".join(f"{words.get(k, k)} {v:.4g}" for k, v in run.settings.items())


def predicted_steps(problem: Problem, run: RaceRun, *, tol: float, init_params: np.ndarray) -> float | None:
    """The theory's step count for a full-batch GD or heavy-ball run (closed forms of ``gdviz.analysis``),
    else None (no closed form here)."""
    if run.batch_size is not None or run.name not in ("gd", "momentum"):
        return None
    lr = run.settings["learning_rate"]
    if run.name == "gd":
        return analysis.predicted_steps(problem, lr, tol=tol, init_params=init_params)
    return analysis.predicted_momentum_steps(problem, lr, run.settings["beta"], tol=tol, init_params=init_params,
                                             max_steps=STEP_CAP)  # fmt: skip


class Row(NamedTuple):
    """One row of the race's table (numbers, formatted by the page)."""

    run: str
    settings: str
    batch: str
    status: str
    steps: int
    steps_to_tol: int | None
    predicted: float | None
    final_loss: float
    above_floor: float
    microseconds_per_step: float


def table_rows(problem: Problem, runs: Sequence[RaceRun], *, tol: float, init_params: np.ndarray) -> list[Row]:
    """Per run: status, steps (and steps to tol when it converged), the theory's steps where there is a closed form,
    final loss and its excess over the least-squares floor, and the measured cost of a step."""
    rows = []
    for r in runs:
        steps = int(r.traj.step[-1])
        final = float(r.traj.loss[-1])
        rows.append(
            Row(
                LABELS[r.name],
                settings_text(r),
                "full" if r.batch_size is None else f"{r.batch_size:,} rows",
                r.traj.status.value.replace("_", " "),
                steps,
                steps if r.traj.status is Status.CONVERGED else None,
                predicted_steps(problem, r, tol=tol, init_params=init_params),
                final,
                float(excess_loss(problem, r.traj.params[-1:])[0]),
                r.seconds / max(steps, 1) * 1e6,
            )
        )
    return rows


def excess_loss(problem: Problem, params: np.ndarray) -> np.ndarray:
    """``J(w) - J*`` for rows of ``params`` (k, n_params), as ``d.A.d + 2 d.r`` with ``d = w - w*``: no cancellation
    near the optimum (``Problem.loss`` adds J* to this), non-finite once a run overflowed."""
    with np.errstate(all="ignore"):
        d = np.asarray(params, dtype=float) - problem.optimum
        return engine.row_dot(d, engine.row_matmul(d, problem.gram) + 2.0 * problem.residual)


# ---------------------------------------------------------------------------------------------
# The player's payload: every run on one step axis, for the browser to step through
# ---------------------------------------------------------------------------------------------

HOLD_MODES: dict[str, str] = {
    "optimum": "the least-squares optimum (the paths lie on the surface)",
    "current": "each run's own current params (its true loss)",
}
PLAYER_ROWS = 1_500  # aligned rows the browser gets (every step up to ~1,000, then a doubling stride)
CHART_DIGITS = 7  # significant figures of what the charts draw (the read-out's losses are sent exactly)
ARROW_FRACTION = 0.2  # the longest arrow of a kind, as a fraction of the contour window's smaller side
GRID_SIZE = 60
LIMIT_2D = 1e60  # beyond this a diverging path leaves the contour window (its loss grid would overflow)


class Arrows(NamedTuple):
    """How the contour's arrows are scaled (one factor per kind for the whole race, stated in the legend).

    Attributes:
        grad: drawn arrow = grad * -factor (the negative gradient at the step shown).
        update: drawn arrow = (params[t + 1] - params[t]) * factor (the update taken from the step shown).
    """

    grad: float
    update: float


class Player(NamedTuple):
    """Everything the browser needs to show any step of the race without asking the server.

    Attributes:
        steps: int array of shape (n,), the aligned step axis (``playback.aligned_rows``).
        rows: per run, int array of shape (n,): the row of its Trajectory shown at each aligned step.
        columns: name -> (array of shape (n,), digits); per run ``{col}_{name}``: x, y (the two params drawn),
            z (the 3D height), s (its own step), loss, excess (loss above the floor, NaN where a log axis
            cannot draw it), gx, gy (tip of the negative-gradient arrow), ux, uy (tip of the update arrow).
        charts: key, figure spec (moving traces empty), is3d, height and bind (see ``gdviz.playground.player``).
        readout: the read-out's cells (label, column, help).
        arrows: the arrows' scale factors.
        pair: the two param indices drawn (i, j).
        labels: the texts of the runs' name labels; column ``label_{name}`` holds the index of a run's text at
            each aligned step (see ``name_labels``).
    """

    steps: np.ndarray
    rows: list[np.ndarray]
    columns: dict[str, tuple[np.ndarray, int | None]]
    charts: list[dict]
    readout: list[dict]
    arrows: Arrows
    pair: tuple[int, int]
    labels: tuple[str, ...] = ()


# Two current points closer than these fractions of the window's width and height share one name label: a name
# is some 80 px wide and 14 px high on a plot about 450 x 300 px.
LABEL_NEAR = (0.12, 0.06)


def name_labels(x: np.ndarray, y: np.ndarray, spans: tuple[float, float], names: Sequence[str]
                ) -> tuple[tuple[str, ...], np.ndarray]:  # fmt: skip
    """One name label per group of runs whose current points nearly coincide, so that names never pile up (at
    step 0 every run is at the start).

    Runs are taken in order: a run within ``LABEL_NEAR`` of the window's width and height (``spans``) of an earlier
    run that carries a label joins that run's group, else it carries its own. The group's label names
    it: "GD", "GD + Adam", "GD + Adam + Newton", "GD + 4 more", or "all 9 runs"; the other members show "".

    Args:
        x, y: arrays of shape (n_runs, n_rows), each run's current point at each aligned step.
        spans: the window's width and height (positive).
        names: each run's label, in the same order.

    Returns:
        The distinct texts, and an int array of shape (n_runs, n_rows) of indices into them.
    """
    n_runs = len(names)
    leader = np.empty(x.shape, dtype=np.int64)
    with np.errstate(invalid="ignore"):
        for r in range(n_runs):
            leader[r] = r
            for q in range(r):  # the first earlier leader close enough takes r in
                near = (leader[q] == q) & (np.abs(x[r] - x[q]) <= LABEL_NEAR[0] * spans[0])
                near &= np.abs(y[r] - y[q]) <= LABEL_NEAR[1] * spans[1]
                leader[r] = np.where(near & (leader[r] == r), q, leader[r])
    masks = np.zeros(x.shape, dtype=np.int64)  # per leader, its group as a bit mask of runs (0: not a leader)
    for r in range(n_runs):
        for q in range(r + 1):
            masks[q] += np.where(leader[r] == q, 1 << r, 0)
    table = [""]
    index = np.zeros(x.shape, dtype=np.int64)
    for mask in np.unique(masks[masks > 0]):
        group = [names[r] for r in range(n_runs) if mask >> r & 1]
        if len(group) == n_runs and n_runs > 1:
            text = f"all {n_runs} runs"
        elif len(group) <= 3:
            text = " + ".join(group)
        else:
            text = f"{group[0]} + {len(group) - 1} more"
        index[masks == mask] = len(table)
        table.append(text)
    return tuple(table), index


def _finite_norms(v: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        n = np.sqrt(np.sum(v * v, axis=-1))
    return n[np.isfinite(n) & (n > 0)]


def arrow_scales(runs: Sequence[RaceRun], i: int, j: int, span: float) -> Arrows:
    """One factor per arrow kind such that the longest arrow of that kind is ARROW_FRACTION of ``span``: for the
    gradient, the longest at step 0 (every run starts there, and gradients shrink on the way); for the update,
    the median over runs of each run's longest update (one run's huge step, Newton's jump to the optimum or a
    diverging run, does not shrink every other arrow to nothing)."""
    g0 = _finite_norms(np.array([r.traj.grads[0, [i, j]] for r in runs]))
    longest = [u.max() for r in runs if (u := _finite_norms(np.diff(r.traj.params[:, [i, j]], axis=0))).size]
    target = ARROW_FRACTION * span
    grad = target / float(g0.max()) if g0.size else 1.0
    update = target / float(np.median(longest)) if longest else 1.0
    return Arrows(float(f"{grad:.3g}"), float(f"{update:.3g}"))


def _drawable_rows(points: np.ndarray, limit: float) -> int:
    ok = np.isfinite(points).all(axis=1) & (np.abs(points) < limit).all(axis=1)
    bad = np.flatnonzero(~ok)
    return int(bad[0]) if bad.size else len(ok)


def window(problem: Problem, runs: Sequence[RaceRun], i: int, j: int) -> analysis.LossGrid:
    """The contour's loss grid over params i and j (the others at the optimum), holding the start, the optimum
    and every run's drawable path (``playback.window``: it grows with a diverging path, never clipping it)."""
    paths = [r.traj.params[: _drawable_rows(r.traj.params, LIMIT_2D), :][:, [i, j]] for r in runs]
    start = runs[0].traj.params[0, [i, j]] if runs else problem.optimum[[i, j]] + 1.0
    anchors = np.vstack([start, problem.optimum[[i, j]]])
    points = np.vstack(paths) if paths else anchors
    x_range, y_range = playback.window(points, anchors)
    return analysis.loss_grid(problem, i, j, x_range=x_range, y_range=y_range, n=GRID_SIZE)


def slice_heights(problem: Problem, params: np.ndarray, i: int, j: int) -> np.ndarray:
    """The loss with params i and j from each row of ``params`` and the others at the optimum: the height of the
    surface (a slice through the optimum) under each point."""
    full = np.tile(problem.optimum, (len(params), 1))
    full[:, i], full[:, j] = params[:, i], params[:, j]
    with np.errstate(all="ignore"):
        return np.asarray(problem.loss(full), dtype=float).reshape(-1)


def _positive(v: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(v) & (v > 0), v, np.nan)


def run_columns(problem: Problem, run: RaceRun, rows: np.ndarray, i: int, j: int, *, hold: str, arrows: Arrows,
                log_z: bool) -> dict[str, np.ndarray]:  # fmt: skip
    """One run's columns at its aligned ``rows`` (see ``Player.columns``), keyed without the run's suffix."""
    t = run.traj
    p = t.params[rows]
    nxt = t.params[np.minimum(rows + 1, t.n_states - 1)]
    with np.errstate(all="ignore"):
        update = nxt[:, [i, j]] - p[:, [i, j]]
        update[rows + 1 >= t.n_states] = np.nan  # the last State: no update taken from it
        neg = -t.grads[rows][:, [i, j]]
        z = t.loss[rows] if hold == "current" else slice_heights(problem, p, i, j)
        if log_z:
            z = np.log10(np.maximum(z, np.finfo(float).tiny))
        return {
            "x": p[:, i],
            "y": p[:, j],
            "z": z,
            "s": t.step[rows],
            "loss": t.loss[rows],
            "excess": _positive(excess_loss(problem, p)),
            "gx": p[:, i] + arrows.grad * neg[:, 0],
            "gy": p[:, j] + arrows.grad * neg[:, 1],
            "ux": p[:, i] + arrows.update * update[:, 0],
            "uy": p[:, j] + arrows.update * update[:, 1],
        }


def player(problem: Problem, runs: Sequence[RaceRun], pair: tuple[int, int], *, hold: str = "optimum",
           names: Sequence[str]) -> Player:  # fmt: skip
    """The race's player payload: every run on one step axis (``playback.aligned_rows``), its columns and charts.

    Every number comes from the runs or from ``problem``'s analysis; the browser picks rows: a path is bound
    with "upto" (rows 0..k of its columns), a current marker and an arrow with "at" (row k).

    Args:
        runs: the race (at least one run).
        pair: the two param indices drawn (different; (0, 1) for intercept and slope).
        hold: where the other params are held for the 3D heights (``HOLD_MODES``); the surface and contours
            are always the slice through the optimum, the only slice every run shares.
        names: every param's name (``problem.param_names``).
    """
    if not runs:
        raise InputError("The race needs at least one run: switch one on.")
    if hold not in HOLD_MODES:
        raise InputError(f"The 'hold' parameter must be one of {', '.join(HOLD_MODES)}. Got {hold!r} instead.")
    i, j = pair
    steps, rows = playback.aligned_rows([r.traj for r in runs], PLAYER_ROWS)
    grid = window(problem, runs, i, j)
    span = float(min(grid.x[-1] - grid.x[0], grid.y[-1] - grid.y[0]))
    arrows = arrow_scales(runs, i, j, span)
    log_z = plots.race.surface_in_log10(grid)  # as the surface chart draws it
    columns: dict[str, tuple[np.ndarray, int | None]] = {"step": (steps, None)}
    last3d = {}
    for r, k in zip(runs, rows, strict=True):
        cols = run_columns(problem, r, k, i, j, hold=hold, arrows=arrows, log_z=log_z)
        for key, values in cols.items():
            columns[f"{key}_{r.name}"] = (values, None if key in ("loss", "s") else CHART_DIGITS)
        pts = np.column_stack([cols["x"], cols["y"]])
        last3d[r.name] = plots._spec.webgl_rows(pts, cols["z"]) - 1
    pair_names = (names[i], names[j])
    labels = [(r.name, LABELS[r.name]) for r in runs]
    texts, label_index = name_labels(
        np.array([columns[f"x_{r.name}"][0] for r in runs]), np.array([columns[f"y_{r.name}"][0] for r in runs]),
        (float(grid.x[-1] - grid.x[0]), float(grid.y[-1] - grid.y[0])), [label for _, label in labels],
    )  # fmt: skip
    for r, index in zip(runs, label_index, strict=True):
        columns[f"label_{r.name}"] = (index, None)
    excess = np.concatenate([columns[f"excess_{r.name}"][0] for r in runs])
    opt, start = problem.optimum[[i, j]], runs[0].traj.params[0, [i, j]]
    draw = plots.race
    contour = draw.contour_chart(grid, labels, optimum=opt, start=start, names=pair_names, arrows=arrows)
    surface = draw.surface_chart(grid, labels, optimum=opt, start=start, optimum_loss=problem.optimum_loss,
                                 names=pair_names, hold=hold)  # fmt: skip
    loss = draw.loss_chart(labels, excess)
    charts = [
        {"key": "contour", "figure": contour, "bind": draw.bindings(contour)},
        {"key": "surface", "figure": surface, "bind": draw.bindings(surface, last=last3d)},
        {"key": "loss", "figure": loss, "bind": draw.bindings(loss, {"x": "s", "y": "excess"})},
    ]
    for chart in charts:
        chart["is3d"] = "scene" in chart["figure"]["layout"]
        chart["height"] = int(chart["figure"]["layout"]["height"])
    readout = [{"label": "Step", "col": "step", "help": "Updates applied so far (step 0 is the start)."}]
    readout += [
        {"label": f"{label} loss", "col": f"loss_{name}",
         "help": f"{label}'s loss at this step (its last step once it has stopped)."}
        for name, label in labels
    ]  # fmt: skip
    return Player(steps, rows, columns, charts, readout, arrows, (i, j), texts)


def figure_at(p: Player, key: str, step: int) -> dict:
    """Chart ``key`` ("contour", "surface" or "loss") as the player draws it at ``step`` (its aligned step,
    ``snap_step``): a copy of its figure with the moving traces filled from the columns, each binding read as
    ``gdviz/ui/player.js`` reads it. For the downloads: what the user sees, paths and labels included.

    Raises:
        InputError: for an unknown chart key.
    """
    chart = next((c for c in p.charts if c["key"] == key), None)
    if chart is None:
        raise InputError(f"The race has no chart '{key}'; its charts are {', '.join(c['key'] for c in p.charts)}.")
    row = int(np.searchsorted(p.steps, snap_step(p.steps, step)))
    fig = {"data": [dict(t) for t in chart["figure"]["data"]], "layout": copy.deepcopy(chart["figure"]["layout"])}

    def values(col: str, rows: slice | int) -> list:
        v = p.columns[col][0][rows]
        return [None if not np.isfinite(x) else x for x in np.atleast_1d(v).tolist()]

    for bind in chart["bind"]:
        last = bind.get("last", p.steps.size - 1)
        trace = fig["data"][bind["trace"]]
        if "upto" in bind:
            trace.update({a: values(c, slice(0, max(0, min(row, last) + 1))) for a, c in bind["upto"].items()})
            continue
        r = min(row, last)
        for attr, entries in bind["at"].items():
            out = []
            for e in entries:
                if isinstance(e, str):
                    out += values(e, r)
                elif isinstance(e, dict):
                    out.append(p.labels[int(p.columns[e["label"]][0][r])])
                else:
                    out.append(e)
            trace[attr] = out
    return fig


def player_json(p: Player, *, run: str) -> str:
    """``p`` as the JSON text the player component reads (``gdviz.ui.player``), named ``run``; no NaN or inf."""
    head = {
        "run": run,
        "n": int(p.steps.size),
        "final_status": "finished",
        "diverged_at": None,
        "readout": p.readout,
        "labels": list(p.labels),
    }
    return playground.player_payload(head, p.columns, p.charts)


def batch_note(batch_size: int | None, n_samples: int) -> str:
    """What the batch size changes, in a sentence."""
    if batch_size is None or batch_size >= n_samples:
        return f"Full batch: every update uses all {n_samples:,} rows."
    return (
        f"Mini-batches of {batch_size:,} of the {n_samples:,} rows: the six fixed-rate runs take each update from "
        "a shuffled batch (every row once per epoch), so their paths jitter and their loss stalls on a noise floor "
        "above the least-squares minimum (higher for a larger rate or a smaller batch). Newton, line search and "
        "Barzilai-Borwein need the full gradient (and the Hessian or the last full step): they stay full batch. "
        "The arrows show the full-data negative gradient; the update arrow shows the batch's step. The default rates "
        "are set from the full data's Hessian, and GD's, momentum's and Nesterov's sit near its stability edge "
        "(2/lambda_max for GD): a batch's own Hessian is often steeper, so at those rates a small batch can diverge. "
        "Lower their rates to see the noise floor instead."
    )


def check_batch_size(value: object, n_samples: int) -> int | None:
    """A batch size from a widget: None (full batch; so is ``n_samples``) or an int in [1, n_samples].

    Raises:
        InputError: in words a person can act on, for anything else.
    """
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    if not (np.isfinite(v) and v.is_integer() and 1 <= v <= n_samples):
        raise InputError(
            f"The batch size must be a whole number of rows from 1 to {n_samples:,} (the rows of this data). "
            f"Got {value!r}."
        )
    return None if int(v) == n_samples else int(v)


def param_labels(problem: Problem) -> tuple[str, ...]:
    """The params as the charts name them: "intercept", then "slope on x" (one feature) or "weight on x"."""
    word = "slope" if problem.n_features == 1 else "weight"
    return tuple(n if k == 0 and problem.fit_intercept else f"{word} on {n}" for k, n in enumerate(problem.param_names))


def snap_step(steps: np.ndarray, step: int) -> int:
    """The aligned step shown for ``step``: the last one at or before it (the first one for a step before it)."""
    k = int(np.searchsorted(steps, int(step), side="right")) - 1
    return int(steps[min(max(k, 0), len(steps) - 1)])


TABLE_HEADER = ("run", "settings", "batch_size", "shuffle_seed", "status", "steps", "steps_to_tol", "theory_steps",
                "final_loss", "loss_above_floor", "microseconds_per_step")  # fmt: skip


def table_csv(rows: Sequence[Row], *, batch: int | None, seed: int) -> str:
    """The race's table as CSV: one row per run, numbers written exactly (``repr``), empty where there is none."""

    def cell(v: object) -> str:
        if v is None:
            return ""
        if isinstance(v, float):
            return repr(v) if np.isfinite(v) else ("inf" if v > 0 else "nan" if np.isnan(v) else "-inf")
        text = str(v)
        return f'"{text.replace(chr(34), chr(34) * 2)}"' if any(c in text for c in ',"\n') else text

    lines = [",".join(TABLE_HEADER)]
    for r in rows:
        batch_cell = "" if r.batch == "full" else batch
        values = (r.run, r.settings, batch_cell, seed if batch_cell != "" else "", r.status, r.steps, r.steps_to_tol,
                  r.predicted, r.final_loss, r.above_floor, r.microseconds_per_step)  # fmt: skip
        lines.append(",".join(cell(v) for v in values))
    return "\n".join(lines) + "\n"


def fmt_steps(value: float | None) -> str:
    """A step count for the table: an em dash when there is none, "never" when infinite."""
    if value is None:
        return "—"
    return "never" if not np.isfinite(value) else f"{int(value):,}"
