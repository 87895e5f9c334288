"""The Playground in a real browser: the player steps, plays and answers keys with no message to the server,
keeps the 3D camera under a real mouse drag, plays a diverged run to its end, and a click on the contour
moves the start. Screenshots (looked at by a person) are saved under tests/e2e/screenshots/.
"""

from __future__ import annotations

import json
import time

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.e2e.conftest import exception_boxes, metric, naive_gd_line, wait_for_app, wait_for_chart, wait_idle

CHARTS = (
    "playground_surface",
    "playground_contour",
    "playground_line",
    "playground_loss",
    "playground_grads",
    "playground_bars",
    "playground_eigen",
)
CHARTS_2D = CHARTS[1:]


def contour_lines(page) -> int:
    return page.evaluate(
        "() => document.querySelector('.gdviz-live[data-key=\"playground_contour\"]')"
        ".querySelectorAll('.shapelayer path').length"  # the contours are layout shapes
    )


def click(page, name: str) -> None:
    page.get_by_role("button", name=name, exact=True).first.click()


def camera_eye(page) -> dict:
    return page.evaluate(
        "() => ({...document.querySelector('.gdviz-live[data-key=\"playground_surface\"]')"
        "._fullLayout.scene.camera.eye})"
    )


def run_name(page) -> str:
    """The name of the run the player holds (a new setting is a new run)."""
    return page.evaluate("() => document.querySelector('.gdviz-player').__g.run")


def wait_for_new_run(page, old: str) -> None:
    """Wait until the player holds a run other than ``old`` and its charts have drawn its step 0."""
    page.wait_for_function("old => document.querySelector('.gdviz-player').__g.run !== old", arg=old, timeout=30_000)
    for key in CHARTS:
        wait_for_chart(page, key, "0")


def path_length(page, key: str = "playground_contour") -> int:
    return page.evaluate(
        'k => document.querySelector(`.gdviz-live[data-key="${k}"]`)._fullData'
        ".filter(t => t.name === 'path')[0].x.length",
        key,
    )


@pytest.fixture
def playground(page, app_url):
    sent = {"n": 0}
    page.on("websocket", lambda ws: ws.on("framesent", lambda _: sent.__setitem__("n", sent["n"] + 1)))
    page.goto(app_url)
    wait_for_app(page, n_charts=len(CHARTS))
    assert exception_boxes(page) == []  # an error box would hide the read-out
    page.sent = sent
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
    assert path_length(page) == 3  # the contour's path really has the three points of steps 0..2
    assert path_length(page, "playground_surface") == 3
    assert exception_boxes(page) == []


def test_fast_key_presses_on_the_rate_slider_all_count_and_the_link_follows(playground):
    """Eleven ArrowRight presses 50 ms apart, as a keyboard user heading for a divergent rate: each moves the
    slider one notch, and the slider, the exact box and the link all end on the same rate. A new user saw the
    slider at 0.09 while the link said lr=0.14: each rerun carried an address the browser had not caught up
    with, which the page read as a new link, undoing the newest press."""
    from urllib.parse import parse_qs, urlparse

    # The slider's notches are the Renard R20 series: from the default 0.05, eleven notches up is 0.18
    # (0.056, 0.063, 0.071, 0.08, 0.09, 0.1, 0.112, 0.125, 0.14, 0.16, 0.18).
    page = playground
    slider = page.locator('[data-testid="stSidebar"] input[type=range]').first
    assert slider.get_attribute("aria-valuetext") == "0.05"
    slider.focus()
    for _ in range(11):
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(50)
    page.wait_for_function("() => new URLSearchParams(location.search).get('lr') === '0.18'", timeout=60_000)
    wait_idle(page)
    page.wait_for_timeout(1500)  # anything still on its way arrives
    exact = page.get_by_role("spinbutton", name="Exact learning rate")
    assert (slider.get_attribute("aria-valuetext"), exact.input_value()) == ("0.18", "0.18")
    assert parse_qs(urlparse(page.url).query)["lr"] == ["0.18"]
    assert exception_boxes(page) == []


def test_keys_step_jump_and_play(playground):
    page = playground
    player = page.locator(".gdviz-player")
    player.focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    wait_for_chart(page, "playground_loss", "3")
    page.keyboard.press("ArrowLeft")
    wait_for_chart(page, "playground_loss", "2")
    assert metric(page, "Step") == "2"
    page.keyboard.press("End")
    assert metric(page, "Step") == "1,321" and metric(page, "Status") == "converged"
    page.keyboard.press("Home")
    assert metric(page, "Step") == "0"
    page.keyboard.press("Space")  # plays
    page.get_by_role("button", name="Pause", exact=True).wait_for(timeout=5_000)
    page.wait_for_timeout(600)
    page.keyboard.press("Space")  # pauses
    page.get_by_role("button", name="Play", exact=True).wait_for(timeout=5_000)
    assert int(metric(page, "Step").replace(",", "")) > 0
    live = page.locator('.gdviz-player [aria-live="polite"]').inner_text()
    assert live.startswith("Step ") and "Loss " in live  # what a screen reader hears once Play stops


