"""Playground: watch gradient descent fit a line and see its regime, predicted and observed."""

import streamlit as st

from gdviz import analysis, experiment, figures, ui

st.title("Playground")
st.caption("Gradient descent fits a line to noisy points. Change the learning rate and watch the regime change.")

config = ui.get_config()
problem = ui.problem_for(config)
limits = analysis.thresholds(problem)
with st.sidebar:
    lr = st.number_input(
        "Learning rate",
        min_value=experiment.RATE_MIN,
        max_value=experiment.RATE_MAX,
        value=config.learning_rate,
        format="%.6g",
        key="pg_lr",
        help=f"Step size of gradient descent. On this data plain GD oscillates above 1/lambda_max = "
        f"{limits.monotone_max:.4g} and diverges from 2/lambda_max = {limits.stable_max:.4g}.",
    )
config = ui.set_config(config.replace(learning_rate=lr))

trajectory = ui.trajectory_for(config)
predicted, observed = ui.regimes_for(config, trajectory)
c1, c2, c3, c4 = st.columns(4)
c1.metric("Predicted regime", figures.REGIME_LABELS[predicted] if predicted else "n/a", help="From the Hessian.")
c2.metric("Observed regime", figures.REGIME_LABELS[observed], help="Read off the run's iterates.")
c3.metric("Steps", f"{trajectory.step[-1]:,}", help=f"The run stopped: {trajectory.status.value.replace('_', ' ')}.")
c4.metric("Final loss", f"{trajectory.loss[-1]:.6g}")
st.plotly_chart(
    figures.loss_curve(
        trajectory,
        predicted=experiment.predicted_loss_curve(config, problem, trajectory.step),
        floor=problem.optimum_loss,
    ),
    key="pg_loss",
)
