"""Playground: step through gradient descent on a line fit and see why its learning rate is slow, good,
oscillating or divergent, on the cost surface and in the theory of this very data."""

import numpy as np
import streamlit as st

from gdviz import analysis, experiment, figures, playback
from gdviz.ui import cache, player, playground, share, state, widgets
from gdviz.ui.live_chart import live_charts

P = playground.PAGE
share.enter(P)  # first: a shared link sets the config and the step
st.title("Playground")
st.caption(
    "Gradient descent fits a line (intercept + slope) to the points. Step through it, drag the learning rate, "
    "and watch the path on the loss surface. Every number below is computed from this data."
)
widgets.bind(P, widgets.CONFIG_FIELDS)
widgets.sidebar(P)
player.current(P)
st.session_state.setdefault(f"{P}_speed", player.DEFAULT_SPEED)
playing = st.session_state.get(f"{P}_playing", False)
interval = player.SPEEDS[st.session_state.get(f"{P}_speed", player.DEFAULT_SPEED)][0]


@st.fragment(run_every=interval if playing else None)
def view() -> None:
    config, traj, cursor = player.controls(P, playing)
    share.save(P)  # in the fragment: every step goes into the URL
    problem = cache.problem_for(config)
    head = playback.head(traj, cursor)
    ds = cache.dataset_for(config)
    feature = min(config.feature, ds.n_features - 1)
    names = ("intercept", f"slope on {ds.feature_names[feature]}")
    playground.readout(P, names, head, optimum_loss=problem.optimum_loss)
    with st.container(key=f"{P}_regime"):  # keyed: playground.PHONE_CSS makes it compact on a phone
        playground.regime_banner(config, problem, head)

    start, opt = head.params[0], problem.solution()
    n3d = max(figures.webgl_rows(head.params, head.loss), 1)  # a diverged path outgrows WebGL's float32
    note = None if n3d == head.n_states else (
        f"3D path stops at step {head.step[n3d - 1]}:<br>later values pass 1e12, too large for WebGL.<br>"
        "The 2D charts show every step."
    )  # fmt: skip

    def grid_around(points):  # the loss over a window that holds ``points``, the start and the optimum
        x_range, y_range = playback.window(points, np.vstack([start, opt]))
        return analysis.loss_grid(problem, 0, 1, x_range=x_range, y_range=y_range, n=60)

    contour_grid = grid_around(head.params)
    grid = contour_grid if n3d == head.n_states else grid_around(head.params[:n3d])
    idx = figures.downsample_indices(head.n_states)
    path, idx3 = head.params[idx], figures.downsample_indices(n3d)
    pred = experiment.predicted_loss_curve(config, problem, head.step)
    x, raw_path = ds.X[:, feature], problem.raw_params(head.params[-13:])
    charts = {  # in rows of two; a phone's single column keeps this order
        f"{P}_surface": figures.surface_3d(grid, head.params[idx3], head.loss[idx3], optimum=opt, note=note,
                                      optimum_loss=problem.optimum_loss, names=names),
        f"{P}_contour": figures.contour_path(contour_grid, path, optimum=opt, names=names),
        f"{P}_line": figures.fitted_lines(x, ds.y, raw_path, optimum_raw=problem.raw_params(opt),
                                     x_name=ds.feature_names[feature], y_name=ds.target_name),
        f"{P}_loss": figures.loss_curve(head, predicted=pred, floor=problem.optimum_loss, current_step=cursor),
        f"{P}_grads": figures.grad_history(head, names, current_step=cursor),
        f"{P}_bars": figures.grad_bars(head.grads[-1], names),
    }  # fmt: skip
    live_charts(charts, revision=cursor, key=f"{P}_charts")
    playground.download_menu(P, config, head, names, charts)


view()
config = state.get_config()
with st.expander("Why this regime: the theory on this data", expanded=True):  # outside the fragment: no redraw per step
    playground.theory(config, cache.problem_for(config))
