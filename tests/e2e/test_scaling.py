"""The Feature scaling page in a real browser: switch to California housing, press the puzzle buttons, switch
the scaling, and save screenshots (looked at by a person) under tests/e2e/screenshots/scaling*.png.

The page needs California housing offline, so this module starts its own server with GDVIZ_CALIFORNIA_CSV
pointing at the shared CSV (the session server of conftest.py may have been started without it).
"""

from __future__ import annotations

import pytest

from tests.conftest import CALIFORNIA_CSV
from tests.e2e.conftest import choose, exception_boxes, metric, serve_app, wait_for_app, wait_idle

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

    choose(page, "Dataset", "California housing (20,640 districts, 8 features)")
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
