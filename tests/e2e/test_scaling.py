"""The Feature scaling page in a real browser: switch to California housing, press the puzzle buttons, switch
the scaling, step through the run with no message to the server (every chart follows), open a link at its
step, and save screenshots (looked at by a person) under tests/e2e/screenshots/scaling*.png.

The page needs California housing offline, so this module starts its own server with GDVIZ_CALIFORNIA_CSV
pointing at the shared CSV (the session server of conftest.py may have been started without it).
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_diabetes

from tests.conftest import CALIFORNIA_CSV
from tests.e2e.conftest import (
    Protocol,
    choose,
    exception_boxes,
    metric,
    serve_app,
    table_fits,
    wait_for_app,
    wait_for_chart,
    wait_idle,
)

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
    # The 3D chart's note (held params; why its path stops early) sits under its title, not over it.
    boxes = page.evaluate("""() => {
        const div = document.querySelector('.gdviz-live[data-key="scaling_surface"]');
        const box = (e) => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
        return [box(div.querySelector('.gtitle')), ...[...div.querySelectorAll('.annotation')].map(box)];
    }""")
    title, notes = boxes[0], boxes[1:]
    assert notes and all(n[1] >= title[3] for n in notes), boxes
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


def diabetes_gd(lr: float, steps: int) -> np.ndarray:
    """Plain GD on raw diabetes (every feature) written out here: params after each step, rows 0..steps."""
    X, y = load_diabetes(return_X_y=True, scaled=False)
    X1 = np.column_stack([np.ones(len(y)), X])
    w = np.zeros(X1.shape[1])
    out = [w]
    for _ in range(steps):
        w = w - lr * 2 / len(y) * X1.T @ (X1 @ w - y)
        out.append(w)
    return np.array(out)


def open_scaling(page, url: str, query: str = "") -> None:
    page.goto(url)  # the front page first (app.py's navigation), then the page's link
    wait_for_app(page, n_charts=1)
    page.goto(f"{url}/scaling{query}")
    wait_for_app(page, n_charts=len(CHARTS))
    wait_idle(page)


def test_stepping_moves_every_chart_and_sends_the_server_nothing(page, scaling_url, screenshot_dir, tmp_path):
    sent = {"n": 0}
    page.on("websocket", lambda ws: ws.on("framesent", lambda _: sent.__setitem__("n", sent["n"] + 1)))
    protocol = Protocol(page)
    page.set_viewport_size({"width": 1400, "height": 900})
    # Raw diabetes at a stable rate (1e-5 < 2/lambda_max = 1.36e-5): a slow run, every step stored.
    open_scaling(page, scaling_url, "?dataset=diabetes&lr=1e-05&max_steps=200")
    assert exception_boxes(page) == []
    page.wait_for_timeout(1500)  # the page's own start-up messages are over
    before, since = sent["n"], protocol.mark()
    player = page.locator(".gdviz-player")
    player.focus()
    page.keyboard.press("Home")
    for i in range(50):
        page.keyboard.press("ArrowRight" if i % 5 != 4 else "ArrowLeft")  # 40 right, 10 left: step 30
    for key in CHARTS:
        wait_for_chart(page, key, "30")
    assert sent["n"] == before, "the browser talked to the server while the user was moving"
    assert metric(page, "Step") == "30"
    ws = diabetes_gd(1e-5, 30)
    assert float(metric(page, "intercept")) == pytest.approx(ws[30][0], rel=1e-5)
    path = page.evaluate(
        "() => document.querySelector('.gdviz-live[data-key=\"scaling_contour\"]')._fullData"
        ".filter(t => t.name === 'path (projected)')[0].x.length"
    )
    assert path == 31  # steps 0..30 on the cost slice
    page.wait_for_function(
        "() => (document.querySelector('[data-testid=\"gdviz-share-url\"]') || {}).value?.includes('step=30')",
        timeout=15_000,
    )
    assert sent["n"] > before
    # With the others held at the current step's params, the slice is redrawn at the synced step.
    page.get_by_text("step 30's params").first.wait_for(timeout=30_000)
    wait_idle(page)
    # The step sync reran the player's fragment only (the player, the slice, the Download menu, the link): one
    # request naming a fragment, and every element the server sent back belongs to it.
    reruns, deltas = protocol.reruns(since), protocol.deltas(since)
    assert len(reruns) == 1 and reruns[0], reruns
    assert deltas and set(deltas) == {reruns[0]}, deltas
    assert exception_boxes(page) == []
    player.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "scaling_player.png"))
    # The Download menu saves the charts at the synced step: the gradient bars at step 30.
    page.locator('[data-testid="stPopover"] button').filter(has_text="Download").first.click()
    menu = page.locator('[data-testid="stPopoverBody"]')
    menu.wait_for(state="visible", timeout=10_000)
    menu.locator('[data-testid="stSelectbox"]').click()
    page.get_by_role("option", name="Gradient per weight at the chosen step").click()
    wait_idle(page)  # the pick reruns the fragment: a click before its new button arrives asks for a revoked file
    with page.expect_download(timeout=60_000) as info:
        menu.get_by_role("button", name="The figure (interactive HTML)").click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    viewer = page.context.new_page()
    viewer.goto(path.as_uri())
    viewer.wait_for_function("() => document.querySelector('.js-plotly-plot')?._fullData?.length > 0", timeout=30_000)
    bars = viewer.evaluate(
        "() => { const p = document.querySelector('.js-plotly-plot');"
        " return {title: p._fullLayout.title.text, data: p._fullData.map(t => [t.x, t.y])}; }"
    )
    viewer.close()
    assert "30" in bars["title"], bars["title"]
    X, y = load_diabetes(return_X_y=True, scaled=False)
    X1 = np.column_stack([np.ones(len(y)), X])
    g30 = 2 / len(y) * X1.T @ (X1 @ ws[30] - y)
    values = [v for x, yy in bars["data"] for v in (x, yy) if len(v) == 11 and not isinstance(v[0], str)]
    assert any(np.allclose(np.abs(v), np.abs(g30), rtol=1e-5) for v in values), (values, g30)


def test_a_link_opens_at_its_step(page, scaling_url):
    open_scaling(page, scaling_url, "?dataset=diabetes&lr=1e-05&max_steps=200&step=17")
    for key in CHARTS:
        wait_for_chart(page, key, "17")
    assert metric(page, "Step") == "17"
    assert float(metric(page, "intercept")) == pytest.approx(diabetes_gd(1e-5, 17)[17][0], rel=1e-5)
    assert exception_boxes(page) == []


def test_a_link_past_the_end_opens_at_the_last_step_with_a_notice(page, scaling_url, screenshot_dir):
    page.set_viewport_size({"width": 1400, "height": 2400})
    open_scaling(page, scaling_url, "?dataset=diabetes&lr=1e-05&max_steps=40&step=999")
    notice = "The step (step) in the link, 999, is past the max steps (40): showing the last step this run reaches."
    page.get_by_text(notice).wait_for(timeout=30_000)
    for key in CHARTS:
        wait_for_chart(page, key, "40")
    assert metric(page, "Step") == "40"
    assert float(metric(page, "intercept")) == pytest.approx(diabetes_gd(1e-5, 40)[40][0], rel=1e-5)
    assert "step=40" in page.locator('[data-testid="gdviz-share-url"]').input_value()
    wait_idle(page)
    assert exception_boxes(page) == []
    assert all(drawn and n > 0 and not err for drawn, n, err in charts_drawn(page).values()), charts_drawn(page)
    page.screenshot(path=str(screenshot_dir / "scaling_link_past_the_end.png"))
