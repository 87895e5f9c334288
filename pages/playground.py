"""Playground: step through gradient descent on a line fit and see why its learning rate is slow, good,
oscillating or divergent, on the cost surface and in the theory of this very data."""

import streamlit as st

from gdviz.playground import figures, param_names
from gdviz.ui import cache, playground, share, state, widgets

P = playground.PAGE
share.enter(P)  # first: a shared link sets the config and the step
st.title("Playground")
st.caption(
    "Gradient descent fits a line (intercept + slope) to the points: step through it (keys: arrows, space, "
    "Home, End), change the learning rate, and watch the path on the loss surface. Every number is computed."
)
widgets.bind(P, widgets.CONFIG_FIELDS)
widgets.sidebar(P)
config = state.get_config()
problem, ds = cache.problem_for(config), cache.dataset_for(config)
run = playground.run_for(config)
head, step = playground.show(run)  # the browser steps through the whole run; the server hears the step later
share.save(P)
names = param_names(config, ds)
with st.container(key=f"{P}_regime"):
    playground.regime_banner(config, problem, run.traj)
charts = {f"{P}_{name}": spec for name, spec in figures(config, problem, ds, head, step, run=run.traj).items()}
playground.download_menu(P, config, head, names, charts)
with st.expander("Why this regime: the theory on this data", expanded=True):
    playground.theory(config, problem, run.traj)
