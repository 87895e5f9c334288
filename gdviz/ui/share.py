"""Every page's view in its URL: read a link into the shared config and the page's own state, write the
view back, and a "Copy link" box. It knows no page: each page's ui module registers its own link keys.

A page calls ``enter(page)`` first and ``save(page)`` once its state is built (the Playground inside its
stepping fragment, so a step is in the URL at once); ``page`` is its name, the prefix of its session keys.
The shared RunConfig travels as ``gdviz.query.to_query`` keys; each page adds a few of its own, registered
with ``register(page, keys=..., read=..., write=...)`` (a ``LinkKeys`` record) next to its widgets. A link
is read on a page's first run with it, or whenever the URL's query differs from what this session last
wrote there (browser Back); every parameter that cannot be used is dropped with a notice, shown once.

Session keys (plain data): ``share_written`` page -> the query last written on that page;
``share_app_seen`` and ``share_nav_rerun`` (see ``ensure_app``).
"""

from __future__ import annotations

import re
import runpy
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlencode

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from gdviz import query
from gdviz.config import LINK_KEYS
from gdviz.errors import InputError
from gdviz.ui import cache, state
from gdviz.ui.live_chart import PLOTLY_JS, component_js

APP = Path(__file__).resolve().parents[2] / "app.py"
WRITTEN_KEY = "share_written"
RECENT_KEY = "share_recent"  # page -> [(time.monotonic(), query)] this session wrote lately, newest last
WIDGET_KEY = "share_widget_changed"  # set by a settings widget's callback (note_widget_change), read by enter
ECHO_S = 3.0  # how long a query this session wrote may come back from a browser whose address lags behind
NAV_KEY = "share_nav_rerun"  # set while ensure_app runs app.py
SEEN_KEY = "share_app_seen"  # this session has run a page inside app.py's navigation
_render = st.components.v2.component("gdviz_share_link", js=component_js("share.js"), isolate_styles=False)
EMBED_KEYS = ("embed", "embed_options")  # Streamlit's own: kept as they are, never read as settings


# ---------------------------------------------------------------------------------------------
# Deep links on a fresh server
# ---------------------------------------------------------------------------------------------


def ensure_app() -> None:
    """Make sure the app's navigation runs this page; otherwise switch to it and rerun.

    Until some session has run app.py, Streamlit treats ``pages/`` as an old-style page folder: the first
    visitor of ``/sweep`` gets pages/sweep.py run alone (no app navigation, narrow layout, no Plotly
    preload). Then app.py runs here: its ``st.navigation`` switches Streamlit to the app's pages for good,
    and when it runs this page in turn, that nested run asks for a rerun, which is a normal visit. A rerun
    rather than ``st.stop``: a stopped run skips Streamlit's end-of-run bookkeeping (button triggers, stale
    widgets).
    """
    if st.session_state.pop(NAV_KEY, False):
        st.rerun()  # inside app.py's navigation now: start again as a normal run
    # Only a session that has not been through app.py yet: AppTest marks every run as a pages-folder run
    # (it resets the flag per run), and must keep running the page alone as it always has.
    if getattr(PagesManager, "uses_pages_directory", False) and not st.session_state.get(SEEN_KEY):
        st.session_state[NAV_KEY] = True
        runpy.run_path(str(APP), run_name="__main__")
        st.session_state.pop(NAV_KEY, None)
        st.rerun()
    st.session_state[SEEN_KEY] = True


# ---------------------------------------------------------------------------------------------
# Page state <-> query keys
# ---------------------------------------------------------------------------------------------


class LinkKeys(NamedTuple):
    """What one page adds to its links, registered by the page's own ui module (``register``).

    Attributes:
        keys: the page's own query keys, besides the shared RunConfig's.
        read: ``read(values, notices)`` puts a link's values (key -> its one value) into the page's session
            state, appending a sentence to ``notices`` for each one it cannot use.
        write: ``write()`` -> the page's own keys of its current view (only the ones off their defaults).
        bound: the RunConfig fields the page's widgets show (``{page}_{field}`` keys): a loaded link, on any
            page, drops them so that they show the link's values.
        paused: while ``paused()`` is true the URL is not written (the Playground while it plays: one history
            entry per Play tick would bury the user's own steps under Back).
    """

    keys: tuple[str, ...] = ()
    read: Callable[[dict[str, str], list[str]], None] = lambda values, notices: None
    write: Callable[[], dict[str, str]] = dict
    bound: tuple[str, ...] = ()
    paused: Callable[[], bool] = lambda: False


PAGES: dict[str, LinkKeys] = {}  # page -> its link keys; a page that registers none shares the config only


def register(page: str, **link_keys) -> LinkKeys:
    """Register ``page``'s own link keys (the fields of ``LinkKeys``); its ui module calls this on import."""
    PAGES[page] = LinkKeys(**link_keys)
    return PAGES[page]


def _page_keys(page: str) -> LinkKeys:
    return PAGES.get(page, LinkKeys())


# ---------------------------------------------------------------------------------------------
# Reading and writing the URL
# ---------------------------------------------------------------------------------------------


def _query() -> dict[str, list[str]]:
    """The URL's query, every value of a repeated key kept, Streamlit's embed keys left out."""
    return {k: st.query_params.get_all(k) for k in st.query_params if k not in EMBED_KEYS}


def view_query(page: str) -> dict[str, str]:
    """The query that describes this page's current view: the shared config, then the page's own keys."""
    return {**query.to_query(state.get_config()), **_page_keys(page).write()}


