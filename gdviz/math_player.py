"""The math page's player payload: every number of the page's per-step sections at every stored step
(``gdviz.derivation.step_columns``), the read-out and the loss over the steps, for the browser to step through
with no round trip (``gdviz.ui.player``). The sections' numbers are page cells (``player_json``).

A module of its own: ``gdviz.derivation`` stays NumPy only, while the payload is built with the plots' specs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gdviz import playback, playground, plots
from gdviz.derivation import step_columns
from gdviz.engine import Problem, Trajectory

LOSS_HEIGHT = 320  # the player's one chart: the loss over the steps, a strip above the sections
# The most stored steps the math page's browser holds: some 28 numbers a row, all digits, about 1.2 MB of JSON
# (and about 0.1 s of sums over California housing's 20,640 rows per setting: bench/derivation.py).
PLAYER_ROWS = 2_048


def player(
    problem: Problem, trajectory: Trajectory, schedule: Callable[[int], float], *, plain_gd: bool
) -> playground.Player:
    """The math page's player payload: ``step_columns`` of every row the browser holds, the read-out's cells
    and the loss over the steps (the sections' numbers are page cells: ``player_json``).

    Args:
        schedule: the run's schedule, count -> the rate of the update that follows that step.
        plain_gd: the run is plain GD (see ``step_columns``).
    """
    rows = playback.player_rows(trajectory, PLAYER_ROWS)
    rates = np.array([float(schedule(int(s))) for s in rows.step])
    numbers = step_columns(problem, rows, rates, plain_gd=plain_gd)
    columns: dict[str, tuple[np.ndarray, int | None]] = {name: (v, None) for name, v in numbers.items()}
    columns["loss_pos"] = (playground._positive(rows.loss), playground.CHART_DIGITS)
    columns["step_end"] = (playground.step_axis_end(rows.step), None)  # the step axis' end at each row
    floor = problem.optimum_loss
    loss = plots.playground.loss_curve(rows, floor=floor, current_step=int(rows.step[-1]), height=LOSS_HEIGHT)
    playground._fixed_log_axis(loss["layout"], rows.loss, [floor])
    names = problem.param_names
    readout = [
        {"label": "Step", "col": "step", "help": "Updates applied so far (step 0 is the start point)."},
        {"label": "Loss J(w)", "col": "le", "help": "The loss the engine recorded at this step."},
        *({"label": f"dJ/d {name}", "col": f"ge{k}", "help": f"The engine's gradient w.r.t. the {name}."}
          for k, name in enumerate(names)),
        {"label": "Rate eta", "col": "eta", "help": "The rate of the update that follows this step."},
        {"label": "Status", "col": "", "help": "running, converged, diverged or max steps."},
    ]  # fmt: skip
    return playground.Player(
        rows=rows,
        columns=columns,
        charts=[{"key": "loss", **playground._loss_chart(loss, False), "is3d": False, "height": LOSS_HEIGHT}],
        readout=readout,
        final_status=playground.final_status(rows, floor),
        diverged_at=plots._spec.divergence_step(rows),
    )


def player_json(p: playground.Player, *, run: str) -> str:
    """``p`` as the player's JSON (``gdviz.playground.player_json``), with its page cells on: the page's
    elements marked ``data-gdviz-cell="math:<column>"`` show that column at the step shown."""
    return '{"page_cells":true,' + playground.player_json(p, run=run)[1:]
