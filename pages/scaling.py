"""Feature scaling: why one learning rate blows up on raw multi-feature data and works once the features are
scaled, seen in the features' spreads, the per-feature gradients, the Hessian's spectrum and the cost surface."""

import streamlit as st

from gdviz import plots, thinning
from gdviz.explain import plural
from gdviz.scaling import HOLD_MODES, default_pair, feature_spread, slice_view
from gdviz.ui import cache, scaling, share
from gdviz.ui.live_chart import live_charts

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

st.header("2. The gradient of each weight")
st.caption(
    "A weight's gradient is the mean of (residual x its feature), so a feature in the thousands gets a gradient "
    "in the thousands: the same learning rate moves its weight far more than the others."
)
step = scaling.step_slider(P, config, traj)
row = thinning.row_of(traj, step)  # a long run is stored thinned: rows are not steps
grad_charts = {
    f"{P}_grad_start": plots.playground.grad_bars(traj.grads[0], names, step=0, **plots.scaling.GRAD_BARS),
    f"{P}_grad_step": plots.playground.grad_bars(traj.grads[row], names, step=step, **plots.scaling.GRAD_BARS),
    f"{P}_grad_history": plots.scaling.grad_history(traj, names, current_step=step),
    f"{P}_loss": plots.scaling.loss_curve(traj, floor=problem.optimum_loss, current_step=step),
}
run_id = f"{config.dataset}/{config.scaling}/{config.learning_rate:g}/{step}"
live_charts(grad_charts, revision=run_id, key=f"{P}_grad_charts")

st.header("3. Raw vs scaled: the same rate under each scaling")
rows = cache.scaling_comparison(config)
scaling.comparison_table(rows, config.learning_rate)
thresholds = plots.encode.styled(plots.scaling.thresholds(rows, config.learning_rate))
st.plotly_chart(thresholds, key=f"{P}_thresholds_chart", **static)

st.header("4. The cost surface over any two params")
i, j, hold = scaling.pair_controls(P, config, names, default_pair(raw))
surface, contour = plots.scaling.slice_charts(slice_view(problem, traj.params[: row + 1], i, j, hold=hold), names)
st.caption(
    f"The loss as {names[i]} and {names[j]} vary, every other param held at {HOLD_MODES[hold]} "
    f"(step {step:,} of the run). Both axes have the same units: raw features give a long narrow valley, "
    "standardised ones a round bowl."
)
charts = {f"{P}_contour": contour, f"{P}_surface": surface}
live_charts(charts, revision=f"{run_id}/{i}/{j}/{hold}", key=f"{P}_slice_charts")

st.header("5. The puzzle: 1e-6 blows up, 1e-7 barely moves")
st.markdown(
    "On raw California housing, plain gradient descent at 1e-6 overflows to non-finite numbers, and at 1e-7 it "
    "hardly leaves the start. Load either one with the **Try** buttons at the top of the sidebar; here is why, "
    "from the Hessian's eigenvalues:"
)
scaling.puzzle_panel(P, config)
figs = {f"{P}_scales": plots.scaling.feature_scales(spread), **grad_charts, **charts}
figs[f"{P}_thresholds"] = plots.scaling.thresholds(rows, config.learning_rate)
scaling.download_menu(P, config, traj, names, figs)
share.save(P)
