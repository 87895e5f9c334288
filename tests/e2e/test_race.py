"""The Optimizer race in a real browser: stepping moves every run's path, point and arrows with no message to the
server, a run can be switched off, and screenshots (1400x900, 1024x768, a 390x844 phone) are saved under
tests/e2e/screenshots/ for a person to look at."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Error as PlaywrightError

from tests.e2e.conftest import exception_boxes, table_fits, wait_for_chart

CHARTS = ("race_contour", "race_surface", "race_loss")
RUNS = ("gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "newton", "line_search", "barzilai_borwein")


def open_race(page, app_url) -> None:
    """The front page first (it runs app.py's navigation), then the race; wait until its three charts drew."""
    page.goto(app_url)
    page.wait_for_selector(".gdviz-player", timeout=60_000)
    page.goto(f"{app_url}/race")
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && document.querySelectorAll('.gdviz-live[data-key^=\"race_\"][data-revision]').length >= 3",
        timeout=90_000,
    )


def payload(page) -> dict:
    return page.evaluate("() => document.querySelector('.gdviz-player').__g.P")


def traces(page, key: str) -> list[dict]:
    """name, x, y of every trace of chart ``key`` as Plotly holds them."""
    return json.loads(page.evaluate(
        'k => JSON.stringify(document.querySelector(`.gdviz-live[data-key="${k}"]`).data'
        ".map(t => ({name: t.name, x: Array.from(t.x || []), y: Array.from(t.y || [])})))",
        key,
    ))  # fmt: skip


def drawn_texts(page, key: str) -> list[str]:
    """The text labels Plotly drew on chart ``key`` (SVG text of its scatter points)."""
    return page.evaluate(
        'k => [...document.querySelectorAll(`.gdviz-live[data-key="${k}"] .textpoint text`)].map(t => t.textContent)',
        key,
    )


def quiet(page, *, still_ms: int = 1500, attempts: int = 20) -> None:
    """Wait until the browser has sent the server nothing for ``still_ms`` (a cold server's first run is slow)."""
    for _ in range(attempts):
        n = page.sent["n"]
        page.wait_for_timeout(still_ms)
        if page.sent["n"] == n:
            return


@pytest.fixture
def race_page(page, app_url):
    sent = {"n": 0}
    page.on("websocket", lambda ws: ws.on("framesent", lambda _: sent.__setitem__("n", sent["n"] + 1)))
    open_race(page, app_url)
    assert exception_boxes(page) == []
    page.sent = sent
    return page


def test_stepping_moves_every_path_point_and_arrow_with_no_server_message(race_page, screenshot_dir):
    page = race_page
    errors = page.evaluate("() => [...document.querySelectorAll('.gdviz-live')].map(d => d.dataset.error)")
    assert errors and all(e == "" for e in errors), errors
    quiet(page)  # the page's own start-up messages are over
    assert "all 9 runs" in drawn_texts(page, "race_contour")  # step 0: one label for the nine runs at the start
    before = page.sent["n"]
    page.locator(".gdviz-player").focus()
    for _ in range(6):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowLeft")
    for key in CHARTS:
        wait_for_chart(page, key, "5")
    assert page.sent["n"] == before, "the browser talked to the server while the user was stepping"
    p = payload(page)
    k = p["columns"]["step"].index(5)
    drawn = {t["name"]: t for t in traces(page, "race_contour")}
    for name in RUNS:
        label = next(c["label"] for c in p["readout"] if c["col"] == f"loss_{name}").removesuffix(" loss")
        path = drawn[label]
        assert path["x"] == p["columns"][f"x_{name}"][: k + 1]  # rows 0..k, picked from Python's columns
        assert drawn[f"{label} now"]["x"] == [p["columns"][f"x_{name}"][k]]
        grad = drawn[f"{label}: negative gradient"]
        assert grad["x"] == [p["columns"][f"x_{name}"][k], p["columns"][f"gx_{name}"][k]]
        update = drawn[f"{label}: update taken"]
        assert update["y"] == [p["columns"][f"y_{name}"][k], p["columns"][f"uy_{name}"][k]]
        want = p["labels"][p["columns"][f"label_{name}"][k]]  # its name, its group's, or "" (race.name_labels)
        assert page.evaluate(
            "([key, name]) => document.querySelector(`.gdviz-live[data-key=\"${key}\"]`).data"
            ".find(t => t.name === name).text", ["race_contour", f"{label} now"]
        ) == [want]  # fmt: skip
    shown = drawn_texts(page, "race_contour")
    want = {p["labels"][p["columns"][f"label_{name}"][k]] for name in RUNS} - {""}
    assert len(want) >= 2 and "all 9 runs" not in want
    assert sorted(t for t in shown if t) == sorted(want)  # every label of step 5 is drawn, and only those
    readout = page.locator('[data-gdviz-readout="Step"]').inner_text()
    assert readout.strip() == "5"
    page.screenshot(path=str(screenshot_dir / "race_1400_step5.png"))
    # About a second after the last move the browser tells the server the step (links, downloads).
    page.wait_for_function(
        "() => (document.querySelector('[data-testid=\"gdviz-share-url\"]') || {}).value?.includes('step=5')",
        timeout=30_000,
    )


def test_switching_a_run_off_redraws_without_it(race_page):
    page = race_page
    old = page.evaluate("() => document.querySelector('.gdviz-player').__g.run")
    page.get_by_text("The runs: switch each on or off").click()
    box = page.get_by_role("checkbox", name="Adam", exact=True)
    box.wait_for(state="attached")
    for _ in range(4):  # a click while the expander is still opening can be lost: click again until it took
        page.wait_for_timeout(500)
        try:
            box.uncheck(force=True, timeout=5_000)
        except PlaywrightError:
            continue
        if not box.is_checked():
            break
    page.wait_for_function("old => document.querySelector('.gdviz-player').__g.run !== old", arg=old, timeout=60_000)
    for key in CHARTS:
        wait_for_chart(page, key, "0")
    names = {t["name"] for t in traces(page, "race_contour")}
    assert "Adam" not in names and "GD" in names
    assert "x_adam" not in payload(page)["columns"]
    # The Copy link box re-reads the address twice a second.
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"gdviz-share-url\"]').value.includes('off=adam')",
        timeout=10_000,
    )
    assert exception_boxes(page) == []


@pytest.mark.parametrize("width,height", [(1400, 900), (1024, 768), (390, 844)])
def test_layouts_have_no_error_and_the_table_fits(page, app_url, screenshot_dir, width, height):
    page.set_viewport_size({"width": width, "height": height})
    open_race(page, app_url)
    assert exception_boxes(page) == []
    page.locator(".gdviz-player").focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    wait_for_chart(page, "race_contour", "3")
    page.wait_for_timeout(800)
    page.screenshot(path=str(screenshot_dir / f"race_{width}x{height}.png"))
    page.locator(".st-key-race_table").scroll_into_view_if_needed()
    columns = table_fits(page, "race_table")
    assert ("status", True) in columns and ("steps to tol", True) in columns
    page.screenshot(path=str(screenshot_dir / f"race_{width}x{height}_table.png"))
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, overflow
