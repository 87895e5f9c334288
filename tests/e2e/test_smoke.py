"""The app loads in a real browser (Debian Chromium), with its first page drawn and no error box."""

from __future__ import annotations

from tests.e2e.conftest import exception_boxes, wait_for_app


def test_playground_renders_without_error(page, app_url, screenshot_dir):
    page.goto(app_url)
    wait_for_app(page)
    page.get_by_text("Predicted regime").wait_for()
    assert exception_boxes(page) == []
    # The loss chart really drew a line with data (an empty chart is not a pass).
    n_points = page.evaluate(
        "() => { const el = document.querySelector('.js-plotly-plot');"
        " return el._fullData.filter(t => t.name === 'measured loss')[0].x.length; }"
    )
    assert n_points > 100
    body = page.inner_text("body")
    assert "Good" in body  # the default rate is in the good regime, predicted and observed
    page.screenshot(path=str(screenshot_dir / "playground.png"), full_page=True)
