"""``live_charts``: Plotly figures that update in place across reruns (see live_chart.js for why).

The figure travels as Plotly JSON (NumPy arrays as base64 ``bdata``); the browser loads Plotly once per
page from ``static/`` (served with ``server.enableStaticServing``) and calls ``Plotly.react`` on one
persistent div per key. A rotated 3D camera is kept per key in the browser.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import streamlit as st

from gdviz.plots import encode

_BUNDLE = Path(__file__).resolve().parents[2] / "static" / "plotly-gdviz.min.js"
# The bundle's URL names its content (?v=...): a browser, and the hosted demo's proxy (deploy/haproxy.cfg),
# may then keep it for good, and a rebuilt bundle is a new URL. Streamlit serves the file whatever the query.
PLOTLY_JS = "app/static/plotly-gdviz.min.js?v=" + hashlib.sha256(_BUNDLE.read_bytes()).hexdigest()[:16]
COMPONENT = "gdviz_live_chart"


def component_js(name: str) -> str:
    """The script of the component in ``name`` (a .js file beside this one) with the shared Plotly loader
    (plotly_loader.js: ``loaded``, ``cameras``, ``loadPlotly``) in front of it. The loader is told where
    Plotly is (``PLOTLY_SRC``) and starts fetching it as soon as the script is evaluated."""
    here = Path(__file__).parent
    src = f"const PLOTLY_SRC = {json.dumps(PLOTLY_JS)};\n"
    return src + (here / "plotly_loader.js").read_text() + (here / name).read_text()


_render = st.components.v2.component(COMPONENT, js=component_js("live_chart.js"), isolate_styles=False)


def live_charts(figs: dict[str, dict], *, revision: object = None, key: str | None = None) -> None:
    """Draw several figures as one element: a grid of at most two columns (one on a narrow screen), in the
    order given. Later calls update each chart in place; a rerun delivers the group at once and the browser
    draws its 2D charts first, then the 3D ones.

    Args:
        figs: chart key -> figure spec from ``gdviz.plots``. The chart keys are page-prefixed and stable
            across reruns (the identity of each chart, e.g. for its 3D camera); a layout height sets the
            chart's height.
        revision: any label of what is drawn (e.g. the step); the browser writes it to each chart div's
            ``data-revision`` once drawn and painted, which is how tests and benchmarks know a step landed.
        key: the element's key (default: the chart keys joined).
    """
    charts = []
    for chart_key, fig in figs.items():
        layout = fig.get("layout", {})
        charts.append(
            {
                "key": chart_key,
                "figure": encode.to_json(fig),
                "is3d": "scene" in layout,
                "height": int(layout.get("height") or 450),
            }
        )
    _render(
        key=key or "+".join(figs),
        data={"charts": charts, "src": PLOTLY_JS, "revision": str(revision)},
        height="content",
    )


def preload_plotly() -> None:
    """Start loading Plotly in the browser at once (call it first thing on every page): the charts further
    down then find it parsed, instead of each page waiting for its first chart to ask for it. It also
    carries the figure template that every live chart on the page uses."""
    _render(
        key="gdviz_plotly_preload",
        data={"preload": True, "src": PLOTLY_JS, "template": encode.template_json()},
        height="content",
    )


def figures_of(element) -> dict[str, dict]:
    """chart key -> Plotly figure JSON inside a live chart element of an AppTest run (for tests)."""
    if element.proto.WhichOneof("data") != "json":  # e.g. the player's element, whose data is bytes
        return {}
    payload = json.loads(element.proto.json)
    return {chart["key"]: json.loads(chart["figure"]) for chart in payload.get("charts", [])}
