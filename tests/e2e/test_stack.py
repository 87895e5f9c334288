"""The stack of deploy/stack.py in a real browser: 2 app processes behind HAProxy, started on free loopback
ports for each test and stopped afterwards (every process in its own process group).

- Two browsers, stuck by their SERVERID cookie to different processes, each upload a file through the proxy
  (the websocket and ``/_stcore/upload_file`` must reach the same process) and each sees its own file.
- The process holding a Playground opened from a share link is killed (SIGKILL): the page reconnects by
  itself through the proxy to the other process, which rebuilds the same view from the URL, says so in a
  notice (gdviz/ui/replica.py), and keeps working (one more Step). No reload is needed.

Skipped when haproxy is missing, unless GDVIZ_REQUIRE_BROWSER=1 (.ci/run), where a missing haproxy fails.
"""

from __future__ import annotations

import os
import shutil

import pytest

from deploy import stack as deploy_stack
from gdviz.ui import replica
from tests.e2e.conftest import exception_boxes, metric, wait_idle


@pytest.fixture
def stack():
    """2 app processes behind HAProxy, on free ports; all stopped after the test."""
    if shutil.which("haproxy") is None:
        if os.environ.get("GDVIZ_REQUIRE_BROWSER") == "1":
            pytest.fail("GDVIZ_REQUIRE_BROWSER=1 but haproxy is missing: apt-get install -y haproxy")
        pytest.skip("haproxy not installed (apt-get install -y haproxy)")
    running = deploy_stack.start(2)
    yield running
    running.stop()


def server_of(context) -> str:
    found = [c["value"] for c in context.cookies() if c["name"] == "SERVERID"]
    assert len(found) == 1, context.cookies()
    return found[0]


def open_your_data(context, url: str):
    page = context.new_page()
    page.goto(f"{url}/your_data")
    page.get_by_text("No data uploaded yet").wait_for(timeout=60_000)
    page.locator('[data-testid="stFileUploaderDropzone"]').wait_for(timeout=30_000)
    wait_idle(page)
    return page


def test_an_upload_through_the_proxy_lands_in_its_own_session(stack, browser, tmp_path, screenshot_dir):
    files = {}
    for name, rows in (("first.csv", "y,x\n1,2\n2,4\n3,7\n4,8\n"), ("second.csv", "b,a\n5,1\n3,2\n2,3\n0,5\n")):
        files[name] = tmp_path / name
        files[name].write_text(rows)
    contexts = []
    try:
        pages = {}
        for name in files:  # round robin: the second new visitor goes to the other process
            contexts.append(browser.new_context(viewport={"width": 1400, "height": 1000}))
            pages[name] = open_your_data(contexts[-1], stack.url)
        servers = {name: server_of(c) for name, c in zip(files, contexts, strict=True)}
        assert sorted(servers.values()) == ["s1", "s2"], servers
        for name, page in pages.items():
            page.locator('[data-testid="stFileUploader"] input[type=file]').set_input_files(str(files[name]))
            wait_idle(page)
        for name, page in pages.items():
            page.get_by_text(f"Loaded: {name}").wait_for(timeout=30_000)
            other = next(n for n in files if n != name)
            assert page.get_by_text(f"Loaded: {other}").count() == 0
            assert exception_boxes(page) == []
            assert server_of(page.context) == servers[name]  # still on its process after the upload
        pages["first.csv"].screenshot(path=str(screenshot_dir / "stack_upload.png"))
    finally:
        for c in contexts:
            c.close()


