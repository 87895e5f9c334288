"""The app loads in a real browser (Debian Chromium), with its first page drawn and no error box."""

from __future__ import annotations

from gdviz.data import DATASET_LABELS
from tests.e2e.conftest import exception_boxes, wait_for_app


def test_playground_renders_without_error(page, app_url, screenshot_dir):
    page.goto(app_url)
    wait_for_app(page, n_charts=6)
    page.get_by_text("Observed regime").first.wait_for()
    assert exception_boxes(page) == []
    # The loss chart really drew data (an empty chart is not a pass): the start point at step 0.
    n_points = page.evaluate(
        "() => document.querySelector('.gdviz-live[data-key=\"playground_loss\"]')._fullData"
        ".filter(t => t.name === 'measured loss')[0].x.length"
    )
    assert n_points == 1
    assert "Good" in page.inner_text("body")  # the default rate is in the good regime
    page.screenshot(path=str(screenshot_dir / "playground.png"), full_page=True)


def test_on_a_phone_tapping_a_page_closes_the_sidebar(page, app_url, screenshot_dir):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(app_url)
    wait_for_app(page, n_charts=6)
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert sidebar.get_attribute("data-collapsed") == "true"  # a phone starts with it closed
    page.locator('[data-testid="stExpandSidebarButton"]').click()
    page.wait_for_function("() => document.querySelector('[data-testid=\"stSidebar\"]').dataset.collapsed === 'false'")
    page.wait_for_timeout(800)  # the sidebar slides in
    page.screenshot(path=str(screenshot_dir / "app_phone_sidebar_open.png"))
    page.locator('[data-testid="stSidebarNav"] a', has_text="Regimes").click()
    page.wait_for_selector("h1:has-text('Learning-rate regimes')", timeout=60_000)
    page.wait_for_function("() => document.querySelector('[data-testid=\"stSidebar\"]').dataset.collapsed === 'true'")
    page.wait_for_timeout(500)
    page.screenshot(path=str(screenshot_dir / "app_phone_after_tap.png"))
    assert exception_boxes(page) == []
    # A laptop keeps its sidebar open after choosing a page.
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.wait_for_timeout(300)
    if sidebar.get_attribute("data-collapsed") == "true":
        page.locator('[data-testid="stExpandSidebarButton"]').click()
    page.locator('[data-testid="stSidebarNav"] a', has_text="The math").click()
    page.wait_for_selector("h1:has-text('math')", timeout=60_000)
    page.wait_for_timeout(500)
    assert sidebar.get_attribute("data-collapsed") == "false"


def test_on_a_phone_every_dataset_name_fits_its_select_box(page, app_url, screenshot_dir):
    """A phone's sidebar once cut "Diabetes (442 patients, 10 raw fe…": every option's name fits the box."""
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(app_url)
    wait_for_app(page, n_charts=6)
    page.locator('[data-testid="stExpandSidebarButton"]').click()
    page.wait_for_function("() => document.querySelector('[data-testid=\"stSidebar\"]').dataset.collapsed === 'false'")
    page.wait_for_timeout(800)  # the sidebar slides in
    shown = page.locator('[data-testid="stSidebar"] input[aria-label="Dataset"]')
    shown.scroll_into_view_if_needed()
    # Each name, put in the box itself for a moment (its own font and padding): wider than the box scrolls.
    fits = page.evaluate(
        """([el, labels]) => {
            const shown = el.value;
            const out = labels.map(t => { el.value = t; return [t, el.scrollWidth, el.clientWidth]; });
            el.value = shown;
            return out;
        }""",
        [shown.element_handle(), list(DATASET_LABELS.values())],
    )
    page.screenshot(path=str(screenshot_dir / "app_phone_dataset_select.png"))
    assert [(t, width, room) for t, width, room in fits if width > room] == []
    assert shown.input_value() in DATASET_LABELS.values()
