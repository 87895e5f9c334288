"""Playground: step through gradient descent on a line fit and see why its learning rate is slow, good,
oscillating or divergent, on the cost surface and in the theory of this very data."""

import streamlit as st

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
# The browser steps through the whole run; the step it syncs after a pause reruns only this fragment.
playground.stepping(config, problem, ds, run)
with st.expander("Why this regime: the theory on this data", expanded=True):
    playground.theory(config, problem, run.traj)
