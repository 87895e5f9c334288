"""Real-browser fixtures: the app served by ``streamlit run`` and Debian's Chromium driven by Playwright.

Browser tests skip cleanly when /usr/bin/chromium is missing, unless GDVIZ_REQUIRE_BROWSER=1 (set by
.ci/run), in which case a missing browser fails the run instead of hiding it.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from gdviz import data

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("GDVIZ_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parent / "screenshots"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.e2e)
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("GDVIZ_REQUIRE_BROWSER") == "1":
        raise pytest.UsageError(f"GDVIZ_REQUIRE_BROWSER=1 but {CHROMIUM} is missing: apt-get install -y chromium")
    skip = pytest.mark.skip(reason=f"{CHROMIUM} not found (apt-get install -y chromium)")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_app(env: dict[str, str] | None = None):
    """Start ``streamlit run app.py`` on a free loopback port with ``env`` added to the environment; yield
    its URL; stop it afterwards (a generator for fixtures to ``yield from``)."""
    port = _free_port()
    log = tempfile.TemporaryFile()  # noqa: SIM115 - it must outlive this block: the server writes to it
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port",
           str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        log.seek(0)
        pytest.fail("streamlit did not become healthy in 60 s:\n" + log.read().decode(errors="replace")[-3000:])
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def app_url():
    """The app served by ``streamlit run app.py`` for the whole session."""
    yield from serve_app()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": LAUNCH_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1400, "height": 1000}}


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    SHOTS.mkdir(exist_ok=True)
    return SHOTS


def wait_for_app(page, n_charts: int = 1, timeout: float = 60_000) -> None:
    """Wait until Streamlit finished its run and ``n_charts`` live charts have drawn (gdviz.ui.live_chart
    marks a chart's div with ``data-revision`` once Plotly has drawn it)."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    page.wait_for_function(
        "n => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && document.querySelectorAll('.gdviz-live[data-revision]').length >= n",
        arg=n_charts,
        timeout=timeout,
    )


def wait_for_chart(page, key: str, revision: str, timeout: float = 30_000) -> None:
    """Wait until the live chart ``key`` has drawn ``revision`` (the Playground uses the current step)."""
    page.wait_for_function(
        '([k, r]) => [...document.querySelectorAll(`.gdviz-live[data-key="${k}"]`)]'
        ".some(d => d.dataset.revision === r)",  # a re-mounted chart's old div may linger for a moment
        arg=[key, revision],
        timeout=timeout,
    )


def exception_boxes(page) -> list[str]:
    return [e.inner_text() for e in page.query_selector_all('[data-testid="stException"]')]


def remove_user_data_dir(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)


def metric(page, label: str) -> str:
    """The value of the read-out cell (the Playground's player) or else the metric labelled exactly ``label``.

    Exactly: ``has_text`` alone is a case-insensitive substring match, so "Step" also matched the theory
    panel's "Predicted steps to converge" (1,321 on the default run, the same number as its last step), and
    whichever was first in the page was read."""
    cell = page.locator(f'[data-gdviz-readout="{label}"]')  # the Playground player's read-out (player.js)
    if cell.count():
        return cell.first.inner_text().strip()
    exact = re.compile(rf"^\s*{re.escape(label)}\s*$")
    box = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=exact)
    )
    return box.first.locator('[data-testid="stMetricValue"]').inner_text().strip()


# Elements of a table that scroll sideways (content wider than the box), and the columns a person sees:
# [(header text, displayed)] of the table in the container ``.st-key-{key}``.
SIDEWAYS = """sel => [...document.querySelectorAll(sel + ' [data-testid="stTable"] *')]
  .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => [e.tagName, e.clientWidth, e.scrollWidth])"""
COLUMNS = """sel => [...document.querySelector(sel + ' thead tr').children]
  .map(c => [c.innerText.trim(), getComputedStyle(c).display !== 'none'])"""


def table_fits(page, key: str) -> list[tuple[str, bool]]:
    """Assert that the st.table in the container ``key`` needs no sideways scroll and sits inside the window;
    return its columns as (header, shown)."""
    sel = f".st-key-{key}"
    assert page.evaluate(SIDEWAYS, sel) == [], page.evaluate(SIDEWAYS, sel)
    right = page.evaluate("sel => document.querySelector(sel + ' table').getBoundingClientRect().right", sel)
    assert right <= page.viewport_size["width"], right
    return [tuple(c) for c in page.evaluate(COLUMNS, sel)]


def wait_idle(page) -> None:
    """Wait until the script run is over: no Stop button in the header and no stale (faded) element."""
    page.wait_for_timeout(500)
    page.get_by_role("button", name="Stop", exact=True).wait_for(state="hidden", timeout=60_000)
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')", timeout=60_000)
    page.wait_for_timeout(500)


def choose(page, label: str, option: str, *, exact: bool = False, attempts: int = 3) -> None:
    """Pick ``option`` in the selectbox labelled ``label`` (``exact``: the whole option text). A rerun that
    redraws the sidebar just after the click closes the open list, so the click is tried again."""
    for attempt in range(attempts):
        page.get_by_label(label, exact=True).first.click()
        try:
            page.get_by_role("option", name=option, exact=exact).first.click(timeout=10_000)
            return
        except PlaywrightTimeoutError:
            if attempt == attempts - 1:
                raise
            page.keyboard.press("Escape")
            page.wait_for_timeout(500)


def naive_gd_line(lr: float, steps: int) -> np.ndarray:
    """Plain GD on the default synthetic line, written out here: params after each step (rows 0..steps)."""
    ds = data.synthetic_line()
    X1 = np.column_stack([np.ones(len(ds.y)), ds.X[:, 0]])
    w = np.zeros(2)
    out = [w]
    for _ in range(steps):
        w = w - lr * (2 / len(ds.y)) * X1.T @ (X1 @ w - ds.y)
        out.append(w)
    return np.array(out)


class Protocol:
    """What the page and the server say to each other over Streamlit's websocket, decoded (its protobufs).

    ``mark()`` notes where a user action starts; ``reruns(since)`` are the rerun requests the browser sent after
    it (the fragment each names, "" for the whole page), ``deltas(since)`` the fragment of every element the
    server sent after it ("" for an element outside any fragment: a rerun of the whole page sends those).
    """

    def __init__(self, page) -> None:
        self.messages: list[tuple[str, object]] = []

        def decode(kind, cls, payload) -> None:
            if isinstance(payload, bytes | bytearray):
                msg = cls()
                msg.ParseFromString(bytes(payload))
                self.messages.append((kind, msg))

        page.on("websocket", lambda ws: (
            ws.on("framesent", lambda p: decode("sent", BackMsg, p)),
            ws.on("framereceived", lambda p: decode("received", ForwardMsg, p)),
        ))  # fmt: skip

    def mark(self) -> int:
        return len(self.messages)

    def reruns(self, since: int) -> list[str]:
        return [m.rerun_script.fragment_id for kind, m in self.messages[since:]
                if kind == "sent" and m.WhichOneof("type") == "rerun_script"]  # fmt: skip

    def deltas(self, since: int) -> list[str]:
        return [m.delta.fragment_id for kind, m in self.messages[since:]
                if kind == "received" and m.WhichOneof("type") == "delta"]  # fmt: skip
