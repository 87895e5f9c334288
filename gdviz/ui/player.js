// gdviz player: the browser holds a whole computed run and steps through it with no round trip.
//
// Python computes the run once per setting and sends one payload (gdviz.playground.player_json): per stored
// step the read-out's numbers and what the charts draw (columns), and every chart's figure with its moving
// traces named ("bind"). This component only picks rows out of those columns: the row of the step shown
// ("at") or the rows up to it ("upto"); it computes no number of its own. Charts are drawn once per run
// (Plotly.react) and then only their moving traces are updated (Plotly.restyle): the surface and contours are
// uploaded once. The 2D charts follow every step; the 3D chart, slow in software WebGL, draws the newest step
// whenever its previous draw is done, and always the step where a move or Play stops.
//
// The server hears nothing while the user steps, scrubs or plays: about a second after the last move the
// step goes to Python with setStateValue("step", ...) (share links and downloads read it).

// loaded, cameras and loadPlotly(src): plotly_loader.js, put in front of this script.

const SYNC_MS = 1000; // the step goes to the server once the page has been this long idle (scheduleSync)

const nextFrame = () => new Promise((resolve) => requestAnimationFrame(resolve));
const painted = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));

// A number as Python's "%.6g" writes it (gdviz.explain.fmt): formatting only, no arithmetic on the run.
function fmtG(x, digits) {
  if (x === null || x === undefined) return null;
  if (x === 0) return "0";
  const exp = Number(x.toExponential(digits - 1).split("e")[1]);
  if (exp < -4 || exp >= digits) {
    let [mant, e] = x.toExponential(digits - 1).split("e");
    if (mant.includes(".")) mant = mant.replace(/0+$/, "").replace(/\.$/, "");
    const sign = e[0] === "-" ? "-" : "+";
    const digitsE = e.replace(/^[+-]/, "");
    return mant + "e" + sign + (digitsE.length < 2 ? "0" + digitsE : digitsE);
  }
  let s = x.toPrecision(digits);
  if (s.includes(".")) s = s.replace(/0+$/, "").replace(/\.$/, "");
  return s;
}

const CSS = `
.gdviz-player { outline: none; }
/* A page with a player starts higher: the controls, read-out and first charts share the first screen. */
@media (min-width: 641px) {
  [data-testid="stMainBlockContainer"]:has(.gdviz-player) { padding: 2rem 1.5rem 4rem 1.5rem; }
}
.gdviz-player:focus-visible { box-shadow: 0 0 0 2px #0072B2; border-radius: 0.4rem; }
.gdviz-controls { display: flex; flex-wrap: wrap; gap: 0.35rem; align-items: center; margin-bottom: 0.3rem; }
.gdviz-controls button { padding: 0.2rem 0.6rem; border: 1px solid rgba(49,51,63,0.25); border-radius: 0.5rem;
  background: #fff; color: rgb(49,51,63); font-size: 0.9rem; cursor: pointer; min-height: 2rem; }
.gdviz-controls button:hover:not(:disabled) { border-color: #0072B2; color: #0072B2; }
.gdviz-controls button:disabled { opacity: 0.45; cursor: default; }
.gdviz-controls button.gdviz-play { min-width: 4.6rem; }
.gdviz-controls select, .gdviz-controls input[type=number] { height: 2rem; border: 1px solid rgba(49,51,63,0.25);
  border-radius: 0.5rem; padding: 0 0.4rem; font-size: 0.9rem; background: #fff; }
.gdviz-controls input[type=number] { width: 6.6rem; }
.gdviz-scrub { display: flex; gap: 0.6rem; align-items: center; margin: 0 0 0.2rem 0; }
.gdviz-scrub input { flex: 1 1 auto; accent-color: #0072B2; }
.gdviz-scrub span { font-size: 0.8rem; color: #555; white-space: nowrap; }
.gdviz-thin { font-size: 0.8rem; color: #555; margin: 0 0 0.3rem 0; }
/* Fixed-width cells (tabular digits, no reflow while playing): as many a row as fit, the same every step. */
.gdviz-readout { display: grid; grid-template-columns: repeat(auto-fill, minmax(7.4rem, 1fr)); gap: 0.1rem 0.8rem;
  margin-bottom: 0.3rem; }
.gdviz-cell { min-width: 0; }
.gdviz-cell .gdviz-label { font-size: 0.75rem; color: rgba(49,51,63,0.7); white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; }
.gdviz-cell .gdviz-value { font-size: 1.05rem; font-variant-numeric: tabular-nums; white-space: nowrap;
  overflow: hidden; text-overflow: ellipsis; }
/* "pairs" (several runs, Regimes): Step, then each run's two cells side by side on one row. */
.gdviz-readout.gdviz-readout-pairs { grid-template-columns: repeat(6, minmax(0, 1fr)); }
.gdviz-readout-pairs > :first-child { grid-column: span 2; }
.gdviz-sr { position: absolute; left: -9999px; width: 1px; height: 1px; overflow: hidden; }
.gdviz-charts { display: grid; gap: 0.6rem 1rem; width: 100%;
  grid-template-columns: repeat(auto-fit, minmax(max(280px, calc(50% - 0.5rem)), 1fr)); }
@media (max-width: 640px) {
  .gdviz-readout { grid-template-columns: repeat(3, minmax(0, 1fr)); }
  .gdviz-cell .gdviz-value { font-size: 0.95rem; }
  .gdviz-controls button { padding: 0.2rem 0.5rem; min-height: 2rem; }
  .gdviz-readout.gdviz-readout-pairs { grid-template-columns: repeat(2, minmax(0, 1fr)); }
}
`;

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === "style") node.style.cssText = v;
    else if (k.startsWith("aria-") || k.startsWith("data-") || k === "role" || k === "tabindex") node.setAttribute(k, v);
    else node[k] = v;
  }
  node.append(...children);
  return node;
}

