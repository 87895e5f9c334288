"""The Your data page in a real browser: upload a CSV through the real file input, pick the target, open the
Playground on it and Step; then a bad file. Screenshots (looked at by a person) are saved under
tests/e2e/screenshots/your_data_*.png.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.e2e.conftest import choose, exception_boxes, metric, wait_for_app, wait_for_chart, wait_idle

CHARTS = (
    "playground_surface",
    "playground_contour",
    "playground_line",
    "playground_loss",
    "playground_grads",
    "playground_bars",
)
SCALING_CHARTS = (
    "scaling_grad_start",
    "scaling_grad_step",
    "scaling_grad_history",
    "scaling_loss",
    "scaling_contour",
    "scaling_surface",
)
N = 40


@pytest.fixture(scope="module")
def houses() -> dict[str, np.ndarray]:
    """The columns of the file: the target 'price' comes first, so the reader's default (the last numeric
    column, 'age') must be changed by hand. 'rooms' and 'age' are independent, so no collinearity warning."""
    rng = np.random.default_rng(7)
    rooms = rng.normal(3.0, 1.0, N)
    age = rng.uniform(0.0, 4.0, N)
    price = 2.0 + 1.5 * rooms - 0.4 * age + 0.2 * rng.standard_normal(N)
    return {"price": price, "rooms": rooms, "age": age}


@pytest.fixture(scope="module")
def houses_csv(houses, tmp_path_factory):
    path = tmp_path_factory.mktemp("upload") / "houses.csv"
    lines = ["price,street,rooms,age"]
    price, rooms, age = (houses[c].tolist() for c in ("price", "rooms", "age"))  # floats: repr is exact
    lines += [f"{price[i]!r},Street {i},{rooms[i]!r},{age[i]!r}" for i in range(N)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def bad_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("upload") / "notes.csv"
    path.write_text("just one column\nhello\nworld\n")
    return path


def upload(page, path) -> None:
    page.locator('[data-testid="stFileUploader"] input[type=file]').set_input_files(str(path))
    wait_idle(page)


def test_upload_pick_the_target_and_step_on_the_playground(page, app_url, houses, houses_csv, bad_csv, screenshot_dir):
    page.set_viewport_size({"width": 1400, "height": 1400})
    page.goto(app_url)  # the Playground first, then the page through the navigation, as a person would
    wait_for_app(page, n_charts=len(CHARTS))
    page.get_by_role("link", name="Your data").click()
    page.get_by_text("No data uploaded yet").wait_for(timeout=30_000)
    page.locator('[data-testid="stFileUploaderDropzone"]').wait_for(timeout=30_000)
    wait_idle(page)
    assert page.locator('[data-testid="stDownloadButton"]').get_by_text("Download the example (CSV)").first.is_visible()
    dropzone = page.locator('[data-testid="stFileUploaderDropzone"]').inner_text()
    assert "10MB" in dropzone.replace(" ", "") and "20MB" not in dropzone.replace(" ", "")  # one limit, ours
    page.screenshot(path=str(screenshot_dir / "your_data_empty.png"))

    upload(page, houses_csv)
    page.get_by_text("Loaded: houses.csv").wait_for(timeout=30_000)
    assert exception_boxes(page) == []
    body = page.inner_text("body")
    assert "40 rows x 3 usable numeric columns" in body
    assert "'street'" in body  # the note on the dropped text column
    choose(page, "Target (y)", "price", exact=True)
    wait_idle(page)
    page.get_by_text("40 rows, 2 features, 3 params").wait_for(timeout=30_000)
    page.screenshot(path=str(screenshot_dir / "your_data_preview.png"), full_page=True)

    page.get_by_role("button", name="Playground").click()
    wait_for_app(page, n_charts=len(CHARTS))
    wait_idle(page)
    shown = page.evaluate(  # what the sidebar's selects show (a combobox keeps its text in an input)
        "() => [...document.querySelectorAll('[data-testid=stSidebar] [data-testid=stSelectbox]')]"
        ".map(e => e.innerText + ' ' + [...e.querySelectorAll('input')].map(i => i.value).join(' '))"
    )
    assert any("Your data: houses.csv" in text for text in shown), shown
    assert any("rooms" in text for text in shown), shown
    assert metric(page, "Step") == "0"
    page.get_by_role("button", name="Step", exact=True).first.click()
    for key in CHARTS:
        wait_for_chart(page, key, "1")
    assert exception_boxes(page) == []
    # One step of plain GD at the default rate 0.05 from zeros, on (rooms -> price), written out here.
    X1, y = np.column_stack([np.ones(N), houses["rooms"]]), houses["price"]
    w1 = -0.05 * 2.0 / N * X1.T @ (X1 @ np.zeros(2) - y)
    assert float(metric(page, "Intercept")) == pytest.approx(w1[0], rel=1e-5)
    assert float(metric(page, "Slope on rooms")) == pytest.approx(w1[1], rel=1e-5)
    page.screenshot(path=str(screenshot_dir / "your_data_playground.png"))

    page.get_by_role("link", name="Your data").click()
    page.get_by_text("Loaded: houses.csv").wait_for(timeout=30_000)
    upload(page, bad_csv)
    alert = page.locator('[data-testid="stAlertContentError"]')
    alert.first.wait_for(timeout=30_000)
    text = alert.first.inner_text()
    assert text.startswith("notes.csv was not loaded:") and text.strip().endswith("Still using houses.csv.")
    assert exception_boxes(page) == []
    assert page.get_by_text("Loaded: houses.csv").is_visible()
    page.screenshot(path=str(screenshot_dir / "your_data_error.png"))

    # Every chosen feature on the Feature scaling page (the puzzle panel may say California is unavailable).
    page.get_by_role("button", name="Feature scaling").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "your_data_use.png"))
    page.get_by_role("button", name="Feature scaling").click()
    wait_for_app(page, n_charts=len(SCALING_CHARTS))
    wait_idle(page)
    assert exception_boxes(page) == []
    assert "houses.csv, 40 rows, 2 features" in page.inner_text("body")
    page.screenshot(path=str(screenshot_dir / "your_data_scaling.png"))