def test_fifty_moves_send_the_server_nothing_until_the_pause(playground):
    page = playground
    page.wait_for_timeout(1500)  # the page's own start-up messages are over
    before = page.sent["n"]
    player = page.locator(".gdviz-player")
    player.focus()
    for i in range(50):
        page.keyboard.press("ArrowRight" if i % 5 != 4 else "ArrowLeft")
        if i % 10 == 0:
            click(page, "Step")
    page.wait_for_timeout(300)
    assert page.sent["n"] == before, "the browser talked to the server while the user was moving"
    step = metric(page, "Step")
    # About a second after the last move the browser tells the server the step (share links, downloads).
    page.wait_for_function(
        "s => (document.querySelector('[data-testid=\"gdviz-share-url\"]') || {}).value?.includes('step=' + s)",
        arg=step,
        timeout=10_000,
    )
    assert page.sent["n"] > before


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
    page.wait_for_function(
        "() => +document.querySelector('.gdviz-live[data-key=\"playground_surface\"]').dataset.revision >= 2",
        timeout=30_000,
    )
    click(page, "Pause")
    page.wait_for_timeout(1500)  # the sync rerun after the pause redraws nothing: the camera stays
    assert camera_eye(page) == pytest.approx(rotated, abs=1e-9)
    # A new setting is a new run: the charts are drawn again, with the camera the user chose.
    old = run_name(page)
    click(page, "Slow")
    page.get_by_text("Predicted from the Hessian: Slow").wait_for(timeout=30_000)
    wait_for_new_run(page, old)
    assert camera_eye(page) == pytest.approx(rotated, abs=1e-9)


def test_play_delivers_steps_at_the_chosen_speed(playground):
    page = playground
    page.locator(".gdviz-player select").select_option("30")
    t0 = time.monotonic()
    click(page, "Play")
    page.wait_for_timeout(2000)
    click(page, "Pause")
    elapsed = time.monotonic() - t0
    step = int(metric(page, "Step").replace(",", ""))
    assert 30 * 1.5 <= step <= 30 * elapsed + 3, (step, elapsed)  # 30 steps/s, none skipped ahead
    for key in CHARTS:  # when Play stops every chart shows that step, the 3D one included
        wait_for_chart(page, key, str(step))


def test_the_memo_of_array_attributes_answers_what_plotly_would(playground):
    """plotly_loader.js keeps each player trace's array attributes instead of Plotly re-crawling its schema on
    every frame: after steps, a jump and Play, every trace of every chart holds what the crawl says now."""
    page = playground
    page.locator(".gdviz-player").focus()
    for key in ("ArrowRight", "ArrowRight", "End", "Home"):
        page.keyboard.press(key)
    click(page, "Play")
    page.wait_for_timeout(800)
    click(page, "Pause")
    step = metric(page, "Step").replace(",", "")
    for key in CHARTS:
        wait_for_chart(page, key, step)
    checked = page.evaluate("""() => {
      const L = window.__gdvizPlotly;
      if (!L.findArrayAttributes) return null;
      const out = [];
      for (const d of document.querySelectorAll('.gdviz-live')) {
        for (const t of d._fullData || []) {
          out.push([d.dataset.key, t.name, L.memoTraces.has(t._input), JSON.stringify(t._arrayAttrs),
                    JSON.stringify(L.findArrayAttributes(t))]);
        }
      }
      return out;
    }""")
    assert checked, "the memo is not installed"
    assert all(memo for _, _, memo, _, _ in checked)  # every player trace uses it
    assert any("x" in json.loads(kept) for _, _, _, kept, _ in checked)
    for key, name, _, kept, fresh in checked:
        assert kept == fresh, (key, name)


