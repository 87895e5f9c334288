"""The Playground's Download menu in a real browser: the run CSV after a few steps (checked against naive
gradient descent written here), a figure's HTML opened from disk (file://, offline) and drawn by its own
inlined Plotly, and a screenshot of the open menu (looked at by a person; tests/e2e/screenshots/)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.e2e.conftest import exception_boxes, naive_gd_line, wait_for_app, wait_for_chart

CHARTS = (
    "playground_surface",
    "playground_contour",
    "playground_line",
    "playground_loss",
    "playground_grads",
    "playground_bars",
)


def open_menu(page):
    page.locator('[data-testid="stPopover"] button').filter(has_text="Download").first.click()
    body = page.locator('[data-testid="stPopoverBody"]')
    body.wait_for(state="visible", timeout=10_000)
    return body


def settle(page) -> None:
    page.wait_for_timeout(300)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=30_000)
    page.wait_for_timeout(300)


@pytest.fixture
def playground(page, app_url):
    page.goto(app_url)
    wait_for_app(page, n_charts=len(CHARTS))
    return page


def test_download_run_csv_and_a_figure_that_opens_offline(playground, screenshot_dir, tmp_path):
    page = playground
    for k in (1, 2, 3, 4):
        page.get_by_role("button", name="Step", exact=True).first.click()
        wait_for_chart(page, "playground_loss", str(k))
    menu = open_menu(page)
    csv_button = menu.get_by_role("button", name="The run so far, steps 0-4 (CSV)")
    csv_button.wait_for(timeout=10_000)
    page.wait_for_timeout(300)  # the popover's open animation
    page.screenshot(path=str(screenshot_dir / "export_menu.png"))

    with page.expect_download(timeout=30_000) as info:
        csv_button.click()
    download = info.value
    assert download.suggested_filename == "gdviz-playground-run-lr0.05.csv"
    df = pd.read_csv(download.path())
    assert list(df["step"]) == [0, 1, 2, 3, 4]
    expected = naive_gd_line(0.05, 4)
    np.testing.assert_allclose(df[["intercept", "slope on x"]].to_numpy(), expected, rtol=1e-12, atol=1e-12)
    assert np.isnan(df["learning_rate"][0]) and (df["learning_rate"][1:] == 0.05).all()

    # Pick the loss curve and save it as HTML.
    menu = open_menu(page) if not page.locator('[data-testid="stPopoverBody"]').is_visible() else menu
    menu.locator('[data-testid="stSelectbox"]').click()
    page.get_by_role("option", name="Loss over the steps").click()
    settle(page)  # the pick reruns the fragment: a click before its new button arrives asks for a revoked file
    fig_button = page.locator('[data-testid="stPopoverBody"]').get_by_role(
        "button", name="The figure (interactive HTML)"
    )
    with page.expect_download(timeout=60_000) as info:
        fig_button.click()
    download = info.value
    assert download.suggested_filename == "gdviz-playground-loss-over-the-steps-lr0.05.html"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    assert path.stat().st_size > 3_000_000  # plotly.js is inside
    assert exception_boxes(page) == []

    # Offline: block every network request; the file must draw from its own inlined Plotly.
    viewer = page.context.new_page()
    requests = []
    viewer.route("http*://**", lambda route: (requests.append(route.request.url), route.abort()))
    viewer.goto(path.as_uri())
    viewer.wait_for_function("() => document.querySelector('.js-plotly-plot')?._fullData?.length > 0",
                             timeout=30_000)  # fmt: skip
    drawn = viewer.evaluate(
        "() => document.querySelector('.js-plotly-plot')._fullData.map(t => ({name: t.name, n: (t.y || []).length}))"
    )
    assert requests == []
    assert any(t["n"] == 5 for t in drawn), drawn  # the loss at steps 0..4
    assert viewer.evaluate("() => document.querySelectorAll('.js-plotly-plot .main-svg').length") >= 1
    assert viewer.title() == "Loss over the steps"
    viewer.screenshot(path=str(screenshot_dir / "export_figure_html.png"))
    viewer.close()
