"""The Playground in a real browser, for the review's fixes: the phone layout's first screen, and the contours
of a run whose loss overflowed float64 (screenshots saved under tests/e2e/screenshots/, looked at by a person)."""

from __future__ import annotations

from tests.e2e.conftest import exception_boxes, wait_for_app, wait_for_chart
from tests.e2e.test_playground import CHARTS, click, metric


def test_phone_first_screen_reaches_the_first_chart(page, app_url, screenshot_dir):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(app_url)
    wait_for_app(page, n_charts=len(CHARTS))
    click(page, "Step x10")
    for key in CHARTS:
        wait_for_chart(page, key, "10")
    page.wait_for_timeout(500)
    top = page.evaluate(
        "() => document.querySelector('.gdviz-live').getBoundingClientRect().top"
        " - document.querySelector('[data-testid=\"stMain\"]').getBoundingClientRect().top"
    )
    assert top < 844, f"the first chart starts {top:.0f} px down a 844 px screen"
    # The read-out is a grid of three a row: the first three cells share one row, the fourth starts the next.
    tops = page.evaluate(
        "() => [...document.querySelectorAll('.gdviz-readout .gdviz-cell')]"
        ".map(m => Math.round(m.getBoundingClientRect().top))"
    )
    assert len(tops) == 9 and tops[0] == tops[1] == tops[2] < tops[3]
    assert metric(page, "Step") == "10" and metric(page, "Status") == "running"
    # No Plotly toolbar over the chart titles on a phone (a desktop keeps it).
    assert page.evaluate("() => document.querySelectorAll('.gdviz-live .modebar').length") == 0
    assert exception_boxes(page) == []
    page.screenshot(path=str(screenshot_dir / "playground_phone_first_screen.png"))
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.reload()
    wait_for_app(page, n_charts=len(CHARTS))
    assert page.evaluate("() => document.querySelectorAll('.gdviz-live .modebar').length") >= len(CHARTS)


def test_a_run_whose_loss_overflowed_keeps_its_contours(page, app_url, screenshot_dir):
    # Diabetes on a raw feature at the default rate diverges; by its end the window spans 1e154 and the loss
    # overflows float64 on the whole grid. The contour shows log10 of the loss: a valley, not a blank field.
    page.goto(app_url)
    wait_for_app(page, n_charts=len(CHARTS))
    page.get_by_label("Dataset", exact=True).first.click()
    page.get_by_role("option", name="Diabetes (10 features)").first.click()
    page.get_by_text("Predicted from the Hessian").first.wait_for(timeout=30_000)
    # The old run (the synthetic line) also reads step 0: wait until the player holds the diabetes run.
    page.locator('[data-gdviz-readout="Slope on age"]').first.wait_for(state="attached", timeout=60_000)
    wait_for_chart(page, "playground_contour", "0")  # the new run is drawn
    click(page, "End")
    assert metric(page, "Status") == "diverged"
    last = metric(page, "Step").replace(",", "")
    wait_for_chart(page, "playground_contour", last)
    field = page.evaluate(
        """() => {
          const d = document.querySelector('.gdviz-live[data-key="playground_contour"]');
          const t = d._fullData.find(t => t.name === 'log10 loss');  // the hover read-out of the loss
          const z = Array.from(t.customdata);
          const bar = t.marker.colorbar.title.text;
          return {finite: z.filter(Number.isFinite).length, cells: z.length, min: Math.min(...z),
                  max: Math.max(...z), bar, paths: d.querySelectorAll('.shapelayer path').length};
        }"""
    )
    assert field["cells"] > 100 and field["finite"] == field["cells"], field
    assert field["max"] > 300 and field["max"] - field["min"] > 1, field  # log10 J beyond 1e300, with a valley
    assert field["bar"] == "log10 loss"
    assert field["paths"] > 10, field
    assert exception_boxes(page) == []
    page.locator('.gdviz-live[data-key="playground_contour"]').scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    page.screenshot(path=str(screenshot_dir / "playground_overflowed_contours.png"))
