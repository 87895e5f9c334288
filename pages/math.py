"""The math: where the gradient (2/n) X1^T (X1 w - y) of the mean squared error comes from, why the step
must be small, and why 2/lambda_max is the bound, each line next to its numbers on the current data and run."""

import streamlit as st

from gdviz import derivation
from gdviz.ui import cache, math, share, state, widgets

P = math.PAGE
share.enter(P)
st.title("The math")
st.caption(
    "The gradient of the mean squared error, derived one line at a time. Beside each formula: the same "
    "quantity on the data and run of the sidebar (shared with the Playground), at the step of the player: "
    "step through the run (keys: arrows, space, Home, End) and every number below follows."
)
widgets.bind(P, widgets.CONFIG_FIELDS)
widgets.sidebar(P)
config = state.get_config()
problem, traj = cache.problem_for(config), cache.trajectory_for(config)
names = problem.param_names
# The browser steps through the whole run; the step it syncs after a pause reruns only this fragment.
math.stepping(config, problem, traj)
step = math.current_step()  # the sections below are written at it; the player rewrites their numbers
grad = derivation.gradient_numbers(problem, traj, step)
nxt = derivation.step_numbers(problem, grad.params, math.rate_at(config, step))

math.loss_section(problem, grad)
math.gradient_section(names, grad)
math.transpose_section(names, grad)
math.mean_section(problem, nxt)
math.taylor_section(config, traj, grad, nxt)
math.recursion_section(config, problem, traj, names, grad, nxt)
math.download_menu(P, config, traj, names)  # the whole run: it does not change with the step
