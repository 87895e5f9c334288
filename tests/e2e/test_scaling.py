"""The Feature scaling page in a real browser: switch to California housing, press the puzzle buttons, switch
the scaling, and save screenshots (looked at by a person) under tests/e2e/screenshots/scaling*.png.

The page needs California housing offline, so this module starts its own server with GDVIZ_CALIFORNIA_CSV
pointing at the shared CSV (the session server of conftest.py may have been started without it).
"""

from __future__ import annotations

import pytest

from tests.conftest import CALIFORNIA_CSV
from tests.e2e.conftest import choose, exception_boxes, metric, serve_app, table_fits, wait_for_app, wait_idle

CHARTS = (
    "scaling_grad_start",
    "scaling_grad_step",
    "scaling_grad_history",
    "scaling_loss",
    "scaling_contour",
    "scaling_surface",
)


@pytest.fixture(scope="module")
def scaling_url():
    if not CALIFORNIA_CSV.is_file():
        pytest.skip(f"California housing CSV not found at {CALIFORNIA_CSV} (shared test data is missing)")
    yield from serve_app({"GDVIZ_CALIFORNIA_CSV": str(CALIFORNIA_CSV)})


def charts_drawn(page) -> dict:
    """chart key -> (has a drawn Plotly layout, number of traces, error text)."""
    return page.evaluate(
        "() => Object.fromEntries([...document.querySelectorAll('.gdviz-live')].map(d => "
        "[d.dataset.key, [!!d._fullLayout, (d._fullData || []).length, d.dataset.error || '']]))"
    )


def test_california_and_the_puzzle_buttons(page, scaling_url, screenshot_dir):
    page.set_viewport_size({"width": 1400, "height": 5200})
    page.goto(f"{scaling_url}/scaling")
    wait_for_app(page, n_charts=len(CHARTS))
    assert exception_boxes(page) == []

    choose(page, "Dataset", "California housing (8 features)")
    page.get_by_text("California housing", exact=False).first.wait_for(timeout=30_000)
    page.locator("text=20,640 rows").first.wait_for(timeout=60_000)
    wait_idle(page)
    wait_for_app(page, n_charts=len(CHARTS))
    assert exception_boxes(page) == []
    drawn = charts_drawn(page)
    assert all(drawn[k][0] and drawn[k][1] > 0 and not drawn[k][2] for k in CHARTS), drawn
    # Two static charts (feature scales, thresholds) are st.plotly_chart.
    assert page.locator('[data-testid="stPlotlyChart"] .js-plotly-plot').count() == 2
    page.screenshot(path=str(screenshot_dir / "scaling_california.png"))

    page.get_by_role("button", name="Try 1e-6").click()
    page.locator('[data-testid="stMetricValue"]', has_text="diverged").first.wait_for(timeout=60_000)
    wait_idle(page)
    assert metric(page, "Status") == "diverged"
    assert exception_boxes(page) == []
    body = page.inner_text("body")
    assert "overflowed float64" in body and "Population" in body
    page.screenshot(path=str(screenshot_dir / "scaling_try_1e-6.png"))

    page.get_by_role("button", name="Try 1e-7").click()
    page.locator('[data-testid="stMetricValue"]', has_text="converged").first.wait_for(timeout=60_000)
    wait_idle(page)
    assert metric(page, "Status") == "converged"
    assert exception_boxes(page) == []
    page.screenshot(path=str(screenshot_dir / "scaling_try_1e-7.png"))

    choose(page, "Feature scaling", "Standard (mean 0, sd 1)")
    page.locator("text=scaling: standard").first.wait_for(timeout=60_000)
    wait_idle(page)
    assert exception_boxes(page) == []
    drawn = charts_drawn(page)
    assert all(drawn[k][0] and not drawn[k][2] for k in CHARTS), drawn
    page.screenshot(path=str(screenshot_dir / "scaling_standard.png"))


def test_phone_table_charts_and_the_scaling_box(page, scaling_url, screenshot_dir):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(scaling_url)  # the front page first (app.py's navigation), then the page's link
    wait_for_app(page, n_charts=1)
    page.goto(f"{scaling_url}/scaling")
    wait_for_app(page, n_charts=len(CHARTS))
    wait_idle(page)
    assert exception_boxes(page) == []
    assert "442 rows, 10 features" in page.inner_text("body")  # opens on raw diabetes
    # No Plotly toolbar over the two static charts' titles (the Download menu saves charts).
    assert page.locator('[data-testid="stPlotlyChart"] .js-plotly-plot').count() == 2
    assert page.evaluate("() => document.querySelectorAll('[data-testid=\"stPlotlyChart\"] .modebar').length") == 0
    # The comparison table fits: lambda_min and lambda_max are left out (and said to be), the rest shows.
    table = page.locator(".st-key-scaling_comparison")
    table.scroll_into_view_if_needed()
    shown = [name for name, visible in table_fits(page, "scaling_comparison") if visible]
    assert "lambda_min" not in shown and {"condition number", "2/lambda_max", "what a run does"} <= set(shown)
    assert table.get_by_text("On a narrow screen 'lambda_min' and 'lambda_max' are left out").is_visible()
    table.screenshot(path=str(screenshot_dir / "scaling_phone_table.png"))
    page.locator('[data-testid="stPlotlyChart"]').first.screenshot(path=str(screenshot_dir / "scaling_phone_chart.png"))
    # The scaling box shows its whole label, the longest one included (issue 12: "Standard (zero mean, unit
    # varian"). The box shows its value in an input: no part of the box may be narrower than its text.
    for label in ("Standard (mean 0, sd 1)", "Robust (median, IQR)", "Min-max (to [0, 1])", "None (raw units)"):
        name = {"Standard": "standard", "Robust": "robust", "Min-max": "minmax", "None": "none"}[label.split(" (")[0]]
        page.goto(f"{scaling_url}/scaling?dataset=diabetes&scale={name}")
        wait_for_app(page, n_charts=len(CHARTS))
        wait_idle(page)
        if page.locator('[data-testid="stSidebar"]').get_attribute("data-collapsed") == "true":
            page.locator('[data-testid="stExpandSidebarButton"]').click()
        page.wait_for_timeout(800)  # the sidebar slides in
        box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text="Feature scaling")
        assert box.locator("input").input_value() == label
        clipped = box.evaluate(
            "e => [...e.querySelectorAll('*')].filter(c => c.scrollWidth > c.clientWidth + 1).map(c => c.tagName)"
        )
        assert clipped == [], (label, clipped)
    page.screenshot(path=str(screenshot_dir / "scaling_phone_sidebar.png"))
