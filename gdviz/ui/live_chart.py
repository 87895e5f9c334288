"""``live_chart``: a Plotly figure that updates in place across reruns (see live_chart.js for why).

The figure travels as Plotly JSON (NumPy arrays as base64 ``bdata``); the browser loads Plotly once per
page from ``static/`` (served with ``server.enableStaticServing``) and calls ``Plotly.react`` on one
persistent div per key. A rotated 3D camera is kept per key in the browser.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import streamlit as st

from gdviz import figures

PLOTLY_JS = "app/static/plotly-gdviz.min.js"
COMPONENT = "gdviz_live_chart"

_render = st.components.v2.component(
    COMPONENT, js=(Path(__file__).with_name("live_chart.js")).read_text(), isolate_styles=False
)


def live_chart(fig: dict, *, key: str, revision: object = None, batch: tuple[str, int] | None = None) -> None:
    """Draw ``fig`` under ``key``; later calls with the same key update the same chart in place.

    Args:
        fig: a figure spec from ``gdviz.figures``; its layout height sets the chart's height.
        key: a page-prefixed key, stable across reruns (the identity of the chart).
        revision: any label of what is drawn (e.g. the step); the browser writes it to the chart div's
            ``data-revision`` once drawn, which is how tests and benchmarks know a step has landed.
        batch: (id, size) shared by the charts of one rerun: the browser waits (briefly) until all ``size``
            charts of batch ``id`` have arrived, then draws them together, 2D first (see new_batch).
    """
    text, layout = figures.to_json(fig), fig.get("layout", {})
    height = int(layout.get("height") or 450)
    _render(
        key=key,
        data={
            "figure": text,
            "is3d": "scene" in layout,
            "key": key,
            "src": PLOTLY_JS,
            "revision": str(revision),
            "height": height,
            "batch": batch[0] if batch else "",
            "batchSize": batch[1] if batch else 0,
        },
        height=height,
    )


def new_batch(size: int) -> tuple[str, int]:
    """A batch id for the ``size`` live charts that one run of a page (or fragment) is about to draw."""
    return uuid.uuid4().hex[:12], size


def preload_plotly() -> None:
    """Start loading Plotly in the browser at once (call it first thing on every page): the charts further
    down then find it parsed, instead of each page waiting for its first chart to ask for it. It also
    carries the figure template that every live chart on the page uses."""
    _render(
        key="gdviz_plotly_preload",
        data={"preload": True, "src": PLOTLY_JS, "template": figures.template_json()},
        height="content",
    )


def figure_of(element) -> dict:
    """The Plotly figure JSON inside a live chart element of an AppTest run (for tests)."""
    payload = json.loads(element.proto.json)
    return json.loads(payload["figure"])
