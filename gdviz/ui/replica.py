"""Behind the proxy (deploy/): tell a session that it moved to another app process, and why nothing is lost.

HAProxy keeps each browser on one process with its SERVERID cookie and passes the cookie's value (the
process the browser was on) to the app as the ``X-Gdviz-Sticky`` header; deploy/stack.py starts each
process with GDVIZ_SERVER_NAME, its own cookie value. When a process stops, the browsers it held reconnect
through the proxy to another one, which starts each of them a new session from the page's URL. That
session's websocket request still carries the old cookie, so the header names another process than this
one: the session moved, and a notice says so once. Outside the stack (no header, no name) nothing is shown.
"""

from __future__ import annotations

import os

import streamlit as st

HEADER = "X-Gdviz-Sticky"
NAME_ENV = "GDVIZ_SERVER_NAME"
SHOWN_KEY = "_replica_notice_shown"
NOTICE = (
    "Reconnected to another app process: the one this page was using stopped. The view was rebuilt from "
    "the page's link, so your settings and step are as they were; an uploaded file must be uploaded again."
)


def moved(sticky: str | None, own: str | None) -> bool:
    """Whether a session whose browser was stuck to ``sticky`` (the header) runs on ``own`` (this process's
    name) after a move: both known and different. A first visit has no cookie yet (empty header)."""
    return bool(sticky) and bool(own) and sticky != own


def notice_if_moved() -> None:
    """Once per session: a toast if this session's browser came here from another process."""
    if st.session_state.get(SHOWN_KEY):
        return
    st.session_state[SHOWN_KEY] = True
    if moved(st.context.headers.get(HEADER), os.environ.get(NAME_ENV)):
        st.toast(NOTICE, icon=":material/sync:", duration="long")
