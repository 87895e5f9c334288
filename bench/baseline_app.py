"""Baseline for bench/playground_browser.py: the Playground's 3D figure drawn with st.plotly_chart.

Streamlit re-mounts st.plotly_chart whenever the figure changes (its element id hashes the figure), so
every Step rebuilds the WebGL scene; this is what gdviz.ui.live_chart avoids. Not part of the app.
"""

import numpy as np
import streamlit as st

from gdviz import analysis, playback, plots, runs
from gdviz.config import RunConfig

config = RunConfig()
problem = runs.one_feature_problem(config)
if "traj" not in st.session_state:
    st.session_state.traj = playback.begin(config, problem)
    st.session_state.step = 0
if st.button("Step"):
    st.session_state.step += 1
    st.session_state.traj = playback.advance(config, problem, st.session_state.traj, st.session_state.step)
head = playback.head(st.session_state.traj, st.session_state.step)
st.metric("Step", f"{head.last_state.step:,}")
start, opt = head.params[0], problem.solution()
(x0, x1), (y0, y1) = playback.window(head.params, np.vstack([start, opt]))
grid = analysis.loss_grid(problem, 0, 1, x_range=(x0, x1), y_range=(y0, y1), n=60)
fig = plots.playground.surface_3d(grid, head.params, head.loss, optimum=opt, optimum_loss=problem.optimum_loss,
                         names=("intercept", "slope"))  # fmt: skip
st.plotly_chart(fig, key="surface")
