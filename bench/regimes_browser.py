"""Regimes speed in a real browser (Debian Chromium): one move of the shared scrubber until every panel is painted.

Starts three servers and drives each in Chromium at 1400x1000, then prints a table:

  regimes (player)    this checkout's Regimes page: its one player (gdviz/ui/player.js) holds every run;
                      a move is the scrubber's ArrowRight (and, separately, the player's ArrowRight key)
  baseline: old page  the Regimes page as it was before the player (commit OLD_COMMIT, exported with
                      ``git archive``): its server-side scrubber, every move a Streamlit rerun
  baseline: Playground  the Playground's Step (ArrowRight on its player): one run, six charts, one 3D

A move is timed inside the page, from the keydown (captured on the document, so Playwright's own round trip
is not counted) until the read-out shows the new step (where there is one) and every chart's div carries
``data-revision`` = the new step: the player sets it in the animation frame after its restyle, the old
page's live charts once Plotly has drawn. Every move goes one step further from step 0 (steps 1..N).

Usage: .venv/bin/python bench/regimes_browser.py [--moves 30] [--old-commit 6b75739]
Target (issue 11): moving the shared scrubber one step redraws every panel in under 100 ms (median).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

from playground_browser import ARGS, CHROMIUM, p95, serve  # bench/ is on sys.path when run as a script
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
OLD_COMMIT = "6b75739"  # the last commit with the server-side scrubber (regimes.scrubber)
LANES = ("slow", "good", "oscillating", "divergent", "decay")
REGIMES_CHARTS = ["regimes_overview", *(f"regimes_{lane}_{kind}" for lane in LANES for kind in ("contour", "loss"))]
PLAYGROUND_CHARTS = [f"playground_{name}" for name in ("surface", "contour", "line", "loss", "grads", "bars")]

# Installed before a key press: notes the keydown's time, then watches (one check per animation frame) until
# the read-out (if any) and every chart show step `target`; the result lands in window.__gdvizMove.
WATCH = """([target, charts, readout]) => {
  window.__gdvizMove = null;
  let t0 = null;
  const rev = k => [...document.querySelectorAll(`.gdviz-live[data-key="${k}"]`)]
    .some(d => d.dataset.revision === target);
  const shown = () => !readout || document.querySelector('[data-gdviz-readout="Step"]')?.innerText.trim() === target;
  document.addEventListener('keydown', () => { t0 = performance.now(); }, {capture: true, once: true});
  const check = () => {
    if (t0 !== null) {
      const now = performance.now() - t0;
      if (shown() && charts.every(rev)) { window.__gdvizMove = {ms: now}; return; }
      if (now > 60000) { window.__gdvizMove = {ms: NaN}; return; }
    }
    requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
}"""


def wait_for_charts(page, charts: list[str], timeout: float = 90_000) -> None:
    page.wait_for_function(
        "ks => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        ' && ks.every(k => document.querySelector(`.gdviz-live[data-key="${k}"][data-revision]`))',
        arg=charts,
        timeout=timeout,
    )


def moves(page, focus, charts: list[str], n: int, *, readout: bool, settle: int) -> list[float]:
    """Press Home on ``focus``, then ArrowRight ``n`` times, timing each move until every chart shows it."""
    focus.focus()
    page.keyboard.press("Home")
    page.wait_for_function(
        "ks => ks.every(k => document.querySelector(`.gdviz-live[data-key=\"${k}\"]`)?.dataset.revision === '0')",
        arg=charts,
        timeout=90_000,
    )
    page.wait_for_timeout(settle)
    out = []
    for step in range(1, n + 1):
        page.evaluate(WATCH, [str(step), charts, readout])
        page.keyboard.press("ArrowRight")
        page.wait_for_function("() => window.__gdvizMove !== null", timeout=90_000)
        out.append(page.evaluate("() => window.__gdvizMove.ms") / 1000)
        page.wait_for_timeout(settle)
    return out


def open_page(browser, url: str, path: str, charts: list[str]):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    page.goto(url)  # the front page first: it registers st.navigation before a page is opened by its path
    page.wait_for_selector('[data-testid="stApp"]', timeout=60_000)
    page.wait_for_timeout(2000)
    if path:
        page.goto(f"{url}/{path}")
    wait_for_charts(page, charts)
    page.wait_for_timeout(1500)
    return ctx, page


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--moves", type=int, default=30)
    ap.add_argument("--old-commit", default=OLD_COMMIT)
    args = ap.parse_args()
    old = Path(tempfile.mkdtemp(prefix="gdviz-old-regimes-"))
    archive = subprocess.run(["git", "archive", args.old_commit], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
    servers = {"new": serve("app.py"), "old": serve("app.py", cwd=old)}
    res: dict[str, list[float]] = {}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            ctx, page = open_page(browser, servers["new"][1], "regimes", REGIMES_CHARTS)
            scrub = page.get_by_role("slider", name="Scrub through the steps")
            res["scrub"] = moves(page, scrub, REGIMES_CHARTS, args.moves, readout=True, settle=150)
            player = page.locator(".gdviz-player")
            res["key"] = moves(page, player, REGIMES_CHARTS, args.moves, readout=True, settle=150)
            ctx.close()
            ctx, page = open_page(browser, servers["new"][1], "", PLAYGROUND_CHARTS)
            res["playground"] = moves(page, page.locator(".gdviz-player"), PLAYGROUND_CHARTS, args.moves,
                                      readout=True, settle=300)  # fmt: skip
            ctx.close()
            ctx, page = open_page(browser, servers["old"][1], "regimes", REGIMES_CHARTS)
            slider = page.get_by_role("slider", name="Step shown in every panel").first
            res["old"] = moves(page, slider, REGIMES_CHARTS, args.moves, readout=False, settle=500)
            ctx.close()
            browser.close()
    finally:
        for proc, _ in servers.values():
            proc.terminate()
        shutil.rmtree(old, ignore_errors=True)
    missing = [k for k, xs in res.items() if any(x != x for x in xs)]
    if missing:
        raise SystemExit(f"some moves never completed (a chart did not draw?): {missing}")
    med = statistics.median
    base = med(res["old"])
    print(
        f"Regimes in Chromium {CHROMIUM}; {args.moves} moves each (steps 1..{args.moves} from step 0), "
        f"1400x1000, load average {os.getloadavg()[0]:.1f} at the end\n"
    )
    print("| one move, keydown -> every chart (and the read-out) painted at the new step | charts | median | p95 "
          "| max | old page / this |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    rows = [
        ("Regimes, player: scrubber ArrowRight", "11", res["scrub"]),
        ("Regimes, player: ArrowRight key (Step)", "11", res["key"]),
        ("baseline: Playground player Step (incl. 3D)", "6", res["playground"]),
        (f"baseline: Regimes before the player ({args.old_commit}), server-side scrubber", "11", res["old"]),
    ]
    for name, n, xs in rows:
        print(f"| {name} | {n} | {1000 * med(xs):.0f} ms | {1000 * p95(xs):.0f} ms | {1000 * max(xs):.0f} ms "
              f"| {base / med(xs):.1f} |")  # fmt: skip
    print("\nTarget (issue 11): a move of the shared scrubber redraws every panel in under 100 ms (median).")


if __name__ == "__main__":
    main()
