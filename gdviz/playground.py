"""The Playground's view of a run at the step shown: which params are drawn, the windows of the loss surface
and contours (grown with the path, never clipping it), the downsampled path, where a diverging path leaves
what WebGL can draw, and the six chart specs. Pure: no Streamlit; the page lays the result out.
"""

from __future__ import annotations

import numpy as np

from gdviz import analysis, playback, plots, runs
from gdviz.config import RunConfig
from gdviz.data import Dataset
from gdviz.engine import Problem, Trajectory

GRID_SIZE = 60  # loss grids of GRID_SIZE x GRID_SIZE points
N_FADED = 12  # earlier fitted lines drawn faded behind the current one


def feature(config: RunConfig, dataset: Dataset) -> int:
    """The column of ``dataset`` the line is fitted on (0-based): the config's, or the last one the data has."""
    return min(config.feature, dataset.n_features - 1)


def param_names(config: RunConfig, dataset: Dataset) -> tuple[str, str]:
    """The two params' names as the charts and read-outs show them: the intercept and the feature's slope."""
    return ("intercept", f"slope on {dataset.feature_names[feature(config, dataset)]}")


def webgl_note(head: Trajectory) -> tuple[int, str | None]:
    """How many leading states of ``head`` the 3D chart draws (at least 1), and the note that says why the
    3D path stops early (None when it draws them all): past 1e12 WebGL's float32 breaks the scene."""
    n3d = max(plots._spec.webgl_rows(head.params, head.loss), 1)
    if n3d == head.n_states:
        return n3d, None
    return n3d, (
        f"3D path stops at step {head.step[n3d - 1]}:<br>later values pass 1e12, too large for WebGL.<br>"
        "The 2D charts show every step."
    )


def loss_window(problem: Problem, points: np.ndarray, anchors: np.ndarray) -> analysis.LossGrid:
    """The loss over a window (``playback.window``) that holds every finite row of ``points`` (k, 2) and of
    ``anchors`` (the start and the optimum)."""
    x_range, y_range = playback.window(points, anchors)
    return analysis.loss_grid(problem, 0, 1, x_range=x_range, y_range=y_range, n=GRID_SIZE)


def figures(config: RunConfig, problem: Problem, dataset: Dataset, head: Trajectory, cursor: int) -> dict[str, dict]:
    """The Playground's six chart specs of the run up to the step shown.

    Args:
        config: the run's settings (the feature drawn; the closed-form loss for constant-rate GD).
        problem: the one-feature Problem of ``config`` on ``dataset``.
        dataset: the raw data, drawn under the fitted line.
        head: the run up to the step shown (``playback.head``); its last row is the current point.
        cursor: the step shown (0-based), marked on the loss and gradient charts.

    Returns:
        Short chart name -> figure spec, in the order drawn (rows of two; a phone's single column):
        surface, contour, line, loss, grads, bars. The contour window holds the whole path;
        the surface's holds the part WebGL can draw (``webgl_note``), whose note it shows.
    """
    names = param_names(config, dataset)
    opt = problem.solution()
    anchors = np.vstack([head.params[0], opt])
    n3d, note = webgl_note(head)
    contour_grid = loss_window(problem, head.params, anchors)
    grid = contour_grid if n3d == head.n_states else loss_window(problem, head.params[:n3d], anchors)
    idx, idx3 = plots._spec.downsample_indices(head.n_states), plots._spec.downsample_indices(n3d)
    k = feature(config, dataset)
    draw = plots.playground
    return {
        "surface": draw.surface_3d(grid, head.params[idx3], head.loss[idx3], optimum=opt, note=note,
                                   optimum_loss=problem.optimum_loss, names=names),
        "contour": draw.contour_path(contour_grid, head.params[idx], optimum=opt, names=names),
        "line": draw.fitted_lines(dataset.X[:, k], dataset.y, problem.raw_params(head.params[-(N_FADED + 1):]),
                                  optimum_raw=problem.raw_params(opt), x_name=dataset.feature_names[k],
                                  y_name=dataset.target_name),
        "loss": draw.loss_curve(head, predicted=runs.predicted_loss_curve(config, problem, head.step),
                                floor=problem.optimum_loss, current_step=cursor),
        "grads": draw.grad_history(head, names, current_step=cursor),
        "bars": draw.grad_bars(head.grads[-1], names),
    }  # fmt: skip