def test_play_skips_charts_out_of_sight_and_draws_them_when_seen_or_stopped(playground):
    page = playground
    below = page.evaluate(  # the 2D charts below the first screen (1400 x 1000) and one in sight
        'keys => keys.filter(k => document.querySelector(`.gdviz-live[data-key="${k}"]`)'
        ".getBoundingClientRect().top > window.innerHeight)",
        list(CHARTS_2D),
    )
    assert "playground_eigen" in below and "playground_contour" not in below, below
    page.evaluate(
        """keys => { window.__revs = {}; for (const k of keys) { window.__revs[k] = new Set();
             const d = document.querySelector(`.gdviz-live[data-key="${k}"]`);
             new MutationObserver(() => window.__revs[k].add(d.dataset.revision))
               .observe(d, {attributes: true, attributeFilter: ['data-revision']}); } }""",
        [*below, "playground_contour"],
    )
    page.locator(".gdviz-player select").select_option("30")
    click(page, "Play")
    page.wait_for_timeout(1500)
    revs = page.evaluate("() => Object.fromEntries(Object.entries(window.__revs).map(([k, v]) => [k, v.size]))")
    assert revs["playground_contour"] >= 10, revs  # in sight: drawn as Play goes
    assert all(revs[k] == 0 for k in below), revs  # out of sight: not drawn while playing
    # Scrolled into sight while playing: drawn at once, then as Play goes.
    page.locator('.gdviz-live[data-key="playground_eigen"]').scroll_into_view_if_needed()
    page.wait_for_function("() => window.__revs.playground_eigen.size >= 3", timeout=10_000)
    click(page, "Pause")
    step = metric(page, "Step").replace(",", "")
    for key in CHARTS:  # Play stopped: every chart shows its step, in sight or not
        wait_for_chart(page, key, step)


def test_a_diverged_run_plays_to_its_end_without_an_error_box(playground, screenshot_dir):
    page = playground
    old = run_name(page)
    exact = page.get_by_label("Exact learning rate", exact=True)
    exact.fill("0.3")  # 2.75x 2/lambda_max: it overflows float64 in a few hundred steps
    exact.press("Enter")
    page.get_by_text("Predicted from the Hessian: Divergent").wait_for(timeout=30_000)
    wait_for_new_run(page, old)
    page.locator(".gdviz-player select").select_option("60")
    click(page, "Play")
    page.get_by_role("button", name="Play", exact=True).wait_for(timeout=60_000)  # Play stops at the end
    assert metric(page, "Status") == "diverged"
    assert metric(page, "Loss") == "overflowed"
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
        ".filter(t => t.name === 'measured loss')[0].y.filter(v => v !== null && isFinite(v)))"
    )
    assert ymax > 1e100  # drawn on a log axis, not clipped
    page.screenshot(path=str(screenshot_dir / "playground_divergent_top.png"))


@pytest.mark.parametrize("regime", ["Slow", "Good", "Oscillating", "Divergent"])
def test_screenshot_of_each_regime(page, app_url, screenshot_dir, regime):
    page.set_viewport_size({"width": 1400, "height": 2600})
    page.goto(app_url)
    wait_for_app(page, n_charts=len(CHARTS))
    old = run_name(page)
    click(page, regime)
    page.get_by_text(f"Predicted from the Hessian: {regime}").wait_for(timeout=30_000)
    wait_for_new_run(page, old)
    click(page, "Step x10")
    for key in CHARTS:
        wait_for_chart(page, key, "10")
    assert exception_boxes(page) == []
    page.wait_for_timeout(500)
    page.screenshot(path=str(screenshot_dir / f"playground_{regime.lower()}.png"))


@pytest.mark.parametrize(("width", "height"), [(1024, 768), (1400, 900)])
def test_the_teachers_first_screen_holds_controls_readout_surface_and_contour(page, app_url, screenshot_dir,
                                                                               width, height):  # fmt: skip
    page.set_viewport_size({"width": width, "height": height})
    page.goto(app_url)
    wait_for_app(page, n_charts=len(CHARTS))
    page.wait_for_timeout(500)
    bottoms = page.evaluate(
        """() => {
          const b = s => document.querySelector(s).getBoundingClientRect().bottom;
          return {controls: b('.gdviz-controls'), readout: b('.gdviz-readout'),
                  surface: b('.gdviz-live[data-key="playground_surface"]'),
                  contour: b('.gdviz-live[data-key="playground_contour"]')};
        }"""
    )
    for name, bottom in bottoms.items():
        assert bottom <= height, f"the {name} ends at {bottom:.0f} px on a {width}x{height} screen"
    assert exception_boxes(page) == []
    page.screenshot(path=str(screenshot_dir / f"playground_first_screen_{width}x{height}.png"))


def test_phone_layout_has_no_error(page, app_url, screenshot_dir):
    page.set_viewport_size({"width": 390, "height": 2400})
    page.goto(app_url)
    wait_for_app(page, n_charts=len(CHARTS))
    click(page, "Step x10")
    wait_for_chart(page, "playground_loss", "10")
    assert exception_boxes(page) == []
    page.screenshot(path=str(screenshot_dir / "playground_phone.png"))


