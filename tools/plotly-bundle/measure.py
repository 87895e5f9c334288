"""Compare the full plotly.min.js with the gdviz partial bundle in headless Chromium.

For each bundle, 3 repeats (interleaved), each in a fresh browser context:
  * load: a blank page (set_content), the bundle injected with ``add_script_tag(path=...)``;
    "load" is the synchronous parse+evaluate time of the <script> element, measured in the page
    with performance.now() around the appendChild that add_script_tag performs; "inject" is the
    wall time of the whole add_script_tag call seen from Python (adds the CDP transfer of the source).
  * react3d: first ``Plotly.react`` of a 60x60 surface + scatter3d path (until the promise resolves
    and one animation frame has passed).
  * react2d: then ``Plotly.react`` of a 60x60 contour + scatter path into a second div.
A smoke test then draws every trace type / layout feature gdviz uses with each bundle and checks
the DOM. Any console error or page error fails the run (exit status 1).

Usage (from the repo root):  .venv/bin/python tools/plotly-bundle/measure.py [--repeats 3] [--shots DIR]
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
from pathlib import Path

import numpy as np
import plotly
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
FULL = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
PARTIAL = ROOT / "static" / "plotly-gdviz.min.js"
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BLANK = """<!doctype html><html><head><meta charset="utf-8"></head><body style="margin:0">
<div id="a" style="width:700px;height:500px"></div><div id="b" style="width:700px;height:500px"></div>
</body></html>"""

# Records the synchronous parse+eval of the big <script> that add_script_tag appends to <head>.
HOOK = """() => {
  const orig = Node.prototype.appendChild;
  Node.prototype.appendChild = function (child) {
    if (child instanceof HTMLScriptElement && (child.text || '').length > 100000) {
      const t0 = performance.now();
      try { return orig.call(this, child); } finally { window.__loadMs = performance.now() - t0; }
    }
    return orig.call(this, child);
  };
}"""

REACT = """async ([id, fig]) => {
  const t0 = performance.now();
  await Plotly.react(id, fig.data, fig.layout, {responsive: true});
  await new Promise(r => requestAnimationFrame(() => r()));
  return performance.now() - t0;
}"""


def grid(n: int = 60):
    x = np.linspace(-3, 3, n)
    y = np.linspace(-3, 3, n)
    xx, yy = np.meshgrid(x, y)
    z = np.sin(xx) * np.cos(yy) + 0.1 * (xx**2 + yy**2)
    return x, y, z


def path(n: int = 40):
    t = np.linspace(0, 1, n)
    px, py = 2.5 * np.cos(4 * t) * (1 - t), 2.5 * np.sin(4 * t) * (1 - t)
    pz = np.sin(px) * np.cos(py) + 0.1 * (px**2 + py**2)
    return px, py, pz


def fig3d() -> dict:
    x, y, z = grid()
    px, py, pz = path()
    return {
        "data": [
            {
                "type": "surface",
                "x": x.tolist(),
                "y": y.tolist(),
                "z": z.tolist(),
                "colorscale": "Viridis",
                "opacity": 0.9,
            },
            {
                "type": "scatter3d",
                "x": px.tolist(),
                "y": py.tolist(),
                "z": (pz + 0.05).tolist(),
                "mode": "lines+markers",
                "marker": {"size": 3, "color": "red"},
                "line": {"color": "red", "width": 4},
            },
        ],
        "layout": {
            "uirevision": "keep",
            "margin": {"l": 0, "r": 0, "t": 30, "b": 0},
            "scene": {"camera": {"eye": {"x": 1.5, "y": 1.5, "z": 1.0}}, "uirevision": "keep"},
        },
    }


def fig2d() -> dict:
    x, y, z = grid()
    px, py, _ = path()
    return {
        "data": [
            {
                "type": "contour",
                "x": x.tolist(),
                "y": y.tolist(),
                "z": z.tolist(),
                "ncontours": 25,
                "colorscale": "Viridis",
            },
            {
                "type": "scatter",
                "x": px.tolist(),
                "y": py.tolist(),
                "mode": "lines+markers",
                "marker": {"color": "red"},
            },
        ],
        "layout": {"xaxis": {"title": {"text": "x"}}, "yaxis": {"title": {"text": "y"}}, "showlegend": True},
    }


def smoke_figs() -> dict[str, dict]:
    x, y, z = grid(30)
    steps = np.arange(1, 101)
    loss = 10.0 / steps + 0.01
    return {
        "scene": fig3d(),
        "contour": fig2d(),
        "heatmap": {
            "data": [{"type": "heatmap", "z": z.tolist(), "colorscale": "RdBu"}],
            "layout": {"title": {"text": "heatmap"}},
        },
        "bar": {
            "data": [
                {"type": "bar", "x": ["a", "b", "c"], "y": [3, 1, 2], "name": "bars"},
                {"type": "bar", "x": ["a", "b", "c"], "y": [1, 2, 3], "name": "more"},
            ],
            "layout": {"barmode": "group", "showlegend": True},
        },
        "logscatter": {
            "data": [
                {"type": "scatter", "x": steps.tolist(), "y": loss.tolist(), "mode": "lines", "name": "loss"},
                {"type": "scatter", "x": steps.tolist(), "y": (loss * 2).tolist(), "mode": "lines", "name": "2x"},
            ],
            "layout": {
                "yaxis": {"type": "log"},
                "xaxis": {"type": "log"},
                "showlegend": True,
                "hovermode": "x unified",
                "annotations": [{"x": 1, "y": float(np.log10(loss[9])), "text": "step 10", "showarrow": True}],
                # annotations on log axes take log10 coordinates, shapes take data coordinates
                "shapes": [
                    {
                        "type": "line",
                        "x0": 1,
                        "x1": 100,
                        "y0": 0.02,
                        "y1": 0.02,
                        "line": {"dash": "dash", "color": "gray"},
                    },
                    {"type": "rect", "x0": 10, "x1": 30, "y0": 0.05, "y1": 1, "fillcolor": "orange", "opacity": 0.2},
                ],
            },
        },
    }


# Checks run in the page after each smoke figure is drawn into div #a (selector -> minimum count).
SMOKE_CHECKS = {
    "scene": {".gl-container canvas": 1, ".modebar-btn[data-title='Download plot as a PNG']": 1},
    "contour": {"g.contour": 1, ".scatterlayer .trace path.js-line": 1, ".legend": 1},
    "heatmap": {"g.hm image": 1, ".colorbar": 1},
    "bar": {".barlayer .point path": 6, ".legend .traces": 2},
    "logscatter": {
        ".scatterlayer .trace": 2,
        ".annotation-text": 1,
        ".shapelayer path": 2,
        ".modebar-btn[data-title='Download plot as a PNG']": 1,
    },
}

SMOKE_JS = """async ([fig, checks]) => {
  const gd = document.getElementById('a');
  Plotly.purge(gd);
  await Plotly.react(gd, fig.data, fig.layout, {responsive: true, displaylogo: false});
  let events = 0;
  gd.on('plotly_relayout', () => { events += 1; });
  await new Promise(r => requestAnimationFrame(() => r()));
  const counts = {};
  for (const [sel, min] of Object.entries(checks)) counts[sel] = [document.querySelectorAll('#a ' + sel).length, min];
  await Plotly.restyle(gd, {opacity: 0.8}, [0]);
  await Plotly.relayout(gd, {'title.text': 'relayout ok'});
  const png = await Plotly.toImage(gd, {format: 'png', width: 300, height: 200});
  return {counts, events, png: png.slice(0, 22), xtype: gd._fullLayout.xaxis ? gd._fullLayout.xaxis.type : null,
          ytype: gd._fullLayout.yaxis ? gd._fullLayout.yaxis.type : null, title: gd._fullLayout.title.text};
}"""


def sizes(p: Path) -> tuple[int, int]:
    raw = p.read_bytes()
    return len(raw), len(gzip.compress(raw, 9))


def new_page(browser, errors: list[str], label: str):
    ctx = browser.new_context(viewport={"width": 800, "height": 1100})
    page = ctx.new_page()
    page.on("console", lambda m: m.type == "error" and errors.append(f"{label}: console: {m.text}"))
    page.on("pageerror", lambda e: errors.append(f"{label}: pageerror: {e}"))
    page.set_content(BLANK)
    return ctx, page


def run_once(browser, bundle: Path, errors: list[str], label: str) -> dict[str, float]:
    import time

    ctx, page = new_page(browser, errors, label)
    try:
        page.evaluate(HOOK)
        t0 = time.perf_counter()
        page.add_script_tag(path=str(bundle))
        inject = (time.perf_counter() - t0) * 1000
        load = page.evaluate("window.__loadMs")
        assert page.evaluate("typeof window.Plotly === 'object' && typeof Plotly.react === 'function'"), (
            "no window.Plotly"
        )
        r3 = page.evaluate(REACT, ["a", fig3d()])
        r2 = page.evaluate(REACT, ["b", fig2d()])
        return {"load": load, "inject": inject, "react3d": r3, "react2d": r2}
    finally:
        ctx.close()


def smoke(browser, bundle: Path, errors: list[str], label: str, shots: Path | None) -> list[str]:
    problems = []
    ctx, page = new_page(browser, errors, label)
    try:
        page.add_script_tag(path=str(bundle))
        for name, fig in smoke_figs().items():
            res = page.evaluate(SMOKE_JS, [fig, SMOKE_CHECKS[name]])
            for sel, (n, need) in res["counts"].items():
                if n < need:
                    problems.append(f"{label}/{name}: {sel!r} found {n} < {need}")
            if res["events"] < 1:
                problems.append(f"{label}/{name}: no plotly_relayout event")
            if res["png"] != "data:image/png;base64,":
                problems.append(f"{label}/{name}: toImage gave {res['png']!r}")
            if res["title"] != "relayout ok":
                problems.append(f"{label}/{name}: relayout did not apply")
            if name == "logscatter" and (res["xtype"], res["ytype"]) != ("log", "log"):
                problems.append(f"{label}/{name}: axes are {res['xtype']}/{res['ytype']}")
            if name in ("scene", "logscatter"):  # the modebar's "download plot as png" button
                with page.expect_download(timeout=20000) as dl:
                    page.evaluate(
                        "document.querySelector(\"#a .modebar-btn[data-title='Download plot as a PNG']\").click()"
                    )
                if not dl.value.suggested_filename.endswith(".png"):
                    problems.append(f"{label}/{name}: download gave {dl.value.suggested_filename!r}")
            if shots:
                page.locator("#a").screenshot(path=str(shots / f"{label}-{name}.png"))
    finally:
        ctx.close()
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--shots", type=Path, help="write smoke-test screenshots to this directory")
    args = ap.parse_args()
    bundles = {"full": FULL, "gdviz": PARTIAL}
    for p in bundles.values():
        if not p.exists():
            sys.exit(f"missing {p} (run `npm ci && npm run build` in tools/plotly-bundle)")
    if args.shots:
        args.shots.mkdir(parents=True, exist_ok=True)

    errors: list[str] = []
    results: dict[str, list[dict[str, float]]] = {k: [] for k in bundles}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            for i in range(args.repeats):
                for label, path in bundles.items():
                    results[label].append(run_once(browser, path, errors, f"{label}#{i + 1}"))
            problems = [p for label, path in bundles.items() for p in smoke(browser, path, errors, label, args.shots)]
        finally:
            browser.close()

    cols = ["load", "inject", "react3d", "react2d"]
    print(f"medians of {args.repeats} runs, ms (load = in-page parse+eval; inject = whole add_script_tag call)")
    print(f"{'bundle':<8} {'bytes':>9} {'gzip':>8} " + " ".join(f"{c:>8}" for c in cols))
    for label, path in bundles.items():
        raw, gz = sizes(path)
        med = {c: statistics.median(r[c] for r in results[label]) for c in cols}
        print(f"{label:<8} {raw:>9} {gz:>8} " + " ".join(f"{med[c]:>8.0f}" for c in cols))
    for label in bundles:
        print(f"  {label} runs: " + "; ".join(" ".join(f"{c}={r[c]:.0f}" for c in cols) for r in results[label]))
    print(
        "smoke test (scene, contour, heatmap, bar, log scatter + annotations/shapes, restyle/relayout/toImage): "
        + ("OK" if not problems else "FAILED")
    )
    for p in problems:
        print("  " + p)
    print("console/page errors: " + ("none" if not errors else str(len(errors))))
    for e in errors:
        print("  " + e)
    return 1 if problems or errors else 0


if __name__ == "__main__":
    sys.exit(main())