function build(root, data) {
  root.className = "gdviz-player";
  root.tabIndex = 0;
  root.setAttribute("role", "group");
  root.setAttribute("aria-label", "Step through the run (keys: arrows step, space plays, Home and End jump)");
  const style = el("style", {}, CSS);
  const ui = {};
  ui.step = el("button", { type: "button", title: "Apply one update (key: ArrowRight)" }, "Step");
  ui.step10 = el("button", { type: "button", title: "Apply ten updates" }, "Step x10");
  ui.back = el("button", { type: "button", title: "Go back one step (key: ArrowLeft)" }, "Back");
  ui.play = el("button", { type: "button", className: "gdviz-play", title: "Step automatically (key: Space)" }, "Play");
  ui.reset = el("button", { type: "button", title: "Back to step 0 (key: Home)" }, "Reset");
  ui.end = el("button", { type: "button", title: "Jump to the last step (key: End)" }, "End");
  ui.speed = el("select", { "aria-label": "Speed", title: "How fast Play steps" });
  for (const s of data.speeds) ui.speed.append(el("option", { value: String(s) }, s + " steps/s"));
  ui.speed.value = String(data.default_speed);
  ui.goto = el("input", { type: "number", min: "0", step: "1", placeholder: "Go to step...", "aria-label": "Go to step" });
  ui.go = el("button", { type: "button", title: "Jump to the step typed" }, "Go");
  const controls = el("div", { className: "gdviz-controls" },
    ui.step, ui.step10, ui.back, ui.play, ui.reset, ui.end, ui.speed, ui.goto, ui.go);
  ui.scrub = el("input", { type: "range", min: "0", value: "0", step: "1", "aria-label": "Scrub through the steps" });
  ui.scrubText = el("span", {}, "");
  const scrub = el("div", { className: "gdviz-scrub" }, ui.scrub, ui.scrubText);
  ui.thin = el("div", { className: "gdviz-thin", hidden: true }, ""); // a long run's stored steps (thinNote)
  ui.readout = el("div", { className: "gdviz-readout", "data-testid": "gdviz-readout" });
  ui.live = el("div", { className: "gdviz-sr", "aria-live": "polite", role: "status" });
  ui.charts = el("div", { className: "gdviz-charts" });
  root.append(style, controls, scrub, ui.thin, ui.readout, ui.live, ui.charts);
  return ui;
}

function rowOf(steps, step) {
  // The stored row nearest to ``step`` (rows are sorted by step): a binary search, no arithmetic on the run.
  let lo = 0;
  let hi = steps.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (steps[mid] < step) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && step - steps[lo - 1] < steps[lo] - step) return lo - 1;
  return lo;
}

function entryAt(P, e, row) {
  // A column's value at row, a text picked by a column of indices ({label: column}: P.labels), or e itself.
  if (typeof e === "string") return P.columns[e][row];
  if (e !== null && typeof e === "object" && "label" in e) return P.labels[P.columns[e.label][row]];
  return e;
}

