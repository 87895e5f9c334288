"""Learning-rate sweep: run plain gradient descent at up to 1,000 constant rates at once and see where the
theory's thresholds split them into slow, good, oscillating and divergent runs."""

import streamlit as st

from gdviz import analysis, plots, sweep
from gdviz.ui import export as downloads
from gdviz.ui import problem_for, share
from gdviz.ui import sweep as ui

P = ui.P
share.enter(P)
st.title("Learning-rate sweep")
st.caption(
    "Every point is one run of plain gradient descent at a constant rate, on the Playground's data and start "
    "point. The shaded zones are the regimes the Hessian predicts; the lines are its threshold rates. "
    "Click a point, or pick a rate below, to step through that run in the Playground."
)
ui.data_sidebar()
settings, clicked = ui.settings_form()
swept = ui.current(settings, clicked)
if swept is not None:
    problem = problem_for(swept.config)
    edges, thresholds = sweep.regime_edges(problem), analysis.thresholds(problem)
    meta = {"run": swept.run_id}
    ui.summary(swept)
    charts = {
        f"{P}_steps_chart": plots.sweep.steps_chart(swept.table, edges, thresholds, meta=meta),
        f"{P}_loss_chart": plots.sweep.loss_chart(
            swept.table, edges, thresholds, floor=problem.optimum_loss, meta=meta
        ),
    }
    events = [
        st.plotly_chart(plots.encode.styled(spec), key=key, on_select="rerun", selection_mode="points", theme=None)
        for key, spec in charts.items()
    ]
    downloads.sweep(P, swept, charts)
    share.save(P)
    rate = ui.picked_rate(swept, *events) or ui.rate_picker(swept)
    if rate is not None:
        ui.open_in_playground(rate)
