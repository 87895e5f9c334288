"""Optimizer race: GD, momentum, Nesterov, AdaGrad, RMSProp and Adam against Newton, exact line search and
Barzilai-Borwein, on the same data from the same start; the arrows show why momentum and Adam do not follow
the gradient, and a batch size shows what mini-batches change."""

import streamlit as st

from gdviz.ui import race, share, state

P = race.PAGE
share.enter(P)  # first: a shared link sets the config, the runs and the step
st.title("Optimizer race")
st.caption(
    "Nine optimizers on your data, from the same start, at once. Every default comes from this data's Hessian; "
    "step through them together (keys: arrows, space, Home, End) and compare the paths, the arrows and the table."
)
race.sidebar(P)
config = state.get_config()
race.features_control(P, config)
problem = race.problem(P, config)
entries = race.run_controls(P, config, problem)
batch, seed = race.batch_controls(P, problem.n_samples)
if not entries:
    st.warning("Every run is switched off: switch one on under 'The runs' above to race it.")
    share.save(P)
    st.stop()
pair, hold = race.pair_controls(P, config, problem)
res = race.result(P, config, problem, entries, batch, seed, pair, hold)
step = race.show(res)
race.arrows_caption(res, batch, problem.n_samples)
st.subheader("Who got there, how fast, at what cost")
race.table(res)
race.download_menu(P, res, problem, batch, seed, step)
share.save(P)
