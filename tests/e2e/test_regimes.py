"""The Regimes page in a real browser: one player (gdviz/ui/player.js) moves every panel with no message to
the server, a share link opens at its step, and screenshots (laptop and phone width) are saved under
tests/e2e/screenshots/ for a person to look at."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import exception_boxes, metric, naive_gd_line, table_fits, wait_for_app, wait_for_chart

LANES = ("slow", "good", "oscillating", "divergent", "decay")
CHARTS = ("regimes_overview", *(f"regimes_{lane}_{kind}" for lane in LANES for kind in ("contour", "loss")))


def path_length(page, key: str) -> int:
    """How many points the drawn path trace of contour chart ``key`` holds."""
    return page.evaluate(
        'k => document.querySelector(`.gdviz-live[data-key="${k}"]`)._fullData'
        ".filter(t => String(t.name).startsWith('path'))[0].x.length",
        key,
    )


def path_end(page, key: str) -> list[float]:
    """The last point of the drawn path of contour chart ``key``."""
    return page.evaluate(
        'k => { const t = document.querySelector(`.gdviz-live[data-key="${k}"]`)._fullData'
        ".filter(t => String(t.name).startsWith('path'))[0]; return [t.x[t.x.length - 1], t.y[t.y.length - 1]]; }",
        key,
    )


def wait_for_every_chart(page, step: int, timeout: float = 30_000) -> None:
    for key in CHARTS:
        wait_for_chart(page, key, str(step), timeout=timeout)


def open_regimes(page, app_url, query: str = "") -> None:
    """Open the app's front page, then the Regimes page's link (with ``query``), and wait for every chart.

    The front page first: until some session has run app.py (which calls st.navigation), Streamlit 1.67
    treats the pages/ folder as an old-style multipage app, and a fresh server would run pages/regimes.py
    on its own (no wide layout, no chart template).
    """
    page.goto(app_url)
    wait_for_app(page, n_charts=1)
    page.goto(f"{app_url}/regimes{query}")
    page.wait_for_function(
        "n => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && document.querySelectorAll('.gdviz-live[data-key^=\"regimes_\"][data-revision]').length >= n",
        arg=len(CHARTS),
        timeout=60_000,
    )


@pytest.fixture
def regimes_page(page, app_url):
    sent = {"n": 0}
    page.on("websocket", lambda ws: ws.on("framesent", lambda _: sent.__setitem__("n", sent["n"] + 1)))
    open_regimes(page, app_url)
    page.sent = sent
    return page


def good_rate(page) -> float:
    """The Good panel's preset rate, as its rate box states it ("preset 0.04598": the rate used, 4 s.f.)."""
    box = page.locator('.st-key-regimes_good_panel input[aria-label="Your rate for this panel"]')
    return float(box.get_attribute("placeholder").removeprefix("preset "))


def home_then_right(page, presses: int) -> None:
    """Focus the player, press Home, then ArrowRight ``presses`` times."""
    page.locator(".gdviz-player").focus()
    page.keyboard.press("Home")
    for _ in range(presses):
        page.keyboard.press("ArrowRight")


def test_page_draws_every_panel_without_an_error(regimes_page, screenshot_dir):
    page = regimes_page
    assert exception_boxes(page) == []
    errors = page.evaluate("() => [...document.querySelectorAll('.gdviz-live')].map(d => d.dataset.error)")
    assert len(errors) == len(CHARTS) and all(e == "" for e in errors), errors
    text = page.inner_text("body")
    for outcome in ("still moving after 10,000 steps", "converged in", "diverged at step"):
        assert outcome in text
    # It opens at the end of the longest run: the divergent path holds its whole (thinned) run.
    assert metric(page, "Step") == "10,000" and metric(page, "Divergent status") == "diverged"
    assert metric(page, "Divergent loss") == "overflowed" and metric(page, "Good status") == "converged"
    assert path_length(page, "regimes_divergent_contour") > 100
    page.set_viewport_size({"width": 1400, "height": 4200})
    page.wait_for_timeout(800)
    page.screenshot(path=str(screenshot_dir / "regimes_full.png"))


def test_keys_and_buttons_move_every_panel(regimes_page, screenshot_dir):
    page = regimes_page
    home_then_right(page, 8)
    wait_for_every_chart(page, 8)
    for lane in LANES:
        assert path_length(page, f"regimes_{lane}_contour") == 9, lane  # steps 0..8
    # The good run's point at step 8 is plain GD written out in the test, at the rate its card states.
    assert path_end(page, "regimes_good_contour") == pytest.approx(naive_gd_line(good_rate(page), 8)[-1], rel=1e-6)
    page.get_by_role("button", name="Back", exact=True).click()
    wait_for_every_chart(page, 7)
    assert metric(page, "Step") == "7" and metric(page, "Divergent status") == "running"
    page.get_by_role("button", name="End", exact=True).click()
    wait_for_every_chart(page, 10_000)
    assert metric(page, "Good status") == "converged"
    # Back from the end: only the slow run (stopped by max steps, the last to stop) moves; every other run
    # stays at its last state, and the player redraws only the charts that change.
    page.evaluate(
        "() => { window.__restyled = []; for (const name of ['restyle', 'update', 'animate', 'react']) {"
        " const orig = Plotly[name]; Plotly[name] = function (gd) {"
        " window.__restyled.push(gd.dataset.key); return orig.apply(this, arguments); }; } }"
    )
    before = page.evaluate("() => document.querySelector('.gdviz-player').__g.P.columns.step.at(-2)")
    page.get_by_role("button", name="Back", exact=True).click()
    wait_for_every_chart(page, before)
    assert sorted(set(page.evaluate("() => window.__restyled"))) == [
        "regimes_overview", "regimes_slow_contour", "regimes_slow_loss"
    ]  # fmt: skip
    assert metric(page, "Good status") == "converged" and metric(page, "Slow status") == "running"
    assert exception_boxes(page) == []
    home_then_right(page, 8)
    wait_for_every_chart(page, 8)
    page.set_viewport_size({"width": 1400, "height": 2600})
    page.wait_for_timeout(800)
    page.screenshot(path=str(screenshot_dir / "regimes.png"))


