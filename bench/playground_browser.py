"""Playground speed in a real browser (Debian Chromium, software WebGL): first load, Step, Play.

Starts ``streamlit run app.py`` and, as the same-process baseline, ``bench/baseline_app.py`` (the same 3D
figure drawn with ``st.plotly_chart``, which Streamlit re-mounts on every change), then prints a table.

  first load  navigation -> read-out shown; -> all 2D charts drawn; -> 3D chart drawn (fresh context each); a chart
              is drawn once a frame holding it has been painted, on both pages alike (see LOAD)
  step (a)    Step click -> read-out shows the new step and all five 2D charts have painted it
  step (b)    Step click -> the 3D chart has painted it
  play        Play at 30 steps/s for --play-seconds: steps the read-out and the 2D charts in sight painted, per
              second; in a 1400 x 1000 window and in one tall enough for every chart

The Playground's player steps in the browser (gdviz/ui/player.js); the baseline's Step is a Streamlit rerun.
Times are taken inside the page (``performance.now()`` at the click, and in a requestAnimationFrame loop
that notices each condition), so Playwright's own round trips are not counted.

With ``--stack N`` the app is served as the hosted demo is: N processes behind HAProxy (``deploy/stack.py``,
whose proxy keeps Streamlit's static bundles once fetched); the baseline stays a plain ``streamlit run``.

Usage: .venv/bin/python bench/playground_browser.py [--steps 30] [--loads 5] [--play-seconds 10] [--stack 2]
       [--screencast]  (also times first load from the screencast frames: an independent check, slower loads)
Targets (issue 11, this 2-core machine): Step (a) median < 50 ms; (b) median < 100 ms and p95 < 200 ms;
Play at 30 steps/s delivers >= 28 steps/s; first load of the 3D chart no later than the baseline's.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("GDVIZ_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
TALL = 3200  # a window that holds every chart of the Playground
CHARTS_2D = ("playground_contour", "playground_line", "playground_loss", "playground_grads", "playground_bars")

# Watches the page from the click on: records when the read-out and each chart show step `target`.
WATCH = """([target, charts2d, mode]) => new Promise(resolve => {
  const t0 = performance.now();
  const out = {};
  let seen3d = false;
  const readoutOk = () => document.querySelector('[data-gdviz-readout="Step"]')?.innerText.trim() === target;
  const rev = k => document.querySelector(`.gdviz-live[data-key="${k}"]`)?.dataset.revision;
  const baseline3d = () => { const el = document.querySelector('.js-plotly-plot');
      return el && el._fullData && el._fullData[1] && String(el._fullData[1].x.length - 1) === target
             && el.querySelector('canvas') !== null; };
  const check = () => {
    const now = performance.now() - t0;
    if (mode === 'gdviz') {
      if (out.a === undefined && readoutOk() && charts2d.every(k => rev(k) === target)) out.a = now;
      if (out.b === undefined && rev('playground_surface') === target) out.b = now;
    } else if (!seen3d && baseline3d()) {  // as the player's 3D chart: counted once a frame holding it is painted
      seen3d = true;
      requestAnimationFrame(() => setTimeout(() => { out.a = out.b = performance.now() - t0; }, 0));
    }
    if ((out.a !== undefined && out.b !== undefined) || now > 30000) resolve(out);
    else requestAnimationFrame(check);
  };
  [...document.querySelectorAll('button')].find(b => b.innerText.trim() === 'Step').click();
  requestAnimationFrame(check);
})"""

# Each chart counts as drawn once the browser has painted a frame holding it, the same way on both pages: the
# player sets a chart's data-revision only after a frame has been painted (rAF, then a task), and the
# baseline's chart gets that same wait from the moment its WebGL canvas is in the page. Both are seen by a
# MutationObserver, so a long task that follows (the player's 2D charts after its 3D one) does not hide
# when a chart was drawn, as a requestAnimationFrame poll would.
LOAD = """([charts2d, mode]) => new Promise(resolve => {
  const out = {};
  const rev = k => document.querySelector(`.gdviz-live[data-key="${k}"]`)?.dataset.revision;
  let waiting3d = false;
  const painted = (then) => requestAnimationFrame(() => setTimeout(then, 0));
  const done = () => out.readout !== undefined && out.charts2d !== undefined && out.chart3d !== undefined;
  const note = () => {
    const now = performance.now();  // since navigation start
    const shown = mode === 'gdviz' ? document.querySelector('[data-gdviz-readout="Step"]')?.innerText
                                   : document.querySelector('[data-testid="stMetric"]');
    if (out.readout === undefined && shown) out.readout = now;
    if (mode === 'gdviz') {
      if (out.charts2d === undefined && charts2d.every(k => rev(k) !== undefined)) out.charts2d = now;
      if (out.chart3d === undefined && rev('playground_surface') !== undefined) out.chart3d = now;
    } else if (!waiting3d && document.querySelector('.js-plotly-plot canvas')) {
      waiting3d = true;
      painted(() => { out.charts2d = out.chart3d = performance.now(); finish(); });
    }
    finish();
  };
  const observer = new MutationObserver(note);
  const finish = () => {
    if (done() || performance.now() > 60000) { observer.disconnect(); resolve(out); }
  };
  observer.observe(document, {subtree: true, childList: true, characterData: true, attributes: true,
                              attributeFilter: ['data-revision']});
  note();
})"""


# Play at 30 steps/s for `seconds`: counts the steps the read-out and the 2D charts in sight painted (each sets
# its div's data-revision once painted) and the 3D chart's draws, from the Play click to the end of the window.
# The player does not draw charts out of sight while it plays, so Play runs twice: in the 1400 x 1000 window
# (what a laptop shows) and in a window tall enough to hold every chart.
PLAY = """([seconds, charts2d]) => new Promise(resolve => {
  // Every value each chart's data-revision takes (set once that step is painted), seen by a MutationObserver.
  const seen = {}, observers = [];
  for (const k of [...charts2d, 'playground_surface']) {
    seen[k] = new Set();
    const div = document.querySelector(`.gdviz-live[data-key="${k}"]`);
    const o = new MutationObserver(() => seen[k].add(div.dataset.revision));
    o.observe(div, {attributes: true, attributeFilter: ['data-revision']});
    observers.push(o);
  }
  // The 2D charts in sight when Play starts: the player skips charts out of sight while it plays.
  const inView = charts2d.filter(k => {
    const r = document.querySelector(`.gdviz-live[data-key="${k}"]`).getBoundingClientRect();
    return r.bottom > 0 && r.top < window.innerHeight;
  });
  const readout = new Set();
  const cell = document.querySelector('[data-gdviz-readout="Step"]');
  const ro = new MutationObserver(() => readout.add(cell.innerText));
  ro.observe(cell, {childList: true, characterData: true, subtree: true});
  observers.push(ro);
  const select = document.querySelector('.gdviz-player select');
  select.value = '30';
  select.dispatchEvent(new Event('change'));
  [...document.querySelectorAll('button')].find(b => b.innerText.trim() === 'Play').click();
  setTimeout(() => {
    [...document.querySelectorAll('button')].find(b => b.innerText.trim() === 'Pause').click();
    observers.forEach(o => o.disconnect());
    const slowest2d = Math.min(...inView.map(k => seen[k].size));
    resolve({delivered: Math.min(slowest2d, readout.size) / seconds,
             drawn3d: seen['playground_surface'].size / seconds, inView});
  }, seconds * 1000);
})"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(script: str, cwd: Path = ROOT) -> tuple[subprocess.Popen, str]:
    """``streamlit run script`` in ``cwd`` on a free loopback port, once healthy: (process, URL)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit(f"{script} did not start")


def on_screen(frames: list[tuple[float, bytes]], box: list[float], scale: float) -> float:
    """The time of the first screencast frame whose ``box`` (CSS pixels) holds at least half the coloured
    pixels it holds in the last frame: when the 3D surface reached the screen, read from the compositor's own
    frames rather than from the page's code."""
    import io

    import numpy as np
    from PIL import Image

    x0, y0, x1, y1 = (max(0, int(v * scale)) for v in box)

    def coloured(jpeg: bytes) -> int:
        rgb = np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"), dtype=np.int16)[y0:y1, x0:x1]
        return int((rgb.max(axis=2) - rgb.min(axis=2) > 60).sum())  # saturated: the colour scale, not grey text

    counts = [(t, coloured(jpeg)) for t, jpeg in frames]
    final = counts[-1][1]
    return next(t for t, c in counts if final and c >= 0.5 * final) if final else float("nan")


