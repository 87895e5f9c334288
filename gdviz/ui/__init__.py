"""The Streamlit shell: the only modules that import streamlit (plus the .js of the components).

Shared by every page, and knowing none of them:
    state       the session's RunConfig and uploaded table (one session key each)
    cache       every st.cache_* of the app and the per-session memo of an upload's problems and runs
    widgets     the sidebar widgets bound to the shared RunConfig, and the slider kept in step with a run
    share       every page's view in its URL: pages register their own link keys
    downloads   the "Download" popover: pages register their own files
    messages    error messages in the widgets' words
    live_chart  charts updated in place in the browser

One module per page topic, holding that page's widgets, session keys and link and download hooks:
    playground (with player), regimes, sweep, scaling, math, your_data
"""