function traceUpdate(P, bind, k) {
  // attr -> value for one bound trace at row k
  const out = {};
  const last = bind.last === undefined ? P.n - 1 : bind.last;
  if (bind.upto) {
    const n = Math.max(0, Math.min(k, last) + 1);
    for (const [attr, col] of Object.entries(bind.upto)) out[attr] = P.columns[col].slice(0, n);
  } else if (bind.lines) {
    // Rows k - back .. k - 1 (those that exist), each a segment; null between segments (a gap).
    const x = [];
    const y = [];
    for (let r = Math.max(0, Math.min(k, last) - bind.back); r < Math.min(k, last + 1); r++) {
      x.push(bind.lines.x[0], bind.lines.x[1], null);
      y.push(P.columns[bind.lines.y[0]][r], P.columns[bind.lines.y[1]][r], null);
    }
    out.x = x;
    out.y = y;
  } else if (bind.at) {
    const row = Math.min(k + (bind.offset || 0), last);
    for (const [attr, entries] of Object.entries(bind.at)) {
      out[attr] = row < 0 ? [] : entries.map((e) => entryAt(P, e, row));
    }
  }
  return out;
}

function restyleArgs(P, chart, k) {
  const update = {};
  const indices = [];
  const attrs = new Set();
  const per = chart.bind.map((b) => traceUpdate(P, b, k));
  for (const u of per) for (const a of Object.keys(u)) attrs.add(a);
  for (const a of attrs) update[a] = per.map((u) => (a in u ? u[a] : undefined));
  for (const b of chart.bind) indices.push(b.trace);
  return [update, indices];
}

// The element's data comes as bytes (gdviz.ui.player.pack): one line of JSON (run, step, seek, ...), a newline,
// then the payload's JSON text, decoded and parsed only when the run changes.
function unpack(raw) {
  if (raw instanceof ArrayBuffer) raw = new Uint8Array(raw);
  if (!raw || typeof raw.subarray !== "function") return raw; // not bytes: the data itself
  const cut = raw.indexOf(10);
  const data = JSON.parse(new TextDecoder().decode(raw.subarray(0, cut)));
  data.payloadBytes = raw.subarray(cut + 1);
  return data;
}

export default function (component) {
  const { parentElement, setStateValue } = component;
  const data = unpack(component.data);
  let root = parentElement.querySelector(".gdviz-player");
  if (!root) {
    root = document.createElement("div");
    parentElement.appendChild(root);
    root.__g = { ui: build(root, data), run: null, seek: null, k: 0, playing: false, timer: null, raf: null };
    wire(root, setStateValue);
  }
  const g = root.__g;
  g.setStateValue = setStateValue;
  g.setTriggerValue = component.setTriggerValue;
  g.src = data.src;
  g.prefix = data.prefix;
  if (g.run !== data.run) {
    if (g.playing) {
      g.playing = false; // a new run replaces the one playing: stop without drawing the old one again
      cancelAnimationFrame(g.raf);
    }
    g.P = JSON.parse(data.payloadBytes ? new TextDecoder().decode(data.payloadBytes) : data.payload);
    g.run = data.run;
    g.seek = data.seek;
    g.k = rowOf(g.P.columns.step, data.step);
    g.lastSent = g.P.columns.step[g.k];
    show(g, { final: true }); // the read-out at once; the charts once drawn
    mountCharts(g);
  } else if (g.seek !== data.seek) {
    g.seek = data.seek;
    g.k = rowOf(g.P.columns.step, data.step);
    g.lastSent = g.P.columns.step[g.k];
    show(g, { final: true });
  }
  // Page cells the server (re)wrote after this element drew (a rerun replaces them with its step's numbers):
  // write the step shown into them again once they are on the page.
  if (g.P && g.P.page_cells) for (const ms of [50, 300, 1000, 2500]) setTimeout(() => fillPageCells(g, g.k), ms);
  return undefined;
}

function wire(root, setStateValue) {
  const g = root.__g;
  const ui = g.ui;
  ui.step.addEventListener("click", () => move(g, g.k + 1));
  // Ten updates on, or the next stored step when they are stored further apart (late in a long run).
  ui.step10.addEventListener("click", () => move(g, Math.max(g.k + 1, rowOf(g.P.columns.step, g.P.columns.step[g.k] + 10))));
  ui.back.addEventListener("click", () => move(g, g.k - 1));
  ui.reset.addEventListener("click", () => move(g, 0));
  ui.end.addEventListener("click", () => move(g, g.P.n - 1));
  ui.play.addEventListener("click", () => (g.playing ? stop(g, true) : play(g)));
  ui.speed.addEventListener("change", () => {
    if (g.playing) play(g);
  });
  const goto = () => {
    const v = Number(ui.goto.value);
    if (ui.goto.value !== "" && Number.isFinite(v)) move(g, rowOf(g.P.columns.step, v));
    ui.goto.value = "";
  };
  ui.go.addEventListener("click", goto);
  ui.goto.addEventListener("keydown", (e) => {
    if (e.key === "Enter") goto();
  });
  ui.scrub.addEventListener("input", () => move(g, Number(ui.scrub.value)));
  root.addEventListener("keydown", (e) => {
    const t = e.target;
    if (t === ui.goto || t === ui.speed || t === ui.scrub) return; // their own keys
    let handled = true;
    if (e.key === "ArrowRight") move(g, g.k + 1);
    else if (e.key === "ArrowLeft") move(g, g.k - 1);
    else if (e.key === " " || e.key === "Spacebar") g.playing ? stop(g, true) : play(g);
    else if (e.key === "Home") move(g, 0);
    else if (e.key === "End") move(g, g.P.n - 1);
    else handled = false;
    if (handled) e.preventDefault();
  });
}

