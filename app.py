"""gdviz: an interactive learning-rate lab. Entry point: ``streamlit run app.py``."""

import streamlit as st

st.set_page_config(page_title="gdviz: learning-rate lab", page_icon=":material/trending_down:", layout="wide")
st.navigation(
    [
        st.Page("pages/playground.py", title="Playground", icon=":material/play_circle:", default=True),
    ]
).run()