def test_a_killed_process_hands_its_browser_to_the_other_one(stack, browser, screenshot_dir):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.goto(f"{stack.url}/?lr=0.02&step=3")
        page.locator('[data-testid="stMetric"]').first.wait_for(timeout=60_000)
        wait_idle(page)
        before = server_of(context)
        rate = page.get_by_label("Exact learning rate", exact=True)
        assert rate.input_value() == "0.02" and metric(page, "Step") == "3"
        assert page.locator('[data-testid="stToast"]').count() == 0  # no notice on an ordinary visit

        stack.kill_app(int(before.removeprefix("s")) - 1)
        # Streamlit's client sees the websocket close, shows "Connecting" and retries; HAProxy finds the
        # cookie's server down and sends the retry to the other process, with a new cookie.
        toast = page.locator('[data-testid="stToast"]').filter(has_text="Reconnected to another app process")
        toast.wait_for(timeout=30_000)
        after = server_of(context)
        assert after != before, after
        wait_idle(page)
        assert rate.input_value() == "0.02" and metric(page, "Step") == "3"
        assert exception_boxes(page) == []
        assert page.locator('[data-testid="stAlertContentError"]').count() == 0
        assert "lr=0.02" in page.url and "step=3" in page.url
        assert replica.NOTICE.split(":")[0] in toast.inner_text()
        page.screenshot(path=str(screenshot_dir / "stack_failover.png"))

        page.get_by_role("button", name="Step", exact=True).first.click()  # the new session is live
        page.wait_for_function("() => location.search.includes('step=4')", timeout=30_000)
        wait_idle(page)
        assert metric(page, "Step") == "4"
    finally:
        context.close()


def test_the_proxy_keeps_streamlits_bundles_and_hands_out_the_same_bytes(stack):
    """deploy/haproxy.cfg caches /static/ (Streamlit's content-hashed bundles): the first fetch comes from an app
    process, the next ones from the proxy, byte for byte the same as the app's own file; other paths are never
    cached."""
    import re
    import urllib.request

    def get(url: str) -> tuple[bytes, dict[str, str]]:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.read(), {k.lower(): v for k, v in r.headers.items()}

    index, _ = get(stack.url + "/")
    bundle = re.search(rb'src="\.?/?(static/js/[^"]+\.js)"', index)
    assert bundle, index[:500]
    path = "/" + bundle.group(1).decode()
    first, h1 = get(stack.url + path)
    again, h2 = get(stack.url + path)
    direct, _ = get(stack.app_urls[0] + path)
    assert (h1.get("x-cache-hit"), h2.get("x-cache-hit")) == ("0", "1")
    assert first == again == direct and len(direct) > 10_000
    _, health = get(stack.url + "/_stcore/health")
    assert "x-cache-hit" not in health  # only the bundles go through the cache


def test_the_proxy_keeps_the_plotly_bundle_by_its_hash_in_each_encoding(stack):
    """The app's Plotly bundle is asked for by a URL naming its content (live_chart.PLOTLY_JS, ?v=<hash>): the
    proxy keeps it once per encoding (the app gzips it and says Vary: Accept-Encoding) and tells browsers to
    keep it. A gzip client and a plain one each get the file's own bytes; the bundle without its hash is never
    cached, and no cached answer hands out the sticky-session cookie."""
    import gzip
    import urllib.request
    from pathlib import Path

    from gdviz.ui.live_chart import PLOTLY_JS

    on_disk = (Path(__file__).resolve().parents[2] / "static" / "plotly-gdviz.min.js").read_bytes()

    def get(path: str, encoding: str) -> tuple[bytes, dict[str, list[str]]]:
        req = urllib.request.Request(stack.url + path, headers={"Accept-Encoding": encoding})
        with urllib.request.urlopen(req, timeout=30) as r:
            headers: dict[str, list[str]] = {}
            for k, v in r.headers.items():
                headers.setdefault(k.lower(), []).append(v)
            return r.read(), headers

    path = "/" + PLOTLY_JS
    for encoding in ("gzip", "identity"):
        got = [get(path, encoding) for _ in range(3)]
        assert [h["x-cache-hit"] for _, h in got] == [["0"], ["1"], ["1"]], encoding
        for body, headers in got:
            zipped = headers.get("content-encoding") == ["gzip"]
            assert zipped == (encoding == "gzip")
            assert (gzip.decompress(body) if zipped else body) == on_disk
            assert "public, max-age=31536000, immutable" in headers["cache-control"]
        assert all("set-cookie" not in h for _, h in got[1:])
    _, plain = get("/app/static/plotly-gdviz.min.js", "gzip")
    _, again = get("/app/static/plotly-gdviz.min.js", "gzip")
    assert "x-cache-hit" not in plain and "x-cache-hit" not in again
