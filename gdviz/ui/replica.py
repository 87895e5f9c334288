"""Behind the proxy (deploy/): rerun a page whose process stopped, and tell its session that it moved.

HAProxy keeps each browser on one app process with its SERVERID cookie. When that process stops, Streamlit's
client shows "Connecting" and opens a new websocket, which HAProxy sends to another process; that process
makes a new, empty session and Streamlit's client asks it for nothing, so the page would keep showing the old
view, and a click inside a fragment (the Playground's Step) would name a fragment the new session does not
know. replica.js, a component that takes no room, watches for the reconnect and sends one trigger carrying
the name of the process it was on (deploy/stack.py starts process i with GDVIZ_SERVER_NAME=s<i>, its cookie
value). That rerun rebuilds the view from the URL, and when the name is another process's, a notice says
the session moved. Outside the stack (no name) it is one harmless rerun after a network blip.
"""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

NAME_ENV = "GDVIZ_SERVER_NAME"
PENDING_KEY = "replica_moved_from"  # the process this session's page came from, until the notice is shown
NOTICE = (
    "Reconnected to another app process: this view was rebuilt from its link. An uploaded file must be uploaded again."
)
_watch = st.components.v2.component(
    "gdviz_reconnect", js=Path(__file__).with_name("replica.js").read_text(), isolate_styles=False
)


def moved(previous: object, own: str | None) -> bool:
    """Whether a page that was served by ``previous`` (the trigger's value: a process name, or None when
    there was no reconnect) now runs on ``own`` (this process's name): both known and different."""
    return isinstance(previous, str) and bool(previous) and bool(own) and previous != own


def notice_if_moved() -> None:
    """Mount the reconnect watcher (on every run: it lives in the page); a toast after a move, until a run
    that shows it completes (``notice_shown``)."""
    own = os.environ.get(NAME_ENV) or ""
    result = _watch(key="gdviz_reconnect", data={"server": own}, on_reconnected_change=_ignore)
    previous = getattr(result, "reconnected", None)
    if moved(previous, own):
        st.session_state[PENDING_KEY] = previous
    if st.session_state.get(PENDING_KEY):
        st.toast(NOTICE, icon=":material/sync:", duration="long")


def notice_shown() -> None:
    """Last thing in app.py, reached only by a run that was not cut short: its toast reached the browser.
    (The first run on a fresh process reruns at once, see gdviz.ui.share.ensure_app, and a toast from a run
    cut short never shows: the notice then waits for the next run.)"""
    st.session_state.pop(PENDING_KEY, None)


def _ignore() -> None:
    """The trigger's job is the rerun it causes; its value is read from the component's result."""
