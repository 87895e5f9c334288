"""Regimes: one dataset, plain gradient descent at a slow, a good, an oscillating and a divergent rate side
by side (plus a decaying rate that rescues a divergent one), each rate read against 1/lambda_max and
2/lambda_max of this data's Hessian."""

import streamlit as st

from gdviz.ui import cache, regimes, share, state, widgets

P = regimes.PAGE
share.enter(P)
st.title("Learning-rate regimes, side by side")
st.caption(
    "The same data, the same start, four constant rates picked from this data's Hessian: one per regime. "
    "Plain gradient descent shrinks the error along each eigen-direction by 1 - rate x lambda per step, so "
    "1/lambda_max (overshooting starts) and 2/lambda_max (growing starts) decide what a rate does."
)
regimes.sidebar(P)
config = state.get_config()
problem = cache.problem_for(config)
names = widgets.line_names(config)
regimes.header(config, problem)

lanes = regimes.lanes(P, config, problem)
runs = regimes.runs(config, lanes, names)
step = regimes.show(P, runs)  # the browser scrubs every panel at once; the server hears the step after a pause
share.save(P)
st.subheader("Each run's rate: try your own")
regimes.panel_grid(P, lanes, runs.trajs, problem)
st.subheader("Summary: theory against the runs")
regimes.summary_table(problem, lanes, runs.trajs)
st.caption(
    "Predicted regime and steps come from the closed form w_t = w* + (I - rate H)^t (w_0 - w*); observed ones "
    "from the run itself. The decaying run has no single rate, so no single prediction."
)
regimes.download_menu(P, config, lanes, runs.trajs, names, step)
