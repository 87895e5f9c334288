"""The Regimes page in a real browser: it draws every panel, the shared scrubber moves all of them, and
screenshots (laptop and phone width) are saved under tests/e2e/screenshots/ for a person to look at."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import exception_boxes, table_fits, wait_for_app, wait_for_chart

LANES = ("slow", "good", "oscillating", "divergent", "decay")
CHARTS = ("regimes_overview", *(f"regimes_{lane}_{kind}" for lane in LANES for kind in ("contour", "loss")))
SCRUB_LABEL = "Step shown in every panel"


def path_length(page, key: str) -> int:
    """How many points the drawn path trace of contour chart ``key`` holds."""
    return page.evaluate(
        'k => document.querySelector(`.gdviz-live[data-key="${k}"]`)._fullData'
        ".filter(t => String(t.name).startsWith('path'))[0].x.length",
        key,
    )


def revision(page, key: str) -> str:
    return page.evaluate('k => document.querySelector(`.gdviz-live[data-key="${k}"]`).dataset.revision', key)


def scrub_to_start_then_right(page, presses: int) -> None:
    """Focus the scrubber (a react-aria slider), press Home, then ArrowRight ``presses`` times."""
    handle = page.get_by_role("slider", name=SCRUB_LABEL).first
    handle.focus()
    page.keyboard.press("Home")
    for _ in range(presses):
        page.keyboard.press("ArrowRight")


def open_regimes(page, app_url) -> None:
    """Open the app's front page, then the Regimes page's link.

    The front page first: until some session has run app.py (which calls st.navigation), Streamlit 1.67
    treats the pages/ folder as an old-style multipage app, and a fresh server would run pages/regimes.py
    on its own (no wide layout, no chart template).
    """
    page.goto(app_url)
    wait_for_app(page, n_charts=1)
    page.goto(f"{app_url}/regimes")
    page.wait_for_function(
        "n => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && document.querySelectorAll('.gdviz-live[data-key^=\"regimes_\"][data-revision]').length >= n",
        arg=len(CHARTS),
        timeout=60_000,
    )


@pytest.fixture
def regimes_page(page, app_url):
    open_regimes(page, app_url)
    return page


def test_page_draws_every_panel_without_an_error(regimes_page, screenshot_dir):
    page = regimes_page
    assert exception_boxes(page) == []
    errors = page.evaluate("() => [...document.querySelectorAll('.gdviz-live')].map(d => d.dataset.error)")
    assert errors and all(e == "" for e in errors), errors
    text = page.inner_text("body")
    for outcome in ("still moving after 10,000 steps", "converged in", "diverged at step"):
        assert outcome in text
    # On load the scrubber is at the end: the divergent path holds many points (downsampled to <= 2,000).
    assert path_length(page, "regimes_divergent_contour") > 100
    page.set_viewport_size({"width": 1400, "height": 4200})
    page.wait_for_timeout(800)
    page.screenshot(path=str(screenshot_dir / "regimes_full.png"), full_page=True)


def test_scrubber_moves_every_panel(regimes_page, screenshot_dir):
    page = regimes_page
    scrub_to_start_then_right(page, 8)
    for key in CHARTS:
        wait_for_chart(page, key, "8")
    for lane in LANES:
        assert path_length(page, f"regimes_{lane}_contour") == 9, lane  # steps 0..8
    assert exception_boxes(page) == []
    page.get_by_text("step 8", exact=True).first.wait_for()
    page.set_viewport_size({"width": 1400, "height": 2600})
    page.wait_for_timeout(800)
    page.screenshot(path=str(screenshot_dir / "regimes.png"))


def test_phone_width(page, app_url, screenshot_dir):
    page.set_viewport_size({"width": 390, "height": 3000})
    open_regimes(page, app_url)
    scrub_to_start_then_right(page, 5)
    # Each key press is a rerun that redraws every panel: on a loaded machine the fifth lands late.
    wait_for_chart(page, "regimes_oscillating_contour", "5", timeout=90_000)
    assert exception_boxes(page) == []
    width = page.evaluate("() => document.querySelector('.gdviz-live[data-key=\"regimes_slow_contour\"]').clientWidth")
    assert width <= 390  # one column: a panel never overflows the screen
    page.screenshot(path=str(screenshot_dir / "regimes_phone.png"))
    # The summary table fits the screen: no hidden sideways scroll; the rate column (each panel's heading says
    # it) is left out, and a line under the table says so. The measured columns are on screen.
    summary = page.locator(".st-key-regimes_summary")
    summary.scroll_into_view_if_needed()
    shown = [name for name, visible in table_fits(page, "regimes_summary") if visible]
    assert "rate" not in shown and {"steps to converge: measured", "final loss", "regime observed"} <= set(shown)
    assert summary.get_by_text("On a narrow screen 'rate' is left out").is_visible()
    summary.screenshot(path=str(screenshot_dir / "regimes_phone_summary.png"))
    page.set_viewport_size({"width": 1400, "height": 1000})  # a laptop shows every column, and no such line
    page.wait_for_timeout(500)
    assert all(visible for _, visible in table_fits(page, "regimes_summary"))
    assert not summary.get_by_text("On a narrow screen").is_visible()


def test_type_a_rate_and_pin_it(regimes_page, screenshot_dir):
    page = regimes_page
    box = page.locator('input[aria-label="Your rate for this panel"]').nth(1)  # the Good panel's
    box.fill("0.12")
    box.press("Enter")
    page.get_by_text("Good slot: your rate", exact=False).first.wait_for(timeout=30_000)
    pin = page.get_by_role("button", name="Pin").nth(1)
    pin.click()
    page.get_by_role("button", name="Unpin").wait_for(timeout=30_000)
    page.wait_for_function(
        "() => document.querySelector('.gdviz-live[data-key=\"regimes_pinned_0_contour\"][data-revision]')",
        timeout=30_000,
    )
    assert "Pinned: rate 0.12" in page.inner_text("body")
    assert exception_boxes(page) == []
    page.get_by_role("button", name="Unpin").scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    page.screenshot(path=str(screenshot_dir / "regimes_pinned.png"))
