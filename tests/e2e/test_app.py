"""The app loads in a real browser (Debian Chromium), with its first page drawn and no error box."""

from __future__ import annotations

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