function move(g, k) {
  if (g.playing) stop(g);
  g.k = Math.max(0, Math.min(g.P.n - 1, k));
  show(g, { final: true });
  scheduleSync(g);
}

// The step goes to the server once the page has been idle for SYNC_MS: no move, and no chart drawing or
// drawn within that time. Timed from the last activity, not from the move: on a slow machine a 3D redraw can
// hold the main thread for over a second, and the next key press must not find a sync sent in between.
function scheduleSync(g) {
  g.lastActivity = performance.now();
  clearTimeout(g.timer);
  const check = () => {
    if (g.playing) return;
    const idle = performance.now() - g.lastActivity;
    const busy = (g.charts || []).some((c) => c.busy);
    if (busy || idle < SYNC_MS) {
      g.timer = setTimeout(check, busy ? SYNC_MS : SYNC_MS - idle);
      return;
    }
    const step = g.P.columns.step[g.k];
    if (step !== g.lastSent) {
      g.lastSent = step;
      g.setStateValue("step", step);
    }
  };
  g.timer = setTimeout(check, SYNC_MS);
}

function play(g) {
  if (g.k >= g.P.n - 1) g.k = 0; // Play at the end starts again
  g.playing = true;
  g.playFrom = g.k;
  g.playT0 = performance.now();
  g.rate = Number(g.ui.speed.value);
  clearTimeout(g.timer);
  cancelAnimationFrame(g.raf);
  const tick = (now) => {
    if (!g.playing) return;
    // Rows owed by the wall time since Play started (a late frame catches up, it does not slow the speed).
    // (A frame's timestamp can precede the click that started Play: never count back from there.)
    const k = Math.min(g.P.n - 1, g.playFrom + Math.floor((Math.max(0, now - g.playT0) * g.rate) / 1000));
    if (k !== g.k) {
      g.k = k;
      show(g, { final: k >= g.P.n - 1 });
    }
    if (g.k >= g.P.n - 1) {
      stop(g, true);
      return;
    }
    g.raf = requestAnimationFrame(tick);
  };
  updateButtons(g);
  g.raf = requestAnimationFrame(tick);
}

function stop(g, announce) {
  const was = g.playing;
  g.playing = false;
  cancelAnimationFrame(g.raf);
  if (was && g.P) {
    show(g, { final: true });
    scheduleSync(g);
  } else if (announce && g.P) updateButtons(g);
}

function updateButtons(g) {
  const ui = g.ui;
  const last = g.P.n - 1;
  ui.back.disabled = g.k === 0;
  ui.reset.disabled = g.k === 0;
  ui.step.disabled = g.k >= last;
  ui.step10.disabled = g.k >= last;
  ui.end.disabled = g.k >= last;
  ui.play.textContent = g.playing ? "Pause" : "Play";
  ui.play.title = g.playing ? "Stop playing (key: Space)" : "Step automatically (key: Space)";
  ui.scrub.max = String(last);
  ui.scrub.disabled = last === 0;
  if (document.activeElement !== ui.scrub || g.playing) ui.scrub.value = String(g.k);
  ui.goto.max = String(g.P.columns.step[last]);
}

function readoutText(g, k) {
  const P = g.P;
  const cells = [];
  for (const cell of P.readout) {
    // A cell may belong to one of several runs (Regimes): "last" is the row where that run stopped (its cells
    // show that row from then on) and "final" what its status says there.
    const last = cell.last === undefined ? P.n - 1 : cell.last;
    const r = Math.min(k, last);
    let text;
    if (!cell.col) text = k >= last ? (cell.final === undefined ? P.final_status : cell.final) : "running";
    else if (cell.col === "step") text = P.columns.step[r].toLocaleString("en-US");
    else {
      const v = P.columns[cell.col][r];
      text = v === null ? (r === 0 ? "-" : "overflowed") : fmtG(v, 6);
      if (r === 0 && (cell.col === "norm" || cell.col === "rate")) text = "-";
    }
    cells.push([cell, text]);
  }
  return cells;
}