def escape(text: str) -> str:
    """``text`` with Markdown's special characters escaped (a link's values are shown as typed, never styled)."""
    return re.sub(r"([\\`*_{}\[\]()<>#+\-.!|~$])", r"\\\1", text)


def load(page: str, params: dict[str, list[str]]) -> list[str]:
    """Read ``params`` (a link) into the shared config and this page's state; returns the notices."""
    config, notices = query.from_query(params)
    try:
        cache.problem_for(config)  # loads the data: a dataset that cannot be fetched here is reported
    except InputError as err:
        notices.append(f"{err} Showing the synthetic line instead.")
        config = config.replace(dataset="synthetic_line", feature=0)
    n_features = cache.dataset_for(config).n_features
    if config.feature >= n_features:
        notices.append(f"Ignored the feature (feature) in the link: this dataset has features 0 to {n_features - 1}.")
        config = config.replace(feature=0)
    rows = cache.problem_for(config).n_samples
    if config.batch_size > rows:
        notices.append(
            f"Ignored the batch size (batch) in the link: {config.batch_size:,} is more than the {rows:,} rows of "
            "this data. Using full batch (0)."
        )
        config = config.replace(batch_size=0)
    state.set_config(config)
    for other, link_keys in PAGES.items():  # the widgets show the link's values, not the ones they had
        for field in (*link_keys.bound, "error"):
            st.session_state.pop(f"{other}_{field}", None)
    own, read = _page_keys(page).keys, _page_keys(page).read
    unknown = [k for k in params if k not in LINK_KEYS.values() and k not in own]
    if unknown:
        shown = ", ".join(repr(k[:20]) for k in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        notices.append(f"Ignored {shown} in the link: this page has no such setting.")
    single = {}
    for key in own:
        if key in params:
            values = params[key]
            if len(values) != 1 or len(values[0]) > 200:
                notices.append(f"Ignored {key} in the link: it must be given once, as a short value.")
            else:
                single[key] = values[0]
    read(single, notices)
    return notices


def enter(page: str) -> None:
    """First thing on a page: make sure the app's navigation runs, read a new link, show its notices once,
    and put the "Copy link" box at the top of the sidebar."""
    ensure_app()
    params = _query()
    written = st.session_state.get(WRITTEN_KEY, {})
    by_widget = st.session_state.pop(WIDGET_KEY, False)
    # The app's own query, carried to another page, is no link: only a query this session did not write is.
    # Nor is a query this session wrote moments ago, or any query of a rerun a settings widget caused: the
    # browser sends its address with each rerun, and while fast changes rerun the page that address can still
    # be one the session wrote before the last change (read as a link, it would undo that change). The
    # browser's Back button is a rerun with no widget change and an older query: that one is a link.
    own = by_widget or params == written.get(page) or params in written.values() or _echo(page, params)
    if params and not own:
        notices = load(page, params)
        written[page] = params
        st.session_state[WRITTEN_KEY] = written
        for notice in notices:
            st.warning(escape(notice), icon=":material/link_off:")
    link_box(page)


def save(page: str) -> None:
    """Once the page's state is built: write its view into the URL when it changed (no rerun follows)."""
    if _page_keys(page).paused():
        return
    values = view_query(page)
    wanted = {k: [v] for k, v in values.items()}
    written = st.session_state.setdefault(WRITTEN_KEY, {})
    # The query this rerun's request carried can be older than the browser's address: a URL an earlier rerun
    # wrote may still be on its way to the browser (fast slider moves). So a view this session has not written
    # last is written even when the request's query already equals it.
    if _query() != wanted or written.get(page) != wanted:
        embed = {k: st.query_params.get_all(k) for k in EMBED_KEYS if k in st.query_params}
        st.query_params.from_dict({**embed, **values})
        recent = st.session_state.setdefault(RECENT_KEY, {}).setdefault(page, [])
        recent.append((time.monotonic(), wanted))
        del recent[:-16]
    written[page] = wanted


def note_widget_change() -> None:
    """Called by a settings widget's callback: this rerun comes from a widget, so its query is no link."""
    st.session_state[WIDGET_KEY] = True


def _echo(page: str, params: dict[str, list[str]]) -> bool:
    """Whether ``params`` is a query this session wrote for ``page`` within the last ECHO_S seconds."""
    now = time.monotonic()
    return any(q == params and now - t < ECHO_S for t, q in st.session_state.get(RECENT_KEY, {}).get(page, []))


def page_url(page: str) -> str:
    """The full URL of this view as the server knows it (the browser's own address is used when it can)."""
    base = st.context.url or ""
    query = urlencode(view_query(page))
    return f"{base}?{query}" if query else base


def link_box(page: str) -> None:
    """The "Copy link" box in the sidebar: the address of this exact view, and a button that copies it."""
    with st.sidebar:
        st.caption("Link to this exact view (settings, step, page):")
        # Not "{page}_...": Streamlit keeps an unpicklable presenter under a component's key, and the page
        # tests check that every "{page}_" key pickles.
        # It also starts the Plotly download: the first gdviz element on every page (plotly_loader.js).
        _render(key=f"share_link_{page}", data={"url": page_url(page), "plotly": PLOTLY_JS}, height="content")
        if state.get_config().dataset == "upload":
            st.caption("Uploaded data is not in the link: whoever opens it sees the default data.")
