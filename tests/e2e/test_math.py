""" "The math" page in a real browser: the equations render (KaTeX, no parse error), the player's step changes
the sections' numbers to those of a naive GD loop written here with no message to the server while the user
steps, a link opens at its step, no error box; screenshots for a person to look at
(tests/e2e/screenshots/math*.png)."""

from __future__ import annotations

import numpy as np
import pytest

from gdviz import data
from tests.e2e.conftest import Protocol, exception_boxes, metric, wait_for_app

LR = 0.05  # the default rate


def oracle(step: int) -> tuple[float, float]:
    """(loss, ||g||^2) of plain GD after ``step`` updates on the default synthetic line, written out."""
    ds = data.synthetic_line()
    X1, y = np.column_stack([np.ones(len(ds.y)), ds.X[:, 0]]), np.asarray(ds.y, dtype=float)
    w = np.zeros(2)
    for _ in range(step):
        w = w - LR * 2 / len(y) * X1.T @ (X1 @ w - y)
    g = 2 / len(y) * X1.T @ (X1 @ w - y)
    return float(np.mean((X1 @ w - y) ** 2)), float(g @ g)


# KaTeX draws what it cannot parse in its error colour (#cc0000) instead of raising: find such text.
KATEX_ERRORS = """() => [...document.querySelectorAll('.katex-error, .katex *')]
    .filter(e => e.classList.contains('katex-error') || getComputedStyle(e).color === 'rgb(204, 0, 0)')
    .map(e => e.textContent)"""


def open_math(page, app_url) -> None:
    """Through the app's navigation, as a person would. (A deep link to /math on a server that has not yet
    served the app root runs the page file on its own, without app.py: see the report on the branch.)"""
    page.goto(app_url)
    link = page.get_by_role("link", name="The math")
    link.wait_for(state="attached", timeout=30_000)
    if page.viewport_size["width"] >= 640:
        link.click()
    else:  # a phone: the sidebar starts closed; the app has been served, so the deep link is now the app's
        page.goto(f"{app_url}/math")
    page.get_by_text("1. The loss").wait_for(timeout=30_000)
    wait_for_app(page, n_charts=1)  # the player's loss chart
    page.wait_for_function("() => document.querySelectorAll('.katex').length >= 16", timeout=30_000)
    assert page.evaluate(KATEX_ERRORS) == []  # every formula parsed


def cell(page, col: str) -> str:
    """The text of the first page cell showing the player's column ``col`` (gdviz.ui.math.cell)."""
    return page.locator(f'[data-gdviz-cell="math:{col}"]').first.inner_text().strip()


def set_step(page, step: int) -> None:
    """Type the step in the player's Go to step box: the browser moves there, and syncs after a pause."""
    box = page.get_by_role("spinbutton", name="Go to step")
    box.fill(str(step))
    box.press("Enter")
    page.wait_for_function(
        "s => document.querySelector('[data-gdviz-cell=\"math:step\"]')?.textContent === s", arg=f"{step:,}"
    )