function renderReadout(g, k) {
  const ui = g.ui;
  const cells = readoutText(g, k);
  // Rebuilt when the cells change, not only their count: a new data set renames "Slope on x" to "Slope on age".
  const labels = cells.map(([cell]) => cell.label).join("\n");
  if (ui.readoutLabels !== labels) {
    ui.readoutLabels = labels;
    ui.readout.textContent = "";
    ui.readout.classList.toggle("gdviz-readout-pairs", g.P.readout_layout === "pairs");
    for (const [cell] of cells) {
      const value = el("div", { className: "gdviz-value", "data-gdviz-readout": cell.label });
      ui.readout.append(el("div", { className: "gdviz-cell", title: cell.help },
        el("div", { className: "gdviz-label" }, cell.label), value));
    }
  }
  cells.forEach(([, text], i) => {
    const v = ui.readout.children[i].lastChild;
    if (v.textContent !== text) v.textContent = text;
  });
  return cells;
}

// Page cells: elements anywhere on the page marked data-gdviz-cell="<prefix>:<column>" (Python writes them
// beside its formulas, at the step it knows) show that column at the step shown, as the read-out formats it.
// Opt-in (payload "page_cells": true); formatting only, like the read-out.
function fillPageCells(g, k) {
  if (!g.P || !g.P.page_cells) return;
  const head = g.prefix + ":";
  for (const node of document.querySelectorAll(`[data-gdviz-cell^="${head}"]`)) {
    const values = g.P.columns[node.dataset.gdvizCell.slice(head.length)];
    if (!values) continue;
    const v = values[Math.min(k, values.length - 1)];
    const missing = node.dataset.gdvizNull || "-";
    const text = v === null || v === undefined ? missing : node.dataset.gdvizInt ? v.toLocaleString("en-US") : fmtG(v, 6);
    if (node.textContent !== text) node.textContent = text;
  }
}

function show(g, { final }) {
  const k = g.k;
  fillPageCells(g, k);
  const cells = renderReadout(g, k);
  updateButtons(g);
  const last = g.P.n - 1;
  const stepText = g.P.columns.step[last].toLocaleString("en-US");
  g.ui.scrubText.textContent = `step ${cells[0][1]} of ${stepText}`;
  thinNote(g, k);
  if (final) {
    g.ui.live.textContent = cells.map(([cell, text]) => `${cell.label} ${text}`).join(", ");
  }
  drawStep(g, final);
}

// A long run is stored thinned (gdviz.thinning: every step up to some step, then every 2nd, 4th, ...), so Step
// moves to the next stored step, more than one at a time late in the run: the note under the scrubber says so,
// and how far apart the stored steps are where the user is. Only step numbers are read; a run stored whole
// (its steps 0, 1, 2, ...: one apart, the last one included) shows no note.
function thinNote(g, k) {
  const steps = g.P.columns.step;
  if (g.thinFor !== g.P) {
    g.thinFor = g.P;
    g.thinFrom = -1;
    for (let i = 0; i + 2 < steps.length; i++) {
      if (steps[i + 1] - steps[i] > 1) {
        g.thinFrom = i;
        break;
      }
    }
  }
  const ui = g.ui;
  ui.thin.hidden = g.thinFrom < 0;
  if (g.thinFrom < 0) return;
  const last = k + 1 >= steps.length;
  const apart = last ? 0 : steps[k + 1] - steps[k];
  const here = last ? "the run's last step, always kept" : apart > 1 ? `every ${ordinal(apart)} step` : "every step";
  const text =
    `Long run: every step up to ${steps[g.thinFrom].toLocaleString("en-US")} is kept for the browser, then every ` +
    `2nd, 4th, 8th... (all were computed; Step moves to the next kept step). Here: ${here}.`;
  if (ui.thin.textContent !== text) ui.thin.textContent = text;
}

function ordinal(n) {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? "th" : { 1: "st", 2: "nd", 3: "rd" }[n % 10] || "th";
  return n.toLocaleString("en-US") + suffix;
}