def measure(browser, url: str, mode: str, n_loads: int, n_steps: int, play_seconds: float,
            screencast: bool = False) -> dict[str, list[float]]:  # fmt: skip
    res: dict[str, list[float]] = {"readout": [], "charts2d": [], "chart3d": [], "a": [], "b": [], "screen3d": []}
    for i in range(n_loads):
        ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = ctx.new_page()
        frames: list[tuple[float, bytes]] = []
        if screencast:  # what the compositor produced, half size (encoding full frames slows the page down)
            import base64

            cdp = ctx.new_cdp_session(page)

            def keep(f, cdp=cdp, frames=frames):
                frames.append((f["metadata"]["timestamp"], base64.b64decode(f["data"])))
                cdp.send("Page.screencastFrameAck", {"sessionId": f["sessionId"]})

            cdp.on("Page.screencastFrame", keep)
            cdp.send("Page.startScreencast", {"format": "jpeg", "quality": 40, "maxWidth": 700, "maxHeight": 500})
        page.goto(url, wait_until="commit")
        load = page.evaluate(LOAD, [list(CHARTS_2D), mode])
        for k in ("readout", "charts2d", "chart3d"):
            res[k].append(load.get(k, float("nan")) / 1000)
        if screencast:
            page.wait_for_timeout(800)
            cdp.send("Page.stopScreencast")
            origin = page.evaluate("performance.timeOrigin") / 1000  # navigation, in s since the epoch (as frames)
            chart = '.gdviz-live[data-key="playground_surface"]' if mode == "gdviz" else ".js-plotly-plot"
            box = page.evaluate(f"(() => {{ const r = document.querySelector('{chart}').getBoundingClientRect();"
                                " return [r.left, r.top, r.right, r.bottom]; })()")  # fmt: skip
            res["screen3d"].append(on_screen(frames, box, 700 / 1400) - origin)
        if i == n_loads - 1:  # step in the last context, once the page is idle
            page.wait_for_timeout(1500)
            for step in range(1, n_steps + 1):
                got = page.evaluate(WATCH, [str(step), list(CHARTS_2D), mode])
                res["a"].append(got.get("a", float("nan")) / 1000)
                res["b"].append(got.get("b", float("nan")) / 1000)
                page.wait_for_timeout(300)
            if mode == "gdviz" and play_seconds > 0:
                for name, height in (("play", 1000), ("play_tall", TALL)):
                    page.set_viewport_size({"width": 1400, "height": height})
                    page.evaluate("() => window.scrollTo(0, 0)")
                    page.wait_for_timeout(1500)
                    got = page.evaluate(PLAY, [play_seconds, list(CHARTS_2D)])
                    res[name], res[name + "3d"] = [got["delivered"]], [got["drawn3d"]]
                    res[name + "_charts"] = got["inView"]
                    page.get_by_role("button", name="Reset", exact=True).click()
        ctx.close()
    return res


