"""What one step does, in a real browser (issue 13): the Playground's two arrows and its eigen-directions chart
follow the player with no round trip, and the batch-size box changes the run.

Oracles: plain GD on the default line written out here (``naive_gd_line``), the Hessian's eigenvectors from
np.linalg.eigh, one row's gradient and numpy's default_rng(seed).permutation for a batch of one. Screenshots
(looked at by a person) go to tests/e2e/screenshots/.
"""

from __future__ import annotations

import numpy as np
import pytest

from gdviz import data
from tests.e2e.conftest import exception_boxes, metric, naive_gd_line, wait_for_app, wait_for_chart

LR = 0.05  # the default rate
CHARTS = ("playground_surface", "playground_contour", "playground_line", "playground_loss", "playground_grads",
          "playground_bars", "playground_eigen")  # fmt: skip


def traces(page, key: str) -> list[dict]:
    """The drawn traces of chart ``key``: name, x and y as Plotly holds them."""
    return page.evaluate(
        'k => document.querySelector(`.gdviz-live[data-key="${k}"]`)._fullData'
        ".map(t => ({name: t.name, x: Array.from(t.x || []), y: Array.from(t.y || [])}))",
        key,
    )


def named(items: list[dict], prefix: str) -> dict:
    (found,) = [t for t in items if str(t["name"]).startswith(prefix)]
    return found


def click(page, name: str) -> None:
    page.get_by_role("button", name=name, exact=True).first.click()


def line_xy():
    ds = data.synthetic_line()
    return np.column_stack([np.ones(len(ds.y)), ds.X[:, 0]]), ds.y


@pytest.fixture
def playground(page, app_url):
    page.goto(app_url)
    wait_for_app(page, n_charts=len(CHARTS))
    assert exception_boxes(page) == []
    return page


def test_the_arrows_and_the_eigen_chart_move_with_the_player(playground, screenshot_dir):
    page = playground
    X1, y = line_xy()
    w = naive_gd_line(LR, 6)
    vals, vecs = np.linalg.eigh(2.0 / len(y) * X1.T @ X1)
    opt = np.linalg.lstsq(X1, y, rcond=None)[0]
    for k in (1, 2, 3):
        click(page, "Step")
        for key in ("playground_contour", "playground_eigen"):
            wait_for_chart(page, key, str(k))
        contour = traces(page, "playground_contour")
        grad = named(contour, "-rate x gradient (x")
        update = named(contour, "update taken (x")
        scale = float(grad["name"].split("(x")[1].rstrip(")"))
        # Both arrows start at the current params; the update arrow ends at w_k + scale (w_{k+1} - w_k), and for
        # plain GD -rate x gradient is that same update.
        tip = w[k] + scale * (w[k + 1] - w[k])
        np.testing.assert_allclose([update["x"], update["y"]], [[w[k][0], tip[0]], [w[k][1], tip[1]]], rtol=1e-6)
        np.testing.assert_allclose([grad["x"], grad["y"]], [update["x"], update["y"]], rtol=1e-6)
        # The eigen chart's measured lines hold steps 0..k: log10 |V^T (w_t - w*)|.
        eigen = traces(page, "playground_eigen")
        for i in range(2):
            line = named(eigen, f"direction {i + 1} ")
            assert line["x"] == list(range(k + 1))
            np.testing.assert_allclose(line["y"], np.log10(np.abs((w[: k + 1] - opt) @ vecs[:, i])), atol=1e-4)
    click(page, "Back")
    wait_for_chart(page, "playground_eigen", "2")
    assert len(named(traces(page, "playground_eigen"), "direction 1 ")["x"]) == 3
    assert exception_boxes(page) == []
    page.locator('.gdviz-live[data-key="playground_contour"]').scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "playground_arrows_step2.png"))
    page.locator('.gdviz-live[data-key="playground_eigen"]').scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "playground_eigen_step2.png"))


def test_the_batch_box_runs_mini_batches(playground, screenshot_dir):
    page = playground
    old = page.evaluate("() => document.querySelector('.gdviz-player').__g.run")
    box = page.get_by_role("spinbutton", name="Mini-batch size (0 = full batch)")
    box.fill("1")
    box.press("Enter")
    page.wait_for_function("old => document.querySelector('.gdviz-player').__g.run !== old", arg=old, timeout=60_000)
    wait_for_chart(page, "playground_loss", "0")
    click(page, "Step")
    wait_for_chart(page, "playground_loss", "1")
    X1, y = line_xy()
    i = np.random.default_rng(0).permutation(len(y))[0]  # epoch 0's first row (the seed is the config's, 0)
    w1 = -LR * 2.0 * (X1[i] @ np.zeros(2) - y[i]) * X1[i]  # one row's gradient step from the zero start
    assert float(metric(page, "Intercept")) == pytest.approx(w1[0], rel=1e-5)
    assert float(metric(page, "Slope on x")) == pytest.approx(w1[1], rel=1e-5)
    assert not np.allclose(w1, naive_gd_line(LR, 1)[1], rtol=1e-3)  # not the full-batch step
    page.keyboard.press("End")
    wait_for_chart(page, "playground_loss", "10000")
    names = [t["name"] for t in traces(page, "playground_loss")]
    assert any(n.startswith("noise plateau") for n in names) and "full-batch GD, closed form (not this run)" in names
    assert exception_boxes(page) == []
    page.locator('.gdviz-live[data-key="playground_loss"]').scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "playground_batch1_loss.png"))
