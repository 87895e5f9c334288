"""The Playground in a real browser: stepping, the 3D camera under a real mouse drag, the divergent preset,
and one screenshot per regime (looked at by a person; saved under tests/e2e/screenshots/)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import exception_boxes, metric, naive_gd_line, wait_for_app, wait_for_chart

CHARTS = (
    "playground_surface",
    "playground_contour",
    "playground_line",
    "playground_loss",
    "playground_grads",
    "playground_bars",
)


def contour_lines(page) -> int:
    return page.evaluate(
        "() => document.querySelector('.gdviz-live[data-key=\"playground_contour\"]')"
        ".querySelectorAll('.contourlevel path, .contourfill path').length"
    )


def click(page, name: str) -> None:
    page.get_by_role("button", name=name, exact=True).first.click()


def camera_eye(page) -> dict:
    """The drawn 3D chart's camera eye. Play/Pause rebuilds the stepping fragment, so for a moment the old
    (purged) chart div and the new one can both be in the page: wait for the one that is drawn."""
    drawn = "[...document.querySelectorAll('.gdviz-live[data-key=\"playground_surface\"]')].find(d => d._fullLayout)"
    page.wait_for_function(f"() => {{ const d = {drawn}; return d && d.dataset.revision; }}", timeout=30_000)
    return page.evaluate(f"() => {{ const c = {drawn}._fullLayout.scene.camera; return {{...c.eye}}; }}")


@pytest.fixture
def playground(page, app_url):
    page.goto(app_url)
    wait_for_app(page, n_charts=len(CHARTS))
    assert exception_boxes(page) == []  # an error box would hide the read-out: say so, not "Step is 1,321"
    return page


def test_step_step_step_back_updates_the_readout_and_charts(playground):
    page = playground
    assert metric(page, "Step") == "0"
    for k in (1, 2, 3):
        click(page, "Step")
        for key in CHARTS:
            wait_for_chart(page, key, str(k))
        assert contour_lines(page) > 10, k  # an update that moved only the path once wiped the contours
    click(page, "Back")
    for key in CHARTS:
        wait_for_chart(page, key, "2")
    assert metric(page, "Step") == "2"
    w = naive_gd_line(0.05, 2)[-1]
    assert float(metric(page, "Intercept")) == pytest.approx(w[0], rel=1e-5)
    assert float(metric(page, "Slope on x")) == pytest.approx(w[1], rel=1e-5)
    # The contour's path really has the three points of steps 0..2.
    n = page.evaluate(
        "() => document.querySelector('.gdviz-live[data-key=\"playground_contour\"]')._fullData"
        ".filter(t => t.name === 'path')[0].x.length"
    )
    assert n == 3
    assert exception_boxes(page) == []


def test_rotated_camera_survives_step_back_and_play(playground):
    page = playground
    default = camera_eye(page)
    chart = page.locator('.gdviz-live[data-key="playground_surface"]')
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.down()
    for i in range(1, 13):
        page.mouse.move(cx + 12 * i, cy + 4 * i)
    page.mouse.up()
    page.wait_for_timeout(300)
    rotated = camera_eye(page)
    assert rotated != pytest.approx(default, abs=1e-3), "the drag did not rotate the camera"

    click(page, "Step")
    wait_for_chart(page, "playground_surface", "1")
    assert camera_eye(page) == pytest.approx(rotated, abs=1e-9)
    click(page, "Back")
    wait_for_chart(page, "playground_surface", "0")
    assert camera_eye(page) == pytest.approx(rotated, abs=1e-9)
    click(page, "Play")
    # Play may skip drawing a step (only the newest figure is drawn), so: >= 2. Play rebuilds the stepping
    # fragment, so the old chart div can linger beside the new one for a moment: any of them will do.
    page.wait_for_function(
        "() => [...document.querySelectorAll('.gdviz-live[data-key=\"playground_surface\"]')]"
        ".some(d => +d.dataset.revision >= 2)",
        timeout=60_000,
    )
    click(page, "Pause")
    # Pause reruns the whole page, which re-mounts the charts: wait until that run is over and the new 3D
    # chart has its WebGL scene again (the old div, gone by then, was the one read before this wait).
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && document.querySelectorAll('.gdviz-live[data-key=\"playground_surface\"] canvas').length >= 1",
        timeout=60_000,
    )
    assert camera_eye(page) == pytest.approx(rotated, abs=1e-9)


def test_divergent_preset_is_explained_without_an_error_box(playground, screenshot_dir):
    page = playground
    click(page, "Divergent")
    page.get_by_text("Predicted from the Hessian: Divergent").wait_for(timeout=30_000)
    click(page, "Run to end")
    page.get_by_text("Diverged.", exact=False).first.wait_for(timeout=30_000)
    assert metric(page, "Status") == "diverged"
    last = metric(page, "Step").replace(",", "")
    for key in CHARTS:  # every chart draws the last step, the 3D one included (its path stops where WebGL must)
        wait_for_chart(page, key, last)
    errors = page.evaluate("() => [...document.querySelectorAll('.gdviz-live')].map(d => d.dataset.error)")
    assert errors == [""] * len(CHARTS)
    assert exception_boxes(page) == []
    text = page.inner_text("body")
    assert "above 2/lambda_max" in text and "overflowed float64" in text
    assert "3D path stops at step" in text  # said, not silently cut
    ymax = page.evaluate(
        "() => Math.max(...document.querySelector('.gdviz-live[data-key=\"playground_loss\"]')._fullData"
        ".filter(t => t.name === 'measured loss')[0].y)"
    )
    assert ymax > 1e100  # drawn on a log axis, not clipped
    page.screenshot(path=str(screenshot_dir / "playground_divergent_top.png"))


@pytest.mark.parametrize("regime", ["Slow", "Good", "Oscillating", "Divergent"])
def test_screenshot_of_each_regime(page, app_url, screenshot_dir, regime):
    page.set_viewport_size({"width": 1400, "height": 3400})
    page.goto(app_url)
    wait_for_app(page, n_charts=len(CHARTS))
    click(page, regime)
    page.get_by_text(f"Predicted from the Hessian: {regime}").wait_for(timeout=30_000)
    click(page, "Step x10")
    for key in CHARTS:
        wait_for_chart(page, key, "10")
    assert exception_boxes(page) == []
    page.wait_for_timeout(500)
    page.screenshot(path=str(screenshot_dir / f"playground_{regime.lower()}.png"))


def test_phone_layout_has_no_error(page, app_url, screenshot_dir):
    page.set_viewport_size({"width": 390, "height": 2400})
    page.goto(app_url)
    wait_for_app(page, n_charts=len(CHARTS))
    click(page, "Step x10")
    wait_for_chart(page, "playground_loss", "10")
    assert exception_boxes(page) == []
    page.screenshot(path=str(screenshot_dir / "playground_phone.png"))
