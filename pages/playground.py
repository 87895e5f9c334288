"""Playground: step through gradient descent on a line fit and see why its learning rate is slow, good,
oscillating or divergent, on the cost surface and in the theory of this very data."""

import streamlit as st

from gdviz import playback
from gdviz.playground import figures, param_names
from gdviz.ui import cache, player, playground, share, state, widgets
from gdviz.ui.live_chart import live_charts

P = playground.PAGE
share.enter(P)  # first: a shared link sets the config and the step
st.title("Playground")
st.caption(
    "Gradient descent fits a line (intercept + slope) to the points. Step through it, drag the learning rate, "
    "and watch the path on the loss surface. Every number below is computed from this data."
)
widgets.bind(P, widgets.CONFIG_FIELDS)
widgets.sidebar(P)
player.current(P)
st.session_state.setdefault(f"{P}_speed", player.DEFAULT_SPEED)
playing = st.session_state.get(f"{P}_playing", False)
interval = player.SPEEDS[st.session_state.get(f"{P}_speed", player.DEFAULT_SPEED)][0]


@st.fragment(run_every=interval if playing else None)
def view() -> None:
    config, traj, cursor = player.controls(P, playing)
    share.save(P)  # in the fragment: every step goes into the URL
    problem = cache.problem_for(config)
    head = playback.head(traj, cursor)
    ds = cache.dataset_for(config)
    names = param_names(config, ds)
    playground.readout(P, names, head, optimum_loss=problem.optimum_loss)
    with st.container(key=f"{P}_regime"):  # keyed: playground.PHONE_CSS makes it compact on a phone
        playground.regime_banner(config, problem, head)
    charts = {f"{P}_{name}": spec for name, spec in figures(config, problem, ds, head, cursor).items()}
    live_charts(charts, revision=cursor, key=f"{P}_charts")
    playground.download_menu(P, config, head, names, charts)


view()
config = state.get_config()
with st.expander("Why this regime: the theory on this data", expanded=True):  # outside the fragment: no redraw per step
    playground.theory(config, cache.problem_for(config))
