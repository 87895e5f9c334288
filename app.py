"""gdviz: an interactive learning-rate lab. Entry point: ``streamlit run app.py``."""

import streamlit as st

from gdviz.ui.live_chart import preload_plotly

st.set_page_config(page_title="gdviz: learning-rate lab", page_icon="📉", layout="wide")
page = st.navigation(
    [
        st.Page("pages/playground.py", title="Playground", icon=":material/play_circle:", default=True),
    ]
)
with st.sidebar:
    preload_plotly()  # every page draws its charts with the Plotly this starts loading
page.run()
