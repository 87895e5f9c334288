// gdviz live charts: Plotly figures that are updated in place (Plotly.react) on every rerun, never re-mounted.
//
// Streamlit re-mounts st.plotly_chart whenever its figure changes, which resets a rotated 3D camera and
// costs seconds of WebGL set-up per step in a software renderer. This component keeps one Plotly div per
// chart key for the life of the page, reuses unchanged traces (so a static surface is not re-uploaded), and
// remembers the user's 3D camera per key, so even a re-mounted chart comes back with the same view.
// One element holds a whole group of charts (laid out in a grid of at most two columns): a rerun then
// delivers them together, in one Streamlit element, and they are drawn as one batch.
// Plotly itself is loaded once per page from the app's static folder.

// loaded, cameras and loadPlotly(src): plotly_loader.js, put in front of this script.

function sceneNames(layout) {
  return Object.keys(layout || {}).filter((k) => /^scene\d*$/.test(k));
}

async function draw(div, job) {
  const Plotly = await loadPlotly(job.src);
  const started = performance.now();
  const fig = JSON.parse(job.figure);
  const layout = fig.layout || {};
  // The Python figures leave the template out (costly to build there, and the same for every chart):
  // it arrives once per page with the preload element.
  if (loaded.template && !layout.template) layout.template = loaded.template;
  // Traces whose JSON did not change keep their old object, so Plotly skips re-uploading them.
  const texts = (fig.data || []).map((t) => JSON.stringify(t));
  const before = div.__gdvizTexts || [];
  const data = (fig.data || []).map((t, i) =>
    before[i] === texts[i] && div.data && div.data[i] ? div.data[i] : t
  );
  for (const name of sceneNames(layout)) {
    const kept = cameras[job.key + "/" + name];
    if (kept) layout[name] = Object.assign({}, layout[name], { camera: kept });
  }
  // On a phone the toolbar covers the chart titles, and a wheel or swipe over the 3D chart would zoom it
  // instead of scrolling the page: no toolbar there (the Download menu saves charts) and no scroll zoom.
  const narrow = window.matchMedia("(max-width: 640px)").matches;
  const config = Object.assign(
    { responsive: true, displaylogo: false, toImageButtonOptions: { filename: job.key, scale: 2 } },
    narrow ? { displayModeBar: false, scrollZoom: false } : {},
    job.config || {}
  );
  await Plotly.react(div, data, layout, config);
  div.__gdvizTexts = texts;
  if (!div.__gdvizListening) {
    div.__gdvizListening = true;
    div.on("plotly_relayout", (event) => {
      for (const name of sceneNames(div.layout)) {
        if (event[name + ".camera"]) cameras[job.key + "/" + name] = event[name + ".camera"];
      }
    });
  }
  div.dataset.drawMs = Math.round(performance.now() - started); // for the benchmark's break-down
}

// A draw that has not finished after this long is given up, so one stuck chart (e.g. a div that Streamlit
// removed mid-draw) can never hold up the queue of every chart on the page.
const DRAW_TIMEOUT_MS = 10000;

async function drawSafe(div, job) {
  if (!div.isConnected) return; // removed from the page (its element was re-mounted): nothing to draw
  try {
    let timer;
    const late = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error("drawing took over " + DRAW_TIMEOUT_MS / 1000 + " s")), DRAW_TIMEOUT_MS);
    });
    await Promise.race([draw(div, job), late]).finally(() => clearTimeout(timer));
    div.dataset.error = "";
  } catch (err) {
    div.dataset.error = String(err);
    // A slow draw may still land; only a draw that failed replaces the chart with the message.
    if (!/took over/.test(String(err))) div.textContent = "This chart could not be drawn: " + err;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
// Resolves once the browser has painted what was drawn so far (rAF runs just before a paint).
const painted = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));

// One queue for all charts on the page: the newest figure per chart. Each round draws the 2D charts, lets
// the browser paint them, and only then draws the 3D ones, which block the main thread for longest.
const queue = (window.__gdvizQueue = window.__gdvizQueue || { jobs: new Map(), busy: false });

async function drain() {
  queue.busy = true;
  while (queue.jobs.size) {
    await sleep(0); // let the rest of this rerun's messages arrive
    if (!window.Plotly) await loadPlotly(queue.jobs.values().next().value.src).catch(() => {});
    // What arrives while this round draws waits for the next round, so a stream of 2D updates (Play)
    // can delay the 3D chart by one round but never starve it.
    const round = [...queue.jobs.entries()];
    queue.jobs.clear();
    for (const wanted of [false, true]) {
      const part = round.filter(([, job]) => job.is3d === wanted);
      if (!part.length) continue;
      for (const [div, job] of part) await drawSafe(div, job);
      await painted();
      for (const [div, job] of part) div.dataset.revision = job.revision; // drawn and on screen
    }
  }
  queue.busy = false;
}

// At most two columns, one on a narrow screen (a phone keeps the charts in their order).
const GRID_STYLE =
  "display:grid;gap:1rem 1.5rem;width:100%;" +
  "grid-template-columns:repeat(auto-fit,minmax(max(340px,calc(50% - 0.75rem)),1fr));";

export default function (component) {
  const { data, parentElement } = component;
  if (data.preload) {
    loadPlotly(data.src).catch(() => {}); // start the download before any chart asks for it
    if (data.template && loaded.templateText !== data.template) {
      loaded.templateText = data.template;
      loaded.template = JSON.parse(data.template);
    }
    return;
  }
  let grid = parentElement.querySelector(".gdviz-grid");
  if (!grid) {
    grid = document.createElement("div");
    grid.className = "gdviz-grid";
    grid.style.cssText = GRID_STYLE;
    parentElement.appendChild(grid);
  }
  const now = Math.round(performance.now());
  const divs = data.charts.map((chart) => {
    let div = [...grid.children].find((d) => d.dataset.key === chart.key);
    if (!div) {
      div = document.createElement("div");
      div.className = "gdviz-live";
      div.dataset.key = chart.key;
      div.style.minWidth = "0";
    }
    grid.appendChild(div); // in the order given (a no-op when already in place)
    div.style.minHeight = chart.height + "px";
    div.dataset.receivedAt = now;
    queue.jobs.set(div, Object.assign({ src: data.src, revision: data.revision }, chart));
    return div;
  });
  for (const old of [...grid.children]) {
    if (!divs.includes(old)) {
      queue.jobs.delete(old);
      if (window.Plotly && old.data) window.Plotly.purge(old);
      old.remove();
    }
  }
  if (!queue.busy) drain();
  return () => {
    for (const div of divs) {
      queue.jobs.delete(div);
      if (window.Plotly && div.data) window.Plotly.purge(div);
    }
  };
}
