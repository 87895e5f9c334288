"""The math: where the gradient (2/n) X1^T (X1 w - y) of the mean squared error comes from, why the step
must be small, and why 2/lambda_max is the bound, each line next to its numbers on the current data and run."""

import streamlit as st

from gdviz import derivation
from gdviz.ui import controls, get_config, math_panels, problem_for, share, trajectory_for

P = "math"
share.enter(P)
st.title("The math")
st.caption(
    "The gradient of the mean squared error, derived one line at a time. Beside each formula: the same "
    "quantity on the data and run of the sidebar (shared with the Playground), at the step you pick."
)
controls.bind(P, controls.CONFIG_FIELDS)
controls.sidebar(P)
config = get_config()
problem, traj = problem_for(config), trajectory_for(config)
names = problem.param_names
step = math_panels.step_selector(P, traj)
grad = derivation.gradient_numbers(problem, traj, step)
nxt = derivation.step_numbers(problem, grad.params, math_panels.rate_at(config, step))

math_panels.context(config, problem, traj, grad)
math_panels.loss_section(problem, grad)
math_panels.gradient_section(names, grad)
math_panels.transpose_section(names, grad)
math_panels.mean_section(problem, nxt)
math_panels.taylor_section(config, traj, grad, nxt)
math_panels.recursion_section(config, problem, traj, names, grad, nxt)
share.save(P)
