"""The learning-rate sweep in a real browser: the page loads with a first sweep drawn, a 1,000-rate sweep
runs from its button, a click on a point opens that rate in the Playground. Screenshots are saved under
tests/e2e/screenshots/sweep*.png (looked at by a person)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import exception_boxes

CHARTS = ("sweep_steps_chart", "sweep_loss_chart")

# The two sweep charts (st.plotly_chart), once both have drawn the sweep `run` (its id is layout.meta.run).
DRAWN = """run => { const els = [...document.querySelectorAll('.js-plotly-plot')]
  .filter(e => e._fullLayout && e._fullLayout.meta && e._fullLayout.meta.run === run && e._fullData);
  return els.length === 2 && !document.querySelector('[data-testid="stStatusWidget"]'); }"""

# Sum of the points of the measured traces (every trace with markers) of each chart of sweep `run` (a
# re-mounted chart of the previous sweep can linger in the page for a moment).
MEASURED = """run => [...document.querySelectorAll('.js-plotly-plot')]
  .filter(e => e._fullLayout && e._fullLayout.meta && e._fullLayout.meta.run === run && e._fullData)
  .map(e => e._fullData.filter(t => t.mode === 'markers').reduce((n, t) => n + t.x.length, 0))"""


def wait_sweep(page, run: int, timeout: float = 60_000) -> None:
    page.wait_for_function(DRAWN, arg=run, timeout=timeout)


def number_input(page, label: str):
    return page.get_by_label(label, exact=True)


def open_sweep(page, app_url) -> None:
    """Load the app and follow the sidebar link, as a person does. (A deep link to /sweep as the very first
    request of a fresh server runs in Streamlit's pages-directory mode, without app.py: see the report.)"""
    page.goto(app_url)
    page.locator('[data-testid="stSidebarNav"] a', has_text="Learning-rate sweep").click()
    wait_sweep(page, 1)


@pytest.fixture
def sweep_page(page, app_url):
    open_sweep(page, app_url)
    return page


def test_the_page_loads_with_a_sweep_drawn(sweep_page, screenshot_dir):
    page = sweep_page
    assert exception_boxes(page) == []
    assert page.evaluate(MEASURED, 1) == [200, 200]  # the default sweep: 200 rates, each drawn once per chart
    names = page.evaluate("() => document.querySelector('.js-plotly-plot')._fullLayout.shapes.map(s => s.name)")
    assert sum(n.startswith("zone: ") for n in names) == 4
    assert sum(n.startswith("threshold: ") for n in names) == 3
    page.screenshot(path=str(screenshot_dir / "sweep_default.png"))


def test_a_1000_rate_sweep_runs_from_its_button(sweep_page, screenshot_dir):
    page = sweep_page
    box = number_input(page, "Number of rates")
    box.fill("1000")
    box.press("Enter")
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')")
    page.get_by_role("button", name="Run sweep").click()
    wait_sweep(page, 2)
    assert page.evaluate(MEASURED, 2) == [1000, 1000]
    assert exception_boxes(page) == []
    page.mouse.move(5, 5)  # no tooltip of the button over the picture
    page.set_viewport_size({"width": 1400, "height": 1900})  # both charts in one picture
    page.wait_for_timeout(800)  # let the charts re-layout and paint before the picture
    page.screenshot(path=str(screenshot_dir / "sweep.png"))


def test_clicking_a_point_opens_its_rate_in_the_playground(sweep_page, screenshot_dir):
    page = sweep_page
    chart = page.locator(".js-plotly-plot").first
    chart.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    # The pixel of the middle converged point, from the chart's own axes.
    x, y, rate = page.evaluate(
        """() => { const gd = document.querySelector('.js-plotly-plot');
        const t = gd._fullData.find(t => t.name.startsWith('converged'));
        const k = Math.floor(t.x.length / 2), r = gd.getBoundingClientRect();
        const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
        return [r.left + xa._offset + xa.d2p(t.x[k]), r.top + ya._offset + ya.d2p(t.y[k]), t.x[k]]; }"""
    )
    page.mouse.move(x - 5, y)
    page.mouse.move(x, y)
    page.wait_for_timeout(300)
    page.mouse.click(x, y)
    page.wait_for_selector("h1:has-text('Playground')", timeout=30_000)
    exact = number_input(page, "Exact learning rate")
    exact.wait_for(timeout=30_000)
    # The shortest rate that reproduces the clicked run (issue 12): close to it, with fewer figures.
    shown = exact.input_value()
    assert float(shown) == pytest.approx(rate, rel=5e-3) and len(shown) < len(repr(rate))
    assert exception_boxes(page) == []
    page.screenshot(path=str(screenshot_dir / "sweep_opened_in_playground.png"))


# Every zone name's drawn box (the text of each shape label), in the first chart.
LABEL_BOXES = """() => [...document.querySelector('.js-plotly-plot').querySelectorAll('.shape-label')]
  .map(t => { const r = t.getBoundingClientRect(); return [t.textContent, r.left, r.right, r.top, r.bottom]; })"""


def test_phone_no_toolbar_and_zone_names_apart(page, app_url, screenshot_dir):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(app_url)
    page.locator('[data-testid="stExpandSidebarButton"]').click()
    page.locator('[data-testid="stSidebarNav"] a', has_text="Learning-rate sweep").click()
    wait_sweep(page, 1)
    page.wait_for_timeout(500)
    assert exception_boxes(page) == []
    assert page.evaluate("() => document.querySelectorAll('.js-plotly-plot .modebar').length") == 0  # no toolbar
    boxes = page.evaluate(LABEL_BOXES)
    assert [b[0] for b in boxes] == ["Slow", "Good", "Oscillating", "Divergent"], boxes
    for a, b in zip(boxes, boxes[1:], strict=False):  # no two names overlap ("GoodOscillDiverge")
        assert a[2] <= b[1] or a[4] <= b[3] or b[4] <= a[3], (a, b)
    right = page.evaluate("() => document.querySelector('.js-plotly-plot').getBoundingClientRect().right")
    assert max(b[2] for b in boxes) <= right  # the last name is not cut by the chart's edge
    page.locator(".js-plotly-plot").first.screenshot(path=str(screenshot_dir / "sweep_phone_steps.png"))
    page.locator(".js-plotly-plot").nth(1).screenshot(path=str(screenshot_dir / "sweep_phone_loss.png"))
