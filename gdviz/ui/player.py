"""The player: one components-v2 element (player.js) that steps through a whole computed run in the browser.

Python computes the run once per setting and hands the element its payload (e.g.
``gdviz.playground.player_json``); Step, Back, Play, the scrubber, Go to step, Reset and the keys then work
in the browser with no round trip. About a second after the user stops moving, the browser sends the step
it shows (its state value ``step``), which lands in ``{prefix}_cursor``: what share links and downloads read.

Session keys (plain data only): ``{prefix}_cursor`` the step last synced (or set by the server);
``{prefix}_seek``, a counter the server bumps when it moves the step itself (a link): the browser then jumps
there, otherwise it keeps its own step across reruns of the same run; ``{prefix}_run`` the name of the run
shown (a new one opens at step 0) and ``{prefix}_sought`` (a link's step waits for its run).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import streamlit as st

from gdviz.ui.live_chart import PLOTLY_JS, component_js

# Play speeds offered, in stored steps per second (past the dense part of a long run one stored step is
# several updates: see gdviz.thinning).
SPEEDS = (1, 5, 10, 30, 60)
DEFAULT_SPEED = 10

_render = st.components.v2.component("gdviz_player", js=component_js("player.js"), isolate_styles=False)


def _k(prefix: str, name: str) -> str:
    return f"{prefix}_{name}"


def cursor_key(prefix: str) -> str:
    """The session key of the step the server knows (the browser's, synced after a pause)."""
    return _k(prefix, "cursor")


def element_key(prefix: str) -> str:
    """The player element's key. Not "{prefix}_...": Streamlit keeps an unpicklable presenter under a
    component's key, and the page tests check that every "{prefix}_" key pickles."""
    return f"player_{prefix}"


def cursor(prefix: str) -> int:
    """The step the server knows for ``prefix`` (0 before any)."""
    return int(st.session_state.get(cursor_key(prefix), 0) or 0)


def go_to(prefix: str, step: int) -> None:
    """Move the player to ``step`` from the server's side (a link): the browser jumps there on its next draw."""
    st.session_state[cursor_key(prefix)] = int(step)
    st.session_state[_k(prefix, "seek")] = int(st.session_state.get(_k(prefix, "seek"), 0)) + 1
    st.session_state[_k(prefix, "sought")] = True


def open_at(prefix: str, run: str, *, opening: int = 0) -> int:
    """The step to open ``run`` at: the one the server knows, or ``opening`` when the run is new (a changed
    setting) unless the server has just been sent somewhere (``go_to``: a link names its settings and its
    step)."""
    sought = st.session_state.pop(_k(prefix, "sought"), False)
    if st.session_state.get(_k(prefix, "run")) != run:
        st.session_state[_k(prefix, "run")] = run
        if not sought:
            st.session_state[cursor_key(prefix)] = int(opening)
    return cursor(prefix)


def note_past_end(asked: int, shown: int, how: str, max_steps: int) -> None:
    """When the server was sent past the run's end (a link's step inside max steps, but after the run
    stopped), say so above the player: ``how`` is how the run ended ("converged", "diverged", ...). A step past
    max steps has had its notice already (``gdviz.query.read_step``)."""
    if shown < asked < max_steps:
        st.info(f"The link's step, {asked:,}, is past the end of this run, which stopped at step {shown:,} "
                f"({how}): showing that last step.", icon=":material/last_page:")  # fmt: skip


def state_value(prefix: str, name: str):
    """The player element's state or trigger value ``name`` as the browser last sent it (None if none)."""
    value = st.session_state.get(element_key(prefix))
    if value is None:
        return None
    try:
        return value[name]
    except (KeyError, TypeError):
        return getattr(value, name, None)


def _on_step(prefix: str) -> None:
    step = state_value(prefix, "step")
    if step is not None:
        st.session_state[cursor_key(prefix)] = max(int(step), 0)


def pack(head: dict, payload: str) -> bytes:
    """The element's data as bytes: ``head`` (run, step, seek, ...) as one line of JSON, a newline, then the
    payload's JSON text as it is.

    Bytes, not a dict: Streamlit sends bytes as they are and hashes them once, where a dict holding the payload
    (up to 2 MB of JSON text) was escaped into JSON twice and hashed on every rerun, a step sync's included;
    the browser reads the payload only when the run changes (player.js ``unpack``)."""
    return json.dumps(head, separators=(",", ":"), allow_nan=False).encode() + b"\n" + payload.encode()


def unpack(data: bytes) -> dict:
    """The element's data (``pack``) as player.js reads it: the head's fields and ``payload``, the JSON text."""
    head, _, payload = bytes(data).partition(b"\n")
    return {**json.loads(head), "payload": payload.decode()}


def player(prefix: str, payload: str, *, run: str, step: int, on_click: Callable[[], None] | None = None) -> None:
    """The player element of one run.

    Args:
        prefix: the page's prefix (its chart keys become ``{prefix}_{chart}``).
        payload: the run's JSON (``gdviz.playground.player_json``), the same text for the same run.
        run: the run's name; while it stays the same, the browser keeps the step it shows across reruns.
        step: the step to open at (a stored step of the payload): on a new run, or after ``go_to``.
        on_click: called (before the rerun) when the user clicks a chart that the payload marks with
            ``"click": "start"``; it reads the point with ``state_value(prefix, "start")``.
    """
    callbacks = {"on_start_change": on_click} if on_click is not None else {}
    head = {
        "run": run,
        "step": int(step),
        "seek": int(st.session_state.get(_k(prefix, "seek"), 0)),
        "prefix": prefix,
        "src": PLOTLY_JS,
        "speeds": list(SPEEDS),
        "default_speed": DEFAULT_SPEED,
    }
    _render(
        key=element_key(prefix),
        data=pack(head, payload),
        on_step_change=lambda: _on_step(prefix),
        height="content",
        **callbacks,
    )
