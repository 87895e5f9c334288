"""gdviz: an interactive learning-rate lab. Entry point: ``streamlit run app.py``."""

import streamlit as st

from gdviz.ui.live_chart import preload_plotly

st.set_page_config(page_title="gdviz: learning-rate lab", page_icon="📉", layout="wide")
page = st.navigation(
    [
        st.Page("pages/playground.py", title="Playground", icon=":material/play_circle:", default=True),
        st.Page("pages/math.py", title="The math", icon=":material/function:"),
    ]
)
preload_plotly()  # first element of every page: starts loading the Plotly its charts are drawn with
page.run()