async function mountCharts(g) {
  const P = g.P;
  const grid = g.ui.charts;
  const keep = new Set();
  g.charts = P.charts.map((chart) => {
    const key = g.prefix ? g.prefix + "_" + chart.key : chart.key;
    keep.add(key);
    let div = [...grid.children].find((d) => d.dataset.key === key);
    if (!div) {
      div = el("div", { className: "gdviz-live", "data-key": key, style: "min-width:0" });
      grid.appendChild(div);
    }
    div.style.minHeight = chart.height + "px";
    div.style.gridColumn = chart.wide ? "1 / -1" : ""; // a "wide" chart spans the whole row
    return { div, chart, key, visible: true };
  });
  watchVisibility(g);
  for (const old of [...grid.children]) if (!keep.has(old.dataset.key)) old.remove();
  const Plotly = await loadPlotly(g.src);
  const run = g.run;
  const narrow = window.matchMedia("(max-width: 640px)").matches;
  // The 3D chart first: it takes longest to set up (WebGL in software here), so the page's slowest chart is
  // on screen as early as it can be; the 2D charts follow.
  for (const want3d of [true, false]) {
    for (const c of g.charts.filter((c) => c.chart.is3d === want3d)) {
      if (g.run !== run) return; // a newer run arrived while this one was drawing
      const fig = c.chart.figure;
      const layout = Object.assign({}, fig.layout);
      if (loaded.template && !layout.template) layout.template = loaded.template;
      for (const name of Object.keys(layout).filter((n) => /^scene\d*$/.test(n))) {
        const kept = cameras[c.key + "/" + name];
        if (kept) layout[name] = Object.assign({}, layout[name], { camera: kept });
      }
      const [update, indices] = restyleArgs(P, c.chart, g.k);
      c.textKey = update.text ? JSON.stringify(update.text) : "";
      const data = fig.data.map((t) => Object.assign({}, t));
      if (loaded.memoTraces) data.forEach((t) => loaded.memoTraces.add(t)); // see memoizeArrayAttributes
      indices.forEach((ti, j) => {
        for (const [attr, values] of Object.entries(update)) if (values[j] !== undefined) data[ti][attr] = values[j];
      });
      const rel = layoutAt(P, c.chart, g.k);
      for (const [attr, value] of Object.entries(rel)) setNested(layout, attr, value);
      c.layoutKey = JSON.stringify(rel);
      if (c.chart.end_only_annotations && layout.annotations) {
        layout.annotations = layout.annotations.map((a) => Object.assign({}, a, { visible: g.k >= endRow(P, c) }));
      }
      const config = Object.assign(
        // WebGL draws at the screen's pixel ratio (Plotly's default is 2 on every screen: four times the
        // pixels of a projector's or a plain laptop's screen, and with a software renderer that is most of a
        // 3D redraw); a sharp screen keeps its ratio.
        { responsive: true, displaylogo: false, toImageButtonOptions: { filename: c.key, scale: 2 },
          plotGlPixelRatio: Math.min(4, Math.max(1, window.devicePixelRatio || 1)) },
        narrow ? { displayModeBar: false, scrollZoom: false } : {}
      );
      try {
        await Plotly.react(c.div, data, layout, config);
        c.div.dataset.error = "";
      } catch (err) {
        c.div.dataset.error = String(err);
        c.div.textContent = "This chart could not be drawn: " + err;
      }
      c.drawnK = g.k;
      c.annotationsShown = g.k >= endRow(P, c);
      if (c.chart.click && !c.div.__gdvizClick) {
        // A click on the chart sends the point clicked (its x and y in the axes' units) to Python, which checks it.
        c.div.__gdvizClick = true;
        c.div.style.cursor = "crosshair";
        const send = (point) => {
          if (g.playing) stop(g);
          g.setTriggerValue(c.chart.click, point);
        };
        // On the 3D chart a drag turns the camera, and Plotly reports the press that starts it as a click:
        // there the point waits for the release, and a press that moved more than a few pixels is no click.
        c.div.addEventListener("pointerdown", (e) => {
          c.down = [e.clientX, e.clientY];
          c.pending = null;
        }, true);
        const moved = (e) => !c.down || Math.hypot(e.clientX - c.down[0], e.clientY - c.down[1]) > 5;
        c.div.addEventListener("pointerup", (e) => {
          // Plotly reports a 3D click from its render loop, only if a frame is drawn while the button is down: a
          // quick tap can end before that. Then the point is the one Plotly last picked under the pointer.
          const point = c.pending || (c.chart.is3d ? c.hovered : null);
          if (point && !moved(e)) send(point);
          c.pending = null;
        }, true);
        // A 2D chart sees no pointerup (Plotly covers the page while a button is down), but a click.
        c.div.addEventListener("click", (e) => {
          const point = c.chart.is3d || moved(e) || !g.setTriggerValue ? null : plotPoint(c.div, e);
          if (point) send(point);
        }, true);
        // On the 3D chart the point is the surface's grid point Plotly picked; on a 2D chart it is the point
        // under the pointer in the axes' units (the contours are layout shapes, not a grid to pick from).
        c.div.on("plotly_click", (event) => {
          const p = event && event.points && event.points[0];
          if (!c.chart.is3d || !p || typeof p.x !== "number" || typeof p.y !== "number" || !g.setTriggerValue) return;
          c.pending = [p.x, p.y];
        });
        if (c.chart.is3d) {
          c.div.on("plotly_hover", (event) => {
            const p = event && event.points && event.points.find((q) => q.data && q.data.type === "surface");
            c.hovered = p && typeof p.x === "number" && typeof p.y === "number" ? [p.x, p.y] : null;
          });
          c.div.on("plotly_unhover", () => {
            c.hovered = null;
          });
        }
      }
      if (!c.div.__gdvizListening) {
        c.div.__gdvizListening = true;
        c.div.on("plotly_relayout", (event) => {
          for (const name of Object.keys(c.div.layout || {}).filter((n) => /^scene\d*$/.test(n))) {
            if (event[name + ".camera"]) cameras[c.key + "/" + name] = event[name + ".camera"];
          }
        });
      }
    }
    await painted();
    for (const c of g.charts.filter((c) => c.chart.is3d === want3d)) {
      c.div.dataset.revision = String(P.columns.step[c.drawnK]);
    }
  }
  g.mounted = run;
  drawStep(g, true);
}

