"""Learning-rate sweep speed in a real browser (Debian Chromium): Run sweep click -> both charts drawn.

Starts ``streamlit run app.py``, opens the sweep page from the sidebar, sets the dataset to diabetes (one
feature, the shared setting the Playground uses), 1,000 rates and 1,000 steps, then clicks Run sweep
``--runs`` times. Each time is taken inside the page: ``performance.now()`` at the click, and a
requestAnimationFrame loop that notices when both Plotly charts hold the new sweep (``layout.meta.run``)
with all 1,000 runs drawn.

Baselines, in this same process, on the same rates: ``analysis.lr_sweep`` alone (the compute floor, no
browser), and the same 1,000 rates as 1,000 separate ``engine.collect(engine.run(...))`` calls (what a
page without the vectorised sweep would do). Also the Python part of a rerun on its own (sweep in chunks,
summary, the two figures as validated ``go.Figure``s and their JSON).

Usage: .venv/bin/python bench/sweep_browser.py [--runs 5]
Target (issue 4, this 2-core machine): click -> both charts drawn < 5 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playground_browser import ARGS, CHROMIUM, serve  # noqa: E402  (bench/ is this script's folder)

from gdviz import analysis, engine, optimizers, plots, runs, sweep  # noqa: E402
from gdviz.config import RunConfig  # noqa: E402

N_RATES, STEPS, TARGET = 1_000, 1_000, 5.0

# Resolves with the ms from the click to the first frame in which both charts hold sweep `run` with n runs.
CLICK = """([run, n]) => new Promise(resolve => {
  const drawn = () => {
    const els = [...document.querySelectorAll('.js-plotly-plot')].filter(e =>
        e._fullLayout && e._fullLayout.meta && e._fullLayout.meta.run === run && e._fullData);
    return els.length === 2 && els.every(e => e._fullData.filter(t => t.mode === 'markers')
        .reduce((k, t) => k + t.x.length, 0) === n);
  };
  const t0 = performance.now();
  const check = () => {
    const now = performance.now() - t0;
    if (drawn() || now > 60000) resolve(drawn() ? now : -1); else requestAnimationFrame(check);
  };
  [...document.querySelectorAll('button')].find(b => b.innerText.trim() === 'Run sweep').click();
  requestAnimationFrame(check);
})"""
RUN_ID = """() => { const e = document.querySelector('.js-plotly-plot');
  return e && e._fullLayout && e._fullLayout.meta ? e._fullLayout.meta.run : 0; }"""
IDLE = "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"


def set_number(page, label: str, value: int) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    page.wait_for_timeout(300)
    page.wait_for_function(IDLE)


def measure_browser(url: str, runs: int, expect: str) -> list[float]:
    """Click times in seconds; ``expect`` is the start of the page's summary line for the same rates."""
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        page.locator('[data-testid="stSidebarNav"] a', has_text="Learning-rate sweep").click()
        page.wait_for_function(f"() => ({RUN_ID})() >= 1", timeout=60_000)
        page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
        page.get_by_role("option", name="Diabetes", exact=False).click()
        page.wait_for_function(f"() => ({RUN_ID})() >= 2", timeout=60_000)  # the data changed: swept again
        set_number(page, "Number of rates", N_RATES)
        set_number(page, "Steps per run (cap)", STEPS)
        out = []
        for _ in range(runs):
            page.wait_for_function(IDLE)
            page.wait_for_timeout(500)
            run = page.evaluate(RUN_ID) + 1
            ms = page.evaluate(CLICK, [run, N_RATES])
            if ms < 0:
                raise SystemExit("the charts never showed the sweep")
            out.append(ms / 1000)
        title = page.locator("h1").first.inner_text()
        summary = page.locator('[data-testid="stMarkdown"]', has_text="rates,").first.inner_text()
        browser.close()
    if title != "Learning-rate sweep" or not summary.startswith(expect):
        raise SystemExit(f"ended on the wrong page or rates: {title!r}, {summary!r}, expected {expect!r}")
    return out


def timed(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    config = RunConfig(dataset="diabetes")
    problem = runs.one_feature_problem(config)
    settings = sweep.SweepSettings(n_rates=N_RATES, max_steps=STEPS)
    rates = settings.rates(problem)
    init = runs.init_params(config, problem)

    def python_rerun():
        res = sweep.run_sweep(problem, rates, tol=config.tol, max_steps=STEPS, init_params=init)
        table = sweep.summarise(problem, res, tol=config.tol, max_steps=STEPS, init_params=init)
        edges, th = sweep.regime_edges(problem), analysis.thresholds(problem)
        for spec in (
            plots.sweep.steps_chart(table, edges, th),
            plots.sweep.loss_chart(table, edges, th, floor=problem.optimum_loss),
        ):
            plots.encode.styled(spec).to_json()

    floor = timed(lambda: analysis.lr_sweep(problem, rates, tol=config.tol, max_steps=STEPS, init_params=init), 5)
    py = timed(python_rerun, 3)
    t0 = time.perf_counter()
    for r in rates:  # the same sweep as separate runs
        engine.collect(engine.run(problem, optimizers.gd(float(r)), init_params=init, tol=config.tol, max_steps=STEPS))
    separate = time.perf_counter() - t0

    proc, url = serve("app.py")
    try:
        expect = f"{N_RATES:,} rates, {rates[0]:.3g} to {rates[-1]:.3g}, at most {STEPS:,} steps"
        browser = measure_browser(url, args.runs, expect)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    med = statistics.median
    b = med(browser)
    print(f"Sweep page in Chromium {CHROMIUM}; diabetes (feature 0, raw), {N_RATES:,} rates x {STEPS:,} steps, "
          f"{args.runs} clicks\n")  # fmt: skip
    print("| what | median | min / max | browser / this | target | met |")
    print("|---|---|---|---|---|---|")
    rows = [
        ("Run sweep click -> both charts drawn (in the page)", browser, None, TARGET),
        ("Python part of that rerun (chunked sweep, summary, 2 go.Figures + JSON)", py, b / med(py), None),
        ("baseline: analysis.lr_sweep alone, one call", floor, b / med(floor), None),
        ("baseline: 1,000 separate engine.collect(engine.run(...)) calls (once)", [separate], b / separate, None),
    ]
    for name, xs, ratio, target in rows:
        tgt = f"< {target:g} s" if target else "-"
        met = ("yes" if med(xs) < target else "no") if target else "-"
        rtxt = f"{ratio:.2f}x" if ratio is not None else "-"
        print(f"| {name} | {med(xs):.3f} s | {min(xs):.3f} / {max(xs):.3f} s | {rtxt} | {tgt} | {met} |")
    print(f"\nThe browser click is {separate / b:.1f}x faster than the separate-runs baseline alone (Python only).")


if __name__ == "__main__":
    main()
