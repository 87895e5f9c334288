"""Learning-rate sweep: run plain gradient descent at up to 1,000 constant rates at once and see where the
theory's thresholds split them into slow, good, oscillating and divergent runs."""

import streamlit as st

from gdviz import plots
from gdviz.ui import share, sweep

P = sweep.PAGE
share.enter(P)
st.title("Learning-rate sweep")
st.caption(
    "Every point is one run of plain gradient descent at a constant rate, on the Playground's data and start "
    "point. The shaded zones are the regimes the Hessian predicts; the lines are its threshold rates. "
    "Click a point, or pick a rate below, to step through that run in the Playground."
)
st.caption("The sweep always runs full batch (every row in every update), whatever the Playground's batch size.")
sweep.data_sidebar()
settings, clicked = sweep.settings_form()
swept = sweep.current(settings, clicked)
if swept is not None:
    sweep.summary(swept)
    charts = sweep.charts(swept)
    events = [
        st.plotly_chart(
            plots.encode.styled(spec),
            key=key,
            on_select="rerun",
            selection_mode="points",
            theme=None,
            config=plots.encode.NO_TOOLBAR,
        )  # fmt: skip
        for key, spec in charts.items()
    ]
    sweep.download_menu(swept, charts)
    share.save(P)
    rate = sweep.picked_rate(swept, *events) or sweep.rate_picker(swept)
    if rate is not None:
        sweep.open_in_playground(swept, rate)