// While Play runs, a chart scrolled out of sight is not drawn (nobody sees it, and every chart drawn costs the
// frame); it draws the current step as soon as it comes into sight, and every chart draws the step where Play
// stops. Step, Back, the scrubber and the keys draw every chart.
function watchVisibility(g) {
  if (!window.IntersectionObserver) return;
  if (g.sight) g.sight.disconnect();
  g.sight = new IntersectionObserver((entries) => {
    for (const e of entries) {
      const c = g.charts.find((c) => c.div === e.target);
      if (c) c.visible = e.isIntersecting;
    }
    if (g.P) drawStep(g, false);
  });
  for (const c of g.charts) g.sight.observe(c.div);
}

function drawStep(g, final) {
  if (!g.charts || g.mounted !== g.run || !window.Plotly) return;
  const P = g.P;
  const k = g.k;
  const step = String(P.columns.step[k]);
  const shown = (c) => c.visible || !g.playing;
  for (const c of g.charts.filter((c) => !c.chart.is3d && c.drawnK !== k && shown(c))) {
    if (still(c, P, k)) {
      c.drawnK = k; // a run that stopped (Regimes): its chart already shows its last row
      c.div.dataset.revision = step;
      continue;
    }
    restyle(c, P, k).then(() => {
      if (c.drawnK === k) c.div.dataset.revision = step;
    });
  }
  // The 3D chart after the 2D charts have been painted: its redraw (25-100 ms in software WebGL) must not
  // hold up the frame that shows the read-out and the 2D charts at the new step.
  for (const c of g.charts.filter((c) => c.chart.is3d && shown(c))) {
    c.wanted = k;
    if (!c.busy) {
      c.busy = true;
      painted().then(() => draw3d(g, c));
    }
  }
  void final;
}

// True when every bound trace of the chart is capped ("last") at a row that both ``k`` and the row drawn are
// past, and its layout_at and end-only annotations stay as they are: moving to ``k`` would change nothing.
function still(c, P, k) {
  if (c.drawnK === undefined || JSON.stringify(layoutAt(P, c.chart, k)) !== c.layoutKey) return false;
  const same = (b) => b.last !== undefined && !b.offset && Math.min(k, b.last) === Math.min(c.drawnK, b.last);
  return c.chart.bind.every(same) && (!c.chart.end_only_annotations || k >= endRow(P, c) === c.annotationsShown);
}

// The row from which a chart's end-only annotations show ("diverged at step N"): its run's last row.
const endRow = (P, c) => (c.chart.end_row === undefined ? P.n - 1 : c.chart.end_row);

// The layout attributes a chart's "layout_at" sets at row k ({"xaxis.range": [0, "step_end"]}: a column's row
// k, or the number itself), and the key that says whether they changed.
function layoutAt(P, chart, k) {
  const out = {};
  for (const [attr, entries] of Object.entries(chart.layout_at || {})) {
    out[attr] = entries.map((e) => (typeof e === "string" ? P.columns[e][k] : e));
  }
  return out;
}

