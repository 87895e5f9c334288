"""Share links in a real browser: a non-default Playground view read from the page's "Copy link" box opens
with the same read-outs in a fresh browser context (a new session), and a deep link to /sweep is the very
first request of a new server (before any session has run app.py)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import choose, exception_boxes, metric, serve_app, wait_for_app, wait_for_chart
from tests.e2e.test_playground import run_name, wait_for_new_run

CHARTS = (
    "playground_surface",
    "playground_contour",
    "playground_line",
    "playground_loss",
    "playground_grads",
    "playground_bars",
)
READOUTS = ("Step", "Loss", "Intercept", "Slope on x", "Rate used", "Status")


def settled(page) -> None:
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
    page.wait_for_timeout(300)


def share_link(page) -> str:
    return page.locator('[data-testid="gdviz-share-url"]').input_value()


def test_a_playground_view_travels_through_its_link(page, app_url, browser, screenshot_dir):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app_url)
    page.goto(app_url)
    wait_for_app(page, n_charts=len(CHARTS))
    old = run_name(page)
    exact = page.get_by_label("Exact learning rate", exact=True)
    exact.fill("0.02")
    exact.press("Enter")
    settled(page)
    wait_for_new_run(page, old)  # a Step before the new run reaches the player would be a Step of the old one
    old = run_name(page)
    choose(page, "Optimizer", "Momentum (heavy ball)")
    settled(page)
    wait_for_new_run(page, old)
    for k in (1, 2, 3):
        page.get_by_role("button", name="Step", exact=True).first.click()
        for key in CHARTS:
            wait_for_chart(page, key, str(k))
    page.wait_for_function(
        "() => (document.querySelector('[data-testid=\"gdviz-share-url\"]') || {}).value?.includes('step=3')",
        timeout=10_000,
    )
    link = share_link(page)
    assert link.startswith(app_url) and "lr=0.02" in link and "opt=momentum" in link, link
    seen = {label: metric(page, label) for label in READOUTS}
    assert seen["Step"] == "3" and float(seen["Rate used"]) == pytest.approx(0.02)
    page.get_by_role("button", name="Copy link").click()
    copied = "() => document.querySelector('[data-testid=\"gdviz-share-copy\"]').textContent === 'Copied'"
    page.wait_for_function(copied)
    assert page.evaluate("() => navigator.clipboard.readText()") == link
    page.screenshot(path=str(screenshot_dir / "share_playground_before.png"))

    fresh = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        other = fresh.new_page()
        other.goto(link)
        wait_for_app(other, n_charts=len(CHARTS))
        for key in CHARTS:
            wait_for_chart(other, key, "3")
        assert {label: metric(other, label) for label in READOUTS} == seen
        assert other.get_by_label("Exact learning rate", exact=True).input_value() == "0.02"
        assert exception_boxes(other) == []
        assert share_link(other) == link
        other.screenshot(path=str(screenshot_dir / "share_playground_opened.png"))
    finally:
        fresh.close()


@pytest.fixture
def fresh_server():
    """A server no session has visited yet (Streamlit decides on its first run how to treat pages/)."""
    yield from serve_app()


def test_a_deep_link_is_the_first_request_of_a_new_server(page, fresh_server, screenshot_dir):
    page.goto(f"{fresh_server}/sweep?lr=0.2&n_rates=50&sweep_steps=300&max_steps=abc")
    page.wait_for_selector("h1:has-text('Learning-rate sweep')", timeout=60_000)
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 2", timeout=60_000)
    settled(page)
    nav = page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()
    nav = [" ".join(t.split()) for t in nav]
    assert any("Playground" in t for t in nav) and any("The math" in t for t in nav), nav
    assert not any(t.lower() in ("app", "playground", "sweep") for t in nav), nav  # not the file names
    width = page.locator('[data-testid="stMainBlockContainer"]').bounding_box()["width"]
    assert width > 900, width  # the app's wide layout, not Streamlit's default narrow one
    assert page.get_by_label("Number of rates", exact=True).input_value() == "50"
    assert page.locator("text=50 rates").count() >= 1
    warning = page.locator('[data-testid="stAlert"]').filter(has_text="max steps (max_steps)")
    assert warning.count() == 1
    assert exception_boxes(page) == []
    assert "n_rates=50" in share_link(page) and "max_steps" not in share_link(page)
    page.screenshot(path=str(screenshot_dir / "share_fresh_deep_link.png"))
