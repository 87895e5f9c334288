"""Your data: upload a CSV, see what was read and dropped, pick the target and features, then study gradient
descent on it in every other page."""

import streamlit as st

from gdviz.ui import share, your_data

P = your_data.PAGE
share.enter(P)  # first: a shared link sets the config (an uploaded file itself never travels in a link)
st.title("Your data")
st.caption(
    "Bring your own table: gradient descent will fit a linear regression to it on every page. The file stays in "
    "this browser session only."
)
up = your_data.uploader()
if up is None:
    st.info("No data uploaded yet: upload a CSV above, or press **Load the example** to start from the example file.")
else:
    your_data.preview(up)
    your_data.column_pickers(up)
    your_data.destinations(up)
share.save(P)