// The point under a pointer event in a 2D chart's axes' units, or null outside its plot area.
function plotPoint(div, e) {
  const fl = div._fullLayout;
  if (!fl || !fl.xaxis || !fl.yaxis || !fl._size || (e.target.closest && e.target.closest(".modebar"))) return null;
  const box = div.getBoundingClientRect();
  const px = e.clientX - box.left - fl._size.l;
  const py = e.clientY - box.top - fl._size.t;
  if (px < 0 || py < 0 || px > fl._size.w || py > fl._size.h) return null;
  const x = fl.xaxis.p2l(px);
  const y = fl.yaxis.p2l(py);
  return Number.isFinite(x) && Number.isFinite(y) ? [x, y] : null;
}

function setNested(layout, attr, value) {
  const [head, ...rest] = attr.split(".");
  if (!rest.length) layout[head] = value;
  else layout[head] = Object.assign({}, layout[head], { [rest.join(".")]: value });
}

// Plotly's animation path redraws only the traces it moves, and only scatter and bar traces can be moved so;
// on a chart that also holds contours it wipes them (seen in Chromium): such charts are restyled.
function animatable(c) {
  if (c.animatable === undefined) {
    c.animatable = !c.chart.is3d && c.chart.figure.data.every((t) => ["scatter", "bar"].includes(t.type || "scatter"));
  }
  return c.animatable;
}

const FAST = { transition: { duration: 0 }, frame: { duration: 0, redraw: false }, mode: "immediate" };

// Move a chart's bound traces to row k. Returns a promise that settles once the new row is drawn: by the next
// animation frame (Plotly.animate draws at once when its loop is idle, else in its loop's next frame, which
// was requested before ours; its own promise settles a frame later still).
// Charts of scatter and bar traces take Plotly's animation path (only the moved traces are redrawn) unless an
// axis range or an annotation changes, which needs a relayout (a few times a run). Others (the contours, the
// 3D chart: a whole-scene redraw) are restyled.
function restyle(c, P, k) {
  const [update, indices] = restyleArgs(P, c.chart, k);
  const rel = layoutAt(P, c.chart, k);
  const relKey = JSON.stringify(rel);
  if (relKey !== c.layoutKey) c.layoutKey = relKey;
  else for (const a of Object.keys(rel)) delete rel[a];
  if (c.chart.end_only_annotations) {
    const shown = k >= endRow(P, c);
    if (shown !== c.annotationsShown) {
      c.annotationsShown = shown;
      (c.div.layout.annotations || []).forEach((_, i) => (rel[`annotations[${i}].visible`] = shown));
    }
  }
  c.drawnK = k;
  // Plotly's animation path moves text but never adds a text that was empty (a name label appearing as the
  // race's runs part): a chart whose bound texts change is updated the full way, a few times a run.
  const textKey = update.text ? JSON.stringify(update.text) : "";
  const textChanged = textKey !== c.textKey;
  c.textKey = textKey;
  if (!animatable(c) || Object.keys(rel).length || textChanged) {
    window.Plotly.update(c.div, update, rel, indices);
    if (textChanged && !c.chart.is3d) window.Plotly.redraw(c.div); // a restyle does not add the text either
    return c.chart.is3d ? painted() : nextFrame();
  }
  const frame = indices.map((_, j) => {
    const t = {};
    for (const [attr, values] of Object.entries(update)) if (values[j] !== undefined) t[attr] = values[j];
    return t;
  });
  window.Plotly.animate(c.div, { data: frame, traces: indices }, FAST).catch(() => undefined); // superseded
  return nextFrame();
}

// While Play runs, the 3D chart (a whole-scene redraw in software WebGL) leaves the main thread idle between
// its draws: at least as long as its last draw took, so that clicks and keys (Pause) are never starved, and at
// 30 steps/s and more about a second, so that the read-out and the 2D charts get nearly every frame (each
// 3D draw holds the main thread for several of them). It shows the current step whenever it draws, and
// always the step where Play stops.
function playGap(g, drawMs) {
  return g.rate >= 30 ? Math.max(900, 8 * drawMs) : Math.max(100, drawMs);
}

async function draw3d(g, c) {
  c.busy = true;
  try {
    while (c.wanted !== c.drawnK && g.mounted === g.run) {
      const k = c.wanted;
      const t0 = performance.now();
      await restyle(c, g.P, k);
      c.div.dataset.revision = String(g.P.columns.step[k]);
      if (g.playing) await new Promise((r) => setTimeout(r, playGap(g, performance.now() - t0)));
    }
  } finally {
    c.busy = false; // a failed draw must not hold the step sync back for good
  }
  g.lastActivity = performance.now(); // the sync waits for a quiet page (scheduleSync)
}
