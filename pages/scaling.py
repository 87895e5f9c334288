"""Feature scaling: why one learning rate blows up on raw multi-feature data and works once the features are
scaled, seen in the features' spreads, the per-feature gradients, the Hessian's spectrum and the cost surface."""

import streamlit as st

from gdviz import plots
from gdviz.explain import plural
from gdviz.scaling import default_pair, feature_spread
from gdviz.ui import cache, scaling, share

P = scaling.PAGE
share.enter(P)
st.title("Feature scaling")
st.caption(
    "Plain gradient descent on every feature of a dataset at once. A feature measured in thousands makes the "
    "loss steep along its weight, and that one direction decides which learning rates diverge."
)
config = scaling.sidebar(P)
ds, problem = cache.dataset_named(config.dataset), cache.all_features_problem(config.dataset, config.scaling)
raw, traj = cache.all_features_problem(config.dataset, "none"), cache.all_features_run(config)
names = problem.param_names
st.markdown(
    f"**{scaling.dataset_title(config, ds)}**, {plural(ds.n_samples, 'row')}, {plural(ds.n_features, 'feature')}, "
    f"scaling: {config.scaling}. Plain GD at rate **{config.learning_rate:g}** from zeros:"
)
scaling.run_summary(P, config, problem, traj)

st.header("1. How far apart the features' scales are")
spread = feature_spread(ds.X, ds.feature_names)
static = {"config": plots.encode.NO_TOOLBAR}  # no toolbar over the titles on a phone: the Download menu saves
st.plotly_chart(plots.encode.styled(plots.scaling.feature_scales(spread)), key=f"{P}_scales_chart", **static)

st.header("2. Step through the run: each weight's gradient, and the path on the cost")
st.caption(
    "A weight's gradient is the mean of (residual x its feature), so a feature in the thousands gets a gradient "
    "in the thousands: the same learning rate moves its weight far more than the others. Below the gradients, "
    "the loss as two params vary: both axes have the same units, so raw features give a long narrow valley and "
    "standardised ones a round bowl."
)
pair = scaling.pair_controls(P, config, names, default_pair(raw))
rows = cache.scaling_comparison(config)
# The browser steps through the whole run; the step it syncs after a pause reruns only this fragment.
scaling.stepping(config, problem, traj, pair, spread, rows)

st.header("3. Raw vs scaled: the same rate under each scaling")
scaling.comparison_table(rows, config.learning_rate)
thresholds = plots.encode.styled(plots.scaling.thresholds(rows, config.learning_rate))
st.plotly_chart(thresholds, key=f"{P}_thresholds_chart", **static)

st.header("4. The puzzle: 1e-6 blows up, 1e-7 barely moves")
st.markdown(
    "On raw California housing, plain gradient descent at 1e-6 overflows to non-finite numbers, and at 1e-7 it "
    "hardly leaves the start. Load either one with the **Try** buttons at the top of the sidebar; here is why, "
    "from the Hessian's eigenvalues:"
)
scaling.puzzle_panel(P, config)