def test_a_click_on_the_contours_starts_the_run_there(playground, screenshot_dir):
    page = playground
    click(page, "Step x10")
    wait_for_chart(page, "playground_contour", "10")
    (x0, x1), (y0, y1) = page.evaluate(
        "() => { const l = document.querySelector('.gdviz-live[data-key=\"playground_contour\"]')._fullLayout;"
        " return [l.xaxis.range, l.yaxis.range]; }"
    )
    area = page.locator('.gdviz-live[data-key="playground_contour"] .nsewdrag').first.bounding_box()
    page.mouse.click(area["x"] + area["width"] * 0.75, area["y"] + area["height"] * 0.25)
    # The run starts again at step 0 from the clicked point: read-out, start boxes and link.
    page.wait_for_function(
        "() => document.querySelector('[data-gdviz-readout=\"Step\"]').innerText === '0'"
        " && document.querySelector('[data-gdviz-readout=\"Intercept\"]').innerText !== '0'",
        timeout=30_000,
    )
    wait_for_chart(page, "playground_contour", "0")
    intercept, slope = float(metric(page, "Intercept")), float(metric(page, "Slope on x"))
    assert float(page.get_by_role("spinbutton", name="Start intercept").input_value()) == intercept
    assert float(page.get_by_role("spinbutton", name="Start slope").input_value()) == slope
    # The run starts at the point under the pointer (to a pixel, then 4 significant figures): 3/4 of the way
    # along the x axis, 1/4 down from the top of the y axis.
    px_x, px_y = (x1 - x0) / area["width"], (y1 - y0) / area["height"]
    assert intercept == pytest.approx(x0 + 0.75 * (x1 - x0), abs=2 * px_x + 1e-3 * abs(intercept))
    assert slope == pytest.approx(y1 - 0.25 * (y1 - y0), abs=2 * px_y + 1e-3 * abs(slope))
    page.wait_for_function(
        "() => (document.querySelector('[data-testid=\"gdviz-share-url\"]') || {}).value?.includes('start_intercept=')",
        timeout=10_000,
    )
    start = page.evaluate(
        "() => document.querySelector('.gdviz-live[data-key=\"playground_contour\"]')._fullData"
        ".find(t => t.name === 'start').x[0]"
    )
    assert start == pytest.approx(intercept)
    assert exception_boxes(page) == []
    page.screenshot(path=str(screenshot_dir / "playground_click_start.png"))


def test_a_click_on_the_3d_surface_starts_the_run_there(playground, screenshot_dir):
    page = playground
    chart = page.locator('.gdviz-live[data-key="playground_surface"]')
    chart.scroll_into_view_if_needed()
    grid = page.evaluate(
        "() => { const t = document.querySelector('.gdviz-live[data-key=\"playground_surface\"]')._fullData"
        ".find(t => t.type === 'surface'); return [Array.from(t.x), Array.from(t.y)]; }"
    )
    restarted = (
        "() => document.querySelector('[data-gdviz-readout=\"Step\"]').innerText === '0'"
        " && document.querySelector('[data-gdviz-readout=\"Intercept\"]').innerText !== '0'"
    )
    # The pointer rests on the bowl until Plotly has picked the 3D point under it (its hover event names the
    # surface; on a loaded machine that can take seconds, so failing it the pointer moves a little and waits
    # again), then one quick click: a tap whose press and release fall between two of the scene's frames, which
    # Plotly reports no click for (its 3D click comes from its render loop), starts the run there too.
    page.evaluate(
        "() => { const d = document.querySelector('.gdviz-live[data-key=\"playground_surface\"]');"
        " d.on('plotly_hover', e => { d.__picked = e.points.some(p => p.data.type === 'surface'); });"
        " d.on('plotly_unhover', () => { d.__picked = false; }); }"
    )
    picked = "() => document.querySelector('.gdviz-live[data-key=\"playground_surface\"]').__picked === true"
    for attempt in range(6):
        chart.scroll_into_view_if_needed()
        box = chart.bounding_box()  # read again: the page above the chart may have moved it since
        x, y = box["x"] + box["width"] / 2 + 4 * attempt, box["y"] + box["height"] / 2
        page.mouse.move(x - 6, y)
        page.mouse.move(x, y)
        try:  # the scene's first pick can take long on a loaded machine
            page.wait_for_function(picked, timeout=15_000 if attempt == 0 else 5_000)
            break
        except PlaywrightTimeoutError:
            continue
    page.wait_for_timeout(100)
    page.mouse.down()
    page.mouse.up()
    page.wait_for_function(restarted, timeout=30_000)
    intercept, slope = float(metric(page, "Intercept")), float(metric(page, "Slope on x"))
    # A point of the surface's own grid (4 significant figures), the numbers Python sent.
    assert min(abs(v - intercept) for v in grid[0]) <= 1e-3 * max(1.0, abs(intercept))
    assert min(abs(v - slope) for v in grid[1]) <= 1e-3 * max(1.0, abs(slope))
    assert float(page.get_by_role("spinbutton", name="Start intercept").input_value()) == intercept
    assert exception_boxes(page) == []
    page.screenshot(path=str(screenshot_dir / "playground_click_start_3d.png"))
