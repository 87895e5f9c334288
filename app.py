"""gdviz: an interactive learning-rate lab. Entry point: ``streamlit run app.py``."""

import streamlit as st

from gdviz.ui.live_chart import preload_plotly
from gdviz.ui.replica import notice_if_moved, notice_shown

st.set_page_config(page_title="gdviz: learning-rate lab", page_icon="📉", layout="wide")
page = st.navigation(
    [
        st.Page("pages/playground.py", title="Playground", icon=":material/play_circle:", default=True),
        st.Page("pages/regimes.py", title="Regimes", icon=":material/compare:"),
        st.Page("pages/race.py", title="Optimizer race", icon=":material/sprint:"),
        st.Page("pages/sweep.py", title="Learning-rate sweep", icon=":material/ssid_chart:"),
        st.Page("pages/scaling.py", title="Feature scaling", icon=":material/straighten:"),
        st.Page("pages/math.py", title="The math", icon=":material/function:"),
        st.Page("pages/your_data.py", title="Your data", icon=":material/upload_file:"),
    ]
)
preload_plotly()  # first element of every page: starts loading the Plotly its charts are drawn with
notice_if_moved()  # behind the proxy (deploy/): this session came from a process that stopped
page.run()
notice_shown()