def wait_until_drawn(page) -> None:
    """The rerun has finished and replaced every element: a rerun updates the page top-down, and elements it
    has not reached yet are still the old ones (marked data-stale)."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && !document.querySelector('[data-stale=\"true\"]')",
        timeout=30_000,
    )
    page.wait_for_timeout(300)  # and stays so (the status widget can appear a moment after the input)
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')", timeout=30_000)


def test_equations_render_and_the_step_changes_the_numbers(page, app_url, screenshot_dir):
    open_math(page, app_url)
    assert metric(page, "X1 shape") == "20 x 2"
    loss0, g0 = oracle(0)
    assert float(cell(page, "lf")) == pytest.approx(loss0, rel=6e-6)
    set_step(page, 7)
    loss7, g7 = oracle(7)
    assert float(cell(page, "lf")) == pytest.approx(loss7, rel=6e-6)
    assert float(cell(page, "g2")) == pytest.approx(g7, rel=6e-6)
    assert metric(page, "Step") == "7"  # the player's read-out
    assert loss7 < loss0
    # On a desktop every display formula fits its column (none is cut off or needs a scroll bar).
    clipped = page.evaluate(
        """() => [...document.querySelectorAll('.katex-display')].filter(d => {
            for (let e = d; e && !e.matches('[data-testid="stColumn"]'); e = e.parentElement)
                if (e.scrollWidth > e.clientWidth + 4) return true;  // KaTeX's own 2 px overhang is fine
            return false; }).map(d => d.textContent.slice(0, 40))"""
    )
    assert clipped == []
    assert exception_boxes(page) == []
    # Streamlit scrolls an inner container, so a "full page" shot is the viewport: make it tall.
    page.set_viewport_size({"width": 1400, "height": 4400})
    page.wait_for_timeout(500)
    page.screenshot(path=str(screenshot_dir / "math.png"))


def test_phone_layout_stacks_formula_then_numbers(page, app_url, screenshot_dir):
    page.set_viewport_size({"width": 390, "height": 1600})
    open_math(page, app_url)
    set_step(page, 3)
    # stacked: the numbers of section 1 sit below its formula, not beside it
    formula = page.locator(".katex").first.bounding_box()
    shapes = page.locator('[data-testid="stMetric"]').first.bounding_box()
    assert shapes["y"] > formula["y"] + formula["height"]
    assert exception_boxes(page) == []
    page.set_viewport_size({"width": 390, "height": 4000})
    page.wait_for_timeout(500)
    page.screenshot(path=str(screenshot_dir / "math_phone.png"))


def test_divergent_rate_is_explained(page, app_url, screenshot_dir):
    open_math(page, app_url)
    page.get_by_role("button", name="Divergent", exact=True).first.click()
    page.get_by_text("above 2/lambda_max", exact=False).first.wait_for(timeout=30_000)
    set_step(page, 5)
    assert float(cell(page, "ratio")) > 1
    page.locator(".gdviz-player").focus()
    page.keyboard.press("End")  # the step whose values overflowed: shown and explained, no traceback
    assert cell(page, "le") == "overflowed"
    # After the pause the server knows the step, and explains the overflow there.
    page.get_by_text("overflowed float64", exact=False).first.wait_for(timeout=30_000)
    assert exception_boxes(page) == []
    page.set_viewport_size({"width": 1400, "height": 2400})
    page.wait_for_timeout(500)
    page.screenshot(path=str(screenshot_dir / "math_divergent.png"))


def test_fifty_moves_send_the_server_nothing_and_every_section_follows(page, app_url):
    sent = {"n": 0}
    page.on("websocket", lambda ws: ws.on("framesent", lambda _: sent.__setitem__("n", sent["n"] + 1)))
    protocol = Protocol(page)
    open_math(page, app_url)
    page.wait_for_timeout(1500)  # the page's own start-up messages are over
    before, since = sent["n"], protocol.mark()
    page.locator(".gdviz-player").focus()
    for i in range(50):
        page.keyboard.press("ArrowRight" if i % 5 != 4 else "ArrowLeft")  # 40 right, 10 left: step 30
    loss, g2 = oracle(30)
    assert cell(page, "step") == "30" and metric(page, "Step") == "30"
    assert float(cell(page, "lf")) == pytest.approx(loss, rel=6e-6)
    assert float(cell(page, "g2")) == pytest.approx(g2, rel=6e-6)
    assert sent["n"] == before, "the browser talked to the server while the user was moving"
    # About a second after the last move the browser tells the server the step (share links, downloads).
    page.wait_for_function(
        "() => (document.querySelector('[data-testid=\"gdviz-share-url\"]') || {}).value?.includes('step=30')",
        timeout=15_000,
    )
    assert sent["n"] > before
    wait_until_drawn(page)
    assert float(cell(page, "lf")) == pytest.approx(loss, rel=6e-6)  # the server wrote the same numbers
    # The step sync reran the player's fragment only (the player, the run's context, the link): one request
    # naming a fragment, and every element the server sent back belongs to it; the sections were not sent.
    reruns, deltas = protocol.reruns(since), protocol.deltas(since)
    assert len(reruns) == 1 and reruns[0], reruns
    assert deltas and set(deltas) == {reruns[0]}, deltas
    assert float(cell(page, "g2")) == pytest.approx(g2, rel=6e-6) and cell(page, "step") == "30"
    assert exception_boxes(page) == []


def test_a_link_opens_at_its_step(page, app_url):
    page.goto(app_url)  # the app root first (see open_math)
    page.get_by_role("link", name="The math").wait_for(state="attached", timeout=30_000)
    page.goto(f"{app_url}/math?step=12")
    page.get_by_text("1. The loss").wait_for(timeout=30_000)
    wait_for_app(page, n_charts=1)
    page.wait_for_function("() => document.querySelector('[data-gdviz-cell=\"math:step\"]')?.textContent === '12'")
    assert metric(page, "Step") == "12"
    assert float(cell(page, "lf")) == pytest.approx(oracle(12)[0], rel=6e-6)
    assert exception_boxes(page) == []


def test_a_link_past_the_end_opens_at_the_last_step_with_a_notice(page, app_url, screenshot_dir):
    page.goto(app_url)  # the app root first (see open_math)
    page.get_by_role("link", name="The math").wait_for(state="attached", timeout=30_000)
    page.goto(f"{app_url}/math?max_steps=25&tol=0&step=1000")
    page.get_by_text("1. The loss").wait_for(timeout=30_000)
    wait_for_app(page, n_charts=1)
    notice = "The step (step) in the link, 1,000, is past the max steps (25): showing the last step this run reaches."
    page.get_by_text(notice).wait_for(timeout=30_000)
    page.wait_for_function("() => document.querySelector('[data-gdviz-cell=\"math:step\"]')?.textContent === '25'")
    assert metric(page, "Step") == "25"
    assert float(cell(page, "lf")) == pytest.approx(oracle(25)[0], rel=6e-6)
    assert "step=25" in page.locator('[data-testid="gdviz-share-url"]').input_value()
    assert exception_boxes(page) == []
    page.wait_for_timeout(500)
    page.screenshot(path=str(screenshot_dir / "math_link_past_the_end.png"))