def p95(xs: list[float]) -> float:
    return sorted(xs)[max(0, int(round(0.95 * len(xs))) - 1)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--loads", type=int, default=5)
    ap.add_argument("--play-seconds", type=float, default=10.0)
    ap.add_argument("--stack", type=int, default=0, help="serve gdviz through N processes behind HAProxy")
    ap.add_argument(
        "--screencast",
        action="store_true",
        help="also time first load from the browser's screencast frames (slows every load down)",
    )
    args = ap.parse_args()
    stack = None
    if args.stack:
        sys.path.insert(0, str(ROOT))
        from deploy import stack as deploy_stack

        stack = deploy_stack.start(args.stack)
        servers = {"gdviz": (None, stack.url), "baseline": serve("bench/baseline_app.py")}
    else:
        servers = {"gdviz": serve("app.py"), "baseline": serve("bench/baseline_app.py")}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            got = {
                mode: measure(browser, url, mode, args.loads, args.steps, args.play_seconds, args.screencast)
                for mode, (_, url) in servers.items()
            }
            browser.close()
    finally:
        for proc, _ in servers.values():
            if proc is not None:
                proc.terminate()
        if stack is not None:
            stack.stop()
    g, b = got["gdviz"], got["baseline"]
    missing = [f"{mode}:{k}" for mode, res in got.items() for k, xs in res.items()
               if not k.endswith("_charts") and k != "screen3d" and any(x != x for x in xs)]  # fmt: skip
    if missing:
        raise SystemExit(f"some measurements never completed (a chart did not draw?): {missing}")
    med = statistics.median
    print(
        f"Playground in Chromium {CHROMIUM} (software WebGL); {args.loads} fresh loads, {args.steps} Steps, "
        f"load average {os.getloadavg()[0]:.1f} at the end"
        + (f"; gdviz through {args.stack} processes behind HAProxy\n" if args.stack else "\n")
    )
    print("| metric | gdviz (median) | p95 / max | baseline: st.plotly_chart (median) | baseline / gdviz | target |")
    print("|---|---|---|---|---|---|")
    rows = [
        ("first load: read-out shown", g["readout"], b["readout"], "-"),
        ("first load: all 2D charts drawn", g["charts2d"], None, "-"),
        ("first load: 3D chart drawn", g["chart3d"], b["chart3d"], "<= baseline"),
        *(
            [("... independent check: 3D surface on screen (screencast frames)", g["screen3d"], b["screen3d"], "-")]
            if args.screencast
            else []
        ),
        ("Step -> read-out and 2D charts painted (a)", g["a"], None, "median < 50 ms"),
        ("Step -> 3D chart painted (b)", g["b"], b["b"], "median < 100 ms, p95 < 200 ms"),
    ]
    for name, mine, base, target in rows:
        base_txt = f"{1000 * med(base):.0f} ms" if base else "-"
        ratio = f"{med(base) / med(mine):.1f}" if base else "-"
        spread = max(mine) if len(mine) < 10 else p95(mine)
        print(f"| {name} | {1000 * med(mine):.0f} ms | {1000 * spread:.0f} ms | {base_txt} | {ratio} | {target} |")
    for name, window in (("play", "1400 x 1000"), ("play_tall", f"1400 x {TALL}")):
        if name not in g:
            continue
        shown = ", ".join(c.removeprefix("playground_") for c in g[name + "_charts"])
        print(
            f"| Play at 30 steps/s, {args.play_seconds:g} s, window {window}: steps delivered to the read-out and "
            f"the 2D charts in sight ({shown}) | {g[name][0]:.1f} steps/s | - | - | - | >= 28 steps/s |"
        )
        print(f"| ... and 3D chart draws during that Play | {g[name + '3d'][0]:.1f} /s | - | - | - | may skip frames |")


if __name__ == "__main__":
    main()