# Fifty moves made inside the page, one per animation frame (a held key repeats about that fast): keys on the
# player, its Step and Back buttons, and the scrubber dragged one stored step. Driven from the page, not by
# Playwright, so that a loaded machine cannot slip a pause of a second (which rightly syncs the step) between
# two moves. Resolves with the rows visited.
FIFTY_MOVES = """() => new Promise(resolve => {
  const root = document.querySelector('.gdviz-player');
  const g = root.__g;
  const button = name => [...root.querySelectorAll('button')].find(b => b.textContent === name);
  const key = k => root.dispatchEvent(new KeyboardEvent('keydown', {key: k, bubbles: true}));
  const scrub = root.querySelector('input[type=range]');
  const visited = [];
  let i = 0;
  const next = () => {
    if (i === 0) key('Home');
    else if (i % 10 === 0) button('Step').click();
    else if (i % 10 === 5) { scrub.value = String(g.k + 1); scrub.dispatchEvent(new Event('input', {bubbles: true})); }
    else if (i % 10 === 7) button('Back').click();
    else key(i % 5 === 4 ? 'ArrowLeft' : 'ArrowRight');
    visited.push(g.k);
    if (++i < 50) requestAnimationFrame(next); else resolve(visited);
  };
  requestAnimationFrame(next);
})"""


def test_fifty_moves_send_the_server_nothing_until_the_pause(regimes_page):
    page = regimes_page
    page.wait_for_timeout(1500)  # the page's own start-up messages are over
    before = page.sent["n"]
    visited = page.evaluate(FIFTY_MOVES)
    during = page.sent["n"]  # counted as the moves end (the step is synced a second later)
    assert during == before, "the browser talked to the server while the user was moving"
    assert len(set(visited)) > 10 and visited[-1] > 10  # it really moved, back and forth
    step = metric(page, "Step")
    wait_for_every_chart(page, int(step))
    for lane in LANES:  # every panel followed: steps 0..step of each run (none stops this early)
        assert path_length(page, f"regimes_{lane}_contour") == int(step) + 1, lane
    # About a second after the last move the browser tells the server the step (the share link, downloads).
    page.wait_for_function(
        "s => (document.querySelector('[data-testid=\"gdviz-share-url\"]') || {}).value?.includes('step=' + s)",
        arg=step,
        timeout=15_000,
    )
    assert page.sent["n"] > before


def test_a_share_link_opens_at_its_step(page, app_url):
    open_regimes(page, app_url, "?step=25")
    wait_for_every_chart(page, 25)
    assert metric(page, "Step") == "25"
    assert path_length(page, "regimes_good_contour") == 26
    assert path_end(page, "regimes_good_contour") == pytest.approx(naive_gd_line(good_rate(page), 25)[-1], rel=1e-6)
    assert exception_boxes(page) == []


def test_phone_width(page, app_url, screenshot_dir):
    page.set_viewport_size({"width": 390, "height": 3000})
    open_regimes(page, app_url)
    home_then_right(page, 5)
    wait_for_every_chart(page, 5)
    assert exception_boxes(page) == []
    width = page.evaluate("() => document.querySelector('.gdviz-live[data-key=\"regimes_slow_contour\"]').clientWidth")
    assert width <= 390  # one column: a panel never overflows the screen
    # The read-out: Step on its own row, then each run's loss and status side by side, one run a row.
    columns = page.evaluate(
        "() => getComputedStyle(document.querySelector('.gdviz-readout')).gridTemplateColumns.split(' ').length"
    )
    assert columns == 2
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
    assert metric(page, "Pinned 1 status") in ("running", "converged")
    assert exception_boxes(page) == []
    page.get_by_role("button", name="Unpin").scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    page.screenshot(path=str(screenshot_dir / "regimes_pinned.png"))


def test_a_thinned_run_says_how_far_apart_its_kept_steps_are(regimes_page):
    """The slow run's 10,000 steps are kept thinned for the browser (gdviz.thinning), so late in the run Step
    moves several steps at once: the note under the scrubber says so, and its "every Nth step" matches how far
    one Step actually moves there."""
    page = regimes_page
    note = page.locator(".gdviz-thin").first
    scrub_text = page.locator(".gdviz-scrub span").first

    def shown_step() -> int:
        return int(scrub_text.inner_text().split(" of ")[0].removeprefix("step ").replace(",", ""))

    def go_to(step: int) -> None:
        page.get_by_role("spinbutton", name="Go to step").first.fill(str(step))
        page.get_by_role("button", name="Go", exact=True).first.click()
        page.wait_for_timeout(300)

    assert note.is_visible() and note.inner_text().startswith("Long run: every step up to ")
    for target in (100, 3_700, 9_000):
        go_to(target)
        before = shown_step()
        said = note.inner_text().rsplit("Here: ", 1)[1]
        page.get_by_role("button", name="Step", exact=True).first.click()
        page.wait_for_timeout(300)
        moved = shown_step() - before
        assert said == ("every step." if moved == 1 else f"every {moved}th step."), (target, before, moved, said)
    assert moved > 1  # 9,000 is in the thinned part
    page.keyboard.press("End")
    page.wait_for_timeout(300)
    assert note.inner_text().endswith("Here: the run's last step, always kept.")
