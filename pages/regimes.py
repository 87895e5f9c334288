"""Regimes: one dataset, plain gradient descent at a slow, a good, an oscillating and a divergent rate side
by side (plus a decaying rate that rescues a divergent one), each rate read against 1/lambda_max and
2/lambda_max of this data's Hessian."""

import streamlit as st

from gdviz import analysis, regimes
from gdviz.ui import dataset_for, get_config, problem_for, share
from gdviz.ui import regimes as ui

P = "rg"
share.enter(P)
st.title("Learning-rate regimes, side by side")
st.caption(
    "The same data, the same start, four constant rates picked from this data's Hessian: one per regime. "
    "Plain gradient descent shrinks the error along each eigen-direction by 1 - rate x lambda per step, so "
    "1/lambda_max (overshooting starts) and 2/lambda_max (growing starts) decide what a rate does."
)
ui.sidebar(P)
config = get_config()
problem = problem_for(config)
ds = dataset_for(config)
names = ("intercept", f"slope on {ds.feature_names[min(config.feature, ds.n_features - 1)]}")
t = analysis.thresholds(problem)
st.markdown(
    f"On this data: lambda_max = **{analysis.spectrum(problem).lambda_max:.4g}**, so 1/lambda_max = "
    f"**{t.monotone_max:.4g}** and 2/lambda_max = **{t.stable_max:.4g}**. Every run starts at "
    f"({config.init_intercept:g}, {config.init_slope:g}) and stops at tol = {config.tol:g} or after "
    f"{regimes.base_config(config).max_steps:,} steps."
)

lanes = regimes.lanes(config, problem, ui.custom_rates(P), ui.pinned_rates(P))
trajs = ui.runs(lanes)
step = ui.scrubber(P, max(int(traj.step[-1]) for traj in trajs))
ui.overview(P, lanes, trajs, problem, step)
ui.panel_grid(P, lanes, trajs, problem, step, names, regimes.preset_rates(problem))
st.subheader("Summary: theory against the runs")
ui.summary_table(problem, lanes, trajs)
st.caption(
    "Predicted regime and steps come from the closed form w_t = w* + (I - rate H)^t (w_0 - w*); observed ones "
    "from the run itself. The decaying run has no single rate, so no single prediction."
)
share.save(P)
